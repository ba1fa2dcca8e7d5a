//! Helpers every TwinMint test crate shares (a dev-dependency only).
//!
//! - Test data is never copied into the repository: tests read `TWINMINT_DATA` (default
//!   `../shared/data` beside the checkout).
//! - A check that needs something the machine may lack (a GPU adapter, a tool, root) may skip
//!   on a developer's machine, but never under `CI` or `TWINMINT_REQUIRE_GPU`, where
//!   [`skip_or_fail`] fails the test instead: nothing passes in CI by printing "skipped".

use std::fmt::Display;
use std::path::PathBuf;

/// Root of the shared test data.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("TWINMINT_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// A file under the data root, e.g. `data("als/MixedConifer.laz")`; panics with a hint when
/// it is missing.
pub fn data(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(
        p.exists(),
        "test data {} missing; set TWINMINT_DATA to the shared data folder",
        p.display()
    );
    p
}

/// Whether skipping is forbidden here: under `CI` or with `TWINMINT_REQUIRE_GPU` set.
pub fn strict() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("TWINMINT_REQUIRE_GPU").is_some()
}

/// `what` cannot run here because of `why`: fail under [`strict`], else say so and let the
/// caller return.
pub fn skip_or_fail(what: &str, why: impl Display) {
    assert!(
        !strict(),
        "{what} must run (CI or TWINMINT_REQUIRE_GPU is set) but cannot: {why}"
    );
    eprintln!("SKIP {what}: {why}");
}

/// Run `cmd` to the end and return its output, failing the test with the command and its
/// stderr when it does not exit 0.
pub fn output_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A tmpfs of a given size, to fill the disk on purpose; unmounted on drop. Mounting takes root
/// (CI and the project's machines run as root): elsewhere [`TinyFs::mount`] says so and gives
/// `None`, except under `CI`, where it fails the test.
pub struct TinyFs {
    dir: tempfile::TempDir,
}

impl TinyFs {
    /// Mount a tmpfs of `bytes` (rounded up to KiB) on a fresh temporary folder.
    pub fn mount(bytes: u64) -> Option<TinyFs> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={}k", bytes.div_ceil(1024)),
            ])
            .arg("tmpfs")
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(TinyFs { dir });
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but a tmpfs could not be mounted (needs root)"
        );
        eprintln!("SKIP: mounting a tmpfs needs root");
        None
    }

    /// Where it is mounted.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_dir_honours_the_variable() {
        // Read-only check: the variable, when set, is the root.
        if let Some(v) = std::env::var_os("TWINMINT_DATA") {
            assert_eq!(super::data_dir(), std::path::PathBuf::from(v));
        } else {
            assert!(super::data_dir().ends_with("shared/data"));
        }
    }
}
