//! Tests of `mint::fingerprint::canonical` (src/fingerprint/canonical.rs).
use capture::{ExtraColumn, PointCloud};
use mint::error::MintError;
use mint::fingerprint::canonical::*;
use mint::fingerprint::merkle::{self};

#[test]
fn fast_rounding_matches_f64_round() {
    let mut v: Vec<f64> = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        0.49999999999999994,
        -0.49999999999999994,
        4503599627370495.5,
        -4503599627370495.5,
        9007199254740991.0,
        1e15 + 0.5,
    ];
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = (x >> 11) as f64 / (1u64 << 53) as f64;
        v.push((f - 0.5) * 2e7);
        v.push(((x % 2_000_001) as f64 - 1e6) / 2.0);
    }
    for f in v {
        assert_eq!(round_i64(f), f.round() as i64, "{f}");
    }
}

#[test]
fn records_from_items_equal_records_from_columns() {
    let c = mint::bench::synthetic_cloud(5000, 3);
    let can = CanonicalCloud::new(&c, &FingerprintOptions::default()).unwrap();
    assert!(can.rebuilds_from_items());
    for (rank, &i) in can.order().iter().enumerate() {
        let direct = can.record_from_columns(i as usize);
        assert_eq!(direct.len(), PORTABLE_RECORD_BYTES);
        assert_eq!(can.record(rank), direct, "rank {rank}");
    }
}

/// The canonical record sequence by definition: all records sorted by (Morton key of the
/// record's own xyz, record bytes).
fn reference(can: &CanonicalCloud) -> Vec<Vec<u8>> {
    let b = can.bounds().unwrap();
    let s = can.morton_shift();
    let mut recs: Vec<Vec<u8>> = (0..can.len()).map(|r| can.record(r)).collect();
    let key = |r: &Vec<u8>| {
        let q = |k: usize| i64::from_le_bytes(r[8 * k..8 * k + 8].try_into().unwrap());
        morton3(
            ((q(0) - b.min[0]) as u64) >> s,
            ((q(1) - b.min[1]) as u64) >> s,
            ((q(2) - b.min[2]) as u64) >> s,
        )
    };
    recs.sort_by(|x, y| key(x).cmp(&key(y)).then_with(|| x.cmp(y)));
    recs
}

#[test]
fn sort_equals_definition_on_random_clustered_and_duplicate_clouds() {
    let mut x = 99u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut clouds = Vec::new();
    let random: Vec<[f64; 3]> = (0..30_000)
        .map(|_| {
            [
                (rnd() % 100_000) as f64 / 1e3,
                (rnd() % 7_000) as f64 / 1e3,
                (rnd() % 900) as f64 / 1e3,
            ]
        })
        .collect();
    clouds.push(PointCloud::from_absolute(&random));
    // 40 distinct positions, 30,000 points: long runs of equal keys, broken by colour.
    let few: Vec<[f64; 3]> = (0..30_000)
        .map(|i| [(i % 40) as f64 * 0.25, 1.0, 2.0])
        .collect();
    clouds.push(PointCloud::from_absolute(&few));
    // One position.
    clouds.push(PointCloud::from_absolute(&vec![[5.0, 5.0, 5.0]; 3_000]));
    // A dense cluster inside a large sparse box.
    let mut cl: Vec<[f64; 3]> = (0..20_000)
        .map(|_| {
            [
                (rnd() % 1000) as f64 / 1e6,
                (rnd() % 1000) as f64 / 1e6,
                0.0,
            ]
        })
        .collect();
    cl.extend((0..100).map(|i| [i as f64 * 10.0, i as f64 * 7.0, 3.0]));
    clouds.push(PointCloud::from_absolute(&cl));
    for (n, mut c) in clouds.into_iter().enumerate() {
        c.rgb = Some(
            (0..c.len())
                .map(|_| [(rnd() % 4) as u16 * 257, 0, 0])
                .collect(),
        );
        for schema in [Schema::Portable, Schema::Las] {
            let opts = FingerprintOptions {
                chunk_points: 1000,
                schema,
            };
            let can = CanonicalCloud::new(&c, &opts).unwrap();
            let got: Vec<Vec<u8>> = (0..can.len()).map(|r| can.record(r)).collect();
            assert_eq!(got, reference(&can), "cloud {n} {schema:?}");
        }
    }
}

#[test]
fn root_does_not_depend_on_thread_count() {
    let c = mint::bench::synthetic_cloud(200_000, 5);
    let opts = FingerprintOptions::default();
    let roots: Vec<[u8; 32]> = [1, 2, 3, 8]
        .iter()
        .map(|&t| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            pool.install(|| CanonicalCloud::new(&c, &opts).unwrap().digest().0.root)
        })
        .collect();
    assert!(roots.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn table_morton_equals_magic_bits() {
    let mut x = 7u64;
    for _ in 0..100_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let (a, b, c) = (x & 0x1f_ffff, (x >> 21) & 0x1f_ffff, (x >> 42) & 0x1f_ffff);
        assert_eq!(morton3_fast(a, b, c), morton3(a, b, c));
    }
    let m = 0x1f_ffff;
    assert_eq!(morton3_fast(m, m, m), morton3(m, m, m));
}

#[test]
fn compact_inverts_split() {
    for v in [0u64, 1, 2, 0x15_5555, 0x0a_aaaa, 0x1f_ffff, 123_456] {
        assert_eq!(compact3(split3(v)), v);
        assert_eq!(compact3(morton3(7, v, 9) >> 1), v);
    }
}

#[test]
fn morton_interleaves_axes() {
    assert_eq!(morton3(1, 0, 0), 0b001);
    assert_eq!(morton3(0, 1, 0), 0b010);
    assert_eq!(morton3(0, 0, 1), 0b100);
    assert_eq!(morton3(0b11, 0, 0), 0b001_001);
    let m = (1u64 << 21) - 1;
    assert_eq!(morton3(m, m, m), (1u64 << 63) - 1);
    assert_eq!(morton3(m, 0, 0), 0x1249_2492_4924_9249);
}

fn cloud(points: &[[f64; 3]]) -> PointCloud {
    PointCloud::from_absolute(points)
}

#[test]
fn records_are_little_endian_mm() {
    let mut c = cloud(&[[1000.0015, -2.0004, 3.0]]);
    c.rgb = Some(vec![[257 * 200, 0x12ff, 65535]]);
    let can = CanonicalCloud::new(&c, &FingerprintOptions::default()).unwrap();
    let r = can.record(0);
    assert_eq!(r.len(), PORTABLE_RECORD_BYTES);
    assert_eq!(i64::from_le_bytes(r[0..8].try_into().unwrap()), 1_000_002);
    assert_eq!(i64::from_le_bytes(r[8..16].try_into().unwrap()), -2_000);
    assert_eq!(i64::from_le_bytes(r[16..24].try_into().unwrap()), 3_000);
    assert_eq!(&r[24..], &[1, 200, 0x12, 255]);
}

#[test]
fn order_follows_morton_then_record() {
    // Two points in one cell (differing colour) and one elsewhere.
    let mut c = cloud(&[[0.003, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
    c.rgb = Some(vec![[0; 3], [9 << 8, 0, 0], [1 << 8, 0, 0]]);
    let can = CanonicalCloud::new(&c, &FingerprintOptions::default()).unwrap();
    assert_eq!(can.order(), vec![2, 1, 0]);
}

#[test]
fn huge_extents_shift_and_stay_total() {
    // 5000 km apart on x: the shift kicks in; order is still deterministic under shuffles.
    let pts: Vec<[f64; 3]> = (0..500)
        .map(|i| {
            let f = i as f64;
            [
                (f * 7919.0) % 5.0e6,
                (f * 104_729.0) % 3.0e3,
                (f * 13.0) % 50.0,
            ]
        })
        .collect();
    let a = cloud(&pts);
    let opts = FingerprintOptions {
        chunk_points: 64,
        ..Default::default()
    };
    let ca = CanonicalCloud::new(&a, &opts).unwrap();
    assert!(ca.morton_shift() > 0);
    let mut rev = pts.clone();
    rev.reverse();
    let b = cloud(&rev);
    let cb = CanonicalCloud::new(&b, &opts).unwrap();
    let recs = |c: &CanonicalCloud| (0..c.len()).map(|r| c.record(r)).collect::<Vec<_>>();
    assert_eq!(recs(&ca), recs(&cb));
    assert_eq!(ca.digest().0.root, cb.digest().0.root);
}

#[test]
fn non_finite_and_out_of_range_are_named() {
    let mut c = cloud(&[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]);
    c.positions[1][2] = f32::NAN;
    let e = CanonicalCloud::new(&c, &FingerprintOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(e, MintError::NonFinitePoint { index: 1, .. }),
        "{e}"
    );
    let mut c = cloud(&[[0.0, 0.0, 0.0]]);
    c.origin[1] = 1e16;
    let e = CanonicalCloud::new(&c, &FingerprintOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(e, MintError::CoordinateOutOfRange { axis: 'y', .. }),
        "{e}"
    );
}

#[test]
fn leaf_bytes_hash_to_tree_leaves() {
    let pts: Vec<[f64; 3]> = (0..1000).map(|i| [i as f64 * 0.01, 0.0, 1.0]).collect();
    let c = cloud(&pts);
    let opts = FingerprintOptions {
        chunk_points: 300,
        ..Default::default()
    };
    let can = CanonicalCloud::new(&c, &opts).unwrap();
    let tree = can.merkle_tree();
    assert_eq!(tree.leaf_count(), 4);
    for l in 0..4 {
        let bytes = can.leaf_bytes(l).unwrap();
        assert_eq!(merkle::leaf_hash(&bytes), tree.leaf_hash(l as u64).unwrap());
    }
    assert_eq!(
        can.leaf_bytes(3).unwrap().len(),
        100 * PORTABLE_RECORD_BYTES
    );
    assert!(can.leaf_bytes(4).is_err());
}

#[test]
fn las_schema_includes_attributes_and_extras() {
    let mut c = cloud(&[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]);
    c.classification = Some(vec![2, 5]);
    c.gps_time = Some(vec![1.5, 2.5]);
    c.set_extra(ExtraColumn::from_u32("treeID", &[7, 8]));
    c.set_extra(ExtraColumn::from_f32("a", &[0.5, 0.25]));
    let opts = FingerprintOptions {
        schema: Schema::Las,
        ..Default::default()
    };
    let can = CanonicalCloud::new(&c, &opts).unwrap();
    assert_eq!(can.record_len(), LAS_RECORD_FIXED_BYTES + 8);
    assert_eq!(can.schema_id(), "twinmint-points-v1-las+a:f32+treeID:u32");
    let r = can.record(1);
    assert_eq!(u16::from_le_bytes([r[24], r[25]]), 1 << 5 | 1 << 10);
    assert_eq!(r[38], 5);
    assert_eq!(
        f64::from_bits(u64::from_le_bytes(r[45..53].try_into().unwrap())),
        2.5
    );
    assert_eq!(&r[53..57], &0.25f32.to_le_bytes());
    assert_eq!(&r[57..61], &8u32.to_le_bytes());
    // Portable ignores them.
    let p = CanonicalCloud::new(&c, &FingerprintOptions::default()).unwrap();
    let mut d = c.clone();
    d.classification = Some(vec![9, 9]);
    let q = CanonicalCloud::new(&d, &FingerprintOptions::default()).unwrap();
    assert_eq!(p.digest().0.root, q.digest().0.root);
    let q = CanonicalCloud::new(&d, &opts).unwrap();
    assert_ne!(can.digest().0.root, q.digest().0.root);
}
