//! Why a resurvey could not be analysed.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ResurveyError {
    /// The new scan and the previous survey share no ground: nothing to compare.
    #[error(
        "the new scan does not overlap the previous survey ({reason}); a resurvey must cover the same stand"
    )]
    NoOverlap { reason: String },
    /// The scans overlap but too few treetops agree to fix the transform.
    #[error(
        "could not co-register the new scan to the previous survey: {reason} (raise --search-radius if the georeferencing error is larger)"
    )]
    Registration { reason: String },
    /// A setting out of range.
    #[error("invalid resurvey option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    /// The previous survey lacks what the comparison needs.
    #[error("the previous survey has no {what}: {hint}")]
    Missing {
        what: &'static str,
        hint: &'static str,
    },
}

pub type Result<T> = std::result::Result<T, ResurveyError>;
