//! Adjusted Rand index between two labelings of the same items.
//!
//! The Rand index counts the item pairs on which two partitions agree (both together or both
//! apart); the *adjusted* index (Hubert & Arabie 1985, "Comparing partitions", Journal of
//! Classification 2:193–218) subtracts its expectation under random labelings with the same
//! cluster sizes and rescales, so 1 means identical partitions (up to renaming labels) and 0 means
//! chance-level agreement (it can go slightly negative). It is the usual score for comparing an
//! individual-tree segmentation with a reference one, because tree ids are arbitrary.
//!
//! With the contingency table `n_ij` (items in cluster i of the first labeling and j of the
//! second), row sums `a_i`, column sums `b_j` and `C(x) = x(x−1)/2`:
//!
//! `ARI = (Σ C(n_ij) − Σ C(a_i)·Σ C(b_j)/C(n)) / (½(Σ C(a_i) + Σ C(b_j)) − Σ C(a_i)·Σ C(b_j)/C(n))`
//!
//! The table is sparse (a hash map over the label pairs that occur), so the cost is O(n) whatever
//! the number of clusters; pair counts are summed exactly in `u128` and only the final ratio is
//! taken in `f64`, so billions of points are fine.

use std::collections::HashMap;
use std::hash::Hash;

/// Adjusted Rand index of two labelings (`a[k]` and `b[k]` label item `k`).
///
/// Labels are compared for equality only; any "unassigned" label (e.g. tree id 0) is just one more
/// cluster — decide beforehand which items to include. Returns `None` when the lengths differ.
/// Degenerate cases where the index is 0/0 (fewer than two items, or both labelings put every
/// item in one cluster, or both make every item its own cluster) return 1.0: the partitions are
/// then identical.
pub fn adjusted_rand_index<A, B>(a: &[A], b: &[B]) -> Option<f64>
where
    A: Hash + Eq + Copy,
    B: Hash + Eq + Copy,
{
    if a.len() != b.len() {
        return None;
    }
    let n = a.len() as u128;
    if n < 2 {
        return Some(1.0);
    }
    let mut table: HashMap<(A, B), u64> = HashMap::new();
    let mut rows: HashMap<A, u64> = HashMap::new();
    let mut cols: HashMap<B, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_insert(0) += 1;
        *rows.entry(x).or_insert(0) += 1;
        *cols.entry(y).or_insert(0) += 1;
    }
    let c2 = |v: u64| {
        let v = v as u128;
        v * v.saturating_sub(1) / 2
    };
    let sum_ij: u128 = table.values().map(|&v| c2(v)).sum();
    let sum_a: u128 = rows.values().map(|&v| c2(v)).sum();
    let sum_b: u128 = cols.values().map(|&v| c2(v)).sum();
    let total = (n * (n - 1) / 2) as f64;
    let expected = sum_a as f64 * sum_b as f64 / total;
    let max = 0.5 * (sum_a as f64 + sum_b as f64);
    let denom = max - expected;
    if denom == 0.0 {
        return Some(1.0);
    }
    Some((sum_ij as f64 - expected) / denom)
}
