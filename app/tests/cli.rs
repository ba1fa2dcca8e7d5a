//! The `twinmint` binary end to end: JSON output, exit codes, project folders.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinmint"))
}

/// Run the command and require success, showing its stderr otherwise.
fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn data(rel: &str) -> PathBuf {
    // Not checked for existence: some cases name files that must be missing.
    test_support::data_dir().join(rel)
}

#[test]
fn info_json_reports_counts_bounds_and_classes() {
    let out = succeed(
        bin()
            .args(["info", "--json", "--quiet"])
            .arg(data("als/Topography.laz")),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["point_count"], 73_403);
    assert_eq!(v["class_counts"]["2"], 8_159);
    assert_eq!(v["format"], "LAZ");
    assert!(v["density_per_m2"].as_f64().unwrap() > 0.0);
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn bad_input_exits_nonzero_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.laz");
    std::fs::write(&p, b"LASF but not really").unwrap();
    let out = bin().args(["info", "-q"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.laz"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn ingest_then_convert_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("mc.twinmint");
    let out = succeed(
        bin()
            .args(["ingest", "-q", "--json"])
            .arg(data("als/MixedConifer.laz"))
            .arg("-o")
            .arg(&proj),
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["point_count"], 37_657);
    assert_eq!(m["crs"]["epsg"], 26912);
    assert!(proj.join("cloud.laz").exists() && proj.join("manifest.json").exists());
    // A second ingest without --force refuses and leaves the project intact.
    let again = bin()
        .args(["ingest", "-q"])
        .arg(data("als/MixedConifer.laz"))
        .arg("-o")
        .arg(&proj)
        .output()
        .unwrap();
    assert!(!again.status.success());
    let ply = dir.path().join("mc.ply");
    succeed(
        bin()
            .args(["convert", "-q"])
            .arg(proj.join("cloud.laz"))
            .arg(&ply),
    );
    let out = bin()
        .args(["info", "--json", "-q"])
        .arg(&ply)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["point_count"], 37_657);
    assert!(
        v["extra_columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "treeID"),
        "treeID survives LAZ → PLY"
    );
}

/// A 40 m simulated plot (seed 3, 30 000 points) ingested as `dir/plot.twinmint`; its truth is
/// `dir/plot.truth.json`.
fn simulated_project(dir: &Path) -> PathBuf {
    let laz = dir.join("plot.laz");
    succeed(
        bin()
            .args([
                "synth", "-q", "--seed", "3", "--size", "40", "--points", "30000", "-o",
            ])
            .arg(&laz),
    );
    let proj = dir.join("plot.twinmint");
    succeed(bin().args(["ingest", "-q"]).arg(&laz).arg("-o").arg(&proj));
    proj
}

#[test]
fn synth_ingest_simulate_from_truth() {
    let dir = tempfile::tempdir().unwrap();
    let proj = simulated_project(dir.path());
    let out = succeed(
        bin()
            .args(["simulate", "-q", "--json", "--runs", "64", "--years", "20"])
            .arg(&proj)
            .arg("--truth")
            .arg(dir.path().join("plot.truth.json")),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["stock_co2e_t_final"];
    let (p10, p50, p90) = (
        f["p10"].as_f64().unwrap(),
        f["p50"].as_f64().unwrap(),
        f["p90"].as_f64().unwrap(),
    );
    assert!(p10 <= p50 && p50 <= p90 && p10 > 0.0, "{f}");
    assert!(
        p50 > v["stock_co2e_t_start"].as_f64().unwrap(),
        "a young stand grows"
    );
    let sim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(proj.join("simulation.json")).unwrap()).unwrap();
    assert_eq!(sim["schema_version"], 2);
    assert!(proj.join("stand.csv").exists() && proj.join("collateral.csv").exists());
    // The year-0 inventory: default region global → Jenkins 2003.
    assert_eq!(v["region"], "global");
    assert_eq!(v["biomass_equation"], "jenkins2003");
    assert!(v["inventory"]["agb_t_per_ha"].as_f64().unwrap() > 0.0);

    // --region europe: Forrester 2017 equations and the Palearctic DBH model.
    let out = succeed(
        bin()
            .args([
                "simulate", "-q", "--json", "--runs", "16", "--years", "5", "--region", "europe",
            ])
            .arg(&proj)
            .arg("--truth")
            .arg(dir.path().join("plot.truth.json")),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["region"], "europe");
    assert_eq!(v["biomass_equation"], "forrester2017");
    let sim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(proj.join("simulation.json")).unwrap()).unwrap();
    let inv = &sim["inventory"];
    assert_eq!(inv["region"], "europe");
    let trees = inv["trees"].as_array().unwrap();
    assert!(!trees.is_empty());
    assert!(trees.iter().all(|t| {
        t["equation"]
            .as_str()
            .unwrap()
            .starts_with("Forrester et al. 2017")
    }));
    let csv = std::fs::read_to_string(proj.join("trees.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",agb_kg,species,group_source,dbh_source,equation")
    );
    let bad = bin()
        .args(["simulate", "-q", "--region", "mars"])
        .arg(&proj)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("north_america"));
}

/// SIGTERM (what Slurm, Kubernetes and `docker stop` send) cancels like Ctrl-C: the process exits
/// with a message instead of dying mid-write, and leaves neither the output nor a temporary file.
#[test]
fn sigterm_cancels_cleanly_like_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.laz");
    let child = bin()
        .args(["synth", "-q", "--size", "200", "--points", "4000000", "-o"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let result = child.wait_with_output().unwrap();
    assert!(
        result.status.code().is_some(),
        "killed by the signal instead of cancelling: {:?}",
        result.status
    );
    assert!(
        !result.status.success(),
        "4 M points were simulated within 0.7 s: the test no longer interrupts anything"
    );
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(err.to_lowercase().contains("cancel"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `bench pipeline` runs every stage of the first-run path on the given tile and reports each
/// one's time and peak memory (Linux), in order, for the tile's points.
#[test]
fn bench_pipeline_reports_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let tile = dir.path().join("tile.laz");
    succeed(
        bin()
            .args([
                "synth", "--quiet", "--points", "40000", "--size", "40", "-o",
            ])
            .arg(&tile),
    );
    let out = succeed(
        bin()
            .args([
                "bench", "pipeline", "--json", "--quiet", "--runs", "20", "--repeat", "2", "--tile",
            ])
            .arg(&tile),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stages: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "ingest",
            "reconstruct",
            "simulate",
            "fingerprint",
            "package"
        ]
    );
    let info = succeed(bin().args(["info", "--json", "--quiet"]).arg(&tile));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["points"], info["point_count"]);
    let sum: f64 = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seconds"].as_f64().unwrap())
        .sum();
    let total = v["total_seconds"].as_f64().unwrap();
    assert!(sum > 0.0 && total >= sum * 0.99, "{sum} {total}");
    // Two runs, fastest first; the one reported is one of them (the median of two: the slower).
    let all: Vec<f64> = v["total_seconds_all"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    assert_eq!(v["repeats"], 2);
    assert!(all.len() == 2 && all[0] <= all[1], "{all:?}");
    assert_eq!(total, all[1]);
    for s in v["stages"].as_array().unwrap() {
        // Each stage's peak is at least the resident size of a process that holds the tile.
        assert!(s["peak_bytes"].as_u64().unwrap() > 1_000_000, "{s}");
    }
    assert!(v["raw_point_bytes"].as_u64().unwrap() >= 40_000 * 20);
}

/// `bench view --json` on a small forest: the orbit refines the octree past its root and each
/// frame's selection keeps to the point budget (the root, always drawn, aside).
#[test]
fn bench_view_refines_past_the_root_within_the_budget() {
    let out = succeed(bin().args([
        "bench", "view", "--json", "--quiet", "--points", "200000", "--budget", "160000",
        "--frames", "12",
    ]));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {r}"));
    assert!(f("points") > 150_000.0 && f("points") < 250_000.0, "{r}");
    assert!(f("nodes") > 1.0, "{r}");
    assert!(
        f("selected_points_mean") <= f("budget").max(f("root_points")),
        "{r}"
    );
    assert!(
        f("selected_nodes_mean") > 1.0,
        "the orbit never refined the root: {r}"
    );
    assert!(f("select_ms_max") >= f("select_ms_p95") && f("select_ms_p95") >= 0.0);
    assert!(f("read_frame_points") >= f("selected_points_mean"), "{r}");
}

/// `reconstruct --species`: bad compositions and field lists are refused before any work, naming
/// the species or the file and line; a composition's classes come from the species table unless
/// an entry gives its own; a field list's species land on the trees at its positions.
#[test]
fn species_option_classes_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |spec: &str| {
        let o = bin()
            .args(["reconstruct", "-q"])
            .arg(dir.path().join("none.twinmint"))
            .args(["--species", spec])
            .output()
            .unwrap();
        assert!(!o.status.success(), "{spec} accepted");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = refused("Mystery tree=1");
    assert!(e.contains("Mystery tree") && e.contains("class"), "{e}");
    let e = refused("Picea abies");
    assert!(e.contains("NAME=SHARE"), "{e}");
    let csv = dir.path().join("field.csv");
    std::fs::write(&csv, "x,y,species\n1,nope,Pinus\n").unwrap();
    let e = refused(csv.to_str().unwrap());
    assert!(e.contains("line 2") && e.contains("field.csv"), "{e}");

    let proj = simulated_project(dir.path());
    let trees = |spec: &str| -> Vec<serde_json::Value> {
        succeed(
            bin()
                .args(["reconstruct", "-q"])
                .arg(&proj)
                .args(["--species", spec]),
        );
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(proj.join("reconstruction.json")).unwrap())
                .unwrap();
        r["trees"].as_array().unwrap().clone()
    };
    let class_of = |t: &serde_json::Value| {
        (
            t["species"]["species"].as_str().unwrap_or("").to_string(),
            t["species"]["class"].as_str().unwrap().to_string(),
            t["species"]["source"].as_str().unwrap().to_string(),
        )
    };
    let got = trees("Picea abies=0.5, Fagus sylvatica=0.3, Mystery tree:conifer=0.2");
    assert!(got.len() >= 5, "{} trees", got.len());
    let mut named = std::collections::BTreeSet::new();
    for t in &got {
        let (species, class, source) = class_of(t);
        assert_eq!(source, "stand_composition", "{t}");
        let want = match species.as_str() {
            "Picea abies" | "Mystery tree" => "conifer",
            "Fagus sylvatica" => "broadleaf",
            other => panic!("species {other:?} not in the composition"),
        };
        assert_eq!(class, want, "{t}");
        named.insert(species);
    }
    assert!(named.len() >= 2, "{named:?}");

    // A field list at the detected trees' own positions, Pinus palustris and QURU (red oak's
    // USDA code) in turn.
    let mut list = String::from("id,x,y,species\n");
    for (i, t) in got.iter().enumerate() {
        let name = if i % 2 == 0 {
            "Pinus palustris"
        } else {
            "QURU"
        };
        list += &format!("{i},{},{},{name}\n", t["x"], t["y"]);
    }
    std::fs::write(&csv, list).unwrap();
    let got = trees(csv.to_str().unwrap());
    let mut seen = std::collections::BTreeSet::new();
    for t in &got {
        let (species, class, source) = class_of(t);
        if source != "field_list" {
            continue;
        }
        let want = if species == "Pinus palustris" {
            "conifer"
        } else {
            "broadleaf"
        };
        assert_eq!(class, want, "{t}");
        seen.insert(species);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}
