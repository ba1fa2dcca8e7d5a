//! One tile task: stateless and idempotent. It reads the buffered box of its inputs (cropped
//! chunk by chunk, memory bounded by the tile), reconstructs, keeps the trees whose apex lies in
//! the core and the DTM / CHM resampled onto the core's cells, and commits them with a done
//! marker in one unit (`capture::commit`); a rerun of a done tile does nothing.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SurveyError};
use crate::plan::{Plan, Tile};
use capture::{CancelToken, Crop, PointCloud, ReadOptions};
use reconstruct::gpu::GpuContext;
use reconstruct::model::{Raster, Tree};

/// The done marker, written last in the tile's commit.
pub const DONE_JSON: &str = "done.json";
pub const TREES_JSON: &str = "trees.json";
pub const DTM_TIF: &str = "dtm.tif";
pub const CHM_TIF: &str = "chm.tif";

/// What a finished tile records (no timings: reruns give the same bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub index: usize,
    pub points_read: u64,
    pub trees: usize,
    /// Ground points whose position lies in the core (summed by the merge into the estate's
    /// terrain statistics).
    #[serde(default)]
    pub ground_points: u64,
}

/// What [`run_tile`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Ran(Done),
    AlreadyDone,
}

/// Whether tile `index` of the survey is done.
pub fn is_done(survey: &Path, index: usize) -> bool {
    Plan::tile_dir(survey, index).join(DONE_JSON).is_file()
}

/// Read the part of the tile's inputs inside its buffered box.
fn read_buffered(
    plan: &Plan,
    tile: &Tile,
    progress: &mut (dyn FnMut(&str, f32) + Send),
    cancel: &CancelToken,
) -> Result<PointCloud> {
    let mut cloud = PointCloud::default();
    // Only the columns reconstruct reads: returns (first returns make the CHM), classes
    // (provider ground and noise), and the beam attributes the pipe step uses when it runs. A
    // tile writes no classified cloud, so intensity, colour, GPS time and the rest would only
    // weigh on the task's memory.
    let pipes = plan.reconstruct.pipes.is_some();
    let opts = ReadOptions {
        crop: Some(tile.buffered),
        fields: capture::Fields {
            intensity: false,
            returns: true,
            classification: true,
            flags: false,
            scan_angle: pipes,
            user_data: false,
            point_source_id: pipes,
            gps_time: pipes,
            rgb: false,
            nir: false,
            extra: false,
        },
        // A quarter of the default chunk: a crop keeps a fraction of each decoded chunk, and
        // the raw records of a chunk (every layer's width, before the crop) would otherwise
        // be a large part of the task's peak.
        chunk_points: 1 << 18,
        ..Default::default()
    };
    let n = tile.inputs.len().max(1);
    for (k, &i) in tile.inputs.iter().enumerate() {
        progress("Reading", k as f32 / n as f32);
        let path = &plan.inputs[i].path;
        let read = match capture::copc::CopcFile::open_if_copc(path) {
            Ok(Some(f)) => read_copc_crop(&f, &tile.buffered, &opts.fields, cancel),
            Ok(None) => capture::read(path, &opts, &mut capture::NoProgress, cancel),
            Err(e) => Err(e),
        };
        match read {
            Ok(c) => cloud.append(c),
            // Its header box touches the buffer but no point falls inside.
            Err(capture::CaptureError::NoPoints { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    progress("Reading", 1.0);
    Ok(cloud)
}

/// The points of the COPC file `f` inside `crop`: only the octree nodes whose cube meets the
/// box are decoded, so a tile of a large COPC delivery reads its own part of it, not the file.
/// Positions are relative to the header box's centre, the origin a plain LAZ read takes.
fn read_copc_crop(
    f: &capture::copc::CopcFile,
    crop: &Crop,
    fields: &capture::Fields,
    cancel: &CancelToken,
) -> std::result::Result<PointCloud, capture::CaptureError> {
    let b = f.bounds;
    let origin: [f64; 3] = std::array::from_fn(|k| 0.5 * (b.min[k] + b.max[k]));
    let mut reader = f.reader()?;
    let mut out = PointCloud::default();
    for k in 0..f.nodes.len() {
        cancel.check()?;
        let n = f.node_box_xy(k);
        if n[2] < crop.min[0] || n[0] >= crop.max[0] || n[3] < crop.min[1] || n[1] >= crop.max[1] {
            continue;
        }
        let c = reader.read_node(k, fields, origin)?;
        let inside: Vec<usize> = (0..c.len())
            .filter(|&i| {
                let p = c.absolute(i);
                crop.contains(p[0], p[1])
            })
            .collect();
        out.append(if inside.len() == c.len() {
            c
        } else {
            c.select(&inside)
        });
    }
    if out.is_empty() {
        return Err(capture::CaptureError::NoPoints {
            path: f.path().to_path_buf(),
        });
    }
    Ok(out)
}

/// `r` resampled (bilinear) onto the cells of `core` at `r`'s resolution.
pub fn core_raster(r: &Raster, core: &Crop) -> Raster {
    let mut out = Raster::covering(
        core.min[0],
        core.min[1],
        core.max[0],
        core.max[1],
        r.resolution_m,
        r.nodata,
    );
    for row in 0..out.height {
        for col in 0..out.width {
            let (x, y) = out.center(col, row);
            if let Some(v) = r.sample(x, y) {
                out.data[row * out.width + col] = v as f32;
            }
        }
    }
    out
}

/// Run tile `index` of the survey at `survey` (module docs).
pub fn run_tile(
    survey: &Path,
    index: usize,
    gpu: Option<&Arc<GpuContext>>,
    progress: &mut (dyn FnMut(&str, f32) + Send),
    cancel: &CancelToken,
) -> Result<Outcome> {
    let plan = Plan::read(survey)?;
    let tile = plan
        .tiles
        .get(index)
        .ok_or_else(|| SurveyError::NoSuchTile {
            path: survey.to_path_buf(),
            index,
            count: plan.tiles.len(),
        })?
        .clone();
    if is_done(survey, index) {
        return Ok(Outcome::AlreadyDone);
    }
    let dir = Plan::tile_dir(survey, index);
    std::fs::create_dir_all(&dir).map_err(|e| SurveyError::Input {
        path: dir.clone(),
        reason: format!("cannot create the tile folder: {e}"),
    })?;
    let cloud = read_buffered(&plan, &tile, progress, cancel)?;
    let points_read = cloud.len() as u64;
    let (trees, dtm, chm, ground_points) = if cloud.is_empty() {
        (Vec::new(), None, None, 0)
    } else {
        let out = reconstruct::pipeline::run_on(
            &cloud,
            &plan.reconstruct,
            gpu,
            &mut |stage: reconstruct::pipeline::Stage, f: f32| progress(stage.label(), f),
            cancel,
        )?;
        let ground_points = out
            .labels
            .ground
            .iter()
            .enumerate()
            .filter(|&(i, &g)| {
                let p = cloud.absolute(i);
                g && tile.core.contains(p[0], p[1])
            })
            .count() as u64;
        drop(cloud);
        let trees: Vec<Tree> = out
            .reconstruction
            .trees
            .into_iter()
            .filter(|t| tile.core.contains(t.x, t.y))
            .collect();
        let dtm = core_raster(&out.dtm, &tile.core);
        let chm = out.chm.as_ref().map(|c| core_raster(c, &tile.core));
        (trees, Some(dtm), chm, ground_points)
    };
    let done = Done {
        index,
        points_read,
        trees: trees.len(),
        ground_points,
    };
    let mut commit = capture::commit::Commit::begin(&dir)?;
    capture::atomic::write_json(&commit.path(TREES_JSON), &trees)?;
    for (name, r) in [(DTM_TIF, &dtm), (CHM_TIF, &chm)] {
        if let Some(r) = r {
            reconstruct::geotiff::write_geotiff(
                &commit.path(name),
                r,
                &plan.crs,
                &Default::default(),
            )?;
        }
    }
    capture::atomic::write_json(&commit.path(DONE_JSON), &done)?;
    commit.commit()?;
    Ok(Outcome::Ran(done))
}
