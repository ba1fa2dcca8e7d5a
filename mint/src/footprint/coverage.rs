//! Footprints from scan coverage: where the point cloud actually has points.
//!
//! 1. **Occupancy grid.** The cloud's XY, in its UTM plane (geographic clouds are projected into
//!    the UTM zone of their centre), is binned into `grid_m` squares aligned to multiples of
//!    `grid_m` in plane coordinates — not to the cloud's bounds — so two scans of one site share
//!    one lattice. A square with at least `min_points` points is occupied. Default 2 m and 2
//!    points: an ALS scan at 1 point/m² still expects 4 per square, and a lone noise point
//!    occupies nothing.
//! 2. **Closing** (dilation then erosion with a 3 × 3 square; Serra 1982, *Image Analysis and
//!    Mathematical Morphology*) fills single empty squares and gaps up to two squares wide —
//!    canopy gaps, water, occlusion shadows, dropouts between scan lines — without growing the
//!    outline.
//! 3. **Hole filling.** Empty regions enclosed by coverage (4-connected background components not
//!    reaching the grid's border) up to `fill_holes_m2` are filled: a pond or a clearing inside a
//!    plot is part of the plot; a large enclosed unscanned area is not claimed.
//! 4. **Claim.** An H3 cell is claimed when every grid square its closed hexagon touches is
//!    covered (exact: the squares tile the plane, so the hexagon lies in covered ground). The
//!    edge of the coverage is therefore always a little inside the scan: a scan of a 100 m
//!    square claims the cells wholly within it.
//!
//! Occupied squares are first split into groups more than 3 squares apart (closing cannot join
//! them), each rasterised on its own, so a few stray points kilometres away neither blow up the
//! raster nor claim anything.

use std::collections::{HashMap, HashSet, VecDeque};

use capture::PointCloud;
use h3o::CellIndex;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::cells::{self, Region};
use super::error::FootprintError;
use super::plane::{Georef, Plane, georef};

/// How scan coverage becomes a footprint (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoverageOptions {
    /// Occupancy grid square size, metres (0.25–20; default 2).
    pub grid_m: f64,
    /// Points a square needs to count as scanned (default 2).
    pub min_points: u32,
    /// Largest enclosed unscanned area that is filled, m² (default 2,500: a clearing or pond of
    /// 50 × 50 m inside a plot is part of it).
    pub fill_holes_m2: f64,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            grid_m: 2.0,
            min_points: 2,
            fill_holes_m2: 2_500.0,
        }
    }
}

impl CoverageOptions {
    fn validate(&self) -> Result<(), FootprintError> {
        let bad = |option, reason: String| Err(FootprintError::InvalidOption { option, reason });
        if !(self.grid_m.is_finite() && (0.25..=20.0).contains(&self.grid_m)) {
            return bad("grid_m", format!("{} m is outside 0.25–20 m", self.grid_m));
        }
        if self.min_points == 0 {
            return bad("min_points", "must be at least 1".into());
        }
        if !(self.fill_holes_m2.is_finite() && self.fill_holes_m2 >= 0.0) {
            return bad(
                "fill_holes_m2",
                format!("{} is not an area", self.fill_holes_m2),
            );
        }
        Ok(())
    }
}

/// The cells wholly inside the scan coverage of `cloud` (sorted, unique) and the covered area
/// in m². `label` names the cloud in messages.
pub(crate) fn claim(
    cloud: &PointCloud,
    opts: &CoverageOptions,
    label: &str,
) -> Result<(Vec<CellIndex>, f64), FootprintError> {
    opts.validate()?;
    let Some(geo) = georef(&cloud.crs) else {
        return Err(FootprintError::UnsupportedCloudCrs {
            cloud: label.to_string(),
            crs: cloud.crs.label(),
        });
    };
    let what = format!("the scan coverage of {label}");
    if cloud.is_empty() {
        return Err(cells::too_small(&what, 0.0));
    }
    let plane = match geo {
        Georef::Utm { zone, north } => Plane { zone, north },
        Georef::LonLat => {
            let c = cloud.bounds().center();
            Plane::at(c[1], c[0])
        }
    };
    let g = opts.grid_m;
    let counts = (0..cloud.len())
        .into_par_iter()
        .fold(HashMap::<(i64, i64), u32>::new, |mut m, i| {
            let p = cloud.absolute(i);
            let xy = match geo {
                Georef::Utm { .. } => [p[0], p[1]],
                Georef::LonLat => plane.forward(p[1], p[0]),
            };
            if xy[0].is_finite() && xy[1].is_finite() {
                let key = ((xy[0] / g).floor() as i64, (xy[1] / g).floor() as i64);
                *m.entry(key).or_default() += 1;
            }
            m
        })
        .reduce(HashMap::new, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        });
    let occupied: HashSet<(i64, i64)> = counts
        .into_iter()
        .filter(|&(_, n)| n >= opts.min_points)
        .map(|(k, _)| k)
        .collect();
    let hex_m2 = cells::resolution().area_m2();
    let mut claimed = Vec::new();
    let mut covered_m2 = 0.0;
    for group in groups(&occupied) {
        let raster = Raster::new(&group, g, opts.fill_holes_m2);
        covered_m2 += raster.covered_count() as f64 * g * g;
        if ((raster.nx * raster.ny) as f64) * g * g < 0.5 * hex_m2 {
            continue;
        }
        claimed.extend(cells::claim(&plane, raster.bbox(), &raster, &what)?);
        if claimed.len() > super::MAX_FOOTPRINT_CELLS {
            return Err(cells::too_large(&what, claimed.len() as u64));
        }
    }
    claimed.sort_unstable_by_key(|&c| u64::from(c));
    claimed.dedup();
    Ok((claimed, covered_m2))
}

/// Occupied squares grouped by links of at most 3 squares (Chebyshev), in a deterministic order.
pub fn groups(occupied: &HashSet<(i64, i64)>) -> Vec<Vec<(i64, i64)>> {
    let mut sorted: Vec<(i64, i64)> = occupied.iter().copied().collect();
    sorted.sort_unstable();
    let mut seen: HashSet<(i64, i64)> = HashSet::with_capacity(sorted.len());
    let mut out = Vec::new();
    for &start in &sorted {
        if !seen.insert(start) {
            continue;
        }
        let mut group = vec![start];
        let mut queue = VecDeque::from([start]);
        while let Some((i, j)) = queue.pop_front() {
            for di in -3..=3 {
                for dj in -3..=3 {
                    let n = (i + di, j + dj);
                    if occupied.contains(&n) && seen.insert(n) {
                        group.push(n);
                        queue.push_back(n);
                    }
                }
            }
        }
        out.push(group);
    }
    out
}

/// Covered squares of one group after closing and hole filling.
struct Raster {
    /// Grid index of the raster's first column and row.
    i0: i64,
    j0: i64,
    nx: usize,
    ny: usize,
    g: f64,
    covered: Vec<bool>,
}

/// Border of empty squares around a group: one for the dilation to grow into, one so the
/// background reaches around the group for hole detection.
const PAD: i64 = 2;

impl Raster {
    fn new(group: &[(i64, i64)], g: f64, fill_holes_m2: f64) -> Raster {
        let (mut lo, mut hi) = ((i64::MAX, i64::MAX), (i64::MIN, i64::MIN));
        for &(i, j) in group {
            lo = (lo.0.min(i), lo.1.min(j));
            hi = (hi.0.max(i), hi.1.max(j));
        }
        let (i0, j0) = (lo.0 - PAD, lo.1 - PAD);
        let nx = (hi.0 - lo.0 + 1 + 2 * PAD) as usize;
        let ny = (hi.1 - lo.1 + 1 + 2 * PAD) as usize;
        let mut occ = vec![false; nx * ny];
        for &(i, j) in group {
            occ[(j - j0) as usize * nx + (i - i0) as usize] = true;
        }
        let dilated = morph(&occ, nx, ny, true);
        let mut covered = morph(&dilated, nx, ny, false);
        fill_holes(
            &mut covered,
            nx,
            ny,
            (fill_holes_m2 / (g * g)).floor() as usize,
        );
        Raster {
            i0,
            j0,
            nx,
            ny,
            g,
            covered,
        }
    }

    fn covered_count(&self) -> usize {
        self.covered.iter().filter(|&&c| c).count()
    }

    fn bbox(&self) -> cells::Bbox {
        [
            self.i0 as f64 * self.g,
            self.j0 as f64 * self.g,
            (self.i0 + self.nx as i64) as f64 * self.g,
            (self.j0 + self.ny as i64) as f64 * self.g,
        ]
    }

    fn at(&self, i: i64, j: i64) -> bool {
        let (x, y) = (i - self.i0, j - self.j0);
        (0..self.nx as i64).contains(&x)
            && (0..self.ny as i64).contains(&y)
            && self.covered[y as usize * self.nx + x as usize]
    }

    fn index(&self, v: f64) -> i64 {
        (v / self.g).floor() as i64
    }
}

impl Region for Raster {
    fn may_hold(&self, c: [f64; 2]) -> bool {
        self.at(self.index(c[0]), self.index(c[1]))
    }

    fn holds(&self, hexagon: &[[f64; 2]]) -> bool {
        let b = cells::bbox_of(hexagon);
        for j in self.index(b[1])..=self.index(b[3]) {
            let y0 = j as f64 * self.g;
            let Some((xa, xb)) = cells::x_range_in_band(hexagon, y0, y0 + self.g) else {
                continue;
            };
            if !(self.index(xa)..=self.index(xb)).all(|i| self.at(i, j)) {
                return false;
            }
        }
        true
    }
}

/// 3 × 3 dilation (`grow`) or erosion; squares outside the raster count as empty.
pub fn morph(src: &[bool], nx: usize, ny: usize, grow: bool) -> Vec<bool> {
    let get = |x: i64, y: i64| {
        (0..nx as i64).contains(&x)
            && (0..ny as i64).contains(&y)
            && src[y as usize * nx + x as usize]
    };
    let mut out = vec![false; nx * ny];
    for y in 0..ny as i64 {
        for x in 0..nx as i64 {
            let mut any = false;
            let mut all = true;
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let v = get(x + dx, y + dy);
                    any |= v;
                    all &= v;
                }
            }
            out[y as usize * nx + x as usize] = if grow { any } else { all };
        }
    }
    out
}

/// Fill 4-connected empty components that do not reach the border and have at most
/// `max_squares` squares.
pub fn fill_holes(covered: &mut [bool], nx: usize, ny: usize, max_squares: usize) {
    let mut label = vec![false; nx * ny];
    let mut queue = VecDeque::new();
    for start in 0..nx * ny {
        if covered[start] || label[start] {
            continue;
        }
        label[start] = true;
        queue.push_back(start);
        let mut component = vec![start];
        let mut border = false;
        while let Some(k) = queue.pop_front() {
            let (x, y) = (k % nx, k / nx);
            border |= x == 0 || y == 0 || x == nx - 1 || y == ny - 1;
            let mut visit = |n: usize| {
                if !covered[n] && !label[n] {
                    label[n] = true;
                    queue.push_back(n);
                    component.push(n);
                }
            };
            if x > 0 {
                visit(k - 1);
            }
            if x + 1 < nx {
                visit(k + 1);
            }
            if y > 0 {
                visit(k - nx);
            }
            if y + 1 < ny {
                visit(k + nx);
            }
        }
        if !border && component.len() <= max_squares {
            for k in component {
                covered[k] = true;
            }
        }
    }
}
