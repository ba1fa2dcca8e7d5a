//! Progress reporting and cooperative cancellation for long reads, writes, reconstructions and
//! simulations — one token and one sink shared by every stage crate, so a single Ctrl-C handler
//! or studio Cancel button stops whatever runs.
//!
//! Work calls [`Progress::report`] after every chunk; the CLI turns that into an indicatif bar
//! and the studio into an egui bar. Cancellation is a shared flag checked between chunks
//! ([`CancelToken::check`]), so cancelled work stops within one chunk; each crate's error type
//! turns [`Cancelled`] into its own `Cancelled` variant.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Work stopped because its [`CancelToken`] was cancelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// A shared cancellation flag. Clone it into the UI; call [`CancelToken::cancel`] to stop work.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    /// A token over an existing flag, so one Ctrl-C handler can cancel work in every stage.
    pub fn from_flag(flag: Arc<AtomicBool>) -> Self {
        CancelToken(flag)
    }
    /// The shared flag (for UI code that holds a bare `Arc<AtomicBool>`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// `Err(Cancelled)` once cancelled; long work calls this between chunks.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A snapshot of how far a long operation has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressEvent {
    /// Points (or runs) processed so far.
    pub points: u64,
    /// Expected in total, when known up front.
    pub total_points: Option<u64>,
    /// Bytes of the source consumed so far (approximate for compressed formats).
    pub bytes: u64,
    /// Size of the source in bytes, when known.
    pub total_bytes: Option<u64>,
}

/// Receives progress events. Implemented for closures so callers can pass `&mut |e| ...`.
pub trait Progress: Send {
    fn report(&mut self, event: ProgressEvent);
}

impl<F: FnMut(ProgressEvent) + Send> Progress for F {
    fn report(&mut self, event: ProgressEvent) {
        self(event)
    }
}

/// A progress sink that discards everything, for tests and scripts.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&mut self, _event: ProgressEvent) {}
}
