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

/// A PDF as poppler renders and reads it: the text of every page (`pdftotext -layout`) and each
/// page as RGB pixels (`pdftoppm -r DPI`, PPM). `None` (after [`skip_or_fail`]) when
/// poppler-utils is not installed.
pub struct RenderedPdf {
    pub text: String,
    /// (width, height, RGB bytes) per page.
    pub pages: Vec<(usize, usize, Vec<u8>)>,
}

impl RenderedPdf {
    /// Pixels of page `k` whose colour is near `rgb` (each channel within 40).
    pub fn pixels_near(&self, k: usize, rgb: [u8; 3]) -> usize {
        self.pages[k]
            .2
            .chunks_exact(3)
            .filter(|p| (0..3).all(|c| (p[c] as i32 - rgb[c] as i32).abs() <= 40))
            .count()
    }
}

/// Render `pdf` with poppler (see [`RenderedPdf`]).
pub fn render_pdf(pdf: &std::path::Path, dpi: u32) -> Option<RenderedPdf> {
    if std::process::Command::new("pdftoppm")
        .arg("-v")
        .output()
        .is_err()
    {
        skip_or_fail("PDF rendering", "pdftoppm (poppler-utils) is not installed");
        return None;
    }
    let text = output_ok(
        std::process::Command::new("pdftotext")
            .arg("-layout")
            .arg(pdf)
            .arg("-"),
    )
    .stdout;
    let dir = tempfile::tempdir().unwrap();
    output_ok(
        std::process::Command::new("pdftoppm")
            .args(["-r", &dpi.to_string()])
            .arg(pdf)
            .arg(dir.path().join("page")),
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let pages = files
        .iter()
        .map(|f| read_ppm(&std::fs::read(f).unwrap()))
        .collect();
    Some(RenderedPdf {
        text: String::from_utf8_lossy(&text).into_owned(),
        pages,
    })
}

/// A binary PPM (P6, maxval 255).
fn read_ppm(b: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i] == b'#' {
            while b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let s = i;
        while !b[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&b[s..i]).into_owned());
    }
    assert_eq!(fields[0], "P6", "not a binary PPM");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = b[i + 1..i + 1 + 3 * w * h].to_vec();
    (w, h, data)
}
