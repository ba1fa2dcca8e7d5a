//! Readers: who a package is sealed to, named by Ethereum address.
//!
//! An address alone does not give the public key ECIES needs, so a reader hands over a
//! *reader card*: their address and a `personal_sign` (EIP-191) signature of
//! [`card_message`] — anyone recovers the public key from it, and the card is refused unless it
//! recovers to the address it names. A card may instead carry the public key directly (e.g.
//! from a transaction the reader sent); it is then checked to hash to the address.

use std::path::Path;

use alloy::primitives::{Address, Signature};
use k256::PublicKey;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use serde::{Deserialize, Serialize};

use super::error::{SealError, SealResult};
use crate::chain::Wallet;

/// A reader card (`twinmint reader-key … -o card.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderCard {
    pub address: Address,
    /// SEC 1 public key, hex (compressed or uncompressed), when given directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// `personal_sign` of [`card_message`], hex (65 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What a reader signs: names the purpose and the address, so the signature cannot be replayed
/// as consent to anything else.
pub fn card_message(address: &Address) -> String {
    format!(
        "TwinMint reader key\nSeal collateral packages for {} to this key.",
        address.to_checksum(None)
    )
}

/// The Ethereum address of a public key: the last 20 bytes of keccak-256 of its uncompressed
/// coordinates.
pub fn address_of(key: &PublicKey) -> Address {
    let p = key.to_encoded_point(false);
    let h = crate::fingerprint::keccak256(&p.as_bytes()[1..]);
    Address::from_slice(&h[12..])
}

impl ReaderCard {
    /// The card of a wallet's key (signed).
    pub fn from_wallet(w: &Wallet) -> SealResult<Self> {
        let address = w.address();
        let sig = w
            .sign_message(card_message(&address).as_bytes())
            .map_err(|e| SealError::Reader(e.to_string()))?;
        Ok(ReaderCard {
            address,
            public_key: None,
            signature: Some(format!("0x{}", hex::encode(sig.as_bytes()))),
        })
    }

    /// The card of a public key (hex SEC 1).
    pub fn from_public_key(hex_key: &str) -> SealResult<Self> {
        let key = parse_key(hex_key)?;
        Ok(ReaderCard {
            address: address_of(&key),
            public_key: Some(hex::encode(key.to_encoded_point(true).as_bytes())),
            signature: None,
        })
    }

    /// The checked public key: recovered from the signature (or parsed), and refused unless it
    /// is the key of [`Self::address`].
    pub fn public_key(&self) -> SealResult<PublicKey> {
        let key = match (&self.signature, &self.public_key) {
            (Some(sig), _) => {
                let bytes = hex::decode(sig.trim_start_matches("0x"))
                    .map_err(|_| SealError::Reader("the signature is not hex".into()))?;
                let sig = Signature::try_from(bytes.as_slice())
                    .map_err(|_| SealError::Reader("the signature is not 65 bytes r‖s‖v".into()))?;
                let vk = sig
                    .recover_from_msg(card_message(&self.address))
                    .map_err(|_| {
                        SealError::Reader("no public key recovers from the signature".into())
                    })?;
                PublicKey::from(&vk)
            }
            (None, Some(k)) => parse_key(k)?,
            (None, None) => {
                return Err(SealError::Reader(format!(
                    "the card for {} has neither a signature nor a public key",
                    self.address
                )));
            }
        };
        let derived = address_of(&key);
        if derived != self.address {
            return Err(SealError::Reader(format!(
                "the card names {} but its key belongs to {derived}",
                self.address
            )));
        }
        Ok(key)
    }

    pub fn read(path: &Path) -> SealResult<Self> {
        let bytes = std::fs::read(path).map_err(|e| SealError::io(path, e))?;
        let card: ReaderCard = serde_json::from_slice(&bytes).map_err(|e| SealError::Invalid {
            path: path.to_path_buf(),
            reason: format!("not a reader card: {e}"),
        })?;
        card.public_key().map_err(|e| SealError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(card)
    }

    pub fn write(&self, path: &Path) -> SealResult<()> {
        let json = serde_json::to_vec_pretty(self).expect("a card serialises");
        capture::atomic::write_bytes(path, &json).map_err(SealError::Capture)
    }
}

fn parse_key(hex_key: &str) -> SealResult<PublicKey> {
    let bytes = hex::decode(hex_key.trim().trim_start_matches("0x"))
        .map_err(|_| SealError::Reader("the public key is not hex".into()))?;
    PublicKey::from_sec1_bytes(&bytes)
        .map_err(|_| SealError::Reader("not a secp256k1 public key (SEC 1)".into()))
}
