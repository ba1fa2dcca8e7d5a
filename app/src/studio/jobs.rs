//! Long work off the frame loop: importing scans, reconstructing, simulating and opening
//! projects run on worker threads with a shared progress cell and a cancel flag; the studio
//! polls them each frame, shows a bar per job, and turns failures into entries of the error
//! panel (never a crash: a panicking job is reported as an internal error).

use crate::studio::error::{StudioError, StudioResult};
use capture::CancelToken;
use std::path::{Path, PathBuf};
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

/// Progress and cancellation shared with a worker, and the device GPU steps run on.
#[derive(Clone, Default)]
pub struct JobCtx {
    pub progress: Arc<Mutex<(String, f32)>>,
    pub cancel: CancelToken,
    /// The studio's own render device ([`adopt_render_device`]), so reconstruct jobs do not open a second
    /// device; `None` outside a running studio (tests): reconstruct's process-wide device.
    pub gpu: Option<Arc<reconstruct::gpu::GpuContext>>,
}

/// Bevy's render device as a reconstruct compute context, from the main world's
/// `RenderDevice`, `RenderQueue` and `RenderAdapterInfo`; `None` without a renderer.
fn render_device_as_gpu(world: &World) -> Option<Arc<reconstruct::gpu::GpuContext>> {
    use bevy::render::renderer::{RenderAdapterInfo, RenderDevice, RenderQueue};
    let d = world.get_resource::<RenderDevice>()?;
    let q = world.get_resource::<RenderQueue>()?;
    let i = world.get_resource::<RenderAdapterInfo>()?;
    Some(Arc::new(reconstruct::gpu::GpuContext::from_device(
        wgpu::Device::clone(d.wgpu_device()),
        wgpu::Queue::clone(&q.0),
        &i.0,
        d.limits(),
    )))
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
        self.cancel.is_cancelled()
    }
}

pub struct Job {
    pub id: u64,
    pub label: String,
    pub ctx: JobCtx,
    /// The worker, or why it could not be started.
    handle: std::io::Result<JoinHandle<StudioResult<JobOutput>>>,
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
        self.ctx.cancel.cancel();
    }
}

/// Running jobs.
#[derive(Resource, Default)]
pub struct Jobs {
    pub running: Vec<Job>,
    next: u64,
    /// The device jobs' GPU steps run on (Bevy's, set at startup by [`adopt_render_device`]).
    pub gpu: Option<Arc<reconstruct::gpu::GpuContext>>,
}

/// Startup: hand Bevy's render device to the jobs (one device for drawing and compute).
pub fn adopt_render_device(world: &mut World) {
    let gpu = render_device_as_gpu(world);
    if let Some(mut jobs) = world.get_resource_mut::<Jobs>() {
        jobs.gpu = gpu;
    }
}

impl Jobs {
    pub fn spawn(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&JobCtx) -> StudioResult<JobOutput> + Send + 'static,
    ) -> u64 {
        self.next += 1;
        let ctx = JobCtx {
            gpu: self.gpu.clone(),
            ..Default::default()
        };
        let worker_ctx = ctx.clone();
        let handle = std::thread::Builder::new()
            .name("twinmint-job".into())
            .spawn(move || work(&worker_ctx));
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
    pub fn take_finished(&mut self) -> Vec<(String, StudioResult<JobOutput>, bool)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.running.len() {
            let done = self.running[i]
                .handle
                .as_ref()
                .map_or(true, |h| h.is_finished());
            if !done {
                i += 1;
                continue;
            }
            let job = self.running.remove(i);
            let cancelled = job.ctx.cancelled();
            let result = match job.handle {
                Err(source) => Err(StudioError::Thread {
                    what: "job",
                    source,
                }),
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err(StudioError::Panic("the job panicked".to_string()))),
            };
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
    /// One entry; staging paths in `message` are rewritten to the user's paths
    /// ([`capture::commit::public_paths`]).
    pub fn push(&mut self, source: impl Into<String>, message: impl std::fmt::Display) {
        self.0.push(ErrorEntry {
            source: source.into(),
            message: capture::commit::public_paths(&message.to_string()),
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

/// Simulate a reconstructed project and write `simulation.json` and its CSV tables, as
/// `twinmint simulate` does with these settings (through [`crate::workflow::simulate`]); a re-run
/// keeps the allometry (region) an earlier run chose.
pub fn simulate_project(
    dir: &Path,
    s: &SimulateSettings,
    ctx: &JobCtx,
) -> StudioResult<Simulation> {
    use crate::workflow::simulate as wf;
    let run = || -> crate::workflow::WorkflowResult<Simulation> {
        let manifest = capture::project::open(dir)?;
        let trees = wf::project_trees(dir)?;
        let mut o = growth_model::SimulationOptions {
            years: s.years,
            runs: s.runs,
            seed: s.seed,
            ..Default::default()
        };
        if let Some(y) = wf::capture_year(&manifest) {
            o.start_year = y;
        }
        o.area_ha = wf::plot_area_ha(&manifest);
        if let Some(a) = wf::previous_allometry(dir) {
            o.allometry = a;
        }
        o.price.series = growth_model::prices::builtin(s.market)?;
        o.price.scenario = s.scenario.clone();
        let cancel = ctx.cancel.clone();
        wf::simulate_project(dir, &trees, &o, &mut |l, f| ctx.set(l, f), &cancel)
    };
    Ok(run()?)
}

/// Reconstruct a project with default options (device auto), writing its outputs.
pub fn reconstruct_project(dir: &Path, ctx: &JobCtx) -> StudioResult<()> {
    let cancel = ctx.cancel.clone();
    crate::workflow::reconstruct::reconstruct_project(
        dir,
        &reconstruct::pipeline::ReconstructOptions::default(),
        ctx.gpu.as_ref(),
        &mut |l, f| ctx.set(l, f),
        &cancel,
    )
    .map(|_| ())?;
    Ok(())
}

/// A dropped folder of drone photos → a project from their dense reconstruction (the
/// photogrammetry step, PatchMatch on the studio's own device when it is a hardware GPU).
fn import_photos(folder: &Path, dir: &Path, ctx: &JobCtx) -> StudioResult<()> {
    let cancel = ctx.cancel.clone();
    let o = crate::workflow::photogrammetry::PhotogrammetryOptions::default();
    crate::workflow::photogrammetry::ingest_photos(
        folder,
        dir,
        &o,
        false,
        &mut |l, f| ctx.set(l, f),
        &cancel,
    )?;
    Ok(())
}

/// The surveyor's import: scans (or one folder of drone photos) → new project → reconstruct →
/// simulate → open.
pub fn import_scans(files: Vec<PathBuf>, ctx: &JobCtx) -> StudioResult<JobOutput> {
    let first = files.first().ok_or("no files to import")?.clone();
    let dir = project_dir_for(&first);
    if files.len() == 1 && first.is_dir() {
        import_photos(&first, &dir, ctx)?;
        reconstruct_project(&dir, ctx)?;
        if let Err(e) = simulate_project(&dir, &SimulateSettings::default(), ctx) {
            warn!("simulation skipped: {e}");
        }
        return open(&dir, ctx);
    }
    let cancel = ctx.cancel.clone();
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
    capture::project::ingest(&files, &dir, &opts, &mut events, &cancel)?;
    reconstruct_project(&dir, ctx)?;
    if let Err(e) = simulate_project(&dir, &SimulateSettings::default(), ctx) {
        // No trees (a pipe rack, a building): the project is still worth opening.
        warn!("simulation skipped: {e}");
    }
    open(&dir, ctx)
}

/// The surveyor's resurvey: new scans of the open project's asset → a new project beside the
/// scans (co-registered, reconstructed, compared, re-projected by
/// [`crate::workflow::resurvey`]) → open it, its survey timeline in the Growth tab.
pub fn resurvey(previous: &Path, files: Vec<PathBuf>, ctx: &JobCtx) -> StudioResult<JobOutput> {
    let first = files.first().ok_or("no scans to resurvey with")?.clone();
    let dir = project_dir_for(&first);
    let req = crate::workflow::resurvey::ResurveyRequest {
        previous,
        inputs: &files,
        output: &dir,
        ingest: capture::project::IngestOptions::default(),
        options: Default::default(),
    };
    let cancel = ctx.cancel.clone();
    crate::workflow::resurvey::resurvey_project(
        &req,
        ctx.gpu.as_ref(),
        &mut |l, f| ctx.set(l, f),
        &cancel,
    )?;
    open(&dir, ctx)
}

/// The survey's pending tiles as local processes, the merge, then the merged estate opened
/// ([`crate::workflow::survey::run_survey`]).
pub fn run_survey(dir: &Path, ctx: &JobCtx) -> StudioResult<JobOutput> {
    let cancel = ctx.cancel.clone();
    crate::workflow::survey::run_survey(dir, 2, true, &mut |l, f| ctx.set(l, f), &cancel)?;
    open(&dir.join(survey::merge::MERGED_DIR), ctx)
}

/// Open a project for viewing.
pub fn open(dir: &Path, ctx: &JobCtx) -> StudioResult<JobOutput> {
    let c = ctx.clone();
    let p = open_project(dir, &move |stage, f| c.set(stage, f), &ctx.cancel)?;
    Ok(JobOutput::Opened(Box::new(p)))
}
