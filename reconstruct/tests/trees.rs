//! Acceptance tests of the canopy / tree / DBH part of reconstruct (issue 3): real data from
//! `$TWINMINT_DATA` (default `../shared/data` beside the checkout) and simulated scenes with exact
//! truth. Run with `--nocapture` to see the measured numbers.

use std::collections::HashSet;

use capture::synth::{self, ScanPattern, SynthOptions, TerrestrialOptions, Truth};
use capture::{CancelToken, NoProgress, PointCloud, ReadOptions};
use reconstruct::ari::adjusted_rand_index;
use reconstruct::chm::{self, ChmMethod, ChmOptions};
use reconstruct::gpu::GpuContext;
use reconstruct::stem::{self, GroundNearStem, StemOptions};
use reconstruct::trees::{self, TreeOptions};
use reconstruct::treetops::{TreetopOptions, WindowSize};
use reconstruct::{DbhStatus, Raster};
use test_support::data_dir as data_root;

fn read(rel: &str) -> Option<PointCloud> {
    let path = data_root().join(rel);
    assert!(
        path.exists(),
        "{} not found: set TWINMINT_DATA to the shared data folder",
        path.display()
    );
    Some(
        capture::read(
            &path,
            &ReadOptions::default(),
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap(),
    )
}

/// Height-normalise a simulated cloud with the exact terrain: z becomes height above ground.
fn normalise_with_truth(cloud: &PointCloud, truth: &Truth) -> PointCloud {
    let mut out = cloud.clone();
    out.origin[2] = 0.0;
    for (i, p) in out.positions.iter_mut().enumerate() {
        let a = cloud.absolute(i);
        p[2] = (a[2] - truth.ground_height(a[0], a[1])) as f32;
    }
    out
}

/// lidR's tree id per point (0 where lidR left the point without a tree: no-data / 0).
fn lidr_labels(cloud: &PointCloud) -> Vec<u32> {
    let col = cloud
        .extra("treeID")
        .expect("MixedConifer.laz has lidR's treeID");
    (0..cloud.len())
        .map(|i| {
            let v = col.get(i);
            let nodata = col.no_data.is_some_and(|nd| v == nd);
            if nodata || !v.is_finite() || v <= 0.0 || v > u32::MAX as f64 {
                0
            } else {
                v as u32
            }
        })
        .collect()
}

/// lidR's documented workflow for MixedConifer.laz (the `dalponte2016` example in lidR's manual):
/// `p2r(0.3)` CHM at 0.5 m, a 3 × 3 mean, `lmf(ws = 4, hmin = 2)`, `dalponte2016` defaults.
fn lidr_example_options() -> TreeOptions {
    TreeOptions {
        chm: ChmOptions {
            method: ChmMethod::PointToRaster,
            subcircle_m: 0.3,
            ..Default::default()
        },
        smooth_px: 1,
        treetops: TreetopOptions {
            window: WindowSize::Fixed { diameter_m: 4.0 },
            hmin_m: 2.0,
        },
        ..Default::default()
    }
}

/// Tree count, ARI over points ≥ 2 m, ARI over the points lidR assigned.
fn compare_with_lidr(cloud: &PointCloud, reference: &[u32], ours: &[u32]) -> (f64, f64, usize) {
    let high: Vec<usize> = (0..cloud.len())
        .filter(|&i| cloud.absolute(i)[2] >= 2.0)
        .collect();
    let a: Vec<u32> = high.iter().map(|&i| reference[i]).collect();
    let b: Vec<u32> = high.iter().map(|&i| ours[i]).collect();
    let ari = adjusted_rand_index(&a, &b).unwrap();
    let sel: Vec<usize> = high
        .iter()
        .copied()
        .filter(|&i| reference[i] != 0)
        .collect();
    let a2: Vec<u32> = sel.iter().map(|&i| reference[i]).collect();
    let b2: Vec<u32> = sel.iter().map(|&i| ours[i]).collect();
    (ari, adjusted_rand_index(&a2, &b2).unwrap(), high.len())
}

/// MixedConifer.laz (lidR's sample, heights normalised, lidR's own Dalponte `treeID`): with
/// lidR's documented parameters for this file our implementation gives a tree count within
/// ±15 % of lidR's and an ARI of the point labels ≥ 0.6 — a parity test of the algorithms.
/// The default pipeline (pit-free CHM, lidR-book window) is run and reported too.
///
/// The ARI is computed over every point at least 2 m above ground (the segmentation's `th_tree`):
/// below it neither segmentation describes trees (lidR labels ground points inside crowns too),
/// and above it a point left without a tree by one side and given one by the other counts as a
/// disagreement (label 0 is one more cluster on both sides).
#[test]
fn mixed_conifer_matches_lidr() {
    let Some(cloud) = read("als/MixedConifer.laz") else {
        return;
    };
    let reference = lidr_labels(&cloud);
    let lidr_trees = reference
        .iter()
        .copied()
        .filter(|&l| l != 0)
        .collect::<HashSet<u32>>()
        .len();
    let mut measured = Vec::new();
    // Parity: lidR's documented parameters. Then the automatic profile (the airborne profile
    // for this 4.7 pts/m² file), which differs from lidR's choice on purpose (see
    // `TreeOptions::airborne`) and is reported, not held to lidR's count.
    let density = trees::first_return_density(&cloud);
    let auto = TreeOptions::for_density(density);
    assert_eq!(auto, TreeOptions::airborne(), "density {density:.2} pts/m²");
    for (name, opts) in [
        ("lidR's documented parameters", lidr_example_options()),
        ("automatic profile for the scan's density", auto),
        ("pit-free defaults", TreeOptions::default()),
    ] {
        let t0 = std::time::Instant::now();
        let res = trees::run(&cloud, None, &opts, None).unwrap();
        let secs = t0.elapsed().as_secs_f64();
        let ratio = res.trees.len() as f64 / lidr_trees as f64;
        let (ari, ari_assigned, n_high) = compare_with_lidr(&cloud, &reference, &res.labels);
        println!(
            "MixedConifer ({name}): trees {} vs lidR {lidr_trees} (ratio {ratio:.3}); ARI over the \
             {n_high} points ≥ 2 m {ari:.3} (over the points lidR assigned {ari_assigned:.3}); {secs:.2} s",
            res.trees.len()
        );
        for t in &res.trees {
            assert!(t.height_m >= 2.0 && t.height_m < 40.0, "{t:?}");
            assert!(t.crown_area_m2 > 0.0 && t.dbh_status == DbhStatus::NotObserved);
            assert!(t.crown_base_height_m.is_none_or(|c| c <= t.height_m));
            assert!(t.hull.len() >= 3 || t.point_count < 3);
        }
        measured.push((ratio, ari));
    }
    let (ratio, ari) = measured[0];
    assert!((0.85..=1.15).contains(&ratio), "tree count ratio {ratio}");
    assert!(ari >= 0.6, "ARI {ari}");
}

/// Greedy one-to-one matching by distance of detected (x, y) to truth (x, y) within `max_d(truth)`.
fn match_trees(
    detected: &[(f64, f64)],
    truth: &[(f64, f64)],
    max_d: impl Fn(usize) -> f64,
) -> Vec<(usize, usize, f64)> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (ti, t) in truth.iter().enumerate() {
        let lim = max_d(ti);
        for (di, d) in detected.iter().enumerate() {
            let dist = (d.0 - t.0).hypot(d.1 - t.1);
            if dist <= lim {
                pairs.push((dist, ti, di));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut used_t = vec![false; truth.len()];
    let mut used_d = vec![false; detected.len()];
    let mut out = Vec::new();
    for (dist, ti, di) in pairs {
        if !used_t[ti] && !used_d[di] {
            used_t[ti] = true;
            used_d[di] = true;
            out.push((ti, di, dist));
        }
    }
    out
}

/// Height of tree `u`'s crown envelope above absolute (x, y), if the crown covers it.
fn crown_surface(u: &synth::TreeTruth, x: f64, y: f64) -> Option<f64> {
    u.crown_surface_z(x, y)
}

/// Detection scores of trees against a truth list.
struct Score {
    /// (truth index, detection index, distance) of every match.
    matches: Vec<(usize, usize, f64)>,
    precision: f64,
    recall: f64,
    f1: f64,
    /// Detected − true height of every match.
    height_errors: Vec<f64>,
}

/// Greedy one-to-one matching within 0.6 × the truth crown radius, at least 1 m and at most 2 m.
fn score(trees: &[reconstruct::Tree], truth: &[&synth::TreeTruth]) -> Score {
    let tp: Vec<(f64, f64)> = truth.iter().map(|t| (t.x, t.y)).collect();
    let dp: Vec<(f64, f64)> = trees.iter().map(|t| (t.x, t.y)).collect();
    let matches = match_trees(&dp, &tp, |k| {
        (0.6 * truth[k].crown_radius_m).clamp(1.0, 2.0)
    });
    let precision = matches.len() as f64 / dp.len().max(1) as f64;
    let recall = matches.len() as f64 / tp.len().max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(1e-12);
    let height_errors = matches
        .iter()
        .map(|&(ti, di, _)| trees[di].height_m - truth[ti].height_m)
        .collect();
    Score {
        matches,
        precision,
        recall,
        f1,
        height_errors,
    }
}

fn rms(v: &[f64]) -> f64 {
    (v.iter().map(|d| d * d).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// The simulator's default drone scan of its default forest (1 ha, 300 trees/ha, 10–28 m),
/// normalised with the exact terrain: detection F1 ≥ 0.85 for trees ≥ 10 m, height RMSE ≤ 1 m.
///
/// A detection matches a truth tree within 0.6 × its crown radius, at least 1 m and at most 2 m
/// (greedy one-to-one by distance). Every detection counts towards precision (the scene has no
/// trees under 10 m, so an unmatched detection is a false positive).
///
/// The stand is dense for its crown sizes (3 m minimum spacing, broadleaf crowns up to 6 m in
/// radius): about 10 % of the trees have their top under a neighbour's crown (undetectable from
/// above by any canopy-surface method) and many more top out within a metre or two of a taller
/// neighbour's crown flank. A local-maximum window must be smaller than that distance, so this
/// stand is run with a 2 m window on a 0.25 m CHM (the drone scan's ~70 first returns/m² put ~4 in
/// every cell); the defaults (3–5 m lidR-book window, 0.5 m) are reported as well. F1 is also
/// reported against the trees whose top is visible from above.
#[test]
fn synthetic_forest_detection() {
    let t0 = std::time::Instant::now();
    let out = synth::run(
        &SynthOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let cloud = normalise_with_truth(&out.cloud, &out.truth);
    let t_scan = t0.elapsed().as_secs_f64();
    let truth: Vec<&synth::TreeTruth> = out
        .truth
        .trees
        .iter()
        .filter(|t| t.height_m >= 10.0)
        .collect();
    let visible: Vec<&synth::TreeTruth> = truth
        .iter()
        .copied()
        .filter(|t| {
            let apex = t.ground_z + t.height_m;
            out.truth
                .trees
                .iter()
                .filter(|u| u.id != t.id)
                .filter_map(|u| crown_surface(u, t.x, t.y))
                .all(|z| z < apex)
        })
        .collect();
    println!(
        "synthetic ALS: {} points (scan {t_scan:.1} s); {} truth trees ≥ 10 m, {} with the top visible from above",
        cloud.len(),
        truth.len(),
        visible.len()
    );
    let dense = TreeOptions {
        chm: ChmOptions {
            resolution_m: 0.25,
            ..Default::default()
        },
        treetops: TreetopOptions {
            window: WindowSize::Fixed { diameter_m: 2.0 },
            hmin_m: 2.0,
        },
        ..Default::default()
    };
    let density = trees::first_return_density(&cloud);
    let auto = TreeOptions::for_density(density);
    assert_eq!(auto, dense, "density {density:.1} first returns/m²");
    let mut result = None;
    for (name, opts) in [
        ("automatic profile (dense: 2 m window, 0.25 m CHM)", auto),
        ("airborne profile", TreeOptions::airborne()),
        ("pit-free defaults", TreeOptions::default()),
    ] {
        let t1 = std::time::Instant::now();
        let res = trees::run(&cloud, None, &opts, None).unwrap();
        let secs = t1.elapsed().as_secs_f64();
        let all = score(&res.trees, &truth);
        let vis = score(&res.trees, &visible);
        let (m, p, r, f1, dh) = (
            &all.matches,
            all.precision,
            all.recall,
            all.f1,
            &all.height_errors,
        );
        let (pv, rv, f1v) = (vis.precision, vis.recall, vis.f1);
        let bias = dh.iter().sum::<f64>() / dh.len().max(1) as f64;
        let mut offs: Vec<f64> = m.iter().map(|x| x.2).collect();
        offs.sort_by(f64::total_cmp);
        let cb: Vec<f64> = m
            .iter()
            .filter_map(|&(ti, di, _)| {
                res.trees[di]
                    .crown_base_height_m
                    .map(|c| c - truth[ti].crown_base_height_m)
            })
            .collect();
        let tid = out.cloud.extra(synth::TRUTH_ID_COLUMN).unwrap();
        let high: Vec<usize> = (0..cloud.len())
            .filter(|&i| cloud.positions[i][2] >= 2.0)
            .collect();
        let a: Vec<u32> = high.iter().map(|&i| tid.get(i) as u32).collect();
        let b: Vec<u32> = high.iter().map(|&i| res.labels[i]).collect();
        let ari = adjusted_rand_index(&a, &b).unwrap();
        println!(
            "synthetic ALS ({name}): {} detected, {} matched: precision {p:.3} recall {r:.3} F1 {f1:.3} \
             (visible tops: P {pv:.3} R {rv:.3} F1 {f1v:.3}); median offset {:.2} m; height RMSE {:.3} m \
             (bias {bias:+.3} m); crown base RMSE {:.2} m (bias {:+.2} m, {} trees); ARI vs truth ids {ari:.3}; {secs:.1} s",
            res.trees.len(),
            m.len(),
            offs.get(offs.len() / 2).copied().unwrap_or(f64::NAN),
            rms(dh),
            rms(&cb),
            cb.iter().sum::<f64>() / cb.len().max(1) as f64,
            cb.len()
        );
        let observed = res
            .trees
            .iter()
            .filter(|t| t.dbh_status == DbhStatus::Observed)
            .count();
        println!(
            "synthetic ALS ({name}): {} plausible stems at breast height, {observed} trees with an observed DBH",
            res.stems.len()
        );
        result.get_or_insert((f1, rms(dh)));
    }
    let (f1, rmse) = result.unwrap();
    assert!(f1 >= 0.85, "F1 {f1}");
    assert!(rmse <= 1.0, "height RMSE {rmse}");
}

/// A simulated terrestrial scan (four stations in a 40 m × 40 m plot), normalised with the exact
/// terrain: stem-fit DBH RMSE ≤ 2 cm against the truth DBH, over the stems found (a stem matches
/// the truth tree whose axis is within 0.3 m of the fitted centre).
#[test]
fn synthetic_tls_dbh() {
    let mut opts = SynthOptions::default();
    opts.scene.width_m = 40.0;
    opts.scene.depth_m = 40.0;
    opts.scene.seed = 7;
    opts.scan = ScanPattern::Terrestrial(TerrestrialOptions {
        stations: vec![[-10.0, -10.0], [10.0, -10.0], [-10.0, 10.0], [10.0, 10.0]],
        angular_step_deg: 0.15,
        ..Default::default()
    });
    let t0 = std::time::Instant::now();
    let out = synth::run(&opts, &mut NoProgress, &CancelToken::new()).unwrap();
    let cloud = normalise_with_truth(&out.cloud, &out.truth);
    let t_scan = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let stems = stem::find_stems(&cloud, &StemOptions::default()).unwrap();
    let t_fit = t1.elapsed().as_secs_f64();
    let truth = &out.truth.trees;
    let sp: Vec<(f64, f64)> = stems.iter().map(|s| (s.x, s.y)).collect();
    let tp: Vec<(f64, f64)> = truth.iter().map(|t| (t.x, t.y)).collect();
    let m = match_trees(&sp, &tp, |_| 0.3);
    let err: Vec<f64> = m
        .iter()
        .map(|&(ti, si, _)| stems[si].dbh_cm - truth[ti].dbh_cm)
        .collect();
    let rmse = (err.iter().map(|d| d * d).sum::<f64>() / err.len().max(1) as f64).sqrt();
    let bias = err.iter().sum::<f64>() / err.len().max(1) as f64;
    let worst = err.iter().map(|e| e.abs()).fold(0.0, f64::max);
    // Trees whose stem the scan saw well: at least 50 slice points on their stem.
    let tid = out.cloud.extra(synth::TRUTH_ID_COLUMN).unwrap();
    let part = out.cloud.extra(synth::TRUTH_PART_COLUMN).unwrap();
    let mut slice_pts = vec![0usize; truth.len() + 1];
    for i in 0..cloud.len() {
        let z = cloud.positions[i][2];
        if (1.2..=1.4).contains(&z) && part.get(i) as u8 == synth::PART_STEM {
            slice_pts[tid.get(i) as usize] += 1;
        }
    }
    let well_seen = slice_pts.iter().filter(|&&n| n >= 50).count();
    println!(
        "synthetic TLS: {} points (scan {t_scan:.1} s, stem fits {t_fit:.2} s); {} trees, {well_seen} with ≥ 50 stem points \
         in the slice; {} stems fitted, {} matched to truth",
        cloud.len(),
        truth.len(),
        stems.len(),
        m.len()
    );
    println!(
        "synthetic TLS: DBH RMSE {rmse:.2} cm (bias {bias:+.2} cm, worst {worst:.2} cm); median fit RMS {:.1} mm",
        {
            let mut r: Vec<f64> = stems.iter().map(|s| s.rms_m * 1000.0).collect();
            r.sort_by(f64::total_cmp);
            r.get(r.len() / 2).copied().unwrap_or(f64::NAN)
        }
    );
    assert_eq!(m.len(), stems.len(), "every fitted stem is a real stem");
    assert!(
        m.len() as f64 >= 0.8 * well_seen as f64,
        "{} of {well_seen} well-seen stems fitted",
        m.len()
    );
    assert!(rmse <= 2.0, "DBH RMSE {rmse} cm");

    // The full chain on the same scan (the dense-stand options of the drone test): every
    // detected tree whose stem was fitted carries that stem's DBH.
    let opts = TreeOptions {
        chm: ChmOptions {
            resolution_m: 0.25,
            ..Default::default()
        },
        treetops: TreetopOptions {
            window: WindowSize::Fixed { diameter_m: 2.0 },
            hmin_m: 2.0,
        },
        ..Default::default()
    };
    let res = trees::run(&cloud, None, &opts, None).unwrap();
    let tt: Vec<&synth::TreeTruth> = truth.iter().collect();
    let sc = score(&res.trees, &tt);
    let (m, recall) = (&sc.matches, sc.recall);
    // Truth trees with a fitted stem within 0.3 m of their axis.
    let has_stem = |t: &synth::TreeTruth| stems.iter().any(|s| (s.x - t.x).hypot(s.y - t.y) <= 0.3);
    let mut with_stem = 0;
    let mut dbh_err = Vec::new();
    for &(ti, di, _) in m {
        if !has_stem(&truth[ti]) {
            continue;
        }
        with_stem += 1;
        let t = &res.trees[di];
        if t.dbh_status == DbhStatus::Observed {
            dbh_err.push(t.dbh_cm.unwrap() - truth[ti].dbh_cm);
        }
    }
    println!(
        "synthetic TLS: full chain found {} trees (recall {recall:.2}); {with_stem} of the matched ones have a \
         fitted stem, {} of those carry it (DBH RMSE {:.2} cm)",
        res.trees.len(),
        dbh_err.len(),
        rms(&dbh_err)
    );
    assert_eq!(
        dbh_err.len(),
        with_stem,
        "every fitted stem reaches its tree"
    );
    assert!(rms(&dbh_err) <= 2.0);
}

/// `tls/pine.laz`: one terrestrial-scanned pine (not height-normalised: ground is estimated from
/// the lowest points around the stem base). Exactly one stem, circle RMS ≤ 1 cm.
#[test]
fn pine_single_stem() {
    let Some(cloud) = read("tls/pine.laz") else {
        return;
    };
    let s = stem::single_tree(&cloud, &StemOptions::default(), &GroundNearStem::default()).unwrap();
    for st in &s.stems {
        println!(
            "pine: stem at ({:.3}, {:.3}) DBH {:.1} cm, circle RMS {:.1} mm, {} of {} slice-cluster points, arc {:.0}°",
            st.x,
            st.y,
            st.dbh_cm,
            st.rms_m * 1000.0,
            st.inliers,
            st.cluster_points,
            st.arc_deg
        );
    }
    println!(
        "pine: ground {:.3} m (z range {:.3} … {:.3}), {} stem(s)",
        s.ground_z,
        cloud.bounds().min[2],
        cloud.bounds().max[2],
        s.stems.len()
    );
    assert_eq!(s.stems.len(), 1, "exactly one stem");
    assert!(s.stems[0].rms_m <= 0.01, "RMS {}", s.stems[0].rms_m);
}

/// Largest |GPU − CPU| over cells valid on both sides, and the number of cells valid on one only.
fn compare(cpu: &Raster, gpu: &Raster) -> (f64, usize, usize) {
    assert_eq!((cpu.width, cpu.height), (gpu.width, gpu.height));
    let mut max = 0.0f64;
    let mut mismatch = 0;
    let mut valid = 0;
    for (a, b) in cpu.data.iter().zip(&gpu.data) {
        match (cpu.is_nodata(*a), gpu.is_nodata(*b)) {
            (false, false) => {
                valid += 1;
                max = max.max((*a as f64 - *b as f64).abs());
            }
            (true, true) => {}
            _ => mismatch += 1,
        }
    }
    (max, mismatch, valid)
}

/// The GPU kernels (lavapipe in CI) reproduce the CPU CHM within 1 cm, both methods, on
/// MixedConifer.laz and the simulated forest.
#[test]
fn chm_gpu_matches_cpu() {
    let gpu = match GpuContext::shared() {
        Ok(g) => g,
        Err(e) => {
            test_support::skip_or_fail("chm_gpu_matches_cpu", format!("no GPU adapter ({e})"));
            return;
        }
    };
    println!(
        "CHM GPU vs CPU on {}",
        reconstruct::gpu::device_label(Some(&gpu))
    );
    let mut clouds: Vec<(String, PointCloud)> = Vec::new();
    if let Some(c) = read("als/MixedConifer.laz") {
        clouds.push(("MixedConifer".into(), c));
    }
    let mut so = SynthOptions::default();
    so.scene.width_m = 60.0;
    so.scene.depth_m = 60.0;
    let out = synth::run(&so, &mut NoProgress, &CancelToken::new()).unwrap();
    clouds.push((
        "synthetic ALS 60 m".into(),
        normalise_with_truth(&out.cloud, &out.truth),
    ));
    for (name, cloud) in &clouds {
        for method in [ChmMethod::PitFree, ChmMethod::PointToRaster] {
            let opts = ChmOptions {
                method,
                ..Default::default()
            };
            let plan = chm::plan(cloud, &opts).unwrap();
            let t0 = std::time::Instant::now();
            let cpu = plan.rasterize_cpu();
            let t_cpu = t0.elapsed().as_secs_f64();
            let t1 = std::time::Instant::now();
            let g = plan.rasterize_gpu(&gpu).unwrap();
            let t_gpu = t1.elapsed().as_secs_f64();
            let (max, mismatch, valid) = compare(&cpu, &g);
            println!(
                "{name} {method:?}: {} triangles / {} points, {valid} cells; max |GPU−CPU| {:.2e} m, \
                 {mismatch} nodata mismatches; cpu {t_cpu:.3} s, gpu {t_gpu:.3} s",
                plan.triangle_count(),
                plan.point_cells.len(),
                max
            );
            assert!(max <= 0.01, "{name} {method:?}: {max}");
            assert_eq!(mismatch, 0, "{name} {method:?}");
            assert!(valid > 0);
        }
    }
}
