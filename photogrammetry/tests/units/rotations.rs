//! Tests of `photogrammetry::rotations` (src/rotations.rs).
use photogrammetry::linalg::exp_so3;
use photogrammetry::linalg::{M3, mul, transpose};
use photogrammetry::rotations::*;

#[test]
fn averaging_recovers_rotations_up_to_the_gauge() {
    let truth: Vec<M3> = (0..6)
        .map(|i| exp_so3(&[0.1 * i as f64, -0.05 * i as f64, 0.3 * (i as f64).sin()]))
        .collect();
    let mut rel = Vec::new();
    for a in 0..6 {
        for b in a + 1..6 {
            let mut r = mul(&truth[b], &transpose(&truth[a]));
            if (a, b) == (1, 4) {
                // One bad pair.
                r = mul(&exp_so3(&[0.5, 0.0, 0.0]), &r);
            }
            rel.push(Relative {
                a,
                b,
                rel: r,
                t: [1.0, 0.0, 0.0],
                weight: 1.0,
            });
        }
    }
    let est = average(6, &rel);
    for i in 0..6 {
        // est_i = truth_i truth_0ᵀ.
        let want = mul(&truth[i], &transpose(&truth[0]));
        let e = angle(&mul(&est[i].unwrap(), &transpose(&want))).to_degrees();
        assert!(e < 1.0, "photo {i} off by {e:.2}°");
    }
}
