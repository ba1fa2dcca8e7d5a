//! SHA-256 Merkle tree in the form of RFC 6962 §2.1 (Certificate Transparency), so a lender can
//! check one chunk of a cloud against the on-chain fingerprint without downloading the rest.
//!
//! - leaf hash `SHA-256(0x00 ‖ leaf bytes)`, node hash `SHA-256(0x01 ‖ left ‖ right)`: the
//!   one-byte domain prefixes make a leaf never collide with an inner node (second-preimage
//!   protection, RFC 6962 §2.1);
//! - the tree is built level by level, pairing neighbours left to right; an odd node at the end
//!   of a level is *promoted* unchanged to the next level (never paired with itself — Bitcoin's
//!   duplication makes two different leaf lists share a root). Promotion gives exactly RFC 6962's
//!   recursive `MTH(D[n]) = H(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))` with `k` the largest power of two
//!   below `n`, so proofs verify with the RFC 9162 §2.1.3.2 algorithm;
//! - the root of zero leaves is `SHA-256("")` (RFC 6962 `MTH({})`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{MintError, Result};
use crate::hex32;

/// Domain prefix of a leaf hash (RFC 6962 §2.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of an inner-node hash (RFC 6962 §2.1).
pub const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of a tree with no leaves: `SHA-256("")`.
pub fn empty_root() -> [u8; 32] {
    Sha256::digest([]).into()
}

/// A Merkle tree kept whole (every level), so proofs for any leaf are cheap. A cloud of 100 M
/// points at 65,536 points per leaf has 1,526 leaves: the tree is a few tens of kilobytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes, the last level holds the root alone (empty when there
    /// are no leaves).
    levels: Vec<Vec<[u8; 32]>>,
}

impl MerkleTree {
    /// Build the tree over already-hashed leaves (see [`leaf_hash`]).
    pub fn from_leaf_hashes(leaves: Vec<[u8; 32]>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().unwrap();
            let next: Vec<[u8; 32]> = below
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [single] => *single, // promoted, RFC 6962-equivalent
                    _ => unreachable!(),
                })
                .collect();
            levels.push(next);
        }
        MerkleTree { levels }
    }

    /// Build the tree over raw leaf data.
    pub fn from_leaves<T: AsRef<[u8]>>(leaves: &[T]) -> Self {
        Self::from_leaf_hashes(leaves.iter().map(|l| leaf_hash(l.as_ref())).collect())
    }

    pub fn leaf_count(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The root hash ([`empty_root`] for no leaves).
    pub fn root(&self) -> [u8; 32] {
        match self.levels.last().and_then(|l| l.first()) {
            Some(r) => *r,
            None => empty_root(),
        }
    }

    /// Hash of leaf `index`, if it exists.
    pub fn leaf_hash(&self, index: u64) -> Option<[u8; 32]> {
        self.levels[0].get(usize::try_from(index).ok()?).copied()
    }

    /// The leaf hashes, in order.
    pub fn leaf_hashes(&self) -> &[[u8; 32]] {
        &self.levels[0]
    }

    /// Inclusion proof (RFC 6962 §2.1.1 audit path) for leaf `index`: the sibling hashes from
    /// the leaf up to the root, skipping levels where the node was promoted.
    pub fn proof(&self, index: u64) -> Result<MerkleProof> {
        let leaves = self.leaf_count();
        if index >= leaves {
            return Err(MintError::LeafIndex { index, leaves });
        }
        let mut path = Vec::new();
        let mut i = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            if sibling < level.len() {
                path.push(level[sibling]);
            }
            i >>= 1;
        }
        Ok(MerkleProof {
            leaf_index: index,
            leaves,
            path,
        })
    }
}

/// An inclusion proof: leaf `leaf_index` of a tree of `leaves` leaves, with its audit `path`
/// (sibling hashes, leaf level first). Serialises with hex strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    pub leaf_index: u64,
    pub leaves: u64,
    #[serde(with = "hex32::vec")]
    pub path: Vec<[u8; 32]>,
}

/// What a verifier holds of the leaf: its bytes (hashed with the leaf prefix) or its hash.
#[derive(Clone, Copy, Debug)]
pub enum Leaf<'a> {
    Bytes(&'a [u8]),
    Hash([u8; 32]),
}

impl<'a> From<&'a [u8]> for Leaf<'a> {
    fn from(b: &'a [u8]) -> Self {
        Leaf::Bytes(b)
    }
}

impl<'a> From<&'a Vec<u8>> for Leaf<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Leaf::Bytes(b)
    }
}

impl From<[u8; 32]> for Leaf<'_> {
    fn from(h: [u8; 32]) -> Self {
        Leaf::Hash(h)
    }
}

/// Whether `proof` shows that `leaf` is leaf `proof.leaf_index` of the tree with root `root`
/// (RFC 9162 §2.1.3.2, which handles the promoted right edge). A malformed proof (index out of
/// range, a path too short or too long) is simply `false`.
pub fn verify<'a>(proof: &MerkleProof, leaf: impl Into<Leaf<'a>>, root: &[u8; 32]) -> bool {
    if proof.leaf_index >= proof.leaves {
        return false;
    }
    let mut r = match leaf.into() {
        Leaf::Bytes(b) => leaf_hash(b),
        Leaf::Hash(h) => h,
    };
    let mut fnode = proof.leaf_index;
    let mut snode = proof.leaves - 1;
    for p in &proof.path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &r == root
}
