//! A real local chain for the chain tests: the anvil binary that the pinned npm package
//! `@foundry-rs/anvil` ships (in its platform package `@foundry-rs/anvil-<os>-<arch>/bin/`),
//! started on 127.0.0.1 on a free port and killed on drop.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Anvil's default chain id.
pub const CHAIN_ID: u64 = 31337;
/// Anvil's default mnemonic: accounts 0..9 each hold 10 000 ETH.
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

pub fn anvil_binary() -> PathBuf {
    let scope =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contracts/node_modules/@foundry-rs");
    let exe = if cfg!(windows) { "anvil.exe" } else { "anvil" };
    let found = std::fs::read_dir(&scope).ok().and_then(|entries| {
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("anvil"))
            .map(|e| e.path().join("bin").join(exe))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the anvil binary is not installed under {}: run `npm ci --prefix mint/contracts` \
             (from the repository root) first",
            scope.display()
        )
    })
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Anvil {
    child: Child,
    pub port: u16,
}

impl Anvil {
    pub fn start() -> Self {
        let binary = anvil_binary();
        // Another process could take the port between bind and anvil's own bind: retry.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--chain-id", &CHAIN_ID.to_string(), "--accounts", "10"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    if let Some(mut s) = child.stderr.take() {
                        let _ = s.read_to_string(&mut err);
                    }
                    eprintln!("anvil exited ({status}) on port {port}: {err}");
                    break;
                }
                if rpc_ready(port) {
                    return Anvil { child, port };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("anvil did not answer JSON-RPC on port {port} within 30 s");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("anvil could not be started on a free port");
    }

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

/// Does an `eth_chainId` request get a JSON-RPC answer?
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

/// Minimal HTTP/1.1 client for the bridge tests: returns (status, headers+body text).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}
