//! Tests of `growth_model::accounting` (src/accounting.rs).
use growth_model::accounting::*;
use rand::{Rng, SeedableRng};

fn rising(n: usize) -> Vec<f64> {
    (0..n).map(|t| 100.0 + 10.0 * t as f64).collect()
}

#[test]
fn buffer_and_deductions_applied_exactly_once() {
    let opts = AccountingOptions {
        leakage_fraction: 0.1,
        buffer_fraction: 0.2,
        verification_interval_years: 5,
        issuance_lag_years: 2,
        ..Default::default()
    };
    let stock = rising(21);
    let mut a = Vec::new();
    opts.net_cumulative(&stock, &mut a);
    let d = vec![0.05; 21];
    let mut c = RunCredits::default();
    opts.issue(&a, &d, &mut c);
    let total: f64 = c.issued.iter().sum::<f64>() + c.pending_after_horizon;
    let expected = 200.0 * (1.0 - 0.1) * (1.0 - 0.05) * (1.0 - 0.2);
    assert!((total - expected).abs() < 1e-9, "{total} vs {expected}");
    let buffer: f64 = c.buffer.iter().sum();
    assert!((buffer - 200.0 * 0.9 * 0.95 * 0.2).abs() < 1e-9);
    // Verified only at years 5, 10, 15, 20; issued two years later; year 20 pending.
    assert!(c.issued[7] > 0.0 && c.issued[6] == 0.0);
    assert!(c.pending_after_horizon > 0.0);
    // Annual verification gives the same total (deduction on the cumulative, not per step).
    let annual = AccountingOptions {
        verification_interval_years: 1,
        issuance_lag_years: 0,
        ..opts.clone()
    };
    annual.issue(&a, &d, &mut c);
    let total2: f64 = c.issued.iter().sum::<f64>() + c.pending_after_horizon;
    assert!((total2 - expected).abs() < 1e-9);
}

#[test]
fn reversal_blocks_issuance_until_recovered() {
    let opts = AccountingOptions {
        issuance_lag_years: 0,
        buffer_fraction: 0.0,
        ..Default::default()
    };
    let stock = [100.0, 110.0, 120.0, 90.0, 115.0, 130.0];
    let mut a = Vec::new();
    opts.net_cumulative(&stock, &mut a);
    let mut c = RunCredits::default();
    opts.issue(&a, &[0.0; 6], &mut c);
    assert_eq!(c.issued, vec![0.0, 10.0, 10.0, 0.0, 0.0, 10.0]);
    assert_eq!(c.below_high_water[3], 30.0);
}

#[test]
fn uncertainty_rule() {
    let opts = AccountingOptions::default();
    // Tight ensemble → no deduction.
    let tight: Vec<f64> = (0..1000).map(|i| 100.0 + (i % 10) as f64 * 0.1).collect();
    assert_eq!(opts.uncertainty_deduction(&tight).1, 0.0);
    // Wide: uniform 50..150, 90 % half-width ≈ 45 % of the mean → d ≈ 0.30.
    let wide: Vec<f64> = (0..1001).map(|i| 50.0 + i as f64 * 0.1).collect();
    let (u, d) = opts.uncertainty_deduction(&wide);
    assert!(
        (u - 0.45).abs() < 0.01 && (d - 0.30).abs() < 0.01,
        "{u} {d}"
    );
}

/// Seeded random cases (a failure names its case): credits are finite, non-negative and never
/// more than the best creditable position net of the buffer.
#[test]
fn accounting_never_nan_or_negative() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(354);
    for case in 0..256 {
        let len = rng.random_range(2usize..40);
        let stock: Vec<f64> = (0..len).map(|_| rng.random_range(0.0f64..1e6)).collect();
        let leak = rng.random_range(0.0f64..1.0);
        let buffer = rng.random_range(0.0f64..1.0);
        let ded = rng.random_range(0.0f64..1.0);
        let interval = rng.random_range(1u32..6);
        let lag = rng.random_range(0u32..4);
        let base = rng.random_range(0.0f64..100.0);
        let why = format!(
            "case {case}: leak {leak}, buffer {buffer}, ded {ded}, interval {interval}, lag {lag}, base {base}, stock {stock:?}"
        );
        let opts = AccountingOptions {
            baseline: Baseline::TonnesPerYear { co2e_t: base },
            leakage_fraction: leak,
            buffer_fraction: buffer,
            verification_interval_years: interval,
            issuance_lag_years: lag,
            ..Default::default()
        };
        let mut a = Vec::new();
        opts.net_cumulative(&stock, &mut a);
        let d = vec![ded; stock.len()];
        let mut c = RunCredits::default();
        opts.issue(&a, &d, &mut c);
        for v in c.issued.iter().chain(&c.verified).chain(&c.buffer) {
            assert!(v.is_finite() && *v >= 0.0, "{why}");
        }
        let best = c.eligible.iter().cloned().fold(0.0f64, f64::max);
        let total: f64 = c.issued.iter().sum::<f64>() + c.pending_after_horizon;
        assert!(
            total <= best * (1.0 - buffer) + 1e-6 * (1.0 + best),
            "{why}"
        );
    }
}
