//! Tests of `reconstruct::ari` (src/ari.rs).
use reconstruct::ari::*;

#[test]
fn identical_up_to_renaming_is_one() {
    let a = [1u32, 1, 2, 2, 3, 3, 3];
    let b = [7u32, 7, 9, 9, 4, 4, 4];
    assert!((adjusted_rand_index(&a, &b).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn known_value() {
    // Hubert & Arabie style textbook example (also scikit-learn's doc example):
    // labels_true = [0, 0, 1, 1], labels_pred = [0, 0, 1, 2] → ARI = 0.5714285714.
    let a = [0u32, 0, 1, 1];
    let b = [0u32, 0, 1, 2];
    let ari = adjusted_rand_index(&a, &b).unwrap();
    assert!((ari - 4.0 / 7.0).abs() < 1e-12, "{ari}");
    // [0,0,1,2] vs [0,0,1,1] is symmetric.
    assert!((adjusted_rand_index(&b, &a).unwrap() - ari).abs() < 1e-12);
}

#[test]
fn independent_labelings_are_near_zero() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let a: Vec<u32> = (0..200_000).map(|_| rng.random_range(0..50)).collect();
    let b: Vec<u32> = (0..200_000).map(|_| rng.random_range(0..50)).collect();
    let ari = adjusted_rand_index(&a, &b).unwrap();
    assert!(ari.abs() < 0.01, "{ari}");
}

#[test]
fn lengths_must_match() {
    assert!(adjusted_rand_index(&[1u8, 2], &[1u8]).is_none());
}
