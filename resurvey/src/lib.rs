//! TwinMint re-survey: a new scan of a surveyed asset compared with the previous survey —
//! co-registration ([`register`]), one-to-one tree matching and the change per tree and stand
//! ([`change`]; survivors' DBH carried forward, [`carry`]), canopy loss ([`canopy`]), drift
//! against the previous projection ([`drift`]) and the Bayesian recalibration of the growth
//! rates ([`recalibrate`]), written as `resurvey.json` ([`report`]). The workflow that ingests,
//! reconstructs and simulates around it lives in the app's workflow layer; this crate holds the
//! analysis only.

pub mod assign;
pub mod canopy;
pub mod carry;
pub mod change;
pub mod drift;
pub mod error;
pub mod pdf;
pub mod recalibrate;
pub mod register;
pub mod report;

pub use error::{Result, ResurveyError};
pub use report::{DriftSummary, RESURVEY_JSON, Resurvey};

use serde::{Deserialize, Serialize};

/// Every setting of the comparison; `Default` gives each module's documented defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResurveyOptions {
    pub register: register::RegisterOptions,
    pub change: change::ChangeOptions,
    pub carry: carry::CarryOptions,
    pub canopy: canopy::CanopyOptions,
    pub drift: drift::DriftOptions,
    pub recalibrate: recalibrate::RecalibrateOptions,
}

impl ResurveyOptions {
    /// Check every module's settings, so a bad one is refused before any scan is read.
    pub fn validate(&self) -> Result<()> {
        self.register.validate()?;
        self.change.validate()?;
        self.carry.validate()
    }
}
