//! Merge a survey's tiles into one result: every tree once, with an id derived from its apex
//! ([`crate::ids`]), and the DTM and CHM mosaicked from the tiles' cores — which share one
//! grid, since cores lie on the tile lattice and a tile is a whole number of cells — so there is
//! no resampling at the seams. The mosaics are written as Cloud Optimized GeoTIFFs
//! ([`reconstruct::cog`]): an estate's DTM is read a window at a time by GDAL and web viewers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SurveyError};
use crate::plan::Plan;
use crate::tile::{CHM_TIF, DONE_JSON, DTM_TIF, Done, TREES_JSON, is_done};
use reconstruct::model::{Raster, Tree};

/// The merged result's folder in the survey.
pub const MERGED_DIR: &str = "merged";
/// Its summary.
pub const MERGE_JSON: &str = "merge.json";

/// What [`merge`] wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub tiles: usize,
    pub trees: usize,
    /// Absolute extent of the mosaics: x min, y min, x max, y max.
    pub extent: [f64; 4],
    pub dtm_resolution_m: f64,
    pub chm_resolution_m: Option<f64>,
    /// One project per parcel (`merge --parcels`), under `parcels/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<crate::parcels::ParcelSummary>,
}

fn read_tile_raster(path: &Path) -> Result<Option<Raster>> {
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(reconstruct::geotiff::read_geotiff_file(path)?.raster))
}

/// Paste `tiles` (each on the common grid) into one raster covering them all.
fn mosaic(tiles: &[Raster]) -> Option<Raster> {
    let first = tiles.first()?;
    let res = first.resolution_m;
    let x0 = tiles.iter().map(|r| r.x_min).fold(f64::MAX, f64::min);
    let x1 = tiles
        .iter()
        .map(|r| r.x_min + r.width as f64 * res)
        .fold(f64::MIN, f64::max);
    let y1 = tiles.iter().map(|r| r.y_max).fold(f64::MIN, f64::max);
    let y0 = tiles
        .iter()
        .map(|r| r.y_max - r.height as f64 * res)
        .fold(f64::MAX, f64::min);
    let mut out = Raster::covering(x0, y0, x1, y1, res, first.nodata);
    // Covering rounds the height up from y0; anchor its top at y1 exactly.
    out.y_max = y1;
    for t in tiles {
        let dc = ((t.x_min - x0) / res).round() as usize;
        let dr = ((y1 - t.y_max) / res).round() as usize;
        for row in 0..t.height {
            for col in 0..t.width {
                let (r, c) = (row + dr, col + dc);
                if r < out.height && c < out.width {
                    out.data[r * out.width + c] = t.data[row * t.width + col];
                }
            }
        }
    }
    Some(out)
}

/// Merge every done tile of the survey at `survey` into `survey/merged/` (module docs): the
/// merged trees and mosaics, and the estate as a project ([`crate::project`]), in one commit.
pub fn merge(survey: &Path, cancel: &capture::CancelToken) -> Result<Merged> {
    merge_with(survey, None, &mut |_, _| {}, cancel)
}

/// Labels of the merge's steps, for its progress.
pub const READING_TILES: &str = "Reading tiles";
pub const READING_ESTATE: &str = "Reading the estate";
pub const CUTTING_PARCELS: &str = "Cutting parcels";
pub const WRITING_ESTATE: &str = "Writing the estate";

/// [`merge`], and with `parcels` (a GeoJSON file) one project per parcel under
/// `survey/parcels/` ([`crate::parcels`]).
/// `progress(step, fraction)` reports each step.
pub fn merge_with(
    survey: &Path,
    parcels: Option<&Path>,
    progress: &mut dyn FnMut(&str, f32),
    cancel: &capture::CancelToken,
) -> Result<Merged> {
    let plan = Plan::read(survey)?;
    // Parcels are read first: a bad file costs nothing.
    let parcels = parcels
        .map(|p| crate::parcels::read_parcels(p).map(|v| (p, v)))
        .transpose()?;
    let missing: Vec<usize> = (0..plan.tiles.len())
        .filter(|&i| !is_done(survey, i))
        .collect();
    if let Some(first) = missing.first() {
        return Err(SurveyError::NotDone {
            path: survey.to_path_buf(),
            count: missing.len(),
            total: plan.tiles.len(),
            first: format!("tile {first}"),
        });
    }
    let mut trees: Vec<Tree> = Vec::new();
    let mut dtms = Vec::new();
    let mut chms = Vec::new();
    let mut ground_points = 0u64;
    for (k, t) in plan.tiles.iter().enumerate() {
        progress(READING_TILES, k as f32 / plan.tiles.len() as f32);
        cancel.check().map_err(capture::CaptureError::from)?;
        let dir = Plan::tile_dir(survey, t.index);
        let mut tile_trees: Vec<Tree> = read_json(&dir.join(TREES_JSON))?;
        trees.append(&mut tile_trees);
        let done: Done = read_json(&dir.join(DONE_JSON))?;
        ground_points += done.ground_points;
        dtms.extend(read_tile_raster(&dir.join(DTM_TIF))?);
        chms.extend(read_tile_raster(&dir.join(CHM_TIF))?);
    }
    let keys: Vec<(i64, i64)> = trees
        .iter()
        .map(|t| crate::ids::apex_key(t.x, t.y))
        .collect();
    let ids = crate::ids::assign(&keys);
    for (t, id) in trees.iter_mut().zip(ids) {
        t.id = id;
    }
    trees.sort_by_key(|t| crate::ids::apex_key(t.x, t.y));
    let dtm = mosaic(&dtms);
    let chm = mosaic(&chms);
    let out_dir: PathBuf = survey.join(MERGED_DIR);
    let extent = dtm.as_ref().map_or([0.0; 4], |r| {
        [
            r.x_min,
            r.y_max - r.height as f64 * r.resolution_m,
            r.x_min + r.width as f64 * r.resolution_m,
            r.y_max,
        ]
    });
    let cloud = crate::project::estate_cloud(&plan, &mut |f| progress(READING_ESTATE, f), cancel)?;
    let parcel_summaries = match (&parcels, &dtm) {
        (Some((source, parcels)), Some(dtm)) => crate::parcels::write_parcels(
            survey,
            &plan,
            parcels,
            &crate::parcels::Estate {
                cloud: &cloud,
                trees: &trees,
                dtm,
                chm: chm.as_ref(),
                ground_points,
            },
            source,
            &mut |f| progress(CUTTING_PARCELS, f),
            cancel,
        )?,
        _ => Vec::new(),
    };
    progress(WRITING_ESTATE, 0.0);
    let merged = Merged {
        tiles: plan.tiles.len(),
        trees: trees.len(),
        extent,
        dtm_resolution_m: dtm.as_ref().map_or(0.0, |r| r.resolution_m),
        chm_resolution_m: chm.as_ref().map(|r| r.resolution_m),
        parcels: parcel_summaries,
    };
    let survey_files = vec![
        (TREES_JSON.to_string(), to_json(&trees, &out_dir)?),
        (MERGE_JSON.to_string(), to_json(&merged, &out_dir)?),
    ];
    crate::project::write(
        &plan,
        &out_dir,
        &cloud,
        crate::project::MergedParts {
            trees: &trees,
            dtm: dtm.as_ref(),
            chm: chm.as_ref(),
            ground_points,
            survey_files,
        },
        cancel,
    )?;
    progress(WRITING_ESTATE, 1.0);
    Ok(merged)
}

fn to_json<T: Serialize>(v: &T, dir: &Path) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(v).map_err(|e| SurveyError::Merge {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| SurveyError::Merge {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| SurveyError::Merge {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The merged trees of a survey.
pub fn merged_trees(survey: &Path) -> Result<Vec<Tree>> {
    read_json(&survey.join(MERGED_DIR).join(TREES_JSON))
}
