//! Opening a project folder for viewing: its cloud (the classified one when reconstruct has
//! run, so classes and tree ids can colour it), the on-disk viewer octree built from it, and the
//! reconstruction and simulation results the scene and time-lapse draw.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bevy::math::DVec3;
use capture::{CancelToken, ProgressEvent};

use crate::studio::scene::SceneData;
use crate::viewer::octree::{Octree, OctreeOptions};

pub use super::error::StudioError;

/// A project ready to view.
#[derive(Clone)]
pub struct OpenedProject {
    pub dir: PathBuf,
    pub name: String,
    pub cloud_file: PathBuf,
    pub points: u64,
    pub octree: Arc<Octree>,
    pub scene: SceneData,
    /// Cloud bounds in local coordinates (relative to `scene.origin`).
    pub bounds: [DVec3; 2],
}

pub use capture::layout::VIEWER_OCTREE as OCTREE_FILE;

/// Progress of opening: a stage name and its fraction done.
pub type OpenProgress<'a> = &'a (dyn Fn(&str, f32) + Sync);

/// Open `dir` for viewing. `cancel` is polled throughout.
pub fn open_project(
    dir: &Path,
    progress: OpenProgress,
    cancel: &CancelToken,
) -> Result<OpenedProject, StudioError> {
    let manifest = capture::project::open(dir)?;
    let classified = dir.join(reconstruct::pipeline::CLASSIFIED_LAZ);
    let cloud_file = if classified.exists() {
        classified
    } else {
        dir.join(capture::project::CLOUD)
    };
    let octree_file = dir.join(OCTREE_FILE);
    let octree = match cached_octree(&octree_file, &cloud_file, &manifest) {
        Some(o) => o,
        // A COPC cloud (a survey's merged estate) is already an octree: its nodes are decoded
        // one by one into the cache, never the whole cloud at once.
        None => match capture::copc::CopcFile::open_if_copc(&cloud_file)? {
            Some(f) => Octree::from_copc(
                &f,
                &octree_file,
                &|f| progress("Reading COPC nodes", f),
                &|| cancel.is_cancelled(),
            )?,
            None => build_octree(&cloud_file, &octree_file, progress, cancel)?,
        },
    };
    let (origin, points) = (octree.origin, octree.total_points);
    let o = DVec3::from(origin);
    let bounds = [
        DVec3::from(manifest.bounds.min) - o,
        DVec3::from(manifest.bounds.max) - o,
    ];
    progress("Loading results", 0.0);
    let reconstruction = if dir
        .join(reconstruct::pipeline::RECONSTRUCTION_JSON)
        .exists()
    {
        let mut rec = reconstruct::pipeline::read_reconstruction(dir)?;
        let dtm = dir.join(reconstruct::pipeline::DTM_TIF);
        if let Ok(bytes) = std::fs::read(&dtm)
            && let Ok(tif) = reconstruct::geotiff::read_geotiff(&bytes)
        {
            rec.dtm = Some(tif.raster);
        }
        Some(rec)
    } else {
        None
    };
    let sim_path = dir.join(capture::layout::SIMULATION_JSON);
    let simulation = if sim_path.exists() {
        let bytes = std::fs::read(&sim_path).map_err(|e| StudioError::Invalid {
            path: sim_path.clone(),
            reason: e.to_string(),
        })?;
        Some(
            serde_json::from_slice(&bytes).map_err(|e| StudioError::Invalid {
                path: sim_path.clone(),
                reason: e.to_string(),
            })?,
        )
    } else {
        None
    };
    let name = manifest.name.clone();
    Ok(OpenedProject {
        dir: dir.to_path_buf(),
        name,
        cloud_file,
        points,
        octree: Arc::new(octree),
        scene: SceneData {
            origin,
            reconstruction,
            simulation,
            resurvey: crate::workflow::resurvey::read_resurvey(dir).map_err(|e| {
                StudioError::Invalid {
                    path: dir.join(resurvey::RESURVEY_JSON),
                    reason: e.to_string(),
                }
            })?,
        },
        bounds,
    })
}

/// The octree cache when it was built from this cloud as it is now: newer than the cloud file,
/// same point count as the manifest. Reopening a large project then skips reading the cloud.
fn cached_octree(
    octree_file: &Path,
    cloud_file: &Path,
    manifest: &capture::project::Manifest,
) -> Option<Octree> {
    let built = std::fs::metadata(octree_file)
        .and_then(|m| m.modified())
        .ok()?;
    let cloud = std::fs::metadata(cloud_file)
        .and_then(|m| m.modified())
        .ok()?;
    if built < cloud {
        return None;
    }
    let o = Octree::open(octree_file).ok()?;
    (o.total_points == manifest.point_count).then_some(o)
}

/// Read the cloud and build its octree into `octree_file`.
fn build_octree(
    cloud_file: &Path,
    octree_file: &Path,
    progress: OpenProgress,
    cancel: &CancelToken,
) -> Result<Octree, StudioError> {
    let token = cancel.clone();
    progress("Reading cloud", 0.0);
    let mut report = |e: ProgressEvent| {
        if let Some(t) = e.total_points.filter(|&t| t > 0) {
            progress("Reading cloud", e.points as f32 / t as f32);
        }
    };
    // Only what the viewer draws: skips the GPS-time, angle and source layers of layered LAZ.
    let only_drawn = capture::ReadOptions {
        fields: capture::Fields::VIEWER,
        ..Default::default()
    };
    let cloud =
        capture::read(cloud_file, &only_drawn, &mut report, &token).map_err(|e| match e {
            capture::CaptureError::Cancelled => StudioError::Cancelled,
            e => e.into(),
        })?;
    if let Some(parent) = octree_file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| StudioError::Invalid {
            path: parent.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    let octree = Octree::build(
        &cloud,
        &OctreeOptions::default(),
        octree_file,
        &|f| progress("Building octree", f),
        &|| cancel.is_cancelled(),
    )?;
    Ok(octree)
}
