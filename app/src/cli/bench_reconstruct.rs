//! `twinmint bench reconstruct`: every reconstruct step on a ≥ 1 M-point tile, and the C++ Cloth
//! Simulation Filter reference (PyPI `cloth-simulation-filter`) on the same tile with the same
//! parameters, in the same run: time ratio and both DTM RMSEs.

use std::path::{Path, PathBuf};

use anyhow::Context;

use capture::synth;
use capture::{CancelToken, NoProgress};
use reconstruct::ground::bench::{self, ReferenceCommand};
use reconstruct::pipeline::{self, ReconstructOptions};

/// Run the benchmark; `tile` is made with the scan simulator when absent (150 m, 1.5 M points,
/// truth beside it).
pub fn run(
    tile: Option<PathBuf>,
    points: u64,
    python: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<()> {
    let tile = super::bench_tile::tile_or_simulated(tile, "twinmint-bench", points, 150.0)?;
    let cloud = capture::read(
        &tile,
        &Default::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )?;
    let truth_path = tile.with_extension("truth.json");
    let truth = truth_path
        .exists()
        .then(|| synth::read_truth(&truth_path))
        .transpose()?;
    let opts = ReconstructOptions::default();
    let out = pipeline::run(&cloud, &opts, &mut |_, _| {}, &CancelToken::new())?;
    let ours_ground = out
        .reconstruction
        .run
        .timings
        .iter()
        .find(|t| t.step == "ground")
        .map_or(f64::NAN, |t| t.seconds);
    // Our DTM RMSE with the same metric the reference gets.
    let is_ground: Vec<bool> = out.labels.ground.clone();
    let score = |labels: &[bool]| -> anyhow::Result<f64> {
        Ok(match &truth {
            Some(t) => bench::dtm_rmse_vs_truth(&cloud, labels, t, 1.0)?.0,
            None => bench::dtm_rmse_vs_classes(&cloud, labels, &[2, 9], 1.0)?.0,
        })
    };
    let ours_rmse = score(&is_ground)?;
    let python = python
        .or_else(|| std::env::var_os("TWINMINT_BENCH_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".venv-bench/bin/python"));
    let script = Path::new("scripts/bench_csf_reference.py");
    let reference = if python.exists() && script.exists() {
        let cmd = |threads| ReferenceCommand {
            python: python.clone(),
            script: script.to_path_buf(),
            repeat: 3,
            threads,
        };
        // The wheel's OpenMP build can be slower on 2 busy cores than on one: keep the faster.
        let (a, la) = bench::run_reference(&cmd(None), &tile, &opts.ground)
            .context("running the C++ reference")?;
        let (b, lb) = bench::run_reference(&cmd(Some(1)), &tile, &opts.ground)?;
        let (r, l) = if b.seconds < a.seconds {
            (b, lb)
        } else {
            (a, la)
        };
        Some((r.seconds, score(&l)?, r.threads))
    } else {
        None
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "tile": tile.display().to_string(),
                "points": cloud.len(),
                "timings": out.reconstruction.run.timings,
                "ground_seconds": ours_ground,
                "dtm_rmse_m": ours_rmse,
                "reference": reference.map(|(s, e, t)| serde_json::json!({"seconds": s, "dtm_rmse_m": e, "threads": t})),
            })
        );
        return Ok(());
    }
    println!("{}: {} points", tile.display(), cloud.len());
    println!("| step | device | seconds |");
    println!("|---|---|---|");
    for t in &out.reconstruction.run.timings {
        println!("| {} | {} | {:.3} |", t.step, t.device, t.seconds);
    }
    match reference {
        Some((secs, rmse, threads)) => {
            println!(
                "ground: TwinMint {ours_ground:.3} s, DTM RMSE {ours_rmse:.3} m; C++ CSF reference ({threads} threads) {secs:.3} s, DTM RMSE {rmse:.3} m — {:.1}× faster (target ≥ 5×{})",
                secs / ours_ground,
                if cfg!(debug_assertions) {
                    "; debug build: use --release"
                } else {
                    ""
                }
            );
        }
        None => println!(
            "ground: TwinMint {ours_ground:.3} s, DTM RMSE {ours_rmse:.3} m; reference not run: \
             python3 -m venv .venv-bench && .venv-bench/bin/pip install -r scripts/bench-requirements.txt"
        ),
    }
    Ok(())
}
