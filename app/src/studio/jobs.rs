//! Long work off the frame loop: importing scans, reconstructing, simulating and opening
//! projects run on worker threads with a shared progress cell and a cancel flag; the studio
//! polls them each frame, shows a bar per job, and turns failures into entries of the error
//! panel (never a crash: a panicking job is reported as an internal error).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bevy::prelude::*;
use growth_model::output::Simulation;
use growth_model::prices::{Market, PriceScenario};

use crate::studio::project::{OpenedProject, open_project};

/// What a finished job hands back.
pub enum JobOutput {
    Opened(Box<OpenedProject>),
    Simulated(Box<Simulation>),
}

/// Progress and cancellation shared with a worker.
#[derive(Clone, Default)]
pub struct JobCtx {
    pub progress: Arc<Mutex<(String, f32)>>,
    pub cancel: Arc<AtomicBool>,
}

impl JobCtx {
    pub fn set(&self, stage: &str, fraction: f32) {
        if let Ok(mut p) = self.progress.lock() {
            p.0.clear();
            p.0.push_str(stage);
            p.1 = fraction.clamp(0.0, 1.0);
        }
    }
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

pub struct Job {
    pub id: u64,
    pub label: String,
    pub ctx: JobCtx,
    handle: Option<JoinHandle<Result<JobOutput, String>>>,
}

impl Job {
    pub fn progress(&self) -> (String, f32) {
        self.ctx
            .progress
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }
    pub fn cancel(&self) {
        self.ctx.cancel.store(true, Ordering::Relaxed);
    }
}

/// Running jobs.
#[derive(Resource, Default)]
pub struct Jobs {
    pub running: Vec<Job>,
    next: u64,
}

impl Jobs {
    pub fn spawn(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&JobCtx) -> Result<JobOutput, String> + Send + 'static,
    ) -> u64 {
        self.next += 1;
        let ctx = JobCtx::default();
        let worker_ctx = ctx.clone();
        let handle = std::thread::Builder::new()
            .name("twinmint-job".into())
            .spawn(move || work(&worker_ctx))
            .ok();
        let label = label.into();
        self.running.push(Job {
            id: self.next,
            label,
            ctx,
            handle,
        });
        self.next
    }

    pub fn is_busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Jobs that have finished, with their results (removed from `running`).
    pub fn take_finished(&mut self) -> Vec<(String, Result<JobOutput, String>, bool)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.running.len() {
            let done = self.running[i]
                .handle
                .as_ref()
                .is_none_or(|h| h.is_finished());
            if !done {
                i += 1;
                continue;
            }
            let job = self.running.remove(i);
            let cancelled = job.ctx.cancelled();
            let result = match job.handle {
                None => Err("could not start a worker thread".to_string()),
                Some(h) => h
                    .join()
                    .unwrap_or_else(|_| Err("internal error: the job panicked".to_string())),
            };
            let result = result.map_err(|e| capture::commit::public_paths(&e));
            out.push((job.label, result, cancelled));
        }
        out
    }
}

/// One entry of the error panel.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorEntry {
    pub source: String,
    pub message: String,
}

/// Errors shown to the user until dismissed.
#[derive(Resource, Default, Clone, Debug)]
pub struct Errors(pub Vec<ErrorEntry>);

impl Errors {
    pub fn push(&mut self, source: impl Into<String>, message: impl Into<String>) {
        self.0.push(ErrorEntry {
            source: source.into(),
            message: message.into(),
        });
    }
}

/// Where an import of `first` goes: `<dir>/<stem>.twinmint`, numbered if that exists.
pub fn project_dir_for(first: &Path) -> PathBuf {
    let parent = first.parent().unwrap_or(Path::new("."));
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scan".into());
    let mut dir = parent.join(format!("{stem}.twinmint"));
    let mut n = 2;
    while dir.exists() {
        dir = parent.join(format!("{stem}-{n}.twinmint"));
        n += 1;
    }
    dir
}

/// Price anchor and scenario the finance view re-runs the simulation with.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulateSettings {
    pub market: Market,
    pub scenario: PriceScenario,
    pub years: u32,
    pub runs: u32,
    pub seed: u64,
}

impl Default for SimulateSettings {
    fn default() -> Self {
        SimulateSettings {
            market: Market::Cea,
            scenario: PriceScenario::Flat,
            years: 30,
            runs: 300,
            seed: 42,
        }
    }
}

/// The growth model's trees from a reconstruction (DBH predicted where the scan saw no stem).
/// The species call goes in as the conifer/broadleaf class and, where the user's composition or
/// field list named one, the species; the growth model resolves the group from them
/// (species → class → default, see `growth_model::AllometryOptions::resolve_group`).
pub fn reconstruction_trees(rec: &reconstruct::Reconstruction) -> Vec<growth_model::TreeInput> {
    rec.trees.iter().map(tree_input).collect()
}

/// One reconstructed tree as the growth model's input: its species call becomes the conifer
/// flag and, where the user named one, the species.
pub fn tree_input(t: &reconstruct::Tree) -> growth_model::TreeInput {
    growth_model::TreeInput {
        id: t.id,
        x: t.x,
        y: t.y,
        height_m: t.height_m,
        crown_diameter_m: t.crown_diameter_m,
        dbh_cm: t.dbh_cm,
        species_group: None,
        conifer: t
            .species
            .as_ref()
            .map(|s| s.class == reconstruct::model::SpeciesClass::Conifer),
        species: t.species.as_ref().and_then(|s| s.species.clone()),
    }
}

/// Simulate a reconstructed project and write `simulation.json` and its CSV tables, as
/// `twinmint simulate` does with these settings.
pub fn simulate_project(
    dir: &Path,
    s: &SimulateSettings,
    ctx: &JobCtx,
) -> Result<Simulation, String> {
    let manifest = capture::project::open(dir).map_err(|e| e.to_string())?;
    let rec = reconstruct::pipeline::read_reconstruction(dir).map_err(|e| e.to_string())?;
    let trees = reconstruction_trees(&rec);
    if trees.is_empty() {
        return Err(format!("{}: no trees to simulate", dir.display()));
    }
    let mut o = growth_model::SimulationOptions {
        years: s.years,
        runs: s.runs,
        seed: s.seed,
        ..Default::default()
    };
    if let Some(y) = capture_year(&manifest) {
        o.start_year = y;
    }
    o.area_ha = plot_area_ha(&manifest);
    if let Some(a) = previous_allometry(dir) {
        o.allometry = a;
    }
    o.price.series = growth_model::prices::builtin(s.market).map_err(|e| e.to_string())?;
    o.price.scenario = s.scenario.clone();
    let cancel = growth_model::CancelToken::from_flag(ctx.cancel.clone());
    let sim = growth_model::run(
        &trees,
        &o,
        &mut |done, total| ctx.set("Simulating", done as f32 / total.max(1) as f32),
        &cancel,
    )
    .map_err(|e| e.to_string())?;
    write_simulation(dir, &sim).map_err(|e| e.to_string())?;
    Ok(sim)
}

/// The allometry (region, equations) of the project's existing `simulation.json`, so that a
/// re-run for other prices keeps what `twinmint simulate --region …` chose.
pub fn previous_allometry(dir: &Path) -> Option<growth_model::AllometryOptions> {
    #[derive(serde::Deserialize)]
    struct Options {
        #[serde(default)]
        allometry: growth_model::AllometryOptions,
    }
    #[derive(serde::Deserialize)]
    struct Settings {
        options: Options,
    }
    #[derive(serde::Deserialize)]
    struct View {
        settings: Settings,
    }
    let bytes = std::fs::read(dir.join("simulation.json")).ok()?;
    serde_json::from_slice::<View>(&bytes)
        .ok()
        .map(|v| v.settings.options.allometry)
}

/// The year the capture started (the simulation's year 0), when the manifest knows it.
pub fn capture_year(manifest: &capture::project::Manifest) -> Option<i32> {
    manifest
        .capture_start
        .map(|t| chrono::Datelike::year(&t.date_naive()))
}

/// The plot's area from the manifest's bounding box, in hectares.
pub fn plot_area_ha(manifest: &capture::project::Manifest) -> Option<f64> {
    let b = &manifest.bounds;
    (!b.is_empty()).then(|| b.area_xy() / 10_000.0)
}

/// Write `simulation.json`, `stand.csv`, `trees.csv` and `collateral.csv` into the project as
/// one unit: an interrupted run leaves the previous four, never a mix of old and new tables.
pub fn write_simulation(dir: &Path, sim: &Simulation) -> capture::Result<()> {
    let mut commit = capture::commit::Commit::begin(dir)?;
    for (name, text) in [
        ("simulation.json", sim.to_json()),
        ("stand.csv", growth_model::stand_csv(sim)),
        ("trees.csv", growth_model::trees_csv(sim)),
        ("collateral.csv", growth_model::collateral_csv(sim)),
    ] {
        capture::atomic::write_bytes(&commit.path(name), text.as_bytes())?;
    }
    commit.commit()
}

/// Reconstruct a project with default options (device auto), writing its outputs.
pub fn reconstruct_project(dir: &Path, ctx: &JobCtx) -> Result<(), String> {
    let cancel = capture::CancelToken::from_flag(ctx.cancel.clone());
    let (_m, cloud) = capture::project::load_cloud(
        dir,
        &mut |e: capture::ProgressEvent| {
            if let Some(t) = e.total_points.filter(|&t| t > 0) {
                ctx.set("Loading cloud", e.points as f32 / t as f32);
            }
        },
        &cancel,
    )
    .map_err(|e| e.to_string())?;
    let o = reconstruct::pipeline::ReconstructOptions::default();
    let out = reconstruct::pipeline::run(
        &cloud,
        &o,
        &mut |stage: reconstruct::pipeline::Stage, f: f32| ctx.set(stage.label(), f),
        &cancel,
    )
    .map_err(|e| e.to_string())?;
    ctx.set("Writing results", 1.0);
    reconstruct::pipeline::write_outputs(dir, &out, &o, &mut capture::NoProgress, &cancel)
        .map_err(|e| e.to_string())
}

/// The surveyor's import: scans → new project → reconstruct → simulate → open.
pub fn import_scans(files: Vec<PathBuf>, ctx: &JobCtx) -> Result<JobOutput, String> {
    let first = files.first().ok_or("no files to import")?.clone();
    let dir = project_dir_for(&first);
    let cancel = capture::CancelToken::from_flag(ctx.cancel.clone());
    let opts = capture::project::IngestOptions::default();
    let mut events = |e: capture::project::IngestEvent| match e {
        capture::project::IngestEvent::Source { index, count, .. } => {
            ctx.set(&format!("Reading scan {}/{}", index + 1, count), 0.0)
        }
        capture::project::IngestEvent::Progress(p) => {
            if let Some(t) = p.total_points.filter(|&t| t > 0) {
                let stage = ctx.progress.lock().map(|p| p.0.clone()).unwrap_or_default();
                ctx.set(&stage, p.points as f32 / t as f32);
            }
        }
        capture::project::IngestEvent::Writing { .. } => ctx.set("Writing project", 1.0),
    };
    capture::project::ingest(&files, &dir, &opts, &mut events, &cancel)
        .map_err(|e| e.to_string())?;
    reconstruct_project(&dir, ctx)?;
    if let Err(e) = simulate_project(&dir, &SimulateSettings::default(), ctx) {
        // No trees (a pipe rack, a building): the project is still worth opening.
        warn!("simulation skipped: {e}");
    }
    open(&dir, ctx)
}

/// Open a project for viewing.
pub fn open(dir: &Path, ctx: &JobCtx) -> Result<JobOutput, String> {
    let c = ctx.clone();
    let p = open_project(dir, &move |stage, f| c.set(stage, f), &ctx.cancel)
        .map_err(|e| e.to_string())?;
    Ok(JobOutput::Opened(Box::new(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_and_panicking_jobs_become_errors() {
        let mut jobs = Jobs::default();
        jobs.spawn("fails", |_| Err("bad file".into()));
        jobs.spawn("panics", |_| panic!("boom"));
        let mut results = Vec::new();
        for _ in 0..500 {
            results.extend(jobs.take_finished());
            if results.len() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(results.len(), 2);
        for (label, r, _) in &results {
            let e = r.as_ref().err().expect("an error");
            match label.as_str() {
                "fails" => assert_eq!(e, "bad file"),
                _ => assert!(e.contains("panicked")),
            }
        }
        assert!(!jobs.is_busy());
    }

    #[test]
    fn cancel_reaches_the_worker() {
        let mut jobs = Jobs::default();
        jobs.spawn("waits", |ctx| {
            while !ctx.cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err("cancelled".into())
        });
        jobs.running[0].cancel();
        let mut got = Vec::new();
        for _ in 0..500 {
            got = jobs.take_finished();
            if !got.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got.len(), 1);
        assert!(got[0].2, "reported as cancelled");
    }

    #[test]
    fn import_target_does_not_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("plot.laz");
        assert_eq!(project_dir_for(&scan), dir.path().join("plot.twinmint"));
        std::fs::create_dir(dir.path().join("plot.twinmint")).unwrap();
        assert_eq!(project_dir_for(&scan), dir.path().join("plot-2.twinmint"));
    }
}
