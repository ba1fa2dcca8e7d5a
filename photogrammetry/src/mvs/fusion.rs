//! Depth maps → one cloud: a pixel's point is kept when at least `min_consistent` of its
//! reference photo's sources see the same surface there (their depth within 1 % and the
//! round trip back to the reference within 1 px — the geometric consistency test of
//! Schönberger et al. 2016, "Pixelwise view selection for unstructured multi-view stereo",
//! ECCV, and of COLMAP's fusion), averaged with those sources' points, coloured by the
//! reference photo.

use crate::linalg::{V3, mulv, transpose};

/// One photo's depth map in the world: pinhole (focal, cx, cy), pose, size.
pub struct View<'a> {
    pub focal: f64,
    pub cx: f64,
    pub cy: f64,
    pub rotation: [[f64; 3]; 3],
    pub centre: V3,
    pub width: usize,
    pub height: usize,
    pub depth: &'a [f32],
    pub cost: &'a [f32],
    pub rgb: &'a [[u8; 3]],
}

impl View<'_> {
    fn point(&self, x: usize, y: usize, d: f64) -> V3 {
        let r = [
            (x as f64 - self.cx) / self.focal * d,
            (y as f64 - self.cy) / self.focal * d,
            d,
        ];
        let w = mulv(&transpose(&self.rotation), &r);
        [
            w[0] + self.centre[0],
            w[1] + self.centre[1],
            w[2] + self.centre[2],
        ]
    }

    /// (pixel x, pixel y, depth) of world point `p`, when inside.
    fn project(&self, p: &V3) -> Option<(f64, f64, f64)> {
        let c = mulv(
            &self.rotation,
            &[
                p[0] - self.centre[0],
                p[1] - self.centre[1],
                p[2] - self.centre[2],
            ],
        );
        if c[2] <= 1e-6 {
            return None;
        }
        let (u, v) = (
            self.focal * c[0] / c[2] + self.cx,
            self.focal * c[1] / c[2] + self.cy,
        );
        (u >= 0.0 && v >= 0.0 && u <= (self.width - 1) as f64 && v <= (self.height - 1) as f64)
            .then_some((u, v, c[2]))
    }
}

/// Fusion thresholds.
#[derive(Clone, Debug)]
pub struct FusionOptions {
    pub max_cost: f32,
    pub min_consistent: usize,
    pub max_relative_depth: f64,
    pub max_reprojection_px: f64,
}

impl Default for FusionOptions {
    fn default() -> Self {
        FusionOptions {
            max_cost: 0.5,
            min_consistent: 1,
            max_relative_depth: 0.01,
            max_reprojection_px: 1.0,
        }
    }
}

/// The consistent points of reference view `r` against its `sources` (indices into `views`,
/// where a photo without a depth map is `None`).
pub fn fuse_view(
    views: &[Option<View<'_>>],
    r: usize,
    sources: &[usize],
    o: &FusionOptions,
) -> Vec<(V3, [u8; 3])> {
    let Some(v) = &views[r] else {
        return Vec::new();
    };
    let need = o.min_consistent.min(sources.len()).max(1);
    let mut out = Vec::new();
    for y in 0..v.height {
        for x in 0..v.width {
            let i = y * v.width + x;
            if v.cost[i] > o.max_cost || v.depth[i].is_nan() || v.depth[i] <= 0.0 {
                continue;
            }
            let p = v.point(x, y, v.depth[i] as f64);
            let mut sum = p;
            let mut n = 1usize;
            for &s in sources {
                let Some(sv) = &views[s] else { continue };
                let Some((u, w, d)) = sv.project(&p) else {
                    continue;
                };
                let j = w.round() as usize * sv.width + u.round() as usize;
                let ds = sv.depth[j] as f64;
                if sv.cost[j] > o.max_cost || ds.is_nan() || ds <= 0.0 {
                    continue;
                }
                if (ds - d).abs() > o.max_relative_depth * d {
                    continue;
                }
                let q = sv.point(u.round() as usize, w.round() as usize, ds);
                let Some((bx, by, _)) = v.project(&q) else {
                    continue;
                };
                if ((bx - x as f64).powi(2) + (by - y as f64).powi(2)).sqrt()
                    > o.max_reprojection_px
                {
                    continue;
                }
                for a in 0..3 {
                    sum[a] += q[a];
                }
                n += 1;
            }
            if n > need {
                out.push((sum.map(|s| s / n as f64), v.rgb[i]));
            }
        }
    }
    out
}
