//! `twinmint bench laz`: LAZ decoding, in process and as a whole process against laspy + lazrs
//! (parallel) reading the same file on the same machine in the same run, and the rate into the
//! viewer's octree build — the numbers and targets of the issue that set them (decode ≥ 2×
//! laspy, ≥ 6 M points/s into the octree build, peak memory ≤ 1.5× laspy's).
//!
//! Both whole-process rows come from `scripts/bench_laz_reference.py`, which runs each command
//! in a child process and takes the best of three wall times and the child's peak resident
//! memory (getrusage), so neither side is measured differently. Without that script's Python
//! (`.venv-bench`, `scripts/bench-requirements.txt`) the anchor rows say how to install it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use capture::{CancelToken, NoProgress, ReadOptions};
use twinmint_app::viewer::octree::{Octree, OctreeOptions};

/// A whole-process measurement.
#[derive(Clone, Debug, Serialize)]
pub struct ProcessRun {
    pub seconds: f64,
    pub peak_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LazReport {
    pub file: PathBuf,
    pub points: u64,
    pub release_build: bool,
    /// `capture::read` of every attribute, in this process.
    pub decode_seconds: f64,
    /// Reading the attributes the viewer draws (`Fields::VIEWER`) plus building the viewer's
    /// octree (its node store on disk), as the studio opens a project.
    pub octree_seconds: f64,
    /// The same points written as COPC (not timed), then the viewer's octree built from its
    /// nodes (`Octree::from_copc`, as the studio opens a survey's merged estate).
    pub copc_octree_seconds: f64,
    /// `twinmint info --json FILE` as a whole process.
    pub twinmint_info: Option<ProcessRun>,
    /// laspy + lazrs (parallel) reading FILE as a whole process.
    pub laspy: Option<ProcessRun>,
    /// Why the whole-process rows are missing, when they are.
    pub reference_note: Option<String>,
}

/// Targets: decode this many times faster than laspy, this rate into the octree, and at most
/// this multiple of laspy's peak memory.
pub const TARGET_SPEEDUP: f64 = 2.0;
pub const TARGET_OCTREE_POINTS_PER_S: f64 = 6e6;
pub const TARGET_MEMORY_RATIO: f64 = 1.5;

fn reference(python: &Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<ProcessRun> {
    let out = std::process::Command::new(python)
        .arg("scripts/bench_laz_reference.py")
        .args(args)
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "bench_laz_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("bench_laz_reference.py printed no JSON")?;
    Ok(ProcessRun {
        seconds: v["seconds"].as_f64().unwrap_or(f64::NAN),
        peak_bytes: v["peak_bytes"].as_u64().unwrap_or(0),
    })
}

pub fn measure(
    file: Option<PathBuf>,
    points: u64,
    python: Option<PathBuf>,
    cancel: &CancelToken,
) -> anyhow::Result<LazReport> {
    // About 120 points/m², a drone survey's density.
    let side = (points as f64 / 120.0).sqrt().clamp(50.0, 2000.0);
    let file = super::bench_tile::tile_or_simulated(file, "twinmint-bench-laz", points, side)?;
    let t = Instant::now();
    let cloud = capture::read(&file, &ReadOptions::default(), &mut NoProgress, cancel)?;
    let decode_seconds = t.elapsed().as_secs_f64();
    let n = cloud.len() as u64;
    drop(cloud);

    let work = tempfile::Builder::new()
        .prefix("twinmint-bench-laz")
        .tempdir()
        .context("creating the bench's scratch folder")?;
    let t = Instant::now();
    let viewer = ReadOptions {
        fields: capture::Fields::VIEWER,
        ..Default::default()
    };
    let cloud = capture::read(&file, &viewer, &mut NoProgress, cancel)?;
    Octree::build(
        &cloud,
        &OctreeOptions::default(),
        &work.path().join("octree.bin"),
        &|_| {},
        &|| cancel.is_cancelled(),
    )?;
    let octree_seconds = t.elapsed().as_secs_f64();
    let copc = work.path().join("cloud.copc.laz");
    capture::copc::write_copc(&cloud, &copc, &Default::default(), cancel)?;
    drop(cloud);
    let t = Instant::now();
    Octree::from_copc(
        &capture::copc::CopcFile::open(&copc)?,
        &work.path().join("octree-copc.bin"),
        &|_| {},
        &|| cancel.is_cancelled(),
    )?;
    let copc_octree_seconds = t.elapsed().as_secs_f64();

    let python = python
        .or_else(|| std::env::var_os("TWINMINT_BENCH_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".venv-bench/bin/python"));
    let script = Path::new("scripts/bench_laz_reference.py");
    let (twinmint_info, laspy, reference_note) = if python.exists() && script.exists() {
        let exe = std::env::current_exe().context("locating this twinmint")?;
        let ours = reference(
            &python,
            &[
                "--".as_ref(),
                exe.as_os_str(),
                "-q".as_ref(),
                "--json".as_ref(),
                "info".as_ref(),
                file.as_os_str(),
            ],
        )?;
        let theirs = reference(&python, &["--laspy".as_ref(), file.as_os_str()])?;
        (Some(ours), Some(theirs), None)
    } else {
        (
            None,
            None,
            Some(
                "python3 -m venv .venv-bench && .venv-bench/bin/pip install -r \
                 scripts/bench-requirements.txt (run from the repository root)"
                    .to_string(),
            ),
        )
    };
    Ok(LazReport {
        file,
        points: n,
        release_build: !cfg!(debug_assertions),
        decode_seconds,
        octree_seconds,
        copc_octree_seconds,
        twinmint_info,
        laspy,
        reference_note,
    })
}

pub fn print(r: &LazReport) {
    let mps = |s: f64| r.points as f64 / s / 1e6;
    println!(
        "{}: {} points{}",
        r.file.display(),
        r.points,
        if r.release_build {
            ""
        } else {
            " (debug build: the targets are for --release)"
        }
    );
    println!("| measurement | seconds | M points/s | peak MB | target | ratio |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| decode, in process (capture::read, every attribute) | {:.3} | {:.1} | – | – | – |",
        r.decode_seconds,
        mps(r.decode_seconds)
    );
    println!(
        "| read (viewer attributes) + octree build | {:.3} | {:.1} | – | ≥ {:.0} M points/s | {:.2}× |",
        r.octree_seconds,
        mps(r.octree_seconds),
        TARGET_OCTREE_POINTS_PER_S / 1e6,
        mps(r.octree_seconds) * 1e6 / TARGET_OCTREE_POINTS_PER_S
    );
    println!(
        "| COPC nodes → octree (the same points as COPC) | {:.3} | {:.1} | – | ≥ {:.0} M points/s | {:.2}× |",
        r.copc_octree_seconds,
        mps(r.copc_octree_seconds),
        TARGET_OCTREE_POINTS_PER_S / 1e6,
        mps(r.copc_octree_seconds) * 1e6 / TARGET_OCTREE_POINTS_PER_S
    );
    match (&r.twinmint_info, &r.laspy) {
        (Some(ours), Some(theirs)) => {
            println!(
                "| laspy + lazrs (parallel), whole process — anchor | {:.3} | {:.1} | {:.0} | – | – |",
                theirs.seconds,
                mps(theirs.seconds),
                theirs.peak_bytes as f64 / 1e6
            );
            println!(
                "| twinmint info --json, whole process | {:.3} | {:.1} | {:.0} | ≥ {TARGET_SPEEDUP}× faster, ≤ {TARGET_MEMORY_RATIO}× memory | {:.2}× faster, {:.2}× memory |",
                ours.seconds,
                mps(ours.seconds),
                ours.peak_bytes as f64 / 1e6,
                theirs.seconds / ours.seconds,
                ours.peak_bytes as f64 / theirs.peak_bytes.max(1) as f64
            );
        }
        _ => println!(
            "| laspy anchor | not run | – | – | – | {} |",
            r.reference_note.as_deref().unwrap_or("")
        ),
    }
}
