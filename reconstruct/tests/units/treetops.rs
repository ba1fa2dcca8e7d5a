//! Tests of `reconstruct::treetops` (src/treetops.rs).
use reconstruct::chm::{NODATA, grid_for_bounds};
use reconstruct::model::Raster;
use reconstruct::treetops::*;

/// Two cones on a 0.5 m grid.
fn two_cones(sep: f64) -> Raster {
    let mut r = grid_for_bounds(0.0, 0.0, 30.0, 15.0, 0.5);
    for row in 0..r.height {
        for col in 0..r.width {
            let (x, y) = r.center(col, row);
            let d1 = (x - 10.0).hypot(y - 7.5);
            let d2 = (x - 10.0 - sep).hypot(y - 7.5);
            let z = (20.0 - 4.0 * d1).max(16.0 - 4.0 * d2).max(0.0);
            r.data[row * r.width + col] = z as f32;
        }
    }
    r
}

#[test]
fn finds_two_separate_cones() {
    let tops = run(&two_cones(8.0), &TreetopOptions::default()).unwrap();
    assert_eq!(tops.len(), 2, "{tops:?}");
    assert!(
        tops.iter()
            .any(|t| (t.x - 10.0).abs() < 0.3 && t.height_m > 18.0)
    );
}

#[test]
fn window_suppresses_close_secondary_maximum() {
    // Second peak 2 m from a 20 m top: inside the 5 m window → one top.
    let r = two_cones(2.0);
    assert_eq!(run(&r, &TreetopOptions::default()).unwrap().len(), 1);
}

#[test]
fn hmin_and_nodata() {
    let mut r = grid_for_bounds(0.0, 0.0, 5.0, 5.0, 0.5);
    r.data.iter_mut().for_each(|v| *v = NODATA);
    r.data[12] = 1.5;
    assert!(run(&r, &TreetopOptions::default()).unwrap().is_empty());
    r.data[12] = 2.5;
    assert_eq!(run(&r, &TreetopOptions::default()).unwrap().len(), 1);
}

#[test]
fn plateau_gives_one_top() {
    let mut r = grid_for_bounds(0.0, 0.0, 2.9, 2.9, 0.5);
    r.data.iter_mut().for_each(|v| *v = 10.0);
    assert_eq!(run(&r, &TreetopOptions::default()).unwrap().len(), 1);
}

#[test]
fn lidr_book_curve() {
    let w = WindowSize::LIDR_BOOK;
    assert_eq!(w.diameter(1.0), 3.0);
    assert!((w.diameter(10.0) - 4.226).abs() < 0.01);
    assert_eq!(w.diameter(25.0), 5.0);
}
