//! The survey plan: tiles on a lattice anchored at multiples of the tile size (so two plans of
//! the same land share tiles whatever the input tiling), each with a core (what the tile owns)
//! and a buffered box (what it reads, so trees and terrain at the core's edge see their
//! neighbours), from the inputs' LAS/LAZ headers alone.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SurveyError};
use capture::Crop;
use reconstruct::pipeline::ReconstructOptions;

/// The plan's file in the survey folder.
pub const PLAN_JSON: &str = "plan.json";
/// Version of the `plan.json` layout.
pub const PLAN_SCHEMA_VERSION: u32 = 1;
/// Peak memory of a tile task per point read, bytes: `twinmint bench pipeline` measured 342 MB
/// for 1 M points through reconstruct (release build); rounded up.
pub const BYTES_PER_POINT: u64 = 400;

/// One input file, as its header describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// Absolute path (tasks run from other working directories).
    pub path: PathBuf,
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub points: u64,
    /// First returns, from the header's points-by-return count (all points when it has none).
    pub first_returns: u64,
}

/// One tile task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    pub index: usize,
    /// Lattice column and row (x = col × tile, y = row × tile).
    pub col: i64,
    pub row: i64,
    pub core: Crop,
    pub buffered: Crop,
    /// Indices into [`Plan::inputs`] whose extent touches the buffered box.
    pub inputs: Vec<usize>,
    /// Points the buffered box holds, assuming each input's points spread evenly over its extent.
    pub points_estimate: u64,
    pub memory_estimate_bytes: u64,
}

/// `plan.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    pub tile_m: f64,
    pub buffer_m: f64,
    pub inputs: Vec<InputFile>,
    pub tiles: Vec<Tile>,
    /// The survey's CRS, from the first input's header (written into the tiles' and the
    /// merge's rasters).
    pub crs: capture::Crs,
    /// What every tile reconstructs with.
    pub reconstruct: ReconstructOptions,
}

fn overlap(a: &Crop, min: [f64; 3], max: [f64; 3]) -> f64 {
    let ox = (a.max[0].min(max[0]) - a.min[0].max(min[0])).max(0.0);
    let oy = (a.max[1].min(max[1]) - a.min[1].max(min[1])).max(0.0);
    ox * oy
}

/// Read the header of one LAS/LAZ input: its extent and counts, and its CRS.
fn input(path: &Path) -> Result<(InputFile, capture::Crs)> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext != "las" && ext != "laz" {
        return Err(SurveyError::Input {
            path: path.to_path_buf(),
            reason: "a plan reads LAS/LAZ headers only; convert other formats with `twinmint convert` first".into(),
        });
    }
    let (_, info) = capture::las_io::open(path)?;
    let b = info.header.bounds();
    let points = info.header.number_of_points();
    let first_returns = info
        .header
        .number_of_points_by_return(1)
        .filter(|&n| n > 0)
        .unwrap_or(points);
    let abs = std::fs::canonicalize(path).map_err(|e| SurveyError::Input {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let crs = capture::las_io::crs_of(&info.header, path);
    Ok((
        InputFile {
            path: abs,
            min: [b.min.x, b.min.y, b.min.z],
            max: [b.max.x, b.max.y, b.max.z],
            points,
            first_returns,
        },
        crs,
    ))
}

/// Plan a survey of `inputs` in tiles of `tile_m` with `buffer_m` around each (module docs).
pub fn plan(
    inputs: &[PathBuf],
    tile_m: f64,
    buffer_m: f64,
    reconstruct: ReconstructOptions,
) -> Result<Plan> {
    let bad = |option, reason: String| Err(SurveyError::InvalidOption { option, reason });
    if !(tile_m.is_finite() && (10.0..=100_000.0).contains(&tile_m)) {
        return bad("tile", format!("{tile_m} m must be in 10 … 100 000 m"));
    }
    if !(buffer_m.is_finite() && (0.0..=10_000.0).contains(&buffer_m)) {
        return bad("buffer", format!("{buffer_m} m must be in 0 … 10 000 m"));
    }
    // Rasters of neighbouring cores must meet on one grid.
    let res = reconstruct.dtm.resolution_m;
    let cells = tile_m / res;
    if (cells - cells.round()).abs() > 1e-9 {
        return bad(
            "tile",
            format!("{tile_m} m is not a whole number of DTM cells of {res} m"),
        );
    }
    if inputs.is_empty() {
        return bad("inputs", "no input files".into());
    }
    let read: Vec<(InputFile, capture::Crs)> =
        inputs.iter().map(|p| input(p)).collect::<Result<_>>()?;
    let crs = read[0].1.clone();
    let files: Vec<InputFile> = read.into_iter().map(|(f, _)| f).collect();
    let mut reconstruct = reconstruct;
    // Every tile's DTM on the one grid of the survey (multiples of the resolution).
    reconstruct.dtm.snap_to_grid = true;
    if reconstruct.trees.is_none() {
        // One tree profile for the whole survey: picked per tile, the first-return density of a
        // buffered box would differ from tile to tile and so would the trees at their seams.
        let area: f64 = files
            .iter()
            .map(|f| (f.max[0] - f.min[0]) * (f.max[1] - f.min[1]))
            .sum();
        let first: u64 = files.iter().map(|f| f.first_returns).sum();
        reconstruct.trees = Some(reconstruct::trees::TreeOptions::for_density(
            first as f64 / area.max(1e-9),
        ));
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for f in &files {
        x0 = x0.min(f.min[0]);
        y0 = y0.min(f.min[1]);
        x1 = x1.max(f.max[0]);
        y1 = y1.max(f.max[1]);
    }
    let (c0, c1) = ((x0 / tile_m).floor() as i64, (x1 / tile_m).floor() as i64);
    let (r0, r1) = ((y0 / tile_m).floor() as i64, (y1 / tile_m).floor() as i64);
    if (c1 - c0 + 1).saturating_mul(r1 - r0 + 1) > 1_000_000 {
        return bad(
            "tile",
            format!("{tile_m} m tiles would make more than a million tasks; use larger tiles"),
        );
    }
    let mut tiles = Vec::new();
    for row in r0..=r1 {
        for col in c0..=c1 {
            let core = Crop {
                min: [col as f64 * tile_m, row as f64 * tile_m],
                max: [(col + 1) as f64 * tile_m, (row + 1) as f64 * tile_m],
            };
            let buffered = Crop {
                min: [core.min[0] - buffer_m, core.min[1] - buffer_m],
                max: [core.max[0] + buffer_m, core.max[1] + buffer_m],
            };
            let mut touching = Vec::new();
            let mut estimate = 0f64;
            let mut in_core = 0f64;
            for (k, f) in files.iter().enumerate() {
                let area = ((f.max[0] - f.min[0]) * (f.max[1] - f.min[1])).max(1e-9);
                let o = overlap(&buffered, f.min, f.max);
                // A degenerate (point or line) extent still touches when it lies inside.
                let inside = buffered.contains(f.min[0], f.min[1]);
                if o > 0.0 || inside {
                    touching.push(k);
                    estimate += f.points as f64 * (o / area).min(1.0);
                    in_core += overlap(&core, f.min, f.max);
                }
            }
            if touching.is_empty() || in_core <= 0.0 {
                continue;
            }
            let points = estimate.round() as u64;
            tiles.push(Tile {
                index: tiles.len(),
                col,
                row,
                core,
                buffered,
                inputs: touching,
                points_estimate: points,
                memory_estimate_bytes: points * BYTES_PER_POINT,
            });
        }
    }
    Ok(Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        tile_m,
        buffer_m,
        inputs: files,
        tiles,
        crs,
        reconstruct,
    })
}

impl Plan {
    /// Write `plan.json` into `survey` (created if needed), atomically.
    pub fn write(&self, survey: &Path) -> Result<()> {
        std::fs::create_dir_all(survey).map_err(|e| SurveyError::Input {
            path: survey.to_path_buf(),
            reason: format!("cannot create the survey folder: {e}"),
        })?;
        capture::atomic::write_json(&survey.join(PLAN_JSON), self)?;
        Ok(())
    }

    /// Read a survey's `plan.json`.
    pub fn read(survey: &Path) -> Result<Plan> {
        let path = survey.join(PLAN_JSON);
        let bytes = std::fs::read(&path).map_err(|e| SurveyError::BadPlan {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| SurveyError::BadPlan {
            path,
            reason: e.to_string(),
        })
    }

    /// The largest memory estimate of a tile task (what a scheduler should grant each).
    pub fn max_memory_bytes(&self) -> u64 {
        self.tiles
            .iter()
            .map(|t| t.memory_estimate_bytes)
            .max()
            .unwrap_or(0)
    }

    /// The tile folder of task `index`.
    pub fn tile_dir(survey: &Path, index: usize) -> PathBuf {
        survey.join("tiles").join(format!("{index:05}"))
    }
}
