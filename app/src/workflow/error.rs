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
    #[error("cancelled")]
    Cancelled,
}

impl WorkflowError {
    /// Whether the user cancelled (rather than something failing).
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            WorkflowError::Cancelled
                | WorkflowError::Capture(capture::CaptureError::Cancelled)
                | WorkflowError::Reconstruct(reconstruct::ReconstructError::Cancelled)
                | WorkflowError::Growth(growth_model::GrowthError::Cancelled)
        )
    }
}

pub type WorkflowResult<T> = std::result::Result<T, WorkflowError>;
