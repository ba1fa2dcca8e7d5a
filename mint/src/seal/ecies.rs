//! ECIES over secp256k1: wrap a 32-byte content key for a reader's Ethereum public key.
//!
//! SEC 1 v2 §5.1 (ECIES) with the choices of most Ethereum tooling's "encrypt to a public key":
//! a fresh ephemeral key `e`, the ECDH shared secret `x(e·R)`, HKDF-SHA256 (RFC 5869; salt =
//! the ephemeral and recipient public keys, compressed, so the key is bound to both) to a
//! 256-bit key-encryption key, and AES-256-GCM (NIST SP 800-38D) over the content key with the
//! recipient's address as associated data. The key-encryption key is used once, so the zero
//! nonce is safe.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::{SealError, SealResult};

/// HKDF `info` of the key-encryption key.
const INFO: &[u8] = b"twinmint-ecies-v1";

/// A content key wrapped for one reader. JSON: hex strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The ephemeral public key, SEC 1 compressed (33 bytes).
    #[serde(with = "hex::serde")]
    pub ephemeral: Vec<u8>,
    /// AES-256-GCM of the 32-byte key, tag appended (48 bytes).
    #[serde(with = "hex::serde")]
    pub ciphertext: Vec<u8>,
}

fn kek(shared: &[u8], ephemeral: &[u8], recipient: &PublicKey) -> Zeroizing<[u8; 32]> {
    let mut salt = ephemeral.to_vec();
    salt.extend_from_slice(recipient.to_encoded_point(true).as_bytes());
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut out = Zeroizing::new([0u8; 32]);
    hk.expand(INFO, out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

/// Wrap `key` for `recipient`; `aad` binds the wrap to the reader (their address bytes).
pub fn wrap(key: &[u8; 32], recipient: &PublicKey, aad: &[u8]) -> WrappedKey {
    let eph = SecretKey::random(&mut rand08::rngs::OsRng);
    let eph_pub = eph.public_key().to_encoded_point(true).as_bytes().to_vec();
    let shared = k256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), recipient.as_affine());
    let kek = kek(shared.raw_secret_bytes(), &eph_pub, recipient);
    let cipher = Aes256Gcm::new_from_slice(kek.as_ref()).expect("32-byte key");
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&[0u8; 12]), Payload { msg: key, aad })
        .expect("AES-GCM encryption of 32 bytes cannot fail");
    WrappedKey {
        ephemeral: eph_pub,
        ciphertext,
    }
}

/// Unwrap with the reader's secret key. Fails (without saying more) when the key is not the
/// one the wrap was made for, or the wrap was altered.
pub fn unwrap(w: &WrappedKey, secret: &SecretKey, aad: &[u8]) -> SealResult<Zeroizing<[u8; 32]>> {
    let eph = PublicKey::from_sec1_bytes(&w.ephemeral).map_err(|_| {
        SealError::Corrupt("a wrapped key's ephemeral public key is invalid".into())
    })?;
    let shared = k256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), eph.as_affine());
    let kek = kek(
        shared.raw_secret_bytes(),
        &w.ephemeral,
        &secret.public_key(),
    );
    let cipher = Aes256Gcm::new_from_slice(kek.as_ref()).expect("32-byte key");
    let pt = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&[0u8; 12]),
                Payload {
                    msg: &w.ciphertext,
                    aad,
                },
            )
            .map_err(|_| SealError::WrongKey)?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if pt.len() != 32 {
        return Err(SealError::Corrupt("a wrapped key is not 32 bytes".into()));
    }
    out.copy_from_slice(&pt);
    Ok(out)
}
