//! Tests of `photogrammetry::matching` (src/matching.rs).
use photogrammetry::features::{Feature, hamming};
use photogrammetry::matching::*;

/// The one-pass matcher gives what two separate nearest-neighbour scans give, ties included
/// (few distinct bits make many equal distances).
#[test]
fn one_pass_matches_two_scans() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut feats = |n: usize, mask: u64| -> Vec<Feature> {
        (0..n)
            .map(|_| Feature {
                x: 0.0,
                y: 0.0,
                angle: 0.0,
                desc: [next() & mask, next() & mask, next() & mask, next() & mask],
            })
            .collect()
    };
    let best = |f: &Feature, other: &[Feature]| {
        let (mut bi, mut b1, mut b2) = (usize::MAX, u32::MAX, u32::MAX);
        for (j, g) in other.iter().enumerate() {
            let d = hamming(&f.desc, &g.desc);
            if d < b1 {
                (b2, b1, bi) = (b1, d, j);
            } else if d < b2 {
                b2 = d;
            }
        }
        (bi, b1, b2)
    };
    for mask in [u64::MAX, 0x0F0F, 0x3] {
        let (a, b) = (feats(300, mask), feats(250, mask));
        let o = MatchOptions {
            ratio: 0.95,
            max_distance: 256,
        };
        let mut expected = Vec::new();
        for (i, f) in a.iter().enumerate() {
            let (j, d1, d2) = best(f, &b);
            if d1 <= o.max_distance && (d1 as f32) < o.ratio * d2 as f32 && best(&b[j], &a).0 == i {
                expected.push((i as u32, j as u32));
            }
        }
        let got = match_pair(&a, &b, &o);
        assert_eq!(got, expected, "mask {mask:#x}");
        if mask == u64::MAX {
            assert!(!got.is_empty());
        }
    }
}
