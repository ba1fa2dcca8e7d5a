//! The chain client: connect (checking the chain id), deploy, roles and KYC, mint with a
//! surveyor attestation, pledge / release / seize, valuation, resurvey, and the reads `verify`
//! needs. Every transaction goes through one path ([`Chain::send`]) that estimates gas first —
//! so a revert is caught and decoded before any gas is spent — signs locally, and waits for the
//! receipt; every error is classified into a [`ChainError`] a person can act on.

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, TxHash, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolConstructor};
use alloy::transports::http::reqwest;
use alloy::transports::{RpcError, TransportErrorKind};
use serde::{Deserialize, Serialize};

use super::attest::{self, Claim, SignedAttestation};
use super::bindings::{TwinMintNFR, revert_error};
use super::bridge::BridgeTx;
use super::error::{ChainError, ChainResult};
use super::record::{Deployment, PendingMint};
use super::wallet::Wallet;

/// Where to connect and what to expect there. `Debug` shows the RPC URL redacted (it often
/// carries an API key; see [`super::redact_url`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// HTTP(S) JSON-RPC endpoint.
    pub rpc_url: String,
    /// The chain id the node must report; a mismatch is an error, never a silent switch, so a
    /// mainnet key is not used against a testnet config or the other way round.
    pub chain_id: u64,
    /// The TwinMintNFR contract; `None` before `deploy`.
    pub contract: Option<Address>,
    /// How long to wait for a receipt before giving up (the transaction may still land; the
    /// pending-mint journal covers that case for mints).
    #[serde(default = "default_receipt_timeout_s")]
    pub receipt_timeout_s: u64,
    /// The most a transaction may offer per gas (wei): a send whose fee estimate is above it is
    /// refused ([`ChainError::FeeTooHigh`]) instead of paying whatever the RPC suggests.
    #[serde(default = "default_max_fee_per_gas_wei")]
    pub max_fee_per_gas_wei: u128,
}

/// Default cap on the fee per gas: 500 gwei.
pub const DEFAULT_MAX_FEE_GWEI: u64 = 500;

fn default_receipt_timeout_s() -> u64 {
    180
}

fn default_max_fee_per_gas_wei() -> u128 {
    u128::from(DEFAULT_MAX_FEE_GWEI) * 1_000_000_000
}

impl ChainConfig {
    pub fn new(rpc_url: impl Into<String>, chain_id: u64, contract: Option<Address>) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            chain_id,
            contract,
            receipt_timeout_s: default_receipt_timeout_s(),
            max_fee_per_gas_wei: default_max_fee_per_gas_wei(),
        }
    }
}

impl std::fmt::Debug for ChainConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainConfig")
            .field("rpc_url", &super::redact_url(&self.rpc_url))
            .field("chain_id", &self.chain_id)
            .field("contract", &self.contract)
            .field("receipt_timeout_s", &self.receipt_timeout_s)
            .field("max_fee_per_gas_wei", &self.max_fee_per_gas_wei)
            .finish()
    }
}

/// Contract roles (`DEFAULT_ADMIN_ROLE` is the authority).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Authority,
    Registrar,
    Surveyor,
    ValuationOracle,
}

impl Role {
    /// The role id the contract uses (`keccak256("REGISTRAR_ROLE")`, …; zero for the admin).
    pub fn id(self) -> B256 {
        match self {
            Role::Authority => B256::ZERO,
            Role::Registrar => alloy::primitives::keccak256("REGISTRAR_ROLE"),
            Role::Surveyor => alloy::primitives::keccak256("SURVEYOR_ROLE"),
            Role::ValuationOracle => alloy::primitives::keccak256("VALUATION_ORACLE_ROLE"),
        }
    }
}

/// How [`Chain::mint`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MintStatus {
    /// This call sent the transaction and it was mined.
    Minted,
    /// A transaction recorded in the pending-mint journal by an earlier run was found mined.
    Recovered,
    /// The chain already holds this fingerprint for the same recipient (an earlier run whose
    /// journal is gone): nothing was sent.
    AlreadyOnChain,
}

/// The token a mint produced or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintOutcome {
    pub token_id: u64,
    pub status: MintStatus,
    /// The mint transaction, when known (not for `AlreadyOnChain`).
    pub tx_hash: Option<TxHash>,
    pub block: Option<u64>,
}

/// One survey in a token's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyEntry {
    pub fingerprint: B256,
    pub scan_root: B256,
    pub capture_hash: B256,
    pub footprint_root: B256,
    pub cell_count: u32,
    pub surveyor: Address,
    pub timestamp: u64,
    /// The drift summary's SHA-256 for a resurvey; zero for the first survey.
    pub drift_hash: B256,
}

/// A pledge: offered by the owner, in force once the lender accepted (and until it expires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeInfo {
    pub lender: Address,
    /// The owner who offered it.
    pub owner: Address,
    pub loan_ref: B256,
    /// When the lender accepted (0 while only offered).
    pub since: u64,
    /// The lender may seize from this time on.
    pub seizable_after: u64,
    /// The pledge lapses at this time (0: never).
    pub expires_at: u64,
    pub accepted: bool,
}

impl PledgeInfo {
    /// Accepted and not expired at `now` (unix seconds).
    pub fn in_force(&self, now: u64) -> bool {
        self.accepted && (self.expires_at == 0 || now <= self.expires_at)
    }
}

/// A KYC admission on the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KycInfo {
    /// The registrar that admitted the account.
    pub registrar: Address,
    pub category: KycCategory,
    /// Unix seconds; the admission is void from then on.
    pub expiry: u64,
}

/// KYC client categories (the contract's `INSTITUTIONAL`, `ACCREDITED`, `RETAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KycCategory {
    Institutional,
    Accredited,
    Retail,
}

/// A token's land-footprint claim for its latest survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootprintInfo {
    pub root: B256,
    pub expected: u32,
    pub claimed: u32,
}

impl FootprintInfo {
    pub fn complete(&self) -> bool {
        self.claimed == self.expected
    }
}

/// The latest valuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuationInfo {
    pub value: U256,
    /// Currency code as bytes32 (e.g. `"USD"` left-aligned, zero padded); see [`currency_code`].
    pub currency: B256,
    pub as_of: u64,
    pub oracle: Address,
}

impl KycCategory {
    pub fn code(self) -> u8 {
        match self {
            KycCategory::Institutional => 1,
            KycCategory::Accredited => 2,
            KycCategory::Retail => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(KycCategory::Institutional),
            2 => Some(KycCategory::Accredited),
            3 => Some(KycCategory::Retail),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KycCategory::Institutional => "institutional",
            KycCategory::Accredited => "accredited",
            KycCategory::Retail => "retail",
        }
    }
}

/// Default delay of a two-step authority transfer (`AccessControlDefaultAdminRules`): two days,
/// time for registrars and lenders to notice and react to an unexpected handover.
pub const DEFAULT_ADMIN_DELAY_S: u64 = 2 * 24 * 3600;

/// `"USD"` → bytes32 left-aligned and zero-padded (what `setValuation` takes).
pub fn currency_code(code: &str) -> B256 {
    let mut out = [0u8; 32];
    let n = code.len().min(32);
    out[..n].copy_from_slice(&code.as_bytes()[..n]);
    B256::from(out)
}

/// A connection to one chain (and usually one TwinMintNFR contract on it).
pub struct Chain {
    config: ChainConfig,
    provider: DynProvider,
    wallet: Option<(Wallet, EthereumWallet)>,
    poll: Duration,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("config", &self.config)
            .field("wallet", &self.wallet.as_ref().map(|(w, _)| w))
            .finish()
    }
}

impl Chain {
    /// Connect with a signing wallet: checks that the node answers, that it is on
    /// `config.chain_id`, and that a configured contract has code there.
    pub async fn connect(config: ChainConfig, wallet: Wallet) -> ChainResult<Self> {
        Self::connect_inner(config, Some(wallet)).await
    }

    /// Connect without a wallet, for reads (`verify`, history, pledge status).
    pub async fn connect_read_only(config: ChainConfig) -> ChainResult<Self> {
        Self::connect_inner(config, None).await
    }

    async fn connect_inner(config: ChainConfig, wallet: Option<Wallet>) -> ChainResult<Self> {
        let url = config
            .rpc_url
            .parse::<reqwest::Url>()
            .map_err(|e| ChainError::InvalidUrl {
                url: config.rpc_url.clone().into(),
                reason: e.to_string(),
            })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ChainError::InvalidUrl {
                url: config.rpc_url.clone().into(),
                reason: "only http:// and https:// endpoints are supported".into(),
            });
        }
        let local = matches!(
            url.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        );
        let http = http_client(&config.rpc_url)?;
        let provider = ProviderBuilder::default()
            .connect_reqwest(http, url)
            .erased();
        let wallet = wallet.map(|w| {
            let eth = w.ethereum_wallet();
            (w, eth)
        });
        let chain = Self {
            poll: if local {
                Duration::from_millis(100)
            } else {
                Duration::from_secs(2)
            },
            config,
            provider,
            wallet,
        };
        let actual = chain
            .provider
            .get_chain_id()
            .await
            .map_err(|e| chain.rpc_error("connect", e))?;
        if actual != chain.config.chain_id {
            return Err(ChainError::WrongChainId {
                url: chain.config.rpc_url.clone().into(),
                expected: chain.config.chain_id,
                actual,
            });
        }
        if let Some(address) = chain.config.contract {
            chain.require_code(address).await?;
        }
        Ok(chain)
    }

    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    pub fn chain_id(&self) -> u64 {
        self.config.chain_id
    }

    /// The signing wallet's address.
    pub fn address(&self) -> ChainResult<Address> {
        Ok(self.signer("this")?.0.address())
    }

    /// The configured contract address.
    pub fn contract_address(&self) -> ChainResult<Address> {
        self.config.contract.ok_or(ChainError::NoContract)
    }

    /// Point this client at another (already deployed) contract.
    pub async fn use_contract(&mut self, address: Address) -> ChainResult<()> {
        self.require_code(address).await?;
        self.config.contract = Some(address);
        Ok(())
    }

    /// Typed contract handle for reads not wrapped here.
    pub fn contract(&self) -> ChainResult<TwinMintNFR::TwinMintNFRInstance<DynProvider>> {
        Ok(TwinMintNFR::new(
            self.contract_address()?,
            self.provider.clone(),
        ))
    }

    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Balance in wei.
    pub async fn balance(&self, account: Address) -> ChainResult<U256> {
        self.provider
            .get_balance(account)
            .await
            .map_err(|e| self.rpc_error("balance", e))
    }

    // ------------------------------------------------------------------ deploy and admin

    /// Deploy a new TwinMintNFR with `authority` (default: the wallet) as admin and the
    /// default admin-transfer delay, and use it.
    pub async fn deploy(&mut self, authority: Option<Address>) -> ChainResult<Deployment> {
        self.deploy_with(authority, DEFAULT_ADMIN_DELAY_S).await
    }

    /// Deploy with an explicit admin-transfer delay (seconds). A zero authority is refused here
    /// (and by the contract's constructor).
    pub async fn deploy_with(
        &mut self,
        authority: Option<Address>,
        admin_delay_s: u64,
    ) -> ChainResult<Deployment> {
        let deployer = self.address()?;
        let authority = authority.unwrap_or(deployer);
        if authority == Address::ZERO {
            return Err(ChainError::InvalidArgument(
                "the authority cannot be the zero address: nobody could ever appoint registrars or surveyors".into(),
            ));
        }
        let admin_delay =
            alloy::primitives::Uint::<48, 1>::from(admin_delay_s.min((1u64 << 48) - 1));
        let mut code = TwinMintNFR::BYTECODE.to_vec();
        code.extend(
            TwinMintNFR::constructorCall {
                authority,
                adminDelay: admin_delay,
            }
            .abi_encode(),
        );
        let receipt = self.send("deploy", None, code.into(), |_| Ok(())).await?;
        let contract = receipt.contract_address.ok_or_else(|| {
            ChainError::Unexpected("deployment receipt has no contract address".into())
        })?;
        self.config.contract = Some(contract);
        Ok(Deployment {
            schema_version: 1,
            chain_id: self.config.chain_id,
            contract,
            deployer,
            authority,
            tx_hash: receipt.transaction_hash,
            block: receipt.block_number,
        })
    }

    /// Grant a role (the wallet must hold the authority role).
    pub async fn grant_role(
        &self,
        role: Role,
        account: Address,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "grantRole",
            TwinMintNFR::grantRoleCall {
                role: role.id(),
                account,
            },
        )
        .await
    }

    pub async fn revoke_role(
        &self,
        role: Role,
        account: Address,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "revokeRole",
            TwinMintNFR::revokeRoleCall {
                role: role.id(),
                account,
            },
        )
        .await
    }

    pub async fn has_role(&self, role: Role, account: Address) -> ChainResult<bool> {
        let c = self.contract()?;
        self.read("hasRole", c.hasRole(role.id(), account)).await
    }

    /// Admit (or renew) `client` with a category until `expiry` (unix seconds; registrar only).
    pub async fn admit(
        &self,
        client: Address,
        category: KycCategory,
        expiry: u64,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "admit",
            TwinMintNFR::admitCall {
                client,
                category: category.code(),
                expiry,
            },
        )
        .await
    }

    /// Revoke `client`'s admission (only the registrar that admitted it, or the authority).
    pub async fn revoke_kyc(&self, client: Address) -> ChainResult<TransactionReceipt> {
        self.send_call("revoke", TwinMintNFR::revokeCall { client })
            .await
    }

    /// The account's admission record, if any (expired ones included; see [`Chain::has_kyc`]).
    pub async fn kyc_of(&self, account: Address) -> ChainResult<Option<KycInfo>> {
        let c = self.contract()?;
        let k = self.read("kycOf", c.kycOf(account)).await?;
        if k.registrar == Address::ZERO {
            return Ok(None);
        }
        Ok(Some(KycInfo {
            registrar: k.registrar,
            category: KycCategory::from_code(k.category).ok_or_else(|| {
                ChainError::Unexpected(format!("unknown KYC category {}", k.category))
            })?,
            expiry: k.expiry,
        }))
    }

    /// Unexpired admission by a registrar that still holds the role.
    pub async fn has_kyc(&self, account: Address) -> ChainResult<bool> {
        let c = self.contract()?;
        self.read("hasKyc", c.hasKyc(account)).await
    }

    // ------------------------------------------------------------------ attest and mint

    /// Sign `claim` (whose footprint is `cells`) as surveyor for this chain and contract (see
    /// [`attest::sign`]).
    pub async fn attest(&self, claim: Claim, cells: Vec<u64>) -> ChainResult<SignedAttestation> {
        let (wallet, _) = self.signer("attest")?;
        attest::sign(
            wallet,
            self.config.chain_id,
            self.contract_address()?,
            claim,
            cells,
        )
        .await
    }

    /// Withdraw an unused attestation this wallet signed (by its EIP-712 digest).
    pub async fn cancel_attestation(&self, digest: B256) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "cancelAttestation",
            TwinMintNFR::cancelAttestationCall { digest },
        )
        .await
    }

    /// The digest the contract computes for `claim` (cross-checks the client's EIP-712 code).
    pub async fn contract_digest(&self, claim: &Claim) -> ChainResult<B256> {
        let c = self.contract()?;
        if let Some(m) = claim.mint_struct() {
            self.read("mintDigest", c.mintDigest(m)).await
        } else if let Some(r) = claim.resurvey_struct() {
            self.read("resurveyDigest", c.resurveyDigest(r)).await
        } else {
            Err(ChainError::Unexpected("unknown claim kind".into()))
        }
    }

    /// Mint the attested token, at most once per fingerprint however often this is called or
    /// the app restarted:
    /// 1. [`Chain::reconcile_mint`]: an earlier run's journal and the chain state are checked
    ///    first, and an existing token is returned instead of sending again;
    /// 2. otherwise the transaction is signed, its hash journaled at `journal`, and only then
    ///    broadcast. After a mined mint the journal is kept: the caller removes it
    ///    ([`PendingMint::remove`]) once the outcome is recorded (`chain.json`), so a crash in
    ///    between still finds the mint.
    ///
    /// The contract rejects a second mint of a fingerprint anyway; the journal saves the gas and
    /// the confusing revert, and finds a transaction that was sent but not yet mined.
    pub async fn mint(
        &self,
        signed: &SignedAttestation,
        journal: &Path,
    ) -> ChainResult<MintOutcome> {
        if let Some(outcome) = self.reconcile_mint(signed, journal).await? {
            return Ok(outcome);
        }
        let contract = self.contract_address()?;
        let (to, fingerprint) = mint_target(signed)?;
        let call = mint_call(signed)?;
        let chain_id = self.config.chain_id;
        let result = self
            .send(
                "mint",
                Some(contract),
                call.abi_encode().into(),
                |tx_hash| {
                    PendingMint {
                        chain_id,
                        contract,
                        fingerprint,
                        to,
                        tx_hash,
                        created: chrono::Utc::now().timestamp(),
                    }
                    .write(journal)
                },
            )
            .await;
        match result {
            Ok(receipt) => {
                let token_id = minted_token(&receipt, contract)?;
                self.complete_footprint(token_id, &signed.cells).await?;
                // The journal stays until the caller has recorded the token (chain.json) and
                // calls `PendingMint::remove`: a crash before that recovers this mint.
                Ok(MintOutcome {
                    token_id,
                    status: MintStatus::Minted,
                    tx_hash: Some(receipt.transaction_hash),
                    block: receipt.block_number,
                })
            }
            // The node may have the transaction: keep the journal for the next run.
            Err(
                e @ (ChainError::TxTimeout { .. }
                | ChainError::RpcUnreachable { .. }
                | ChainError::Rpc { .. }),
            ) => Err(e),
            Err(e) => {
                PendingMint::remove(journal)?;
                Err(e)
            }
        }
    }

    /// The read-only half of [`Chain::mint`], also for mints sent through the browser bridge:
    /// - a journal at `journal` (see [`PendingMint`]) is reconciled: its transaction is looked
    ///   up (waited for while still in the node's pool) and, if mined, its token returned
    ///   ([`MintStatus::Recovered`]); a failed or dropped one is forgotten;
    /// - the chain is asked `tokenOfFingerprint`: minted for the same recipient (and still
    ///   held) → that token ([`MintStatus::AlreadyOnChain`]); minted for anyone else, moved
    ///   since, or taken by a resurvey → [`ChainError::AlreadyMinted`];
    /// - `Ok(None)`: nothing on chain, the mint may be sent.
    pub async fn reconcile_mint(
        &self,
        signed: &SignedAttestation,
        journal: &Path,
    ) -> ChainResult<Option<MintOutcome>> {
        let contract = self.contract_address()?;
        self.check_domain(signed)?;
        let (to, fingerprint) = mint_target(signed)?;

        let mut journaled = false;
        if let Some(pending) = PendingMint::read(journal)? {
            if pending.fingerprint != fingerprint
                || pending.contract != contract
                || pending.chain_id != self.config.chain_id
            {
                return Err(ChainError::PendingMismatch {
                    path: journal.to_path_buf(),
                    pending: pending.fingerprint,
                    requested: fingerprint,
                });
            }
            journaled = true;
            if let Some(receipt) = self.find_receipt("mint", pending.tx_hash).await?
                && receipt.status()
                // Only a Minted event of this contract counts: a journaled hash of some other
                // transaction (a bridge page posting a foreign hash) is not our mint.
                && let Ok(token_id) = minted_token(&receipt, contract)
            {
                self.complete_footprint(token_id, &signed.cells).await?;
                // Kept until the caller recorded the token (see `mint`).
                return Ok(Some(MintOutcome {
                    token_id,
                    status: MintStatus::Recovered,
                    tx_hash: Some(pending.tx_hash),
                    block: receipt.block_number,
                }));
            }
            // Failed or dropped: nothing of ours is on chain; decide from the chain state.
            PendingMint::remove(journal)?;
        }

        let Some(token_id) = self.token_of_fingerprint(fingerprint).await? else {
            return Ok(None);
        };
        let first = self.history(token_id).await?.first().copied();
        let owner = self.owner_of(token_id).await?;
        if first == Some(fingerprint) && owner == to {
            self.complete_footprint(token_id, &signed.cells).await?;
            return Ok(Some(MintOutcome {
                token_id,
                status: if journaled {
                    MintStatus::Recovered
                } else {
                    MintStatus::AlreadyOnChain
                },
                tx_hash: None,
                block: None,
            }));
        }
        Err(ChainError::AlreadyMinted {
            fingerprint,
            token_id: U256::from(token_id),
        })
    }

    /// Journal a mint the browser wallet sent (`hash` from [`super::BridgeHandle::wait`]) before
    /// waiting for it, so a restart finds it through [`Chain::reconcile_mint`].
    pub fn journal_mint(
        &self,
        signed: &SignedAttestation,
        tx_hash: TxHash,
        journal: &Path,
    ) -> ChainResult<()> {
        let (to, fingerprint) = mint_target(signed)?;
        PendingMint {
            chain_id: self.config.chain_id,
            contract: self.contract_address()?,
            fingerprint,
            to,
            tx_hash,
            created: chrono::Utc::now().timestamp(),
        }
        .write(journal)
    }

    /// Send `mint` without the journal or the on-chain pre-check. For tools and tests that
    /// want the contract's own answer; the contract still rejects a minted fingerprint.
    pub async fn send_mint(&self, signed: &SignedAttestation) -> ChainResult<MintOutcome> {
        self.check_domain(signed)?;
        let receipt = self.send_call("mint", mint_call(signed)?).await?;
        let token_id = minted_token(&receipt, self.contract_address()?)?;
        self.complete_footprint(token_id, &signed.cells).await?;
        Ok(MintOutcome {
            token_id,
            status: MintStatus::Minted,
            tx_hash: Some(receipt.transaction_hash),
            block: receipt.block_number,
        })
    }

    /// Claim the batches of `token_id`'s latest footprint that are not on chain yet (each batch
    /// is one transaction of up to [`attest::FOOTPRINT_BATCH`] cells). Idempotent: reads how
    /// many cells the contract holds first.
    pub async fn complete_footprint(&self, token_id: u64, cells: &[u64]) -> ChainResult<u32> {
        let mut info = self.footprint_of(token_id).await?;
        if info.expected as usize != cells.len() || attest::footprint_root(cells) != info.root {
            return Err(ChainError::InvalidArgument(format!(
                "the footprint given ({} cells) is not the one token {token_id} was attested with ({} cells, root {})",
                cells.len(),
                info.expected,
                info.root
            )));
        }
        let mut batches = 0;
        while !info.complete() {
            let start = info.claimed as usize;
            let end = (start + attest::FOOTPRINT_BATCH).min(cells.len());
            self.send_call(
                "claimFootprint",
                TwinMintNFR::claimFootprintCall {
                    tokenId: U256::from(token_id),
                    cells: cells[start..end].to_vec(),
                },
            )
            .await?;
            batches += 1;
            info = self.footprint_of(token_id).await?;
        }
        Ok(batches)
    }

    /// Append a surveyor-attested survey to a token (owner only; while pledged, after the
    /// lender's [`Chain::consent_resurvey`]), then claim the rest of its footprint.
    pub async fn resurvey(&self, signed: &SignedAttestation) -> ChainResult<TransactionReceipt> {
        self.check_domain(signed)?;
        let Some(claim) = signed.claim.resurvey_struct() else {
            return Err(ChainError::Unexpected(
                "a mint attestation cannot resurvey".into(),
            ));
        };
        let token_id = token_u64(claim.tokenId)?;
        let receipt = self
            .send_call(
                "resurvey",
                TwinMintNFR::resurveyCall {
                    c: claim,
                    batchHashes: attest::footprint_batches(&signed.cells),
                    cells: first_batch(&signed.cells),
                    signature: signed.signature.clone(),
                },
            )
            .await?;
        self.complete_footprint(token_id, &signed.cells).await?;
        Ok(receipt)
    }

    /// The lender of a pledged token agrees to a resurvey with exactly `fingerprint`.
    pub async fn consent_resurvey(
        &self,
        token_id: u64,
        fingerprint: B256,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "consentResurvey",
            TwinMintNFR::consentResurveyCall {
                tokenId: U256::from(token_id),
                fingerprint,
            },
        )
        .await
    }

    // ------------------------------------------------------------------ transfer, pledge, value

    /// `transferFrom(wallet, to, token)`.
    pub async fn transfer(&self, to: Address, token_id: u64) -> ChainResult<TransactionReceipt> {
        let from = self.address()?;
        self.send_call(
            "transfer",
            TwinMintNFR::transferFromCall {
                from,
                to,
                tokenId: U256::from(token_id),
            },
        )
        .await
    }

    /// Offer the wallet's token to `lender` as collateral under `loan_ref` (owner only; both
    /// need valid KYC). Nothing is locked until the lender calls [`Chain::accept_pledge`].
    /// `seizable_after`: the lender may seize from then on (unix seconds, in the future);
    /// `expires_at`: the pledge lapses then (0: until released or seized).
    pub async fn offer_pledge(
        &self,
        token_id: u64,
        lender: Address,
        loan_ref: B256,
        seizable_after: u64,
        expires_at: u64,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "offerPledge",
            TwinMintNFR::offerPledgeCall {
                tokenId: U256::from(token_id),
                lender,
                loanRef: loan_ref,
                seizableAfter: seizable_after,
                expiresAt: expires_at,
            },
        )
        .await
    }

    /// The owner points the token at a new package version (same fingerprint): how a sealed
    /// package's new reader grant reaches the chain (ERC-4906 `MetadataUpdate`).
    pub async fn update_token_uri(
        &self,
        token_id: u64,
        uri: String,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "updateTokenURI",
            TwinMintNFR::updateTokenURICall {
                tokenId: U256::from(token_id),
                uri,
            },
        )
        .await
    }

    /// The lender accepts the offered pledge (`loan_ref` must match the offer).
    pub async fn accept_pledge(
        &self,
        token_id: u64,
        loan_ref: B256,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "acceptPledge",
            TwinMintNFR::acceptPledgeCall {
                tokenId: U256::from(token_id),
                loanRef: loan_ref,
            },
        )
        .await
    }

    /// The owner withdraws an offer the lender has not accepted.
    pub async fn cancel_pledge_offer(&self, token_id: u64) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "cancelPledgeOffer",
            TwinMintNFR::cancelPledgeOfferCall {
                tokenId: U256::from(token_id),
            },
        )
        .await
    }

    /// Release a pledge (the lender; the owner too once the pledge expired).
    pub async fn release(&self, token_id: u64) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "release",
            TwinMintNFR::releaseCall {
                tokenId: U256::from(token_id),
            },
        )
        .await
    }

    /// Seize a pledged token on default (lender only, after `seizable_after`, before expiry;
    /// the lender needs valid KYC).
    pub async fn seize(&self, token_id: u64) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "seize",
            TwinMintNFR::seizeCall {
                tokenId: U256::from(token_id),
            },
        )
        .await
    }

    /// Publish a valuation (valuation oracle only); emits `MetadataUpdate`.
    pub async fn set_valuation(
        &self,
        token_id: u64,
        value: U256,
        currency: B256,
        as_of: u64,
    ) -> ChainResult<TransactionReceipt> {
        self.send_call(
            "setValuation",
            TwinMintNFR::setValuationCall {
                tokenId: U256::from(token_id),
                value,
                currency,
                asOf: as_of,
            },
        )
        .await
    }

    // ------------------------------------------------------------------ browser-wallet flows

    /// An unsigned contract call for the browser-wallet bridge (the owner signs in their own
    /// wallet). `from` pins the account the page must use, when known. The call is simulated
    /// first, so a transaction the contract would reject never reaches the wallet.
    pub async fn prepare<C: SolCall>(
        &self,
        action: &str,
        call: &C,
        from: Option<Address>,
    ) -> ChainResult<BridgeTx> {
        let to = self.contract_address()?;
        let data: Bytes = call.abi_encode().into();
        if let Some(from) = from {
            let tx = TransactionRequest::default()
                .with_from(from)
                .with_to(to)
                .with_input(data.clone());
            if let Err(e) = self.provider.estimate_gas(tx).await {
                return Err(self.with_balance(self.rpc_error(action, e), from).await);
            }
        }
        Ok(BridgeTx {
            action: action.to_string(),
            chain_id: self.config.chain_id,
            from,
            to: Some(to),
            data,
            value: U256::ZERO,
        })
    }

    /// The mint of `signed` as a bridge transaction (the owner submits their own mint).
    pub async fn prepare_mint(
        &self,
        signed: &SignedAttestation,
        from: Option<Address>,
    ) -> ChainResult<BridgeTx> {
        self.check_domain(signed)?;
        self.prepare("mint", &mint_call(signed)?, from).await
    }

    /// Wait for a transaction sent elsewhere and decode a failure. For a hash the browser
    /// bridge posted back, use [`Chain::confirm_bridge`], which also checks it is the prepared
    /// transaction.
    pub async fn confirm(&self, action: &str, hash: TxHash) -> ChainResult<TransactionReceipt> {
        self.wait_receipt(action, hash).await
    }

    /// Wait for the transaction the browser wallet sent for `prepared` (`hash`, as the bridge
    /// page posted it) and accept it only if it is that transaction: once mined, it is fetched
    /// and its chain id, recipient, calldata, value and — when `prepared.from` is set — sender
    /// must be the prepared ones, else [`ChainError::BridgeTxMismatch`]. A page (or anything
    /// else that can post to the bridge) cannot pass off some other transaction.
    pub async fn confirm_bridge(
        &self,
        prepared: &BridgeTx,
        hash: TxHash,
    ) -> ChainResult<TransactionReceipt> {
        let action = prepared.action.as_str();
        let result = self.wait_receipt(action, hash).await;
        // Not mined (or the node is gone): there is nothing to compare yet.
        if let Err(
            ChainError::TxTimeout { .. }
            | ChainError::Rpc { .. }
            | ChainError::RpcUnreachable { .. },
        ) = &result
        {
            return result;
        }
        let tx = self
            .provider
            .get_transaction_by_hash(hash)
            .await
            .map_err(|e| self.rpc_error(action, e))?
            .ok_or_else(|| ChainError::TxUnknown {
                action: action.to_string(),
                hash,
            })?;
        use alloy::consensus::Transaction as _;
        let sent = super::bridge::SentTx {
            chain_id: tx.chain_id(),
            from: alloy::network::TransactionResponse::from(&tx),
            to: tx.to(),
            input: tx.input().clone(),
            value: tx.value(),
        };
        prepared.check_sent(hash, &sent)?;
        if prepared.chain_id != self.config.chain_id {
            return Err(ChainError::BridgeTxMismatch {
                action: action.to_string(),
                hash,
                field: "chain id",
                expected: self.config.chain_id.to_string(),
                actual: prepared.chain_id.to_string(),
            });
        }
        result
    }

    // ------------------------------------------------------------------ internals

    fn signer(&self, what: &'static str) -> ChainResult<&(Wallet, EthereumWallet)> {
        self.wallet.as_ref().ok_or(ChainError::NoWallet { what })
    }

    fn check_domain(&self, signed: &SignedAttestation) -> ChainResult<()> {
        let contract = self.contract_address()?;
        if signed.chain_id != self.config.chain_id || signed.contract != contract {
            return Err(ChainError::AttestationDomain {
                signed_chain_id: signed.chain_id,
                signed_contract: signed.contract,
                chain_id: self.config.chain_id,
                contract,
            });
        }
        Ok(())
    }

    async fn require_code(&self, address: Address) -> ChainResult<()> {
        let code = self
            .provider
            .get_code_at(address)
            .await
            .map_err(|e| self.rpc_error("getCode", e))?;
        if code.is_empty() {
            return Err(ChainError::NoCode {
                address,
                chain_id: self.config.chain_id,
            });
        }
        Ok(())
    }

    async fn send_call<C: SolCall>(
        &self,
        action: &str,
        call: C,
    ) -> ChainResult<TransactionReceipt> {
        let to = self.contract_address()?;
        self.send(action, Some(to), call.abi_encode().into(), |_| Ok(()))
            .await
    }

    /// The one transaction path: simulate (estimate gas, which surfaces reverts with their
    /// data), fill nonce and fees, sign locally, call `before_broadcast` with the hash (the mint
    /// journal), broadcast, wait for the receipt.
    async fn send(
        &self,
        action: &str,
        to: Option<Address>,
        input: Bytes,
        before_broadcast: impl FnOnce(TxHash) -> ChainResult<()>,
    ) -> ChainResult<TransactionReceipt> {
        let from = self.address()?;
        match self.send_inner(action, to, input, before_broadcast).await {
            Err(e @ ChainError::InsufficientFunds { .. }) => Err(self.with_balance(e, from).await),
            other => other,
        }
    }

    async fn send_inner(
        &self,
        action: &str,
        to: Option<Address>,
        input: Bytes,
        before_broadcast: impl FnOnce(TxHash) -> ChainResult<()>,
    ) -> ChainResult<TransactionReceipt> {
        let (wallet, eth_wallet) = self.signer("sending a transaction")?;
        let from = wallet.address();
        let mut tx = TransactionRequest::default()
            .with_from(from)
            .with_chain_id(self.config.chain_id);
        tx = match to {
            Some(to) => tx.with_to(to).with_input(input),
            None => tx.with_deploy_code(input),
        };
        let gas = self
            .provider
            .estimate_gas(tx.clone())
            .await
            .map_err(|e| self.rpc_error(action, e))?;
        let nonce = self
            .provider
            .get_transaction_count(from)
            .pending()
            .await
            .map_err(|e| self.rpc_error(action, e))?;
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| self.rpc_error(action, e))?;
        // The RPC's estimate is not trusted blindly: above the cap, nothing is signed.
        if fees.max_fee_per_gas > self.config.max_fee_per_gas_wei {
            return Err(ChainError::FeeTooHigh {
                action: action.to_string(),
                estimate_wei: fees.max_fee_per_gas,
                cap_wei: self.config.max_fee_per_gas_wei,
            });
        }
        // 20 % headroom: state can change between estimate and inclusion.
        let tx = tx
            .with_gas_limit(gas.saturating_add(gas / 5))
            .with_nonce(nonce)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let envelope = tx
            .build(eth_wallet)
            .await
            .map_err(|e| ChainError::Signing(e.to_string()))?;
        let hash = *envelope.tx_hash();
        before_broadcast(hash)?;
        // The returned watcher is not used: `wait_receipt` polls, and also serves bridge hashes.
        let _watcher = self
            .provider
            .send_tx_envelope(envelope)
            .await
            .map_err(|e| self.rpc_error(action, e))?;
        self.wait_receipt(action, hash).await
    }

    /// Poll for the receipt; on a failed status, replay the call at the parent block to decode
    /// why.
    async fn wait_receipt(&self, action: &str, hash: TxHash) -> ChainResult<TransactionReceipt> {
        let deadline = Instant::now() + Duration::from_secs(self.config.receipt_timeout_s);
        loop {
            if let Some(receipt) = self.find_receipt(action, hash).await? {
                if receipt.status() {
                    return Ok(receipt);
                }
                return Err(self.explain_failure(action, hash, &receipt).await);
            }
            if Instant::now() >= deadline {
                return Err(ChainError::TxTimeout {
                    action: action.to_string(),
                    hash,
                    seconds: self.config.receipt_timeout_s,
                });
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// The receipt if mined; waits while the node still holds the transaction in its pool;
    /// `None` once the transaction is neither mined nor known (dropped, or never broadcast).
    async fn find_receipt(
        &self,
        action: &str,
        hash: TxHash,
    ) -> ChainResult<Option<TransactionReceipt>> {
        let receipt = self
            .provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| self.rpc_error(action, e))?;
        if receipt.is_some() {
            return Ok(receipt);
        }
        let known = self
            .provider
            .get_transaction_by_hash(hash)
            .await
            .map_err(|e| self.rpc_error(action, e))?;
        if known.is_none() {
            return Ok(None);
        }
        // In the pool: wait for it (bounded by the receipt timeout).
        let deadline = Instant::now() + Duration::from_secs(self.config.receipt_timeout_s);
        while Instant::now() < deadline {
            tokio::time::sleep(self.poll).await;
            if let Some(r) = self
                .provider
                .get_transaction_receipt(hash)
                .await
                .map_err(|e| self.rpc_error(action, e))?
            {
                return Ok(Some(r));
            }
        }
        Err(ChainError::TxTimeout {
            action: action.to_string(),
            hash,
            seconds: self.config.receipt_timeout_s,
        })
    }

    async fn explain_failure(
        &self,
        action: &str,
        hash: TxHash,
        receipt: &TransactionReceipt,
    ) -> ChainError {
        let failed = ChainError::TxFailed {
            action: action.to_string(),
            hash,
        };
        let Ok(Some(tx)) = self.provider.get_transaction_by_hash(hash).await else {
            return failed;
        };
        // Replay as a plain call from the original sender: fee fields would make the node
        // check the balance against the fee cap, which is not what failed.
        let from = alloy::network::TransactionResponse::from(&tx);
        let mut request: TransactionRequest = tx.into_request();
        request.from = Some(from);
        request.nonce = None;
        request.gas_price = None;
        request.max_fee_per_gas = None;
        request.max_priority_fee_per_gas = None;
        let block = receipt
            .block_number
            .map(|b| BlockId::number(b.saturating_sub(1)))
            .unwrap_or(BlockId::latest());
        match self.provider.call(request).block(block).await {
            Err(e) => match self.rpc_error(action, e) {
                ChainError::Rpc { .. } | ChainError::RpcUnreachable { .. } => failed,
                decoded => decoded,
            },
            Ok(_) => failed,
        }
    }

    /// Classify a JSON-RPC error: revert data is decoded, funds problems and unreachable nodes
    /// get their own variants, anything else keeps the node's message.
    fn rpc_error(&self, action: &str, e: RpcError<TransportErrorKind>) -> ChainError {
        let url: super::RedactedUrl = self.config.rpc_url.clone().into();
        // Transport errors quote the URL, API key and all.
        let scrub = |detail: String| super::rpc_url::redact_in(&detail, &self.config.rpc_url);
        match e {
            RpcError::ErrorResp(payload) => {
                if let Some(data) = payload.as_revert_data() {
                    return revert_error(action, data);
                }
                let message = payload.message.to_string();
                let lower = message.to_lowercase();
                if lower.contains("insufficient funds") {
                    return ChainError::InsufficientFunds {
                        account: Address::ZERO,
                        balance_wei: U256::ZERO,
                        detail: message,
                    };
                }
                if lower.contains("revert") {
                    return revert_error(action, Bytes::new());
                }
                ChainError::Rpc {
                    url,
                    detail: scrub(format!("{action}: {message} (code {})", payload.code)),
                }
            }
            RpcError::Transport(TransportErrorKind::HttpError(h)) => ChainError::Rpc {
                url,
                detail: scrub(format!("HTTP {}: {}", h.status, truncate(&h.body, 200))),
            },
            RpcError::Transport(kind) => ChainError::RpcUnreachable {
                url,
                detail: scrub(innermost(&kind)),
            },
            other => ChainError::Rpc {
                url,
                detail: scrub(format!("{action}: {other}")),
            },
        }
    }

    pub(super) fn call_error(&self, action: &str, e: alloy::contract::Error) -> ChainError {
        match e {
            alloy::contract::Error::TransportError(e) => self.rpc_error(action, e),
            alloy::contract::Error::ZeroData(..) => match self.config.contract {
                Some(address) => ChainError::NoCode {
                    address,
                    chain_id: self.config.chain_id,
                },
                None => ChainError::NoContract,
            },
            other => ChainError::Unexpected(format!("{action}: {other}")),
        }
    }

    /// Fill in the account and its balance for an insufficient-funds error.
    async fn with_balance(&self, err: ChainError, account: Address) -> ChainError {
        match err {
            ChainError::InsufficientFunds { detail, .. } => ChainError::InsufficientFunds {
                account,
                balance_wei: self.balance(account).await.unwrap_or_default(),
                detail,
            },
            other => other,
        }
    }
}

fn mint_call(signed: &SignedAttestation) -> ChainResult<TwinMintNFR::mintCall> {
    let Some(c) = signed.claim.mint_struct() else {
        return Err(ChainError::Unexpected(
            "a resurvey attestation cannot mint; use resurvey".into(),
        ));
    };
    if !signed.footprint_matches() {
        return Err(ChainError::InvalidArgument(format!(
            "the attestation's {} footprint cells do not hash to its footprint root {}",
            signed.cells.len(),
            c.footprintRoot
        )));
    }
    Ok(TwinMintNFR::mintCall {
        c,
        batchHashes: attest::footprint_batches(&signed.cells),
        cells: first_batch(&signed.cells),
        signature: signed.signature.clone(),
    })
}

/// The cells the mint / resurvey transaction itself claims.
fn first_batch(cells: &[u64]) -> Vec<u64> {
    cells[..cells.len().min(attest::FOOTPRINT_BATCH)].to_vec()
}

/// Recipient and fingerprint of a mint attestation.
fn mint_target(signed: &SignedAttestation) -> ChainResult<(Address, B256)> {
    match &signed.claim {
        Claim::Mint {
            to, fingerprint, ..
        } => Ok((*to, *fingerprint)),
        Claim::Resurvey { .. } => Err(ChainError::Unexpected(
            "a resurvey attestation cannot mint; use resurvey".into(),
        )),
    }
}

/// The token of the `Minted` event that `contract` emitted. A log with the same signature from
/// any other address (a look-alike contract called in the same transaction) is not ours.
fn minted_token(receipt: &TransactionReceipt, contract: Address) -> ChainResult<u64> {
    let log = receipt
        .logs()
        .iter()
        .filter(|log| log.address() == contract)
        .find_map(|log| {
            <TwinMintNFR::Minted as alloy::sol_types::SolEvent>::decode_log(&log.inner).ok()
        })
        .ok_or_else(|| {
            ChainError::Unexpected(format!(
                "the mint receipt has no Minted event of contract {contract}"
            ))
        })?;
    token_u64(log.data.tokenId)
}

pub(super) fn token_u64(id: U256) -> ChainResult<u64> {
    u64::try_from(id).map_err(|_| ChainError::Unexpected(format!("token id {id} exceeds u64")))
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let inner = cur.to_string();
    let outer = e.to_string();
    if inner == outer {
        outer
    } else {
        format!("{outer}: {inner}")
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        s.to_string()
    } else {
        let mut end = n;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

/// The HTTP(S) client of every chain connection. Without timeouts a black-holed endpoint would
/// hang the CLI forever.
fn http_client(rpc_url: &str) -> ChainResult<reqwest::Client> {
    crate::http::client_builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ChainError::Rpc {
            url: rpc_url.to_string().into(),
            detail: super::rpc_url::redact_in(&e.to_string(), rpc_url),
        })
}
