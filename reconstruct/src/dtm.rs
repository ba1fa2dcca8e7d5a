//! Digital terrain model: ground points → north-up height raster.
//!
//! Two interpolators, as lidR's `rasterize_terrain` offers (Roussel et al. 2020, *Remote Sensing
//! of Environment* 251:112061):
//! * **TIN** (default): Delaunay triangulation of the ground points (`spade`), linear within each
//!   triangle, evaluated at cell centres — exact on planar facets and free of tuning. Cells
//!   outside the ground points' convex hull are filled by IDW (below) unless
//!   `fill_outside_hull` is off.
//! * **IDW**: inverse-distance weighting of the `idw_neighbours` nearest ground points (default
//!   10, power 2: lidR's `knnidw(k = 10, p = 2)` defaults).

use std::num::NonZero;

use capture::PointCloud;
use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use spade::{DelaunayTriangulation, FloatTriangulation, HasPosition, Point2, Triangulation};

use crate::error::{ReconstructError, Result};
use crate::model::Raster;
use crate::step::StepCtx;

/// Nodata value of DTM rasters (GeoTIFF `GDAL_NODATA`).
pub const NODATA: f32 = -9999.0;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DtmMethod {
    /// Delaunay TIN, linear in each triangle.
    #[default]
    Tin,
    /// Inverse-distance weighting of the k nearest ground points.
    Idw,
}

/// DTM options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DtmOptions {
    /// Cell size in metres (default 1.0, lidR's and PDAL's usual DTM resolution).
    pub resolution_m: f64,
    pub method: DtmMethod,
    /// Neighbours for IDW (default 10, lidR `knnidw`).
    pub idw_neighbours: usize,
    /// IDW distance power (default 2, lidR `knnidw`).
    pub idw_power: f64,
    /// TIN only: fill cells outside the convex hull by IDW (default true). Off leaves them
    /// nodata (for comparisons restricted to where the triangulation is defined).
    pub fill_outside_hull: bool,
    /// Put cell edges on multiples of the resolution instead of at the cloud's corner (default
    /// false). Survey tiles set it, so overlapping tiles and the whole share one grid and their
    /// mosaic has no seam.
    #[serde(default)]
    pub snap_to_grid: bool,
}

impl Default for DtmOptions {
    fn default() -> Self {
        DtmOptions {
            resolution_m: 1.0,
            method: DtmMethod::Tin,
            idw_neighbours: 10,
            idw_power: 2.0,
            fill_outside_hull: true,
            snap_to_grid: false,
        }
    }
}

impl DtmOptions {
    pub fn validate(&self) -> Result<()> {
        crate::model::check_grid("dtm resolution_m", self.resolution_m, 0.0, 0.0)?;
        if self.idw_neighbours == 0 {
            return Err(ReconstructError::InvalidOption {
                option: "idw_neighbours",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// The DTM of `cloud`'s points flagged in `is_ground`, over the whole cloud's bounds.
pub fn run(cloud: &PointCloud, is_ground: &[bool], opts: &DtmOptions) -> Result<Raster> {
    StepCtx::detached(None, |ctx| run_step(cloud, is_ground, opts, ctx))
}

/// [`run`] with the step context: progress 0 → 1 and a cancel check before the interpolation.
pub fn run_step(
    cloud: &PointCloud,
    is_ground: &[bool],
    opts: &DtmOptions,
    ctx: &mut StepCtx<'_>,
) -> Result<Raster> {
    ctx.report(0.0);
    if is_ground.len() != cloud.len() {
        return Err(ReconstructError::Input {
            step: "dtm",
            reason: format!(
                "{} ground flags for {} points",
                is_ground.len(),
                cloud.len()
            ),
        });
    }
    let b = cloud.bounds();
    if b.is_empty() {
        return Err(ReconstructError::Input {
            step: "dtm",
            reason: "empty cloud".into(),
        });
    }
    opts.validate()?;
    crate::model::check_grid(
        "dtm resolution_m",
        opts.resolution_m,
        b.max[0] - b.min[0],
        b.max[1] - b.min[1],
    )?;
    // The ground points are gathered twice at most (the TIN's vertices, then — only where
    // cells lie outside the hull — the IDW's), rather than kept beside the TIN.
    let gather = || {
        let mut g = Vec::with_capacity(is_ground.iter().filter(|&&x| x).count());
        g.extend(
            (0..cloud.len())
                .filter(|&i| is_ground[i])
                .map(|i| cloud.absolute(i)),
        );
        g
    };
    let grid = if opts.snap_to_grid {
        let mut g =
            crate::chm::grid_for_bounds(b.min[0], b.min[1], b.max[0], b.max[1], opts.resolution_m);
        g.nodata = NODATA;
        g.data.iter_mut().for_each(|v| *v = NODATA);
        g
    } else {
        Raster::covering(
            b.min[0],
            b.min[1],
            b.max[0],
            b.max[1],
            opts.resolution_m,
            NODATA,
        )
    };
    ctx.check()?;
    let r = interpolate(&gather, grid, opts)?;
    ctx.report(1.0);
    Ok(r)
}

/// Interpolate absolute ground points onto `grid` (its geometry; its data is overwritten).
pub fn from_points(ground: &[[f64; 3]], grid: Raster, opts: &DtmOptions) -> Result<Raster> {
    interpolate(&|| ground.to_vec(), grid, opts)
}

/// [`from_points`] over the points `gather` makes. Nothing is alive beside the TIN but its
/// vertices: the points are dropped once the vertices are made, and gathered again for the IDW
/// that fills the cells outside the hull after the triangulation is dropped — the TIN and the
/// IDW neighbour index are never alive together either, so a survey tile's terrain peak is the
/// larger of the two, not their sum.
fn interpolate(
    gather: &dyn Fn() -> Vec<[f64; 3]>,
    mut grid: Raster,
    opts: &DtmOptions,
) -> Result<Raster> {
    opts.validate()?;
    let finite = || {
        let mut pts = gather();
        pts.retain(|p| p.iter().all(|v| v.is_finite()));
        pts
    };
    let pts = finite();
    if pts.is_empty() {
        return Err(ReconstructError::Input {
            step: "dtm",
            reason: "no ground points".into(),
        });
    }
    // Work relative to the first point: keeps f64 coordinates small for the predicates.
    let o = [pts[0][0], pts[0][1]];
    let w = grid.width;
    let centre = |c: usize, r: usize| {
        let (x, y) = grid.center(c, r);
        [x - o[0], y - o[1]]
    };
    let data: Vec<f32> = match opts.method {
        DtmMethod::Idw => {
            let idw = Idw::new(&pts, o, opts);
            (0..grid.width * grid.height)
                .into_par_iter()
                .map(|k| idw.at(centre(k % w, k / w)) as f32)
                .collect()
        }
        DtmMethod::Tin => {
            let verts: Vec<Vertex> = pts
                .iter()
                .map(|p| Vertex {
                    pos: Point2::new(p[0] - o[0], p[1] - o[1]),
                    z: p[2],
                })
                .collect();
            drop(pts);
            let tin: DelaunayTriangulation<Vertex> = DelaunayTriangulation::bulk_load_stable(verts)
                .map_err(|e| ReconstructError::Input {
                    step: "dtm",
                    reason: format!("triangulation failed: {e:?}"),
                })?;
            // Outside the hull: NaN until the IDW pass (a ground z is never NaN).
            let mut data = vec![NODATA; grid.width * grid.height];
            data.par_chunks_mut(w).enumerate().for_each(|(r, row)| {
                let bary = tin.barycentric();
                for (c, v) in row.iter_mut().enumerate() {
                    let q = centre(c, r);
                    let z = if tin.num_vertices() >= 3 {
                        bary.interpolate(|v| v.data().z, Point2::new(q[0], q[1]))
                    } else {
                        None
                    };
                    *v = z.map_or(f32::NAN, |z| z as f32);
                }
            });
            drop(tin);
            if opts.fill_outside_hull && data.iter().any(|v| v.is_nan()) {
                let idw = Idw::new(&finite(), o, opts);
                data.par_chunks_mut(w).enumerate().for_each(|(r, row)| {
                    for (c, v) in row.iter_mut().enumerate() {
                        if v.is_nan() {
                            *v = idw.at(centre(c, r)) as f32;
                        }
                    }
                });
            } else {
                data.iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = NODATA);
            }
            data
        }
    };
    grid.data = data;
    grid.nodata = NODATA;
    Ok(grid)
}

struct Vertex {
    pos: Point2<f64>,
    z: f64,
}

impl HasPosition for Vertex {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        self.pos
    }
}

/// k-nearest inverse-distance weighting over local coordinates.
struct Idw {
    tree: ImmutableKdTree<f64, u32, 2, 32>,
    z: Vec<f64>,
    k: NonZero<usize>,
    power: f64,
}

impl Idw {
    fn new(pts: &[[f64; 3]], o: [f64; 2], opts: &DtmOptions) -> Idw {
        let xy: Vec<[f64; 2]> = pts.iter().map(|p| [p[0] - o[0], p[1] - o[1]]).collect();
        Idw {
            tree: ImmutableKdTree::new_from_slice(&xy),
            z: pts.iter().map(|p| p[2]).collect(),
            k: NonZero::new(opts.idw_neighbours.max(1)).unwrap(),
            power: opts.idw_power,
        }
    }
    fn at(&self, q: [f64; 2]) -> f64 {
        let nn = self.tree.nearest_n::<SquaredEuclidean>(&q, self.k);
        let (mut acc, mut wsum) = (0.0, 0.0);
        for n in &nn {
            if n.distance < 1e-12 {
                return self.z[n.item as usize];
            }
            let w = n.distance.powf(-0.5 * self.power);
            acc += w * self.z[n.item as usize];
            wsum += w;
        }
        if wsum > 0.0 { acc / wsum } else { f64::NAN }
    }
}

/// RMSE of `a − b` over cells where both are defined (and `mask` is true, if given); also
/// returns the number of cells compared. The rasters must share their geometry.
pub fn rmse(a: &Raster, b: &Raster, mask: Option<&dyn Fn(usize, usize) -> bool>) -> (f64, usize) {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "raster geometry differs"
    );
    let (mut s, mut n) = (0.0, 0usize);
    for r in 0..a.height {
        for c in 0..a.width {
            let (va, vb) = (a.get(c, r), b.get(c, r));
            if a.is_nodata(va) || b.is_nodata(vb) || mask.is_some_and(|m| !m(c, r)) {
                continue;
            }
            let d = va as f64 - vb as f64;
            s += d * d;
            n += 1;
        }
    }
    (
        if n > 0 {
            (s / n as f64).sqrt()
        } else {
            f64::NAN
        },
        n,
    )
}
