//! Tree matching across two surveys and the change per tree and per stand.
//!
//! **Matching** is one-to-one (Hungarian, [`crate::assign`]) over gated pairs: a previous tree
//! and a new one may pair when their tops lie within `max(gate_m, gate_crown_fraction × previous
//! crown radius)` and the new height lies between `max_height_loss_m` below and
//! `max_height_gain_m` above the previous one (a tree does not shrink by more than the height
//! error, nor grow metres a year); the cost is the horizontal distance plus a small height term
//! (Eysn et al. 2015, *Forests* 6:1721, match detected to reference trees by position and height
//! the same way).
//!
//! **Unmatched previous trees** are told apart by what the new scan sees where they stood: the
//! new canopy height within 1 m of the old top below `max(gap_height_m, gap_fraction × previous
//! height)`, or at least `open_crown_share` of the old crown outline now lower than that (a
//! neighbour's crown may overhang the old top), is a gap reaching the ground — the tree is
//! **removed** (felled, thrown, or dead and fallen); canopy still standing over the old crown is
//! **unresolved** (a standing dead crown too sparse to segment, or a crown merged into a
//! neighbour's). **Matched** trees whose crown returns per square metre fell
//! below `dead_density_ratio` of the stand's median ratio are **standing dead** (a crown that
//! has shed its foliage returns few echoes — the basis of LiDAR mortality mapping, e.g.
//! Kim et al. 2009, *Remote Sens. Environ.* 113:2499). **Unmatched new trees** are ingrowth
//! when short enough to have grown in since (`ingrowth_base_m + ingrowth_m_per_year × years`),
//! else newly detected (hidden before under a neighbour, or split from one).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::assign::assign_sparse;
use crate::error::{Result, ResurveyError};
use reconstruct::model::{Raster, Tree};

/// Settings of the matching and the change classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChangeOptions {
    pub gate_m: f64,
    pub gate_crown_fraction: f64,
    pub max_height_loss_m: f64,
    pub max_height_gain_m: f64,
    pub gap_height_m: f64,
    pub gap_fraction: f64,
    pub dead_density_ratio: f64,
    /// Tallest a tree can grow in from below detection: `ingrowth_base_m` plus
    /// `ingrowth_m_per_year` × the elapsed years; taller new trees are newly detected.
    pub ingrowth_base_m: f64,
    pub ingrowth_m_per_year: f64,
    /// An unmatched tree whose previous crown is open to below the gap height over at least
    /// this share of its area is removed, even where a neighbour's crown now overhangs its top.
    pub open_crown_share: f64,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions {
            gate_m: 1.5,
            gate_crown_fraction: 0.5,
            max_height_loss_m: 2.5,
            max_height_gain_m: 8.0,
            gap_height_m: 2.0,
            gap_fraction: 0.25,
            dead_density_ratio: 0.35,
            ingrowth_base_m: 2.0,
            ingrowth_m_per_year: 1.2,
            open_crown_share: 0.25,
        }
    }
}

impl ChangeOptions {
    pub fn validate(&self) -> Result<()> {
        for (option, v, hi) in [
            ("change.gate_m", self.gate_m, 20.0),
            ("change.gate_crown_fraction", self.gate_crown_fraction, 2.0),
            ("change.max_height_loss_m", self.max_height_loss_m, 50.0),
            ("change.max_height_gain_m", self.max_height_gain_m, 50.0),
            ("change.gap_height_m", self.gap_height_m, 50.0),
            ("change.gap_fraction", self.gap_fraction, 1.0),
            ("change.dead_density_ratio", self.dead_density_ratio, 1.0),
            ("change.open_crown_share", self.open_crown_share, 1.0),
            ("change.ingrowth_base_m", self.ingrowth_base_m, 100.0),
            ("change.ingrowth_m_per_year", self.ingrowth_m_per_year, 10.0),
        ] {
            if !(v.is_finite() && v >= 0.0 && v <= hi) {
                return Err(ResurveyError::InvalidOption {
                    option,
                    reason: format!("{v} must be in [0, {hi}]"),
                });
            }
        }
        Ok(())
    }
}

/// What became of a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Survivor,
    StandingDead,
    Removed,
    Unresolved,
    Ingrowth,
    /// A new tree too tall to have grown in since the last survey: it stood there before,
    /// hidden under a neighbour or merged with one (its carbon corrects the previous stock; it
    /// is not change).
    NewlyDetected,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Survivor => "survivor",
            Status::StandingDead => "standing dead",
            Status::Removed => "removed",
            Status::Unresolved => "unresolved",
            Status::Ingrowth => "ingrowth",
            Status::NewlyDetected => "newly detected",
        }
    }
}

/// One tree's change between the surveys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeChange {
    /// Id in the previous survey's reconstruction.
    pub previous_id: Option<u32>,
    /// Id in the new survey's reconstruction.
    pub id: Option<u32>,
    pub x: f64,
    pub y: f64,
    pub status: Status,
    pub height_before_m: Option<f64>,
    pub height_m: Option<f64>,
    pub height_increment_m: Option<f64>,
    pub crown_diameter_increment_m: Option<f64>,
    /// Only where both surveys measured the stem.
    pub dbh_increment_cm: Option<f64>,
    /// Crown returns per m² now over before, relative to the stand's median.
    pub density_ratio: Option<f64>,
    pub co2e_before_t: Option<f64>,
    pub co2e_t: Option<f64>,
    /// Against the previous projection (survivors only; see [`crate::drift`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<crate::drift::TreeDrift>,
}

/// Counts and totals per stand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StandChange {
    pub trees_before: usize,
    pub trees_now: usize,
    pub survivors: usize,
    pub standing_dead: usize,
    pub removed: usize,
    pub unresolved: usize,
    pub ingrowth: usize,
    pub newly_detected: usize,
    pub mean_height_increment_m: f64,
    pub mean_crown_diameter_increment_m: f64,
    /// Survivors whose DBH was carried forward from the previous survey ([`crate::carry`]);
    /// the others' was predicted afresh from height and crown.
    #[serde(default)]
    pub dbh_carried_forward: usize,
    /// Measured stock (inventory CO2e, t) at each survey.
    pub co2e_before_t: f64,
    pub co2e_t: f64,
    /// Change of the stand (at the previous survey's root:shoot ratio, so a biomass class
    /// boundary of IPCC's R table is not counted as growth): survivors' growth (unresolved trees
    /// carried forward) − trees lost (removed, standing dead) +
    /// ingrowth. Newly detected trees are not change (they stood there before) and are kept
    /// apart, so `co2e_t − co2e_before_t` differs from this by their carbon.
    pub co2e_change_t: f64,
    pub co2e_growth_t: f64,
    pub co2e_lost_t: f64,
    pub co2e_ingrowth_t: f64,
    pub co2e_newly_detected_t: f64,
    /// Unresolved trees (canopy still standing where they stood, no tree separated there)
    /// carried forward at the survivors' median growth ratio and counted in the change as
    /// survivors: the best estimate. A conservative reading subtracts this from the change.
    pub co2e_unresolved_t: f64,
}

/// Pair previous and new trees one-to-one (module docs). Returns (previous index, new index).
pub fn match_trees(before: &[Tree], now: &[Tree], o: &ChangeOptions) -> Vec<(usize, usize)> {
    let reach = before
        .iter()
        .map(|t| (o.gate_crown_fraction * t.crown_diameter_m / 2.0).max(o.gate_m))
        .fold(o.gate_m, f64::max);
    let cell = reach.max(1.0);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (j, t) in now.iter().enumerate() {
        grid.entry(((t.x / cell).floor() as i64, (t.y / cell).floor() as i64))
            .or_default()
            .push(j);
    }
    let mut pairs = Vec::new();
    for (i, b) in before.iter().enumerate() {
        let gate = (o.gate_crown_fraction * b.crown_diameter_m / 2.0).max(o.gate_m);
        let (cx, cy) = ((b.x / cell).floor() as i64, (b.y / cell).floor() as i64);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &j in grid.get(&(cx + dx, cy + dy)).into_iter().flatten() {
                    let n = &now[j];
                    let d = (n.x - b.x).hypot(n.y - b.y);
                    let dh = n.height_m - b.height_m;
                    if d <= gate && dh >= -o.max_height_loss_m && dh <= o.max_height_gain_m {
                        pairs.push((i, j, d + 0.05 * dh.abs()));
                    }
                }
            }
        }
    }
    assign_sparse(before.len(), now.len(), &pairs)
}

/// Whether (x, y) lies inside the convex, counter-clockwise polygon `hull`.
pub fn inside_convex(hull: &[[f64; 2]], x: f64, y: f64) -> bool {
    hull.len() >= 3
        && (0..hull.len()).all(|k| {
            let (a, b) = (hull[k], hull[(k + 1) % hull.len()]);
            (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) >= 0.0
        })
}

/// Share of the cells of `chm` inside the crown outline `hull` that are lower than `low` (or
/// without data): how much of a previous crown is open now.
pub fn open_share(chm: &Raster, hull: &[[f64; 2]], low: f64) -> f64 {
    if hull.len() < 3 {
        return 0.0;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in hull {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let res = chm.resolution_m;
    let c0 = ((x0 - chm.x_min) / res).floor().max(0.0) as usize;
    let c1 = (((x1 - chm.x_min) / res).ceil().max(0.0) as usize).min(chm.width);
    let r0 = ((chm.y_max - y1) / res).floor().max(0.0) as usize;
    let r1 = (((chm.y_max - y0) / res).ceil().max(0.0) as usize).min(chm.height);
    let (mut inside, mut open) = (0usize, 0usize);
    for r in r0..r1 {
        for c in c0..c1 {
            let (x, y) = chm.center(c, r);
            if !inside_convex(hull, x, y) {
                continue;
            }
            inside += 1;
            let v = chm.get(c, r);
            if chm.is_nodata(v) || (v as f64) < low {
                open += 1;
            }
        }
    }
    if inside == 0 {
        0.0
    } else {
        open as f64 / inside as f64
    }
}

/// Set each tree's CO2e now from the new survey's inventory (known only once it is simulated).
pub fn attach_co2e(changes: &mut [TreeChange], co2e_now: &Co2e) {
    for c in changes {
        c.co2e_t = c.id.and_then(|id| co2e_now.get(&id).copied());
    }
}

/// Highest value of `chm` within `r` metres of (x, y); `None` off the raster.
pub fn chm_max_near(chm: &Raster, x: f64, y: f64, r: f64) -> Option<f64> {
    let res = chm.resolution_m;
    let k = (r / res).ceil() as i64;
    let c0 = ((x - chm.x_min) / res).floor() as i64;
    let r0 = ((chm.y_max - y) / res).floor() as i64;
    let mut best: Option<f64> = None;
    for dr in -k..=k {
        for dc in -k..=k {
            let (c, rr) = (c0 + dc, r0 + dr);
            if c < 0 || rr < 0 || c >= chm.width as i64 || rr >= chm.height as i64 {
                continue;
            }
            let (cx, cy) = chm.center(c as usize, rr as usize);
            if (cx - x).hypot(cy - y) > r + 0.5 * res {
                continue;
            }
            let v = chm.get(c as usize, rr as usize);
            if !chm.is_nodata(v) {
                best = Some(best.map_or(v as f64, |b: f64| b.max(v as f64)));
            }
        }
    }
    best
}

/// Per-tree CO2e (t) by tree id, from a simulation's year-0 inventory.
pub type Co2e = HashMap<u32, f64>;

/// The change per tree (module docs). `now_chm` is the new survey's CHM, in the previous
/// survey's frame. The new trees' CO2e is not known until the new survey is simulated: set it
/// with [`attach_co2e`], then total the stand with [`stand_change`].
pub fn compare(
    before: &[Tree],
    now: &[Tree],
    now_chm: &Raster,
    co2e_before: &Co2e,
    elapsed_years: f64,
    o: &ChangeOptions,
) -> Result<Vec<TreeChange>> {
    o.validate()?;
    let pairs = match_trees(before, now, o);
    let density = |t: &Tree| t.point_count as f64 / t.crown_area_m2.max(0.25);
    let mut ratios: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| density(&now[j]) / density(&before[i]).max(1e-9))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median_ratio = ratios
        .get(ratios.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1e-9);
    let mut changes = Vec::with_capacity(before.len() + now.len());
    let mut matched_now = vec![false; now.len()];
    let mut matched_before = vec![None; before.len()];
    for &(i, j) in &pairs {
        matched_now[j] = true;
        matched_before[i] = Some(j);
    }
    for (i, b) in before.iter().enumerate() {
        let cb = co2e_before.get(&b.id).copied();
        let change = match matched_before[i] {
            Some(j) => {
                let n = &now[j];
                let ratio = density(n) / density(b).max(1e-9) / median_ratio;
                let status = if ratio < o.dead_density_ratio {
                    Status::StandingDead
                } else {
                    Status::Survivor
                };
                TreeChange {
                    previous_id: Some(b.id),
                    id: Some(n.id),
                    x: b.x,
                    y: b.y,
                    status,
                    height_before_m: Some(b.height_m),
                    height_m: Some(n.height_m),
                    height_increment_m: Some(n.height_m - b.height_m),
                    crown_diameter_increment_m: Some(n.crown_diameter_m - b.crown_diameter_m),
                    dbh_increment_cm: b.dbh_cm.zip(n.dbh_cm).map(|(a, c)| c - a),
                    density_ratio: Some(ratio),
                    co2e_before_t: cb,
                    co2e_t: None,
                    drift: None,
                }
            }
            None => {
                let low = o.gap_height_m.max(o.gap_fraction * b.height_m);
                let canopy = chm_max_near(now_chm, b.x, b.y, 1.0).unwrap_or(0.0);
                let gap = canopy < low || open_share(now_chm, &b.hull, low) >= o.open_crown_share;
                TreeChange {
                    previous_id: Some(b.id),
                    id: None,
                    x: b.x,
                    y: b.y,
                    status: if gap {
                        Status::Removed
                    } else {
                        Status::Unresolved
                    },
                    height_before_m: Some(b.height_m),
                    height_m: None,
                    height_increment_m: None,
                    crown_diameter_increment_m: None,
                    dbh_increment_cm: None,
                    density_ratio: None,
                    co2e_before_t: cb,
                    co2e_t: None,
                    drift: None,
                }
            }
        };
        changes.push(change);
    }
    for (j, n) in now.iter().enumerate() {
        if matched_now[j] {
            continue;
        }
        changes.push(TreeChange {
            previous_id: None,
            id: Some(n.id),
            x: n.x,
            y: n.y,
            status: if n.height_m <= o.ingrowth_base_m + o.ingrowth_m_per_year * elapsed_years {
                Status::Ingrowth
            } else {
                Status::NewlyDetected
            },
            height_before_m: None,
            height_m: Some(n.height_m),
            height_increment_m: None,
            crown_diameter_increment_m: None,
            dbh_increment_cm: None,
            density_ratio: None,
            co2e_before_t: None,
            co2e_t: None,
            drift: None,
        });
    }
    Ok(changes)
}

/// Stand counts and totals from the per-tree change; `dbh_carried_forward` survivors had their
/// DBH carried forward ([`crate::carry`]).
pub fn stand_change(
    changes: &[TreeChange],
    trees_before: usize,
    trees_now: usize,
    co2e_before: &Co2e,
    co2e_now: &Co2e,
    dbh_carried_forward: usize,
) -> StandChange {
    let count = |s: Status| changes.iter().filter(|c| c.status == s).count();
    let grown: Vec<&TreeChange> = changes
        .iter()
        .filter(|c| c.status == Status::Survivor)
        .collect();
    let mean = |f: &dyn Fn(&TreeChange) -> Option<f64>| {
        let v: Vec<f64> = grown.iter().filter_map(|c| f(c)).collect();
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let sum_map = |m: &Co2e| {
        let mut v: Vec<f64> = m.values().copied().collect();
        v.sort_by(f64::total_cmp);
        v.iter().sum::<f64>()
    };
    let (before_t, now_t) = (sum_map(co2e_before), sum_map(co2e_now));
    // The survivors' median growth ratio, for trees whose canopy still stands but that the new
    // segmentation did not separate (unresolved): carried forward at it.
    let mut ratios: Vec<f64> = grown
        .iter()
        .filter_map(|c| Some(c.co2e_t? / c.co2e_before_t.filter(|v| *v > 0.0)?))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios.get(ratios.len() / 2).copied().unwrap_or(1.0);
    let mut growth = 0.0;
    let mut lost = 0.0;
    let mut ingrowth = 0.0;
    let mut newly = 0.0;
    let mut unresolved = 0.0;
    for c in changes {
        let before = c.co2e_before_t.unwrap_or(0.0);
        match c.status {
            Status::Survivor => growth += c.co2e_t.unwrap_or(0.0) - before,
            // Dead wood leaves the stock at once, as in the growth model.
            Status::StandingDead | Status::Removed => lost += before,
            Status::Unresolved => {
                unresolved += before * ratio;
                growth += before * (ratio - 1.0);
            }
            Status::Ingrowth => ingrowth += c.co2e_t.unwrap_or(0.0),
            Status::NewlyDetected => newly += c.co2e_t.unwrap_or(0.0),
        }
    }
    StandChange {
        trees_before,
        trees_now,
        survivors: count(Status::Survivor),
        standing_dead: count(Status::StandingDead),
        removed: count(Status::Removed),
        unresolved: count(Status::Unresolved),
        ingrowth: count(Status::Ingrowth),
        newly_detected: count(Status::NewlyDetected),
        mean_height_increment_m: mean(&|c| c.height_increment_m),
        mean_crown_diameter_increment_m: mean(&|c| c.crown_diameter_increment_m),
        co2e_before_t: before_t,
        co2e_t: now_t,
        co2e_change_t: growth - lost + ingrowth,
        co2e_growth_t: growth,
        co2e_lost_t: lost,
        co2e_ingrowth_t: ingrowth,
        co2e_newly_detected_t: newly,
        co2e_unresolved_t: unresolved,
        dbh_carried_forward,
    }
}
