//! Keypoints and binary descriptors: Harris corners spread over the frame, oriented by the
//! intensity centroid and described by steered BRIEF — ORB (Rublee et al. 2011, "ORB: an
//! efficient alternative to SIFT or SURF", ICCV) without the pyramid, since a drone block is shot
//! from one altitude and its photos share a scale.
//!
//! Defaults and why:
//! - Harris response `det − 0.04·tr²` on gradients of the image blurred at σ 1.0, window σ 1.5
//!   (Harris & Stephens 1988; k = 0.04 is their customary value).
//! - Corners are kept per cell of a 32 × 32 grid (the strongest few per cell) so texture-poor
//!   areas (sand, water) still get features and rich ones do not take them all — the bucketing
//!   of ORB-SLAM (Mur-Artal et al. 2015).
//! - Sub-pixel positions from a quadratic fit of the response around the maximum.
//! - 256 test pairs drawn from an isotropic Gaussian (σ = patch/5) in a 31-px patch, Calonder
//!   et al. (2010) BRIEF's "G II" sampling, with a fixed seed so descriptors are reproducible.

use rayon::prelude::*;

use crate::image::Gray;

/// Patch side of the descriptor (pixels at the working resolution).
pub const PATCH: i32 = 31;

/// Feature detection options.
#[derive(Clone, Debug)]
pub struct FeatureOptions {
    /// Features kept per photo at most.
    pub max_features: usize,
    /// Grid cells per side for spreading the features.
    pub grid: usize,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions {
            max_features: 6000,
            grid: 32,
        }
    }
}

/// One keypoint: position (working pixels), orientation (radians) and a 256-bit descriptor.
#[derive(Clone, Debug)]
pub struct Feature {
    pub x: f32,
    pub y: f32,
    pub angle: f32,
    pub desc: [u64; 4],
}

/// The BRIEF test pairs (fixed seed; xorshift64* so no RNG crate decides the bits).
fn pairs() -> &'static [([f32; 2], [f32; 2]); 256] {
    static PAIRS: std::sync::OnceLock<[([f32; 2], [f32; 2]); 256]> = std::sync::OnceLock::new();
    PAIRS.get_or_init(|| {
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut uniform = || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            ((s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let sigma = PATCH as f64 / 5.0;
        let half = (PATCH / 2 - 2) as f64;
        let mut gauss = || loop {
            // Box–Muller, truncated to the patch.
            let (u, v) = (uniform(), uniform());
            let g = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos() * sigma;
            if g.abs() <= half {
                return g as f32;
            }
        };
        std::array::from_fn(|_| ([gauss(), gauss()], [gauss(), gauss()]))
    })
}

/// Harris response of a blurred image.
fn harris(img: &Gray) -> Gray {
    let (w, h) = (img.width, img.height);
    let mut ixx = Gray::new(w, h);
    let mut iyy = Gray::new(w, h);
    let mut ixy = Gray::new(w, h);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let gx = img.at(x + 1, y) - img.at(x - 1, y);
            let gy = img.at(x, y + 1) - img.at(x, y - 1);
            let i = y * w + x;
            ixx.px[i] = gx * gx;
            iyy.px[i] = gy * gy;
            ixy.px[i] = gx * gy;
        }
    }
    let (a, b, c) = (ixx.blur(1.5), iyy.blur(1.5), ixy.blur(1.5));
    let mut r = Gray::new(w, h);
    for i in 0..w * h {
        let det = a.px[i] * b.px[i] - c.px[i] * c.px[i];
        let tr = a.px[i] + b.px[i];
        r.px[i] = det - 0.04 * tr * tr;
    }
    r
}

/// Orientation by the intensity centroid of a disc of radius PATCH/2 (Rosin 1999).
fn orientation(img: &Gray, x: f32, y: f32) -> f32 {
    let r = PATCH / 2;
    let (cx, cy) = (x.round() as i32, y.round() as i32);
    let (mut m10, mut m01) = (0.0f32, 0.0f32);
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy > r * r {
                continue;
            }
            let v = img.at((cx + dx) as usize, (cy + dy) as usize);
            m10 += dx as f32 * v;
            m01 += dy as f32 * v;
        }
    }
    m01.atan2(m10)
}

fn describe(img: &Gray, x: f32, y: f32, angle: f32) -> [u64; 4] {
    let (s, c) = angle.sin_cos();
    let mut d = [0u64; 4];
    for (k, (p, q)) in pairs().iter().enumerate() {
        let rot = |v: &[f32; 2]| (x + c * v[0] - s * v[1], y + s * v[0] + c * v[1]);
        let (px, py) = rot(p);
        let (qx, qy) = rot(q);
        if img.sample(px, py) < img.sample(qx, qy) {
            d[k / 64] |= 1 << (k % 64);
        }
    }
    d
}

/// Detect and describe the features of one photo.
pub fn detect(img: &Gray, o: &FeatureOptions) -> Vec<Feature> {
    let smooth = img.blur(1.0);
    let resp = harris(&smooth);
    let (w, h) = (img.width, img.height);
    let margin = (PATCH / 2 + 3) as usize;
    if w <= 2 * margin || h <= 2 * margin {
        return Vec::new();
    }
    let cells = o.grid.max(1);
    let per_cell = (o.max_features / (cells * cells)).max(1) + 1;
    let (cw, ch) = (w.div_ceil(cells), h.div_ceil(cells));
    // Local maxima in 5 × 5, above a small fraction of the frame's strongest response.
    let peak = resp.px.iter().copied().fold(0.0f32, f32::max);
    let floor = peak * 1e-5;
    let mut buckets: Vec<Vec<(f32, usize, usize)>> = vec![Vec::new(); cells * cells];
    for y in margin..h - margin {
        for x in margin..w - margin {
            let v = resp.at(x, y);
            if v <= floor {
                continue;
            }
            let mut is_max = true;
            'n: for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    if (dx, dy) != (0, 0)
                        && resp.at((x as i32 + dx) as usize, (y as i32 + dy) as usize) >= v
                    {
                        is_max = false;
                        break 'n;
                    }
                }
            }
            if is_max {
                buckets[(y / ch) * cells + x / cw].push((v, x, y));
            }
        }
    }
    let mut picked = Vec::new();
    for b in &mut buckets {
        b.sort_unstable_by(|a, c| c.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(c.1, c.2))));
        picked.extend(b.iter().take(per_cell).copied());
    }
    picked.sort_unstable_by(|a, c| c.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(c.1, c.2))));
    picked.truncate(o.max_features);
    picked
        .par_iter()
        .map(|&(_, x, y)| {
            // Quadratic sub-pixel peak.
            let f = |dx: i32, dy: i32| resp.at((x as i32 + dx) as usize, (y as i32 + dy) as usize);
            let sub = |m: f32, c: f32, p: f32| {
                let den = m - 2.0 * c + p;
                if den.abs() > 1e-12 {
                    (0.5 * (m - p) / den).clamp(-0.5, 0.5)
                } else {
                    0.0
                }
            };
            let fx = x as f32 + sub(f(-1, 0), f(0, 0), f(1, 0));
            let fy = y as f32 + sub(f(0, -1), f(0, 0), f(0, 1));
            let angle = orientation(&smooth, fx, fy);
            Feature {
                x: fx,
                y: fy,
                angle,
                desc: describe(&smooth, fx, fy, angle),
            }
        })
        .collect()
}

/// Hamming distance of two descriptors.
#[inline]
pub fn hamming(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}
