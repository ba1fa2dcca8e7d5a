//! Options of pipe detection: RANSAC, refinement, merging and the stem rejection rules.

use super::*;

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
    pub(super) fn validate(&self) -> Result<()> {
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
