//! The studio's renderer on the real scene: the bundled synthetic sample is imported,
//! reconstructed and simulated, then drawn offscreen with Bevy (lavapipe on CI) and captured
//! with `Screenshot`. One test function, so one renderer at a time on a 2-core machine.

mod common;

use std::path::PathBuf;

use common::sample_project;

use twinmint_app::studio::headless::{self, Frame, Shot};
use twinmint_app::studio::points_render::{PointSettings, Rasterizer};
use twinmint_app::studio::project::open_project;
use twinmint_app::studio::scene::Layers;
use twinmint_app::viewer::colormap::{ColorMode, distance_to_viridis};

const BG: [u8; 3] = [0x12, 0x14, 0x1a];

fn is_background(p: &image::Rgba<u8>) -> bool {
    (0..3).all(|k| (p[k] as i32 - BG[k] as i32).abs() <= 3)
}

fn coverage(f: &Frame) -> f64 {
    let n = f.image.pixels().filter(|p| !is_background(p)).count();
    n as f64 / (f.image.width() * f.image.height()) as f64
}

fn differs(a: &image::Rgba<u8>, b: &image::Rgba<u8>, tol: i32) -> bool {
    (0..3).any(|k| (a[k] as i32 - b[k] as i32).abs() > tol)
}

#[test]
fn renders_the_sample_with_both_rasterisers_and_the_timelapse() {
    let tmp = tempfile::tempdir().unwrap();
    let project = sample_project(tmp.path());
    let opened = open_project(&project, &|_, _| {}, &Default::default()).expect("open");
    assert!(opened.scene.simulation.is_some() && opened.scene.reconstruction.is_some());

    // The home view, moved in so the plot fills the frame.
    let (home, focus) = twinmint_app::studio::home_view(&opened, 1.6);
    let close = home.with_translation(focus + (home.translation - focus) * 0.6);
    let flat = |r: Rasterizer| Shot {
        camera: Some(close),
        color_mode: ColorMode::Height,
        points: PointSettings {
            rasterizer: r,
            edl_strength: 0.0,
            point_size: 2.0,
            ..Default::default()
        },
        ..Default::default()
    };
    let trees = |year: Option<i32>, with_trees: bool| Shot {
        year,
        hide_vegetation: true,
        layers: Layers {
            trees: with_trees,
            terrain: true,
            ..Default::default()
        },
        ..flat(Rasterizer::Quads)
    };
    let y0 = opened.scene.simulation.as_ref().unwrap().stand.year[0];
    let shots = vec![
        flat(Rasterizer::Quads),
        flat(Rasterizer::Compute),
        Shot {
            points: PointSettings {
                point_size: 2.0,
                ..Default::default()
            },
            ..flat(Rasterizer::Auto)
        },
        trees(Some(y0), true),
        trees(Some(y0 + 30), true),
        trees(Some(y0), false),
        Shot {
            layers: Layers {
                points: false,
                pipes: false,
                ..Default::default()
            },
            ..flat(Rasterizer::Quads)
        },
    ];
    let frames = headless::render(&opened, &shots).expect("render");
    let out = std::env::var_os("TWINMINT_TEST_OUT").map(PathBuf::from);
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).unwrap();
        for (i, f) in frames.iter().enumerate() {
            f.image.save(dir.join(format!("studio-{i}.png"))).unwrap();
        }
    }
    let [quads, compute, edl, year0, year30, no_trees, hidden] = &frames[..] else {
        panic!("seven frames");
    };

    // The cloud fills most of the view, in viridis (height colours).
    let cov = coverage(quads);
    eprintln!("coverage {:.1}%", cov * 100.0);
    assert!(
        cov > 0.5,
        "only {:.1}% of pixels show the cloud",
        cov * 100.0
    );
    let fg: Vec<_> = quads.image.pixels().filter(|p| !is_background(p)).collect();
    let on_ramp = fg
        .iter()
        .filter(|p| distance_to_viridis([p[0], p[1], p[2]]) < 12.0)
        .count();
    eprintln!(
        "{:.1}% of cloud pixels on the viridis ramp",
        100.0 * on_ramp as f64 / fg.len() as f64
    );
    assert!(on_ramp as f64 > 0.95 * fg.len() as f64);

    // Hiding the point layer draws no points.
    assert!(
        coverage(hidden) < 0.001,
        "hidden points still cover {:.3}",
        coverage(hidden)
    );

    // The compute rasteriser (64-bit atomics) draws the same picture.
    let require = std::env::var("TWINMINT_REQUIRE_GPU").is_ok_and(|v| v == "1");
    if compute.compute_available {
        let total = (quads.image.width() * quads.image.height()) as usize;
        let agree = quads
            .image
            .pixels()
            .zip(compute.image.pixels())
            .filter(|(a, b)| !differs(a, b, 6))
            .count();
        eprintln!(
            "quad vs compute: {:.2}% of pixels agree",
            100.0 * agree as f64 / total as f64
        );
        assert!(agree as f64 > 0.97 * total as f64);
    } else {
        assert!(
            !require,
            "the adapter lacks SHADER_INT64_ATOMIC_MIN_MAX; TWINMINT_REQUIRE_GPU=1"
        );
    }

    // Eye-Dome Lighting darkens edges: same coverage, darker on average.
    let lum = |f: &Frame| -> f64 {
        let fg: Vec<f64> = f
            .image
            .pixels()
            .filter(|p| !is_background(p))
            .map(|p| p[0] as f64 + p[1] as f64 + p[2] as f64)
            .collect();
        fg.iter().sum::<f64>() / fg.len().max(1) as f64
    };
    assert!(
        (coverage(edl) - cov).abs() < 0.05,
        "EDL coverage {:.3} vs {cov:.3}",
        coverage(edl)
    );
    assert!(
        lum(edl) < 0.97 * lum(quads),
        "EDL {} vs flat {}",
        lum(edl),
        lum(quads)
    );

    // Time-lapse: year 0 and year 30 differ, and only where trees are.
    let tree_px = |f: &Frame| -> Vec<bool> {
        f.image
            .pixels()
            .zip(no_trees.image.pixels())
            .map(|(a, b)| differs(a, b, 4))
            .collect()
    };
    let (t0, t30) = (tree_px(year0), tree_px(year30));
    let changed: Vec<usize> = year0
        .image
        .pixels()
        .zip(year30.image.pixels())
        .enumerate()
        .filter(|(_, (a, b))| differs(a, b, 4))
        .map(|(i, _)| i)
        .collect();
    let total = (year0.image.width() * year0.image.height()) as usize;
    eprintln!(
        "time-lapse: {:.1}% of pixels changed between year 0 and 30; trees cover {:.1}% → {:.1}%",
        100.0 * changed.len() as f64 / total as f64,
        100.0 * t0.iter().filter(|&&b| b).count() as f64 / total as f64,
        100.0 * t30.iter().filter(|&&b| b).count() as f64 / total as f64
    );
    assert!(
        changed.len() > total / 50,
        "growth should change at least 2% of the picture"
    );
    let on_trees = changed.iter().filter(|&&i| t0[i] || t30[i]).count();
    assert!(
        on_trees as f64 > 0.98 * changed.len() as f64,
        "changes outside the trees"
    );
    assert!(
        t30.iter().filter(|&&b| b).count() > t0.iter().filter(|&&b| b).count(),
        "trees grow: they cover more of the picture in year 30"
    );
}
