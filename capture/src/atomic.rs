//! Write-then-rename: a crash or a cancelled job never leaves a half-written file in a project.

use std::io::Write;
use std::path::Path;

use crate::error::{CaptureError, Result};

/// Write `bytes` to `path` through a temporary file in the same directory, renamed into place.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |f| f.write_all(bytes))
}

/// Run `fill` against a temporary file beside `path`, then rename it over `path`.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_beside(path)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        fill(&mut w).map_err(|e| CaptureError::write_io(path, e))?;
        w.flush().map_err(|e| CaptureError::write_io(path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| CaptureError::write_io(path, e))?;
    publish_mode(tmp.as_file(), path)?;
    tmp.persist(path)
        .map_err(|e| CaptureError::write_io(path, e.error))?;
    Ok(())
}

/// A temporary file (`.twinmint-*.part`, owner-only) in `path`'s folder, to be renamed over
/// `path` once complete: every writer stages through this.
pub(crate) fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".twinmint-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| CaptureError::write_io(dir, e))
}

/// Serialise `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| CaptureError::Write {
        path: path.into(),
        reason: e.to_string(),
    })?;
    write_bytes(path, &bytes)
}

/// Temporary files are created owner-only; published files get the usual 0644 so other tools
/// and users can read a project.
pub(crate) fn publish_mode(f: &std::fs::File, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| CaptureError::write_io(path, e))?;
    }
    let _ = (f, path);
    Ok(())
}

/// Directories likewise get 0755.
pub(crate) fn publish_dir_mode(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| CaptureError::write_io(dir, e))?;
    }
    let _ = dir;
    Ok(())
}
