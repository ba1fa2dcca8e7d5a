//! Claiming H3 cells: enumerate the cells around an area and keep those whose whole hexagon lies
//! inside it, plus the small planar geometry this needs.
//!
//! h3o's own polygon filler (`geo` feature) claims cells by centroid, which would give a cell on
//! a shared boundary to both neighbours, or to neither; the rule here is stricter — the closed
//! hexagon must lie in the area — so two areas with disjoint interiors can never claim the same
//! cell, whatever their shapes.

use std::collections::{HashSet, VecDeque};

use h3o::{CellIndex, LatLng, Resolution};
use rayon::prelude::*;

use super::error::FootprintError;
use super::plane::Plane;
use super::{FOOTPRINT_RESOLUTION, MAX_FOOTPRINT_CELLS};

/// The footprint resolution as h3o's type.
pub fn resolution() -> Resolution {
    Resolution::try_from(FOOTPRINT_RESOLUTION).expect("FOOTPRINT_RESOLUTION is 0..=15")
}

/// Average hexagon edge at the footprint resolution (m).
pub(crate) fn edge_m() -> f64 {
    resolution().edge_length_m()
}

/// Candidate enumeration gives up beyond this many cells: a bounding box this large could only
/// produce a footprint over the cap (or is a thin diagonal strip better split anyway), and
/// enumerating it would take minutes.
const MAX_CANDIDATES: u64 = 20 * MAX_FOOTPRINT_CELLS as u64;

/// An area cells are claimed from, in plane metres.
pub trait Region: Sync {
    /// Cheap necessary condition, tested on the cell centre before the hexagon is computed.
    fn may_hold(&self, centre: [f64; 2]) -> bool;
    /// Whether the closed hexagon (plane vertices in boundary order) lies wholly inside, given
    /// that `may_hold(centre)` is true.
    fn holds(&self, hexagon: &[[f64; 2]]) -> bool;
}

/// Axis-aligned box in plane metres: `[min_x, min_y, max_x, max_y]`.
pub type Bbox = [f64; 4];

pub(crate) fn bbox_of<'a>(points: impl IntoIterator<Item = &'a [f64; 2]>) -> Bbox {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in points {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

fn cell_centre(plane: &Plane, cell: CellIndex) -> [f64; 2] {
    let ll = LatLng::from(cell);
    plane.forward(ll.lat(), ll.lng())
}

/// The cell's boundary projected into the plane, in H3's vertex order.
pub fn hexagon(plane: &Plane, cell: CellIndex) -> Vec<[f64; 2]> {
    cell.boundary()
        .iter()
        .map(|ll| plane.forward(ll.lat(), ll.lng()))
        .collect()
}

/// Every cell whose closed hexagon `region` holds, among the cells near `bbox` (sorted by id).
///
/// Cells are enumerated by breadth-first search over H3 neighbours from the cell at the box's
/// centre, through cells whose centre lies within the box grown by three average edge lengths.
/// A hexagon reaches about one edge length (its circumradius) from its centre, so every cell
/// meeting the box passes that test; and the cells meeting the box form an edge-connected set
/// (hexagons meeting a convex set do, in a hexagonal tiling) that contains the seed, so the
/// search reaches every cell the area could hold.
pub(crate) fn claim(
    plane: &Plane,
    bbox: Bbox,
    region: &dyn Region,
    what: &str,
) -> Result<Vec<CellIndex>, FootprintError> {
    let margin = 3.0 * edge_m();
    let grown = [
        bbox[0] - margin,
        bbox[1] - margin,
        bbox[2] + margin,
        bbox[3] + margin,
    ];
    let box_area = (grown[2] - grown[0]) * (grown[3] - grown[1]);
    let estimate = (box_area / resolution().area_m2()).ceil() as u64;
    if estimate > MAX_CANDIDATES {
        return Err(too_large(what, estimate));
    }
    let inside = |p: [f64; 2]| {
        (grown[0]..=grown[2]).contains(&p[0]) && (grown[1]..=grown[3]).contains(&p[1])
    };
    let (lat, lon) = plane.inverse([0.5 * (bbox[0] + bbox[2]), 0.5 * (bbox[1] + bbox[3])]);
    let seed = LatLng::new(lat, lon)
        .map_err(|e| FootprintError::InvalidOption {
            option: "area",
            reason: format!("{what}: centre ({lat}, {lon}) is not a coordinate: {e}"),
        })?
        .to_cell(resolution());
    let mut seen: HashSet<CellIndex> = HashSet::from([seed]);
    let mut queue = VecDeque::from([seed]);
    let mut candidates = vec![(seed, cell_centre(plane, seed))];
    let mut neighbours = Vec::with_capacity(7);
    while let Some(cell) = queue.pop_front() {
        neighbours.clear();
        neighbours.extend(cell.grid_disk_safe(1));
        for &n in &neighbours {
            if !seen.insert(n) {
                continue;
            }
            let c = cell_centre(plane, n);
            if inside(c) {
                candidates.push((n, c));
                queue.push_back(n);
                if candidates.len() as u64 > MAX_CANDIDATES {
                    return Err(too_large(what, candidates.len() as u64));
                }
            }
        }
    }
    let mut cells: Vec<CellIndex> = candidates
        .into_par_iter()
        .filter(|&(_, c)| region.may_hold(c))
        .filter(|&(cell, _)| region.holds(&hexagon(plane, cell)))
        .map(|(cell, _)| cell)
        .collect();
    cells.sort_unstable_by_key(|&c| u64::from(c));
    if cells.len() > MAX_FOOTPRINT_CELLS {
        return Err(too_large(what, cells.len() as u64));
    }
    Ok(cells)
}

pub(crate) fn too_large(what: &str, cells: u64) -> FootprintError {
    FootprintError::TooLarge {
        what: what.to_string(),
        cells,
        resolution: FOOTPRINT_RESOLUTION,
        max: MAX_FOOTPRINT_CELLS,
        max_ha: MAX_FOOTPRINT_CELLS as f64 * resolution().area_m2() / 10_000.0,
    }
}

pub(crate) fn too_small(what: &str, area_m2: f64) -> FootprintError {
    let e = edge_m();
    // Any point lies within one circumradius (≈ one edge) of some cell centre, and that cell's
    // hexagon lies within one more circumradius: a disc of radius 2e, i.e. any area 4e wide in
    // every direction, always holds a whole cell.
    FootprintError::TooSmall {
        what: what.to_string(),
        area_m2,
        resolution: FOOTPRINT_RESOLUTION,
        cell_m2: resolution().area_m2(),
        cell_width_m: 2.0 * e,
        min_width_m: 4.0 * e,
        min_area_m2: 16.0 * e * e,
    }
}

/// Twice the signed area of triangle (a, b, c): > 0 when c is left of a→b.
fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Whether `p` lies in or on the convex polygon `poly` (either orientation).
pub fn in_convex(p: [f64; 2], poly: &[[f64; 2]]) -> bool {
    let (mut pos, mut neg) = (false, false);
    for i in 0..poly.len() {
        let o = orient(poly[i], poly[(i + 1) % poly.len()], p);
        pos |= o > 0.0;
        neg |= o < 0.0;
    }
    !(pos && neg)
}

fn on_segment(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Whether closed segments a–b and c–d share a point.
pub fn segments_meet(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(c, d, a))
        || (d2 == 0.0 && on_segment(c, d, b))
        || (d3 == 0.0 && on_segment(a, b, c))
        || (d4 == 0.0 && on_segment(a, b, d))
}

/// Whether the closed segment a–b meets the closed convex polygon `poly`.
pub fn segment_meets_convex(a: [f64; 2], b: [f64; 2], poly: &[[f64; 2]]) -> bool {
    in_convex(a, poly)
        || in_convex(b, poly)
        || (0..poly.len()).any(|i| segments_meet(a, b, poly[i], poly[(i + 1) % poly.len()]))
}

/// The x-range of the closed convex polygon `poly` within the horizontal band `y0 ≤ y ≤ y1`,
/// or `None` when they do not meet.
pub fn x_range_in_band(poly: &[[f64; 2]], y0: f64, y1: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        let (ymin, ymax) = (p[1].min(q[1]), p[1].max(q[1]));
        if ymax < y0 || ymin > y1 {
            continue;
        }
        if p[1] == q[1] {
            lo = lo.min(p[0].min(q[0]));
            hi = hi.max(p[0].max(q[0]));
            continue;
        }
        // The part of the edge inside the band, by its parameter along p→q.
        let t_at = |y: f64| (y - p[1]) / (q[1] - p[1]);
        let (ta, tb) = (t_at(y0.max(ymin)), t_at(y1.min(ymax)));
        for t in [ta, tb] {
            let x = p[0] + t.clamp(0.0, 1.0) * (q[0] - p[0]);
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (lo <= hi).then_some((lo, hi))
}
