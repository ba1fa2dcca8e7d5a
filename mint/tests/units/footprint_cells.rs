//! Tests of `mint::footprint::cells` (src/footprint/cells.rs).
use h3o::LatLng;
use mint::footprint::cells::*;
use mint::footprint::plane::Plane;

const SQUARE: [[f64; 2]; 4] = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];

#[test]
fn convex_containment_is_closed() {
    assert!(in_convex([1.0, 1.0], &SQUARE));
    assert!(in_convex([2.0, 1.0], &SQUARE), "on an edge counts");
    assert!(!in_convex([2.1, 1.0], &SQUARE));
    let mut cw = SQUARE;
    cw.reverse();
    assert!(in_convex([1.0, 1.0], &cw));
}

#[test]
fn segments() {
    assert!(segments_meet(
        [0.0, 0.0],
        [2.0, 2.0],
        [0.0, 2.0],
        [2.0, 0.0]
    ));
    assert!(!segments_meet(
        [0.0, 0.0],
        [1.0, 0.0],
        [0.0, 1.0],
        [1.0, 1.0]
    ));
    assert!(
        segments_meet([0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0]),
        "touching"
    );
    assert!(
        segment_meets_convex([-1.0, 1.0], [3.0, 1.0], &SQUARE),
        "crossing"
    );
    assert!(
        segment_meets_convex([0.5, 0.5], [0.6, 0.6], &SQUARE),
        "inside"
    );
    assert!(!segment_meets_convex([3.0, 0.0], [3.0, 3.0], &SQUARE));
}

#[test]
fn band_ranges() {
    let diamond = [[0.0, -1.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]];
    assert_eq!(x_range_in_band(&diamond, -0.5, 0.5), Some((-1.0, 1.0)));
    assert_eq!(x_range_in_band(&diamond, 0.5, 2.0), Some((-0.5, 0.5)));
    assert_eq!(x_range_in_band(&diamond, 1.0, 2.0), Some((0.0, 0.0)));
    assert_eq!(x_range_in_band(&diamond, 1.5, 2.0), None);
    assert_eq!(x_range_in_band(&SQUARE, 0.5, 1.0), Some((0.0, 2.0)));
}

/// The hexagons of neighbouring cells share their vertices: the tiling has no gaps for
/// coverage or parcels to fall into.
#[test]
fn neighbours_share_vertices() {
    let plane = Plane::at(45.1, 15.0);
    let cell = LatLng::new(45.1, 15.0).unwrap().to_cell(resolution());
    let h = hexagon(&plane, cell);
    assert_eq!(h.len(), 6);
    for n in cell.grid_disk_safe(1).filter(|&n| n != cell) {
        let hn = hexagon(&plane, n);
        let shared = h
            .iter()
            .filter(|p| hn.iter().any(|q| (p[0] - q[0]).hypot(p[1] - q[1]) < 1e-6))
            .count();
        assert_eq!(shared, 2, "{n} shares an edge with {cell}");
    }
}
