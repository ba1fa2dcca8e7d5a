//! The workflow layer's error: the stage errors with their causes kept, plus what joining the
//! stages can find wrong.

use std::path::PathBuf;

/// What can go wrong while running a project's stages one after another.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error(transparent)]
    Reconstruct(#[from] reconstruct::ReconstructError),
    #[error(transparent)]
    Growth(#[from] growth_model::GrowthError),
    #[error(transparent)]
    Resurvey(#[from] resurvey::ResurveyError),
    #[error(transparent)]
    Photogrammetry(Box<photogrammetry::PhotoError>),
    #[error("{path}: {what}")]
    BadFile {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{path}: no reconstruction yet (run `twinmint reconstruct {project}` first)")]
    NoReconstruction {
        path: PathBuf,
        project: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a reconstruction")]
    BadReconstruction {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{project}: no trees to simulate")]
    NoTrees { project: PathBuf },
    #[error(transparent)]
    Survey(#[from] survey::SurveyError),
    #[error("survey: {what}")]
    TileProcess {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("survey: at least one worker process is needed")]
    NoWorkers,
    #[error(
        "{survey}: {} tile(s) failed ({failed:?}); `twinmint tile run {survey} --index N` shows why, and a rerun retries them",
        failed.len()
    )]
    TilesFailed { survey: PathBuf, failed: Vec<usize> },
}

pub type WorkflowResult<T> = std::result::Result<T, WorkflowError>;
