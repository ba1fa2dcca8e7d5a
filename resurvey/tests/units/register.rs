//! Tests of `resurvey::register` (src/register.rs).
use resurvey::register::*;

#[test]
fn procrustes_recovers_a_known_transform() {
    let truth = Rigid {
        pivot: [100.0, 200.0],
        yaw_deg: 1.3,
        shift_m: [2.0, -1.5, 0.0],
    };
    let pairs: Vec<_> = (0..40)
        .map(|i| {
            let s = [
                100.0 + (i as f64 * 7.3) % 60.0 - 30.0,
                200.0 + (i as f64 * 3.7) % 50.0 - 25.0,
            ];
            let q = truth.apply([s[0], s[1], 0.0]);
            (s, [q[0], q[1]], 0.0)
        })
        .collect();
    let t = procrustes(&pairs, truth.pivot);
    assert!((t.yaw_deg - truth.yaw_deg).abs() < 1e-9, "{t:?}");
    assert!((t.shift_m[0] - 2.0).abs() < 1e-9 && (t.shift_m[1] + 1.5).abs() < 1e-9);
}

#[test]
fn rigid_apply_rotates_about_the_pivot() {
    let t = Rigid {
        pivot: [10.0, 10.0],
        yaw_deg: 90.0,
        shift_m: [0.0, 0.0, 1.0],
    };
    let p = t.apply([11.0, 10.0, 5.0]);
    assert!((p[0] - 10.0).abs() < 1e-12 && (p[1] - 11.0).abs() < 1e-12 && p[2] == 6.0);
}
