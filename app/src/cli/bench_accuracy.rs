//! `twinmint bench accuracy`: the inventory's accuracy on the visible real and simulator sets —
//! recall / precision / F1 by height class, height, DBH and biomass error, conifer/broadleaf
//! accuracy — for this release's tree profile and the previous release's (lidR's sparse-ALS
//! workflow under 20 first returns/m², a 2 m window on a 0.25 m pit-free CHM above), in one
//! table. DBH of airborne trees and biomass come from the growth model's own rules
//! (`growth_model::predicted_dbh_cm`, `year0_agb_kg`), so the table measures what a lender
//! previews.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use capture::{CancelToken, NoProgress, PointCloud, ReadOptions};
use growth_model::{AllometryOptions, Region, TreeInput};
use reconstruct::accuracy::{self, MatchOptions, Scorer, Scores, idtrees, simulated};
use reconstruct::pipeline::{self, ReconstructOptions};
use reconstruct::trees::{self, TreeOptions};
use reconstruct::{SpeciesClass, Tree};

/// The tree profile a column of the table runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// This release: [`TreeOptions::for_density`].
    Current,
    /// The previous release's rule: lidR's sparse-ALS workflow below 20 first returns/m², the
    /// dense drone profile above, no lower layer, no species call.
    Previous,
}

/// What the bench runs: the profiles, and options that replace the current density rule.
#[derive(Clone, Debug, Default)]
pub struct BenchSetup {
    /// Tree options for every set in place of [`TreeOptions::for_density`] (a user's own
    /// profile, evaluated on the same sets).
    pub trees: Option<TreeOptions>,
    /// Skip the previous release's profile.
    pub current_only: bool,
}

impl Profile {
    fn options(self, cloud: &PointCloud, setup: &BenchSetup) -> TreeOptions {
        let d = trees::first_return_density(cloud);
        match self {
            Profile::Current => setup
                .trees
                .clone()
                .unwrap_or_else(|| TreeOptions::for_density(d)),
            Profile::Previous if d >= 20.0 => TreeOptions {
                understorey: None,
                ..TreeOptions::dense_drone()
            },
            Profile::Previous => TreeOptions::sparse_als(),
        }
    }
}

/// One set's scores under one profile, plus what only some sets have.
#[derive(Clone, Debug, Serialize)]
pub struct SetResult {
    pub profile: Profile,
    pub scores: Scores,
    /// MixedConifer: detected trees / lidR's trees and the adjusted Rand index of point labels.
    pub lidr_count_ratio: Option<f64>,
    pub lidr_ari: Option<f64>,
}

/// Everything the bench measured.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyReport {
    pub data: PathBuf,
    pub sets: Vec<SetResult>,
}

fn detect(
    cloud: &PointCloud,
    opts: TreeOptions,
    cancel: &CancelToken,
) -> anyhow::Result<Vec<Tree>> {
    let ro = ReconstructOptions {
        pipes: None,
        trees: Some(opts),
        device: reconstruct::gpu::DevicePreference::Cpu,
        ..Default::default()
    };
    let out = pipeline::run(cloud, &ro, &mut |_, _| {}, cancel)?;
    Ok(out.reconstruction.trees)
}

fn read(path: &Path, cancel: &CancelToken) -> anyhow::Result<PointCloud> {
    capture::read(path, &ReadOptions::default(), &mut NoProgress, cancel)
        .with_context(|| format!("reading {}", path.display()))
}

/// DBH of a detected tree: the fitted stem where seen, else the growth model's prediction from
/// height × crown diameter and the species call.
fn dbh_of(t: &Tree, al: &AllometryOptions) -> f64 {
    t.dbh_cm.unwrap_or_else(|| {
        growth_model::predicted_dbh_cm(
            t.height_m,
            t.crown_diameter_m,
            t.species.as_ref().map(|s| s.class == SpeciesClass::Conifer),
            al,
        )
    })
}

fn with_estimates(trees: &[Tree], al: &AllometryOptions) -> Vec<Tree> {
    trees
        .iter()
        .map(|t| Tree {
            dbh_cm: Some(dbh_of(t, al)),
            ..t.clone()
        })
        .collect()
}

fn agb_of(t: &Tree, al: &AllometryOptions) -> f64 {
    growth_model::year0_agb_kg(&twinmint_app::workflow::simulate::tree_input(t), al).0
}

/// IDTReeS: crown boxes padded by 1 m (the outline is hand-drawn on imagery), the detected top
/// one-to-one inside.
/// Two scorings: any detected top in the box, and a top in the box at the field height (within
/// Monnet's tolerance), which keeps a taller neighbour's top from counting.
fn run_idtrees(
    dir: &Path,
    profile: Profile,
    setup: &BenchSetup,
    cancel: &CancelToken,
) -> anyhow::Result<[SetResult; 2]> {
    let al = AllometryOptions {
        region: Region::NorthAmerica,
        ..Default::default()
    };
    let mut sc = Scorer::new("IDTReeS crowns (NEON MLBS + OSBS)", false);
    let mut sc_h = Scorer::new("IDTReeS crowns at field height", false);
    for (_, las, crowns) in idtrees::plots(dir)? {
        cancel.check()?;
        let cloud = read(&las, cancel)?;
        let found = with_estimates(
            &detect(&cloud, profile.options(&cloud, setup), cancel)?,
            &al,
        );
        let reference: Vec<accuracy::ReferenceTree> = crowns
            .iter()
            .map(|c| accuracy::ReferenceTree {
                x: 0.5 * (c.bbox[0] + c.bbox[2]),
                y: 0.5 * (c.bbox[1] + c.bbox[3]),
                ..c.tree.clone()
            })
            .collect();
        let boxes: Vec<[f64; 4]> = crowns
            .iter()
            .map(|c| {
                [
                    c.bbox[0] - 1.0,
                    c.bbox[1] - 1.0,
                    c.bbox[2] + 1.0,
                    c.bbox[3] + 1.0,
                ]
            })
            .collect();
        let det: Vec<[f64; 3]> = found.iter().map(|t| [t.x, t.y, t.height_m]).collect();
        let refp: Vec<[f64; 3]> = reference
            .iter()
            .map(|r| [r.x, r.y, r.height_m.unwrap_or(0.0)])
            .collect();
        let pairs = accuracy::match_in_boxes(&boxes, &det);
        sc.add_pairs(&reference, &refp, &found, &pairs, &|_| None);
        let heights: Vec<Option<f64>> = reference.iter().map(|r| r.height_m).collect();
        let pairs_h =
            accuracy::match_in_boxes_at_height(&boxes, &heights, &det, &MatchOptions::default());
        sc_h.add_pairs(&reference, &refp, &found, &pairs_h, &|_| None);
    }
    let result = |scores| SetResult {
        profile,
        scores,
        lidr_count_ratio: None,
        lidr_ari: None,
    };
    Ok([result(sc.finish()), result(sc_h.finish())])
}

fn run_mixed_conifer(
    path: &Path,
    profile: Profile,
    setup: &BenchSetup,
    cancel: &CancelToken,
) -> anyhow::Result<SetResult> {
    let cloud = read(path, cancel)?;
    let col = cloud
        .extra("treeID")
        .with_context(|| format!("{}: no lidR treeID column", path.display()))?;
    let reference: Vec<u32> = (0..cloud.len())
        .map(|i| {
            let v = col.get(i);
            if !v.is_finite() || v <= 0.0 || col.no_data.is_some_and(|nd| v == nd) {
                0
            } else {
                v as u32
            }
        })
        .collect();
    let n_lidr = reference
        .iter()
        .copied()
        .filter(|&l| l != 0)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    // The file is height-normalised already: detect on it directly, as lidR did.
    let res = trees::run(&cloud, None, &profile.options(&cloud, setup), None)?;
    let high: Vec<usize> = (0..cloud.len())
        .filter(|&i| cloud.absolute(i)[2] >= 2.0)
        .collect();
    let a: Vec<u32> = high.iter().map(|&i| reference[i]).collect();
    let b: Vec<u32> = high.iter().map(|&i| res.labels[i]).collect();
    let ari = reconstruct::ari::adjusted_rand_index(&a, &b)
        .context("MixedConifer: no labelled points to compare")?;
    let mut scores = Scorer::new("MixedConifer (lidR treeID)", false).finish();
    scores.detection.truncate(0);
    Ok(SetResult {
        profile,
        scores,
        lidr_count_ratio: Some(res.trees.len() as f64 / n_lidr.max(1) as f64),
        lidr_ari: Some(ari),
    })
}

fn run_simulated(
    density: simulated::Density,
    profile: Profile,
    setup: &BenchSetup,
    cancel: &CancelToken,
) -> anyhow::Result<SetResult> {
    let al = AllometryOptions::default();
    let label = match density {
        simulated::Density::SparseAls => "simulator multi-layer stand, ALS ~10 first/m²",
        simulated::Density::Drone => "simulator multi-layer stand, drone ~100 pts/m²",
    };
    let mut sc = Scorer::new(label, true);
    for seed in [1u64, 2] {
        cancel.check()?;
        let out = capture::synth::run(
            &simulated::multilayer(seed, density),
            &mut NoProgress,
            cancel,
        )?;
        let found = with_estimates(
            &detect(&out.cloud, profile.options(&out.cloud, setup), cancel)?,
            &al,
        );
        let mut reference = simulated::reference(&out.truth);
        // Truth biomass: the same equations with the true DBH, height and clade.
        for r in &mut reference {
            let input = TreeInput {
                id: 0,
                x: r.x,
                y: r.y,
                height_m: r.height_m.unwrap_or(0.0),
                crown_diameter_m: 0.0,
                dbh_cm: r.dbh_cm,
                species_group: None,
                conifer: r.class.map(|c| c == SpeciesClass::Conifer),
                species: None,
            };
            r.agb_kg = Some(growth_model::year0_agb_kg(&input, &al).0);
        }
        let agb: Vec<f64> = found.iter().map(|t| agb_of(t, &al)).collect();
        sc.add_plot(
            &reference,
            &found,
            &|k| agb.get(k).copied(),
            &MatchOptions::default(),
        );
    }
    Ok(SetResult {
        profile,
        scores: sc.finish(),
        lidr_count_ratio: None,
        lidr_ari: None,
    })
}

/// Run every set under both profiles. Sets whose data are missing are an error naming the path.
pub fn measure(
    data: &Path,
    setup: &BenchSetup,
    cancel: &CancelToken,
) -> anyhow::Result<AccuracyReport> {
    let id_dir = data.join("als/idtrees");
    let mc = data.join("als/MixedConifer.laz");
    for p in [&id_dir, &mc] {
        anyhow::ensure!(p.exists(), "{} not found (pass --data)", p.display());
    }
    let mut sets = Vec::new();
    let profiles: &[Profile] = if setup.current_only {
        &[Profile::Current]
    } else {
        &[Profile::Current, Profile::Previous]
    };
    for &profile in profiles {
        sets.extend(run_idtrees(&id_dir, profile, setup, cancel)?);
        sets.push(run_mixed_conifer(&mc, profile, setup, cancel)?);
        for d in [simulated::Density::SparseAls, simulated::Density::Drone] {
            sets.push(run_simulated(d, profile, setup, cancel)?);
        }
    }
    Ok(AccuracyReport {
        data: data.to_path_buf(),
        sets,
    })
}

fn pct(v: f64) -> String {
    format!("{:.3}", v)
}

/// The table: one row per set and profile.
pub fn print(r: &AccuracyReport) {
    println!(
        "| set | profile | ref ≥10 m | det ≥10 m | recall ≥10 m | precision ≥10 m | F1 ≥10 m | recall all | suppressed recall | height RMSE (bias) m | DBH RMSE (bias) cm | AGB RMSE (bias) kg | conifer/broadleaf acc | lidR count ratio | ARI |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for s in &r.sets {
        let sc = &s.scores;
        let c10 = sc.class("≥ 10 m");
        let all = sc.class("all");
        let na = || "–".to_string();
        let err = |e: &accuracy::ErrorStats| {
            if e.n == 0 {
                na()
            } else {
                format!("{:.2} ({:+.2}), n {}", e.rmse, e.bias, e.n)
            }
        };
        println!(
            "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            sc.set,
            s.profile,
            c10.map_or_else(na, |c| c.reference.to_string()),
            c10.map_or_else(na, |c| c.detected.to_string()),
            c10.map_or_else(na, |c| pct(c.recall())),
            c10.filter(|_| sc.precision_valid)
                .map_or_else(na, |c| pct(c.precision())),
            c10.filter(|_| sc.precision_valid)
                .map_or_else(na, |c| pct(c.f1())),
            all.map_or_else(na, |c| pct(c.recall())),
            sc.suppressed.as_ref().map_or_else(na, |c| pct(c.recall())),
            err(&sc.height),
            err(&sc.dbh_cm),
            err(&sc.agb_kg),
            if sc.class_known > 0 {
                format!("{} ({} trees)", pct(sc.class_accuracy()), sc.class_known)
            } else {
                na()
            },
            s.lidr_count_ratio.map_or_else(na, |v| format!("{v:.3}")),
            s.lidr_ari.map_or_else(na, |v| format!("{v:.3}")),
        );
    }
    println!(
        "IDTReeS lists only crowns visible from above (PROVENANCE.md): recall, height, DBH and species only. \
         MixedConifer compares with lidR's own segmentation, not field truth."
    );
}
