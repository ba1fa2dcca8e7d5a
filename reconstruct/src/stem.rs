//! Stem diameter at breast height (DBH) from scans that see stems (terrestrial, phone, dense
//! drone): circle fits to a horizontal slice of the height-normalised cloud at 1.3 m ± 0.1 m.
//!
//! 1. **Slice** the points 1.2–1.4 m above ground (breast height 1.3 m, the international
//!    convention; ±0.1 m is thin enough that stem taper changes the radius by well under a
//!    millimetre, thick enough to hold several scan lines).
//! 2. **Cluster** the slice in 2-D by single linkage (points closer than `cluster_gap_m` join):
//!    each stem cross-section is one connected arc, and stems are decimetres to metres apart.
//! 3. **RANSAC** (Fischler & Bolles 1981, CACM 24(6):381–395) on each cluster: circles through
//!    three random points, scored by the points within `inlier_threshold_m` of the circle; this
//!    ignores twigs, bark flakes and stray returns that pull a least-squares fit.
//! 4. **Geometric least squares** on the inliers: Levenberg–Marquardt on the orthogonal
//!    distances `‖p − c‖ − r` (the "geometric fit" of Chernov 2010, *Circular and Linear
//!    Regression*, ch. 4). The algebraic Kåsa fit is biased towards small radii on the half arcs a
//!    single scan position sees (by millimetres at TLS noise levels), so it is not used.
//!    Inliers are re-selected around the refined circle and the fit repeated until stable.
//! 5. **Reject** implausible fits: radius outside `[min_radius_m, max_radius_m]`, RMS of the
//!    inlier distances above `max_rms_m`, angular coverage of the inliers below `min_arc_deg`
//!    (a short arc does not constrain the radius), fewer than `min_points` inliers or an inlier
//!    fraction below `min_inlier_fraction`.
//!
//! [`find_stems`] does this on a height-normalised cloud; [`single_tree`] handles a one-tree
//! terrestrial scan that is not normalised (it estimates the ground from the lowest points around
//! the stem base first).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use capture::PointCloud;

use crate::error::{ReconstructError, Result};

/// Options of the stem fits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StemOptions {
    /// Breast height above ground (default 1.3 m).
    pub breast_height_m: f64,
    /// Half thickness of the slice (default 0.1 m).
    pub slice_half_width_m: f64,
    /// Single-linkage distance of the 2-D clustering (default 0.1 m: several times the point
    /// spacing of a TLS scan on a stem 30 m away at 0.1°, far below the distance between stems).
    pub cluster_gap_m: f64,
    /// Fewest inliers for a stem (default 20).
    pub min_points: usize,
    /// RANSAC iterations at most (default 1000; stops earlier once a consensus set is found
    /// with 99.9 % confidence).
    pub ransac_iterations: usize,
    /// Inlier band around the circle (default 0.015 m: about 4σ of TLS ranging noise plus bark
    /// roughness).
    pub inlier_threshold_m: f64,
    /// Plausible radii (default 0.025–1.0 m: DBH 5 cm to 2 m).
    pub min_radius_m: f64,
    pub max_radius_m: f64,
    /// Largest RMS of the inliers' distances to the circle (default 0.01 m).
    pub max_rms_m: f64,
    /// Smallest angular coverage of the inliers around the centre (default 60°).
    pub min_arc_deg: f64,
    /// Smallest fraction of the cluster's points that are inliers (default 0.5).
    pub min_inlier_fraction: f64,
    /// RANSAC seed (fits are deterministic).
    pub seed: u64,
}

impl Default for StemOptions {
    fn default() -> Self {
        StemOptions {
            breast_height_m: 1.3,
            slice_half_width_m: 0.1,
            cluster_gap_m: 0.1,
            min_points: 20,
            ransac_iterations: 1000,
            inlier_threshold_m: 0.015,
            min_radius_m: 0.025,
            max_radius_m: 1.0,
            max_rms_m: 0.01,
            min_arc_deg: 60.0,
            min_inlier_fraction: 0.5,
            seed: 0x57E4,
        }
    }
}

impl StemOptions {
    pub fn validate(&self) -> Result<()> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !(pos(self.slice_half_width_m)
            && pos(self.cluster_gap_m)
            && pos(self.inlier_threshold_m)
            && pos(self.min_radius_m)
            && pos(self.max_rms_m)
            && self.max_radius_m > self.min_radius_m
            && self.breast_height_m.is_finite())
        {
            return Err(ReconstructError::InvalidOption {
                option: "stem",
                reason: "lengths must be positive and finite, max_radius_m > min_radius_m".into(),
            });
        }
        if self.min_points < 3 || self.ransac_iterations == 0 {
            return Err(ReconstructError::InvalidOption {
                option: "stem min_points/ransac_iterations",
                reason: "need at least 3 points and 1 iteration".into(),
            });
        }
        Ok(())
    }
}

/// A circle fitted to 2-D points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CircleFit {
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
    /// RMS of the inliers' orthogonal distances to the circle.
    pub rms: f64,
    /// Indices (into the fitted slice) of the inliers.
    pub inliers: Vec<usize>,
    /// Angular extent of the inliers around the centre: 360° minus the largest empty gap.
    pub arc_deg: f64,
}

/// One stem found at breast height.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StemFit {
    /// Absolute centre of the cross-section.
    pub x: f64,
    pub y: f64,
    pub radius_m: f64,
    pub dbh_cm: f64,
    /// RMS of the inliers' distances to the circle.
    pub rms_m: f64,
    pub inliers: usize,
    /// Points of the slice cluster the circle was fitted to.
    pub cluster_points: usize,
    pub arc_deg: f64,
}

/// Circle through three points, `None` when (nearly) collinear.
pub fn circumcircle(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> Option<(f64, f64, f64)> {
    let (bx, by) = (b[0] - a[0], b[1] - a[1]);
    let (cx, cy) = (c[0] - a[0], c[1] - a[1]);
    let d = 2.0 * (bx * cy - by * cx);
    if d.abs() < 1e-12 {
        return None;
    }
    let b2 = bx * bx + by * by;
    let c2 = cx * cx + cy * cy;
    let ux = (cy * b2 - by * c2) / d;
    let uy = (bx * c2 - cx * b2) / d;
    Some((a[0] + ux, a[1] + uy, ux.hypot(uy)))
}

/// Solve the 3 × 3 system `m x = v` (Gaussian elimination with partial pivoting).
fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let p = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[p][col].abs() < 1e-300 {
            return None;
        }
        m.swap(col, p);
        v.swap(col, p);
        for row in col + 1..3 {
            let f = m[row][col] / m[col][col];
            let pivot = m[col];
            for (x, p) in m[row].iter_mut().zip(pivot).skip(col) {
                *x -= f * p;
            }
            v[row] -= f * v[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|k| m[row][k] * x[k]).sum();
        x[row] = (v[row] - s) / m[row][row];
    }
    Some(x)
}

/// Geometric least-squares circle (Levenberg–Marquardt on `‖p − c‖ − r`) from a start circle.
/// Returns `(cx, cy, r)`; `None` if it does not converge to a finite circle.
pub fn fit_circle_geometric(
    points: &[[f64; 2]],
    start: (f64, f64, f64),
) -> Option<(f64, f64, f64)> {
    if points.len() < 3 {
        return None;
    }
    let cost = |a: f64, b: f64, r: f64| -> f64 {
        points
            .iter()
            .map(|p| {
                let e = (p[0] - a).hypot(p[1] - b) - r;
                e * e
            })
            .sum()
    };
    let (mut a, mut b, mut r) = start;
    let mut c = cost(a, b, r);
    let mut lambda = 1e-3;
    for _ in 0..200 {
        let mut jtj = [[0.0; 3]; 3];
        let mut jte = [0.0; 3];
        for p in points {
            let (dx, dy) = (p[0] - a, p[1] - b);
            let d = dx.hypot(dy);
            if d < 1e-12 {
                continue;
            }
            let j = [-dx / d, -dy / d, -1.0];
            let e = d - r;
            for u in 0..3 {
                jte[u] += j[u] * e;
                for v in 0..3 {
                    jtj[u][v] += j[u] * j[v];
                }
            }
        }
        let mut improved = false;
        for _ in 0..20 {
            let mut m = jtj;
            for (u, row) in m.iter_mut().enumerate() {
                row[u] += lambda * jtj[u][u].max(1e-12);
            }
            let Some(step) = solve3(m, [-jte[0], -jte[1], -jte[2]]) else {
                lambda *= 10.0;
                continue;
            };
            let (na, nb, nr) = (a + step[0], b + step[1], r + step[2]);
            let nc = cost(na, nb, nr);
            if nc.is_finite() && nc <= c {
                let small = step.iter().map(|s| s.abs()).fold(0.0, f64::max) < 1e-10;
                a = na;
                b = nb;
                r = nr;
                c = nc;
                lambda = (lambda * 0.1).max(1e-12);
                improved = true;
                if small {
                    return (r > 0.0 && r.is_finite()).then_some((a, b, r));
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (r > 0.0 && r.is_finite() && a.is_finite() && b.is_finite()).then_some((a, b, r))
}

/// Angular extent of `points` around `(cx, cy)`: 360° minus the largest gap between
/// consecutive directions.
fn arc_extent_deg(points: &[[f64; 2]], cx: f64, cy: f64) -> f64 {
    if points.len() < 2 {
        return 0.0;
    }
    let mut ang: Vec<f64> = points
        .iter()
        .map(|p| (p[1] - cy).atan2(p[0] - cx))
        .collect();
    ang.sort_by(f64::total_cmp);
    let mut gap = ang[0] + std::f64::consts::TAU - ang[ang.len() - 1];
    for w in ang.windows(2) {
        gap = gap.max(w[1] - w[0]);
    }
    (std::f64::consts::TAU - gap).to_degrees()
}

/// RANSAC, then geometric least squares on the inliers (re-selected until stable). `None` when no
/// circle of plausible radius gathers `min_points` inliers. The plausibility limits on RMS, arc
/// and inlier fraction are *not* applied here (see [`StemFit`] / [`find_stems_in_slice`]).
pub fn fit_circle(points: &[[f64; 2]], opts: &StemOptions) -> Option<CircleFit> {
    let n = points.len();
    if n < opts.min_points.max(3) {
        return None;
    }
    // Work relative to the centroid: better conditioned.
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
    let (mx, my) = (mx / n as f64, my / n as f64);
    let local: Vec<[f64; 2]> = points.iter().map(|p| [p[0] - mx, p[1] - my]).collect();
    let thr = opts.inlier_threshold_m;
    let count = |a: f64, b: f64, r: f64| {
        local
            .iter()
            .filter(|p| ((p[0] - a).hypot(p[1] - b) - r).abs() < thr)
            .count()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ n as u64);
    let mut best: Option<((f64, f64, f64), usize)> = None;
    let mut needed = opts.ransac_iterations;
    let mut it = 0;
    while it < needed.min(opts.ransac_iterations) {
        it += 1;
        let i = rng.random_range(0..n);
        let j = rng.random_range(0..n);
        let k = rng.random_range(0..n);
        if i == j || j == k || i == k {
            continue;
        }
        let Some((a, b, r)) = circumcircle(local[i], local[j], local[k]) else {
            continue;
        };
        if r < opts.min_radius_m || r > opts.max_radius_m {
            continue;
        }
        let m = count(a, b, r);
        if best.is_none_or(|(_, bm)| m > bm) {
            best = Some(((a, b, r), m));
            // Iterations for 99.9 % confidence of one all-inlier sample at this inlier ratio.
            let w = m as f64 / n as f64;
            let p_good = w * w * w;
            if p_good >= 1.0 {
                needed = it;
            } else if p_good > 0.0 {
                needed = ((1.0f64 - 0.999).ln() / (1.0 - p_good).ln()).ceil() as usize;
            }
        }
    }
    let ((mut a, mut b, mut r), _) = best?;
    let mut inliers: Vec<usize> = Vec::new();
    for _ in 0..10 {
        let sel: Vec<usize> = (0..n)
            .filter(|&i| ((local[i][0] - a).hypot(local[i][1] - b) - r).abs() < thr)
            .collect();
        if sel.len() < opts.min_points.max(3) {
            return None;
        }
        let pts: Vec<[f64; 2]> = sel.iter().map(|&i| local[i]).collect();
        let (na, nb, nr) = fit_circle_geometric(&pts, (a, b, r))?;
        let stable = sel == inliers;
        a = na;
        b = nb;
        r = nr;
        inliers = sel;
        if stable {
            break;
        }
    }
    // Final inlier set around the final circle.
    inliers = (0..n)
        .filter(|&i| ((local[i][0] - a).hypot(local[i][1] - b) - r).abs() < thr)
        .collect();
    if inliers.len() < opts.min_points.max(3) {
        return None;
    }
    let pts: Vec<[f64; 2]> = inliers.iter().map(|&i| local[i]).collect();
    let rms = (pts
        .iter()
        .map(|p| {
            let e = (p[0] - a).hypot(p[1] - b) - r;
            e * e
        })
        .sum::<f64>()
        / pts.len() as f64)
        .sqrt();
    let arc_deg = arc_extent_deg(&pts, a, b);
    Some(CircleFit {
        cx: a + mx,
        cy: b + my,
        r,
        rms,
        inliers,
        arc_deg,
    })
}

/// Connected components of `points` under single linkage at distance `gap` (grid hashing +
/// union–find). Returns the clusters as index lists, largest first.
pub fn cluster_2d(points: &[[f64; 2]], gap: f64) -> Vec<Vec<usize>> {
    use std::collections::HashMap;
    let n = points.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let key = |p: &[f64; 2]| ((p[0] / gap).floor() as i64, (p[1] / gap).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        grid.entry(key(p)).or_default().push(i);
    }
    let g2 = gap * gap;
    for (&(gx, gy), members) in &grid {
        for dx in -1..=1 {
            for dy in -1..=1 {
                let Some(other) = grid.get(&(gx + dx, gy + dy)) else {
                    continue;
                };
                for &i in members {
                    for &j in other {
                        if j <= i {
                            continue;
                        }
                        let (ex, ey) = (points[i][0] - points[j][0], points[i][1] - points[j][1]);
                        if ex * ex + ey * ey <= g2 {
                            let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                            if ri != rj {
                                parent[ri.max(rj)] = ri.min(rj);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

/// Whether a fit passes the plausibility limits of `opts` for a cluster of `cluster_points`.
fn plausible(fit: &CircleFit, cluster_points: usize, opts: &StemOptions) -> bool {
    fit.r >= opts.min_radius_m
        && fit.r <= opts.max_radius_m
        && fit.rms <= opts.max_rms_m
        && fit.arc_deg >= opts.min_arc_deg
        && fit.inliers.len() >= opts.min_points
        && fit.inliers.len() as f64 >= opts.min_inlier_fraction * cluster_points as f64
}

/// Stems in a breast-height slice given as absolute 2-D points: cluster, fit, keep the plausible
/// fits. Ordered by inlier count, most first.
pub fn find_stems_in_slice(points: &[[f64; 2]], opts: &StemOptions) -> Result<Vec<StemFit>> {
    opts.validate()?;
    if points.is_empty() {
        return Ok(Vec::new());
    }
    // Cluster in coordinates relative to the first point (absolute UTM values are large).
    let (ox, oy) = (points[0][0], points[0][1]);
    let local: Vec<[f64; 2]> = points.iter().map(|p| [p[0] - ox, p[1] - oy]).collect();
    let clusters = cluster_2d(&local, opts.cluster_gap_m);
    use rayon::prelude::*;
    let mut stems: Vec<StemFit> = clusters
        .par_iter()
        .filter(|c| c.len() >= opts.min_points)
        .filter_map(|c| {
            let pts: Vec<[f64; 2]> = c.iter().map(|&i| local[i]).collect();
            let fit = fit_circle(&pts, opts)?;
            plausible(&fit, c.len(), opts).then_some(StemFit {
                x: fit.cx + ox,
                y: fit.cy + oy,
                radius_m: fit.r,
                dbh_cm: 200.0 * fit.r,
                rms_m: fit.rms,
                inliers: fit.inliers.len(),
                cluster_points: c.len(),
                arc_deg: fit.arc_deg,
            })
        })
        .collect();
    stems.sort_by(|a, b| b.inliers.cmp(&a.inliers).then(a.x.total_cmp(&b.x)));
    Ok(stems)
}

/// Absolute xy of the points whose height `height(i)` lies in the breast-height slice.
fn slice_xy(
    cloud: &PointCloud,
    opts: &StemOptions,
    ground: impl Fn(f64, f64) -> f64,
) -> Vec<[f64; 2]> {
    let lo = opts.breast_height_m - opts.slice_half_width_m;
    let hi = opts.breast_height_m + opts.slice_half_width_m;
    (0..cloud.len())
        .filter_map(|i| {
            let p = cloud.absolute(i);
            let h = p[2] - ground(p[0], p[1]);
            (h >= lo && h <= hi).then_some([p[0], p[1]])
        })
        .collect()
}

/// Stems at breast height in a height-normalised cloud (z = height above ground).
pub fn find_stems(cloud: &PointCloud, opts: &StemOptions) -> Result<Vec<StemFit>> {
    find_stems_in_slice(&slice_xy(cloud, opts, |_, _| 0.0), opts)
}

/// Result of [`single_tree`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SingleTreeStem {
    /// Ground height estimated at the stem base (absolute z).
    pub ground_z: f64,
    /// Every plausible stem in the final slice (a clean single-tree scan has exactly one),
    /// most inliers first.
    pub stems: Vec<StemFit>,
}

/// Options of [`single_tree`]'s ground estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroundNearStem {
    /// Cell size of the lowest-point grid (default 0.25 m).
    pub cell_m: f64,
    /// Ring around the stem whose lowest points define the ground: from the stem surface out to
    /// this distance beyond it (default 1.0 m; close enough that slope matters little).
    pub ring_m: f64,
}

impl Default for GroundNearStem {
    fn default() -> Self {
        GroundNearStem {
            cell_m: 0.25,
            ring_m: 1.0,
        }
    }
}

/// Median of the lowest z per `cell` cell, over the points `keep` selects.
fn median_cell_minimum(
    cloud: &PointCloud,
    cell: f64,
    keep: impl Fn(&[f64; 3]) -> bool,
) -> Option<f64> {
    use std::collections::HashMap;
    let mut mins: HashMap<(i64, i64), f64> = HashMap::new();
    for i in 0..cloud.len() {
        let p = cloud.absolute(i);
        if !keep(&p) {
            continue;
        }
        let k = ((p[0] / cell).floor() as i64, (p[1] / cell).floor() as i64);
        let e = mins.entry(k).or_insert(f64::INFINITY);
        *e = e.min(p[2]);
    }
    let mut v: Vec<f64> = mins.into_values().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// DBH of a single-tree terrestrial scan that is not height-normalised (e.g. a clipped stem with
/// the ground around it). The ground is first the median of the lowest point per cell over the
/// whole scan; the stem found in the slice above it then refines the ground to the median lowest
/// point per cell in a ring around the stem base, and the slice is taken again until the ground
/// moves by less than 5 mm.
pub fn single_tree(
    cloud: &PointCloud,
    opts: &StemOptions,
    ground: &GroundNearStem,
) -> Result<SingleTreeStem> {
    opts.validate()?;
    if cloud.is_empty() {
        return Err(ReconstructError::Input {
            step: "single-tree stem",
            reason: "the point cloud is empty".into(),
        });
    }
    let mut gz = median_cell_minimum(cloud, ground.cell_m.max(0.05) * 2.0, |_| true)
        .unwrap_or(cloud.bounds().min[2]);
    let mut stems = Vec::new();
    let mut fitted_at = f64::NAN;
    for _ in 0..5 {
        stems = find_stems_in_slice(&slice_xy(cloud, opts, |_, _| gz), opts)?;
        fitted_at = gz;
        let Some(s) = stems.first() else {
            break;
        };
        let (sx, sy, r) = (s.x, s.y, s.radius_m);
        let near = median_cell_minimum(cloud, ground.cell_m.max(0.05), |p| {
            let d = (p[0] - sx).hypot(p[1] - sy);
            d >= r + 0.05 && d <= r + ground.ring_m && p[2] < gz + opts.breast_height_m
        });
        match near {
            // Converged (or nothing to refine with): the stems were fitted at this ground.
            None => break,
            Some(g) if (g - gz).abs() < 0.005 => break,
            Some(g) => gz = g,
        }
    }
    if fitted_at != gz {
        stems = find_stems_in_slice(&slice_xy(cloud, opts, |_, _| gz), opts)?;
    }
    Ok(SingleTreeStem {
        ground_z: gz,
        stems,
    })
}
