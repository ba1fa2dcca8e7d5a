//! Tests of `growth_model::prices` (src/prices.rs).
use growth_model::GrowthError;
use growth_model::prices::*;

#[test]
fn bundled_tables_parse() {
    let cea = builtin(Market::Cea).unwrap();
    assert_eq!(cea.currency, "CNY");
    assert_eq!(cea.provenance.column, "vwap");
    assert_eq!(cea.months.len(), 47);
    assert_eq!(cea.months[0], (YearMonth::new(2021, 7).unwrap(), 50.33));
    let eua = builtin(Market::Eua).unwrap();
    assert_eq!(eua.currency, "EUR");
    assert_eq!(eua.provenance.column, "mean_close");
    assert_eq!(eua.market, Market::Eua);
    assert!(eua.months.len() > 200);
    assert!(builtin(Market::Ccer).is_err());
}

#[test]
fn minimal_user_csv() {
    let s = parse_csv(
        "month,price\n2024-01,60\n2024-02,62.5\n",
        Some(Market::Ccer),
        None,
        "t",
    )
    .unwrap();
    assert_eq!(s.currency, "CNY");
    assert_eq!(s.market, Market::Ccer);
    assert_eq!(s.latest().1, 62.5);
    assert!(parse_csv("month,price\n2024-01,1\n", Some(Market::User), None, "t").is_err());
    let u = parse_csv("month,price\n2024-01,1\n", None, Some("usd"), "t").unwrap();
    assert_eq!(u.currency, "USD");
}

#[test]
fn vwap_falls_back_per_row() {
    let s = parse_csv(
        "month,vwap,mean_close,currency\n2024-01,,10,CNY\n2024-02,11,12,CNY\n",
        None,
        None,
        "t",
    )
    .unwrap();
    assert_eq!(s.months[0].1, 10.0);
    assert_eq!(s.months[1].1, 11.0);
    assert_eq!(s.provenance.fallback_rows, 1);
}

#[test]
fn bad_tables_are_errors() {
    assert!(parse_csv("", None, Some("CNY"), "t").is_err());
    assert!(parse_csv("month,price\n2024-13,1\n", None, Some("CNY"), "t").is_err());
    assert!(parse_csv("month,price\n2024-01,x\n", None, Some("CNY"), "t").is_err());
    assert!(
        parse_csv(
            "month,price\n2024-01,1\n2024-01,2\n",
            None,
            Some("CNY"),
            "t"
        )
        .is_err()
    );
    assert!(
        parse_csv(
            "month,price,currency\n2024-01,1,EUR\n",
            None,
            Some("CNY"),
            "t"
        )
        .is_err()
    );
}

#[test]
fn volatility_and_anchor() {
    let cea = builtin(Market::Cea).unwrap();
    let v = cea.annualised_volatility().unwrap();
    assert!(v > 0.05 && v < 1.0, "{v}");
    let last12: f64 = cea.months[cea.months.len() - 12..]
        .iter()
        .map(|m| m.1)
        .sum::<f64>()
        / 12.0;
    assert!((cea.anchor() - last12).abs() < 1e-12);
    // Constant prices → zero volatility.
    let flat = parse_csv(
        "month,price\n2024-01,5\n2024-02,5\n2024-03,5\n2024-04,5\n",
        None,
        Some("CNY"),
        "t",
    )
    .unwrap();
    assert_eq!(flat.annualised_volatility().unwrap(), 0.0);
    // EUA: the Phase I collapse dominates the full table, not the last five years.
    let eua = builtin(Market::Eua).unwrap();
    let all = eua.annualised_volatility().unwrap();
    let recent = eua.annualised_volatility_window(Some(60)).unwrap();
    assert!(all > 1.0 && recent < 0.5, "{all} {recent}");
}

#[test]
fn scenario_paths() {
    let cea = builtin(Market::Cea).unwrap();
    let m = PriceModel::new(&cea, &PriceScenario::Escalating { pct_per_year: 10.0 }).unwrap();
    let mut out = [0.0; 3];
    m.path(&mut out, || 0.0);
    assert!((out[2] / out[0] - 1.21).abs() < 1e-12);
    let s = PriceModel::new(&cea, &PriceScenario::stochastic()).unwrap();
    assert!(s.volatility > 0.0);
    s.path(&mut out, || 0.0);
    assert!(out[1] < out[0]); // median path drifts down by σ²/2 when μ = 0
}

#[cfg(feature = "refresh")]
#[test]
fn refresh_offline_is_a_network_error() {
    // Nothing listens on port 9 of the loopback interface: connection refused.
    let r = refresh("https://127.0.0.1:9/prices.csv", Some(Market::Cea), None);
    assert!(matches!(r, Err(GrowthError::Network { .. })), "{r:?}");
}

#[test]
fn refresh_without_feature_is_typed_error() {
    #[cfg(not(feature = "refresh"))]
    assert!(matches!(
        refresh("https://example.invalid/p.csv", None, None),
        Err(GrowthError::NetworkDisabled { .. })
    ));
}
