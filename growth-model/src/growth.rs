//! Tree growth, competition, mortality, disturbance and harvest events.
//!
//! **Growth** follows the Chapman–Richards function (Richards 1959, *J. Exp. Bot.* 10:290–300;
//! Pienaar & Turnbull 1973, *Forest Science* 19:2–22) `X(t) = A (1 − e^{−bt})^c` for height and
//! DBH, used in its age-free form because a scanned tree's age is unknown. Differentiating and
//! eliminating t with `u = (X/A)^{1/c} = 1 − e^{−bt}`:
//!
//! ```text
//! dX/dt = A c (1 − e^{−bt})^{c−1} b e^{−bt} = b c X (1 − u)/u = b c X ((A/X)^{1/c} − 1)
//! ```
//!
//! and the exact one-year step from any size is `u' = 1 − (1 − u) e^{−bΔt}`, `X' = A u'^c`
//! ([`chapman_richards_step`]) — no Euler error, and X never overshoots A.
//!
//! The default parameters per species group ([`GrowthParams::default_for`]) are **illustrative
//! calibrations**, not published fits: asymptotes near typical mature sizes of the group, rates
//! giving a few decimetres of height and a few millimetres of DBH a year for mid-sized trees on
//! a medium site, shape c ≈ 1.1–1.2. Site-specific parameters (from site-index curves or
//! repeated scans) should replace them; growth uncertainty is sampled around them.
//!
//! **Crowns** follow the Jucker et al. (2017) allometry inverted for crown diameter, scaled by
//! the tree's observed ratio at the survey (see `allometry`).
//!
//! **Competition** (optional): a crown-overlap index in the family compared by Biging &
//! Dobbertin (1992, *Forest Science* 38:695–720): for tree i, `O_i = Σ_j w_ij · lens(r_i, r_j,
//! d_ij) / (π r_i²)` over neighbours within crown reach, with w = 1 for taller neighbours and
//! 0.5 for shorter ones (asymmetric competition for light), capped at 1. The DBH increment is
//! multiplied by `1 − s·O_i` and the height increment by `1 − s·O_i/2` (height growth is less
//! sensitive to crowding); s is the strength (default 0.5, illustrative). Neighbours are found
//! once with a uniform grid (positions do not move); overlaps are recomputed every year.
//!
//! **Mortality**: an annual probability that depends on DBH with the U shape reported for
//! temperate forests (high for small suppressed stems, lowest at intermediate sizes, rising
//! again for the largest trees; Lines, Coomes & Purves 2010, *PLoS ONE* 5:e13212), at a
//! background level of about 0.5 %/yr for mid-sized trees — within the ~0.5–2 %/yr turnover of
//! temperate forests (Stephenson & van Mantgem 2005, *Ecology Letters* 8:524–531):
//! `p(D) = p0 + p_small · e^{−D/D_small} + p_large · (D/D_large)^k`, capped at 1. Parameter
//! values are illustrative.
//!
//! **Disturbance**: each year an event (storm, fire, pests) occurs with probability `hazard`;
//! it kills each living tree with probability `loss_fraction`. Defaults (2 %/yr, 30 %) sit in
//! the "once every 25–50 years" likelihood and "major (25–50 %) loss" classes of the VCS AFOLU
//! Non-Permanence Risk Tool's natural-risk scoring; they are a scenario choice, not a site
//! assessment. Dead and harvested wood leaves the stock at once (no dead-wood or wood-product
//! pools — conservative).

use serde::{Deserialize, Serialize};

use crate::allometry::SpeciesGroup;
use crate::error::{Result, bad_option};

/// Chapman–Richards parameters for height (m) and DBH (cm).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthParams {
    /// Asymptotic height A (m).
    pub height_max_m: f64,
    /// Rate b (1/yr).
    pub height_rate: f64,
    /// Shape c.
    pub height_shape: f64,
    /// Asymptotic DBH A (cm).
    pub dbh_max_cm: f64,
    pub dbh_rate: f64,
    pub dbh_shape: f64,
}

impl GrowthParams {
    /// Illustrative default calibration per species group (see the module docs).
    pub fn default_for(group: SpeciesGroup) -> GrowthParams {
        use SpeciesGroup::*;
        let (hm, hb, hc, dm, db, dc) = match group {
            CedarLarch => (35.0, 0.030, 1.2, 80.0, 0.020, 1.1),
            DouglasFir => (50.0, 0.025, 1.2, 100.0, 0.018, 1.1),
            TrueFirHemlock => (40.0, 0.025, 1.2, 80.0, 0.018, 1.1),
            Pine => (32.0, 0.030, 1.2, 70.0, 0.022, 1.1),
            Spruce => (38.0, 0.025, 1.2, 75.0, 0.020, 1.1),
            AspenAlderCottonwoodWillow => (28.0, 0.040, 1.1, 55.0, 0.030, 1.1),
            SoftMapleBirch => (26.0, 0.035, 1.1, 60.0, 0.025, 1.1),
            MixedHardwood => (30.0, 0.030, 1.1, 70.0, 0.022, 1.1),
            HardMapleOakHickoryBeech => (28.0, 0.025, 1.1, 80.0, 0.018, 1.1),
            WoodlandJuniperOakMesquite => (12.0, 0.025, 1.1, 50.0, 0.015, 1.1),
        };
        GrowthParams {
            height_max_m: hm,
            height_rate: hb,
            height_shape: hc,
            dbh_max_cm: dm,
            dbh_rate: db,
            dbh_shape: dc,
        }
    }

    pub fn validate(&self) -> Result<()> {
        for (n, v) in [
            ("growth.params.height_max_m", self.height_max_m),
            ("growth.params.height_rate", self.height_rate),
            ("growth.params.height_shape", self.height_shape),
            ("growth.params.dbh_max_cm", self.dbh_max_cm),
            ("growth.params.dbh_rate", self.dbh_rate),
            ("growth.params.dbh_shape", self.dbh_shape),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad_option(n, v, "must be > 0"));
            }
        }
        Ok(())
    }
}

/// Instantaneous Chapman–Richards rate dX/dt = b·c·X·((A/X)^{1/c} − 1) (0 at or above A).
pub fn chapman_richards_rate(x: f64, a: f64, b: f64, c: f64) -> f64 {
    if x <= 0.0 || x >= a {
        return 0.0;
    }
    b * c * x * ((a / x).powf(1.0 / c) - 1.0)
}

/// Exact Chapman–Richards step: size after `dt` years from size `x` (unchanged at or above A).
pub fn chapman_richards_step(x: f64, a: f64, b: f64, c: f64, dt: f64) -> f64 {
    cr_step_e(x, a, c, (-b * dt).exp())
}

/// Step with a precomputed e^{−b·dt}.
#[inline]
pub(crate) fn cr_step_e(x: f64, a: f64, c: f64, e: f64) -> f64 {
    if x >= a {
        return x;
    }
    let x = x.max(1e-6);
    let u = (x / a).powf(1.0 / c);
    let u1 = 1.0 - (1.0 - u) * e;
    a * u1.powf(c)
}

/// Crown-overlap competition.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompetitionOptions {
    /// s: increment reduction at full overlap (0.5).
    pub strength: f64,
}

impl Default for CompetitionOptions {
    fn default() -> Self {
        CompetitionOptions { strength: 0.5 }
    }
}

/// Size-dependent background mortality (see module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MortalityOptions {
    pub enabled: bool,
    /// p0 (0.005/yr).
    pub base: f64,
    /// p_small (0.03/yr).
    pub small: f64,
    /// D_small (5 cm).
    pub small_scale_cm: f64,
    /// p_large (0.01/yr at D_large).
    pub large: f64,
    /// D_large (100 cm).
    pub large_ref_cm: f64,
    /// k (4).
    pub large_exponent: f64,
}

impl Default for MortalityOptions {
    fn default() -> Self {
        MortalityOptions {
            enabled: true,
            base: 0.005,
            small: 0.03,
            small_scale_cm: 5.0,
            large: 0.01,
            large_ref_cm: 100.0,
            large_exponent: 4.0,
        }
    }
}

impl MortalityOptions {
    /// Annual mortality probability of a tree of DBH `d` cm.
    pub fn annual_probability(&self, dbh_cm: f64) -> f64 {
        if !self.enabled {
            return 0.0;
        }
        let d = dbh_cm.max(0.0);
        (self.base
            + self.small * (-d / self.small_scale_cm).exp()
            + self.large * (d / self.large_ref_cm).powf(self.large_exponent))
        .clamp(0.0, 1.0)
    }

    pub fn validate(&self) -> Result<()> {
        for (n, v) in [
            ("growth.mortality.base", self.base),
            ("growth.mortality.small", self.small),
            ("growth.mortality.large", self.large),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad_option(n, v, "must be in [0, 1]"));
            }
        }
        for (n, v) in [
            ("growth.mortality.small_scale_cm", self.small_scale_cm),
            ("growth.mortality.large_ref_cm", self.large_ref_cm),
            ("growth.mortality.large_exponent", self.large_exponent),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad_option(n, v, "must be > 0"));
            }
        }
        Ok(())
    }
}

/// Stand-replacing or partial disturbance as an annual hazard.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisturbanceOptions {
    /// Annual probability of an event (0.02; 0 disables).
    pub hazard_per_year: f64,
    /// Probability that an event kills a given living tree (0.30).
    pub loss_fraction: f64,
}

impl Default for DisturbanceOptions {
    fn default() -> Self {
        DisturbanceOptions {
            hazard_per_year: 0.02,
            loss_fraction: 0.30,
        }
    }
}

/// Which trees a thinning or harvest removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Thinning from below.
    Smallest,
    /// Thinning from above / selective harvest of the largest stems.
    Largest,
    /// Random (systematic) thinning.
    Random,
}

/// A thinning or harvest: in `year` (1-based, after that year's growth) remove `fraction` of
/// the trees standing in the deterministic schedule. `fraction` 1.0 is a clear-fell (no
/// regeneration is modelled afterwards).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HarvestEvent {
    pub year: u32,
    pub fraction: f64,
    pub selection: Selection,
}

/// Area of the intersection of two circles of radii r1, r2 whose centres are d apart.
pub fn lens_area(r1: f64, r2: f64, d: f64) -> f64 {
    if r1 <= 0.0 || r2 <= 0.0 || d >= r1 + r2 {
        return 0.0;
    }
    if d <= (r1 - r2).abs() {
        let r = r1.min(r2);
        return std::f64::consts::PI * r * r;
    }
    let a1 = ((d * d + r1 * r1 - r2 * r2) / (2.0 * d * r1))
        .clamp(-1.0, 1.0)
        .acos();
    let a2 = ((d * d + r2 * r2 - r1 * r1) / (2.0 * d * r2))
        .clamp(-1.0, 1.0)
        .acos();
    let k = ((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)).max(0.0);
    r1 * r1 * a1 + r2 * r2 * a2 - 0.5 * k.sqrt()
}

/// Neighbour lists in compressed-row form: for tree i, `idx[off[i]..off[i+1]]` are the trees
/// whose centres are closer than `reach[i] + reach[j]`, with distances in `dist`.
#[derive(Clone, Debug, Default)]
pub struct Neighbours {
    pub off: Vec<u32>,
    pub idx: Vec<u32>,
    pub dist: Vec<f32>,
}

impl Neighbours {
    /// Builds the lists with a uniform grid of cell size 2·max(reach): each tree only looks at
    /// its own and the eight surrounding cells, so the cost is O(n · neighbours).
    pub fn build(x: &[f64], y: &[f64], reach: &[f64]) -> Neighbours {
        use std::collections::HashMap;
        let n = x.len();
        let rmax = reach.iter().cloned().fold(0.0f64, f64::max);
        let cell = (2.0 * rmax).max(0.5);
        let key = |i: usize| ((x[i] / cell).floor() as i64, (y[i] / cell).floor() as i64);
        let mut grid: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
        for i in 0..n {
            grid.entry(key(i)).or_default().push(i as u32);
        }
        let mut nb = Neighbours {
            off: Vec::with_capacity(n + 1),
            ..Default::default()
        };
        nb.off.push(0);
        for i in 0..n {
            let (cx, cy) = key(i);
            for gx in cx - 1..=cx + 1 {
                for gy in cy - 1..=cy + 1 {
                    let Some(list) = grid.get(&(gx, gy)) else {
                        continue;
                    };
                    for &j in list {
                        let j = j as usize;
                        if j == i {
                            continue;
                        }
                        let d = ((x[i] - x[j]).powi(2) + (y[i] - y[j]).powi(2)).sqrt();
                        if d < reach[i] + reach[j] {
                            nb.idx.push(j as u32);
                            nb.dist.push(d as f32);
                        }
                    }
                }
            }
            nb.off.push(nb.idx.len() as u32);
        }
        nb
    }
}
