//! Tests of `photogrammetry::linalg` (src/linalg.rs).
use photogrammetry::linalg::*;

#[test]
fn rodrigues_round_trips() {
    for w in [[0.1, -0.2, 0.3], [0.0, 0.0, 3.0], [1e-8, 0.0, 0.0]] {
        let r = exp_so3(&w);
        assert!((det(&r) - 1.0).abs() < 1e-12);
        let back = log_so3(&r);
        for k in 0..3 {
            assert!((back[k] - w[k]).abs() < 1e-6, "{w:?} {back:?}");
        }
    }
}

#[test]
fn svd_reconstructs() {
    let a = [[2.0, -1.0, 0.5], [0.3, 1.5, -2.0], [1.0, 0.2, 0.7]];
    let (u, s, v) = svd3(&a);
    let us: M3 = std::array::from_fn(|i| std::array::from_fn(|j| u[i][j] * s[j]));
    let back = mul(&us, &transpose(&v));
    for i in 0..3 {
        for j in 0..3 {
            assert!((back[i][j] - a[i][j]).abs() < 1e-9, "{back:?}");
        }
    }
    assert!(s[0] >= s[1] && s[1] >= s[2]);
}

#[test]
fn cholesky_solves() {
    let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
    let x = cholesky_solve(&a, &[1.0, 2.0, 3.0], 3).unwrap();
    for i in 0..3 {
        let r: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
        assert!((r - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
    }
}
