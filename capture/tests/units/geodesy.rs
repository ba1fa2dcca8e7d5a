//! Tests of `capture::geodesy` (src/geodesy.rs).
use capture::geodesy::*;

/// Meridian arc length from the equator to `lat_deg`, by composite Simpson integration of
/// the meridional radius of curvature — independent of the Krüger series.
fn meridian_arc(lat_deg: f64) -> f64 {
    let e2 = wgs84_e2();
    let m = |phi: f64| WGS84_A * (1.0 - e2) / (1.0 - e2 * phi.sin().powi(2)).powf(1.5);
    let n = 20_000;
    let b = lat_deg.to_radians();
    let h = b / n as f64;
    let mut s = m(0.0) + m(b);
    for i in 1..n {
        s += m(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn geodesy_central_meridian_is_scaled_meridian_arc() {
    // Equator on the central meridian: the false origin.
    let (e, n) = utm_forward(0.0, 15.0, 33, true);
    assert!((e - 500_000.0).abs() < 1e-9 && n.abs() < 1e-9, "{e} {n}");
    // Published WGS 84 meridian arc at 45°: 4 984 944.378 m.
    assert!((meridian_arc(45.0) - 4_984_944.378).abs() < 1e-3);
    let (e, n) = utm_forward(45.0, 15.0, 33, true);
    assert!((e - 500_000.0).abs() < 1e-9);
    assert!((n - 4_982_950.400).abs() < 1e-3, "N = {n}");
    for lat in [-80.0, -33.3, 5.0, 30.0, 52.0, 60.0, 84.0] {
        let (_, n) = tm_forward(lat, 9.0, 9.0, UTM_K0);
        let want = UTM_K0 * meridian_arc(lat);
        assert!((n - want).abs() < 1e-4, "lat {lat}: {n} vs {want}");
    }
    // The pole: A·π/2 scaled.
    let (_, n) = tm_forward(90.0, 0.0, 0.0, 1.0);
    assert!((n - meridian_arc(90.0)).abs() < 1e-3);
}

#[test]
fn geodesy_utm_matches_reference_values() {
    // Reference values from PROJ 9 (pyproj, EPSG:4326 → EPSG:326zz/327zz).
    let cases: [(f64, f64, u8, bool, f64, f64); 7] = [
        (52.0, 13.0, 33, true, 362705.6341, 5762926.8129),
        (52.5, 13.4, 33, true, 391390.7313, 5817855.2408),
        (60.0, 10.0, 33, true, 221288.7702, 6661953.0405),
        (0.5, 12.9, 33, true, 266278.7364, 55302.4271),
        (-33.0, 17.9, 33, false, 770953.3315, 6344976.4783),
        (-33.0, 17.9, 33, true, 770953.3315, -3655023.5217),
        (40.7128, -74.0060, 18, true, 583959.3723, 4507350.9982),
    ];
    for (lat, lon, zone, north, e, n) in cases {
        let (ge, gn) = utm_forward(lat, lon, zone, north);
        assert!(
            (ge - e).abs() < 1e-3 && (gn - n).abs() < 1e-3,
            "{lat},{lon}: got {ge:.4} {gn:.4}, want {e} {n}"
        );
    }
}

#[test]
fn geodesy_utm_round_trip() {
    for zone in [1u8, 18, 31, 33, 60] {
        let cm = utm_central_meridian(zone);
        for lat in [-79.5, -45.0, -0.1, 0.0, 12.3, 47.9, 71.0, 83.5] {
            for dlon in [-3.5, -2.0, 0.0, 0.7, 3.0, 5.0] {
                let lon = wrap180(cm + dlon);
                let north = lat >= 0.0;
                let (e, n) = utm_forward(lat, lon, zone, north);
                let (la, lo) = utm_inverse(e, n, zone, north);
                // 1e-9° is 0.1 mm on the ground.
                assert!((la - lat).abs() < 1e-9, "lat {lat} {lon}: {la}");
                assert!((wrap180(lo - lon)).abs() < 1e-9, "lon {lat} {lon}: {lo}");
            }
        }
    }
}

#[test]
fn geodesy_tm_is_conformal_with_the_right_scale() {
    // A conformal map with the right scale along the central meridian is the transverse
    // Mercator, so this checks the off-meridian terms independently of reference values.
    let e2 = wgs84_e2();
    let (lat, lon) = (48.0_f64, 2.7_f64);
    let d = 1e-5_f64;
    let (x0, y0) = tm_forward(lat, lon, 0.0, 1.0);
    let (x1, y1) = tm_forward(lat + d, lon, 0.0, 1.0);
    let (x2, y2) = tm_forward(lat, lon + d, 0.0, 1.0);
    let phi = lat.to_radians();
    let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
    let m = WGS84_A * (1.0 - e2) / w.powi(3) * d.to_radians();
    let p = WGS84_A / w * phi.cos() * d.to_radians();
    let k_north = (x1 - x0).hypot(y1 - y0) / m;
    let k_east = (x2 - x0).hypot(y2 - y0) / p;
    assert!((k_north - k_east).abs() < 1e-6, "{k_north} vs {k_east}");
    let dot = (x1 - x0) * (x2 - x0) + (y1 - y0) * (y2 - y0);
    assert!(dot.abs() / ((x1 - x0).hypot(y1 - y0) * (x2 - x0).hypot(y2 - y0)) < 1e-5);
    // Spherical-approximation scale 1 + x²/(2R²) is right to ~1e-6 at 200 km.
    let r = WGS84_A * (1.0 - e2).sqrt() / w.powi(2);
    assert!((k_east - (1.0 + x0 * x0 / (2.0 * r * r))).abs() < 2e-6);
}

#[test]
fn geodesy_zones() {
    assert_eq!(utm_zone_for(52.0, 13.0), 33);
    assert_eq!(utm_zone_for(40.7, -74.0), 18);
    assert_eq!(utm_zone_for(-33.9, 18.4), 34);
    assert_eq!(utm_zone_for(60.0, 5.0), 32);
    assert_eq!(utm_zone_for(78.0, 15.0), 33);
    assert_eq!(utm_zone_for(0.0, 180.0), 1);
    assert_eq!(utm_zone_for(0.0, 179.9), 60);
    assert_eq!(utm_central_meridian(33), 15.0);
}

#[test]
fn geodesy_ecef_and_enu() {
    // Reference from PROJ (EPSG:4979 → EPSG:4978).
    let p = geodetic_to_ecef(52.0, 13.0, 100.0);
    let want = [3834167.6731, 885187.3551, 5002882.1466];
    for k in 0..3 {
        assert!((p[k] - want[k]).abs() < 1e-3, "{p:?}");
    }
    let (lat, lon, h) = ecef_to_geodetic(p);
    assert!((lat - 52.0).abs() < 1e-10 && (lon - 13.0).abs() < 1e-10);
    assert!((h - 100.0).abs() < 1e-6);

    let f = EnuFrame::new(52.0, 13.0, 100.0);
    let o = f.from_geodetic(52.0, 13.0, 100.0);
    assert!(o.iter().all(|v| v.abs() < 1e-6));
    // 0.001° north ≈ 111.27 m at 52°: (meridional radius of curvature + h) × 0.001°.
    let n = f.from_geodetic(52.001, 13.0, 100.0);
    let e2 = wgs84_e2();
    let m = WGS84_A * (1.0 - e2) / (1.0 - e2 * 52.0005_f64.to_radians().sin().powi(2)).powf(1.5);
    assert!(
        (n[1] - (m + 100.0) * 0.001_f64.to_radians()).abs() < 1e-4,
        "{n:?}"
    );
    assert!(n[0].abs() < 1e-6 && n[2].abs() < 0.01 && n[2] < 0.0);
    assert!((n[1] - 111.26).abs() < 0.05);
    // 0.001° east ≈ N·cos φ·0.001° ≈ 68.7 m.
    let e = f.from_geodetic(52.0, 13.001, 100.0);
    assert!((e[0] - 68.71).abs() < 0.05 && e[1].abs() < 0.01, "{e:?}");
    // 10 m straight up.
    let u = f.from_geodetic(52.0, 13.0, 110.0);
    assert!((u[2] - 10.0).abs() < 1e-6 && u[0].abs() < 1e-9 && u[1].abs() < 1e-6);
    // Round trip.
    let (la, lo, hh) = f.to_geodetic([123.4, -567.8, 42.0]);
    let back = f.from_geodetic(la, lo, hh);
    for (b, w) in back.iter().zip([123.4, -567.8, 42.0]) {
        assert!((b - w).abs() < 1e-5, "{back:?}");
    }
}
