//! Crowns: seeded region growing on the canopy height model (Dalponte & Coomes 2016,
//! *Tree-centric mapping of forest carbon density from airborne laser scanning and hyperspectral
//! data*, Methods Ecol. Evol. 7:1236–1245), then a tree id for every point.
//!
//! Each treetop seeds a region. Regions grow in sweeps over the raster: a labelled cell offers its
//! four neighbours to its region, and an unlabelled neighbour of height `z` joins when
//!
//! - `z > th_tree` (not ground or shrub),
//! - `z > th_seed · h_seed` and `z > th_cr · mean(region)` (still on this crown's flank, not in the
//!   valley to the next one),
//! - `z ≤ 1.05 · h_seed` (not climbing a taller neighbour), and
//! - it lies within `max_crown_half_width_m` of the seed along each axis,
//!
//! until a sweep adds nothing. The criteria and defaults (th_tree 2 m, th_seed 0.45, th_cr 0.55,
//! 1.05) are lidR's `dalponte2016` (Roussel et al. 2020), whose C++ port of the paper also limits
//! |Δrow| and |Δcol| to `max_cr` = 10 cells; at 0.5 m cells that is our default 5 m. Within one
//! sweep the decisions use the labels of the previous sweep (as in lidR); a cell offered by two
//! regions in the same sweep goes to the first in raster order.
//!
//! Points then take the crown id of their cell when they are at least `th_tree` high
//! ([`point_labels`]); 0 means "no tree".

use serde::{Deserialize, Serialize};

use capture::PointCloud;

use crate::chm::clamped_cell;
use crate::error::{ReconstructError, Result};
use crate::model::Raster;
use crate::treetops::Treetop;

/// Options of [`run`] (Dalponte & Coomes 2016 via lidR `dalponte2016` defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrownOptions {
    /// Cells at or below this height never join a crown (default 2 m).
    pub th_tree_m: f64,
    /// A cell joins only above this fraction of the seed's height (default 0.45).
    pub th_seed: f64,
    /// … and above this fraction of the region's current mean height (default 0.55).
    pub th_cr: f64,
    /// … and no higher than this factor × the seed's height (default 1.05).
    pub max_rise: f64,
    /// Cells farther than this from the seed along x or y never join (default 5 m: lidR's
    /// `max_cr = 10` cells at 0.5 m resolution; lidR applies it per axis as a half-width).
    pub max_crown_half_width_m: f64,
}

impl Default for CrownOptions {
    fn default() -> Self {
        CrownOptions {
            th_tree_m: 2.0,
            th_seed: 0.45,
            th_cr: 0.55,
            max_rise: 1.05,
            max_crown_half_width_m: 5.0,
        }
    }
}

impl CrownOptions {
    pub fn validate(&self) -> Result<()> {
        let frac = |v: f64| (0.0..=1.0).contains(&v);
        if !frac(self.th_seed) || !frac(self.th_cr) {
            return Err(ReconstructError::InvalidOption {
                option: "crowns th_seed/th_cr",
                reason: format!("{} and {} must lie in [0, 1]", self.th_seed, self.th_cr),
            });
        }
        if !(self.max_crown_half_width_m.is_finite() && self.max_crown_half_width_m > 0.0) {
            return Err(ReconstructError::InvalidOption {
                option: "crowns max_crown_half_width_m",
                reason: format!("{} is not a positive length", self.max_crown_half_width_m),
            });
        }
        if !(self.th_tree_m.is_finite() && self.max_rise.is_finite() && self.max_rise >= 1.0) {
            return Err(ReconstructError::InvalidOption {
                option: "crowns th_tree_m/max_rise",
                reason: "th_tree_m must be finite and max_rise ≥ 1".into(),
            });
        }
        Ok(())
    }
}

/// The crown map: per CHM cell the id (1-based, the index into the treetops + 1) of the crown it
/// belongs to, 0 for none.
#[derive(Clone, Debug, PartialEq)]
pub struct Crowns {
    /// Same grid as the CHM (`data` unused: see `labels`).
    pub grid: Raster,
    /// `width × height` crown ids, row-major from the north-west corner.
    pub labels: Vec<u32>,
    /// Number of crowns (= number of treetops; ids run 1..=count).
    pub count: u32,
}

impl Crowns {
    /// Crown id at an absolute position (0 outside the grid or outside every crown).
    pub fn id_at(&self, x: f64, y: f64) -> u32 {
        self.grid
            .cell_of(x, y)
            .map_or(0, |(c, r)| self.labels[r * self.grid.width + c])
    }
    /// Cells per crown, indexed by id (entry 0 counts unlabelled cells).
    pub fn cell_counts(&self) -> Vec<u64> {
        let mut n = vec![0u64; self.count as usize + 1];
        self.labels.iter().for_each(|&l| n[l as usize] += 1);
        n
    }
}

/// Grow one crown per treetop on `chm`. Treetop `k` gets crown id `k + 1`.
pub fn run(chm: &Raster, tops: &[Treetop], opts: &CrownOptions) -> Result<Crowns> {
    opts.validate()?;
    let (w, h) = (chm.width, chm.height);
    let z = |i: usize| {
        let v = chm.data[i];
        if chm.is_nodata(v) {
            f64::NEG_INFINITY
        } else {
            v as f64
        }
    };
    let mut labels = vec![0u32; w * h];
    let mut seed_h = Vec::with_capacity(tops.len());
    let mut seed_cell = Vec::with_capacity(tops.len());
    let mut sum = Vec::with_capacity(tops.len());
    let mut npx = Vec::with_capacity(tops.len());
    for (k, t) in tops.iter().enumerate() {
        if t.col >= w || t.row >= h {
            return Err(ReconstructError::Input {
                step: "crowns",
                reason: format!("treetop {k} lies outside the CHM"),
            });
        }
        let i = t.row * w + t.col;
        labels[i] = k as u32 + 1;
        let hz = z(i);
        seed_h.push(hz);
        seed_cell.push((t.col as isize, t.row as isize));
        sum.push(hz);
        npx.push(1u64);
    }
    let lim = opts.max_crown_half_width_m / chm.resolution_m;
    let mut next = labels.clone();
    // Cells that gained a label in the last sweep (and their neighbours) are the only ones that
    // can change; scanning just those keeps the sweeps O(frontier).
    let mut frontier: Vec<usize> = (0..w * h).filter(|&i| labels[i] != 0).collect();
    while !frontier.is_empty() {
        let mut grown = Vec::new();
        for &i in &frontier {
            let id = labels[i];
            let k = (id - 1) as usize;
            let hs = seed_h[k];
            let (sc, sr) = seed_cell[k];
            let (c, r) = ((i % w) as isize, (i / w) as isize);
            for (dc, dr) in [(0isize, -1isize), (-1, 0), (1, 0), (0, 1)] {
                let (cc, rr) = (c + dc, r + dr);
                if cc < 0 || rr < 0 || cc >= w as isize || rr >= h as isize {
                    continue;
                }
                let j = rr as usize * w + cc as usize;
                if labels[j] != 0 || next[j] != 0 {
                    continue;
                }
                let zj = z(j);
                let mean = sum[k] / npx[k] as f64;
                if zj > opts.th_tree_m
                    && zj > hs * opts.th_seed
                    && zj > mean * opts.th_cr
                    && zj <= hs * opts.max_rise
                    && (((cc - sc).abs() as f64) < lim)
                    && (((rr - sr).abs() as f64) < lim)
                {
                    next[j] = id;
                    sum[k] += zj;
                    npx[k] += 1;
                    grown.push(j);
                }
            }
        }
        if grown.is_empty() {
            break;
        }
        for &j in &grown {
            labels[j] = next[j];
        }
        // Next sweep: every labelled cell that still has an unlabelled neighbour — the new
        // ones, and the old frontier (its region's mean changed, so a refused cell may join).
        grown.extend(frontier.iter().copied());
        grown.sort_unstable();
        grown.dedup();
        grown.retain(|&i| {
            let (c, r) = (i % w, i / w);
            (r > 0 && labels[i - w] == 0)
                || (c > 0 && labels[i - 1] == 0)
                || (c + 1 < w && labels[i + 1] == 0)
                || (r + 1 < h && labels[i + w] == 0)
        });
        frontier = grown;
    }
    let mut grid = chm.clone();
    grid.data = Vec::new();
    Ok(Crowns {
        grid,
        labels,
        count: tops.len() as u32,
    })
}

/// Tree id of every point: the crown id of its cell when its height (z, the cloud being
/// height-normalised) is at least `th_tree_m`, else 0.
pub fn point_labels(cloud: &PointCloud, crowns: &Crowns, th_tree_m: f64) -> Vec<u32> {
    use rayon::prelude::*;
    let o = cloud.origin;
    let g = &crowns.grid;
    cloud
        .positions
        .par_iter()
        .map(|p| {
            let (x, y, z) = (o[0] + p[0] as f64, o[1] + p[1] as f64, o[2] + p[2] as f64);
            if z < th_tree_m {
                return 0;
            }
            match g.cell_of(x, y) {
                Some((c, r)) => crowns.labels[r * g.width + c],
                None => {
                    // Points on the grid's outer edge (f64 rounding) still belong to a cell.
                    let (c, r) = clamped_cell(g, x, y);
                    let inside = x >= g.x_min - 1e-6
                        && y <= g.y_max + 1e-6
                        && x <= g.x_min + g.width as f64 * g.resolution_m + 1e-6
                        && y >= g.y_max - g.height as f64 * g.resolution_m - 1e-6;
                    if inside {
                        crowns.labels[r * g.width + c]
                    } else {
                        0
                    }
                }
            }
        })
        .collect()
}
