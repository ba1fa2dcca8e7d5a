//! Errors of the chain client. Each variant is something a surveyor, an owner or an operator can
//! act on — wrong network, node down, address not on the KYC whitelist, fingerprint already on
//! chain, no gas money — so the CLI can print the message as is. Contract reverts are decoded
//! into the custom error's name and arguments instead of a selector and hex.

use std::path::PathBuf;

use alloy::primitives::{Address, B256, Bytes, TxHash, U256};

/// Everything that can go wrong talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "RPC at {url} is on chain id {actual}, but chain id {expected} was expected: check --rpc / the network in the config"
    )]
    WrongChainId {
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("RPC at {url} is not reachable: {detail}")]
    RpcUnreachable { url: String, detail: String },
    #[error("RPC at {url} answered with an error: {detail}")]
    Rpc { url: String, detail: String },
    #[error("invalid RPC URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("no contract address is configured: deploy one first or set `contract` in the config")]
    NoContract,
    #[error("there is no contract at {address} on chain id {chain_id} (wrong network or address?)")]
    NoCode { address: Address, chain_id: u64 },
    #[error("{what} needs a signing wallet, but the client was connected read-only")]
    NoWallet { what: &'static str },
    #[error("address {account} is not on the KYC whitelist of this contract")]
    NotWhitelisted { account: Address },
    #[error("fingerprint {fingerprint} is already minted as token {token_id}")]
    AlreadyMinted { fingerprint: B256, token_id: U256 },
    #[error(
        "account {account} has insufficient funds for this transaction (balance {balance_wei} wei): {detail}"
    )]
    InsufficientFunds {
        account: Address,
        balance_wei: U256,
        detail: String,
    },
    /// Any other contract revert, decoded from the ABI: `name` is the custom error (or
    /// `Error` / `Panic` for string reverts and panics), `args` its arguments as `name=value`.
    #[error("{action} reverted: {name}({args})")]
    Reverted {
        action: String,
        name: String,
        args: String,
        data: Bytes,
    },
    #[error("{action}: transaction {hash} failed on chain without revert data")]
    TxFailed { action: String, hash: TxHash },
    #[error("{action}: transaction {hash} was not mined within {seconds} s")]
    TxTimeout {
        action: String,
        hash: TxHash,
        seconds: u64,
    },
    #[error("{action}: transaction {hash} is not known to the node (dropped?)")]
    TxUnknown { action: String, hash: TxHash },
    #[error("unexpected answer from the contract: {0}")]
    Unexpected(String),
    #[error("wallet: {0}")]
    Wallet(String),
    #[error("keystore {path}: {reason}")]
    Keystore { path: PathBuf, reason: String },
    #[error("signing failed: {0}")]
    Signing(String),
    #[error(
        "attestation was signed for chain id {signed_chain_id} and contract {signed_contract}, but this client is on chain id {chain_id} and contract {contract}"
    )]
    AttestationDomain {
        signed_chain_id: u64,
        signed_contract: Address,
        chain_id: u64,
        contract: Address,
    },
    #[error(
        "{path}: a pending mint for fingerprint {pending} is recorded there, not for {requested}; finish or remove it first"
    )]
    PendingMismatch {
        path: PathBuf,
        pending: B256,
        requested: B256,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("dev chain: {0}")]
    DevChain(String),
    #[error("browser-wallet bridge: {0}")]
    Bridge(String),
    #[error("browser-wallet bridge: the wallet rejected or failed the transaction: {0}")]
    BridgeRejected(String),
    #[error("browser-wallet bridge: no transaction hash arrived within {seconds} s")]
    BridgeTimeout { seconds: u64 },
}

impl ChainError {
    /// The custom error name when this is a decoded contract revert (`NotWhitelisted` and
    /// `AlreadyMinted` have their own variants and answer their names too).
    pub fn revert_name(&self) -> Option<&str> {
        match self {
            ChainError::Reverted { name, .. } => Some(name),
            ChainError::NotWhitelisted { .. } => Some("NotWhitelisted"),
            ChainError::AlreadyMinted { .. } => Some("AlreadyMinted"),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ChainError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`ChainError`].
pub type ChainResult<T> = std::result::Result<T, ChainError>;
