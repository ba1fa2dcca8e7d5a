//! Descriptor matching between two photos: brute-force Hamming nearest neighbours with Lowe's
//! ratio test (Lowe 2004, IJCV 60(2), 0.8) and a mutual (cross) check — what COLMAP's
//! exhaustive/spatial matcher does with SIFT, here on 256-bit ORB descriptors. Which pairs are
//! matched at all is decided by the GPS neighbourhood (see `sfm`).

use crate::features::{Feature, hamming};

/// Matching options.
#[derive(Clone, Debug)]
pub struct MatchOptions {
    /// Best/second-best distance ratio.
    pub ratio: f32,
    /// Largest Hamming distance accepted (of 256 bits).
    pub max_distance: u32,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            ratio: 0.8,
            max_distance: 80,
        }
    }
}

fn best_two(f: &Feature, other: &[Feature]) -> (usize, u32, u32) {
    let (mut bi, mut b1, mut b2) = (usize::MAX, u32::MAX, u32::MAX);
    for (j, g) in other.iter().enumerate() {
        let d = hamming(&f.desc, &g.desc);
        if d < b1 {
            b2 = b1;
            b1 = d;
            bi = j;
        } else if d < b2 {
            b2 = d;
        }
    }
    (bi, b1, b2)
}

/// Index pairs (in `a`, in `b`) of mutual, ratio-tested matches.
pub fn match_pair(a: &[Feature], b: &[Feature], o: &MatchOptions) -> Vec<(u32, u32)> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let back: Vec<usize> = b.iter().map(|g| best_two(g, a).0).collect();
    let mut out = Vec::new();
    for (i, f) in a.iter().enumerate() {
        let (j, d1, d2) = best_two(f, b);
        if j == usize::MAX || d1 > o.max_distance {
            continue;
        }
        if (d1 as f32) >= o.ratio * d2 as f32 {
            continue;
        }
        if back[j] == i {
            out.push((i as u32, j as u32));
        }
    }
    out
}
