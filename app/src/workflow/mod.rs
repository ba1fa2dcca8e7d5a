//! The steps that join the stages — ingest → reconstruct → simulate — written once, without
//! Bevy, for every caller: the CLI verbs and the studio's jobs are thin shells around these
//! functions with their own progress display. Each step takes a step-progress callback
//! (`label`, fraction done) and a [`capture::CancelToken`]; cancellation comes back as the
//! stage's own `Cancelled` error inside [`WorkflowError`].

pub mod error;
pub mod photogrammetry;
pub mod reconstruct;
pub mod resurvey;
pub mod simulate;
pub mod survey;

pub use error::{WorkflowError, WorkflowResult};

/// Step progress: a label ("Simulating", a reconstruct stage) and the fraction done.
pub type StepProgress<'a> = dyn FnMut(&str, f32) + Send + 'a;
