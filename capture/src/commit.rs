//! Several files into a project as one unit: stage, journal, roll forward.
//!
//! A verb that writes more than one file into a project (reconstruct: rasters, model, classified
//! cloud and `reconstruction.json`; simulate: `simulation.json` and its tables; package:
//! `fingerprint.json` and `package/`) must leave either the old complete state or the new one,
//! whatever stops it — an error, Ctrl-C, SIGTERM from a scheduler, SIGKILL, a full disk or a
//! power cut. [`Commit`] does it the way databases do (SQLite's "hot journal", Hipp,
//! <https://www.sqlite.org/atomiccommit.html>, with a redo log rather than an undo log):
//!
//! 1. the new files are written (each fsynced) into a hidden `.twinmint-stage-*` folder inside
//!    the project, under an exclusive lock on `.twinmint.lock`;
//! 2. the **commit point** is the atomic write of `.twinmint-commit.json`, which names the staged
//!    files and the files to remove;
//! 3. the files are renamed into place, the journal is removed and the stage folder deleted.
//!
//! A run stopped before 2 leaves the old files untouched and a stale stage folder, which the
//! next [`recover`] deletes (roll back); a run stopped after 2 leaves the journal, and the next
//! [`recover`] finishes the renames (roll forward). Every verb opens a project through
//! [`crate::project::open`], which recovers first, so no reader ever sees a mix.
//!
//! Whole-project replacement (`ingest --force`) swaps the new folder with the old one in one
//! `renameat2(RENAME_EXCHANGE)` on Linux ([`swap_dir`]); the old project left under the staging
//! name is removed, now or by the next run ([`sweep_siblings`]).
//!
//! The lock is advisory (`flock`): it keeps two TwinMint processes from committing into one
//! project at once and tells [`recover`] whether a stage folder belongs to a live writer.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::{CaptureError, Result};

/// The lock file every writer holds while it stages and commits into a project.
pub const LOCK: &str = ".twinmint.lock";
/// The journal whose presence is the commit point.
pub const JOURNAL: &str = ".twinmint-commit.json";
const JOURNAL_TMP: &str = ".twinmint-commit.json.tmp";
#[doc(hidden)]
pub const STAGE_PREFIX: &str = ".twinmint-stage-";
const TRASH_PREFIX: &str = ".twinmint-trash-";
/// Temporary files of [`crate::atomic`] writes (`.twinmint-XXXX.part`).
const PART_PREFIX: &str = ".twinmint-";
const PART_SUFFIX: &str = ".part";
/// A single-file atomic write outside a [`Commit`] (e.g. `chain.json`) may be in flight in
/// another process without the lock; its temporary file is only swept once this old.
const STALE_PART_AGE: Duration = Duration::from_secs(60);

/// What the journal records: the stage folder (a name inside the project) and the entries to
/// put in place or remove.
#[derive(Debug, Serialize, Deserialize)]
#[doc(hidden)]
pub struct Journal {
    pub stage: String,
    pub put: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// An exclusive advisory lock on a project folder, released on drop (and by the kernel when the
/// process dies, however it dies).
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Take the lock on `dir`, or fail at once with [`CaptureError::Busy`] when another process
    /// holds it.
    pub fn acquire(dir: &Path) -> Result<ProjectLock> {
        match Self::try_acquire(dir)? {
            Some(l) => Ok(l),
            None => Err(CaptureError::Busy { path: dir.into() }),
        }
    }

    /// `None` when another process holds the lock.
    pub fn try_acquire(dir: &Path) -> Result<Option<ProjectLock>> {
        let p = dir.join(LOCK);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| CaptureError::write_io(&p, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ProjectLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(CaptureError::write_io(&p, e)),
        }
    }
}

/// A set of files being written into a project as one unit. Dropped without [`Commit::commit`]
/// (an error, a cancel), it deletes its stage folder and the project is as it was.
#[derive(Debug)]
pub struct Commit {
    dir: PathBuf,
    stage: PathBuf,
    put: Vec<String>,
    remove: Vec<String>,
    done: bool,
    _lock: ProjectLock,
}

impl Commit {
    /// Lock `dir`, finish or roll back any interrupted commit, and open a stage folder.
    pub fn begin(dir: &Path) -> Result<Commit> {
        let lock = ProjectLock::acquire(dir)?;
        recover_locked(dir)?;
        let stage = tempfile::Builder::new()
            .prefix(STAGE_PREFIX)
            .tempdir_in(dir)
            .map_err(|e| CaptureError::write_io(dir, e))?
            .keep();
        Ok(Commit {
            dir: dir.to_path_buf(),
            stage,
            put: Vec::new(),
            remove: Vec::new(),
            done: false,
            _lock: lock,
        })
    }

    /// Where to write the new `name` (a file or a folder directly inside the project); it
    /// replaces the project's `name` at commit.
    pub fn path(&mut self, name: &str) -> PathBuf {
        debug_assert!(valid_name(name), "{name}");
        if !self.put.iter().any(|n| n == name) {
            self.put.push(name.to_string());
        }
        self.remove.retain(|n| n != name);
        self.stage.join(name)
    }

    /// Remove the project's `name` at commit (an output the new run no longer makes).
    pub fn remove(&mut self, name: &str) {
        debug_assert!(valid_name(name), "{name}");
        if !self.put.iter().any(|n| n == name) && !self.remove.iter().any(|n| n == name) {
            self.remove.push(name.to_string());
        }
    }

    /// Make the staged files the project's, as one unit.
    pub fn commit(mut self) -> Result<()> {
        for name in &self.put {
            let p = self.stage.join(name);
            if !p.exists() {
                return Err(CaptureError::Write {
                    path: self.dir.join(name),
                    reason: "staged for commit but never written".into(),
                });
            }
            sync_path(&p)?;
        }
        sync_dir(&self.stage)?;
        let journal = Journal {
            stage: file_name(&self.stage),
            put: self.put.clone(),
            remove: self.remove.clone(),
        };
        write_journal(&self.dir, &journal)?;
        self.done = true;
        apply(&self.dir, &journal)
    }
}

impl Drop for Commit {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.stage);
        }
    }
}

/// What [`recover`] found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Entries an interrupted commit had not yet put in place, now put (roll forward).
    pub rolled_forward: Vec<String>,
    /// Stale stage, trash and temporary entries removed (roll back).
    pub removed: Vec<String>,
    /// Another process holds the project's lock: nothing was touched.
    pub busy: bool,
}

impl Recovery {
    /// Nothing needed doing.
    pub fn is_clean(&self) -> bool {
        self.rolled_forward.is_empty() && self.removed.is_empty() && !self.busy
    }
}

/// Finish an interrupted commit in `dir` or roll it back, and remove what interrupted runs left
/// (stage folders, temporary files, an ingest's staging sibling). Touches nothing while another
/// process holds the lock, and writes nothing (not even the lock file) when nothing needs doing.
pub fn recover(dir: &Path) -> Result<Recovery> {
    let mut rec = Recovery::default();
    sweep_siblings(dir, &mut rec);
    if !dir.is_dir() || !needs_recovery(dir) {
        return Ok(rec);
    }
    let lock = match ProjectLock::try_acquire(dir) {
        Ok(l) => l,
        // A read-only project cannot hold leftovers we could clear; only an unfinished
        // commit makes it unreadable.
        Err(e) if dir.join(JOURNAL).exists() => return Err(e),
        Err(_) => return Ok(rec),
    };
    match lock {
        None => {
            rec.busy = true;
            Ok(rec)
        }
        Some(_lock) => {
            let inner = recover_locked(dir)?;
            rec.rolled_forward = inner.rolled_forward;
            rec.removed.extend(inner.removed);
            Ok(rec)
        }
    }
}

#[doc(hidden)]
pub fn needs_recovery(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let n = e.file_name().to_string_lossy().to_string();
        n == JOURNAL || stale_candidate(&n)
    })
}

fn stale_candidate(n: &str) -> bool {
    n == JOURNAL_TMP
        || n.starts_with(STAGE_PREFIX)
        || n.starts_with(TRASH_PREFIX)
        || n.starts_with(".package.partial-")
        || n.starts_with(".package.old-")
        || (n.starts_with(PART_PREFIX) && n.ends_with(PART_SUFFIX))
}

/// Recovery with the lock held.
fn recover_locked(dir: &Path) -> Result<Recovery> {
    let mut rec = Recovery::default();
    let jp = dir.join(JOURNAL);
    if jp.exists() {
        let bytes = std::fs::read(&jp).map_err(|e| CaptureError::io(&jp, e))?;
        let journal: Journal = serde_json::from_slice(&bytes)
            .map_err(|e| CaptureError::invalid(&jp, "commit journal", e.to_string()))?;
        if !journal.stage.starts_with(STAGE_PREFIX)
            || !valid_name(&journal.stage)
            || !journal
                .put
                .iter()
                .chain(&journal.remove)
                .all(|n| valid_name(n))
        {
            return Err(CaptureError::invalid(
                &jp,
                "commit journal",
                "names a path outside the project",
            ));
        }
        let stage = dir.join(&journal.stage);
        rec.rolled_forward = journal
            .put
            .iter()
            .filter(|n| stage.join(n).exists())
            .cloned()
            .collect();
        apply(dir, &journal)?;
    }
    let entries = std::fs::read_dir(dir).map_err(|e| CaptureError::io(dir, e))?;
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if !stale_candidate(&n) {
            continue;
        }
        let p = e.path();
        let is_part = n.ends_with(PART_SUFFIX) && !n.starts_with(STAGE_PREFIX);
        if is_part && !older_than(&p, STALE_PART_AGE) {
            continue;
        }
        if remove_any(&p).is_ok() {
            rec.removed.push(n);
        }
    }
    Ok(rec)
}

/// Write the journal through its own temporary name (always stale when the lock is free, so
/// [`recover`] can drop it at once), fsync, rename: the rename is the commit point.
fn write_journal(dir: &Path, journal: &Journal) -> Result<()> {
    let tmp = dir.join(JOURNAL_TMP);
    let jp = dir.join(JOURNAL);
    let bytes = serde_json::to_vec_pretty(journal).map_err(|e| CaptureError::Write {
        path: jp.clone(),
        reason: e.to_string(),
    })?;
    {
        use std::io::Write;
        let mut f = File::create(&tmp).map_err(|e| CaptureError::write_io(&jp, e))?;
        f.write_all(&bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| CaptureError::write_io(&jp, e))?;
    }
    std::fs::rename(&tmp, &jp).map_err(|e| CaptureError::write_io(&jp, e))?;
    sync_dir(dir)
}

/// Put every staged entry in place (idempotent: an entry already moved is skipped), remove the
/// entries to remove, then drop the journal and the stage.
fn apply(dir: &Path, journal: &Journal) -> Result<()> {
    let stage = dir.join(&journal.stage);
    let trash = dir.join(format!(
        "{TRASH_PREFIX}{}",
        journal.stage.trim_start_matches(STAGE_PREFIX)
    ));
    for name in &journal.put {
        let src = stage.join(name);
        if !src.exists() {
            continue; // already in place
        }
        let dst = dir.join(name);
        if std::fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir()) {
            // rename(2) cannot replace a non-empty folder: move the old one aside first.
            std::fs::create_dir_all(&trash).map_err(|e| CaptureError::write_io(&trash, e))?;
            let aside = trash.join(name);
            let _ = remove_any(&aside);
            std::fs::rename(&dst, &aside).map_err(|e| CaptureError::write_io(&dst, e))?;
        }
        std::fs::rename(&src, &dst).map_err(|e| CaptureError::write_io(&dst, e))?;
    }
    for name in &journal.remove {
        let p = dir.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            std::fs::create_dir_all(&trash).map_err(|e| CaptureError::write_io(&trash, e))?;
            std::fs::rename(&p, trash.join(name)).map_err(|e| CaptureError::write_io(&p, e))?;
        }
    }
    sync_dir(dir)?;
    let jp = dir.join(JOURNAL);
    std::fs::remove_file(&jp).map_err(|e| CaptureError::write_io(&jp, e))?;
    sync_dir(dir)?;
    let _ = std::fs::remove_dir_all(&stage);
    let _ = std::fs::remove_dir_all(&trash);
    Ok(())
}

/// Replace the folder `dir` by the complete folder `staged` (a sibling) in one step, and remove
/// the old one. On Linux the two are exchanged atomically (`renameat2(RENAME_EXCHANGE)`), so
/// `dir` is always a complete project; elsewhere (or on a file system without exchange) the old
/// folder is moved aside first, leaving a moment without `dir`.
pub fn swap_dir(staged: &Path, dir: &Path) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::rename(staged, dir).map_err(|e| CaptureError::write_io(dir, e))?;
        return sync_dir(parent_of(dir));
    }
    if exchange(staged, dir).is_ok() {
        sync_dir(parent_of(dir))?;
        // `staged` now holds the old project.
        let _ = std::fs::remove_dir_all(staged);
        return Ok(());
    }
    let old = staged.with_file_name(format!("{}.old", file_name(staged)));
    std::fs::rename(dir, &old).map_err(|e| CaptureError::write_io(dir, e))?;
    if let Err(e) = std::fs::rename(staged, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(CaptureError::write_io(dir, e));
    }
    sync_dir(parent_of(dir))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths relative to the working directory; the call only
    // reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// The hidden prefix of the staging folders a project named `name` is built in beside its
/// final place (`.NAME.partial-*`).
pub fn staging_prefix(name: &str) -> String {
    format!(".{name}.partial-")
}

/// Remove staging folders an interrupted ingest left beside `dir` (`.NAME.partial-*`, and the
/// `.old` folders of a non-exchanging swap), unless a live process still holds their lock.
pub fn sweep_siblings(dir: &Path, rec: &mut Recovery) {
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return;
    };
    let prefix = staging_prefix(&name);
    let legacy_old = format!(".{name}.old-");
    let Ok(entries) = std::fs::read_dir(parent_of(dir)) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if !(n.starts_with(&prefix) || n.starts_with(&legacy_old)) {
            continue;
        }
        let p = e.path();
        if !std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let free = match std::fs::File::open(p.join(LOCK)) {
            Ok(f) => f.try_lock().is_ok(),
            // Killed between creating the folder and its lock file. (A live writer in that
            // window of microseconds would fail cleanly at its next step.)
            Err(_) => true,
        };
        if free && std::fs::remove_dir_all(&p).is_ok() {
            rec.removed.push(n);
        }
    }
}

/// A message with every staging path rewritten to the path the file is committed to:
/// `P/.twinmint-stage-XYZ/dtm.tif` → `P/dtm.tif`, `D/.NAME.partial-XYZ/cloud.laz` →
/// `D/NAME/cloud.laz`. Writers see only the staged path; the user knows only the final one.
pub fn public_paths(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("/.") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == ':' || c == '"' || c == '\'')
            .unwrap_or(after.len());
        let comp = &after[..end];
        if comp.starts_with(&STAGE_PREFIX[1..]) {
            // Drop the component; the slash after it joins the project and the file.
            rest = &after[end..];
            if !rest.starts_with('/') {
                out.push('/');
            }
        } else if let Some(k) = comp.find(".partial-") {
            out.push('/');
            out.push_str(&comp[..k]);
            rest = &after[end..];
        } else {
            out.push_str("/.");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn parent_of(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[doc(hidden)]
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// One path component, not hidden-relative, not the journal or lock.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n != "."
        && n != ".."
        && !n.contains('/')
        && !n.contains('\\')
        && n != JOURNAL
        && n != LOCK
}

fn older_than(p: &Path, age: Duration) -> bool {
    std::fs::symlink_metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|d| d >= age)
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(p)?.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
}

/// fsync a file, or every file in a folder and the folder itself.
pub(crate) fn sync_path(p: &Path) -> Result<()> {
    if p.is_dir() {
        let entries = std::fs::read_dir(p).map_err(|e| CaptureError::io(p, e))?;
        for e in entries.flatten() {
            sync_path(&e.path())?;
        }
        sync_dir(p)
    } else {
        File::open(p)
            .and_then(|f| f.sync_all())
            .map_err(|e| CaptureError::write_io(p, e))
    }
}

/// fsync a folder so the renames in it survive a power cut.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|e| CaptureError::write_io(dir, e))?;
    }
    let _ = dir;
    Ok(())
}
