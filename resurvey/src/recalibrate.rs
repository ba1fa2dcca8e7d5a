//! Recalibration: the site's growth-rate multiplier re-fitted to the measured height increments,
//! by a Bayesian update of the simulation's growth-level distribution.
//!
//! The growth model draws one lognormal multiplier `m` on the Chapman–Richards rates per run
//! (`ln m ~ N(0, σ²)`, σ = `growth.rate_log_sigma`) — the site-level uncertainty the levels
//! stratify. A resurvey observes it: each survivor's increment `Δh_i ~ N(Δ_i(m), s_i²)` with
//! `Δ_i(m)` the exact Chapman–Richards increment at multiplier m and `s_i² = e² + (κ Δ_i(1))²`
//! (e: the increment's measurement SD; κ: the tree-to-tree spread of increments around the site
//! curve, 30 % by default — assumed, of the order reported for individual-tree increment models'
//! residuals). The posterior of `ln m` is computed on a grid (801 points over ln 0.05 … ln 5),
//! exactly, without a conjugacy approximation (the model is non-linear in m). Its mean and SD
//! become the new simulation's rate scale and `rate_log_sigma` (floored at `min_log_sigma`, so
//! the projection keeps room for the years ahead), for height and DBH rates alike (ALS rarely
//! measures stems twice, so the DBH rate follows the height rate's evidence).

use serde::{Deserialize, Serialize};

use crate::change::{Status, TreeChange};
use crate::drift::{groups, params_for, project_height};
use crate::error::{Result, ResurveyError};
use growth_model::SimulationOptions;
use growth_model::options::GroupParams;
use growth_model::output::Simulation;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecalibrateOptions {
    /// Measurement SD of one increment, metres.
    pub increment_sd_m: f64,
    /// Tree-to-tree coefficient of variation of increments around the site curve.
    pub tree_cv: f64,
    /// Smallest `rate_log_sigma` handed to the new simulation.
    pub min_log_sigma: f64,
}

impl Default for RecalibrateOptions {
    fn default() -> Self {
        RecalibrateOptions {
            increment_sd_m: 0.5,
            tree_cv: 0.3,
            min_log_sigma: 0.05,
        }
    }
}

/// The update and its result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Recalibration {
    pub method: String,
    pub trees: usize,
    pub prior_log_sigma: f64,
    /// exp(posterior mean of ln m).
    pub multiplier: f64,
    pub posterior_log_sd: f64,
    pub multiplier_p05: f64,
    pub multiplier_p95: f64,
    /// `rate_log_sigma` of the new simulation.
    pub new_rate_log_sigma: f64,
    pub options: RecalibrateOptions,
}

const GRID: usize = 801;

/// Fit the rate multiplier to the survivors' increments (module docs).
pub fn recalibrate(
    changes: &[TreeChange],
    sim: &Simulation,
    elapsed_years: f64,
    o: &RecalibrateOptions,
) -> Result<Recalibration> {
    let finite = [o.increment_sd_m, o.tree_cv, o.min_log_sigma]
        .iter()
        .all(|v| v.is_finite());
    if !(finite && o.increment_sd_m > 0.0 && o.tree_cv >= 0.0 && o.min_log_sigma >= 0.0) {
        return Err(ResurveyError::InvalidOption {
            option: "recalibrate",
            reason: "needs increment_sd_m > 0, tree_cv ≥ 0, min_log_sigma ≥ 0".into(),
        });
    }
    let groups = groups(sim);
    let default = sim.settings.options.allometry.default_species_group;
    let obs: Vec<(f64, f64, growth_model::growth::GrowthParams)> = changes
        .iter()
        .filter(|c| c.status == Status::Survivor)
        .filter_map(|c| {
            let (id, h0, h1) = (c.previous_id?, c.height_before_m?, c.height_m?);
            let g = groups.get(&id).copied().unwrap_or(default);
            Some((h0, h1 - h0, params_for(sim, g)))
        })
        .collect();
    let prior = sim.settings.options.growth.rate_log_sigma;
    let (lo, hi) = (0.05f64.ln(), 5.0f64.ln());
    let xs: Vec<f64> = (0..GRID)
        .map(|k| lo + (hi - lo) * k as f64 / (GRID - 1) as f64)
        .collect();
    let mut logp: Vec<f64> = xs
        .iter()
        .map(|&x| {
            let m = x.exp();
            let lp_prior = if prior > 0.0 {
                -0.5 * (x / prior).powi(2)
            } else {
                0.0
            };
            let ll: f64 = obs
                .iter()
                .map(|(h0, dh, p)| {
                    let pred = project_height(*h0, p, m, elapsed_years) - h0;
                    let spread = o.tree_cv * (project_height(*h0, p, 1.0, elapsed_years) - h0);
                    let s2 = o.increment_sd_m.powi(2) + spread * spread;
                    -0.5 * (dh - pred).powi(2) / s2
                })
                .sum();
            lp_prior + ll
        })
        .collect();
    let max = logp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    logp.iter_mut().for_each(|v| *v = (*v - max).exp());
    let total: f64 = logp.iter().sum();
    let w: Vec<f64> = logp.iter().map(|v| v / total).collect();
    let mean: f64 = xs.iter().zip(&w).map(|(x, w)| x * w).sum();
    let var: f64 = xs.iter().zip(&w).map(|(x, w)| w * (x - mean).powi(2)).sum();
    let quantile = |q: f64| {
        let mut acc = 0.0;
        for (x, w) in xs.iter().zip(&w) {
            acc += w;
            if acc >= q {
                return x.exp();
            }
        }
        hi.exp()
    };
    let sd = var.sqrt();
    Ok(Recalibration {
        method: "grid posterior of the log growth-rate multiplier: lognormal prior from the previous simulation, Gaussian likelihood of each survivor's height increment (measurement SD and tree-to-tree CV)".into(),
        trees: obs.len(),
        prior_log_sigma: prior,
        multiplier: mean.exp(),
        posterior_log_sd: sd,
        multiplier_p05: quantile(0.05),
        multiplier_p95: quantile(0.95),
        new_rate_log_sigma: sd.max(o.min_log_sigma),
        options: o.clone(),
    })
}

/// The previous simulation's options with the recalibrated rates, starting at `start_year`.
pub fn recalibrated_options(
    sim: &Simulation,
    r: &Recalibration,
    start_year: i32,
) -> SimulationOptions {
    let mut opts = sim.settings.options.clone();
    opts.growth.params = growth_model::SpeciesGroup::ALL
        .iter()
        .map(|&g| {
            let mut p = params_for(sim, g);
            p.height_rate *= r.multiplier;
            p.dbh_rate *= r.multiplier;
            GroupParams {
                group: g,
                params: p,
            }
        })
        .collect();
    opts.growth.rate_log_sigma = r.new_rate_log_sigma;
    opts.start_year = start_year;
    opts.area_ha = Some(sim.settings.derived.area_ha);
    opts
}
