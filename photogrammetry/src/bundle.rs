//! Bundle adjustment: Levenberg–Marquardt over camera poses, shared intrinsics (focal, k1, k2)
//! and points, with GPS priors on the camera centres — the Schur-complement ("reduced camera
//! system") formulation of Triggs et al. (2000, "Bundle adjustment — a modern synthesis") and
//! Lourakis & Argyros' SBA, solved densely because a drone block has tens to hundreds of photos.
//!
//! - Reprojection residuals use a Cauchy loss (IRLS weights `1/(1 + (r/s)²)`), scale `s` in
//!   pixels: outlier tracks cannot pull the block (COLMAP and OpenSfM use Cauchy/soft-L1 too).
//! - GPS priors: `(C − C_gps)/σ` per axis, Cauchy at 3 σ, so a photo with a bad fix does not
//!   bend the block; they also fix the gauge (datum, scale, orientation) in the project CRS.
//! - Jacobians by central differences (poses, intrinsics and points are a few parameters each
//!   and projection is cheap; exact to ~1e-8 relative).
//! - The principal point stays at the image centre: a nadir block with GPS cannot separate it
//!   from the camera positions (it is fixed by default in OpenSfM's drone settings too).

use rayon::prelude::*;

use crate::camera::{Intrinsics, Pose, project};
use crate::linalg::{M3, V3, cholesky_solve, exp_so3, inv3, mul};

/// One observation of point `point` in photo `cam` at `uv` (working pixels).
#[derive(Clone, Copy, Debug)]
pub struct Obs {
    pub cam: u32,
    pub point: u32,
    pub uv: [f64; 2],
}

/// A GPS prior on a camera centre.
#[derive(Clone, Copy, Debug)]
pub struct Prior {
    pub centre: V3,
    pub sigma: V3,
}

/// Adjustment options.
#[derive(Clone, Debug)]
pub struct BundleOptions {
    pub iterations: usize,
    /// Cauchy scale of reprojection residuals, pixels.
    pub loss_px: f64,
    pub refine_intrinsics: bool,
    /// Prior on the focal length (pixels, standard deviation): EXIF focal lengths are good to
    /// a percent or two, and over flat nadir ground focal length trades against flying height,
    /// which vertical GPS (metres) cannot pin (OpenSfM keeps the same prior, 1 %).
    pub focal_prior: Option<(f64, f64)>,
}

impl Default for BundleOptions {
    fn default() -> Self {
        BundleOptions {
            iterations: 30,
            loss_px: 2.0,
            refine_intrinsics: true,
            focal_prior: None,
        }
    }
}

/// What the adjustment did.
#[derive(Clone, Debug)]
pub struct BundleReport {
    pub iterations: usize,
    pub initial_cost: f64,
    pub final_cost: f64,
}

const NI: usize = 3;

/// One observation's camera-side block: global column indices (pose 6, intrinsics 3), its
/// JᵀWJ and its JᵀWr.
type CamBlock = ([usize; 9], [[f64; 9]; 9], [f64; 9]);

fn perturb(k: &Intrinsics, p: &Pose, x: &V3, which: usize, h: f64) -> (Intrinsics, Pose, V3) {
    let (mut k, mut p, mut x) = (*k, *p, *x);
    match which {
        0..=2 => p.rotation = mul(&small_rotation(which, h), &p.rotation),
        3..=5 => p.centre[which - 3] += h,
        6 => k.focal_px += h,
        7 => k.k1 += h,
        8 => k.k2 += h,
        _ => x[which - 9] += h,
    }
    (k, p, x)
}

/// `exp_so3(h · e_axis)` for the rotation steps of [`STEPS`] (`h` = ±`STEPS[axis]`, the only
/// steps [`linearise`] takes), made once: every observation's Jacobian needs six of them, and
/// their sines and cosines were a sixth of a bundle adjustment's time.
fn small_rotation(axis: usize, h: f64) -> M3 {
    static TABLE: std::sync::LazyLock<[[M3; 2]; 3]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|a| {
            [1.0, -1.0].map(|sign| {
                let mut w = [0.0; 3];
                w[a] = sign * STEPS[a];
                exp_so3(&w)
            })
        })
    });
    debug_assert_eq!(h.abs(), STEPS[axis], "a rotation step of the table");
    TABLE[axis][usize::from(h < 0.0)]
}

const STEPS: [f64; 12] = [
    1e-6, 1e-6, 1e-6, 1e-5, 1e-5, 1e-5, 1e-3, 1e-6, 1e-6, 1e-5, 1e-5, 1e-5,
];

/// Residual and Jacobian (2 × 12: pose 6, intrinsics 3, point 3) of one observation.
fn linearise(
    k: &Intrinsics,
    p: &Pose,
    x: &V3,
    uv: &[f64; 2],
) -> Option<([f64; 2], [[f64; 12]; 2])> {
    let q = project(k, p, x)?;
    let r = [q[0] - uv[0], q[1] - uv[1]];
    let mut j = [[0.0; 12]; 2];
    for (c, &h) in STEPS.iter().enumerate() {
        let (k1, p1, x1) = perturb(k, p, x, c, h);
        let (k2, p2, x2) = perturb(k, p, x, c, -h);
        let (a, b) = (project(&k1, &p1, &x1)?, project(&k2, &p2, &x2)?);
        j[0][c] = (a[0] - b[0]) / (2.0 * h);
        j[1][c] = (a[1] - b[1]) / (2.0 * h);
    }
    Some((r, j))
}

fn cauchy_w(r2: f64, s: f64) -> f64 {
    1.0 / (1.0 + r2 / (s * s))
}

fn cauchy_rho(r2: f64, s: f64) -> f64 {
    s * s * (1.0 + r2 / (s * s)).ln()
}

/// Robust cost of the current state.
fn cost(
    k: &Intrinsics,
    poses: &[Pose],
    points: &[V3],
    obs: &[Obs],
    priors: &[Option<Prior>],
    s: f64,
) -> f64 {
    let reproj: f64 = obs
        .par_iter()
        .map(|o| {
            match project(k, &poses[o.cam as usize], &points[o.point as usize]) {
                Some(q) => cauchy_rho((q[0] - o.uv[0]).powi(2) + (q[1] - o.uv[1]).powi(2), s),
                // Behind the camera: the loss's ceiling for a far outlier.
                None => cauchy_rho(1e6, s),
            }
        })
        .sum();
    reproj + prior_cost(poses, priors)
}

fn focal_cost(k: &Intrinsics, o: &BundleOptions) -> f64 {
    o.focal_prior
        .filter(|_| o.refine_intrinsics)
        .map_or(0.0, |(f0, sf)| ((k.focal_px - f0) / sf).powi(2))
}

fn prior_cost(poses: &[Pose], priors: &[Option<Prior>]) -> f64 {
    poses
        .iter()
        .zip(priors)
        .filter_map(|(p, g)| g.map(|g| (p, g)))
        .map(|(p, g)| {
            (0..3)
                .map(|a| cauchy_rho(((p.centre[a] - g.centre[a]) / g.sigma[a]).powi(2), 3.0))
                .sum::<f64>()
        })
        .sum()
}

/// Adjust `poses`, `k` and `points` in place.
#[allow(clippy::too_many_lines)]
pub fn adjust(
    k: &mut Intrinsics,
    poses: &mut [Pose],
    points: &mut [V3],
    obs: &[Obs],
    priors: &[Option<Prior>],
    o: &BundleOptions,
    cancel: &dyn Fn() -> bool,
) -> BundleReport {
    let nc = poses.len();
    let nk = 6 * nc + NI;
    let s = o.loss_px;
    // Observations grouped by point.
    let mut by_point: Vec<Vec<usize>> = vec![Vec::new(); points.len()];
    for (i, ob) in obs.iter().enumerate() {
        by_point[ob.point as usize].push(i);
    }
    let initial = cost(k, poses, points, obs, priors, s) + focal_cost(k, o);
    let mut current = initial;
    let mut lambda = 1e-3;
    let mut it = 0;
    while it < o.iterations && !cancel() {
        it += 1;
        // Per point: its block of the normal equations and its Schur contribution.
        struct PointSys {
            v: M3,
            gp: V3,
            /// (global camera-column indices (9), W block 9 × 3) per observation.
            w: Vec<([usize; 9], [[f64; 3]; 9])>,
            u: Vec<CamBlock>,
        }
        let systems: Vec<PointSys> = by_point
            .par_iter()
            .enumerate()
            .map(|(pi, list)| {
                let mut v = [[0.0; 3]; 3];
                let mut gp = [0.0; 3];
                let mut w = Vec::with_capacity(list.len());
                let mut u = Vec::with_capacity(list.len());
                for &oi in list {
                    let ob = &obs[oi];
                    let cam = ob.cam as usize;
                    let Some((r, j)) = linearise(k, &poses[cam], &points[pi], &ob.uv) else {
                        continue;
                    };
                    let wt = cauchy_w(r[0] * r[0] + r[1] * r[1], s);
                    let idx: [usize; 9] =
                        std::array::from_fn(|c| if c < 6 { 6 * cam + c } else { 6 * nc + c - 6 });
                    let mut wb = [[0.0; 3]; 9];
                    let mut ub = [[0.0; 9]; 9];
                    let mut gc = [0.0; 9];
                    for a in 0..9 {
                        for b in 0..3 {
                            wb[a][b] = wt * (j[0][a] * j[0][9 + b] + j[1][a] * j[1][9 + b]);
                        }
                        for b in 0..9 {
                            ub[a][b] = wt * (j[0][a] * j[0][b] + j[1][a] * j[1][b]);
                        }
                        gc[a] = wt * (j[0][a] * r[0] + j[1][a] * r[1]);
                    }
                    for a in 0..3 {
                        for b in 0..3 {
                            v[a][b] += wt * (j[0][9 + a] * j[0][9 + b] + j[1][9 + a] * j[1][9 + b]);
                        }
                        gp[a] += wt * (j[0][9 + a] * r[0] + j[1][9 + a] * r[1]);
                    }
                    w.push((idx, wb));
                    u.push((idx, ub, gc));
                }
                PointSys { v, gp, w, u }
            })
            .collect();
        // Reduced camera system S δc = b.
        let mut sm = vec![0.0; nk * nk];
        let mut bv = vec![0.0; nk];
        for ps in &systems {
            for (idx, ub, gc) in &ps.u {
                for a in 0..9 {
                    bv[idx[a]] -= gc[a];
                    for b in 0..9 {
                        sm[idx[a] * nk + idx[b]] += ub[a][b];
                    }
                }
            }
        }
        // GPS priors (IRLS weights of the Cauchy at 3 σ).
        for (c, (p, g)) in poses.iter().zip(priors).enumerate() {
            let Some(g) = g else { continue };
            for a in 0..3 {
                let z = (p.centre[a] - g.centre[a]) / g.sigma[a];
                let wt = cauchy_w(z * z, 3.0) / (g.sigma[a] * g.sigma[a]);
                let i = 6 * c + 3 + a;
                sm[i * nk + i] += wt;
                bv[i] -= wt * (p.centre[a] - g.centre[a]);
            }
        }
        if let Some((f0, sf)) = o.focal_prior.filter(|_| o.refine_intrinsics) {
            let i = 6 * nc;
            let wt = 1.0 / (sf * sf);
            sm[i * nk + i] += wt;
            bv[i] -= wt * (k.focal_px - f0);
        }
        if !o.refine_intrinsics {
            for i in 6 * nc..nk {
                for jx in 0..nk {
                    sm[i * nk + jx] = 0.0;
                    sm[jx * nk + i] = 0.0;
                }
                sm[i * nk + i] = 1.0;
                bv[i] = 0.0;
            }
        }
        let undamped_diag: Vec<f64> = (0..nk).map(|i| sm[i * nk + i]).collect();
        let mut accepted = false;
        for _ in 0..8 {
            let mut s2 = sm.clone();
            let mut b2 = bv.clone();
            for i in 0..nk {
                s2[i * nk + i] = undamped_diag[i] + lambda * undamped_diag[i].max(1e-9);
            }
            // Eliminate the points.
            let vinv: Vec<Option<M3>> = systems
                .iter()
                .map(|ps| {
                    let mut v = ps.v;
                    for (a, row) in v.iter_mut().enumerate() {
                        row[a] += lambda * row[a].max(1e-9);
                    }
                    inv3(&v)
                })
                .collect();
            for (ps, vi) in systems.iter().zip(&vinv) {
                let Some(vi) = vi else { continue };
                // W V⁻¹ per observation (9 × 3).
                let wv: Vec<[[f64; 3]; 9]> =
                    ps.w.iter()
                        .map(|(_, wb)| {
                            std::array::from_fn(|a| {
                                std::array::from_fn(|b| (0..3).map(|c| wb[a][c] * vi[c][b]).sum())
                            })
                        })
                        .collect();
                for (x, (ia, _)) in ps.w.iter().enumerate() {
                    let wvx = &wv[x];
                    for a in 0..9 {
                        // b −= W V⁻¹ (−gp) → += W V⁻¹ gp.
                        b2[ia[a]] +=
                            wvx[a][0] * ps.gp[0] + wvx[a][1] * ps.gp[1] + wvx[a][2] * ps.gp[2];
                    }
                    // S −= W_x V⁻¹ W_yᵀ over the point's observation pairs: the (y, x) block is
                    // the (x, y) block transposed (V⁻¹ is symmetric), so each pair is formed
                    // once — this loop is most of an adjustment's time.
                    for (ib, wbb) in &ps.w[x..] {
                        let same = std::ptr::eq(ib, ia);
                        for a in 0..9 {
                            for b in 0..9 {
                                let v = wvx[a][0] * wbb[b][0]
                                    + wvx[a][1] * wbb[b][1]
                                    + wvx[a][2] * wbb[b][2];
                                s2[ia[a] * nk + ib[b]] -= v;
                                if !same {
                                    s2[ib[b] * nk + ia[a]] -= v;
                                }
                            }
                        }
                    }
                }
            }
            let Some(dc) = cholesky_solve(&s2, &b2, nk) else {
                lambda *= 10.0;
                continue;
            };
            // Back-substitute the points: δp = V⁻¹ (−gp − Wᵀ δc).
            let mut new_points = points.to_vec();
            for (pi, (ps, vi)) in systems.iter().zip(&vinv).enumerate() {
                let Some(vi) = vi else { continue };
                let mut rhs = [-ps.gp[0], -ps.gp[1], -ps.gp[2]];
                for (idx, wb) in &ps.w {
                    for c in 0..3 {
                        rhs[c] -= (0..9).map(|a| wb[a][c] * dc[idx[a]]).sum::<f64>();
                    }
                }
                for c in 0..3 {
                    new_points[pi][c] += (0..3).map(|b| vi[c][b] * rhs[b]).sum::<f64>();
                }
            }
            let mut new_poses = poses.to_vec();
            for (c, p) in new_poses.iter_mut().enumerate() {
                let w = [dc[6 * c], dc[6 * c + 1], dc[6 * c + 2]];
                p.rotation = mul(&exp_so3(&w), &p.rotation);
                for a in 0..3 {
                    p.centre[a] += dc[6 * c + 3 + a];
                }
            }
            let mut nk2 = *k;
            if o.refine_intrinsics {
                nk2.focal_px += dc[6 * nc];
                nk2.k1 += dc[6 * nc + 1];
                nk2.k2 += dc[6 * nc + 2];
            }
            let c2 = cost(&nk2, &new_poses, &new_points, obs, priors, s) + focal_cost(&nk2, o);
            if c2 < current {
                let gain = (current - c2) / current.max(1e-300);
                current = c2;
                *k = nk2;
                poses.copy_from_slice(&new_poses);
                points.copy_from_slice(&new_points);
                lambda = (lambda / 3.0).max(1e-9);
                accepted = true;
                if gain < 1e-7 {
                    it = o.iterations;
                }
                break;
            }
            lambda *= 4.0;
        }
        if !accepted {
            break;
        }
    }
    BundleReport {
        iterations: it,
        initial_cost: initial,
        final_cost: current,
    }
}
