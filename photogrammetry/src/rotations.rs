//! Camera orientations from the images themselves: relative rotations of verified pairs from
//! their essential matrices, global rotations by chordal rotation averaging, and the one
//! rotation left free turned onto the world by the GPS baselines.
//!
//! Why not the gimbal angles: the Brighton Beach photos (a DJI Phantom 3) report a gimbal yaw
//! flipping by 180° between flight lines while the images are not rotated at all — metadata
//! orientation cannot be trusted across firmwares, positions can (to metres).
//!
//! - Relative pose: `E = Kᵀ F K` projected onto the essential manifold, its four (R, t)
//!   decompositions tested for points in front of both cameras (Hartley & Zisserman 2004, §9.6).
//! - Averaging: the linear chordal L2 method of Martinec & Pajdla (2007, "Robust rotation and
//!   translation estimation in multiview reconstruction", CVPR) — `R_j = R_ij R_i` is linear in
//!   the matrix entries and splits by column — each result projected onto SO(3), then
//!   re-weighted (Cauchy on the residual angle, 5°) a few times against bad pairs
//!   (Chatterjee & Govindu 2013 use the same IRLS idea with an L½ loss).
//! - World alignment: a pair's translation direction in the averaged frame against its GPS
//!   baseline, all pairs at once by Kabsch (weighted by baseline length).

use crate::camera::Intrinsics;
use crate::linalg::{M3, V3, cholesky_solve, dot, kabsch, mul, mulv, norm, svd3, transpose};

/// The rotation nearest to `m` (Frobenius), via SVD.
pub fn nearest_rotation(m: &M3) -> M3 {
    // U Vᵀ for M = U Σ Vᵀ is Kabsch's rotation for H = Mᵀ.
    kabsch(&transpose(m))
}

/// Relative pose (R, unit t) of camera b with respect to camera a (`x_b = R x_a + t`) from the
/// fundamental matrix and inlier correspondences (working pixels).
pub fn relative_pose(k: &Intrinsics, f: &M3, inliers: &[([f64; 2], [f64; 2])]) -> Option<(M3, V3)> {
    let km: M3 = [
        [k.focal_px, 0.0, k.cx],
        [0.0, k.focal_px, k.cy],
        [0.0, 0.0, 1.0],
    ];
    let e = mul(&transpose(&km), &mul(f, &km));
    let (mut u, _, mut v) = svd3(&e);
    if crate::linalg::det(&u) < 0.0 {
        for row in &mut u {
            row[2] = -row[2];
        }
    }
    if crate::linalg::det(&v) < 0.0 {
        for row in &mut v {
            row[2] = -row[2];
        }
    }
    let wm: M3 = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let r1 = mul(&u, &mul(&wm, &transpose(&v)));
    let r2 = mul(&u, &mul(&transpose(&wm), &transpose(&v)));
    let t = [u[0][2], u[1][2], u[2][2]];
    let norm_pt = |p: &[f64; 2]| [(p[0] - k.cx) / k.focal_px, (p[1] - k.cy) / k.focal_px, 1.0];
    let mut best: Option<(usize, M3, V3)> = None;
    for r in [r1, r2] {
        for s in [1.0, -1.0] {
            let tt = [t[0] * s, t[1] * s, t[2] * s];
            // Depths by the midpoint of the two rays: both positive counts.
            let mut good = 0;
            for (pa, pb) in inliers {
                let (xa, xb) = (norm_pt(pa), norm_pt(pb));
                // x_b ~ R x_a λa + t  →  solve λa xa' − λb xb = −t with xa' = R xa.
                let ra = mulv(&r, &xa);
                let a11 = dot(&ra, &ra);
                let a12 = -dot(&ra, &xb);
                let a22 = dot(&xb, &xb);
                let b1 = -dot(&ra, &tt);
                let b2 = dot(&xb, &tt);
                let det = a11 * a22 - a12 * a12;
                if det.abs() < 1e-12 {
                    continue;
                }
                let la = (b1 * a22 - a12 * b2) / det;
                let lb = (a11 * b2 - a12 * b1) / det;
                if la > 0.0 && lb > 0.0 {
                    good += 1;
                }
            }
            if best.as_ref().is_none_or(|b| good > b.0) {
                best = Some((good, r, tt));
            }
        }
    }
    let (good, r, t) = best?;
    (good * 2 > inliers.len()).then_some((r, t))
}

/// A relative measurement between photos a and b: `R_b = rel · R_a`, and b's translation
/// direction `t` (`x_b = rel x_a + t`).
#[derive(Clone, Copy, Debug)]
pub struct Relative {
    pub a: usize,
    pub b: usize,
    pub rel: M3,
    pub t: V3,
    pub weight: f64,
}

pub fn angle(r: &M3) -> f64 {
    ((r[0][0] + r[1][1] + r[2][2] - 1.0) / 2.0)
        .clamp(-1.0, 1.0)
        .acos()
}

/// Global rotations (photo 0 = identity) from relative ones; `None` for photos no pair reaches.
pub fn average(n: usize, rel: &[Relative]) -> Vec<Option<M3>> {
    let mut w: Vec<f64> = rel.iter().map(|r| r.weight).collect();
    let mut out: Vec<Option<M3>> = vec![None; n];
    // Reached from photo 0?
    let mut reach = vec![false; n];
    reach[0] = true;
    loop {
        let mut changed = false;
        for r in rel {
            if reach[r.a] != reach[r.b] {
                reach[r.a] = true;
                reach[r.b] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let idx: Vec<Option<usize>> = {
        let mut k = 0;
        (0..n)
            .map(|i| {
                (i > 0 && reach[i]).then(|| {
                    k += 1;
                    k - 1
                })
            })
            .collect()
    };
    let m = idx.iter().flatten().count();
    for _ in 0..6 {
        let mut cols: [Vec<f64>; 3] = [vec![0.0; 3 * m], vec![0.0; 3 * m], vec![0.0; 3 * m]];
        let mut a = vec![0.0; 9 * m * m];
        let nn = 3 * m;
        for (r, &wt) in rel.iter().zip(&w) {
            if !(reach[r.a] && reach[r.b]) || wt <= 0.0 {
                continue;
            }
            // Residual rows: x_b − rel x_a (3 rows per column of R).
            // Jacobian blocks: +I for b, −rel for a (a fixed when it is photo 0).
            for row in 0..3 {
                let mut coef: Vec<(usize, f64)> = Vec::new();
                if let Some(ib) = idx[r.b] {
                    coef.push((3 * ib + row, 1.0));
                }
                if let Some(ia) = idx[r.a] {
                    for c in 0..3 {
                        coef.push((3 * ia + c, -r.rel[row][c]));
                    }
                }
                // Known part from photo 0 (identity): rhs per column.
                let known: [f64; 3] = std::array::from_fn(|col| {
                    let mut v = 0.0;
                    if r.b == 0 {
                        v -= if row == col { 1.0 } else { 0.0 };
                    }
                    if r.a == 0 {
                        v += r.rel[row][col];
                    }
                    v
                });
                for &(i, ci) in &coef {
                    for &(j, cj) in &coef {
                        a[i * nn + j] += wt * ci * cj;
                    }
                    for col in 0..3 {
                        cols[col][i] += wt * ci * known[col];
                    }
                }
            }
        }
        for i in 0..nn {
            a[i * nn + i] += 1e-9;
        }
        let sol: Vec<Option<Vec<f64>>> = cols.iter().map(|b| cholesky_solve(&a, b, nn)).collect();
        if sol.iter().any(Option::is_none) {
            return out;
        }
        let sol: Vec<Vec<f64>> = sol.into_iter().flatten().collect();
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = if i == 0 {
                Some([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            } else {
                idx[i].map(|k| {
                    let m3: M3 =
                        std::array::from_fn(|row| std::array::from_fn(|col| sol[col][3 * k + row]));
                    nearest_rotation(&m3)
                })
            };
        }
        // Re-weight by the residual angle (Cauchy, 5°).
        let s = 5f64.to_radians();
        for (r, wt) in rel.iter().zip(w.iter_mut()) {
            if let (Some(ra), Some(rb)) = (out[r.a], out[r.b]) {
                let res = angle(&mul(&rb, &transpose(&mul(&r.rel, &ra))));
                *wt = r.weight / (1.0 + (res / s).powi(2));
            }
        }
    }
    out
}

/// The world rotation G with `R_i = R̂_i Gᵀ` that turns the averaged frame onto the GPS
/// baselines; `None` with fewer than two usable baselines.
pub fn align_to_gps(
    rot: &[Option<M3>],
    rel: &[Relative],
    gps: &[V3],
    min_baseline_m: f64,
) -> Option<M3> {
    let mut h = [[0.0; 3]; 3];
    let mut used = 0;
    for r in rel {
        let (Some(_), Some(rb)) = (rot[r.a], rot[r.b]) else {
            continue;
        };
        let b = crate::linalg::sub(&gps[r.b], &gps[r.a]);
        let len = norm(&b);
        if len < min_baseline_m {
            continue;
        }
        // C_b − C_a ∝ −R_bᵀ t in the averaged frame.
        let d = mulv(&transpose(&rb), &r.t);
        let d = [-d[0], -d[1], -d[2]];
        let dn = norm(&d);
        if dn < 1e-12 {
            continue;
        }
        let bu = [b[0] / len, b[1] / len, b[2] / len];
        let du = [d[0] / dn, d[1] / dn, d[2] / dn];
        for i in 0..3 {
            for j in 0..3 {
                h[i][j] += len * r.weight * du[i] * bu[j];
            }
        }
        used += 1;
    }
    if used < 2 {
        return None;
    }
    // G minimises Σ |G d − b|² with H = Σ d bᵀ.
    Some(kabsch(&h))
}
