//! Tests of `reconstruct::chm` (src/chm.rs).
use capture::PointCloud;
use reconstruct::chm::*;

fn cloud(points: &[[f64; 3]]) -> PointCloud {
    PointCloud::from_absolute(points)
}

#[test]
fn key_roundtrip_orders_floats() {
    let key = |z: f32| {
        let b = z.to_bits();
        if b & 0x8000_0000 != 0 {
            !b
        } else {
            b | 0x8000_0000
        }
    };
    let vals = [-5.0f32, -0.5, 0.0, 0.25, 3.0, 40.0];
    for w in vals.windows(2) {
        assert!(key(w[0]) < key(w[1]));
    }
    for v in vals {
        assert_eq!(key_to_height(key(v)), v);
    }
    assert_eq!(key_to_height(0), NODATA);
}

#[test]
fn grid_contains_edge_points() {
    let g = grid_for_bounds(10.0, 20.0, 12.0, 21.0, 0.5);
    assert_eq!(g.x_min, 10.0);
    assert!(g.y_max > 21.0);
    assert!(g.cell_of(10.0, 20.0).is_some());
    assert!(g.cell_of(12.0, 21.0).is_some());
}

#[test]
fn plane_is_reproduced_by_pitfree() {
    // A tilted plane sampled on a jittered 0.3 m grid: every layer interpolates it exactly.
    let mut pts = Vec::new();
    for i in 0..40 {
        for j in 0..40 {
            let x = 1000.0 + i as f64 * 0.3 + 0.05 * ((i * 7 + j * 3) % 5) as f64;
            let y = 2000.0 + j as f64 * 0.3 + 0.05 * ((i * 3 + j * 11) % 5) as f64;
            pts.push([x, y, 3.0 + 0.5 * (x - 1000.0) + 0.25 * (y - 2000.0)]);
        }
    }
    let c = cloud(&pts);
    let chm = run(&c, &ChmOptions::default()).unwrap();
    let mut checked = 0;
    for r in 0..chm.height {
        for col in 0..chm.width {
            let v = chm.get(col, r);
            if chm.is_nodata(v) {
                continue;
            }
            let (x, y) = chm.center(col, r);
            let want = 3.0 + 0.5 * (x - 1000.0) + 0.25 * (y - 2000.0);
            assert!((v as f64 - want).abs() < 1e-3, "{v} vs {want}");
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn pitfree_fills_a_pit_that_p2r_keeps() {
    // A flat 20 m canopy sampled once per 0.5 m cell, with one deep return in the middle.
    let mut pts = Vec::new();
    for i in 0..21 {
        for j in 0..21 {
            let z = if i == 10 && j == 10 { 3.0 } else { 20.0 };
            pts.push([i as f64 * 0.5 + 0.25, j as f64 * 0.5 + 0.25, z]);
        }
    }
    let c = cloud(&pts);
    let p2r = run(
        &c,
        &ChmOptions {
            method: ChmMethod::PointToRaster,
            ..Default::default()
        },
    )
    .unwrap();
    let pf = run(&c, &ChmOptions::default()).unwrap();
    let (col, row) = p2r.cell_of(5.25, 5.25).unwrap();
    assert_eq!(p2r.get(col, row), 3.0, "the pit is in the p2r CHM");
    assert!(
        (pf.get(col, row) - 20.0).abs() < 1e-4,
        "{}",
        pf.get(col, row)
    );
    let valid = pf.data.iter().filter(|v| !pf.is_nodata(**v)).count();
    assert_eq!(valid, 21 * 21);
}

#[test]
fn max_edge_removes_bridges_between_crowns() {
    // Two dense 20 m patches 6 m apart over sparse ground points.
    let mut pts = Vec::new();
    for i in 0..100 {
        for j in 0..20 {
            let x = i as f64 * 0.2;
            let y = j as f64 * 0.2;
            let z = if !(6.0..=12.0).contains(&x) {
                20.0
            } else {
                0.0
            };
            if z > 0.0 || (i % 10 == 0 && j % 10 == 0) {
                pts.push([x, y, z]);
            }
        }
    }
    let c = cloud(&pts);
    let chm = run(&c, &ChmOptions::default()).unwrap();
    let (col, row) = chm.cell_of(9.0, 2.0).unwrap();
    let v = chm.get(col, row);
    assert!(v < 15.0, "gap bridged: {v}");
}

#[test]
fn layer_by_layer_cpu_equals_the_plan() {
    let pts: Vec<[f64; 3]> = (0..3000)
        .map(|i| {
            let (x, y) = ((i % 60) as f64 * 0.31, (i / 60) as f64 * 0.43);
            [
                x,
                y,
                2.0 + 9.0 * (0.6 * x).sin().abs() * (0.4 * y).cos().abs(),
            ]
        })
        .collect();
    let c = cloud(&pts);
    for method in [ChmMethod::PitFree, ChmMethod::PointToRaster] {
        let o = ChmOptions {
            method,
            ..Default::default()
        };
        let p = plan(&c, &o).unwrap();
        assert!(method == ChmMethod::PointToRaster || p.triangle_count() > 100);
        assert_eq!(run_on(&c, &o, None).unwrap().data, p.rasterize_cpu().data);
    }
}

/// The CHM from the terrain (heights computed as the points are visited, noise dropped)
/// is the CHM of the normalised cloud, bit for bit: on sloping ground, with a dropped point
/// that would otherwise be the highest of its cell, and with return numbers.
#[test]
fn terrain_source_equals_the_normalised_cloud() {
    let n = 4000;
    let pts: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            let (x, y) = ((i % 80) as f64 * 0.27 + 500_000.0, (i / 80) as f64 * 0.39);
            let ground = 120.0 + 0.05 * x.fract() * 3.0 + 0.1 * y;
            [x, y, ground + 7.0 * (0.5 * y).sin().abs() * (i % 3) as f64]
        })
        .collect();
    let mut c = cloud(&pts);
    c.return_number = Some((0..n).map(|i| 1 + (i % 4 == 3) as u8).collect());
    let mut keep = vec![true; n];
    keep[57] = false;
    c.positions[57][2] += 40.0;
    let mut dtm = reconstruct::model::Raster::covering(
        500_000.0 - 1.0,
        -1.0,
        500_000.0 + 23.0,
        21.0,
        1.0,
        NODATA,
    );
    for r in 0..dtm.height {
        for col in 0..dtm.width {
            let (_, y) = dtm.center(col, r);
            dtm.data[r * dtm.width + col] = (120.0 + 0.1 * y) as f32;
        }
    }
    let normalised = reconstruct::normalize::normalized_for_trees(&c, Some(&keep), &dtm);
    let src = ChmSource::Terrain {
        cloud: &c,
        keep: Some(&keep),
        dtm: &dtm,
    };
    assert_eq!(
        src.first_return_density().to_bits(),
        reconstruct::trees::first_return_density(&normalised).to_bits()
    );
    for method in [ChmMethod::PitFree, ChmMethod::PointToRaster] {
        let o = ChmOptions {
            method,
            ..Default::default()
        };
        let a = run_on_source(&src, &o, None).unwrap();
        let b = run_on(&normalised, &o, None).unwrap();
        assert_eq!((a.width, a.height), (b.width, b.height));
        assert_eq!(a.data, b.data, "{method:?}");
        assert!(
            a.data.iter().filter(|v| **v > 1.0).count() > 100,
            "{method:?}"
        );
    }
}

#[test]
fn gpu_batches_match_cpu() {
    let Some(gpu) = crate::shared_or_skip() else {
        return;
    };
    let pts: Vec<[f64; 3]> = (0..2000)
        .map(|i| {
            let (x, y) = ((i % 50) as f64 * 0.37, (i / 50) as f64 * 0.41);
            [x, y, 5.0 + 3.0 * (0.7 * x).sin() * (0.5 * y).cos()]
        })
        .collect();
    let c = cloud(&pts);
    for method in [ChmMethod::PitFree, ChmMethod::PointToRaster] {
        let p = plan(
            &c,
            &ChmOptions {
                method,
                ..Default::default()
            },
        )
        .unwrap();
        let cpu = p.rasterize_cpu();
        // Batches of 100 triangles / 900 points.
        let g = p.rasterize_gpu_batched(&gpu, 3600).unwrap();
        assert_eq!(cpu.data, g.data, "{method:?}");
    }
}

#[test]
fn smoothing_keeps_nodata() {
    let mut r = grid_for_bounds(0.1, 0.1, 1.4, 1.4, 0.5);
    assert_eq!((r.width, r.height), (3, 3));
    r.data = vec![1.0, 2.0, 3.0, 4.0, NODATA, 6.0, 7.0, 8.0, 9.0];
    let s = smooth_mean(&r, 1);
    assert_eq!(s.data[4], NODATA);
    assert!((s.data[0] - (1.0 + 2.0 + 4.0) / 3.0).abs() < 1e-6);
}
