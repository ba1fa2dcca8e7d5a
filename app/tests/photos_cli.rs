//! `twinmint ingest PHOTO_DIR` on Brighton Beach (18 DJI photos with a reference cloud from a
//! third-party pipeline): the photos become a project whose dense cloud — after a rigid best
//! fit — lies within 0.3 m (median) of the reference with an extent within 5 m of it (0.5–99.5
//! percentiles), `cameras.json` holds the solved cameras, and the project reconstructs
//! (ground, DTM), fingerprints, packages and verifies like any scan.

use std::path::PathBuf;
use std::process::Command;

use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinmint"))
}

type V3 = [f64; 3];

/// Rigid ICP (point-to-point, Kabsch each round on the closest 80 %) of `ours` onto the
/// reference; the moved points.
fn icp(ours: &[V3], tree: &ImmutableKdTree<f64, u32, 3, 32>, refp: &[V3]) -> Vec<V3> {
    use photogrammetry::linalg::{kabsch, mulv, sub};
    let mut cur = ours.to_vec();
    for _ in 0..30 {
        let pairs: Vec<(V3, V3, f64)> = cur
            .iter()
            .map(|p| {
                let n = tree.nearest_one::<SquaredEuclidean>(p);
                (*p, refp[n.item as usize], n.distance.sqrt())
            })
            .collect();
        let mut d: Vec<f64> = pairs.iter().map(|p| p.2).collect();
        d.sort_by(f64::total_cmp);
        let cut = d[d.len() * 8 / 10].max(0.05);
        let kept: Vec<&(V3, V3, f64)> = pairs.iter().filter(|p| p.2 <= cut).collect();
        let n = kept.len() as f64;
        let ca: V3 = std::array::from_fn(|k| kept.iter().map(|p| p.0[k]).sum::<f64>() / n);
        let cb: V3 = std::array::from_fn(|k| kept.iter().map(|p| p.1[k]).sum::<f64>() / n);
        let mut h = [[0.0; 3]; 3];
        for (a, b, _) in &kept {
            for i in 0..3 {
                for j in 0..3 {
                    h[i][j] += (a[i] - ca[i]) * (b[j] - cb[j]);
                }
            }
        }
        let r = kabsch(&h);
        for p in &mut cur {
            let q = mulv(&r, &sub(p, &ca));
            *p = [q[0] + cb[0], q[1] + cb[1], q[2] + cb[2]];
        }
    }
    cur
}

fn robust_extent(pts: &[V3]) -> [f64; 2] {
    std::array::from_fn(|k| {
        let mut v: Vec<f64> = pts.iter().map(|p| p[k]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() * 995 / 1000] - v[v.len() * 5 / 1000]
    })
}

fn read(path: &std::path::Path) -> Vec<V3> {
    let c = capture::read(
        path,
        &capture::ReadOptions::default(),
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    (0..c.len()).map(|i| c.absolute(i)).collect()
}

#[test]
fn brighton_photos_become_a_project_that_reconstructs_and_packages() {
    let photos: PathBuf = test_support::data_dir().join("photos/brighton_beach");
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("brighton.twinmint");
    let t = std::time::Instant::now();
    let out = test_support::output_ok(
        bin()
            .args([
                "ingest",
                "-q",
                "--json",
                // Matched at 1 200 px and dense at 300 px: the test's CPU time (the library
                // test `brighton.rs` registers the photos at the default 2 000 px).
                "--photo-size",
                "1200",
                "--mvs-size",
                "300",
                "--device",
                "cpu",
            ])
            .arg(&photos)
            .arg("-o")
            .arg(&proj),
    );
    eprintln!("ingest: {:.1} s", t.elapsed().as_secs_f64());
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["crs"]["epsg"], 32615, "{}", manifest["crs"]);
    let cams: serde_json::Value =
        serde_json::from_slice(&std::fs::read(proj.join("cameras.json")).unwrap()).unwrap();
    let solved = &cams["solved"];
    let registered = solved["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["registered"] == true)
        .count();
    let err = solved["mean_error_px"].as_f64().unwrap();
    eprintln!("registered {registered}/18, mean reprojection error {err:.3} px");
    assert_eq!(registered, 18);
    assert!(err <= 1.0);

    // Against the reference cloud.
    let ours = read(&proj.join("cloud.laz"));
    let refp = read(&photos.join("model.laz"));
    let tree: ImmutableKdTree<f64, u32, 3, 32> = ImmutableKdTree::new_from_slice(&refp);
    let step = (ours.len() / 20_000).max(1);
    let sample: Vec<V3> = ours.iter().step_by(step).copied().collect();
    let moved = icp(&sample, &tree, &refp);
    let mut d: Vec<f64> = moved
        .iter()
        .map(|p| tree.nearest_one::<SquaredEuclidean>(p).distance.sqrt())
        .collect();
    d.sort_by(f64::total_cmp);
    let median = d[d.len() / 2];
    let (eo, er) = (robust_extent(&moved), robust_extent(&refp));
    eprintln!(
        "{} points; median cloud-to-cloud {median:.3} m after a rigid fit; extent {eo:?} vs reference {er:?}",
        ours.len()
    );
    assert!(median <= 0.3, "median distance {median:.3} m");
    assert!(
        (eo[0] - er[0]).abs() <= 5.0 && (eo[1] - er[1]).abs() <= 5.0,
        "extent {eo:?} vs {er:?}"
    );

    // Like any scan: reconstruct, fingerprint, package, verify.
    let out = test_support::output_ok(bin().args(["reconstruct", "-q", "--json"]).arg(&proj));
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "reconstruct: {}",
        rec.to_string().chars().take(300).collect::<String>()
    );
    assert!(proj.join("dtm.tif").is_file() && proj.join("classified.laz").is_file());
    let classified = capture::read(
        &proj.join("classified.laz"),
        &capture::ReadOptions::default(),
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    let ground = classified
        .classification
        .as_ref()
        .unwrap()
        .iter()
        .filter(|c| **c == 2)
        .count();
    assert!(
        ground * 10 > classified.len(),
        "{ground} ground points of {}",
        classified.len()
    );
    test_support::output_ok(bin().args(["fingerprint", "-q"]).arg(&proj));
    test_support::output_ok(bin().args(["package", "-q"]).arg(&proj));
    let out = test_support::output_ok(
        bin()
            .args(["verify", "-q", "--json"])
            .arg(proj.join("package")),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "verify: {}",
        v.to_string().chars().take(300).collect::<String>()
    );
}
