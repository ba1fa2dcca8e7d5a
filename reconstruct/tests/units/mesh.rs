//! Tests of `reconstruct::mesh` (src/mesh.rs).
use reconstruct::mesh::*;
use reconstruct::model::{DbhStatus, PipeSegment};
use reconstruct::model::{PipeRun, Raster, Tree};
use reconstruct::vec3::{V3, add, cross, dot, norm, sub};

/// Every triangle's geometric normal agrees with its vertices' normals (outward, CCW).
fn assert_consistent(m: &TriMesh) {
    assert_eq!(m.positions.len(), m.normals.len());
    assert_eq!(m.indices.len() % 3, 0);
    let mut agree = 0usize;
    for t in m.indices.chunks_exact(3) {
        let p = |i: u32| m.positions[i as usize].map(|v| v as f64);
        let f = cross(sub(p(t[1]), p(t[0])), sub(p(t[2]), p(t[0])));
        if norm(f) < 1e-12 {
            continue;
        }
        let n: V3 = t
            .iter()
            .map(|&i| m.normals[i as usize].map(|v| v as f64))
            .fold([0.0; 3], add);
        if dot(f, n) > 0.0 {
            agree += 1;
        }
    }
    assert!(
        agree as f64 >= 0.99 * m.triangle_count() as f64,
        "{agree} of {} triangles agree with their normals",
        m.triangle_count()
    );
    for n in &m.normals {
        let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        assert!((l - 1.0).abs() < 1e-4);
    }
}

fn tree() -> Tree {
    Tree {
        id: 7,
        x: 1000.0,
        y: 2000.0,
        ground_z: 300.0,
        height_m: 20.0,
        crown_area_m2: 12.0,
        crown_diameter_m: 3.9,
        crown_base_height_m: Some(9.0),
        point_count: 100,
        hull: vec![
            [998.0, 1998.5],
            [1002.0, 1998.0],
            [1002.5, 2001.5],
            [999.0, 2002.0],
        ],
        dbh_status: DbhStatus::Observed,
        dbh_cm: Some(30.0),
        dbh_fit_rms_cm: Some(0.5),
        species: None,
    }
}

#[test]
fn terrain_grid_is_decimated_and_faces_up() {
    let mut r = Raster::covering(1000.0, 2000.0, 1100.0, 2050.0, 0.5, -9999.0);
    for row in 0..r.height {
        for col in 0..r.width {
            let (x, _) = r.center(col, row);
            r.data[row * r.width + col] = (300.0 + 0.1 * (x - 1000.0)) as f32;
        }
    }
    // A nodata hole.
    r.data[10 * r.width + 10] = -9999.0;
    let m = terrain(
        &r,
        [1050.0, 2025.0, 300.0],
        &TerrainMeshOptions {
            step_m: Some(2.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(m.vertex_count() <= 51 * 26 && m.vertex_count() > 40 * 20);
    assert_consistent(&m);
    assert!(m.normals.iter().all(|n| n[2] > 0.99));
    let (lo, hi) = m.bounds().unwrap();
    assert!(lo[0] < -49.0 && hi[0] > 49.0 && (hi[2] - lo[2] - 9.95).abs() < 0.1);
    let small = terrain(
        &r,
        [0.0; 3],
        &TerrainMeshOptions {
            step_m: None,
            max_vertices: 1000,
        },
    )
    .unwrap();
    assert!(small.vertex_count() <= 1000);
}

#[test]
fn trunk_and_crown_shapes() {
    let t = tree();
    let o = [1000.0, 2000.0, 300.0];
    let opts = TreeMeshOptions::default();
    let tr = trunk(&t, None, o, &opts);
    assert_consistent(&tr);
    // Diameter at 1.3 m is the DBH: bottom ring radius slightly larger than 0.15 m.
    let r0 = (tr.positions[0][0].powi(2) + tr.positions[0][1].powi(2)).sqrt();
    assert!(r0 > 0.15 && r0 < 0.17, "{r0}");
    let cr = crown(&t, o, &opts);
    assert_consistent(&cr);
    let (lo, hi) = cr.bounds().unwrap();
    assert!((lo[2] - 9.0).abs() < 1e-4 && (hi[2] - 20.0).abs() < 1e-4);
    assert!(hi[0] <= 2.7 && hi[0] > 2.3 && lo[0] >= -2.2 && lo[0] < -1.8);
    // Without a hull, DBH or crown base.
    let mut bare = t.clone();
    bare.hull.clear();
    bare.dbh_cm = None;
    bare.crown_base_height_m = None;
    assert!((trunk_dbh_cm(&bare, None, &opts) - 25.0).abs() < 1e-9);
    assert_eq!(trunk_dbh_cm(&bare, Some(40.0), &opts), 40.0);
    let cr = crown(&bare, o, &opts);
    assert_consistent(&cr);
    let (lo, hi) = cr.bounds().unwrap();
    assert!((lo[2] - 10.0).abs() < 1e-4 && (hi[0] - 1.95).abs() < 0.01);
}

#[test]
fn pipe_cylinders_with_domes() {
    let run = PipeRun {
        id: 1,
        segments: vec![
            PipeSegment {
                start: [10.0, 0.0, 2.0],
                end: [14.0, 0.0, 2.0],
                radius_m: 0.2,
                inlier_rms_m: 0.002,
                point_count: 100,
            },
            PipeSegment {
                start: [15.0, 0.0, 2.0],
                end: [20.0, 0.0, 2.0],
                radius_m: 0.2,
                inlier_rms_m: 0.002,
                point_count: 100,
            },
        ],
        length_m: 10.0,
        radius_m: 0.2,
    };
    let m = pipe_run(&run, [0.0; 3], &PipeMeshOptions::default());
    assert_consistent(&m);
    let (lo, hi) = m.bounds().unwrap();
    assert!((lo[0] - 9.8).abs() < 1e-4 && (hi[0] - 20.2).abs() < 1e-4);
    assert!((hi[1] - 0.2).abs() < 1e-4 && (lo[2] - 1.8).abs() < 1e-4);
    let per_segment = pipe_run(
        &run,
        [0.0; 3],
        &PipeMeshOptions {
            bridge_gaps: false,
            dome_ends: false,
            ..Default::default()
        },
    );
    assert_consistent(&per_segment);
    assert_eq!(per_segment.triangle_count(), 2 * 2 * 16);
}
