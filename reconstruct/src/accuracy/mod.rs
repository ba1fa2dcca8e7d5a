//! How good an inventory is: detected trees matched one-to-one with reference trees (field
//! inventories, hand-delineated crowns, simulator truth), and the scores a lender's auditor asks
//! for — recall, precision and F1 by height class, height / DBH / biomass error, species-group
//! accuracy. `twinmint bench accuracy` and the acceptance tests run the same code on the same
//! sets ([`idtrees`], [`simulated`]).
//!
//! # Matching (Monnet 2011)
//! A reference tree `r` and a detected tree `d` may pair when their 3-D distance (x, y, height)
//! is below `delta_ground_m + h_prec · h_r`: an inverted cone over the reference top that
//! tolerates both the lean of tall trees and the height error of the scan. Among the eligible
//! pairs the one with the smallest distance / limit ratio pairs first, then the next among the
//! unpaired, and so on. This is the matching of Monnet (2011, *Using airborne laser scanning for
//! mountain forests mapping*, PhD thesis, Univ. Grenoble, §6.2.3) as lidaRtRee's
//! `tree_matching` runs it; its defaults (2.1 m, 0.14) come from the positioning error of the
//! field survey and the height error of the ALS CHM there.

pub mod idtrees;
pub mod simulated;

use serde::{Deserialize, Serialize};

use crate::model::{SpeciesClass, Tree};

/// A tree of a reference data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceTree {
    pub id: String,
    pub x: f64,
    pub y: f64,
    /// Total height (m), when measured.
    pub height_m: Option<f64>,
    /// Stem diameter at breast height (cm), when measured.
    pub dbh_cm: Option<f64>,
    /// Conifer or broadleaf, when known.
    pub class: Option<SpeciesClass>,
    /// Above-ground biomass (kg), when the set knows it (the simulator does).
    pub agb_kg: Option<f64>,
    /// Overtopped by a taller neighbour (under its crown), when the set knows it.
    pub suppressed: bool,
}

/// Options of [`match_trees`] (Monnet 2011 defaults; see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchOptions {
    /// Distance limit at ground level (default 2.1 m).
    pub delta_ground_m: f64,
    /// Growth of the limit per metre of reference height (default 0.14).
    pub h_prec: f64,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            delta_ground_m: 2.1,
            h_prec: 0.14,
        }
    }
}

/// One-to-one pairs `(reference index, detected index)` (see the module docs). Points are
/// `[x, y, height]`.
pub fn match_trees(
    reference: &[[f64; 3]],
    detected: &[[f64; 3]],
    opts: &MatchOptions,
) -> Vec<(usize, usize)> {
    let mut cand: Vec<(f64, usize, usize)> = Vec::new();
    for (ri, r) in reference.iter().enumerate() {
        let lim = opts.delta_ground_m + opts.h_prec * r[2].max(0.0);
        for (di, d) in detected.iter().enumerate() {
            let dist =
                ((r[0] - d[0]).powi(2) + (r[1] - d[1]).powi(2) + (r[2] - d[2]).powi(2)).sqrt();
            if dist < lim {
                cand.push((dist / lim, ri, di));
            }
        }
    }
    greedy_pairs(cand, reference.len(), detected.len())
}

/// One-to-one pairs from scored candidates `(score, a, b)`: lowest score first, ties by
/// index, each `a` and each `b` used once; sorted by `(a, b)`. The assignment rule of every
/// matching here and of [`crate::species_input`]'s field list.
pub(crate) fn greedy_pairs(
    mut cand: Vec<(f64, usize, usize)>,
    n_a: usize,
    n_b: usize,
) -> Vec<(usize, usize)> {
    cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_a = vec![false; n_a];
    let mut used_b = vec![false; n_b];
    let mut out = Vec::new();
    for (_, a, b) in cand {
        if !used_a[a] && !used_b[b] {
            used_a[a] = true;
            used_b[b] = true;
            out.push((a, b));
        }
    }
    out.sort();
    out
}

/// One-to-one pairs of reference crowns given as boxes `[xmin, ymin, xmax, ymax]` and detected
/// tops inside them, nearest to the box centre first: "the crown got a detected tree", the
/// criterion for hand-delineated crowns (IDTReeS), whose outline is the reference.
pub fn match_in_boxes(boxes: &[[f64; 4]], detected: &[[f64; 3]]) -> Vec<(usize, usize)> {
    match_in_boxes_where(boxes, detected, |_, _| true)
}

/// [`match_in_boxes`], and the detected height within Monnet's tolerance
/// (`delta_ground_m + h_prec · h`) of the reference height where one is known: the crown got
/// a detected tree *of its height*, not a taller neighbour's top leaning into its box.
pub fn match_in_boxes_at_height(
    boxes: &[[f64; 4]],
    heights: &[Option<f64>],
    detected: &[[f64; 3]],
    opts: &MatchOptions,
) -> Vec<(usize, usize)> {
    match_in_boxes_where(boxes, detected, |ri, d| {
        heights[ri].is_none_or(|h| (d[2] - h).abs() < opts.delta_ground_m + opts.h_prec * h)
    })
}

fn match_in_boxes_where(
    boxes: &[[f64; 4]],
    detected: &[[f64; 3]],
    eligible: impl Fn(usize, &[f64; 3]) -> bool,
) -> Vec<(usize, usize)> {
    let mut cand: Vec<(f64, usize, usize)> = Vec::new();
    for (ri, b) in boxes.iter().enumerate() {
        let (cx, cy) = (0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3]));
        for (di, d) in detected.iter().enumerate() {
            if d[0] >= b[0] && d[0] <= b[2] && d[1] >= b[1] && d[1] <= b[3] && eligible(ri, d) {
                cand.push(((d[0] - cx).hypot(d[1] - cy), ri, di));
            }
        }
    }
    greedy_pairs(cand, boxes.len(), detected.len())
}

/// Root mean square error and mean error (bias) of paired values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorStats {
    pub n: usize,
    pub rmse: f64,
    /// Mean of estimate − reference.
    pub bias: f64,
}

impl ErrorStats {
    /// From `(estimate, reference)` pairs.
    pub fn of(pairs: &[(f64, f64)]) -> Self {
        if pairs.is_empty() {
            return ErrorStats::default();
        }
        let n = pairs.len() as f64;
        let se: f64 = pairs.iter().map(|(e, r)| (e - r).powi(2)).sum();
        let b: f64 = pairs.iter().map(|(e, r)| e - r).sum();
        ErrorStats {
            n: pairs.len(),
            rmse: (se / n).sqrt(),
            bias: b / n,
        }
    }
}

/// Detection counts of one height class.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionCounts {
    /// Class label, e.g. `≥ 10 m`.
    pub class: String,
    pub reference: usize,
    pub detected: usize,
    pub matched: usize,
}

impl DetectionCounts {
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.reference)
    }
    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.detected)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Everything measured on one set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub set: String,
    /// By height class; the first is all trees.
    pub detection: Vec<DetectionCounts>,
    pub height: ErrorStats,
    pub dbh_cm: ErrorStats,
    pub agb_kg: ErrorStats,
    /// Matched trees with a known class, and how many got it right.
    pub class_known: usize,
    pub class_correct: usize,
    /// Recall of reference trees marked suppressed (when the set knows them).
    pub suppressed: Option<DetectionCounts>,
    /// Whether precision means anything here (not for sets that list only some trees).
    pub precision_valid: bool,
}

impl Scores {
    pub fn class_accuracy(&self) -> f64 {
        ratio(self.class_correct, self.class_known)
    }
    /// The detection counts of the class with this label.
    pub fn class(&self, label: &str) -> Option<&DetectionCounts> {
        self.detection.iter().find(|c| c.class == label)
    }
}

/// Height classes of the table: all trees, then `≥ 10 m` (the bar the issues set) and bands.
pub const HEIGHT_CLASSES: [(&str, f64, f64); 5] = [
    ("all", 0.0, f64::INFINITY),
    ("≥ 10 m", 10.0, f64::INFINITY),
    ("< 10 m", 0.0, 10.0),
    ("10–20 m", 10.0, 20.0),
    ("≥ 20 m", 20.0, f64::INFINITY),
];

/// Accumulates plots of one set into [`Scores`].
#[derive(Clone, Debug, Default)]
pub struct Scorer {
    scores: Scores,
    height: Vec<(f64, f64)>,
    dbh: Vec<(f64, f64)>,
    agb: Vec<(f64, f64)>,
}

impl Scorer {
    pub fn new(set: &str, precision_valid: bool) -> Self {
        Scorer {
            scores: Scores {
                set: set.into(),
                detection: HEIGHT_CLASSES
                    .iter()
                    .map(|(l, _, _)| DetectionCounts {
                        class: (*l).into(),
                        ..Default::default()
                    })
                    .collect(),
                precision_valid,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Add one plot. A reference tree's class is by its own height (or, without one, by the
    /// detected tree it pairs with); a detected tree's by its height. `agb_kg(k)` is detected
    /// tree `k`'s biomass estimate, if any.
    pub fn add_plot(
        &mut self,
        reference: &[ReferenceTree],
        detected: &[Tree],
        agb_kg: &dyn Fn(usize) -> Option<f64>,
        opts: &MatchOptions,
    ) {
        // Reference trees without a height match on position only: their height is taken as
        // the nearest detected tree's, so the 3-D distance is horizontal.
        let det: Vec<[f64; 3]> = detected.iter().map(|t| [t.x, t.y, t.height_m]).collect();
        let refp: Vec<[f64; 3]> = reference
            .iter()
            .map(|r| {
                let h = r.height_m.unwrap_or_else(|| {
                    det.iter()
                        .min_by(|a, b| {
                            (a[0] - r.x)
                                .hypot(a[1] - r.y)
                                .total_cmp(&(b[0] - r.x).hypot(b[1] - r.y))
                        })
                        .map_or(0.0, |d| d[2])
                });
                [r.x, r.y, h]
            })
            .collect();
        let pairs = match_trees(&refp, &det, opts);
        self.add_pairs(reference, &refp, detected, &pairs, agb_kg);
    }

    /// Add one plot whose pairs were decided elsewhere (e.g. [`match_in_boxes`]); `refp` are
    /// the reference trees as `[x, y, height]` (height classes come from it).
    pub fn add_pairs(
        &mut self,
        reference: &[ReferenceTree],
        refp: &[[f64; 3]],
        detected: &[Tree],
        pairs: &[(usize, usize)],
        agb_kg: &dyn Fn(usize) -> Option<f64>,
    ) {
        let det: Vec<[f64; 3]> = detected.iter().map(|t| [t.x, t.y, t.height_m]).collect();
        let mut ref_matched = vec![None; reference.len()];
        let mut det_matched = vec![false; detected.len()];
        for &(ri, di) in pairs {
            ref_matched[ri] = Some(di);
            det_matched[di] = true;
        }
        for (ci, &(_, lo, hi)) in HEIGHT_CLASSES.iter().enumerate() {
            let c = &mut self.scores.detection[ci];
            for (ri, r) in refp.iter().enumerate() {
                if r[2] >= lo && r[2] < hi {
                    c.reference += 1;
                    if ref_matched[ri].is_some() {
                        c.matched += 1;
                    }
                }
            }
            // A detected tree paired with a reference tree counts in the reference's class (so
            // precision and recall of a class agree on what a hit is); an unpaired one in its own.
            for (di, d) in det.iter().enumerate() {
                let h = if det_matched[di] {
                    pairs
                        .iter()
                        .find(|p| p.1 == di)
                        .map_or(d[2], |p| refp[p.0][2])
                } else {
                    d[2]
                };
                if h >= lo && h < hi {
                    c.detected += 1;
                }
            }
        }
        if reference.iter().any(|r| r.suppressed) {
            let s = self
                .scores
                .suppressed
                .get_or_insert_with(|| DetectionCounts {
                    class: "suppressed".into(),
                    ..Default::default()
                });
            for (ri, r) in reference.iter().enumerate() {
                if r.suppressed {
                    s.reference += 1;
                    if ref_matched[ri].is_some() {
                        s.matched += 1;
                    }
                }
            }
        }
        for &(ri, di) in pairs {
            let (r, d) = (&reference[ri], &detected[di]);
            if let Some(h) = r.height_m {
                self.height.push((d.height_m, h));
            }
            if let (Some(rd), Some(dd)) = (r.dbh_cm, d.dbh_cm) {
                self.dbh.push((dd, rd));
            }
            if let (Some(ra), Some(da)) = (r.agb_kg, agb_kg(di)) {
                self.agb.push((da, ra));
            }
            if let (Some(rc), Some(dc)) = (r.class, d.species.as_ref().map(|s| s.class)) {
                self.scores.class_known += 1;
                if rc == dc {
                    self.scores.class_correct += 1;
                }
            }
        }
    }

    pub fn finish(mut self) -> Scores {
        self.scores.height = ErrorStats::of(&self.height);
        self.scores.dbh_cm = ErrorStats::of(&self.dbh);
        self.scores.agb_kg = ErrorStats::of(&self.agb);
        self.scores
    }
}
