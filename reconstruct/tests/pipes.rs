//! Acceptance: pipe runs from simulated scans with known truth (issue 3: "synthetic pipes with
//! noise: radius error ≤ 2 %, axis angle ≤ 1°, every run found").
//!
//! Scenes come from `capture::synth`: 60 m × 60 m of rolling terrain, no trees, 3–5 random pipe
//! runs with 45°/90° bends on vertical supports. The detector's input is the cloud minus ground
//! (classification ≠ 2) — nothing else; the truth (`truth_id` column, truth JSON) only builds
//! the expectation. Every straight leg of every truth run must be matched by a detected run
//! with radius error ≤ 2 % and axis angle ≤ 1°; every detected run must be a truth leg (no
//! support, no invention); supports are vertical and must come out as posts, not runs.
//!
//! Scans:
//! - terrestrial: four stations, 0.15° step, 3 mm range noise, the simulator's full pipe radius
//!   range (0.05–0.3 m);
//! - airborne: 40 m above ground at 600 points/m², 2 cm range noise, ±30° scan. Pipe radii
//!   from 0.15 m: the radius of a top-only view has a standard error of about 3.6 σ / √n (half
//!   arc, errors-in-variables), so a 10 cm pipe with its ~1 500 points has ±1.6 % (1σ) — the
//!   2 % bound is then a coin toss, whatever the method. Radii from 0.15 m keep it ≤ 0.7 %.
//!
//! Set `PIPE_SEEDS=1,2,…` to run other scenes.

use capture::synth::{
    self, AirborneOptions, PipeOptions as SynthPipes, ScanPattern, SceneOptions, SynthOptions,
    TerrestrialOptions, TreeOptions, Truth,
};
use capture::{CancelToken, NoProgress, PointCloud};
use reconstruct::PipeRun;
use reconstruct::pipes::{self, PipeDetection, PipeOptions};

type V3 = [f64; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}
fn unit(a: V3) -> V3 {
    let n = norm(a);
    [a[0] / n, a[1] / n, a[2] / n]
}
/// Distance of `p` from the infinite line through `a` with unit direction `d`.
fn line_dist(p: V3, a: V3, d: V3) -> f64 {
    let q = sub(p, a);
    let t = dot(q, d);
    norm([q[0] - t * d[0], q[1] - t * d[1], q[2] - t * d[2]])
}

fn seeds() -> Vec<u64> {
    std::env::var("PIPE_SEEDS")
        .ok()
        .map(|v| v.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .unwrap_or(vec![1, 2, 3])
}

fn scene(seed: u64, min_radius: f64) -> SceneOptions {
    SceneOptions {
        seed,
        width_m: 60.0,
        depth_m: 60.0,
        trees: TreeOptions {
            density_per_ha: 0.0,
            ..Default::default()
        },
        pipes: SynthPipes {
            count: 3 + (seed % 3) as usize,
            min_radius_m: min_radius,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn simulate(scene: SceneOptions, scan: ScanPattern) -> (PointCloud, Truth) {
    let out = synth::run(
        &SynthOptions {
            scene,
            scan,
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .expect("simulate");
    (out.cloud, out.truth)
}

/// The input: everything but ground.
fn detect(cloud: &PointCloud) -> PipeDetection {
    let cls = cloud.classification.as_ref().unwrap();
    let mask: Vec<bool> = cls.iter().map(|&c| c != 2).collect();
    let t = std::time::Instant::now();
    let det = pipes::run(
        cloud,
        Some(&mask),
        &PipeOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .expect("pipes");
    println!(
        "  detection {:.2} s ({} of {} points considered; normals {:.2} s, RANSAC {:.2} s, {} rounds, {} pieces)",
        t.elapsed().as_secs_f64(),
        det.stats.points_considered,
        cloud.len(),
        det.stats.normals_seconds,
        det.stats.ransac_seconds,
        det.stats.rounds,
        det.stats.pieces
    );
    det
}

fn run_ends(run: &PipeRun) -> (V3, V3) {
    (
        run.segments[0].start,
        run.segments[run.segments.len() - 1].end,
    )
}

/// Axial overlap (m) of a detected run with a truth leg, when they are the same straight pipe
/// (axes within 5°, the run's axis within max(r, 0.1 m) of the leg's).
fn overlap(run: &PipeRun, a: V3, b: V3, radius: f64) -> Option<f64> {
    let d = unit(sub(b, a));
    let len = norm(sub(b, a));
    let (ra, rb) = run_ends(run);
    if dot(unit(sub(rb, ra)), d).abs() < 5f64.to_radians().cos() {
        return None;
    }
    let mid = [
        0.5 * (ra[0] + rb[0]),
        0.5 * (ra[1] + rb[1]),
        0.5 * (ra[2] + rb[2]),
    ];
    if line_dist(mid, a, d) > radius.max(0.1) {
        return None;
    }
    let (ta, tb) = (dot(sub(ra, a), d), dot(sub(rb, a), d));
    let o = ta.max(tb).min(len) - ta.min(tb).max(0.0);
    (o > 0.0).then_some(o)
}

struct Summary {
    legs: usize,
    found: usize,
    max_radius_err_pct: f64,
    max_angle_deg: f64,
}

/// Match, print and check one scan.
fn evaluate(label: &str, cloud: &PointCloud, truth: &Truth, det: &PipeDetection) -> Summary {
    let runs_in_truth = truth.pipes.iter().map(|p| p.run_id).max().unwrap_or(0);
    println!(
        "  truth: {} runs, {} straight legs, {} supports; detected: {} runs, {} posts",
        runs_in_truth,
        truth.pipes.len(),
        truth.supports.len(),
        det.runs.len(),
        det.posts.len()
    );
    let mut s = Summary {
        legs: truth.pipes.len(),
        found: 0,
        max_radius_err_pct: 0.0,
        max_angle_deg: 0.0,
    };
    let mut failures = Vec::new();
    for leg in &truth.pipes {
        let d = unit(sub(leg.end, leg.start));
        let len = norm(sub(leg.end, leg.start));
        let pts = truth
            .counts
            .pipes
            .iter()
            .find(|c| c.id == leg.id)
            .map_or(0, |c| c.points);
        let best = det
            .runs
            .iter()
            .filter_map(|r| overlap(r, leg.start, leg.end, leg.radius_m).map(|o| (o, r)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((o, run)) => {
                let (ra, rb) = run_ends(run);
                let err = 100.0 * (run.radius_m - leg.radius_m) / leg.radius_m;
                let ang = dot(unit(sub(rb, ra)), d).abs().min(1.0).acos().to_degrees();
                let off = line_dist(ra, leg.start, d).max(line_dist(rb, leg.start, d));
                println!(
                    "  run {:>2} leg {:>2}: r {:.3} m, {:5.1} m, {:>6} pts → run {:>2}: r {:.4} m, radius error {:+.2} %, axis angle {:.3}°, axis offset {:.1} mm, length {:5.2} m, covers {:.0} %, rms {:.1} mm",
                    leg.run_id,
                    leg.id,
                    leg.radius_m,
                    len,
                    pts,
                    run.id,
                    run.radius_m,
                    err,
                    ang,
                    1000.0 * off,
                    run.length_m,
                    100.0 * o / len,
                    1000.0 * run.segments[0].inlier_rms_m
                );
                s.found += 1;
                s.max_radius_err_pct = s.max_radius_err_pct.max(err.abs());
                s.max_angle_deg = s.max_angle_deg.max(ang);
                if err.abs() > 2.0 || ang > 1.0 {
                    failures.push(format!(
                        "leg {}: radius error {err:.2} %, angle {ang:.3}°",
                        leg.id
                    ));
                }
            }
            None => {
                println!(
                    "  run {:>2} leg {:>2}: r {:.3} m, {:5.1} m, {:>6} pts → NOT FOUND",
                    leg.run_id, leg.id, leg.radius_m, len, pts
                );
                failures.push(format!("leg {} of run {} not found", leg.id, leg.run_id));
            }
        }
    }
    // Every detected run is some truth leg (not a support, not an invention).
    for run in &det.runs {
        let hit = truth
            .pipes
            .iter()
            .any(|leg| overlap(run, leg.start, leg.end, leg.radius_m).is_some());
        if !hit {
            failures.push(format!(
                "run {} (r {:.3} m, {:.2} m) matches no truth leg",
                run.id, run.radius_m, run.length_m
            ));
        }
    }
    // Posts are supports: vertical, near a truth support axis.
    let mut posts_on_supports = 0;
    for p in &det.posts {
        let near = truth.supports.iter().any(|sp| {
            let d = unit(sub(sp.top, sp.base));
            line_dist(p.start, sp.base, d) < 0.1 && line_dist(p.end, sp.base, d) < 0.1
        });
        posts_on_supports += near as usize;
    }
    println!(
        "  posts: {} of {} on a truth support (supports in truth: {}), radii {:?}",
        posts_on_supports,
        det.posts.len(),
        truth.supports.len(),
        det.posts
            .iter()
            .map(|p| (p.radius_m * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    // Point labels: precision of run labels against truth parts.
    let part = cloud.extra("truth_part").unwrap();
    let (mut labelled, mut correct, mut pipe_pts, mut pipe_found) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..cloud.len() {
        let is_pipe = part.get(i) as u8 == synth::PART_PIPE;
        pipe_pts += is_pipe as u64;
        if det.point_run[i] != 0 {
            labelled += 1;
            correct += is_pipe as u64;
            pipe_found += is_pipe as u64;
        }
    }
    let precision = correct as f64 / labelled.max(1) as f64;
    let recall = pipe_found as f64 / pipe_pts.max(1) as f64;
    println!(
        "  pipe point labels: precision {:.2} %, recall {:.2} %",
        100.0 * precision,
        100.0 * recall
    );
    if precision < 0.98 {
        failures.push(format!("label precision {precision:.3}"));
    }
    assert!(
        failures.is_empty(),
        "[{label}] {} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    s
}

fn report(label: &str, all: &[Summary]) {
    let legs: usize = all.iter().map(|s| s.legs).sum();
    let found: usize = all.iter().map(|s| s.found).sum();
    let r = all.iter().map(|s| s.max_radius_err_pct).fold(0.0, f64::max);
    let a = all.iter().map(|s| s.max_angle_deg).fold(0.0, f64::max);
    println!(
        "{label}: {found}/{legs} legs found over {} scenes; worst radius error {r:.2} %, worst axis angle {a:.3}°",
        all.len()
    );
}

#[test]
fn terrestrial_scan_pipes() {
    let mut all = Vec::new();
    for seed in seeds() {
        let (cloud, truth) = simulate(
            scene(seed, 0.05),
            ScanPattern::Terrestrial(TerrestrialOptions {
                stations: vec![[-15.0, -15.0], [15.0, -15.0], [-15.0, 15.0], [15.0, 15.0]],
                angular_step_deg: 0.15,
                ..Default::default()
            }),
        );
        let label = format!("TLS seed {seed}");
        println!("{label}: {} points", cloud.len());
        let det = detect(&cloud);
        all.push(evaluate(&label, &cloud, &truth, &det));
    }
    report("TLS", &all);
}

#[test]
fn airborne_scan_pipes() {
    let mut all = Vec::new();
    for seed in seeds() {
        let (cloud, truth) = simulate(
            scene(seed, 0.15),
            ScanPattern::Airborne(AirborneOptions {
                altitude_m: 40.0,
                target_density_per_m2: Some(600.0),
                ..Default::default()
            }),
        );
        let label = format!("ALS seed {seed}");
        println!("{label}: {} points", cloud.len());
        let det = detect(&cloud);
        all.push(evaluate(&label, &cloud, &truth, &det));
    }
    report("ALS", &all);
}

/// Robustness: vegetation left in the input (a forest of 300 stems/ha around the pipes, only
/// ground masked). Crowns must not become pipe runs (the sharpness and hollowness tests), stems
/// come out as posts, and most legs are still found; every leg found meets the bounds.
#[test]
fn airborne_pipes_with_vegetation_left_in() {
    let mut sc = scene(1, 0.15);
    sc.trees.density_per_ha = 300.0;
    let (cloud, truth) = simulate(
        sc,
        ScanPattern::Airborne(AirborneOptions {
            altitude_m: 40.0,
            target_density_per_m2: Some(600.0),
            ..Default::default()
        }),
    );
    println!(
        "ALS forest + pipes: {} points, {} trees",
        cloud.len(),
        truth.trees.len()
    );
    let det = detect(&cloud);
    let mut found = 0;
    for leg in &truth.pipes {
        let d = unit(sub(leg.end, leg.start));
        let best = det
            .runs
            .iter()
            .filter_map(|r| overlap(r, leg.start, leg.end, leg.radius_m).map(|o| (o, r)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, run)) = best {
            let (ra, rb) = run_ends(run);
            let err = 100.0 * (run.radius_m - leg.radius_m) / leg.radius_m;
            let ang = dot(unit(sub(rb, ra)), d).abs().min(1.0).acos().to_degrees();
            println!(
                "  leg {:>2}: r {:.3} m → radius error {err:+.2} %, axis angle {ang:.3}°",
                leg.id, leg.radius_m
            );
            assert!(err.abs() <= 2.0 && ang <= 1.0);
            found += 1;
        } else {
            println!("  leg {:>2}: r {:.3} m → not found", leg.id, leg.radius_m);
        }
    }
    let spurious = det
        .runs
        .iter()
        .filter(|r| {
            !truth
                .pipes
                .iter()
                .any(|leg| overlap(r, leg.start, leg.end, leg.radius_m).is_some())
        })
        .count();
    println!(
        "  {found}/{} legs found, {spurious} spurious runs, {} posts",
        truth.pipes.len(),
        det.posts.len()
    );
    assert_eq!(spurious, 0, "crowns became pipe runs");
    assert!(4 * found >= 3 * truth.pipes.len(), "found {found}");
}
