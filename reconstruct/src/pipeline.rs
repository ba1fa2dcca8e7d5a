//! The whole reconstruct stage in one call: noise → ground (CSF) → DTM → heights → trees → pipes
//! → classified cloud, with per-step timings; and the project files it writes.
//!
//! Each step keeps its own options struct (cited defaults in its module); this module only
//! sequences them, so `twinmint reconstruct`, the studio and the tests run the same code.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use capture::{CancelToken, PointCloud};

use crate::classified::{self, ClassifyOptions};
use crate::dtm::{self, DtmOptions};
use crate::error::{ReconstructError, Result};
use crate::geotiff::{self, GeoTiffOptions};
use crate::gltf::{self, GlbOptions};
use crate::gpu::{DevicePreference, GpuContext, device_label};
use crate::ground::{self, CsfOptions};
use crate::model::{
    GENERATOR, RECONSTRUCTION_SCHEMA_VERSION, Raster, Reconstruction, RunInfo, StepTiming,
};
use crate::noise::{self, NoiseOptions};
use crate::normalize;
use crate::pipes::{self, PipeOptions};
use crate::species_input::SpeciesInput;
use crate::step::StepCtx;
use crate::trees::{self, TreeOptions};

pub use capture::layout::{CHM_TIF, CLASSIFIED_LAZ, DTM_TIF, MODEL_GLB, RECONSTRUCTION_JSON};

/// Options of the whole stage. Every field defaults to its step's documented default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReconstructOptions {
    /// Where the GPU kernels run: `auto` (a hardware GPU when present, else the CPU twin),
    /// `gpu` (any adapter, including a software one such as lavapipe), `cpu`.
    pub device: DevicePreference,
    /// Statistical outlier removal before anything else (`None` skips it).
    pub noise: Option<NoiseOptions>,
    pub ground: CsfOptions,
    pub dtm: DtmOptions,
    /// Tree detection. `None` (default) picks a profile from the scan's first-return density
    /// ([`TreeOptions::for_density`]); `Some` uses these options as given.
    pub trees: Option<TreeOptions>,
    /// What the user knows about the species ([`crate::species_input`]); applied over the
    /// trees' point-based calls. `None` (default): the points decide.
    pub species: Option<SpeciesInput>,
    /// Skip tree detection entirely (pipeline-only sites).
    pub skip_trees: bool,
    /// Pipe detection over points that are neither noise, ground nor tree (`None` skips it).
    pub pipes: Option<PipeOptions>,
    pub classify: ClassifyOptions,
    pub glb: GlbOptions,
}

impl Default for ReconstructOptions {
    fn default() -> Self {
        ReconstructOptions {
            device: DevicePreference::Auto,
            noise: Some(NoiseOptions::default()),
            ground: CsfOptions::default(),
            dtm: DtmOptions::default(),
            trees: None,
            species: None,
            skip_trees: false,
            pipes: Some(PipeOptions::default()),
            classify: ClassifyOptions::default(),
            glb: GlbOptions::default(),
        }
    }
}

impl ReconstructOptions {
    /// Check every option that can be checked without the cloud (ranges of the ground filter,
    /// DTM, CHM and species input); [`run`] calls this before any work.
    pub fn validate(&self) -> Result<()> {
        self.ground.validate()?;
        self.dtm.validate()?;
        if let Some(t) = &self.trees {
            t.chm.validate()?;
        }
        if let Some(si) = &self.species {
            si.validate()?;
        }
        Ok(())
    }

    /// Check the grids these options would lay over a scan of `bounds` (cloth, DTM, CHM): each
    /// at most [`crate::model::MAX_GRID_CELLS`] cells, so `--dtm-resolution 0.0001` is refused
    /// with the cell count before anything is allocated. [`run`] calls this; the CLI calls it
    /// with the manifest's bounds before loading the cloud.
    pub fn check_extent(&self, bounds: &capture::Bounds) -> Result<()> {
        if bounds.is_empty() {
            return Ok(());
        }
        let (w, d) = (bounds.max[0] - bounds.min[0], bounds.max[1] - bounds.min[1]);
        crate::model::check_grid("cloth_resolution_m", self.ground.cloth_resolution_m, w, d)?;
        crate::model::check_grid("dtm resolution_m", self.dtm.resolution_m, w, d)?;
        if let Some(t) = &self.trees
            && !self.skip_trees
        {
            crate::model::check_grid("chm resolution_m", t.chm.resolution_m, w, d)?;
        }
        Ok(())
    }
}

/// The steps, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Noise,
    Ground,
    Dtm,
    Trees,
    Pipes,
    Classify,
}

impl Stage {
    pub fn label(&self) -> &'static str {
        match self {
            Stage::Noise => "noise",
            Stage::Ground => "ground",
            Stage::Dtm => "terrain",
            Stage::Trees => "trees",
            Stage::Pipes => "pipes",
            Stage::Classify => "classify",
        }
    }
}

/// Everything the stage produced.
#[derive(Clone, Debug)]
pub struct ReconstructOutput {
    pub reconstruction: Reconstruction,
    /// Per-point labels (ground, tree, pipe, noise): the classified cloud is built from them
    /// and the input only when asked ([`Self::classified`]), so a survey tile that never
    /// writes it never holds a second copy of the cloud.
    pub labels: classified::Labels,
    /// How [`Self::classified`] assigns classes.
    pub classify: classified::ClassifyOptions,
    pub dtm: Raster,
    pub chm: Option<Raster>,
}

impl ReconstructOutput {
    /// `cloud` (the input of the run) with ASPRS classes (2 ground, 5 tree, 64 pipe, 7 noise)
    /// and `treeID`.
    pub fn classified(&self, cloud: &PointCloud) -> Result<PointCloud> {
        classified::classified_cloud(cloud, &self.labels.as_point_labels(), &self.classify)
    }

    /// [`Self::classified`] taking the input, without copying it.
    pub fn into_classified(&self, cloud: PointCloud) -> Result<PointCloud> {
        classified::classify_owned(cloud, &self.labels.as_point_labels(), &self.classify)
    }
}

/// Run the stage on a capture cloud (absolute heights). `progress(stage, fraction)`; `cancel`
/// is checked between and inside steps. The GPU steps run on the process-wide device
/// ([`GpuContext::shared`]) when `opts.device` allows; see [`run_on`] to hand over your own.
pub fn run(
    cloud: &PointCloud,
    opts: &ReconstructOptions,
    progress: &mut (dyn FnMut(Stage, f32) + Send),
    cancel: &CancelToken,
) -> Result<ReconstructOutput> {
    run_on(cloud, opts, None, progress, cancel)
}

/// [`run`] on the caller's device (`host`, e.g. the studio's render device), which replaces the
/// process-wide probe; `opts.device` still decides whether the GPU is used at all
/// ([`DevicePreference::resolve_with`]).
pub fn run_on(
    cloud: &PointCloud,
    opts: &ReconstructOptions,
    host: Option<&Arc<GpuContext>>,
    progress: &mut (dyn FnMut(Stage, f32) + Send),
    cancel: &CancelToken,
) -> Result<ReconstructOutput> {
    if cloud.is_empty() {
        return Err(ReconstructError::Input {
            step: "reconstruct",
            reason: "the point cloud is empty".into(),
        });
    }
    opts.validate()?;
    opts.check_extent(&cloud.bounds())?;
    let gpu = opts.device.resolve_with(host)?;
    let dev = device_label(gpu.as_deref());
    let mut timings = Vec::new();
    let mut time = |step: &str, device: &str, t: Instant| {
        timings.push(StepTiming {
            step: step.into(),
            device: device.into(),
            seconds: t.elapsed().as_secs_f64(),
        })
    };
    let n = cloud.len();

    // Noise.
    let t = Instant::now();
    let is_noise = match &opts.noise {
        Some(o) => noise::run(cloud, o, &mut |f| progress(Stage::Noise, f), cancel)?.is_noise,
        None => vec![false; n],
    };
    time("noise", "cpu", t);
    cancel.check().map_err(|_| ReconstructError::Cancelled)?;

    // Ground.
    let t = Instant::now();
    let keep: Vec<bool> = is_noise.iter().map(|x| !x).collect();
    let g = ground::csf::run_masked_on(
        cloud,
        Some(&keep),
        &opts.ground,
        gpu.clone(),
        opts.device == DevicePreference::Auto,
        &mut |f| progress(Stage::Ground, f),
        cancel,
    )?;
    time("ground", &g.device, t);

    // Terrain model and heights.
    let t = Instant::now();
    let dtm = dtm::run_step(
        cloud,
        &g.is_ground,
        &opts.dtm,
        &mut StepCtx::new(None, &mut |f| progress(Stage::Dtm, f), cancel),
    )?;
    let terrain = normalize::terrain_stats(&dtm, g.ground_count() as u64);
    time("dtm", "cpu", t);

    // Trees, on the height-normalised cloud without noise (made from the terrain: see
    // `trees::run_step_from`). Tree ids per point are made after the tree step, not beside its
    // CHM (the step's peak); `None` when trees are skipped.
    let mut tree_id: Option<Vec<u32>> = None;
    let mut trees_found = Vec::new();
    let mut chm = None;
    let mut tree_opts_used = None;
    if !opts.skip_trees {
        let t = Instant::now();
        let src = crate::chm::ChmSource::Terrain {
            cloud,
            keep: Some(&keep),
            dtm: &dtm,
        };
        let topts = opts
            .trees
            .clone()
            .unwrap_or_else(|| TreeOptions::for_density(src.first_return_density()));
        let res = trees::run_step_from(
            &src,
            Some(&dtm),
            &topts,
            &mut StepCtx::new(gpu.as_deref(), &mut |f| progress(Stage::Trees, f), cancel),
        )?;
        tree_id = Some(normalize::scatter_kept(Some(&keep), &res.labels));
        trees_found = res.trees;
        if let Some(si) = &opts.species {
            si.apply(&mut trees_found)?;
        }
        chm = Some(res.chm);
        tree_opts_used = Some(topts);
        time("trees", &dev, t);
        cancel.check().map_err(|_| ReconstructError::Cancelled)?;
    }

    // Pipes, among what is left.
    let mut pipe_runs = Vec::new();
    let mut point_run = None;
    let mut point_post = None;
    if let Some(po) = &opts.pipes {
        let t = Instant::now();
        let mask: Vec<bool> = (0..n)
            .map(|i| !is_noise[i] && !g.is_ground[i] && tree_id.as_ref().is_none_or(|t| t[i] == 0))
            .collect();
        let mut sink = |e: capture::ProgressEvent| {
            if let Some(total) = e.total_points.filter(|t| *t > 0) {
                progress(Stage::Pipes, e.points as f32 / total as f32)
            }
        };
        let det = pipes::run(cloud, Some(&mask), po, &mut sink, cancel)?;
        pipe_runs = det.runs;
        point_run = Some(det.point_run);
        point_post = Some(det.point_post);
        time("pipes", "cpu", t);
    }

    // Labels (the classified cloud is built from them when written).
    progress(Stage::Classify, 1.0);
    let labels = classified::Labels {
        ground: g.is_ground,
        tree_id,
        pipe_run: point_run,
        post: point_post,
        noise: opts.noise.is_some().then_some(is_noise),
    };

    let mut options_json = serde_json::to_value(opts).unwrap_or(serde_json::Value::Null);
    if let (Some(obj), Some(t)) = (options_json.as_object_mut(), tree_opts_used) {
        obj.insert(
            "trees_used".into(),
            serde_json::to_value(t).unwrap_or(serde_json::Value::Null),
        );
    }
    let reconstruction = Reconstruction {
        schema_version: RECONSTRUCTION_SCHEMA_VERSION,
        generator: GENERATOR.to_string(),
        crs: cloud.crs.clone(),
        origin: cloud.origin,
        terrain,
        dtm: Some(dtm.clone()),
        chm: chm.clone(),
        trees: trees_found,
        pipes: pipe_runs,
        options: options_json,
        run: RunInfo::here(dev, timings),
    };
    Ok(ReconstructOutput {
        reconstruction,
        labels,
        classify: opts.classify.clone(),
        dtm,
        chm,
    })
}

/// Write the stage's files into a project folder as one unit ([`capture::commit::Commit`]):
/// `dtm.tif`, `chm.tif`, `model.glb`, `classified.laz` and `reconstruction.json` (with the
/// SHA-256 of the others in `run.outputs`, so `package` and `verify` can also tell files changed
/// by hand). An interrupted run leaves the previous reconstruction complete; a `chm.tif` this
/// run does not make is removed with the commit rather than left beside a model without it.
/// `cloud`, the run's input, is consumed: the classified cloud is made from it in place.
pub fn write_outputs(
    dir: &Path,
    cloud: PointCloud,
    out: &ReconstructOutput,
    opts: &ReconstructOptions,
    progress: &mut dyn capture::Progress,
    cancel: &CancelToken,
) -> Result<()> {
    let mut commit = capture::commit::Commit::begin(dir)?;
    let mut rec = out.reconstruction.clone();
    let crs = &rec.crs;
    let tif = GeoTiffOptions::default();
    let mut written = vec![DTM_TIF];
    let dtm_path = commit.path(DTM_TIF);
    let chm_path = match &out.chm {
        Some(_) => {
            written.push(CHM_TIF);
            Some(commit.path(CHM_TIF))
        }
        None => {
            commit.remove(CHM_TIF);
            None
        }
    };
    let glb_path = commit.path(MODEL_GLB);
    let laz_path = commit.path(CLASSIFIED_LAZ);
    // The rasters and the model are written while the classified cloud is compressed: LAZ
    // compression keeps both cores busy only part of the time.
    let (small, laz) = rayon::join(
        || -> Result<()> {
            geotiff::write_geotiff(&dtm_path, &out.dtm, crs, &tif)?;
            if let (Some(chm), Some(p)) = (&out.chm, &chm_path) {
                geotiff::write_geotiff(p, chm, crs, &tif)?;
            }
            gltf::write_glb(&glb_path, &rec, &BTreeMap::new(), &opts.glb)
        },
        || -> Result<()> {
            let classified = out.into_classified(cloud)?;
            classified::write_classified(&laz_path, &classified, progress, cancel)
        },
    );
    small?;
    laz?;
    cancel.check().map_err(|_| ReconstructError::Cancelled)?;
    written.extend([MODEL_GLB, CLASSIFIED_LAZ]);
    for name in written {
        let p = commit.path(name);
        let (sha, _) = capture::hash::sha256_file(&p)
            .map_err(|e| ReconstructError::write(&dir.join(name), e))?;
        rec.run.outputs.insert(name.to_string(), sha);
    }
    let json = serde_json::to_vec_pretty(&rec)
        .map_err(|e| ReconstructError::write(&dir.join(RECONSTRUCTION_JSON), e))?;
    capture::atomic::write_bytes(&commit.path(RECONSTRUCTION_JSON), &json)
        .map_err(|e| ReconstructError::write(&dir.join(RECONSTRUCTION_JSON), e))?;
    cancel.check().map_err(|_| ReconstructError::Cancelled)?;
    commit.commit()?;
    Ok(())
}

/// Read a project's `reconstruction.json`.
pub fn read_reconstruction(dir: &Path) -> Result<Reconstruction> {
    let p = dir.join(RECONSTRUCTION_JSON);
    let bytes = std::fs::read(&p).map_err(|source| ReconstructError::Read {
        path: p.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ReconstructError::Json { path: p, source })
}
