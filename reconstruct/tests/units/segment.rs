//! Tests of `reconstruct::segment` (src/segment.rs).
use capture::PointCloud;
use reconstruct::chm::grid_for_bounds;
use reconstruct::model::Raster;
use reconstruct::segment::*;
use reconstruct::treetops::{self, TreetopOptions};

fn cones(peaks: &[(f64, f64, f64, f64)]) -> Raster {
    let mut r = grid_for_bounds(0.0, 0.0, 30.0, 20.0, 0.5);
    for row in 0..r.height {
        for col in 0..r.width {
            let (x, y) = r.center(col, row);
            let z = peaks
                .iter()
                .map(|&(px, py, h, slope)| h - slope * (x - px).hypot(y - py))
                .fold(0.0f64, f64::max);
            r.data[row * r.width + col] = z as f32;
        }
    }
    r
}

#[test]
fn two_crowns_split_at_the_valley() {
    let chm = cones(&[(10.0, 10.0, 20.0, 3.0), (17.0, 10.0, 18.0, 3.0)]);
    let tops = treetops::run(&chm, &TreetopOptions::default()).unwrap();
    assert_eq!(tops.len(), 2);
    let crowns = run(&chm, &tops, &CrownOptions::default()).unwrap();
    let a = crowns.id_at(10.0, 10.0);
    let b = crowns.id_at(17.0, 10.0);
    assert!(a != 0 && b != 0 && a != b);
    // The valley between the two lies at x ≈ 13.2 (20 − 3d = 18 − 3(7 − d)).
    assert_eq!(crowns.id_at(12.0, 10.0), a);
    assert_eq!(crowns.id_at(14.5, 10.0), b);
    // Far from both: below th_seed·h → unlabelled.
    assert_eq!(crowns.id_at(2.0, 2.0), 0);
    let counts = crowns.cell_counts();
    assert!(
        counts[a as usize] > 50 && counts[b as usize] > 50,
        "{counts:?}"
    );
}

#[test]
fn crown_half_width_limits_growth() {
    let chm = cones(&[(15.0, 10.0, 20.0, 0.5)]);
    let tops = treetops::run(&chm, &TreetopOptions::default()).unwrap();
    let crowns = run(&chm, &tops, &CrownOptions::default()).unwrap();
    assert_ne!(crowns.id_at(19.2, 10.0), 0);
    assert_eq!(crowns.id_at(20.3, 10.0), 0);
}

#[test]
fn points_below_th_tree_get_zero() {
    let chm = cones(&[(10.0, 10.0, 20.0, 3.0)]);
    let tops = treetops::run(&chm, &TreetopOptions::default()).unwrap();
    let crowns = run(&chm, &tops, &CrownOptions::default()).unwrap();
    let c = PointCloud::from_absolute(&[[10.0, 10.0, 19.0], [10.0, 10.0, 1.0], [0.2, 0.2, 5.0]]);
    assert_eq!(point_labels(&c, &crowns, 2.0), vec![1, 0, 0]);
}
