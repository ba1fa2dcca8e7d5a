//! `ingest PHOTO_DIR`: a folder of overlapping drone photos becomes a project whose cloud is
//! the photos' dense reconstruction — structure from motion with the GPS as priors, PatchMatch
//! multi-view stereo (GPU kernel or CPU twin), fusion — in WGS 84 / UTM of the photos' zone, so
//! reconstruct → growth → mint take it like any scan. `cameras.json` keeps the GPS track and
//! gains the solved poses, intrinsics and per-photo residuals.

use std::path::Path;

use capture::CancelToken;
use capture::photos::PhotoOptions;
use capture::project::{IngestEvent, Manifest};
use photogrammetry::mvs::{MvsOptions, dense_with};
use photogrammetry::sfm::{SfmOptions, run_track};
use reconstruct::gpu::DevicePreference;

use super::{StepProgress, WorkflowError, WorkflowResult};

/// Options of the photogrammetry step.
#[derive(Clone, Debug, Default)]
pub struct PhotogrammetryOptions {
    pub sfm: SfmOptions,
    pub mvs: MvsOptions,
    /// Where PatchMatch runs (`auto`: a hardware GPU, else the CPU twin).
    pub device: DevicePreference,
}

/// Photos in `folder` → project `dir` (see the module docs).
pub fn ingest_photos(
    folder: &Path,
    dir: &Path,
    o: &PhotogrammetryOptions,
    overwrite: bool,
    progress: &mut StepProgress<'_>,
    cancel: &CancelToken,
) -> WorkflowResult<Manifest> {
    let photo_err = |e: photogrammetry::PhotoError| WorkflowError::Photogrammetry(Box::new(e));
    capture::project::check_destination(dir, &[folder.to_path_buf()], overwrite)?;
    progress("reading photos", 0.0);
    let mut track = capture::photos::read_folder(
        folder,
        &PhotoOptions {
            target_crs: o.sfm.target_crs.clone(),
            own_utm_zone: true,
        },
        &mut capture::NoProgress,
        cancel,
    )?;
    let crs = match &track.frame {
        capture::photos::TrackFrame::Crs { crs } => Some(crs.clone()),
        capture::photos::TrackFrame::LocalEnu { .. } => None,
    };
    // Progress from the parallel stages goes through a lock to the caller's callback.
    let shared = std::sync::Mutex::new(progress);
    let report = |stage: &str, f: f64| {
        if let Ok(mut p) = shared.lock() {
            (*p)(stage, f as f32);
        }
    };
    let model = run_track(folder, &track, &o.sfm, &report, cancel).map_err(photo_err)?;
    let registered = model.cameras.iter().filter(|c| c.registered).count();
    if registered < 2 {
        return Err(photo_err(photogrammetry::PhotoError::Unsolvable {
            dir: folder.into(),
            reason: format!(
                "{registered} of {} photos could be registered: the photos do not overlap enough",
                model.cameras.len()
            ),
        }));
    }
    let gpu = o.device.resolve()?;
    let solve = |p: &photogrammetry::mvs::patchmatch::Problem, it: u32| match &gpu {
        Some(g) => photogrammetry::mvs::gpu::solve(g, p, it, &|| cancel.is_cancelled()),
        None => Ok(p.solve(it, &|| cancel.is_cancelled())),
    };
    let dense = dense_with(folder, &model, &o.mvs, &solve, &report, cancel).map_err(photo_err)?;
    if dense.points.is_empty() {
        return Err(photo_err(photogrammetry::PhotoError::Unsolvable {
            dir: folder.into(),
            reason: "no surface point was confirmed by two photos".into(),
        }));
    }
    let mut cloud = dense.to_point_cloud();
    if let Some(c) = &crs {
        cloud.crs = c.clone();
    }
    let mut source = capture::photos::to_source(&track, folder);
    source.points_loaded = cloud.len() as u64;
    source.point_count = cloud.len() as u64;
    cloud.provenance.sources.push(source);
    cloud
        .provenance
        .warnings
        .extend(track.warnings.iter().cloned());
    track.solved = Some(model.solved());
    let bytes = serde_json::to_vec_pretty(&track).map_err(|e| WorkflowError::BadFile {
        path: dir.join(capture::layout::CAMERAS),
        what: "cameras.json could not be written",
        source: Box::new(e),
    })?;
    let mut events = |_: IngestEvent| {};
    let progress = shared.into_inner().ok();
    if let Some(p) = progress {
        p("writing", 1.0);
    }
    Ok(capture::project::write_project(
        &cloud,
        &[(capture::layout::CAMERAS.to_string(), bytes)],
        dir,
        overwrite,
        &mut events,
        cancel,
    )?)
}
