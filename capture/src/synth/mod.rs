//! The LiDAR scan simulator: deterministic airborne (ALS) and terrestrial (TLS) scans of
//! procedural scenes, with exact truth for every point.
//!
//! It makes the demo sample and the test scenes (1 M … 100 M points) for the later stages —
//! ground filtering, tree segmentation, DBH stem fitting, pipe cylinder fitting — so the truth
//! is exact, not approximate: every point carries the id of the object its echo came from, and
//! the [`Truth`] holds that object's analytic geometry.
//!
//! ```no_run
//! use capture::synth::{self, SynthOptions};
//! use capture::{CancelToken, NoProgress};
//! let out = synth::run(&SynthOptions::default(), &mut NoProgress, &CancelToken::new())?;
//! synth::write_truth(&out.truth, std::path::Path::new("sample.truth.json"))?;
//! # Ok::<(), capture::CaptureError>(())
//! ```
//!
//! # Scene
//! [`Scene::generate`] builds a rolling analytic terrain (tilted plane + seeded sinusoids), trees
//! (stem = tapered vertical cone frustum whose diameter at 1.3 m is exactly the DBH; conifer
//! crown = paraboloid, broadleaf crown = ellipsoid, crown shapes after the geometric crown
//! models of stand simulators, Pretzsch 2009, *Forest Dynamics, Growth and Yield*;
//! DBH from a Näslund height–diameter curve, crown radius linear in DBH) and optional pipe runs
//! on support posts.
//!
//! # Scan
//! Rays are cast against the exact geometry (terrain: sphere tracing + regula falsi; objects:
//! analytic intersections through a uniform 2-D grid). Crowns are semi-transparent turbid media
//! (Beer–Lambert), producing multiple returns; stems, terrain, pipes and supports are opaque, and
//! occlusion is real. See [`scan`] for the echo model.
//!
//! # Output columns
//! Positions are `f32` relative to the scene centre at mean terrain height (the cloud
//! `origin`); the LAS writer quantises them to the millimetre grid in `quantization`.
//!
//! | column | content |
//! |---|---|
//! | `classification` | 2 ground, 5 vegetation (stems and crowns), 64 pipe and support (user class, ASPRS 64–255) |
//! | `intensity` | reflected energy × 80 000 (reflectance × cos incidence × remaining pulse energy), ±5 % gain noise |
//! | `return_number`, `number_of_returns` | 1…n per pulse (TLS: always 1/1) |
//! | `gps_time` (ALS) | adjusted standard GPS time, increasing with pulse index; `gps_standard_time = true` |
//! | `scan_angle` (ALS) | nominal mirror angle in 0.006° units, positive right of the flight direction |
//! | `flags` (ALS) | bit 6 scan direction (1 = sweeping right), bit 7 edge of flight line |
//! | `point_source_id` | 1-based flight line (ALS) or station (TLS) number |
//! | extra `truth_id` (u32) | 0 terrain; tree id; `pipe_id_base + pipe id`; `support_id_base + support id` (bases 100 000 and 200 000 unless a scene has ≥ 100 000 trees, see [`IdEncoding`]) |
//! | extra `truth_part` (u8) | 0 terrain, 1 stem, 2 crown, 3 pipe, 4 support |
//!
//! # Determinism
//! Everything derives from `SceneOptions::seed` through ChaCha8 streams: the scene from fixed
//! streams, the scan from one stream per block of 4096 pulses, so results are bit-identical
//! whatever the thread count. Nothing reads the clock.

#[doc(hidden)]
pub mod geom;
pub mod photo;
pub mod resurvey;
pub mod scan;
pub mod scene;

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cloud::{ExtraColumn, ExtraType, PointCloud, Quantization};
use crate::crs::Crs;
use crate::error::{CaptureError, Result};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::{
    CaptureTime, Source, TimeSource, UpAxis, adjusted_gps_to_utc, utc_to_adjusted_gps,
};

use geom::{Target, World};
pub use scan::{
    AirborneOptions, FlightLine, ScanPattern, ScanTruth, StationTruth, TerrestrialOptions,
};
use scan::{BLOCK, Plan, PointRec, Work, block_rng, make_plan, pilot};
pub use scene::{
    PipeOptions, PipeRunSpec, PipeTruth, Scene, SceneOptions, SpeciesGroup, SupportTruth, Terrain,
    TerrainOptions, TerrainWave, TreeOptions, TreeTruth,
};

/// Version of the [`Truth`] JSON layout.
pub const TRUTH_SCHEMA_VERSION: u32 = 1;

/// `generating_software` of simulated clouds.
pub const GENERATOR: &str = concat!("TwinMint scan simulator ", env!("CARGO_PKG_VERSION"));

/// ASPRS class of terrain points.
pub const CLASS_GROUND: u8 = 2;
/// ASPRS class of stem and crown points (high vegetation).
pub const CLASS_VEGETATION: u8 = 5;
/// User class (ASPRS reserves 64–255 for users) of pipe and support points.
pub const CLASS_PIPE: u8 = 64;

/// `truth_part` values.
pub const PART_TERRAIN: u8 = 0;
pub const PART_STEM: u8 = 1;
pub const PART_CROWN: u8 = 2;
pub const PART_PIPE: u8 = 3;
pub const PART_SUPPORT: u8 = 4;

/// Name of the truth id extra column.
pub const TRUTH_ID_COLUMN: &str = "truth_id";
/// Name of the truth part extra column.
pub const TRUTH_PART_COLUMN: &str = "truth_part";

/// What to simulate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SynthOptions {
    pub scene: SceneOptions,
    pub scan: ScanPattern,
    /// Start of the capture (UTC). `None` (default) = 2024-06-01 10:00 UTC plus `seed mod 180`
    /// days: fixed by the seed, never the wall clock, so runs are reproducible.
    pub capture_time: Option<DateTime<Utc>>,
    /// Scan the scene again some years later with known change (see [`resurvey`]); the capture
    /// time moves on by the resurvey's years.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resurvey: Option<resurvey::ResurveyOptions>,
}

/// Most points one simulated scan may produce (250 M: about 16 GB at
/// [`SYNTH_BYTES_PER_POINT`]). Larger targets are refused before the scene is generated.
pub const MAX_SYNTH_POINTS: u64 = 250_000_000;
/// Memory a simulated point costs while it is scanned and written (columns, returns, truth ids,
/// the point cloud and the writer's buffers), for the estimate in the refusal.
pub const SYNTH_BYTES_PER_POINT: u64 = 64;

fn too_many_points(option: &'static str, points: f64) -> CaptureError {
    CaptureError::InvalidOption {
        option,
        reason: format!(
            "{points:.3e} points would need about {:.1} GB ({SYNTH_BYTES_PER_POINT} bytes a point); \
             the limit is {} M points — ask for fewer points or a smaller --size",
            points * SYNTH_BYTES_PER_POINT as f64 / 1e9,
            MAX_SYNTH_POINTS / 1_000_000
        ),
    }
}

impl SynthOptions {
    /// Check what can be checked before the scene exists: the point target against
    /// [`MAX_SYNTH_POINTS`] (the scene's own options are checked by [`Scene::generate`], the
    /// scan's estimated point count by [`scan_scene`]).
    pub fn validate(&self) -> Result<()> {
        let target = match &self.scan {
            ScanPattern::Airborne(x) => x.target_points,
            ScanPattern::Terrestrial(x) => x.target_points,
        };
        if let Some(t) = target
            && t > MAX_SYNTH_POINTS
        {
            return Err(too_many_points("target_points (--points)", t as f64));
        }
        Ok(())
    }
}

/// A simulated scan and its truth.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthOutput {
    pub cloud: PointCloud,
    pub truth: Truth,
}

/// How `truth_id` values map to objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdEncoding {
    /// `truth_id` of terrain points (0). Tree points carry the tree id (1-based).
    pub terrain: u32,
    /// Pipe points carry `pipe_base + pipe id`.
    pub pipe_base: u32,
    /// Support points carry `support_base + support id`.
    pub support_base: u32,
}

/// The object a `truth_id` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruthObject {
    Terrain,
    Tree(u32),
    Pipe(u32),
    Support(u32),
}

impl IdEncoding {
    pub fn decode(&self, truth_id: u32) -> TruthObject {
        if truth_id == self.terrain {
            TruthObject::Terrain
        } else if truth_id > self.support_base {
            TruthObject::Support(truth_id - self.support_base)
        } else if truth_id > self.pipe_base {
            TruthObject::Pipe(truth_id - self.pipe_base)
        } else {
            TruthObject::Tree(truth_id)
        }
    }
}

/// Points per tree part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeCount {
    pub id: u32,
    pub stem_points: u64,
    pub crown_points: u64,
}

/// Points on one pipe or support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCount {
    pub id: u32,
    pub points: u64,
}

/// Point counts per part and per object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub terrain: u64,
    pub stem: u64,
    pub crown: u64,
    pub pipe: u64,
    pub support: u64,
    /// One entry per tree, in tree order.
    pub trees: Vec<TreeCount>,
    pub pipes: Vec<ObjectCount>,
    pub supports: Vec<ObjectCount>,
}

/// One classification code used in the cloud.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCode {
    pub code: u8,
    pub name: String,
}

/// Everything known about a simulated cloud: the scene's exact geometry, the scan as flown and
/// per-object point counts. Written beside the cloud as JSON by [`write_truth`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub schema_version: u32,
    pub generator: String,
    pub seed: u64,
    /// The options the scene was generated from (regenerates it exactly).
    pub scene: SceneOptions,
    pub crs_epsg: u32,
    /// The cloud's origin: scene centre at mean terrain height.
    pub cloud_origin: [f64; 3],
    pub terrain: Terrain,
    pub scan: ScanTruth,
    pub trees: Vec<TreeTruth>,
    pub pipes: Vec<PipeTruth>,
    pub supports: Vec<SupportTruth>,
    pub ids: IdEncoding,
    /// Set for a resurvey: the fates of the first survey's trees and the offset applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resurvey: Option<resurvey::ResurveyTruth>,
    pub classes: Vec<ClassCode>,
    pub point_count: u64,
    pub counts: Counts,
}

impl Truth {
    /// The tree with this id (at index id − 1 in a first survey; searched in a resurvey, whose
    /// removed trees leave gaps in the ids).
    pub fn tree(&self, id: u32) -> Option<&TreeTruth> {
        self.trees
            .get(id.checked_sub(1)? as usize)
            .filter(|t| t.id == id)
            .or_else(|| self.trees.iter().find(|t| t.id == id))
    }
    /// The pipe segment with this id.
    pub fn pipe(&self, id: u32) -> Option<&PipeTruth> {
        self.pipes
            .get(id.checked_sub(1)? as usize)
            .filter(|p| p.id == id)
    }
    /// Exact terrain height at an absolute position.
    pub fn ground_height(&self, x: f64, y: f64) -> f64 {
        self.terrain.height(x, y)
    }
}

/// Generate the scene of `opts.scene` and scan it with `opts.scan`.
pub fn run(
    opts: &SynthOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<SynthOutput> {
    opts.validate()?;
    let scene = Scene::generate(&opts.scene)?;
    cancel.check()?;
    let Some(r) = &opts.resurvey else {
        return scan_scene(&scene, &opts.scan, opts.capture_time, progress, cancel);
    };
    let first = opts
        .capture_time
        .unwrap_or_else(|| default_capture_time(opts.scene.seed));
    let (later, truth) = resurvey::apply(&scene, r)?;
    let time = first + Duration::seconds((r.years * 365.25 * 86_400.0) as i64);
    scan_with(
        &later,
        &opts.scan,
        Some(time),
        Some(truth),
        progress,
        cancel,
    )
}

/// Write the truth as pretty JSON, atomically. Its SHA-256 equals the `sha256` recorded in the
/// cloud's provenance source.
pub fn write_truth(truth: &Truth, path: &Path) -> Result<()> {
    crate::atomic::write_json(path, truth)
}

/// Read a truth file written by [`write_truth`].
pub fn read_truth(path: &Path) -> Result<Truth> {
    let bytes = std::fs::read(path).map_err(|e| CaptureError::io(path, e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CaptureError::invalid(path, "truth JSON", e.to_string()))
}

fn default_capture_time(seed: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 0).unwrap() + Duration::days((seed % 180) as i64)
}

/// RNG salt of the scan proper (pilots use others).
const SALT_SCAN: u64 = 0x5CA9;

/// Columns being filled, chunk by chunk.
#[derive(Default)]
struct Columns {
    positions: Vec<[f32; 3]>,
    intensity: Vec<u16>,
    rn: Vec<u8>,
    nr: Vec<u8>,
    class: Vec<u8>,
    flags: Vec<u8>,
    angle: Vec<i16>,
    psid: Vec<u16>,
    gps: Vec<f64>,
    truth_id: Vec<u8>,
    part: Vec<u8>,
}

impl Columns {
    fn reserve(&mut self, n: usize, als: bool) {
        self.positions.reserve_exact(n);
        self.intensity.reserve_exact(n);
        self.rn.reserve_exact(n);
        self.nr.reserve_exact(n);
        self.class.reserve_exact(n);
        self.psid.reserve_exact(n);
        self.truth_id.reserve_exact(4 * n);
        self.part.reserve_exact(n);
        if als {
            self.flags.reserve_exact(n);
            self.angle.reserve_exact(n);
            self.gps.reserve_exact(n);
        }
    }
}

/// Scan an existing scene (e.g. the same scene by ALS and by TLS).
pub fn scan_scene(
    scene: &Scene,
    scan: &ScanPattern,
    capture_time: Option<DateTime<Utc>>,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<SynthOutput> {
    scan_with(scene, scan, capture_time, None, progress, cancel)
}

/// [`scan_scene`], for a resurvey with its truth: the points are moved by its offset.
fn scan_with(
    scene: &Scene,
    scan: &ScanPattern,
    capture_time: Option<DateTime<Utc>>,
    resurvey: Option<resurvey::ResurveyTruth>,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<SynthOutput> {
    let world = World::new(scene);
    let seed = scene.options.seed;
    let start_time = capture_time.unwrap_or_else(|| default_capture_time(seed));
    let gps0 = utc_to_adjusted_gps(start_time);
    let plan = make_plan(scan, scene, &world, seed, gps0)?;
    cancel.check()?;
    let total = plan.total();
    let als = matches!(plan, Plan::Als(_));
    let estimate_f = pilot(&world, &plan, seed ^ 0xE57, 4096) * total as f64;
    if estimate_f.is_nan() || estimate_f > MAX_SYNTH_POINTS as f64 * 1.1 {
        return Err(too_many_points("scan (estimated points)", estimate_f));
    }
    let estimate = estimate_f as u64;
    let mut cols = Columns::default();
    // Reserve a little over the estimate so a 100 M point scan does not double its columns.
    cols.reserve((estimate as f64 * 1.03) as usize + 1024, als);
    let pipe_base = scene.pipe_id_base();
    let support_base = scene.support_id_base();
    let mut tree_counts = vec![[0u64; 2]; scene.trees.len()];
    let mut pipe_counts = vec![0u64; scene.pipes.len()];
    let mut support_counts = vec![0u64; scene.supports.len()];
    let mut terrain_count = 0u64;
    let mut pulses_with_returns = 0u64;
    let chunk = BLOCK * 64;
    let mut start = 0u64;
    while start < total {
        cancel.check()?;
        let end = (start + chunk).min(total);
        let parts: Vec<Vec<PointRec>> = (start / BLOCK..end.div_ceil(BLOCK))
            .into_par_iter()
            .map_init(
                || Work::new(&world),
                |w, b| {
                    let mut rng = block_rng(seed, SALT_SCAN, b);
                    let mut out = Vec::with_capacity(BLOCK as usize * 2);
                    for i in b * BLOCK..((b + 1) * BLOCK).min(total) {
                        plan.pulse(&world, i, &mut rng, w, &mut out);
                    }
                    out
                },
            )
            .collect();
        for part in parts {
            for p in &part {
                let (id, tp, class) = match p.target {
                    Target::Terrain => {
                        terrain_count += 1;
                        (0, PART_TERRAIN, CLASS_GROUND)
                    }
                    Target::Stem(t) => {
                        tree_counts[t as usize][0] += 1;
                        (scene.trees[t as usize].id, PART_STEM, CLASS_VEGETATION)
                    }
                    Target::Crown(t) => {
                        tree_counts[t as usize][1] += 1;
                        (scene.trees[t as usize].id, PART_CROWN, CLASS_VEGETATION)
                    }
                    Target::Pipe(k) => {
                        pipe_counts[k as usize] += 1;
                        (pipe_base + k + 1, PART_PIPE, CLASS_PIPE)
                    }
                    Target::Support(k) => {
                        support_counts[k as usize] += 1;
                        (support_base + k + 1, PART_SUPPORT, CLASS_PIPE)
                    }
                };
                pulses_with_returns += (p.rn == 1) as u64;
                cols.positions.push(p.pos);
                cols.intensity.push(p.intensity);
                cols.rn.push(p.rn);
                cols.nr.push(p.nr);
                cols.class.push(class);
                cols.psid.push(p.psid);
                cols.truth_id.extend_from_slice(&id.to_le_bytes());
                cols.part.push(tp);
                if als {
                    cols.flags.push(p.flags);
                    cols.angle.push(p.scan_angle);
                    cols.gps.push(p.gps);
                }
            }
        }
        start = end;
        let n = cols.positions.len() as u64;
        progress.report(ProgressEvent {
            points: n,
            total_points: Some(if start >= total { n } else { estimate.max(n) }),
            bytes: 0,
            total_bytes: None,
        });
    }
    let n = cols.positions.len();
    if n == 0 {
        return Err(CaptureError::InvalidOption {
            option: "scan",
            reason: "the scan recorded no points (is the scene outside the scanner's reach?)"
                .into(),
        });
    }

    // Scan as performed.
    let c = scene.centre;
    let abs = |p: [f64; 3]| [p[0] + c[0], p[1] + c[1], p[2] + c[2]];
    let (scan_truth, device) = match &plan {
        Plan::Als(p) => {
            let last = p.pulses_per_line - 1;
            let lines: Vec<FlightLine> = (0..p.line_xs.len())
                .map(|l| FlightLine {
                    point_source_id: l as u16 + 1,
                    start: abs(p.sensor(l, 0)),
                    end: abs(p.sensor(l, last)),
                    gps_time_start: p.gps(l, 0),
                    gps_time_end: p.gps(l, last),
                })
                .collect();
            let end_gps = lines.last().map_or(gps0, |l| l.gps_time_end);
            let ScanPattern::Airborne(o) = scan else {
                unreachable!()
            };
            let device = format!(
                "simulated drone LiDAR ({:.0} m AGL, {:.0} kHz, ±{:.0}°)",
                o.altitude_m,
                p.prf / 1000.0,
                o.scan_angle_deg
            );
            (
                ScanTruth {
                    pattern: scan.clone(),
                    pulse_count: total,
                    pulses_with_returns,
                    pulse_rate_hz: Some(p.prf),
                    scan_frequency_hz: Some(p.scan_freq),
                    swath_width_m: Some(p.swath),
                    line_spacing_m: Some(p.spacing),
                    angular_step_deg: None,
                    flight_lines: lines,
                    stations: Vec::new(),
                    capture_start: start_time,
                    capture_end: adjusted_gps_to_utc(end_gps).unwrap_or(start_time),
                },
                device,
            )
        }
        Plan::Tls(p) => {
            let stations: Vec<StationTruth> = p
                .stations
                .iter()
                .enumerate()
                .map(|(k, s)| StationTruth {
                    point_source_id: k as u16 + 1,
                    position: abs(*s),
                })
                .collect();
            // 1 MHz measurement rate and two minutes to move between stations.
            let secs = total as f64 / 1.0e6 + 120.0 * (stations.len() as f64 - 1.0);
            let device = format!(
                "simulated TLS ({} station{}, {:.3}° step)",
                stations.len(),
                if stations.len() == 1 { "" } else { "s" },
                p.step.to_degrees()
            );
            (
                ScanTruth {
                    pattern: scan.clone(),
                    pulse_count: total,
                    pulses_with_returns,
                    pulse_rate_hz: None,
                    scan_frequency_hz: None,
                    swath_width_m: None,
                    line_spacing_m: None,
                    angular_step_deg: Some(p.step.to_degrees()),
                    flight_lines: Vec::new(),
                    stations,
                    capture_start: start_time,
                    capture_end: start_time + Duration::milliseconds((secs * 1000.0) as i64),
                },
                device,
            )
        }
    };

    let counts = Counts {
        terrain: terrain_count,
        stem: tree_counts.iter().map(|c| c[0]).sum(),
        crown: tree_counts.iter().map(|c| c[1]).sum(),
        pipe: pipe_counts.iter().sum(),
        support: support_counts.iter().sum(),
        trees: tree_counts
            .iter()
            .enumerate()
            .map(|(i, c)| TreeCount {
                id: scene.trees[i].id,
                stem_points: c[0],
                crown_points: c[1],
            })
            .collect(),
        pipes: pipe_counts
            .iter()
            .enumerate()
            .map(|(i, &p)| ObjectCount {
                id: i as u32 + 1,
                points: p,
            })
            .collect(),
        supports: support_counts
            .iter()
            .enumerate()
            .map(|(i, &p)| ObjectCount {
                id: i as u32 + 1,
                points: p,
            })
            .collect(),
    };
    let truth = Truth {
        schema_version: TRUTH_SCHEMA_VERSION,
        generator: GENERATOR.to_string(),
        seed,
        scene: scene.options.clone(),
        crs_epsg: scene.options.crs_epsg,
        cloud_origin: c,
        terrain: scene.terrain.clone(),
        scan: scan_truth,
        trees: scene.trees.clone(),
        pipes: scene.pipes.clone(),
        supports: scene.supports.clone(),
        ids: IdEncoding {
            terrain: 0,
            pipe_base,
            support_base,
        },
        resurvey,
        classes: vec![
            ClassCode {
                code: CLASS_GROUND,
                name: "ground".into(),
            },
            ClassCode {
                code: CLASS_VEGETATION,
                name: "vegetation (stems and crowns)".into(),
            },
            ClassCode {
                code: CLASS_PIPE,
                name: "pipe and pipe support (user class)".into(),
            },
        ],
        point_count: n as u64,
        counts,
    };

    // The cloud, where a resurvey's georeferencing error puts it.
    if let Some(r) = &truth.resurvey {
        let off = r.options.offset;
        for p in &mut cols.positions {
            let q = off.apply([p[0] as f64, p[1] as f64, p[2] as f64]);
            *p = [q[0] as f32, q[1] as f32, q[2] as f32];
        }
    }
    let crs = Crs::epsg(scene.options.crs_epsg);
    let mut cloud = PointCloud::new(c);
    cloud.positions = cols.positions;
    cloud.intensity = Some(cols.intensity);
    cloud.return_number = Some(cols.rn);
    cloud.number_of_returns = Some(cols.nr);
    cloud.classification = Some(cols.class);
    cloud.point_source_id = Some(cols.psid);
    if als {
        cloud.flags = Some(cols.flags);
        cloud.scan_angle = Some(cols.angle);
        cloud.gps_time = Some(cols.gps);
        cloud.gps_standard_time = true;
    }
    let mut id_col = ExtraColumn::new(TRUTH_ID_COLUMN, ExtraType::U32);
    id_col.description = "0 or tree/pipe/support id".into();
    id_col.data = cols.truth_id;
    let mut part_col = ExtraColumn::new(TRUTH_PART_COLUMN, ExtraType::U8);
    part_col.description = "terrain/stem/crown/pipe/support".into();
    part_col.data = cols.part;
    cloud.extra = vec![id_col, part_col];
    cloud.crs = crs.clone();
    cloud.quantization = Some(Quantization::millimetre(c));

    let truth_bytes = serde_json::to_vec_pretty(&truth).map_err(|e| CaptureError::Write {
        path: "truth JSON".into(),
        reason: e.to_string(),
    })?;
    let mut src = Source::new(&format!("synthetic:seed={seed}"), "synthetic");
    src.sha256 = crate::hash::sha256_bytes(&truth_bytes);
    src.size_bytes = truth_bytes.len() as u64;
    src.format_version = Some(format!("truth schema {TRUTH_SCHEMA_VERSION}"));
    src.point_count = n as u64;
    src.points_loaded = n as u64;
    src.generating_software = Some(GENERATOR.to_string());
    src.device = Some(device);
    src.capture_time = Some(CaptureTime {
        start: truth.scan.capture_start,
        end: Some(truth.scan.capture_end),
        source: TimeSource::Simulated,
    });
    src.up_axis = UpAxis::Z;
    src.up_axis_reason = "simulated in a Z-up frame".into();
    src.crs = crs;
    cloud.provenance.sources.push(src);
    debug_assert!(cloud.check_columns().is_ok());
    Ok(SynthOutput { cloud, truth })
}
