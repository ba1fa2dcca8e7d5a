//! Tests of `growth_model::pipeline` (src/pipeline.rs).
use growth_model::GrowthError;
use growth_model::pipeline::*;

#[test]
fn absurd_pipeline_options_are_refused_before_the_loop() {
    let pipe = [PipeInput {
        id: 1,
        length_m: 100.0,
        diameter_m: 0.3,
        age_years: 1.0,
        capex: None,
    }];
    let ok = PipelineOptions::default();
    assert!(value_pipeline(&pipe, &ok).is_ok());
    let name_of = |o: &PipelineOptions| match value_pipeline(&pipe, o) {
        Err(GrowthError::InvalidOption { name, .. }) => name,
        other => panic!("expected an invalid option, got {other:?}"),
    };
    // 1e300 years used to loop over every year.
    let o = PipelineOptions {
        life_years: 1e300,
        ..ok.clone()
    };
    assert_eq!(name_of(&o), "pipeline.life_years");
    let o = PipelineOptions {
        discount_rate: 1e308,
        ..ok.clone()
    };
    assert_eq!(name_of(&o), "pipeline.discount_rate");
    let o = PipelineOptions {
        price_per_t: 1e300,
        ..ok.clone()
    };
    assert_eq!(name_of(&o), "pipeline.price_per_t");
    let huge = [PipeInput {
        diameter_m: 1e9,
        ..pipe[0].clone()
    }];
    assert!(matches!(
        value_pipeline(&huge, &ok),
        Err(GrowthError::InvalidInput { .. })
    ));
}

#[test]
fn capacity_of_a_300mm_line() {
    // 900 kg/m³ × 1.5 m/s × π·0.3²/4 m² = 95.43 kg/s ≈ 3.01 Mt/yr.
    let c = capacity_t_per_year(0.3, 1.5, 900.0);
    assert!((c - 3.0116e6).abs() / 3.0116e6 < 1e-3, "{c}");
    assert!(capacity_t_per_year(0.3, 2.0, 900.0) > c);
}

#[test]
fn collateral_is_min_of_book_and_dcf() {
    let opts = PipelineOptions {
        price_per_t: 50.0,
        currency: "EUR".into(),
        ..Default::default()
    };
    let pipes = [
        PipeInput {
            id: 1,
            length_m: 1000.0,
            diameter_m: 0.2,
            age_years: 10.0,
            capex: Some(1e6),
        },
        PipeInput {
            id: 2,
            length_m: 1000.0,
            diameter_m: 0.2,
            age_years: 10.0,
            capex: None,
        },
    ];
    let v = value_pipeline(&pipes, &opts).unwrap();
    let p = &v.pipes[0];
    assert_eq!(p.book_value, Some(1e6 * 0.75));
    assert_eq!(p.collateral_value, 0.75e6_f64.min(p.dcf_value));
    assert_eq!(v.pipes[1].collateral_value, v.pipes[1].dcf_value);
    assert_eq!(v.warnings.len(), 1);
    let db = value_pipeline(
        &pipes[..1],
        &PipelineOptions {
            depreciation: Depreciation::DecliningBalance { rate: 0.1 },
            ..opts.clone()
        },
    )
    .unwrap();
    assert!((db.pipes[0].book_value.unwrap() - 1e6 * 0.9f64.powi(10)).abs() < 1e-6);
    assert!(pipeline_csv(&v).lines().count() == 3);
    let bad = PipeInput {
        diameter_m: 0.0,
        ..pipes[0].clone()
    };
    assert!(value_pipeline(&[bad], &opts).is_err());
}
