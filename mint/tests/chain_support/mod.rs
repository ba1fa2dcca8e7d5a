//! Shared by the chain tests: the dev chain from the library and a minimal HTTP/1.1 client.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[allow(unused_imports)]
pub use mint::chain::dev::{CHAIN_ID, MNEMONIC, free_port};

/// Start anvil from `mint/contracts/node_modules`, or fail saying how to install it.
pub fn anvil() -> mint::chain::dev::Anvil {
    mint::chain::dev::Anvil::start().unwrap_or_else(|e| panic!("{e}"))
}

/// Send one request; returns (status, raw response text).
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

/// The body of a raw HTTP response.
pub fn body(response: &str) -> &str {
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("")
}

/// A well-formed H3 cell index at the contract's resolution (12), distinct for each `k`
/// (`k < 2^43`): mode 1, resolution 12, the unused digits 13–15 all 7.
pub fn cell(k: u64) -> u64 {
    (1u64 << 59) | (12u64 << 52) | (k << 9) | 0x1ff
}

/// `n` ascending cells starting at `cell(start)`.
pub fn cells(start: u64, n: u64) -> Vec<u64> {
    (start..start + n).map(cell).collect()
}

/// Unix seconds of the chain's latest block.
pub async fn chain_now(c: &mint::chain::Chain) -> u64 {
    use alloy::providers::Provider;
    let b = c
        .provider()
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    b.header.timestamp
}

/// Move anvil's clock forward and mine a block.
pub async fn advance(c: &mint::chain::Chain, seconds: u64) {
    use alloy::providers::Provider;
    let _: serde_json::Value = c
        .provider()
        .raw_request("evm_increaseTime".into(), (seconds,))
        .await
        .unwrap();
    let _: serde_json::Value = c
        .provider()
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
}
