//! Tests of `resurvey::canopy` (src/canopy.rs).
use reconstruct::model::Raster;
use resurvey::canopy::*;

fn raster(v: impl Fn(usize, usize) -> f32) -> Raster {
    let mut r = Raster::covering(0.0, 0.0, 20.0, 20.0, 1.0, -9999.0);
    for row in 0..r.height {
        for c in 0..r.width {
            let k = row * r.width + c;
            r.data[k] = v(c, row);
        }
    }
    r
}

#[test]
fn a_cleared_square_is_one_polygon_of_its_area() {
    let before = raster(|_, _| 20.0);
    // 6 × 5 cells cleared, plus one isolated cell under the minimum area.
    let now = raster(|c, r| {
        if (5..11).contains(&c) && (3..8).contains(&r) || (c == 15 && r == 15) {
            0.5
        } else {
            21.0
        }
    });
    let loss = canopy_loss(&before, &now, &CanopyOptions::default()).unwrap();
    assert_eq!(loss.polygons.len(), 1, "{loss:?}");
    assert!((loss.area_m2 - 30.0).abs() < 1e-9);
    assert_eq!(loss.polygons[0].outline.len(), 4);
}
