//! Tests of `growth_model::growth` (src/growth.rs).
use growth_model::growth::*;

#[test]
fn increment_form_matches_the_curve() {
    // X(t) = A(1 − e^{−bt})^c; the exact step from X(t) must land on X(t + 1), and the
    // rate must match the analytic derivative.
    let (a, b, c) = (30.0, 0.04, 1.3);
    let x = |t: f64| a * (1.0 - (-b * t).exp()).powf(c);
    for t in [2.0, 10.0, 25.0, 60.0] {
        let step = chapman_richards_step(x(t), a, b, c, 1.0);
        assert!((step - x(t + 1.0)).abs() < 1e-9, "{step} vs {}", x(t + 1.0));
        let deriv = a * c * (1.0 - (-b * t).exp()).powf(c - 1.0) * b * (-b * t).exp();
        assert!((chapman_richards_rate(x(t), a, b, c) - deriv).abs() < 1e-9);
    }
    assert_eq!(chapman_richards_step(35.0, a, b, c, 1.0), 35.0);
}

#[test]
fn mortality_is_u_shaped() {
    let m = MortalityOptions::default();
    let p5 = m.annual_probability(5.0);
    let p30 = m.annual_probability(30.0);
    let p120 = m.annual_probability(120.0);
    assert!(p5 > p30 && p120 > p30, "{p5} {p30} {p120}");
    assert!((0.004..0.01).contains(&p30));
}

#[test]
fn lens_area_limits() {
    use std::f64::consts::PI;
    assert_eq!(lens_area(1.0, 1.0, 2.5), 0.0);
    assert!((lens_area(1.0, 2.0, 0.5) - PI).abs() < 1e-12);
    // Two unit circles one radius apart: 2π/3 − √3/2.
    let v = lens_area(1.0, 1.0, 1.0);
    assert!((v - (2.0 * PI / 3.0 - 3f64.sqrt() / 2.0)).abs() < 1e-12);
    // Continuity at tangency.
    assert!(lens_area(1.0, 1.0, 1.999_999) < 1e-6);
}

#[test]
fn grid_neighbours_match_brute_force() {
    let n = 300;
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 * 0.7).collect();
    let y: Vec<f64> = (0..n).map(|i| ((i * 53) % 97) as f64 * 0.7).collect();
    let reach: Vec<f64> = (0..n).map(|i| 1.0 + (i % 5) as f64 * 0.5).collect();
    let nb = Neighbours::build(&x, &y, &reach);
    for i in 0..n {
        let mut got: Vec<u32> = nb.idx[nb.off[i] as usize..nb.off[i + 1] as usize].to_vec();
        got.sort();
        let want: Vec<u32> = (0..n)
            .filter(|&j| {
                j != i
                    && ((x[i] - x[j]).powi(2) + (y[i] - y[j]).powi(2)).sqrt() < reach[i] + reach[j]
            })
            .map(|j| j as u32)
            .collect();
        assert_eq!(got, want);
    }
}
