//! Tests of `reconstruct::stem` (src/stem.rs).
use capture::PointCloud;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reconstruct::stem::*;

fn arc(
    cx: f64,
    cy: f64,
    r: f64,
    from_deg: f64,
    to_deg: f64,
    n: usize,
    noise: f64,
) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n)
        .map(|i| {
            let t = (from_deg + (to_deg - from_deg) * i as f64 / (n - 1) as f64).to_radians();
            let rr = r + noise * (rng.random::<f64>() * 2.0 - 1.0);
            [cx + rr * t.cos(), cy + rr * t.sin()]
        })
        .collect()
}

#[test]
fn circumcircle_of_right_triangle() {
    let (a, b, r) = circumcircle([0.0, 0.0], [2.0, 0.0], [0.0, 2.0]).unwrap();
    assert!((a - 1.0).abs() < 1e-12 && (b - 1.0).abs() < 1e-12);
    assert!((r - 2f64.sqrt()).abs() < 1e-12);
    assert!(circumcircle([0.0, 0.0], [1.0, 1.0], [2.0, 2.0]).is_none());
}

#[test]
fn half_arc_with_noise_and_outliers() {
    let mut pts = arc(3.0, -2.0, 0.15, 0.0, 180.0, 300, 0.004);
    // Outliers: a twig and scattered returns.
    for i in 0..60 {
        pts.push([3.0 + 0.2 + 0.003 * i as f64, -2.0 + 0.1]);
    }
    let fit = fit_circle(&pts, &StemOptions::default()).unwrap();
    assert!((fit.r - 0.15).abs() < 0.002, "{}", fit.r);
    assert!((fit.cx - 3.0).abs() < 0.003 && (fit.cy + 2.0).abs() < 0.003);
    assert!(
        fit.arc_deg > 170.0 && fit.arc_deg < 185.0,
        "{}",
        fit.arc_deg
    );
    assert!(fit.rms < 0.004);
}

#[test]
fn geometric_fit_is_unbiased_on_a_quarter_arc() {
    let pts = arc(0.0, 0.0, 0.2, 10.0, 100.0, 400, 0.005);
    let fit = fit_circle(&pts, &StemOptions::default()).unwrap();
    assert!((fit.r - 0.2).abs() < 0.003, "{}", fit.r);
}

#[test]
fn two_stems_in_a_slice() {
    let mut pts = arc(500_000.0, 5_000_000.0, 0.1, -60.0, 200.0, 200, 0.002);
    pts.extend(arc(500_003.0, 5_000_001.0, 0.25, 90.0, 300.0, 300, 0.002));
    // A short straight wall segment: no plausible circle.
    pts.extend((0..50).map(|i| [500_010.0 + 0.01 * i as f64, 5_000_000.0]));
    let stems = find_stems_in_slice(&pts, &StemOptions::default()).unwrap();
    assert_eq!(stems.len(), 2, "{stems:?}");
    let big = &stems[0];
    assert!((big.dbh_cm - 50.0).abs() < 0.5 && (big.x - 500_003.0).abs() < 0.01);
    assert!((stems[1].dbh_cm - 20.0).abs() < 0.5);
}

#[test]
fn clustering_links_chains() {
    let pts = vec![[0.0, 0.0], [0.05, 0.0], [0.1, 0.0], [1.0, 1.0], [1.04, 1.0]];
    let c = cluster_2d(&pts, 0.06);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0], vec![0, 1, 2]);
}

#[test]
fn single_tree_on_sloped_ground() {
    // A 30 cm stem on ground sloping 10 % east, ground z = 100 + 0.1 x.
    let mut abs = Vec::new();
    let g = |x: f64| 100.0 + 0.1 * x;
    for i in 0..60 {
        for j in 0..60 {
            let (x, y) = (-1.5 + 0.05 * i as f64, -1.5 + 0.05 * j as f64);
            if x.hypot(y) > 0.15 {
                abs.push([x, y, g(x)]);
            }
        }
    }
    for k in 0..80 {
        let z = 0.05 * k as f64;
        for a in 0..72 {
            let t = (a as f64 * 5.0).to_radians();
            let (x, y) = (0.15 * t.cos(), 0.15 * t.sin());
            abs.push([x, y, g(x) + z]);
        }
    }
    let c = PointCloud::from_absolute(&abs);
    let s = single_tree(&c, &StemOptions::default(), &GroundNearStem::default()).unwrap();
    assert_eq!(s.stems.len(), 1);
    assert!((s.ground_z - 100.0).abs() < 0.05, "{}", s.ground_z);
    assert!(
        (s.stems[0].dbh_cm - 30.0).abs() < 0.3,
        "{}",
        s.stems[0].dbh_cm
    );
}
