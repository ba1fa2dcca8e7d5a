//! The package thumbnail (`thumbnail.png`, the ERC-721 `image`): a top-down orthographic view
//! of the cloud, north up, coloured by the scan's RGB when it has colour and by height
//! otherwise, and shaded like a hillshade so canopy, crowns and pipes read as relief at a glance
//! in a wallet or marketplace grid.
//!
//! 1. **Top surface**: every point is splatted into the grid cell under it; the cell keeps the
//!    highest point (ties broken by colour), which is what an aerial view sees. The choice does
//!    not depend on point order, so a shuffled cloud renders byte-identically — like its
//!    fingerprint. The grid is as fine as the image, or coarser for a sparse scan (about three
//!    points per cell on average) and then interpolated bilinearly, so a small drone plot reads
//!    as a surface, not as dots.
//! 2. **Gap fill**: a few passes give an empty cell the highest of its filled neighbours when
//!    at least three of its eight are filled, closing the speckle of a sparse scan without
//!    growing the outline.
//! 3. **Smoothing**: a 3×3 binomial filter over the filled cells takes the scan-line texture
//!    off the surface.
//! 4. **Hillshade**: Horn's (1981) 3×3 gradient, sun at azimuth 315°, altitude 45° (the
//!    cartographic convention, as in GDAL's `gdaldem hillshade`); the colour is scaled by
//!    `0.3 + 0.7 × shade`.
//! 5. **Height colours**: a brown-to-green ramp over the 2nd–98th percentile of the surface
//!    heights (outliers — birds, noise — do not flatten the ramp).
//!
//! Empty pixels are transparent. Everything is integer or `f32`/`f64` arithmetic in a fixed
//! order and the PNG encoder is deterministic, so the same cloud gives the same bytes — and the
//! same CID — on every machine.

use capture::PointCloud;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbaImage};

use super::error::{PackageError, PackageResult};

/// Thumbnail width and height in pixels.
pub const THUMBNAIL_SIZE: u32 = 512;
/// Fraction of the image left as margin on each side.
const MARGIN: f64 = 0.02;
/// Gap-fill passes.
const FILL_PASSES: usize = 3;
/// Mean points per surface cell below which the grid is made coarser than the image.
const POINTS_PER_CELL: f64 = 3.0;
/// Sun position for the hillshade (degrees).
const SUN_AZIMUTH_DEG: f64 = 315.0;
const SUN_ALTITUDE_DEG: f64 = 45.0;
/// Height ramp, low to high: bare ground to dark canopy.
pub const RAMP: [(f64, [f64; 3]); 5] = [
    (0.0, [120.0, 98.0, 66.0]),
    (0.25, [164.0, 150.0, 92.0]),
    (0.5, [112.0, 160.0, 74.0]),
    (0.75, [52.0, 128.0, 60.0]),
    (1.0, [22.0, 84.0, 46.0]),
];

/// The thumbnail as PNG bytes.
pub fn render_png(cloud: &PointCloud, size: u32) -> PackageResult<Vec<u8>> {
    let img = render(cloud, size)?;
    let mut out = Vec::new();
    // Default (balanced) compression: `Best` took 0.2 s of a 1 M-point package (a third of
    // it) for a file 1.4 % smaller. The encoder is deterministic either way, so the bytes (and
    // the CIDs pinning them) are the same on every machine.
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(img.as_raw(), size, size, ExtendedColorType::Rgba8)
        .map_err(|e| PackageError::Image(e.to_string()))?;
    Ok(out)
}

/// The thumbnail as an RGBA image (`size` × `size`).
pub fn render(cloud: &PointCloud, size: u32) -> PackageResult<RgbaImage> {
    if size == 0 || size > 8192 {
        return Err(PackageError::InvalidOption {
            option: "thumbnail size",
            reason: format!("{size} px; expected 1 to 8192"),
        });
    }
    let n = size as usize;
    let mut img = RgbaImage::new(size, size);
    let finite = cloud
        .positions
        .iter()
        .filter(|p| p.iter().all(|c| c.is_finite()))
        .count();
    // The surface grid: as fine as the image, or coarser where the scan is too sparse to give
    // each cell a few points (then interpolated up), so a drone scan of a small plot renders
    // as a surface rather than as dots.
    let g = (((finite as f64 / POINTS_PER_CELL).sqrt()) as usize).clamp(n.min(16), n);
    let Some(grid) = Surface::splat(cloud, g) else {
        return Ok(img);
    };
    let surface = grid.filled(FILL_PASSES).smoothed();
    let shade = surface.hillshade();
    let (lo, hi) = surface.height_range();
    let scale = g as f64 / n as f64;
    for row in 0..n {
        for col in 0..n {
            let Some(px) = surface.sample(
                &shade,
                (col as f64 + 0.5) * scale - 0.5,
                (row as f64 + 0.5) * scale - 0.5,
            ) else {
                continue;
            };
            let base = match px.rgb {
                Some(rgb) => rgb,
                None => ramp(if hi > lo {
                    (px.z - lo) / (hi - lo)
                } else {
                    0.5
                }),
            };
            let s = 0.3 + 0.7 * px.shade;
            let c = base.map(|c| (c * s).round().clamp(0.0, 255.0) as u8);
            img.put_pixel(col as u32, row as u32, image::Rgba([c[0], c[1], c[2], 255]));
        }
    }
    Ok(img)
}

/// One interpolated output pixel.
struct Sample {
    z: f64,
    shade: f64,
    /// 8-bit colour when the scan has RGB.
    rgb: Option<[f64; 3]>,
}

/// The top surface: highest z per pixel (NaN = empty) and its colour.
struct Surface {
    n: usize,
    /// Metres per pixel.
    pixel_m: f64,
    z: Vec<f32>,
    rgb: Option<Vec<[u16; 3]>>,
    has_rgb: bool,
}

impl Surface {
    fn splat(cloud: &PointCloud, n: usize) -> Option<Surface> {
        if cloud.is_empty() {
            return None;
        }
        let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &cloud.positions {
            if !(p[0].is_finite() && p[1].is_finite() && p[2].is_finite()) {
                continue;
            }
            x_min = x_min.min(p[0] as f64);
            x_max = x_max.max(p[0] as f64);
            y_min = y_min.min(p[1] as f64);
            y_max = y_max.max(p[1] as f64);
        }
        if x_min > x_max {
            return None;
        }
        let side = ((x_max - x_min).max(y_max - y_min) / (1.0 - 2.0 * MARGIN)).max(1e-3);
        let pixel_m = side / n as f64;
        let left = (x_min + x_max) / 2.0 - side / 2.0;
        let top = (y_min + y_max) / 2.0 + side / 2.0;
        let rgb_in = cloud.rgb.as_deref();
        let mut z = vec![f32::NAN; n * n];
        let mut rgb = rgb_in.map(|_| vec![[0u16; 3]; n * n]);
        for (k, p) in cloud.positions.iter().enumerate() {
            if !(p[0].is_finite() && p[1].is_finite() && p[2].is_finite()) {
                continue;
            }
            let col = (((p[0] as f64 - left) / pixel_m) as isize).clamp(0, n as isize - 1);
            let row = (((top - p[1] as f64) / pixel_m) as isize).clamp(0, n as isize - 1);
            let i = row as usize * n + col as usize;
            let cur = z[i];
            let colour = rgb_in.map(|c| c[k]);
            let take = if cur.is_nan() || p[2] > cur {
                true
            } else if p[2] == cur {
                // Equal heights: the larger colour wins, whatever the order.
                matches!((colour, rgb.as_ref()), (Some(c), Some(b)) if c > b[i])
            } else {
                false
            };
            if take {
                z[i] = p[2];
                if let (Some(c), Some(b)) = (colour, rgb.as_mut()) {
                    b[i] = c;
                }
            }
        }
        Some(Surface {
            n,
            pixel_m,
            z,
            has_rgb: rgb.is_some(),
            rgb,
        })
    }

    /// Close gaps: an empty pixel with at least three filled neighbours takes the highest.
    fn filled(mut self, passes: usize) -> Surface {
        let n = self.n;
        for _ in 0..passes {
            let z0 = self.z.clone();
            let rgb0 = self.rgb.clone();
            let mut changed = false;
            for row in 0..n {
                for col in 0..n {
                    let i = row * n + col;
                    if !z0[i].is_nan() {
                        continue;
                    }
                    let mut count = 0;
                    let mut best: Option<usize> = None;
                    for (dr, dc) in NEIGHBOURS {
                        let (r, c) = (row as isize + dr, col as isize + dc);
                        if r < 0 || c < 0 || r >= n as isize || c >= n as isize {
                            continue;
                        }
                        let j = r as usize * n + c as usize;
                        if z0[j].is_nan() {
                            continue;
                        }
                        count += 1;
                        if best.is_none_or(|b| z0[j] > z0[b]) {
                            best = Some(j);
                        }
                    }
                    if count >= 3
                        && let Some(b) = best
                    {
                        self.z[i] = z0[b];
                        if let (Some(dst), Some(src)) = (self.rgb.as_mut(), rgb0.as_ref()) {
                            dst[i] = src[b];
                        }
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        self
    }

    /// A 3×3 binomial (1-2-1) smoothing of the filled heights, over filled cells only: takes
    /// the scan-line texture off crowns and ground so the shading shows shapes, not pulses.
    fn smoothed(mut self) -> Surface {
        let n = self.n;
        let z0 = self.z.clone();
        for row in 0..n {
            for col in 0..n {
                let i = row * n + col;
                if z0[i].is_nan() {
                    continue;
                }
                let (mut acc, mut w) = (0.0f64, 0.0f64);
                for dr in -1isize..=1 {
                    for dc in -1isize..=1 {
                        let (r, c) = (row as isize + dr, col as isize + dc);
                        if r < 0 || c < 0 || r >= n as isize || c >= n as isize {
                            continue;
                        }
                        let v = z0[r as usize * n + c as usize];
                        if v.is_nan() {
                            continue;
                        }
                        let k = ((2 - dr.abs()) * (2 - dc.abs())) as f64;
                        acc += k * v as f64;
                        w += k;
                    }
                }
                self.z[i] = (acc / w) as f32;
            }
        }
        self
    }

    /// Horn's hillshade in [0, 1]; missing neighbours take the centre's height.
    fn hillshade(&self) -> Vec<f64> {
        let n = self.n;
        let zenith = (90.0 - SUN_ALTITUDE_DEG).to_radians();
        let azimuth = (360.0 - SUN_AZIMUTH_DEG + 90.0)
            .rem_euclid(360.0)
            .to_radians();
        let mut out = vec![1.0; n * n];
        for row in 0..n {
            for col in 0..n {
                let i = row * n + col;
                let zc = self.z[i];
                if zc.is_nan() {
                    continue;
                }
                let at = |dr: isize, dc: isize| -> f64 {
                    let (r, c) = (row as isize + dr, col as isize + dc);
                    if r < 0 || c < 0 || r >= n as isize || c >= n as isize {
                        return zc as f64;
                    }
                    let v = self.z[r as usize * n + c as usize];
                    if v.is_nan() { zc as f64 } else { v as f64 }
                };
                let (a, b, c) = (at(-1, -1), at(-1, 0), at(-1, 1));
                let (d, f) = (at(0, -1), at(0, 1));
                let (g, h, k) = (at(1, -1), at(1, 0), at(1, 1));
                let dzdx = ((c + 2.0 * f + k) - (a + 2.0 * d + g)) / (8.0 * self.pixel_m);
                let dzdy = ((g + 2.0 * h + k) - (a + 2.0 * b + c)) / (8.0 * self.pixel_m);
                let slope = (dzdx * dzdx + dzdy * dzdy).sqrt().atan();
                let aspect = dzdy.atan2(-dzdx);
                let s = zenith.cos() * slope.cos()
                    + zenith.sin() * slope.sin() * (azimuth - aspect).cos();
                out[i] = s.clamp(0.0, 1.0);
            }
        }
        out
    }

    /// Bilinear interpolation at grid coordinates (`gx`, `gy`; cell centres at integers) over
    /// the filled cells only; `None` where the nearest cell is empty (keeps the outline).
    fn sample(&self, shade: &[f64], gx: f64, gy: f64) -> Option<Sample> {
        let n = self.n;
        let last = (n - 1) as f64;
        let near = gy.round().clamp(0.0, last) as usize * n + gx.round().clamp(0.0, last) as usize;
        if self.z[near].is_nan() {
            return None;
        }
        let (x0, y0) = (gx.floor().clamp(0.0, last), gy.floor().clamp(0.0, last));
        let (tx, ty) = ((gx - x0).clamp(0.0, 1.0), (gy - y0).clamp(0.0, 1.0));
        let (c0, r0) = (x0 as usize, y0 as usize);
        let (c1, r1) = ((c0 + 1).min(n - 1), (r0 + 1).min(n - 1));
        let (mut w_sum, mut z, mut s, mut rgb) = (0.0, 0.0, 0.0, [0.0; 3]);
        for (c, r, w) in [
            (c0, r0, (1.0 - tx) * (1.0 - ty)),
            (c1, r0, tx * (1.0 - ty)),
            (c0, r1, (1.0 - tx) * ty),
            (c1, r1, tx * ty),
        ] {
            let i = r * n + c;
            if w <= 0.0 || self.z[i].is_nan() {
                continue;
            }
            w_sum += w;
            z += w * self.z[i] as f64;
            s += w * shade[i];
            if let Some(b) = &self.rgb {
                for k in 0..3 {
                    rgb[k] += w * (b[i][k] >> 8) as f64;
                }
            }
        }
        if w_sum <= 0.0 {
            let i = near;
            return Some(Sample {
                z: self.z[i] as f64,
                shade: shade[i],
                rgb: self.rgb.as_ref().map(|b| b[i].map(|c| (c >> 8) as f64)),
            });
        }
        Some(Sample {
            z: z / w_sum,
            shade: s / w_sum,
            rgb: self.has_rgb.then(|| rgb.map(|c| c / w_sum)),
        })
    }

    /// 2nd and 98th percentile of the filled heights.
    fn height_range(&self) -> (f64, f64) {
        let mut v: Vec<f32> = self.z.iter().copied().filter(|z| !z.is_nan()).collect();
        if v.is_empty() {
            return (0.0, 0.0);
        }
        v.sort_by(f32::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize] as f64;
        (q(0.02), q(0.98))
    }
}

const NEIGHBOURS: [(isize, isize); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// Piecewise-linear colour ramp at `t` (clamped to [0, 1]).
pub fn ramp(t: f64) -> [f64; 3] {
    let t = t.clamp(0.0, 1.0);
    for w in RAMP.windows(2) {
        let ((t0, c0), (t1, c1)) = (w[0], w[1]);
        if t <= t1 {
            let u = (t - t0) / (t1 - t0);
            return [0, 1, 2].map(|k| c0[k] + u * (c1[k] - c0[k]));
        }
    }
    RAMP[RAMP.len() - 1].1
}
