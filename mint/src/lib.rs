//! TwinMint mint stage: makes a reconstructed asset a verifiable, pledgeable on-chain right.
//!
//! This crate holds the chain-independent part:
//! - [`fingerprint`]: the format-independent cloud fingerprint (canonical millimetre records in
//!   Morton order, SHA-256 Merkle tree with proofs, RFC 6962), capture and reconstruction
//!   metadata canonicalised with RFC 8785, and the keccak-256 model fingerprint that goes on
//!   chain ([`fingerprint::compute`]);
//! - [`footprint`]: the asset's footprint as H3 grid cells (from the scan's coverage or a
//!   GeoJSON parcel) and their keccak root, so the contract can refuse overlapping claims;
//! - [`cid`]: IPFS CIDv1 of files and folders, computed locally exactly as
//!   `ipfs-unixfs-importer` does (raw leaves, 1 MiB chunks, balanced DAG);
//! - [`bench`](mod@bench): the fingerprint throughput benchmark behind `twinmint bench fingerprint`;
//! - [`chain`]: the TwinMintNFR contract's alloy client (deploy, attest, mint, pledge, verify reads);
//! - [`package`]: the NFR package of a project (ERC-721 metadata, thumbnail, model, collateral
//!   report, CIDs) and `fingerprint.json`;
//! - [`verify`]: recompute a package's hashes, CIDs and fingerprint and compare with the project
//!   and the chain.

pub mod bench;
pub mod chain;
pub mod cid;
pub mod disclosure;
pub mod error;
pub mod fingerprint;
pub mod footprint;
pub mod hex32;
pub mod http;
pub mod package;
pub mod seal;
pub mod verify;
pub mod workflow;

pub use error::{MintError, Result};
pub use fingerprint::{
    CaptureMetadata, CloudFingerprint, FingerprintOptions, MerkleProof, ModelFingerprint, Schema,
    compute,
};
