//! Wall-to-wall surveys on the engines clusters have: `twinmint plan` (tiles from headers),
//! `twinmint tile run` (one stateless task), `twinmint merge`, and the executors — local
//! processes (`twinmint survey run`), a Slurm array with a dependent merge job
//! (`twinmint submit slurm`), a Kubernetes Indexed Job and merge Job (`twinmint submit k8s`).
//! Every executor runs the same task command, so a tile behaves the same everywhere.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use survey::executors::{K8sJobs, array_spec, k8s_manifests};
use survey::plan::Plan;
use survey::tile::{Outcome, is_done, run_tile};

use super::Ctx;
use super::progress::Bar;

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// LAS/LAZ files in any tiling, or one large file (only their headers are read).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The survey folder to write (plan.json; tiles/ and merged/ come later).
    #[arg(short, long)]
    output: PathBuf,
    /// Tile size in metres (a whole number of DTM cells).
    #[arg(long, default_value_t = 500.0)]
    tile: f64,
    /// Buffer read around each tile, metres (trees and terrain at a tile's edge see their
    /// neighbours; 30 m holds the largest crowns and the cloth's reach).
    #[arg(long, default_value_t = 30.0)]
    buffer: f64,
    /// Reconstruct options for every tile (JSON, as `twinmint reconstruct --options`).
    #[arg(long)]
    options: Option<PathBuf>,
}

pub fn plan(a: PlanArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let opts: reconstruct::pipeline::ReconstructOptions = match &a.options {
        Some(p) => super::options_file(p, "reconstruct options")?,
        None => Default::default(),
    };
    let plan = survey::plan::plan(&a.inputs, a.tile, a.buffer, opts)?;
    plan.write(&a.output)?;
    let points: u64 = plan.tiles.iter().map(|t| t.points_estimate).sum();
    let peak = plan.max_memory_bytes();
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "survey": a.output.display().to_string(),
                "tiles": plan.tiles.len(),
                "inputs": plan.inputs.len(),
                "points_estimate": points,
                "max_memory_bytes": peak,
            })
        );
    } else {
        println!(
            "{}: {} tiles of {} m (+{} m buffer) over {} input(s); ~{:.1} M points read in all; largest task ~{:.0} MB",
            a.output.display(),
            plan.tiles.len(),
            plan.tile_m,
            plan.buffer_m,
            plan.inputs.len(),
            points as f64 / 1e6,
            peak as f64 / 1e6
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct TileCmd {
    #[command(subcommand)]
    what: TileWhat,
}

#[derive(Subcommand, Debug)]
enum TileWhat {
    /// Run one tile task (a no-op when it is done).
    Run(TileRunArgs),
}

#[derive(Args, Debug)]
struct TileRunArgs {
    survey: PathBuf,
    /// Tile index; default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX (Kubernetes).
    #[arg(long)]
    index: Option<usize>,
}

/// The task index from the flag or the scheduler's environment.
fn task_index(flag: Option<usize>) -> anyhow::Result<usize> {
    if let Some(i) = flag {
        return Ok(i);
    }
    for var in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] {
        if let Ok(v) = std::env::var(var) {
            return v
                .trim()
                .parse()
                .with_context(|| format!("{var}={v:?} is not a tile index"));
        }
    }
    bail!("--index is required (or run under a Slurm array / Kubernetes Indexed Job)")
}

pub fn tile(c: TileCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let TileWhat::Run(a) = c.what;
    let index = task_index(a.index)?;
    let bar = Bar::new(ctx.quiet, format!("tile {index}"));
    let outcome = run_tile(
        &a.survey,
        index,
        None,
        &mut |label, f| bar.set(label, f),
        &ctx.cancel,
    )?;
    bar.finish();
    if ctx.json {
        // The process's own peak resident memory, for the executors (`bench survey`).
        let peak = super::peak::bytes();
        let (ran, points, trees) = match &outcome {
            Outcome::AlreadyDone => (false, 0, 0),
            Outcome::Ran(d) => (true, d.points_read, d.trees),
        };
        println!(
            "{}",
            serde_json::json!({
                "index": index,
                "ran": ran,
                "points_read": points,
                "trees": trees,
                "peak_bytes": peak,
            })
        );
        return Ok(());
    }
    match outcome {
        Outcome::AlreadyDone => println!("tile {index}: already done"),
        Outcome::Ran(d) => println!(
            "tile {index}: {} points read, {} trees in the core",
            d.points_read, d.trees
        ),
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    survey: PathBuf,
    /// Wait up to this many seconds for tiles still running elsewhere to be done (what a
    /// Kubernetes merge Job applied beside its tiles does; Slurm orders the jobs itself).
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
    /// Parcels (GeoJSON Polygons/MultiPolygons in the survey's CRS): also one project per
    /// parcel under SURVEY/parcels/, each packaged and minted as its own token.
    #[arg(long, value_name = "GEOJSON")]
    parcels: Option<PathBuf>,
}

/// Block until every tile of the survey is done, `limit` at most (checked every 2 s).
fn wait_for_tiles(survey: &Path, limit: Duration, ctx: &Ctx) -> anyhow::Result<()> {
    let mut status = survey::status::SurveyStatus::read(survey)?;
    let start = std::time::Instant::now();
    let mut said = false;
    loop {
        let (left, total) = (status.pending().len(), status.tiles.len());
        if left == 0 {
            return Ok(());
        }
        if start.elapsed() >= limit {
            bail!(
                "{}: {left} of {total} tiles still not done after waiting {} s",
                survey.display(),
                limit.as_secs()
            );
        }
        if !said && !ctx.quiet {
            eprintln!("waiting for {left} of {total} tiles…");
            said = true;
        }
        ctx.cancel.check()?;
        std::thread::sleep(Duration::from_secs(2).min(limit));
        status.refresh();
    }
}

pub fn merge(a: MergeArgs, ctx: &Ctx) -> anyhow::Result<()> {
    if let Some(s) = a.wait {
        wait_for_tiles(&a.survey, Duration::from_secs(s), ctx)?;
    }
    let bar = Bar::new(ctx.quiet, "merge");
    let m = survey::merge::merge_with(
        &a.survey,
        a.parcels.as_deref(),
        &mut |step, f| bar.set(step, f),
        &ctx.cancel,
    )?;
    bar.finish();
    print_merged(&a.survey, &m, ctx)
}

/// What a merge wrote, as JSON or a summary.
fn print_merged(dir: &Path, m: &survey::merge::Merged, ctx: &Ctx) -> anyhow::Result<()> {
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(m)?);
        return Ok(());
    }
    println!(
        "{}: {} tiles merged, {} trees; DTM/CHM mosaics over x {:.0}…{:.0}, y {:.0}…{:.0}",
        dir.join(survey::merge::MERGED_DIR).display(),
        m.tiles,
        m.trees,
        m.extent[0],
        m.extent[2],
        m.extent[1],
        m.extent[3]
    );
    for p in &m.parcels {
        println!(
            "  parcel {}: {} points, {} trees → {}",
            p.name,
            p.points,
            p.trees,
            dir.join(&p.project).display()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct SurveyCmd {
    #[command(subcommand)]
    what: SurveyWhat,
}

#[derive(Subcommand, Debug)]
enum SurveyWhat {
    /// Run every pending tile as local processes, then merge.
    Run(LocalArgs),
}

#[derive(Args, Debug)]
struct LocalArgs {
    survey: PathBuf,
    /// Tile processes at once.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Stop after the tiles (do not merge).
    #[arg(long)]
    no_merge: bool,
}

pub fn survey(c: SurveyCmd, ctx: &Ctx) -> anyhow::Result<()> {
    let SurveyWhat::Run(a) = c.what;
    let bar = Bar::new(ctx.quiet, "survey");
    let merged = twinmint_app::workflow::survey::run_survey(
        &a.survey,
        a.workers,
        !a.no_merge,
        &mut |step, f| bar.set(step, f),
        &ctx.cancel,
    )?;
    bar.finish();
    match merged {
        Some(m) => print_merged(&a.survey, &m, ctx),
        None => Ok(()),
    }
}

#[derive(Args, Debug)]
pub struct SubmitCmd {
    #[command(subcommand)]
    what: SubmitWhat,
}

#[derive(Subcommand, Debug)]
enum SubmitWhat {
    /// Write and submit an `sbatch --array` of the tiles and a dependent merge job.
    Slurm(SlurmArgs),
    /// Render a Kubernetes Indexed Job of the tiles and a merge Job (applied with kubectl on
    /// request).
    K8s(K8sArgs),
}

#[derive(Args, Debug)]
struct SlurmArgs {
    survey: PathBuf,
    #[arg(long)]
    partition: Option<String>,
    /// Time limit per tile (Slurm syntax, e.g. 02:00:00).
    #[arg(long, default_value = "02:00:00")]
    time: String,
    /// Memory per tile (Slurm syntax); default: the plan's largest estimate.
    #[arg(long)]
    mem: Option<String>,
    /// Tiles running at once.
    #[arg(long)]
    max_parallel: Option<usize>,
    /// Only the tiles not done yet (after failures or a killed task).
    #[arg(long)]
    resume: bool,
    /// Write the scripts without submitting.
    #[arg(long)]
    dry_run: bool,
    /// Parcels for the merge job (`merge --parcels`).
    #[arg(long, value_name = "GEOJSON")]
    parcels: Option<PathBuf>,
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn submit_slurm(a: SlurmArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let plan = Plan::read(&a.survey)?;
    let survey = std::fs::canonicalize(&a.survey)?;
    let todo: Vec<usize> = (0..plan.tiles.len())
        .filter(|&i| !a.resume || !is_done(&survey, i))
        .collect();
    if todo.is_empty() {
        println!("every tile is done; nothing to submit (run `twinmint merge`)");
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mem = a
        .mem
        .clone()
        .unwrap_or_else(|| format!("{}M", (plan.max_memory_bytes() / 1_000_000).max(512)));
    let mut array = array_spec(&todo);
    if let Some(k) = a.max_parallel {
        array.push_str(&format!("%{k}"));
    }
    let dir = survey.join("slurm");
    std::fs::create_dir_all(&dir)?;
    let partition = a
        .partition
        .as_deref()
        .map(|p| format!("#SBATCH --partition={p}\n"))
        .unwrap_or_default();
    let tiles = format!(
        "#!/bin/bash\n#SBATCH --job-name=twinmint-tiles\n#SBATCH --array={array}\n#SBATCH --time={}\n#SBATCH --mem={mem}\n#SBATCH --cpus-per-task=1\n#SBATCH --output={}/tile-%a.log\n{partition}set -euo pipefail\nexec {} --quiet tile run {} --index \"$SLURM_ARRAY_TASK_ID\"\n",
        a.time,
        dir.display(),
        sh_quote(&exe.to_string_lossy()),
        sh_quote(&survey.to_string_lossy())
    );
    let parcels = match &a.parcels {
        Some(p) => format!(
            " --parcels {}",
            sh_quote(&std::fs::canonicalize(p)?.to_string_lossy())
        ),
        None => String::new(),
    };
    let merge = format!(
        "#!/bin/bash\n#SBATCH --job-name=twinmint-merge\n#SBATCH --time={}\n#SBATCH --mem={mem}\n#SBATCH --output={}/merge.log\n{partition}set -euo pipefail\nexec {} --quiet merge {}{parcels}\n",
        a.time,
        dir.display(),
        sh_quote(&exe.to_string_lossy()),
        sh_quote(&survey.to_string_lossy())
    );
    capture::atomic::write_bytes(&dir.join("tiles.sbatch"), tiles.as_bytes())?;
    capture::atomic::write_bytes(&dir.join("merge.sbatch"), merge.as_bytes())?;
    if a.dry_run {
        println!(
            "wrote {} (array {array}) and {}",
            dir.join("tiles.sbatch").display(),
            dir.join("merge.sbatch").display()
        );
        return Ok(());
    }
    let sbatch = |args: &[String]| -> anyhow::Result<String> {
        let out = Command::new("sbatch")
            .args(args)
            .output()
            .context("running sbatch (is Slurm installed here?)")?;
        if !out.status.success() {
            bail!(
                "sbatch failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string())
    };
    let tiles_job = sbatch(&[
        "--parsable".into(),
        dir.join("tiles.sbatch").to_string_lossy().into_owned(),
    ])?;
    let merge_job = sbatch(&[
        "--parsable".into(),
        format!("--dependency=afterok:{tiles_job}"),
        dir.join("merge.sbatch").to_string_lossy().into_owned(),
    ])?;
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({"tiles_job": tiles_job, "merge_job": merge_job, "array": array})
        );
    } else {
        println!(
            "submitted tiles as job {tiles_job} (array {array}); merge as job {merge_job} after it"
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
struct K8sArgs {
    survey: PathBuf,
    /// Container image with the headless twinmint binary.
    #[arg(long)]
    image: String,
    /// PersistentVolumeClaim holding the survey and its inputs, mounted at the same path.
    #[arg(long)]
    volume: String,
    /// Tile pods at once.
    #[arg(long, default_value_t = 4)]
    parallelism: usize,
    /// Apply with kubectl after writing.
    #[arg(long)]
    apply: bool,
    /// Parcels for the merge Job (`merge --parcels`; a path the pods see on the volume).
    #[arg(long, value_name = "GEOJSON")]
    parcels: Option<PathBuf>,
}

fn submit_k8s(a: K8sArgs) -> anyhow::Result<()> {
    let plan = Plan::read(&a.survey)?;
    let survey = std::fs::canonicalize(&a.survey)?;
    let name: String = survey
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_else(|| "survey".into())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(40)
        .collect();
    let parcels = a
        .parcels
        .as_ref()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
    let yaml = k8s_manifests(&K8sJobs {
        name: &name,
        survey: &survey,
        tiles: plan.tiles.len(),
        parallelism: a.parallelism,
        image: &a.image,
        claim: &a.volume,
        memory_bytes: plan.max_memory_bytes(),
        parcels: parcels.as_deref(),
    });
    let dir = survey.join("k8s");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("survey.yaml");
    capture::atomic::write_bytes(&path, yaml.as_bytes())?;
    println!(
        "wrote {} (Indexed Job of {} tiles, parallelism {}; a merge Job that waits for them)",
        path.display(),
        plan.tiles.len(),
        a.parallelism
    );
    if a.apply {
        let out = Command::new("kubectl")
            .args(["apply", "-f"])
            .arg(&path)
            .output()
            .context("running kubectl (is it installed and configured?)")?;
        if !out.status.success() {
            bail!(
                "kubectl apply failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}

pub fn submit(c: SubmitCmd, ctx: &Ctx) -> anyhow::Result<()> {
    match c.what {
        SubmitWhat::Slurm(a) => submit_slurm(a, ctx),
        SubmitWhat::K8s(a) => submit_k8s(a),
    }
}
