//! Contract bindings generated at compile time from the committed artifact (ABI + bytecode), so
//! the Rust client can never call a function the deployed bytecode does not have; and revert
//! decoding from the same ABI, so every custom error reaches the user by name with its arguments.

// `sol!` generates a constructor per event and error; v2's `Minted` carries eight fields.
#![allow(clippy::too_many_arguments)]

use std::sync::LazyLock;

use alloy::dyn_abi::{DynSolValue, JsonAbiExt};
use alloy::json_abi::JsonAbi;
use alloy::primitives::Bytes;
use alloy::sol;
use alloy::sol_types::SolInterface;

use super::error::ChainError;

sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TwinMintNFR,
    "contracts/artifacts/TwinMintNFR.json"
);

/// The artifact text, for tools that want the ABI or bytecode as JSON.
pub const ARTIFACT_JSON: &str = include_str!("../../contracts/artifacts/TwinMintNFR.json");

static ABI: LazyLock<JsonAbi> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Artifact {
        abi: JsonAbi,
    }
    serde_json::from_str::<Artifact>(ARTIFACT_JSON)
        .expect("the committed artifact holds a valid ABI (checked by chain_artifacts test)")
        .abi
});

/// A revert decoded against the contract ABI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRevert {
    pub name: String,
    /// `name=value` pairs joined with `, `.
    pub args: String,
}

/// Decode revert data: a custom error of the contract (including inherited OpenZeppelin ones),
/// `Error(string)` or `Panic(uint256)`. None when the selector is unknown or the data is short.
pub fn decode_revert(data: &[u8]) -> Option<DecodedRevert> {
    if data.len() < 4 {
        return None;
    }
    let (selector, body) = data.split_at(4);
    let error = ABI
        .errors()
        .chain(std::iter::once(&*STANDARD_ERROR))
        .chain(std::iter::once(&*PANIC))
        .find(|e| e.selector().as_slice() == selector)?;
    let values = error.abi_decode_input(body).ok()?;
    let args = error
        .inputs
        .iter()
        .zip(&values)
        .map(|(param, value)| {
            if param.name.is_empty() {
                format_value(value)
            } else {
                format!("{}={}", param.name, format_value(value))
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(DecodedRevert {
        name: error.name.clone(),
        args,
    })
}

static STANDARD_ERROR: LazyLock<alloy::json_abi::Error> =
    LazyLock::new(|| alloy::json_abi::Error::parse("Error(string message)").expect("valid"));
static PANIC: LazyLock<alloy::json_abi::Error> =
    LazyLock::new(|| alloy::json_abi::Error::parse("Panic(uint256 code)").expect("valid"));

fn format_value(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::FixedBytes(word, size) => format!("0x{}", alloy::hex::encode(&word[..*size])),
        DynSolValue::Bytes(b) => format!("0x{}", alloy::hex::encode(b)),
        DynSolValue::Uint(v, _) => v.to_string(),
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(format_value)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        other => format!("{other:?}"),
    }
}

/// Turn revert data into the most specific [`ChainError`]: the errors callers branch on get
/// their own variants, everything else is [`ChainError::Reverted`] with name and arguments.
pub fn revert_error(action: &str, data: Bytes) -> ChainError {
    use TwinMintNFR::TwinMintNFRErrors as E;
    match E::abi_decode(&data) {
        Ok(E::KycMissing(e)) => return ChainError::KycMissing { account: e.account },
        Ok(E::KycExpired(e)) => {
            return ChainError::KycExpired {
                account: e.account,
                expiry: e.expiry,
            };
        }
        Ok(E::ScanAlreadyMinted(e)) => {
            return ChainError::ScanAlreadyMinted {
                scan_root: e.scanRoot,
                token_id: e.tokenId,
            };
        }
        Ok(E::FootprintOverlap(e)) => {
            return ChainError::FootprintOverlap {
                cell: e.cell,
                token_id: e.tokenId,
            };
        }
        Ok(E::AttestationExpired(e)) => {
            return ChainError::AttestationExpired {
                deadline: e.deadline,
            };
        }
        Ok(E::AlreadyMinted(e)) => {
            return ChainError::AlreadyMinted {
                fingerprint: e.fingerprint,
                token_id: e.tokenId,
            };
        }
        _ => {}
    }
    match decode_revert(&data) {
        Some(d) => ChainError::Reverted {
            action: action.to_string(),
            name: d.name,
            args: d.args,
            data,
        },
        None => ChainError::Reverted {
            action: action.to_string(),
            name: if data.is_empty() {
                "<no revert data>".into()
            } else {
                format!(
                    "<unknown error 0x{}>",
                    alloy::hex::encode(&data[..data.len().min(4)])
                )
            },
            args: String::new(),
            data,
        },
    }
}
