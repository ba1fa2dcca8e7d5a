//! Reading a project folder for the mint: the inputs of the model fingerprint, and the summaries
//! the package shows.
//!
//! The fingerprint of a project is computed in exactly one place ([`fingerprint_project`]), so
//! `twinmint fingerprint`, `twinmint package` and `twinmint verify` cannot disagree about what
//! went into it:
//! - **cloud**: `cloud.laz` as stored (read directly, not through
//!   [`capture::project::load_cloud`], so a cloud that no longer matches the manifest can still
//!   be fingerprinted — `verify` must say *what* changed, not refuse to look);
//! - **capture metadata**: [`CaptureMetadata::from_cloud`] over that cloud with the
//!   manifest's sources (the original scan files, their SHA-256, capture times, devices) and
//!   the surveyor identity ([`surveyor_identity`]);
//! - **reconstruction**: `reconstruction.json` as JSON (RFC 8785 canonical form, so key order
//!   and number spelling do not matter).

use std::collections::BTreeMap;
use std::path::Path;

use capture::project::{CLOUD, MANIFEST, Manifest};
use capture::{CancelToken, PointCloud, Progress, ReadOptions};
use serde::{Deserialize, Serialize};

use super::error::{PackageError, PackageResult};
use crate::chain::{Address, ChainRecord};
use crate::fingerprint::{
    CaptureMetadata, CloudFingerprint, FingerprintOptions, ModelFingerprint, cloud_fingerprint, jcs,
};

/// `fingerprint.json` in the project: what `twinmint fingerprint` writes.
pub const FINGERPRINT_JSON: &str = "fingerprint.json";
/// Written by `twinmint reconstruct`.
pub const RECONSTRUCTION_JSON: &str = "reconstruction.json";
/// Written by `twinmint reconstruct`; copied into the package.
pub const MODEL_GLB: &str = "model.glb";
/// Written by `twinmint simulate`; optional for a package.
pub const SIMULATION_JSON: &str = "simulation.json";
/// Written by `twinmint mint` ([`ChainRecord`]).
pub const CHAIN_JSON: &str = "chain.json";
/// The package folder inside the project.
pub const PACKAGE_DIR: &str = "package";

/// Version of [`ProjectFingerprint`]'s layout.
pub const FINGERPRINT_SCHEMA_VERSION: u32 = 1;

/// `fingerprint.json`: the model fingerprint of a project, its parts, and what it was computed
/// from — enough for anyone to recompute and compare each part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectFingerprint {
    pub schema_version: u32,
    /// Parts and the combined keccak-256 (hex without prefix).
    pub fingerprint: ModelFingerprint,
    /// The on-chain form of `fingerprint.model` (`0x…`).
    pub model_0x: String,
    /// The cloud's Merkle tree: leaves, points, record schema.
    pub cloud: CloudFingerprint,
    /// Exactly what `capture_hash` hashes.
    pub capture: CaptureMetadata,
    /// SHA-256 of the project files read (`manifest.json`, `cloud.laz`, `reconstruction.json`),
    /// so a stale `fingerprint.json` is recognisable without recomputing.
    pub inputs: BTreeMap<String, String>,
}

impl ProjectFingerprint {
    /// Read `fingerprint.json` from a project.
    pub fn read(project: &Path) -> PackageResult<Self> {
        read_json(&project.join(FINGERPRINT_JSON))
    }

    /// Write `fingerprint.json` into a project, atomically.
    pub fn write(&self, project: &Path) -> PackageResult<()> {
        Ok(capture::atomic::write_json(
            &project.join(FINGERPRINT_JSON),
            self,
        )?)
    }
}

/// The surveyor string hashed into the capture metadata: the on-chain address (EIP-55) when
/// known — it ties the capture hash to the key that attests it —, with the person's name in
/// front when both are given (`"J. Doe, PLS 1234 (0xAb…)"`).
pub fn surveyor_identity(address: Option<Address>, name: Option<&str>) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match (name, address) {
        (Some(n), Some(a)) => Some(format!("{n} ({})", a.to_checksum(None))),
        (None, Some(a)) => Some(a.to_checksum(None)),
        (Some(n), None) => Some(n.to_string()),
        (None, None) => None,
    }
}

/// Read `cloud.laz` as stored, with the manifest's provenance (the original sources) attached.
pub fn read_cloud(
    project: &Path,
    manifest: &Manifest,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> PackageResult<PointCloud> {
    let path = project.join(CLOUD);
    if !path.is_file() {
        return Err(PackageError::MissingInput {
            path,
            hint: "the project has no merged cloud; run `twinmint ingest` to create it".into(),
        });
    }
    let mut cloud = capture::read(&path, &ReadOptions::default(), progress, cancel)?;
    cloud.provenance.sources = manifest.sources.clone();
    cloud.provenance.warnings = manifest.warnings.clone();
    if cloud.crs.is_unknown() {
        cloud.crs = manifest.crs.clone();
    }
    Ok(cloud)
}

/// `reconstruction.json` as JSON (what the reconstruction hash covers).
pub fn read_reconstruction_json(project: &Path) -> PackageResult<serde_json::Value> {
    let path = project.join(RECONSTRUCTION_JSON);
    if !path.is_file() {
        return Err(PackageError::MissingInput {
            hint: format!(
                "run `twinmint reconstruct {}` first: the fingerprint covers the reconstruction",
                project.display()
            ),
            path,
        });
    }
    read_json(&path)
}

/// The fingerprint of `cloud` (already read with [`read_cloud`]), its capture metadata and the
/// reconstruction JSON.
pub fn fingerprint_cloud(
    cloud: &PointCloud,
    surveyor: Option<&str>,
    reconstruction: &serde_json::Value,
) -> PackageResult<(ModelFingerprint, CloudFingerprint, CaptureMetadata)> {
    let capture = CaptureMetadata::from_cloud(cloud, surveyor)?;
    let (cloud_fp, _tree) = cloud_fingerprint(cloud, &FingerprintOptions::default())?;
    let model =
        ModelFingerprint::combine(cloud_fp.root, capture.hash()?, jcs::sha256(reconstruction)?);
    Ok((model, cloud_fp, capture))
}

/// Compute a project's fingerprint (does not write `fingerprint.json`; see
/// [`ProjectFingerprint::write`]).
pub fn fingerprint_project(
    project: &Path,
    surveyor: Option<&str>,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> PackageResult<ProjectFingerprint> {
    let manifest = capture::project::open(project)?;
    let reconstruction = read_reconstruction_json(project)?;
    let cloud = read_cloud(project, &manifest, progress, cancel)?;
    cancel.check()?;
    project_fingerprint(project, &cloud, surveyor, &reconstruction)
}

/// [`fingerprint_project`] with the inputs already read.
pub(crate) fn project_fingerprint(
    project: &Path,
    cloud: &PointCloud,
    surveyor: Option<&str>,
    reconstruction: &serde_json::Value,
) -> PackageResult<ProjectFingerprint> {
    let (fingerprint, cloud_fp, capture) = fingerprint_cloud(cloud, surveyor, reconstruction)?;
    Ok(ProjectFingerprint {
        schema_version: FINGERPRINT_SCHEMA_VERSION,
        model_0x: fingerprint.model_hex0x(),
        fingerprint,
        cloud: cloud_fp,
        capture,
        inputs: input_hashes(project, &[MANIFEST, CLOUD, RECONSTRUCTION_JSON])?,
    })
}

/// SHA-256 of each named project file that exists.
pub(crate) fn input_hashes(
    project: &Path,
    names: &[&str],
) -> PackageResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for name in names {
        let p = project.join(name);
        if p.is_file() {
            out.insert(name.to_string(), capture::hash::sha256_file(&p)?.0);
        }
    }
    Ok(out)
}

/// The parts of `reconstruction.json` the package summarises. A deliberately small view of
/// `reconstruct::Reconstruction` (every field defaulted), so the mint crate reads the file
/// without linking the GPU reconstruction stage, and keeps reading it when that stage adds
/// fields. The package tests write the file from the real type.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReconstructionView {
    pub trees: Vec<TreeView>,
    pub pipes: Vec<PipeView>,
    pub terrain: TerrainView,
    pub device: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TreeView {
    pub height_m: f64,
    pub crown_area_m2: f64,
    pub dbh_cm: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PipeView {
    pub length_m: f64,
    pub radius_m: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TerrainView {
    pub ground_points: u64,
    pub min_z: f64,
    pub max_z: f64,
    pub mean_slope_deg: f64,
    pub area_m2: f64,
}

impl ReconstructionView {
    pub fn from_json(path: &Path, value: &serde_json::Value) -> PackageResult<Self> {
        serde_json::from_value(value.clone())
            .map_err(|e| PackageError::invalid(path, format!("not a reconstruction: {e}")))
    }

    pub fn pipe_length_m(&self) -> f64 {
        self.pipes.iter().map(|p| p.length_m).sum()
    }
}

/// `simulation.json`, when the project has one.
pub(crate) fn read_simulation(project: &Path) -> PackageResult<Option<growth_model::Simulation>> {
    let path = project.join(SIMULATION_JSON);
    if !path.is_file() {
        return Ok(None);
    }
    read_json(&path).map(Some)
}

/// `chain.json`, when the project was minted.
pub(crate) fn read_chain_record(project: &Path) -> PackageResult<Option<ChainRecord>> {
    let path = project.join(CHAIN_JSON);
    if !path.is_file() {
        return Ok(None);
    }
    ChainRecord::read(&path)
        .map(Some)
        .map_err(|e| PackageError::invalid(&path, e.to_string()))
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> PackageResult<T> {
    let bytes = std::fs::read(path).map_err(|e| PackageError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| PackageError::invalid(path, e.to_string()))
}
