//! Browser-wallet bridge: the owner signs with the wallet already in their browser (MetaMask,
//! Rabby, Frame, a Ledger behind one of them — any injected EIP-1193 provider) and never pastes a
//! key into the CLI.
//!
//! [`serve`] starts a small HTTP server on `127.0.0.1` that serves one page describing the
//! prepared transaction ([`BridgeTx`]). The page asks `window.ethereum` to
//! `eth_sendTransaction` it and posts the hash back; the CLI waits on [`BridgeHandle::wait`],
//! then [`super::Chain::confirm`] waits for the receipt and decodes a revert.
//!
//! Endpoints (all need the per-session token `t`, which is only in the printed URL):
//! - `GET /?t=TOKEN` — the page;
//! - `GET /tx?t=TOKEN` — the transaction as JSON;
//! - `POST /hash` — `{"token": …, "hash": "0x…"}` (JSON only, so a cross-origin page cannot send
//!   it without a CORS preflight, which is never granted);
//! - `POST /error` — `{"token": …, "message": …}` when the wallet refused.
//!
//! A `Host` header other than the server's own address is refused (DNS rebinding).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, TxHash, U256};
use serde::{Deserialize, Serialize};
use tiny_http::{Header, Method, Request, Response, Server};

use super::error::{ChainError, ChainResult};

/// An unsigned transaction for the user's wallet to sign and send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeTx {
    /// What it does, shown as the page title ("mint", "pledge", …).
    pub action: String,
    pub chain_id: u64,
    /// The account that must send it, if the CLI knows (the owner of the token).
    pub from: Option<Address>,
    /// `None` for a contract creation.
    pub to: Option<Address>,
    pub data: Bytes,
    /// Hex quantity, as `eth_sendTransaction` takes it.
    pub value: U256,
}

enum Event {
    Hash(TxHash),
    Rejected(String),
}

/// A running bridge; dropping it stops the server.
pub struct BridgeHandle {
    url: String,
    base: String,
    token: String,
    events: mpsc::Receiver<Event>,
    stop: Arc<AtomicBool>,
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for BridgeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeHandle")
            .field("base", &self.base)
            .finish()
    }
}

/// Start the bridge on a free localhost port.
pub fn serve(tx: BridgeTx) -> ChainResult<BridgeHandle> {
    serve_on(tx, 0)
}

/// Start the bridge on `port` (0: any free port).
pub fn serve_on(tx: BridgeTx, port: u16) -> ChainResult<BridgeHandle> {
    let server = Server::http(("127.0.0.1", port))
        .map_err(|e| ChainError::Bridge(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| ChainError::Bridge("server has no IP address".into()))?;
    let token = alloy::hex::encode(rand08::random::<[u8; 16]>());
    let base = format!("http://{addr}");
    let url = format!("{base}/?t={token}");
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let (send, events) = mpsc::channel();
    let state = State {
        page: render_page(&tx, &token),
        tx_json: serde_json::to_string(&tx).expect("BridgeTx serialises"),
        token: token.clone(),
        hosts: vec![addr.to_string(), format!("localhost:{}", addr.port())],
        events: send,
    };
    let thread = {
        let server = server.clone();
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("twinmint-bridge".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match server.recv_timeout(Duration::from_millis(200)) {
                        Ok(Some(request)) => state.handle(request),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            })
            .map_err(|e| ChainError::Bridge(format!("cannot start the server thread: {e}")))?
    };
    Ok(BridgeHandle {
        url,
        base,
        token,
        events,
        stop,
        server,
        thread: Some(thread),
    })
}

impl BridgeHandle {
    /// The page to open in the browser (includes the session token).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `http://127.0.0.1:PORT`, without the token.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The session token the page and the endpoints use.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Block until the page posts a transaction hash, the wallet refuses, or `timeout` passes.
    pub fn wait(&self, timeout: Duration) -> ChainResult<TxHash> {
        match self.events.recv_timeout(timeout) {
            Ok(Event::Hash(h)) => Ok(h),
            Ok(Event::Rejected(m)) => Err(ChainError::BridgeRejected(m)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ChainError::BridgeTimeout {
                seconds: timeout.as_secs(),
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(ChainError::Bridge("the server stopped".into()))
            }
        }
    }
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct State {
    page: String,
    tx_json: String,
    token: String,
    hosts: Vec<String>,
    events: mpsc::Sender<Event>,
}

#[derive(Deserialize)]
struct Posted {
    token: String,
    hash: Option<String>,
    message: Option<String>,
}

impl State {
    fn handle(&self, mut request: Request) {
        let host_ok = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .is_some_and(|h| self.hosts.iter().any(|ok| h.value.as_str() == ok));
        if !host_ok {
            return respond(request, 421, "text/plain", "wrong Host".into());
        }
        let (path, query) = match request.url().split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (request.url().to_string(), String::new()),
        };
        let token_ok = query
            .split('&')
            .any(|kv| kv.strip_prefix("t=") == Some(self.token.as_str()));
        match (request.method().clone(), path.as_str()) {
            (Method::Get, "/") | (Method::Get, "/tx") if !token_ok => {
                respond(request, 403, "text/plain", "missing or wrong token".into())
            }
            (Method::Get, "/") => {
                respond(request, 200, "text/html; charset=utf-8", self.page.clone())
            }
            (Method::Get, "/tx") => respond(request, 200, "application/json", self.tx_json.clone()),
            (Method::Post, "/hash") | (Method::Post, "/error") => {
                let json = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Content-Type"))
                    .is_some_and(|h| h.value.as_str().starts_with("application/json"));
                if !json {
                    return respond(
                        request,
                        415,
                        "text/plain",
                        "expected application/json".into(),
                    );
                }
                let mut body = Vec::new();
                if request
                    .as_reader()
                    .take(64 * 1024)
                    .read_to_end(&mut body)
                    .is_err()
                {
                    return respond(request, 400, "text/plain", "unreadable body".into());
                }
                let posted: Posted = match serde_json::from_slice(&body) {
                    Ok(p) => p,
                    Err(e) => return respond(request, 400, "text/plain", format!("bad JSON: {e}")),
                };
                if posted.token != self.token {
                    return respond(request, 403, "text/plain", "wrong token".into());
                }
                let event = if path == "/hash" {
                    match posted.hash.as_deref().map(str::parse::<TxHash>) {
                        Some(Ok(h)) => Event::Hash(h),
                        _ => {
                            return respond(
                                request,
                                400,
                                "text/plain",
                                "hash must be 0x followed by 64 hex digits".into(),
                            );
                        }
                    }
                } else {
                    Event::Rejected(posted.message.unwrap_or_else(|| "no reason given".into()))
                };
                let _ = self.events.send(event);
                respond(request, 200, "application/json", "{\"ok\":true}".into())
            }
            _ => respond(request, 404, "text/plain", "not found".into()),
        }
    }
}

fn respond(request: Request, status: u16, content_type: &str, body: String) {
    let header = Header::from_bytes("Content-Type", content_type).expect("valid header");
    let no_cache = Header::from_bytes("Cache-Control", "no-store").expect("valid header");
    let _ = request.respond(
        Response::from_string(body)
            .with_status_code(status)
            .with_header(header)
            .with_header(no_cache),
    );
}

fn render_page(tx: &BridgeTx, token: &str) -> String {
    let row =
        |k: &str, v: String| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
    let rows = [
        row("action", tx.action.clone()),
        row("chain id", tx.chain_id.to_string()),
        row(
            "from",
            tx.from
                .map(|a| a.to_checksum(None))
                .unwrap_or_else(|| "your wallet's selected account".into()),
        ),
        row(
            "to",
            tx.to
                .map(|a| a.to_checksum(None))
                .unwrap_or_else(|| "(new contract)".into()),
        ),
        row("value (wei)", tx.value.to_string()),
        row("data", tx.data.to_string()),
    ]
    .join("\n");
    // `<` escaped so no field can close the script element.
    let json = serde_json::to_string(tx)
        .expect("BridgeTx serialises")
        .replace('<', "\\u003c");
    include_str!("bridge.html")
        .replace("{{ACTION}}", &escape(&tx.action))
        .replace("{{ROWS}}", &rows)
        .replace("{{TX_JSON}}", &json)
        .replace("{{TOKEN}}", token)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
