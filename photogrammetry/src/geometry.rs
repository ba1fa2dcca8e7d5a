//! Two-view geometric verification: the fundamental matrix by the normalised eight-point
//! algorithm (Hartley 1997, "In defense of the eight-point algorithm", PAMI 19(6)) inside RANSAC
//! (Fischler & Bolles 1981) scored by the Sampson distance (Hartley & Zisserman 2004, §11.4.3).
//!
//! The threshold is in working pixels (default 2 px, COLMAP's `max_error` scaled to photos of
//! about 2000 px); the iteration count follows the standard adaptive bound for 99.9 %
//! confidence, capped. Sampling uses a seeded xorshift so a pair's inliers are reproducible.

use crate::linalg::{M3, svd3, sym_eigen};

/// A correspondence: (x, y) in image A and (x, y) in image B, working pixels.
pub type Corr = ([f64; 2], [f64; 2]);

/// Hartley normalisation: centroid to the origin, mean distance √2.
fn normaliser(pts: &[[f64; 2]]) -> M3 {
    let n = pts.len().max(1) as f64;
    let (mx, my) = (
        pts.iter().map(|p| p[0]).sum::<f64>() / n,
        pts.iter().map(|p| p[1]).sum::<f64>() / n,
    );
    let d = pts
        .iter()
        .map(|p| ((p[0] - mx).powi(2) + (p[1] - my).powi(2)).sqrt())
        .sum::<f64>()
        / n;
    let s = if d > 1e-12 { 2f64.sqrt() / d } else { 1.0 };
    [[s, 0.0, -s * mx], [0.0, s, -s * my], [0.0, 0.0, 1.0]]
}

fn apply(t: &M3, p: &[f64; 2]) -> [f64; 2] {
    [
        t[0][0] * p[0] + t[0][1] * p[1] + t[0][2],
        t[1][0] * p[0] + t[1][1] * p[1] + t[1][2],
    ]
}

/// The fundamental matrix of ≥ 8 correspondences (x_Bᵀ F x_A = 0), rank 2.
pub fn eight_point(c: &[Corr]) -> Option<M3> {
    if c.len() < 8 {
        return None;
    }
    let a: Vec<[f64; 2]> = c.iter().map(|p| p.0).collect();
    let b: Vec<[f64; 2]> = c.iter().map(|p| p.1).collect();
    let (ta, tb) = (normaliser(&a), normaliser(&b));
    let mut ata = [0.0f64; 81];
    for (pa, pb) in a.iter().zip(&b) {
        let (p, q) = (apply(&ta, pa), apply(&tb, pb));
        let row = [
            q[0] * p[0],
            q[0] * p[1],
            q[0],
            q[1] * p[0],
            q[1] * p[1],
            q[1],
            p[0],
            p[1],
            1.0,
        ];
        for i in 0..9 {
            for j in 0..9 {
                ata[i * 9 + j] += row[i] * row[j];
            }
        }
    }
    let (_, vecs) = sym_eigen(&ata, 9);
    let f = &vecs[0];
    let fm: M3 = [[f[0], f[1], f[2]], [f[3], f[4], f[5]], [f[6], f[7], f[8]]];
    // Rank 2.
    let (u, s, v) = svd3(&fm);
    let us: M3 = [
        [u[0][0] * s[0], u[0][1] * s[1], 0.0],
        [u[1][0] * s[0], u[1][1] * s[1], 0.0],
        [u[2][0] * s[0], u[2][1] * s[1], 0.0],
    ];
    let f2 = crate::linalg::mul(&us, &crate::linalg::transpose(&v));
    // Denormalise: F = Tbᵀ F' Ta.
    let f3 = crate::linalg::mul(
        &crate::linalg::transpose(&tb),
        &crate::linalg::mul(&f2, &ta),
    );
    f3.iter().flatten().all(|v| v.is_finite()).then_some(f3)
}

/// Squared Sampson distance of a correspondence to F (pixels²).
pub fn sampson2(f: &M3, c: &Corr) -> f64 {
    let (p, q) = ([c.0[0], c.0[1], 1.0], [c.1[0], c.1[1], 1.0]);
    let fp = crate::linalg::mulv(f, &p);
    let ftq = crate::linalg::mulv(&crate::linalg::transpose(f), &q);
    let e = crate::linalg::dot(&q, &fp);
    let den = fp[0] * fp[0] + fp[1] * fp[1] + ftq[0] * ftq[0] + ftq[1] * ftq[1];
    if den <= 1e-300 {
        f64::INFINITY
    } else {
        e * e / den
    }
}

/// RANSAC options.
#[derive(Clone, Debug)]
pub struct RansacOptions {
    pub threshold_px: f64,
    pub max_iterations: usize,
    pub seed: u64,
}

impl Default for RansacOptions {
    fn default() -> Self {
        RansacOptions {
            threshold_px: 2.0,
            max_iterations: 2000,
            seed: 1,
        }
    }
}

/// Robust fundamental matrix: (F re-fitted on all inliers, inlier flags).
pub fn ransac_fundamental(c: &[Corr], o: &RansacOptions) -> Option<(M3, Vec<bool>)> {
    let n = c.len();
    if n < 8 {
        return None;
    }
    let t2 = o.threshold_px * o.threshold_px;
    let mut s = o.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = |m: usize| {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % m
    };
    let mut best: Option<(usize, M3)> = None;
    let mut iters = o.max_iterations;
    let mut k = 0;
    let mut sample = Vec::with_capacity(8);
    while k < iters {
        k += 1;
        sample.clear();
        while sample.len() < 8 {
            let i = next(n);
            if !sample.contains(&i) {
                sample.push(i);
            }
        }
        let pts: Vec<Corr> = sample.iter().map(|&i| c[i]).collect();
        let Some(f) = eight_point(&pts) else { continue };
        let count = c.iter().filter(|p| sampson2(&f, p) <= t2).count();
        if best.as_ref().is_none_or(|b| count > b.0) {
            best = Some((count, f));
            let w = count as f64 / n as f64;
            let bound = (1.0 - 0.999f64).ln() / (1.0 - w.powi(8)).max(1e-12).ln();
            if bound.is_finite() {
                iters = iters.min(bound.ceil().max(50.0) as usize);
            }
        }
    }
    let (_, f) = best?;
    // Two rounds of re-fitting on the inliers.
    let mut f = f;
    let mut inl: Vec<bool> = c.iter().map(|p| sampson2(&f, p) <= t2).collect();
    for _ in 0..2 {
        let pts: Vec<Corr> = c
            .iter()
            .zip(&inl)
            .filter(|(_, k)| **k)
            .map(|(p, _)| *p)
            .collect();
        let Some(g) = eight_point(&pts) else { break };
        let gi: Vec<bool> = c.iter().map(|p| sampson2(&g, p) <= t2).collect();
        if gi.iter().filter(|k| **k).count() >= inl.iter().filter(|k| **k).count() {
            f = g;
            inl = gi;
        }
    }
    Some((f, inl))
}
