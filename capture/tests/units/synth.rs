//! Tests of `capture::synth` (src/synth/mod.rs).
//! Truth-vs-cloud tests of the simulator.

#![allow(clippy::needless_range_loop)]
use capture::*;

use std::collections::HashMap;

use capture::las_io::LasWriteOptions;
use capture::progress::NoProgress;
use capture::read::ReadOptions;
use capture::synth::*;

fn col_u32(cloud: &PointCloud, name: &str) -> Vec<u32> {
    cloud
        .extra(name)
        .unwrap()
        .values()
        .into_iter()
        .map(|v| v as u32)
        .collect()
}

fn small_scene(seed: u64) -> SceneOptions {
    SceneOptions {
        seed,
        width_m: 50.0,
        depth_m: 50.0,
        ..Default::default()
    }
}

fn als(target_density: f64) -> ScanPattern {
    ScanPattern::Airborne(AirborneOptions {
        target_density_per_m2: Some(target_density),
        ..Default::default()
    })
}

fn simulate(scene: SceneOptions, scan: ScanPattern) -> SynthOutput {
    run(
        &SynthOptions {
            scene,
            scan,
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap()
}

/// Algebraic (Kåsa) circle fit: minimises Σ(x² + y² + Dx + Ey + F)². Returns centre, radius.
fn kasa_fit(pts: &[[f64; 2]]) -> ([f64; 2], f64) {
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p[0]).sum::<f64>() / n;
    let my = pts.iter().map(|p| p[1]).sum::<f64>() / n;
    // Normal equations of [x y 1]·[D E F]ᵀ = −(x² + y²) in centred coordinates.
    let mut a = [[0.0f64; 3]; 3];
    let mut b = [0.0f64; 3];
    for p in pts {
        let (x, y) = (p[0] - mx, p[1] - my);
        let row = [x, y, 1.0];
        let rhs = -(x * x + y * y);
        for i in 0..3 {
            for j in 0..3 {
                a[i][j] += row[i] * row[j];
            }
            b[i] += row[i] * rhs;
        }
    }
    // Gaussian elimination with partial pivoting.
    for c in 0..3 {
        let piv = (c..3)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, piv);
        b.swap(c, piv);
        for r in c + 1..3 {
            let f = a[r][c] / a[c][c];
            for k in c..3 {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut s = [0.0f64; 3];
    for r in (0..3).rev() {
        let mut v = b[r];
        for k in r + 1..3 {
            v -= a[r][k] * s[k];
        }
        s[r] = v / a[r][r];
    }
    let (cx, cy) = (-0.5 * s[0], -0.5 * s[1]);
    let r = (cx * cx + cy * cy - s[2]).sqrt();
    ([cx + mx, cy + my], r)
}

#[test]
fn kasa_fit_recovers_a_half_circle() {
    let pts: Vec<[f64; 2]> = (0..50)
        .map(|k| {
            let a = std::f64::consts::PI * k as f64 / 49.0;
            [3.0 + 0.2 * a.cos(), -1.0 + 0.2 * a.sin()]
        })
        .collect();
    let (c, r) = kasa_fit(&pts);
    assert!((c[0] - 3.0).abs() < 1e-9 && (c[1] + 1.0).abs() < 1e-9 && (r - 0.2).abs() < 1e-9);
}

#[test]
fn synth_same_seed_same_output_different_seed_differs() {
    let scan = als(20.0);
    let a = simulate(small_scene(7), scan.clone());
    let b = simulate(small_scene(7), scan.clone());
    assert_eq!(a.cloud, b.cloud);
    assert_eq!(a.truth, b.truth);
    let c = simulate(small_scene(8), scan);
    assert_ne!(a.truth.trees, c.truth.trees);
    assert_ne!(a.cloud.positions, c.cloud.positions);
    // Same layout, different sampling is impossible: the scan stream also follows the seed.
    assert_ne!(a.truth.terrain, c.truth.terrain);
}

#[test]
fn synth_is_independent_of_thread_count() {
    let scan = als(15.0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| simulate(small_scene(12), scan.clone()));
    let many = simulate(small_scene(12), scan);
    assert_eq!(one.cloud, many.cloud);
    assert_eq!(one.truth, many.truth);
}

#[test]
fn synth_options_have_serde_defaults() {
    let o: SynthOptions = serde_json::from_str("{}").unwrap();
    assert_eq!(o, SynthOptions::default());
    let o: SynthOptions =
        serde_json::from_str(r#"{"scene":{"seed":5,"pipes":{"count":2}},"scan":{"kind":"terrestrial","angular_step_deg":0.2}}"#)
            .unwrap();
    assert_eq!(o.scene.seed, 5);
    assert_eq!(o.scene.pipes.count, 2);
    assert_eq!(o.scene.width_m, 100.0);
    let ScanPattern::Terrestrial(t) = &o.scan else {
        panic!("{:?}", o.scan)
    };
    assert_eq!(t.angular_step_deg, 0.2);
    assert_eq!(t.stations, vec![[0.0, 0.0]]);
    let back: SynthOptions = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
    assert_eq!(back, o);
}

#[test]
fn synth_als_truth_matches_cloud() {
    let out = simulate(small_scene(3), als(80.0));
    let cloud = &out.cloud;
    let truth = &out.truth;
    cloud.check_columns().unwrap();
    let ids = col_u32(cloud, TRUTH_ID_COLUMN);
    let parts = col_u32(cloud, TRUTH_PART_COLUMN);
    let class = cloud.classification.as_ref().unwrap();
    let rn = cloud.return_number.as_ref().unwrap();
    let nr = cloud.number_of_returns.as_ref().unwrap();
    let gps = cloud.gps_time.as_ref().unwrap();
    assert!(cloud.gps_standard_time);
    let sigma = 0.02;
    // Ground points lie on the analytic terrain within the (truncated) noise.
    let lip = truth
        .terrain
        .waves
        .iter()
        .map(|w| w.amplitude_m * 2.0 * std::f64::consts::PI / w.wavelength_m)
        .sum::<f64>()
        + truth.terrain.slope[0].hypot(truth.terrain.slope[1]);
    let mut ground = 0;
    let mut sq = 0.0;
    for i in 0..cloud.len() {
        let part = parts[i] as u8;
        let expected_class = match part {
            PART_TERRAIN => CLASS_GROUND,
            PART_STEM | PART_CROWN => CLASS_VEGETATION,
            _ => CLASS_PIPE,
        };
        assert_eq!(class[i], expected_class);
        if part == PART_TERRAIN {
            assert_eq!(ids[i], 0);
            let p = cloud.absolute(i);
            let dz = p[2] - truth.ground_height(p[0], p[1]);
            assert!(
                dz.abs() <= 3.0 * sigma * (1.0 + lip) + 1e-3,
                "ground dz {dz}"
            );
            sq += dz * dz;
            ground += 1;
        } else {
            assert!(truth.tree(ids[i]).is_some());
        }
    }
    let rms = (sq / ground as f64).sqrt();
    assert!(
        ground > 1000 && rms > 0.3 * sigma && rms < 1.5 * sigma,
        "{ground} {rms}"
    );

    // Returns are consistent: 1..=n in order within each pulse, shared GPS time.
    let mut multi = 0;
    let mut i = 0;
    while i < cloud.len() {
        let n = nr[i] as usize;
        assert!((1..=4).contains(&n));
        for k in 0..n {
            assert_eq!(rn[i + k] as usize, k + 1, "point {}", i + k);
            assert_eq!(nr[i + k] as usize, n);
            assert_eq!(gps[i + k], gps[i]);
        }
        if n >= 2 {
            multi += 1;
            // Returns are separated by at least the receiver dead zone (less the noise).
            for k in 1..n {
                let a = cloud.absolute(i + k - 1);
                let b = cloud.absolute(i + k);
                let d =
                    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
                assert!(d >= 0.8 - 6.0 * sigma - 1e-3, "return separation {d}");
            }
        }
        if i > 0 {
            assert!(gps[i] > gps[i - 1], "GPS time increases with pulse index");
        }
        i += n;
    }
    let pulses = truth.scan.pulses_with_returns as usize;
    assert!(
        multi * 10 > pulses,
        "{multi} multi-return pulses of {pulses}"
    );
    // Crowns give multiple returns with crown points as first returns.
    assert!((0..cloud.len()).any(|i| rn[i] == 1 && nr[i] >= 3 && parts[i] as u8 == PART_CROWN));

    // Tree heights: the highest point of each well-sampled tree is its top.
    let mut top: HashMap<u32, f64> = HashMap::new();
    let mut count: HashMap<u32, usize> = HashMap::new();
    for i in 0..cloud.len() {
        if ids[i] != 0 {
            let z = cloud.absolute(i)[2];
            let e = top.entry(ids[i]).or_insert(f64::NEG_INFINITY);
            *e = e.max(z);
            *count.entry(ids[i]).or_insert(0) += 1;
        }
    }
    let mut checked = 0;
    for t in &truth.trees {
        let Some(&n) = count.get(&t.id) else { continue };
        assert_eq!(
            n as u64,
            truth.counts.trees[t.id as usize - 1].stem_points
                + truth.counts.trees[t.id as usize - 1].crown_points
        );
        if n < 100 {
            continue;
        }
        let h = top[&t.id] - t.ground_z;
        assert!(
            h <= t.height_m + 3.0 * sigma + 1e-3,
            "tree {} above its top: {h} > {}",
            t.id,
            t.height_m
        );
        assert!(
            (h - t.height_m).abs() < 0.5,
            "tree {}: highest point {h:.2} m, truth {:.2} m",
            t.id,
            t.height_m
        );
        checked += 1;
    }
    assert!(
        checked * 10 >= truth.trees.len() * 8,
        "{checked} of {}",
        truth.trees.len()
    );
}

#[test]
fn synth_tls_stems_fit_dbh() {
    let mut scene = small_scene(11);
    scene.width_m = 40.0;
    scene.depth_m = 40.0;
    let scan = ScanPattern::Terrestrial(TerrestrialOptions {
        angular_step_deg: 0.1,
        min_elevation_deg: -40.0,
        max_elevation_deg: 30.0,
        ..Default::default()
    });
    let out = simulate(scene, scan);
    let cloud = &out.cloud;
    let truth = &out.truth;
    let ids = col_u32(cloud, TRUTH_ID_COLUMN);
    let parts = col_u32(cloud, TRUTH_PART_COLUMN);
    assert!(cloud.gps_time.is_none());
    assert!(
        cloud
            .number_of_returns
            .as_ref()
            .unwrap()
            .iter()
            .all(|&n| n == 1)
    );
    let mut slices: HashMap<u32, Vec<[f64; 2]>> = HashMap::new();
    for i in 0..cloud.len() {
        if parts[i] as u8 != PART_STEM {
            continue;
        }
        let t = truth.tree(ids[i]).unwrap();
        let p = cloud.absolute(i);
        let h = p[2] - t.ground_z;
        if (1.2..=1.4).contains(&h) {
            slices.entry(t.id).or_default().push([p[0], p[1]]);
        }
        // Every stem point lies on the tapered stem surface (radius at its height).
        let r_at = 0.005 * t.dbh_cm * (t.height_m - h) / (t.height_m - 1.3);
        let r = (p[0] - t.x).hypot(p[1] - t.y);
        assert!(
            (r - r_at).abs() <= 3.0 * 0.003 + 1e-4,
            "stem point off surface: {r} vs {r_at}"
        );
    }
    let mut fitted = 0;
    for (id, pts) in &slices {
        // The algebraic fit is biased towards small circles on sparse half-arcs; fit only
        // well-sampled slices, as a DBH pipeline would.
        if pts.len() < 100 {
            continue;
        }
        let t = truth.tree(*id).unwrap();
        let (c, r) = kasa_fit(pts);
        let d_cm = 200.0 * r;
        assert!(
            (d_cm - t.dbh_cm).abs() < 1.0,
            "tree {id}: fitted DBH {d_cm:.2} cm, truth {:.2} cm ({} points)",
            t.dbh_cm,
            pts.len()
        );
        assert!((c[0] - t.x).hypot(c[1] - t.y) < 0.01);
        fitted += 1;
    }
    assert!(fitted >= 5, "only {fitted} stems fitted");
}

#[test]
fn synth_pipe_points_lie_on_the_pipes() {
    let mut scene = small_scene(5);
    scene.trees.density_per_ha = 100.0;
    scene.pipes.count = 4;
    for (scan, sigma) in [
        (als(80.0), 0.02),
        (
            ScanPattern::Terrestrial(TerrestrialOptions {
                angular_step_deg: 0.3,
                stations: vec![[-10.0, -10.0], [10.0, 10.0]],
                ..Default::default()
            }),
            0.003,
        ),
    ] {
        let out = simulate(scene.clone(), scan);
        let cloud = &out.cloud;
        let truth = &out.truth;
        assert!(!truth.pipes.is_empty() && !truth.supports.is_empty());
        let ids = col_u32(cloud, TRUTH_ID_COLUMN);
        let parts = col_u32(cloud, TRUTH_PART_COLUMN);
        let mut on_pipe = 0;
        let mut on_support = 0;
        for i in 0..cloud.len() {
            let p = cloud.absolute(i);
            match (parts[i] as u8, truth.ids.decode(ids[i])) {
                (PART_PIPE, TruthObject::Pipe(id)) => {
                    let s = truth.pipe(id).unwrap();
                    let d = seg_dist(p, s.start, s.end);
                    assert!(
                        (d - s.radius_m).abs() <= 3.0 * sigma + 1e-4,
                        "pipe {id}: distance {d} vs radius {}",
                        s.radius_m
                    );
                    assert_eq!(cloud.classification.as_ref().unwrap()[i], CLASS_PIPE);
                    on_pipe += 1;
                }
                (PART_SUPPORT, TruthObject::Support(id)) => {
                    let s = &truth.supports[id as usize - 1];
                    let d = (p[0] - s.base[0]).hypot(p[1] - s.base[1]);
                    assert!((d - s.radius_m).abs() <= 3.0 * sigma + 1e-4);
                    assert!(p[2] >= s.base[2] - 3.0 * sigma && p[2] <= s.top[2] + 3.0 * sigma);
                    on_support += 1;
                }
                (PART_PIPE | PART_SUPPORT, o) => panic!("part/id mismatch {o:?}"),
                _ => {}
            }
        }
        assert_eq!(on_pipe as u64, truth.counts.pipe);
        assert!(on_pipe > 200 && on_support > 0, "{on_pipe} {on_support}");
    }
}

fn seg_dist(p: [f64; 3], a: [f64; 3], b: [f64; 3]) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    let l2 = ab.iter().map(|v| v * v).sum::<f64>();
    let s = ((ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / l2).clamp(0.0, 1.0);
    let q = [ap[0] - s * ab[0], ap[1] - s * ab[1], ap[2] - s * ab[2]];
    q.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[test]
fn synth_target_points_within_ten_percent() {
    for target in [30_000u64, 120_000] {
        let scan = ScanPattern::Airborne(AirborneOptions {
            target_points: Some(target),
            ..Default::default()
        });
        let out = simulate(small_scene(21), scan);
        let n = out.cloud.len() as f64;
        assert!(
            (n / target as f64 - 1.0).abs() < 0.1,
            "{n} points for target {target}"
        );
        assert_eq!(out.truth.point_count, out.cloud.len() as u64);
    }
    let scan = ScanPattern::Terrestrial(TerrestrialOptions {
        target_points: Some(50_000),
        ..Default::default()
    });
    let out = simulate(small_scene(21), scan);
    let n = out.cloud.len() as f64;
    assert!(
        (n / 50_000.0 - 1.0).abs() < 0.1,
        "TLS: {n} points for 50000"
    );
}

#[test]
fn synth_las_round_trip_keeps_truth_columns() {
    let out = simulate(small_scene(4), als(10.0));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synth.laz");
    capture::las_io::write(
        &out.cloud,
        &path,
        &LasWriteOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let back = capture::read::read(
        &path,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(back.len(), out.cloud.len());
    assert_eq!(
        col_u32(&back, TRUTH_ID_COLUMN),
        col_u32(&out.cloud, TRUTH_ID_COLUMN)
    );
    assert_eq!(
        col_u32(&back, TRUTH_PART_COLUMN),
        col_u32(&out.cloud, TRUTH_PART_COLUMN)
    );
    assert_eq!(back.classification, out.cloud.classification);
    assert_eq!(back.gps_time, out.cloud.gps_time);
    assert_eq!(back.crs.epsg, Some(32633));
    for i in (0..back.len()).step_by(97) {
        let (a, b) = (back.absolute(i), out.cloud.absolute(i));
        assert!((0..3).all(|k| (a[k] - b[k]).abs() < 0.0006));
    }
    // The capture time survives through the points' GPS time.
    let src = &back.provenance.sources[0];
    let t = src.capture_time.as_ref().unwrap();
    assert_eq!(t.source, TimeSource::GpsTime);
    let sim = out.cloud.provenance.sources[0]
        .capture_time
        .as_ref()
        .unwrap();
    assert!((t.start - sim.start).num_milliseconds().abs() < 1000);
}

#[test]
fn synth_truth_json_round_trip_and_hash() {
    let out = simulate(small_scene(9), als(5.0));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truth.json");
    write_truth(&out.truth, &path).unwrap();
    let back = read_truth(&path).unwrap();
    // serde_json parses floats to within an ulp (its `float_roundtrip` feature is off), so
    // compare the JSON trees with a relative tolerance.
    let a = serde_json::to_value(&back).unwrap();
    let b = serde_json::to_value(&out.truth).unwrap();
    assert!(json_close(&a, &b), "truth changed in the JSON round trip");
    assert_eq!(back.counts, out.truth.counts);
    assert_eq!(back.trees.len(), out.truth.trees.len());
    let (sha, size) = capture::hash::sha256_file(&path).unwrap();
    let src = &out.cloud.provenance.sources[0];
    assert_eq!(src.sha256, sha);
    assert_eq!(src.size_bytes, size);
    assert_eq!(src.format, "synthetic");
    assert!(
        src.generating_software
            .as_deref()
            .unwrap()
            .starts_with("TwinMint scan simulator")
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(json["trees"][0]["species_group"].is_string());
    // The serialised terrain evaluates to the same heights.
    let scene = Scene::generate(&back.scene).unwrap();
    assert!(json_close(
        &serde_json::to_value(&scene.trees).unwrap(),
        &serde_json::to_value(&back.trees).unwrap()
    ));
    let (x, y) = (back.trees[0].x, back.trees[0].y);
    assert!((back.ground_height(x, y) - scene.ground_height(x, y)).abs() < 1e-9);
    assert!((back.trees[0].ground_z - scene.ground_height(x, y)).abs() < 1e-9);
}

fn json_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-14 * x.abs().max(y.abs()) || x == y
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_close(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn synth_cancel_and_progress() {
    let cancel = CancelToken::new();
    cancel.cancel();
    let opts = SynthOptions {
        scene: small_scene(1),
        ..Default::default()
    };
    assert!(matches!(
        run(&opts, &mut NoProgress, &cancel),
        Err(CaptureError::Cancelled)
    ));
    let mut events = Vec::new();
    let mut sink = |e: ProgressEvent| events.push(e);
    let out = run(&opts, &mut sink, &CancelToken::new()).unwrap();
    assert!(!events.is_empty());
    assert!(events.windows(2).all(|w| w[0].points <= w[1].points));
    let last = events.last().unwrap();
    assert_eq!(last.points, out.cloud.len() as u64);
    assert_eq!(last.total_points, Some(out.cloud.len() as u64));
}

#[test]
fn synth_rejects_bad_options() {
    let mut o = small_scene(1);
    o.width_m = -3.0;
    assert!(Scene::generate(&o).is_err());
    let mut o = small_scene(1);
    o.trees.max_height_m = 5.0;
    assert!(Scene::generate(&o).is_err());
    let scene = Scene::generate(&small_scene(1)).unwrap();
    let low = ScanPattern::Airborne(AirborneOptions {
        altitude_m: 10.0,
        ..Default::default()
    });
    assert!(scan_scene(&scene, &low, None, &mut NoProgress, &CancelToken::new()).is_err());
    let outside = ScanPattern::Terrestrial(TerrestrialOptions {
        stations: vec![[100.0, 0.0]],
        ..Default::default()
    });
    assert!(scan_scene(&scene, &outside, None, &mut NoProgress, &CancelToken::new()).is_err());
}

#[test]
fn synth_scene_is_plausible() {
    let scene = Scene::generate(&SceneOptions::default()).unwrap();
    // 300 stems/ha on one hectare (the hard-core process may fall a little short).
    assert!(
        scene.trees.len() >= 290 && scene.trees.len() <= 300,
        "{}",
        scene.trees.len()
    );
    let o = &scene.options.origin;
    for t in &scene.trees {
        assert!(scene.contains_xy(t.x, t.y));
        assert_eq!(t.ground_z, scene.ground_height(t.x, t.y));
        assert!(t.height_m >= 10.0 && t.height_m <= 28.0);
        assert!(t.dbh_cm > 5.0 && t.dbh_cm < 70.0, "{}", t.dbh_cm);
        assert!(t.crown_radius_m > 0.5 && t.crown_radius_m < 9.0);
        assert!(t.crown_base_height_m > 1.3 && t.crown_base_height_m < t.height_m);
    }
    let conifers = scene
        .trees
        .iter()
        .filter(|t| t.species_group == SpeciesGroup::Conifer)
        .count() as f64;
    assert!((conifers / scene.trees.len() as f64 - 0.6).abs() < 0.1);
    for a in &scene.trees {
        for b in &scene.trees {
            if a.id != b.id {
                assert!((a.x - b.x).hypot(a.y - b.y) >= 3.0);
            }
        }
    }
    // Relief: heights span several metres but stay within the declared bounds.
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for i in 0..=50 {
        for j in 0..=50 {
            let z = scene.ground_height(o[0] + 2.0 * i as f64, o[1] + 2.0 * j as f64);
            lo = lo.min(z);
            hi = hi.max(z);
        }
    }
    assert!(hi - lo > 3.0 && lo >= scene.terrain.min_z && hi <= scene.terrain.max_z);
}

#[test]
fn point_targets_over_the_cap_are_refused_before_the_scene() {
    let mut o = SynthOptions::default();
    assert!(o.validate().is_ok());
    if let ScanPattern::Airborne(a) = &mut o.scan {
        a.target_points = Some(1_000_000_000_000);
    }
    let e = run(&o, &mut NoProgress, &CancelToken::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("target_points") && e.contains("64000.0 GB") && e.contains("250 M"),
        "{e}"
    );
    o.scan = ScanPattern::Terrestrial(TerrestrialOptions {
        target_points: Some(MAX_SYNTH_POINTS + 1),
        ..Default::default()
    });
    assert!(o.validate().is_err());
    o.scan = ScanPattern::Terrestrial(TerrestrialOptions {
        target_points: Some(MAX_SYNTH_POINTS),
        ..Default::default()
    });
    assert!(o.validate().is_ok());
}
