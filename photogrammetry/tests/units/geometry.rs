//! Tests of `photogrammetry::geometry` (src/geometry.rs).
use photogrammetry::geometry::*;
use photogrammetry::linalg::M3;
use photogrammetry::linalg::{exp_so3, mulv};

#[test]
fn recovers_inliers_among_outliers() {
    // Two cameras, f = 500, looking down at a bumpy plane.
    let r = exp_so3(&[0.02, -0.03, 0.1]);
    let t = [0.8, 0.1, 0.05];
    let proj = |x: [f64; 3], r: &M3, t: &[f64; 3]| {
        let p = mulv(r, &x);
        let p = [p[0] + t[0], p[1] + t[1], p[2] + t[2]];
        [500.0 * p[0] / p[2] + 320.0, 500.0 * p[1] / p[2] + 240.0]
    };
    let id = exp_so3(&[0.0, 0.0, 0.0]);
    let mut c = Vec::new();
    let mut s = 7u64;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..200 {
        let x = [u() * 4.0 - 2.0, u() * 3.0 - 1.5, 10.0 + u()];
        c.push((proj(x, &id, &[0.0; 3]), proj(x, &r, &t)));
    }
    for _ in 0..100 {
        c.push(([u() * 640.0, u() * 480.0], [u() * 640.0, u() * 480.0]));
    }
    let (f, inl) = ransac_fundamental(&c, &RansacOptions::default()).unwrap();
    let good = inl[..200].iter().filter(|k| **k).count();
    let bad = inl[200..].iter().filter(|k| **k).count();
    assert!(good >= 195, "{good} of 200 inliers kept");
    assert!(bad <= 10, "{bad} of 100 outliers kept");
    assert!(c[..200].iter().all(|p| sampson2(&f, p) <= 4.0));
}
