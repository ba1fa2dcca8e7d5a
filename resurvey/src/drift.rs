//! Drift: the measured stand against what the previous survey's simulation projected for the
//! elapsed years.
//!
//! - **Per tree** (survivors): the projected height is the growth model's exact Chapman–Richards
//!   step (`growth_model::growth`) from the previous height with the tree's group parameters and
//!   the rate multiplier at the P10 / P50 / P90 of the simulation's lognormal growth-level
//!   distribution (`exp(∓1.2816 σ)`, σ = `growth.rate_log_sigma`). The band is widened by the
//!   height-increment measurement error (added in quadrature), so a tree is flagged only when
//!   the miss exceeds what two LiDAR heights can resolve. Competition is not replayed per tree
//!   (it lowers the projection of crowded trees; the stand flags below use all trees at once).
//! - **Stand growth**: the survivors' mean measured height increment against the mean projected
//!   increment at the same three multipliers (one site-level multiplier moves every tree
//!   together), widened by the measurement error of the mean.
//! - **Stand stock**: the measured CO2e stock now against the simulation's stand stock band
//!   (P10/P50/P90 of the Monte Carlo, mortality and disturbance included) at the elapsed years,
//!   interpolated between years; the difference to P50 at the simulation's price anchor is the
//!   value at stake.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::change::{Status, TreeChange};
use growth_model::SpeciesGroup;
use growth_model::growth::{GrowthParams, chapman_richards_step};
use growth_model::output::Simulation;

/// z of the 10th and 90th percentiles of a normal.
pub const Z90: f64 = 1.281_551_565_545;

/// Where a measurement lies against a projected band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    BelowP10,
    #[default]
    WithinBand,
    AboveP90,
}

impl Flag {
    pub fn of(value: f64, band: &Band) -> Flag {
        if value < band.p10 {
            Flag::BelowP10
        } else if value > band.p90 {
            Flag::AboveP90
        } else {
            Flag::WithinBand
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flag::BelowP10 => "below P10",
            Flag::WithinBand => "within band",
            Flag::AboveP90 => "above P90",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Band {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// One survivor against its projection.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeDrift {
    /// Projected height now (band widened by the measurement error).
    pub projected_height_m: Band,
    pub flag: Flag,
}

/// Settings of the drift comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftOptions {
    /// SD of one tree's measured height increment (two LiDAR heights), metres.
    pub increment_sd_m: f64,
}

impl Default for DriftOptions {
    fn default() -> Self {
        // ALS tree heights carry ~0.3–0.5 m random error (Wang et al. 2019, Remote Sens.
        // 11:1055 benchmark); the difference of two: ≈ 0.5 m.
        DriftOptions {
            increment_sd_m: 0.5,
        }
    }
}

/// Stand growth against the projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct GrowthDrift {
    pub trees: usize,
    pub measured_mean_increment_m: f64,
    pub projected_mean_increment_m: Band,
    pub flag: Flag,
    /// Survivors per flag.
    pub trees_below_p10: usize,
    pub trees_within: usize,
    pub trees_above_p90: usize,
}

/// Stand stock against the projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct StockDrift {
    pub measured_co2e_t: f64,
    pub projected_co2e_t: Band,
    pub flag: Flag,
    /// Measured minus projected P50, t CO2e, and its value at the price anchor.
    pub shortfall_co2e_t: f64,
    pub price_per_t: f64,
    pub currency: String,
    pub value_at_stake: f64,
}

/// The stand's drift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct StandDrift {
    pub elapsed_years: f64,
    pub rate_log_sigma: f64,
    pub growth: GrowthDrift,
    pub stock: StockDrift,
}

/// Growth parameters the previous simulation used for `group`.
pub fn params_for(sim: &Simulation, group: SpeciesGroup) -> GrowthParams {
    sim.settings
        .options
        .growth
        .params
        .iter()
        .find(|g| g.group == group)
        .map_or_else(|| GrowthParams::default_for(group), |g| g.params)
}

/// Previous tree id → its species group, from the simulation's inventory.
pub fn groups(sim: &Simulation) -> HashMap<u32, SpeciesGroup> {
    sim.inventory
        .as_ref()
        .map(|inv| inv.trees.iter().map(|t| (t.id, t.species_group)).collect())
        .unwrap_or_default()
}

/// Height after `years` with the rate multiplier `m`.
pub fn project_height(h0: f64, p: &GrowthParams, m: f64, years: f64) -> f64 {
    chapman_richards_step(h0, p.height_max_m, p.height_rate * m, p.height_shape, years)
}

/// The default group for a tree missing from the inventory.
fn group_of(groups: &HashMap<u32, SpeciesGroup>, sim: &Simulation, id: u32) -> SpeciesGroup {
    groups
        .get(&id)
        .copied()
        .unwrap_or(sim.settings.options.allometry.default_species_group)
}

/// Flag every survivor in `changes` and the stand (module docs).
pub fn drift(
    changes: &mut [TreeChange],
    sim: &Simulation,
    measured_co2e_t: f64,
    elapsed_years: f64,
    o: &DriftOptions,
) -> StandDrift {
    let sigma = sim.settings.options.growth.rate_log_sigma;
    let ms = [(-Z90 * sigma).exp(), 1.0, (Z90 * sigma).exp()];
    let groups = groups(sim);
    let mut sums = [0.0f64; 3];
    let mut measured = 0.0;
    let mut n = 0usize;
    let mut counts = [0usize; 3];
    for c in changes.iter_mut() {
        let (Status::Survivor, Some(id), Some(h0), Some(h1)) =
            (c.status, c.previous_id, c.height_before_m, c.height_m)
        else {
            continue;
        };
        let p = params_for(sim, group_of(&groups, sim, id));
        let proj = ms.map(|m| project_height(h0, &p, m, elapsed_years));
        for k in 0..3 {
            sums[k] += proj[k] - h0;
        }
        measured += h1 - h0;
        n += 1;
        let widen = |d: f64| (d * d + (Z90 * o.increment_sd_m).powi(2)).sqrt();
        let band = Band {
            p10: proj[1] - widen(proj[1] - proj[0]),
            p50: proj[1],
            p90: proj[1] + widen(proj[2] - proj[1]),
        };
        let flag = Flag::of(h1, &band);
        counts[flag as usize] += 1;
        c.drift = Some(TreeDrift {
            projected_height_m: band,
            flag,
        });
    }
    let nf = n.max(1) as f64;
    let mean = sums.map(|s| s / nf);
    let se = Z90 * o.increment_sd_m / nf.sqrt();
    let widen = |d: f64| (d * d + se * se).sqrt();
    let growth_band = Band {
        p10: mean[1] - widen(mean[1] - mean[0]),
        p50: mean[1],
        p90: mean[1] + widen(mean[2] - mean[1]),
    };
    let measured_mean = measured / nf;
    let stock = stock_drift(sim, measured_co2e_t, elapsed_years);
    StandDrift {
        elapsed_years,
        rate_log_sigma: sigma,
        growth: GrowthDrift {
            trees: n,
            measured_mean_increment_m: measured_mean,
            projected_mean_increment_m: growth_band,
            flag: Flag::of(measured_mean, &growth_band),
            trees_below_p10: counts[Flag::BelowP10 as usize],
            trees_within: counts[Flag::WithinBand as usize],
            trees_above_p90: counts[Flag::AboveP90 as usize],
        },
        stock,
    }
}

/// The stand stock band at `t` years, linearly interpolated between simulated years.
pub fn stock_band(sim: &Simulation, t: f64) -> Band {
    let s = &sim.stand.stock_co2e_t;
    let last = s.p50.len().saturating_sub(1);
    let t = t.clamp(0.0, last as f64);
    let i = (t.floor() as usize).min(last.saturating_sub(1));
    let f = t - i as f64;
    let at = |v: &[f64]| {
        let a = v.get(i).copied().unwrap_or(0.0);
        let b = v.get(i + 1).copied().unwrap_or(a);
        a + f * (b - a)
    };
    Band {
        p10: at(&s.p10),
        p50: at(&s.p50),
        p90: at(&s.p90),
    }
}

fn stock_drift(sim: &Simulation, measured: f64, t: f64) -> StockDrift {
    let band = stock_band(sim, t);
    let price = sim.valuation.price_anchor_per_t;
    let shortfall = measured - band.p50;
    StockDrift {
        measured_co2e_t: measured,
        projected_co2e_t: band,
        flag: Flag::of(measured, &band),
        shortfall_co2e_t: shortfall,
        price_per_t: price,
        currency: sim.valuation.currency.clone(),
        value_at_stake: shortfall * price,
    }
}
