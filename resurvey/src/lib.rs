//! TwinMint re-survey: a new scan of a surveyed asset compared with the previous survey —
//! co-registration ([`register`]), one-to-one tree matching and the change per tree and stand
//! ([`change`]), canopy loss ([`canopy`]), drift against the previous projection ([`drift`]) and
//! the Bayesian recalibration of the growth rates ([`recalibrate`]), written as `resurvey.json`
//! ([`report`]). The workflow that ingests, reconstructs and simulates around it lives in the
//! app's workflow layer; this crate holds the analysis only.

pub mod assign;
pub mod canopy;
pub mod change;
pub mod drift;
pub mod error;
pub mod recalibrate;
pub mod register;
pub mod report;

pub use error::{ResurveyError, Result};
pub use report::{DriftSummary, RESURVEY_JSON, Resurvey};
