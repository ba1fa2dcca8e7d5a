//! The owner's mint panel, without Bevy: a strict state machine ([`MintFlow`]) driven by the
//! events of a worker thread ([`MintJob`]) that does what `twinmint fingerprint`, `package` and
//! `mint` do, and the studio's own dev chain ([`start_dev_chain`], as `twinmint chain dev`).
//!
//! The UI only ever calls [`MintFlow::begin`], [`MintJob::start`], [`MintJob::poll`] and
//! [`MintFlow::apply`]; everything slow (reading the cloud, RPC, waiting for a browser wallet)
//! happens on the worker, and everything it learns arrives as a [`MintEvent`].

use crate::studio::error::{StudioError, StudioResult};
use capture::CancelToken;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mint::chain::{
    self, Address, B256, Chain, ChainConfig, ChainError, Claim, Deployment, MintOutcome,
    MintStatus, SignedAttestation, TxHash, Wallet, attest, block_on, bridge, dev,
};
use mint::package::{PACKAGE_DIR, PackageManifest, TokenMetadata};

/// The pending-mint journal in the project; the same file the CLI uses, so either can finish
/// a mint the other started.
pub use mint::workflow::MINT_JOURNAL;

/// How long the browser wallet gets to send the mint (the CLI's `--browser-timeout` default).
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------------- choices

/// Who signs. Secrets are never taken as values except the keystore password the user typed
/// into the panel; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub enum WalletChoice {
    /// Account N of anvil's public test mnemonic ([`dev::MNEMONIC`]); dev chains only.
    DevAccount(u32),
    /// Encrypted JSON keystore.
    Keystore { path: PathBuf, password: String },
    /// Hex private key in this environment variable.
    PrivateKeyEnv(String),
    /// The user's browser wallet through the localhost bridge (`--browser` in the CLI).
    Browser,
    /// Ledger at Ledger Live index N.
    Ledger { index: usize },
}

impl fmt::Debug for WalletChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletChoice::DevAccount(i) => write!(f, "DevAccount({i})"),
            WalletChoice::Keystore { path, .. } => {
                write!(f, "Keystore {{ path: {path:?}, password: <hidden> }}")
            }
            WalletChoice::PrivateKeyEnv(v) => write!(f, "PrivateKeyEnv({v:?})"),
            WalletChoice::Browser => write!(f, "Browser"),
            WalletChoice::Ledger { index } => write!(f, "Ledger {{ index: {index} }}"),
        }
    }
}

impl WalletChoice {
    /// For the panel and the log.
    pub fn label(&self) -> String {
        match self {
            WalletChoice::DevAccount(i) => format!("dev account {i}"),
            WalletChoice::Keystore { path, .. } => format!("keystore {}", path.display()),
            WalletChoice::PrivateKeyEnv(v) => format!("private key in ${v}"),
            WalletChoice::Browser => "browser wallet".into(),
            WalletChoice::Ledger { index } => format!("Ledger account {index}"),
        }
    }

    /// Browser and Ledger need the user's approval outside the studio.
    pub fn needs_approval(&self) -> bool {
        matches!(self, WalletChoice::Browser | WalletChoice::Ledger { .. })
    }

    /// The signing key. The browser wallet has none the studio can hold.
    pub fn load(&self) -> StudioResult<Wallet> {
        match self {
            WalletChoice::DevAccount(i) => Ok(dev::dev_account(*i)),
            WalletChoice::Keystore { path, password } => Ok(Wallet::from_keystore(path, password)?),
            WalletChoice::PrivateKeyEnv(var) => {
                let key = std::env::var(var)
                    .map_err(|_| format!("environment variable {var} is not set (or not UTF-8)"))?;
                Wallet::from_private_key(&key)
                    .map_err(|e| StudioError::input(format!("the key in ${var}: {e}")))
            }
            WalletChoice::Browser => Err(
                "the browser wallet signs in the browser; the studio holds no key for it".into(),
            ),
            // The mint crate's `ledger` feature is off in the studio build (it needs USB HID).
            WalletChoice::Ledger { index } => Err(format!(
                "Ledger account {index}: this build has no Ledger support (the mint crate's \
                 `ledger` feature is off); use the browser wallet with the Ledger behind it"
            )
            .into()),
        }
    }
}

/// Where to mint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// The dev chain the studio started ([`start_dev_chain`]).
    DevChain,
    /// Any chain with a deployed TwinMintNFR.
    Rpc {
        url: String,
        chain_id: u64,
        contract: String,
    },
}

/// A resolved chain: endpoint, expected chain id, contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainTarget {
    pub rpc_url: String,
    pub chain_id: u64,
    pub contract: Address,
}

impl ChainTarget {
    pub fn config(&self) -> ChainConfig {
        ChainConfig::new(self.rpc_url.clone(), self.chain_id, Some(self.contract))
    }

    /// "anvil", "sepolia", … for `chain.json`.
    pub fn network_name(&self) -> String {
        network_name(self.chain_id)
    }
}

impl Network {
    /// The dev chain needs the running chain's info; an RPC target needs a valid contract.
    pub fn resolve(&self, dev: Option<&DevChainInfo>) -> StudioResult<ChainTarget> {
        match self {
            Network::DevChain => dev.map(DevChainInfo::target).ok_or_else(|| {
                "no dev chain is running: start one first, or choose an RPC network".into()
            }),
            Network::Rpc {
                url,
                chain_id,
                contract,
            } => {
                if url.trim().is_empty() {
                    return Err("the RPC URL is empty".into());
                }
                let contract = contract.trim().parse::<Address>().map_err(|_| {
                    format!("contract {contract:?} is not an address (0x and 40 hex digits)")
                })?;
                Ok(ChainTarget {
                    rpc_url: url.trim().to_string(),
                    chain_id: *chain_id,
                    contract,
                })
            }
        }
    }
}

pub use mint::chain::network_name;

// ---------------------------------------------------------------------------------- state

/// Where the mint is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MintStep {
    Idle,
    Fingerprinting,
    Packaging,
    Connecting,
    Attesting,
    /// The browser page (or the Ledger) waits for the user.
    AwaitingWallet,
    Sending,
    Confirming,
    Minted {
        token_id: u64,
        tx: Option<String>,
        block: Option<u64>,
        /// "minted", "found the earlier run's mint" or "already on chain".
        status: String,
    },
    Failed {
        during: String,
        error: String,
    },
}

impl MintStep {
    pub fn is_running(&self) -> bool {
        !matches!(
            self,
            MintStep::Idle | MintStep::Minted { .. } | MintStep::Failed { .. }
        )
    }

    pub fn label(&self) -> &'static str {
        match self {
            MintStep::Idle => "idle",
            MintStep::Fingerprinting => "fingerprinting",
            MintStep::Packaging => "packaging",
            MintStep::Connecting => "connecting",
            MintStep::Attesting => "attesting",
            MintStep::AwaitingWallet => "awaiting wallet",
            MintStep::Sending => "sending",
            MintStep::Confirming => "confirming",
            MintStep::Minted { .. } => "minted",
            MintStep::Failed { .. } => "failed",
        }
    }
}

/// What the worker reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MintEvent {
    Log(String),
    Fingerprinting,
    /// The model fingerprint (`0x…`).
    Fingerprinted(String),
    /// The package is missing or stale and is being rebuilt.
    Packaging,
    PackageReady(PackagePreview),
    Connecting,
    Attesting,
    AwaitingWallet,
    /// The browser-wallet page to open.
    OpenUrl(String),
    Sending,
    Confirming {
        tx: String,
    },
    Minted {
        token_id: u64,
        tx: Option<String>,
        block: Option<u64>,
        status: String,
    },
    Failed {
        during: String,
        error: String,
    },
}

/// One package file as the panel lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageFilePreview {
    pub name: String,
    pub cid: String,
    pub bytes: u64,
}

/// What the token will point to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackagePreview {
    pub name: String,
    pub token_uri: String,
    /// The package folder's IPFS directory CID.
    pub directory: String,
    /// The model fingerprint (`0x…`) the package carries.
    pub fingerprint: String,
    pub files: Vec<PackageFilePreview>,
    /// ERC-721 attributes as (trait, value).
    pub attributes: Vec<(String, String)>,
}

impl PackagePreview {
    pub fn new(cids: &PackageManifest, meta: &TokenMetadata) -> Self {
        PackagePreview {
            name: meta.name.clone(),
            token_uri: cids.token_uri.clone(),
            directory: cids.directory.to_string(),
            fingerprint: cids.fingerprint.clone(),
            files: cids
                .files
                .iter()
                .map(|(name, f)| PackageFilePreview {
                    name: name.clone(),
                    cid: f.cid.to_string(),
                    bytes: f.bytes,
                })
                .collect(),
            attributes: meta
                .attributes
                .iter()
                .map(|a| (a.trait_type.clone(), attribute_text(&a.value)))
                .collect(),
        }
    }

    /// Read `cids.json` and `metadata.json` of a package folder (for a preview before minting).
    pub fn read(package_dir: &Path) -> StudioResult<Self> {
        let cids = PackageManifest::read(package_dir)?;
        let meta = read_metadata(package_dir)?;
        Ok(Self::new(&cids, &meta))
    }
}

/// An attribute value as text: strings without quotes.
pub fn attribute_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The mint panel.
#[derive(Clone, Debug, PartialEq)]
pub struct MintFlow {
    /// Submits the mint (pays gas).
    pub wallet: WalletChoice,
    /// Signs the EIP-712 attestation; `None`: the submitting wallet (the CLI's default). The
    /// browser wallet cannot attest, so with it a surveyor key is required.
    pub surveyor: Option<WalletChoice>,
    pub network: Network,
    /// The owner (must hold valid KYC); `None`: the wallet's address.
    pub recipient: Option<String>,
    pub step: MintStep,
    /// Model fingerprint (`0x…`), kept across [`MintFlow::reset`].
    pub fingerprint: Option<String>,
    /// Kept across [`MintFlow::reset`].
    pub package: Option<PackagePreview>,
    /// The browser-wallet page while the wallet is awaited.
    pub wallet_url: Option<String>,
    /// The transaction being confirmed or minted with.
    pub tx: Option<String>,
    pub log: Vec<String>,
}

impl Default for MintFlow {
    fn default() -> Self {
        Self::new(WalletChoice::DevAccount(0), Network::DevChain)
    }
}

impl MintFlow {
    pub fn new(wallet: WalletChoice, network: Network) -> Self {
        MintFlow {
            wallet,
            surveyor: None,
            network,
            recipient: None,
            step: MintStep::Idle,
            fingerprint: None,
            package: None,
            wallet_url: None,
            tx: None,
            log: Vec::new(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.step.is_running()
    }

    /// Why the mint button is disabled, if it is. Checks only what needs no I/O.
    pub fn can_start(&self, project_ready: bool) -> StudioResult<()> {
        if !project_ready {
            return Err(
                "open a reconstructed project first (the mint needs cloud.laz, \
                 reconstruction.json and model.glb)"
                    .into(),
            );
        }
        match &self.step {
            s if s.is_running() => {
                return Err(format!("a mint is already running ({})", s.label()).into());
            }
            MintStep::Minted { token_id, .. } => {
                return Err(format!("already minted as token #{token_id}").into());
            }
            _ => {}
        }
        if let Some(r) = &self.recipient
            && r.trim().parse::<Address>().is_err()
        {
            return Err(format!("recipient {r:?} is not an address").into());
        }
        if self.wallet == WalletChoice::Browser {
            if self.recipient.is_none() {
                return Err(
                    "with the browser wallet, set the recipient (its address is not \
                     known before it signs)"
                        .into(),
                );
            }
            if self.surveyor.is_none() {
                return Err(
                    "the browser wallet cannot sign the surveyor's attestation: choose a \
                     surveyor key"
                        .into(),
                );
            }
        }
        if self.surveyor == Some(WalletChoice::Browser) {
            return Err(
                "the surveyor's attestation needs a key the studio can use, not the \
                 browser wallet"
                    .into(),
            );
        }
        if let Network::Rpc { .. } = self.network {
            self.network.resolve(None)?;
        }
        Ok(())
    }

    /// Check [`MintFlow::can_start`] and enter `Fingerprinting`, so a second click before the
    /// worker's first event is refused.
    pub fn begin(&mut self, project_ready: bool) -> StudioResult<()> {
        self.can_start(project_ready)?;
        self.step = MintStep::Fingerprinting;
        self.wallet_url = None;
        self.tx = None;
        self.log
            .push(format!("mint started with the {}", self.wallet.label()));
        Ok(())
    }

    /// Back to `Idle` after a mint ended; refused while one runs (cancel it first).
    pub fn reset(&mut self) -> bool {
        if self.is_running() {
            self.log.push(format!(
                "reset ignored: the mint is still running ({})",
                self.step.label()
            ));
            return false;
        }
        self.step = MintStep::Idle;
        self.wallet_url = None;
        self.tx = None;
        true
    }

    /// Apply a worker event. Events out of order are logged and ignored.
    pub fn apply(&mut self, ev: MintEvent) {
        use MintStep as S;
        let running = self.is_running();
        let ok = match &ev {
            MintEvent::Log(_) => true,
            MintEvent::Fingerprinting => self.advance(S::Fingerprinting, &[S::Idle]),
            MintEvent::Fingerprinted(_) => self.step == S::Fingerprinting,
            MintEvent::Packaging => self.advance(S::Packaging, &[S::Fingerprinting]),
            MintEvent::PackageReady(_) => {
                matches!(self.step, S::Fingerprinting | S::Packaging)
            }
            MintEvent::Connecting => {
                self.advance(S::Connecting, &[S::Fingerprinting, S::Packaging])
            }
            MintEvent::Attesting => self.advance(S::Attesting, &[S::Connecting]),
            MintEvent::AwaitingWallet => self.advance(S::AwaitingWallet, &[S::Attesting]),
            MintEvent::OpenUrl(_) => self.step == S::AwaitingWallet,
            MintEvent::Sending => self.advance(S::Sending, &[S::Attesting, S::AwaitingWallet]),
            MintEvent::Confirming { .. } => {
                self.advance(S::Confirming, &[S::AwaitingWallet, S::Sending])
            }
            MintEvent::Minted { .. } => {
                matches!(self.step, S::Attesting | S::Sending | S::Confirming)
            }
            MintEvent::Failed { .. } => running,
        };
        if !ok {
            self.log.push(format!(
                "ignored out-of-order event {} while {}",
                event_name(&ev),
                self.step.label()
            ));
            return;
        }
        match ev {
            MintEvent::Log(s) => self.log.push(s),
            MintEvent::Fingerprinted(fp) => {
                self.log.push(format!("fingerprint {fp}"));
                self.fingerprint = Some(fp);
            }
            MintEvent::PackageReady(p) => {
                self.log.push(format!("package ready: {}", p.token_uri));
                self.package = Some(p);
            }
            MintEvent::OpenUrl(u) => {
                self.log
                    .push(format!("open {u} in the browser that holds your wallet"));
                self.wallet_url = Some(u);
            }
            MintEvent::Confirming { tx } => {
                self.log.push(format!("waiting for {tx}"));
                self.wallet_url = None;
                self.tx = Some(tx);
            }
            MintEvent::Minted {
                token_id,
                tx,
                block,
                status,
            } => {
                self.log.push(match &tx {
                    Some(t) => format!("token #{token_id}: {status} (tx {t})"),
                    None => format!("token #{token_id}: {status}"),
                });
                self.wallet_url = None;
                if tx.is_some() {
                    self.tx = tx.clone();
                }
                self.step = S::Minted {
                    token_id,
                    tx,
                    block,
                    status,
                };
            }
            MintEvent::Failed { during, error } => {
                self.log.push(format!("failed while {during}: {error}"));
                self.wallet_url = None;
                self.step = S::Failed { during, error };
            }
            // Step changes were made by `advance`.
            _ => {}
        }
    }

    /// Move to `to` when the current step is one of `from`; re-entering the current step (the
    /// worker's `Fingerprinting` after [`MintFlow::begin`]) is a no-op.
    fn advance(&mut self, to: MintStep, from: &[MintStep]) -> bool {
        if self.step == to && to.is_running() {
            return true;
        }
        if !from.contains(&self.step) {
            return false;
        }
        if to == MintStep::AwaitingWallet {
            self.log.push("waiting for the wallet's approval".into());
        }
        self.step = to;
        true
    }
}

/// The event's variant name (the log and the tests follow the flow by it).
pub fn event_name(ev: &MintEvent) -> &'static str {
    match ev {
        MintEvent::Log(_) => "Log",
        MintEvent::Fingerprinting => "Fingerprinting",
        MintEvent::Fingerprinted(_) => "Fingerprinted",
        MintEvent::Packaging => "Packaging",
        MintEvent::PackageReady(_) => "PackageReady",
        MintEvent::Connecting => "Connecting",
        MintEvent::Attesting => "Attesting",
        MintEvent::AwaitingWallet => "AwaitingWallet",
        MintEvent::OpenUrl(_) => "OpenUrl",
        MintEvent::Sending => "Sending",
        MintEvent::Confirming { .. } => "Confirming",
        MintEvent::Minted { .. } => "Minted",
        MintEvent::Failed { .. } => "Failed",
    }
}

// ---------------------------------------------------------------------------------- dev chain

/// The studio's dev chain (what `twinmint chain dev` prints; no keys: the accounts derive from
/// anvil's public mnemonic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevChainInfo {
    pub rpc_url: String,
    pub chain_id: u64,
    pub contract: Address,
    /// Dev accounts 0–4, KYC-admitted; account 0 holds every role.
    pub accounts: Vec<Address>,
    pub deployment: Deployment,
}

impl DevChainInfo {
    pub fn target(&self) -> ChainTarget {
        ChainTarget {
            rpc_url: self.rpc_url.clone(),
            chain_id: self.chain_id,
            contract: self.contract,
        }
    }
}

/// Keeps anvil running; dropping it kills the chain.
#[derive(Debug)]
pub struct DevChainHandle {
    anvil: dev::Anvil,
}

impl DevChainHandle {
    pub fn url(&self) -> String {
        self.anvil.url()
    }
}

/// Start anvil, deploy TwinMintNFR, grant Registrar/Surveyor/ValuationOracle to dev account 0
/// and admit accounts 0–4 (KYC), as `twinmint chain dev` does. Blocks for a few seconds: call it
/// off the UI thread. Writes no `.twinmint-dev-chain.json` (the studio holds the info).
pub fn start_dev_chain() -> StudioResult<(DevChainHandle, DevChainInfo)> {
    let anvil = dev::Anvil::start()?;
    let url = anvil.url();
    let (deployment, accounts) = block_on(dev::deploy_dev_contract(&url))?;
    let info = DevChainInfo {
        rpc_url: url,
        chain_id: dev::CHAIN_ID,
        contract: deployment.contract,
        accounts,
        deployment,
    };
    Ok((DevChainHandle { anvil }, info))
}

// ---------------------------------------------------------------------------------- worker

/// The mint running on a worker thread.
#[derive(Debug)]
pub struct MintJob {
    events: Receiver<MintEvent>,
    thread: Option<JoinHandle<()>>,
}

impl MintJob {
    /// Start fingerprint → package (when missing or stale) → attest → mint for `project`
    /// with the settings in `flow`. Setting `cancel` stops the job before the next step; once
    /// the transaction is sent it runs to the end (the journal makes that safe either way).
    pub fn start(
        project: PathBuf,
        flow: MintFlow,
        dev: Option<DevChainInfo>,
        cancel: CancelToken,
    ) -> MintJob {
        let (send, events) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("twinmint-mint".into())
            .spawn(move || {
                let mut w = Worker {
                    events: send,
                    cancel,
                    during: "starting",
                };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    w.run(&project, &flow, dev.as_ref())
                }));
                let ev = match result {
                    Ok(Ok(minted)) => minted,
                    Ok(Err(error)) => MintEvent::Failed {
                        during: w.during.to_string(),
                        error: error.display(),
                    },
                    Err(panic) => MintEvent::Failed {
                        during: w.during.to_string(),
                        error: format!("internal error: {}", panic_text(&*panic)),
                    },
                };
                let _ = w.events.send(ev);
            });
        match thread {
            Ok(t) => MintJob {
                events,
                thread: Some(t),
            },
            Err(e) => {
                // No thread: hand the failure over the channel like any other.
                let (send, events) = mpsc::channel();
                let _ = send.send(MintEvent::Fingerprinting);
                let _ = send.send(MintEvent::Failed {
                    during: "starting".into(),
                    error: format!("cannot start the mint thread: {e}"),
                });
                MintJob {
                    events,
                    thread: None,
                }
            }
        }
    }

    /// Every event since the last poll; never blocks.
    pub fn poll(&self) -> Vec<MintEvent> {
        self.events.try_iter().collect()
    }

    /// The worker has ended (its last events may still be unpolled).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

struct Worker {
    events: Sender<MintEvent>,
    cancel: CancelToken,
    /// What `Failed.during` will say.
    during: &'static str,
}

enum Prepared {
    Done(MintOutcome),
    Bridge(chain::BridgeTx),
}

impl Worker {
    fn send(&self, ev: MintEvent) {
        let _ = self.events.send(ev);
    }

    fn log(&self, s: impl Into<String>) {
        self.send(MintEvent::Log(s.into()));
    }

    fn cancelled(&self) -> StudioResult<()> {
        Ok(self.cancel.check()?)
    }

    /// Check for cancellation, then report the next step.
    fn enter(&mut self, ev: MintEvent, during: &'static str) -> StudioResult<()> {
        self.cancelled()?;
        self.during = during;
        self.send(ev);
        Ok(())
    }

    fn run(
        &mut self,
        project: &Path,
        flow: &MintFlow,
        dev: Option<&DevChainInfo>,
    ) -> StudioResult<MintEvent> {
        self.enter(MintEvent::Fingerprinting, "fingerprinting")?;
        self.during = "preparing";
        let target = flow.network.resolve(dev)?;
        self.during = "loading the wallet";
        let owner = match &flow.wallet {
            WalletChoice::Browser => None,
            w => Some(w.load()?),
        };
        let surveyor = match (&flow.surveyor, &owner) {
            (Some(s), _) => s.load().map_err(|e| match e {
                StudioError::Chain(c) => StudioError::Surveyor(c),
                other => StudioError::input(format!("surveyor: {other}")),
            })?,
            (None, Some(w)) => w.clone(),
            (None, None) => {
                return Err(
                    "the browser wallet cannot sign the surveyor's attestation: \
                     choose a surveyor key"
                        .into(),
                );
            }
        };
        let to = match (&flow.recipient, &owner) {
            (Some(r), _) => r
                .trim()
                .parse::<Address>()
                .map_err(|_| format!("recipient {r:?} is not an address"))?,
            (None, Some(w)) => w.address(),
            (None, None) => {
                return Err("with the browser wallet, set the recipient".into());
            }
        };
        self.log(format!(
            "surveyor {}, owner {to}, {} at {} (chain {})",
            surveyor.address(),
            target.network_name(),
            target.contract,
            target.chain_id
        ));

        let (cids, meta) = self.fingerprint_and_package(project, surveyor.address())?;
        self.during = "computing the land footprint";
        let footprint_path = project.join(mint::footprint::FOOTPRINT_JSON);
        let footprint = if footprint_path.is_file() {
            mint::footprint::Footprint::read(&footprint_path)?
        } else {
            let f = mint::footprint::for_project(project, None)?;
            f.write(&footprint_path)?;
            f
        };
        let cells = footprint.cells.clone();
        self.log(format!(
            "footprint: {} H3 cells at resolution {} ({:.2} ha)",
            cells.len(),
            footprint.resolution,
            footprint.area_m2 / 1e4
        ));
        let claim = Claim::Mint {
            to,
            fingerprint: B256::from(meta.twinmint.fingerprint.model),
            scan_root: B256::from(meta.twinmint.fingerprint.cloud_root),
            capture_hash: B256::from(meta.twinmint.fingerprint.capture_hash),
            footprint_root: mint::chain::footprint_root(&cells),
            cell_count: u32::try_from(cells.len())
                .map_err(|_| "the footprint has too many cells".to_string())?,
            uri: cids.token_uri.clone(),
            deadline: chrono::Utc::now().timestamp().max(0) as u64
                + mint::chain::DEFAULT_ATTESTATION_SECONDS,
        };
        let journal = project.join(MINT_JOURNAL);
        let outcome = match owner {
            Some(w) => self.mint_local(&target, w, &surveyor, claim, cells, &journal)?,
            None => self.mint_browser(&target, &surveyor, claim, cells, &journal)?,
        };

        // chain.json, then the journal dropped: as `twinmint mint` (mint::workflow).
        self.during = "writing chain.json";
        let record_path = mint::workflow::record_mint(
            project,
            &target.network_name(),
            target.chain_id,
            target.contract,
            B256::from(meta.twinmint.fingerprint.model),
            &outcome,
        )?;
        self.log(format!("wrote {}", record_path.display()));

        Ok(MintEvent::Minted {
            token_id: outcome.token_id,
            tx: outcome.tx_hash.map(|h| h.to_string()),
            block: outcome.block,
            status: status_text(outcome.status).into(),
        })
    }

    /// `twinmint fingerprint`, then the package readied by the policy `twinmint mint` uses
    /// ([`mint::workflow::prepare_package`]: rebuilt when missing or stale).
    fn fingerprint_and_package(
        &mut self,
        project: &Path,
        surveyor: Address,
    ) -> StudioResult<(PackageManifest, TokenMetadata)> {
        use mint::workflow::PrepareEvent;
        let pkg = project.join(PACKAGE_DIR);
        let token = self.cancel.clone();
        let prepared = mint::workflow::prepare_package(
            project,
            surveyor,
            &mut |ev| match ev {
                PrepareEvent::Fingerprinted(fp) => self.send(MintEvent::Fingerprinted(fp)),
                PrepareEvent::Checking => self.log("checking the package against the project"),
                PrepareEvent::Building(reason) => {
                    self.during = "packaging";
                    self.send(MintEvent::Packaging);
                    self.log(format!("building {}: {reason}", pkg.display()));
                }
            },
            &mut capture::NoProgress,
            &token,
        )?;
        let (cids, meta) = (prepared.cids, prepared.metadata);
        self.send(MintEvent::PackageReady(PackagePreview::new(&cids, &meta)));
        Ok((cids, meta))
    }

    fn mint_local(
        &mut self,
        target: &ChainTarget,
        owner: Wallet,
        surveyor: &Wallet,
        claim: Claim,
        cells: Vec<u64>,
        journal: &Path,
    ) -> StudioResult<MintOutcome> {
        self.enter(MintEvent::Connecting, "connecting")?;
        // One runtime for the whole exchange: the client's pooled connections belong to it.
        block_on(async {
            let c = Chain::connect(target.config(), owner).await?;
            self.enter(MintEvent::Attesting, "attesting")?;
            let signed =
                attest::sign(surveyor, target.chain_id, target.contract, claim, cells).await?;
            if let Some(done) = c.reconcile_mint(&signed, journal).await? {
                return Ok(done);
            }
            self.enter(MintEvent::Sending, "sending")?;
            Ok::<_, StudioError>(c.mint(&signed, journal).await?)
        })
    }

    fn mint_browser(
        &mut self,
        target: &ChainTarget,
        surveyor: &Wallet,
        claim: Claim,
        cells: Vec<u64>,
        journal: &Path,
    ) -> StudioResult<MintOutcome> {
        self.enter(MintEvent::Connecting, "connecting")?;
        let (signed, prepared): (SignedAttestation, Prepared) = block_on(async {
            let c = Chain::connect_read_only(target.config()).await?;
            self.enter(MintEvent::Attesting, "attesting")?;
            let signed =
                attest::sign(surveyor, target.chain_id, target.contract, claim, cells).await?;
            if let Some(done) = c.reconcile_mint(&signed, journal).await? {
                return Ok((signed, Prepared::Done(done)));
            }
            let tx = c.prepare_mint(&signed, None).await?;
            Ok::<_, StudioError>((signed, Prepared::Bridge(tx)))
        })?;
        let tx = match prepared {
            Prepared::Done(done) => return Ok(done),
            Prepared::Bridge(tx) => tx,
        };

        self.enter(MintEvent::AwaitingWallet, "awaiting the browser wallet")?;
        let hash = self.via_browser(tx.clone())?;
        // From here the transaction exists: no more cancelling.
        self.during = "confirming";
        self.send(MintEvent::Confirming {
            tx: hash.to_string(),
        });
        block_on(async {
            let c = Chain::connect_read_only(target.config()).await?;
            // Journal before waiting, so a restart finds this transaction.
            c.journal_mint(&signed, hash, journal)?;
            // The posted hash must be the prepared mint; a foreign one is forgotten.
            if let Err(e) = c.confirm_bridge(&tx, hash).await {
                if matches!(e, ChainError::BridgeTxMismatch { .. }) {
                    chain::PendingMint::remove(journal)?;
                }
                return Err(e.into());
            }
            let mut done = c.reconcile_mint(&signed, journal).await?.ok_or_else(|| {
                StudioError::input(
                    "the browser wallet's mint was mined but no token holds the fingerprint",
                )
            })?;
            done.status = MintStatus::Minted;
            done.tx_hash = Some(hash);
            Ok::<_, StudioError>(done)
        })
    }

    /// Serve the bridge page and wait for the hash, in short slices so cancel is honoured.
    fn via_browser(&self, tx: chain::BridgeTx) -> StudioResult<TxHash> {
        let handle = bridge::serve(tx)?;
        self.send(MintEvent::OpenUrl(handle.url().to_string()));
        let deadline = Instant::now() + BROWSER_TIMEOUT;
        loop {
            self.cancelled()?;
            match handle.wait(Duration::from_millis(250)) {
                Ok(h) => return Ok(h),
                Err(ChainError::BridgeTimeout { .. }) if Instant::now() < deadline => {}
                Err(ChainError::BridgeTimeout { .. }) => {
                    return Err(ChainError::BridgeTimeout {
                        seconds: BROWSER_TIMEOUT.as_secs(),
                    }
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn status_text(s: MintStatus) -> &'static str {
    match s {
        MintStatus::Minted => "minted",
        MintStatus::Recovered => "found the earlier run's mint",
        MintStatus::AlreadyOnChain => "already on chain",
    }
}

pub(crate) fn read_metadata(package_dir: &Path) -> StudioResult<TokenMetadata> {
    Ok(mint::workflow::read_metadata(package_dir)?)
}
