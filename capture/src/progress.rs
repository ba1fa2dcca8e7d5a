//! Progress reporting and cooperative cancellation: the shared `twinmint-progress` types,
//! re-exported where the stages have always found them.

pub use twinmint_progress::{CancelToken, Cancelled, NoProgress, Progress, ProgressEvent};

impl From<Cancelled> for crate::CaptureError {
    fn from(_: Cancelled) -> Self {
        crate::CaptureError::Cancelled
    }
}
