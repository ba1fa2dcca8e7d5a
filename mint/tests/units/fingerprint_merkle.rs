//! Tests of `mint::fingerprint::merkle` (src/fingerprint/merkle.rs).
use mint::fingerprint::merkle::*;

/// RFC 6962 §2.1 `MTH`, written recursively as the RFC states it.
fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
    match leaves.len() {
        0 => empty_root(),
        1 => leaf_hash(&leaves[0]),
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
}

#[test]
fn level_build_with_promotion_equals_rfc6962_mth() {
    for n in 0..70 {
        let l = leaves(n);
        assert_eq!(MerkleTree::from_leaves(&l).root(), mth(&l), "n = {n}");
    }
}

#[test]
fn every_proof_verifies_and_tampering_fails() {
    for n in 1..40 {
        let l = leaves(n);
        let t = MerkleTree::from_leaves(&l);
        let root = t.root();
        for (i, leaf) in l.iter().enumerate() {
            let p = t.proof(i as u64).unwrap();
            assert!(verify(&p, leaf, &root), "n {n} i {i}");
            assert!(verify(&p, t.leaf_hash(i as u64).unwrap(), &root));
            assert!(!verify(&p, &b"other".to_vec(), &root));
            for k in 0..p.path.len() {
                let mut bad = p.clone();
                bad.path[k][0] ^= 1;
                assert!(!verify(&bad, leaf, &root), "n {n} i {i} k {k}");
            }
            let mut short = p.clone();
            if short.path.pop().is_some() {
                assert!(!verify(&short, leaf, &root));
            }
            let mut long = p.clone();
            long.path.push([0; 32]);
            assert!(!verify(&long, leaf, &root));
            if n > 1 {
                let mut moved = p.clone();
                moved.leaf_index = (moved.leaf_index + 1) % n as u64;
                assert!(!verify(&moved, leaf, &root));
            }
        }
    }
    let t = MerkleTree::from_leaves(&leaves(3));
    assert!(t.proof(3).is_err());
}

#[test]
fn rfc6962_known_values() {
    // Empty tree and the single empty leaf, as in Certificate Transparency's test vectors.
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex::encode(leaf_hash(b"")),
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    );
}

#[test]
fn proof_serialises_as_hex() {
    let t = MerkleTree::from_leaves(&leaves(5));
    let p = t.proof(4).unwrap();
    let j = serde_json::to_string(&p).unwrap();
    assert!(j.contains(&hex::encode(p.path[0])));
    let back: MerkleProof = serde_json::from_str(&j).unwrap();
    assert_eq!(back, p);
}
