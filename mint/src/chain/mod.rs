//! The on-chain half of the mint stage: the TwinMintNFR contract (`mint/contracts/`) and an alloy
//! client for it.
//!
//! - [`Chain`]: connect to an RPC (the chain id is checked), deploy, roles and KYC admissions,
//!   mint with a surveyor attestation — at most once per fingerprint, even across restarts —,
//!   pledge / release / seize, valuation, resurvey, and the reads `verify` needs (fingerprint
//!   history, token URI, owner, pledge, valuation).
//! - [`attest`]: EIP-712 surveyor attestations, signable offline.
//! - [`Wallet`]: keystore, mnemonic, dev private key, Ledger (feature `ledger`).
//! - [`bridge`]: hand a prepared transaction to the user's browser wallet.
//! - [`dev`]: the local anvil dev chain (npm `@foundry-rs/anvil`) for `chain dev` and tests.
//! - [`ChainRecord`]: what `chain.json` in the project folder holds.
//! - [`ChainError`]: wrong chain, RPC down, no valid KYC, already minted, insufficient funds,
//!   and every other revert decoded into its custom error name and arguments.
//!
//! alloy is async; synchronous callers (the CLI) wrap calls in [`block_on`].

pub mod attest;
// Internal modules, public (hidden from the docs) only so the tests in tests/units reach them.
#[doc(hidden)]
pub mod bindings;
pub mod bridge;
mod client;
pub mod dev;
#[doc(hidden)]
pub mod error;
mod reads;
#[doc(hidden)]
pub mod record;
#[doc(hidden)]
pub mod rpc_url;
#[doc(hidden)]
pub mod wallet;

pub use attest::{
    Claim, DEFAULT_ATTESTATION_SECONDS, FOOTPRINT_BATCH, SignedAttestation, footprint_batches,
    footprint_root,
};
pub use bindings::{ARTIFACT_JSON, DecodedRevert, TwinMintNFR, decode_revert};
pub use bridge::{BridgeHandle, BridgeTx};
pub use client::{
    Chain, ChainConfig, DEFAULT_ADMIN_DELAY_S, DEFAULT_MAX_FEE_GWEI, FootprintInfo, KycCategory,
    KycInfo, MintOutcome, MintStatus, PledgeInfo, Role, SurveyEntry, ValuationInfo, currency_code,
};
pub use error::{ChainError, ChainResult, date, gwei};
pub use record::{ChainRecord, Deployment, PendingMint, RecordedTx, network_name};
pub use rpc_url::{RedactedUrl, is_loopback_url, redact_url};
pub use wallet::Wallet;

/// Re-exported so callers need no direct alloy dependency for the common types.
pub use alloy::primitives::{Address, B256, Bytes, TxHash, U256};

/// Run a future to completion on a fresh current-thread runtime: the bridge between the
/// synchronous CLI and the async alloy client. Do not call from inside a runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can always be built")
        .block_on(future)
}
