//! Progress reporting and cooperative cancellation for long reads, writes and simulations.
//!
//! Readers call [`Progress::report`] after every chunk; the CLI turns that into an indicatif bar
//! and the studio into an egui bar. Cancellation is a shared flag checked between chunks, so a
//! cancelled import stops within one chunk and never leaves partial output behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{CaptureError, Result};

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
    /// The shared flag, for stages with their own token type.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// `Err(Cancelled)` once cancelled; readers call this between chunks.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(CaptureError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A snapshot of how far a long operation has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressEvent {
    /// Points processed so far (read, written or simulated).
    pub points: u64,
    /// Points expected in total, when the format says so up front.
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
