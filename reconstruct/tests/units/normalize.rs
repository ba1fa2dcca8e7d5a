//! Tests of `reconstruct::normalize` (src/normalize.rs).
use capture::PointCloud;
use reconstruct::model::Raster;
use reconstruct::normalize::*;

/// Kept points' values land on their points, in order; dropped points get the default.
#[test]
fn scatter_kept_maps_back_through_keep() {
    let keep = [true, false, true, true, false];
    assert_eq!(scatter_kept(Some(&keep), &[7u32, 8, 9]), [7, 0, 8, 9, 0]);
    assert_eq!(scatter_kept(None, &[1u32, 2, 3]), [1, 2, 3]);
    assert_eq!(scatter_kept(Some(&[true; 3]), &[4u32, 5, 6]), [4, 5, 6]);
}

#[test]
fn slope_of_a_plane_and_heights() {
    let mut dtm = Raster::covering(0.0, 0.0, 20.0, 20.0, 1.0, -9999.0);
    for r in 0..dtm.height {
        for c in 0..dtm.width {
            let (x, _) = dtm.center(c, r);
            dtm.data[r * dtm.width + c] = (100.0 + 0.5 * x) as f32;
        }
    }
    let s = terrain_stats(&dtm, 10);
    let expect = 0.5f64.atan().to_degrees();
    assert!((s.mean_slope_deg - expect).abs() < 1e-3, "{s:?}");
    assert!((s.max_slope_deg - expect).abs() < 1e-3);
    assert_eq!(s.area_m2, 400.0);
    let cloud = PointCloud::from_absolute(&[[10.0, 10.0, 110.0], [4.5, 3.0, 102.25]]);
    let h = height_above_ground(&cloud, &dtm);
    assert!((h[0] - 5.0).abs() < 1e-3 && h[1].abs() < 1e-3, "{h:?}");
}
