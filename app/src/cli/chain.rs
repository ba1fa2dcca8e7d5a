//! `twinmint chain dev|deploy|grant|revoke|kyc`, and the chain and wallet flags every on-chain
//! verb shares.
//!
//! Keys never appear on the command line (shell history, `ps`): a private key or mnemonic is
//! named by the environment variable that holds it (`--key-env VAR`, `--mnemonic-env VAR`), a
//! keystore's password is prompted without echo or read from `--password-env VAR`, and an owner
//! who keeps their key in a browser wallet uses `--browser` (a localhost page hands the
//! transaction to MetaMask & co.). Nothing secret is printed or logged.
//!
//! The chain comes only from what the user chose, never from a project folder (a borrower's
//! folder could name a look-alike contract or RPC; its `chain.json` is a record, not a
//! configuration): `--rpc URL --chain-id N --contract ADDR`, or `--network NAME`, an entry of
//! the user's own [`USER_CHAINS_FILE`] (flags override its fields), or else the local dev chain
//! `twinmint chain dev` wrote to `.twinmint-dev-chain.json` — used only when it names a loopback
//! RPC and chain id 31337, and announced on stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use mint::chain::{
    self, Address, B256, BridgeTx, Chain, ChainConfig, Deployment, Role, TxHash, Wallet, block_on,
    bridge, dev,
};

use super::Ctx;

/// File `twinmint chain dev` writes: the dev chain's endpoint and contract.
pub const DEV_CHAIN_FILE: &str = ".twinmint-dev-chain.json";

/// `.twinmint-dev-chain.json`. Holds no keys: the dev accounts derive from anvil's public test
/// mnemonic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevChain {
    pub schema_version: u32,
    pub rpc_url: String,
    pub chain_id: u64,
    pub contract: Address,
    pub deployment: Deployment,
    /// Dev accounts 0–4 (KYC-admitted); account 0 holds every role.
    pub accounts: Vec<Address>,
    /// Process id of the `twinmint chain dev` that runs the chain.
    pub pid: u32,
}

impl DevChain {
    /// The dev chain file in `project` (if given and present), else in the current folder —
    /// only one that names a loopback RPC and chain id 31337: a file in a folder someone else
    /// supplied must not be able to point the verbs at a remote node or another chain. A file
    /// that does not qualify is skipped with a warning on stderr.
    pub fn find(project: Option<&Path>) -> Option<(PathBuf, DevChain)> {
        let mut places: Vec<PathBuf> = project
            .map(|p| p.join(DEV_CHAIN_FILE))
            .into_iter()
            .collect();
        places.push(PathBuf::from(DEV_CHAIN_FILE));
        places.into_iter().find_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let d: DevChain = serde_json::from_slice(&bytes).ok()?;
            if d.is_local() {
                Some((p, d))
            } else {
                eprintln!(
                    "ignoring {}: a dev chain file must name a loopback RPC and chain id {} \
                     (it names {} and chain id {})",
                    p.display(),
                    dev::CHAIN_ID,
                    chain::redact_url(&d.rpc_url),
                    d.chain_id
                );
                None
            }
        })
    }

    /// A loopback RPC (this machine) and anvil's chain id.
    pub fn is_local(&self) -> bool {
        self.chain_id == dev::CHAIN_ID && chain::is_loopback_url(&self.rpc_url)
    }
}

/// The user's own network list, in their config folder (never in a project):
/// `$XDG_CONFIG_HOME/twinmint/chains.json`, else `~/.config/twinmint/chains.json`.
pub const USER_CHAINS_FILE: &str = "twinmint/chains.json";

/// `chains.json`: named networks for `--network NAME`.
///
/// ```json
/// { "networks": { "sepolia": { "rpc_url": "https://…", "chain_id": 11155111,
///                              "contract": "0x…", "max_fee_gwei": 50 } } }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChains {
    pub networks: BTreeMap<String, NetworkEntry>,
}

/// One network of [`UserChains`].
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkEntry {
    pub rpc_url: String,
    pub chain_id: u64,
    /// The TwinMintNFR deployment on it.
    pub contract: Option<Address>,
    /// Fee cap per gas for this network (default 500 gwei).
    pub max_fee_gwei: Option<f64>,
}

impl std::fmt::Debug for NetworkEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkEntry")
            .field("rpc_url", &chain::redact_url(&self.rpc_url))
            .field("chain_id", &self.chain_id)
            .field("contract", &self.contract)
            .field("max_fee_gwei", &self.max_fee_gwei)
            .finish()
    }
}

impl UserChains {
    /// Where the file is: `$XDG_CONFIG_HOME` (when set and absolute), else `$HOME/.config`.
    pub fn path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
                    .map(|h| h.join(".config"))
            })?;
        Some(base.join(USER_CHAINS_FILE))
    }

    pub fn load() -> anyhow::Result<(PathBuf, UserChains)> {
        let path = Self::path().context(
            "--network: neither XDG_CONFIG_HOME nor HOME is set, so there is no chains.json",
        )?;
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "--network needs {}: {{\"networks\": {{\"NAME\": {{\"rpc_url\": …, \"chain_id\": …, \
                 \"contract\": …}}}}}}",
                path.display()
            )
        })?;
        let chains = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a TwinMint chains file", path.display()))?;
        Ok((path, chains))
    }

    fn get(&self, path: &Path, name: &str) -> anyhow::Result<NetworkEntry> {
        self.networks.get(name).cloned().with_context(|| {
            format!(
                "--network {name}: no such network in {} (it has: {})",
                path.display(),
                if self.networks.is_empty() {
                    "none".to_string()
                } else {
                    self.networks.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            )
        })
    }
}

/// Where the chain is: flags, a network of the user's `chains.json`, or the local dev chain —
/// never a project folder's files.
#[derive(Args, Debug, Clone, Default)]
pub struct ChainArgs {
    /// A network of your chains.json ($XDG_CONFIG_HOME/twinmint/chains.json, else
    /// ~/.config/twinmint/chains.json); --rpc/--chain-id/--contract override its fields.
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// JSON-RPC endpoint (default: --network's, else the loopback dev chain of `twinmint chain
    /// dev`).
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// Chain id the node must report (a mismatch is refused, never switched).
    #[arg(long, value_name = "N")]
    pub chain_id: Option<u64>,
    /// The TwinMintNFR contract.
    #[arg(long, value_name = "ADDR")]
    pub contract: Option<Address>,
    /// Refuse to send when the fee estimate per gas is above this (default: --network's
    /// max_fee_gwei, else 500).
    #[arg(long, value_name = "GWEI")]
    pub max_fee_gwei: Option<f64>,
}

impl ChainArgs {
    /// The connection: `--network`'s entry with the flags over it; with neither `--network`
    /// nor `--rpc`, the loopback dev chain file (in `project`, else the current folder). A
    /// project's `chain.json` is never consulted.
    pub fn config(
        &self,
        project: Option<&Path>,
        need_contract: bool,
    ) -> anyhow::Result<ChainConfig> {
        let entry = match &self.network {
            Some(name) => {
                let (path, chains) = UserChains::load()?;
                Some(chains.get(&path, name)?)
            }
            None => None,
        };
        let mut cfg = if self.rpc.is_none() && entry.is_none() {
            if self.chain_id.is_some() || self.contract.is_some() {
                bail!("--chain-id and --contract need --rpc URL (or --network NAME)");
            }
            let Some((path, d)) = DevChain::find(project) else {
                bail!(
                    "no chain given: pass --network NAME (a network of your {}), or --rpc URL \
                     --chain-id N --contract ADDR, or start a local one with `twinmint chain dev`",
                    UserChains::path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "~/.config/twinmint/chains.json".into())
                );
            };
            eprintln!(
                "using the local dev chain from {} ({}, chain id {}, contract {})",
                path.display(),
                d.rpc_url,
                d.chain_id,
                d.contract
            );
            ChainConfig::new(d.rpc_url, d.chain_id, Some(d.contract))
        } else {
            let rpc = self
                .rpc
                .clone()
                .or_else(|| entry.as_ref().map(|e| e.rpc_url.clone()))
                .context("--rpc URL is required")?;
            let chain_id = self
                .chain_id
                .or(entry.as_ref().map(|e| e.chain_id))
                .context("--chain-id N is required with --rpc")?;
            let contract = self.contract.or(entry.as_ref().and_then(|e| e.contract));
            ChainConfig::new(rpc, chain_id, contract)
        };
        if need_contract && cfg.contract.is_none() {
            bail!("--contract ADDR is required (the TwinMintNFR deployment)");
        }
        let gwei = self
            .max_fee_gwei
            .or(entry.as_ref().and_then(|e| e.max_fee_gwei))
            .unwrap_or(chain::DEFAULT_MAX_FEE_GWEI as f64);
        if !(gwei.is_finite() && gwei > 0.0 && gwei <= 1e9) {
            bail!("--max-fee-gwei {gwei}: give a positive number of gwei");
        }
        cfg.max_fee_per_gas_wei = (gwei * 1e9).round() as u128;
        Ok(cfg)
    }
}

/// A signing key, named without putting the secret on the command line.
#[derive(Args, Debug, Clone, Default)]
pub struct WalletArgs {
    /// Hex private key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// BIP-39 mnemonic from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub mnemonic_env: Option<String>,
    /// Account index for --mnemonic-env (m/44'/60'/0'/0/N).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub index: u32,
    /// Encrypted JSON keystore (password prompted, or from --password-env).
    #[arg(long, value_name = "PATH")]
    pub keystore: Option<PathBuf>,
    /// Keystore password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

/// The surveyor's key for `twinmint mint` (default: the submitting wallet).
#[derive(Args, Debug, Clone, Default)]
pub struct SurveyorWalletArgs {
    /// Surveyor's hex private key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub surveyor_key_env: Option<String>,
    /// Surveyor's mnemonic from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub surveyor_mnemonic_env: Option<String>,
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub surveyor_index: u32,
    /// Surveyor's encrypted JSON keystore.
    #[arg(long, value_name = "PATH")]
    pub surveyor_keystore: Option<PathBuf>,
    #[arg(long, value_name = "VAR")]
    pub surveyor_password_env: Option<String>,
}

impl SurveyorWalletArgs {
    pub fn as_wallet_args(&self) -> WalletArgs {
        WalletArgs {
            key_env: self.surveyor_key_env.clone(),
            mnemonic_env: self.surveyor_mnemonic_env.clone(),
            index: self.surveyor_index,
            keystore: self.surveyor_keystore.clone(),
            password_env: self.surveyor_password_env.clone(),
        }
    }
}

impl WalletArgs {
    pub fn is_given(&self) -> bool {
        self.key_env.is_some() || self.mnemonic_env.is_some() || self.keystore.is_some()
    }

    /// Load the wallet; `who` names it in messages ("wallet", "surveyor").
    pub fn load(&self, who: &str) -> anyhow::Result<Wallet> {
        let given = [
            self.key_env.is_some(),
            self.mnemonic_env.is_some(),
            self.keystore.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        if given > 1 {
            bail!("{who}: give one of a key variable, a mnemonic variable or a keystore");
        }
        let secret = |var: &str| -> anyhow::Result<String> {
            std::env::var(var).with_context(|| {
                format!("{who}: environment variable {var} is not set (or not UTF-8)")
            })
        };
        if let Some(var) = &self.key_env {
            return Wallet::from_private_key(&secret(var)?)
                .with_context(|| format!("{who}: the key in ${var}"));
        }
        if let Some(var) = &self.mnemonic_env {
            return Wallet::from_mnemonic(&secret(var)?, self.index)
                .with_context(|| format!("{who}: the mnemonic in ${var}"));
        }
        if let Some(path) = &self.keystore {
            let password = match &self.password_env {
                Some(var) => secret(var)?,
                None => {
                    rpassword::prompt_password(format!("{who}: password for {}: ", path.display()))
                        .context("cannot read the keystore password from the terminal")?
                }
            };
            return Ok(Wallet::from_keystore(path, &password)?);
        }
        bail!(
            "{who}: no key given: use --key-env VAR, --mnemonic-env VAR [--index N], \
             --keystore PATH, or --browser for the owner's browser wallet"
        )
    }
}

pub use mint::chain::network_name;

/// Hand a prepared transaction to the user's browser wallet and wait for its hash.
pub fn via_browser(tx: BridgeTx, timeout_s: u64) -> anyhow::Result<TxHash> {
    let handle = bridge::serve(tx)?;
    eprintln!(
        "open {} in the browser that holds your wallet, check the transaction and confirm it \
         (waiting up to {timeout_s} s)",
        handle.url()
    );
    Ok(handle.wait(Duration::from_secs(timeout_s))?)
}

#[derive(Args, Debug)]
pub struct ChainCmd {
    #[command(subcommand)]
    what: ChainWhat,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum RoleArg {
    Registrar,
    Surveyor,
    Oracle,
    Authority,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Registrar => Role::Registrar,
            RoleArg::Surveyor => Role::Surveyor,
            RoleArg::Oracle => Role::ValuationOracle,
            RoleArg::Authority => Role::Authority,
        }
    }
}

#[derive(Subcommand, Debug)]
enum ChainWhat {
    /// Start a local anvil chain, deploy TwinMintNFR (dev account 0: admin, registrar,
    /// surveyor, oracle), admit dev accounts 0–4 (KYC), write .twinmint-dev-chain.json, and run
    /// until Ctrl-C.
    Dev {
        /// Port on 127.0.0.1 (default: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// Write the dev chain file into this project folder (default: the current folder).
        #[arg(long)]
        project: Option<PathBuf>,
        /// Print the deployment only; write no file.
        #[arg(long)]
        no_write: bool,
    },
    /// Deploy a new TwinMintNFR contract.
    Deploy {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        wallet: WalletArgs,
        /// The admin (DEFAULT_ADMIN_ROLE) of the new contract (default: the deploying wallet);
        /// the zero address is refused.
        #[arg(long, value_name = "ADDR")]
        authority: Option<Address>,
        /// Delay of a two-step authority transfer, in hours (OpenZeppelin
        /// AccessControlDefaultAdminRules).
        #[arg(long, default_value_t = 48, value_name = "HOURS")]
        admin_delay_hours: u64,
        /// Also write the deployment JSON here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Grant a role (the wallet must be the authority).
    Grant {
        #[arg(value_enum)]
        role: RoleArg,
        account: Address,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        wallet: WalletArgs,
    },
    /// Remove a role (the wallet must be the authority), e.g. dismiss a registrar.
    Revoke {
        #[arg(value_enum)]
        role: RoleArg,
        account: Address,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        wallet: WalletArgs,
    },
    /// KYC: a registrar admits or revokes clients; anyone can show an admission.
    Kyc {
        #[command(subcommand)]
        what: KycWhat,
    },
}

#[derive(Subcommand, Debug)]
enum KycWhat {
    /// Admit (or renew) clients with a category until a date (registrar only).
    Admit {
        #[arg(required = true)]
        accounts: Vec<Address>,
        #[arg(long, value_enum, default_value_t = CategoryArg::Retail)]
        category: CategoryArg,
        /// End of the admission: YYYY-MM-DD, RFC 3339 or Unix seconds (default: one year).
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        wallet: WalletArgs,
    },
    /// Revoke admissions (only the registrar that admitted them, or the authority).
    Revoke {
        #[arg(required = true)]
        accounts: Vec<Address>,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        wallet: WalletArgs,
    },
    /// Who admitted an account, in which category, until when.
    Show {
        account: Address,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum CategoryArg {
    Institutional,
    Accredited,
    Retail,
}

impl From<CategoryArg> for chain::KycCategory {
    fn from(c: CategoryArg) -> Self {
        match c {
            CategoryArg::Institutional => chain::KycCategory::Institutional,
            CategoryArg::Accredited => chain::KycCategory::Accredited,
            CategoryArg::Retail => chain::KycCategory::Retail,
        }
    }
}

/// `2027-06-30`, `2027-06-30T12:00:00Z` or Unix seconds → Unix seconds.
pub fn parse_when(flag: &str, text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return u64::try_from(d.timestamp()).with_context(|| format!("{flag} {t}: before 1970"));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let ts = d
            .and_hms_opt(0, 0, 0)
            .context("midnight exists")?
            .and_utc()
            .timestamp();
        return u64::try_from(ts).with_context(|| format!("{flag} {t}: before 1970"));
    }
    bail!("{flag} {t:?}: expected YYYY-MM-DD, an RFC 3339 time or Unix seconds")
}

pub fn run(a: ChainCmd, ctx: &Ctx) -> anyhow::Result<()> {
    match a.what {
        ChainWhat::Dev {
            port,
            project,
            no_write,
        } => run_dev(port, project, no_write, ctx),
        ChainWhat::Deploy {
            chain,
            wallet,
            authority,
            admin_delay_hours,
            out,
        } => {
            if authority == Some(Address::ZERO) {
                bail!(
                    "--authority 0x0000000000000000000000000000000000000000: the zero address can never appoint registrars or surveyors; give a real authority"
                );
            }
            let cfg = chain.config(None, false)?;
            let w = wallet.load("wallet")?;
            let d = block_on(async {
                let mut c = Chain::connect(
                    ChainConfig {
                        contract: None,
                        ..cfg
                    },
                    w,
                )
                .await?;
                c.deploy_with(authority, admin_delay_hours.saturating_mul(3600))
                    .await
            })?;
            if let Some(out) = &out {
                d.write(out)?;
            }
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                println!(
                    "deployed TwinMintNFR at {} on chain {} (authority {}, tx {})",
                    d.contract, d.chain_id, d.authority, d.tx_hash
                );
            }
            Ok(())
        }
        ChainWhat::Grant {
            role,
            account,
            chain,
            wallet,
        } => {
            let cfg = chain.config(None, true)?;
            let w = wallet.load("wallet")?;
            let receipt = block_on(async {
                let c = Chain::connect(cfg, w).await?;
                c.grant_role(role.into(), account).await
            })?;
            print_tx(
                ctx,
                &format!("granted {role:?} to {account}"),
                receipt.transaction_hash,
            )
        }
        ChainWhat::Revoke {
            role,
            account,
            chain,
            wallet,
        } => {
            let cfg = chain.config(None, true)?;
            let w = wallet.load("wallet")?;
            let receipt = block_on(async {
                let c = Chain::connect(cfg, w).await?;
                c.revoke_role(role.into(), account).await
            })?;
            print_tx(
                ctx,
                &format!("revoked {role:?} from {account}"),
                receipt.transaction_hash,
            )
        }
        ChainWhat::Kyc { what } => run_kyc(what, ctx),
    }
}

fn run_kyc(what: KycWhat, ctx: &Ctx) -> anyhow::Result<()> {
    match what {
        KycWhat::Admit {
            accounts,
            category,
            expires,
            chain,
            wallet,
        } => {
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            let expiry = match expires {
                Some(e) => parse_when("--expires", &e)?,
                None => now + 365 * 24 * 3600,
            };
            if expiry <= now {
                bail!("--expires {} is not in the future", chain::date(expiry));
            }
            let cfg = chain.config(None, true)?;
            let w = wallet.load("wallet")?;
            let hashes = block_on(async {
                let c = Chain::connect(cfg, w).await?;
                let mut hashes = Vec::new();
                for a in &accounts {
                    hashes.push(c.admit(*a, category.into(), expiry).await?.transaction_hash);
                }
                Ok::<_, chain::ChainError>(hashes)
            })?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&hashes)?);
            } else {
                for (a, h) in accounts.iter().zip(&hashes) {
                    println!(
                        "admitted {a} as {} until {} (tx {h})",
                        chain::KycCategory::from(category).label(),
                        chain::date(expiry)
                    );
                }
            }
            Ok(())
        }
        KycWhat::Revoke {
            accounts,
            chain,
            wallet,
        } => {
            let cfg = chain.config(None, true)?;
            let w = wallet.load("wallet")?;
            let hashes = block_on(async {
                let c = Chain::connect(cfg, w).await?;
                let mut hashes = Vec::new();
                for a in &accounts {
                    hashes.push(c.revoke_kyc(*a).await?.transaction_hash);
                }
                Ok::<_, chain::ChainError>(hashes)
            })?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&hashes)?);
            } else {
                for (a, h) in accounts.iter().zip(&hashes) {
                    println!("revoked the admission of {a} (tx {h})");
                }
            }
            Ok(())
        }
        KycWhat::Show { account, chain } => {
            let cfg = chain.config(None, true)?;
            let (kyc, valid) = block_on(async {
                let c = Chain::connect_read_only(cfg).await?;
                Ok::<_, chain::ChainError>((c.kyc_of(account).await?, c.has_kyc(account).await?))
            })?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "account": account,
                        "kyc": kyc,
                        "valid": valid,
                    }))?
                );
            } else {
                match kyc {
                    None => println!("{account}: not admitted"),
                    Some(k) => println!(
                        "{account}: admitted by {} as {} until {} — {}",
                        k.registrar,
                        k.category.label(),
                        chain::date(k.expiry),
                        if valid {
                            "valid"
                        } else {
                            "NOT valid (expired or registrar removed)"
                        }
                    ),
                }
            }
            Ok(())
        }
    }
}

pub fn print_tx(ctx: &Ctx, what: &str, hash: TxHash) -> anyhow::Result<()> {
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"action": what, "tx_hash": hash}))?
        );
    } else {
        println!("{what} (tx {hash})");
    }
    Ok(())
}

fn start_dev_node(port: Option<u16>) -> anyhow::Result<dev::Anvil> {
    Ok(match port {
        Some(p) => dev::Anvil::start_at(p)?,
        None => dev::Anvil::start()?,
    })
}

fn run_dev(
    port: Option<u16>,
    project: Option<PathBuf>,
    no_write: bool,
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let node = start_dev_node(port)?;
    let url = node.url();
    let (deployment, accounts) = block_on(dev::deploy_dev_contract(&url))?;
    let info = DevChain {
        schema_version: 1,
        rpc_url: url.clone(),
        chain_id: dev::CHAIN_ID,
        contract: deployment.contract,
        deployment,
        accounts,
        pid: std::process::id(),
    };
    let path = (!no_write).then(|| {
        project
            .as_deref()
            .unwrap_or(Path::new("."))
            .join(DEV_CHAIN_FILE)
    });
    if let Some(p) = &path {
        capture::atomic::write_json(p, &info)?;
    }
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        println!("dev chain: {url} (chain id {})", info.chain_id);
        println!("contract:  {}", info.contract);
        for (i, a) in info.accounts.iter().enumerate() {
            println!(
                "account {i}: {a}{}",
                if i == 0 {
                    " (admin, registrar, surveyor, oracle)"
                } else {
                    ""
                }
            );
        }
        println!("all five are KYC-admitted (institutional, ten years)");
        if let Some(p) = &path {
            println!(
                "wrote {} (the default chain for mint, verify, pledge …)",
                p.display()
            );
        }
        println!(
            "dev keys: the accounts derive from anvil's public test mnemonic; e.g. \
             TWINMINT_DEV_MNEMONIC=\"{}\" and --mnemonic-env TWINMINT_DEV_MNEMONIC --index N",
            dev::MNEMONIC
        );
        println!("Ctrl-C stops the chain");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    while !ctx.cancel.is_cancelled() {
        std::thread::sleep(Duration::from_millis(200));
    }
    if let Some(p) = &path {
        // The chain is gone with this process; a stale file would point the next verb at it.
        let _ = std::fs::remove_file(p);
    }
    drop(node);
    if !ctx.quiet && !ctx.json {
        eprintln!("dev chain stopped");
    }
    // Ctrl-C is the normal way out of `chain dev`, not a failure: exit 0.
    Ok(())
}

/// Parse a loan reference: 32 bytes of hex, or any text (hashed with keccak-256).
pub fn loan_ref(s: &str) -> B256 {
    s.parse::<B256>()
        .unwrap_or_else(|_| mint::fingerprint::keccak256(s.as_bytes()).into())
}
