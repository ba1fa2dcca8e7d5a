//! `metadata.json`: the token's ERC-721 metadata (EIP-721 "Metadata JSON Schema" plus the
//! `animation_url` and `attributes` conventions every marketplace reads), and a `twinmint`
//! object with every hash and CID a lender needs to check the package without trusting it.
//!
//! The `twinmint` object is the package's root of trust: `verify` starts from it. It holds the
//! model fingerprint and its three parts, the capture metadata that `capture_hash` hashes (so
//! anyone can recompute that hash from the metadata alone), and the CID, SHA-256 and size of
//! every other file. It cannot hold its own CID or the folder's (those would be circular); they
//! are in `cids.json` and in the token URI on chain.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chain::Address;
use crate::cid::Cid;
use crate::fingerprint::{CaptureMetadata, CloudFingerprint, ModelFingerprint};

/// Version of the `twinmint` object's layout.
pub const METADATA_SCHEMA_VERSION: u32 = 1;

/// ERC-721 token metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenMetadata {
    pub name: String,
    pub description: String,
    /// `ipfs://CID` of `thumbnail.png`.
    pub image: String,
    /// `ipfs://CID` of `model.glb` (marketplaces show it in a 3-D viewer).
    pub animation_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    pub attributes: Vec<Attribute>,
    pub twinmint: TwinMintRecord,
}

/// One OpenSea-style attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub trait_type: String,
    pub value: serde_json::Value,
    /// `number`, `date`, … (marketplace display hint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_type: Option<String>,
}

impl Attribute {
    pub fn text(trait_type: &str, value: impl Into<String>) -> Self {
        Attribute {
            trait_type: trait_type.into(),
            value: serde_json::Value::String(value.into()),
            display_type: None,
        }
    }

    /// A number rounded to `decimals` places (JSON stays readable; the exact values are in
    /// the report and the project files).
    pub fn number(trait_type: &str, value: f64, decimals: i32) -> Self {
        let scale = 10f64.powi(decimals);
        let v = (value * scale).round() / scale;
        Attribute {
            trait_type: trait_type.into(),
            value: serde_json::Number::from_f64(v)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            display_type: Some("number".into()),
        }
    }

    pub fn integer(trait_type: &str, value: u64) -> Self {
        Attribute {
            trait_type: trait_type.into(),
            value: serde_json::Value::from(value),
            display_type: Some("number".into()),
        }
    }
}

/// What the scan shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetType {
    Forest,
    Pipeline,
}

impl AssetType {
    pub fn label(self) -> &'static str {
        match self {
            AssetType::Forest => "forest",
            AssetType::Pipeline => "pipeline",
        }
    }
}

/// CID, SHA-256 and size of one package file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagedFile {
    pub cid: Cid,
    /// Lowercase hex.
    pub sha256: String,
    pub bytes: u64,
}

impl PackagedFile {
    pub fn of_bytes(data: &[u8]) -> crate::Result<Self> {
        Ok(PackagedFile {
            cid: crate::cid::import_bytes(data, &Default::default())?.cid,
            sha256: capture::hash::sha256_bytes(data),
            bytes: data.len() as u64,
        })
    }

    /// `ipfs://CID`.
    pub fn ipfs_uri(&self) -> String {
        format!("ipfs://{}", self.cid)
    }
}

/// Who surveyed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surveyor {
    /// The key that attests the mint on chain.
    pub address: Option<Address>,
    pub name: Option<String>,
}

/// The `twinmint` object of [`TokenMetadata`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwinMintRecord {
    pub schema_version: u32,
    /// `twinmint-mint <version>`.
    pub generator: String,
    pub asset_type: AssetType,
    /// Model fingerprint and parts (hex, no prefix); `model` is what the token carries.
    pub fingerprint: ModelFingerprint,
    /// The cloud's Merkle tree (leaves, points, schema) behind `fingerprint.cloud_root`.
    pub cloud: CloudFingerprint,
    /// Exactly what `fingerprint.capture_hash` hashes (RFC 8785).
    pub capture: CaptureMetadata,
    pub surveyor: Surveyor,
    /// `thumbnail.png`, `model.glb`, `report.html`.
    pub files: BTreeMap<String, PackagedFile>,
    /// SHA-256 of the project files the package was built from (`manifest.json`, `cloud.laz`,
    /// `reconstruction.json`, `simulation.json`, `model.glb`).
    pub project: BTreeMap<String, String>,
}
