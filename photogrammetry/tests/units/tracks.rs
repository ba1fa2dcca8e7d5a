//! Tests of `photogrammetry::tracks` (src/tracks.rs).
use photogrammetry::tracks::*;

#[test]
fn chains_join_and_conflicts_drop() {
    let counts = [3, 3, 3];
    let m: Vec<PairMatches<'_>> = vec![
        (0, 1, &[(0, 0), (1, 1)]),
        (1, 2, &[(0, 2), (1, 0)]),
        // Photo 0's feature 2 and feature 1 end in one track through photo 2: conflict.
        (0, 2, &[(2, 0)]),
    ];
    let t = build(&counts, &m);
    assert!(t.contains(&vec![(0, 0), (1, 0), (2, 2)]), "{t:?}");
    assert_eq!(t.len(), 1, "{t:?}");
}
