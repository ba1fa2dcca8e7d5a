//! `twinmint bench survey`: a simulated survey of at least 20 M points planned in tiles and run
//! as `twinmint tile run` processes (the local executor's [`twinmint_app::workflow::survey::run_tile_processes`])
//! with 1 and with 2 workers — points per second and each worker's peak resident memory as it
//! reports it ([`super::peak`]), against 3× the largest tile's raw point bytes — beside the
//! lasR-style single process (one read, one reconstruct of everything) on the same file; then
//! the same survey from the same points delivered as COPC, where a tile decodes only the octree
//! nodes meeting its buffered box.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use serde::Serialize;

use capture::{CancelToken, NoProgress};

/// One way of running the survey.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub name: String,
    pub seconds: f64,
    pub points_per_s: f64,
    /// Largest peak resident memory of one process (bytes).
    pub peak_process_bytes: Option<u64>,
    /// Of `seconds`, the merge (reading every point again, the estate's COPC cloud, COG
    /// mosaics, model): work the single process, which writes nothing, does not do.
    pub merge_seconds: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SurveyBench {
    pub file: PathBuf,
    pub points: u64,
    pub tiles: usize,
    pub tile_m: f64,
    pub buffer_m: f64,
    /// The largest tile's buffered points × the LAS record length.
    pub max_tile_raw_bytes: u64,
    pub release_build: bool,
    pub runs: Vec<Run>,
}

/// Target: a worker's peak memory at most this many times its tile's raw point bytes.
pub const TARGET_MEMORY_RATIO: f64 = 3.0;

/// Measure (module docs).
pub fn measure(
    file: Option<PathBuf>,
    points: u64,
    side_m: f64,
    tile_m: f64,
    buffer_m: f64,
    cancel: &CancelToken,
) -> anyhow::Result<SurveyBench> {
    let file = super::bench_tile::tile_or_simulated(file, "twinmint-bench-survey", points, side_m)?;
    let (_, info) = capture::las_io::open(&file)?;
    let record = info.header.point_format().len() as u64;
    let total = info.header.number_of_points();
    let opts = reconstruct::pipeline::ReconstructOptions::default();
    let plan = survey::plan::plan(std::slice::from_ref(&file), tile_m, buffer_m, opts)?;
    let max_tile_raw_bytes = plan
        .tiles
        .iter()
        .map(|t| t.points_estimate * record)
        .max()
        .unwrap_or(0);
    let mut runs = Vec::new();

    // One process, everything at once (what lasR does on one machine).
    super::peak::reset();
    let t = Instant::now();
    let cloud = capture::read(&file, &Default::default(), &mut NoProgress, cancel)?;
    let out = reconstruct::pipeline::run(&cloud, &plan.reconstruct, &mut |_, _| {}, cancel)?;
    drop((cloud, out));
    let s = t.elapsed().as_secs_f64();
    runs.push(Run {
        name: "one process (read + reconstruct all)".into(),
        seconds: s,
        points_per_s: total as f64 / s,
        peak_process_bytes: super::peak::bytes(),
        merge_seconds: None,
    });
    // The same points delivered as COPC (converted here, not timed): a tile then decodes only
    // the octree nodes meeting its buffered box instead of the whole file.
    let copc_dir = tempfile::tempdir()?;
    let copc = copc_dir.path().join("survey.copc.laz");
    {
        let cloud = capture::read(&file, &Default::default(), &mut NoProgress, cancel)?;
        capture::copc::write_copc(&cloud, &copc, &Default::default(), cancel)?;
    }
    let copc_plan = survey::plan::plan(
        std::slice::from_ref(&copc),
        tile_m,
        buffer_m,
        plan.reconstruct.clone(),
    )?;
    for (workers, plan, input) in [
        (1usize, &plan, "LAZ"),
        (2, &plan, "LAZ"),
        (1, &copc_plan, "COPC"),
        (2, &copc_plan, "COPC"),
    ] {
        let dir = tempfile::tempdir()?;
        plan.write(dir.path())?;
        let t = Instant::now();
        let ran = twinmint_app::workflow::survey::run_tile_processes(
            dir.path(),
            (0..plan.tiles.len()).collect(),
            workers,
            cancel,
            &mut |_| {},
        )?;
        if !ran.failed.is_empty() {
            bail!("bench survey: tiles {:?} failed", ran.failed);
        }
        let tm = Instant::now();
        survey::merge::merge(dir.path(), cancel)?;
        let merge_seconds = tm.elapsed().as_secs_f64();
        let s = t.elapsed().as_secs_f64();
        runs.push(Run {
            name: format!(
                "{workers} worker process{} + merge, {input} input",
                if workers == 1 { "" } else { "es" }
            ),
            seconds: s,
            points_per_s: total as f64 / s,
            peak_process_bytes: Some(ran.peak_bytes),
            merge_seconds: Some(merge_seconds),
        });
    }
    Ok(SurveyBench {
        file,
        points: total,
        tiles: plan.tiles.len(),
        tile_m,
        buffer_m,
        max_tile_raw_bytes,
        release_build: !cfg!(debug_assertions),
        runs,
    })
}

pub fn print(r: &SurveyBench) {
    println!(
        "survey of {} points ({}), {} tiles of {} m + {} m buffer; largest tile {:.0} MB of raw points{}",
        r.points,
        r.file.display(),
        r.tiles,
        r.tile_m,
        r.buffer_m,
        r.max_tile_raw_bytes as f64 / 1e6,
        if r.release_build {
            ""
        } else {
            " (debug build: use --release)"
        }
    );
    let single = r.runs.first().map_or(1.0, |s| s.seconds);
    println!(
        "| run | seconds | of which merge | M points/s | vs one process | peak memory per process | vs 3× tile points |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for run in &r.runs {
        let (mem, ratio) = match run.peak_process_bytes {
            Some(b) => (
                format!("{:.0} MB", b as f64 / 1e6),
                format!(
                    "{:.2}× (target ≤ {TARGET_MEMORY_RATIO}×)",
                    b as f64 / r.max_tile_raw_bytes.max(1) as f64
                ),
            ),
            None => ("–".into(), "–".into()),
        };
        println!(
            "| {} | {:.2} | {} | {:.2} | {:.2}× | {mem} | {ratio} |",
            run.name,
            run.seconds,
            run.merge_seconds
                .map_or_else(|| "–".to_string(), |m| format!("{m:.2}")),
            run.points_per_s / 1e6,
            single / run.seconds,
        );
    }
}
