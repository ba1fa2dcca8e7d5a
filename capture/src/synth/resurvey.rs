//! A later survey of the same scene with known change: growth, standing mortality, a harvest
//! patch, a storm gap, ingrowth and a georeferencing offset — so every number a resurvey reports
//! (registration, matching, increments, removals, canopy loss, carbon change, drift) has exact
//! truth.
//!
//! **Growth** is the Chapman–Richards form the growth model projects with (Richards 1959;
//! `growth-model::growth`), stepped exactly over `years`: by default with the growth model's own
//! default calibration for the groups a conifer/broadleaf call resolves to (pine: A 32 m,
//! b 0.030, c 1.2; mixed hardwood: A 30 m, b 0.030, c 1.1), so an unperturbed stand lands inside
//! the projection's band, and `growth_factor` scales the rate b to make a stand grow slower or
//! faster than projected. DBH follows the tree's own Näslund curve (its scatter kept), crown
//! radius the crown–DBH line (its scatter kept) and the crown base keeps its share of the height.
//!
//! **Mortality** leaves a standing dead tree: same geometry, `foliage` cut to
//! [`DEAD_FOLIAGE`] of the living leaf-area density (needles and leaves shed, branches kept).
//! **Harvest** and **storm** remove every tree whose stem lies in the patch or the gap (felled or
//! thrown and cleared). **Ingrowth** adds young trees in the openings. The **offset** is the
//! georeferencing error of the new survey: its points are rotated by `yaw_deg` about the scene
//! centre and shifted by `shift_m` — the truth stays in the true frame, so a registration that
//! undoes the offset is measured exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::scene::{
    Scene, SpeciesGroup, TreeTruth, crown_radius_m, mark_suppressed, naslund_dbh_cm,
};
use crate::error::{CaptureError, Result};

/// Foliage of a standing dead tree, as a fraction of a living one's leaf-area density.
pub const DEAD_FOLIAGE: f64 = 0.1;

/// Chapman–Richards height parameters (A m, b 1/yr, c) of the truth growth.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeightGrowth {
    pub height_max_m: f64,
    pub rate: f64,
    pub shape: f64,
}

/// A square patch (harvest) or a round gap (storm), centred relative to the scene centre.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    /// Centre, metres east and north of the scene centre.
    pub centre: [f64; 2],
    /// Half the side of a square patch, or the radius of a round gap.
    pub half_size_m: f64,
    /// Square (harvest patch) or round (storm gap).
    pub round: bool,
}

impl Opening {
    fn contains(&self, dx: f64, dy: f64) -> bool {
        let (ex, ey) = (dx - self.centre[0], dy - self.centre[1]);
        if self.round {
            ex.hypot(ey) <= self.half_size_m
        } else {
            ex.abs() <= self.half_size_m && ey.abs() <= self.half_size_m
        }
    }
}

/// Rigid georeferencing error of the new survey: rotation about the scene centre, then shift.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offset {
    /// East, north, up shift in metres.
    pub shift_m: [f64; 3],
    /// Rotation about the vertical axis, degrees counter-clockwise.
    pub yaw_deg: f64,
}

impl Offset {
    /// Where the survey records a point truly at `p` (relative to the scene centre).
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let (s, c) = self.yaw_deg.to_radians().sin_cos();
        [
            c * p[0] - s * p[1] + self.shift_m[0],
            s * p[0] + c * p[1] + self.shift_m[1],
            p[2] + self.shift_m[2],
        ]
    }
}

/// What changes between the first survey and this one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResurveyOptions {
    /// Years since the first survey.
    pub years: f64,
    /// Multiplier on the growth rate b (1 = as projected by default, 0.3 = much slower).
    pub growth_factor: f64,
    pub conifer: HeightGrowth,
    pub broadleaf: HeightGrowth,
    /// Share of the surviving trees that died standing.
    pub mortality_fraction: f64,
    /// Clear-felled patch.
    pub harvest: Option<Opening>,
    /// Windthrow gap.
    pub storm: Option<Opening>,
    /// Young trees per hectare of opening (harvest patch and storm gap).
    pub ingrowth_per_ha: f64,
    pub offset: Offset,
    /// Seed of the new scan and of the mortality draw (the scene itself comes from the scene
    /// options' seed, as in the first survey).
    pub seed: u64,
}

impl Default for ResurveyOptions {
    fn default() -> Self {
        ResurveyOptions {
            years: 5.0,
            growth_factor: 1.0,
            conifer: HeightGrowth {
                height_max_m: 32.0,
                rate: 0.030,
                shape: 1.2,
            },
            broadleaf: HeightGrowth {
                height_max_m: 30.0,
                rate: 0.030,
                shape: 1.1,
            },
            mortality_fraction: 0.03,
            harvest: Some(Opening {
                centre: [-22.0, -22.0],
                half_size_m: 12.0,
                round: false,
            }),
            storm: Some(Opening {
                centre: [22.0, 18.0],
                half_size_m: 9.0,
                round: true,
            }),
            ingrowth_per_ha: 0.0,
            offset: Offset {
                shift_m: [1.6, 1.2, 0.0],
                yaw_deg: 1.0,
            },
            seed: 7,
        }
    }
}

/// What happened to a tree of the first survey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    Survived,
    /// Standing dead (crown shed).
    Died,
    Harvested,
    Windthrown,
}

/// One first-survey tree's fate and sizes then and now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeFate {
    pub id: u32,
    pub fate: Fate,
    pub height_before_m: f64,
    /// Height now (the same as before for removed trees).
    pub height_after_m: f64,
    pub dbh_before_cm: f64,
    pub dbh_after_cm: f64,
}

/// The resurvey's truth beside the new scan's own [`super::Truth`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResurveyTruth {
    pub options: ResurveyOptions,
    /// Seed of the first survey's scene.
    pub base_seed: u64,
    pub fates: Vec<TreeFate>,
    /// Ids of the young trees added.
    pub ingrowth: Vec<u32>,
}

impl ResurveyOptions {
    pub fn validate(&self) -> Result<()> {
        let bad = |option: &'static str, reason: &str| {
            Err(CaptureError::InvalidOption {
                option,
                reason: reason.into(),
            })
        };
        if !(self.years.is_finite() && self.years > 0.0 && self.years <= 100.0) {
            return bad("resurvey.years", "must be in (0, 100] years");
        }
        if !(self.growth_factor.is_finite() && (0.0..=10.0).contains(&self.growth_factor)) {
            return bad("resurvey.growth_factor", "must be in [0, 10]");
        }
        for g in [self.conifer, self.broadleaf] {
            let finite = [g.height_max_m, g.rate, g.shape]
                .iter()
                .all(|v| v.is_finite());
            if !(finite && g.height_max_m > 1.3 && g.rate > 0.0 && g.shape > 0.0) {
                return bad(
                    "resurvey.conifer/broadleaf",
                    "growth needs a finite asymptote > 1.3 m, rate > 0 and shape > 0",
                );
            }
        }
        if !(0.0..=1.0).contains(&self.mortality_fraction) {
            return bad("resurvey.mortality_fraction", "must be in [0, 1]");
        }
        if !(self.ingrowth_per_ha.is_finite() && (0.0..=5000.0).contains(&self.ingrowth_per_ha)) {
            return bad("resurvey.ingrowth_per_ha", "must be in [0, 5000]");
        }
        for o in [self.harvest, self.storm].into_iter().flatten() {
            let centre = o.centre.iter().all(|v| v.is_finite());
            if !(centre && o.half_size_m.is_finite() && o.half_size_m > 0.0) {
                return bad(
                    "resurvey.harvest/storm",
                    "an opening needs a finite centre and a size > 0",
                );
            }
        }
        let off = &self.offset;
        let shift = off
            .shift_m
            .iter()
            .all(|v| v.is_finite() && v.abs() <= 1000.0);
        if !(shift && off.yaw_deg.is_finite() && off.yaw_deg.abs() <= 45.0) {
            return bad(
                "resurvey.offset",
                "the offset must be finite: |yaw| ≤ 45°, |shift| ≤ 1 km",
            );
        }
        Ok(())
    }

    fn growth(&self, g: SpeciesGroup) -> HeightGrowth {
        match g {
            SpeciesGroup::Conifer => self.conifer,
            SpeciesGroup::Broadleaf => self.broadleaf,
        }
    }
}

/// Exact Chapman–Richards step `X' = A (1 − (1 − (X/A)^{1/c}) e^{−b t})^c` (unchanged at A).
pub fn chapman_richards(x: f64, g: HeightGrowth, rate_factor: f64, years: f64) -> f64 {
    if x >= g.height_max_m {
        return x;
    }
    let u = (x.max(1e-6) / g.height_max_m).powf(1.0 / g.shape);
    let u1 = 1.0 - (1.0 - u) * (-g.rate * rate_factor * years).exp();
    g.height_max_m * u1.powf(g.shape)
}

/// The scene `years` later, and what happened to each tree. The returned scene's seed is the
/// resurvey's, so its scan differs from the first.
pub fn apply(scene: &Scene, o: &ResurveyOptions) -> Result<(Scene, ResurveyTruth)> {
    o.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed ^ 0x5E5E_u64.rotate_left(17));
    let c = scene.centre;
    let mut next = scene.clone();
    next.options.seed = o.seed;
    next.trees.clear();
    let mut fates = Vec::with_capacity(scene.trees.len());
    for t in &scene.trees {
        let (dx, dy) = (t.x - c[0], t.y - c[1]);
        let died = rng.random::<f64>() < o.mortality_fraction;
        let fate = if o.harvest.is_some_and(|h| h.contains(dx, dy)) {
            Fate::Harvested
        } else if o.storm.is_some_and(|s| s.contains(dx, dy)) {
            Fate::Windthrown
        } else if died {
            Fate::Died
        } else {
            Fate::Survived
        };
        let mut n = t.clone();
        if fate == Fate::Survived {
            grow(&mut n, o);
        }
        if fate == Fate::Died {
            n.foliage = DEAD_FOLIAGE;
        }
        fates.push(TreeFate {
            id: t.id,
            fate,
            height_before_m: t.height_m,
            height_after_m: n.height_m,
            dbh_before_cm: t.dbh_cm,
            dbh_after_cm: n.dbh_cm,
        });
        if matches!(fate, Fate::Survived | Fate::Died) {
            next.trees.push(n);
        }
    }
    let ingrowth = add_ingrowth(&mut next, o, &mut rng);
    mark_suppressed(&mut next.trees);
    Ok((
        next,
        ResurveyTruth {
            options: o.clone(),
            base_seed: scene.options.seed,
            fates,
            ingrowth,
        },
    ))
}

/// Grow one tree over the resurvey's years (module docs).
fn grow(t: &mut TreeTruth, o: &ResurveyOptions) {
    let g = o.growth(t.species_group);
    let h = chapman_richards(t.height_m, g, o.growth_factor, o.years);
    let dbh_scatter = t.dbh_cm / naslund_dbh_cm(t.species_group, t.height_m).max(1e-6);
    let dbh = naslund_dbh_cm(t.species_group, h) * dbh_scatter;
    let crown_scatter = t.crown_radius_m / crown_radius_m(t.species_group, t.dbh_cm).max(1e-6);
    t.crown_base_height_m *= h / t.height_m;
    t.crown_radius_m = crown_radius_m(t.species_group, dbh) * crown_scatter;
    t.height_m = h;
    t.dbh_cm = dbh;
}

/// Young trees (3–6 m) in the openings, 2 m apart from each other and from the stems left.
fn add_ingrowth(scene: &mut Scene, o: &ResurveyOptions, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut ids = Vec::new();
    let c = scene.centre;
    let mut next_id = scene.trees.iter().map(|t| t.id).max().unwrap_or(0) + 1;
    for open in [o.harvest, o.storm].into_iter().flatten() {
        let side = 2.0 * open.half_size_m;
        let area_ha = if open.round {
            std::f64::consts::PI * open.half_size_m.powi(2)
        } else {
            side * side
        } / 1e4;
        let n = (o.ingrowth_per_ha * area_ha).round() as usize;
        let mut tries = 0;
        let mut placed = 0;
        while placed < n && tries < 50 * n.max(1) {
            tries += 1;
            let dx = open.centre[0] + (rng.random::<f64>() - 0.5) * side;
            let dy = open.centre[1] + (rng.random::<f64>() - 0.5) * side;
            if !open.contains(dx, dy) {
                continue;
            }
            let (x, y) = (c[0] + dx, c[1] + dy);
            if scene.trees.iter().any(|t| (t.x - x).hypot(t.y - y) < 2.0) {
                continue;
            }
            let species = if rng.random::<bool>() {
                SpeciesGroup::Conifer
            } else {
                SpeciesGroup::Broadleaf
            };
            let h = 3.0 + 3.0 * rng.random::<f64>();
            let dbh = naslund_dbh_cm(species, h);
            scene.trees.push(TreeTruth {
                id: next_id,
                species_group: species,
                x,
                y,
                ground_z: scene.terrain.height(x, y),
                height_m: h,
                crown_radius_m: crown_radius_m(species, dbh),
                crown_base_height_m: 0.4 * h,
                dbh_cm: dbh,
                suppressed: false,
                foliage: 1.0,
            });
            ids.push(next_id);
            next_id += 1;
            placed += 1;
        }
    }
    ids
}
