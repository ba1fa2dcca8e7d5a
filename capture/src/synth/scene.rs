//! Procedural scenes: a rolling analytic terrain, trees with allometric dimensions, and pipe runs
//! on supports. Everything here is *truth*: the scanner in [`super::scan`] only samples it.
//!
//! Frames: options that place things inside the scene (pipe vertices, TLS stations) use the
//! **scene frame**, metres east (`x`) and north (`y`) of the scene centre. Truth records
//! ([`TreeTruth`], [`PipeTruth`], …) and [`Scene::ground_height`] use **absolute** CRS
//! coordinates.

use std::f64::consts::PI;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::cloud::Bounds;
use crate::error::{CaptureError, Result};

/// RNG stream ids, so that e.g. adding pipes does not reshuffle the terrain.
const STREAM_TERRAIN: u64 = 1;
const STREAM_PIPES: u64 = 2;
const STREAM_TREES: u64 = 3;
const STREAM_UNDERSTOREY: u64 = 4;

/// Everything that defines a scene. `Scene::generate` is a pure function of these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SceneOptions {
    /// Master seed: scene layout and scan noise both derive from it.
    pub seed: u64,
    /// East–west extent in metres (default 100: one hectare with `depth_m`, about 1.4 M ALS
    /// points at the default drone settings).
    pub width_m: f64,
    /// North–south extent in metres (default 100).
    pub depth_m: f64,
    /// Absolute coordinate of the scene's south-west corner at datum height (default
    /// `[500000, 5000000, 0]`: a UTM-like easting/northing, so downstream code meets the large
    /// coordinates real data has).
    pub origin: [f64; 3],
    /// CRS of `origin` (default EPSG:32633, WGS 84 / UTM 33N).
    pub crs_epsg: u32,
    pub terrain: TerrainOptions,
    pub trees: TreeOptions,
    pub pipes: PipeOptions,
}

impl Default for SceneOptions {
    fn default() -> Self {
        SceneOptions {
            seed: 1,
            width_m: 100.0,
            depth_m: 100.0,
            origin: [500_000.0, 5_000_000.0, 0.0],
            crs_epsg: 32633,
            terrain: TerrainOptions::default(),
            trees: TreeOptions::default(),
            pipes: PipeOptions::default(),
        }
    }
}

/// Rolling terrain: a tilted plane plus a few seeded sinusoids of random direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TerrainOptions {
    /// Mean terrain height above `origin[2]` (default 250 m, so heights look like real
    /// elevations rather than sitting at zero).
    pub base_height_m: f64,
    /// Peak-to-peak amplitude of the rolling component (default 8 m: gentle hills that still
    /// defeat a flat-ground assumption in ground filters).
    pub relief_m: f64,
    /// Typical wavelength of the hills (default 60 m); each sinusoid draws its own wavelength in
    /// 0.6–1.5 × this.
    pub wavelength_m: f64,
    /// Plane tilt `[dz/dx, dz/dy]` (default `[0.03, -0.015]`: 3 % rising east, 1.5 % falling north).
    pub slope: [f64; 2],
    /// Number of sinusoids (default 4).
    pub waves: usize,
}

impl Default for TerrainOptions {
    fn default() -> Self {
        TerrainOptions {
            base_height_m: 250.0,
            relief_m: 8.0,
            wavelength_m: 60.0,
            slope: [0.03, -0.015],
            waves: 4,
        }
    }
}

/// Tree population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeOptions {
    /// Stems per hectare (default 300, a managed mid-age temperate stand).
    pub density_per_ha: f64,
    /// Heights are drawn from a triangular distribution on `[min_height_m, max_height_m]`
    /// (mean of two uniforms: stands have a mode, not a flat height spectrum). Default 10–28 m.
    pub min_height_m: f64,
    pub max_height_m: f64,
    /// Fraction of conifers; the rest are broadleaves (default 0.6).
    pub conifer_fraction: f64,
    /// Minimum stem-to-stem distance (default 3 m; hard-core point process, as planted and
    /// thinned stands are more regular than Poisson).
    pub min_spacing_m: f64,
    /// Stems keep this distance from the scene edge (default 2 m) so each crown top is in scene.
    pub edge_margin_m: f64,
    /// One-sided leaf (needle) area density of the conifer crown core, m²/m³ (default 0.5).
    ///
    /// Crowns are turbid media: a beam is intercepted at a rate of G·LAD per metre with
    /// G = 0.5 for a spherical leaf-angle distribution (Beer–Lambert canopy extinction after
    /// Monsi & Saeki 1953; G after Ross 1981). Reported crown LADs of temperate trees lie around
    /// 0.3–1 m²/m³ (e.g. Hosoi & Omasa 2006, IEEE TGRS 44(12), voxel-based LAD from lidar).
    pub conifer_leaf_area_density: f64,
    /// Leaf area density of the broadleaf crown core, m²/m³ (default 0.4; leaf-on).
    pub broadleaf_leaf_area_density: f64,
    /// Thickness of the outer crown shell (default 0.5 m). Foliage concentrates in the sunlit
    /// periphery of a crown, which is why ALS first returns lie close to the crown envelope.
    pub crown_shell_m: f64,
    /// Foliage density of the outer shell relative to the core (default 3, must be ≥ 1).
    pub crown_shell_density_factor: f64,
    /// Fraction of the canopy trees placed in clumps (default 0: a regular hard-core stand).
    /// A clumped tree stands within `clump_radius_m` of an earlier tree and only
    /// `clump_spacing_m` from its neighbours — the cluster (Thomas / Matérn) processes of
    /// natural and uneven-aged stands (Illian et al. 2008, *Statistical Analysis and Modelling
    /// of Spatial Point Patterns*, §6.3), where tops stand closer than any fixed window.
    pub clump_fraction: f64,
    pub clump_radius_m: f64,
    pub clump_spacing_m: f64,
    /// Understorey trees per hectare (default 0), placed without regard to the canopy (under
    /// crowns too), heights triangular on `understorey_min_height_m..understorey_max_height_m`
    /// (default 3–9 m): the suppressed and intermediate layer of multi-layer stands that
    /// canopy-surface methods miss.
    pub understorey_density_per_ha: f64,
    pub understorey_min_height_m: f64,
    pub understorey_max_height_m: f64,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            density_per_ha: 300.0,
            min_height_m: 10.0,
            max_height_m: 28.0,
            conifer_fraction: 0.6,
            min_spacing_m: 3.0,
            edge_margin_m: 2.0,
            conifer_leaf_area_density: 0.5,
            broadleaf_leaf_area_density: 0.4,
            crown_shell_m: 0.5,
            crown_shell_density_factor: 3.0,
            clump_fraction: 0.0,
            clump_radius_m: 4.0,
            clump_spacing_m: 1.5,
            understorey_density_per_ha: 0.0,
            understorey_min_height_m: 3.0,
            understorey_max_height_m: 9.0,
        }
    }
}

/// Pipe runs: random ones (`count`) plus explicit ones (`runs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipeOptions {
    /// Random runs to generate (default 0: a plain forest scene).
    pub count: usize,
    /// Pipe radius range (default 0.05–0.3 m: DN100 to DN600 process and transport pipes).
    pub min_radius_m: f64,
    pub max_radius_m: f64,
    /// Clearance between the pipe bottom and the highest ground under the run (default 0.5–2.5
    /// m). Random runs are horizontal, as on pipe racks.
    pub min_clearance_m: f64,
    pub max_clearance_m: f64,
    /// Total run length range (default 15–40 m); runs are cut short at the scene edge.
    pub min_length_m: f64,
    pub max_length_m: f64,
    /// Bends per random run are drawn from 0..=max_bends (default 2); each bend turns ±45° or
    /// ±90°, the standard elbow angles. A bend joint is modelled as a sphere of the pipe radius
    /// so the elbow has no gap.
    pub max_bends: usize,
    /// Vertical cylindrical supports under the pipes (default true).
    pub supports: bool,
    /// Distance between supports along a run (default 6 m, a common pipe-rack bay).
    pub support_spacing_m: f64,
    /// Support radius (default 0.06 m, capped at 0.8 × the pipe radius).
    pub support_radius_m: f64,
    /// No tree stem stands closer than this to a pipe axis (default 2 m: a cleared corridor).
    /// Crowns may still overhang.
    pub corridor_half_width_m: f64,
    /// Explicit runs, in addition to `count` random ones.
    pub runs: Vec<PipeRunSpec>,
}

impl Default for PipeOptions {
    fn default() -> Self {
        PipeOptions {
            count: 0,
            min_radius_m: 0.05,
            max_radius_m: 0.3,
            min_clearance_m: 0.5,
            max_clearance_m: 2.5,
            min_length_m: 15.0,
            max_length_m: 40.0,
            max_bends: 2,
            supports: true,
            support_spacing_m: 6.0,
            support_radius_m: 0.06,
            corridor_half_width_m: 2.0,
            runs: Vec::new(),
        }
    }
}

/// An explicit pipe run: a polyline of axis vertices `[x, y, height_above_ground]` in the scene
/// frame (metres from the scene centre), so runs may slope. Consecutive vertices give one
/// [`PipeTruth`] segment each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeRunSpec {
    pub vertices: Vec<[f64; 3]>,
    pub radius_m: f64,
}

/// Broad species group; decides crown shape, allometry and leaf area density.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeciesGroup {
    /// Paraboloid crown, widest at the crown base.
    Conifer,
    /// Ellipsoid crown.
    Broadleaf,
}

/// One tree, in absolute coordinates.
///
/// Geometry: the stem is a vertical cone frustum whose diameter is exactly `dbh_cm` at 1.3 m
/// above `ground_z` and tapers linearly to zero at the tree top; it runs from below ground to
/// 95 % of the height (conifer) or to the crown centre (broadleaf). The crown is a paraboloid
/// (conifer: apex at the top, radius `crown_radius_m` at the crown base) or an ellipsoid
/// (broadleaf: horizontal semi-axis `crown_radius_m`, vertical semi-axis half the crown length).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeTruth {
    /// 1-based; also the tree's `truth_id` in the cloud.
    pub id: u32,
    pub species_group: SpeciesGroup,
    /// Stem axis position.
    pub x: f64,
    pub y: f64,
    /// Terrain height at the stem axis; heights below are relative to it.
    pub ground_z: f64,
    /// Top height above `ground_z`.
    pub height_m: f64,
    /// Maximum horizontal crown radius.
    pub crown_radius_m: f64,
    /// Height of the lowest crown point above `ground_z`.
    pub crown_base_height_m: f64,
    /// Stem diameter at 1.3 m above `ground_z`, centimetres.
    pub dbh_cm: f64,
    /// The top stands under another tree's crown envelope ([`TreeTruth::crown_surface_z`]):
    /// overtopped, invisible from above — what field crews class as "suppressed" crowns.
    #[serde(default)]
    pub suppressed: bool,
    /// Foliage left, as a fraction of the species' leaf-area density: 1 for a living tree, less
    /// for a standing dead one that has shed its needles or leaves (a resurvey's mortality).
    #[serde(default = "full_foliage", skip_serializing_if = "is_full_foliage")]
    pub foliage: f64,
}

fn full_foliage() -> f64 {
    1.0
}

fn is_full_foliage(f: &f64) -> bool {
    *f == 1.0
}

impl TreeTruth {
    /// Absolute height of this tree's crown envelope above absolute (x, y), if the crown covers
    /// it: the paraboloid (conifer, apex at the top, `crown_radius_m` at the crown base) or the
    /// upper half-ellipsoid (broadleaf, widest at mid-crown) the scanner samples.
    pub fn crown_surface_z(&self, x: f64, y: f64) -> Option<f64> {
        let d = (x - self.x).hypot(y - self.y) / self.crown_radius_m;
        if d > 1.0 {
            return None;
        }
        let top = self.ground_z + self.height_m;
        let len = self.height_m - self.crown_base_height_m;
        Some(match self.species_group {
            SpeciesGroup::Conifer => top - len * d * d,
            SpeciesGroup::Broadleaf => top - 0.5 * len * (1.0 - (1.0 - d * d).sqrt()),
        })
    }
}

/// One straight pipe segment (an open cylinder around the axis `start`–`end`), absolute
/// coordinates. Segments of one run share endpoints and `run_id`; a joint sphere of the same
/// radius sits at every interior vertex and belongs to the segment that ends there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeTruth {
    /// 1-based; the cloud's `truth_id` is `pipe_id_base + id` (see `Truth::ids`).
    pub id: u32,
    /// 1-based run number.
    pub run_id: u32,
    pub start: [f64; 3],
    pub end: [f64; 3],
    pub radius_m: f64,
}

/// A vertical support post under a pipe (closed to the pipe axis), absolute coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupportTruth {
    /// 1-based; the cloud's `truth_id` is `support_id_base + id`.
    pub id: u32,
    /// The pipe segment it carries.
    pub pipe_id: u32,
    /// Bottom centre (below ground) and top centre (on the pipe axis).
    pub base: [f64; 3],
    pub top: [f64; 3],
    pub radius_m: f64,
}

/// One sinusoid of the terrain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TerrainWave {
    pub amplitude_m: f64,
    pub wavelength_m: f64,
    /// Direction of the wave vector, degrees counter-clockwise from east.
    pub direction_deg: f64,
    pub phase_rad: f64,
}

/// The exact terrain: `z = base_z + slope·(x−x0, y−y0) + Σ a·sin(2π/λ·((x−x0)cosθ + (y−y0)sinθ) + φ)`
/// with `(x0, y0)` = `reference_xy`, all absolute. Serialised into the truth so any consumer
/// can evaluate the ground height exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Terrain {
    pub reference_xy: [f64; 2],
    pub base_z: f64,
    pub slope: [f64; 2],
    pub waves: Vec<TerrainWave>,
    /// Bounds of the height over the scene rectangle (conservative).
    pub min_z: f64,
    pub max_z: f64,
    /// Human-readable form of the height function.
    pub formula: String,
}

impl Terrain {
    /// Ground height at an absolute position.
    pub fn height(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (x - self.reference_xy[0], y - self.reference_xy[1]);
        let mut z = self.base_z + self.slope[0] * dx + self.slope[1] * dy;
        for w in &self.waves {
            let k = 2.0 * PI / w.wavelength_m;
            let th = w.direction_deg.to_radians();
            z += w.amplitude_m * (k * (dx * th.cos() + dy * th.sin()) + w.phase_rad).sin();
        }
        z
    }

    /// The height function relative to (`reference_xy`, `base_z`), with wave vectors
    /// precomputed: what the ray caster evaluates.
    pub(crate) fn local_fn(&self) -> TerrainFn {
        let waves: Vec<[f64; 4]> = self
            .waves
            .iter()
            .map(|w| {
                let k = 2.0 * PI / w.wavelength_m;
                let th = w.direction_deg.to_radians();
                [k * th.cos(), k * th.sin(), w.amplitude_m, w.phase_rad]
            })
            .collect();
        let lipschitz = self.slope[0].hypot(self.slope[1])
            + waves
                .iter()
                .map(|w| w[2].abs() * w[0].hypot(w[1]))
                .sum::<f64>();
        TerrainFn {
            slope: self.slope,
            waves,
            zmin: self.min_z - self.base_z,
            zmax: self.max_z - self.base_z,
            lipschitz,
        }
    }
}

/// Terrain height relative to the cloud origin, in the local frame the tracer uses.
#[derive(Clone, Debug)]
#[doc(hidden)]
pub struct TerrainFn {
    pub slope: [f64; 2],
    /// `[kx, ky, amplitude, phase]`.
    pub waves: Vec<[f64; 4]>,
    pub zmin: f64,
    pub zmax: f64,
    /// Upper bound of |∇h|.
    pub lipschitz: f64,
}

impl TerrainFn {
    #[inline]
    pub fn height(&self, x: f64, y: f64) -> f64 {
        let mut z = self.slope[0] * x + self.slope[1] * y;
        for w in &self.waves {
            z += w[2] * (w[0] * x + w[1] * y + w[3]).sin();
        }
        z
    }

    #[inline]
    pub fn gradient(&self, x: f64, y: f64) -> [f64; 2] {
        let mut g = self.slope;
        for w in &self.waves {
            let c = w[2] * (w[0] * x + w[1] * y + w[3]).cos();
            g[0] += c * w[0];
            g[1] += c * w[1];
        }
        g
    }
}

/// A generated scene: terrain, trees, pipes and supports, all exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub options: SceneOptions,
    /// Absolute scene centre at mean terrain height: the origin of the simulated clouds.
    pub centre: [f64; 3],
    pub terrain: Terrain,
    pub trees: Vec<TreeTruth>,
    pub pipes: Vec<PipeTruth>,
    pub supports: Vec<SupportTruth>,
}

fn bad(option: &'static str, reason: impl Into<String>) -> CaptureError {
    CaptureError::InvalidOption {
        option,
        reason: reason.into(),
    }
}

/// Finite and ≥ 0.
fn nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// Finite and > 0.
fn positive(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

fn check_range(option: &'static str, lo: f64, hi: f64, min: f64) -> Result<()> {
    if !(lo.is_finite() && hi.is_finite() && lo >= min && hi >= lo) {
        return Err(bad(
            option,
            format!("range {lo}..{hi} must be finite, ordered and at least {min}"),
        ));
    }
    Ok(())
}

/// Näslund (1936) height–diameter curve `h = 1.3 + d² / (a + b·d)²` (d in cm), inverted:
/// `d = a·s / (1 − b·s)` with `s = √(h − 1.3)`. The form is the standard one for Nordic and
/// central European conifers and broadleaves (see e.g. Mehtätalo, de-Miguel & Gregoire 2015,
/// Can. J. For. Res. 45:826–837). The parameters are ours, chosen so that a 10 m / 25 m /
/// 30 m conifer has a DBH of about 12 / 32 / 42 cm and a broadleaf of the same height is ~10 %
/// thicker; the curves' asymptotes (65 m and 60 m) bound `max_height_m`.
pub(crate) fn naslund_dbh_cm(species: SpeciesGroup, height_m: f64) -> f64 {
    let (a, b) = match species {
        SpeciesGroup::Conifer => (2.565, 0.1252),
        SpeciesGroup::Broadleaf => (2.717, 0.130),
    };
    let s = (height_m - 1.3).max(0.0).sqrt();
    a * s / (1.0 - b * s).max(0.05)
}

/// Crown radius from DBH: crown width grows about linearly with stem diameter
/// (crown-to-bole diameter ratio roughly constant; Pretzsch et al. 2015, Urban For. Urban Green.
/// 14:466–479; Sharma, Vacek & Vacek 2017, Silva Fennica 51(5):1740). Parameters give crown
/// diameter / DBH ≈ 17 for conifers and ≈ 26 for broadleaves at 30 cm DBH, in the range those
/// studies report for spruce and beech.
pub(crate) fn crown_radius_m(species: SpeciesGroup, dbh_cm: f64) -> f64 {
    match species {
        SpeciesGroup::Conifer => 0.5 + 0.070 * dbh_cm,
        SpeciesGroup::Broadleaf => 0.8 + 0.105 * dbh_cm,
    }
}

/// Height of the conifer stem top relative to the tree height (the leader above is foliage).
pub(crate) const CONIFER_STEM_TOP: f64 = 0.95;

impl Scene {
    /// Generate the scene described by `opts` (pure function of the options and seed).
    pub fn generate(opts: &SceneOptions) -> Result<Scene> {
        validate(opts)?;
        let w = opts.width_m;
        let d = opts.depth_m;
        let base_z = opts.origin[2] + opts.terrain.base_height_m;
        let centre = [opts.origin[0] + 0.5 * w, opts.origin[1] + 0.5 * d, base_z];
        let terrain = make_terrain(opts, centre);
        let tf = terrain.local_fn();
        let mut scene = Scene {
            options: opts.clone(),
            centre,
            terrain,
            trees: Vec::new(),
            pipes: Vec::new(),
            supports: Vec::new(),
        };
        make_pipes(&mut scene, &tf)?;
        make_trees(&mut scene);
        Ok(scene)
    }

    /// Exact terrain height at an absolute position.
    pub fn ground_height(&self, x: f64, y: f64) -> f64 {
        self.terrain.height(x, y)
    }

    /// Whether an absolute position lies inside the scene rectangle.
    pub fn contains_xy(&self, x: f64, y: f64) -> bool {
        let o = self.options.origin;
        (o[0]..=o[0] + self.options.width_m).contains(&x)
            && (o[1]..=o[1] + self.options.depth_m).contains(&y)
    }

    /// Absolute bounds of everything in the scene (terrain range to the highest tree or pipe).
    pub fn bounds(&self) -> Bounds {
        let o = self.options.origin;
        let mut top = self.terrain.max_z;
        for t in &self.trees {
            top = top.max(t.ground_z + t.height_m);
        }
        for p in &self.pipes {
            top = top.max(p.start[2].max(p.end[2]) + p.radius_m);
        }
        Bounds {
            min: [o[0], o[1], self.terrain.min_z],
            max: [
                o[0] + self.options.width_m,
                o[1] + self.options.depth_m,
                top,
            ],
        }
    }

    /// First truth id of pipe segments: 100 000, or the next power of ten above the number of
    /// trees, pipe segments and supports for scenes with more objects.
    pub fn pipe_id_base(&self) -> u32 {
        let most = self
            .trees
            .len()
            .max(self.pipes.len())
            .max(self.supports.len()) as u64;
        let mut base = 100_000u32;
        while most >= base as u64 {
            base *= 10;
        }
        base
    }

    /// First truth id of pipe supports (twice the pipe base).
    pub fn support_id_base(&self) -> u32 {
        2 * self.pipe_id_base()
    }
}

fn validate(o: &SceneOptions) -> Result<()> {
    if !(o.width_m.is_finite() && o.width_m >= 1.0 && o.depth_m.is_finite() && o.depth_m >= 1.0) {
        return Err(bad("scene size", "width and depth must be at least 1 m"));
    }
    if o.width_m * o.depth_m > 1.0e8 {
        return Err(bad("scene size", "at most 100 km²"));
    }
    if o.origin.iter().any(|v| !v.is_finite()) {
        return Err(bad("origin", "must be finite"));
    }
    let t = &o.terrain;
    if !nonneg(t.relief_m)
        || !positive(t.wavelength_m)
        || !t.base_height_m.is_finite()
        || t.slope.iter().any(|s| !s.is_finite() || s.abs() > 1.0)
        || t.waves > 64
    {
        return Err(bad(
            "terrain",
            "relief ≥ 0, wavelength > 0, |slope| ≤ 1 and at most 64 waves",
        ));
    }
    let tr = &o.trees;
    if !(tr.density_per_ha.is_finite() && (0.0..=5000.0).contains(&tr.density_per_ha)) {
        return Err(bad("tree density", "must lie in 0..=5000 per hectare"));
    }
    check_range("tree height", tr.min_height_m, tr.max_height_m, 3.0)?;
    if tr.max_height_m > 60.0 {
        return Err(bad(
            "tree height",
            "at most 60 m (the height–diameter curve's asymptote)",
        ));
    }
    if !(0.0..=1.0).contains(&tr.conifer_fraction) {
        return Err(bad("conifer fraction", "must lie in 0..=1"));
    }
    if !nonneg(tr.min_spacing_m) || !nonneg(tr.edge_margin_m) {
        return Err(bad("tree spacing", "spacing and margin must be ≥ 0"));
    }
    let clumping_ok = (0.0..=1.0).contains(&tr.clump_fraction)
        && tr.clump_radius_m.is_finite()
        && tr.clump_radius_m > 0.0
        && nonneg(tr.clump_spacing_m);
    if !clumping_ok {
        return Err(bad(
            "clumping",
            "fraction in 0..=1, radius > 0 and spacing ≥ 0",
        ));
    }
    if !(tr.understorey_density_per_ha.is_finite()
        && (0.0..=5000.0).contains(&tr.understorey_density_per_ha))
    {
        return Err(bad(
            "understorey density",
            "must lie in 0..=5000 per hectare",
        ));
    }
    if tr.understorey_density_per_ha > 0.0 {
        check_range(
            "understorey height",
            tr.understorey_min_height_m,
            tr.understorey_max_height_m,
            2.0,
        )?;
    }
    if !nonneg(tr.crown_shell_m) || !(1.0..=100.0).contains(&tr.crown_shell_density_factor) {
        return Err(bad(
            "crown shell",
            "thickness must be ≥ 0 and the density factor in 1..=100",
        ));
    }
    for lad in [tr.conifer_leaf_area_density, tr.broadleaf_leaf_area_density] {
        if !(lad.is_finite() && (0.0..=20.0).contains(&lad)) {
            return Err(bad("leaf area density", "must lie in 0..=20 m²/m³"));
        }
    }
    let p = &o.pipes;
    if p.count > 10_000 || p.max_bends > 100 {
        return Err(bad("pipe count", "at most 10000 runs of at most 100 bends"));
    }
    check_range("pipe radius", p.min_radius_m, p.max_radius_m, 0.005)?;
    check_range("pipe clearance", p.min_clearance_m, p.max_clearance_m, 0.0)?;
    check_range("pipe length", p.min_length_m, p.max_length_m, 1.0)?;
    if p.supports && !(p.support_spacing_m.is_finite() && p.support_spacing_m >= 0.5) {
        return Err(bad("support spacing", "must be at least 0.5 m"));
    }
    if !(p.support_radius_m.is_finite() && p.support_radius_m > 0.0) {
        return Err(bad("support radius", "must be positive"));
    }
    if !(p.corridor_half_width_m.is_finite() && p.corridor_half_width_m >= 0.0) {
        return Err(bad("pipe corridor", "must be ≥ 0"));
    }
    for r in &p.runs {
        if r.vertices.len() < 2 || !(r.radius_m.is_finite() && r.radius_m > 0.0) {
            return Err(bad(
                "pipe run",
                "needs at least two vertices and a positive radius",
            ));
        }
        if r.vertices.iter().flatten().any(|v| !v.is_finite())
            || r.vertices.windows(2).any(|w| {
                let dx = [w[1][0] - w[0][0], w[1][1] - w[0][1], w[1][2] - w[0][2]];
                dx.iter().map(|v| v * v).sum::<f64>() < 1e-6
            })
        {
            return Err(bad(
                "pipe run",
                "vertices must be finite and consecutive vertices distinct",
            ));
        }
    }
    Ok(())
}

fn make_terrain(o: &SceneOptions, centre: [f64; 3]) -> Terrain {
    let t = &o.terrain;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    rng.set_stream(STREAM_TERRAIN);
    let weights: Vec<f64> = (0..t.waves).map(|_| rng.random_range(0.5..1.0)).collect();
    let total: f64 = weights.iter().sum();
    let waves: Vec<TerrainWave> = weights
        .iter()
        .map(|wt| TerrainWave {
            amplitude_m: if total > 0.0 {
                0.5 * t.relief_m * wt / total
            } else {
                0.0
            },
            wavelength_m: t.wavelength_m * rng.random_range(0.6..1.5),
            direction_deg: rng.random_range(0.0..360.0),
            phase_rad: rng.random_range(0.0..2.0 * PI),
        })
        .collect();
    let amp: f64 = waves.iter().map(|w| w.amplitude_m).sum();
    let tilt = 0.5 * (t.slope[0].abs() * o.width_m + t.slope[1].abs() * o.depth_m);
    let mut terrain = Terrain {
        reference_xy: [centre[0], centre[1]],
        base_z: centre[2],
        slope: t.slope,
        waves,
        min_z: centre[2] - amp - tilt - 1e-3,
        max_z: centre[2] + amp + tilt + 1e-3,
        formula: "z = base_z + slope[0]*(x - x0) + slope[1]*(y - y0) + sum_k amplitude_k * \
                  sin(2*pi/wavelength_k * ((x - x0)*cos(direction_k) + (y - y0)*sin(direction_k)) \
                  + phase_k), (x0, y0) = reference_xy"
            .to_string(),
    };
    // Tighten the bounds by sampling (keeps the conservative margin of one grid step's worth of
    // variation), so rays waste less time above the hills.
    let f = terrain.local_fn();
    let step = (o.width_m.max(o.depth_m) / 200.0).clamp(0.25, 5.0);
    let nx = (o.width_m / step).ceil() as usize + 1;
    let ny = (o.depth_m / step).ceil() as usize + 1;
    if nx * ny <= 4_000_000 {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in 0..nx {
            for j in 0..ny {
                let x = (-0.5 * o.width_m + i as f64 * step).min(0.5 * o.width_m);
                let y = (-0.5 * o.depth_m + j as f64 * step).min(0.5 * o.depth_m);
                let z = f.height(x, y);
                lo = lo.min(z);
                hi = hi.max(z);
            }
        }
        let margin = f.lipschitz * step + 1e-3;
        terrain.min_z = terrain.min_z.max(centre[2] + lo - margin);
        terrain.max_z = terrain.max_z.min(centre[2] + hi + margin);
    }
    terrain
}

/// 2-D distance from `p` to the segment `a`–`b`.
fn dist_to_segment_2d(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let ap = [p[0] - a[0], p[1] - a[1]];
    let l2 = ab[0] * ab[0] + ab[1] * ab[1];
    let s = if l2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ap[0] - s * ab[0]).hypot(ap[1] - s * ab[1])
}

fn make_pipes(scene: &mut Scene, tf: &TerrainFn) -> Result<()> {
    let o = scene.options.clone();
    let p = &o.pipes;
    let (hw, hd) = (0.5 * o.width_m, 0.5 * o.depth_m);
    let c = scene.centre;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    rng.set_stream(STREAM_PIPES);
    // Local polylines (x, y, z relative to centre) with radius.
    let mut runs: Vec<(Vec<[f64; 3]>, f64)> = Vec::new();
    for _ in 0..p.count {
        let radius = rng.random_range(p.min_radius_m..=p.max_radius_m);
        let clearance = rng.random_range(p.min_clearance_m..=p.max_clearance_m);
        let length = rng.random_range(p.min_length_m..=p.max_length_m);
        let bends = rng.random_range(0..=p.max_bends);
        let margin = (2.0f64).min(0.25 * hw.min(hd));
        let start = [
            rng.random_range(-hw + margin..=hw - margin),
            rng.random_range(-hd + margin..=hd - margin),
        ];
        let mut heading: f64 = rng.random_range(0.0..2.0 * PI);
        // Split the length into bends + 1 legs of at least 30 % of an equal share.
        let mut shares: Vec<f64> = (0..=bends).map(|_| rng.random_range(0.3..1.0)).collect();
        let sum: f64 = shares.iter().sum();
        shares.iter_mut().for_each(|s| *s *= length / sum);
        let mut pts = vec![start];
        for (k, leg) in shares.iter().enumerate() {
            if k > 0 {
                let turn = [45.0f64, 90.0][rng.random_range(0..2)].to_radians();
                heading += if rng.random_bool(0.5) { turn } else { -turn };
            }
            let last = *pts.last().unwrap();
            let dir = [heading.cos(), heading.sin()];
            // Cut the leg at the scene edge (minus margin).
            let mut len = *leg;
            for a in 0..2 {
                let lim = if a == 0 { hw } else { hd } - margin;
                if dir[a] > 1e-12 {
                    len = len.min((lim - last[a]) / dir[a]);
                } else if dir[a] < -1e-12 {
                    len = len.min((-lim - last[a]) / dir[a]);
                }
            }
            if len < 1.0 {
                break;
            }
            pts.push([last[0] + dir[0] * len, last[1] + dir[1] * len]);
            if len < *leg - 1e-9 {
                break;
            }
        }
        if pts.len() < 2 {
            // Degenerate (started facing the edge): a short stub along the other axis.
            let last = pts[0];
            let dy = if last[1] > 0.0 { -1.0 } else { 1.0 };
            pts.push([last[0], last[1] + dy * p.min_length_m.min(hd)]);
        }
        // Horizontal run at a constant height: highest ground under it + clearance + radius.
        let mut top_ground = f64::NEG_INFINITY;
        for w in pts.windows(2) {
            let l = (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
            let n = (l / 0.25).ceil().max(1.0) as usize;
            for i in 0..=n {
                let s = i as f64 / n as f64;
                let x = w[0][0] + s * (w[1][0] - w[0][0]);
                let y = w[0][1] + s * (w[1][1] - w[0][1]);
                top_ground = top_ground.max(tf.height(x, y));
            }
        }
        // Ground can rise between samples and within the pipe's footprint: allow for it.
        let z = top_ground + tf.lipschitz * (radius + 0.15) + clearance + radius;
        runs.push((pts.iter().map(|q| [q[0], q[1], z]).collect(), radius));
    }
    for spec in &p.runs {
        let pts: Vec<[f64; 3]> = spec
            .vertices
            .iter()
            .map(|v| [v[0], v[1], tf.height(v[0], v[1]) + v[2]])
            .collect();
        runs.push((pts, spec.radius_m));
    }
    for (run_idx, (pts, radius)) in runs.iter().enumerate() {
        let first_seg = scene.pipes.len();
        for w in pts.windows(2) {
            scene.pipes.push(PipeTruth {
                id: scene.pipes.len() as u32 + 1,
                run_id: run_idx as u32 + 1,
                start: [w[0][0] + c[0], w[0][1] + c[1], w[0][2] + c[2]],
                end: [w[1][0] + c[0], w[1][1] + c[1], w[1][2] + c[2]],
                radius_m: *radius,
            });
        }
        if !p.supports {
            continue;
        }
        let sr = p.support_radius_m.min(0.8 * radius);
        let mut next = 0.5 * p.support_spacing_m;
        let mut along = 0.0;
        for (k, w) in pts.windows(2).enumerate() {
            let l = ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt();
            while next <= along + l {
                let s = if l > 0.0 { (next - along) / l } else { 0.0 };
                let x = w[0][0] + s * (w[1][0] - w[0][0]);
                let y = w[0][1] + s * (w[1][1] - w[0][1]);
                let zt = w[0][2] + s * (w[1][2] - w[0][2]);
                let zg = tf.height(x, y);
                // Only where the pipe is clear of the ground by more than its own radius.
                if zt - radius > zg + 0.05 {
                    scene.supports.push(SupportTruth {
                        id: scene.supports.len() as u32 + 1,
                        pipe_id: (first_seg + k) as u32 + 1,
                        base: [x + c[0], y + c[1], zg - 0.5 - tf.lipschitz * sr + c[2]],
                        top: [x + c[0], y + c[1], zt + c[2]],
                        radius_m: sr,
                    });
                }
                next += p.support_spacing_m;
            }
            along += l;
        }
    }
    Ok(())
}

fn make_trees(scene: &mut Scene) {
    let o = &scene.options;
    let t = &o.trees;
    let (hw, hd) = (0.5 * o.width_m, 0.5 * o.depth_m);
    let c = scene.centre;
    let margin = t.edge_margin_m.min(0.45 * hw.min(hd));
    let area_ha = o.width_m * o.depth_m / 10_000.0;
    let target = (t.density_per_ha * area_ha).round() as usize;
    if target == 0 {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    rng.set_stream(STREAM_TREES);
    // Hard-core dart throwing on a hash grid of cell = spacing.
    let sp = t.min_spacing_m;
    // At least the spacing (the clash test looks at 3×3 cells), at most ~4 M cells.
    let cell = sp.max(0.5).max((o.width_m * o.depth_m / 4.0e6).sqrt());
    let gx = ((o.width_m / cell).ceil() as usize).max(1);
    let gy = ((o.depth_m / cell).ceil() as usize).max(1);
    let mut grid: Vec<Vec<[f64; 2]>> = vec![Vec::new(); gx * gy];
    let cell_of = |p: [f64; 2]| {
        let i = (((p[0] + hw) / cell) as usize).min(gx - 1);
        let j = (((p[1] + hd) / cell) as usize).min(gy - 1);
        (i, j)
    };
    let corridor: Vec<([f64; 2], [f64; 2], f64)> = scene
        .pipes
        .iter()
        .map(|p| {
            (
                [p.start[0] - c[0], p.start[1] - c[1]],
                [p.end[0] - c[0], p.end[1] - c[1]],
                o.pipes.corridor_half_width_m + p.radius_m,
            )
        })
        .chain(scene.supports.iter().map(|s| {
            let q = [s.base[0] - c[0], s.base[1] - c[1]];
            (q, q, o.pipes.corridor_half_width_m + s.radius_m)
        }))
        .collect();
    let mut attempts = 0usize;
    let max_attempts = 30 * target + 1000;
    while scene.trees.len() < target && attempts < max_attempts {
        attempts += 1;
        let mut p = [
            rng.random_range(-hw + margin..=hw - margin),
            rng.random_range(-hd + margin..=hd - margin),
        ];
        // A clumped tree: near an earlier one, closer than the stand's spacing. Only drawn when
        // clumping is on, so the random sequence of unclumped scenes is unchanged.
        let mut spacing = sp;
        if t.clump_fraction > 0.0 && !scene.trees.is_empty() {
            let (u, k, a, r): (f64, usize, f64, f64) = (
                rng.random(),
                rng.random_range(0..scene.trees.len()),
                rng.random_range(0.0..2.0 * PI),
                rng.random(),
            );
            if u < t.clump_fraction {
                let q = &scene.trees[k];
                let d = t.clump_radius_m * r.sqrt();
                p = [
                    (q.x - c[0] + d * a.cos()).clamp(-hw + margin, hw - margin),
                    (q.y - c[1] + d * a.sin()).clamp(-hd + margin, hd - margin),
                ];
                spacing = t.clump_spacing_m;
            }
        }
        // Draw the tree's attributes before the acceptance test so the random sequence per
        // attempt is fixed.
        let conifer = rng.random::<f64>() < t.conifer_fraction;
        let species = if conifer {
            SpeciesGroup::Conifer
        } else {
            SpeciesGroup::Broadleaf
        };
        let u = 0.5 * (rng.random::<f64>() + rng.random::<f64>());
        let height = t.min_height_m + u * (t.max_height_m - t.min_height_m);
        let dbh_scatter = (0.08 * std_normal(&mut rng)).clamp(-0.2, 0.2).exp();
        let crown_scatter = rng.random_range(0.85..1.15);
        let crown_ratio = match species {
            SpeciesGroup::Conifer => rng.random_range(0.5..0.75),
            SpeciesGroup::Broadleaf => rng.random_range(0.45..0.65),
        };
        if spacing > 0.0 {
            let (ci, cj) = cell_of(p);
            let mut clash = false;
            'outer: for i in ci.saturating_sub(1)..=(ci + 1).min(gx - 1) {
                for j in cj.saturating_sub(1)..=(cj + 1).min(gy - 1) {
                    for q in &grid[j * gx + i] {
                        if (p[0] - q[0]).hypot(p[1] - q[1]) < spacing {
                            clash = true;
                            break 'outer;
                        }
                    }
                }
            }
            if clash {
                continue;
            }
        }
        if corridor
            .iter()
            .any(|(a, b, r)| dist_to_segment_2d(p, *a, *b) < *r)
        {
            continue;
        }
        let (ci, cj) = cell_of(p);
        grid[cj * gx + ci].push(p);
        let dbh_cm = naslund_dbh_cm(species, height) * dbh_scatter;
        let crown_radius = crown_radius_m(species, dbh_cm) * crown_scatter;
        scene.trees.push(TreeTruth {
            id: scene.trees.len() as u32 + 1,
            species_group: species,
            x: p[0] + c[0],
            y: p[1] + c[1],
            ground_z: scene.terrain.height(p[0] + c[0], p[1] + c[1]),
            height_m: height,
            crown_radius_m: crown_radius,
            crown_base_height_m: height * (1.0 - crown_ratio),
            dbh_cm,
            suppressed: false,
            foliage: 1.0,
        });
    }
    make_understorey(scene);
    mark_suppressed(&mut scene.trees);
}

/// Understorey trees (see [`TreeOptions::understorey_density_per_ha`]): their own random
/// stream, spaced only among themselves and from canopy stems (1 m), under crowns or not.
fn make_understorey(scene: &mut Scene) {
    let o = &scene.options;
    let t = &o.trees;
    let area_ha = o.width_m * o.depth_m / 10_000.0;
    let target = (t.understorey_density_per_ha * area_ha).round() as usize;
    if target == 0 {
        return;
    }
    let (hw, hd) = (0.5 * o.width_m, 0.5 * o.depth_m);
    let c = scene.centre;
    let margin = t.edge_margin_m.min(0.45 * hw.min(hd));
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    rng.set_stream(STREAM_UNDERSTOREY);
    let stems: Vec<[f64; 2]> = scene.trees.iter().map(|q| [q.x, q.y]).collect();
    let mut placed: Vec<[f64; 2]> = Vec::new();
    let spacing = t.min_spacing_m.min(2.0);
    let mut attempts = 0usize;
    while placed.len() < target && attempts < 30 * target + 1000 {
        attempts += 1;
        let p = [
            c[0] + rng.random_range(-hw + margin..=hw - margin),
            c[1] + rng.random_range(-hd + margin..=hd - margin),
        ];
        let conifer = rng.random::<f64>() < t.conifer_fraction;
        let u = 0.5 * (rng.random::<f64>() + rng.random::<f64>());
        let height = t.understorey_min_height_m
            + u * (t.understorey_max_height_m - t.understorey_min_height_m);
        let dbh_scatter = (0.08 * std_normal(&mut rng)).clamp(-0.2, 0.2).exp();
        let crown_scatter = rng.random_range(0.85..1.15);
        let crown_ratio = rng.random_range(0.5..0.7);
        if stems.iter().any(|q| (p[0] - q[0]).hypot(p[1] - q[1]) < 1.0)
            || placed
                .iter()
                .any(|q| (p[0] - q[0]).hypot(p[1] - q[1]) < spacing)
        {
            continue;
        }
        placed.push(p);
        let species = if conifer {
            SpeciesGroup::Conifer
        } else {
            SpeciesGroup::Broadleaf
        };
        let dbh_cm = naslund_dbh_cm(species, height) * dbh_scatter;
        scene.trees.push(TreeTruth {
            id: scene.trees.len() as u32 + 1,
            species_group: species,
            x: p[0],
            y: p[1],
            ground_z: scene.terrain.height(p[0], p[1]),
            height_m: height,
            crown_radius_m: crown_radius_m(species, dbh_cm) * crown_scatter,
            crown_base_height_m: height * (1.0 - crown_ratio),
            dbh_cm,
            suppressed: false,
            foliage: 1.0,
        });
    }
}

/// Mark every tree whose top stands under a taller tree's crown (see [`TreeTruth::suppressed`]).
/// A hash grid of cells as wide as the widest crown keeps it linear in the tree count.
pub(crate) fn mark_suppressed(trees: &mut [TreeTruth]) {
    let reach = trees
        .iter()
        .map(|t| t.crown_radius_m)
        .fold(1.0f64, f64::max);
    let key = |x: f64, y: f64| ((x / reach).floor() as i64, (y / reach).floor() as i64);
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    for (i, t) in trees.iter().enumerate() {
        grid.entry(key(t.x, t.y)).or_default().push(i);
    }
    let flags: Vec<bool> = trees
        .iter()
        .map(|a| {
            let (kx, ky) = key(a.x, a.y);
            (-1..=1).any(|dx| {
                (-1..=1).any(|dy| {
                    grid.get(&(kx + dx, ky + dy)).is_some_and(|v| {
                        v.iter().any(|&j| {
                            let b = &trees[j];
                            b.id != a.id
                                && b.crown_surface_z(a.x, a.y)
                                    .is_some_and(|z| z > a.ground_z + a.height_m)
                        })
                    })
                })
            })
        })
        .collect();
    for (t, f) in trees.iter_mut().zip(flags) {
        t.suppressed = f;
    }
}

/// A standard normal deviate (Box–Muller).
pub(crate) fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}
