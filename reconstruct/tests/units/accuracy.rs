//! Tests of `reconstruct::accuracy` (src/accuracy/mod.rs).
use reconstruct::accuracy::*;

#[test]
fn cone_limits_and_one_to_one() {
    let r = [[0.0, 0.0, 20.0], [10.0, 0.0, 10.0]];
    // Limit at 20 m: 2.1 + 2.8 = 4.9 m; at 10 m: 3.5 m.
    let d = [[3.0, 0.0, 21.0], [0.5, 0.0, 20.0], [10.0, 3.6, 10.0]];
    let m = match_trees(&r, &d, &MatchOptions::default());
    assert_eq!(m, vec![(0, 1)]);
    let e = ErrorStats::of(&[(2.0, 1.0), (0.0, 1.0)]);
    assert!((e.rmse - 1.0).abs() < 1e-12 && e.bias.abs() < 1e-12);
}
