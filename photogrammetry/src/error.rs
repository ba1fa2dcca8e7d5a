//! Typed errors of the photogrammetry stage, each naming the photo or folder at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable JPEG ({reason})")]
    Decode { path: PathBuf, reason: String },
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error("{dir}: {reason}")]
    Unsolvable { dir: PathBuf, reason: String },
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    #[error("GPU: {source}")]
    Gpu {
        #[source]
        source: reconstruct::ReconstructError,
    },
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, PhotoError>;
