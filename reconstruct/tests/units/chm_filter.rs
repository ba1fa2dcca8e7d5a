//! Tests of `reconstruct::chm_filter` (src/chm_filter.rs).
use reconstruct::chm::{NODATA, grid_for_bounds};
use reconstruct::chm_filter::*;

#[test]
fn closing_fills_a_pit_and_nodata_but_keeps_the_edge() {
    let mut r = grid_for_bounds(0.0, 0.0, 5.0, 5.0, 0.5);
    r.data.iter_mut().for_each(|v| *v = 20.0);
    let w = r.width;
    r.data[5 * w + 5] = 3.0;
    r.data[4 * w + 7] = NODATA;
    // A gap wider than the disk stays open.
    for row in 0..r.height {
        for col in 0..4 {
            r.data[row * w + col] = 0.0;
        }
    }
    let c = close_disk(&r, 5);
    assert_eq!(c.data[5 * w + 5], 20.0);
    assert_eq!(c.data[4 * w + 7], 20.0);
    assert_eq!(c.data[5 * w + 1], 0.0);
}

#[test]
fn gaussian_keeps_the_mean_and_lowers_a_spike() {
    let mut r = grid_for_bounds(0.0, 0.0, 10.0, 10.0, 0.5);
    r.data.iter_mut().for_each(|v| *v = 10.0);
    let w = r.width;
    r.data[10 * w + 10] = 20.0;
    let g = gaussian(&r, 0.3);
    assert!(g.data[10 * w + 10] < 20.0 && g.data[10 * w + 10] > 10.0);
    let before: f64 = r.data.iter().map(|&v| v as f64).sum();
    let after: f64 = g.data.iter().map(|&v| v as f64).sum();
    assert!((before - after).abs() < 1e-2, "{before} {after}");
}
