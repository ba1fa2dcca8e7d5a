//! Individual trees from a height-normalised cloud: CHM → treetops → crowns → per-point tree ids
//! → per-tree metrics ([`crate::model::Tree`]), with DBH where the scan sees stems.
//!
//! The chain is lidR's standard individual-tree workflow (Roussel et al. 2020):
//! [`crate::chm`] (pit-free CHM, Khosravipour et al. 2014), [`crate::treetops`] (variable-window
//! local maxima, Popescu & Wynne 2004), [`crate::segment`] (region growing, Dalponte & Coomes
//! 2016), and [`crate::stem`] (breast-height circle fits) for DBH.
//!
//! # Per-tree metrics ([`metrics`])
//! - **Position and height**: the highest of the tree's points within `top_search_m` of its
//!   treetop cell (its xy and height). The CHM cell value would be a little lower (interpolation
//!   at cell centres cuts the apex off); the highest of *all* the tree's points can be a taller
//!   neighbour's branch overhanging the crown's edge.
//! - **Crown area**: crown cells × cell area; **crown diameter**: the circle of that area.
//! - **Crown base height**: the lowest height reached walking down the sorted heights of the
//!   tree's points from its top without a vertical gap larger than `max_gap_m`, using the points
//!   in a ring around the tree axis: beyond `axis_exclusion_m` (the stem, so a terrestrial scan's
//!   continuous stem does not pull the base down to the ground; the axis is the fitted stem, or
//!   the treetop) and within `radius_fraction` of the crown radius (so a lower neighbour's crown
//!   under this crown's edge does not either). Crown base is where the continuous foliage ends — the definition of
//!   field crews (lowest live branch whorl of the continuous crown) and of profile-gap methods
//!   (e.g. Popescu & Zhao 2008, Remote Sens. Environ. 112:767–781). `None` with fewer than
//!   `min_points` points.
//! - **Hull**: 2-D convex hull (Andrew's monotone chain) of the tree's points, counter-clockwise.
//! - **DBH**: stems found at breast height ([`crate::stem`]) and trees are paired one-to-one,
//!   nearest first (stem centre to treetop), among the pairs where the top is within
//!   `max_stem_offset_m` of the stem or the stem stands inside the tree's crown. Trees without one are `DbhStatus::NotObserved` (airborne
//!   scans), for the growth model to estimate from height and crown.

use serde::{Deserialize, Serialize};

use capture::PointCloud;

use crate::chm::{self, ChmOptions};
use crate::chm_filter;
use crate::error::{ReconstructError, Result};
use crate::gpu::GpuContext;
use crate::model::{DbhStatus, Raster, Tree};
use crate::segment::{self, CrownOptions, Crowns};
use crate::species::{self, SpeciesModel};
use crate::stem::{self, StemFit, StemOptions};
use crate::step::StepCtx;
use crate::treetops::{self, Treetop, TreetopOptions};
use crate::understorey::{self, UnderstoreyOptions};

/// Crown base height rule (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrownBaseOptions {
    /// Largest vertical gap inside the crown (default 1.5 m: three of the 0.5 m layers of vertical
    /// profile methods; a larger gap is the bare stem below the crown). On the simulator's drone
    /// forest 1–1.5 m gave the smallest error against the true crown base (RMSE 0.6 m, median
    /// 6 cm); 1.5 m tolerates sparser scans.
    pub max_gap_m: f64,
    /// Points closer than this to the tree axis are stem, not crown (default 0.5 m).
    pub axis_exclusion_m: f64,
    /// Fewest crown points for an estimate (default 10).
    pub min_points: usize,
    /// Only points within this fraction of the crown radius (of the circle with the crown's
    /// area, but at least 0.5 m beyond `axis_exclusion_m`) from the axis count, so a lower
    /// neighbour's crown under this crown's outer cells does not extend it downwards
    /// (default 0.3; with the whole crown the simulator's crown bases came out 1.3 m too low).
    pub radius_fraction: f64,
}

impl Default for CrownBaseOptions {
    fn default() -> Self {
        CrownBaseOptions {
            max_gap_m: 1.5,
            axis_exclusion_m: 0.5,
            min_points: 10,
            radius_fraction: 0.3,
        }
    }
}

/// Options of [`run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeOptions {
    pub chm: ChmOptions,
    /// Mean filter radius in cells applied to the CHM before treetops and crowns (default 0: the
    /// pit-free CHM needs none; lidR's p2r examples use 1, a 3 × 3 mean).
    pub smooth_px: usize,
    /// Morphological closing of the CHM with a disk of this many cells before treetops and
    /// crowns (default 0 = off; [`crate::chm_filter`], Monnet 2011: 5). Fills pits and empty
    /// cells of sparse point-to-raster CHMs.
    pub close_px: usize,
    /// Gaussian smoothing σ in metres of the (closed) CHM for treetop detection (default 0 =
    /// off; Monnet 2011: 0.3 m). Crowns grow on the closed, unsmoothed CHM.
    pub gaussian_sigma_m: f64,
    pub treetops: TreetopOptions,
    pub crowns: CrownOptions,
    pub crown_base: CrownBaseOptions,
    /// Stem fits for DBH (default on: airborne scans simply yield no plausible stem). `None`
    /// skips them and marks every DBH not observed.
    pub stems: Option<StemOptions>,
    /// A stem may belong to a tree whose top is within this distance of it, or in whose crown it
    /// stands (default 2 m: the lean of most trees' tops over their stem base).
    pub max_stem_offset_m: f64,
    /// The tree's top is its highest point within this distance of the treetop cell's centre
    /// (default 1 m: two cells at 0.5 m).
    pub top_search_m: f64,
    /// Conifer / broadleaf from crown form ([`crate::species`]).
    pub species: SpeciesModel,
    /// A second, layered pass for trees under the canopy ([`crate::understorey`]); `None`
    /// skips it.
    pub understorey: Option<UnderstoreyOptions>,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            chm: ChmOptions::default(),
            smooth_px: 0,
            close_px: 0,
            gaussian_sigma_m: 0.0,
            treetops: TreetopOptions::default(),
            crowns: CrownOptions::default(),
            crown_base: CrownBaseOptions::default(),
            stems: Some(StemOptions::default()),
            max_stem_offset_m: 2.0,
            top_search_m: 1.0,
            species: SpeciesModel::default(),
            understorey: None,
        }
    }
}

/// First-return density (points/m²) at and above which [`TreeOptions::for_density`] picks the
/// dense profile. Airborne surveys deliver 2–15 first returns/m² (IDTReeS: 2–12), drone LiDAR
/// 30–200, phone and terrestrial scans thousands. On the simulator's stands at 39–90 first
/// returns/m² the dense profile found more trees (F1 0.87 vs 0.80 on the 1 ha stand, 0.76 vs
/// 0.72 on the multi-layer drone stand); on IDTReeS the airborne profile found 0.81 of the
/// crowns against 0.70 for lidR's sparse workflow.
pub const DENSE_FIRST_RETURNS_PER_M2: f64 = 20.0;

impl TreeOptions {
    /// Sparse airborne LiDAR: lidR's documented individual-tree workflow (Roussel et al. 2020,
    /// lidR manual, `dalponte2016` example on MixedConifer.laz): `p2r(0.3)` CHM at 0.5 m, a 3 × 3
    /// mean, `lmf(ws = 4, hmin = 2)`, Dalponte & Coomes defaults. At a few points per m² a
    /// pit-free TIN has too few points per crown, and windows under ~4 m split crowns.
    pub fn sparse_als() -> Self {
        TreeOptions {
            chm: ChmOptions {
                method: crate::chm::ChmMethod::PointToRaster,
                subcircle_m: 0.3,
                ..Default::default()
            },
            smooth_px: 1,
            treetops: TreetopOptions {
                window: crate::treetops::WindowSize::Fixed { diameter_m: 4.0 },
                hmin_m: 2.0,
            },
            ..Default::default()
        }
    }

    /// Airborne LiDAR (under 20 first returns/m²), the default: Monnet's (2011)
    /// pre-processing and treetop rule with a window that grows with height, then a second,
    /// layered pass under the canopy.
    ///
    /// - CHM: highest return per 0.5 m cell (`p2r`), closed with a 3-cell disk (fills the empty
    ///   cells of 5–15 pts/m² scans and pits inside crowns), Gaussian σ 0.3 m for the tops
    ///   (Monnet 2011 §6.2; lidaRtRee `dem_filtering` uses a 5-cell closing, which on our
    ///   sets merged neighbouring tops of 2–3 m apart).
    /// - Treetops: a local maximum within a circle of diameter `1 m + 0.1 × height` (2–5 m),
    ///   lowest top 5 m. Monnet et al. (2010) found tops best kept with a window radius of a
    ///   few per cent of height on mountain forests once the CHM is smoothed; Popescu & Wynne
    ///   (2004) grow the window with height for the same reason. On the accuracy sets
    ///   (`twinmint bench accuracy`) this raised recall of trees ≥ 10 m from 0.35 to 0.56 on
    ///   the simulator's sparse multi-layer stand at unchanged precision (0.93), and from 0.60
    ///   to 0.81 of IDTReeS crowns, over the previous fixed 4 m window.
    /// - Crowns: Dalponte & Coomes region growing on the closed CHM.
    /// - Under the canopy: [`UnderstoreyOptions`] (Duncanson et al. 2014) with 20 returns per
    ///   crown and 1.5 m of air above each lower top.
    pub fn airborne() -> Self {
        TreeOptions {
            chm: ChmOptions {
                method: crate::chm::ChmMethod::PointToRaster,
                resolution_m: 0.5,
                ..Default::default()
            },
            close_px: 3,
            gaussian_sigma_m: 0.3,
            treetops: TreetopOptions {
                window: crate::treetops::WindowSize::Linear {
                    a: 1.0,
                    b: 0.1,
                    min_m: 2.0,
                    max_m: 5.0,
                },
                hmin_m: 5.0,
            },
            understorey: Some(UnderstoreyOptions::default()),
            ..Default::default()
        }
    }

    /// Drone LiDAR, terrestrial and phone scans (20 first returns/m² and more): pit-free CHM at
    /// 0.25 m and a 2 m local-maximum window. At tens of
    /// points per m² neighbouring crowns whose tops stand 2–3 m apart are resolved in the CHM,
    /// and only a window that small separates them (Mohan et al. 2017, Forests 8(9):340, found
    /// windows of 3 × 3 cells at 0.25–0.5 m best for UAV CHMs of dense conifer stands).
    pub fn dense_drone() -> Self {
        TreeOptions {
            chm: ChmOptions {
                resolution_m: 0.25,
                ..Default::default()
            },
            treetops: TreetopOptions {
                window: crate::treetops::WindowSize::Fixed { diameter_m: 2.0 },
                hmin_m: 2.0,
            },
            ..Default::default()
        }
    }

    /// The profile for a scan's first-return density: [`TreeOptions::dense_drone`] at or above
    /// [`DENSE_FIRST_RETURNS_PER_M2`], else [`TreeOptions::airborne`]. ([`TreeOptions::sparse_als`]
    /// is lidR's documented workflow, kept for parity checks.)
    pub fn for_density(first_returns_per_m2: f64) -> Self {
        if first_returns_per_m2 >= DENSE_FIRST_RETURNS_PER_M2 {
            Self::dense_drone()
        } else {
            Self::airborne()
        }
    }
}

/// First returns per square metre over the cloud's horizontal bounding box (all points when
/// return numbers are absent).
pub fn first_return_density(cloud: &PointCloud) -> f64 {
    chm::ChmSource::Normalized(cloud).first_return_density()
}

/// Everything [`run`] produced.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeResult {
    /// The CHM (unsmoothed).
    pub chm: Raster,
    pub treetops: Vec<Treetop>,
    pub crowns: Crowns,
    /// Tree id per point (0 = none); tree `k` of `trees` has id `k + 1`.
    pub labels: Vec<u32>,
    pub trees: Vec<Tree>,
    /// Every plausible stem found at breast height (also the unassigned ones).
    pub stems: Vec<StemFit>,
}

/// Trees of a height-normalised cloud. `dtm` (absolute terrain heights) gives each tree its
/// `ground_z`; without it `ground_z` is 0. `gpu` runs the CHM's rasterisation there.
pub fn run(
    cloud: &PointCloud,
    dtm: Option<&Raster>,
    opts: &TreeOptions,
    gpu: Option<&GpuContext>,
) -> Result<TreeResult> {
    StepCtx::detached(gpu, |ctx| run_step(cloud, dtm, opts, ctx))
}

/// [`run`] with the step context: the CHM on `ctx.gpu`, progress after each phase (CHM,
/// tops, crowns, stems, metrics, understorey, species) and a cancel check between them.
pub fn run_step(
    cloud: &PointCloud,
    dtm: Option<&Raster>,
    opts: &TreeOptions,
    ctx: &mut StepCtx<'_>,
) -> Result<TreeResult> {
    run_step_from(&chm::ChmSource::Normalized(cloud), dtm, opts, ctx)
}

/// [`run_step`] from any [`chm::ChmSource`]. From [`chm::ChmSource::Terrain`] the CHM is made
/// from the terrain directly and the height-normalised cloud the later phases read is built
/// only once the CHM's layers are gone: the two are never in memory together (they were a
/// 1 M-point reconstruction's peak). Labels are per point of the source (its kept points, in
/// order).
pub fn run_step_from(
    src: &chm::ChmSource<'_>,
    dtm: Option<&Raster>,
    opts: &TreeOptions,
    ctx: &mut StepCtx<'_>,
) -> Result<TreeResult> {
    if !src.has_points() {
        return Err(ReconstructError::Input {
            step: "trees",
            reason: "the point cloud is empty".into(),
        });
    }
    ctx.report(0.0);
    let chm = chm::run_on_source(src, &opts.chm, ctx.gpu)?;
    ctx.report(0.25);
    ctx.check()?;
    let normalized = src.normalized();
    let cloud: &PointCloud = &normalized;
    let (surface, peaks) = if opts.close_px > 1 || opts.gaussian_sigma_m > 0.0 {
        let filled = chm_filter::close_disk(&chm::smooth_mean(&chm, opts.smooth_px), opts.close_px);
        let peaks = chm_filter::gaussian(&filled, opts.gaussian_sigma_m);
        (filled, peaks)
    } else {
        let s = chm::smooth_mean(&chm, opts.smooth_px);
        (s.clone(), s)
    };
    let tops = treetops::run(&peaks, &opts.treetops)?;
    ctx.report(0.35);
    ctx.check()?;
    let crowns = segment::run(&surface, &tops, &opts.crowns)?;
    ctx.report(0.5);
    ctx.check()?;
    let mut labels = segment::point_labels(cloud, &crowns, opts.crowns.th_tree_m);
    let stems = match &opts.stems {
        Some(s) => stem::find_stems(cloud, s)?,
        None => Vec::new(),
    };
    ctx.report(0.7);
    ctx.check()?;
    let mut trees = metrics(cloud, &labels, &crowns, &tops, &stems, dtm, opts);
    ctx.report(0.8);
    if let Some(u) = &opts.understorey {
        let lower = understorey::run(cloud, &mut labels, &trees, u, opts, dtm)?;
        trees.extend(lower);
    }
    ctx.report(0.9);
    ctx.check()?;
    let feats = species::features(cloud, &labels, &trees);
    for (t, call) in trees
        .iter_mut()
        .zip(species::classify(&feats, &opts.species))
    {
        t.species = Some(call);
    }
    ctx.report(1.0);
    Ok(TreeResult {
        chm,
        treetops: tops,
        crowns,
        labels,
        trees,
        stems,
    })
}

/// 2-D convex hull, counter-clockwise, without repeating the first point (Andrew 1979).
pub fn convex_hull(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut p: Vec<[f64; 2]> = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(2 * p.len());
    for &q in &p {
        while hull.len() >= 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0 {
            hull.pop();
        }
        hull.push(q);
    }
    let lower = hull.len() + 1;
    for &q in p.iter().rev().skip(1) {
        while hull.len() >= lower && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0 {
            hull.pop();
        }
        hull.push(q);
    }
    hull.pop();
    // The working capacity is twice the points; a crown of thousands of returns has a hull of
    // tens of corners, and every tree keeps its hull (22 MB of slack over a 1 M-point plot).
    hull.shrink_to_fit();
    hull
}

/// Crown base height from the heights of a tree's crown points (see the module docs).
pub fn crown_base_height(heights: &mut [f64], opts: &CrownBaseOptions) -> Option<f64> {
    if heights.len() < opts.min_points.max(1) {
        return None;
    }
    heights.sort_by(|a, b| b.total_cmp(a));
    let mut base = heights[0];
    for w in heights.windows(2) {
        if w[0] - w[1] > opts.max_gap_m {
            break;
        }
        base = w[1];
    }
    Some(base)
}

/// Per-tree metrics from the point labels (see the module docs). Tree `k` is crown `k + 1`.
pub fn metrics(
    cloud: &PointCloud,
    labels: &[u32],
    crowns: &Crowns,
    tops: &[Treetop],
    stems: &[StemFit],
    dtm: Option<&Raster>,
    opts: &TreeOptions,
) -> Vec<Tree> {
    let n = crowns.count as usize;
    // Points per tree.
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, &l) in labels.iter().enumerate() {
        if l != 0 && (l as usize) <= n {
            members[l as usize - 1].push(i as u32);
        }
    }
    let cells = crowns.cell_counts();
    let res2 = crowns.grid.resolution_m * crowns.grid.resolution_m;
    // The treetop: the highest of the tree's points within `top_search_m` of its seed cell
    // (or the seed cell itself). Not the highest of all its points: a crown's outer cells can
    // hold returns from a taller neighbour's overhanging branches.
    let lim = opts.top_search_m;
    let tops_xyz: Vec<[f64; 3]> = (0..n)
        .map(|k| {
            members[k]
                .iter()
                .map(|&i| cloud.absolute(i as usize))
                .filter(|p| (p[0] - tops[k].x).hypot(p[1] - tops[k].y) <= lim)
                // Ties (equal heights to the millimetre) go to the west-most, then south-most
                // point, by absolute millimetres: the same apex whatever the point order or the
                // cloud's origin, so a survey tile and the whole cloud agree.
                .max_by_key(|p| (mm(p[2]), -mm(p[0]), -mm(p[1])))
                .unwrap_or([tops[k].x, tops[k].y, tops[k].height_m])
        })
        .collect();
    // Stems → trees: one-to-one, nearest first, over the pairs where the tree's top is within
    // `max_stem_offset_m` of the stem or the stem stands in the tree's crown.
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (s_idx, s) in stems.iter().enumerate() {
        let under = crowns.id_at(s.x, s.y) as usize;
        for (k, t) in tops_xyz.iter().enumerate() {
            let d = (t[0] - s.x).hypot(t[1] - s.y);
            if d <= opts.max_stem_offset_m || under == k + 1 {
                pairs.push((d, s_idx, k));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut stem_of: Vec<Option<usize>> = vec![None; n];
    let mut stem_used = vec![false; stems.len()];
    for (_, s_idx, k) in pairs {
        if stem_of[k].is_none() && !stem_used[s_idx] {
            stem_of[k] = Some(s_idx);
            stem_used[s_idx] = true;
        }
    }
    use rayon::prelude::*;
    (0..n)
        .into_par_iter()
        .map(|k| {
            let top = tops_xyz[k];
            let stem = stem_of[k].map(|s| &stems[s]);
            let (ax, ay) = stem.map_or((top[0], top[1]), |s| (s.x, s.y));
            let area = cells[k + 1] as f64 * res2;
            let reach = opts.crown_base.radius_fraction * (area / std::f64::consts::PI).sqrt();
            let mut pts2 = Vec::with_capacity(members[k].len());
            let mut crown_h = Vec::with_capacity(members[k].len());
            for &i in &members[k] {
                let p = cloud.absolute(i as usize);
                pts2.push([p[0], p[1]]);
                let d = (p[0] - ax).hypot(p[1] - ay);
                if d > opts.crown_base.axis_exclusion_m
                    && d <= reach.max(opts.crown_base.axis_exclusion_m + 0.5)
                    && p[2] <= top[2]
                {
                    crown_h.push(p[2]);
                }
            }
            Tree {
                id: k as u32 + 1,
                x: top[0],
                y: top[1],
                ground_z: dtm.and_then(|d| d.sample(top[0], top[1])).unwrap_or(0.0),
                height_m: top[2],
                crown_area_m2: area,
                crown_diameter_m: 2.0 * (area / std::f64::consts::PI).sqrt(),
                crown_base_height_m: crown_base_height(&mut crown_h, &opts.crown_base),
                point_count: members[k].len() as u64,
                hull: convex_hull(&pts2),
                dbh_status: if stem.is_some() {
                    DbhStatus::Observed
                } else {
                    DbhStatus::NotObserved
                },
                dbh_cm: stem.map(|s| s.dbh_cm),
                dbh_fit_rms_cm: stem.map(|s| 100.0 * s.rms_m),
                species: None,
            }
        })
        .collect()
}

/// A coordinate in whole millimetres (the LAS quantum TwinMint writes), for comparisons that
/// must not depend on float noise.
fn mm(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}
