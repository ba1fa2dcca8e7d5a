//! Issue 11 item 6: stems are not pipes. Forest scans run through the whole reconstruct
//! pipeline (noise → ground → DTM → trees → pipes) must give 0 pipe runs: the pipe step sees
//! every point that is neither noise, ground nor tree, and under terrestrial crowns that is the
//! stems. Scans: the real TLS pine (`tls/pine.laz` from `$TWINMINT_DATA`, default
//! `../shared/data`), a simulator terrestrial forest scan (no pipes), and a phone-style scan
//! (a 20 m × 20 m simulator forest, centimetre noise, rotated Y-up and written as LAS with no
//! CRS and a phone app's name, then read back with `--up auto`). The simulator pipe scenes stay
//! in `tests/pipes.rs` and `tests/export.rs`. Run with `--nocapture` for the numbers.

use std::path::Path;

use capture::las_io::{self, LasWriteOptions};
use capture::synth::{self, ScanPattern, SceneOptions, SynthOptions, TerrestrialOptions};
use capture::{CancelToken, Crs, NoProgress, PointCloud, ReadOptions, UpAxis};
use reconstruct::gpu::DevicePreference;
use reconstruct::pipeline::{self, ReconstructOptions};
use reconstruct::pipes::{self, PipeOptions};
use test_support::data;

fn read(p: &Path) -> PointCloud {
    capture::read(
        p,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn simulate(scene: SceneOptions, tls: TerrestrialOptions) -> PointCloud {
    synth::run(
        &SynthOptions {
            scene,
            scan: ScanPattern::Terrestrial(tls),
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .expect("simulate")
    .cloud
}

/// The phone-style scan: written Y-up as a phone app's LAS, read back with `--up auto`.
fn phone_forest_scan(seed: u64) -> PointCloud {
    let mut c = simulate(
        SceneOptions {
            seed,
            width_m: 20.0,
            depth_m: 20.0,
            origin: [0.0, 0.0, 0.0],
            trees: synth::TreeOptions {
                density_per_ha: 150.0,
                min_height_m: 8.0,
                max_height_m: 16.0,
                min_spacing_m: 4.0,
                ..Default::default()
            },
            ..Default::default()
        },
        TerrestrialOptions {
            stations: vec![[-4.0, -3.0], [4.0, 3.0]],
            angular_step_deg: 0.25,
            max_range_m: 15.0,
            range_noise_m: 0.01,
            ..Default::default()
        },
    );
    c.crs = Crs::default();
    c.classification = None;
    c.extra.clear();
    // (x, y, z) → (x, z, −y): Y-up.
    c.positions
        .iter_mut()
        .for_each(|p| *p = [p[0], p[2], -p[1]]);
    c.origin = [c.origin[0], c.origin[2], -c.origin[1]];
    c.quantization = None;
    let path =
        std::env::temp_dir().join(format!("twinmint-phone-forest-{}.las", std::process::id()));
    las_io::write(
        &c,
        &path,
        &LasWriteOptions {
            compress: false,
            ..Default::default()
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    // A phone app's header: generating software and system identifier (ASPRS LAS 1.4 R15
    // table 3, offsets 58 and 26, 32 bytes each).
    let mut bytes = std::fs::read(&path).unwrap();
    for (at, s) in [(58usize, "3D Scanner App"), (26, "iPhone 15 Pro")] {
        bytes[at..at + 32].fill(0);
        bytes[at..at + s.len()].copy_from_slice(s.as_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    let back = read(&path);
    let _ = std::fs::remove_file(&path);
    let src = &back.provenance.sources[0];
    println!(
        "  phone scan read back {:?}-up: {}",
        src.up_axis, src.up_axis_reason
    );
    assert_eq!(src.up_axis, UpAxis::Y);
    back
}

/// Pipe runs of the pipeline on `cloud`, printed.
fn pipeline_runs(label: &str, cloud: &PointCloud) -> usize {
    let t = std::time::Instant::now();
    let out = pipeline::run(
        cloud,
        &ReconstructOptions {
            device: DevicePreference::Cpu,
            ..Default::default()
        },
        &mut |_, _| {},
        &CancelToken::new(),
    )
    .expect("pipeline");
    let r = &out.reconstruction;
    println!(
        "{label}: {} points, {} trees, {} pipe runs ({:.1} s)",
        cloud.len(),
        r.trees.len(),
        r.pipes.len(),
        t.elapsed().as_secs_f64()
    );
    for run in &r.pipes {
        let a = run.segments[0].start;
        let b = run.segments[run.segments.len() - 1].end;
        let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let l = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        println!(
            "  run {}: r {:.3} m, length {:.2} m, tilt {:.1}°, z {:.2}…{:.2}, {} segments",
            run.id,
            run.radius_m,
            run.length_m,
            (d[2].abs() / l).acos().to_degrees(),
            a[2].min(b[2]) - cloud.bounds().min[2],
            a[2].max(b[2]) - cloud.bounds().min[2],
            run.segments.len()
        );
    }
    // The pipe step again on the same points (neither noise, ground nor tree), for what it set
    // aside as stems and crown shells.
    let classified = out.classified(cloud).unwrap();
    let cls = classified.classification.as_ref().unwrap();
    let mask: Vec<bool> = cls.iter().map(|c| ![2, 5, 7].contains(c)).collect();
    let det = pipes::run(
        cloud,
        Some(&mask),
        &PipeOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    println!(
        "  pipe step: {} of {} points considered, {} pieces → {} runs, {} posts, {} stems / crown shells set aside",
        det.stats.points_considered,
        cloud.len(),
        det.stats.pieces,
        det.runs.len(),
        det.posts.len(),
        det.stems.len()
    );
    for s in &det.stems {
        println!(
            "  set aside: r {:.3} m, length {:.2} m, tilt {:.1}°, {} inliers: {}",
            s.segment.radius_m,
            dist(s.segment.start, s.segment.end),
            s.tilt_deg,
            s.segment.point_count,
            s.reason
        );
    }
    assert_eq!(det.runs.len(), r.pipes.len(), "same input, same runs");
    r.pipes.len()
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

#[test]
fn real_tls_pine_gives_no_pipe_runs() {
    let c = read(&data("tls/pine.laz"));
    assert_eq!(pipeline_runs("tls/pine.laz", &c), 0);
}

#[test]
fn simulated_tls_forest_gives_no_pipe_runs() {
    let c = simulate(
        SceneOptions {
            seed: 7,
            width_m: 40.0,
            depth_m: 40.0,
            ..Default::default()
        },
        TerrestrialOptions {
            stations: vec![[-8.0, -8.0], [8.0, 8.0]],
            angular_step_deg: 0.2,
            ..Default::default()
        },
    );
    assert_eq!(pipeline_runs("simulated TLS forest", &c), 0);
}

#[test]
fn phone_forest_scan_gives_no_pipe_runs() {
    let c = phone_forest_scan(11);
    assert_eq!(pipeline_runs("phone-style forest scan", &c), 0);
}
