//! Selective disclosure: prove one fact of a fingerprinted model — one tree, one chunk (tile) of
//! the cloud, or the stand's year-0 carbon total — against the on-chain fingerprint, revealing
//! nothing else.
//!
//! The fingerprint is `keccak256(cloud_root ‖ capture_hash ‖ reconstruction_hash)`, and two of
//! its parts are RFC 6962 Merkle roots: `cloud_root` over the cloud's canonical chunks
//! ([`crate::fingerprint::canonical`]) and `reconstruction_hash` over the asset leaves (one per
//! tree, the rest of the reconstruction, the year-0 inventory;
//! [`crate::fingerprint::asset_leaves`]). A [`DisclosureProof`] carries the disclosed leaf, its
//! audit path, and the three part hashes; [`verify_proof`] recomputes the root from the leaf,
//! the fingerprint from the parts, and compares with the fingerprint the verifier trusts (read
//! from the chain). What the proof reveals: the leaf itself, the three 32-byte part hashes and
//! the sibling hashes on the path — hashes of other leaves, which say nothing of their content
//! (SHA-256 preimage resistance). What it does not do: hide the leaf's value (a "stock ≥ X"
//! statement without the stock needs a zero-knowledge proof; see `docs/design.md`).
//!
//! Leaves of a small, low-entropy record (a tree's height to the millimetre) could in principle
//! be guessed and checked against a sibling hash by brute force over plausible values; the
//! neighbouring tree leaves hold ids, positions and a dozen measurements each, far beyond such a
//! search. Noted here rather than salted, so that the fingerprint stays recomputable by anyone
//! holding the project.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fingerprint::canonical::PORTABLE_RECORD_BYTES;
use crate::fingerprint::reconstruction::{LEAF_INVENTORY, LEAF_TREE};
use crate::fingerprint::{
    CanonicalCloud, FingerprintOptions, MerkleProof, ModelFingerprint, asset_leaves, merkle,
};
use crate::package::PackageError;
use crate::package::project::{self as proj, ProjectFingerprint};

/// `schema` of a proof file.
pub const PROOF_SCHEMA: &str = "twinmint-disclosure-v1";

/// What a proof discloses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Claim {
    /// One tree of the reconstruction: its asset leaf (RFC 8785 text) under
    /// `reconstruction_hash`.
    Tree { leaf: String, proof: MerkleProof },
    /// The year-0 inventory (stand carbon): its asset leaf under `reconstruction_hash`.
    Carbon { leaf: String, proof: MerkleProof },
    /// One chunk of the cloud (portable records, base64) under `cloud_root`.
    CloudChunk {
        records_base64: String,
        proof: MerkleProof,
    },
}

/// A proof file (`twinmint prove … -o proof.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureProof {
    pub schema: String,
    /// The model fingerprint the proof is for, with its three parts (the leaf's root among
    /// them); [`verify_proof`] recombines them.
    pub fingerprint: ModelFingerprint,
    pub claim: Claim,
}

/// What a verified proof shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Disclosed {
    pub fingerprint: String,
    /// `tree`, `carbon` or `cloud_chunk`.
    pub kind: &'static str,
    /// The disclosed record: the tree, the inventory, or the chunk's point count and bounds.
    pub value: Value,
}

/// Why a proof could not be made or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Mint(#[from] crate::MintError),
    #[error("{path}: no tree with id {id} in the reconstruction")]
    NoSuchTree { path: PathBuf, id: u64 },
    #[error("{path}: no simulation with a year-0 inventory (run `twinmint simulate` first)")]
    NoInventory { path: PathBuf },
    #[error(
        "{path}: fingerprint.json is stale or missing (run `twinmint package` or `twinmint fingerprint`): {reason}"
    )]
    Stale { path: PathBuf, reason: String },
    #[error("the proof is not valid: {0}")]
    Invalid(String),
    #[error(
        "the proof is for fingerprint {proof}, not the trusted fingerprint {trusted} (another model, or a tampered proof)"
    )]
    WrongFingerprint { proof: String, trusted: String },
}

type Result<T> = std::result::Result<T, DisclosureError>;

/// The project's recorded fingerprint parts, checked against a recomputed reconstruction hash
/// (the cloud and capture parts are taken from `fingerprint.json`; a cloud chunk proof
/// recomputes the cloud root itself).
fn recorded(project: &Path, recon: &Value, inventory: Option<&Value>) -> Result<ModelFingerprint> {
    let path = project.join(proj::FINGERPRINT_JSON);
    let fp = ProjectFingerprint::read(project).map_err(|e| DisclosureError::Stale {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let root = crate::fingerprint::asset_root(recon, inventory)?;
    if root != fp.fingerprint.reconstruction_hash {
        return Err(DisclosureError::Stale {
            path,
            reason:
                "its reconstruction hash is not that of reconstruction.json and simulation.json"
                    .into(),
        });
    }
    Ok(fp.fingerprint)
}

fn proof_of(fp: &ModelFingerprint, claim: Claim) -> DisclosureProof {
    DisclosureProof {
        schema: PROOF_SCHEMA.into(),
        fingerprint: fp.clone(),
        claim,
    }
}

/// A proof that tree `id` (its `id` in `reconstruction.json`) is part of the project's model.
pub fn prove_tree(project: &Path, id: u64) -> Result<DisclosureProof> {
    let recon = proj::read_reconstruction_json(project)?;
    let inventory = proj::read_inventory_view(project)?;
    let fp = recorded(project, &recon, inventory.as_ref())?;
    let index = recon
        .get("trees")
        .and_then(Value::as_array)
        .and_then(|t| {
            t.iter()
                .position(|t| t.get("id").and_then(Value::as_u64) == Some(id))
        })
        .ok_or_else(|| DisclosureError::NoSuchTree {
            path: project.join(proj::RECONSTRUCTION_JSON),
            id,
        })?;
    let leaves = asset_leaves(&recon, inventory.as_ref())?;
    let tree = merkle::MerkleTree::from_leaves(&leaves);
    // Leaf 0 is the reconstruction without its trees; tree i is leaf i + 1.
    let leaf = index + 1;
    Ok(proof_of(
        &fp,
        Claim::Tree {
            leaf: leaves[leaf].clone(),
            proof: tree.proof(leaf as u64)?,
        },
    ))
}

/// A proof of the stand's year-0 inventory (carbon total) in the project's model.
pub fn prove_carbon(project: &Path) -> Result<DisclosureProof> {
    let recon = proj::read_reconstruction_json(project)?;
    let inventory = proj::read_inventory_view(project)?.ok_or(DisclosureError::NoInventory {
        path: project.join(proj::SIMULATION_JSON),
    })?;
    let fp = recorded(project, &recon, Some(&inventory))?;
    let leaves = asset_leaves(&recon, Some(&inventory))?;
    let tree = merkle::MerkleTree::from_leaves(&leaves);
    let leaf = leaves.len() - 1;
    Ok(proof_of(
        &fp,
        Claim::Carbon {
            leaf: leaves[leaf].clone(),
            proof: tree.proof(leaf as u64)?,
        },
    ))
}

/// A proof of the cloud chunk holding the point nearest `(x, y)` (absolute CRS metres), or of
/// chunk `index`: the chunk's records in the clear, under the cloud root.
pub fn prove_cloud_chunk(project: &Path, at: ChunkAt) -> Result<DisclosureProof> {
    let recon = proj::read_reconstruction_json(project)?;
    let inventory = proj::read_inventory_view(project)?;
    let fp = recorded(project, &recon, inventory.as_ref())?;
    let manifest = capture::project::open(project).map_err(PackageError::from)?;
    let cloud = proj::read_cloud(
        project,
        &manifest,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )?;
    let canonical = CanonicalCloud::new(&cloud, &FingerprintOptions::default())?;
    let tree = canonical.merkle_tree();
    if tree.root() != fp.cloud_root {
        return Err(DisclosureError::Stale {
            path: project.join(proj::FINGERPRINT_JSON),
            reason: "its cloud root is not that of cloud.laz".into(),
        });
    }
    let index = match at {
        ChunkAt::Index(i) => i,
        ChunkAt::Point(x, y) => {
            // The chunk of the nearest point: canonical rank → leaf.
            let origin = cloud.origin;
            let (mut best, mut best_d) = (0usize, f64::INFINITY);
            for (i, p) in cloud.positions.iter().enumerate() {
                let dx = p[0] as f64 + origin[0] - x;
                let dy = p[1] as f64 + origin[1] - y;
                let d = dx * dx + dy * dy;
                if d < best_d {
                    (best, best_d) = (i, d);
                }
            }
            let order = canonical.order();
            let rank = order.iter().position(|&i| i as usize == best).unwrap_or(0);
            rank / FingerprintOptions::default().chunk_points
        }
    };
    let bytes = canonical.leaf_bytes(index)?;
    Ok(proof_of(
        &fp,
        Claim::CloudChunk {
            records_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            proof: tree.proof(index as u64)?,
        },
    ))
}

/// Which cloud chunk to prove.
#[derive(Clone, Copy, Debug)]
pub enum ChunkAt {
    Index(usize),
    /// Absolute x, y (CRS metres).
    Point(f64, f64),
}

/// Check a proof: the leaf is under its part root, the parts combine to the proof's
/// fingerprint, and — with `trusted` (the token's fingerprint read from the chain) — that is
/// the trusted one. Returns what the proof discloses.
pub fn verify_proof(proof: &DisclosureProof, trusted: Option<[u8; 32]>) -> Result<Disclosed> {
    if proof.schema != PROOF_SCHEMA {
        return Err(DisclosureError::Invalid(format!(
            "schema {:?} is not {PROOF_SCHEMA:?}",
            proof.schema
        )));
    }
    let parts = &proof.fingerprint;
    let fp = ModelFingerprint::combine(
        parts.cloud_root,
        parts.capture_hash,
        parts.reconstruction_hash,
    );
    if fp.model != parts.model {
        return Err(DisclosureError::Invalid(format!(
            "its parts combine to {}, not the fingerprint it names ({})",
            fp.model_hex0x(),
            parts.model_hex0x()
        )));
    }
    if let Some(t) = trusted
        && t != fp.model
    {
        return Err(DisclosureError::WrongFingerprint {
            proof: fp.model_hex0x(),
            trusted: format!("0x{}", hex::encode(t)),
        });
    }
    let (kind, value) = match &proof.claim {
        Claim::Tree { leaf, proof: p } | Claim::Carbon { leaf, proof: p } => {
            if !merkle::verify(p, leaf.as_bytes(), &parts.reconstruction_hash) {
                return Err(DisclosureError::Invalid(
                    "the leaf and its path do not lead to the reconstruction hash".into(),
                ));
            }
            let v: Value = serde_json::from_str(leaf)
                .map_err(|e| DisclosureError::Invalid(format!("the leaf is not JSON: {e}")))?;
            let (kind, want, key) = match &proof.claim {
                Claim::Tree { .. } => ("tree", LEAF_TREE, "tree"),
                _ => ("carbon", LEAF_INVENTORY, "inventory"),
            };
            if v.get("leaf").and_then(Value::as_str) != Some(want) {
                return Err(DisclosureError::Invalid(format!(
                    "the leaf is not a {want} leaf"
                )));
            }
            (kind, v.get(key).cloned().unwrap_or(Value::Null))
        }
        Claim::CloudChunk {
            records_base64,
            proof: p,
        } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(records_base64)
                .map_err(|e| DisclosureError::Invalid(format!("records are not base64: {e}")))?;
            if !merkle::verify(p, &bytes, &parts.cloud_root) {
                return Err(DisclosureError::Invalid(
                    "the chunk and its path do not lead to the cloud root".into(),
                ));
            }
            ("cloud_chunk", chunk_summary(&bytes, p))
        }
    };
    Ok(Disclosed {
        fingerprint: fp.model_hex0x(),
        kind,
        value,
    })
}

/// Point count and millimetre bounds of a chunk of portable records (x, y, z as i64 mm, then
/// colour; [`crate::Schema::Portable`]).
fn chunk_summary(bytes: &[u8], p: &MerkleProof) -> Value {
    let mut lo = [i64::MAX; 3];
    let mut hi = [i64::MIN; 3];
    let recs = bytes.chunks_exact(PORTABLE_RECORD_BYTES);
    let n = recs.len();
    for r in recs {
        for k in 0..3 {
            let v = i64::from_le_bytes(r[k * 8..k * 8 + 8].try_into().unwrap_or([0; 8]));
            lo[k] = lo[k].min(v);
            hi[k] = hi[k].max(v);
        }
    }
    let m = |v: i64| v as f64 / 1000.0;
    serde_json::json!({
        "chunk": p.leaf_index,
        "chunks": p.leaves,
        "points": n,
        "min": [m(lo[0]), m(lo[1]), m(lo[2])],
        "max": [m(hi[0]), m(hi[1]), m(hi[2])],
    })
}

/// Read a proof file.
pub fn read_proof(path: &Path) -> Result<DisclosureProof> {
    Ok(proj::read_json(path)?)
}
