//! The merged survey as a TwinMint project, so growth, package and mint run over the whole
//! estate unchanged: `merged/` gets the manifest and the estate's cloud (every input point,
//! with the sources' SHA-256 in the manifest) as COPC (`cloud.laz` — an octree of LAZ chunks
//! a viewer streams, and plain LAZ to every other reader), `reconstruction.json` (the merged trees with
//! their survey-wide ids, terrain statistics of the mosaic, the plan's options), the DTM and CHM
//! mosaics (Cloud Optimized GeoTIFF) and `model.glb` — all committed in one swap of the folder
//! ([`capture::project::write_project`]), beside the survey's own `trees.json` and `merge.json`.
//!
//! There is no `classified.laz`: the tiles keep no per-point labels (a tile's output is its core
//! trees and rasters), and re-labelling the estate would mean reconstructing it in one process,
//! which is what the survey avoids. The merge holds the estate's cloud in memory once, to write
//! and hash it.

use std::collections::BTreeMap;
use std::path::Path;

use capture::layout::{CHM_TIF, DTM_TIF, MODEL_GLB, RECONSTRUCTION_JSON};
use capture::{CancelToken, PointCloud};
use reconstruct::model::{
    GENERATOR, RECONSTRUCTION_SCHEMA_VERSION, Raster, Reconstruction, RunInfo, Tree,
};

use crate::error::{Result, SurveyError};
use crate::plan::Plan;

/// What the project is made of, beside the survey's own files.
pub struct MergedParts<'a> {
    pub trees: &'a [Tree],
    pub dtm: Option<&'a Raster>,
    pub chm: Option<&'a Raster>,
    /// Ground points of every tile's core.
    pub ground_points: u64,
    /// `trees.json`, `merge.json`: written in the same swap.
    pub survey_files: Vec<(String, Vec<u8>)>,
}

/// Every input of the plan, read whole and appended in plan order (the plan covers them all).
/// `progress(fraction)` after each input.
pub fn estate_cloud(
    plan: &Plan,
    progress: &mut dyn FnMut(f32),
    cancel: &CancelToken,
) -> Result<PointCloud> {
    let mut cloud = PointCloud::default();
    for (k, input) in plan.inputs.iter().enumerate() {
        progress(k as f32 / plan.inputs.len().max(1) as f32);
        let c = capture::read(
            &input.path,
            &Default::default(),
            &mut capture::NoProgress,
            cancel,
        )?;
        cloud.append(c);
    }
    Ok(cloud)
}

fn bytes_of<E: std::fmt::Display>(
    path: &Path,
    r: std::result::Result<Vec<u8>, E>,
) -> Result<Vec<u8>> {
    r.map_err(|e| SurveyError::Merge {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Write `out_dir` as the project of `cloud` (the estate's, or a parcel's) with `parts`
/// (module docs).
pub fn write(
    plan: &Plan,
    out_dir: &Path,
    cloud: &PointCloud,
    parts: MergedParts<'_>,
    cancel: &CancelToken,
) -> Result<()> {
    let dtm = parts.dtm.ok_or_else(|| SurveyError::Merge {
        path: out_dir.to_path_buf(),
        reason: "no tile produced a terrain model (no points in the survey)".into(),
    })?;
    let mut rec = Reconstruction {
        schema_version: RECONSTRUCTION_SCHEMA_VERSION,
        generator: GENERATOR.to_string(),
        crs: plan.crs.clone(),
        origin: cloud.origin,
        terrain: reconstruct::normalize::terrain_stats(dtm, parts.ground_points),
        dtm: Some(dtm.clone()),
        chm: parts.chm.cloned(),
        trees: parts.trees.to_vec(),
        pipes: Vec::new(),
        options: serde_json::to_value(&plan.reconstruct).unwrap_or(serde_json::Value::Null),
        run: RunInfo::here(
            format!("survey merge of {} tiles", plan.tiles.len()),
            Vec::new(),
        ),
    };
    let mut files = parts.survey_files;
    files.push((
        DTM_TIF.into(),
        bytes_of(
            out_dir,
            reconstruct::cog::encode_cog(dtm, &plan.crs, "TwinMint"),
        )?,
    ));
    if let Some(chm) = parts.chm {
        files.push((
            CHM_TIF.into(),
            bytes_of(
                out_dir,
                reconstruct::cog::encode_cog(chm, &plan.crs, "TwinMint"),
            )?,
        ));
    }
    cancel.check().map_err(capture::CaptureError::from)?;
    files.push((
        MODEL_GLB.into(),
        bytes_of(
            out_dir,
            reconstruct::gltf::build_glb(&rec, &BTreeMap::new(), &Default::default()),
        )?,
    ));
    for (name, data) in &files {
        if [DTM_TIF, CHM_TIF, MODEL_GLB].contains(&name.as_str()) {
            rec.run
                .outputs
                .insert(name.clone(), capture::hash::sha256_bytes(data));
        }
    }
    files.push((
        RECONSTRUCTION_JSON.into(),
        bytes_of(out_dir, serde_json::to_vec_pretty(&rec))?,
    ));
    capture::project::write_project_as(
        cloud,
        &capture::project::CloudLayout::Copc(Default::default()),
        &files,
        out_dir,
        true,
        &mut |_| {},
        cancel,
    )?;
    Ok(())
}
