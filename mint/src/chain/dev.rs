//! The local dev chain behind `twinmint chain dev` and the chain tests: the anvil binary that the
//! pinned npm package `@foundry-rs/anvil` ships (its platform package
//! `@foundry-rs/anvil-<os>-<arch>/bin/anvil`), installed by `npm ci --prefix mint/contracts`.
//! Started on 127.0.0.1 on a free port; killed when the [`Anvil`] value is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::error::{ChainError, ChainResult};
use super::wallet::Wallet;

/// Anvil's default chain id.
pub const CHAIN_ID: u64 = 31337;
/// Anvil's default mnemonic: accounts 0..9 each start with 10 000 ETH. Public knowledge — dev
/// chains only.
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// How long the dev chain's KYC admissions last.
pub const DEV_KYC_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// Dev account `index` of [`MNEMONIC`].
pub fn dev_account(index: u32) -> Wallet {
    Wallet::from_mnemonic(MNEMONIC, index).expect("the anvil mnemonic derives")
}

/// `mint/contracts` of this source tree (where `npm ci` installs anvil).
/// Deploy TwinMintNFR on the dev chain at `url` as dev account 0, grant that account the
/// registrar, surveyor and valuation-oracle roles, and admit dev accounts 0–4 (KYC, institutional,
/// ten years): the setup
/// `twinmint chain dev` and the studio's dev chain share. Returns the deployment and the
/// admitted accounts.
pub async fn deploy_dev_contract(
    url: &str,
) -> ChainResult<(super::Deployment, Vec<alloy::primitives::Address>)> {
    use super::{Chain, ChainConfig, Role};
    let accounts: Vec<_> = (0..5).map(|i| dev_account(i).address()).collect();
    let mut c = Chain::connect(ChainConfig::new(url, CHAIN_ID, None), dev_account(0)).await?;
    let deployment = c.deploy(None).await?;
    for role in [Role::Registrar, Role::Surveyor, Role::ValuationOracle] {
        c.grant_role(role, accounts[0]).await?;
    }
    // Admitted as institutional clients for ten years: a dev chain must not lapse mid-demo.
    let expiry = chrono::Utc::now().timestamp().max(0) as u64 + DEV_KYC_SECONDS;
    for a in &accounts {
        c.admit(*a, super::KycCategory::Institutional, expiry)
            .await?;
    }
    Ok((deployment, accounts))
}

pub fn contracts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contracts")
}

/// The anvil binary under `contracts_dir/node_modules/@foundry-rs/anvil-*/bin/`.
pub fn find_anvil(contracts_dir: &Path) -> ChainResult<PathBuf> {
    let scope = contracts_dir.join("node_modules/@foundry-rs");
    let exe = if cfg!(windows) { "anvil.exe" } else { "anvil" };
    let found = std::fs::read_dir(&scope).ok().and_then(|entries| {
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("anvil-"))
            .map(|e| e.path().join("bin").join(exe))
            .find(|p| p.is_file())
    });
    found.ok_or_else(|| {
        ChainError::DevChain(format!(
            "the anvil binary is not installed under {}: run `npm ci --prefix mint/contracts` \
             (from the repository root) first",
            scope.display()
        ))
    })
}

/// A port nothing listens on right now (the OS picks it; another process could still take it
/// before us, so [`Anvil::start`] retries).
pub fn free_port() -> ChainResult<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ChainError::DevChain(format!("cannot find a free port: {e}")))
}

/// A running anvil; killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    port: u16,
}

impl Anvil {
    /// Start the anvil from [`contracts_dir`] with the default mnemonic and chain id.
    pub fn start() -> ChainResult<Self> {
        Self::start_with(&find_anvil(&contracts_dir())?, &[])
    }

    /// Start `binary` on a free 127.0.0.1 port with extra arguments, and wait until it answers
    /// JSON-RPC (30 s at most).
    pub fn start_with(binary: &Path, extra_args: &[&str]) -> ChainResult<Self> {
        Self::start_on(binary, None, extra_args)
    }

    /// Start the anvil from [`contracts_dir`] on `port` (one try: a port in use is an error).
    pub fn start_at(port: u16) -> ChainResult<Self> {
        Self::start_on(&find_anvil(&contracts_dir())?, Some(port), &[])
    }

    /// Start `binary` on `port`, or on a free port (five tries) when `None`, and wait until it
    /// answers JSON-RPC (30 s at most).
    pub fn start_on(binary: &Path, port: Option<u16>, extra_args: &[&str]) -> ChainResult<Self> {
        let mut last = String::new();
        for _ in 0..if port.is_some() { 1 } else { 5 } {
            let port = match port {
                Some(p) => p,
                None => free_port()?,
            };
            let mut child = Command::new(binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--chain-id", &CHAIN_ID.to_string(), "--accounts", "10"])
                .args(extra_args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| {
                    ChainError::DevChain(format!("cannot start {}: {e}", binary.display()))
                })?;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut s) = child.stderr.take() {
                        let _ = s.read_to_string(&mut err);
                    }
                    last = format!(
                        "anvil exited ({status}) on port {port} (already in use?): {}",
                        err.trim()
                    );
                    break;
                }
                if rpc_ready(port) {
                    return Ok(Anvil { child, port });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(ChainError::DevChain(format!(
                        "anvil did not answer JSON-RPC on port {port} within 30 s"
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Err(ChainError::DevChain(format!(
            "anvil could not be started: {last}"
        )))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Does an `eth_chainId` request get a JSON-RPC result?
fn rpc_ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.contains("\"result\"")
}
