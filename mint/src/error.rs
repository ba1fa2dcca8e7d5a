//! One error type for the mint stage. Every variant names the file, point or value at fault, so
//! the message alone tells a surveyor or an integrator what to fix.

use std::path::PathBuf;

/// Everything that can go wrong while fingerprinting, canonicalising or computing CIDs.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("point {index}: position {position:?} (relative to the origin) is not finite")]
    NonFinitePoint { index: usize, position: [f32; 3] },
    #[error(
        "point {index}: {axis} coordinate {value_m} m lies outside the ±2^53 mm range a fingerprint can represent"
    )]
    CoordinateOutOfRange {
        index: usize,
        axis: char,
        value_m: f64,
    },
    #[error(
        "the cloud has {points} points; fingerprints index points with u32 (at most 4294967295)"
    )]
    TooManyPoints { points: usize },
    #[error("inconsistent point cloud: {reason}")]
    InconsistentCloud { reason: String },
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    #[error("leaf {index} does not exist: the tree has {leaves} leaves")]
    LeafIndex { index: u64, leaves: u64 },
    #[error("cannot canonicalise JSON value at {path}: {reason}")]
    Canonicalize { path: String, reason: String },
    #[error("cannot serialise {what} as JSON: {source}")]
    Serialize {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "capture metadata does not describe this cloud: {field} is {metadata} in the metadata but {cloud} in the cloud"
    )]
    MetadataMismatch {
        field: &'static str,
        metadata: String,
        cloud: String,
    },
    #[error("{path}: cannot compute an IPFS CID: {reason}")]
    Cid { path: PathBuf, reason: String },
    #[error("invalid CID {value:?}: {reason}")]
    InvalidCid { value: String, reason: String },
    #[error("invalid hex value {value:?}: {reason}")]
    InvalidHex { value: String, reason: String },
}

impl MintError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MintError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`MintError`].
pub type Result<T, E = MintError> = std::result::Result<T, E>;
