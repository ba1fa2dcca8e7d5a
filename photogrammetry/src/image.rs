//! Photos decoded at the working resolution, as grey levels (features) and RGB (colour).
//!
//! The JPEG decoder downscales in the DCT domain (1/2, 1/4, 1/8) to the smallest power-of-two
//! reduction that is still at least `max_side` wide, then a box filter brings the long side to at
//! most `max_side`: a 4000 px photo at 2000 px costs a quarter of the full decode and never holds
//! the full-size frame. `max_side` is the 2-core default of ODM's `--feature-quality medium`
//! order of size (2048 px), not a published constant.

use std::path::Path;

use zune_core::colorspace::ColorSpace;
use zune_core::options::{DecoderOptions, JpegScale};
use zune_jpeg::JpegDecoder;

use crate::error::{PhotoError, Result};

/// A grey-level image, row-major, values 0–255 as f32.
#[derive(Clone, Debug)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub px: Vec<f32>,
}

impl Gray {
    pub fn new(width: usize, height: usize) -> Gray {
        Gray {
            width,
            height,
            px: vec![0.0; width * height],
        }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.px[y * self.width + x]
    }

    /// Bilinear sample at (x, y), clamped to the border.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let a = self.at(x0, y0) * (1.0 - fx) + self.at(x1, y0) * fx;
        let b = self.at(x0, y1) * (1.0 - fx) + self.at(x1, y1) * fx;
        a * (1.0 - fy) + b * fy
    }

    /// Separable Gaussian blur (σ in pixels, kernel ±3σ, borders clamped).
    pub fn blur(&self, sigma: f32) -> Gray {
        let r = (3.0 * sigma).ceil() as isize;
        let k: Vec<f32> = (-r..=r)
            .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
            .collect();
        let sum: f32 = k.iter().sum();
        let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
        self.convolve(&k, r, 1, self.width)
            .convolve(&k, r, self.width, self.height)
    }

    /// Convolve with kernel `k` (radius `r`) along one axis: neighbours `stride` elements apart,
    /// `len` of them per line, borders clamped.
    fn convolve(&self, k: &[f32], r: isize, stride: usize, len: usize) -> Gray {
        let mut out = Gray::new(self.width, self.height);
        let last = len as isize - 1;
        for (i, o) in out.px.iter_mut().enumerate() {
            // Position of pixel i along the axis, and the start of its line.
            let at = ((i / stride) % len) as isize;
            let base = i - at as usize * stride;
            *o = k
                .iter()
                .enumerate()
                .map(|(j, kv)| {
                    let q = (at + j as isize - r).clamp(0, last) as usize;
                    kv * self.px[base + q * stride]
                })
                .sum();
        }
        out
    }
}

/// A decoded photo: grey levels and RGB at the working size, and the scale from full-size
/// pixels to working pixels.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub gray: Gray,
    pub rgb: Vec<[u8; 3]>,
    pub full_width: usize,
    pub full_height: usize,
    /// Working pixels per full-size pixel (≤ 1).
    pub scale: f64,
}

fn decode_err(path: &Path, reason: impl Into<String>) -> PhotoError {
    PhotoError::Decode {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Decode `path` with its long side at most `max_side` pixels.
pub fn load(path: &Path, max_side: usize) -> Result<Decoded> {
    if max_side < 64 {
        return Err(PhotoError::InvalidOption {
            option: "max_side",
            reason: format!("{max_side} px: at least 64 px"),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| PhotoError::Io {
        path: path.into(),
        source,
    })?;
    // Header first: the full size picks the DCT scale.
    let mut head = JpegDecoder::new(zune_core::bytestream::ZCursor::new(&bytes[..]));
    head.decode_headers()
        .map_err(|e| decode_err(path, e.to_string()))?;
    let info = head
        .info()
        .ok_or_else(|| decode_err(path, "no frame header"))?;
    let (fw, fh) = (info.width as usize, info.height as usize);
    if fw == 0 || fh == 0 || fw > 65_535 || fh > 65_535 {
        return Err(decode_err(path, format!("frame of {fw} × {fh} pixels")));
    }
    let long = fw.max(fh);
    let scale = [
        (8usize, JpegScale::Eighth),
        (4, JpegScale::Quarter),
        (2, JpegScale::Half),
    ]
    .into_iter()
    .find(|(d, _)| long / d >= max_side)
    .map(|(_, s)| s);
    let mut opts = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(65_535)
        .set_max_height(65_535);
    if let Some(s) = scale {
        opts = opts.jpeg_set_scale(s);
    }
    let decoded = std::panic::catch_unwind(|| {
        let mut d =
            JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(&bytes[..]), opts);
        let px = d.decode()?;
        let info = d.info().map(|i| (i.width as usize, i.height as usize));
        Ok::<_, zune_jpeg::errors::DecodeErrors>((px, info))
    })
    .map_err(|_| decode_err(path, "the decoder failed on damaged data"))?
    .map_err(|e| decode_err(path, e.to_string()))?;
    let (px, dims) = decoded;
    let (dw, dh) = dims.ok_or_else(|| decode_err(path, "no frame header"))?;
    if px.len() < dw * dh * 3 {
        return Err(decode_err(path, "the image data ends early"));
    }
    // Box-reduce to at most max_side on the long side.
    let f = (dw.max(dh) as f64 / max_side as f64).max(1.0);
    let (w, h) = (
        ((dw as f64 / f).floor() as usize).max(1),
        ((dh as f64 / f).floor() as usize).max(1),
    );
    let mut gray = Gray::new(w, h);
    let mut rgb = vec![[0u8; 3]; w * h];
    for y in 0..h {
        let (y0, y1) = (
            (y as f64 * f) as usize,
            (((y + 1) as f64 * f) as usize).clamp((y as f64 * f) as usize + 1, dh),
        );
        for x in 0..w {
            let (x0, x1) = (
                (x as f64 * f) as usize,
                (((x + 1) as f64 * f) as usize).clamp((x as f64 * f) as usize + 1, dw),
            );
            let mut acc = [0u32; 3];
            for yy in y0..y1 {
                for xx in x0..x1 {
                    let o = (yy * dw + xx) * 3;
                    for c in 0..3 {
                        acc[c] += px[o + c] as u32;
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            let c = acc.map(|v| (v / n) as u8);
            rgb[y * w + x] = c;
            gray.px[y * w + x] = 0.299 * c[0] as f32 + 0.587 * c[1] as f32 + 0.114 * c[2] as f32;
        }
    }
    Ok(Decoded {
        gray,
        rgb,
        full_width: fw,
        full_height: fh,
        scale: w as f64 / fw as f64,
    })
}
