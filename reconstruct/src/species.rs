//! Conifer or broadleaf from a tree's own points.
//!
//! Biomass and growth equations split first by clade (Jenkins et al. 2003, For. Sci. 49:12–35;
//! Chojnacky et al. 2014, Forestry 87:129–151; Jucker et al. 2017, Glob. Change Biol.
//! 23:177–190), so the class is what the value depends on most after size. Airborne LiDAR
//! separates the two by crown form (Holmgren & Persson 2004, Remote Sens. Environ. 90:415–423;
//! Ørka, Næsset & Bollandsås 2009, Remote Sens. Environ. 113:1163–1174): a conifer crown is
//! a cone or a narrow paraboloid — height falls off steadily from a pointed apex — and is long
//! and narrow; a broadleaf crown is a wide dome, flat near the top and falling off at the edge.
//! Intensity is left out on purpose: it depends on the sensor, its gain and the flight, and does
//! not carry from one survey to the next without calibration.
//!
//! # Features ([`SpeciesFeatures`]), all scale-free
//! - **apex shape** (`apex_shape`): the crown envelope (the highest point per 0.5 m ring sector
//!   around the top) gives the height drop below the top at relative radius `ρ = r / R`
//!   (`R` = crown radius). The ratio of the mean drop at `ρ ∈ [0.2, 0.5]` to that at
//!   `ρ ∈ [0.6, 1]` is 0.43 for a cone, 0.18 for a paraboloid and about 0.1 for a half-ellipsoid
//!   dome: pointed tops score high.
//! - **slenderness** (`slenderness`): crown length (top − crown base, or the height of the
//!   lowest crown point) over crown diameter; spruce and fir crowns are 1.5–3 times as long as
//!   wide, broadleaf crowns about as long as wide or less (Pretzsch et al. 2015, Trees
//!   29:1377–1391, crown allometry across species).
//! - **top steepness** (`top_steepness`): the drop at `ρ = 0.5` over the crown radius: a cone's
//!   flank slope, near 0 for a flat-topped dome.
//!
//! - **depth spread** (`depth_spread`): interquartile range of the tree's return heights over
//!   its height — how deep into the crown the returns reach.
//!
//! Return statistics are left out too: the share of non-first returns separated IDTReeS's two
//! sites' sensors (0.06 at OSBS, 0.5 at MLBS), not the two clades.
//!
//! A logistic model of the features ([`SpeciesModel`]) gives `p_conifer`. Its coefficients
//! were fitted (L2-regularised logistic regression) on the visible sets together — 217 IDTReeS
//! crowns matched to detected trees with field species and an equal number of simulator trees —
//! and score 0.94 on the simulator but only 0.65 on IDTReeS, where the mature longleaf pines of
//! OSBS have flat, open crowns shaped like broadleaf ones. Crown form alone does not tell a
//! flat-topped pine from an oak; where the stand is known, the user's species should inform the
//! call (the growth model takes a species per tree and resolves it before the class).

use serde::{Deserialize, Serialize};

use capture::PointCloud;

use crate::model::{SpeciesCall, Tree};

/// Scale-free crown-form features of one tree (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeciesFeatures {
    pub apex_shape: f64,
    pub slenderness: f64,
    pub top_steepness: f64,
    /// Interquartile range of the tree's return heights over its height: how deep into the
    /// crown the returns reach.
    pub depth_spread: f64,
    /// Envelope samples the features came from; few samples make a weak call.
    pub samples: usize,
}

/// Logistic model `p = 1 / (1 + exp(−(b0 + Σ bᵢ·fᵢ)))` over [`SpeciesFeatures`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpeciesModel {
    pub intercept: f64,
    pub apex_shape: f64,
    pub slenderness: f64,
    pub top_steepness: f64,
    pub depth_spread: f64,
    /// Trees with fewer envelope samples than this get `p = prior` (default 8).
    pub min_samples: usize,
    /// Conifer probability without evidence (default 0.5).
    pub prior: f64,
}

impl Default for SpeciesModel {
    fn default() -> Self {
        SpeciesModel {
            intercept: -1.627,
            apex_shape: -0.714,
            slenderness: 0.198,
            top_steepness: 1.320,
            depth_spread: -0.669,
            min_samples: 8,
            prior: 0.5,
        }
    }
}

impl SpeciesModel {
    pub fn p_conifer(&self, f: &SpeciesFeatures) -> f64 {
        if f.samples < self.min_samples {
            return self.prior;
        }
        let z = self.intercept
            + self.apex_shape * f.apex_shape
            + self.slenderness * f.slenderness
            + self.top_steepness * f.top_steepness
            + self.depth_spread * f.depth_spread;
        1.0 / (1.0 + (-z).exp())
    }
}

/// Sectors of the envelope around the tree top.
const SECTORS: usize = 8;
/// Width of the envelope's rings (m).
const RING_M: f64 = 0.5;

/// Features of every tree from the height-normalised cloud and the per-point tree ids
/// (`labels[i] = k + 1` for tree `k`).
pub fn features(cloud: &PointCloud, labels: &[u32], trees: &[Tree]) -> Vec<SpeciesFeatures> {
    let n = trees.len();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, &l) in labels.iter().enumerate() {
        if l != 0 && (l as usize) <= n {
            members[l as usize - 1].push(i as u32);
        }
    }
    use rayon::prelude::*;
    (0..n)
        .into_par_iter()
        .map(|k| {
            let t = &trees[k];
            let pts: Vec<[f64; 3]> = members[k]
                .iter()
                .map(|&i| cloud.absolute(i as usize))
                .collect();
            tree_features(t, &pts)
        })
        .collect()
}

/// Features of one tree from its points (absolute x, y; z = height above ground).
pub fn tree_features(t: &Tree, pts: &[[f64; 3]]) -> SpeciesFeatures {
    let radius = (t.crown_diameter_m / 2.0).max(RING_M);
    let rings = (radius / RING_M).ceil() as usize + 1;
    // Envelope: highest point per (ring, sector).
    let mut env = vec![f64::NEG_INFINITY; rings * SECTORS];
    let mut lowest = t.height_m;
    for p in pts {
        let (dx, dy) = (p[0] - t.x, p[1] - t.y);
        let r = dx.hypot(dy);
        if r > radius {
            continue;
        }
        lowest = lowest.min(p[2]);
        let ring = ((r / RING_M) as usize).min(rings - 1);
        let a = dy.atan2(dx) + std::f64::consts::PI;
        let sector =
            ((a / (2.0 * std::f64::consts::PI) * SECTORS as f64) as usize).min(SECTORS - 1);
        let e = &mut env[ring * SECTORS + sector];
        *e = e.max(p[2]);
    }
    let (mut inner, mut ni, mut outer, mut no, mut mid, mut nm, mut samples) =
        (0.0, 0usize, 0.0, 0usize, 0.0, 0usize, 0usize);
    for ring in 0..rings {
        let rho = ((ring as f64 + 0.5) * RING_M / radius).min(1.0);
        for s in 0..SECTORS {
            let z = env[ring * SECTORS + s];
            if !z.is_finite() {
                continue;
            }
            samples += 1;
            let drop = (t.height_m - z).max(0.0);
            if (0.2..=0.5).contains(&rho) {
                inner += drop;
                ni += 1;
            }
            if rho >= 0.6 {
                outer += drop;
                no += 1;
            }
            if (0.35..=0.65).contains(&rho) {
                mid += drop;
                nm += 1;
            }
        }
    }
    let mean = |s: f64, n: usize| if n > 0 { s / n as f64 } else { 0.0 };
    let (inner, outer, mid) = (mean(inner, ni), mean(outer, no), mean(mid, nm));
    let base = t.crown_base_height_m.unwrap_or(lowest).min(t.height_m);
    let mut zs: Vec<f64> = pts.iter().map(|p| p[2]).collect();
    zs.sort_by(f64::total_cmp);
    let q = |f: f64| {
        zs.get(((zs.len() as f64 - 1.0) * f).round() as usize)
            .copied()
    };
    let depth_spread = match (q(0.25), q(0.75)) {
        (Some(a), Some(b)) if t.height_m > 0.0 => (b - a) / t.height_m,
        _ => 0.0,
    };
    SpeciesFeatures {
        apex_shape: if outer > 1e-6 {
            (inner / outer).min(2.0)
        } else {
            0.0
        },
        slenderness: ((t.height_m - base) / t.crown_diameter_m.max(0.5)).min(6.0),
        top_steepness: (mid / (0.5 * radius)).min(6.0),
        depth_spread,
        samples: if ni > 0 && no > 0 { samples } else { 0 },
    }
}

/// The point-based call for each tree.
pub fn classify(features: &[SpeciesFeatures], model: &SpeciesModel) -> Vec<SpeciesCall> {
    features
        .iter()
        .map(|f| SpeciesCall::from_points(model.p_conifer(f)))
        .collect()
}
