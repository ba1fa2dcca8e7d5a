//! Fingerprint acceptance (issue 5): the same scan saved as LAS, LAZ or PLY, or shuffled, has one
//! cloud fingerprint; moving one point by 2 mm changes it; Merkle proofs verify and fail when
//! tampered with. Reads the shared data (`TWINMINT_DATA`, default `../shared/data`).

use std::path::Path;

use capture::{CancelToken, NoProgress, PointCloud, ReadOptions};
use mint::fingerprint::{
    self, CanonicalCloud, CaptureMetadata, CloudFingerprint, FingerprintOptions, MerkleProof,
    Schema, merkle,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use test_support::data;

fn read(p: &Path) -> PointCloud {
    capture::read(
        p,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Write `cloud` as `name` in `dir` and read it back.
fn round_trip(cloud: &PointCloud, dir: &Path, name: &str) -> PointCloud {
    let p = dir.join(name);
    capture::write(cloud, &p, &mut NoProgress, &CancelToken::new())
        .unwrap_or_else(|e| panic!("{e}"));
    read(&p)
}

fn shuffled(cloud: &PointCloud, seed: u64) -> PointCloud {
    let mut idx: Vec<usize> = (0..cloud.len()).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    cloud.select(&idx)
}

fn fp(cloud: &PointCloud, options: &FingerprintOptions) -> CloudFingerprint {
    fingerprint::cloud_fingerprint(cloud, options)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

fn small_leaves(schema: Schema) -> FingerprintOptions {
    FingerprintOptions {
        chunk_points: 4096,
        schema,
    }
}

#[test]
fn same_scan_as_las_laz_ply_or_shuffled_has_one_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    // An ALS plot without colour, and a LAS with colour (exercises the 8-bit colour bytes).
    for file in ["als/MixedConifer.laz", "formats/1.2-with-color.las"] {
        let source = read(&data(file));
        assert!(source.len() > 1000, "{file}");
        let las = round_trip(&source, dir.path(), "c.las");
        let laz = round_trip(&source, dir.path(), "c.laz");
        let ply = round_trip(&source, dir.path(), "c.ply");
        let mixed = shuffled(&ply, 42);
        // PLY really is a different encoding: doubles, a different origin, 8-bit colour, no
        // return numbers or classes.
        assert_ne!(ply.origin, source.origin, "{file}");
        assert!(ply.classification.is_none() && source.classification.is_some());
        if file.contains("color") {
            assert!(
                source.rgb.is_some() && ply.rgb.is_some(),
                "{file} has colour"
            );
        }
        for options in [
            FingerprintOptions::default(),
            small_leaves(Schema::Portable),
        ] {
            let want = fp(&source, &options);
            assert_eq!(want.points, source.len() as u64);
            for (what, cloud) in [
                ("LAS", &las),
                ("LAZ", &laz),
                ("PLY", &ply),
                ("shuffled PLY", &mixed),
                ("shuffled source", &shuffled(&source, 7)),
            ] {
                assert_eq!(fp(cloud, &options), want, "{file} as {what}");
            }
        }
        // The LAS schema also hashes classes, returns, GPS time …: equal between LAS and LAZ,
        // different from PLY, which cannot carry them.
        let las_schema = small_leaves(Schema::Las);
        let want = fp(&source, &las_schema);
        assert_eq!(fp(&las, &las_schema), want, "{file} LAS, LAS schema");
        assert_eq!(fp(&laz, &las_schema), want, "{file} LAZ, LAS schema");
        assert_eq!(fp(&shuffled(&laz, 3), &las_schema), want, "{file} shuffled");
        assert_ne!(
            fp(&ply, &las_schema).root,
            want.root,
            "{file} PLY, LAS schema"
        );
        assert_ne!(fp(&source, &FingerprintOptions::default()).root, want.root);
    }
}

#[test]
fn moving_one_point_two_millimetres_changes_the_fingerprint() {
    let source = read(&data("als/MixedConifer.laz"));
    let options = FingerprintOptions::default();
    let want = fp(&source, &options);
    for (i, axis) in [(0, 0), (source.len() / 2, 1), (source.len() - 1, 2)] {
        let mut moved = source.clone();
        moved.positions[i][axis] += 0.002;
        assert_ne!(
            fp(&moved, &options).root,
            want.root,
            "point {i} axis {axis}"
        );
    }
    // Dropping or duplicating a point changes it too.
    let mut fewer = source.clone();
    fewer = fewer.select(&(1..fewer.len()).collect::<Vec<_>>());
    assert_ne!(fp(&fewer, &options).root, want.root);
    let mut more: Vec<usize> = (0..source.len()).collect();
    more.push(0);
    assert_ne!(fp(&source.select(&more), &options).root, want.root);
}

#[test]
fn merkle_proofs_verify_and_fail_when_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let source = read(&data("als/MixedConifer.laz"));
    let options = small_leaves(Schema::Portable);
    let canonical = CanonicalCloud::new(&source, &options).unwrap();
    let (cloud_fp, tree) = canonical.digest();
    assert_eq!(cloud_fp.leaves, source.len().div_ceil(4096) as u64);
    assert!(cloud_fp.leaves >= 5);
    let root = cloud_fp.root;

    // A verifier holding only the PLY export checks chunks against the root minted from LAZ.
    let ply = round_trip(&source, dir.path(), "c.ply");
    let ply_canonical = CanonicalCloud::new(&ply, &options).unwrap();

    for leaf in [
        0,
        1,
        cloud_fp.leaves as usize / 2,
        cloud_fp.leaves as usize - 1,
    ] {
        let proof = tree.proof(leaf as u64).unwrap();
        // The proof travels as JSON.
        let proof: MerkleProof =
            serde_json::from_str(&serde_json::to_string(&proof).unwrap()).unwrap();
        let bytes = ply_canonical.leaf_bytes(leaf).unwrap();
        assert_eq!(bytes, canonical.leaf_bytes(leaf).unwrap());
        assert!(merkle::verify(&proof, &bytes, &root), "leaf {leaf}");
        assert!(merkle::verify(&proof, merkle::leaf_hash(&bytes), &root));

        // One bit of one record changed: fails.
        let mut tampered = bytes.clone();
        tampered[bytes.len() / 2] ^= 1;
        assert!(!merkle::verify(&proof, &tampered, &root), "leaf {leaf}");
        // A sibling hash changed: fails.
        for k in 0..proof.path.len() {
            let mut bad = proof.clone();
            bad.path[k][31] ^= 0x80;
            assert!(
                !merkle::verify(&bad, &bytes, &root),
                "leaf {leaf} sibling {k}"
            );
        }
        // Another leaf's bytes under this proof, or this proof under another root: fail.
        let other = canonical
            .leaf_bytes((leaf + 1) % cloud_fp.leaves as usize)
            .unwrap();
        assert!(!merkle::verify(&proof, &other, &root));
        let mut other_root = root;
        other_root[0] ^= 1;
        assert!(!merkle::verify(&proof, &bytes, &other_root));
    }
    assert!(tree.proof(cloud_fp.leaves).is_err());
}

#[test]
fn model_fingerprint_binds_cloud_capture_and_reconstruction() {
    let dir = tempfile::tempdir().unwrap();
    let source = read(&data("als/MixedConifer.laz"));
    let ply = round_trip(&source, dir.path(), "c.ply");
    let recon = serde_json::json!({"schema_version": 1, "trees": 412, "canopy_height_m": 23.4});

    let capture = CaptureMetadata::from_cloud(&source).unwrap();
    assert_eq!(capture.points, source.len() as u64);
    assert_eq!(capture.sources[0].name, "MixedConifer.laz");
    assert_eq!(capture.sources[0].sha256.len(), 64);
    let model = fingerprint::compute(&source, &capture, &recon).unwrap();

    // The PLY copy: same cloud root; its own capture metadata names different source bytes.
    let ply_capture = CaptureMetadata::from_cloud(&ply).unwrap();
    assert_eq!(ply_capture.bounds_mm, capture.bounds_mm);
    let from_ply = fingerprint::compute(&ply, &ply_capture, &recon).unwrap();
    assert_eq!(from_ply.cloud_root, model.cloud_root);
    assert_ne!(from_ply.capture_hash, model.capture_hash);
    // With the original capture metadata, the PLY reproduces the minted fingerprint exactly.
    assert_eq!(fingerprint::compute(&ply, &capture, &recon).unwrap(), model);

    let recon2 = serde_json::json!({"schema_version": 1, "trees": 413, "canopy_height_m": 23.4});
    let changed = fingerprint::compute(&source, &capture, &recon2).unwrap();
    assert_ne!(changed.model, model.model);
    assert_eq!(changed.cloud_root, model.cloud_root);
}
