//! Reading a project folder for the mint: the inputs of the model fingerprint, and the summaries
//! the package shows.
//!
//! The fingerprint of a project is computed in exactly one place ([`compute_project_fingerprint`]), so
//! `twinmint fingerprint`, `twinmint package` and `twinmint verify` cannot disagree about what
//! went into it:
//! - **cloud**: `cloud.laz` as stored (read directly, not through
//!   [`capture::project::load_cloud`], so a cloud that no longer matches the manifest can still
//!   be fingerprinted — `verify` must say *what* changed, not refuse to look);
//! - **capture metadata**: [`CaptureMetadata::from_cloud`] over that cloud with the
//!   manifest's sources (the original scan files, their SHA-256, capture times, devices) — not
//!   the surveyor, who is bound by the on-chain attestation instead;
//! - **reconstruction**: the asset view of `reconstruction.json`
//!   ([`crate::fingerprint::reconstruction_view`]: without the run's device, timings and host,
//!   numbers to 0.001, RFC 8785 canonical form), so reconstructing the same scan again — on
//!   another machine, thread count or device — gives the same fingerprint.
//!
//! [`Covers`] (in `fingerprint.json`) says the same for whoever reads the file.

use std::collections::BTreeMap;
use std::path::Path;

use capture::project::{CLOUD, MANIFEST, Manifest};
use capture::{CancelToken, Fields, PointCloud, Progress, ReadOptions};
use serde::{Deserialize, Serialize};

use super::error::{PackageError, PackageResult};
use super::metadata::Attribute;
use crate::chain::{Address, ChainRecord};
use crate::fingerprint::reconstruction::{OPTION_RUN_KEYS, QUANTUM, RUN_KEYS};
use crate::fingerprint::{
    CaptureMetadata, CloudFingerprint, FingerprintOptions, ModelFingerprint, asset_root,
    cloud_fingerprint, inventory_view,
};

pub use capture::layout::{
    CHAIN_JSON, FINGERPRINT_JSON, MODEL_GLB, PACKAGE_DIR, RECONSTRUCTION_JSON, SIMULATION_JSON,
};

/// Version of [`ProjectFingerprint`]'s layout and of what its hashes cover. 2: the
/// reconstruction hash covers the asset view (no run facts, numbers quantised), the capture
/// hash no longer covers the surveyor, and [`ProjectFingerprint::covers`] says so. 3: the
/// reconstruction hash is the Merkle root of the asset leaves (one per tree, and the year-0
/// inventory of `simulation.json`), so single trees and the carbon total can be disclosed.
pub const FINGERPRINT_SCHEMA_VERSION: u32 = 3;

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
    /// Which parts of which files each hash covers (empty in schema 1 files).
    #[serde(default)]
    pub covers: Covers,
}

/// What each part hash of the fingerprint covers, in words, so a reader of `fingerprint.json`
/// knows which edits change the fingerprint and which do not (`mint/FINGERPRINT.md` has the
/// byte layouts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Covers {
    pub cloud_root: Coverage,
    pub capture_hash: Coverage,
    pub reconstruction_hash: Coverage,
}

/// The project files one hash is computed from, what of them it covers, and what it leaves
/// out on purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub files: Vec<String>,
    pub covers: Vec<String>,
    pub excludes: Vec<String>,
}

impl Covers {
    /// The coverage of this version of the fingerprint (schema [`FINGERPRINT_SCHEMA_VERSION`]).
    /// The parameters (record schema, leaf size, quantum, excluded keys) come from the values
    /// and constants the hashing uses, so the words cannot drift from it.
    pub fn current(cloud: &CloudFingerprint) -> Self {
        let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let keys = |prefix: &str, keys: &[&str]| {
            keys.iter()
                .map(|k| format!("`{prefix}{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Covers {
            cloud_root: Coverage {
                files: strs(&[CLOUD]),
                covers: vec![
                    "every point's absolute x, y, z in the project CRS, in integer millimetres"
                        .into(),
                    "every point's colour (r, g, b, top 8 bits) when the cloud has colour".into(),
                    format!(
                        "as {}-byte records ({}) in Morton order, SHA-256 Merkle tree of {} \
                         points a leaf (RFC 6962)",
                        cloud.record_bytes, cloud.schema, cloud.chunk_points
                    ),
                ],
                excludes: strs(&[
                    "point order, file format (LAS, LAZ, PLY) and LAS header fields",
                    "classification, intensity, returns, GPS time, scan angle, extra columns",
                ]),
            },
            capture_hash: Coverage {
                files: strs(&[MANIFEST, CLOUD]),
                covers: strs(&[
                    "manifest.json sources: file name, format, SHA-256, size and points loaded \
                     of every original scan file",
                    "capture start and end (RFC 3339 UTC) and how they were established",
                    "scanner / camera devices named by the sources",
                    "cloud.laz: point count, bounds in integer millimetres, CRS",
                    "as the RFC 8785 canonical JSON of `capture` in fingerprint.json, SHA-256",
                ]),
                excludes: strs(&[
                    "the surveyor's name and address (bound by the on-chain attestation, shown \
                     in the package)",
                    "source paths (only file names), ingest warnings, manifest.json `created`",
                ]),
            },
            reconstruction_hash: Coverage {
                files: strs(&[RECONSTRUCTION_JSON, SIMULATION_JSON]),
                covers: vec![
                    "every field but the excluded ones: terrain, raster extents, trees, pipes, \
                     options, generator (tool version), schema version"
                        .into(),
                    "simulation.json (when present): the year-0 inventory's year, area, region, \
                     root:shoot ratio and stand totals (biomass, carbon, CO2e)"
                        .into(),
                    format!(
                        "integers exactly; every other number rounded to the nearest multiple \
                         of {QUANTUM} (a millimetre for metres), halves away from zero"
                    ),
                    "as leaves — the view without its trees, each tree, the inventory — in RFC \
                     8785 canonical JSON, SHA-256 Merkle root (RFC 6962)"
                        .into(),
                ],
                excludes: vec![
                    format!(
                        "top-level {} (the run: device, timings, threads, host; schema 1 kept \
                         device and timings at the top level)",
                        keys("", &RUN_KEYS)
                    ),
                    format!(
                        "{} (where it was computed, not what was found)",
                        keys("options.", &OPTION_RUN_KEYS)
                    ),
                ],
            },
        }
    }
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

/// The surveyor as one display string: the on-chain address (EIP-55) when known, with the
/// person's name in front when both are given (`"J. Doe, PLS 1234 (0xAb…)"`). Not hashed
/// since fingerprint schema 2: the attestation binds the surveyor's key on chain, and the
/// package shows name and address.
pub fn surveyor_identity(address: Option<Address>, name: Option<&str>) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match (name, address) {
        (Some(n), Some(a)) => Some(format!("{n} ({})", a.to_checksum(None))),
        (None, Some(a)) => Some(a.to_checksum(None)),
        (Some(n), None) => Some(n.to_string()),
        (None, None) => None,
    }
}

/// What the fingerprint and the thumbnail read of `cloud.laz`: positions (always decoded) and
/// colour. The cloud root covers nothing else ([`Covers::current`]), so the other attributes'
/// LAZ layers are not decompressed (a third less decoding and two thirds less memory for a
/// point format 6 cloud with GPS time and extra bytes).
pub const FINGERPRINT_FIELDS: Fields = Fields {
    rgb: true,
    ..Fields::NONE
};

/// Read `cloud.laz` as stored — its [`FINGERPRINT_FIELDS`] — with the manifest's provenance
/// (the original sources) attached.
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
    let opts = ReadOptions {
        fields: FINGERPRINT_FIELDS,
        ..ReadOptions::default()
    };
    let mut cloud = capture::read(&path, &opts, progress, cancel)?;
    cloud.provenance.sources = manifest.sources.clone();
    cloud.provenance.warnings = manifest.warnings.clone();
    if cloud.crs.is_unknown() {
        cloud.crs = manifest.crs.clone();
    }
    Ok(cloud)
}

/// `reconstruction.json` as JSON (the reconstruction hash covers its asset view,
/// [`crate::fingerprint::reconstruction_view`]).
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
/// reconstruction JSON (`reconstruction.json` as read; hashed through its asset view).
pub fn fingerprint_cloud(
    cloud: &PointCloud,
    reconstruction: &serde_json::Value,
    inventory: Option<&serde_json::Value>,
) -> PackageResult<(ModelFingerprint, CloudFingerprint, CaptureMetadata)> {
    let capture = CaptureMetadata::from_cloud(cloud)?;
    let (cloud_fp, _tree) = cloud_fingerprint(cloud, &FingerprintOptions::default())?;
    let model = ModelFingerprint::combine(
        cloud_fp.root,
        capture.hash()?,
        asset_root(reconstruction, inventory)?,
    );
    Ok((model, cloud_fp, capture))
}

/// Compute a project's fingerprint (does not write `fingerprint.json`; see
/// [`ProjectFingerprint::write`]).
pub fn compute_project_fingerprint(
    project: &Path,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> PackageResult<ProjectFingerprint> {
    let manifest = capture::project::open(project)?;
    let reconstruction = read_reconstruction_json(project)?;
    let cloud = read_cloud(project, &manifest, progress, cancel)?;
    cancel.check()?;
    project_fingerprint(project, &cloud, &reconstruction)
}

/// [`compute_project_fingerprint`] with the inputs already read.
pub(crate) fn project_fingerprint(
    project: &Path,
    cloud: &PointCloud,
    reconstruction: &serde_json::Value,
) -> PackageResult<ProjectFingerprint> {
    let inventory = read_inventory_view(project)?;
    let (fingerprint, cloud_fp, capture) =
        fingerprint_cloud(cloud, reconstruction, inventory.as_ref())?;
    Ok(ProjectFingerprint {
        schema_version: FINGERPRINT_SCHEMA_VERSION,
        model_0x: fingerprint.model_hex0x(),
        fingerprint,
        covers: Covers::current(&cloud_fp),
        cloud: cloud_fp,
        capture,
        inputs: input_hashes(
            project,
            &[MANIFEST, CLOUD, RECONSTRUCTION_JSON, SIMULATION_JSON],
        )?,
    })
}

/// SHA-256 of each named project file that exists.
/// A resurvey's link to its predecessor, as token attributes: the previous survey's
/// fingerprint, the drift summary's SHA-256 (what the resurvey puts on chain), the elapsed years
/// and the growth and stock drift flags. Read through a small view of `resurvey.json`, so the
/// mint crate does not link the resurvey analysis.
pub(crate) fn resurvey_attributes(project: &Path) -> PackageResult<Vec<Attribute>> {
    #[derive(Deserialize)]
    struct Flags {
        growth_flag: String,
        stock_flag: String,
    }
    #[derive(Deserialize)]
    struct View {
        elapsed_years: f64,
        summary_sha256: String,
        summary: Flags,
        previous: Previous,
    }
    #[derive(Deserialize)]
    struct Previous {
        fingerprint: Option<String>,
    }
    let path = project.join(capture::layout::RESURVEY_JSON);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let v: View = read_json(&path)?;
    let mut out = vec![
        Attribute::text("Drift summary SHA-256", format!("0x{}", v.summary_sha256)),
        Attribute::text(
            "Years since previous survey",
            format!("{:.2}", v.elapsed_years),
        ),
        Attribute::text(
            "Growth vs projection",
            v.summary.growth_flag.replace('_', " "),
        ),
        Attribute::text(
            "Stock vs projection",
            v.summary.stock_flag.replace('_', " "),
        ),
    ];
    if let Some(fp) = v.previous.fingerprint {
        out.push(Attribute::text("Previous survey", fp));
    }
    Ok(out)
}

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
pub struct ReconstructionView {
    pub trees: Vec<TreeView>,
    pub pipes: Vec<PipeView>,
    pub terrain: TerrainView,
    /// The tool version that reconstructed the asset (schema 2; empty before).
    pub generator: String,
    /// Run facts (schema 2): only the device is shown.
    pub run: RunView,
    /// Schema 1 kept the device at the top level.
    pub device: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunView {
    pub device: String,
    /// SHA-256 of the files the reconstruct run wrote beside `reconstruction.json`.
    pub outputs: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TreeView {
    pub x: f64,
    pub y: f64,
    pub height_m: f64,
    pub crown_area_m2: f64,
    pub dbh_cm: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PipeView {
    pub length_m: f64,
    pub radius_m: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TerrainView {
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

    /// Where the reconstruction ran (`run.device`, or schema 1's top-level `device`).
    pub fn device(&self) -> &str {
        if self.run.device.is_empty() {
            &self.device
        } else {
            &self.run.device
        }
    }
}

/// `simulation.json`, when the project has one.
/// The [`inventory_view`] of the project's `simulation.json`, when it has one: the year-0
/// carbon the fingerprint covers.
pub fn read_inventory_view(project: &Path) -> PackageResult<Option<serde_json::Value>> {
    let path = project.join(SIMULATION_JSON);
    if !path.is_file() {
        return Ok(None);
    }
    let v: serde_json::Value = read_json(&path)?;
    Ok(inventory_view(&v))
}

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

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> PackageResult<T> {
    let bytes = std::fs::read(path).map_err(|e| PackageError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| PackageError::invalid(path, e.to_string()))
}
