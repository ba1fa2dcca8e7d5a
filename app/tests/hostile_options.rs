//! Issue 12: absurd options and silent wrong results are refused before any work starts —
//! exit 1, a message naming the option (or file) and the reason, no panic and no output files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinmint"))
}

fn data(rel: &str) -> PathBuf {
    // Not checked for existence: some cases name files that must be missing.
    test_support::data_dir().join(rel)
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/sample")
        .join(name)
}

/// Exit 1, no panic, and stderr containing every one of `needles`; returns stderr.
fn refused(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
    err
}

/// The sorted file names in `dir`.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

/// A project ingested from the small MixedConifer scan.
fn project(dir: &Path) -> PathBuf {
    let p = dir.join("mc.twinmint");
    test_support::output_ok(
        bin()
            .args(["ingest", "-q"])
            .arg(data("als/MixedConifer.laz"))
            .arg("-o")
            .arg(&p),
    );
    p
}

#[test]
fn reconstruct_grid_options_are_refused_with_the_cell_count() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path());
    let before = listing(&p);
    let run = |args: &[&str]| {
        bin()
            .args(["reconstruct", "-q", "--device", "cpu"])
            .arg(&p)
            .args(args)
            .output()
            .unwrap()
    };
    // 0.1 mm over a ~ 100 m plot: ~1e12 cells, refused with the estimate and a usable size.
    let err = refused(
        &run(&["--dtm-resolution", "0.0001"]),
        &[
            "dtm resolution_m",
            "cells",
            "limit is 200 M cells",
            "use at least",
        ],
    );
    assert!(err.contains("e12") || err.contains("e11"), "{err}");
    // 0 does not overflow: it is not a length.
    refused(
        &run(&["--dtm-resolution", "0"]),
        &["dtm resolution_m", "not a positive length"],
    );
    refused(
        &run(&["--dtm-resolution", "-1"]),
        &["dtm resolution_m", "not a positive length"],
    );
    refused(
        &run(&["--cloth-resolution", "0.00001"]),
        &["cloth_resolution_m", "cells"],
    );
    refused(
        &run(&["--cloth-resolution", "1e300"]),
        &["cloth_resolution_m", "1000 m limit"],
    );
    // CHM resolution through the options file.
    let opts = dir.path().join("opts.json");
    let mut trees = serde_json::to_value(reconstruct::trees::TreeOptions::default()).unwrap();
    trees["chm"]["resolution_m"] = serde_json::json!(0.00001);
    std::fs::write(
        &opts,
        serde_json::to_vec(&serde_json::json!({ "trees": trees })).unwrap(),
    )
    .unwrap();
    refused(
        &run(&["--options", opts.to_str().unwrap()]),
        &["chm resolution_m", "cells"],
    );
    assert_eq!(listing(&p), before, "nothing written into the project");
}

#[test]
fn synth_point_target_over_the_cap_is_refused_with_the_memory_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("huge.laz");
    let out = bin()
        .args(["synth", "-q", "--points", "1000000000000", "-o"])
        .arg(&out_path)
        .output()
        .unwrap();
    refused(&out, &["target_points", "--points", "GB", "250 M points"]);
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

/// `simulate` on a project, taking the trees from the bundled truth table (or `truth`).
fn simulate(p: &Path, truth: &Path, args: &[&str]) -> Output {
    bin()
        .args(["simulate", "-q"])
        .arg(p)
        .arg("--truth")
        .arg(truth)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn simulate_options_out_of_range_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path());
    let before = listing(&p);
    let truth = sample("forest.truth.json");
    refused(
        &simulate(&p, &truth, &["--runs", "10000000"]),
        &["runs", "10000000", "1..=1000000"],
    );
    // Within the run cap but runs × years over the memory cap: refused with the estimate.
    refused(
        &simulate(&p, &truth, &["--runs", "1000000", "--years", "1000"]),
        &["1000000 runs × 1000 years", "GB", "limit"],
    );
    // clap used to answer "unexpected argument '-1'" with a wrong hint.
    let err = refused(
        &simulate(&p, &truth, &["--area-ha", "-1"]),
        &["area_ha", "-1", "> 0"],
    );
    assert!(!err.contains("unexpected argument"), "{err}");
    refused(
        &simulate(
            &p,
            &truth,
            &["--scenario", "escalating", "--escalation", "1e308"],
        ),
        &["pct_per_year", "1e308", "(-100, 100]"],
    );
    refused(
        &simulate(&p, &truth, &["--discount", "1e308"]),
        &["discount_rate", "[-0.1, 1]"],
    );
    refused(
        &simulate(&p, &truth, &["--buffer", "-0.5"]),
        &["buffer_fraction"],
    );
    refused(&simulate(&p, &truth, &["--loan", "-5"]), &["loan"]);
    assert_eq!(listing(&p), before, "no simulation.json or CSV written");
}

#[test]
fn non_physical_tree_inputs_are_refused_so_no_nan_reaches_stand_csv() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path());
    let before = listing(&p);
    let mut truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("forest.truth.json")).unwrap()).unwrap();
    let trees = truth["trees"].as_array_mut().expect("truth has trees");
    assert!(trees.len() > 2);
    trees[1]["height_m"] = serde_json::json!(1e300);
    let bad = dir.path().join("bad.truth.json");
    std::fs::write(&bad, serde_json::to_vec(&truth).unwrap()).unwrap();
    refused(&simulate(&p, &bad, &[]), &["height", "150 m"]);

    trees_mut(&mut truth)[1]["height_m"] = serde_json::json!(20.0);
    trees_mut(&mut truth)[2]["dbh_cm"] = serde_json::json!(1e6);
    std::fs::write(&bad, serde_json::to_vec(&truth).unwrap()).unwrap();
    refused(&simulate(&p, &bad, &[]), &["DBH", "1500 cm"]);
    assert_eq!(listing(&p), before);

    // The untouched truth simulates, and its tables hold no NaN.
    let ok = simulate(&p, &sample("forest.truth.json"), &["--runs", "20"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for f in ["stand.csv", "trees.csv", "collateral.csv"] {
        let text = std::fs::read_to_string(p.join(f)).unwrap();
        assert!(!text.to_lowercase().contains("nan"), "{f} holds NaN");
    }
}

fn trees_mut(truth: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    truth["trees"].as_array_mut().unwrap()
}

#[test]
fn voxel_below_a_millimetre_is_refused_instead_of_keeping_one_point() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v.twinmint");
    let out = bin()
        .args(["ingest", "-q", "--voxel", "1e-300"])
        .arg(data("als/MixedConifer.laz"))
        .arg("-o")
        .arg(&p)
        .output()
        .unwrap();
    refused(&out, &["--voxel", "1e-300", "0.001"]);
    let out = bin()
        .args(["info", "-q", "--voxel", "-2"])
        .arg(data("als/MixedConifer.laz"))
        .output()
        .unwrap();
    refused(&out, &["--voxel"]);
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn ingesting_the_same_scan_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scan = data("als/MixedConifer.laz");
    let p = dir.path().join("twice.twinmint");
    let out = bin()
        .args(["ingest", "-q"])
        .arg(&scan)
        .arg(&scan)
        .arg("-o")
        .arg(&p)
        .output()
        .unwrap();
    refused(&out, &["inputs", "same file", "double"]);
    assert!(!p.exists());
    // A copy under another name: the same content by SHA-256.
    let copy = dir.path().join("copy.laz");
    std::fs::copy(&scan, &copy).unwrap();
    let out = bin()
        .args(["ingest", "-q"])
        .arg(&scan)
        .arg(&copy)
        .arg("-o")
        .arg(&p)
        .output()
        .unwrap();
    refused(&out, &["copy.laz", "same content (SHA-256)", "double"]);
    assert!(!p.exists());
    assert_eq!(listing(dir.path()), vec!["copy.laz".to_string()]);
}

#[test]
fn package_refuses_a_garbage_model_glb() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path());
    std::fs::write(
        p.join("model.glb"),
        b"this is not a binary glTF model at all",
    )
    .unwrap();
    let before = listing(&p);
    let out = bin().args(["package", "-q"]).arg(&p).output().unwrap();
    refused(
        &out,
        &["model.glb", "not a valid glTF binary model", "glTF magic"],
    );
    // A glTF header whose length disagrees with the file.
    let mut glb = b"glTF".to_vec();
    glb.extend(2u32.to_le_bytes());
    glb.extend(9999u32.to_le_bytes());
    glb.extend([0u8; 20]);
    std::fs::write(p.join("model.glb"), &glb).unwrap();
    let out = bin().args(["package", "-q"]).arg(&p).output().unwrap();
    refused(&out, &["model.glb", "header says 9999 bytes"]);
    assert_eq!(listing(&p), before, "no package/ or fingerprint.json");
}
