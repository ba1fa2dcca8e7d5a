//! Canopy loss between two surveys: where the previous canopy height model showed canopy and the
//! new one shows an opening down to the ground, as polygons with their area.
//!
//! A cell of the previous CHM is lost when it stood at least `canopy_m` tall and the new CHM at
//! its centre is below `gap_m` — the two-threshold gap definition of LiDAR gap-dynamics studies
//! (Vepakomma, St-Onge & Kneeshaw 2008, *Remote Sens. Environ.* 112:2326, who use 5 m canopy and
//! 2 m gap heights too). Lost cells are grouped 8-connected; groups under `min_area_m2` (a single
//! crown edge that moved) are dropped. Each polygon is the convex hull of its cells' corners,
//! with the area counted from the cells.

use serde::{Deserialize, Serialize};

use crate::error::{Result, ResurveyError};
use reconstruct::model::Raster;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanopyOptions {
    pub canopy_m: f64,
    pub gap_m: f64,
    pub min_area_m2: f64,
}

impl Default for CanopyOptions {
    fn default() -> Self {
        CanopyOptions {
            canopy_m: 5.0,
            gap_m: 2.0,
            min_area_m2: 10.0,
        }
    }
}

/// One opening.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossPolygon {
    pub area_m2: f64,
    pub centroid: [f64; 2],
    /// Convex outline, absolute coordinates, counter-clockwise.
    pub outline: Vec<[f64; 2]>,
}

/// All openings and their total area.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct CanopyLoss {
    pub options: CanopyOptions,
    pub area_m2: f64,
    /// Previous canopy area (cells ≥ `canopy_m`), for the share lost.
    pub canopy_before_m2: f64,
    pub polygons: Vec<LossPolygon>,
}

/// Canopy loss from `before` to `now` on `before`'s grid (module docs).
pub fn canopy_loss(before: &Raster, now: &Raster, o: &CanopyOptions) -> Result<CanopyLoss> {
    let area_ok = o.min_area_m2.is_finite() && o.min_area_m2 >= 0.0;
    if !(area_ok
        && o.canopy_m.is_finite()
        && o.gap_m.is_finite()
        && o.gap_m >= 0.0
        && o.canopy_m > o.gap_m)
    {
        return Err(ResurveyError::InvalidOption {
            option: "canopy",
            reason: "needs canopy_m > gap_m ≥ 0 and min_area_m2 ≥ 0".into(),
        });
    }
    let (w, h) = (before.width, before.height);
    let cell_area = before.resolution_m * before.resolution_m;
    let mut lost = vec![false; w * h];
    let mut canopy = 0usize;
    for r in 0..h {
        for c in 0..w {
            let v = before.get(c, r);
            if before.is_nodata(v) || (v as f64) < o.canopy_m {
                continue;
            }
            canopy += 1;
            let (x, y) = before.center(c, r);
            if let Some(n) = now.sample(x, y)
                && n < o.gap_m
            {
                lost[r * w + c] = true;
            }
        }
    }
    let mut seen = vec![false; w * h];
    let mut polygons = Vec::new();
    for start in 0..w * h {
        if !lost[start] || seen[start] {
            continue;
        }
        let mut stack = vec![start];
        seen[start] = true;
        let mut cells = Vec::new();
        while let Some(k) = stack.pop() {
            cells.push(k);
            let (r, c) = ((k / w) as isize, (k % w) as isize);
            for dr in -1..=1 {
                for dc in -1..=1 {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= h as isize || cc >= w as isize {
                        continue;
                    }
                    let kk = rr as usize * w + cc as usize;
                    if lost[kk] && !seen[kk] {
                        seen[kk] = true;
                        stack.push(kk);
                    }
                }
            }
        }
        let area = cells.len() as f64 * cell_area;
        if area < o.min_area_m2 {
            continue;
        }
        polygons.push(polygon(before, &cells, area));
    }
    polygons.sort_by(|a, b| b.area_m2.total_cmp(&a.area_m2));
    Ok(CanopyLoss {
        options: o.clone(),
        area_m2: polygons.iter().map(|p| p.area_m2).sum(),
        canopy_before_m2: canopy as f64 * cell_area,
        polygons,
    })
}

fn polygon(grid: &Raster, cells: &[usize], area: f64) -> LossPolygon {
    let half = grid.resolution_m / 2.0;
    let mut pts = Vec::with_capacity(cells.len() * 4);
    let (mut sx, mut sy) = (0.0, 0.0);
    for &k in cells {
        let (x, y) = grid.center(k % grid.width, k / grid.width);
        sx += x;
        sy += y;
        for (dx, dy) in [(-half, -half), (half, -half), (half, half), (-half, half)] {
            pts.push([x + dx, y + dy]);
        }
    }
    let n = cells.len() as f64;
    LossPolygon {
        area_m2: area,
        centroid: [sx / n, sy / n],
        outline: reconstruct::trees::convex_hull(&pts),
    }
}
