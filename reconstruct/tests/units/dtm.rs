//! Tests of `reconstruct::dtm` (src/dtm.rs).
use reconstruct::dtm::*;
use reconstruct::model::Raster;

fn plane(x: f64, y: f64) -> f64 {
    50.0 + 0.2 * x - 0.1 * y
}

#[test]
fn tin_is_exact_on_a_plane_and_idw_close() {
    let mut pts = Vec::new();
    for i in 0..30 {
        for j in 0..30 {
            let (x, y) = (
                1000.0 + i as f64 * 0.7 + (j % 3) as f64 * 0.1,
                2000.0 + j as f64 * 0.7,
            );
            pts.push([x, y, plane(x, y)]);
        }
    }
    let grid = Raster::covering(1000.0, 2000.0, 1020.0, 2020.0, 1.0, NODATA);
    let tin = from_points(&pts, grid.clone(), &DtmOptions::default()).unwrap();
    for r in 0..tin.height {
        for c in 0..tin.width {
            let (x, y) = tin.center(c, r);
            assert!((tin.get(c, r) as f64 - plane(x, y)).abs() < 1e-3);
        }
    }
    let idw = from_points(
        &pts,
        grid,
        &DtmOptions {
            method: DtmMethod::Idw,
            ..Default::default()
        },
    )
    .unwrap();
    let (e, n) = rmse(&idw, &tin, None);
    assert_eq!(n, 400);
    assert!(e < 0.1, "{e}");
}

#[test]
fn outside_hull_nodata_when_not_filled() {
    let pts = [[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]];
    let grid = Raster::covering(0.0, 0.0, 4.0, 4.0, 1.0, NODATA);
    let d = from_points(
        &pts,
        grid,
        &DtmOptions {
            fill_outside_hull: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(d.is_nodata(d.get(3, 0)));
}
