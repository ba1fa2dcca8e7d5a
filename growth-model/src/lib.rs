//! # TwinMint growth model
//!
//! Projects a surveyed forest (or values pipe runs) forward in time for the time-lapse and for
//! the people who lend against it: per-tree growth with Monte Carlo uncertainty, carbon
//! accounting to issuable credits, carbon-price valuation and collateral value. No Bevy, no
//! global state, and no file I/O inside the model (only [`prices::load_csv`] reads a file).
//!
//! Entry points:
//! - [`run`] — trees + [`SimulationOptions`] → [`Simulation`] (`simulation.json`, schema in
//!   [`output`]); [`stand_csv`], [`trees_csv`], [`collateral_csv`] render its tables.
//! - [`tree_allometry`], [`year0_agb_kg`], [`predicted_dbh_cm`] — one tree's year-0 DBH,
//!   species group and biomass by exactly the simulation's rules (for accuracy benchmarks);
//!   [`species::lookup`] — species names and codes to groups.
//! - [`value_pipeline`] — pipe runs + [`PipelineOptions`] → [`PipelineValuation`].
//! - [`bench()`] — a synthetic stand through the full simulation, timed.
//! - [`prices`] — price tables ([`prices::builtin`], [`prices::parse_csv`],
//!   [`prices::load_csv`], [`prices::refresh`]) and scenarios.
//!
//! Science and defaults are documented (with citations) where they live: [`allometry`],
//! [`species`],
//! [`growth`], [`accounting`], [`finance`], [`pipeline`], [`sim`].

pub mod accounting;
pub mod allometry;
mod ensemble;
pub mod error;
pub mod finance;
pub mod growth;
pub mod options;
pub mod output;
pub mod pipeline;
pub mod prices;
pub mod sim;
pub mod species;
pub mod stats;

pub use accounting::{AccountingOptions, Baseline, UncertaintyDeduction, UncertaintySource};
pub use allometry::{
    AgbModel, BiomassEquation, CarbonFraction, Clade, Ecozone, ForestType, GroupSource,
    JuckerBiome, Region, RootShoot, SpeciesGroup,
};
pub use error::{GrowthError, Result};
pub use finance::{Collateral, CollateralOptions, CreditGrade, LiquidationLine};
pub use growth::{
    CompetitionOptions, DisturbanceOptions, GrowthParams, HarvestEvent, MortalityOptions, Selection,
};
pub use output::{
    Band, EquationUse, GroupSourceCounts, Inventory, InventoryTotals, InventoryTree,
    SCHEMA_VERSION, ScalarBand, Simulation, StandSeries, TreeStates, check_finite, collateral_csv,
    stand_csv, trees_csv,
};
pub use pipeline::{
    Depreciation, PipeInput, PipeValuation, PipelineOptions, PipelineValuation, pipeline_csv,
    value_pipeline,
};
pub use prices::{Market, PriceScenario, PriceSeries, YearMonth};
pub use sim::{
    AllometryOptions, CancelToken, FinanceOptions, GroupParams, GrowthOptions, OutputOptions,
    PriceOptions, ResolvedGroup, SimulationOptions, TimberOptions, Timing, TreeAllometry,
    TreeInput, predicted_dbh_cm, run, run_timed, tree_allometry, year0_agb_kg,
};

use serde::{Deserialize, Serialize};

/// A reproducible synthetic stand of `n` trees for benchmarks and tests: a jittered 5 m grid
/// (400 stems/ha), heights 8–26 m, crowns from a height ratio with scatter, a mix of pine,
/// spruce, mixed hardwood and oak groups, DBH observed for one tree in five.
pub fn synthetic_stand(n: usize, seed: u64) -> Vec<TreeInput> {
    let mut rng = stats::run_rng(seed, 0);
    let side = (n as f64).sqrt().ceil() as usize;
    let groups = [
        SpeciesGroup::Pine,
        SpeciesGroup::Spruce,
        SpeciesGroup::MixedHardwood,
        SpeciesGroup::HardMapleOakHickoryBeech,
    ];
    let mut u = move || stats::uniform_open(&mut rng);
    (0..n)
        .map(|i| {
            let (gx, gy) = ((i % side) as f64, (i / side) as f64);
            let h = 8.0 + 18.0 * u();
            let cd = (0.22 + 0.1 * u()) * h;
            let g = groups[(u() * groups.len() as f64) as usize % groups.len()];
            let observed = u() < 0.2;
            let dbh = observed.then(|| allometry::JUCKER_GLOBAL.dbh_cm(h, cd) * (0.85 + 0.3 * u()));
            TreeInput {
                id: i as u32,
                x: 500_000.0 + gx * 5.0 + (u() - 0.5) * 2.0,
                y: 4_000_000.0 + gy * 5.0 + (u() - 0.5) * 2.0,
                height_m: h,
                crown_diameter_m: cd,
                dbh_cm: dbh,
                species_group: Some(g),
                ..Default::default()
            }
        })
        .collect()
}

/// Result of [`bench()`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub trees: usize,
    pub years: u32,
    pub runs: u32,
    pub threads: usize,
    /// Preparation, schedule (competition, events) and growth levels.
    pub precompute_s: f64,
    pub monte_carlo_s: f64,
    pub total_s: f64,
    /// trees × years × runs / total seconds.
    pub tree_years_per_s: f64,
    /// P50 stock in the final year, t CO2e (a sanity number).
    pub final_stock_p50_co2e_t: f64,
}

/// Runs the full simulation (default options, competition and per-tree states included) on
/// [`synthetic_stand`]`(trees, 7)` and reports the time and throughput. Wire it to
/// `twinmint bench simulate`; the target is 10 000 trees × 50 years × 1 000 runs in
/// under 10 s on 2 cores (release build).
pub fn bench(trees: usize, years: u32, runs: u32) -> Result<BenchReport> {
    let stand = synthetic_stand(trees, 7);
    let opts = SimulationOptions {
        years,
        runs,
        ..Default::default()
    };
    let (sim, t) = run_timed(&stand, &opts, &mut |_, _| {}, &CancelToken::new())?;
    Ok(BenchReport {
        trees,
        years,
        runs,
        threads: t.threads,
        precompute_s: t.precompute_s,
        monte_carlo_s: t.monte_carlo_s,
        total_s: t.total_s,
        tree_years_per_s: trees as f64 * years as f64 * runs as f64 / t.total_s.max(1e-9),
        final_stock_p50_co2e_t: *sim.stand.stock_co2e_t.p50.last().unwrap_or(&f64::NAN),
    })
}
