//! 32-byte digests as lowercase hex strings in JSON (the form `sha256sum`, block explorers and
//! the project manifest use). Parsing accepts an optional `0x` prefix and either case, so values
//! copied from a block explorer or from Solidity tooling parse too.

use serde::{Deserialize, Deserializer, Serializer};

use crate::error::MintError;

/// Lowercase hex of a digest, without prefix.
pub fn to_hex(bytes: &[u8; 32]) -> String {
    hex::encode(bytes)
}

/// Parse 64 hex digits (optionally `0x`-prefixed) into 32 bytes.
pub fn parse(value: &str) -> Result<[u8; 32], MintError> {
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    let bad = |reason: String| MintError::InvalidHex {
        value: value.to_string(),
        reason,
    };
    if digits.len() != 64 {
        return Err(bad(format!(
            "expected 64 hex digits, found {}",
            digits.len()
        )));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).map_err(|e| bad(e.to_string()))?;
    Ok(out)
}

/// `#[serde(with = "hex32")]` for `[u8; 32]`.
pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(bytes))
}

/// `#[serde(with = "hex32")]` for `[u8; 32]`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// `#[serde(with = "hex32::vec")]` for `Vec<[u8; 32]>`.
pub mod vec {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(&super::to_hex(b))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| super::parse(s).map_err(serde::de::Error::custom))
            .collect()
    }
}
