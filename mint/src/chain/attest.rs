//! Surveyor attestations: EIP-712 typed-data signatures that the contract checks before it mints
//! or appends a survey. The surveyor signs off-line and hands the [`SignedAttestation`] (a small
//! JSON file) to whoever submits the transaction — the owner from their own wallet, or the
//! surveyor — because the signature binds every argument, the submitter cannot change any.
//!
//! Domain: name "TwinMint", version "1", chain id, contract address. Types (exact strings, also
//! in `contracts/src/TwinMintNFR.sol`):
//! - `Attestation(address to,bytes32 fingerprint,bytes32 captureHash,string uri)`
//! - `Resurvey(uint256 tokenId,bytes32 fingerprint,bytes32 captureHash,string uri)`

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::sol;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use super::error::ChainResult;
use super::wallet::Wallet;

sol! {
    /// EIP-712 struct a surveyor signs to attest a mint.
    #[derive(Debug, PartialEq, Eq)]
    struct Attestation {
        address to;
        bytes32 fingerprint;
        bytes32 captureHash;
        string uri;
    }

    /// EIP-712 struct a surveyor signs to attest a resurvey of an existing token.
    #[derive(Debug, PartialEq, Eq)]
    struct Resurvey {
        uint256 tokenId;
        bytes32 fingerprint;
        bytes32 captureHash;
        string uri;
    }
}

/// The contract's EIP-712 domain on one chain.
pub fn domain(chain_id: u64, contract: Address) -> Eip712Domain {
    eip712_domain! {
        name: "TwinMint",
        version: "1",
        chain_id: chain_id,
        verifying_contract: contract,
    }
}

/// What the surveyor vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Claim {
    /// A new token for `to`.
    Mint {
        to: Address,
        fingerprint: B256,
        capture_hash: B256,
        uri: String,
    },
    /// A new survey appended to `token_id`.
    Resurvey {
        token_id: U256,
        fingerprint: B256,
        capture_hash: B256,
        uri: String,
    },
}

impl Claim {
    pub fn fingerprint(&self) -> B256 {
        match self {
            Claim::Mint { fingerprint, .. } | Claim::Resurvey { fingerprint, .. } => *fingerprint,
        }
    }

    /// The digest the contract's `attestationDigest` / `resurveyDigest` return.
    pub fn signing_hash(&self, domain: &Eip712Domain) -> B256 {
        match self {
            Claim::Mint {
                to,
                fingerprint,
                capture_hash,
                uri,
            } => Attestation {
                to: *to,
                fingerprint: *fingerprint,
                captureHash: *capture_hash,
                uri: uri.clone(),
            }
            .eip712_signing_hash(domain),
            Claim::Resurvey {
                token_id,
                fingerprint,
                capture_hash,
                uri,
            } => Resurvey {
                tokenId: *token_id,
                fingerprint: *fingerprint,
                captureHash: *capture_hash,
                uri: uri.clone(),
            }
            .eip712_signing_hash(domain),
        }
    }
}

/// A claim with the surveyor's signature and the domain it was signed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAttestation {
    pub claim: Claim,
    pub chain_id: u64,
    pub contract: Address,
    pub surveyor: Address,
    /// 65-byte r‖s‖v signature.
    pub signature: Bytes,
}

impl SignedAttestation {
    /// Recover the signer from the signature (what the contract does), to check an attestation
    /// file before spending gas on it.
    pub fn recover_surveyor(&self) -> Option<Address> {
        let sig = alloy::primitives::Signature::try_from(self.signature.as_ref()).ok()?;
        let hash = self
            .claim
            .signing_hash(&domain(self.chain_id, self.contract));
        sig.recover_address_from_prehash(&hash).ok()
    }
}

/// Sign `claim` with the surveyor's wallet for `contract` on `chain_id`. Needs no RPC: a
/// surveyor can attest on an offline machine.
pub async fn sign(
    surveyor: &Wallet,
    chain_id: u64,
    contract: Address,
    claim: Claim,
) -> ChainResult<SignedAttestation> {
    let domain = domain(chain_id, contract);
    let signature = match &claim {
        Claim::Mint {
            to,
            fingerprint,
            capture_hash,
            uri,
        } => {
            let value = Attestation {
                to: *to,
                fingerprint: *fingerprint,
                captureHash: *capture_hash,
                uri: uri.clone(),
            };
            surveyor.sign_typed(&value, &domain).await?
        }
        Claim::Resurvey {
            token_id,
            fingerprint,
            capture_hash,
            uri,
        } => {
            let value = Resurvey {
                tokenId: *token_id,
                fingerprint: *fingerprint,
                captureHash: *capture_hash,
                uri: uri.clone(),
            };
            surveyor.sign_typed(&value, &domain).await?
        }
    };
    Ok(SignedAttestation {
        claim,
        chain_id,
        contract,
        surveyor: surveyor.address(),
        signature: Bytes::from(signature.as_bytes().to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_strings_match_the_contract() {
        assert_eq!(
            Attestation::eip712_encode_type(),
            "Attestation(address to,bytes32 fingerprint,bytes32 captureHash,string uri)"
        );
        assert_eq!(
            Resurvey::eip712_encode_type(),
            "Resurvey(uint256 tokenId,bytes32 fingerprint,bytes32 captureHash,string uri)"
        );
    }

    #[tokio::test]
    async fn signature_recovers_to_the_surveyor() {
        let w = Wallet::from_mnemonic(
            "test test test test test test test test test test test junk",
            3,
        )
        .unwrap();
        let claim = Claim::Mint {
            to: Address::repeat_byte(9),
            fingerprint: B256::repeat_byte(1),
            capture_hash: B256::repeat_byte(2),
            uri: "ipfs://bafy".into(),
        };
        let signed = sign(&w, 31337, Address::repeat_byte(5), claim)
            .await
            .unwrap();
        assert_eq!(signed.signature.len(), 65);
        assert_eq!(signed.recover_surveyor(), Some(w.address()));
        let mut tampered = signed.clone();
        tampered.chain_id = 1;
        assert_ne!(tampered.recover_surveyor(), Some(w.address()));
        let json = serde_json::to_string(&signed).unwrap();
        assert_eq!(
            serde_json::from_str::<SignedAttestation>(&json).unwrap(),
            signed
        );
    }
}
