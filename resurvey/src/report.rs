//! `resurvey.json`: the whole comparison, and the drift summary whose hash goes on chain.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canopy::CanopyLoss;
use crate::change::{StandChange, TreeChange};
use crate::drift::{Flag, StandDrift};
use crate::recalibrate::Recalibration;
use crate::register::{Registration, Rigid};

/// Version of the `resurvey.json` layout.
pub const RESURVEY_SCHEMA_VERSION: u32 = 1;

pub use capture::layout::RESURVEY_JSON;

/// One survey in the comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct SurveyRef {
    /// Project name (folder name without `.twinmint`).
    pub project: String,
    /// Model fingerprint (`0x…`), when the project was fingerprinted.
    pub fingerprint: Option<String>,
    /// Capture start (RFC 3339).
    pub capture_start: Option<String>,
    pub trees: usize,
}

/// The comparison of a new survey with the previous one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Resurvey {
    pub schema_version: u32,
    pub generator: String,
    pub previous: SurveyRef,
    pub current: SurveyRef,
    pub elapsed_years: f64,
    pub registration: Registration,
    pub stand: StandChange,
    pub canopy_loss: CanopyLoss,
    pub drift: StandDrift,
    pub recalibration: Recalibration,
    /// Collateral value at each survey (each survey's own simulation), for LTV then vs now.
    pub collateral: CollateralChange,
    pub summary: DriftSummary,
    /// SHA-256 (hex) of the summary's canonical JSON: what the resurvey puts on chain.
    pub summary_sha256: String,
    pub trees: Vec<TreeChange>,
}

/// Collateral value before and after the resurvey (the previous projection's and the
/// recalibrated one's), in the simulations' currency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CollateralChange {
    pub currency: String,
    pub value_before: f64,
    pub value_now: f64,
    /// The loan the new simulation's liquidation line is drawn for.
    pub loan: f64,
}

impl CollateralChange {
    /// Loan-to-value at the previous and at this survey (`None` without a value).
    pub fn ltv(&self) -> (Option<f64>, Option<f64>) {
        let ltv = |v: f64| (v > 0.0).then(|| self.loan / v);
        (ltv(self.value_before), ltv(self.value_now))
    }
}

/// What a lender needs from a resurvey, small enough to hash and to show in one table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct DriftSummary {
    pub previous_fingerprint: Option<String>,
    pub elapsed_years: f64,
    pub transform: Rigid,
    pub survivors: usize,
    pub standing_dead: usize,
    pub removed: usize,
    pub unresolved: usize,
    pub ingrowth: usize,
    pub newly_detected: usize,
    pub canopy_loss_m2: f64,
    pub co2e_before_t: f64,
    pub co2e_t: f64,
    pub co2e_change_t: f64,
    pub growth_flag: Flag,
    pub stock_flag: Flag,
    pub projected_co2e_p50_t: f64,
    pub value_at_stake: f64,
    pub currency: String,
    pub recalibrated_multiplier: f64,
}

impl DriftSummary {
    /// The summary of a finished comparison.
    pub fn of(
        previous_fingerprint: Option<String>,
        registration: &Registration,
        stand: &StandChange,
        canopy: &CanopyLoss,
        drift: &StandDrift,
        recal: &Recalibration,
    ) -> DriftSummary {
        DriftSummary {
            previous_fingerprint,
            elapsed_years: drift.elapsed_years,
            transform: registration.transform,
            survivors: stand.survivors,
            standing_dead: stand.standing_dead,
            removed: stand.removed,
            unresolved: stand.unresolved,
            ingrowth: stand.ingrowth,
            newly_detected: stand.newly_detected,
            canopy_loss_m2: canopy.area_m2,
            co2e_before_t: stand.co2e_before_t,
            co2e_t: stand.co2e_t,
            co2e_change_t: stand.co2e_change_t,
            growth_flag: drift.growth.flag,
            stock_flag: drift.stock.flag,
            projected_co2e_p50_t: drift.stock.projected_co2e_t.p50,
            value_at_stake: drift.stock.value_at_stake,
            currency: drift.stock.currency.clone(),
            recalibrated_multiplier: recal.multiplier,
        }
    }

    /// SHA-256 (hex) of the compact JSON (field order fixed by the struct).
    pub fn sha256(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("drift summary serialises");
        hex::encode(Sha256::digest(&bytes))
    }
}
