//! Errors of the package builder. Every variant names the project file at fault and, where the
//! fix is another TwinMint step, the command to run — a surveyor reading the message alone
//! should know what to do next.

use std::path::PathBuf;

/// Everything that can stop [`super::build`].
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A project file an earlier stage writes is not there.
    #[error("{path}: missing ({hint})")]
    MissingInput { path: PathBuf, hint: String },
    /// A project file is there but cannot be used.
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the thumbnail: {0}")]
    Image(String),
    #[error("invalid package option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error(transparent)]
    Mint(#[from] crate::error::MintError),
}

impl PackageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PackageError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        PackageError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Result with [`PackageError`].
pub type PackageResult<T> = std::result::Result<T, PackageError>;

impl From<capture::progress::Cancelled> for PackageError {
    fn from(c: capture::progress::Cancelled) -> Self {
        PackageError::Capture(c.into())
    }
}
