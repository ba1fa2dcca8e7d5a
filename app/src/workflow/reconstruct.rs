//! Reconstruct a project: options checked before anything is loaded, the cloud loaded, the
//! stages run, and the outputs committed as one unit.

use std::path::Path;
use std::sync::Arc;

use capture::CancelToken;
use reconstruct::gpu::GpuContext;
use reconstruct::pipeline::{self, ReconstructOptions, ReconstructOutput};

use super::{StepProgress, WorkflowResult};

/// Label of the loading step.
pub const LOADING: &str = "Loading cloud";
/// Label of the writing step.
pub const WRITING: &str = "Writing results";

/// Run reconstruct on `dir` with `opts` and write its outputs (`reconstruction.json`, rasters,
/// model, classified cloud). Options are refused before the cloud is loaded: ranges first, then
/// the grids over the manifest's bounds (cell counts), so an absurd resolution costs nothing.
/// `gpu`: the caller's device (the studio hands over Bevy's), or `None` for the process-wide one;
/// `opts.device` still decides whether a GPU is used.
pub fn reconstruct_project(
    dir: &Path,
    opts: &ReconstructOptions,
    gpu: Option<&Arc<GpuContext>>,
    progress: &mut StepProgress<'_>,
    cancel: &CancelToken,
) -> WorkflowResult<ReconstructOutput> {
    opts.validate()?;
    let manifest = capture::project::open(dir)?;
    opts.check_extent(&manifest.bounds)?;
    let (_manifest, cloud) = capture::project::load_cloud(
        dir,
        &mut |e: capture::ProgressEvent| {
            if let Some(t) = e.total_points.filter(|&t| t > 0) {
                progress(LOADING, e.points as f32 / t as f32);
            }
        },
        cancel,
    )?;
    let out = pipeline::run_on(
        &cloud,
        opts,
        gpu,
        &mut |stage: pipeline::Stage, f: f32| progress(stage.label(), f),
        cancel,
    )?;
    progress(WRITING, 0.0);
    // The input goes to the writer: the classified cloud is made from it without a copy.
    pipeline::write_outputs(dir, cloud, &out, opts, &mut capture::NoProgress, cancel)?;
    progress(WRITING, 1.0);
    Ok(out)
}
