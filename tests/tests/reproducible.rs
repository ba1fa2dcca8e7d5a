//! Issue 10: the same scan and options give the same model fingerprint, however the
//! reconstruction ran — 1 or 2 rayon threads, CPU twin or GPU kernels (lavapipe in CI) — and
//! whoever the surveyor is.
//!
//! A scan — the bundled sample (`assets/sample/forest.laz`, 150 k points, a simulated forest),
//! and a small simulated site with pipe runs, so the pipe fit runs too — is ingested into three
//! project folders and reconstructed in each under another run configuration; `mint`'s project
//! fingerprint must agree to the last bit. Between CPU runs on 1 and 2 threads the asset view
//! must agree even *before* quantisation (thread count must not change a single bit); only the
//! GPU may differ in float noise, which the view's quantisation absorbs. The run facts (device,
//! thread count) must differ in `reconstruction.json`, or the test proves nothing.

use std::path::{Path, PathBuf};

use capture::project::IngestOptions;
use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
use capture::{CancelToken, NoProgress};
use reconstruct::gpu::{DevicePreference, GpuContext};
use reconstruct::pipeline::{self, ReconstructOptions};
use serde_json::Value;

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz")
}

/// A 30 m × 30 m simulated pipe rack (no trees, two runs of 0.15–0.3 m radius) scanned at
/// 200 points/m² from 40 m (about 180 k points), as LAZ.
fn pipe_site(dir: &Path) -> PathBuf {
    let mut o = SynthOptions::default();
    o.scene.seed = 2;
    o.scene.width_m = 30.0;
    o.scene.depth_m = 30.0;
    o.scene.trees.density_per_ha = 0.0;
    o.scene.pipes.count = 2;
    o.scene.pipes.min_radius_m = 0.15;
    o.scan = ScanPattern::Airborne(AirborneOptions {
        altitude_m: 40.0,
        target_density_per_m2: Some(200.0),
        ..Default::default()
    });
    let out = synth::run(&o, &mut NoProgress, &CancelToken::new()).unwrap();
    let path = dir.join("site.laz");
    capture::write(&out.cloud, &path, &mut NoProgress, &CancelToken::new()).unwrap();
    path
}

/// Ingest `scan` into `dir/<name>.twinmint` and reconstruct it on `device` inside a rayon
/// pool of `threads` threads, as `twinmint ingest` + `twinmint reconstruct` do.
fn reconstruct_project(
    scan: &Path,
    dir: &Path,
    name: &str,
    device: DevicePreference,
    threads: usize,
) -> PathBuf {
    let project = dir.join(format!("{name}.twinmint"));
    capture::project::ingest(
        &[scan.to_path_buf()],
        &project,
        &IngestOptions::default(),
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let (_, cloud) =
        capture::project::load_cloud(&project, &mut NoProgress, &CancelToken::new()).unwrap();
    let opts = ReconstructOptions {
        device,
        ..Default::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let out = pipeline::run(&cloud, &opts, &mut |_, _| {}, &CancelToken::new()).unwrap();
        assert_eq!(out.reconstruction.run.threads, threads);
        pipeline::write_outputs(
            &project,
            cloud.clone(),
            &out,
            &opts,
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
    });
    project
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The first JSON path where two values differ (for a readable failure).
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, &format!("{path}.{k}")),
                _ => Some(format!("{path}.{k} present on one side only")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

/// The GPU variant runs wherever an adapter exists (lavapipe in CI); without one it is skipped
/// with a message, unless `TWINMINT_REQUIRE_GPU` is set.
fn gpu_available() -> bool {
    match GpuContext::shared() {
        Ok(g) => {
            eprintln!("GPU adapter: {} ({:?})", g.adapter_name, g.backend);
            true
        }
        Err(e) => {
            test_support::skip_or_fail("the GPU run", &e);
            false
        }
    }
}

/// `reconstruction.json` without its run facts and *not* quantised: what must not change at
/// all with the thread count.
fn unquantised_asset(rec: &Value) -> Value {
    let mut v = rec.clone();
    let top = v.as_object_mut().unwrap();
    for k in mint::fingerprint::reconstruction::RUN_KEYS {
        top.remove(k);
    }
    if let Some(Value::Object(o)) = top.get_mut("options") {
        o.remove("device");
    }
    v
}

/// Reconstruct `scan` on 1 CPU thread, 2 CPU threads and (where there is an adapter) the GPU,
/// and check one fingerprint; returns the reconstruction of the first run.
fn one_fingerprint(scan: &Path, dir: &Path) -> Value {
    let mut runs = vec![
        ("cpu-1", DevicePreference::Cpu, 1),
        ("cpu-2", DevicePreference::Cpu, 2),
    ];
    if gpu_available() {
        runs.push(("gpu-2", DevicePreference::Gpu, 2));
    }
    let mut results = Vec::new();
    for (name, device, threads) in runs {
        let t = std::time::Instant::now();
        let project = reconstruct_project(scan, dir, name, device, threads);
        let fp = mint::package::compute_project_fingerprint(
            &project,
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        let rec = json(&project.join(pipeline::RECONSTRUCTION_JSON));
        eprintln!(
            "{}/{name}: {} trees, {} pipes, {} on {} thread(s), {:.1} s; fingerprint {}",
            scan.file_name().unwrap().to_string_lossy(),
            rec["trees"].as_array().map_or(0, Vec::len),
            rec["pipes"].as_array().map_or(0, Vec::len),
            rec["run"]["device"],
            rec["run"]["threads"],
            t.elapsed().as_secs_f64(),
            fp.model_0x
        );
        let glb = std::fs::read(project.join(pipeline::MODEL_GLB)).unwrap();
        results.push((name, device, fp, rec, glb));
    }

    let (base_name, _, base_fp, base_rec, base_glb) = &results[0];
    for (name, device, fp, rec, glb) in &results[1..] {
        // The runs really differed…
        assert_ne!(rec["run"], base_rec["run"], "{name}");
        let (ra, rb) = (unquantised_asset(base_rec), unquantised_asset(rec));
        if *device == DevicePreference::Gpu {
            assert!(
                rec["run"]["device"].as_str().unwrap().starts_with("gpu"),
                "{name}: {}",
                rec["run"]["device"]
            );
            eprintln!(
                "{base_name} vs {name} before quantisation: {}; model.glb {}",
                first_difference(&ra, &rb, "$").unwrap_or_else(|| "identical".into()),
                if glb == base_glb {
                    "identical"
                } else {
                    "differs"
                }
            );
        } else {
            // (model.glb goes into the package as it is: it must not depend on the pool
            // either.)
            assert!(glb == base_glb, "{base_name} vs {name}: model.glb differs");
            // …the thread count changes not one bit of the asset…
            assert!(
                ra == rb,
                "{base_name} vs {name}: the unquantised asset differs at {}",
                first_difference(&ra, &rb, "$").unwrap_or_default()
            );
        }
        // …and the fingerprint is one.
        let (va, vb) = (
            mint::fingerprint::reconstruction_view(base_rec),
            mint::fingerprint::reconstruction_view(rec),
        );
        assert!(
            va == vb,
            "{base_name} vs {name}: the asset view differs at {}",
            first_difference(&va, &vb, "$").unwrap_or_default()
        );
        assert_eq!(fp.fingerprint, base_fp.fingerprint, "{base_name} vs {name}");
        assert_eq!(fp.model_0x, base_fp.model_0x);
    }
    results.swap_remove(0).3
}

#[test]
fn sample_forest_gives_one_fingerprint_across_threads_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let rec = one_fingerprint(&sample(), dir.path());
    assert!(
        rec["trees"].as_array().is_some_and(|t| t.len() > 10),
        "the sample has trees to disagree about"
    );
}

#[test]
fn pipe_site_gives_one_fingerprint_across_threads_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let site = pipe_site(dir.path());
    let rec = one_fingerprint(&site, dir.path());
    assert!(
        rec["pipes"].as_array().is_some_and(|p| !p.is_empty()),
        "the site has pipes to disagree about"
    );
}
