//! The cloth of the Cloth Simulation Filter (Zhang et al. 2016): its options, the particle grid
//! with its intersection heights, and the simulation constants — the types the CPU twin
//! (`csf`) and the WGSL driver (`csf_gpu`) share. The algorithm is described in `csf`.

use std::collections::VecDeque;

use capture::PointCloud;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::Raster;

/// How a particle's intersection height is taken from the points of its cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntersectionHeight {
    /// The lowest point of the cell (the default; see the module docs).
    #[default]
    Lowest,
    /// The point horizontally nearest the particle, as jianboqi/CSF does.
    Nearest,
}

/// Cloth Simulation Filter options. Defaults: the reference implementation's (jianboqi/CSF
/// `CSF::CSF()`), except `cloth_resolution_m` 0.5 and `rigidness` 1 — the reference's own
/// setting for steep terrain (its README: "rigidness 1 for steep slopes"; on the steep
/// Topography.laz it gives a 0.31 m DTM RMSE where its defaults 1 m / 3 give 1.08 m), and on
/// gentle terrain under forest it loses nothing (see `tests/ground.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsfOptions {
    /// Distance between cloth particles in metres (reference default 1.0; 0.5 here).
    pub cloth_resolution_m: f64,
    /// Cloth stiffness, 1–3 (reference: 1 steep slope, 2 terrace, 3 flat; default 1 here).
    /// Each time step runs `rigidness × sweeps_per_rigidness` relaxation sweeps.
    pub rigidness: u32,
    /// Jacobi sweeps per unit of rigidness (default 10). A Jacobi sweep moves information two
    /// particles per sweep where the reference's in-order (Gauss–Seidel) pass carries it
    /// across the cloth, so one reference constraint pass corresponds to several sweeps; 10
    /// gives, at rigidness 1, a cloth at least as good as the reference's on both test sets
    /// (Topography.laz DTM RMSE 0.23 m vs the reference's 0.31 m; synthetic forest 1.46 cm vs
    /// 1.49 cm, same metric), where 1 leaves it too soft (0.82 m: it sags into vegetation).
    pub sweeps_per_rigidness: u32,
    /// Simulation time step (reference 0.65).
    pub time_step: f64,
    /// Maximum number of time steps (reference 500).
    pub max_iterations: u32,
    /// Stop once no movable particle moved more than this in one step (reference 0.005 m).
    pub convergence_m: f64,
    /// Check convergence every this many steps (both devices use the same schedule).
    pub check_every: u32,
    /// Points within this distance of the cloth are ground (reference 0.5 m).
    pub class_threshold_m: f64,
    /// Slope smoothing post-processing (reference `bSloopSmooth`, default true).
    pub slope_smooth: bool,
    /// Largest intersection-height step that slope smoothing follows (reference 0.3 m).
    pub smooth_threshold_m: f64,
    /// Slope smoothing only lays down particles hanging less than this far from their
    /// intersection height. The reference's `heightThreshold` is 9999 m (unlimited); 0.5 m (the
    /// class threshold) stops smoothing from dragging the cloth onto low vegetation across
    /// sparse, gap-filled cells (Topography.laz: 0.251 → 0.227 m DTM RMSE).
    pub smooth_height_threshold_m: f64,
    /// Patches of movable particles up to this size are left alone by slope smoothing
    /// (reference `MAX_PARTICLE_FOR_POSTPROCESSIN`, 50).
    pub smooth_min_patch: usize,
    /// Fraction of the way each relaxation sweep moves a particle to its neighbours' mean.
    pub relaxation: f32,
    pub intersection: IntersectionHeight,
}

impl Default for CsfOptions {
    fn default() -> Self {
        CsfOptions {
            cloth_resolution_m: 0.5,
            rigidness: 1,
            sweeps_per_rigidness: 10,
            time_step: 0.65,
            max_iterations: 500,
            convergence_m: 0.005,
            check_every: 4,
            class_threshold_m: 0.5,
            slope_smooth: true,
            smooth_threshold_m: 0.3,
            smooth_height_threshold_m: 0.5,
            smooth_min_patch: 50,
            relaxation: 1.0,
            intersection: IntersectionHeight::Lowest,
        }
    }
}

impl CsfOptions {
    /// The reference implementation's defaults (`CSF::CSF()`: 1 m cloth, rigidness 3), for
    /// comparisons.
    pub fn reference_defaults() -> Self {
        CsfOptions {
            cloth_resolution_m: 1.0,
            rigidness: 3,
            smooth_height_threshold_m: 9999.0,
            intersection: IntersectionHeight::Nearest,
            ..Default::default()
        }
    }

    /// Relaxation sweeps per time step.
    pub fn sweeps(&self) -> u32 {
        self.rigidness * self.sweeps_per_rigidness
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |option: &'static str, reason: &str| {
            Err(ReconstructError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };
        crate::model::check_grid("cloth_resolution_m", self.cloth_resolution_m, 0.0, 0.0)?;
        if !(1..=10).contains(&self.rigidness) {
            return bad("rigidness", "must be 1–10 (the reference uses 1–3)");
        }
        if !(1..=100).contains(&self.sweeps_per_rigidness) {
            return bad("sweeps_per_rigidness", "must be 1–100");
        }
        if self.time_step.is_nan() || self.time_step <= 0.0 {
            return bad("time_step", "must be positive");
        }
        if self.check_every == 0 {
            return bad("check_every", "must be at least 1");
        }
        if self.class_threshold_m.is_nan() || self.class_threshold_m <= 0.0 {
            return bad("class_threshold_m", "must be positive");
        }
        if !(self.relaxation > 0.0 && self.relaxation <= 1.0) {
            return bad("relaxation", "must be in (0, 1]");
        }
        Ok(())
    }
}

/// Gravity of the reference implementation (`CSF::do_cloth`: `gravity = 0.2`).
pub(crate) const GRAVITY: f64 = 0.2;
/// Particle velocity damping per step (reference `DAMPING`).
pub(crate) const DAMPING: f64 = 0.01;
/// Height of the cloth above the highest inverted point at the start (reference 0.05 m).
pub(crate) const CLOTH_START_M: f64 = 0.05;
/// Margin of particles around the cloud's bounding box (reference `clothbuffer_d`).
pub(crate) const MARGIN: usize = 2;

/// The cloth grid and its state. Heights are *inverted* (`h = −z`, relative to the cloud's
/// origin), as in the reference: the cloth falls toward −h.
pub(crate) struct Cloth {
    pub w: usize,
    pub h: usize,
    pub res: f64,
    pub inv_res: f64,
    /// Local (cloud-origin-relative) x, y of particle (0, 0).
    pub ox: f64,
    pub oy: f64,
    /// Intersection height per particle.
    pub hv: Vec<f32>,
    /// Current height per particle.
    pub y: Vec<f32>,
    /// Height before the last time step.
    pub old: Vec<f32>,
    /// 1 once a particle has collided (no longer movable).
    pub pinned: Vec<u32>,
}

/// Constants of one simulation, shared with the WGSL kernel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SimConsts {
    /// Gravity displacement per step (negative).
    pub accel: f32,
    /// 1 − damping.
    pub keep: f32,
    pub relaxation: f32,
}

impl SimConsts {
    pub fn new(o: &CsfOptions) -> Self {
        let dt2 = o.time_step * o.time_step;
        SimConsts {
            // The reference scales gravity by dt² when adding the force and again in the
            // Verlet step (`acceleration * time_step2`), hence dt⁴.
            accel: (-GRAVITY * dt2 * dt2) as f32,
            keep: (1.0 - DAMPING) as f32,
            relaxation: o.relaxation,
        }
    }
}

impl Cloth {
    /// Build the cloth over the points whose `use_point` is true and rasterise their
    /// intersection heights.
    pub fn new(cloud: &PointCloud, use_point: Option<&[bool]>, o: &CsfOptions) -> Result<Cloth> {
        let used = |i: usize| use_point.is_none_or(|m| m[i]);
        let ok = |i: usize, p: &[f32; 3]| used(i) && p.iter().all(|v| v.is_finite());
        const CHUNK: usize = 1 << 16;
        // f32::min/max skip NaN, so only masked-out points need testing here.
        let (lo, hi) = cloud
            .positions
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(ci, chunk)| {
                let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
                for (k, p) in chunk.iter().enumerate() {
                    if use_point.is_none() || used(ci * CHUNK + k) {
                        for d in 0..3 {
                            // Comparisons (not f32::min) compile to minss/maxss; NaN is skipped.
                            if p[d] < lo[d] {
                                lo[d] = p[d];
                            }
                            if p[d] > hi[d] {
                                hi[d] = p[d];
                            }
                        }
                    }
                }
                (lo, hi)
            })
            .reduce(
                || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
                |a, b| {
                    (
                        [0, 1, 2].map(|d| a.0[d].min(b.0[d])),
                        [0, 1, 2].map(|d| a.1[d].max(b.1[d])),
                    )
                },
            );
        if lo.iter().chain(&hi).any(|v| v.is_infinite()) && lo[0] <= hi[0] {
            return Err(ReconstructError::Input {
                step: "ground",
                reason: "infinite coordinates".into(),
            });
        }
        if lo[0] > hi[0] {
            return Err(ReconstructError::Input {
                step: "ground",
                reason: "no points to classify".into(),
            });
        }
        let (lo, hi) = (lo.map(|v| v as f64), hi.map(|v| v as f64));
        let res = o.cloth_resolution_m;
        let w = ((hi[0] - lo[0]) / res).floor() as usize + 2 * MARGIN;
        let h = ((hi[1] - lo[1]) / res).floor() as usize + 2 * MARGIN;
        if w.saturating_mul(h) > 200_000_000 {
            return Err(ReconstructError::InvalidOption {
                option: "cloth_resolution_m",
                reason: format!("{res} m gives a {w}×{h} cloth; use a coarser cloth or tile"),
            });
        }
        let ox = lo[0] - MARGIN as f64 * res;
        let oy = lo[1] - MARGIN as f64 * res;
        let n = w * h;
        // Inverted heights: the cloth starts above the highest inverted point (= lowest z).
        let start = (-lo[2] + CLOTH_START_M) as f32;

        // Per point (in parallel, a block at a time so memory stays bounded): its particle and
        // the key that particle keeps the minimum of (z for Lowest, horizontal distance² for
        // Nearest); then a sequential merge. Ties go to the lower point.
        let mode = o.intersection;
        let inv = 1.0 / res;
        let (oxf, oyf, invf, resf) = (ox as f32, oy as f32, inv as f32, res as f32);
        let cell_key = |p: &[f32; 3]| {
            // f32 is exact enough here: local coordinates, 0.5 mm at 5 km.
            let dx = p[0] - oxf;
            let dy = p[1] - oyf;
            // Nearest particle: round half up, as the reference (`int(d/step + 0.5)`);
            // non-negative (the margin), so truncation is floor (and inlines, where
            // `floor` is a libm call on baseline x86-64).
            let c = ((dx * invf + 0.5) as usize).min(w - 1);
            let r = ((dy * invf + 0.5) as usize).min(h - 1);
            let key = match mode {
                IntersectionHeight::Lowest => p[2],
                IntersectionHeight::Nearest => {
                    let ex = dx - c as f32 * resf;
                    let ey = dy - r as f32 * resf;
                    ex * ex + ey * ey
                }
            };
            (r * w + c, key)
        };
        // Keep the smaller key; ties go to the lower point (order-independent).
        let better = |a: (f32, f32), b: (f32, f32)| a.0 < b.0 || (a.0 == b.0 && a.1 > b.1);
        let threads = rayon::current_num_threads().max(1);
        let best: Vec<(f32, f32)> = if n.saturating_mul(2 * threads) <= 1 << 24 {
            // One private grid per thread, merged: no shared writes, no per-point buffer.
            // Two pieces per thread: balance when a core is shared.
            let per = cloud.len().div_ceil(2 * threads).max(1 << 16);
            cloud
                .positions
                .par_chunks(per)
                .enumerate()
                .map(|(ci, ps)| {
                    let mut best = vec![(f32::INFINITY, f32::NAN); n];
                    for (k, p) in ps.iter().enumerate() {
                        if ok(ci * per + k, p) {
                            let (cell, key) = cell_key(p);
                            let cand = (key, -p[2]);
                            if better(cand, best[cell]) {
                                best[cell] = cand;
                            }
                        }
                    }
                    best
                })
                .reduce_with(|mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        if better(y, *x) {
                            *x = y;
                        }
                    }
                    a
                })
                .unwrap_or_else(|| vec![(f32::INFINITY, f32::NAN); n])
        } else {
            // Huge cloths: cells computed in parallel a block at a time (bounded memory),
            // merged sequentially.
            let mut best = vec![(f32::INFINITY, f32::NAN); n];
            const BLOCK: usize = 1 << 20;
            let mut cells: Vec<(u32, f32)> = Vec::with_capacity(BLOCK.min(cloud.len()));
            for (bi, block) in cloud.positions.chunks(BLOCK).enumerate() {
                block
                    .par_iter()
                    .enumerate()
                    .map(|(k, p)| {
                        if ok(bi * BLOCK + k, p) {
                            let (cell, key) = cell_key(p);
                            (cell as u32, key)
                        } else {
                            (u32::MAX, 0.0)
                        }
                    })
                    .collect_into_vec(&mut cells);
                for (p, &(cell, key)) in block.iter().zip(&cells) {
                    if cell != u32::MAX && better((key, -p[2]), best[cell as usize]) {
                        best[cell as usize] = (key, -p[2]);
                    }
                }
            }
            best
        };
        let mut hv: Vec<f32> = best.iter().map(|b| b.1).collect();
        fill_nearest(&mut hv, w, h);
        Ok(Cloth {
            w,
            h,
            res,
            inv_res: inv,
            ox,
            oy,
            hv,
            y: vec![start; n],
            old: vec![start; n],
            pinned: vec![0; n],
        })
    }

    /// Absolute-height raster of the cloth (north-up; cell centres on the particles).
    pub fn raster(&self, origin: [f64; 3]) -> Raster {
        let nodata = -9999.0;
        let mut r = Raster {
            x_min: origin[0] + self.ox - 0.5 * self.res,
            y_max: origin[1] + self.oy + (self.h as f64 - 0.5) * self.res,
            resolution_m: self.res,
            width: self.w,
            height: self.h,
            data: vec![nodata; self.w * self.h],
            nodata,
        };
        for j in 0..self.h {
            let row = self.h - 1 - j;
            for i in 0..self.w {
                r.data[row * self.w + i] = (origin[2] - self.y[j * self.w + i] as f64) as f32;
            }
        }
        r
    }
}

/// Give every NaN cell the value of the nearest valued cell (breadth-first over the 4-neighbour
/// grid from all valued cells at once; deterministic: cells are seeded and expanded in index
/// order). A grid with no valued cell stays NaN.
pub fn fill_nearest(v: &mut [f32], w: usize, h: usize) {
    let mut queue: VecDeque<usize> = (0..v.len()).filter(|&i| !v[i].is_nan()).collect();
    while let Some(i) = queue.pop_front() {
        let (c, r) = (i % w, i / w);
        let val = v[i];
        let mut visit = |j: usize| {
            if v[j].is_nan() {
                v[j] = val;
                queue.push_back(j);
            }
        };
        if c > 0 {
            visit(i - 1);
        }
        if c + 1 < w {
            visit(i + 1);
        }
        if r > 0 {
            visit(i - w);
        }
        if r + 1 < h {
            visit(i + w);
        }
    }
}

/// The 16 spring partners of a particle (the reference's constraints), in the fixed order in
/// which both the CPU and the WGSL kernel sum them.
pub(crate) const PARTNERS: [(isize, isize); 16] = [
    (-1, 0),
    (1, 0),
    (0, -1),
    (0, 1),
    (-1, -1),
    (1, -1),
    (-1, 1),
    (1, 1),
    (-2, 0),
    (2, 0),
    (0, -2),
    (0, 2),
    (-2, -2),
    (2, -2),
    (-2, 2),
    (2, 2),
];
