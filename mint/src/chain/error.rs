//! Errors of the chain client. Each variant is something a surveyor, an owner or an operator can
//! act on — wrong network, node down, address without valid KYC, fingerprint already on
//! chain, no gas money — so the CLI can print the message as is. Contract reverts are decoded
//! into the custom error's name and arguments instead of a selector and hex.

use std::path::PathBuf;

use alloy::primitives::{Address, B256, Bytes, TxHash, U256};

use super::rpc_url::RedactedUrl;

/// Everything that can go wrong talking to the chain. RPC URLs are held as [`RedactedUrl`], so
/// neither `Display` nor `Debug` shows an API key in them.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "RPC at {url} is on chain id {actual}, but chain id {expected} was expected: check --rpc / the network in the config"
    )]
    WrongChainId {
        url: RedactedUrl,
        expected: u64,
        actual: u64,
    },
    #[error("RPC at {url} is not reachable: {detail}")]
    RpcUnreachable { url: RedactedUrl, detail: String },
    #[error("RPC at {url} answered with an error: {detail}")]
    Rpc { url: RedactedUrl, detail: String },
    #[error("invalid RPC URL {url}: {reason}")]
    InvalidUrl { url: RedactedUrl, reason: String },
    #[error("no contract address is configured: deploy one first or set `contract` in the config")]
    NoContract,
    #[error("there is no contract at {address} on chain id {chain_id} (wrong network or address?)")]
    NoCode { address: Address, chain_id: u64 },
    #[error("{what} needs a signing wallet, but the client was connected read-only")]
    NoWallet { what: &'static str },
    #[error(
        "address {account} has no KYC admission on this contract: a registrar must admit it first (`twinmint chain kyc admit`)"
    )]
    KycMissing { account: Address },
    #[error("the KYC admission of {account} expired on {}: its registrar must renew it", date(*.expiry))]
    KycExpired { account: Address, expiry: u64 },
    #[error(
        "the scan (cloud root {scan_root}) already backs token {token_id}: one scan can back one token only"
    )]
    ScanAlreadyMinted { scan_root: B256, token_id: U256 },
    #[error(
        "the footprint overlaps token {token_id} (H3 cell {cell:x} is already claimed by it): the same land cannot back two tokens"
    )]
    FootprintOverlap { cell: u64, token_id: U256 },
    #[error("the surveyor's attestation expired on {}: ask the surveyor for a new one", date(*.deadline))]
    AttestationExpired { deadline: u64 },
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
    /// An argument the client refuses before anything is sent.
    #[error("{0}; nothing was sent")]
    InvalidArgument(String),
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
    #[error(
        "{action}: the network's fee estimate is {} gwei per gas, above the cap of {} gwei (--max-fee-gwei, or max_fee_gwei in the network's entry); nothing was sent",
        gwei(*.estimate_wei),
        gwei(*.cap_wei)
    )]
    FeeTooHigh {
        action: String,
        estimate_wei: u128,
        cap_wei: u128,
    },
    #[error("dev chain: {0}")]
    DevChain(String),
    #[error("browser-wallet bridge: {0}")]
    Bridge(String),
    #[error("browser-wallet bridge: the wallet rejected or failed the transaction: {0}")]
    BridgeRejected(String),
    #[error("browser-wallet bridge: no transaction hash arrived within {seconds} s")]
    BridgeTimeout { seconds: u64 },
    /// The hash the browser page posted back names a transaction other than the one prepared.
    #[error(
        "browser-wallet bridge: transaction {hash} is not the prepared {action}: its {field} is {actual}, expected {expected}; not accepted"
    )]
    BridgeTxMismatch {
        action: String,
        hash: TxHash,
        field: &'static str,
        expected: String,
        actual: String,
    },
}

/// Unix seconds as an RFC 3339 UTC date, for messages.
pub fn date(unix: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap_or(i64::MAX), 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("unix time {unix}"))
}

/// Wei as gwei, exactly (`1500000000` → `"1.5"`).
pub fn gwei(wei: u128) -> String {
    let whole = wei / 1_000_000_000;
    let frac = wei % 1_000_000_000;
    if frac == 0 {
        whole.to_string()
    } else {
        let digits = format!("{frac:09}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl ChainError {
    /// The custom error name when this is a decoded contract revert (the KYC, uniqueness and
    /// deadline errors have their own variants and answer their names too).
    pub fn revert_name(&self) -> Option<&str> {
        match self {
            ChainError::Reverted { name, .. } => Some(name),
            ChainError::KycMissing { .. } => Some("KycMissing"),
            ChainError::KycExpired { .. } => Some("KycExpired"),
            ChainError::ScanAlreadyMinted { .. } => Some("ScanAlreadyMinted"),
            ChainError::FootprintOverlap { .. } => Some("FootprintOverlap"),
            ChainError::AttestationExpired { .. } => Some("AttestationExpired"),
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
