//! Canopy height model (CHM): a north-up raster of canopy surface height above ground, from a
//! height-normalised point cloud (z = height above ground).
//!
//! Two methods, as in lidR's `rasterize_canopy` (Roussel et al. 2020, Remote Sens. Environ.
//! 251:112061):
//!
//! - [`ChmMethod::PointToRaster`] (lidR `p2r`): each cell takes the height of the highest first
//!   return inside it; cells without a return are nodata. Fast, but at fine resolutions it leaves
//!   empty cells and "pits" where a pulse went deep into a crown.
//! - [`ChmMethod::PitFree`] (Khosravipour, Skidmore, Isenburg, Wang & Hussin 2014, *Generating
//!   pit-free canopy height models from airborne lidar*, PE&RS 80(9):863–872; lidR `pitfree`):
//!   the highest first return per cell is kept; for each height threshold (0, 2, 5, 10, 15 m) the
//!   points at or above it are Delaunay-triangulated, triangles with an edge longer than
//!   `max_edge` are removed (for the thresholds above 0; the base layer keeps every triangle,
//!   lidR `max_edge[1] = 0`), each layer is interpolated linearly at the cell centres, and the CHM
//!   is the cell-wise maximum of the layers. Pits come from low returns *between* high ones; a
//!   layer that contains only the high ones cannot dip into them, and the edge limit stops it from
//!   bridging real gaps between crowns.
//!
//! The work is split so a GPU kernel can mirror it exactly ([`ChmPlan`]): the CPU selects first
//! returns, keeps the highest per cell and triangulates (spade); what is left — scattering point
//! heights into cells, or rasterising every kept triangle at the cell centres and taking the
//! maximum — is plain f32 arithmetic that `shaders/chm_p2r.wgsl` and `shaders/chm_tin.wgsl` repeat
//! operation for operation ([`ChmPlan::rasterize_cpu`] / [`ChmPlan::rasterize_gpu`]).

use std::borrow::Cow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use spade::{DelaunayTriangulation, HasPosition, Point2, Triangulation};

use capture::PointCloud;

use crate::error::{ReconstructError, Result};
use crate::gpu::GpuContext;
use crate::model::Raster;

/// Nodata value of the rasters this module makes (the GDAL convention −9999).
pub const NODATA: f32 = -9999.0;

/// How cell values are formed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChmMethod {
    /// Highest first return per cell (lidR `p2r`).
    PointToRaster,
    /// Khosravipour et al. (2014) pit-free layers of TINs (lidR `pitfree`).
    #[default]
    PitFree,
}

/// The points a CHM is made from.
pub enum ChmSource<'a> {
    /// A height-normalised cloud (z = height above ground).
    Normalized(&'a PointCloud),
    /// An absolute cloud, the points to use (`keep`: noise dropped; `None` = all) and the
    /// terrain: heights are computed as the points are visited, by the formula of
    /// [`crate::normalize::normalized_for_trees`] (bit for bit the same CHM), so a
    /// reconstruction need not hold a normalised copy of the cloud beside the layers'
    /// triangulations — its memory peak.
    Terrain {
        cloud: &'a PointCloud,
        keep: Option<&'a [bool]>,
        dtm: &'a Raster,
    },
}

impl ChmSource<'_> {
    fn kept(&self, i: usize) -> bool {
        match self {
            ChmSource::Normalized(_) => true,
            ChmSource::Terrain { keep, .. } => keep.is_none_or(|k| k[i]),
        }
    }

    fn cloud(&self) -> &PointCloud {
        match self {
            ChmSource::Normalized(c) | ChmSource::Terrain { cloud: c, .. } => c,
        }
    }

    /// Whether any point is used.
    pub fn has_points(&self) -> bool {
        self.used(false).next().is_some()
    }

    /// The height-normalised cloud of the points used: the cloud itself, or the lean copy of
    /// [`crate::normalize::normalized_for_trees`] (kept points, in order).
    pub fn normalized(&self) -> Cow<'_, PointCloud> {
        match self {
            ChmSource::Normalized(c) => Cow::Borrowed(c),
            ChmSource::Terrain { cloud, keep, dtm } => {
                Cow::Owned(crate::normalize::normalized_for_trees(cloud, *keep, dtm))
            }
        }
    }

    /// The x, y bounds of the points (z is not set): as [`PointCloud::bounds`] computes them
    /// for the normalised cloud of the same points.
    pub fn bounds_xy(&self) -> capture::Bounds {
        let c = self.cloud();
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        let mut any = false;
        for (i, p) in c.positions.iter().enumerate() {
            if self.kept(i) {
                any = true;
                for k in 0..2 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
        }
        if !any {
            return capture::Bounds::empty();
        }
        let o = c.origin;
        capture::Bounds {
            min: [o[0] + lo[0] as f64, o[1] + lo[1] as f64, 0.0],
            max: [o[0] + hi[0] as f64, o[1] + hi[1] as f64, 0.0],
        }
    }

    fn is_first(&self, i: usize, first_only: bool) -> bool {
        match (&self.cloud().return_number, first_only) {
            (Some(rn), true) => rn[i] <= 1,
            _ => true,
        }
    }

    /// The indices of the points used, in order: kept, and first returns only when
    /// `first_only` and the cloud has return numbers.
    fn used(&self, first_only: bool) -> impl Iterator<Item = usize> + '_ {
        (0..self.cloud().len()).filter(move |&i| self.kept(i) && self.is_first(i, first_only))
    }

    fn first_count(&self, first_only: bool) -> usize {
        self.used(first_only).count()
    }

    /// First returns per square metre of the points' horizontal bounding box (all points when
    /// return numbers are absent): the density the tree options are chosen by.
    pub fn first_return_density(&self) -> f64 {
        let area = self.bounds_xy().area_xy();
        if area <= 0.0 {
            return 0.0;
        }
        self.first_count(true) as f64 / area
    }

    /// `f(absolute x, absolute y, height)` of every point used, in point order.
    fn each_first(&self, first_only: bool, f: &mut dyn FnMut(f64, f64, f64)) {
        let c = self.cloud();
        let o = c.origin;
        for i in self.used(first_only) {
            let (p, oz) = match self {
                ChmSource::Normalized(_) => (c.positions[i], o[2]),
                // The normalised cloud's origin z is 0.
                ChmSource::Terrain { dtm, .. } => {
                    (crate::normalize::normalized_position(c, dtm, i), 0.0)
                }
            };
            f(o[0] + p[0] as f64, o[1] + p[1] as f64, oz + p[2] as f64);
        }
    }
}

/// Options of [`run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChmOptions {
    /// Cell size (default 0.5 m: the resolution of lidR's examples and of most individual-tree
    /// work on 5–20 pts/m² data; crowns of 2 m and more span several cells).
    pub resolution_m: f64,
    pub method: ChmMethod,
    /// Pit-free height thresholds (default 0, 2, 5, 10, 15 m: Khosravipour et al. 2014 and the
    /// lidR default). Sorted before use.
    pub thresholds_m: Vec<f64>,
    /// Longest triangle edge kept in the threshold-0 layer; 0 keeps all (default 0, lidR
    /// `max_edge[1]`: the base layer must cover the whole plot).
    pub max_edge_base_m: f64,
    /// Longest triangle edge kept in the layers above 0. `None` (default) = 3 × the larger of the
    /// nominal first-return spacing (over the cloud's bounding box) and the cell size — the
    /// highest-per-cell thinning makes the points at least one cell apart. Khosravipour et al.
    /// (2014) discard ("kill", LAStools `las2dem -kill`) partial-layer triangles longer than a
    /// few point spacings so a layer does not bridge gaps between crowns; at 0.5 m cells the rule
    /// gives the 1.5 m of lidR's documented `pitfree(c(0, 2, 5, 10, 15), c(0, 1.5))` example
    /// (lidR's own default is 1 m).
    pub max_edge_m: Option<f64>,
    /// Replace each first return by 8 points on a circle of this radius before gridding
    /// (lidR `subcircle`, which emulates the laser footprint; e.g. 0.15 m). Default 0 = off.
    pub subcircle_m: f64,
    /// Use only first returns (default true; the canopy surface is what the first echo sees).
    /// Clouds without return numbers use every point.
    pub first_returns_only: bool,
}

impl Default for ChmOptions {
    fn default() -> Self {
        ChmOptions {
            resolution_m: 0.5,
            method: ChmMethod::PitFree,
            thresholds_m: vec![0.0, 2.0, 5.0, 10.0, 15.0],
            max_edge_base_m: 0.0,
            max_edge_m: None,
            subcircle_m: 0.0,
            first_returns_only: true,
        }
    }
}

impl ChmOptions {
    /// Check the options; [`run`] calls this.
    pub fn validate(&self) -> Result<()> {
        let bad = |option, reason: String| Err(ReconstructError::InvalidOption { option, reason });
        crate::model::check_grid("chm resolution_m", self.resolution_m, 0.0, 0.0)?;
        if self.method == ChmMethod::PitFree && self.thresholds_m.is_empty() {
            return bad(
                "chm thresholds_m",
                "pit-free needs at least one threshold".into(),
            );
        }
        if self.thresholds_m.iter().any(|t| !t.is_finite()) {
            return bad("chm thresholds_m", "thresholds must be finite".into());
        }
        if !(self.max_edge_base_m.is_finite() && self.max_edge_base_m >= 0.0) {
            return bad(
                "chm max_edge_base_m",
                format!("{} is not a length ≥ 0", self.max_edge_base_m),
            );
        }
        if let Some(e) = self.max_edge_m
            && !(e.is_finite() && e >= 0.0)
        {
            return bad("chm max_edge_m", format!("{e} is not a length ≥ 0"));
        }
        if !(self.subcircle_m.is_finite() && self.subcircle_m >= 0.0) {
            return bad(
                "chm subcircle_m",
                format!("{} is not a length ≥ 0", self.subcircle_m),
            );
        }
        Ok(())
    }
}

/// Barycentric tolerance of the inside test: a cell centre on a shared edge or on the hull
/// counts as inside (both triangles of an edge give the same value there), and f32 rounding on
/// the CPU and the GPU cannot flip exact-edge cases.
pub const INSIDE_EPS: f32 = 1e-5;

/// Everything left to do once the geometry is known, in the exact form the GPU kernels take.
#[derive(Clone, Debug, PartialEq)]
pub struct ChmPlan {
    /// The output grid, filled with [`NODATA`].
    pub grid: Raster,
    pub method: ChmMethod,
    /// Point-to-raster input: cell index (`row * width + col`) and height of each (first-return)
    /// point; empty for pit-free.
    pub point_cells: Vec<u32>,
    pub point_heights: Vec<f32>,
    /// Pit-free input, one list per layer: every kept triangle as 9 f32s
    /// `u0 v0 z0 u1 v1 z1 u2 v2 z2`, `u` = columns east of the grid's west edge, `v` = rows south
    /// of its north edge (so the centre of cell (c, r) is (c + 0.5, r + 0.5)), `z` = height.
    /// Kept per layer rather than concatenated: the layers of a survey tile hold tens of MB, and
    /// a concatenated copy would double them at the stage's peak.
    pub triangles: Vec<Vec<f32>>,
    /// The edge limit used for the layers above 0 (after `None` was resolved).
    pub max_edge_m: f64,
    /// First-return points per square metre of the cloud's bounding box.
    pub first_return_density: f64,
}

impl ChmPlan {
    /// Number of triangles in [`ChmPlan::triangles`].
    pub fn triangle_count(&self) -> usize {
        self.triangles.iter().map(|l| l.len() / 9).sum()
    }

    /// Finish on the CPU (rayon).
    pub fn rasterize_cpu(&self) -> Raster {
        let n = self.grid.width * self.grid.height;
        let mut out = vec![f32::NEG_INFINITY; n];
        match self.method {
            ChmMethod::PointToRaster => {
                for (&c, &z) in self.point_cells.iter().zip(&self.point_heights) {
                    let v = &mut out[c as usize];
                    *v = v.max(z);
                }
            }
            ChmMethod::PitFree => out = self.max_raster(&self.triangles),
        }
        self.finish(out)
    }

    /// The cell-wise maximum of `layers`' triangles at the cell centres (NEG_INFINITY where none
    /// reaches). Triangles in parallel chunks, each into its own buffer, then a max-merge: the
    /// maximum does not depend on the order.
    fn max_raster(&self, layers: &[Vec<f32>]) -> Vec<f32> {
        let n = self.grid.width * self.grid.height;
        let (w, h) = (self.grid.width as u32, self.grid.height as u32);
        let chunk = 9 * 16_384;
        layers
            .par_iter()
            .flat_map(|layer| layer.par_chunks(chunk))
            .fold(
                || vec![f32::NEG_INFINITY; n],
                |mut acc, tris| {
                    for t in tris.chunks_exact(9) {
                        raster_triangle(t.try_into().unwrap(), w, h, |i, z| {
                            let v = &mut acc[i];
                            *v = v.max(z);
                        });
                    }
                    acc
                },
            )
            .reduce(|| vec![f32::NEG_INFINITY; n], max_merge)
    }

    /// The grid with `out`'s values, NEG_INFINITY as nodata.
    fn finish(&self, out: Vec<f32>) -> Raster {
        let mut r = self.grid.clone();
        r.data = out
            .into_iter()
            .map(|v| if v == f32::NEG_INFINITY { NODATA } else { v })
            .collect();
        r
    }

    /// Finish on the GPU: `shaders/chm_p2r.wgsl` (atomic max of point heights per cell) or
    /// `shaders/chm_tin.wgsl` (one invocation per triangle, atomic max per covered cell centre).
    /// Heights travel as order-preserving u32 keys so `atomicMax` on integers is a float max.
    pub fn rasterize_gpu(&self, gpu: &GpuContext) -> Result<Raster> {
        // Inputs go up in batches that fit one storage binding (atomic max does not care about
        // the order, so batches give the same raster).
        let max_bytes = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size)
            .min(1 << 27) as usize;
        self.rasterize_gpu_batched(gpu, max_bytes)
    }

    pub fn rasterize_gpu_batched(&self, gpu: &GpuContext, max_bytes: usize) -> Result<Raster> {
        let n = self.grid.width * self.grid.height;
        let cells = gpu.storage_zeroed("chm cells", 4 * n as u64)?;
        // Dispatches are 2-D when one dimension is not enough (65 535 groups of 64).
        let max_x = gpu.limits.max_compute_workgroups_per_dimension.max(1);
        let groups = |items: usize| -> [u32; 3] {
            let g = GpuContext::groups(items, 64);
            if g <= max_x {
                [g, 1, 1]
            } else {
                [max_x, g.div_ceil(max_x), 1]
            }
        };
        match self.method {
            ChmMethod::PointToRaster => {
                let k = gpu.kernel("chm_p2r", P2R_WGSL, "main")?;
                let batch = (max_bytes / 4).max(1);
                for (idx, z) in self
                    .point_cells
                    .chunks(batch)
                    .zip(self.point_heights.chunks(batch))
                {
                    let g = groups(idx.len());
                    let params = gpu.uniform(
                        "chm p2r params",
                        &GpuParams {
                            count: idx.len() as u32,
                            width: 0,
                            height: 0,
                            row_stride: g[0] * 64,
                        },
                    );
                    let idx = gpu.storage("chm p2r cells", idx)?;
                    let z = gpu.storage("chm p2r heights", z)?;
                    gpu.run(&k, &[&params, &idx, &z, &cells], g)?;
                }
            }
            ChmMethod::PitFree => {
                let k = gpu.kernel("chm_tin", TIN_WGSL, "main")?;
                let batch = (max_bytes / 36).max(1) * 9;
                for tris in self.triangles.iter().flat_map(|l| l.chunks(batch)) {
                    let m = tris.len() / 9;
                    let g = groups(m);
                    let params = gpu.uniform(
                        "chm tin params",
                        &GpuParams {
                            count: m as u32,
                            width: self.grid.width as u32,
                            height: self.grid.height as u32,
                            row_stride: g[0] * 64,
                        },
                    );
                    let tris = gpu.storage("chm tin triangles", tris)?;
                    gpu.run(&k, &[&params, &tris, &cells], g)?;
                }
            }
        }
        let keys: Vec<u32> = gpu.read(&cells)?;
        let mut r = self.grid.clone();
        r.data = keys.into_iter().take(n).map(key_to_height).collect();
        Ok(r)
    }
}

/// The uniform block of both CHM kernels.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct GpuParams {
    count: u32,
    width: u32,
    height: u32,
    /// Invocations per dispatch row (`groups.x × 64`), to flatten 2-D dispatches.
    row_stride: u32,
}

const P2R_WGSL: &str = include_str!("../../shaders/chm_p2r.wgsl");
const TIN_WGSL: &str = include_str!("../../shaders/chm_tin.wgsl");

/// Inverse of the kernels' `height_key`; key 0 (never written) is nodata.
pub fn key_to_height(k: u32) -> f32 {
    if k == 0 {
        NODATA
    } else if k & 0x8000_0000 != 0 {
        f32::from_bits(k & 0x7fff_ffff)
    } else {
        f32::from_bits(!k)
    }
}

/// Rasterise one triangle (`u0 v0 z0 u1 v1 z1 u2 v2 z2`, see [`ChmPlan::triangles`]) at the cell
/// centres of a `width × height` grid, calling `put(cell_index, z)` for every centre inside
/// (barycentric weights ≥ −[`INSIDE_EPS`]). `shaders/chm_tin.wgsl` is this function in WGSL:
/// keep the two in step.
#[inline]
pub fn raster_triangle(t: &[f32; 9], width: u32, height: u32, mut put: impl FnMut(usize, f32)) {
    let [x0, y0, z0, x1, y1, z1, x2, y2, z2] = *t;
    let d = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2);
    if d == 0.0 || width == 0 || height == 0 {
        return;
    }
    let lo_x = x0.min(x1).min(x2);
    let hi_x = x0.max(x1).max(x2);
    let lo_y = y0.min(y1).min(y2);
    let hi_y = y0.max(y1).max(y2);
    let c0 = ((lo_x - 0.5).floor() as i32).max(0);
    let c1 = ((hi_x - 0.5).ceil() as i32).min(width as i32 - 1);
    let r0 = ((lo_y - 0.5).floor() as i32).max(0);
    let r1 = ((hi_y - 0.5).ceil() as i32).min(height as i32 - 1);
    let mut r = r0;
    while r <= r1 {
        let py = r as f32 + 0.5;
        let mut c = c0;
        while c <= c1 {
            let px = c as f32 + 0.5;
            let w0 = ((y1 - y2) * (px - x2) + (x2 - x1) * (py - y2)) / d;
            let w1 = ((y2 - y0) * (px - x2) + (x0 - x2) * (py - y2)) / d;
            let w2 = 1.0 - w0 - w1;
            if w0 >= -INSIDE_EPS && w1 >= -INSIDE_EPS && w2 >= -INSIDE_EPS {
                put(
                    r as usize * width as usize + c as usize,
                    w0 * z0 + w1 * z1 + w2 * z2,
                );
            }
            c += 1;
        }
        r += 1;
    }
}

/// A grid covering the cloud's xy bounds, with edges on multiples of `resolution_m` (so rasters of
/// the same resolution from the same project align), filled with [`NODATA`].
pub fn grid_for(cloud: &PointCloud, resolution_m: f64) -> Result<Raster> {
    grid_over(&cloud.bounds(), resolution_m)
}

/// [`grid_for`] over `b`'s xy.
fn grid_over(b: &capture::Bounds, resolution_m: f64) -> Result<Raster> {
    if b.is_empty() {
        return Err(ReconstructError::Input {
            step: "chm",
            reason: "the point cloud is empty".into(),
        });
    }
    crate::model::check_grid(
        "chm resolution_m",
        resolution_m,
        b.max[0] - b.min[0],
        b.max[1] - b.min[1],
    )?;
    Ok(grid_for_bounds(
        b.min[0],
        b.min[1],
        b.max[0],
        b.max[1],
        resolution_m,
    ))
}

/// A [`NODATA`] grid whose cells cover `[x0, x1] × [y0, y1]` (both ends inside), edges on
/// multiples of `res`.
pub fn grid_for_bounds(x0: f64, y0: f64, x1: f64, y1: f64, res: f64) -> Raster {
    let x_min = (x0 / res).floor() * res;
    let y_max = ((y1 / res).floor() + 1.0) * res;
    let width = ((x1 - x_min) / res).floor() as usize + 1;
    let height = ((y_max - y0) / res).floor() as usize + 1;
    Raster {
        x_min,
        y_max,
        resolution_m: res,
        width,
        height,
        data: vec![NODATA; width * height],
        nodata: NODATA,
    }
}

/// Cell (column, row) of an absolute position, clamped into the grid (for points known to lie
/// inside its bounds, where f64 rounding could otherwise push an edge point out).
pub fn clamped_cell(grid: &Raster, x: f64, y: f64) -> (usize, usize) {
    // Whole millimetres first: millimetre-quantised scans put one point in 500 exactly on a
    // 0.5 m cell edge, and the float noise a cloud's origin leaves in its coordinates must not
    // decide the side (a survey tile and the whole cloud would grid it differently).
    let (x, y) = (mm(x), mm(y));
    let c = ((x - grid.x_min) / grid.resolution_m).floor();
    let r = ((grid.y_max - y) / grid.resolution_m).floor();
    (
        c.clamp(0.0, (grid.width - 1) as f64) as usize,
        r.clamp(0.0, (grid.height - 1) as f64) as usize,
    )
}

/// `v` rounded to whole millimetres.
fn mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A point kept for triangulation: local metric coordinates (east of the grid's west edge, north
/// of its north edge, so y ≤ 0) and height.
#[derive(Clone, Copy, Debug)]
struct Vertex {
    x: f64,
    y: f64,
    z: f32,
}

impl HasPosition for Vertex {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        Point2::new(self.x, self.y)
    }
}

/// [`plan`] up to the layers: the plan without triangles, and (pit-free) what to triangulate.
fn plan_points(src: &ChmSource<'_>, opts: &ChmOptions) -> Result<(ChmPlan, Option<Layers>)> {
    opts.validate()?;
    let b = src.bounds_xy();
    let grid = grid_over(&b, opts.resolution_m)?;
    let res = opts.resolution_m;
    let first_count = src.first_count(opts.first_returns_only);
    let area = b.area_xy().max(res * res);
    let density = first_count as f64 / area;
    let spacing = if density > 0.0 {
        1.0 / density.sqrt()
    } else {
        res
    };
    let max_edge_m = opts.max_edge_m.unwrap_or(3.0 * spacing.max(res));

    // Absolute xy and height of every (sub-circled) first return, visited in point order
    // without being collected (a survey tile's returns would otherwise be copied once more).
    let ring: Vec<(f64, f64)> = if opts.subcircle_m > 0.0 {
        (0..8)
            .map(|k| {
                let a = k as f64 * std::f64::consts::FRAC_PI_4;
                (opts.subcircle_m * a.cos(), opts.subcircle_m * a.sin())
            })
            .collect()
    } else {
        vec![(0.0, 0.0)]
    };
    let visit = |f: &mut dyn FnMut(f64, f64, f32)| {
        src.each_first(opts.first_returns_only, &mut |x, y, z| {
            // Absolute millimetres (see `clamped_cell`): the same point gives the same cell
            // and height whatever the cloud's origin.
            let (x, y) = (mm(x), mm(y));
            let z = mm(z) as f32;
            for &(dx, dy) in &ring {
                let (qx, qy) = (x + dx, y + dy);
                // lidR drops sub-circle points outside the cloud's bounding box.
                if qx >= b.min[0] && qx <= b.max[0] && qy >= b.min[1] && qy <= b.max[1] {
                    f(qx, qy, z);
                }
            }
        });
    };

    let mut plan = ChmPlan {
        grid,
        method: opts.method,
        point_cells: Vec::new(),
        point_heights: Vec::new(),
        triangles: Vec::new(),
        max_edge_m,
        first_return_density: density,
    };
    let cell_index = |g: &Raster, x: f64, y: f64| {
        let (c, r) = clamped_cell(g, x, y);
        (r * g.width + c) as u32
    };
    if opts.method == ChmMethod::PointToRaster {
        let (mut cells, mut heights) = (
            Vec::with_capacity(first_count * ring.len()),
            Vec::with_capacity(first_count * ring.len()),
        );
        visit(&mut |x, y, z| {
            cells.push(cell_index(&plan.grid, x, y));
            heights.push(z);
        });
        plan.point_cells = cells;
        plan.point_heights = heights;
        return Ok((plan, None));
    }

    // Highest point per cell (lidR `highest = TRUE`); ties keep the first.
    let n = plan.grid.width * plan.grid.height;
    let mut best: Vec<Option<(f64, f64, f32)>> = vec![None; n];
    visit(&mut |x, y, z| {
        let c = cell_index(&plan.grid, x, y) as usize;
        if best[c].is_none_or(|b| z > b.2) {
            best[c] = Some((x, y, z));
        }
    });
    let (x_min, y_max) = (plan.grid.x_min, plan.grid.y_max);
    // Sized exactly: a filtered collect grows by doubling, and this list and each layer's copy
    // of it stay alive through the triangulations (the reconstruction's peak).
    let mut kept: Vec<Vertex> = Vec::with_capacity(best.iter().flatten().count());
    kept.extend(best.iter().flatten().map(|&(x, y, z)| Vertex {
        x: x - x_min,
        y: y - y_max,
        z,
    }));
    drop(best);

    let mut thresholds = opts.thresholds_m.clone();
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    let layers = Layers {
        kept,
        thresholds,
        base_edge_m: opts.max_edge_base_m,
        max_edge_m,
        res,
    };
    Ok((plan, Some(layers)))
}

/// Everything before the rasterisation: first returns, subcircling, highest return per cell,
/// and (pit-free) the triangles of every layer.
pub fn plan(cloud: &PointCloud, opts: &ChmOptions) -> Result<ChmPlan> {
    plan_source(&ChmSource::Normalized(cloud), opts)
}

/// [`plan`] from any [`ChmSource`].
pub fn plan_source(src: &ChmSource<'_>, opts: &ChmOptions) -> Result<ChmPlan> {
    let (mut plan, layers) = plan_points(src, opts)?;
    if let Some(l) = layers {
        plan.triangles = l.map(|t| t)?;
    }
    Ok(plan)
}

/// The pit-free layers still to triangulate.
struct Layers {
    kept: Vec<Vertex>,
    thresholds: Vec<f64>,
    base_edge_m: f64,
    max_edge_m: f64,
    res: f64,
}

impl Layers {
    /// Triangulate every layer (in parallel) and hand each layer's triangles to `f`.
    fn map<T: Send>(&self, f: impl Fn(Vec<f32>) -> T + Sync + Send) -> Result<Vec<T>> {
        let res = self.res;
        self.each(|v, edge| {
            // A planar triangulation has under two faces a vertex.
            let mut out = Vec::with_capacity(v.len() * 2 * 9);
            layer_faces(v, edge, res, |t| out.extend_from_slice(&t))?;
            Ok(f(out))
        })
    }

    /// Triangulate every layer (in parallel) and rasterise its triangles straight into a
    /// `width × height` maximum, one raster per layer, without keeping them: the triangle
    /// arrays of the layers in flight were a quarter of a 1 M-point reconstruction's peak
    /// memory. The same cells as rasterising [`Layers::map`]'s arrays (max is order-free).
    fn rasters(&self, width: usize, height: usize) -> Result<Vec<Vec<f32>>> {
        let res = self.res;
        self.each(|v, edge| {
            let mut acc = vec![f32::NEG_INFINITY; width * height];
            layer_faces(v, edge, res, |t| {
                raster_triangle(&t, width as u32, height as u32, |i, z| {
                    let c = &mut acc[i];
                    *c = c.max(z);
                });
            })?;
            Ok(acc)
        })
    }

    /// `f(vertices at or above the threshold, the layer's longest edge)` for every layer, in
    /// parallel.
    fn each<T: Send>(
        &self,
        f: impl Fn(Vec<Vertex>, f64) -> Result<T> + Sync + Send,
    ) -> Result<Vec<T>> {
        self.thresholds
            .par_iter()
            .map(|&th| {
                let edge = if th <= 0.0 {
                    self.base_edge_m
                } else {
                    self.max_edge_m
                };
                let reaches = |p: &&Vertex| p.z as f64 >= th;
                let mut v: Vec<Vertex> =
                    Vec::with_capacity(self.kept.iter().filter(reaches).count());
                v.extend(self.kept.iter().filter(reaches).copied());
                f(v, edge)
            })
            .collect()
    }
}

/// Element-wise maximum of two rasters of equal size.
fn max_merge(mut a: Vec<f32>, b: Vec<f32>) -> Vec<f32> {
    a.iter_mut().zip(&b).for_each(|(x, y)| *x = x.max(*y));
    a
}

/// Triangulate one layer and hand `put` each triangle whose edges are all ≤ `max_edge` (0 =
/// all), in the pixel-unit form of [`ChmPlan::triangles`].
fn layer_faces(
    v: Vec<Vertex>,
    max_edge: f64,
    res: f64,
    mut put: impl FnMut([f32; 9]),
) -> Result<()> {
    // lidR triangulates a layer only when more than 3 points reach it.
    if v.len() < 3 {
        return Ok(());
    }
    let tin: DelaunayTriangulation<Vertex> =
        DelaunayTriangulation::bulk_load(v).map_err(|e| ReconstructError::Input {
            step: "chm triangulation",
            reason: e.to_string(),
        })?;
    let lim2 = max_edge * max_edge;
    for f in tin.inner_faces() {
        let vs = f.vertices().map(|h| *h.data());
        if max_edge > 0.0 {
            let long = (0..3).any(|k| {
                let (a, b) = (vs[k], vs[(k + 1) % 3]);
                let (dx, dy) = (a.x - b.x, a.y - b.y);
                dx * dx + dy * dy > lim2
            });
            if long {
                continue;
            }
        }
        let mut t = [0.0f32; 9];
        for (k, p) in vs.iter().enumerate() {
            t[3 * k] = (p.x / res) as f32;
            t[3 * k + 1] = (-p.y / res) as f32;
            t[3 * k + 2] = p.z;
        }
        put(t);
    }
    Ok(())
}

/// The CHM on the CPU. See the module docs for the method.
pub fn run(cloud: &PointCloud, opts: &ChmOptions) -> Result<Raster> {
    Ok(plan(cloud, opts)?.rasterize_cpu())
}

/// The CHM with its last step on `gpu` when given, else on the CPU; same result to f32 rounding.
pub fn run_on(cloud: &PointCloud, opts: &ChmOptions, gpu: Option<&GpuContext>) -> Result<Raster> {
    run_on_source(&ChmSource::Normalized(cloud), opts, gpu)
}

/// [`run_on`] from any [`ChmSource`].
pub fn run_on_source(
    src: &ChmSource<'_>,
    opts: &ChmOptions,
    gpu: Option<&GpuContext>,
) -> Result<Raster> {
    if let Some(g) = gpu {
        return plan_source(src, opts)?.rasterize_gpu(g);
    }
    // On the CPU each layer's triangles are rasterised as its triangulation is walked, never
    // kept (the maximum is order-independent: the same raster as `plan(..).rasterize_cpu()`).
    let (p, layers) = plan_points(src, opts)?;
    let Some(layers) = layers else {
        return Ok(p.rasterize_cpu());
    };
    let n = p.grid.width * p.grid.height;
    let out = layers
        .rasters(p.grid.width, p.grid.height)?
        .into_iter()
        .fold(vec![f32::NEG_INFINITY; n], max_merge);
    Ok(p.finish(out))
}

/// Mean filter over a `(2·radius_px + 1)²` square window, ignoring nodata neighbours; nodata cells
/// stay nodata. lidR's examples smooth the CHM with a 3 × 3 mean (`radius_px = 1`) before tree
/// detection to suppress branch-level maxima.
pub fn smooth_mean(chm: &Raster, radius_px: usize) -> Raster {
    if radius_px == 0 {
        return chm.clone();
    }
    let (w, h) = (chm.width, chm.height);
    let k = radius_px as isize;
    let data: Vec<f32> = (0..w * h)
        .into_par_iter()
        .map(|i| {
            let v = chm.data[i];
            if chm.is_nodata(v) {
                return v;
            }
            let (c, r) = ((i % w) as isize, (i / w) as isize);
            let mut s = 0.0f64;
            let mut n = 0u32;
            for dr in -k..=k {
                for dc in -k..=k {
                    let (cc, rr) = (c + dc, r + dr);
                    if cc < 0 || rr < 0 || cc >= w as isize || rr >= h as isize {
                        continue;
                    }
                    let q = chm.data[rr as usize * w + cc as usize];
                    if !chm.is_nodata(q) {
                        s += q as f64;
                        n += 1;
                    }
                }
            }
            (s / n as f64) as f32
        })
        .collect();
    Raster {
        data,
        ..chm.clone()
    }
}
