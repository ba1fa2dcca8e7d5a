//! Tests of `reconstruct::noise` (src/noise.rs).
use capture::{CancelToken, PointCloud};
use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use rand::{Rng, SeedableRng};
use reconstruct::noise::*;
use std::num::NonZero;

/// The plain filter: one k-d tree query per point, sorted neighbours.
fn tree_means(pos: &[[f32; 3]], k: NonZero<usize>) -> Vec<f32> {
    let tree: ImmutableKdTree<f32, u32, 3, 32> = ImmutableKdTree::new_from_slice(pos);
    pos.iter()
        .map(|p| {
            let nn = tree.nearest_n::<SquaredEuclidean>(p, k);
            let sum: f32 = nn.iter().skip(1).map(|x| x.distance.sqrt()).sum();
            sum / (nn.len().saturating_sub(1)).max(1) as f32
        })
        .collect()
}

/// The cell grid gives every point the same mean, bit for bit, as the plain k-d tree filter
/// — on a rough surface with canopy above it, on clustered points with duplicates, around a
/// crowded spot, and with far outliers that stretch the box.
#[test]
fn cell_grid_means_equal_the_tree_query_bit_for_bit() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut sets: Vec<Vec<[f32; 3]>> = Vec::new();
    let surface: Vec<[f32; 3]> = (0..20_000)
        .map(|_| {
            let (x, y) = (
                rng.random_range(0.0..60.0f32),
                rng.random_range(0.0..60.0f32),
            );
            let z = if rng.random_bool(0.3) {
                rng.random_range(2.0..25.0)
            } else {
                0.3 * (x * 0.2).sin()
            };
            [x, y, z]
        })
        .collect();
    sets.push(surface.clone());
    let mut clustered = Vec::new();
    for c in 0..40 {
        let centre = [(c % 8) as f32 * 7.0, (c / 8) as f32 * 9.0, 0.0];
        for _ in 0..200 {
            let p = [
                centre[0] + rng.random_range(-0.5..0.5f32),
                centre[1] + rng.random_range(-0.5..0.5f32),
                rng.random_range(0.0..0.2f32),
            ];
            clustered.push(p);
            if rng.random_bool(0.1) {
                clustered.push(p);
            }
        }
    }
    sets.push(clustered);
    // A crowded spot (a terrestrial scanner's feet) in a sparse scene: blocks over
    // MAX_CANDIDATES go to the tree.
    let mut crowded: Vec<[f32; 3]> = (0..3000)
        .map(|_| {
            [
                rng.random_range(0.0..0.05f32),
                rng.random_range(0.0..0.05f32),
                0.0,
            ]
        })
        .collect();
    crowded.extend((0..2000).map(|_| {
        [
            rng.random_range(-20.0..20.0f32),
            rng.random_range(-20.0..20.0f32),
            0.0,
        ]
    }));
    sets.push(crowded);
    let mut outliers = surface;
    outliers.push([1e5, -3e4, 800.0]);
    outliers.push([30.0, 30.0, -400.0]);
    sets.push(outliers);
    for (s, pos) in sets.iter().enumerate() {
        for k in [2usize, 9, 17] {
            let k = NonZero::new(k).unwrap();
            let fast = mean_distances(pos, k, &CancelToken::new()).unwrap();
            let plain = tree_means(pos, k);
            let differ = fast
                .iter()
                .zip(&plain)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(differ, 0, "set {s}, k {k}: {differ} means differ");
        }
    }
}

#[test]
fn isolated_points_are_noise() {
    let mut pts = Vec::new();
    for i in 0..40 {
        for j in 0..40 {
            pts.push([i as f64 * 0.1, j as f64 * 0.1, 0.0]);
        }
    }
    pts.push([2.0, 2.0, -30.0]);
    pts.push([50.0, 50.0, 5.0]);
    let cloud = PointCloud::from_absolute(&pts);
    let r = run(
        &cloud,
        &NoiseOptions::default(),
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(r.noise_count(), 2, "{r:?}");
    assert!(r.is_noise[1600] && r.is_noise[1601]);
    assert_eq!(r.classify(&cloud)[1600], CLASS_NOISE);
}

#[test]
fn voxel_thin_keeps_first_per_voxel() {
    let cloud = PointCloud::from_absolute(&[
        [0.1, 0.1, 0.1],
        [0.2, 0.2, 0.2],
        [1.5, 0.1, 0.1],
        [0.3, 0.1, 0.1],
    ]);
    let keep = voxel_thin(&cloud, 1.0).unwrap();
    assert_eq!(keep.len(), 2);
    assert_eq!(keep[0], 0);
}
