//! Co-registration of a new scan to the previous survey.
//!
//! Two surveys of one stand years apart disagree by their georeferencing error (GNSS/INS,
//! boresight): metres and a fraction of a degree for drone LiDAR. Canopy surfaces cannot be
//! aligned directly — the crowns grew — but stems stand where they stood and the ground is
//! where it was. So, in the spirit of the tree-position registrations of multi-temporal forest
//! scans (Hyyppä et al. 2005's treetop matching; Kelbe et al. 2016, *IEEE TGRS* 54:3791,
//! for stem maps), the horizontal part comes from treetops and the vertical part from the
//! ground:
//!
//! 1. **Coarse** (bounded by `search_radius_m`, i.e. "by CRS and origin": both scans are in the
//!    same CRS, the error is at most a few metres): local maxima of the new scan's surface are
//!    the new treetops; each new top votes for the translation to every previous tree within the
//!    search radius, for each yaw on a grid (Hough-style voting, robust to growth, mortality and
//!    missed trees). The best (yaw, translation) bin wins.
//! 2. **Fine, horizontal**: nearest-top correspondences within a shrinking gate, 2-D Procrustes
//!    (closed-form rotation and translation), repeated; outliers beyond 2.5 × the median
//!    residual are dropped.
//! 3. **Ground**: the lowest return of each ground cell of the new scan against the previous
//!    DTM, point-to-surface: Gauss–Newton over all four parameters with the treetop fit as a
//!    prior (weighted by its precision), so sloping ground sharpens the horizontal fit and flat
//!    ground leaves it to the treetops; residuals beyond 3 robust SDs (cells whose lowest
//!    return is vegetation) are dropped at each iteration.
//!
//! The transform is 4-DOF (yaw, east, north, up) about the previous project's origin: what
//! differs between two GNSS-referenced epochs; roll and pitch errors of a modern INS are below
//! what a stand-level comparison resolves. Residuals (treetops, ground) are reported with it.

use serde::{Deserialize, Serialize};

use crate::error::{Result, ResurveyError};
use capture::PointCloud;
use reconstruct::model::Raster;

/// Settings of [`register`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegisterOptions {
    /// Largest horizontal georeferencing error searched, metres.
    pub search_radius_m: f64,
    /// Largest yaw error searched, degrees (either way).
    pub max_yaw_deg: f64,
    /// Yaw grid step of the coarse search, degrees.
    pub yaw_step_deg: f64,
    /// Translation bin of the vote, metres.
    pub vote_cell_m: f64,
    /// Surface cell for the new treetops, metres.
    pub surface_cell_m: f64,
    /// Treetops lower than this above their surroundings are not used, metres.
    pub min_top_height_m: f64,
    /// Fewest matched treetops accepted.
    pub min_matched: usize,
    /// Cell within which the returns near the lowest are ground candidates, metres.
    pub ground_cell_m: f64,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        RegisterOptions {
            search_radius_m: 8.0,
            max_yaw_deg: 3.0,
            yaw_step_deg: 0.1,
            vote_cell_m: 0.25,
            surface_cell_m: 0.5,
            min_top_height_m: 5.0,
            min_matched: 8,
            ground_cell_m: 1.0,
        }
    }
}

impl RegisterOptions {
    pub fn validate(&self) -> Result<()> {
        let bad = |option, reason: &str| {
            Err(ResurveyError::InvalidOption {
                option,
                reason: reason.into(),
            })
        };
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !(pos(self.search_radius_m) && self.search_radius_m <= 500.0) {
            return bad("search_radius_m", "must be in (0, 500] metres");
        }
        if !(self.max_yaw_deg.is_finite() && (0.0..=45.0).contains(&self.max_yaw_deg)) {
            return bad("max_yaw_deg", "must be in [0, 45] degrees");
        }
        if !(pos(self.yaw_step_deg) && self.max_yaw_deg / self.yaw_step_deg <= 2000.0) {
            return bad(
                "yaw_step_deg",
                "must be > 0 with at most 2000 steps to max_yaw_deg",
            );
        }
        for (o, v) in [
            ("vote_cell_m", self.vote_cell_m),
            ("surface_cell_m", self.surface_cell_m),
            ("ground_cell_m", self.ground_cell_m),
        ] {
            if !(pos(v) && v <= 50.0) {
                return bad(o, "must be in (0, 50] metres");
            }
        }
        if !(self.min_top_height_m.is_finite() && self.min_top_height_m >= 0.0) {
            return bad("min_top_height_m", "must be ≥ 0");
        }
        if self.min_matched < 3 {
            return bad("min_matched", "must be at least 3");
        }
        Ok(())
    }
}

/// A rigid 4-DOF transform taking the new survey's coordinates to the previous survey's:
/// `p' = R(yaw) (p − pivot) + pivot + shift`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Rigid {
    /// Absolute x, y of the rotation centre (the previous project's origin).
    pub pivot: [f64; 2],
    pub yaw_deg: f64,
    pub shift_m: [f64; 3],
}

impl Rigid {
    pub fn identity(pivot: [f64; 2]) -> Rigid {
        Rigid {
            pivot,
            yaw_deg: 0.0,
            shift_m: [0.0; 3],
        }
    }

    /// The transformed absolute point.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let (s, c) = self.yaw_deg.to_radians().sin_cos();
        let (x, y) = (p[0] - self.pivot[0], p[1] - self.pivot[1]);
        [
            c * x - s * y + self.pivot[0] + self.shift_m[0],
            s * x + c * y + self.pivot[1] + self.shift_m[1],
            p[2] + self.shift_m[2],
        ]
    }

    /// Move every point of `cloud` (its origin stays, so the positions stay small numbers).
    pub fn apply_cloud(&self, cloud: &mut PointCloud) {
        let o = cloud.origin;
        for p in &mut cloud.positions {
            let q = self.apply([p[0] as f64 + o[0], p[1] as f64 + o[1], p[2] as f64 + o[2]]);
            *p = [
                (q[0] - o[0]) as f32,
                (q[1] - o[1]) as f32,
                (q[2] - o[2]) as f32,
            ];
        }
    }
}

/// What [`register`] found and how well it fits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Registration {
    /// New → previous.
    pub transform: Rigid,
    /// The coarse vote's transform, before refinement.
    pub coarse: Rigid,
    /// Treetops found in the new scan and previous trees used.
    pub tops_new: usize,
    pub tops_previous: usize,
    /// Treetop pairs in the final fit, and their horizontal RMS residual.
    pub matched_tops: usize,
    pub top_rms_m: f64,
    /// Ground cells compared with the previous DTM, and the RMS / median absolute residual of
    /// those within 0.5 m after the shift.
    pub ground_cells: usize,
    pub ground_rms_m: f64,
    pub ground_mad_m: f64,
    /// Votes of the winning bin over all votes cast (how unambiguous the coarse step was).
    pub vote_share: f64,
}

/// A treetop: absolute x, y and height above its surroundings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Top {
    pub x: f64,
    pub y: f64,
    pub height_m: f64,
}

/// Co-register `cloud` (the new scan) to the previous survey, given by its trees' tops and its
/// DTM (module docs).
pub fn register(
    previous: &[Top],
    dtm: &Raster,
    cloud: &PointCloud,
    pivot: [f64; 2],
    opts: &RegisterOptions,
) -> Result<Registration> {
    opts.validate()?;
    check_overlap(dtm, cloud, opts)?;
    let previous: Vec<Top> = previous
        .iter()
        .copied()
        .filter(|t| t.height_m >= opts.min_top_height_m)
        .collect();
    let tops = surface_tops(cloud, opts);
    if tops.len() < opts.min_matched || previous.len() < opts.min_matched {
        return Err(ResurveyError::Registration {
            reason: format!(
                "{} treetops in the new scan and {} in the previous survey; at least {} of each are needed",
                tops.len(),
                previous.len(),
                opts.min_matched
            ),
        });
    }
    let index = TopIndex::new(&previous, opts.search_radius_m);
    let (coarse, vote_share) = vote(&tops, &previous, &index, pivot, opts);
    let (fit, matched, rms, prior) = refine(&tops, &previous, &index, coarse, opts)?;
    let (transform, ground_cells, ground_rms_m, ground_mad_m) =
        ground_refine(cloud, dtm, fit, &prior, opts)?;
    Ok(Registration {
        transform,
        coarse,
        tops_new: tops.len(),
        tops_previous: previous.len(),
        matched_tops: matched,
        top_rms_m: rms,
        ground_cells,
        ground_rms_m,
        ground_mad_m,
        vote_share,
    })
}

/// Refuse scans whose extents do not intersect the previous DTM's, even allowing for the search
/// radius.
fn check_overlap(dtm: &Raster, cloud: &PointCloud, opts: &RegisterOptions) -> Result<()> {
    let b = cloud.bounds();
    if b.is_empty() {
        return Err(ResurveyError::NoOverlap {
            reason: "the new scan has no points".into(),
        });
    }
    let (dx0, dx1) = (dtm.x_min, dtm.x_min + dtm.width as f64 * dtm.resolution_m);
    let (dy0, dy1) = (dtm.y_max - dtm.height as f64 * dtm.resolution_m, dtm.y_max);
    let ox = (b.max[0].min(dx1) - b.min[0].max(dx0)).max(0.0);
    let oy = (b.max[1].min(dy1) - b.min[1].max(dy0)).max(0.0);
    let overlap = ox * oy;
    let new_area = (b.max[0] - b.min[0]).max(1e-9) * (b.max[1] - b.min[1]).max(1e-9);
    let margin = opts.search_radius_m;
    if overlap <= 0.0 || overlap < 0.25 * new_area.min((dx1 - dx0) * (dy1 - dy0)) - margin {
        return Err(ResurveyError::NoOverlap {
            reason: format!(
                "new scan x {:.1}…{:.1}, y {:.1}…{:.1}; previous terrain x {:.1}…{:.1}, y {:.1}…{:.1}; shared area {:.0} m²",
                b.min[0], b.max[0], b.min[1], b.max[1], dx0, dx1, dy0, dy1, overlap
            ),
        });
    }
    Ok(())
}

/// Local maxima of the new scan's highest-return surface that stand `min_top_height_m` above
/// the lowest return within 4 m.
fn surface_tops(cloud: &PointCloud, opts: &RegisterOptions) -> Vec<Top> {
    let b = cloud.bounds();
    let cell = opts.surface_cell_m;
    let w = ((b.max[0] - b.min[0]) / cell).floor() as usize + 1;
    let h = ((b.max[1] - b.min[1]) / cell).floor() as usize + 1;
    let mut top = vec![f32::NEG_INFINITY; w * h];
    let mut low = vec![f32::INFINITY; w * h];
    let o = cloud.origin;
    let (ox, oy) = ((b.min[0] - o[0]) as f32, (b.min[1] - o[1]) as f32);
    for p in &cloud.positions {
        let c = (((p[0] - ox) / cell as f32) as usize).min(w - 1);
        let r = (((p[1] - oy) / cell as f32) as usize).min(h - 1);
        let k = r * w + c;
        top[k] = top[k].max(p[2]);
        low[k] = low[k].min(p[2]);
    }
    let peak = (1.0 / cell).ceil() as isize; // ±1 m: one top per crown
    let floor = (4.0 / cell).ceil() as isize;
    let mut tops = Vec::new();
    for r in 0..h as isize {
        for c in 0..w as isize {
            let z = top[r as usize * w + c as usize];
            if !z.is_finite() {
                continue;
            }
            let mut is_max = true;
            let mut lowest = f32::INFINITY;
            for dr in -floor..=floor {
                for dc in -floor..=floor {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= h as isize || cc >= w as isize {
                        continue;
                    }
                    let k = rr as usize * w + cc as usize;
                    lowest = lowest.min(low[k]);
                    let later = (dr, dc) > (0, 0);
                    if dr.abs() <= peak
                        && dc.abs() <= peak
                        && (top[k] > z || (top[k] == z && later))
                    {
                        is_max = false;
                    }
                }
            }
            let above = (z - lowest) as f64;
            if is_max && above >= opts.min_top_height_m {
                tops.push(Top {
                    x: b.min[0] + (c as f64 + 0.5) * cell,
                    y: b.min[1] + (r as f64 + 0.5) * cell,
                    height_m: above,
                });
            }
        }
    }
    tops
}

/// Uniform grid over the previous tops for radius queries.
struct TopIndex {
    cell: f64,
    cells: std::collections::HashMap<(i64, i64), Vec<usize>>,
}

impl TopIndex {
    fn new(tops: &[Top], cell: f64) -> TopIndex {
        let mut cells: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
        for (i, t) in tops.iter().enumerate() {
            cells
                .entry(((t.x / cell).floor() as i64, (t.y / cell).floor() as i64))
                .or_default()
                .push(i);
        }
        TopIndex { cell, cells }
    }

    /// Indices of tops within `r` (≤ the index cell) of (x, y), candidates only.
    fn near(&self, x: f64, y: f64) -> impl Iterator<Item = usize> + '_ {
        let (cx, cy) = (
            (x / self.cell).floor() as i64,
            (y / self.cell).floor() as i64,
        );
        (-1..=1)
            .flat_map(move |dx| (-1..=1).map(move |dy| (cx + dx, cy + dy)))
            .filter_map(|k| self.cells.get(&k))
            .flatten()
            .copied()
    }
}

/// Coarse step: the (yaw, translation) bin with the most votes (module docs, step 1).
fn vote(
    tops: &[Top],
    previous: &[Top],
    index: &TopIndex,
    pivot: [f64; 2],
    opts: &RegisterOptions,
) -> (Rigid, f64) {
    let steps = (opts.max_yaw_deg / opts.yaw_step_deg).round() as i64;
    let r2 = opts.search_radius_m.powi(2);
    let bins = (2.0 * opts.search_radius_m / opts.vote_cell_m).ceil() as usize + 1;
    let half = opts.search_radius_m;
    let mut best = (0.0f64, Rigid::identity(pivot), 0.0f64);
    let mut grid = vec![0.0f32; bins * bins];
    for k in -steps..=steps {
        let yaw = k as f64 * opts.yaw_step_deg;
        let rot = Rigid {
            pivot,
            yaw_deg: yaw,
            shift_m: [0.0; 3],
        };
        grid.iter_mut().for_each(|v| *v = 0.0);
        let mut total = 0.0f64;
        for t in tops {
            let p = rot.apply([t.x, t.y, 0.0]);
            for j in index.near(p[0], p[1]) {
                let q = previous[j];
                let (dx, dy) = (q.x - p[0], q.y - p[1]);
                if dx * dx + dy * dy > r2 || (q.height_m - t.height_m).abs() > 6.0 {
                    continue;
                }
                let c = ((dx + half) / opts.vote_cell_m) as usize;
                let r = ((dy + half) / opts.vote_cell_m) as usize;
                if c < bins && r < bins {
                    grid[r * bins + c] += 1.0;
                    total += 1.0;
                }
            }
        }
        // Sum over 3 × 3 bins: a peak split across a bin edge still wins.
        for r in 1..bins - 1 {
            for c in 1..bins - 1 {
                let mut s = 0.0f64;
                let mut wx = 0.0f64;
                let mut wy = 0.0f64;
                for dr in 0..3 {
                    for dc in 0..3 {
                        let v = grid[(r + dr - 1) * bins + c + dc - 1] as f64;
                        s += v;
                        wx += v * (c + dc - 1) as f64;
                        wy += v * (r + dr - 1) as f64;
                    }
                }
                if s > best.0 {
                    let tx = (wx / s + 0.5) * opts.vote_cell_m - half;
                    let ty = (wy / s + 0.5) * opts.vote_cell_m - half;
                    best = (
                        s,
                        Rigid {
                            pivot,
                            yaw_deg: yaw,
                            shift_m: [tx, ty, 0.0],
                        },
                        s / total.max(1.0),
                    );
                }
            }
        }
    }
    (best.1, best.2)
}

/// Fine horizontal step: Procrustes on nearest-top pairs within a shrinking gate.
fn refine(
    tops: &[Top],
    previous: &[Top],
    index: &TopIndex,
    start: Rigid,
    opts: &RegisterOptions,
) -> Result<(Rigid, usize, f64, TopPrior)> {
    let mut t = start;
    let mut last = (0usize, f64::NAN, 1.0f64);
    for gate in [1.5, 1.0, 0.75, 0.5, 0.5, 0.5] {
        let mut pairs: Vec<([f64; 2], [f64; 2], f64)> = Vec::new();
        for s in tops {
            let p = t.apply([s.x, s.y, 0.0]);
            let nearest = index
                .near(p[0], p[1])
                .map(|j| (j, (previous[j].x - p[0]).hypot(previous[j].y - p[1])))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((j, d)) = nearest
                && d <= gate
            {
                pairs.push(([s.x, s.y], [previous[j].x, previous[j].y], d));
            }
        }
        let mut ds: Vec<f64> = pairs.iter().map(|p| p.2).collect();
        ds.sort_by(f64::total_cmp);
        let med = ds.get(ds.len() / 2).copied().unwrap_or(0.0);
        pairs.retain(|p| p.2 <= (2.5 * med).max(0.05));
        if pairs.len() < opts.min_matched {
            return Err(ResurveyError::Registration {
                reason: format!(
                    "only {} treetops agree within {gate} m after the coarse alignment (yaw {:.2}°, shift {:.2} m, {:.2} m); at least {} are needed",
                    pairs.len(),
                    start.yaw_deg,
                    start.shift_m[0],
                    start.shift_m[1],
                    opts.min_matched
                ),
            });
        }
        t = procrustes(&pairs, t.pivot);
        let rms = (pairs
            .iter()
            .map(|(s, q, _)| {
                let p = t.apply([s[0], s[1], 0.0]);
                (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)
            })
            .sum::<f64>()
            / pairs.len() as f64)
            .sqrt();
        let n = pairs.len() as f64;
        let (cx, cy) = (
            pairs.iter().map(|p| p.0[0]).sum::<f64>() / n,
            pairs.iter().map(|p| p.0[1]).sum::<f64>() / n,
        );
        let spread2: f64 = pairs
            .iter()
            .map(|p| (p.0[0] - cx).powi(2) + (p.0[1] - cy).powi(2))
            .sum();
        last = (pairs.len(), rms, spread2);
    }
    let sd = last.1.max(0.01);
    let prior = TopPrior {
        shift_sd: sd / (last.0 as f64).sqrt(),
        yaw_sd: sd / last.2.max(1.0).sqrt(),
    };
    Ok((t, last.0, last.1, prior))
}

/// Least-squares 2-D rigid transform (rotation about `pivot`, then shift) taking each pair's
/// first point to its second (Umeyama 1991 without scale).
pub fn procrustes(pairs: &[([f64; 2], [f64; 2], f64)], pivot: [f64; 2]) -> Rigid {
    let n = pairs.len() as f64;
    let (mut sx, mut sy, mut qx, mut qy) = (0.0, 0.0, 0.0, 0.0);
    for (s, q, _) in pairs {
        sx += s[0] - pivot[0];
        sy += s[1] - pivot[1];
        qx += q[0] - pivot[0];
        qy += q[1] - pivot[1];
    }
    let (sx, sy, qx, qy) = (sx / n, sy / n, qx / n, qy / n);
    let (mut dot, mut cross) = (0.0, 0.0);
    for (s, q, _) in pairs {
        let (ax, ay) = (s[0] - pivot[0] - sx, s[1] - pivot[1] - sy);
        let (bx, by) = (q[0] - pivot[0] - qx, q[1] - pivot[1] - qy);
        dot += ax * bx + ay * by;
        cross += ax * by - ay * bx;
    }
    let yaw = cross.atan2(dot);
    let (s, c) = yaw.sin_cos();
    Rigid {
        pivot,
        yaw_deg: yaw.to_degrees(),
        shift_m: [qx - (c * sx - s * sy), qy - (s * sx + c * sy), 0.0],
    }
}

/// How well the treetops fixed the horizontal part: the prior of [`ground_refine`].
struct TopPrior {
    /// SD of the shift at the tops' centroid, metres.
    shift_sd: f64,
    /// SD of the yaw, radians.
    yaw_sd: f64,
}

/// Ground candidates (absolute, in the new scan's own frame): the returns within 0.5 m of
/// their cell's lowest, at most [`MAX_GROUND_POINTS`] (evenly thinned). Every return, not
/// each cell's minimum, so range noise does not bias the height (the minimum of n noisy returns
/// lies ≈ σ√(2 ln n) low).
fn ground_cells(cloud: &PointCloud, cell: f64) -> Vec<[f64; 3]> {
    let mut lowest: std::collections::HashMap<(i64, i64), f32> = Default::default();
    let o = cloud.origin;
    let key = |p: &[f32; 3]| {
        (
            ((p[0] as f64 + o[0]) / cell).floor() as i64,
            ((p[1] as f64 + o[1]) / cell).floor() as i64,
        )
    };
    for p in &cloud.positions {
        let e = lowest.entry(key(p)).or_insert(p[2]);
        *e = e.min(p[2]);
    }
    let near: Vec<&[f32; 3]> = cloud
        .positions
        .iter()
        .filter(|p| p[2] <= lowest[&key(p)] + 0.5)
        .collect();
    let step = near.len().div_ceil(MAX_GROUND_POINTS).max(1);
    near.iter()
        .step_by(step)
        .map(|p| [p[0] as f64 + o[0], p[1] as f64 + o[1], p[2] as f64 + o[2]])
        .collect()
}

/// Most ground returns the refinement uses.
const MAX_GROUND_POINTS: usize = 200_000;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Solve the 4 × 4 system `a x = b` (Gaussian elimination with partial pivoting); `None` when
/// singular.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let piv = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-18 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..4 {
            let f = a[r][col] / a[col][col];
            let pivot_row = a[col];
            for (v, p) in a[r].iter_mut().zip(pivot_row).skip(col) {
                *v -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for r in (0..4).rev() {
        let s: f64 = (r + 1..4).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// Step 3 with the horizontal refined too: Gauss–Newton over (yaw, east, north, up) minimising
/// the ground cells' height residuals against the previous DTM (point-to-surface, the DTM's
/// gradient giving the horizontal pull of sloping ground), with the treetop fit as a Gaussian
/// prior on (yaw, east, north). On flat ground the prior keeps the treetops' answer; on relief
/// the thousands of ground cells sharpen it. Returns the transform, the inlier cells and their
/// RMS and median absolute residual.
fn ground_refine(
    cloud: &PointCloud,
    dtm: &Raster,
    start: Rigid,
    prior: &TopPrior,
    opts: &RegisterOptions,
) -> Result<(Rigid, usize, f64, f64)> {
    let cells = ground_cells(cloud, opts.ground_cell_m);
    let h = dtm.resolution_m;
    let grad = |x: f64, y: f64| -> Option<(f64, f64, f64)> {
        let z = dtm.sample(x, y)?;
        let gx = (dtm.sample(x + h, y)? - dtm.sample(x - h, y)?) / (2.0 * h);
        let gy = (dtm.sample(x, y + h)? - dtm.sample(x, y - h)?) / (2.0 * h);
        Some((z, gx, gy))
    };
    let residuals = |t: &Rigid| -> Vec<f64> {
        cells
            .iter()
            .filter_map(|s| {
                let q = t.apply(*s);
                dtm.sample(q[0], q[1]).map(|z| q[2] - z)
            })
            .collect()
    };
    let mut t = start;
    let mut r0 = residuals(&t);
    if r0.len() < 10 {
        return Err(ResurveyError::NoOverlap {
            reason: format!(
                "only {} ground cells of the new scan fall on the previous terrain model",
                r0.len()
            ),
        });
    }
    t.shift_m[2] -= median(&mut r0);
    let mut gate = 0.5f64;
    let yaw0 = start.yaw_deg.to_radians();
    for _ in 0..8 {
        let mut a = [[0.0f64; 4]; 4];
        let mut b = [0.0f64; 4];
        let mut res = Vec::with_capacity(cells.len());
        let (s, c) = t.yaw_deg.to_radians().sin_cos();
        for p in &cells {
            let q = t.apply(*p);
            let Some((z, gx, gy)) = grad(q[0], q[1]) else {
                continue;
            };
            let r = q[2] - z;
            if r.abs() > gate {
                continue;
            }
            res.push(r);
            let (x, y) = (p[0] - t.pivot[0], p[1] - t.pivot[1]);
            let (dxdyaw, dydyaw) = (-s * x - c * y, c * x - s * y);
            let j = [-(gx * dxdyaw + gy * dydyaw), -gx, -gy, 1.0];
            for m in 0..4 {
                for n in 0..4 {
                    a[m][n] += j[m] * j[n];
                }
                b[m] -= j[m] * r;
            }
        }
        if res.len() < 10 {
            break;
        }
        let mut abs: Vec<f64> = res.iter().map(|r| r.abs()).collect();
        let sigma = (1.4826 * median(&mut abs)).max(0.005);
        // Scale the ground rows by 1/σ² and add the treetop prior.
        let w = 1.0 / (sigma * sigma);
        for row in a.iter_mut() {
            row.iter_mut().for_each(|v| *v *= w);
        }
        b.iter_mut().for_each(|v| *v *= w);
        let py = 1.0 / prior.yaw_sd.powi(2);
        let pt = 1.0 / prior.shift_sd.powi(2);
        a[0][0] += py;
        b[0] -= py * (t.yaw_deg.to_radians() - yaw0);
        a[1][1] += pt;
        b[1] -= pt * (t.shift_m[0] - start.shift_m[0]);
        a[2][2] += pt;
        b[2] -= pt * (t.shift_m[1] - start.shift_m[1]);
        let Some(d) = solve4(a, b) else { break };
        t.yaw_deg += d[0].to_degrees();
        t.shift_m[0] += d[1];
        t.shift_m[1] += d[2];
        t.shift_m[2] += d[3];
        gate = (3.0 * sigma).clamp(0.05, 0.5);
        if d[1].abs().max(d[2].abs()).max(d[3].abs()) < 1e-4 && d[0].abs() < 1e-7 {
            break;
        }
    }
    let inliers: Vec<f64> = residuals(&t)
        .into_iter()
        .filter(|r| r.abs() <= gate)
        .collect();
    let rms = (inliers.iter().map(|r| r * r).sum::<f64>() / inliers.len().max(1) as f64).sqrt();
    let mut abs: Vec<f64> = inliers.iter().map(|r| r.abs()).collect();
    let mad = median(&mut abs);
    Ok((t, inliers.len(), rms, mad))
}
