//! `twinmint bench …`: speed targets measured against the anchors named in the issues, printed
//! as tables with the ratio.

use clap::{Args, Subcommand};

use super::Ctx;

/// The shared data folder: `$TWINMINT_DATA`, else `../shared/data`.
fn shared_data() -> std::path::PathBuf {
    std::env::var_os("TWINMINT_DATA")
        .map(Into::into)
        .unwrap_or_else(|| "../shared/data".into())
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Subcommand, Debug)]
enum BenchWhat {
    /// Inventory accuracy on the visible real and simulator sets (IDTReeS, MixedConifer,
    /// simulator multi-layer stands), this release against the previous one.
    Accuracy {
        /// The shared data folder (default `$TWINMINT_DATA`, else `../shared/data`).
        #[arg(long)]
        data: Option<std::path::PathBuf>,
        /// Tree options (JSON, `TreeOptions`) for every set instead of the density rule.
        #[arg(long)]
        trees: Option<std::path::PathBuf>,
        /// Only this release's profile (or `--trees`), not the previous release's.
        #[arg(long)]
        current_only: bool,
    },
    /// Structure from motion on a photo folder beside COLMAP 3.8 on the same photos (time per
    /// stage, registered photos, reprojection error; target: at least as fast as COLMAP).
    Photogrammetry {
        /// The photo folder (default: Brighton Beach in the shared data).
        #[arg(long)]
        photos: Option<std::path::PathBuf>,
        /// Long side the photos are matched at, pixels (both pipelines).
        #[arg(long, default_value_t = 2000)]
        size: usize,
        /// Also time our dense reconstruction (CPU twin).
        #[arg(long)]
        dense: bool,
    },
    /// The 1 M-point path — ingest → reconstruct → simulate → fingerprint → package — with each
    /// stage's time and peak memory (targets: ≤ 4 s in a release build, peak ≤ 3× the point
    /// bytes).
    Pipeline {
        /// A LAS/LAZ tile (default: a simulated airborne tile of --points points).
        #[arg(long)]
        tile: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 1_000_000)]
        points: u64,
        /// Monte Carlo runs of the simulation.
        #[arg(long, default_value_t = 1_000)]
        runs: u32,
        /// Measure the whole path this many times, each in a fresh project, and report the run
        /// with the median total (1–100).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        repeat: u32,
    },
    /// LAZ decoding in process, into the viewer's octree, and as a whole process against laspy +
    /// lazrs on the same file (targets: ≥ 2× laspy, ≥ 6 M points/s into the octree, ≤ 1.5×
    /// laspy's memory).
    Laz {
        /// A LAS/LAZ file (default: a simulated airborne tile of --points points).
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 5_000_000)]
        points: u64,
        /// Python with scripts/bench-requirements.txt (default .venv-bench/bin/python).
        #[arg(long)]
        python: Option<std::path::PathBuf>,
    },
    /// A tiled survey of ≥ 20 M simulated points run as tile processes with 1 and 2 workers,
    /// beside one process reconstructing everything (points/s, peak memory per worker vs 3× the
    /// tile's raw point bytes).
    Survey {
        /// A LAS/LAZ file (default: a simulated airborne survey of --points points).
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 20_000_000)]
        points: u64,
        /// Side of the simulated square survey, metres.
        #[arg(long, default_value_t = 400.0)]
        side: f64,
        #[arg(long, default_value_t = 100.0)]
        tile: f64,
        #[arg(long, default_value_t = 20.0)]
        buffer: f64,
    },
    /// Growth model: trees × years × Monte Carlo runs (target: 10,000 × 50 × 1,000 under 10 s).
    Simulate {
        #[arg(long, default_value_t = 10_000)]
        trees: usize,
        #[arg(long, default_value_t = 50)]
        years: u32,
        #[arg(long, default_value_t = 1_000)]
        runs: u32,
    },
    /// Reconstruct steps on a ≥ 1 M-point tile (synthetic unless --tile), with the C++ CSF
    /// reference on the same tile (target: ground ≥ 5× faster at equal or lower DTM RMSE).
    Reconstruct {
        /// A LAS/LAZ tile (a `NAME.truth.json` beside it is used for the DTM RMSE).
        #[arg(long)]
        tile: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 1_500_000)]
        points: u64,
        /// Python with scripts/bench-requirements.txt (default .venv-bench/bin/python).
        #[arg(long)]
        python: Option<std::path::PathBuf>,
    },
    /// Cloud fingerprint (canonical records, Morton sort, Merkle tree) on a synthetic cloud
    /// (target: 20 M points/s on 2 cores).
    Fingerprint {
        #[arg(long, default_value_t = 5_000_000)]
        points: usize,
        /// Timed runs (best and mean are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Sealed packages: seal, grant and open a packaged simulated tile of --points points,
    /// against SHA-256 of the same bytes in the same run.
    Seal {
        #[arg(long, default_value_t = 1_000_000)]
        points: u64,
    },
    /// Viewer: load a synthetic cloud, build the octree, time per-frame LOD selection along a
    /// camera orbit (target: selection under 2 ms a frame for 20 M points).
    View {
        #[arg(long, default_value_t = 20_000_000)]
        points: u64,
        /// Point budget per frame.
        #[arg(long, default_value_t = 3_000_000)]
        budget: u64,
        #[arg(long, default_value_t = 240)]
        frames: u32,
    },
}

pub fn run(a: BenchArgs, ctx: &Ctx) -> anyhow::Result<()> {
    match a.what {
        BenchWhat::Accuracy {
            data,
            trees,
            current_only,
        } => {
            let data = data.unwrap_or_else(shared_data);
            let trees = trees
                .map(|p| super::options_file(&p, "tree options"))
                .transpose()?;
            let setup = super::bench_accuracy::BenchSetup {
                trees,
                current_only,
            };
            let r = super::bench_accuracy::measure(&data, &setup, &ctx.cancel)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_accuracy::print(&r);
            }
        }
        BenchWhat::Photogrammetry {
            photos,
            size,
            dense,
        } => {
            let folder = photos.unwrap_or_else(|| shared_data().join("photos/brighton_beach"));
            let r = super::bench_photogrammetry::measure(folder, size, dense, &ctx.cancel)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_photogrammetry::print(&r);
            }
        }
        BenchWhat::Laz {
            file,
            points,
            python,
        } => {
            let r = super::bench_laz::measure(file, points, python, &ctx.cancel)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_laz::print(&r);
            }
        }
        BenchWhat::Survey {
            file,
            points,
            side,
            tile,
            buffer,
        } => {
            let r = super::bench_survey::measure(file, points, side, tile, buffer, &ctx.cancel)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_survey::print(&r);
            }
        }
        BenchWhat::Pipeline {
            tile,
            points,
            runs,
            repeat,
        } => {
            let r = super::bench_pipeline::measure(tile, points, runs, repeat, &ctx.cancel)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_pipeline::print(&r);
            }
        }
        BenchWhat::Reconstruct {
            tile,
            points,
            python,
        } => super::bench_reconstruct::run(tile, points, python, ctx.json)?,
        BenchWhat::View {
            points,
            budget,
            frames,
        } => {
            let r = super::bench_view::measure(points, budget, frames)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_view::print_table(&r);
            }
        }
        BenchWhat::Seal { points } => {
            let r = super::bench_seal::measure(points, &ctx.cancel)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                super::bench_seal::print(&r);
            }
        }
        BenchWhat::Fingerprint { points, runs } => {
            let r = mint::bench::bench(&mint::bench::BenchOptions {
                points,
                runs,
                ..Default::default()
            })?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
                return Ok(());
            }
            let target = 20e6;
            println!("{r}");
            println!(
                "{:.1} M points/s on {} threads; target {:.0} M points/s (ratio {:.2}×{})",
                r.points_per_s / 1e6,
                r.threads,
                target / 1e6,
                r.points_per_s / target,
                if cfg!(debug_assertions) {
                    ", debug build: use --release"
                } else {
                    ""
                }
            );
        }
        BenchWhat::Simulate { trees, years, runs } => {
            let r = growth_model::bench(trees, years, runs)?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
                return Ok(());
            }
            let target = 10.0;
            println!("| step | seconds |");
            println!("|---|---|");
            println!("| precompute | {:.3} |", r.precompute_s);
            println!("| monte carlo | {:.3} |", r.monte_carlo_s);
            println!("| total | {:.3} |", r.total_s);
            println!(
                "{} trees × {} years × {} runs on {} threads: {:.2} s — {:.3e} tree-years/s; target {target} s (ratio {:.2}×{})",
                r.trees,
                r.years,
                r.runs,
                r.threads,
                r.total_s,
                r.tree_years_per_s,
                target / r.total_s,
                if cfg!(debug_assertions) {
                    ", debug build: use --release"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}
