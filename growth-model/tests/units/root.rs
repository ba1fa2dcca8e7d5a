//! Tests of `growth_model` (src/lib.rs).
//! End-to-end tests of the simulation.

use growth_model::*;

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
    o.allometry.biomass_log_sigma = Some(0.0);
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
    o.allometry.biomass_log_sigma = Some(1.0);
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
            ..Default::default()
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
    let d =
        growth_model::allometry::JUCKER_GLOBAL.dbh_cm(trees[i].height_m, trees[i].crown_diameter_m);
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

/// 60 trees on a 6 m grid: every rule of the group order, observed DBH on one in five.
fn mixed_stand() -> Vec<TreeInput> {
    (0..60u32)
        .map(|i| {
            let h = 12.0 + (i % 10) as f64;
            let (species, conifer, group) = match i % 6 {
                0 => (Some("Picea abies"), None, None),
                // Named species contradicting the points' call: the species wins.
                1 => (Some("Fagus sylvatica"), Some(true), None),
                2 => (None, Some(true), None),
                3 => (None, Some(false), None),
                4 => (None, None, Some(SpeciesGroup::Pine)),
                _ => (Some("Tectona grandis"), None, None),
            };
            TreeInput {
                id: i,
                x: 1000.0 + (i % 8) as f64 * 6.0,
                y: 2000.0 + (i / 8) as f64 * 6.0,
                height_m: h,
                crown_diameter_m: 0.25 * h,
                dbh_cm: (i % 5 == 0).then_some(25.0 + i as f64 * 0.1),
                species_group: group,
                conifer,
                species: species.map(String::from),
            }
        })
        .collect()
}

#[test]
fn group_source_order() {
    use SpeciesGroup as G;
    use growth_model::allometry::GroupSource as S;
    let mut eu = AllometryOptions {
        region: Region::Europe,
        ..Default::default()
    };
    let r = eu.resolve_group(Some(G::Pine), Some("Fagus sylvatica"), Some(false));
    assert_eq!((r.group, r.source), (G::Pine, S::SpeciesGroup));
    let r = eu.resolve_group(None, Some("Fagus sylvatica"), Some(true));
    assert_eq!(
        (r.group, r.source),
        (G::HardMapleOakHickoryBeech, S::Species)
    );
    assert!(r.class_conflict);
    let r = eu.resolve_group(None, Some("PIAB"), Some(true));
    assert_eq!(
        (r.group, r.source, r.class_conflict),
        (G::Spruce, S::Species, false)
    );
    let r = eu.resolve_group(None, Some("Quercus"), None);
    assert_eq!(
        (r.group, r.source),
        (G::HardMapleOakHickoryBeech, S::Species)
    );
    let r = eu.resolve_group(None, None, Some(true));
    assert_eq!(
        (r.group, r.source),
        (G::Spruce, S::Class),
        "Europe's conifer default"
    );
    let r = eu.resolve_group(None, None, Some(false));
    assert_eq!((r.group, r.source), (G::MixedHardwood, S::Class));
    // An unknown name falls through to the class, then the default.
    let r = eu.resolve_group(None, Some("Tectona grandis"), Some(true));
    assert_eq!(
        (r.group, r.source, r.species_unknown),
        (G::Spruce, S::Class, true)
    );
    let r = eu.resolve_group(None, Some("Tectona grandis"), None);
    assert_eq!((r.group, r.source), (G::MixedHardwood, S::Default));
    // A class word from the user overrides the points' call.
    let r = eu.resolve_group(None, Some("conifer"), Some(false));
    assert_eq!(
        (r.group, r.source, r.species_unknown),
        (G::Spruce, S::Class, false)
    );
    let r = eu.resolve_group(None, Some("  "), None);
    assert_eq!((r.source, r.species_unknown), (S::Default, false));
    eu.default_species_group = G::Spruce;
    assert_eq!(eu.resolve_group(None, None, None).group, G::Spruce);
    let na = AllometryOptions {
        region: Region::NorthAmerica,
        ..Default::default()
    };
    assert_eq!(na.resolve_group(None, None, Some(true)).group, G::Pine);
}

#[test]
fn predicted_dbh_follows_region_and_group() {
    use growth_model::allometry::JUCKER_GLOBAL;
    let eu = AllometryOptions {
        region: Region::Europe,
        ..Default::default()
    };
    // Palearctic temperate mixed: gymnosperm 1.004·(H·CD)^0.730, angiosperm 0.694·(H·CD)^0.730.
    let c = predicted_dbh_cm(20.0, 6.0, Some(true), &eu);
    assert!((c - 1.004 * 120f64.powf(0.730)).abs() < 1e-9, "{c}");
    assert!((c - 33.08).abs() < 0.01);
    let b = predicted_dbh_cm(20.0, 6.0, Some(false), &eu);
    assert!((b - 0.694 * 120f64.powf(0.730)).abs() < 1e-9, "{b}");
    assert_eq!(
        predicted_dbh_cm(20.0, 6.0, None, &eu),
        b,
        "default group is broadleaf"
    );
    let na = AllometryOptions {
        region: Region::NorthAmerica,
        ..Default::default()
    };
    let n = predicted_dbh_cm(20.0, 6.0, Some(true), &na);
    assert!((n - 0.861 * 120f64.powf(0.755)).abs() < 1e-9, "{n}");
    let global = AllometryOptions::default();
    assert_eq!(
        predicted_dbh_cm(20.0, 6.0, Some(true), &global),
        JUCKER_GLOBAL.dbh_cm(20.0, 6.0)
    );
    // An explicit model wins over the region.
    let pinned = AllometryOptions {
        dbh_model: Some(JuckerBiome::Global),
        ..eu.clone()
    };
    assert_eq!(
        predicted_dbh_cm(20.0, 6.0, Some(true), &pinned),
        JUCKER_GLOBAL.dbh_cm(20.0, 6.0)
    );
    // The simulation sizes class-only trees the same way.
    let trees = mixed_stand();
    let mut o = small_opts(3, 4);
    o.allometry = eu;
    let s = sim(&trees, &o);
    let inv = s.inventory.unwrap();
    let mut checked = 0;
    for (t, r) in trees.iter().zip(&inv.trees) {
        if t.dbh_cm.is_none() && t.species.is_none() && t.species_group.is_none() {
            let d = predicted_dbh_cm(t.height_m, t.crown_diameter_m, t.conifer, &o.allometry);
            assert_eq!(r.dbh_cm, d);
            assert!(!r.dbh_observed);
            checked += 1;
        }
    }
    assert!(checked >= 10);
}

#[test]
fn year0_inventory_is_consistent() {
    use growth_model::allometry::GroupSource as S;
    let trees = mixed_stand();
    let mut o = small_opts(8, 400);
    o.allometry.region = Region::Europe;
    // A fixed root:shoot ratio, so the Monte Carlo year-0 spread below is the allometric
    // residuals only (the IPCC ratio steps with stand AGB/ha and would compress it).
    o.allometry.root_shoot = RootShoot::Fixed { ratio: 0.25 };
    o.area_ha = Some(0.25);
    let s = sim(&trees, &o);
    assert_eq!(s.schema_version, 2);
    let inv = s.inventory.as_ref().unwrap();
    let ts = s.trees.as_ref().unwrap();
    assert_eq!(inv.trees.len(), 60);
    assert_eq!(inv.year, o.start_year);
    let r_s = inv.root_shoot_ratio;
    assert_eq!(r_s, 0.25);
    for (i, t) in trees.iter().enumerate() {
        let r = &inv.trees[i];
        assert_eq!(r.id, t.id);
        // The public per-tree functions give exactly the inventory's values.
        let (agb, label) = year0_agb_kg(t, &o.allometry);
        assert_eq!(r.agb_kg, agb);
        assert_eq!(r.equation, label);
        let a = tree_allometry(t, &o.allometry);
        assert_eq!((r.dbh_cm, r.group_source), (a.dbh_cm, a.resolved.source));
        assert_eq!(r.dbh_observed, t.dbh_cm.is_some());
        // The representative run's year 0 is the inventory.
        let rep_agb = ts.years[0].agb_kg.0[i] as f64;
        assert!(
            (rep_agb - r.agb_kg).abs() <= 1e-6 * r.agb_kg,
            "{rep_agb} {}",
            r.agb_kg
        );
        let rep_co2e = ts.years[0].co2e_t.0[i] as f64 * 1000.0;
        assert!((rep_co2e - r.co2e_kg).abs() <= 1e-5 * r.co2e_kg);
        // Carbon arithmetic.
        assert!((r.bgb_kg - r.agb_kg * r_s).abs() < 1e-9 * r.agb_kg);
        let c = (r.agb_kg + r.bgb_kg) * r.carbon_fraction;
        assert!((r.carbon_kg - c).abs() < 1e-9 * c);
        assert!((r.co2e_kg - c * 44.0 / 12.0).abs() < 1e-9 * c);
        // Uncertainty: σ > 0, the interval brackets the estimate, predicted DBH adds error.
        assert!(r.agb_log_sigma > 0.0 && r.agb_sd_kg > 0.0);
        assert!(r.agb_p05_kg < r.agb_kg && r.agb_kg < r.agb_p95_kg);
        if !r.dbh_observed {
            assert!(r.agb_log_sigma > a.model.log_sigma);
        } else {
            assert!((r.agb_log_sigma - a.model.log_sigma).abs() < 1e-6);
        }
    }
    let pick = |i: usize| {
        let r = &inv.trees[i];
        (r.species_group, r.group_source, r.equation.as_str())
    };
    let f = "Forrester et al. 2017: ";
    assert_eq!(
        pick(0),
        (
            SpeciesGroup::Spruce,
            S::Species,
            &*format!("{f}Picea abies")
        )
    );
    assert_eq!(
        pick(1),
        (
            SpeciesGroup::HardMapleOakHickoryBeech,
            S::Species,
            &*format!("{f}Fagus sylvatica")
        )
    );
    assert_eq!(
        pick(2),
        (SpeciesGroup::Spruce, S::Class, &*format!("{f}Conifers"))
    );
    assert_eq!(
        pick(3),
        (
            SpeciesGroup::MixedHardwood,
            S::Class,
            &*format!("{f}Broad-leaved species")
        )
    );
    assert_eq!(
        pick(4),
        (
            SpeciesGroup::Pine,
            S::SpeciesGroup,
            &*format!("{f}Pinus sylvestris")
        )
    );
    assert_eq!(
        pick(5),
        (
            SpeciesGroup::MixedHardwood,
            S::Default,
            &*format!("{f}Broad-leaved species")
        )
    );
    // Totals: sums, and per hectare = sum / area.
    let t = &inv.totals;
    let g = t.group_sources;
    assert_eq!(
        (g.species, g.class, g.species_group, g.default),
        (20, 20, 10, 10)
    );
    assert_eq!(s.settings.derived.group_sources, g);
    assert_eq!((t.trees, t.dbh_observed, t.dbh_predicted), (60, 12, 48));
    let sum =
        |f: fn(&growth_model::InventoryTree) -> f64| inv.trees.iter().map(f).sum::<f64>() / 1000.0;
    for (total, per_ha, all) in [
        (t.agb_t, t.agb_t_per_ha, sum(|r| r.agb_kg)),
        (t.bgb_t, t.bgb_t_per_ha, sum(|r| r.bgb_kg)),
        (t.carbon_t, t.carbon_t_per_ha, sum(|r| r.carbon_kg)),
        (t.co2e_t, t.co2e_t_per_ha, sum(|r| r.co2e_kg)),
    ] {
        assert!((total - all).abs() < 1e-9 * all);
        assert!((per_ha - all / 0.25).abs() < 1e-9 * all);
    }
    assert!(t.co2e_t_per_ha_p05 < t.co2e_t_per_ha && t.co2e_t_per_ha < t.co2e_t_per_ha_p95);
    let rep0 = s.stand.representative.stock_co2e_t[0];
    assert!((rep0 - t.co2e_t).abs() < 1e-5 * rep0, "{rep0} {}", t.co2e_t);
    assert!((s.stand.representative.agb_t[0] - t.agb_t).abs() < 1e-5 * t.agb_t);
    // The Monte Carlo year-0 spread comes from the same per-tree σ: its P10-P90 half-width is
    // ≈ 1.2816 SD of the sum.
    let band = &s.stand.stock_co2e_t;
    let half = 0.5 * (band.p90[0] - band.p10[0]);
    let ratio = half / (1.2816 * t.co2e_sd_t);
    assert!(
        (0.7..1.4).contains(&ratio),
        "MC half-width {half} vs SD {}",
        t.co2e_sd_t
    );
    // Equations: every tree counted once, most biomass first.
    assert_eq!(inv.equations.iter().map(|e| e.trees).sum::<usize>(), 60);
    assert!(inv.equations.windows(2).all(|w| w[0].agb_t >= w[1].agb_t));
    assert!(
        inv.equations
            .iter()
            .all(|e| e.equation == BiomassEquation::Forrester2017)
    );
    let d = &s.settings.derived;
    assert_eq!(
        (d.region, d.biomass_equation, d.dbh_model),
        (
            Region::Europe,
            BiomassEquation::Forrester2017,
            JuckerBiome::PalearcticTemperateMixed
        )
    );
    assert!(
        s.warnings.iter().any(|w| w.contains("Tectona grandis")),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("10 trees name a species"))
    );

    // stand.csv: year 0 per hectare = the inventory.
    let stand = stand_csv(&s);
    let head: Vec<&str> = stand.lines().next().unwrap().split(',').collect();
    let row0: Vec<&str> = stand.lines().nth(1).unwrap().split(',').collect();
    let col = |name: &str| -> f64 {
        let k = head
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"));
        row0[k].parse().unwrap()
    };
    for (name, v) in [
        ("representative_agb_t_per_ha", t.agb_t_per_ha),
        ("representative_bgb_t_per_ha", t.bgb_t_per_ha),
        ("representative_carbon_t_per_ha", t.carbon_t_per_ha),
        ("representative_co2e_t_per_ha", t.co2e_t_per_ha),
    ] {
        assert!(
            (col(name) - v).abs() < 1e-3 * v.max(1.0),
            "{name}: {} vs {v}",
            col(name)
        );
    }

    // trees.csv: the new columns, consistent with simulation.json.
    let csv = trees_csv(&s);
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &head[..10],
        &[
            "year",
            "id",
            "x",
            "y",
            "species_group",
            "alive",
            "height_m",
            "dbh_cm",
            "crown_diameter_m",
            "co2e_t"
        ]
    );
    assert_eq!(
        &head[10..],
        &[
            "agb_kg",
            "species",
            "group_source",
            "dbh_source",
            "equation"
        ]
    );
    assert_eq!(csv.lines().count(), 1 + 9 * 60);
    let k = |name: &str| head.iter().position(|h| *h == name).unwrap();
    for (line, r) in lines.take(60).zip(&inv.trees) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[k("year")], o.start_year.to_string());
        assert_eq!(f[k("id")], r.id.to_string());
        let agb: f64 = f[k("agb_kg")].parse().unwrap();
        assert!((agb - r.agb_kg).abs() < 1e-3, "{agb} vs {}", r.agb_kg);
        let co2e_t: f64 = f[k("co2e_t")].parse().unwrap();
        assert!(
            (co2e_t * 1000.0 - r.co2e_kg).abs() < 0.1,
            "{co2e_t} {}",
            r.co2e_kg
        );
        assert_eq!(f[k("species")], r.species.as_deref().unwrap_or(""));
        assert_eq!(f[k("group_source")], r.group_source.name());
        assert_eq!(
            f[k("dbh_source")],
            if r.dbh_observed {
                "observed"
            } else {
                "predicted"
            }
        );
        assert_eq!(f[k("equation")], r.equation);
        assert_eq!(f[k("species_group")], r.species_group.name());
    }
}

#[test]
fn global_default_keeps_jenkins() {
    let trees = synthetic_stand(30, 5);
    let s = sim(&trees, &deterministic_opts(3, 2));
    let inv = s.inventory.unwrap();
    for (t, r) in trees.iter().zip(&inv.trees) {
        let g = t.species_group.unwrap();
        assert_eq!(r.species_group, g);
        assert_eq!(r.equation, format!("Jenkins et al. 2003: {}", g.name()));
        let d = t.dbh_cm.unwrap_or_else(|| {
            growth_model::allometry::JUCKER_GLOBAL.dbh_cm(t.height_m, t.crown_diameter_m)
        });
        assert!((r.dbh_cm - d).abs() < 1e-12 * d);
        let j = growth_model::allometry::jenkins2003_agb_kg(g, d);
        assert!((r.agb_kg - j).abs() < 1e-9 * j);
    }
    assert_eq!(
        s.settings.derived.biomass_equation,
        BiomassEquation::Jenkins2003
    );
    // With the IPCC root:shoot table the inventory uses the representative run's year-0 ratio.
    let rep0 = s.stand.representative.stock_co2e_t[0];
    assert!((rep0 - inv.totals.co2e_t).abs() < 1e-5 * rep0);
    let r = s.stand.representative.bgb_t[0] / s.stand.representative.agb_t[0];
    assert!((r - inv.root_shoot_ratio).abs() < 1e-9, "{r}");
}

#[test]
fn version_1_files_and_inputs_still_read() {
    let s = sim(&synthetic_stand(5, 1), &small_opts(3, 4));
    let mut v = serde_json::to_value(&s).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("inventory");
    o.insert("schema_version".into(), 1.into());
    for y in v["trees"]["years"].as_array_mut().unwrap() {
        y.as_object_mut().unwrap().remove("agb_kg");
    }
    let rep = v["stand"]["representative"].as_object_mut().unwrap();
    for k in ["agb_t", "bgb_t", "carbon_t"] {
        rep.remove(k);
    }
    let d = v["settings"]["derived"].as_object_mut().unwrap();
    for k in ["region", "biomass_equation", "dbh_model", "group_sources"] {
        d.remove(k);
    }
    let al = v["settings"]["options"]["allometry"]
        .as_object_mut()
        .unwrap();
    al.remove("region");
    al.insert("dbh_model".into(), "global".into());
    al.insert("biomass".into(), "jenkins2003".into());
    al.insert("biomass_log_sigma".into(), 0.357.into());
    let old: Simulation = serde_json::from_value(v).unwrap();
    assert!(old.inventory.is_none());
    let a = &old.settings.options.allometry;
    assert_eq!(a.biomass_log_sigma, Some(0.357));
    assert_eq!(a.dbh_model, Some(JuckerBiome::Global));
    assert_eq!(a.region, Region::Global);
    let csv = trees_csv(&old);
    assert_eq!(csv.lines().count(), 1 + 4 * 5);
    assert!(csv.lines().nth(1).unwrap().ends_with(",,,,,"));
    assert_eq!(stand_csv(&old).lines().count(), 5);
    let t: TreeInput =
        serde_json::from_str(r#"{"id":1,"x":0,"y":0,"height_m":10,"crown_diameter_m":3}"#).unwrap();
    assert_eq!((t.conifer, t.species, t.species_group), (None, None, None));
}

/// Random stands (seeded, so a failure names its case): the bands stay ordered and finite, the
/// collateral non-negative, whatever the stand size, horizon, disturbance and buffer.
#[test]
fn random_stands_give_sane_results() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(805);
    for case in 0..12 {
        let n = rng.random_range(1usize..12);
        let years = rng.random_range(1u32..8);
        let seed = rng.random_range(0u64..1000);
        let hazard = rng.random_range(0.0f64..0.5);
        let loss = rng.random_range(0.0f64..1.0);
        let buffer = rng.random_range(0.0f64..0.9);
        let why = format!(
            "case {case}: n {n}, years {years}, seed {seed}, hazard {hazard}, loss {loss}, buffer {buffer}"
        );
        let trees = synthetic_stand(n, seed);
        let mut o = small_opts(years, 12);
        o.seed = seed;
        o.growth.disturbance = DisturbanceOptions {
            hazard_per_year: hazard,
            loss_fraction: loss,
        };
        o.accounting.buffer_fraction = buffer;
        let s = sim(&trees, &o);
        for b in [
            &s.stand.stock_co2e_t,
            &s.stand.credits_issued_t,
            &s.stand.value,
        ] {
            for t in 0..b.p50.len() {
                assert!(b.p10[t] <= b.p50[t] && b.p50[t] <= b.p90[t], "{why}");
                assert!(!b.p10[t].is_nan() && !b.p90[t].is_nan(), "{why}");
            }
        }
        assert!(s.stand.stock_co2e_t.p10.iter().all(|v| *v >= 0.0), "{why}");
        assert!(
            s.stand.credits_issued_t.p10.iter().all(|v| *v >= 0.0),
            "{why}"
        );
        assert!(
            !s.collateral.value.is_nan() && s.collateral.value >= 0.0,
            "{why}"
        );
        assert!(
            !s.collateral.liquidation.breach_price_per_t.is_nan(),
            "{why}"
        );
    }
}

#[test]
fn non_physical_tree_inputs_are_refused() {
    let o = small_opts(5, 4);
    let go = |t: &[TreeInput]| run(t, &o, &mut |_, _| {}, &CancelToken::new());
    let mut t = synthetic_stand(3, 11);
    t[1].height_m = 1e300;
    let e = go(&t).unwrap_err().to_string();
    assert!(e.contains("height") && e.contains("150"), "{e}");
    let mut t = synthetic_stand(3, 11);
    t[0].height_m = 150.5;
    assert!(matches!(
        go(&t),
        Err(GrowthError::InvalidInput { id: 0, .. })
    ));
    t[0].height_m = 149.0;
    t[0].dbh_cm = Some(120.0);
    assert!(go(&t).is_ok(), "a 149 m tree with a 1.2 m stem is physical");
    let mut t = synthetic_stand(3, 11);
    t[2].dbh_cm = Some(1501.0);
    let e = go(&t).unwrap_err().to_string();
    assert!(e.contains("DBH") && e.contains("1500"), "{e}");
    let mut t = synthetic_stand(3, 11);
    t[2].crown_diameter_m = f64::INFINITY;
    assert!(go(&t).is_err());
}

#[test]
fn option_ranges_are_documented_and_enforced() {
    let ok = small_opts(5, 4);
    assert!(ok.validate().is_ok());
    let name_of = |o: &SimulationOptions| match o.validate() {
        Err(GrowthError::InvalidOption { name, .. }) => name,
        other => panic!("expected an invalid option, got {other:?}"),
    };
    let mut o = ok.clone();
    o.runs = sim::MAX_RUNS + 1;
    assert_eq!(name_of(&o), "runs");
    o.runs = sim::MAX_RUNS;
    assert!(o.validate().is_ok());
    let mut o = ok.clone();
    o.area_ha = Some(-1.0);
    assert_eq!(name_of(&o), "area_ha");
    o.area_ha = Some(2.0e6);
    assert_eq!(name_of(&o), "area_ha");
    let mut o = ok.clone();
    o.price.scenario = PriceScenario::Escalating {
        pct_per_year: 1e308,
    };
    assert_eq!(name_of(&o), "price.escalating.pct_per_year");
    o.price.scenario = PriceScenario::Escalating {
        pct_per_year: 100.0,
    };
    assert!(o.validate().is_ok());
    o.price.scenario = PriceScenario::Escalating {
        pct_per_year: -100.0,
    };
    assert_eq!(name_of(&o), "price.escalating.pct_per_year");
    let mut o = ok.clone();
    o.price.scenario = PriceScenario::Stochastic {
        drift: 0.0,
        volatility: Some(1e9),
        window_months: None,
    };
    assert_eq!(name_of(&o), "price.stochastic.volatility");
    let mut o = ok.clone();
    o.finance.discount_rate = 1e308;
    assert_eq!(name_of(&o), "finance.discount_rate");
    o.finance.discount_rate = -0.5;
    assert_eq!(name_of(&o), "finance.discount_rate");
    o.finance.discount_rate = -0.05;
    assert!(o.validate().is_ok());
}

#[test]
fn memory_estimate_refuses_runs_times_years_times_trees() {
    let mut o = small_opts(30, 1000);
    // The default scale is far below the cap.
    assert!(o.memory_estimate(10_000) < 1.0e9);
    assert!(o.check_size(10_000).is_ok());
    o.runs = 1_000_000;
    o.years = 1000;
    let est = o.memory_estimate(100);
    assert!(est > sim::MAX_SIMULATION_BYTES, "{est}");
    let e = o.check_size(100).unwrap_err();
    assert!(matches!(e, GrowthError::TooLarge { .. }));
    let m = e.to_string();
    assert!(
        m.contains("1000000 runs × 1000 years × 100 trees") && m.contains("GB"),
        "{m}"
    );
    // Refused by run itself before anything is allocated.
    let r = run(
        &synthetic_stand(3, 1),
        &o,
        &mut |_, _| {},
        &CancelToken::new(),
    );
    assert!(matches!(r, Err(GrowthError::TooLarge { .. })));
    // Many trees at modest runs: the per-tree trajectories dominate.
    let o = small_opts(1000, 10);
    assert!(o.check_size(2_000_000).is_err());
}

#[test]
fn non_finite_results_are_refused_not_written() {
    let t = synthetic_stand(4, 3);
    let o = small_opts(5, 8);
    let mut s = sim(&t, &o);
    assert!(check_finite(&s).is_ok());
    for f in [stand_csv(&s), trees_csv(&s), collateral_csv(&s)] {
        assert!(!f.contains("NaN"));
    }
    s.stand.stock_co2e_t.p50[2] = f64::NAN;
    let e = check_finite(&s).unwrap_err().to_string();
    assert!(
        e.contains("stand.csv") && e.contains("stock_co2e_t_p50"),
        "{e}"
    );
    let mut s = sim(&t, &o);
    s.valuation.npv.p50 = f64::NAN;
    let e = check_finite(&s).unwrap_err().to_string();
    assert!(e.contains("NPV P50"), "{e}");
}
