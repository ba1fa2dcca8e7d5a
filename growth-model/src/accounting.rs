//! Carbon accounting: from a simulated stock series to issuable credits.
//!
//! For each Monte Carlo run and year t (stocks S_t in t CO2e, year 0 = the survey):
//!
//! 1. project removals ΔS_t = S_t − S_{t−1} (negative after mortality, disturbance or harvest);
//! 2. baseline: N_t = ΔS_t − B_t, with B_t a fixed t CO2e/yr or a fraction of ΔS_t;
//! 3. cumulative net benefit C_t = Σ_{s≤t} N_s;
//! 4. leakage: A_t = C_t − λ · max(C_t, 0);
//! 5. uncertainty deduction (VCS VMD0017 "Estimation of uncertainty for REDD+ project
//!    activities" approach, as used by VM0007 and related VCS AFOLU methodologies): U_t is the
//!    half-width of the central `confidence` interval (default 90 %) of the estimated stock
//!    change, divided by the estimate. If U_t ≤ threshold (default 15 %) nothing is deducted;
//!    otherwise the estimate is multiplied by 1 − (U_t − threshold). Applied to the cumulative
//!    A_t, so the deduction is taken exactly once however the years are verified:
//!    E_t = A_t · (1 − d_t) for A_t > 0.
//!
//!    What U_t measures is a choice ([`UncertaintySource`]). The default, `estimation`, is the
//!    error of *estimating* the stock change — the per-tree allometric residuals (lognormal σ_i,
//!    persistent per tree) propagated to the stand change of the representative run:
//!    `Var(ΔS_t) = Σ_i (e^{σ_i²} − 1) · (s_{i,t} − s_{i,0})²` with s the tree's CO2e (0 once
//!    dead), `U_t = z · √Var / ΔS_t`. That is what VMD0017 deducts for: monitoring
//!    (model and sampling) error. The alternative, `ensemble`, takes the P5–P95 half-width of
//!    A_t across the Monte Carlo runs over its mean (the issue's "(P90 − P10)/P50" idea); it
//!    includes future mortality, disturbance and growth risk, which the non-permanence buffer
//!    already covers, so it double-counts risk and usually deducts everything in the first
//!    years — use it only for a deliberately pessimistic view;
//! 6. verification every `verification_interval_years`: verified V_t = max(0, E_t − H), where H
//!    is the high-water mark of E at earlier verifications (a loss below the mark is a reversal:
//!    no new credits until the stock is back above it, as in the VCS AFOLU non-permanence rules);
//! 7. non-permanence buffer: a fraction β (default 20 %) of each verified amount goes to the
//!    pooled buffer, once, at verification; issuable = V_t · (1 − β);
//! 8. issuance lag: credits verified in year t are issued in year t + lag (default 1); those that
//!    would fall after the horizon are reported as pending.
//!
//! So over a horizon with rising stocks, Σ issued + pending = E_T · (1 − β) — each deduction
//! once (see the tests).

use serde::{Deserialize, Serialize};

use crate::error::{Result, bad_option};
use crate::stats::quantiles;

/// Baseline removals the project must exceed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Baseline {
    /// No baseline removals (e.g. afforestation of land that would stay bare). Default.
    None,
    /// Fixed baseline removals in t CO2e per year.
    TonnesPerYear { co2e_t: f64 },
    /// Baseline removals as a fraction of the project's annual removals.
    FractionOfRemovals { fraction: f64 },
}

/// What the uncertainty half-width U_t is computed from (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UncertaintySource {
    /// Allometric estimation error of the stock change, propagated analytically. Default.
    Estimation,
    /// Spread of the cumulative net benefit across the Monte Carlo ensemble.
    Ensemble,
}

/// VMD0017-style uncertainty deduction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UncertaintyDeduction {
    pub enabled: bool,
    pub source: UncertaintySource,
    /// Two-sided confidence level of the interval whose half-width is compared (0.90).
    pub confidence: f64,
    /// Allowed half-width as a fraction of the mean before any deduction (0.15).
    pub threshold: f64,
}

impl Default for UncertaintyDeduction {
    fn default() -> Self {
        UncertaintyDeduction {
            enabled: true,
            source: UncertaintySource::Estimation,
            confidence: 0.90,
            threshold: 0.15,
        }
    }
}

/// Accounting settings. Defaults: no baseline, no leakage, VMD0017 uncertainty deduction at 90 %
/// / 15 %, 20 % non-permanence buffer, annual verification, issuance one year after
/// verification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountingOptions {
    pub baseline: Baseline,
    /// Fraction of the net benefit lost to leakage (0).
    pub leakage_fraction: f64,
    pub uncertainty: UncertaintyDeduction,
    /// Non-permanence buffer contribution (0.20).
    pub buffer_fraction: f64,
    /// Years between verifications (1).
    pub verification_interval_years: u32,
    /// Years from verification to issuance (1).
    pub issuance_lag_years: u32,
}

impl Default for AccountingOptions {
    fn default() -> Self {
        AccountingOptions {
            baseline: Baseline::None,
            leakage_fraction: 0.0,
            uncertainty: UncertaintyDeduction::default(),
            buffer_fraction: 0.20,
            verification_interval_years: 1,
            issuance_lag_years: 1,
        }
    }
}

impl AccountingOptions {
    pub fn validate(&self) -> Result<()> {
        let frac = |name, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad_option(name, v, "must be in [0, 1]"))
            }
        };
        frac("accounting.leakage_fraction", self.leakage_fraction)?;
        frac("accounting.buffer_fraction", self.buffer_fraction)?;
        frac(
            "accounting.uncertainty.threshold",
            self.uncertainty.threshold,
        )?;
        if !(self.uncertainty.confidence > 0.0 && self.uncertainty.confidence < 1.0) {
            return Err(bad_option(
                "accounting.uncertainty.confidence",
                self.uncertainty.confidence,
                "must be in (0, 1)",
            ));
        }
        match self.baseline {
            Baseline::None => {}
            Baseline::TonnesPerYear { co2e_t } if co2e_t.is_finite() => {}
            Baseline::FractionOfRemovals { fraction } if (0.0..=1.0).contains(&fraction) => {}
            b => {
                return Err(bad_option(
                    "accounting.baseline",
                    format!("{b:?}"),
                    "t/yr must be finite, a fraction in [0, 1]",
                ));
            }
        }
        if self.verification_interval_years == 0 {
            return Err(bad_option(
                "accounting.verification_interval_years",
                0,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// A_t: cumulative net benefit after baseline and leakage, t = 0..len (A_0 = 0).
    pub fn net_cumulative(&self, stock: &[f64], out: &mut Vec<f64>) {
        out.clear();
        let mut cum = 0.0;
        for t in 0..stock.len() {
            if t > 0 {
                let ds = stock[t] - stock[t - 1];
                let base = match self.baseline {
                    Baseline::None => 0.0,
                    Baseline::TonnesPerYear { co2e_t } => co2e_t,
                    Baseline::FractionOfRemovals { fraction } => fraction * ds,
                };
                cum += ds - base;
            }
            out.push(cum - self.leakage_fraction * cum.max(0.0));
        }
    }

    /// Deduction d = clamp(U − threshold, 0, 1) for a half-width U (0 when disabled).
    pub fn deduction_for(&self, u: f64) -> f64 {
        if self.uncertainty.enabled && u.is_finite() {
            (u - self.uncertainty.threshold).clamp(0.0, 1.0)
        } else if self.uncertainty.enabled && u.is_infinite() {
            1.0
        } else {
            0.0
        }
    }

    /// `estimation` source: U from the standard deviation of the estimated stock change and
    /// the change itself (0 when the change is not positive).
    pub fn estimation_half_width(&self, sd: f64, change: f64) -> f64 {
        if change <= 0.0 || !change.is_finite() {
            return 0.0;
        }
        let z = crate::stats::inverse_normal_cdf(0.5 + self.uncertainty.confidence / 2.0);
        z * sd.max(0.0) / change
    }

    /// `ensemble` source: U and d for one year from the ensemble of A_t.
    /// Returns (U, d); U is 0 when the mean is not positive (nothing creditable).
    pub fn uncertainty_deduction(&self, ensemble: &[f64]) -> (f64, f64) {
        if ensemble.is_empty() {
            return (0.0, 0.0);
        }
        let mean = ensemble.iter().sum::<f64>() / ensemble.len() as f64;
        if mean <= 0.0 || !mean.is_finite() {
            return (0.0, 0.0);
        }
        let a = (1.0 - self.uncertainty.confidence) / 2.0;
        let q = quantiles(ensemble, &[a, 1.0 - a]);
        let u = (q[1] - q[0]) / 2.0 / mean;
        (u, self.deduction_for(u))
    }

    /// Steps 5–8 for one run. `net_cum` is A_t, `deduction` d_t (same length). Fills `out`.
    pub fn issue(&self, net_cum: &[f64], deduction: &[f64], out: &mut RunCredits) {
        let n = net_cum.len();
        out.reset(n);
        let mut hwm = 0.0f64;
        for t in 1..n {
            let a = net_cum[t];
            let e = if a > 0.0 { a * (1.0 - deduction[t]) } else { a };
            out.eligible[t] = e;
            if !(t as u32).is_multiple_of(self.verification_interval_years) {
                continue;
            }
            let v = (e - hwm).max(0.0);
            out.below_high_water[t] = (hwm - e).max(0.0);
            hwm = hwm.max(e);
            out.verified[t] = v;
            let buffer = v * self.buffer_fraction;
            out.buffer[t] = buffer;
            let issuable = v - buffer;
            let at = t + self.issuance_lag_years as usize;
            if at < n {
                out.issued[at] += issuable;
            } else {
                out.pending_after_horizon += issuable;
            }
        }
    }
}

/// Credits of one run, per year (index = year since survey).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunCredits {
    /// E_t: creditable cumulative net benefit after leakage and uncertainty deduction.
    pub eligible: Vec<f64>,
    /// Newly verified tonnes at verification years.
    pub verified: Vec<f64>,
    /// Buffer contribution at verification years.
    pub buffer: Vec<f64>,
    /// Credits issued in each year (verified − buffer, shifted by the lag).
    pub issued: Vec<f64>,
    /// Shortfall below the high-water mark at a verification (a reversal not yet made good).
    pub below_high_water: Vec<f64>,
    /// Issuable credits whose issuance year falls after the horizon.
    pub pending_after_horizon: f64,
}

impl RunCredits {
    fn reset(&mut self, n: usize) {
        for v in [
            &mut self.eligible,
            &mut self.verified,
            &mut self.buffer,
            &mut self.issued,
            &mut self.below_high_water,
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        self.pending_after_horizon = 0.0;
    }
}
