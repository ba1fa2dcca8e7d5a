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

/// For every row of `a`: its nearest row of `b` and the two smallest distances; for every row
/// of `b`: its nearest row of `a`. One pass over the `|a| × |b|` distances serves both
/// directions of the mutual check (each the first nearest in order on ties, as two separate
/// scans would pick).
#[allow(clippy::type_complexity)]
#[inline(always)]
fn nearest_both_ways(a: &[[u64; 4]], b: &[[u64; 4]]) -> (Vec<(usize, u32, u32)>, Vec<usize>) {
    let mut rows = Vec::with_capacity(a.len());
    let mut col_best = vec![(u32::MAX, usize::MAX); b.len()];
    for (i, da) in a.iter().enumerate() {
        let (mut bi, mut b1, mut b2) = (usize::MAX, u32::MAX, u32::MAX);
        for (j, (db, col)) in b.iter().zip(col_best.iter_mut()).enumerate() {
            let d = hamming(da, db);
            if d < b1 {
                b2 = b1;
                b1 = d;
                bi = j;
            } else if d < b2 {
                b2 = d;
            }
            if d < col.0 {
                *col = (d, i);
            }
        }
        rows.push((bi, b1, b2));
    }
    (rows, col_best.into_iter().map(|c| c.1).collect())
}

/// [`nearest_both_ways`] compiled with the POPCNT instruction: the baseline x86-64 target lacks
/// it, and `count_ones` without it is a dozen bit operations per word (the distance loop is
/// most of matching's time).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
#[allow(clippy::type_complexity)]
fn nearest_both_ways_popcnt(
    a: &[[u64; 4]],
    b: &[[u64; 4]],
) -> (Vec<(usize, u32, u32)>, Vec<usize>) {
    nearest_both_ways(a, b)
}

/// Index pairs (in `a`, in `b`) of mutual, ratio-tested matches.
pub fn match_pair(a: &[Feature], b: &[Feature], o: &MatchOptions) -> Vec<(u32, u32)> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    // Descriptors side by side (32 bytes a feature, not the feature's 44).
    let da: Vec<[u64; 4]> = a.iter().map(|f| f.desc).collect();
    let db: Vec<[u64; 4]> = b.iter().map(|f| f.desc).collect();
    #[cfg(target_arch = "x86_64")]
    let (rows, back) = if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has just been found to support POPCNT.
        unsafe { nearest_both_ways_popcnt(&da, &db) }
    } else {
        nearest_both_ways(&da, &db)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let (rows, back) = nearest_both_ways(&da, &db);
    let mut out = Vec::new();
    for (i, &(j, d1, d2)) in rows.iter().enumerate() {
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
