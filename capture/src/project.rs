//! The `*.twinmint` project folder every stage writes into.
//!
//! ```text
//! forest-a.twinmint/
//!   manifest.json   sources with SHA-256, CRS, origin, capture time, device, tool versions
//!   cloud.laz       the merged capture (LAS 1.4), readable by any LiDAR tool
//!   cameras.json    drone photo camera track, when photos were ingested
//! ```
//! A project is assembled in a hidden sibling folder and renamed into place, so a crash or a
//! cancel never leaves a half-written project.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cloud::{Bounds, PointCloud};
use crate::crs::Crs;
use crate::error::{CaptureError, Result};
use crate::hash::sha256_file;
use crate::las_io::{self, LasWriteOptions};
use crate::photos::{self, PhotoOptions};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::Source;
use crate::read::{ReadOptions, read};

/// Version of `manifest.json`'s layout; bumped on incompatible changes.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;
pub use crate::layout::{CAMERAS, CLOUD, MANIFEST};

/// Name and version of the tool that wrote a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn this() -> Self {
        ToolInfo {
            name: "twinmint-capture".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// A file the project holds, with its hash so later stages and the mint can verify it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub bytes: u64,
}

/// `manifest.json`: what the project is made of and where it sits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub name: String,
    pub created: DateTime<Utc>,
    pub tools: Vec<ToolInfo>,
    pub crs: Crs,
    /// The origin positions are stored relative to (absolute CRS coordinates).
    pub origin: [f64; 3],
    pub bounds: Bounds,
    pub point_count: u64,
    pub class_counts: BTreeMap<u8, u64>,
    /// Per-point attributes present in `cloud.laz`.
    pub attributes: Vec<String>,
    pub capture_start: Option<DateTime<Utc>>,
    pub sources: Vec<Source>,
    pub warnings: Vec<String>,
    /// Project files (relative name → hash), written last so it describes what is on disk.
    pub files: BTreeMap<String, FileEntry>,
}

/// Names of the attributes a cloud carries (for manifests and `info`).
pub fn attribute_names(c: &PointCloud) -> Vec<String> {
    let mut v = vec!["xyz".to_string()];
    let mut add = |present: bool, name: &str| {
        if present {
            v.push(name.to_string())
        }
    };
    add(c.intensity.is_some(), "intensity");
    add(c.return_number.is_some(), "return_number");
    add(c.number_of_returns.is_some(), "number_of_returns");
    add(c.classification.is_some(), "classification");
    add(c.flags.is_some(), "flags");
    add(c.scan_angle.is_some(), "scan_angle");
    add(c.user_data.is_some(), "user_data");
    add(c.point_source_id.is_some(), "point_source_id");
    add(c.rgb.is_some(), "rgb");
    add(c.nir.is_some(), "nir");
    add(c.gps_time.is_some(), "gps_time");
    add(c.normals.is_some(), "normals");
    for e in &c.extra {
        v.push(format!("extra:{}", e.name));
    }
    v
}

/// What happens while ingesting, for progress bars.
#[derive(Clone, Debug)]
pub enum IngestEvent {
    /// Starting source `index` of `count`.
    Source {
        index: usize,
        count: usize,
        path: PathBuf,
    },
    Progress(ProgressEvent),
    Writing {
        points: u64,
    },
}

/// Options for [`ingest`].
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    pub read: ReadOptions,
    /// Replace an existing project folder.
    pub overwrite: bool,
}

/// A sink adapter: forwards reader progress as [`IngestEvent::Progress`].
struct Forward<'a>(&'a mut (dyn FnMut(IngestEvent) + Send));
impl Progress for Forward<'_> {
    fn report(&mut self, event: ProgressEvent) {
        (self.0)(IngestEvent::Progress(event))
    }
}

/// Read `inputs` — scan files, and folders of drone photos — merge the scans into one cloud in
/// one CRS, and write a project folder at `dir` with `manifest.json`, `cloud.laz` and, when
/// photos were given, `cameras.json` (their EXIF GPS track in the project's CRS).
pub fn ingest(
    inputs: &[PathBuf],
    dir: &Path,
    opts: &IngestOptions,
    events: &mut (dyn FnMut(IngestEvent) + Send),
    cancel: &CancelToken,
) -> Result<Manifest> {
    let (merged, extra_files) = read_inputs(inputs, dir, opts, events, cancel)?;
    write_project(&merged, &extra_files, dir, opts.overwrite, events, cancel)
}

/// Extra project files beside the cloud: (name, bytes).
pub type ExtraFiles = Vec<(String, Vec<u8>)>;

/// The reading half of [`ingest`]: `inputs` merged into one cloud in one CRS, and the extra
/// project files (`cameras.json`) they bring, checked against the project folder `dir` they
/// are meant for but nothing written — for callers that transform the cloud before writing it
/// with [`write_project`] (a resurvey registers it to the previous survey first).
pub fn read_inputs(
    inputs: &[PathBuf],
    dir: &Path,
    opts: &IngestOptions,
    events: &mut (dyn FnMut(IngestEvent) + Send),
    cancel: &CancelToken,
) -> Result<(PointCloud, ExtraFiles)> {
    let (folders, files): (Vec<&PathBuf>, Vec<&PathBuf>) = inputs.iter().partition(|p| p.is_dir());
    if files.is_empty() {
        return Err(CaptureError::InvalidOption {
            option: "inputs",
            reason: "no scan files to ingest (photo folders accompany a dense cloud or mesh)"
                .into(),
        });
    }
    if let Some(reason) = input_inside(dir, inputs) {
        return Err(CaptureError::Write {
            path: dir.into(),
            reason,
        });
    }
    check_target(dir, opts.overwrite)?;
    check_distinct_paths(&files)?;
    let count = inputs.len();
    // SHA-256 of each scan read so far: the same bytes twice would double every point.
    let mut seen: Vec<(String, PathBuf)> = Vec::new();
    let mut merged = PointCloud::default();
    let mut project_crs: Option<(Crs, PathBuf)> = None;
    let mut warnings = Vec::new();
    for (index, path) in files.iter().enumerate() {
        events(IngestEvent::Source {
            index,
            count,
            path: path.to_path_buf(),
        });
        let cloud = read(path, &opts.read, &mut Forward(events), cancel)?;
        for src in &cloud.provenance.sources {
            if let Some((_, first)) = seen.iter().find(|(h, _)| *h == src.sha256) {
                return Err(duplicate_input(
                    path,
                    first,
                    "has the same content (SHA-256)",
                ));
            }
            seen.push((src.sha256.clone(), path.to_path_buf()));
        }
        if !cloud.crs.is_unknown() {
            match &project_crs {
                Some((crs, first)) if !crs.compatible(&cloud.crs) => {
                    return Err(CaptureError::CrsMismatch {
                        path: path.to_path_buf(),
                        expected: format!("{} from {}", crs.label(), first.display()),
                        found: cloud.crs.label(),
                    });
                }
                Some(_) => {}
                None => project_crs = Some((cloud.crs.clone(), path.to_path_buf())),
            }
        } else if files.len() > 1 {
            warnings.push(format!(
                "{}: no CRS; assumed to share the project's coordinates",
                path.display()
            ));
        }
        merged.append(cloud);
    }
    if let Some((crs, _)) = project_crs {
        merged.crs = crs;
    }
    let mut extra_files = Vec::new();
    if !folders.is_empty() {
        let popts = PhotoOptions {
            target_crs: (!merged.crs.is_unknown()).then(|| merged.crs.clone()),
            ..Default::default()
        };
        let mut photos = Vec::new();
        for (k, folder) in folders.iter().enumerate() {
            events(IngestEvent::Source {
                index: files.len() + k,
                count,
                path: folder.to_path_buf(),
            });
            let track = photos::read_folder(folder, &popts, &mut Forward(events), cancel)?;
            merged
                .provenance
                .sources
                .push(photos::to_source(&track, folder));
            warnings.extend(track.warnings.iter().cloned());
            photos.extend(track.photos);
        }
        let track = photos::build_track(photos, &popts);
        let bytes = serde_json::to_vec_pretty(&track).map_err(|e| CaptureError::Write {
            path: dir.join(CAMERAS),
            reason: e.to_string(),
        })?;
        extra_files.push((CAMERAS.to_string(), bytes));
    }
    merged.provenance.warnings.extend(warnings);
    Ok((merged, extra_files))
}

/// Refuse, before any work, a project folder `dir` that the inputs lie inside or that holds
/// something other than a project (see `ingest`'s rules); for callers that build the cloud
/// themselves (photogrammetry) and write it with [`write_project`] minutes later.
pub fn check_destination(dir: &Path, inputs: &[PathBuf], overwrite: bool) -> Result<()> {
    if let Some(reason) = input_inside(dir, inputs) {
        return Err(CaptureError::Write {
            path: dir.into(),
            reason,
        });
    }
    check_target(dir, overwrite)
}

/// Refusal for an input given twice: merging it would double its points.
fn duplicate_input(path: &Path, first: &Path, how: &str) -> CaptureError {
    CaptureError::InvalidOption {
        option: "inputs",
        reason: format!(
            "{} {how} as {}: ingesting it twice would double its points; give each scan once",
            path.display(),
            first.display()
        ),
    }
}

/// Refuse the same file given twice (by its canonical path) before anything is read.
fn check_distinct_paths(files: &[&PathBuf]) -> Result<()> {
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    for f in files {
        let canon = std::fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf());
        if let Some((_, first)) = seen.iter().find(|(c, _)| *c == canon) {
            return Err(duplicate_input(f, first, "is the same file"));
        }
        seen.push((canon, f));
    }
    Ok(())
}

/// What `dir` holds, for deciding whether a new project may take its place.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Absent,
    Project,
    EmptyFolder,
    File,
    OtherFolder,
}

fn target_kind(dir: &Path) -> Target {
    match std::fs::symlink_metadata(dir) {
        Err(_) => Target::Absent,
        Ok(m) if !m.is_dir() => Target::File,
        Ok(_) if dir.join(MANIFEST).is_file() => Target::Project,
        Ok(_) => match std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
            Ok(true) => Target::EmptyFolder,
            _ => Target::OtherFolder,
        },
    }
}

/// Refuse to write a project where it would destroy something that is not a project: `--force`
/// replaces only a TwinMint project (a folder with `manifest.json`) or an empty folder, never a
/// file, a folder of the user's own files, or a path without a folder name (`.`, `..`, `/`).
fn check_target(dir: &Path, overwrite: bool) -> Result<()> {
    let refuse = |reason: String| {
        Err(CaptureError::Write {
            path: dir.into(),
            reason,
        })
    };
    let named = dir.file_name().is_some_and(|n| n != "." && n != "..");
    if !named {
        return refuse(
            "give the project folder a name (e.g. -o forest.twinmint): a project is never written over the current or a parent folder".into(),
        );
    }
    match target_kind(dir) {
        Target::Absent => Ok(()),
        Target::Project if overwrite => Ok(()),
        Target::Project => refuse("project already exists (use --force to replace it)".into()),
        Target::EmptyFolder => Ok(()),
        Target::File => refuse(
            "is a file, not a project folder; refusing to replace it (choose another -o)".into(),
        ),
        Target::OtherFolder => refuse(
            "is a folder that is not a TwinMint project (no manifest.json) and not empty; refusing to replace it, even with --force".into(),
        ),
    }
}

/// `Some(reason)` when an input lies inside `dir` (or is `dir`): replacing the folder would
/// delete the scan being ingested.
#[doc(hidden)]
pub fn input_inside(dir: &Path, inputs: &[PathBuf]) -> Option<String> {
    let dir = std::fs::canonicalize(dir).ok()?;
    inputs.iter().find_map(|input| {
        let input = std::fs::canonicalize(input).ok()?;
        input.starts_with(&dir).then(|| {
            format!(
                "holds the input {}; a project is never written over its own scans (choose another -o)",
                input.display()
            )
        })
    })
}

/// How a project's `cloud.laz` is laid out.
#[derive(Clone, Debug, PartialEq)]
pub enum CloudLayout {
    /// LAZ 1.4 in fixed chunks, in the cloud's order (ingest, synth).
    Laz,
    /// COPC: the same LAZ, its chunks an octree a viewer streams ([`crate::copc`]; a survey's
    /// merged estate).
    Copc(crate::copc::CopcOptions),
}

/// Write a project folder for an already-assembled cloud (used by `ingest` and `synth`).
pub fn write_project(
    cloud: &PointCloud,
    extra_files: &[(String, Vec<u8>)],
    dir: &Path,
    overwrite: bool,
    events: &mut (dyn FnMut(IngestEvent) + Send),
    cancel: &CancelToken,
) -> Result<Manifest> {
    write_project_as(
        cloud,
        &CloudLayout::Laz,
        extra_files,
        dir,
        overwrite,
        events,
        cancel,
    )
}

/// [`write_project`] with the cloud's layout chosen.
pub fn write_project_as(
    cloud: &PointCloud,
    layout: &CloudLayout,
    extra_files: &[(String, Vec<u8>)],
    dir: &Path,
    overwrite: bool,
    events: &mut (dyn FnMut(IngestEvent) + Send),
    cancel: &CancelToken,
) -> Result<Manifest> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "project".into());
    check_target(dir, overwrite)?;
    std::fs::create_dir_all(parent).map_err(|e| CaptureError::write_io(parent, e))?;
    // What an earlier, killed run left beside the project goes first.
    crate::commit::sweep_siblings(dir, &mut crate::commit::Recovery::default());
    let staging = tempfile::Builder::new()
        .prefix(&crate::commit::staging_prefix(&name))
        .tempdir_in(parent)
        .map_err(|e| CaptureError::write_io(parent, e))?;
    // Held until the swap: tells a concurrent sweep this staging folder is alive.
    let _staging_lock = crate::commit::ProjectLock::acquire(staging.path())?;
    let cloud_path = staging.path().join(CLOUD);
    let points = cloud.len() as u64;
    events(IngestEvent::Writing { points });
    match layout {
        CloudLayout::Laz => las_io::write(
            cloud,
            &cloud_path,
            &LasWriteOptions::default(),
            &mut Forward(events),
            cancel,
        )?,
        CloudLayout::Copc(o) => {
            crate::copc::write_copc(cloud, &cloud_path, o, cancel)?;
        }
    }
    let mut files = BTreeMap::new();
    let (sha, bytes) = sha256_file(&cloud_path)?;
    files.insert(CLOUD.to_string(), FileEntry { sha256: sha, bytes });
    for (fname, data) in extra_files {
        let p = staging.path().join(fname);
        crate::atomic::write_bytes(&p, data)?;
        files.insert(
            fname.clone(),
            FileEntry {
                sha256: crate::hash::sha256_bytes(data),
                bytes: data.len() as u64,
            },
        );
    }
    let manifest = Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        name: name.trim_end_matches(".twinmint").to_string(),
        created: Utc::now(),
        tools: vec![ToolInfo::this()],
        crs: cloud.crs.clone(),
        origin: cloud.origin,
        bounds: cloud.bounds(),
        point_count: points,
        class_counts: cloud.class_counts(),
        attributes: attribute_names(cloud),
        capture_start: cloud.provenance.capture_start(),
        sources: cloud.provenance.sources.clone(),
        warnings: cloud.provenance.warnings.clone(),
        files,
    };
    crate::atomic::write_json(&staging.path().join(MANIFEST), &manifest)?;
    cancel.check()?;
    crate::atomic::publish_dir_mode(staging.path())?;
    crate::commit::sync_path(staging.path())?;
    let staged = staging.keep();
    let _target_lock = if target_kind(dir) != Target::Absent {
        // Checked again at the swap: something may have appeared while the cloud was written.
        let locked = check_target(dir, overwrite).and_then(|_| {
            if target_kind(dir) == Target::Project {
                crate::commit::ProjectLock::acquire(dir).map(Some)
            } else {
                Ok(None)
            }
        });
        match locked {
            Ok(l) => l,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(e);
            }
        }
    } else {
        None
    };
    if let Err(e) = crate::commit::swap_dir(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    Ok(manifest)
}

/// Read a project's manifest.
///
/// An interrupted multi-file commit is finished or rolled back first ([`crate::commit::recover`]),
/// so every verb sees the project's old or new complete state, never a mix.
pub fn open(dir: &Path) -> Result<Manifest> {
    crate::commit::recover(dir)?;
    let p = dir.join(MANIFEST);
    let bytes = std::fs::read(&p).map_err(|e| CaptureError::io(&p, e))?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| CaptureError::invalid(&p, "manifest", e.to_string()))?;
    if m.schema_version > MANIFEST_SCHEMA_VERSION {
        return Err(CaptureError::invalid(
            &p,
            "manifest",
            format!(
                "schema version {} is newer than this build understands ({MANIFEST_SCHEMA_VERSION})",
                m.schema_version
            ),
        ));
    }
    Ok(m)
}

/// Load a project's merged cloud, with the manifest's provenance attached, after checking the
/// file still matches the hash recorded in the manifest.
pub fn load_cloud(
    dir: &Path,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<(Manifest, PointCloud)> {
    let m = open(dir)?;
    let p = dir.join(CLOUD);
    if let Some(entry) = m.files.get(CLOUD) {
        let (sha, _) = sha256_file(&p)?;
        if sha != entry.sha256 {
            return Err(CaptureError::invalid(
                &p,
                "project",
                "cloud.laz no longer matches the SHA-256 in manifest.json",
            ));
        }
    }
    let mut c = read(&p, &ReadOptions::default(), progress, cancel)?;
    c.provenance.sources = m.sources.clone();
    c.provenance.warnings = m.warnings.clone();
    if c.crs.is_unknown() {
        c.crs = m.crs.clone();
    }
    Ok((m, c))
}
