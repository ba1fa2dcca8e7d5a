//! `twinmint simulate PROJECT`: project the reconstructed trees forward (growth-model) and write
//! `simulation.json` with `stand.csv`, `trees.csv` and `collateral.csv` into the project.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use growth_model::prices::{self, Market, PriceScenario};
use growth_model::{SimulationOptions, TreeInput};

use twinmint_app::workflow::simulate as wf;

use super::Ctx;

#[derive(ValueEnum, Debug, Clone, Copy)]
enum Scenario {
    /// Constant at the anchor (mean of the last 12 months).
    Flat,
    /// Anchor growing by --escalation percent a year.
    Escalating,
    /// Geometric Brownian motion with volatility from the monthly series.
    Stochastic,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Project folder (reads reconstruction.json, writes simulation.json and CSV tables).
    project: PathBuf,
    /// Take the trees from a simulator truth table instead of reconstruction.json.
    #[arg(long, value_name = "TRUTH.json")]
    truth: Option<PathBuf>,
    #[arg(long, default_value_t = 30)]
    years: u32,
    /// Monte Carlo runs, 1 … 1 000 000; runs × years × trees must fit the 8 GB memory estimate.
    #[arg(long, default_value_t = 1000)]
    runs: u32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Price anchor: cea (China ETS), eua (EU ETS), or a CSV file (month,price).
    #[arg(long, default_value = "cea")]
    price: String,
    /// Currency of a user CSV (bundled tables carry their own).
    #[arg(long)]
    currency: Option<String>,
    #[arg(long, value_enum, default_value_t = Scenario::Flat)]
    scenario: Scenario,
    /// Escalation in percent per year for --scenario escalating (-100 < x ≤ 100).
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    escalation: f64,
    /// Discount rate for NPV and collateral, a fraction a year in [-0.1, 1] (0.08 = 8 %).
    #[arg(long, allow_negative_numbers = true)]
    discount: Option<f64>,
    /// Non-permanence buffer fraction, in [0, 1).
    #[arg(long, allow_negative_numbers = true)]
    buffer: Option<f64>,
    /// Stand area in hectares, > 0 and ≤ 1 000 000 (default: the project's bounding box).
    #[arg(long, allow_negative_numbers = true)]
    area_ha: Option<f64>,
    /// First simulated calendar year (default: the capture year, else the current year).
    #[arg(long, allow_negative_numbers = true)]
    start_year: Option<i32>,
    /// Credit grade for the liquidation line (e.g. AAA, A, BBB).
    #[arg(long)]
    grade: Option<String>,
    /// Loan amount for the liquidation line, ≥ 0 (default: the grade's maximum).
    #[arg(long, allow_negative_numbers = true)]
    loan: Option<f64>,
    /// Region of the allometry: north_america (Chojnacky 2014 biomass, Jucker Nearctic
    /// temperate mixed DBH), europe (Forrester 2017, Palearctic temperate mixed), tropics
    /// (Chave 2014, Jucker global) or global (Jenkins 2003, Jucker global; the default). Also
    /// picks the group a conifer/broadleaf call maps to when no species is named.
    #[arg(long, value_name = "REGION")]
    region: Option<growth_model::Region>,
    /// Full options as JSON (SimulationOptions); flags override it.
    #[arg(long)]
    options: Option<PathBuf>,
}

/// Trees the growth model starts from.
fn trees_from(project: &Path, truth: Option<&Path>) -> anyhow::Result<Vec<TreeInput>> {
    Ok(match truth {
        Some(t) => wf::truth_trees(&capture::synth::read_truth(t)?),
        None => wf::project_trees(project)?,
    })
}

pub fn run(a: SimulateArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let manifest = capture::project::open(&a.project)?;
    let trees = trees_from(&a.project, a.truth.as_deref())?;
    let mut o: SimulationOptions = match &a.options {
        Some(p) => super::options_file(p, "simulation options")?,
        None => SimulationOptions::default(),
    };
    o.years = a.years;
    o.runs = a.runs;
    o.seed = a.seed;
    o.start_year = a
        .start_year
        .or_else(|| wf::capture_year(&manifest))
        .unwrap_or(o.start_year);
    o.area_ha = a.area_ha.or_else(|| wf::plot_area_ha(&manifest));
    if let Some(r) = a.region {
        o.allometry.region = r;
    }
    o.price.series = match a.price.to_ascii_lowercase().as_str() {
        "cea" => prices::builtin(Market::Cea)?,
        "eua" => prices::builtin(Market::Eua)?,
        path => prices::load_csv(Path::new(path), Some(Market::User), a.currency.as_deref())?,
    };
    o.price.scenario = match a.scenario {
        Scenario::Flat => PriceScenario::Flat,
        Scenario::Escalating => PriceScenario::Escalating {
            pct_per_year: a.escalation,
        },
        Scenario::Stochastic => PriceScenario::stochastic(),
    };
    if let Some(d) = a.discount {
        o.finance.discount_rate = d;
    }
    if let Some(b) = a.buffer {
        o.accounting.buffer_fraction = b;
    }
    if let Some(g) = &a.grade {
        o.finance.collateral.grade = g.clone();
    }
    if a.loan.is_some() {
        o.finance.collateral.loan = a.loan;
    }
    let bar = indicatif::ProgressBar::new(o.runs as u64);
    if ctx.quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "  simulating [{bar:40.cyan/blue}] {pos}/{len} runs ({eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let dir = &a.project;
    let sim = wf::simulate_project(
        dir,
        &trees,
        &o,
        &mut |_, f| bar.set_position((f64::from(f) * o.runs as f64).round() as u64),
        &ctx.cancel,
    )?;
    bar.finish_and_clear();
    let s = &sim.stand;
    let last = s.year.len().saturating_sub(1);
    let c = &sim.collateral;
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "simulation": dir.join(wf::SIMULATION_JSON).display().to_string(),
                "trees": trees.len(),
                "years": o.years,
                "runs": o.runs,
                "stock_co2e_t_final": { "p10": s.stock_co2e_t.p10.get(last), "p50": s.stock_co2e_t.p50.get(last), "p90": s.stock_co2e_t.p90.get(last) },
                "stock_co2e_t_start": s.stock_co2e_t.p50.first(),
                "region": o.allometry.region,
                "biomass_equation": sim.settings.derived.biomass_equation,
                "inventory": sim.inventory.as_ref().map(|i| &i.totals),
                "npv": sim.valuation.npv,
                "currency": sim.valuation.currency,
                "collateral_value": c.value,
                "liquidation": c.liquidation,
                "warnings": sim.warnings,
            })
        );
    } else {
        println!(
            "{} trees, {} years × {} runs, price anchor {:.2} {}/t ({})",
            trees.len(),
            o.years,
            o.runs,
            sim.valuation.price_anchor_per_t,
            sim.valuation.currency,
            sim.valuation.price_latest_month
        );
        if let Some(inv) = &sim.inventory {
            let t = &inv.totals;
            println!(
                "year-0 inventory ({} region, {}): AGB {:.1} t/ha, carbon {:.1} t/ha, {:.1} t CO2e/ha (90% {:.1}–{:.1}); DBH observed for {} of {} trees",
                inv.region.name(),
                inv.equations
                    .iter()
                    .map(|e| format!("{} × {}", e.trees, e.label))
                    .collect::<Vec<_>>()
                    .join(", "),
                t.agb_t_per_ha,
                t.carbon_t_per_ha,
                t.co2e_t_per_ha,
                t.co2e_t_per_ha_p05,
                t.co2e_t_per_ha_p95,
                t.dbh_observed,
                t.trees
            );
        }
        if !s.year.is_empty() {
            println!(
                "stock {} → {}: P50 {:.1} → {:.1} t CO2e (P10 {:.1}, P90 {:.1})",
                s.year[0],
                s.year[last],
                s.stock_co2e_t.p50[0],
                s.stock_co2e_t.p50[last],
                s.stock_co2e_t.p10[last],
                s.stock_co2e_t.p90[last]
            );
        }
        println!(
            "NPV P50 {:.0} {} (P10 {:.0}, P90 {:.0}); collateral value {:.0} {}",
            sim.valuation.npv.p50,
            sim.valuation.currency,
            sim.valuation.npv.p10,
            sim.valuation.npv.p90,
            c.value,
            c.currency
        );
        let l = &c.liquidation;
        println!(
            "liquidation line ({} loan {:.0}, max LTV {:.0}%): breach at {:.2}/t, {:.2}/t ({:.0}%) below today's {:.2}",
            l.grade,
            l.loan,
            100.0 * l.max_ltv,
            l.breach_price_per_t,
            l.margin_per_t,
            100.0 * l.margin_fraction,
            l.current_price_per_t
        );
        for w in &sim.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
