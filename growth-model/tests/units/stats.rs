//! Tests of `growth_model::stats` (src/stats.rs).
use growth_model::stats::*;

#[test]
fn quantiles_are_type7() {
    let v = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(quantile_sorted(&v, 0.5), 3.0);
    assert_eq!(quantile_sorted(&v, 0.1), 1.4);
    assert_eq!(quantile_sorted(&v, 1.0), 5.0);
}

#[test]
fn inverse_normal() {
    assert!(inverse_normal_cdf(0.5).abs() < 1e-9);
    assert!((inverse_normal_cdf(0.975) - 1.959_963_985).abs() < 1e-6);
    assert!((inverse_normal_cdf(0.01) + 2.326_347_874).abs() < 1e-6);
}

#[test]
fn normal_moments() {
    let mut rng = run_rng(1, 0);
    let mut n = Normal::new();
    let xs: Vec<f64> = (0..20000).map(|_| n.sample(&mut rng)).collect();
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
    assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
}

#[test]
fn base64_round_trip() {
    for n in 0..10 {
        let b: Vec<u8> = (0..n as u8).map(|x| x.wrapping_mul(37)).collect();
        assert_eq!(base64_decode(&base64_encode(&b)).unwrap(), b);
    }
    assert_eq!(base64_encode(b"Man"), "TWFu");
    assert_eq!(base64_encode(b"Ma"), "TWE=");
}
