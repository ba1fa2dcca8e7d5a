//! Tests of `growth_model::finance` (src/finance.rs).
use growth_model::finance::*;
use rand::{Rng, SeedableRng};

#[test]
fn infinite_breach_price_round_trips_through_json() {
    let c = collateral(
        vec![0.0, 0.0],
        0.05,
        "CNY",
        "2025-05".into(),
        80.0,
        90.0,
        &CollateralOptions {
            loan: Some(1000.0),
            ..Default::default()
        },
    );
    assert!(c.liquidation.breach_price_per_t.is_infinite());
    let j = serde_json::to_string(&c).unwrap();
    let back: Collateral = serde_json::from_str(&j).unwrap();
    assert_eq!(back, c);
}

#[test]
fn default_loan_breaches_at_conservative_price() {
    let c = collateral(
        vec![0.0, 100.0, 100.0, 100.0],
        0.05,
        "CNY",
        "2025-05".into(),
        80.0,
        90.0,
        &CollateralOptions::default(),
    );
    assert_eq!(c.conservative_price_per_t, 80.0);
    // Max loan at BBB breaches exactly at the conservative price.
    assert!((c.liquidation.breach_price_per_t - 80.0).abs() < 1e-9);
    assert!((c.liquidation.ltv_at_current_price - 0.5).abs() < 1e-12);
    assert!(c.grades.windows(2).all(|w| w[0].max_loan >= w[1].max_loan));
}

/// Seeded random cases (a failure names its case) over the whole option range.
#[test]
fn breach_price_consistent_with_loan() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(401);
    for case in 0..256 {
        let units = rng.random_range(0.0f64..1e7);
        let loan = rng.random_range(0.0f64..1e9);
        let hp = rng.random_range(0.0f64..0.95);
        let hd = rng.random_range(0.0f64..0.95);
        let oc = rng.random_range(1.0f64..5.0);
        let price = rng.random_range(0.01f64..500.0);
        let why = format!(
            "case {case}: units {units}, loan {loan}, hp {hp}, hd {hd}, oc {oc}, price {price}"
        );
        let p = breach_price(loan, units, hp, hd, oc);
        assert!(!p.is_nan(), "{why}");
        assert!(p >= 0.0, "{why}");
        if units > 1e-6 && p.is_finite() {
            // At the breach price the LTV equals the grade's maximum 1/OC …
            let v = collateral_value(units, p, hp, hd);
            let l = ltv(loan, v);
            if loan > 0.0 {
                assert!((l - 1.0 / oc).abs() <= 1e-9 * (1.0 + l), "{why}");
            }
            // … and the loan is recovered from the breach price.
            let back = p * units * (1.0 - hp) * (1.0 - hd) / oc;
            assert!((back - loan).abs() <= 1e-9 * (1.0 + loan), "{why}");
            // Above the breach price LTV is within the limit, below it is not.
            if loan > 0.0 {
                let above = ltv(loan, collateral_value(units, p * 1.01, hp, hd));
                assert!(above <= 1.0 / oc + 1e-12, "{why}");
            }
        }
        let v = collateral_value(units, price, hp, hd);
        assert!(v.is_finite() && v >= 0.0, "{why}");
        let c = collateral(
            vec![0.0, units],
            0.05,
            "EUR",
            "2024-04".into(),
            price,
            price,
            &CollateralOptions {
                loan: Some(loan),
                ..Default::default()
            },
        );
        assert!(!c.value.is_nan() && c.value >= 0.0, "{why}");
        assert!(!c.liquidation.breach_price_per_t.is_nan(), "{why}");
        assert!(!c.liquidation.ltv_at_current_price.is_nan(), "{why}");
    }
}
