//! PatchMatch stereo for one reference photo — the CPU twin of `shaders/patchmatch.wgsl`,
//! written operation for operation like the shader (f32, the same hash-based random numbers,
//! the same red–black schedule) so the two agree pixel for pixel up to float rounding.
//!
//! Method (Bleyer et al. 2011, "PatchMatch stereo", BMVC; multi-view and red–black
//! propagation after Galliani et al. 2015, "Massively parallel multiview stereopsis by surface
//! normal diffusion", ICCV — "Gipuma"):
//! - every pixel holds a plane: depth along its ray and a normal (reference-camera frame);
//! - its cost is 1 − NCC of a 5 × 5 window sampled every 2 pixels (a 9 × 9 footprint) against
//!   each source photo through the plane-induced mapping, the best `TOP_K` = 2 source costs
//!   averaged (occlusion-robust, as Gipuma's "best k of n");
//! - half the pixels (one checkerboard colour) update at once, testing the planes of eight
//!   neighbours of the other colour at distances 1 and 5 (Gipuma's diffusion pattern), one
//!   random plane and one perturbation of their own whose range shrinks by [`DECAY`] every
//!   iteration.

use rayon::prelude::*;

/// Window radius in samples and the step between samples (pixels).
pub const WINDOW: i32 = 2;
pub const STEP: i32 = 2;
/// Samples in a window.
const WINDOW_SAMPLES: usize = ((2 * WINDOW + 1) * (2 * WINDOW + 1)) as usize;
/// Source costs averaged per pixel (the best ones).
pub const TOP_K: usize = 2;
/// Largest number of source photos per reference photo.
pub const MAX_SOURCES: usize = 4;
/// The cost of a window that cannot be compared (outside a source, textureless, behind).
pub const BAD_COST: f32 = 2.0;
/// Shrink factor of the perturbation range per iteration.
pub const DECAY: f32 = 0.3;

/// Neighbour offsets of the other checkerboard colour (odd Manhattan length).
pub const NEIGHBOURS: [[i32; 2]; 8] = [
    [-1, 0],
    [1, 0],
    [0, -1],
    [0, 1],
    [-5, 0],
    [5, 0],
    [0, -5],
    [0, 5],
];

/// One reference photo's problem: its image, its sources and their poses relative to it
/// (`x_src = r · x_ref + t`, reference-camera coordinates), one pinhole for all (undistorted
/// images at one size).
#[derive(Clone, Debug)]
pub struct Problem {
    pub width: usize,
    pub height: usize,
    pub focal: f32,
    pub cx: f32,
    pub cy: f32,
    pub reference: Vec<f32>,
    /// Source images, each `width × height`.
    pub sources: Vec<Vec<f32>>,
    pub rotations: Vec<[[f32; 3]; 3]>,
    pub translations: Vec<[f32; 3]>,
    pub depth_min: f32,
    pub depth_max: f32,
    pub seed: u32,
}

/// A pixel's plane and its cost: (depth, normal, cost).
pub type Plane = (f32, [f32; 3], f32);

/// Per-pixel planes and costs.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthMap {
    pub width: usize,
    pub height: usize,
    pub depth: Vec<f32>,
    pub normal: Vec<[f32; 3]>,
    pub cost: Vec<f32>,
}

/// The PCG hash (Jarzynski & Olano 2020, "Hash functions for GPU rendering", JCGT 9(3)).
#[inline]
pub fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// Uniform [0, 1) for pixel (x, y), iteration `it`, draw `k`.
#[inline]
pub fn rand01(seed: u32, x: u32, y: u32, it: u32, k: u32) -> f32 {
    let h = pcg(x ^ pcg(y ^ pcg(it.wrapping_mul(16).wrapping_add(k) ^ pcg(seed))));
    (h >> 8) as f32 / 16_777_216.0
}

/// A plane's exact identity: the bits of its depth and normal.
#[inline]
fn plane_bits(depth: f32, n: [f32; 3]) -> [u32; 4] {
    [
        depth.to_bits(),
        n[0].to_bits(),
        n[1].to_bits(),
        n[2].to_bits(),
    ]
}

#[inline]
fn dot3(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
fn normalize3(a: [f32; 3]) -> [f32; 3] {
    let n = dot3(a, a).sqrt();
    [a[0] / n, a[1] / n, a[2] / n]
}

impl Problem {
    #[inline]
    fn ray(&self, x: f32, y: f32) -> [f32; 3] {
        [(x - self.cx) / self.focal, (y - self.cy) / self.focal, 1.0]
    }

    #[inline]
    fn sample(&self, img: &[f32], u: f32, v: f32) -> f32 {
        // `u, v ≥ 0` (the caller's bounds check): truncation is the floor, without a libm call
        // (the baseline x86-64 target has no `roundss`; `floorf` was 6 % of the CPU twin).
        // Through i32 (the caller keeps `u, v` in `[0, size − 1)`): a saturating f32 → usize
        // conversion is ten instructions a coordinate, i32 → f32 one, and the sample sits in
        // PatchMatch's innermost loop. The same values as through usize.
        let (xi, yi) = (u as i32, v as i32);
        let (fx, fy) = (u - xi as f32, v - yi as f32);
        let w = self.width;
        let i = yi as usize * w + xi as usize;
        // One bounds check for the four neighbours.
        let px = &img[i..i + w + 2];
        let (a, b, c, d) = (px[0], px[1], px[w], px[w + 1]);
        let top = a + (b - a) * fx;
        let bot = c + (d - c) * fx;
        top + (bot - top) * fy
    }

    /// Matching cost of plane (depth, normal) at pixel (x, y).
    pub fn cost(&self, x: i32, y: i32, depth: f32, normal: [f32; 3]) -> f32 {
        let rp = self.ray(x as f32, y as f32);
        if depth.is_nan() || depth <= 0.0 || dot3(normal, rp) >= 0.0 {
            return BAD_COST;
        }
        // Only windows wholly inside the reference photo (a clamped window repeats its edge
        // rows and matches anything with the same edge).
        let (w, h) = (self.width as i32, self.height as i32);
        let r = WINDOW * STEP;
        if x < r || y < r || x >= w - r || y >= h - r {
            return BAD_COST;
        }
        let rho = depth * dot3(normal, rp);
        // The plane must face every ray of the window: n·r is affine in the pixel, so its
        // four corners decide.
        for (cx, cy) in [(-r, -r), (r, -r), (-r, r), (r, r)] {
            if dot3(normal, self.ray((x + cx) as f32, (y + cy) as f32)) > -1e-6 {
                return BAD_COST;
            }
        }
        // The window's rays (their z is 1: kept as x, y columns for the branch-free projection
        // below) and reference grey values with their sums, shared by every source: computed
        // once, in the order the per-source loop used, so every sum is the same float.
        let mut rx = [0.0f32; WINDOW_SAMPLES];
        let mut ry = [0.0f32; WINDOW_SAMPLES];
        let mut refv = [0.0f32; WINDOW_SAMPLES];
        let (mut sa, mut saa) = (0.0f32, 0.0f32);
        let mut k = 0;
        for j in -WINDOW..=WINDOW {
            for i in -WINDOW..=WINDOW {
                let (qx, qy) = (x + i * STEP, y + j * STEP);
                let q = self.ray(qx as f32, qy as f32);
                (rx[k], ry[k]) = (q[0], q[1]);
                let a = self.reference[(qy * w + qx) as usize];
                refv[k] = a;
                sa += a;
                saa += a * a;
                k += 1;
            }
        }
        let (umax, vmax) = ((w - 1) as f32, (h - 1) as f32);
        let mut costs = [BAD_COST; MAX_SOURCES];
        for (s, src) in self.sources.iter().enumerate() {
            let rot = &self.rotations[s];
            let t = &self.translations[s];
            // Plane-induced mapping: a source ray ∝ M r_q with M = R + t nᵀ / ρ (the point
            // (ρ / n·r_q) r_q lies in front of the reference camera, so the factor is positive).
            let m: [[f32; 3]; 3] = std::array::from_fn(|a| {
                std::array::from_fn(|b| rot[a][b] + t[a] * normal[b] / rho)
            });
            // Every sample's source position first, without branches (the shader's
            // `dot(m[a], r)` with r.z = 1: the same products and sums in the same order, and
            // m[a][2]·1 is m[a][2] exactly); one division a sample, as the shader.
            let mut us = [0.0f32; WINDOW_SAMPLES];
            let mut vs = [0.0f32; WINDOW_SAMPLES];
            let mut ok = true;
            for k in 0..WINDOW_SAMPLES {
                let (qx, qy) = (rx[k], ry[k]);
                let yz = m[2][0] * qx + m[2][1] * qy + m[2][2];
                let u = self.focal * (m[0][0] * qx + m[0][1] * qy + m[0][2]) / yz + self.cx;
                let v = self.focal * (m[1][0] * qx + m[1][1] * qy + m[1][2]) / yz + self.cy;
                ok &= (yz > 1e-6) & (u >= 0.0) & (v >= 0.0) & (u < umax) & (v < vmax);
                us[k] = u;
                vs[k] = v;
            }
            // Any sample behind the source or outside it: this source cannot compare the window.
            if !ok {
                continue;
            }
            let (mut sb, mut sbb, mut sab) = (0.0f32, 0.0f32, 0.0f32);
            for k in 0..WINDOW_SAMPLES {
                let b = self.sample(src, us[k], vs[k]);
                sb += b;
                sbb += b * b;
                sab += refv[k] * b;
            }
            let n = WINDOW_SAMPLES as f32;
            let va = saa / n - (sa / n) * (sa / n);
            let vb = sbb / n - (sb / n) * (sb / n);
            let cov = sab / n - (sa / n) * (sb / n);
            // Below a grey-level standard deviation of 1 a window carries no texture.
            if va < 1.0 || vb < 1.0 {
                continue;
            }
            let ncc = cov / (va * vb).sqrt();
            costs[s] = (1.0 - ncc).clamp(0.0, BAD_COST);
        }
        // Mean of the TOP_K smallest (insertion sort of at most MAX_SOURCES values).
        for a in 1..MAX_SOURCES {
            let mut b = a;
            while b > 0 && costs[b - 1] > costs[b] {
                costs.swap(b - 1, b);
                b -= 1;
            }
        }
        let k = TOP_K.min(self.sources.len().max(1));
        costs[..k].iter().sum::<f32>() / k as f32
    }

    /// A random plane for pixel (x, y): inverse depth uniform in the range, normal in the
    /// hemisphere facing the camera.
    pub fn random_plane(&self, x: u32, y: u32, it: u32, k: u32) -> (f32, [f32; 3]) {
        let u = rand01(self.seed, x, y, it, k);
        let inv = 1.0 / self.depth_max + u * (1.0 / self.depth_min - 1.0 / self.depth_max);
        let depth = 1.0 / inv;
        let n = self.random_normal(x, y, it, k + 1);
        (depth, self.facing(x, y, n))
    }

    fn random_normal(&self, x: u32, y: u32, it: u32, k: u32) -> [f32; 3] {
        let a = rand01(self.seed, x, y, it, k) * 2.0 - 1.0;
        let b = rand01(self.seed, x, y, it, k + 1) * 2.0 - 1.0;
        let c = rand01(self.seed, x, y, it, k + 2) * 2.0 - 1.0;
        [a, b, c - 1.5]
    }

    /// `n` normalised and turned to face the camera at pixel (x, y).
    fn facing(&self, x: u32, y: u32, n: [f32; 3]) -> [f32; 3] {
        let n = normalize3(n);
        let rp = self.ray(x as f32, y as f32);
        if dot3(n, rp) > 0.0 {
            [-n[0], -n[1], -n[2]]
        } else {
            n
        }
    }

    /// Random initial planes and their costs.
    pub fn init(&self) -> DepthMap {
        let (w, h) = (self.width, self.height);
        let planes: Vec<Plane> = (0..w * h)
            .into_par_iter()
            .map(|i| {
                let (x, y) = ((i % w) as u32, (i / w) as u32);
                let (d, n) = self.random_plane(x, y, 0, 0);
                (d, n, self.cost(x as i32, y as i32, d, n))
            })
            .collect();
        DepthMap {
            width: w,
            height: h,
            depth: planes.iter().map(|p| p.0).collect(),
            normal: planes.iter().map(|p| p.1).collect(),
            cost: planes.iter().map(|p| p.2).collect(),
        }
    }

    /// The better plane for pixel (x, y) at iteration `it` (the shader's `update`).
    pub fn update(&self, m: &DepthMap, x: i32, y: i32, it: u32) -> Plane {
        let (w, h) = (self.width as i32, self.height as i32);
        let i = (y * w + x) as usize;
        let mut best = (m.depth[i], m.normal[i], m.cost[i]);
        // Planes already scored at this pixel. Propagation copies planes bit for bit, so after
        // a few sweeps neighbours often carry this pixel's plane or each other's; the cost is a
        // pure function of (pixel, plane), so a repeat scores the same and cannot win
        // (`c < best`): skipping it changes nothing, bit for bit, the shader's result included.
        let mut seen = [[0u32; 4]; NEIGHBOURS.len() + 1];
        seen[0] = plane_bits(best.0, best.1);
        let mut seen_n = 1;
        for o in NEIGHBOURS {
            let (nx, ny) = (x + o[0], y + o[1]);
            if nx < 0 || ny < 0 || nx >= w || ny >= h {
                continue;
            }
            let j = (ny * w + nx) as usize;
            let key = plane_bits(m.depth[j], m.normal[j]);
            if seen[..seen_n].contains(&key) {
                continue;
            }
            seen[seen_n] = key;
            seen_n += 1;
            let c = self.cost(x, y, m.depth[j], m.normal[j]);
            if c < best.2 {
                best = (m.depth[j], m.normal[j], c);
            }
        }
        // A random plane, and a perturbation of the best whose range halves each iteration.
        let (xu, yu) = (x as u32, y as u32);
        let (rd, rn) = self.random_plane(xu, yu, it + 1, 0);
        let c = self.cost(x, y, rd, rn);
        if c < best.2 {
            best = (rd, rn, c);
        }
        // Perturbation range: 10 % of the depth, shrinking by 0.3 an iteration (7 mm at 30 m by
        // the sixth), so the last sweeps refine below a pixel's disparity.
        let mut scale = 1.0f32;
        for _ in 0..it.min(30) {
            scale *= DECAY;
        }
        let dd = (rand01(self.seed, xu, yu, it + 1, 5) * 2.0 - 1.0) * 0.1 * scale;
        let pd = best.0 * (1.0 + dd);
        let q = self.random_normal(xu, yu, it + 1, 6);
        let ps = 0.5 * scale;
        let pn = self.facing(
            xu,
            yu,
            [
                best.1[0] + ps * q[0],
                best.1[1] + ps * q[1],
                best.1[2] + ps * (q[2] + 1.5),
            ],
        );
        if pd >= self.depth_min && pd <= self.depth_max {
            let c = self.cost(x, y, pd, pn);
            if c < best.2 {
                best = (pd, pn, c);
            }
        }
        best
    }

    /// Run `iterations` red–black sweeps on the CPU.
    pub fn solve(&self, iterations: u32, cancel: &dyn Fn() -> bool) -> Option<DepthMap> {
        let mut m = self.init();
        let w = self.width;
        for it in 0..iterations {
            for colour in 0..2usize {
                if cancel() {
                    return None;
                }
                let updates: Vec<(usize, Plane)> = (0..w * self.height)
                    .into_par_iter()
                    .filter(|&i| ((i % w) + i / w) % 2 == colour)
                    .map(|i| (i, self.update(&m, (i % w) as i32, (i / w) as i32, it)))
                    .collect();
                for (i, (d, n, c)) in updates {
                    m.depth[i] = d;
                    m.normal[i] = n;
                    m.cost[i] = c;
                }
            }
        }
        Some(m)
    }
}
