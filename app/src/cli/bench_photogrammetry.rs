//! `twinmint bench photogrammetry`: our structure from motion (and, with `--dense`, PatchMatch
//! MVS) on a photo folder, beside COLMAP 3.8 (Debian's `colmap`: SIFT feature extraction,
//! exhaustive matching and the incremental mapper, all on the CPU) on the same photos at the
//! same image size in the same run — the anchor the issue names. Prints time per stage,
//! registered photos, mean reprojection error (each in its own image pixels: both at
//! `--size`), the time ratio, and our dense cloud's size and time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use photogrammetry::SfmOptions;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Side {
    pub features_s: f64,
    pub matching_s: f64,
    pub mapping_s: f64,
    pub registered: usize,
    pub photos: usize,
    pub mean_error_px: f64,
    pub points: usize,
}

impl Side {
    fn total(&self) -> f64 {
        self.features_s + self.matching_s + self.mapping_s
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PhotoReport {
    pub folder: PathBuf,
    pub size_px: usize,
    pub release_build: bool,
    pub ours: Side,
    pub dense_points: Option<usize>,
    pub dense_s: Option<f64>,
    pub colmap: Option<Side>,
    pub colmap_note: Option<String>,
}

fn timed(cmd: &mut Command, what: &str) -> anyhow::Result<(f64, String)> {
    let t = Instant::now();
    let out = cmd
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .with_context(|| format!("running colmap {what}"))?;
    anyhow::ensure!(
        out.status.success(),
        "colmap {what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((t.elapsed().as_secs_f64(), text))
}

/// The number after `label` in COLMAP's model_analyzer output.
fn number_after(text: &str, label: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains(label))?;
    line.split(':')
        .next_back()?
        .trim()
        .trim_end_matches("px")
        .trim()
        .parse()
        .ok()
}

fn colmap(folder: &Path, size: usize, photos: usize) -> anyhow::Result<Side> {
    let work = tempfile::Builder::new()
        .prefix("twinmint-bench-colmap")
        .tempdir()?;
    let db = work.path().join("database.db");
    let sparse = work.path().join("sparse");
    std::fs::create_dir(&sparse)?;
    let (features_s, _) = timed(
        Command::new("colmap")
            .arg("feature_extractor")
            .arg("--database_path")
            .arg(&db)
            .arg("--image_path")
            .arg(folder)
            .args(["--ImageReader.single_camera", "1"])
            .args(["--SiftExtraction.use_gpu", "0"])
            .args(["--SiftExtraction.max_image_size", &size.to_string()]),
        "feature_extractor",
    )?;
    let (matching_s, _) = timed(
        Command::new("colmap")
            .arg("exhaustive_matcher")
            .arg("--database_path")
            .arg(&db)
            .args(["--SiftMatching.use_gpu", "0"]),
        "exhaustive_matcher",
    )?;
    let (mapping_s, _) = timed(
        Command::new("colmap")
            .arg("mapper")
            .arg("--database_path")
            .arg(&db)
            .arg("--image_path")
            .arg(folder)
            .arg("--output_path")
            .arg(&sparse),
        "mapper",
    )?;
    let (_, text) = timed(
        Command::new("colmap")
            .arg("model_analyzer")
            .arg("--path")
            .arg(sparse.join("0")),
        "model_analyzer",
    )?;
    Ok(Side {
        features_s,
        matching_s,
        mapping_s,
        registered: number_after(&text, "Registered images").unwrap_or(0.0) as usize,
        photos,
        mean_error_px: number_after(&text, "Mean reprojection error").unwrap_or(f64::NAN),
        points: number_after(&text, "Points").unwrap_or(0.0) as usize,
    })
}

pub fn measure(
    folder: PathBuf,
    size: usize,
    dense: bool,
    cancel: &capture::CancelToken,
) -> anyhow::Result<PhotoReport> {
    let o = SfmOptions {
        max_side: size,
        ..Default::default()
    };
    let t = Instant::now();
    let m = photogrammetry::run(&folder, &o, &|_, _| {}, cancel)?;
    let total = t.elapsed().as_secs_f64();
    let s = &m.stats;
    let ours = Side {
        features_s: s.seconds_features,
        matching_s: s.seconds_matching,
        // Everything after matching: rotations, tracks, triangulation, bundle adjustment.
        mapping_s: total - s.seconds_features - s.seconds_matching,
        registered: m.cameras.iter().filter(|c| c.registered).count(),
        photos: m.cameras.len(),
        mean_error_px: m.mean_error_px,
        points: m.points.len(),
    };
    let (dense_points, dense_s) = if dense {
        let t = Instant::now();
        let d =
            photogrammetry::mvs::dense_cpu(&folder, &m, &Default::default(), &|_, _| {}, cancel)?;
        (Some(d.points.len()), Some(t.elapsed().as_secs_f64()))
    } else {
        (None, None)
    };
    let have_colmap = Command::new("colmap")
        .arg("help")
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .is_ok();
    let (colmap, colmap_note) = if have_colmap {
        match colmap(&folder, size, m.cameras.len()) {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        }
    } else {
        (
            None,
            Some("COLMAP is not installed (apt-get install colmap)".to_string()),
        )
    };
    Ok(PhotoReport {
        folder,
        size_px: size,
        release_build: !cfg!(debug_assertions),
        ours,
        dense_points,
        dense_s,
        colmap,
        colmap_note,
    })
}

pub fn print(r: &PhotoReport) {
    println!(
        "{}: photos at {} px{}",
        r.folder.display(),
        r.size_px,
        if r.release_build {
            ""
        } else {
            " (debug build: timings are for --release)"
        }
    );
    println!(
        "| pipeline | features s | matching s | mapping s | total s | registered | mean reprojection error px | sparse points |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let row = |name: &str, s: &Side| {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {}/{} | {:.3} | {} |",
            s.features_s,
            s.matching_s,
            s.mapping_s,
            s.total(),
            s.registered,
            s.photos,
            s.mean_error_px,
            s.points
        );
    };
    match &r.colmap {
        Some(c) => row("COLMAP 3.8 (CPU SIFT, exhaustive, incremental) — anchor", c),
        None => println!(
            "| COLMAP — anchor | not run | | | | | | {} |",
            r.colmap_note.as_deref().unwrap_or("")
        ),
    }
    row(
        "twinmint (ORB, GPS neighbours, global with GPS priors)",
        &r.ours,
    );
    if let Some(c) = &r.colmap {
        println!(
            "time: twinmint {:.2}× COLMAP's speed (target ≥ 1×); reprojection error {:.3} vs COLMAP {:.3} px",
            c.total() / r.ours.total(),
            r.ours.mean_error_px,
            c.mean_error_px
        );
    }
    if let (Some(n), Some(s)) = (r.dense_points, r.dense_s) {
        println!("dense (PatchMatch, CPU twin, 800 px): {n} points in {s:.1} s");
    }
}
