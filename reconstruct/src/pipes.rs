//! Pipe detection: cylinders found by efficient RANSAC with normals, refined by least squares,
//! merged into straight runs.
//!
//! # Method
//! 1. **Candidate points.** Ground and vegetation are removed first: by an explicit mask (the
//!    pipeline passes "not ground, not assigned to a tree") or, without one, by dropping the
//!    ASPRS classes in [`PipeOptions::exclude_classes`]. PCA normals ([`crate::normals`]) are
//!    computed on what remains.
//! 2. **Efficient RANSAC** after Schnabel, Wahl & Klein 2007 ("Efficient RANSAC for point-cloud
//!    shape detection", Computer Graphics Forum 26(2):214–226). A candidate cylinder comes from
//!    two oriented points: the axis direction is `n₁ × n₂`; projected along the axis, the normal
//!    lines of both points meet at the axis, and the radius is the distance of the points to it
//!    (§4.3 of the paper). Sampling is *localised* (the second point is drawn from a ball around
//!    the first, §4.4), which makes the chance of drawing two points of one small pipe
//!    independent of the size of the cloud. A candidate's inliers are the points within `ε` of
//!    its surface whose normal deviates by less than `α` from the surface normal; only the
//!    largest axially connected component counts (the paper's connectivity step, here along the
//!    axis, where pipes are long and thin). Each round draws `candidates_per_round`
//!    candidates, keeps the `candidates_evaluated` best by inlier *fraction* in the sampling
//!    ball, ranks those on a random subset of the remaining points (the paper's subset
//!    scoring), and grows them in that order on all remaining points until one is accepted; its
//!    points are removed and the search repeats until `max_failures` rounds in a row find
//!    nothing. Evaluations only visit the points of a uniform grid near the candidate's axis.
//!    Structures that grow but are rejected (elbows, flanges, foliage) are no longer drawn as
//!    first samples, so they cannot win round after round.
//!
//!    A piece is accepted when it has `min_points` inliers, a radius in range, a length of at
//!    least max(`min_length_m`, 3 r), `min_arc_deg` of angular coverage, a *sharp* residual
//!    distribution (`min_sharpness` of the inliers in the inner half of the band — a surface,
//!    not a volume) and a *hollow* inside (`max_interior_fraction`): scanners see pipes as
//!    shells, while a cylinder through foliage has points inside it.
//! 3. **Refinement**: Levenberg–Marquardt (damped Gauss–Newton) on the geometric distance
//!    `‖(p − c) × d‖ − r` over axis point (2 parameters), axis direction (2) and radius, in the
//!    local parametrisation of Lukács, Marshall & Martin 1998 ("Faithful least-squares fitting
//!    of spheres, cylinders, cones and tori for reliable segmentation", ECCV) and Eberly
//!    ("Fitting 3D data with a cylinder", Geometric Tools 2003). Inliers are re-selected with
//!    the refined model (by distance only, in a band narrowed to `refit_band_sigmas` × RMS) and
//!    refitted, up to [`PipeOptions::refit_rounds`] times. For airborne data residuals are
//!    measured along each point's laser beam ([`NoiseModel`]): orthogonal fitting of a top-only
//!    view with range noise along the beam underestimates the radius by ≈ 2.4 σ²/r (−4 % for a
//!    0.15 m pipe under 2 cm noise), the beam-direction fit does not.
//! 4. **Runs.** Pieces whose axes are collinear — angle below `merge_angle_deg`, lateral offset
//!    below `merge_offset_m`, radius within `merge_radius_rel`, axial gap below `merge_gap_m` —
//!    belong to one straight run; a joint refit of all their inliers gives the run's axis and
//!    radius. Bends therefore end runs (the legs are not collinear), and a run is split where
//!    another run ends on its mantle (a tee junction; both parts must be pieces in their own
//!    right, so the overhang of a leg at an elbow does not split it). Segments of a run are its
//!    stretches of continuous inliers (gaps are usually occlusion); a run's `length_m` spans
//!    its first segment's start to its last segment's end, and its radius is the joint fit's.
//! 5. **Posts.** Cylinders whose axis is within `post_max_tilt_deg` of vertical are reported
//!    as [`PipeDetection::posts`], not as pipe runs: on pipe racks vertical cylinders are the
//!    supports (and, in mixed scenes, tree stems). Set `post_max_tilt_deg` to 0 to keep vertical
//!    pipes as runs.
//! 6. **Stems are not pipes** ([`StemRejection`], issue 11). In a forest the pipe step sees
//!    what tree labelling leaves: under terrestrial and phone scans' crowns that is the stems,
//!    the lower crown shell, branches and roots. Pieces that are parts of trees are set aside as
//!    [`PipeDetection::stems`] before runs are built; posts stay posts, so pipe supports are
//!    handled as before.
//!    - *Under a crown*: a steep piece (within [`StemRejection::max_tilt_deg`] of vertical, not
//!      a post) with a crown above its top — many points spread over several metres of height
//!      in a column of [`StemRejection::crown_radius_m`] around its axis continued upward. It
//!      is a leaning stem or a cylinder fitted to a crown's shell. Horizontal pieces are never
//!      tested for a crown: crowns overhang pipe racks.
//!    - *Touching a stem*: a piece within [`StemRejection::stem_clearance_m`] of a stem — a
//!      steep piece under a crown, or a post under a crown that carries no pipe — is a branch,
//!      a root, or a cylinder fitted across the stem. Pipe supports carry their pipe (its
//!      axis passes one radius above the support's top) and are never stems.
//!
//! Everything is deterministic for a given `seed` (per-candidate ChaCha8 streams), whatever the
//! number of threads.

use std::time::Instant;

use capture::{CancelToken, PointCloud, Progress, ProgressEvent};
use kiddo::SquaredEuclidean;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::{PipeRun, PipeSegment};
use crate::normals::{self, NormalOptions, Orientation};

/// Options of [`run`]. Distances in metres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipeOptions {
    /// ASPRS classes never considered when no mask is given (default 2 ground, 3/4/5 low,
    /// medium and high vegetation, 7 low noise, 9 water, 18 high noise — ASPRS LAS 1.4 R15
    /// table 17).
    pub exclude_classes: Vec<u8>,
    /// Neighbours for the PCA normals (default 16, as [`NormalOptions`]).
    pub normal_k: usize,
    /// Inlier band `ε`: largest distance of an inlier to the cylinder surface (default 0.04 m,
    /// twice the 2 cm range noise of drone LiDAR at 80 m — the simulator's default and the
    /// order of DJI L1/L2 and RIEGL miniVUX specifications — so ~95 % of a pipe's points count;
    /// terrestrial scans, with mm noise, fit to a tighter band automatically, see
    /// [`PipeOptions::refit_band_sigmas`]).
    pub epsilon_m: f64,
    /// Largest angle between a point's normal and the surface normal for an inlier (default
    /// 25.8°, i.e. |cos| ≥ 0.9, the `normal_threshold` default of CGAL's implementation of
    /// Schnabel et al.'s efficient RANSAC).
    pub normal_angle_deg: f64,
    /// Radius range of accepted cylinders (default 0.02–1.0 m: DN40 conduit to 2 m trunk
    /// lines; larger "cylinders" are usually walls or terrain).
    pub min_radius_m: f64,
    pub max_radius_m: f64,
    /// Fewest inliers of a piece (default 50).
    pub min_points: usize,
    /// Shortest piece (default 0.5 m); pieces must also be at least 3 radii long, so that a
    /// band around an elbow's sphere or a flange is not taken for a pipe.
    pub min_length_m: f64,
    /// Least angular coverage of a piece's inliers around its axis (default 60°; a pipe seen
    /// from one side covers ~180°, a curved patch of something else much less).
    pub min_arc_deg: f64,
    /// Largest number of points inside a piece's mantle (deeper than max(2 × band, r / 4)),
    /// as a fraction of its inliers (default 0.25). Scanners see pipes as hollow shells; a
    /// cylinder through vegetation or other volumetric clutter has its inside full of points.
    pub max_interior_fraction: f64,
    /// Least share of a piece's inliers in the inner half of its band (default 0.6). Points
    /// spread evenly through the band — no surface, e.g. foliage — give 0.5; a surface with
    /// Gaussian noise gives 0.68 when the band is ±2σ and 0.8 at ±2.5σ (the refit band).
    pub min_sharpness: f64,
    /// Inliers further apart than this along the axis are different pieces (default 0.5 m;
    /// the connectivity step of Schnabel et al.).
    pub cluster_gap_m: f64,
    /// Radius of the ball the second sample point is drawn from and candidates are scored in
    /// (default 0.5 m, localised sampling; reaches across the simulator's largest 0.3 m pipes).
    pub sample_radius_m: f64,
    /// Candidates drawn per round (default 200).
    pub candidates_per_round: usize,
    /// Points of the random subset the best candidates are compared on before the winner is
    /// grown on all points (default 20 000; Schnabel et al. §4.5 score on subsets likewise).
    pub score_subset: usize,
    /// Best candidates (by inlier fraction in the sampling ball) ranked on the score subset and
    /// grown per round (default 8).
    pub candidates_evaluated: usize,
    /// Rounds in a row without a new piece before the search stops (default 30). Failed rounds
    /// are cheap once the pipes are taken (few points left) but are what finds the last pipes
    /// when clutter remains in the input: on a simulated forest with pipes whose vegetation was
    /// *not* masked, 6 rounds found 4 of 8 airborne legs, 30 found all 8.
    pub max_failures: usize,
    /// Upper bound on pieces (default 10 000).
    pub max_pieces: usize,
    /// Inlier re-selection + refit rounds (default 4).
    pub refit_rounds: usize,
    /// After a fit, the inlier band narrows to this many times the fit's RMS (never wider than
    /// `epsilon_m`, never narrower than 5 mm): a symmetric band of ±2.5σ keeps 99 % of normal
    /// noise while shedding clutter (default 2.5).
    pub refit_band_sigmas: f64,
    /// Merging pieces into runs: largest angle between axes (default 2°).
    pub merge_angle_deg: f64,
    /// Largest lateral offset between the axes (default 0.05 m).
    pub merge_offset_m: f64,
    /// Largest relative radius difference (default 0.05), or 5 mm, whichever is larger.
    pub merge_radius_rel: f64,
    /// Largest axial gap between collinear pieces of one run (default 1.5 m: bridges the
    /// shadow a support or a crossing pipe casts in a terrestrial scan).
    pub merge_gap_m: f64,
    /// Cylinders within this angle of vertical are posts, not pipes (default 10°).
    pub post_max_tilt_deg: f64,
    /// Tree stems and crown shells that must not become pipe runs (default on, see
    /// [`StemRejection`]; `None` keeps every piece).
    pub stems: Option<StemRejection>,
    /// A run is split where another run's end lies within `r₁ + r₂ + this` of its axis (a tee;
    /// default 0.1 m).
    pub junction_tolerance_m: f64,
    /// Orientation of range noise for the refinement (default [`NoiseModel::Auto`]).
    pub noise_model: NoiseModel,
    /// RANSAC seed (default 1).
    pub seed: u64,
}

impl Default for PipeOptions {
    fn default() -> Self {
        PipeOptions {
            exclude_classes: vec![2, 3, 4, 5, 7, 9, 18],
            normal_k: 16,
            epsilon_m: 0.04,
            normal_angle_deg: 0.9f64.acos().to_degrees(),
            min_radius_m: 0.02,
            max_radius_m: 1.0,
            min_points: 50,
            min_length_m: 0.5,
            min_arc_deg: 60.0,
            max_interior_fraction: 0.25,
            min_sharpness: 0.6,
            cluster_gap_m: 0.5,
            sample_radius_m: 0.5,
            candidates_per_round: 200,
            score_subset: 20_000,
            candidates_evaluated: 8,
            max_failures: 30,
            max_pieces: 10_000,
            refit_rounds: 4,
            refit_band_sigmas: 2.5,
            merge_angle_deg: 2.0,
            merge_offset_m: 0.05,
            merge_radius_rel: 0.05,
            merge_gap_m: 1.5,
            post_max_tilt_deg: 10.0,
            stems: Some(StemRejection::default()),
            junction_tolerance_m: 0.1,
            noise_model: NoiseModel::Auto,
            seed: 1,
        }
    }
}

impl PipeOptions {
    fn validate(&self) -> Result<()> {
        let bad = |option: &'static str, reason: &str| {
            Err(ReconstructError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(self.epsilon_m) {
            return bad("pipes.epsilon_m", "must be positive");
        }
        if !(self.normal_angle_deg > 0.0 && self.normal_angle_deg <= 90.0) {
            return bad("pipes.normal_angle_deg", "must lie in (0, 90]");
        }
        if !(pos(self.min_radius_m) && self.max_radius_m.is_finite())
            || self.max_radius_m < self.min_radius_m
        {
            return bad("pipes.radius", "need 0 < min_radius_m ≤ max_radius_m");
        }
        if !pos(self.sample_radius_m) || !pos(self.cluster_gap_m) {
            return bad(
                "pipes.sample_radius_m",
                "sample radius and cluster gap must be positive",
            );
        }
        if self.candidates_per_round == 0
            || self.candidates_evaluated == 0
            || self.score_subset == 0
        {
            return bad("pipes.candidates", "need at least one candidate per round");
        }
        if self.normal_k < 3 {
            return bad("pipes.normal_k", "need at least 3 neighbours");
        }
        if let Some(st) = &self.stems {
            st.validate()?;
        }
        if !(self.merge_angle_deg >= 0.0
            && self.merge_offset_m >= 0.0
            && self.merge_radius_rel >= 0.0
            && self.merge_gap_m >= 0.0
            && self.post_max_tilt_deg >= 0.0
            && self.junction_tolerance_m >= 0.0
            && self.min_length_m >= 0.0
            && self.min_arc_deg >= 0.0
            && self.max_interior_fraction >= 0.0
            && (0.0..=1.0).contains(&self.min_sharpness)
            && self.refit_band_sigmas > 0.0)
        {
            return bad("pipes.merge", "tolerances must be non-negative");
        }
        Ok(())
    }
}

/// Stem rejection (module docs, step 6): which cylinder pieces are tree parts, not pipes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StemRejection {
    /// Pieces (not posts) within this angle of vertical are checked for a crown above (default
    /// 40°). Leaning stems rarely lean more than 20–30° (a tree leaning 30° is a hazard tree),
    /// and cylinders fitted to the shell of a conical or ellipsoidal crown tilt by its
    /// half-angle (10–32° on the simulator's crowns in terrestrial and phone scans). Real pipes
    /// this steep are risers and penstocks, which stand without foliage over them. Horizontal
    /// pieces are never tested for a crown: crowns overhang pipe racks.
    pub max_tilt_deg: f64,
    /// Horizontal radius of the column searched above a top, around the axis continued upward
    /// (default 3 m: the crown radius of a mid-size temperate tree, 2–5 m in Pretzsch et al.
    /// 2015, "Crown size and growing space requirement of common tree species in urban
    /// centres, parks, and forests", Urban For. Urban Green. 14:466–479).
    pub crown_radius_m: f64,
    /// The column starts this far above the top (default 0.5 m, clear of the piece's own
    /// noise) …
    pub crown_gap_m: f64,
    /// … and reaches this far up (default 10 m, a crown's length).
    pub crown_depth_m: f64,
    /// Points in the column that make it a crown (default 200, a floor for sparse scans: the
    /// crowns over stems and shells in `tests/stems.rs` put 4 000–80 000 points there) …
    pub crown_min_points: usize,
    /// … spread over at least this many of its 0.5 m height slices (default 6, i.e. 3 m of
    /// height). A crown fills most of its 20 slices (10–20 measured); what lies above a pipe
    /// support — the pipe it carries, a pipe crossing overhead — fills one or two (an airborne
    /// scene in `tests/pipes.rs`: 2 242 points of a crossing pipe in 1 slice).
    pub crown_min_slices: usize,
    /// A piece whose mantle comes within this distance of a stem's mantle is part of that tree
    /// (a branch, a root or buttress, a slice across the stem) (default 1.0 m). Stems are the
    /// steep pieces and the posts under a crown that carry no pipe (a support's top touches
    /// the pipe it carries). Pipeline rights-of-way are kept free of trees — roots and
    /// windthrow endanger the pipe, and operators clear several metres each side — and the
    /// simulator's 2 m cleared corridor leaves ≥ 1.3 m between mantles even for a 0.3 m pipe
    /// beside a 0.4 m stem.
    pub stem_clearance_m: f64,
}

impl Default for StemRejection {
    fn default() -> Self {
        StemRejection {
            max_tilt_deg: 40.0,
            crown_radius_m: 3.0,
            crown_gap_m: 0.5,
            crown_depth_m: 10.0,
            crown_min_points: 200,
            crown_min_slices: 6,
            stem_clearance_m: 1.0,
        }
    }
}

impl StemRejection {
    fn validate(&self) -> Result<()> {
        let ok = (0.0..=90.0).contains(&self.max_tilt_deg)
            && self.crown_radius_m > 0.0
            && self.crown_gap_m >= 0.0
            && self.crown_depth_m > 0.0
            && self.stem_clearance_m >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(ReconstructError::InvalidOption {
                option: "pipes.stems",
                reason: "tilt in [0, 90]°, positive crown radius and depth, non-negative gap and clearance"
                    .into(),
            })
        }
    }
}

/// A cylinder piece set aside as part of a tree (see [`StemRejection`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectedStem {
    pub segment: PipeSegment,
    /// Angle of the axis from vertical, degrees.
    pub tilt_deg: f64,
    /// Why: `under a crown (…)` or `touches a stem (gap … m)`.
    pub reason: String,
}

/// What [`run`] found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeDetection {
    /// Straight pipe runs, longest first, ids 1…n.
    pub runs: Vec<PipeRun>,
    /// Vertical cylinders (supports, posts, stems): one segment each, `start` at the bottom,
    /// ids are their 1-based position.
    pub posts: Vec<PipeSegment>,
    /// Pieces that are tree stems or crown shells, not pipes ([`StemRejection`]); their points
    /// belong to no run.
    #[serde(default)]
    pub stems: Vec<RejectedStem>,
    /// Per point of the input cloud: the run id it belongs to, 0 for none. Includes the points
    /// within `2ε` of a run's surface that were not used in the fit.
    #[serde(skip)]
    pub point_run: Vec<u32>,
    /// Per point: 1-based post index, 0 for none.
    #[serde(skip)]
    pub point_post: Vec<u32>,
    pub stats: PipeStats,
}

/// Work done, for `reconstruction.json` and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeStats {
    /// Points left after the mask / class filter.
    pub points_considered: u64,
    pub rounds: u64,
    pub candidates: u64,
    /// Cylinder pieces accepted by RANSAC (before merging).
    pub pieces: u64,
    pub normals_seconds: f64,
    pub ransac_seconds: f64,
}

// ---------------------------------------------------------------------------------------------
// Small vector algebra (f64, local frame).

type V3 = [f64; 3];

#[inline]
fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
#[inline]
fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
#[inline]
fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
#[inline]
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
#[inline]
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
#[inline]
fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}
#[inline]
fn normalize(a: V3) -> V3 {
    scale(a, 1.0 / norm(a))
}

/// Two unit vectors completing `w` to an orthonormal frame.
fn frame(w: V3) -> (V3, V3) {
    let h = if w[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    let u = normalize(cross(w, h));
    let v = cross(w, u);
    (u, v)
}

/// An infinite cylinder: axis through `point` along unit `dir`, and a radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cylinder {
    pub point: V3,
    pub dir: V3,
    pub radius: f64,
}

impl Cylinder {
    /// Axial coordinate and radial vector (perpendicular to the axis) of `p`.
    #[inline]
    fn decompose(&self, p: V3) -> (f64, V3) {
        let q = sub(p, self.point);
        let t = dot(q, self.dir);
        (t, sub(q, scale(self.dir, t)))
    }

    /// Signed distance to the surface (positive outside) and |cos| between `n` and the surface
    /// normal at `p`.
    #[inline]
    fn residual(&self, p: V3, n: V3) -> (f64, f64) {
        let (_, radial) = self.decompose(p);
        let rho = norm(radial);
        let cos = if rho > 0.0 {
            (dot(radial, n) / rho).abs()
        } else {
            0.0
        };
        (rho - self.radius, cos)
    }

    /// Candidate from two oriented points (Schnabel et al. 2007 §4.3).
    fn from_two(p1: V3, n1: V3, p2: V3, n2: V3, min_sin: f64) -> Option<Cylinder> {
        let a = cross(n1, n2);
        let s = norm(a);
        if s < min_sin {
            return None;
        }
        let dir = scale(a, 1.0 / s);
        // Lines p_i + t n_i projected onto the plane ⟂ dir (the n_i are ⟂ dir already, being
        // factors of the cross product): closest points of the two lines.
        let q1 = sub(p1, scale(dir, dot(p1, dir)));
        let q2 = sub(p2, scale(dir, dot(p2, dir)));
        let m1 = sub(n1, scale(dir, dot(n1, dir)));
        let m2 = sub(n2, scale(dir, dot(n2, dir)));
        let w0 = sub(q1, q2);
        let (a11, a12, a22) = (dot(m1, m1), dot(m1, m2), dot(m2, m2));
        let (b1, b2) = (dot(m1, w0), dot(m2, w0));
        let den = a11 * a22 - a12 * a12;
        if den.abs() < 1e-12 {
            return None;
        }
        let t1 = (a12 * b2 - a22 * b1) / den;
        let t2 = (a11 * b2 - a12 * b1) / den;
        let c1 = add(q1, scale(m1, t1));
        let c2 = add(q2, scale(m2, t2));
        let c = scale(add(c1, c2), 0.5);
        let r1 = norm(sub(q1, c));
        let r2 = norm(sub(q2, c));
        let radius = 0.5 * (r1 + r2);
        if !radius.is_finite() {
            return None;
        }
        Some(Cylinder {
            point: c,
            dir,
            radius,
        })
    }
}

/// How range noise is oriented, which decides the residual the refinement minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseModel {
    /// [`NoiseModel::Beam`] when the points carry non-zero scan angles (airborne scanners
    /// record one; terrestrial scans, with mm noise, do not need it), otherwise
    /// [`NoiseModel::Isotropic`].
    Auto,
    /// Orthogonal distance to the surface (least squares in the usual sense).
    Isotropic,
    /// Range noise along a vertical beam (airborne data without scan angles).
    Vertical,
    /// Range noise along each point's airborne beam: tilted from the vertical by the point's
    /// scan angle, across the flight direction, which is estimated per flight line
    /// (`point_source_id`) by regressing positions on GPS time. Points of lines whose track is
    /// not straight, or without the columns, fall back to vertical.
    Beam,
}

/// Per subset point beam directions for `model` (see [`NoiseModel`]).
fn beam_directions(cloud: &PointCloud, subset: &[usize], model: NoiseModel) -> Option<Vec<V3>> {
    let up = [0.0, 0.0, 1.0];
    let tilted = cloud
        .scan_angle
        .as_ref()
        .is_some_and(|a| subset.iter().any(|&i| a[i] != 0));
    match model {
        NoiseModel::Isotropic => return None,
        NoiseModel::Vertical => return Some(vec![up; subset.len()]),
        NoiseModel::Auto if !tilted => return None,
        NoiseModel::Auto | NoiseModel::Beam => {}
    }
    let (Some(angle), Some(time), Some(psid)) =
        (&cloud.scan_angle, &cloud.gps_time, &cloud.point_source_id)
    else {
        return Some(vec![up; subset.len()]);
    };
    let headings = flight_headings(cloud, time, psid);
    Some(
        subset
            .iter()
            .map(|&i| match headings.get(&psid[i]) {
                Some(h) => {
                    // LAS 1.4: scan angle in 0.006° steps, positive to the right of the flight
                    // direction (counter-clockwise seen from behind the sensor).
                    let th = (angle[i] as f64 * 0.006).to_radians();
                    let right = [h[1], -h[0]];
                    [th.sin() * right[0], th.sin() * right[1], -th.cos()]
                }
                None => up,
            })
            .collect(),
    )
}

/// Unit horizontal flight direction per `point_source_id`, from a least-squares line of
/// position against GPS time; lines whose along-track positions deviate from that line by more
/// than 5 % of their length (turns, several passes under one id) get none.
fn flight_headings(
    cloud: &PointCloud,
    time: &[f64],
    psid: &[u16],
) -> std::collections::BTreeMap<u16, [f64; 2]> {
    use std::collections::BTreeMap;
    let mut mean: BTreeMap<u16, [f64; 4]> = BTreeMap::new();
    for i in 0..cloud.len() {
        let p = cloud.positions[i];
        let m = mean.entry(psid[i]).or_insert([0.0; 4]);
        m[0] += time[i];
        m[1] += p[0] as f64;
        m[2] += p[1] as f64;
        m[3] += 1.0;
    }
    for m in mean.values_mut() {
        m[0] /= m[3];
        m[1] /= m[3];
        m[2] /= m[3];
    }
    // Σ dt², Σ dt·dx, Σ dt·dy.
    let mut cov: BTreeMap<u16, [f64; 3]> = BTreeMap::new();
    for i in 0..cloud.len() {
        let m = mean[&psid[i]];
        let p = cloud.positions[i];
        let dt = time[i] - m[0];
        let c = cov.entry(psid[i]).or_insert([0.0; 3]);
        c[0] += dt * dt;
        c[1] += dt * (p[0] as f64 - m[1]);
        c[2] += dt * (p[1] as f64 - m[2]);
    }
    let mut vel: BTreeMap<u16, [f64; 2]> = BTreeMap::new();
    for (k, c) in &cov {
        if c[0] > 0.0 {
            let v = [c[1] / c[0], c[2] / c[0]];
            if v[0].hypot(v[1]) > 0.5 {
                vel.insert(*k, v);
            }
        }
    }
    // Straightness: residual of along-track position against the fitted line.
    let mut check: BTreeMap<u16, [f64; 4]> = BTreeMap::new();
    for i in 0..cloud.len() {
        let Some(v) = vel.get(&psid[i]) else {
            continue;
        };
        let m = mean[&psid[i]];
        let p = cloud.positions[i];
        let speed = v[0].hypot(v[1]);
        let s = ((p[0] as f64 - m[1]) * v[0] + (p[1] as f64 - m[2]) * v[1]) / speed;
        let r = s - speed * (time[i] - m[0]);
        let c = check
            .entry(psid[i])
            .or_insert([0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY]);
        c[0] += r * r;
        c[1] += 1.0;
        c[2] = c[2].min(s);
        c[3] = c[3].max(s);
    }
    check
        .into_iter()
        .filter(|(_, c)| (c[0] / c[1]).sqrt() <= 0.05 * (c[3] - c[2]))
        .map(|(k, _)| {
            let v = vel[&k];
            let sp = v[0].hypot(v[1]);
            (k, [v[0] / sp, v[1] / sp])
        })
        .collect()
}

/// Per-point residual `f` and its gradient in the local parameters (x₀, y₀, a, b, r) of the
/// axis frame (u, v, w). With a beam direction the residual is the signed distance from the
/// point along the beam to the surface; where the beam grazes the surface (or runs along the
/// axis) it falls back to the orthogonal distance.
#[inline]
fn residual_jac(q: V3, frame: (V3, V3, V3), radius: f64, beam: Option<V3>) -> (f64, [f64; 5]) {
    let (u, v, w) = frame;
    let (qx, qy, qz) = (dot(q, u), dot(q, v), dot(q, w));
    if let Some(b) = beam {
        let (bx, by, bz) = (dot(b, u), dot(b, v), dot(b, w));
        let a2 = bx * bx + by * by;
        let bq = qx * bx + qy * by;
        let c = qx * qx + qy * qy - radius * radius;
        let disc = bq * bq - a2 * c;
        if a2 > 0.04 && disc >= 0.0 {
            let t1 = (-bq - bq.signum() * disc.sqrt()) / a2;
            let t2 = if t1 != 0.0 { c / (a2 * t1) } else { 0.0 };
            let t = if t1.abs() < t2.abs() { t1 } else { t2 };
            let (sx, sy, z) = (qx + t * bx, qy + t * by, qz + t * bz);
            let sw = sx * bx + sy * by;
            if sw.abs() >= 0.3 * radius * a2.sqrt() {
                return (t, [sx / sw, sy / sw, sx * z / sw, sy * z / sw, radius / sw]);
            }
        }
    }
    let rho = (qx * qx + qy * qy).sqrt().max(1e-12);
    (
        radius - rho,
        [qx / rho, qy / rho, qx * qz / rho, qy * qz / rho, 1.0],
    )
}

/// Levenberg–Marquardt refinement of `cyl` on `pts`; returns the refined cylinder (axis point
/// moved to the foot of the points' centroid) and the RMS orthogonal residual. `None` when the
/// fit degenerates.
///
/// Parameters are the axis point (2, in the plane ⟂ the current axis), the axis direction
/// `(a, b, 1)` in the current frame (2) and the radius, re-linearised around the current axis
/// every iteration (Lukács et al. 1998; Eberly 2003).
///
/// With `beams` (one unit direction per point) the residual is measured along the beam (errors-in-variables with known
/// noise direction). Orthogonal fitting is biased when noise is not along the surface normal:
/// for the top half of a pipe seen from above with vertical noise σ, a second-order expansion of
/// the normal equations gives a radius bias of about −2.4 σ²/r (−4 % at r = 0.15 m, σ = 2 cm),
/// which the simulator reproduces; residuals along the beam are unbiased to first order.
pub(crate) fn refine(
    pts: &[V3],
    cyl: Cylinder,
    beams: Option<&[V3]>,
    iterations: usize,
) -> Option<(Cylinder, f64)> {
    if pts.len() < 6 {
        return None;
    }
    let n = pts.len() as f64;
    let centroid = scale(pts.iter().fold([0.0; 3], |acc, p| add(acc, *p)), 1.0 / n);
    let foot = |c: &Cylinder| {
        let t = dot(sub(centroid, c.point), c.dir);
        add(c.point, scale(c.dir, t))
    };
    let cost_of = |c: &Cylinder| -> f64 {
        let (u, v) = frame(c.dir);
        chunked_sum(pts, |i, p| {
            let beam = beams.map(|b| b[i]);
            let (f, _) = residual_jac(sub(*p, c.point), (u, v, c.dir), c.radius, beam);
            f * f
        })
    };
    let mut cur = Cylinder {
        point: foot(&cyl),
        ..cyl
    };
    let mut cost = cost_of(&cur);
    let mut lambda = 1e-3;
    for _ in 0..iterations {
        let w = cur.dir;
        let (u, v) = frame(w);
        // Normal equations JᵀJ δ = −Jᵀf in parameters (x0, y0, a, b, r), accumulated per
        // fixed chunk and the chunks added in order (see [`SUM_CHUNK`]).
        let partial: Vec<([[f64; 5]; 5], [f64; 5])> = pts
            .par_chunks(SUM_CHUNK)
            .enumerate()
            .map(|(ci, chunk)| {
                let (mut jtj, mut jtf) = ([[0f64; 5]; 5], [0f64; 5]);
                for (k, p) in chunk.iter().enumerate() {
                    let beam = beams.map(|b| b[ci * SUM_CHUNK + k]);
                    let (f, j) = residual_jac(sub(*p, cur.point), (u, v, w), cur.radius, beam);
                    for a in 0..5 {
                        jtf[a] += j[a] * f;
                        for b in a..5 {
                            jtj[a][b] += j[a] * j[b];
                        }
                    }
                }
                (jtj, jtf)
            })
            .collect();
        let (mut jtj, mut jtf) = ([[0f64; 5]; 5], [0f64; 5]);
        for (c, d) in &partial {
            for i in 0..5 {
                jtf[i] += d[i];
                for k in 0..5 {
                    jtj[i][k] += c[i][k];
                }
            }
        }
        let mut improved = false;
        for _ in 0..8 {
            let mut m = jtj;
            for a in 0..5 {
                for b in 0..a {
                    m[a][b] = jtj[b][a];
                }
                m[a][a] += lambda * jtj[a][a].max(1e-9);
            }
            let rhs = jtf.map(|x| -x);
            let Some(d) = solve5(m, rhs) else {
                lambda *= 10.0;
                continue;
            };
            let dir = normalize(add(w, add(scale(u, d[2]), scale(v, d[3]))));
            let point = add(cur.point, add(scale(u, d[0]), scale(v, d[1])));
            let mut cand = Cylinder {
                point,
                dir,
                radius: cur.radius + d[4],
            };
            cand.point = foot(&cand);
            let c = cost_of(&cand);
            if c.is_finite() && c <= cost {
                let step = d.iter().map(|x| x * x).sum::<f64>().sqrt();
                cur = cand;
                cost = c;
                lambda = (lambda * 0.3).max(1e-9);
                improved = true;
                if step < 1e-9 {
                    return finish(cur, pts);
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    finish(cur, pts)
}

fn finish(c: Cylinder, pts: &[V3]) -> Option<(Cylinder, f64)> {
    let ss = chunked_sum(pts, |_, p| {
        let (_, r) = c.decompose(*p);
        (norm(r) - c.radius).powi(2)
    });
    let rms = (ss / pts.len() as f64).sqrt();
    (c.radius > 0.0 && c.radius.is_finite() && rms.is_finite()).then_some((c, rms))
}

/// Points per chunk of the parallel sums of the fit. Fixed, not derived from the pool: a
/// rayon `sum` or `fold`/`reduce` adds floats in an order that depends on how the work was
/// split and stolen, so the fitted radius — and with it which points a pipe consumes — could
/// differ in the last bits between runs and thread counts. Summing each fixed chunk in order
/// and then the chunk sums in order gives the same bits on any pool.
const SUM_CHUNK: usize = 1024;

/// `Σ f(i, pts[i])` in parallel, in a fixed order (see [`SUM_CHUNK`]).
fn chunked_sum(pts: &[V3], f: impl Fn(usize, &V3) -> f64 + Sync) -> f64 {
    let partial: Vec<f64> = pts
        .par_chunks(SUM_CHUNK)
        .enumerate()
        .map(|(ci, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(|(k, p)| f(ci * SUM_CHUNK + k, p))
                .sum::<f64>()
        })
        .collect();
    partial.iter().sum()
}

/// Gaussian elimination with partial pivoting for the 5×5 normal equations.
fn solve5(mut a: [[f64; 5]; 5], mut b: [f64; 5]) -> Option<[f64; 5]> {
    for col in 0..5 {
        let piv = (col..5).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot = a[col];
        for row in col + 1..5 {
            let f = a[row][col] / pivot[col];
            for (x, p) in a[row].iter_mut().zip(pivot).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; 5];
    for row in (0..5).rev() {
        let s: f64 = (row + 1..5).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

// ---------------------------------------------------------------------------------------------
// Detection.

/// An accepted RANSAC piece.
#[derive(Clone, Debug)]
struct Piece {
    cyl: Cylinder,
    /// Subset indices of the fit inliers.
    inliers: Vec<u32>,
    /// Subset indices of every point consumed (inliers plus the `2ε` band within the extent).
    consumed: Vec<u32>,
    t0: f64,
    t1: f64,
}

struct Ctx<'a> {
    pts: &'a [V3],
    nrm: &'a [V3],
    opts: &'a PipeOptions,
    cos_alpha: f64,
    /// Per subset point: the beam direction, when the noise model uses one.
    beams: Option<Vec<V3>>,
    grid: Grid,
}

/// A uniform grid over the candidate points, so that evaluating a cylinder touches only the
/// points near its axis line instead of the whole cloud.
struct Grid {
    cell: f64,
    lo: V3,
    hi: V3,
    /// Point indices sorted by cell; `cells` maps a cell to its range in `order`.
    order: Vec<u32>,
    cells: std::collections::HashMap<(i32, i32, i32), (u32, u32)>,
}

impl Grid {
    fn new(pts: &[V3], cell: f64) -> Grid {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in pts {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let key = |p: V3| {
            (
                ((p[0] - lo[0]) / cell).floor() as i32,
                ((p[1] - lo[1]) / cell).floor() as i32,
                ((p[2] - lo[2]) / cell).floor() as i32,
            )
        };
        let mut keyed: Vec<((i32, i32, i32), u32)> = pts
            .par_iter()
            .enumerate()
            .map(|(i, p)| (key(*p), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let mut cells = std::collections::HashMap::new();
        let mut start = 0usize;
        for k in 1..=keyed.len() {
            if k == keyed.len() || keyed[k].0 != keyed[start].0 {
                cells.insert(keyed[start].0, (start as u32, k as u32));
                start = k;
            }
        }
        Grid {
            cell,
            lo,
            hi,
            order: keyed.into_iter().map(|x| x.1).collect(),
            cells,
        }
    }

    /// A superset of the points within `reach` of the axis line of `c`, in cell order.
    fn near_line(&self, pts: &[V3], c: &Cylinder, reach: f64) -> Vec<u32> {
        if reach.is_nan() || reach > 0.5 * self.cell {
            // Wider than the grid was built for: every point.
            return (0..pts.len() as u32).collect();
        }
        // Clip the line to the points' box grown by `reach` (slab method).
        let (mut ta, mut tb) = (f64::NEG_INFINITY, f64::INFINITY);
        for k in 0..3 {
            let (a, b) = (self.lo[k] - reach, self.hi[k] + reach);
            if c.dir[k].abs() < 1e-12 {
                if c.point[k] < a || c.point[k] > b {
                    return Vec::new();
                }
            } else {
                let (t1, t2) = ((a - c.point[k]) / c.dir[k], (b - c.point[k]) / c.dir[k]);
                ta = ta.max(t1.min(t2));
                tb = tb.min(t1.max(t2));
            }
        }
        if ta > tb {
            return Vec::new();
        }
        // Samples every half cell along the line; a point within `reach` ≤ cell / 2 of the
        // line lies within 0.56 cells of a sample, so in the 3×3×3 block around its cell.
        let step = 0.5 * self.cell;
        let n = ((tb - ta) / step).ceil() as usize + 1;
        let mut keys: Vec<(i32, i32, i32)> = Vec::with_capacity(27 * n);
        for s in 0..=n {
            let t = (ta + s as f64 * step).min(tb);
            let p = add(c.point, scale(c.dir, t));
            let k = (
                ((p[0] - self.lo[0]) / self.cell).floor() as i32,
                ((p[1] - self.lo[1]) / self.cell).floor() as i32,
                ((p[2] - self.lo[2]) / self.cell).floor() as i32,
            );
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        keys.push((k.0 + dx, k.1 + dy, k.2 + dz));
                    }
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for k in keys {
            if let Some(&(a, b)) = self.cells.get(&k) {
                out.extend_from_slice(&self.order[a as usize..b as usize]);
            }
        }
        out
    }
}

impl Ctx<'_> {
    /// Least-squares fit of `cyl` to the subset points `idx`.
    fn fit(&self, idx: &[u32], cyl: Cylinder) -> Option<(Cylinder, f64)> {
        let pts: Vec<V3> = idx.iter().map(|&i| self.pts[i as usize]).collect();
        let beams: Option<Vec<V3>> = self
            .beams
            .as_ref()
            .map(|b| idx.iter().map(|&i| b[i as usize]).collect());
        refine(&pts, cyl, beams.as_deref(), 30)
    }

    /// Alive points within `band` of the surface whose normals agree to `cos_alpha` (−1: any).
    fn inliers(&self, cyl: &Cylinder, alive: &[bool], band: f64, cos_alpha: f64) -> Vec<u32> {
        self.grid
            .near_line(self.pts, cyl, cyl.radius + band)
            .into_par_iter()
            .filter(|&i| {
                let (d, c) = cyl.residual(self.pts[i as usize], self.nrm[i as usize]);
                alive[i as usize] && d.abs() <= band && c >= cos_alpha
            })
            .collect()
    }

    /// The same among the points of `list`.
    fn inliers_in(&self, cyl: &Cylinder, list: &[u32], band: f64) -> Vec<u32> {
        list.par_iter()
            .copied()
            .filter(|&i| {
                let (d, c) = cyl.residual(self.pts[i as usize], self.nrm[i as usize]);
                d.abs() <= band && c >= self.cos_alpha
            })
            .collect()
    }

    /// Keep the largest axially connected component of `idx`; returns its extent.
    fn largest_component(&self, cyl: &Cylinder, idx: &mut Vec<u32>) -> (f64, f64) {
        if idx.is_empty() {
            return (0.0, 0.0);
        }
        let mut ts: Vec<(f64, u32)> = idx
            .iter()
            .map(|&i| (dot(sub(self.pts[i as usize], cyl.point), cyl.dir), i))
            .collect();
        ts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut best, mut best_len) = ((0usize, 0usize), 0usize);
        let mut start = 0usize;
        for k in 1..=ts.len() {
            if k == ts.len() || ts[k].0 - ts[k - 1].0 > self.opts.cluster_gap_m {
                if k - start > best_len {
                    best_len = k - start;
                    best = (start, k);
                }
                start = k;
            }
        }
        let comp = &ts[best.0..best.1];
        let (t0, t1) = (comp[0].0, comp[comp.len() - 1].0);
        *idx = comp.iter().map(|x| x.1).collect();
        idx.sort_unstable();
        (t0, t1)
    }

    /// Angular coverage of `idx` around the axis, degrees (10° bins).
    fn arc_deg(&self, cyl: &Cylinder, idx: &[u32]) -> f64 {
        let (u, v) = frame(cyl.dir);
        let mut bins = [false; 36];
        for &i in idx {
            let (_, r) = cyl.decompose(self.pts[i as usize]);
            let a = dot(r, v).atan2(dot(r, u));
            let b = (((a + std::f64::consts::PI) / (2.0 * std::f64::consts::PI) * 36.0) as usize)
                .min(35);
            bins[b] = true;
        }
        bins.iter().filter(|b| **b).count() as f64 * 10.0
    }

    /// Full evaluation + refinement of a candidate against the alive points.
    /// Grow a candidate into a piece; on failure, the inliers it had (empty when it never
    /// reached `min_points`, so a poor candidate on a real pipe does not block the pipe).
    fn grow(&self, cand: Cylinder, alive: &[bool]) -> Result<Piece, Vec<u32>> {
        let o = self.opts;
        let mut cyl = cand;
        let mut band = o.epsilon_m;
        let mut inl = self.inliers(&cyl, alive, band, self.cos_alpha);
        let (mut t0, mut t1) = self.largest_component(&cyl, &mut inl);
        if inl.len() < o.min_points {
            return Err(Vec::new());
        }
        for _ in 0..o.refit_rounds.max(1) {
            let Some((fit, rms)) = self.fit(&inl, cyl) else {
                return Err(inl);
            };
            cyl = fit;
            if !(o.min_radius_m..=o.max_radius_m).contains(&cyl.radius) {
                return Err(inl);
            }
            let new_band = (o.refit_band_sigmas * rms).clamp(0.005, o.epsilon_m);
            // Refits select by distance only: normal agreement is the right test for scoring
            // candidates, but PCA normals of noisy, one-sided neighbourhoods (the flanks of a
            // pipe seen from above) are off in a way that correlates with the residual, and
            // filtering on them biased radii by up to +2 % on simulated airborne scans.
            let mut next = self.inliers(&cyl, alive, new_band, -1.0);
            let ext = self.largest_component(&cyl, &mut next);
            let same = next == inl && (new_band - band).abs() < 1e-4;
            band = new_band;
            inl = next;
            (t0, t1) = ext;
            if inl.len() < o.min_points {
                return Err(inl);
            }
            if same {
                break;
            }
        }
        // Final fit on the final inlier set.
        let Some((fit, _)) = self.fit(&inl, cyl) else {
            return Err(inl);
        };
        cyl = fit;
        let ts = inl
            .iter()
            .map(|&i| dot(sub(self.pts[i as usize], cyl.point), cyl.dir));
        let (lo, hi) = ts.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
            (a.min(t), b.max(t))
        });
        if lo.is_finite() {
            (t0, t1) = (lo, hi);
        }
        let len = t1 - t0;
        if !(o.min_radius_m..=o.max_radius_m).contains(&cyl.radius)
            || len < o.min_length_m.max(3.0 * cyl.radius)
            || self.arc_deg(&cyl, &inl) < o.min_arc_deg
        {
            return Err(inl);
        }
        // A surface concentrates its inliers near the fitted mantle; points spread evenly through
        // the band (foliage, clutter) put only half of them in its inner half.
        let inner = inl
            .iter()
            .filter(|&&i| {
                let (_, radial) = cyl.decompose(self.pts[i as usize]);
                (norm(radial) - cyl.radius).abs() <= 0.5 * band
            })
            .count();
        if (inner as f64) < o.min_sharpness * inl.len() as f64 {
            return Err(inl);
        }
        // A pipe is hollow to the scanner: points well inside the mantle mean a volumetric
        // structure (a crown, a shrub, a pile) that a cylinder band merely passes through.
        let r_in = cyl.radius - (2.0 * band).max(0.25 * cyl.radius);
        let interior = self
            .grid
            .near_line(self.pts, &cyl, cyl.radius)
            .into_par_iter()
            .filter(|&i| {
                let (t, radial) = cyl.decompose(self.pts[i as usize]);
                t >= t0 && t <= t1 && norm(radial) < r_in
            })
            .count();
        if interior as f64 > o.max_interior_fraction * inl.len() as f64 {
            return Err(inl);
        }
        // Points explained by the piece: the 2ε band within the extent (normals ignored), so
        // the noise tail of a pipe does not come back as a thin coaxial shell.
        let remove = 2.0 * o.epsilon_m;
        let mut consumed: Vec<u32> = self
            .grid
            .near_line(self.pts, &cyl, cyl.radius + remove)
            .into_par_iter()
            .filter(|&i| {
                let (t, radial) = cyl.decompose(self.pts[i as usize]);
                alive[i as usize]
                    && (norm(radial) - cyl.radius).abs() <= remove
                    && t >= t0 - o.epsilon_m
                    && t <= t1 + o.epsilon_m
            })
            .collect();
        consumed.extend_from_slice(&inl);
        consumed.sort_unstable();
        consumed.dedup();
        Ok(Piece {
            cyl,
            inliers: inl,
            consumed,
            t0,
            t1,
        })
    }
}

/// Detect pipe runs and posts in `cloud`.
///
/// `mask` (one flag per point, `true` = may be a pipe) overrides
/// [`PipeOptions::exclude_classes`]. No file I/O.
pub fn run(
    cloud: &PointCloud,
    mask: Option<&[bool]>,
    opts: &PipeOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<PipeDetection> {
    opts.validate()?;
    let n_all = cloud.len();
    if let Some(m) = mask
        && m.len() != n_all
    {
        return Err(ReconstructError::Input {
            step: "pipes",
            reason: format!("mask has {} flags for {} points", m.len(), n_all),
        });
    }
    let subset: Vec<usize> = match (mask, &cloud.classification) {
        (Some(m), _) => (0..n_all).filter(|&i| m[i]).collect(),
        (None, Some(cls)) => (0..n_all)
            .filter(|&i| !opts.exclude_classes.contains(&cls[i]))
            .collect(),
        (None, None) => (0..n_all).collect(),
    };
    let mut det = PipeDetection {
        point_run: vec![0; n_all],
        point_post: vec![0; n_all],
        ..Default::default()
    };
    det.stats.points_considered = subset.len() as u64;
    if subset.len() < opts.min_points.max(3) {
        return Ok(det);
    }

    let t_norm = Instant::now();
    let pos32: Vec<[f32; 3]> = subset.iter().map(|&i| cloud.positions[i]).collect();
    let nrm = normals::run(
        &pos32,
        &NormalOptions {
            k: opts.normal_k,
            orientation: Orientation::None,
        },
    )?;
    let nrm: Vec<V3> = nrm
        .normals
        .iter()
        .map(|n| [n[0] as f64, n[1] as f64, n[2] as f64])
        .collect();
    let pts: Vec<V3> = pos32
        .iter()
        .map(|p| [p[0] as f64, p[1] as f64, p[2] as f64])
        .collect();
    det.stats.normals_seconds = t_norm.elapsed().as_secs_f64();
    cancel.check()?;

    let t_ransac = Instant::now();
    let tree = normals::kd_tree(&pos32);
    let ctx = Ctx {
        pts: &pts,
        nrm: &nrm,
        opts,
        cos_alpha: opts.normal_angle_deg.to_radians().cos(),
        beams: beam_directions(cloud, &subset, opts.noise_model),
        grid: Grid::new(&pts, 2.0 * (opts.max_radius_m + 2.0 * opts.epsilon_m)),
    };
    let m = pts.len();
    let mut alive_flag = vec![true; m];
    let mut alive: Vec<u32> = (0..m as u32).collect();
    // Points a round may draw its first sample from: alive, and not part of a structure whose
    // candidates all failed to grow (an elbow, a flange, a dense patch near a terrestrial
    // scanner) — otherwise such clutter wins round after round and ends the search early.
    let mut seedable = vec![true; m];
    let mut seeds: Vec<u32> = alive.clone();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut failures = 0usize;
    let mut round = 0u64;
    let r2 = (opts.sample_radius_m * opts.sample_radius_m) as f32;
    // Normals closer than 10° in direction give an ill-conditioned axis.
    let min_sin = 10f64.to_radians().sin();
    while failures < opts.max_failures
        && seeds.len() >= opts.min_points
        && pieces.len() < opts.max_pieces
    {
        cancel.check()?;
        round += 1;
        let seeds_ref = &seeds;
        let alive_flag_ref = &alive_flag;
        // Draw and locally score candidates.
        let mut cands: Vec<(usize, usize, u64, Cylinder)> = (0..opts.candidates_per_round as u64)
            .into_par_iter()
            .filter_map(|j| {
                let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
                rng.set_stream(round.wrapping_mul(1 << 20).wrapping_add(j));
                let i1 = seeds_ref[rng.random_range(0..seeds_ref.len())] as usize;
                let ball: Vec<u32> = tree
                    .within_unsorted::<SquaredEuclidean>(&pos32[i1], r2)
                    .into_iter()
                    .map(|nb| nb.item)
                    .filter(|&k| alive_flag_ref[k as usize] && k as usize != i1)
                    .collect();
                if ball.len() < 2 {
                    return None;
                }
                let i2 = ball[rng.random_range(0..ball.len())] as usize;
                let cyl = Cylinder::from_two(pts[i1], nrm[i1], pts[i2], nrm[i2], min_sin)?;
                if !(opts.min_radius_m..=opts.max_radius_m).contains(&cyl.radius) {
                    return None;
                }
                for i in [i1, i2] {
                    let (d, c) = cyl.residual(pts[i], nrm[i]);
                    if d.abs() > opts.epsilon_m || c < ctx.cos_alpha {
                        return None;
                    }
                }
                let score = ball
                    .iter()
                    .filter(|&&k| {
                        let (d, c) = cyl.residual(pts[k as usize], nrm[k as usize]);
                        d.abs() <= opts.epsilon_m && c >= ctx.cos_alpha
                    })
                    .count();
                // Ranked by the inlier fraction of the ball, not the count, so that dense
                // clutter does not crowd out sparse pipes.
                let frac = score * 1000 / (ball.len() + 1);
                (score >= 8).then_some((frac, score, j, cyl))
            })
            .collect();
        det.stats.candidates += opts.candidates_per_round as u64;
        cands.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        cands.truncate(opts.candidates_evaluated);
        // Compare the best local candidates on a random subset of the remaining points
        // (inliers with agreeing normals), then grow them in that order until one succeeds.
        let subset_idx: Vec<u32> = if alive.len() <= opts.score_subset.max(1) {
            alive.clone()
        } else {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x5C0E);
            rng.set_stream(round);
            (0..opts.score_subset)
                .map(|_| alive[rng.random_range(0..alive.len())])
                .collect()
        };
        let scale_up = alive.len() as f64 / subset_idx.len().max(1) as f64;
        let mut ranked: Vec<(usize, u64, Cylinder)> = cands
            .iter()
            .map(|&(_, _, j, cyl)| {
                let n = subset_idx
                    .par_iter()
                    .filter(|&&i| {
                        let (d, c) = cyl.residual(pts[i as usize], nrm[i as usize]);
                        d.abs() <= opts.epsilon_m && c >= ctx.cos_alpha
                    })
                    .count();
                (n, j, cyl)
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut accepted = None;
        let mut rejected: Vec<u32> = Vec::new();
        for &(n, _, cyl) in &ranked {
            if (n as f64 * scale_up) < 0.5 * opts.min_points as f64 {
                break;
            }
            match ctx.grow(cyl, &alive_flag) {
                Ok(p) => {
                    accepted = Some(p);
                    break;
                }
                Err(inl) => rejected.extend(inl),
            }
        }
        // Structures that grew but are not pipes are not seeded from again.
        for &i in &rejected {
            seedable[i as usize] = false;
        }
        match accepted {
            Some(p) => {
                for &i in &p.consumed {
                    alive_flag[i as usize] = false;
                }
                alive.retain(|&i| alive_flag[i as usize]);
                pieces.push(p);
                failures = 0;
                progress.report(ProgressEvent {
                    points: (m - alive.len()) as u64,
                    total_points: Some(m as u64),
                    bytes: 0,
                    total_bytes: None,
                });
            }
            None => {
                failures += 1;
                // Nothing grew: the seeds of this round's candidates sit in clutter (an elbow,
                // a flange, a dense patch near a terrestrial scanner) that would otherwise win
                // round after round and end the search early.
                for &(_, _, cyl) in &ranked {
                    let mut inl = ctx.inliers_in(&cyl, &subset_idx, opts.epsilon_m);
                    ctx.largest_component(&cyl, &mut inl);
                    for i in inl {
                        seedable[i as usize] = false;
                    }
                }
            }
        }
        seeds.retain(|&i| alive_flag[i as usize] && seedable[i as usize]);
    }
    det.stats.rounds = round;
    det.stats.pieces = pieces.len() as u64;

    // Posts versus pipe pieces.
    let post_cos = opts.post_max_tilt_deg.to_radians().cos();
    let (posts, pipe_pieces): (Vec<Piece>, Vec<Piece>) = pieces
        .into_iter()
        .partition(|p| opts.post_max_tilt_deg > 0.0 && p.cyl.dir[2].abs() >= post_cos);
    for (k, p) in posts.iter().enumerate() {
        let seg = segment_of(&ctx, &p.cyl, &p.inliers, p.t0, p.t1, cloud.origin, true);
        det.posts.push(seg);
        for &i in &p.consumed {
            det.point_post[subset[i as usize]] = k as u32 + 1;
        }
    }

    // Stems and crown shells.
    let pipe_pieces = match &opts.stems {
        Some(st) => {
            let (kept, stems) = reject_stems(&ctx, cloud, &posts, pipe_pieces, st);
            det.stems = stems;
            kept
        }
        None => pipe_pieces,
    };

    // Runs.
    let runs = build_runs(&ctx, pipe_pieces);
    for (k, r) in runs.iter().enumerate() {
        let id = k as u32 + 1;
        let mut segments = Vec::new();
        for s in &r.segments {
            let pts_in: Vec<u32> = s.inliers.clone();
            segments.push(segment_of(
                &ctx,
                &r.cyl,
                &pts_in,
                s.t0,
                s.t1,
                cloud.origin,
                false,
            ));
        }
        for &i in &r.consumed {
            det.point_run[subset[i as usize]] = id;
        }
        let total: u64 = segments.iter().map(|s| s.point_count).sum();
        let radius_m = if total > 0 {
            segments
                .iter()
                .map(|s| s.radius_m * s.point_count as f64)
                .sum::<f64>()
                / total as f64
        } else {
            r.cyl.radius
        };
        det.runs.push(PipeRun {
            id,
            length_m: r.t1 - r.t0,
            radius_m,
            segments,
        });
    }
    det.stats.ransac_seconds = t_ransac.elapsed().as_secs_f64();
    Ok(det)
}

/// A cylinder's axis segment, bottom first.
fn axis_segment(c: &Cylinder, t0: f64, t1: f64) -> (V3, V3) {
    let a = add(c.point, scale(c.dir, t0));
    let b = add(c.point, scale(c.dir, t1));
    if a[2] <= b[2] { (a, b) } else { (b, a) }
}

/// Shortest distance between segments `p0p1` and `q0q1` (Ericson 2005, "Real-Time Collision
/// Detection", §5.1.9).
fn segment_distance(p0: V3, p1: V3, q0: V3, q1: V3) -> f64 {
    let (d1, d2, r) = (sub(p1, p0), sub(q1, q0), sub(p0, q0));
    let (a, e, f) = (dot(d1, d1), dot(d2, d2), dot(d2, r));
    let (s, t) = if a <= 1e-12 && e <= 1e-12 {
        (0.0, 0.0)
    } else if a <= 1e-12 {
        (0.0, (f / e).clamp(0.0, 1.0))
    } else {
        let c = dot(d1, r);
        if e <= 1e-12 {
            ((-c / a).clamp(0.0, 1.0), 0.0)
        } else {
            let b = dot(d1, d2);
            let den = a * e - b * b;
            let mut s = if den > 1e-12 {
                ((b * f - c * e) / den).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let mut t = (b * s + f) / e;
            if t < 0.0 {
                t = 0.0;
                s = (-c / a).clamp(0.0, 1.0);
            } else if t > 1.0 {
                t = 1.0;
                s = ((b - c) / a).clamp(0.0, 1.0);
            }
            (s, t)
        }
    };
    norm(sub(add(p0, scale(d1, s)), add(q0, scale(d2, t))))
}

/// Split `pieces` into pipe pieces and tree parts (module docs, step 6). `posts` are only
/// consulted: those under a crown and not carrying a pipe are stems.
fn reject_stems(
    ctx: &Ctx,
    cloud: &PointCloud,
    posts: &[Piece],
    pieces: Vec<Piece>,
    st: &StemRejection,
) -> (Vec<Piece>, Vec<RejectedStem>) {
    let tilt = |p: &Piece| p.cyl.dir[2].abs().min(1.0).acos().to_degrees();
    let steep: Vec<bool> = pieces.iter().map(|p| tilt(p) <= st.max_tilt_deg).collect();
    if posts.is_empty() && !steep.iter().any(|s| *s) {
        return (pieces, Vec::new());
    }
    // Every point of the cloud (ground, trees and all) by horizontal cell.
    let mut map: std::collections::HashMap<(i64, i64), Vec<u32>> = std::collections::HashMap::new();
    for (i, p) in cloud.positions.iter().enumerate() {
        let key = (
            (p[0] as f64 / st.crown_radius_m).floor() as i64,
            (p[1] as f64 / st.crown_radius_m).floor() as i64,
        );
        map.entry(key).or_default().push(i as u32);
    }
    let crown = |c: &Cylinder, t0: f64, t1: f64| -> Option<String> {
        let (n, slices) = crown_above(cloud, &map, c, t0, t1, st);
        (n >= st.crown_min_points && slices >= st.crown_min_slices).then(|| {
            format!(
                "under a crown ({n} points in {slices} of the {} half-metre slices above its top)",
                (st.crown_depth_m / CROWN_SLICE_M).ceil()
            )
        })
    };
    // Stems: steep pieces under a crown, and posts under a crown that carry no pipe (a
    // support's top touches the bottom of the pipe it carries).
    let mut stem_axes: Vec<(V3, V3, f64)> = Vec::new();
    for q in posts {
        let (_, top) = axis_segment(&q.cyl, q.t0, q.t1);
        let carries = pieces.iter().any(|p| {
            let (a, b) = axis_segment(&p.cyl, p.t0, p.t1);
            segment_distance(a, b, top, top) <= p.cyl.radius + q.cyl.radius + 0.1
        });
        if !carries && crown(&q.cyl, q.t0, q.t1).is_some() {
            let (a, b) = axis_segment(&q.cyl, q.t0, q.t1);
            stem_axes.push((a, b, q.cyl.radius));
        }
    }
    let mut reasons: Vec<Option<String>> = vec![None; pieces.len()];
    for (k, p) in pieces.iter().enumerate() {
        if steep[k]
            && let Some(r) = crown(&p.cyl, p.t0, p.t1)
        {
            let (a, b) = axis_segment(&p.cyl, p.t0, p.t1);
            stem_axes.push((a, b, p.cyl.radius));
            reasons[k] = Some(r);
        }
    }
    // Pieces touching a stem: branches, roots and buttresses, or a slice across the stem.
    for (k, p) in pieces.iter().enumerate() {
        if reasons[k].is_some() {
            continue;
        }
        let (a, b) = axis_segment(&p.cyl, p.t0, p.t1);
        let gap = stem_axes
            .iter()
            .map(|&(s0, s1, r)| segment_distance(a, b, s0, s1) - r - p.cyl.radius)
            .fold(f64::INFINITY, f64::min);
        if gap <= st.stem_clearance_m {
            reasons[k] = Some(format!("touches a stem (gap {:.2} m)", gap.max(0.0)));
        }
    }
    let mut kept = Vec::new();
    let mut stems = Vec::new();
    for (p, reason) in pieces.into_iter().zip(reasons) {
        match reason {
            Some(reason) => stems.push(RejectedStem {
                segment: segment_of(ctx, &p.cyl, &p.inliers, p.t0, p.t1, cloud.origin, true),
                tilt_deg: tilt(&p),
                reason,
            }),
            None => kept.push(p),
        }
    }
    (kept, stems)
}

/// Height of the slices [`crown_above`] counts occupied.
const CROWN_SLICE_M: f64 = 0.5;

/// Points of the cloud in the column above a cylinder's top (see [`StemRejection`]) and the
/// number of `CROWN_SLICE_M` height slices they occupy: heights `crown_gap_m`…`crown_gap_m +
/// crown_depth_m` above it, within `crown_radius_m` of the axis continued upward (a vertical
/// column for axes within 5° of horizontal).
fn crown_above(
    cloud: &PointCloud,
    map: &std::collections::HashMap<(i64, i64), Vec<u32>>,
    c: &Cylinder,
    t0: f64,
    t1: f64,
    st: &StemRejection,
) -> (usize, usize) {
    let (_, top) = axis_segment(c, t0, t1);
    let d = if c.dir[2] < 0.0 {
        scale(c.dir, -1.0)
    } else {
        c.dir
    };
    let (z0, z1) = (
        top[2] + st.crown_gap_m,
        top[2] + st.crown_gap_m + st.crown_depth_m,
    );
    // Horizontal drift of the axis per metre of height.
    let drift = if d[2] > 5f64.to_radians().sin() {
        [d[0] / d[2], d[1] / d[2]]
    } else {
        [0.0, 0.0]
    };
    let at = |z: f64| {
        [
            top[0] + drift[0] * (z - top[2]),
            top[1] + drift[1] * (z - top[2]),
        ]
    };
    let (c0, c1) = (at(z0), at(z1));
    let r = st.crown_radius_m;
    let cell = |v: f64| (v / r).floor() as i64;
    let (x0, x1) = (cell(c0[0].min(c1[0]) - r), cell(c0[0].max(c1[0]) + r));
    let (y0, y1) = (cell(c0[1].min(c1[1]) - r), cell(c0[1].max(c1[1]) + r));
    let n_slices = (st.crown_depth_m / CROWN_SLICE_M).ceil().max(1.0) as usize;
    let mut occupied = vec![false; n_slices];
    let mut n = 0usize;
    for cx in x0..=x1 {
        for cy in y0..=y1 {
            let Some(list) = map.get(&(cx, cy)) else {
                continue;
            };
            for &i in list {
                let q = cloud.positions[i as usize];
                let z = q[2] as f64;
                if z < z0 || z > z1 {
                    continue;
                }
                let a = at(z);
                let (dx, dy) = (q[0] as f64 - a[0], q[1] as f64 - a[1]);
                if dx * dx + dy * dy <= r * r {
                    n += 1;
                    occupied[(((z - z0) / CROWN_SLICE_M) as usize).min(n_slices - 1)] = true;
                }
            }
        }
    }
    (n, occupied.iter().filter(|o| **o).count())
}

/// A model segment for a stretch `[t0, t1]` of `cyl` with the given inliers.
fn segment_of(
    ctx: &Ctx,
    cyl: &Cylinder,
    inl: &[u32],
    t0: f64,
    t1: f64,
    origin: [f64; 3],
    upward: bool,
) -> PipeSegment {
    let mut a = add(cyl.point, scale(cyl.dir, t0));
    let mut b = add(cyl.point, scale(cyl.dir, t1));
    if upward && a[2] > b[2] {
        std::mem::swap(&mut a, &mut b);
    }
    let rms = if inl.is_empty() {
        0.0
    } else {
        (inl.iter()
            .map(|&i| {
                let (_, r) = cyl.decompose(ctx.pts[i as usize]);
                (norm(r) - cyl.radius).powi(2)
            })
            .sum::<f64>()
            / inl.len() as f64)
            .sqrt()
    };
    let abs = |p: V3| [p[0] + origin[0], p[1] + origin[1], p[2] + origin[2]];
    PipeSegment {
        start: abs(a),
        end: abs(b),
        radius_m: cyl.radius,
        inlier_rms_m: rms,
        point_count: inl.len() as u64,
    }
}

struct RunSeg {
    t0: f64,
    t1: f64,
    inliers: Vec<u32>,
}

struct RunBuild {
    cyl: Cylinder,
    t0: f64,
    t1: f64,
    segments: Vec<RunSeg>,
    consumed: Vec<u32>,
}

/// Union-find root with path halving.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Merge collinear pieces, refit, split at tees, cut into segments.
fn build_runs(ctx: &Ctx, pieces: Vec<Piece>) -> Vec<RunBuild> {
    let o = ctx.opts;
    let n = pieces.len();
    let cos_merge = o.merge_angle_deg.to_radians().cos();
    let mut parent: Vec<usize> = (0..n).collect();
    let ends = |p: &Piece| {
        (
            add(p.cyl.point, scale(p.cyl.dir, p.t0)),
            add(p.cyl.point, scale(p.cyl.dir, p.t1)),
        )
    };
    let line_dist = |c: &Cylinder, x: V3| norm(c.decompose(x).1);
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (&pieces[i], &pieces[j]);
            if dot(a.cyl.dir, b.cyl.dir).abs() < cos_merge {
                continue;
            }
            let rmax = a.cyl.radius.max(b.cyl.radius);
            if (a.cyl.radius - b.cyl.radius).abs() > (o.merge_radius_rel * rmax).max(0.005) {
                continue;
            }
            let (b0, b1) = ends(b);
            let (a0, a1) = ends(a);
            let off = line_dist(&a.cyl, scale(add(b0, b1), 0.5))
                .max(line_dist(&b.cyl, scale(add(a0, a1), 0.5)));
            if off > o.merge_offset_m {
                continue;
            }
            let tb0 = dot(sub(b0, a.cyl.point), a.cyl.dir);
            let tb1 = dot(sub(b1, a.cyl.point), a.cyl.dir);
            let (lo, hi) = (tb0.min(tb1), tb0.max(tb1));
            let gap = (lo - a.t1).max(a.t0 - hi);
            if gap > o.merge_gap_m {
                continue;
            }
            let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
            if ri != rj {
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        let r = find(&mut parent, i);
        groups[r].push(i);
    }
    let mut runs: Vec<RunBuild> = Vec::new();
    for g in groups.into_iter().filter(|g| !g.is_empty()) {
        // Start from the piece with most inliers; joint refit on all inliers.
        let seed = *g
            .iter()
            .max_by_key(|&&i| (pieces[i].inliers.len(), std::cmp::Reverse(i)))
            .unwrap();
        let mut inl: Vec<u32> = g
            .iter()
            .flat_map(|&i| pieces[i].inliers.iter().copied())
            .collect();
        inl.sort_unstable();
        inl.dedup();
        let mut consumed: Vec<u32> = g
            .iter()
            .flat_map(|&i| pieces[i].consumed.iter().copied())
            .collect();
        consumed.sort_unstable();
        consumed.dedup();
        let mut cyl = pieces[seed].cyl;
        if g.len() > 1
            && let Some((fit, _)) = ctx.fit(&inl, cyl)
        {
            cyl = fit;
        }
        // Orient runs consistently: the axis points to increasing x (then y, then z).
        let d = cyl.dir;
        if d[0] < -1e-9
            || (d[0].abs() <= 1e-9 && (d[1] < -1e-9 || (d[1].abs() <= 1e-9 && d[2] < 0.0)))
        {
            cyl.dir = scale(d, -1.0);
        }
        let mut ts: Vec<(f64, u32)> = inl
            .iter()
            .map(|&i| (dot(sub(ctx.pts[i as usize], cyl.point), cyl.dir), i))
            .collect();
        ts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let t0 = ts.first().map_or(0.0, |x| x.0);
        let t1 = ts.last().map_or(0.0, |x| x.0);
        runs.push(RunBuild {
            cyl,
            t0,
            t1,
            segments: vec![RunSeg {
                t0,
                t1,
                inliers: ts.iter().map(|x| x.1).collect(),
            }],
            consumed,
        });
    }

    // Tee junctions: cut a run where another run ends on its mantle, away from its own ends.
    let mut cuts: Vec<Vec<f64>> = vec![Vec::new(); runs.len()];
    for (a, ra) in runs.iter().enumerate() {
        for (b, rb) in runs.iter().enumerate() {
            if a == b {
                continue;
            }
            for tb in [rb.t0, rb.t1] {
                let e = add(rb.cyl.point, scale(rb.cyl.dir, tb));
                let (t, radial) = ra.cyl.decompose(e);
                let reach = ra.cyl.radius + rb.cyl.radius + o.junction_tolerance_m;
                // Both sides must be pieces of pipe in their own right; otherwise the other run
                // meets this one at a bend (an elbow), whose inliers overhang the vertex a little.
                let margin = o
                    .min_length_m
                    .max(3.0 * ra.cyl.radius)
                    .max(rb.cyl.radius + o.junction_tolerance_m);
                if norm(radial) <= reach && t > ra.t0 + margin && t < ra.t1 - margin {
                    cuts[a].push(t);
                }
            }
        }
    }
    let mut out: Vec<RunBuild> = Vec::new();
    for (ra, mut cut) in runs.into_iter().zip(cuts) {
        cut.sort_by(f64::total_cmp);
        // Keep cuts at least a piece apart, so no sliver run is left between two tees.
        let spacing = o.min_length_m.max(3.0 * ra.cyl.radius);
        let mut kept: Vec<f64> = Vec::new();
        for c in cut {
            if kept.last().is_none_or(|&k| c - k >= spacing) {
                kept.push(c);
            }
        }
        let cut = kept;
        let all: Vec<u32> = ra.segments.into_iter().flat_map(|s| s.inliers).collect();
        let t_of = |i: u32| dot(sub(ctx.pts[i as usize], ra.cyl.point), ra.cyl.dir);
        // Pieces between cuts.
        let mut bounds = vec![f64::NEG_INFINITY];
        bounds.extend(cut.iter().copied());
        bounds.push(f64::INFINITY);
        for w in bounds.windows(2) {
            let part: Vec<u32> = all
                .iter()
                .copied()
                .filter(|&i| {
                    let t = t_of(i);
                    t >= w[0] && t < w[1]
                })
                .collect();
            if part.is_empty() {
                continue;
            }
            let consumed: Vec<u32> = ra
                .consumed
                .iter()
                .copied()
                .filter(|&i| {
                    let t = t_of(i);
                    t >= w[0] && t < w[1]
                })
                .collect();
            // Segments: stretches without gaps longer than the cluster gap.
            let mut segs: Vec<RunSeg> = Vec::new();
            let mut cur: Vec<u32> = Vec::new();
            let (mut s0, mut last) = (t_of(part[0]), t_of(part[0]));
            for &i in &part {
                let t = t_of(i);
                if t - last > o.cluster_gap_m && !cur.is_empty() {
                    segs.push(RunSeg {
                        t0: s0,
                        t1: last,
                        inliers: std::mem::take(&mut cur),
                    });
                    s0 = t;
                }
                cur.push(i);
                last = t;
            }
            segs.push(RunSeg {
                t0: s0,
                t1: last,
                inliers: cur,
            });
            let (t0, t1) = (segs[0].t0, segs[segs.len() - 1].t1);
            out.push(RunBuild {
                cyl: ra.cyl,
                t0,
                t1,
                segments: segs,
                consumed,
            });
        }
    }
    out.sort_by(|a, b| {
        (b.t1 - b.t0)
            .total_cmp(&(a.t1 - a.t0))
            .then(a.cyl.point[0].total_cmp(&b.cyl.point[0]))
            .then(a.cyl.point[1].total_cmp(&b.cyl.point[1]))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_cylinder(c: &Cylinder, t: f64, phi: f64) -> V3 {
        let (u, v) = frame(c.dir);
        add(
            add(c.point, scale(c.dir, t)),
            add(
                scale(u, c.radius * phi.cos()),
                scale(v, c.radius * phi.sin()),
            ),
        )
    }

    #[test]
    fn two_point_candidate_recovers_cylinder() {
        let c = Cylinder {
            point: [1.0, 2.0, 3.0],
            dir: normalize([1.0, 0.2, 0.1]),
            radius: 0.25,
        };
        let p1 = on_cylinder(&c, 0.3, 0.4);
        let p2 = on_cylinder(&c, -0.8, 2.0);
        let n1 = normalize(c.decompose(p1).1);
        let n2 = normalize(c.decompose(p2).1);
        let got = Cylinder::from_two(p1, n1, p2, n2, 0.1).unwrap();
        assert!((got.radius - 0.25).abs() < 1e-9);
        assert!(dot(got.dir, c.dir).abs() > 1.0 - 1e-12);
        assert!(norm(c.decompose(got.point).1) < 1e-9);
    }

    #[test]
    fn refine_converges_from_a_rough_start() {
        let c = Cylinder {
            point: [0.0, 0.0, 0.0],
            dir: normalize([0.3, 1.0, 0.05]),
            radius: 0.15,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // Half a cylinder (an airborne view), with noise.
        let pts: Vec<V3> = (0..3000)
            .map(|_| {
                let t = rng.random_range(-3.0..3.0);
                let phi = rng.random_range(0.0..std::f64::consts::PI);
                let p = on_cylinder(&c, t, phi);
                let e = rng.random_range(-0.004..0.004);
                add(p, scale(normalize(c.decompose(p).1), e))
            })
            .collect();
        let start = Cylinder {
            point: [0.03, -0.02, 0.01],
            dir: normalize([0.4, 1.0, 0.0]),
            radius: 0.2,
        };
        let (fit, rms) = refine(&pts, start, None, 50).unwrap();
        let ang = dot(fit.dir, c.dir).abs().min(1.0).acos().to_degrees();
        assert!(ang < 0.1, "angle {ang}");
        assert!((fit.radius - 0.15).abs() < 0.002, "radius {}", fit.radius);
        assert!(rms < 0.004);
    }

    /// The fit's parallel sums add in a fixed order, so the thread count changes no bit of
    /// a fitted cylinder (a rayon `sum` on 1 vs 2 threads differs in the last bits, and a fit
    /// stopped before full convergence carries that into the result).
    #[test]
    fn refine_is_bit_identical_on_any_pool() {
        let c = Cylinder {
            point: [0.0, 0.0, 0.0],
            dir: normalize([0.3, 1.0, 0.05]),
            radius: 0.15,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let pts: Vec<V3> = (0..9000)
            .map(|_| {
                let t = rng.random_range(-3.0..3.0);
                let phi = rng.random_range(0.0..std::f64::consts::PI);
                let p = on_cylinder(&c, t, phi);
                let e = rng.random_range(-0.01..0.01);
                add(p, scale(normalize(c.decompose(p).1), e))
            })
            .collect();
        let start = Cylinder {
            point: [0.03, -0.02, 0.01],
            dir: normalize([0.4, 1.0, 0.0]),
            radius: 0.2,
        };
        let bits = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (f, rms) = refine(&pts, start, None, 3).unwrap();
                let sum = chunked_sum(&pts, |i, p| p[0] * p[1] + i as f64 * 1e-9);
                [f.point, f.dir, [f.radius, rms, sum]].map(|v| v.map(f64::to_bits))
            })
        };
        let one = bits(1);
        for threads in [2, 3, 4] {
            assert_eq!(bits(threads), one, "{threads} threads");
        }
    }

    #[test]
    fn beam_residuals_remove_the_top_view_radius_bias() {
        // A horizontal pipe seen from above: hits uniform in x, range noise along the vertical
        // beam (σ = 2 cm, truncated at 3σ), as airborne LiDAR sees it.
        let c = Cylinder {
            point: [0.0, 0.0, 0.0],
            dir: [0.0, 1.0, 0.0],
            radius: 0.15,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut pts = Vec::new();
        while pts.len() < 20_000 {
            let x: f64 = rng.random_range(-0.15..0.15);
            let y: f64 = rng.random_range(-5.0..5.0);
            let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            let e = 0.02 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            if e.abs() > 0.06 {
                continue;
            }
            pts.push([x, y, (0.15f64 * 0.15 - x * x).sqrt() + e]);
        }
        let (ortho, _) = refine(&pts, c, None, 50).unwrap();
        let up = vec![[0.0, 0.0, 1.0]; pts.len()];
        let (beam, _) = refine(&pts, c, Some(&up), 50).unwrap();
        let e_ortho = (ortho.radius - 0.15) / 0.15;
        let e_beam = (beam.radius - 0.15) / 0.15;
        eprintln!("ortho {e_ortho} beam {e_beam}");
        assert!(
            e_ortho < -0.02,
            "orthogonal fit should show the bias: {e_ortho}"
        );
        assert!(e_beam.abs() < 0.005, "beam fit radius error {e_beam}");
    }

    /// Points on the visible surface of a cylinder piece (full circumference), with noise.
    fn sample(c: &Cylinder, a: f64, b: f64, per_m2: f64, rng: &mut ChaCha8Rng) -> Vec<V3> {
        let n = ((b - a) * 2.0 * std::f64::consts::PI * c.radius * per_m2) as usize;
        (0..n)
            .map(|_| {
                let t = rng.random_range(a..b);
                let phi = rng.random_range(0.0..2.0 * std::f64::consts::PI);
                let p = on_cylinder(c, t, phi);
                let e = rng.random_range(-0.002..0.002);
                add(p, scale(normalize(c.decompose(p).1), e))
            })
            .collect()
    }

    #[test]
    fn tee_splits_the_main_run_and_a_bend_does_not() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let main = Cylinder {
            point: [0.0, 0.0, 2.0],
            dir: [1.0, 0.0, 0.0],
            radius: 0.15,
        };
        // Branch along +y ending on the main pipe's mantle at x = 1.
        let branch = Cylinder {
            point: [1.0, 0.0, 2.0],
            dir: [0.0, 1.0, 0.0],
            radius: 0.1,
        };
        // An L bend at the main pipe's far end: a leg along −y from x = 6.
        let leg = Cylinder {
            point: [6.0, 0.0, 2.0],
            dir: [0.0, -1.0, 0.0],
            radius: 0.15,
        };
        let mut pts = sample(&main, -5.0, 6.0, 3000.0, &mut rng);
        pts.extend(sample(&branch, 0.16, 5.0, 3000.0, &mut rng));
        pts.extend(sample(&leg, 0.16, 5.0, 3000.0, &mut rng));
        let cloud = PointCloud::from_absolute(&pts);
        let det = run(
            &cloud,
            None,
            &PipeOptions::default(),
            &mut capture::NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        let mut summary: Vec<(i64, i64, i64)> = det
            .runs
            .iter()
            .map(|r| {
                let (a, b) = (r.segments[0].start, r.segments[r.segments.len() - 1].end);
                (
                    (1000.0 * r.radius_m).round() as i64,
                    a[0].min(b[0]).round() as i64,
                    a[0].max(b[0]).round() as i64,
                )
            })
            .collect();
        summary.sort();
        // Main pipe split at the tee (x ≈ 1) into two runs; branch and bend leg one each.
        assert_eq!(det.runs.len(), 4, "{summary:?}");
        assert_eq!(
            summary.iter().filter(|s| s.0 == 150).count(),
            3,
            "{summary:?}"
        );
        assert!(summary.contains(&(100, 1, 1)), "{summary:?}");
        assert!(
            summary.iter().any(|s| s.0 == 150 && s.1 == -5 && s.2 == 1),
            "{summary:?}"
        );
        assert!(
            summary.iter().any(|s| s.0 == 150 && s.1 == 1 && s.2 == 6),
            "{summary:?}"
        );
    }

    #[test]
    fn segment_distance_cases() {
        // Skew perpendicular segments 1 apart; parallel overlapping; end to end.
        let d = segment_distance(
            [0.0, 0.0, 0.0],
            [2.0, 0.0, 0.0],
            [1.0, -1.0, 1.0],
            [1.0, 1.0, 1.0],
        );
        assert!((d - 1.0).abs() < 1e-12);
        let d = segment_distance(
            [0.0, 0.0, 0.0],
            [2.0, 0.0, 0.0],
            [1.0, 0.5, 0.0],
            [3.0, 0.5, 0.0],
        );
        assert!((d - 0.5).abs() < 1e-12);
        let d = segment_distance(
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [3.0, 0.0, 0.0],
            [3.0, 0.0, 5.0],
        );
        assert!((d - 2.0).abs() < 1e-12);
        let p = [0.5, 0.5, 0.5];
        assert!((segment_distance(p, p, [0.0; 3], [0.0, 0.0, 1.0]) - 0.5f64.sqrt()).abs() < 1e-12);
    }

    /// A pipe 30° from vertical is a run in the open and a leaning stem under a crown.
    #[test]
    fn steep_cylinder_under_a_crown_is_a_stem() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let c = Cylinder {
            point: [0.0, 0.0, 1.0],
            dir: normalize([0.5, 0.0, 0.866]),
            radius: 0.12,
        };
        let mut abs = Vec::new();
        for _ in 0..4000 {
            let p = on_cylinder(&c, rng.random_range(0.0..4.0), rng.random_range(0.0..6.3));
            abs.push([p[0] + 500.0, p[1] + 800.0, p[2] + 50.0]);
        }
        let pipe_points = abs.len();
        for with_crown in [false, true] {
            let mut pts = abs.clone();
            if with_crown {
                // Foliage: 3 000 points in a 2.5 m ball centred 4 m above the top, drifting on.
                let top = add(c.point, scale(c.dir, 4.0));
                while pts.len() < pipe_points + 3000 {
                    let q = [
                        rng.random_range(-2.5..2.5),
                        rng.random_range(-2.5..2.5),
                        rng.random_range(-2.5..2.5),
                    ];
                    if norm(q) <= 2.5 {
                        pts.push([
                            top[0] + 2.0 + q[0] + 500.0,
                            q[1] + 800.0,
                            top[2] + 4.0 + q[2] + 50.0,
                        ]);
                    }
                }
            }
            let mut cloud = PointCloud::from_absolute(&pts);
            // The crown is vegetation (class 5): not a pipe candidate, but seen above the piece.
            cloud.classification = Some(
                (0..pts.len())
                    .map(|i| if i < pipe_points { 1 } else { 5 })
                    .collect(),
            );
            let det = run(
                &cloud,
                None,
                &PipeOptions::default(),
                &mut capture::NoProgress,
                &CancelToken::new(),
            )
            .unwrap();
            if with_crown {
                assert!(det.runs.is_empty(), "{:#?}", det.runs);
                assert_eq!(det.stems.len(), 1, "{:#?}", det.stems);
                assert!(det.stems[0].reason.starts_with("under a crown"));
                assert!((det.stems[0].tilt_deg - 30.0).abs() < 1.0);
            } else {
                assert_eq!(det.runs.len(), 1, "{:#?}", det.stems);
                assert!(det.stems.is_empty());
            }
            let off = PipeOptions {
                stems: None,
                ..Default::default()
            };
            let det = run(
                &cloud,
                None,
                &off,
                &mut capture::NoProgress,
                &CancelToken::new(),
            )
            .unwrap();
            assert_eq!(
                det.runs.len(),
                1,
                "without stem rejection the piece is a run"
            );
        }
    }

    #[test]
    fn finds_two_pipes_and_a_post() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let cyls = [
            (
                Cylinder {
                    point: [0.0, 0.0, 2.0],
                    dir: [1.0, 0.0, 0.0],
                    radius: 0.2,
                },
                -5.0,
                5.0,
            ),
            (
                Cylinder {
                    point: [0.0, 3.0, 1.5],
                    dir: normalize([1.0, 1.0, 0.0]),
                    radius: 0.1,
                },
                -4.0,
                4.0,
            ),
            (
                Cylinder {
                    point: [0.0, -2.0, 1.0],
                    dir: [0.0, 0.0, 1.0],
                    radius: 0.08,
                },
                -1.0,
                1.0,
            ),
        ];
        let mut abs = Vec::new();
        for (c, a, b) in &cyls {
            let n = ((b - a) * c.radius * 4000.0) as usize;
            for _ in 0..n {
                let t = rng.random_range(*a..*b);
                let phi = rng.random_range(0.0..2.0 * std::f64::consts::PI);
                let p = on_cylinder(c, t, phi);
                let e = rng.random_range(-0.003..0.003);
                let p = add(p, scale(normalize(c.decompose(p).1), e));
                abs.push([p[0] + 1000.0, p[1] + 2000.0, p[2] + 100.0]);
            }
        }
        let cloud = PointCloud::from_absolute(&abs);
        let det = run(
            &cloud,
            None,
            &PipeOptions::default(),
            &mut capture::NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        assert_eq!(det.runs.len(), 2, "{:#?}", det.runs);
        assert_eq!(det.posts.len(), 1, "{:#?}", det.posts);
        assert!((det.runs[0].radius_m - 0.2).abs() < 0.004);
        assert!((det.runs[0].length_m - 10.0).abs() < 0.2);
        assert!((det.runs[1].radius_m - 0.1).abs() < 0.002);
        assert!((det.posts[0].radius_m - 0.08).abs() < 0.002);
        assert!(det.posts[0].end[2] > det.posts[0].start[2]);
        let labelled = det.point_run.iter().filter(|&&r| r > 0).count();
        assert!(labelled as f64 > 0.95 * (abs.len() as f64 - 1600.0));
    }
}
