//! The studio's one error type: what a job, the mint flow, the officer's view or opening a
//! project failed on, with the cause kept (`#[source]`) until a panel shows it as text.
//! Variants that carry a plain `String` are the ones with no underlying error: a choice the
//! user must fix, a panic's message.

use std::path::PathBuf;

/// Why a studio job or flow failed.
#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error(transparent)]
    Reconstruct(#[from] reconstruct::ReconstructError),
    #[error(transparent)]
    Workflow(#[from] crate::workflow::WorkflowError),
    #[error(transparent)]
    Octree(crate::viewer::octree::OctreeError),
    /// Boxed: chain errors are large and every studio result carries this type.
    #[error(transparent)]
    Chain(Box<mint::chain::ChainError>),
    #[error(transparent)]
    Package(#[from] mint::package::PackageError),
    #[error(transparent)]
    Footprint(#[from] mint::footprint::FootprintError),
    /// The surveyor's key could not be loaded.
    #[error("surveyor: {0}")]
    Surveyor(#[source] Box<mint::chain::ChainError>),
    /// A chain read for one token failed.
    #[error("token #{token}: {source}")]
    Token {
        token: u64,
        #[source]
        source: Box<mint::chain::ChainError>,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A project file that parses but is not what the studio needs.
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// A setting or choice the user must fix (the message says which).
    #[error("{0}")]
    Input(String),
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A worker panicked (the panic's message).
    #[error("internal error: {0}")]
    Panic(String),
    #[error("render: {0}")]
    Render(String),
    #[error("cancelled")]
    Cancelled,
}

/// A cancelled octree build is the studio's own `Cancelled` (the job ends quietly).
impl From<crate::viewer::octree::OctreeError> for StudioError {
    fn from(e: crate::viewer::octree::OctreeError) -> Self {
        match e {
            crate::viewer::octree::OctreeError::Cancelled => StudioError::Cancelled,
            e => StudioError::Octree(e),
        }
    }
}

impl From<capture::progress::Cancelled> for StudioError {
    fn from(_: capture::progress::Cancelled) -> Self {
        StudioError::Cancelled
    }
}

impl From<mint::chain::ChainError> for StudioError {
    fn from(e: mint::chain::ChainError) -> Self {
        StudioError::Chain(Box::new(e))
    }
}

/// A message for the user ([`StudioError::Input`]): what `"…".into()` and `format!(…)` give in
/// the flows' validation.
impl From<String> for StudioError {
    fn from(message: String) -> Self {
        StudioError::Input(message)
    }
}

impl From<&str> for StudioError {
    fn from(message: &str) -> Self {
        StudioError::Input(message.to_string())
    }
}

impl StudioError {
    /// A choice the user must fix.
    pub fn input(message: impl Into<String>) -> Self {
        StudioError::Input(message.into())
    }

    /// The message for a panel, with staging paths rewritten to the user's paths
    /// ([`capture::commit::public_paths`]).
    pub fn display(&self) -> String {
        capture::commit::public_paths(&self.to_string())
    }
}

/// `Result` with a [`StudioError`].
pub type StudioResult<T> = Result<T, StudioError>;
