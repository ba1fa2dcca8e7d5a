//! Format-independent fingerprints: what a lender checks to know the model they inspect is the
//! one that was surveyed and minted.
//!
//! ```text
//! cloud ──canonical records──► Merkle root (SHA-256, RFC 6962)      = cloud_root
//! capture metadata ──RFC 8785 JCS──► SHA-256                         = capture_hash
//! reconstruction asset view (+ year-0 inventory) ──leaves──► Merkle root = reconstruction_hash
//! keccak-256(cloud_root ‖ capture_hash ‖ reconstruction_hash)        = model (on chain, bytes32)
//! ```
//!
//! - [`canonical`]: millimetre quantisation, Morton order, record layouts — why the same scan
//!   saved as LAS, LAZ or PLY, or shuffled, gives the same `cloud_root`;
//! - [`merkle`]: the tree, inclusion proofs and their verifier;
//! - [`jcs`]: RFC 8785 canonical JSON; [`metadata`]: the capture metadata;
//! - [`reconstruction`]: the asset view of `reconstruction.json` — what the reconstruction hash
//!   covers (not the run's timings, device or host; numbers to the millimetre), so the same
//!   scan reconstructed again, on another machine or device, gives the same fingerprint.
//!
//! The combination uses keccak-256 because that is what the EVM computes natively
//! (`keccak256(abi.encodePacked(a, b, c))` reproduces it on chain for 32-byte inputs); the
//! parts use SHA-256, which IPFS, `sha256sum` and every auditor's toolbox already have.

pub mod canonical;
pub mod jcs;
pub mod merkle;
pub mod metadata;
pub mod reconstruction;

use capture::PointCloud;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

pub use canonical::{
    BoundsMm, CanonicalCloud, DEFAULT_CHUNK_POINTS, FingerprintOptions, Schema, quantised_bounds,
};
pub use merkle::{Leaf, MerkleProof, MerkleTree, verify};
pub use metadata::{CaptureMetadata, SourceDigest};
pub use reconstruction::{
    asset_leaves, asset_root, asset_tree, inventory_view, reconstruction_hash, reconstruction_view,
};

use crate::error::{MintError, Result};
use crate::hex32;

/// Root of the cloud's Merkle tree and what it was computed over. JSON uses hex strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudFingerprint {
    #[serde(with = "hex32")]
    pub root: [u8; 32],
    pub leaves: u64,
    pub points: u64,
    pub chunk_points: u64,
    /// Record layout (`twinmint-points-v1-portable`); roots only compare under equal schemas.
    pub schema: String,
    pub record_bytes: u32,
}

/// The three part hashes and the combined on-chain fingerprint. JSON uses hex strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFingerprint {
    #[serde(with = "hex32")]
    pub cloud_root: [u8; 32],
    #[serde(with = "hex32")]
    pub capture_hash: [u8; 32],
    #[serde(with = "hex32")]
    pub reconstruction_hash: [u8; 32],
    /// `keccak256(cloud_root ‖ capture_hash ‖ reconstruction_hash)`.
    #[serde(with = "hex32")]
    pub model: [u8; 32],
}

impl ModelFingerprint {
    /// Combine the three part hashes.
    pub fn combine(
        cloud_root: [u8; 32],
        capture_hash: [u8; 32],
        reconstruction_hash: [u8; 32],
    ) -> Self {
        let mut k = Keccak256::new();
        k.update(cloud_root);
        k.update(capture_hash);
        k.update(reconstruction_hash);
        ModelFingerprint {
            cloud_root,
            capture_hash,
            reconstruction_hash,
            model: k.finalize().into(),
        }
    }

    /// `0x`-prefixed hex of [`Self::model`], as Solidity tooling writes a `bytes32`.
    pub fn model_hex0x(&self) -> String {
        format!("0x{}", hex::encode(self.model))
    }
}

/// Keccak-256 (Ethereum's, with the original Keccak padding — not FIPS-202 SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// The fingerprint of a cloud alone, with its Merkle tree (for proofs).
pub fn cloud_fingerprint(
    cloud: &PointCloud,
    options: &FingerprintOptions,
) -> Result<(CloudFingerprint, MerkleTree)> {
    Ok(CanonicalCloud::new(cloud, options)?.digest())
}

/// The on-chain model fingerprint of a cloud, its capture metadata and its reconstruction
/// metadata (`reconstruction.json` as JSON; hashed through [`reconstruction_view`]), using the
/// portable schema and default leaf size. Checks that the metadata describes this cloud (point
/// count, and bounds when given).
pub fn compute(
    cloud: &PointCloud,
    capture: &CaptureMetadata,
    reconstruction: &serde_json::Value,
) -> Result<ModelFingerprint> {
    let canonical = CanonicalCloud::new(cloud, &FingerprintOptions::default())?;
    if capture.points != canonical.len() as u64 {
        return Err(MintError::MetadataMismatch {
            field: "points",
            metadata: capture.points.to_string(),
            cloud: canonical.len().to_string(),
        });
    }
    if let Some(b) = capture.bounds_mm
        && Some(b) != canonical.bounds()
    {
        return Err(MintError::MetadataMismatch {
            field: "bounds_mm",
            metadata: format!("{b:?}"),
            cloud: format!("{:?}", canonical.bounds()),
        });
    }
    let (cloud_fp, _) = canonical.digest();
    Ok(ModelFingerprint::combine(
        cloud_fp.root,
        capture.hash()?,
        reconstruction_hash(reconstruction)?,
    ))
}
