//! The reconstruct stage's error type.

/// Everything that can go wrong while reconstructing.
#[derive(Debug, thiserror::Error)]
pub enum ReconstructError {
    #[error("capture: {0}")]
    Capture(#[from] capture::CaptureError),
    #[error("no GPU adapter available ({0}); use --device cpu")]
    NoAdapter(String),
    #[error("GPU error in {kernel}: {reason}")]
    Gpu {
        kernel: &'static str,
        reason: String,
    },
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    #[error("{step}: {reason}")]
    Input { step: &'static str, reason: String },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A value could not be encoded (the GLB's JSON chunk).
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = ReconstructError> = std::result::Result<T, E>;

impl ReconstructError {
    /// A write of `path` failed with `source`.
    pub fn write(
        path: &std::path::Path,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ReconstructError::Write {
            path: path.to_path_buf(),
            source: source.into(),
        }
    }
}

impl From<capture::progress::Cancelled> for ReconstructError {
    fn from(_: capture::progress::Cancelled) -> Self {
        ReconstructError::Cancelled
    }
}
