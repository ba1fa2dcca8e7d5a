//! The reconstruct stage's hand-off type: [`Reconstruction`], what `reconstruction.json` holds and
//! what the growth model and the mint consume.

use serde::{Deserialize, Serialize};

use capture::Crs;

/// Version of `reconstruction.json`'s layout.
/// 2: `device` and `timings` moved into `run` ([`RunInfo`]); `generator` added.
/// 3: trees carry `species` ([`SpeciesCall`]).
pub const RECONSTRUCTION_SCHEMA_VERSION: u32 = 3;

/// Most cells one grid of the reconstruct stage may have — the DTM, the CHM or the ground
/// filter's cloth: 200 M cells (0.8 GB as `f32`, several times that while it is computed). A
/// finer resolution over a larger extent is refused before any work starts; tile the scan.
pub const MAX_GRID_CELLS: f64 = 200.0e6;
/// Coarsest cell size any grid option accepts (1 km: coarser says nothing about a plot).
pub const MAX_GRID_RESOLUTION_M: f64 = 1000.0;

/// Check a grid `option` of `resolution_m` cells over a `width_m × depth_m` extent: the
/// resolution must be a positive finite length up to [`MAX_GRID_RESOLUTION_M`] and the cell count
/// at most [`MAX_GRID_CELLS`]. Counted in `f64`, so a zero or tiny resolution cannot overflow.
pub fn check_grid(
    option: &'static str,
    resolution_m: f64,
    width_m: f64,
    depth_m: f64,
) -> crate::Result<()> {
    let bad = |reason: String| Err(crate::ReconstructError::InvalidOption { option, reason });
    let shown = readable(resolution_m);
    if !(resolution_m.is_finite() && resolution_m > 0.0) {
        return bad(format!("{shown} is not a positive length in metres"));
    }
    if resolution_m > MAX_GRID_RESOLUTION_M {
        return bad(format!(
            "{shown} m is coarser than the {MAX_GRID_RESOLUTION_M} m limit"
        ));
    }
    if width_m.is_nan() || depth_m.is_nan() {
        return bad("the scan's extent is not a number".into());
    }
    let (w, d) = (width_m.abs(), depth_m.abs());
    let cells = ((w / resolution_m).floor() + 1.0) * ((d / resolution_m).floor() + 1.0);
    if cells.is_nan() || cells > MAX_GRID_CELLS {
        // The finest resolution that stays under the cap.
        let finest = ((w * d) / MAX_GRID_CELLS)
            .sqrt()
            .max(w.max(d) / MAX_GRID_CELLS)
            .max(f64::MIN_POSITIVE);
        return bad(format!(
            "{shown} m over the scan's {w:.0} × {d:.0} m is {} cells (about {} GB per raster); \
             the limit is {:.0} M cells — use at least {:.3} m or tile the scan",
            if cells.is_finite() {
                format!("{cells:.3e}")
            } else {
                "over 1e308".into()
            },
            if cells.is_finite() {
                format!("{:.1}", cells * 4.0 / 1e9)
            } else {
                "unbounded".into()
            },
            MAX_GRID_CELLS / 1e6,
            finest * 1.001
        ));
    }
    Ok(())
}

/// `v` as written, or in exponent form when that would run to dozens of digits (1e-300).
fn readable(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-6..1e15).contains(&v.abs()) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// A north-up raster in the project CRS (DTM, CHM). Row 0 is the northern edge, as in GeoTIFF.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Raster {
    /// Absolute x of the western edge of column 0.
    pub x_min: f64,
    /// Absolute y of the northern edge of row 0.
    pub y_max: f64,
    /// Cell size in metres (square cells).
    pub resolution_m: f64,
    pub width: usize,
    pub height: usize,
    /// Row-major values, `width * height`; `nodata` where undefined. Not serialised into
    /// `reconstruction.json` (written as GeoTIFF instead).
    #[serde(skip)]
    pub data: Vec<f32>,
    pub nodata: f32,
}

impl Raster {
    /// A raster covering `[x_min, x_max] × [y_min, y_max]` filled with `nodata`.
    pub fn covering(
        x_min: f64,
        y_min: f64,
        x_max: f64,
        y_max: f64,
        resolution_m: f64,
        nodata: f32,
    ) -> Self {
        let width = (((x_max - x_min) / resolution_m).ceil() as usize).max(1);
        let height = (((y_max - y_min) / resolution_m).ceil() as usize).max(1);
        Raster {
            x_min,
            y_max: y_min + height as f64 * resolution_m,
            resolution_m,
            width,
            height,
            data: vec![nodata; width * height],
            nodata,
        }
    }
    /// Cell (column, row) containing absolute (x, y), if inside.
    pub fn cell_of(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let c = ((x - self.x_min) / self.resolution_m).floor();
        let r = ((self.y_max - y) / self.resolution_m).floor();
        (c >= 0.0 && r >= 0.0 && (c as usize) < self.width && (r as usize) < self.height)
            .then_some((c as usize, r as usize))
    }
    /// Absolute centre of cell (column, row).
    pub fn center(&self, col: usize, row: usize) -> (f64, f64) {
        (
            self.x_min + (col as f64 + 0.5) * self.resolution_m,
            self.y_max - (row as f64 + 0.5) * self.resolution_m,
        )
    }
    pub fn get(&self, col: usize, row: usize) -> f32 {
        self.data[row * self.width + col]
    }
    pub fn is_nodata(&self, v: f32) -> bool {
        v == self.nodata || v.is_nan()
    }
    /// Bilinear interpolation between cell centres (nearest valid cell at the edges); `None`
    /// outside the raster or where all neighbours are nodata.
    pub fn sample(&self, x: f64, y: f64) -> Option<f64> {
        let fx = (x - self.x_min) / self.resolution_m - 0.5;
        let fy = (self.y_max - y) / self.resolution_m - 0.5;
        if fx < -0.5 || fy < -0.5 || fx > self.width as f64 - 0.5 || fy > self.height as f64 - 0.5 {
            return None;
        }
        let c0 = fx.floor().clamp(0.0, (self.width - 1) as f64) as usize;
        let r0 = fy.floor().clamp(0.0, (self.height - 1) as f64) as usize;
        let c1 = (c0 + 1).min(self.width - 1);
        let r1 = (r0 + 1).min(self.height - 1);
        let tx = (fx - c0 as f64).clamp(0.0, 1.0);
        let ty = (fy - r0 as f64).clamp(0.0, 1.0);
        let mut acc = 0.0;
        let mut w = 0.0;
        for (c, r, wt) in [
            (c0, r0, (1.0 - tx) * (1.0 - ty)),
            (c1, r0, tx * (1.0 - ty)),
            (c0, r1, (1.0 - tx) * ty),
            (c1, r1, tx * ty),
        ] {
            let v = self.get(c, r);
            if !self.is_nodata(v) && wt > 0.0 {
                acc += wt * v as f64;
                w += wt;
            }
        }
        if w > 0.0 {
            Some(acc / w)
        } else {
            let v = self.get(
                (fx.round().clamp(0.0, (self.width - 1) as f64)) as usize,
                (fy.round().clamp(0.0, (self.height - 1) as f64)) as usize,
            );
            (!self.is_nodata(v)).then_some(v as f64)
        }
    }
}

/// Whether a tree's DBH was measured from its stem or must be estimated downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbhStatus {
    /// Fitted to a 1.3 m ± 0.1 m stem slice.
    Observed,
    /// The scan does not see stems (typical airborne LiDAR); the growth model estimates DBH
    /// from height and crown (Jucker et al. 2017).
    NotObserved,
}

/// Conifer (gymnosperm) or broadleaf (angiosperm): the split every biomass and growth
/// equation set makes first (Jenkins et al. 2003; Jucker et al. 2017; Chojnacky et al. 2014).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeciesClass {
    Conifer,
    Broadleaf,
}

impl SpeciesClass {
    pub fn name(self) -> &'static str {
        match self {
            SpeciesClass::Conifer => "conifer",
            SpeciesClass::Broadleaf => "broadleaf",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "conifer" | "coniferous" | "softwood" | "gymnosperm" | "needleleaf" => {
                Some(SpeciesClass::Conifer)
            }
            "broadleaf" | "broadleaved" | "deciduous" | "hardwood" | "angiosperm" => {
                Some(SpeciesClass::Broadleaf)
            }
            _ => None,
        }
    }
}

/// Who decided a tree's species.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeciesSource {
    /// The tree's own points (crown shape and vertical profile; [`crate::species`]).
    Points,
    /// A stand composition the user gave (shares by species), assigned by the points' ranking.
    StandComposition,
    /// A field tree list the user gave, matched by position.
    FieldList,
}

/// A tree's species call: class, the species or group name where known, and how it was decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeciesCall {
    pub class: SpeciesClass,
    /// Probability of conifer from the points (the classifier's output), whatever the source.
    pub p_conifer: f64,
    /// A species (e.g. `Picea abies`, `PIPA2`) or a growth-model species group name, when the
    /// user's composition or field list named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub species: Option<String>,
    pub source: SpeciesSource,
}

impl SpeciesCall {
    /// The classifier's call from the points alone: conifer when `p_conifer ≥ 0.5`.
    pub fn from_points(p_conifer: f64) -> SpeciesCall {
        SpeciesCall {
            class: if p_conifer >= 0.5 {
                SpeciesClass::Conifer
            } else {
                SpeciesClass::Broadleaf
            },
            p_conifer,
            species: None,
            source: SpeciesSource::Points,
        }
    }
}

/// One detected tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub id: u32,
    /// Treetop position (absolute CRS coordinates).
    pub x: f64,
    pub y: f64,
    /// Terrain height under the treetop.
    pub ground_z: f64,
    pub height_m: f64,
    pub crown_area_m2: f64,
    /// Diameter of the circle with the crown's area.
    pub crown_diameter_m: f64,
    pub crown_base_height_m: Option<f64>,
    pub point_count: u64,
    /// Crown outline (2D convex hull, absolute coordinates, counter-clockwise).
    pub hull: Vec<[f64; 2]>,
    pub dbh_status: DbhStatus,
    pub dbh_cm: Option<f64>,
    /// RMS of the stem points' distances to the fitted circle.
    pub dbh_fit_rms_cm: Option<f64>,
    /// Conifer or broadleaf and how it was decided (`None` in files from before schema 3).
    #[serde(default)]
    pub species: Option<SpeciesCall>,
}

/// One straight cylinder piece of a pipe run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeSegment {
    pub start: [f64; 3],
    pub end: [f64; 3],
    pub radius_m: f64,
    pub inlier_rms_m: f64,
    pub point_count: u64,
}

/// A pipe run: collinear pieces merged; bends and junctions split runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeRun {
    pub id: u32,
    pub segments: Vec<PipeSegment>,
    pub length_m: f64,
    /// Point-weighted mean radius of the segments.
    pub radius_m: f64,
}

/// Terrain summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TerrainStats {
    pub ground_points: u64,
    pub min_z: f64,
    pub max_z: f64,
    pub mean_z: f64,
    /// Mean and maximum slope of the DTM in degrees.
    pub mean_slope_deg: f64,
    pub max_slope_deg: f64,
    pub area_m2: f64,
}

/// Wall time of one step, for `reconstruction.json` and `twinmint bench reconstruct`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    pub step: String,
    pub device: String,
    pub seconds: f64,
}

/// How one reconstruction run went: where it ran, how long it took, with how many threads, on
/// which host. None of it describes the asset, and all of it changes from run to run, so it
/// lives apart from the asset description ([`Reconstruction::run`]) and the model fingerprint
/// never covers it (see `mint/FINGERPRINT.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    /// `gpu (adapter name, backend)` or `cpu`: where the GPU-capable kernels ran.
    pub device: String,
    /// Wall time of every step.
    pub timings: Vec<StepTiming>,
    /// Rayon worker threads of the pool the run used.
    pub threads: usize,
    /// Host name of the machine, when the OS says.
    pub host: Option<String>,
    /// SHA-256 of every file the run wrote beside `reconstruction.json` (`dtm.tif`, `chm.tif`,
    /// `model.glb`, `classified.laz`). The run commits all of them as one unit
    /// ([`capture::commit`]); these hashes let `package` and `verify` also see a file replaced
    /// by hand or by another tool.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub outputs: std::collections::BTreeMap<String, String>,
}

impl RunInfo {
    /// The run facts of the calling thread's environment: its rayon pool size and the host
    /// name; `device` and `timings` are the caller's.
    pub fn here(device: String, timings: Vec<StepTiming>) -> Self {
        RunInfo {
            device,
            timings,
            threads: rayon::current_num_threads(),
            host: host_name(),
            outputs: Default::default(),
        }
    }
}

/// Host name from the environment or `/proc` (no extra dependency; `None` when neither says).
fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Everything the reconstruct stage found; written as `reconstruction.json`.
///
/// Two halves: the *asset* — terrain, rasters' extents, trees, pipes, the options and the tool
/// version that produced them — which the model fingerprint covers, and [`RunInfo`] (`run`),
/// which it does not. Reading also accepts schema 1 files, whose `device` and `timings` were
/// top-level fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "ReconstructionFile")]
pub struct Reconstruction {
    pub schema_version: u32,
    /// The tool that made it (`twinmint-reconstruct <version>`): a new version may find other
    /// trees in the same scan, so it is part of the asset description.
    pub generator: String,
    pub crs: Crs,
    pub origin: [f64; 3],
    pub terrain: TerrainStats,
    pub dtm: Option<Raster>,
    pub chm: Option<Raster>,
    pub trees: Vec<Tree>,
    pub pipes: Vec<PipeRun>,
    /// The options used, as JSON (so the file documents how it was made).
    pub options: serde_json::Value,
    /// Device, timings, threads, host of the run (not part of the fingerprint).
    pub run: RunInfo,
}

/// The generator string of this build, for [`Reconstruction::generator`].
pub const GENERATOR: &str = concat!("twinmint-reconstruct ", env!("CARGO_PKG_VERSION"));

/// `reconstruction.json` as read: today's layout or schema 1's top-level `device` and
/// `timings`, which [`From`] moves into [`RunInfo`].
#[derive(Deserialize)]
struct ReconstructionFile {
    schema_version: u32,
    #[serde(default)]
    generator: String,
    crs: Crs,
    origin: [f64; 3],
    terrain: TerrainStats,
    dtm: Option<Raster>,
    chm: Option<Raster>,
    trees: Vec<Tree>,
    pipes: Vec<PipeRun>,
    options: serde_json::Value,
    #[serde(default)]
    run: Option<RunInfo>,
    /// Schema 1.
    #[serde(default)]
    device: Option<String>,
    /// Schema 1.
    #[serde(default)]
    timings: Option<Vec<StepTiming>>,
}

impl From<ReconstructionFile> for Reconstruction {
    fn from(f: ReconstructionFile) -> Self {
        let mut run = f.run.unwrap_or_default();
        if let Some(d) = f.device.filter(|_| run.device.is_empty()) {
            run.device = d;
        }
        if let Some(t) = f.timings.filter(|_| run.timings.is_empty()) {
            run.timings = t;
        }
        Reconstruction {
            schema_version: f.schema_version,
            generator: f.generator,
            crs: f.crs,
            origin: f.origin,
            terrain: f.terrain,
            dtm: f.dtm,
            chm: f.chm,
            trees: f.trees,
            pipes: f.pipes,
            options: f.options,
            run,
        }
    }
}
