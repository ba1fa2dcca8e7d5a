//! What can go wrong planning, running or merging a survey.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SurveyError {
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error(transparent)]
    Reconstruct(#[from] reconstruct::ReconstructError),
    #[error("invalid survey option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    #[error("{path}: not a survey plan ({reason}); make one with `twinmint plan`")]
    BadPlan { path: PathBuf, reason: String },
    #[error("{path}: tile {index} does not exist (the plan has {count} tiles)")]
    NoSuchTile {
        path: PathBuf,
        index: usize,
        count: usize,
    },
    #[error(
        "{path}: {count} of {total} tiles are not done yet ({first}…); run them before merging"
    )]
    NotDone {
        path: PathBuf,
        count: usize,
        total: usize,
        first: String,
    },
    #[error("{path}: cannot plan a survey on it: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{path}: cannot merge the survey: {reason}")]
    Merge { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Parcels { path: PathBuf, reason: String },
}

pub type Result<T> = std::result::Result<T, SurveyError>;
