//! `verify`: recompute everything a package claims and say exactly what differs.
//!
//! A lender holds three things that should agree: the package (a local folder or the pinned
//! IPFS folder behind a gateway), the project it was built from (optional — the surveyor's
//! files), and the token on chain (optional). [`verify`] never trusts one to check another
//! without recomputing:
//!
//! 1. **metadata.json** is the root of trust. Its `twinmint` object must be self-consistent:
//!    the model fingerprint is keccak-256 of its three parts, the capture hash is the SHA-256 of
//!    the capture metadata it carries, `image` / `animation_url` name the files' CIDs, and the
//!    `Fingerprint` attribute is the model fingerprint.
//! 2. **Every file** it lists (`thumbnail.png`, `model.glb`, `report.html`) is re-hashed: size,
//!    SHA-256 and IPFS CID.
//! 3. **cids.json** (always in a local package; optional behind a gateway, since the pinned
//!    folder does not contain it): every CID, the folder's directory CID (recomputed over the four
//!    content files) and the token URI.
//! 4. **Project** (when given): the model fingerprint is recomputed from `cloud.laz`, the
//!    manifest and `reconstruction.json` with the same code `twinmint fingerprint` uses; each
//!    part that differs is named (cloud root, capture hash — with the capture metadata fields
//!    that changed —, reconstruction hash), and every project file is compared with the hash the
//!    package recorded.
//! 5. **Chain** (when given, as [`ChainReads`]): the package's fingerprint must be in the
//!    token's history and be its latest survey; the token URI must be this package's.
//!
//! The result is a [`VerifyReport`]: a list of checks, each passed or with the expected and
//! actual values. `verify` itself never fails; a file that cannot be read is a check that did
//! not pass.

mod sealed;

pub use sealed::{is_sealed, verify_sealed, verify_sealed_into};

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chain::{Address, B256, Chain, ChainResult};
use crate::cid::{Cid, ImportOptions};
use crate::fingerprint::{CaptureMetadata, ModelFingerprint};
use crate::package::project::{self as proj, RECONSTRUCTION_JSON};
use crate::package::{
    CIDS_JSON, CONTENT_FILES, METADATA_JSON, MODEL_GLB, PackageManifest, PackagedFile, REPORT_HTML,
    THUMBNAIL_PNG, TokenMetadata, packaged_file, token_uri,
};

/// Where the package is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageSource {
    /// A package folder on disk (`PROJECT/package`).
    Dir(PathBuf),
    /// The pinned folder behind an HTTP(S) IPFS gateway, e.g.
    /// `https://ipfs.io/ipfs/<directory CID>`; files are fetched as `<base>/<name>`.
    Url(String),
}

impl PackageSource {
    /// `http://…` and `https://…` are gateway URLs; anything else is a path.
    pub fn parse(s: &str) -> Self {
        if s.starts_with("http://") || s.starts_with("https://") {
            PackageSource::Url(s.trim_end_matches('/').to_string())
        } else {
            PackageSource::Dir(PathBuf::from(s))
        }
    }

    fn describe(&self) -> String {
        match self {
            PackageSource::Dir(p) => p.display().to_string(),
            PackageSource::Url(u) => u.clone(),
        }
    }

    /// The CID in a gateway URL's path (`…/ipfs/<cid>`), if any.
    fn url_cid(&self) -> Option<Cid> {
        let PackageSource::Url(u) = self else {
            return None;
        };
        let (_, rest) = u.split_once("/ipfs/")?;
        rest.split('/').next()?.parse().ok()
    }
}

/// What the chain says about one token (read beforehand, so `verify` stays synchronous and
/// testable without a node).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReads {
    pub chain_id: u64,
    pub contract: Address,
    pub token_id: u64,
    /// `fingerprintOf(token)`: the latest survey.
    pub fingerprint: B256,
    /// `history(token)`, oldest first.
    pub history: Vec<B256>,
    /// `tokenURI(token)`.
    pub token_uri: String,
    pub owner: Address,
    /// The latest survey's scan (cloud Merkle) root.
    pub scan_root: B256,
    /// The latest survey's land footprint on chain.
    pub footprint: crate::chain::FootprintInfo,
    /// Every survey, oldest first (fingerprint, surveyor, time, drift summary hash).
    pub surveys: Vec<crate::chain::SurveyEntry>,
}

impl ChainReads {
    /// Read a token's fingerprint, history, URI and owner.
    pub async fn fetch(chain: &Chain, token_id: u64) -> ChainResult<Self> {
        let surveys = chain.surveys(token_id).await?;
        Ok(ChainReads {
            chain_id: chain.chain_id(),
            contract: chain.contract_address()?,
            token_id,
            fingerprint: chain.fingerprint_of(token_id).await?,
            history: chain.history(token_id).await?,
            token_uri: chain.token_uri(token_id).await?,
            owner: chain.owner_of(token_id).await?,
            scan_root: surveys.last().map(|s| s.scan_root).unwrap_or_default(),
            footprint: chain.footprint_of(token_id).await?,
            surveys,
        })
    }
}

/// Outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Status {
    Ok,
    /// The recomputed value is not the recorded one.
    Mismatch {
        expected: String,
        actual: String,
    },
    /// A file the package or project should have is not there.
    Missing,
    /// The check could not be made (unreadable file, bad JSON, network error).
    Error {
        message: String,
    },
    /// For information; not a difference.
    Note {
        message: String,
    },
}

/// One comparison: `subject` is a file name (`report.html`), `fingerprint`, or `chain`;
/// `what` says which value (`sha256`, `cid`, `cloud root`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub subject: String,
    pub what: String,
    #[serde(flatten)]
    pub status: Status,
}

impl Check {
    /// Passed or informational.
    pub fn passed(&self) -> bool {
        matches!(self.status, Status::Ok | Status::Note { .. })
    }
}

/// Everything [`verify`] compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The package as given.
    pub package: String,
    pub project: Option<PathBuf>,
    /// `chain_id:contract#token`, when checked against a chain.
    pub chain: Option<String>,
    /// The model fingerprint the package claims (`0x…`), when its metadata could be read.
    pub fingerprint: Option<String>,
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// No check failed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(Check::passed)
    }

    /// The checks that failed.
    pub fn differences(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed())
    }

    /// Does a failed check name `subject` (a file name, `fingerprint`, `chain`)?
    pub fn names(&self, subject: &str) -> bool {
        self.differences().any(|c| c.subject == subject)
    }

    fn push(&mut self, subject: &str, what: &str, status: Status) {
        self.checks.push(Check {
            subject: subject.to_string(),
            what: what.to_string(),
            status,
        });
    }

    fn compare(&mut self, subject: &str, what: &str, expected: &str, actual: &str) {
        let status = if expected == actual {
            Status::Ok
        } else {
            Status::Mismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            }
        };
        self.push(subject, what, status);
    }

    fn error(&mut self, subject: &str, what: &str, message: impl fmt::Display) {
        self.push(
            subject,
            what,
            Status::Error {
                message: message.to_string(),
            },
        );
    }

    fn note(&mut self, subject: &str, what: &str, message: impl Into<String>) {
        self.push(
            subject,
            what,
            Status::Note {
                message: message.into(),
            },
        );
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "package: {}", self.package)?;
        if let Some(p) = &self.project {
            writeln!(f, "project: {}", p.display())?;
        }
        if let Some(c) = &self.chain {
            writeln!(f, "chain:   {c}")?;
        }
        if let Some(fp) = &self.fingerprint {
            writeln!(f, "fingerprint: {fp}")?;
        }
        for c in &self.checks {
            match &c.status {
                Status::Ok => {}
                Status::Note { message } => {
                    writeln!(f, "  note  {} {}: {message}", c.subject, c.what)?
                }
                Status::Mismatch { expected, actual } => writeln!(
                    f,
                    "  DIFF  {}: {} differs\n          expected {expected}\n          actual   {actual}",
                    c.subject, c.what
                )?,
                Status::Missing => writeln!(f, "  MISS  {}: {} not found", c.subject, c.what)?,
                Status::Error { message } => {
                    writeln!(f, "  FAIL  {} {}: {message}", c.subject, c.what)?
                }
            }
        }
        let diffs = self.differences().count();
        let passed = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Ok)
            .count();
        if diffs == 0 {
            write!(f, "verified: {passed} checks passed, nothing differs")
        } else {
            write!(
                f,
                "NOT verified: {diffs} difference{} ({passed} checks passed)",
                if diffs == 1 { "" } else { "s" }
            )
        }
    }
}

/// Recompute every hash, CID and (with `project`) the fingerprint, compare with the package's
/// records and (with `chain`) the token. See the module docs. Fetching from a gateway runs its
/// own small runtime: call from synchronous code, not from inside an async runtime.
pub fn verify(
    package: &PackageSource,
    project: Option<&Path>,
    chain: Option<&ChainReads>,
) -> VerifyReport {
    let mut report = VerifyReport {
        package: package.describe(),
        project: project.map(Path::to_path_buf),
        chain: chain.map(|c| format!("{}:{}#{}", c.chain_id, c.contract, c.token_id)),
        fingerprint: None,
        checks: Vec::new(),
    };
    // An interrupted multi-file commit is finished or rolled back before anything is read, so
    // the verdict is about the project's old or new complete state (capture::commit).
    let package_project = match package {
        PackageSource::Dir(d) => d
            .parent()
            .filter(|p| p.join(capture::project::MANIFEST).is_file()),
        PackageSource::Url(_) => None,
    };
    for root in project.into_iter().chain(package_project) {
        if let Err(e) = capture::commit::recover(root) {
            report.error("project", "recover", e);
        }
    }
    let store = match Store::open(package) {
        Ok(s) => s,
        Err(e) => {
            report.error("package", "fetch", e);
            return report;
        }
    };

    // ------------------------------------------------------------------ metadata.json
    let mut meta_blob: Option<Blob> = None;
    let meta: Option<TokenMetadata> = match store.get(METADATA_JSON) {
        Ok(Some(file)) => {
            let parsed = serde_json::from_slice::<TokenMetadata>(&file.bytes());
            meta_blob = Some(file);
            match parsed {
                Ok(m) => Some(m),
                Err(e) => {
                    report.error(
                        METADATA_JSON,
                        "parse",
                        format!("not TwinMint metadata: {e}"),
                    );
                    None
                }
            }
        }
        Ok(None) => {
            report.push(METADATA_JSON, "file", Status::Missing);
            None
        }
        Err(e) => {
            report.error(METADATA_JSON, "fetch", e);
            None
        }
    };
    if let Some(m) = &meta {
        report.fingerprint = Some(m.twinmint.fingerprint.model_hex0x());
        self_consistency(&mut report, m);
    }

    // ------------------------------------------------------------------ content files
    let mut actual: BTreeMap<String, PackagedFile> = BTreeMap::new();
    let mut fetched: BTreeMap<String, Blob> = BTreeMap::new();
    for name in CONTENT_FILES {
        // metadata.json was fetched above; fetch nothing twice.
        let got = if name == METADATA_JSON {
            Ok(meta_blob.take())
        } else {
            store.get(name)
        };
        match got {
            Ok(Some(blob)) => match blob.packaged() {
                Ok(pf) => {
                    actual.insert(name.to_string(), pf);
                    fetched.insert(name.to_string(), blob);
                }
                Err(e) => report.error(name, "read", e),
            },
            Ok(None) if name == METADATA_JSON => {} // already reported
            Ok(None) => report.push(name, "file", Status::Missing),
            Err(e) => report.error(name, "fetch", e),
        }
    }
    if let Some(m) = &meta {
        for (name, rec) in &m.twinmint.files {
            if let Some(a) = actual.get(name) {
                compare_file(&mut report, name, rec, a, "metadata.json");
            } else if !CONTENT_FILES.contains(&name.as_str()) {
                report.note(
                    name,
                    "file",
                    "listed in metadata.json but not a package file",
                );
            }
        }
    }

    // ------------------------------------------------------------------ directory CID
    let directory = if fetched.len() == CONTENT_FILES.len() {
        match directory_cid(&fetched) {
            Ok(c) => Some(c),
            Err(e) => {
                report.error("package", "directory CID", e);
                None
            }
        }
    } else {
        None
    };
    if let (Some(url_cid), Some(dir)) = (package.url_cid(), &directory) {
        report.compare(
            "package",
            "directory CID (gateway URL)",
            &url_cid.to_string(),
            &dir.to_string(),
        );
    }

    // ------------------------------------------------------------------ cids.json
    let cids: Option<PackageManifest> = match store.get(CIDS_JSON) {
        Ok(Some(blob)) => match serde_json::from_slice(&blob.bytes()) {
            Ok(c) => Some(c),
            Err(e) => {
                report.error(CIDS_JSON, "parse", e);
                None
            }
        },
        Ok(None) if matches!(package, PackageSource::Url(_)) => {
            report.note(
                CIDS_JSON,
                "file",
                "not served (the pinned folder holds only the content files)",
            );
            None
        }
        Ok(None) => {
            report.push(CIDS_JSON, "file", Status::Missing);
            None
        }
        Err(e) => {
            report.error(CIDS_JSON, "fetch", e);
            None
        }
    };
    if let Some(c) = &cids {
        for (name, rec) in &c.files {
            if let Some(a) = actual.get(name) {
                compare_file(&mut report, name, rec, a, "cids.json");
            }
        }
        if let Some(dir) = &directory {
            report.compare(
                CIDS_JSON,
                "directory CID",
                &c.directory.to_string(),
                &dir.to_string(),
            );
            report.compare(CIDS_JSON, "token URI", &c.token_uri, &token_uri(dir));
        }
        if let Some(m) = &meta {
            report.compare(
                CIDS_JSON,
                "fingerprint",
                &c.fingerprint,
                &m.twinmint.fingerprint.model_hex0x(),
            );
        }
    }
    if let PackageSource::Dir(dir) = package {
        extra_files(&mut report, dir);
    }

    // ------------------------------------------------------------------ project
    let mut project_fp: Option<ModelFingerprint> = None;
    if let Some(p) = project {
        project_fp = check_project(&mut report, p, meta.as_ref());
    }

    // ------------------------------------------------------------------ chain
    if let Some(c) = chain {
        check_chain(
            &mut report,
            c,
            meta.as_ref(),
            project_fp.as_ref(),
            directory.as_ref(),
            cids.as_ref(),
        );
        check_land(&mut report, c, meta.as_ref(), project_fp.as_ref(), project);
    }
    report
}

/// Checks the metadata can make about itself.
fn self_consistency(report: &mut VerifyReport, m: &TokenMetadata) {
    let t = &m.twinmint;
    let fp = &t.fingerprint;
    check_combined(report, fp);
    match t.capture.hash() {
        Ok(h) => report.compare(
            METADATA_JSON,
            "capture hash of the capture metadata",
            &hex::encode(fp.capture_hash),
            &hex::encode(h),
        ),
        Err(e) => report.error(METADATA_JSON, "capture metadata", e),
    }
    if let Some(a) = m.attributes.iter().find(|a| a.trait_type == "Fingerprint") {
        report.compare(
            METADATA_JSON,
            "Fingerprint attribute",
            &fp.model_hex0x(),
            a.value.as_str().unwrap_or_default(),
        );
    }
    for (field, uri, file) in [
        ("image", &m.image, THUMBNAIL_PNG),
        ("animation_url", &m.animation_url, MODEL_GLB),
    ] {
        match t.files.get(file) {
            Some(f) => report.compare(METADATA_JSON, field, &f.ipfs_uri(), uri),
            None => report.error(
                METADATA_JSON,
                field,
                format!("{file} is not listed in twinmint.files"),
            ),
        }
    }
    if !t.files.contains_key(REPORT_HTML) {
        report.error(METADATA_JSON, "twinmint.files", "report.html is not listed");
    }
}

/// The metadata's model fingerprint is keccak-256 of the three parts it lists.
fn check_combined(report: &mut VerifyReport, fp: &ModelFingerprint) {
    let combined =
        ModelFingerprint::combine(fp.cloud_root, fp.capture_hash, fp.reconstruction_hash);
    report.compare(
        METADATA_JSON,
        "model fingerprint = keccak256(cloud root ‖ capture hash ‖ reconstruction hash)",
        &fp.model_hex0x(),
        &combined.model_hex0x(),
    );
}

/// Size, SHA-256 and CID of one file against a record.
fn compare_file(
    report: &mut VerifyReport,
    name: &str,
    recorded: &PackagedFile,
    actual: &PackagedFile,
    source: &str,
) {
    report.compare(
        name,
        &format!("size (vs {source})"),
        &recorded.bytes.to_string(),
        &actual.bytes.to_string(),
    );
    report.compare(
        name,
        &format!("sha256 (vs {source})"),
        &recorded.sha256,
        &actual.sha256,
    );
    report.compare(
        name,
        &format!("cid (vs {source})"),
        &recorded.cid.to_string(),
        &actual.cid.to_string(),
    );
}

/// Files in a local package folder that are not part of it.
fn extra_files(report: &mut VerifyReport, dir: &Path) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let mut extra: Vec<String> = list
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != CIDS_JSON && !CONTENT_FILES.contains(&n.as_str()))
        .collect();
    extra.sort();
    for n in extra {
        report.note(
            &n,
            "file",
            "not part of the package (not covered by any CID or hash)",
        );
    }
}

/// Recompute the project's fingerprint and compare it, part by part, with the package's.
fn check_project(
    report: &mut VerifyReport,
    project: &Path,
    meta: Option<&TokenMetadata>,
) -> Option<ModelFingerprint> {
    let manifest = match capture::project::open(project) {
        Ok(m) => m,
        Err(e) => {
            report.error("project", "manifest.json", e);
            return None;
        }
    };
    // Each project file against the hash the package recorded, and cloud.laz against the
    // manifest — so a changed input is named even before the fingerprint says so.
    if let Some(m) = meta {
        for (name, sha) in &m.twinmint.project {
            let p = project.join(name);
            if !p.is_file() {
                report.push(name, "project file", Status::Missing);
                continue;
            }
            match capture::hash::sha256_file(&p) {
                Ok((actual, _)) => report.compare(name, "sha256 (vs metadata.json)", sha, &actual),
                Err(e) => report.error(name, "sha256", e),
            }
        }
    }
    if let Some(entry) = manifest.files.get(capture::project::CLOUD) {
        match capture::hash::sha256_file(&project.join(capture::project::CLOUD)) {
            Ok((actual, _)) => report.compare(
                capture::project::CLOUD,
                "sha256 (vs manifest.json)",
                &entry.sha256,
                &actual,
            ),
            Err(e) => report.error(capture::project::CLOUD, "sha256", e),
        }
    }

    let recon = match proj::read_reconstruction_json(project) {
        Ok(r) => r,
        Err(e) => {
            report.error(RECONSTRUCTION_JSON, "read", e);
            return None;
        }
    };
    // The files the reconstruct run wrote beside reconstruction.json, by the hashes it recorded:
    // a run cut short leaves another run's rasters or model here.
    if let Some(outputs) = recon.pointer("/run/outputs").and_then(|v| v.as_object()) {
        for (name, sha) in outputs {
            let Some(sha) = sha.as_str() else { continue };
            match capture::hash::sha256_file(&project.join(name)) {
                Ok((actual, _)) => report.compare(
                    name,
                    "sha256 (vs reconstruction.json run.outputs)",
                    sha,
                    &actual,
                ),
                Err(e) => report.error(name, "sha256", e),
            }
        }
    }
    let cloud = match proj::read_cloud(
        project,
        &manifest,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    ) {
        Ok(c) => c,
        Err(e) => {
            report.error(capture::project::CLOUD, "read", e);
            return None;
        }
    };
    let inventory = match proj::read_inventory_view(project) {
        Ok(v) => v,
        Err(e) => {
            report.error(proj::SIMULATION_JSON, "read", e);
            return None;
        }
    };
    let (fp, _cloud_fp, capture) = match proj::fingerprint_cloud(&cloud, &recon, inventory.as_ref())
    {
        Ok(x) => x,
        Err(e) => {
            report.error("fingerprint", "recompute", e);
            return None;
        }
    };
    let Some(m) = meta else {
        report.note(
            "fingerprint",
            "project",
            format!("recomputed {} (no metadata to compare)", fp.model_hex0x()),
        );
        return Some(fp);
    };
    let claimed = &m.twinmint.fingerprint;
    report.compare(
        "fingerprint",
        "cloud root (cloud.laz)",
        &hex::encode(claimed.cloud_root),
        &hex::encode(fp.cloud_root),
    );
    let changed = changed_fields(&m.twinmint.capture, &capture);
    report.compare(
        "fingerprint",
        &if changed.is_empty() {
            "capture hash (manifest sources and cloud bounds)".to_string()
        } else {
            format!("capture hash (changed: {})", changed.join(", "))
        },
        &hex::encode(claimed.capture_hash),
        &hex::encode(fp.capture_hash),
    );
    report.compare(
        "fingerprint",
        "reconstruction hash (reconstruction.json without run facts, year-0 inventory of simulation.json)",
        &hex::encode(claimed.reconstruction_hash),
        &hex::encode(fp.reconstruction_hash),
    );
    report.compare(
        "fingerprint",
        "model fingerprint",
        &claimed.model_hex0x(),
        &fp.model_hex0x(),
    );
    Some(fp)
}

/// Top-level capture metadata fields whose values differ.
fn changed_fields(a: &CaptureMetadata, b: &CaptureMetadata) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// The token's survey timeline, one line each, and a resurvey package's drift summary hash
/// against the one its survey carries on chain.
fn check_timeline(report: &mut VerifyReport, c: &ChainReads, meta: Option<&TokenMetadata>) {
    let n = c.surveys.len();
    for (i, s) in c.surveys.iter().enumerate() {
        let drift = if s.drift_hash == B256::ZERO {
            String::new()
        } else {
            format!(", drift summary {}", s.drift_hash)
        };
        report.push(
            "chain",
            &format!("survey {} of {n}", i + 1),
            Status::Note {
                message: format!(
                    "{} by {} at {}{drift}",
                    s.fingerprint,
                    s.surveyor,
                    crate::chain::date(s.timestamp)
                ),
            },
        );
    }
    let Some(m) = meta else { return };
    let Some(attr) = m
        .attributes
        .iter()
        .find(|a| a.trait_type == "Drift summary SHA-256")
    else {
        return;
    };
    let ours = B256::from(m.twinmint.fingerprint.model);
    if let Some(s) = c.surveys.iter().find(|s| s.fingerprint == ours) {
        report.compare(
            "chain",
            "drift summary SHA-256 (on chain vs the package)",
            &s.drift_hash.to_string(),
            attr.value.as_str().unwrap_or_default(),
        );
    }
}

fn check_chain(
    report: &mut VerifyReport,
    c: &ChainReads,
    meta: Option<&TokenMetadata>,
    project_fp: Option<&ModelFingerprint>,
    directory: Option<&Cid>,
    cids: Option<&PackageManifest>,
) {
    let subject = "chain";
    let latest = c.fingerprint.to_string();
    if let Some(m) = meta {
        let ours = B256::from(m.twinmint.fingerprint.model);
        let what = format!("token {} fingerprint", c.token_id);
        match c.history.iter().position(|h| *h == ours) {
            Some(i) if i + 1 == c.history.len() => report.compare(subject, &what, &latest, &latest),
            Some(i) => report.push(
                subject,
                &format!(
                    "{what} (the package is survey {} of {}; a resurvey superseded it)",
                    i + 1,
                    c.history.len()
                ),
                Status::Mismatch {
                    expected: latest.clone(),
                    actual: ours.to_string(),
                },
            ),
            None => report.push(
                subject,
                &format!("{what} (not in the token's history)"),
                Status::Mismatch {
                    expected: latest.clone(),
                    actual: ours.to_string(),
                },
            ),
        }
    }
    check_timeline(report, c, meta);
    if let Some(fp) = project_fp {
        report.compare(
            subject,
            &format!("token {} fingerprint vs the project", c.token_id),
            &latest,
            &B256::from(fp.model).to_string(),
        );
    }
    let expected_uri = directory
        .map(token_uri)
        .or_else(|| cids.map(|c| c.token_uri.clone()));
    match expected_uri {
        Some(u) => report.compare(
            subject,
            &format!("token {} URI", c.token_id),
            &c.token_uri,
            &u,
        ),
        None => report.note(
            subject,
            "token URI",
            format!("{} (no package folder CID to compare)", c.token_uri),
        ),
    }
}

/// The token's scan root against the package's and the project's cloud root, and its land
/// footprint against the project's `footprint.json` (recomputed root and cell count): what
/// makes the asset unique on chain is checkable by anyone holding the project.
fn check_land(
    report: &mut VerifyReport,
    c: &ChainReads,
    meta: Option<&TokenMetadata>,
    project_fp: Option<&ModelFingerprint>,
    project: Option<&Path>,
) {
    let subject = "chain";
    let on_chain = c.scan_root.to_string();
    if let Some(m) = meta {
        report.compare(
            subject,
            &format!("token {} scan root vs the package's cloud root", c.token_id),
            &on_chain,
            &B256::from(m.twinmint.fingerprint.cloud_root).to_string(),
        );
    }
    if let Some(fp) = project_fp {
        report.compare(
            subject,
            &format!("token {} scan root vs the project's cloud", c.token_id),
            &on_chain,
            &B256::from(fp.cloud_root).to_string(),
        );
    }
    let what = format!("token {} land footprint", c.token_id);
    if !c.footprint.complete() {
        report.push(
            subject,
            &format!("{what} (claimed on chain)"),
            Status::Mismatch {
                expected: format!("{} cells", c.footprint.expected),
                actual: format!("{} cells", c.footprint.claimed),
            },
        );
    }
    let Some(project) = project else { return };
    let path = project.join(crate::footprint::FOOTPRINT_JSON);
    if !path.is_file() {
        report.note(
            subject,
            &what,
            format!(
                "{} cells, root {} (the project has no footprint.json to compare)",
                c.footprint.expected, c.footprint.root
            ),
        );
        return;
    }
    match crate::footprint::Footprint::read(&path) {
        Ok(f) => report.compare(
            subject,
            &format!("{what} root vs footprint.json ({} cells)", f.cells.len()),
            &c.footprint.root.to_string(),
            &crate::chain::footprint_root(&f.cells).to_string(),
        ),
        Err(e) => report.error(crate::footprint::FOOTPRINT_JSON, "read", e),
    }
}

/// A package file: on disk (hashed streaming) or fetched into memory.
enum Blob {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

impl Blob {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Blob::Path(p) => std::fs::read(p).unwrap_or_default(),
            Blob::Bytes(b) => b.clone(),
        }
    }

    fn packaged(&self) -> Result<PackagedFile, String> {
        match self {
            Blob::Path(p) => packaged_file(p).map_err(|e| e.to_string()),
            Blob::Bytes(b) => PackagedFile::of_bytes(b).map_err(|e| e.to_string()),
        }
    }
}

/// Where files come from.
enum Store {
    Dir(PathBuf),
    Url {
        base: String,
        client: alloy::transports::http::reqwest::Client,
    },
}

impl Store {
    fn open(source: &PackageSource) -> Result<Store, String> {
        match source {
            PackageSource::Dir(d) if d.is_dir() => Ok(Store::Dir(d.clone())),
            PackageSource::Dir(d) => Err(format!("{}: no such package folder", d.display())),
            PackageSource::Url(u) => Ok(Store::Url {
                base: u.clone(),
                client: crate::http::client_builder()
                    .timeout(std::time::Duration::from_secs(120))
                    .build()
                    .map_err(|e| format!("cannot build an HTTP client: {e}"))?,
            }),
        }
    }

    /// `Ok(None)` when the file does not exist (HTTP 404).
    fn get(&self, name: &str) -> Result<Option<Blob>, String> {
        match self {
            Store::Dir(d) => {
                let p = d.join(name);
                Ok(p.is_file().then_some(Blob::Path(p)))
            }
            Store::Url { base, client } => {
                let url = format!("{base}/{name}");
                crate::chain::block_on(async {
                    let resp = client
                        .get(&url)
                        .send()
                        .await
                        .map_err(|e| format!("{url}: {e}"))?;
                    if resp.status().as_u16() == 404 {
                        return Ok(None);
                    }
                    if !resp.status().is_success() {
                        return Err(format!("{url}: HTTP {}", resp.status()));
                    }
                    let body = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
                    Ok(Some(Blob::Bytes(body.to_vec())))
                })
            }
        }
    }
}

/// The directory CID of the four content files, laid out alone in a temporary folder (linked
/// where possible, copied otherwise) so nothing else in the package folder counts.
fn directory_cid(files: &BTreeMap<String, Blob>) -> Result<Cid, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    for (name, blob) in files {
        let dst = tmp.path().join(name);
        match blob {
            Blob::Path(p) => {
                if std::fs::hard_link(p, &dst).is_err() {
                    std::fs::copy(p, &dst).map_err(|e| format!("{}: {e}", p.display()))?;
                }
            }
            Blob::Bytes(b) => std::fs::write(&dst, b).map_err(|e| format!("{name}: {e}"))?,
        }
    }
    crate::cid::import_dir(tmp.path(), &ImportOptions::default())
        .map(|d| d.root.cid)
        .map_err(|e| e.to_string())
}
