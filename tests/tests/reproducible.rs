//! Issue 10: the same scan and options give the same model fingerprint, however the
//! reconstruction ran — 1 or 2 rayon threads, CPU twin or GPU kernels (lavapipe in CI) — and
//! whoever the surveyor is.
//!
//! The bundled sample (`assets/sample/forest.laz`, 150 k points, a simulated forest) is
//! ingested into three project folders and reconstructed in each one under another run
//! configuration; `mint`'s project fingerprint must agree to the last bit. The run facts
//! (device, thread count) must differ in `reconstruction.json`, or the test proves nothing.

use std::path::{Path, PathBuf};

use capture::project::IngestOptions;
use capture::{CancelToken, NoProgress};
use reconstruct::gpu::{DevicePreference, GpuContext};
use reconstruct::pipeline::{self, ReconstructOptions};
use serde_json::Value;

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz")
}

/// Ingest the sample into `dir/<name>.twinmint` and reconstruct it on `device` inside a rayon
/// pool of `threads` threads, as `twinmint ingest` + `twinmint reconstruct` do.
fn reconstruct_project(dir: &Path, name: &str, device: DevicePreference, threads: usize) -> PathBuf {
    let project = dir.join(format!("{name}.twinmint"));
    capture::project::ingest(
        &[sample()],
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
        pipeline::write_outputs(&project, &out, &opts, &mut NoProgress, &CancelToken::new())
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
            assert!(
                std::env::var_os("TWINMINT_REQUIRE_GPU").is_none(),
                "TWINMINT_REQUIRE_GPU is set but {e}"
            );
            eprintln!("SKIP the GPU run: {e}");
            false
        }
    }
}

#[test]
fn same_scan_gives_one_fingerprint_across_threads_and_devices() {
    let dir = tempfile::tempdir().unwrap();
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
        let project = reconstruct_project(dir.path(), name, device, threads);
        let fp = mint::package::compute_project_fingerprint(
            &project,
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        let rec = json(&project.join(pipeline::RECONSTRUCTION_JSON));
        eprintln!(
            "{name}: {} trees, {} pipes, {} on {} thread(s), {:.1} s; fingerprint {}",
            rec["trees"].as_array().map_or(0, Vec::len),
            rec["pipes"].as_array().map_or(0, Vec::len),
            rec["run"]["device"],
            rec["run"]["threads"],
            t.elapsed().as_secs_f64(),
            fp.model_0x
        );
        results.push((name, device, fp, rec));
    }

    let (base_name, _, base_fp, base_rec) = &results[0];
    assert!(
        base_rec["trees"].as_array().is_some_and(|t| t.len() > 10),
        "the sample has trees to disagree about"
    );
    for (name, device, fp, rec) in &results[1..] {
        // The runs really differed…
        assert_ne!(rec["run"], base_rec["run"], "{name}");
        if *device == DevicePreference::Gpu {
            assert!(
                rec["run"]["device"].as_str().unwrap().starts_with("gpu"),
                "{name}: {}",
                rec["run"]["device"]
            );
        }
        // …and the asset did not.
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
}
