//! Errors of sealed packages: each names the file or the reader at fault.

use std::path::PathBuf;

/// Why a package could not be sealed, granted or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A sealed file does not authenticate.
    #[error("{path}: {reason}")]
    Tampered { path: PathBuf, reason: String },
    /// The reader's key does not open the wrapped key (not the key it was wrapped for).
    #[error("the key does not open this package's content key")]
    WrongKey,
    /// The address holds no wrapped key in the package.
    #[error(
        "{path}: {address} is not a reader of this package (readers: {readers}); ask the owner for a grant (`twinmint grant`)"
    )]
    NotAReader {
        path: PathBuf,
        address: String,
        readers: String,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("reader key: {0}")]
    Reader(String),
    #[error("sealed package: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Package(#[from] crate::package::PackageError),
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
}

impl SealError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SealError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`SealError`].
pub type SealResult<T> = std::result::Result<T, SealError>;
