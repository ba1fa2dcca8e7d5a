//! End-to-end tests of the simulation.

use crate::*;

fn small_opts(years: u32, runs: u32) -> SimulationOptions {
    SimulationOptions {
        years,
        runs,
        ..Default::default()
    }
}

fn deterministic_opts(years: u32, runs: u32) -> SimulationOptions {
    let mut o = small_opts(years, runs);
    o.growth.rate_log_sigma = 0.0;
    o.growth.mortality.enabled = false;
    o.growth.disturbance.hazard_per_year = 0.0;
    o.allometry.biomass_log_sigma = 0.0;
    o.allometry.dbh_log_sigma = 0.0;
    o.area_ha = Some(1.0);
    o
}

fn sim(trees: &[TreeInput], o: &SimulationOptions) -> Simulation {
    run(trees, o, &mut |_, _| {}, &CancelToken::new()).unwrap()
}

fn assert_ordered(b: &Band, what: &str) {
    for t in 0..b.p50.len() {
        assert!(
            b.p10[t] <= b.p50[t] && b.p50[t] <= b.p90[t],
            "{what} year {t}: {} {} {}",
            b.p10[t],
            b.p50[t],
            b.p90[t]
        );
        assert!(b.p10[t].is_finite() && b.p90[t].is_finite(), "{what} {t}");
    }
}

#[test]
fn bands_are_ordered_finite_and_stock_non_negative() {
    let trees = synthetic_stand(200, 1);
    let mut o = small_opts(25, 200);
    o.price.scenario = PriceScenario::stochastic();
    o.finance.timber = Some(TimberOptions {
        price_per_m3: 400.0,
        merchantable_fraction: 0.6,
    });
    o.growth.events = vec![HarvestEvent {
        year: 10,
        fraction: 0.3,
        selection: Selection::Smallest,
    }];
    let s = sim(&trees, &o);
    let st = &s.stand;
    for (b, w) in [
        (&st.stock_co2e_t, "stock"),
        (&st.removals_co2e_t, "removals"),
        (&st.credits_issued_t, "credits"),
        (&st.credits_cumulative_t, "cumulative"),
        (&st.buffer_t, "buffer"),
        (&st.price_per_t, "price"),
        (&st.value, "value"),
        (&st.stems_alive, "stems"),
    ] {
        assert_ordered(b, w);
        assert_eq!(b.p50.len(), 26);
    }
    assert!(st.stock_co2e_t.p10.iter().all(|v| *v >= 0.0));
    assert!(st.price_per_t.p90[25] > st.price_per_t.p10[25]);
    let v = &s.valuation;
    assert!(v.npv.p10 <= v.npv.p50 && v.npv.p50 <= v.npv.p90);
    assert!(v.timber_pv.unwrap().p50 > 0.0);
    assert_eq!(v.currency, "CNY");
    assert!(s.collateral.value >= 0.0 && s.collateral.value.is_finite());
    // Thinning removed 30 % of stems in year 10 (before mortality that year).
    let rep = &st.representative;
    assert!(rep.stems_alive[10] < 0.75 * rep.stems_alive[9]);
}

#[test]
fn same_seed_same_result_other_seed_differs() {
    let trees = synthetic_stand(150, 2);
    let o = small_opts(15, 64);
    let a = sim(&trees, &o).to_json();
    let b = sim(&trees, &o).to_json();
    assert_eq!(a, b);
    let c = sim(&trees, &SimulationOptions { seed: 43, ..o }).to_json();
    assert_ne!(a, c);
}

#[test]
fn result_independent_of_thread_count() {
    let trees = synthetic_stand(120, 3);
    let o = small_opts(12, 100);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| sim(&trees, &o));
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| sim(&trees, &o));
    assert_eq!(one, three);
}

#[test]
fn bands_narrow_as_runs_grow() {
    // Monte Carlo error of the P50: its spread across seeds shrinks ~1/√runs.
    let trees = synthetic_stand(60, 4);
    let spread = |runs: u32| {
        let p50: Vec<f64> = (0..6)
            .map(|seed| {
                let o = SimulationOptions {
                    seed: 100 + seed,
                    output: OutputOptions {
                        tree_states: false,
                        ..Default::default()
                    },
                    ..small_opts(10, runs)
                };
                *sim(&trees, &o).stand.stock_co2e_t.p50.last().unwrap()
            })
            .collect();
        let m = p50.iter().sum::<f64>() / p50.len() as f64;
        (p50.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (p50.len() - 1) as f64).sqrt()
    };
    let few = spread(50);
    let many = spread(1600);
    assert!(
        many < 0.6 * few,
        "SD of P50 across seeds: 50 runs {few}, 1600 runs {many}"
    );
}

#[test]
fn bigger_trees_more_carbon() {
    let base = synthetic_stand(50, 5);
    let bigger: Vec<TreeInput> = base
        .iter()
        .map(|t| TreeInput {
            height_m: t.height_m * 1.2,
            crown_diameter_m: t.crown_diameter_m * 1.2,
            dbh_cm: t.dbh_cm.map(|d| d * 1.2),
            ..t.clone()
        })
        .collect();
    let o = deterministic_opts(5, 4);
    let a = sim(&base, &o);
    let b = sim(&bigger, &o);
    assert!(b.stand.stock_co2e_t.p50[0] > a.stand.stock_co2e_t.p50[0]);
    // Per tree too.
    let ta = &a.trees.as_ref().unwrap().years[0].co2e_t.0;
    let tb = &b.trees.as_ref().unwrap().years[0].co2e_t.0;
    assert!(ta.iter().zip(tb).all(|(x, y)| y > x));
}

#[test]
fn deterministic_stand_grows_and_credits_once() {
    let trees = synthetic_stand(100, 6);
    let mut o = deterministic_opts(20, 8);
    o.accounting.leakage_fraction = 0.1;
    o.accounting.buffer_fraction = 0.2;
    o.accounting.issuance_lag_years = 2;
    o.accounting.verification_interval_years = 5;
    let s = sim(&trees, &o);
    let st = &s.stand;
    // No randomness left: all runs agree.
    assert_eq!(st.stock_co2e_t.p10, st.stock_co2e_t.p90);
    assert!(
        st.stock_co2e_t.p50.windows(2).all(|w| w[1] > w[0]),
        "stock grows"
    );
    assert!(s.accounting.uncertainty_deduction.iter().all(|d| *d == 0.0));
    // Issued + pending = net removals × (1 − leakage) × (1 − buffer), each applied once.
    let gain = st.stock_co2e_t.p50[20] - st.stock_co2e_t.p50[0];
    let issued: f64 = st.credits_issued_t.p50.iter().sum();
    let pending = s.accounting.pending_after_horizon_t.p50;
    let expected = gain * 0.9 * 0.8;
    assert!(
        ((issued + pending) - expected).abs() < 1e-6 * expected,
        "{issued} + {pending} vs {expected}"
    );
    let buffer: f64 = st.buffer_t.p50.iter().sum();
    assert!((buffer - gain * 0.9 * 0.2).abs() < 1e-6 * gain);
    // The representative run equals the ensemble here.
    assert_eq!(st.representative.stock_co2e_t, st.stock_co2e_t.p50);
}

#[test]
fn uncertainty_deduction_applies_when_spread_is_wide() {
    let trees = synthetic_stand(30, 7);
    let mut o = small_opts(10, 300);
    o.allometry.biomass_log_sigma = 1.0;
    let s = sim(&trees, &o);
    // 30 trees with σ = 1: the estimated stock change is uncertain → deduction.
    assert!(s.accounting.uncertainty_deduction.iter().any(|d| *d > 0.0));
    for (u, d) in s
        .accounting
        .uncertainty_half_width
        .iter()
        .zip(&s.accounting.uncertainty_deduction)
    {
        assert!((*d - (u - 0.15).clamp(0.0, 1.0)).abs() < 1e-12);
    }
    // A large inventory with the default σ needs no deduction.
    let big = sim(&synthetic_stand(1000, 7), &small_opts(10, 50));
    assert!(
        big.accounting
            .uncertainty_deduction
            .iter()
            .all(|d| *d == 0.0)
    );
    // The ensemble source sees disturbance and growth risk too and deducts more.
    let mut e = small_opts(10, 300);
    e.accounting.uncertainty.source = UncertaintySource::Ensemble;
    let ens = sim(&trees, &e);
    let total = |s: &Simulation| s.accounting.uncertainty_deduction.iter().sum::<f64>();
    assert!(total(&ens) > total(&big));
}

#[test]
fn competition_slows_growth() {
    // Dense clump: crowns overlap heavily.
    let trees: Vec<TreeInput> = (0..49)
        .map(|i| TreeInput {
            id: i,
            x: (i % 7) as f64 * 2.0,
            y: (i / 7) as f64 * 2.0,
            height_m: 15.0,
            crown_diameter_m: 5.0,
            dbh_cm: None,
            species_group: Some(SpeciesGroup::Pine),
        })
        .collect();
    let mut with = deterministic_opts(10, 2);
    with.growth.competition = Some(CompetitionOptions { strength: 0.8 });
    let mut without = with.clone();
    without.growth.competition = None;
    let a = sim(&trees, &with).stand.stock_co2e_t.p50[10];
    let b = sim(&trees, &without).stand.stock_co2e_t.p50[10];
    assert!(a < b, "{a} vs {b}");
}

#[test]
fn tree_states_round_trip_and_sum_to_stand() {
    let trees = synthetic_stand(40, 8);
    let o = small_opts(6, 16);
    let s = sim(&trees, &o);
    let json = s.to_json();
    let back: Simulation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let ts = s.trees.as_ref().unwrap();
    assert_eq!(ts.years.len(), 7);
    for (t, y) in ts.years.iter().enumerate() {
        assert_eq!(y.height_m.0.len(), 40);
        let total: f64 = y.co2e_t.0.iter().map(|v| *v as f64).sum();
        let rep = s.stand.representative.stock_co2e_t[t];
        assert!(
            (total - rep).abs() < 1e-3 * rep.max(1.0),
            "{total} vs {rep}"
        );
        assert_eq!(
            y.alive.count_ones() as f64,
            s.stand.representative.stems_alive[t]
        );
    }
    assert_eq!(s.schema_version, SCHEMA_VERSION);
    // Predicted DBH is Jucker's for trees without an observed DBH.
    let i = trees.iter().position(|t| t.dbh_cm.is_none()).unwrap();
    let d = crate::allometry::JUCKER_GLOBAL.dbh_cm(trees[i].height_m, trees[i].crown_diameter_m);
    assert!((ts.years[0].dbh_cm.0[i] as f64 - d).abs() < 1e-3 * d);
}

#[test]
fn csv_tables() {
    let trees = synthetic_stand(10, 9);
    let s = sim(&trees, &small_opts(5, 8));
    let stand = stand_csv(&s);
    assert_eq!(stand.lines().count(), 7);
    assert!(stand.starts_with("year,stock_co2e_t_p10"));
    assert!(stand.lines().next().unwrap().contains("value_CNY_p50"));
    assert_eq!(trees_csv(&s).lines().count(), 1 + 6 * 10);
    let c = collateral_csv(&s);
    assert!(c.contains("breach_price_per_t") && c.contains("BBB"));
}

#[test]
fn progress_and_cancellation() {
    let trees = synthetic_stand(20, 10);
    let o = small_opts(5, 100);
    let mut last = (0, 0);
    run(&trees, &o, &mut |d, t| last = (d, t), &CancelToken::new()).unwrap();
    assert_eq!(last.0, last.1);
    let c = CancelToken::new();
    c.cancel();
    assert!(matches!(
        run(&trees, &o, &mut |_, _| {}, &c),
        Err(GrowthError::Cancelled)
    ));
    // Cancel from the progress callback: stops after the current chunk.
    let c2 = CancelToken::new();
    let c3 = c2.clone();
    let r = run(&trees, &o, &mut |_, _| c3.cancel(), &c2);
    assert!(matches!(r, Err(GrowthError::Cancelled)));
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let o = small_opts(5, 4);
    assert!(matches!(
        run(&[], &o, &mut |_, _| {}, &CancelToken::new()),
        Err(GrowthError::NoTrees)
    ));
    let mut t = synthetic_stand(3, 11);
    t[1].height_m = f64::NAN;
    assert!(matches!(
        run(&t, &o, &mut |_, _| {}, &CancelToken::new()),
        Err(GrowthError::InvalidInput { id: 1, .. })
    ));
    let mut t = synthetic_stand(3, 11);
    t[2].id = 0;
    assert!(run(&t, &o, &mut |_, _| {}, &CancelToken::new()).is_err());
    let bad = SimulationOptions {
        runs: 0,
        ..o.clone()
    };
    assert!(matches!(
        run(
            &synthetic_stand(3, 1),
            &bad,
            &mut |_, _| {},
            &CancelToken::new()
        ),
        Err(GrowthError::InvalidOption { .. })
    ));
}

#[test]
fn bench_entry_point() {
    let r = bench(100, 5, 10).unwrap();
    assert!(r.tree_years_per_s > 0.0 && r.final_stock_p50_co2e_t > 0.0);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn random_stands_give_sane_results(
            n in 1usize..12, years in 1u32..8, seed in 0u64..1000,
            hazard in 0.0f64..0.5, loss in 0.0f64..1.0, buffer in 0.0f64..0.9,
        ) {
            let trees = synthetic_stand(n, seed);
            let mut o = small_opts(years, 12);
            o.seed = seed;
            o.growth.disturbance = DisturbanceOptions { hazard_per_year: hazard, loss_fraction: loss };
            o.accounting.buffer_fraction = buffer;
            let s = sim(&trees, &o);
            for b in [&s.stand.stock_co2e_t, &s.stand.credits_issued_t, &s.stand.value] {
                for t in 0..b.p50.len() {
                    prop_assert!(b.p10[t] <= b.p50[t] && b.p50[t] <= b.p90[t]);
                    prop_assert!(!b.p10[t].is_nan() && !b.p90[t].is_nan());
                }
            }
            prop_assert!(s.stand.stock_co2e_t.p10.iter().all(|v| *v >= 0.0));
            prop_assert!(s.stand.credits_issued_t.p10.iter().all(|v| *v >= 0.0));
            prop_assert!(!s.collateral.value.is_nan() && s.collateral.value >= 0.0);
            prop_assert!(!s.collateral.liquidation.breach_price_per_t.is_nan());
        }
    }
}
