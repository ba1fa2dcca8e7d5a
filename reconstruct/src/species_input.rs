//! What the user knows about the stand, over what the points say: a stand composition (shares
//! by species) or a field tree list. Both override or inform each tree's point-based
//! conifer/broadleaf call ([`crate::species`]) and name its species, so the growth model uses
//! the right allometry and growth parameters.
//!
//! - **Field list**: each field tree (position, species, class) is paired one-to-one with the
//!   nearest detected tree within `max_distance_m`, nearest pairs first; paired trees take its
//!   species and class (source `field_list`); the others keep their own call.
//! - **Composition**: the stand's conifer share `c` (sum of the conifer species' shares) is
//!   imposed on the ranking the classifier gives: the `round(c · n)` trees with the highest
//!   `p_conifer` become conifers, the rest broadleaves — the classifier decides *which* trees,
//!   the user *how many* (prior-shift by quantiles; Saerens, Latinne & Decaestecker 2002, Neural
//!   Comput. 14:21–41, adjust a classifier's outputs to known class priors). Within each class,
//!   species are dealt by their shares in the same ranking order (largest remainder), tallest
//!   first ties broken by id, so the result is deterministic (source `stand_composition`).
//!
//! Classes of named species come from the caller (the growth model's species table), so this
//! crate needs no taxonomy.

use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::{SpeciesCall, SpeciesClass, SpeciesSource, Tree};

/// One species of a stand composition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub species: String,
    pub class: SpeciesClass,
    /// Fraction of the stems (normalised over all shares).
    pub share: f64,
}

/// One tree of a field list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldTree {
    pub x: f64,
    pub y: f64,
    pub species: String,
    pub class: SpeciesClass,
}

/// The user's species knowledge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpeciesInput {
    Composition {
        shares: Vec<Share>,
    },
    FieldList {
        trees: Vec<FieldTree>,
        /// Largest field-to-detected distance for a pair (default 3 m: GNSS under canopy plus
        /// the lean of a top over its stem).
        #[serde(default = "default_max_distance")]
        max_distance_m: f64,
    },
}

fn default_max_distance() -> f64 {
    3.0
}

impl SpeciesInput {
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| ReconstructError::InvalidOption {
            option: "species",
            reason,
        };
        match self {
            SpeciesInput::Composition { shares } => {
                if shares.is_empty() {
                    return Err(bad("the composition names no species".into()));
                }
                if shares
                    .iter()
                    .any(|s| !(s.share.is_finite() && s.share >= 0.0))
                {
                    return Err(bad("shares must be finite and ≥ 0".into()));
                }
                if shares.iter().map(|s| s.share).sum::<f64>() <= 0.0 {
                    return Err(bad("the shares sum to 0".into()));
                }
            }
            SpeciesInput::FieldList {
                trees,
                max_distance_m,
            } => {
                if trees.iter().any(|t| !(t.x.is_finite() && t.y.is_finite())) {
                    return Err(bad("a field tree has no finite position".into()));
                }
                if !(max_distance_m.is_finite() && *max_distance_m > 0.0) {
                    return Err(bad(format!(
                        "max_distance_m {max_distance_m} is not positive"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Apply to trees that already carry their point-based call.
    pub fn apply(&self, trees: &mut [Tree]) -> Result<()> {
        self.validate()?;
        match self {
            SpeciesInput::Composition { shares } => apply_composition(trees, shares),
            SpeciesInput::FieldList {
                trees: list,
                max_distance_m,
            } => apply_field_list(trees, list, *max_distance_m),
        }
        Ok(())
    }
}

fn p_conifer(t: &Tree) -> f64 {
    t.species.as_ref().map_or(0.5, |s| s.p_conifer)
}

/// Deal `n` slots to `shares` by largest remainder; returns how many each gets.
fn deal(n: usize, shares: &[f64]) -> Vec<usize> {
    let total: f64 = shares.iter().sum();
    if total <= 0.0 || n == 0 {
        return vec![0; shares.len()];
    }
    let exact: Vec<f64> = shares.iter().map(|s| s / total * n as f64).collect();
    let mut count: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = n - count.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        count[i] += 1;
        left -= 1;
    }
    count
}

fn apply_composition(trees: &mut [Tree], shares: &[Share]) {
    let total: f64 = shares.iter().map(|s| s.share).sum();
    let conifer_share: f64 = shares
        .iter()
        .filter(|s| s.class == SpeciesClass::Conifer)
        .map(|s| s.share)
        .sum::<f64>()
        / total;
    let n = trees.len();
    let n_conifer = (conifer_share * n as f64).round() as usize;
    // Ranking: most conifer-like first; ties by height (taller first), then id.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        p_conifer(&trees[b])
            .total_cmp(&p_conifer(&trees[a]))
            .then(trees[b].height_m.total_cmp(&trees[a].height_m))
            .then(trees[a].id.cmp(&trees[b].id))
    });
    let (conifers, broadleaves) = order.split_at(n_conifer.min(n));
    for (class, idx) in [
        (SpeciesClass::Conifer, conifers),
        (SpeciesClass::Broadleaf, broadleaves),
    ] {
        let members: Vec<&Share> = shares.iter().filter(|s| s.class == class).collect();
        let counts = deal(
            idx.len(),
            &members.iter().map(|s| s.share).collect::<Vec<_>>(),
        );
        let mut slots = members
            .iter()
            .zip(counts)
            .flat_map(|(s, c)| std::iter::repeat_n(s.species.clone(), c));
        for &i in idx {
            let p = p_conifer(&trees[i]);
            trees[i].species = Some(SpeciesCall {
                class,
                p_conifer: p,
                species: slots.next(),
                source: SpeciesSource::StandComposition,
            });
        }
    }
}

fn apply_field_list(trees: &mut [Tree], list: &[FieldTree], max_d: f64) {
    let mut cand = Vec::new();
    for (fi, f) in list.iter().enumerate() {
        for (ti, t) in trees.iter().enumerate() {
            let d = (f.x - t.x).hypot(f.y - t.y);
            if d <= max_d {
                cand.push((d, fi, ti));
            }
        }
    }
    for (fi, ti) in crate::accuracy::greedy_pairs(cand, list.len(), trees.len()) {
        let p = p_conifer(&trees[ti]);
        trees[ti].species = Some(SpeciesCall {
            class: list[fi].class,
            p_conifer: p,
            species: Some(list[fi].species.clone()),
            source: SpeciesSource::FieldList,
        });
    }
}
