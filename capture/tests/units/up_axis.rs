//! Tests of `capture::up_axis` (src/up_axis.rs).
use capture::up_axis::*;
use capture::*;

#[test]
fn jacobi_finds_the_axes() {
    let (val, vec) = eigen_sym3([[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 0.5]]);
    assert!(val[0] >= val[1] && val[1] >= val[2]);
    assert!((val[2] - 0.5).abs() < 1e-12);
    assert!(vec[2][2].abs() > 1.0 - 1e-12);
    let s = 5f64.sqrt();
    assert!((val[0] - (3.5 + s / 2.0)).abs() < 1e-12);
}

/// A flat 20 m × 20 m ground with eight 12 m posts, in either convention.
fn site(y_up: bool) -> PointCloud {
    let mut pts = Vec::new();
    for i in 0..100 {
        for j in 0..100 {
            let (x, h) = (i as f64 * 0.2, j as f64 * 0.2);
            pts.push([x, h, 0.02 * ((i * 7 + j * 3) % 5) as f64]);
        }
    }
    for t in 0..8 {
        let (cx, cy) = (2.0 + 2.2 * t as f64, 3.0 + 1.7 * t as f64);
        for k in 0..120 {
            for a in 0..12 {
                let th = a as f64 * std::f64::consts::TAU / 12.0;
                pts.push([cx + 0.15 * th.cos(), cy + 0.15 * th.sin(), k as f64 * 0.1]);
            }
        }
    }
    if y_up {
        pts.iter_mut().for_each(|p| *p = [p[0], p[2], -p[1]]);
    }
    PointCloud::from_absolute(&pts)
}

#[test]
fn geometry_tells_y_from_z() {
    for y_up in [false, true] {
        let c = site(y_up);
        let mut src = Source::new("site.las", "LAS");
        let (up, why) = detect(&c, &src);
        assert_eq!(up == UpAxis::Y, y_up, "{why}");
        src.generating_software = Some("3D Scanner App".into());
        let (up, why) = detect(&c, &src);
        assert_eq!(up == UpAxis::Y, y_up, "with a phone string: {why}");
    }
}

#[test]
fn map_coordinates_prove_z_up() {
    let c = PointCloud::from_absolute(&[[500_000.0, 4_000_000.0, 100.0]; 60]);
    let src = Source::new("tile.las", "LAS");
    let (up, why) = detect(&c, &src);
    assert_eq!(up, UpAxis::Z);
    assert!(why.contains("map coordinates"), "{why}");
}
