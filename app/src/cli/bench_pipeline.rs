//! `twinmint bench pipeline`: the 1 M-point path a user runs first — ingest → reconstruct →
//! simulate (1 000 runs) → fingerprint → package — in one process on a simulated tile, with each
//! stage's time and peak memory, against the targets of the issue that set them (≤ 4 s in a
//! release build, peak ≤ 3× the raw point bytes).
//!
//! Peak memory per stage: [`super::peak`] (the high-water mark, reset before each stage).
//! Elsewhere than Linux the column says "–".

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use capture::{CancelToken, NoProgress};

/// One stage's measurement.
#[derive(Clone, Debug, Serialize)]
pub struct StageRow {
    pub stage: &'static str,
    pub seconds: f64,
    /// Peak resident memory during the stage (bytes), where the OS reports it.
    pub peak_bytes: Option<u64>,
    /// The stage's own steps in the order they began (reconstruct: loading, noise, ground, …,
    /// writing), timed from their first progress report to the next step's; empty for stages
    /// that report no steps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRow>,
}

/// One step of a stage: its progress label and the seconds until the next step began.
#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    pub step: String,
    pub seconds: f64,
}

/// The first report of each progress label, in order, for [`StageRow::steps`].
#[derive(Default)]
struct StepClock {
    began: Vec<(String, Instant)>,
}

impl StepClock {
    fn report(&mut self, label: &str) {
        if self.began.last().is_none_or(|(l, _)| l != label) {
            self.began.push((label.to_string(), Instant::now()));
        }
    }

    /// The steps' durations, the last one ending at `end`.
    fn rows(self, end: Instant) -> Vec<StepRow> {
        let ends: Vec<Instant> = self
            .began
            .iter()
            .skip(1)
            .map(|b| b.1)
            .chain([end])
            .collect();
        self.began
            .into_iter()
            .zip(ends)
            .map(|((step, t0), t1)| StepRow {
                step,
                seconds: t1.duration_since(t0).as_secs_f64(),
            })
            .collect()
    }
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineReport {
    pub tile: PathBuf,
    pub points: u64,
    /// Bytes of the input's point records (points × LAS record length).
    pub raw_point_bytes: u64,
    pub release_build: bool,
    pub stages: Vec<StageRow>,
    pub total_seconds: f64,
    pub peak_bytes: Option<u64>,
    /// Runs measured (`--repeat`); the stages' seconds and the total are the median run's, each
    /// stage's peak the lowest of the runs.
    pub repeats: u32,
    /// Every run's total, fastest first: a shared or throttled machine swings ±10 % and more.
    pub total_seconds_all: Vec<f64>,
}

/// Target: the whole path in 4 s (release build).
pub const TARGET_SECONDS: f64 = 4.0;
/// Target: peak resident memory at most this many times the raw point bytes.
pub const TARGET_MEMORY_RATIO: f64 = 3.0;

/// Time `f` and measure its peak resident memory.
fn stage<T>(
    rows: &mut Vec<StageRow>,
    name: &'static str,
    f: impl FnOnce(&mut StepClock) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let resettable = super::peak::reset();
    let t = Instant::now();
    let mut clock = StepClock::default();
    let out = f(&mut clock).with_context(|| format!("bench pipeline: {name}"))?;
    let end = Instant::now();
    rows.push(StageRow {
        stage: name,
        seconds: end.duration_since(t).as_secs_f64(),
        peak_bytes: if resettable {
            super::peak::bytes()
        } else {
            None
        },
        steps: clock.rows(end),
    });
    Ok(out)
}

/// Ingest `tile` into the new project `dir`, reconstruct, simulate (`runs`), fingerprint and
/// package it, timing each stage into `rows`.
pub fn run_stages(
    tile: &std::path::Path,
    dir: &std::path::Path,
    runs: u32,
    rows: &mut Vec<StageRow>,
    cancel: &CancelToken,
) -> anyhow::Result<()> {
    stage(rows, "ingest", |_| {
        Ok(capture::project::ingest(
            std::slice::from_ref(&tile.to_path_buf()),
            dir,
            &capture::project::IngestOptions::default(),
            &mut |_| {},
            cancel,
        )?)
    })?;
    stage(rows, "reconstruct", |clock| {
        Ok(twinmint_app::workflow::reconstruct::reconstruct_project(
            dir,
            &reconstruct::pipeline::ReconstructOptions::default(),
            None,
            &mut |label, _| clock.report(label),
            cancel,
        )?)
    })?;
    stage(rows, "simulate", |_| {
        use twinmint_app::workflow::simulate as wf;
        let trees = wf::project_trees(dir)?;
        let manifest = capture::project::open(dir)?;
        let o = growth_model::SimulationOptions {
            runs,
            area_ha: wf::plot_area_ha(&manifest),
            ..Default::default()
        };
        Ok(wf::simulate_project(
            dir,
            &trees,
            &o,
            &mut |_, _| {},
            cancel,
        )?)
    })?;
    stage(rows, "fingerprint", |_| {
        let fp = mint::package::compute_project_fingerprint(dir, &mut NoProgress, cancel)?;
        fp.write(dir)?;
        Ok(())
    })?;
    stage(rows, "package", |_| {
        Ok(mint::package::build_with(
            dir,
            &mint::package::PackageOptions::default(),
            &mut NoProgress,
            cancel,
        )?)
    })?;
    Ok(())
}

/// Run every stage on `tile` (or a simulated one) in a fresh project under the temporary folder.
pub fn measure(
    tile: Option<PathBuf>,
    points: u64,
    runs: u32,
    repeat: u32,
    cancel: &CancelToken,
) -> anyhow::Result<PipelineReport> {
    let tile =
        super::bench_tile::tile_or_simulated(tile, "twinmint-bench-pipeline", points, 100.0)?;
    let (_, info) = capture::las_io::open(&tile).with_context(|| {
        format!(
            "{}: the pipeline bench takes a LAS/LAZ tile",
            tile.display()
        )
    })?;
    let n = info.header.number_of_points();
    let record_len = u64::from(info.header.point_format().len());
    // Every repeat in a fresh project; the run with the median total is reported whole (its
    // stages sum to its total), with every run's total beside it.
    let mut all: Vec<(f64, Vec<StageRow>)> = Vec::with_capacity(repeat.max(1) as usize);
    for _ in 0..repeat.max(1) {
        let work = tempfile::Builder::new()
            .prefix("twinmint-bench-pipeline")
            .tempdir()
            .context("creating the bench's project folder")?;
        let dir: PathBuf = work.path().join("tile.twinmint");
        let mut rows = Vec::new();
        let t_all = Instant::now();
        run_stages(&tile, &dir, runs, &mut rows, cancel)?;
        all.push((t_all.elapsed().as_secs_f64(), rows));
    }
    // Memory: each stage's lowest peak over the runs. A later run starts with the pages the
    // allocator kept from the earlier ones (its resident high-water mark is reset to that, not
    // to zero), so only the lowest reading is the stage's own.
    let low: Vec<Option<u64>> = (0..all[0].1.len())
        .map(|k| all.iter().filter_map(|r| r.1[k].peak_bytes).min())
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let totals: Vec<f64> = all.iter().map(|r| r.0).collect();
    let (total_seconds, mut stages) = all.swap_remove(all.len() / 2);
    for (s, p) in stages.iter_mut().zip(low) {
        s.peak_bytes = p;
    }
    // A stage's peak is None where the OS cannot reset the high-water mark; then so is this.
    let peak_bytes = stages
        .iter()
        .map(|s| s.peak_bytes)
        .collect::<Option<Vec<u64>>>()
        .and_then(|p| p.into_iter().max());
    Ok(PipelineReport {
        tile,
        points: n,
        raw_point_bytes: n * record_len,
        release_build: !cfg!(debug_assertions),
        stages,
        total_seconds,
        peak_bytes,
        repeats: totals.len() as u32,
        total_seconds_all: totals,
    })
}

fn mb(b: Option<u64>) -> String {
    b.map_or("–".into(), |b| format!("{:.0}", b as f64 / 1e6))
}

/// The table, with each target and the ratio measured against it.
pub fn print(r: &PipelineReport) {
    println!(
        "{}: {} points, {:.1} MB of point records{}",
        r.tile.display(),
        r.points,
        r.raw_point_bytes as f64 / 1e6,
        if r.release_build {
            ""
        } else {
            " (debug build: the targets are for --release)"
        }
    );
    println!("| stage | seconds | peak MB | peak / point bytes |");
    println!("|---|---|---|---|");
    let ratio = |b: Option<u64>| {
        b.map_or("–".into(), |b| {
            format!("{:.1}×", b as f64 / r.raw_point_bytes.max(1) as f64)
        })
    };
    for s in &r.stages {
        println!(
            "| {} | {:.3} | {} | {} |",
            s.stage,
            s.seconds,
            mb(s.peak_bytes),
            ratio(s.peak_bytes)
        );
    }
    println!(
        "| **total** | {:.3} | {} | {} |",
        r.total_seconds,
        mb(r.peak_bytes),
        ratio(r.peak_bytes)
    );
    println!(
        "time: {:.2} s against the {TARGET_SECONDS} s target ({:.2}× of it); peak memory: {} against {TARGET_MEMORY_RATIO}× the point bytes",
        r.total_seconds,
        r.total_seconds / TARGET_SECONDS,
        ratio(r.peak_bytes)
    );
    if let (Some(lo), Some(hi)) = (r.total_seconds_all.first(), r.total_seconds_all.last())
        && r.repeats > 1
    {
        println!(
            "the median of {} runs (totals {lo:.2}–{hi:.2} s)",
            r.repeats
        );
    }
    for s in r.stages.iter().filter(|s| !s.steps.is_empty()) {
        let steps: Vec<String> = s
            .steps
            .iter()
            .map(|t| format!("{} {:.3}", t.step, t.seconds))
            .collect();
        println!("{} steps (s): {}", s.stage, steps.join(", "));
    }
}
