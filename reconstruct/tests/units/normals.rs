//! Tests of `reconstruct::normals` (src/normals.rs).
use capture::linalg::symmetric_eigen3;
use reconstruct::normals::*;

#[test]
fn eigen_of_known_matrix() {
    // Rotated diag(1, 2, 5).
    let (c, s) = (0.6f64, 0.8f64);
    let r = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
    let d = [1.0, 2.0, 5.0];
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = (0..3).map(|k| r[i][k] * d[k] * r[j][k]).sum();
        }
    }
    let (vals, vecs) = symmetric_eigen3(m);
    for k in 0..3 {
        assert!((vals[k] - d[k]).abs() < 1e-12, "{vals:?}");
    }
    // Smallest eigenvector is the first column of r, up to sign.
    let dot = vecs[0][0] * r[0][0] + vecs[0][1] * r[1][0] + vecs[0][2] * r[2][0];
    assert!((dot.abs() - 1.0).abs() < 1e-12);
}

#[test]
fn plane_and_sphere_normals() {
    // A tilted plane z = 0.5 x on a grid: normal ∝ (−0.5, 0, 1), curvature ≈ 0.
    let mut pts = Vec::new();
    for i in 0..30 {
        for j in 0..30 {
            let (x, y) = (i as f32 * 0.1, j as f32 * 0.1);
            pts.push([x, y, 0.5 * x]);
        }
    }
    let out = run(&pts, &NormalOptions::default()).unwrap();
    let want = [-0.5f32 / 1.25f32.sqrt(), 0.0, 1.0 / 1.25f32.sqrt()];
    for (n, c) in out.normals.iter().zip(&out.curvature) {
        let dot = n[0] * want[0] + n[1] * want[1] + n[2] * want[2];
        assert!(dot > 0.9999, "{n:?}");
        assert!(*c < 1e-6);
    }
    // Points on a unit sphere: normals radial.
    let mut sph = Vec::new();
    for i in 0..40 {
        for j in 1..40 {
            let th = std::f32::consts::PI * j as f32 / 40.0;
            let ph = 2.0 * std::f32::consts::PI * i as f32 / 40.0;
            sph.push([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()]);
        }
    }
    let out = run(
        &sph,
        &NormalOptions {
            orientation: Orientation::None,
            ..Default::default()
        },
    )
    .unwrap();
    for (p, n) in sph.iter().zip(&out.normals) {
        let dot = p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
        assert!(dot.abs() > 0.99, "{p:?} {n:?}");
    }
}

#[test]
fn rejects_small_k_and_handles_tiny_input() {
    assert!(
        run(
            &[[0.0; 3]],
            &NormalOptions {
                k: 2,
                ..Default::default()
            }
        )
        .is_err()
    );
    let out = run(&[[0.0; 3], [1.0, 0.0, 0.0]], &NormalOptions::default()).unwrap();
    assert_eq!(out.normals.len(), 2);
}
