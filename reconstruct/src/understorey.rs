//! Trees under the canopy: a second, layered pass over the points the canopy pass left below
//! the overstorey crowns (Duncanson et al. 2014, *An efficient, multi-layered crown delineation
//! algorithm for mapping individual tree structure across multiple ecosystems*, Remote Sens.
//! Environ. 154:378–386: delineate the top layer, remove its crowns' points, delineate again).
//!
//! A CHM sees only the tops that reach the canopy surface; in multi-layer stands (mountain
//! mixed forests, uneven-aged stands) a third or more of the trees stand under a taller crown.
//! Airborne pulses that pass through gaps in the foliage return from their crowns too, as later
//! returns. The pass keeps every point at least `below_base_m` under the crown base of the
//! overstorey tree whose crown it falls in (and every point outside the overstorey crowns),
//! rasterises all of their returns (not only first returns) into a second CHM, and runs the
//! same closing, smoothing, local maxima and region growing on it. A candidate becomes a tree
//! only with `min_points` returns in its crown: a few returns off a stem or a branch are not
//! a tree.

use serde::{Deserialize, Serialize};

use capture::PointCloud;

use crate::chm::{self, ChmMethod, ChmOptions};
use crate::chm_filter;
use crate::error::Result;
use crate::model::Tree;
use crate::segment::{self, CrownOptions};
use crate::treetops::{self, TreetopOptions, WindowSize};

/// Options of [`run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnderstoreyOptions {
    /// Points count as under the canopy this far below the overstorey tree's crown base
    /// (default 1 m: the crown base estimate's typical error on the simulator's stands).
    pub below_base_m: f64,
    /// Crown base assumed, as a fraction of height, for overstorey trees without an estimate
    /// (default 0.5: the middle of the 0.4–0.6 live-crown ratios of closed stands).
    pub fallback_base_fraction: f64,
    /// CHM cell size of the lower layer (default 0.5 m).
    pub resolution_m: f64,
    /// Closing disk of the lower-layer CHM (default 5 cells, as the canopy pass of
    /// [`crate::trees::TreeOptions::sparse_als`]).
    pub close_px: usize,
    /// Gaussian σ of the lower-layer CHM (default 0.5 m: fewer returns per crown than at the
    /// canopy surface, so a little more smoothing).
    pub gaussian_sigma_m: f64,
    /// Local maxima of the lower layer (default a 3 m window, lowest top 4 m: understorey
    /// crowns are narrow; below 4 m it is regeneration and shrubs).
    pub treetops: TreetopOptions,
    /// Fewest returns in a lower-layer crown (default 20: with 8, the lower layer of
    /// MixedConifer.laz doubled the tree count with branch fragments).
    pub min_points: usize,
    /// Empty space required above a lower-layer top (default 1.5 m): within `gap_radius_m`
    /// of it no return may lie between its top and this much higher. A suppressed tree has
    /// air between its top and the crown above it; a fragment of an overstorey crown (the
    /// lower flank of a tree the canopy pass merged into a neighbour) has foliage right above.
    pub gap_above_m: f64,
    /// Radius of that column (default 1 m).
    pub gap_radius_m: f64,
}

impl Default for UnderstoreyOptions {
    fn default() -> Self {
        UnderstoreyOptions {
            below_base_m: 1.0,
            fallback_base_fraction: 0.5,
            resolution_m: 0.5,
            close_px: 5,
            gaussian_sigma_m: 0.5,
            treetops: TreetopOptions {
                window: WindowSize::Fixed { diameter_m: 3.0 },
                hmin_m: 4.0,
            },
            min_points: 20,
            gap_above_m: 1.5,
            gap_radius_m: 1.0,
        }
    }
}

/// Lower-layer trees of a height-normalised cloud given the canopy pass's per-point labels and
/// trees. Returns the new trees (ids continuing after `trees`) and updates `labels` for their
/// points. `top_search_m` and `crown_base` follow the canopy pass ([`crate::trees::metrics`]).
pub fn run(
    cloud: &PointCloud,
    labels: &mut [u32],
    trees: &[Tree],
    opts: &UnderstoreyOptions,
    tree_opts: &crate::trees::TreeOptions,
    dtm: Option<&crate::model::Raster>,
) -> Result<Vec<Tree>> {
    let th = tree_opts.crowns.th_tree_m;
    let base: Vec<f64> = trees
        .iter()
        .map(|t| {
            t.crown_base_height_m
                .unwrap_or(opts.fallback_base_fraction * t.height_m)
        })
        .collect();
    // A point is under the canopy when it lies below the crown base of every overstorey tree
    // whose crown circle covers it — not only the tree whose CHM cell holds it: near the
    // boundary between two crowns the lower flank of the neighbour's crown reaches under this
    // tree's base, and would otherwise become a false "tree".
    let reach = trees
        .iter()
        .map(|t| t.crown_diameter_m / 2.0)
        .fold(1.0f64, f64::max);
    let key = |x: f64, y: f64| ((x / reach).floor() as i64, (y / reach).floor() as i64);
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    for (k, t) in trees.iter().enumerate() {
        grid.entry(key(t.x, t.y)).or_default().push(k);
    }
    let under = |p: [f64; 3]| {
        let (kx, ky) = key(p[0], p[1]);
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(v) = grid.get(&(kx + dx, ky + dy)) {
                    for &k in v {
                        let t = &trees[k];
                        if (p[0] - t.x).hypot(p[1] - t.y) <= t.crown_diameter_m / 2.0
                            && p[2] >= base[k] - opts.below_base_m
                        {
                            return false;
                        }
                    }
                }
            }
        }
        true
    };
    let keep: Vec<usize> = (0..cloud.len())
        .filter(|&i| {
            let p = cloud.absolute(i);
            if p[2] < th {
                return false;
            }
            let own = match labels[i] {
                0 => true,
                l => base
                    .get(l as usize - 1)
                    .is_some_and(|b| p[2] < b - opts.below_base_m),
            };
            own && under(p)
        })
        .collect();
    if keep.len() < opts.min_points.max(3) {
        return Ok(Vec::new());
    }
    let sub = cloud.select(&keep);
    let chm2 = chm::run(
        &sub,
        &ChmOptions {
            method: ChmMethod::PointToRaster,
            resolution_m: opts.resolution_m,
            first_returns_only: false,
            ..Default::default()
        },
    )?;
    let filled = chm_filter::close_disk(&chm2, opts.close_px);
    let peaks = chm_filter::gaussian(&filled, opts.gaussian_sigma_m);
    let tops = treetops::run(&peaks, &opts.treetops)?;
    if tops.is_empty() {
        return Ok(Vec::new());
    }
    let crowns = segment::run(&filled, &tops, &CrownOptions::default())?;
    let sub_labels = segment::point_labels(&sub, &crowns, th);
    let cell_m = opts.gap_radius_m.max(0.25);
    let column = ColumnIndex::new(cloud, cell_m);
    let found = crate::trees::metrics(&sub, &sub_labels, &crowns, &tops, &[], dtm, tree_opts);
    // Keep the candidates with enough returns; renumber after the canopy trees.
    let mut new_id = vec![0u32; found.len() + 1];
    let mut out = Vec::new();
    let clear_above = |t: &Tree| {
        let r = opts.gap_radius_m;
        !column
            .query(t.x, t.y, r)
            .any(|z| z > t.height_m + 0.05 && z < t.height_m + opts.gap_above_m)
    };
    for (k, t) in found.into_iter().enumerate() {
        if (t.point_count as usize) < opts.min_points || !clear_above(&t) {
            continue;
        }
        let id = (trees.len() + out.len()) as u32 + 1;
        new_id[k + 1] = id;
        out.push(Tree { id, ..t });
    }
    for (j, &i) in keep.iter().enumerate() {
        let l = sub_labels[j] as usize;
        if l != 0 && new_id[l] != 0 {
            labels[i] = new_id[l];
        }
    }
    Ok(out)
}

/// Heights of a cloud's points by horizontal cell, for column queries.
struct ColumnIndex<'a> {
    cloud: &'a PointCloud,
    cell: f64,
    cells: std::collections::HashMap<(i64, i64), Vec<u32>>,
}

impl<'a> ColumnIndex<'a> {
    fn new(cloud: &'a PointCloud, cell: f64) -> Self {
        let mut cells: std::collections::HashMap<(i64, i64), Vec<u32>> = Default::default();
        for i in 0..cloud.len() {
            let p = cloud.absolute(i);
            cells
                .entry(((p[0] / cell).floor() as i64, (p[1] / cell).floor() as i64))
                .or_default()
                .push(i as u32);
        }
        ColumnIndex { cloud, cell, cells }
    }

    /// Heights of the points within `r` of (x, y).
    fn query(&self, x: f64, y: f64, r: f64) -> impl Iterator<Item = f64> + '_ {
        let (x0, x1) = (
            ((x - r) / self.cell).floor() as i64,
            ((x + r) / self.cell).floor() as i64,
        );
        let (y0, y1) = (
            ((y - r) / self.cell).floor() as i64,
            ((y + r) / self.cell).floor() as i64,
        );
        (x0..=x1)
            .flat_map(move |cx| (y0..=y1).map(move |cy| (cx, cy)))
            .filter_map(|k| self.cells.get(&k))
            .flatten()
            .map(|&i| self.cloud.absolute(i as usize))
            .filter(move |p| (p[0] - x).hypot(p[1] - y) <= r)
            .map(|p| p[2])
    }
}
