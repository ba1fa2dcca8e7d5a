//! One error type for the capture stage. Every variant names the file (or value) at fault so a
//! surveyor reading the message knows what to fix without a debugger.

use std::path::PathBuf;

/// Everything that can go wrong while reading, writing or simulating a scan.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: cannot open or read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: unrecognised format (extension {extension:?}, first bytes {magic:?})")]
    UnknownFormat {
        path: PathBuf,
        extension: String,
        magic: String,
    },
    #[error("{path}: the extension says {claimed} but the content is {actual}")]
    WrongExtension {
        path: PathBuf,
        claimed: &'static str,
        actual: &'static str,
    },
    #[error("{path}: invalid {format} file: {reason}")]
    Invalid {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error("{path} is truncated: header says {expected} points, file holds {found}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// The file ends before a byte its header points to (a LAZ chunk table, an E57 section).
    #[error("{path} is truncated: {what} at byte {needed}, but the file holds {size} bytes")]
    TruncatedAt {
        path: PathBuf,
        what: &'static str,
        needed: u64,
        size: u64,
    },
    /// A decoder failed (or panicked, contained at the reader boundary) on damaged data.
    #[error("corrupt {format} data in {path} at point {at}: {reason}")]
    Corrupt {
        path: PathBuf,
        format: &'static str,
        at: u64,
        reason: String,
    },
    #[error("{path}: LAS/LAZ error: {source}")]
    Las {
        path: PathBuf,
        #[source]
        source: las::Error,
    },
    #[error("{path}: E57 error: {source}")]
    E57 {
        path: PathBuf,
        #[source]
        source: e57::Error,
    },
    #[error("{path}: line {line}: {reason}")]
    Parse {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("unknown CRS {value:?}: {reason}")]
    UnknownCrs { value: String, reason: String },
    #[error("cannot merge {path}: its CRS ({found}) differs from the project's ({expected})")]
    CrsMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    #[error("{path}: no point could be read")]
    NoPoints { path: PathBuf },
    #[error("{path} holds no points")]
    ZeroPoints { path: PathBuf },
    /// Not a regular file: a FIFO, socket or device would block or never end.
    #[error("{path} is not a regular file ({kind}); scans are read from regular files only")]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{path}: cannot write: {source}")]
    WriteIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the project's lock (`.twinmint.lock`).
    #[error("{path}: another TwinMint process is writing this project; wait for it to finish")]
    Busy { path: PathBuf },
    #[error("cancelled")]
    Cancelled,
}

impl CaptureError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CaptureError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn write_io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CaptureError::WriteIo {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(
        path: impl Into<PathBuf>,
        format: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        CaptureError::Invalid {
            path: path.into(),
            format,
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = CaptureError> = std::result::Result<T, E>;
