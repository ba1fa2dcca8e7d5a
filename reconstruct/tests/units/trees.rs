//! Tests of `reconstruct::trees` (src/trees.rs).
use reconstruct::trees::*;

#[test]
fn hull_is_ccw_and_drops_interior() {
    let pts = [
        [0.0, 0.0],
        [2.0, 0.0],
        [2.0, 2.0],
        [0.0, 2.0],
        [1.0, 1.0],
        [1.0, 0.0],
    ];
    let h = convex_hull(&pts);
    assert_eq!(h, vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]);
}

#[test]
fn crown_base_stops_at_the_gap() {
    let mut h: Vec<f64> = (0..40).map(|i| 20.0 - 0.25 * i as f64).collect(); // 20 … 10.25
    h.extend([6.0, 4.0, 2.5]); // stem hits below a 4 m gap
    let cb = crown_base_height(&mut h, &CrownBaseOptions::default()).unwrap();
    assert!((cb - 10.25).abs() < 1e-9, "{cb}");
    assert!(crown_base_height(&mut [5.0, 4.0], &CrownBaseOptions::default()).is_none());
}
