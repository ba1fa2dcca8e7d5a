//! What the client writes to disk: `chain.json` in the project folder ([`ChainRecord`]), the
//! deployment of a contract ([`Deployment`]), and the pending-mint journal ([`PendingMint`]) that
//! lets a restarted app find the transaction it already sent instead of sending another.
//! Every file is written to a temporary name and renamed, like every project file.

use std::path::Path;

use alloy::primitives::{Address, B256, TxHash};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{ChainError, ChainResult};

/// `chain.json`: where a project's token lives and how it got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRecord {
    pub schema_version: u32,
    /// Human name of the network ("anvil", "sepolia", …).
    pub network: String,
    pub chain_id: u64,
    pub contract: Address,
    /// Sequential from 1; `None` until minted.
    pub token_id: Option<u64>,
    /// The model fingerprint minted (the latest one after a resurvey).
    pub fingerprint: Option<B256>,
    /// Every transaction about this token, oldest first.
    pub tx_hashes: Vec<RecordedTx>,
}

/// One transaction in a [`ChainRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTx {
    /// "deploy", "mint", "pledge", "release", "seize", "valuation", "resurvey", …
    pub action: String,
    pub hash: TxHash,
    pub block: Option<u64>,
}

impl ChainRecord {
    pub const SCHEMA_VERSION: u32 = 1;

    pub fn new(network: impl Into<String>, chain_id: u64, contract: Address) -> Self {
        Self {
            schema_version: Self::SCHEMA_VERSION,
            network: network.into(),
            chain_id,
            contract,
            token_id: None,
            fingerprint: None,
            tx_hashes: Vec::new(),
        }
    }

    pub fn push_tx(&mut self, action: impl Into<String>, hash: TxHash, block: Option<u64>) {
        self.tx_hashes.push(RecordedTx {
            action: action.into(),
            hash,
            block,
        });
    }

    pub fn read(path: &Path) -> ChainResult<Self> {
        read_json(path)
    }

    pub fn write(&self, path: &Path) -> ChainResult<()> {
        write_json_atomic(path, self)
    }
}

/// A deployed contract: what `twinmint chain deploy` / `chain dev` print and save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub schema_version: u32,
    pub chain_id: u64,
    pub contract: Address,
    pub deployer: Address,
    /// Holder of DEFAULT_ADMIN_ROLE (grants every other role).
    pub authority: Address,
    pub tx_hash: TxHash,
    pub block: Option<u64>,
}

impl Deployment {
    pub fn read(path: &Path) -> ChainResult<Self> {
        read_json(path)
    }
    pub fn write(&self, path: &Path) -> ChainResult<()> {
        write_json_atomic(path, self)
    }
}

/// Journal entry written *before* a mint transaction is broadcast: the signed transaction's
/// hash is known before sending, so a crash at any point leaves either nothing on chain (the
/// hash is unknown to the node) or a transaction [`super::Chain::mint`] can find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMint {
    pub chain_id: u64,
    pub contract: Address,
    pub fingerprint: B256,
    pub to: Address,
    pub tx_hash: TxHash,
    /// Unix seconds when the record was written.
    pub created: i64,
}

impl PendingMint {
    /// `None` when there is no journal at `path`.
    pub fn read(path: &Path) -> ChainResult<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        read_json(path).map(Some)
    }

    pub fn write(&self, path: &Path) -> ChainResult<()> {
        write_json_atomic(path, self)
    }

    pub fn remove(path: &Path) -> ChainResult<()> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ChainError::io(path, e)),
        }
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> ChainResult<T> {
    let text = std::fs::read(path).map_err(|e| ChainError::io(path, e))?;
    serde_json::from_slice(&text).map_err(|source| ChainError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Write to `path.tmp` then rename, so readers see the old or the new file, never half of one.
fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> ChainResult<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ChainError::io(parent, e))?;
    }
    let mut text = serde_json::to_vec_pretty(value).map_err(|source| ChainError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push(b'\n');
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, &text).map_err(|e| ChainError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ChainError::io(path, e))
}

/// A human name for a network ("anvil", "sepolia", …), for `chain.json` and the studio.
pub fn network_name(chain_id: u64) -> String {
    match chain_id {
        1 => "mainnet".into(),
        10 => "optimism".into(),
        137 => "polygon".into(),
        8453 => "base".into(),
        42161 => "arbitrum".into(),
        80002 => "polygon-amoy".into(),
        84532 => "base-sepolia".into(),
        11155111 => "sepolia".into(),
        31337 => "anvil".into(),
        n => format!("chain-{n}"),
    }
}
