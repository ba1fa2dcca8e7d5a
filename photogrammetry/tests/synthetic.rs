//! A simulated drone flight with exact truth (capture::synth::photo): every photo registered;
//! camera positions after GPS-prior bundle adjustment with 2 m GPS noise; the dense cloud's
//! distance to the true visible surface and its completeness: camera positions within 5 cm of
//! the truth after a similarity alignment, the dense cloud's median distance to the true surface
//! ≤ 3 cm, and ≥ 80 % of the surface two photos see covered within 10 cm.

use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use photogrammetry::linalg::{M3, V3, mul, mulv, svd3, transpose};
use photogrammetry::mvs::{MvsOptions, dense_cpu};
use photogrammetry::{SfmOptions, SparseModel, run};

use capture::synth::photo::{PhotoFlightOptions, PhotoTruth, render_flight};
use capture::synth::scene::{PipeOptions, Scene, SceneOptions, TreeOptions};

/// Similarity (scale, rotation, translation) taking `a` onto `b` (Umeyama 1991).
fn similarity(a: &[V3], b: &[V3]) -> (f64, M3, V3) {
    let n = a.len() as f64;
    let ca: V3 = std::array::from_fn(|k| a.iter().map(|p| p[k]).sum::<f64>() / n);
    let cb: V3 = std::array::from_fn(|k| b.iter().map(|p| p[k]).sum::<f64>() / n);
    let mut h = [[0.0; 3]; 3];
    let mut va = 0.0;
    for (p, q) in a.iter().zip(b) {
        for i in 0..3 {
            va += (p[i] - ca[i]).powi(2);
            for j in 0..3 {
                h[i][j] += (p[i] - ca[i]) * (q[j] - cb[j]);
            }
        }
    }
    let (u, s, v) = svd3(&h);
    let mut d = [1.0, 1.0, 1.0];
    if photogrammetry::linalg::det(&mul(&v, &transpose(&u))) < 0.0 {
        d[2] = -1.0;
    }
    let vd: M3 = std::array::from_fn(|i| std::array::from_fn(|j| v[i][j] * d[j]));
    let r = mul(&vd, &transpose(&u));
    let scale = (s[0] * d[0] + s[1] * d[1] + s[2] * d[2]) / va;
    let rc = mulv(&r, &ca);
    let t = [
        cb[0] - scale * rc[0],
        cb[1] - scale * rc[1],
        cb[2] - scale * rc[2],
    ];
    (scale, r, t)
}

fn apply(sim: &(f64, M3, V3), p: &V3) -> V3 {
    let q = mulv(&sim.1, p);
    [
        sim.0 * q[0] + sim.2[0],
        sim.0 * q[1] + sim.2[1],
        sim.0 * q[2] + sim.2[2],
    ]
}

fn dist(a: &V3, b: &V3) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// A rendered flight over `scene` and its sparse model: the photo folder lives as long as the
/// returned temporary directory.
struct Flight {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    truth: PhotoTruth,
    model: SparseModel,
}

fn fly(scene: &SceneOptions, flight: &PhotoFlightOptions) -> Flight {
    let scene = Scene::generate(scene).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    let t = std::time::Instant::now();
    let truth = render_flight(&scene, flight, &dir).unwrap();
    eprintln!(
        "rendered {} photos in {:.1} s; focal {:.1} px",
        truth.cameras.len(),
        t.elapsed().as_secs_f64(),
        truth.focal_px
    );
    let model = run(
        &dir,
        &SfmOptions {
            target_crs: Some(capture::Crs::epsg(truth.crs_epsg)),
            max_side: flight.width_px.max(flight.height_px) as usize,
            ..Default::default()
        },
        &|_, _| {},
        &capture::CancelToken::new(),
    )
    .unwrap();
    eprintln!(
        "{:?}; mean error {:.3} px; focal {:.1}",
        model.stats, model.mean_error_px, model.intrinsics.focal_px
    );
    Flight {
        _tmp: tmp,
        dir,
        truth,
        model,
    }
}

/// Solved and true camera centres, paired by file.
fn centres(f: &Flight) -> (Vec<V3>, Vec<V3>) {
    f.model
        .cameras
        .iter()
        .map(|c| {
            let t = f.truth.cameras.iter().find(|t| t.file == c.file).unwrap();
            (c.pose.centre, t.centre)
        })
        .unzip()
}

#[test]
fn simulated_flight_is_recovered() {
    // 20 m over 4–9 m trees: a 5.3 cm ground sampling distance (drone forestry flights take
    // 2–3 cm with 20 MP cameras; 640 px photos keep the test's PatchMatch to minutes).
    let f = fly(
        &SceneOptions {
            seed: 3,
            width_m: 40.0,
            depth_m: 40.0,
            trees: TreeOptions {
                density_per_ha: 150.0,
                min_height_m: 4.0,
                max_height_m: 9.0,
                ..Default::default()
            },
            pipes: PipeOptions::default(),
            ..Default::default()
        },
        &PhotoFlightOptions {
            height_m: 20.0,
            width_px: 640,
            height_px: 480,
            margin_m: 10.0,
            gps_noise_m: 2.0,
            surface_stride: 1,
            ..Default::default()
        },
    );
    let (m, truth, dir) = (&f.model, &f.truth, &f.dir);
    assert!(
        m.cameras.iter().all(|c| c.registered),
        "not every photo registered"
    );
    let (solved, true_c) = centres(&f);
    let abs: Vec<f64> = solved
        .iter()
        .zip(&true_c)
        .map(|(a, b)| dist(a, b))
        .collect();
    let gps: Vec<f64> = truth
        .cameras
        .iter()
        .map(|c| dist(&c.gps_written, &c.centre))
        .collect();
    let sim = similarity(&solved, &true_c);
    let rel: Vec<f64> = solved
        .iter()
        .zip(&true_c)
        .map(|(a, b)| dist(&apply(&sim, a), b))
        .collect();
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    eprintln!(
        "camera position error: GPS written {:.2} m mean; solved {:.3} m mean, {:.3} max as georeferenced; {:.4} m mean, {:.4} max after a similarity (scale {:.5})",
        mean(&gps),
        mean(&abs),
        max(&abs),
        mean(&rel),
        max(&rel),
        sim.0
    );
    assert!(
        max(&rel) <= 0.05,
        "camera position error {:.3} m after alignment",
        max(&rel)
    );

    let t = std::time::Instant::now();
    let d = dense_cpu(
        dir,
        m,
        &MvsOptions {
            max_side: 640,
            ..Default::default()
        },
        &|_, _| {},
        &capture::CancelToken::new(),
    )
    .unwrap();
    eprintln!(
        "dense: {} points in {:.1} s",
        d.points.len(),
        t.elapsed().as_secs_f64()
    );
    let surface = &truth.surface;
    let tree: ImmutableKdTree<f64, u32, 3, 32> = ImmutableKdTree::new_from_slice(surface);
    let moved: Vec<V3> = d.points.iter().map(|p| apply(&sim, p)).collect();
    let mut acc: Vec<f64> = moved
        .iter()
        .map(|p| tree.nearest_one::<SquaredEuclidean>(p).distance.sqrt())
        .collect();
    acc.sort_by(f64::total_cmp);
    let median = acc[acc.len() / 2];
    let ours: ImmutableKdTree<f64, u32, 3, 32> = ImmutableKdTree::new_from_slice(&moved);
    // The surface two photos can see (inside both frames; occlusion ignored, which only keeps
    // more points in the denominator): one photo alone cannot place a point by any method.
    let (fw, fh) = (truth.width_px as f64, truth.height_px as f64);
    let in_frame = |c: &capture::synth::photo::TrueCamera, p: &V3| {
        let q = mulv(
            &c.rotation,
            &[p[0] - c.centre[0], p[1] - c.centre[1], p[2] - c.centre[2]],
        );
        if q[2] <= 0.0 {
            return false;
        }
        let u = truth.focal_px * q[0] / q[2] + (fw - 1.0) / 2.0;
        let v = truth.focal_px * q[1] / q[2] + (fh - 1.0) / 2.0;
        u >= 0.0 && v >= 0.0 && u <= fw - 1.0 && v <= fh - 1.0
    };
    let seen_twice: Vec<&V3> = surface
        .iter()
        .step_by(7)
        .filter(|p| truth.cameras.iter().filter(|c| in_frame(c, p)).count() >= 2)
        .collect();
    let covered = |tol: f64| {
        seen_twice
            .iter()
            .filter(|p| ours.nearest_one::<SquaredEuclidean>(p).distance <= tol * tol)
            .count() as f64
            / seen_twice.len() as f64
    };
    eprintln!(
        "dense accuracy: median {median:.4} m to the true surface; completeness {:.3} at 5 cm, {:.3} at 10 cm",
        covered(0.05),
        covered(0.10)
    );
    assert!(median <= 0.03, "median distance {median:.4} m");
    assert!(covered(0.10) >= 0.8, "completeness {:.3}", covered(0.10));
}

/// Nadir and oblique photos (a second pass at −60°) over a scene with pipe runs: every photo
/// registered, cameras within 5 cm of the truth after a similarity alignment.
#[test]
fn nadir_and_oblique_photos_over_pipes_register() {
    let f = fly(
        &SceneOptions {
            seed: 5,
            width_m: 40.0,
            depth_m: 40.0,
            trees: TreeOptions {
                density_per_ha: 60.0,
                min_height_m: 3.0,
                max_height_m: 6.0,
                ..Default::default()
            },
            pipes: PipeOptions {
                count: 3,
                ..Default::default()
            },
            ..Default::default()
        },
        &PhotoFlightOptions {
            height_m: 20.0,
            width_px: 640,
            height_px: 480,
            margin_m: 10.0,
            oblique_pitch_deg: Some(-60.0),
            seed: 2,
            ..Default::default()
        },
    );
    let (m, truth) = (&f.model, &f.truth);
    let registered = m.cameras.iter().filter(|c| c.registered).count();
    eprintln!(
        "{} photos ({} oblique): {registered} registered, mean error {:.3} px",
        truth.cameras.len(),
        truth.cameras.len() / 2,
        m.mean_error_px
    );
    assert_eq!(registered, truth.cameras.len());
    let (solved, true_c) = centres(&f);
    let sim = similarity(&solved, &true_c);
    let worst = solved
        .iter()
        .zip(&true_c)
        .map(|(a, b)| dist(&apply(&sim, a), b))
        .fold(0.0, f64::max);
    eprintln!("camera position error after a similarity: {worst:.4} m max");
    assert!(worst <= 0.05, "camera position error {worst:.3} m");
}
