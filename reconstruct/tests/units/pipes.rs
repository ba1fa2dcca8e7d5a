//! Tests of `reconstruct::pipes` (src/pipes/mod.rs).
use capture::{CancelToken, PointCloud};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reconstruct::pipes::geom::*;
use reconstruct::pipes::options::PipeOptions;
use reconstruct::pipes::refine::*;
use reconstruct::pipes::stems::*;
use reconstruct::pipes::*;

fn on_cylinder(c: &Cylinder, t: f64, phi: f64) -> V3 {
    let (u, v) = frame(c.dir);
    add(
        add(c.point, scale(c.dir, t)),
        add(
            scale(u, c.radius * phi.cos()),
            scale(v, c.radius * phi.sin()),
        ),
    )
}

#[test]
fn two_point_candidate_recovers_cylinder() {
    let c = Cylinder {
        point: [1.0, 2.0, 3.0],
        dir: normalize([1.0, 0.2, 0.1]),
        radius: 0.25,
    };
    let p1 = on_cylinder(&c, 0.3, 0.4);
    let p2 = on_cylinder(&c, -0.8, 2.0);
    let n1 = normalize(c.decompose(p1).1);
    let n2 = normalize(c.decompose(p2).1);
    let got = Cylinder::from_two(p1, n1, p2, n2, 0.1).unwrap();
    assert!((got.radius - 0.25).abs() < 1e-9);
    assert!(dot(got.dir, c.dir).abs() > 1.0 - 1e-12);
    assert!(norm(c.decompose(got.point).1) < 1e-9);
}

#[test]
fn refine_converges_from_a_rough_start() {
    let c = Cylinder {
        point: [0.0, 0.0, 0.0],
        dir: normalize([0.3, 1.0, 0.05]),
        radius: 0.15,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Half a cylinder (an airborne view), with noise.
    let pts: Vec<V3> = (0..3000)
        .map(|_| {
            let t = rng.random_range(-3.0..3.0);
            let phi = rng.random_range(0.0..std::f64::consts::PI);
            let p = on_cylinder(&c, t, phi);
            let e = rng.random_range(-0.004..0.004);
            add(p, scale(normalize(c.decompose(p).1), e))
        })
        .collect();
    let start = Cylinder {
        point: [0.03, -0.02, 0.01],
        dir: normalize([0.4, 1.0, 0.0]),
        radius: 0.2,
    };
    let (fit, rms) = refine(&pts, start, None, 50).unwrap();
    let ang = dot(fit.dir, c.dir).abs().min(1.0).acos().to_degrees();
    assert!(ang < 0.1, "angle {ang}");
    assert!((fit.radius - 0.15).abs() < 0.002, "radius {}", fit.radius);
    assert!(rms < 0.004);
}

/// The fit's parallel sums add in a fixed order, so the thread count changes no bit of
/// a fitted cylinder (a rayon `sum` on 1 vs 2 threads differs in the last bits, and a fit
/// stopped before full convergence carries that into the result).
#[test]
fn refine_is_bit_identical_on_any_pool() {
    let c = Cylinder {
        point: [0.0, 0.0, 0.0],
        dir: normalize([0.3, 1.0, 0.05]),
        radius: 0.15,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pts: Vec<V3> = (0..9000)
        .map(|_| {
            let t = rng.random_range(-3.0..3.0);
            let phi = rng.random_range(0.0..std::f64::consts::PI);
            let p = on_cylinder(&c, t, phi);
            let e = rng.random_range(-0.01..0.01);
            add(p, scale(normalize(c.decompose(p).1), e))
        })
        .collect();
    let start = Cylinder {
        point: [0.03, -0.02, 0.01],
        dir: normalize([0.4, 1.0, 0.0]),
        radius: 0.2,
    };
    let bits = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (f, rms) = refine(&pts, start, None, 3).unwrap();
            let sum = chunked_sum(&pts, |i, p| p[0] * p[1] + i as f64 * 1e-9);
            [f.point, f.dir, [f.radius, rms, sum]].map(|v| v.map(f64::to_bits))
        })
    };
    let one = bits(1);
    for threads in [2, 3, 4] {
        assert_eq!(bits(threads), one, "{threads} threads");
    }
}

#[test]
fn beam_residuals_remove_the_top_view_radius_bias() {
    // A horizontal pipe seen from above: hits uniform in x, range noise along the vertical
    // beam (σ = 2 cm, truncated at 3σ), as airborne LiDAR sees it.
    let c = Cylinder {
        point: [0.0, 0.0, 0.0],
        dir: [0.0, 1.0, 0.0],
        radius: 0.15,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut pts = Vec::new();
    while pts.len() < 20_000 {
        let x: f64 = rng.random_range(-0.15..0.15);
        let y: f64 = rng.random_range(-5.0..5.0);
        let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
        let e = 0.02 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        if e.abs() > 0.06 {
            continue;
        }
        pts.push([x, y, (0.15f64 * 0.15 - x * x).sqrt() + e]);
    }
    let (ortho, _) = refine(&pts, c, None, 50).unwrap();
    let up = vec![[0.0, 0.0, 1.0]; pts.len()];
    let (beam, _) = refine(&pts, c, Some(&up), 50).unwrap();
    let e_ortho = (ortho.radius - 0.15) / 0.15;
    let e_beam = (beam.radius - 0.15) / 0.15;
    eprintln!("ortho {e_ortho} beam {e_beam}");
    assert!(
        e_ortho < -0.02,
        "orthogonal fit should show the bias: {e_ortho}"
    );
    assert!(e_beam.abs() < 0.005, "beam fit radius error {e_beam}");
}

/// Points on the visible surface of a cylinder piece (full circumference), with noise.
fn sample(c: &Cylinder, a: f64, b: f64, per_m2: f64, rng: &mut ChaCha8Rng) -> Vec<V3> {
    let n = ((b - a) * 2.0 * std::f64::consts::PI * c.radius * per_m2) as usize;
    (0..n)
        .map(|_| {
            let t = rng.random_range(a..b);
            let phi = rng.random_range(0.0..2.0 * std::f64::consts::PI);
            let p = on_cylinder(c, t, phi);
            let e = rng.random_range(-0.002..0.002);
            add(p, scale(normalize(c.decompose(p).1), e))
        })
        .collect()
}

#[test]
fn tee_splits_the_main_run_and_a_bend_does_not() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let main = Cylinder {
        point: [0.0, 0.0, 2.0],
        dir: [1.0, 0.0, 0.0],
        radius: 0.15,
    };
    // Branch along +y ending on the main pipe's mantle at x = 1.
    let branch = Cylinder {
        point: [1.0, 0.0, 2.0],
        dir: [0.0, 1.0, 0.0],
        radius: 0.1,
    };
    // An L bend at the main pipe's far end: a leg along −y from x = 6.
    let leg = Cylinder {
        point: [6.0, 0.0, 2.0],
        dir: [0.0, -1.0, 0.0],
        radius: 0.15,
    };
    let mut pts = sample(&main, -5.0, 6.0, 3000.0, &mut rng);
    pts.extend(sample(&branch, 0.16, 5.0, 3000.0, &mut rng));
    pts.extend(sample(&leg, 0.16, 5.0, 3000.0, &mut rng));
    let cloud = PointCloud::from_absolute(&pts);
    let det = run(
        &cloud,
        None,
        &PipeOptions::default(),
        &mut capture::NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let mut summary: Vec<(i64, i64, i64)> = det
        .runs
        .iter()
        .map(|r| {
            let (a, b) = (r.segments[0].start, r.segments[r.segments.len() - 1].end);
            (
                (1000.0 * r.radius_m).round() as i64,
                a[0].min(b[0]).round() as i64,
                a[0].max(b[0]).round() as i64,
            )
        })
        .collect();
    summary.sort();
    // Main pipe split at the tee (x ≈ 1) into two runs; branch and bend leg one each.
    assert_eq!(det.runs.len(), 4, "{summary:?}");
    assert_eq!(
        summary.iter().filter(|s| s.0 == 150).count(),
        3,
        "{summary:?}"
    );
    assert!(summary.contains(&(100, 1, 1)), "{summary:?}");
    assert!(
        summary.iter().any(|s| s.0 == 150 && s.1 == -5 && s.2 == 1),
        "{summary:?}"
    );
    assert!(
        summary.iter().any(|s| s.0 == 150 && s.1 == 1 && s.2 == 6),
        "{summary:?}"
    );
}

#[test]
fn segment_distance_cases() {
    // Skew perpendicular segments 1 apart; parallel overlapping; end to end.
    let d = segment_distance(
        [0.0, 0.0, 0.0],
        [2.0, 0.0, 0.0],
        [1.0, -1.0, 1.0],
        [1.0, 1.0, 1.0],
    );
    assert!((d - 1.0).abs() < 1e-12);
    let d = segment_distance(
        [0.0, 0.0, 0.0],
        [2.0, 0.0, 0.0],
        [1.0, 0.5, 0.0],
        [3.0, 0.5, 0.0],
    );
    assert!((d - 0.5).abs() < 1e-12);
    let d = segment_distance(
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [3.0, 0.0, 0.0],
        [3.0, 0.0, 5.0],
    );
    assert!((d - 2.0).abs() < 1e-12);
    let p = [0.5, 0.5, 0.5];
    assert!((segment_distance(p, p, [0.0; 3], [0.0, 0.0, 1.0]) - 0.5f64.sqrt()).abs() < 1e-12);
}

/// A pipe 30° from vertical is a run in the open and a leaning stem under a crown.
#[test]
fn steep_cylinder_under_a_crown_is_a_stem() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let c = Cylinder {
        point: [0.0, 0.0, 1.0],
        dir: normalize([0.5, 0.0, 0.866]),
        radius: 0.12,
    };
    let mut abs = Vec::new();
    for _ in 0..4000 {
        let p = on_cylinder(&c, rng.random_range(0.0..4.0), rng.random_range(0.0..6.3));
        abs.push([p[0] + 500.0, p[1] + 800.0, p[2] + 50.0]);
    }
    let pipe_points = abs.len();
    for with_crown in [false, true] {
        let mut pts = abs.clone();
        if with_crown {
            // Foliage: 3 000 points in a 2.5 m ball centred 4 m above the top, drifting on.
            let top = add(c.point, scale(c.dir, 4.0));
            while pts.len() < pipe_points + 3000 {
                let q = [
                    rng.random_range(-2.5..2.5),
                    rng.random_range(-2.5..2.5),
                    rng.random_range(-2.5..2.5),
                ];
                if norm(q) <= 2.5 {
                    pts.push([
                        top[0] + 2.0 + q[0] + 500.0,
                        q[1] + 800.0,
                        top[2] + 4.0 + q[2] + 50.0,
                    ]);
                }
            }
        }
        let mut cloud = PointCloud::from_absolute(&pts);
        // The crown is vegetation (class 5): not a pipe candidate, but seen above the piece.
        cloud.classification = Some(
            (0..pts.len())
                .map(|i| if i < pipe_points { 1 } else { 5 })
                .collect(),
        );
        let det = run(
            &cloud,
            None,
            &PipeOptions::default(),
            &mut capture::NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        if with_crown {
            assert!(det.runs.is_empty(), "{:#?}", det.runs);
            assert_eq!(det.stems.len(), 1, "{:#?}", det.stems);
            assert!(det.stems[0].reason.starts_with("under a crown"));
            assert!((det.stems[0].tilt_deg - 30.0).abs() < 1.0);
        } else {
            assert_eq!(det.runs.len(), 1, "{:#?}", det.stems);
            assert!(det.stems.is_empty());
        }
        let off = PipeOptions {
            stems: None,
            ..Default::default()
        };
        let det = run(
            &cloud,
            None,
            &off,
            &mut capture::NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        assert_eq!(
            det.runs.len(),
            1,
            "without stem rejection the piece is a run"
        );
    }
}

#[test]
fn finds_two_pipes_and_a_post() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let cyls = [
        (
            Cylinder {
                point: [0.0, 0.0, 2.0],
                dir: [1.0, 0.0, 0.0],
                radius: 0.2,
            },
            -5.0,
            5.0,
        ),
        (
            Cylinder {
                point: [0.0, 3.0, 1.5],
                dir: normalize([1.0, 1.0, 0.0]),
                radius: 0.1,
            },
            -4.0,
            4.0,
        ),
        (
            Cylinder {
                point: [0.0, -2.0, 1.0],
                dir: [0.0, 0.0, 1.0],
                radius: 0.08,
            },
            -1.0,
            1.0,
        ),
    ];
    let mut abs = Vec::new();
    for (c, a, b) in &cyls {
        let n = ((b - a) * c.radius * 4000.0) as usize;
        for _ in 0..n {
            let t = rng.random_range(*a..*b);
            let phi = rng.random_range(0.0..2.0 * std::f64::consts::PI);
            let p = on_cylinder(c, t, phi);
            let e = rng.random_range(-0.003..0.003);
            let p = add(p, scale(normalize(c.decompose(p).1), e));
            abs.push([p[0] + 1000.0, p[1] + 2000.0, p[2] + 100.0]);
        }
    }
    let cloud = PointCloud::from_absolute(&abs);
    let det = run(
        &cloud,
        None,
        &PipeOptions::default(),
        &mut capture::NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(det.runs.len(), 2, "{:#?}", det.runs);
    assert_eq!(det.posts.len(), 1, "{:#?}", det.posts);
    assert!((det.runs[0].radius_m - 0.2).abs() < 0.004);
    assert!((det.runs[0].length_m - 10.0).abs() < 0.2);
    assert!((det.runs[1].radius_m - 0.1).abs() < 0.002);
    assert!((det.posts[0].radius_m - 0.08).abs() < 0.002);
    assert!(det.posts[0].end[2] > det.posts[0].start[2]);
    let labelled = det.point_run.iter().filter(|&&r| r > 0).count();
    assert!(labelled as f64 > 0.95 * (abs.len() as f64 - 1600.0));
}
