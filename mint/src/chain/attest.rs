//! Surveyor attestations: EIP-712 typed-data signatures that the contract checks before it mints
//! or appends a survey. The surveyor signs off-line and hands the [`SignedAttestation`] (a small
//! JSON file) to whoever submits the transaction — the owner from their own wallet, or the
//! surveyor — because the signature binds every argument, the submitter cannot change any.
//!
//! Domain: name "TwinMint", version "2", chain id, contract address. Types (exact strings, also
//! in `contracts/src/TwinMintNFR.sol`):
//! - `Attestation(address to,bytes32 fingerprint,bytes32 scanRoot,bytes32 captureHash,bytes32 footprintRoot,uint32 cellCount,string uri,uint64 deadline)`
//! - `Resurvey(uint256 tokenId,bytes32 previousFingerprint,bytes32 fingerprint,bytes32 scanRoot,bytes32 captureHash,bytes32 footprintRoot,uint32 cellCount,bytes32 driftHash,string uri,uint64 deadline)`
//!
//! Every attestation carries a deadline (an attestation signed for a recipient who was not yet
//! admitted must not work a year later) and the surveyor can cancel an unused one on chain.
//! The footprint (H3 cells, ascending) is bound by `footprintRoot`: the keccak-256 of the
//! packed keccak-256 hashes of its batches of [`FOOTPRINT_BATCH`] cells, each batch hashed as
//! 32-byte big-endian words — exactly `keccak256(abi.encodePacked(uint64[] cells))` — so the
//! contract can check every batch as it arrives.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use super::error::ChainResult;
use super::wallet::Wallet;

/// Cells per footprint batch (the contract's `FOOTPRINT_BATCH`): at about 23.5 k gas a cell a
/// batch costs about 12 M gas, under the per-transaction cap of 2^24 gas (EIP-7825).
pub const FOOTPRINT_BATCH: usize = 500;

/// Default validity of a new attestation: seven days, long enough to hand the file to the owner,
/// short enough that a stale one cannot be replayed months later.
pub const DEFAULT_ATTESTATION_SECONDS: u64 = 7 * 24 * 3600;

sol! {
    /// EIP-712 struct a surveyor signs to attest a mint.
    #[derive(Debug, PartialEq, Eq)]
    struct Attestation {
        address to;
        bytes32 fingerprint;
        bytes32 scanRoot;
        bytes32 captureHash;
        bytes32 footprintRoot;
        uint32 cellCount;
        string uri;
        uint64 deadline;
    }

    /// EIP-712 struct a surveyor signs to attest a resurvey of an existing token.
    #[derive(Debug, PartialEq, Eq)]
    struct Resurvey {
        uint256 tokenId;
        bytes32 previousFingerprint;
        bytes32 fingerprint;
        bytes32 scanRoot;
        bytes32 captureHash;
        bytes32 footprintRoot;
        uint32 cellCount;
        bytes32 driftHash;
        string uri;
        uint64 deadline;
    }
}

/// The contract's EIP-712 domain on one chain.
pub fn domain(chain_id: u64, contract: Address) -> Eip712Domain {
    eip712_domain! {
        name: "TwinMint",
        version: "2",
        chain_id: chain_id,
        verifying_contract: contract,
    }
}

/// The batch hashes of a footprint (cells ascending): `keccak256(abi.encodePacked(batch))`.
pub fn footprint_batches(cells: &[u64]) -> Vec<B256> {
    cells
        .chunks(FOOTPRINT_BATCH)
        .map(|batch| {
            let mut bytes = Vec::with_capacity(batch.len() * 32);
            for &c in batch {
                bytes.extend_from_slice(&[0u8; 24]);
                bytes.extend_from_slice(&c.to_be_bytes());
            }
            keccak256(&bytes)
        })
        .collect()
}

/// The footprint root the surveyor signs: `keccak256(abi.encodePacked(batchHashes))`.
pub fn footprint_root(cells: &[u64]) -> B256 {
    let mut bytes = Vec::new();
    for h in footprint_batches(cells) {
        bytes.extend_from_slice(h.as_slice());
    }
    keccak256(&bytes)
}

/// What the surveyor vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Claim {
    /// A new token for `to`.
    Mint {
        to: Address,
        fingerprint: B256,
        scan_root: B256,
        capture_hash: B256,
        footprint_root: B256,
        cell_count: u32,
        uri: String,
        /// Unix seconds after which the contract refuses the attestation.
        deadline: u64,
    },
    /// A new survey appended to `token_id`, following `previous_fingerprint`.
    Resurvey {
        token_id: U256,
        previous_fingerprint: B256,
        fingerprint: B256,
        scan_root: B256,
        capture_hash: B256,
        footprint_root: B256,
        cell_count: u32,
        /// SHA-256 of the resurvey's drift summary (`resurvey.json`), stored on chain with it.
        drift_hash: B256,
        uri: String,
        deadline: u64,
    },
}

impl Claim {
    pub fn fingerprint(&self) -> B256 {
        match self {
            Claim::Mint { fingerprint, .. } | Claim::Resurvey { fingerprint, .. } => *fingerprint,
        }
    }

    pub fn scan_root(&self) -> B256 {
        match self {
            Claim::Mint { scan_root, .. } | Claim::Resurvey { scan_root, .. } => *scan_root,
        }
    }

    pub fn deadline(&self) -> u64 {
        match self {
            Claim::Mint { deadline, .. } | Claim::Resurvey { deadline, .. } => *deadline,
        }
    }

    pub fn footprint_root(&self) -> B256 {
        match self {
            Claim::Mint { footprint_root, .. } | Claim::Resurvey { footprint_root, .. } => {
                *footprint_root
            }
        }
    }

    pub fn uri(&self) -> &str {
        match self {
            Claim::Mint { uri, .. } | Claim::Resurvey { uri, .. } => uri,
        }
    }

    /// The contract's `MintClaim` argument (None for a resurvey).
    pub fn mint_struct(&self) -> Option<crate::chain::bindings::TwinMintNFR::MintClaim> {
        match self {
            Claim::Mint {
                to,
                fingerprint,
                scan_root,
                capture_hash,
                footprint_root,
                cell_count,
                uri,
                deadline,
            } => Some(crate::chain::bindings::TwinMintNFR::MintClaim {
                to: *to,
                fingerprint: *fingerprint,
                scanRoot: *scan_root,
                captureHash: *capture_hash,
                footprintRoot: *footprint_root,
                cellCount: *cell_count,
                uri: uri.clone(),
                deadline: *deadline,
            }),
            Claim::Resurvey { .. } => None,
        }
    }

    /// The contract's `ResurveyClaim` argument (None for a mint).
    pub fn resurvey_struct(&self) -> Option<crate::chain::bindings::TwinMintNFR::ResurveyClaim> {
        match self {
            Claim::Resurvey {
                token_id,
                previous_fingerprint,
                fingerprint,
                scan_root,
                capture_hash,
                footprint_root,
                cell_count,
                drift_hash,
                uri,
                deadline,
            } => Some(crate::chain::bindings::TwinMintNFR::ResurveyClaim {
                tokenId: *token_id,
                previousFingerprint: *previous_fingerprint,
                fingerprint: *fingerprint,
                scanRoot: *scan_root,
                captureHash: *capture_hash,
                footprintRoot: *footprint_root,
                cellCount: *cell_count,
                driftHash: *drift_hash,
                uri: uri.clone(),
                deadline: *deadline,
            }),
            Claim::Mint { .. } => None,
        }
    }

    /// The digest the contract's `mintDigest` / `resurveyDigest` return.
    pub fn signing_hash(&self, domain: &Eip712Domain) -> B256 {
        match self.typed() {
            Typed::Mint(a) => a.eip712_signing_hash(domain),
            Typed::Resurvey(r) => r.eip712_signing_hash(domain),
        }
    }

    fn typed(&self) -> Typed {
        match self {
            Claim::Mint {
                to,
                fingerprint,
                scan_root,
                capture_hash,
                footprint_root,
                cell_count,
                uri,
                deadline,
            } => Typed::Mint(Attestation {
                to: *to,
                fingerprint: *fingerprint,
                scanRoot: *scan_root,
                captureHash: *capture_hash,
                footprintRoot: *footprint_root,
                cellCount: *cell_count,
                uri: uri.clone(),
                deadline: *deadline,
            }),
            Claim::Resurvey {
                token_id,
                previous_fingerprint,
                fingerprint,
                scan_root,
                capture_hash,
                footprint_root,
                cell_count,
                drift_hash,
                uri,
                deadline,
            } => Typed::Resurvey(Resurvey {
                tokenId: *token_id,
                previousFingerprint: *previous_fingerprint,
                fingerprint: *fingerprint,
                scanRoot: *scan_root,
                captureHash: *capture_hash,
                footprintRoot: *footprint_root,
                cellCount: *cell_count,
                driftHash: *drift_hash,
                uri: uri.clone(),
                deadline: *deadline,
            }),
        }
    }
}

/// A claim as the EIP-712 struct that is signed.
enum Typed {
    Mint(Attestation),
    Resurvey(Resurvey),
}

/// A claim with the surveyor's signature, the domain it was signed for, and the footprint cells
/// its `footprint_root` commits to (ascending H3 indices; not signed one by one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAttestation {
    pub claim: Claim,
    pub chain_id: u64,
    pub contract: Address,
    pub surveyor: Address,
    /// 65-byte r‖s‖v signature.
    pub signature: Bytes,
    /// The footprint's H3 cells, ascending.
    pub cells: Vec<u64>,
}

impl SignedAttestation {
    /// Recover the signer from the signature (what the contract does), to check an attestation
    /// file before spending gas on it.
    pub fn recover_surveyor(&self) -> Option<Address> {
        let sig = alloy::primitives::Signature::try_from(self.signature.as_ref()).ok()?;
        let hash = self.digest();
        sig.recover_address_from_prehash(&hash).ok()
    }

    /// The EIP-712 digest signed (what `cancelAttestation` takes).
    pub fn digest(&self) -> B256 {
        self.claim
            .signing_hash(&domain(self.chain_id, self.contract))
    }

    /// The cells hash to the claim's footprint root and their count matches.
    pub fn footprint_matches(&self) -> bool {
        let count = match &self.claim {
            Claim::Mint { cell_count, .. } | Claim::Resurvey { cell_count, .. } => *cell_count,
        };
        count as usize == self.cells.len()
            && self.cells.windows(2).all(|w| w[0] < w[1])
            && footprint_root(&self.cells) == self.claim.footprint_root()
    }
}

/// Sign `claim` with the surveyor's wallet for `contract` on `chain_id`. Needs no RPC: a
/// surveyor can attest on an offline machine. `cells` must be the footprint `claim` commits to.
pub async fn sign(
    surveyor: &Wallet,
    chain_id: u64,
    contract: Address,
    claim: Claim,
    cells: Vec<u64>,
) -> ChainResult<SignedAttestation> {
    let domain = domain(chain_id, contract);
    let signature = match claim.typed() {
        Typed::Mint(value) => surveyor.sign_typed(&value, &domain).await?,
        Typed::Resurvey(value) => surveyor.sign_typed(&value, &domain).await?,
    };
    Ok(SignedAttestation {
        claim,
        chain_id,
        contract,
        surveyor: surveyor.address(),
        signature: Bytes::from(signature.as_bytes().to_vec()),
        cells,
    })
}
