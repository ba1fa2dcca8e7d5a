//! Efficient RANSAC (Schnabel, Wahl & Klein 2007): the grid over candidate points and the
//! growth of one candidate cylinder into an accepted piece.

use super::*;

/// An accepted RANSAC piece.
#[derive(Clone, Debug)]
pub(super) struct Piece {
    pub(super) cyl: Cylinder,
    /// Subset indices of the fit inliers.
    pub(super) inliers: Vec<u32>,
    /// Subset indices of every point consumed (inliers plus the `2ε` band within the extent).
    pub(super) consumed: Vec<u32>,
    pub(super) t0: f64,
    pub(super) t1: f64,
}

pub(super) struct Ctx<'a> {
    pub(super) pts: &'a [V3],
    pub(super) nrm: &'a [V3],
    pub(super) opts: &'a PipeOptions,
    pub(super) cos_alpha: f64,
    /// Per subset point: the beam direction, when the noise model uses one.
    pub(super) beams: Option<Vec<V3>>,
    pub(super) grid: Grid,
}

/// A uniform grid over the candidate points, so that evaluating a cylinder touches only the
/// points near its axis line instead of the whole cloud.
pub(super) struct Grid {
    pub(super) cell: f64,
    pub(super) lo: V3,
    pub(super) hi: V3,
    /// Point indices sorted by cell; `cells` maps a cell to its range in `order`.
    pub(super) order: Vec<u32>,
    pub(super) cells: std::collections::HashMap<(i32, i32, i32), (u32, u32)>,
}

impl Grid {
    pub(super) fn new(pts: &[V3], cell: f64) -> Grid {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in pts {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let key = |p: V3| {
            (
                ((p[0] - lo[0]) / cell).floor() as i32,
                ((p[1] - lo[1]) / cell).floor() as i32,
                ((p[2] - lo[2]) / cell).floor() as i32,
            )
        };
        let mut keyed: Vec<((i32, i32, i32), u32)> = pts
            .par_iter()
            .enumerate()
            .map(|(i, p)| (key(*p), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let mut cells = std::collections::HashMap::new();
        let mut start = 0usize;
        for k in 1..=keyed.len() {
            if k == keyed.len() || keyed[k].0 != keyed[start].0 {
                cells.insert(keyed[start].0, (start as u32, k as u32));
                start = k;
            }
        }
        Grid {
            cell,
            lo,
            hi,
            order: keyed.into_iter().map(|x| x.1).collect(),
            cells,
        }
    }

    /// A superset of the points within `reach` of the axis line of `c`, in cell order.
    pub(super) fn near_line(&self, pts: &[V3], c: &Cylinder, reach: f64) -> Vec<u32> {
        if reach.is_nan() || reach > 0.5 * self.cell {
            // Wider than the grid was built for: every point.
            return (0..pts.len() as u32).collect();
        }
        // Clip the line to the points' box grown by `reach` (slab method).
        let (mut ta, mut tb) = (f64::NEG_INFINITY, f64::INFINITY);
        for k in 0..3 {
            let (a, b) = (self.lo[k] - reach, self.hi[k] + reach);
            if c.dir[k].abs() < 1e-12 {
                if c.point[k] < a || c.point[k] > b {
                    return Vec::new();
                }
            } else {
                let (t1, t2) = ((a - c.point[k]) / c.dir[k], (b - c.point[k]) / c.dir[k]);
                ta = ta.max(t1.min(t2));
                tb = tb.min(t1.max(t2));
            }
        }
        if ta > tb {
            return Vec::new();
        }
        // Samples every half cell along the line; a point within `reach` ≤ cell / 2 of the
        // line lies within 0.56 cells of a sample, so in the 3×3×3 block around its cell.
        let step = 0.5 * self.cell;
        let n = ((tb - ta) / step).ceil() as usize + 1;
        let mut keys: Vec<(i32, i32, i32)> = Vec::with_capacity(27 * n);
        for s in 0..=n {
            let t = (ta + s as f64 * step).min(tb);
            let p = add(c.point, scale(c.dir, t));
            let k = (
                ((p[0] - self.lo[0]) / self.cell).floor() as i32,
                ((p[1] - self.lo[1]) / self.cell).floor() as i32,
                ((p[2] - self.lo[2]) / self.cell).floor() as i32,
            );
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        keys.push((k.0 + dx, k.1 + dy, k.2 + dz));
                    }
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for k in keys {
            if let Some(&(a, b)) = self.cells.get(&k) {
                out.extend_from_slice(&self.order[a as usize..b as usize]);
            }
        }
        out
    }
}

impl Ctx<'_> {
    /// Least-squares fit of `cyl` to the subset points `idx`.
    pub(super) fn fit(&self, idx: &[u32], cyl: Cylinder) -> Option<(Cylinder, f64)> {
        let pts: Vec<V3> = idx.iter().map(|&i| self.pts[i as usize]).collect();
        let beams: Option<Vec<V3>> = self
            .beams
            .as_ref()
            .map(|b| idx.iter().map(|&i| b[i as usize]).collect());
        refine(&pts, cyl, beams.as_deref(), 30)
    }

    /// Alive points within `band` of the surface whose normals agree to `cos_alpha` (−1: any).
    pub(super) fn inliers(
        &self,
        cyl: &Cylinder,
        alive: &[bool],
        band: f64,
        cos_alpha: f64,
    ) -> Vec<u32> {
        self.grid
            .near_line(self.pts, cyl, cyl.radius + band)
            .into_par_iter()
            .filter(|&i| {
                let (d, c) = cyl.residual(self.pts[i as usize], self.nrm[i as usize]);
                alive[i as usize] && d.abs() <= band && c >= cos_alpha
            })
            .collect()
    }

    /// The same among the points of `list`.
    pub(super) fn inliers_in(&self, cyl: &Cylinder, list: &[u32], band: f64) -> Vec<u32> {
        list.par_iter()
            .copied()
            .filter(|&i| {
                let (d, c) = cyl.residual(self.pts[i as usize], self.nrm[i as usize]);
                d.abs() <= band && c >= self.cos_alpha
            })
            .collect()
    }

    /// Keep the largest axially connected component of `idx`; returns its extent.
    pub(super) fn largest_component(&self, cyl: &Cylinder, idx: &mut Vec<u32>) -> (f64, f64) {
        if idx.is_empty() {
            return (0.0, 0.0);
        }
        let mut ts: Vec<(f64, u32)> = idx
            .iter()
            .map(|&i| (dot(sub(self.pts[i as usize], cyl.point), cyl.dir), i))
            .collect();
        ts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut best, mut best_len) = ((0usize, 0usize), 0usize);
        let mut start = 0usize;
        for k in 1..=ts.len() {
            if k == ts.len() || ts[k].0 - ts[k - 1].0 > self.opts.cluster_gap_m {
                if k - start > best_len {
                    best_len = k - start;
                    best = (start, k);
                }
                start = k;
            }
        }
        let comp = &ts[best.0..best.1];
        let (t0, t1) = (comp[0].0, comp[comp.len() - 1].0);
        *idx = comp.iter().map(|x| x.1).collect();
        idx.sort_unstable();
        (t0, t1)
    }

    /// Angular coverage of `idx` around the axis, degrees (10° bins).
    pub(super) fn arc_deg(&self, cyl: &Cylinder, idx: &[u32]) -> f64 {
        let (u, v) = frame(cyl.dir);
        let mut bins = [false; 36];
        for &i in idx {
            let (_, r) = cyl.decompose(self.pts[i as usize]);
            let a = dot(r, v).atan2(dot(r, u));
            let b = (((a + std::f64::consts::PI) / (2.0 * std::f64::consts::PI) * 36.0) as usize)
                .min(35);
            bins[b] = true;
        }
        bins.iter().filter(|b| **b).count() as f64 * 10.0
    }

    /// Full evaluation + refinement of a candidate against the alive points.
    /// Grow a candidate into a piece; on failure, the inliers it had (empty when it never
    /// reached `min_points`, so a poor candidate on a real pipe does not block the pipe).
    pub(super) fn grow(&self, cand: Cylinder, alive: &[bool]) -> Result<Piece, Vec<u32>> {
        let o = self.opts;
        let mut cyl = cand;
        let mut band = o.epsilon_m;
        let mut inl = self.inliers(&cyl, alive, band, self.cos_alpha);
        let (mut t0, mut t1) = self.largest_component(&cyl, &mut inl);
        if inl.len() < o.min_points {
            return Err(Vec::new());
        }
        for _ in 0..o.refit_rounds.max(1) {
            let Some((fit, rms)) = self.fit(&inl, cyl) else {
                return Err(inl);
            };
            cyl = fit;
            if !(o.min_radius_m..=o.max_radius_m).contains(&cyl.radius) {
                return Err(inl);
            }
            let new_band = (o.refit_band_sigmas * rms).clamp(0.005, o.epsilon_m);
            // Refits select by distance only: normal agreement is the right test for scoring
            // candidates, but PCA normals of noisy, one-sided neighbourhoods (the flanks of a
            // pipe seen from above) are off in a way that correlates with the residual, and
            // filtering on them biased radii by up to +2 % on simulated airborne scans.
            let mut next = self.inliers(&cyl, alive, new_band, -1.0);
            let ext = self.largest_component(&cyl, &mut next);
            let same = next == inl && (new_band - band).abs() < 1e-4;
            band = new_band;
            inl = next;
            (t0, t1) = ext;
            if inl.len() < o.min_points {
                return Err(inl);
            }
            if same {
                break;
            }
        }
        // Final fit on the final inlier set.
        let Some((fit, _)) = self.fit(&inl, cyl) else {
            return Err(inl);
        };
        cyl = fit;
        let ts = inl
            .iter()
            .map(|&i| dot(sub(self.pts[i as usize], cyl.point), cyl.dir));
        let (lo, hi) = ts.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
            (a.min(t), b.max(t))
        });
        if lo.is_finite() {
            (t0, t1) = (lo, hi);
        }
        let len = t1 - t0;
        if !(o.min_radius_m..=o.max_radius_m).contains(&cyl.radius)
            || len < o.min_length_m.max(3.0 * cyl.radius)
            || self.arc_deg(&cyl, &inl) < o.min_arc_deg
        {
            return Err(inl);
        }
        // A surface concentrates its inliers near the fitted mantle; points spread evenly through
        // the band (foliage, clutter) put only half of them in its inner half.
        let inner = inl
            .iter()
            .filter(|&&i| {
                let (_, radial) = cyl.decompose(self.pts[i as usize]);
                (norm(radial) - cyl.radius).abs() <= 0.5 * band
            })
            .count();
        if (inner as f64) < o.min_sharpness * inl.len() as f64 {
            return Err(inl);
        }
        // A pipe is hollow to the scanner: points well inside the mantle mean a volumetric
        // structure (a crown, a shrub, a pile) that a cylinder band merely passes through.
        let r_in = cyl.radius - (2.0 * band).max(0.25 * cyl.radius);
        let interior = self
            .grid
            .near_line(self.pts, &cyl, cyl.radius)
            .into_par_iter()
            .filter(|&i| {
                let (t, radial) = cyl.decompose(self.pts[i as usize]);
                t >= t0 && t <= t1 && norm(radial) < r_in
            })
            .count();
        if interior as f64 > o.max_interior_fraction * inl.len() as f64 {
            return Err(inl);
        }
        // Points explained by the piece: the 2ε band within the extent (normals ignored), so
        // the noise tail of a pipe does not come back as a thin coaxial shell.
        let remove = 2.0 * o.epsilon_m;
        let mut consumed: Vec<u32> = self
            .grid
            .near_line(self.pts, &cyl, cyl.radius + remove)
            .into_par_iter()
            .filter(|&i| {
                let (t, radial) = cyl.decompose(self.pts[i as usize]);
                alive[i as usize]
                    && (norm(radial) - cyl.radius).abs() <= remove
                    && t >= t0 - o.epsilon_m
                    && t <= t1 + o.epsilon_m
            })
            .collect();
        consumed.extend_from_slice(&inl);
        consumed.sort_unstable();
        consumed.dedup();
        Ok(Piece {
            cyl,
            inliers: inl,
            consumed,
            t0,
            t1,
        })
    }
}
