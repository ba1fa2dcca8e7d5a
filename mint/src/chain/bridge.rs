//! Browser-wallet bridge: the owner signs with the wallet already in their browser (MetaMask,
//! Rabby, Frame, a Ledger behind one of them — any injected EIP-1193 provider) and never pastes a
//! key into the CLI.
//!
//! [`serve`] starts a small HTTP server on `127.0.0.1` that serves one page describing the
//! prepared transaction ([`BridgeTx`]). The page asks `window.ethereum` to
//! `eth_sendTransaction` it and posts the hash back; the CLI waits on [`BridgeHandle::wait`],
//! then [`super::Chain::confirm`] waits for the receipt and decodes a revert.
//!
//! Endpoints (all need the per-session token, which is only in the printed URL: `?t=TOKEN` in
//! the URL, or an `X-TwinMint-Token` header):
//! - `GET /?t=TOKEN` — the page;
//! - `GET /tx?t=TOKEN` — the transaction as JSON;
//! - `POST /hash?t=TOKEN` — `{"hash": "0x…"}` (JSON only, so a cross-origin page cannot send it
//!   without a CORS preflight, which is never granted);
//! - `POST /error?t=TOKEN` — `{"message": …}` when the wallet refused.
//!
//! A `Host` header other than the server's own address is refused (DNS rebinding). Each
//! connection is answered on its own thread with read and write timeouts ([`IO_TIMEOUT`] for the
//! whole request), so a client that connects and sends nothing, or trickles, holds only its own
//! thread; the token, `Host`, content type and declared length are checked before any body byte
//! is read, and bodies are capped at [`MAX_BODY`].
//!
//! The hash that comes back is only a claim: [`super::Chain::confirm_bridge`] fetches the mined
//! transaction and accepts it only if it is the prepared one ([`BridgeTx::check_sent`]).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes, TxHash, U256};
use serde::{Deserialize, Serialize};

use super::error::{ChainError, ChainResult};

/// The most a client may take for one request (head and body), and for reading the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest request body accepted (`/hash` and `/error` need a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;
/// Connections served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 64;

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

/// What the chain holds for a transaction hash, as far as [`BridgeTx::check_sent`] compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentTx {
    /// `None` for a transaction without replay protection (pre-EIP-155).
    pub chain_id: Option<u64>,
    pub from: Address,
    /// `None` for a contract creation.
    pub to: Option<Address>,
    pub input: Bytes,
    pub value: U256,
}

impl BridgeTx {
    /// Is `sent` (the transaction behind `hash`) this prepared transaction? Chain id, recipient,
    /// calldata and value must be equal, and the sender too when [`BridgeTx::from`] is set;
    /// otherwise [`ChainError::BridgeTxMismatch`] names the first field that differs.
    pub fn check_sent(&self, hash: TxHash, sent: &SentTx) -> ChainResult<()> {
        let mismatch = |field: &'static str, expected: String, actual: String| {
            Err(ChainError::BridgeTxMismatch {
                action: self.action.clone(),
                hash,
                field,
                expected,
                actual,
            })
        };
        let to = |a: Option<Address>| {
            a.map(|a| a.to_checksum(None))
                .unwrap_or_else(|| "(contract creation)".into())
        };
        if sent.chain_id != Some(self.chain_id) {
            return mismatch(
                "chain id",
                self.chain_id.to_string(),
                sent.chain_id
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "none (no replay protection)".into()),
            );
        }
        if sent.to != self.to {
            return mismatch("recipient", to(self.to), to(sent.to));
        }
        if sent.input != self.data {
            return mismatch("calldata", short_hex(&self.data), short_hex(&sent.input));
        }
        if sent.value != self.value {
            return mismatch(
                "value (wei)",
                self.value.to_string(),
                sent.value.to_string(),
            );
        }
        if let Some(from) = self.from
            && sent.from != from
        {
            return mismatch(
                "sender",
                from.to_checksum(None),
                sent.from.to_checksum(None),
            );
        }
        Ok(())
    }
}

/// Calldata for a message: the selector and length, not kilobytes of hex.
fn short_hex(data: &Bytes) -> String {
    if data.len() <= 36 {
        data.to_string()
    } else {
        format!(
            "{}… ({} bytes)",
            Bytes::from(data[..36].to_vec()),
            data.len()
        )
    }
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
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| ChainError::Bridge(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ChainError::Bridge(format!("server has no address: {e}")))?;
    // Non-blocking accept, so the loop sees `stop` without a wake-up connection.
    listener
        .set_nonblocking(true)
        .map_err(|e| ChainError::Bridge(format!("cannot configure the listener: {e}")))?;
    let token = alloy::hex::encode(rand08::random::<[u8; 16]>());
    let base = format!("http://{addr}");
    let url = format!("{base}/?t={token}");
    let stop = Arc::new(AtomicBool::new(false));
    let (send, events) = mpsc::channel();
    let state = Arc::new(State {
        page: render_page(&tx, &token),
        tx_json: serde_json::to_string(&tx).expect("BridgeTx serialises"),
        token: token.clone(),
        hosts: vec![addr.to_string(), format!("localhost:{}", addr.port())],
        events: send,
    });
    let thread = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("twinmint-bridge".into())
            .spawn(move || accept_loop(listener, state, stop))
            .map_err(|e| ChainError::Bridge(format!("cannot start the server thread: {e}")))?
    };
    Ok(BridgeHandle {
        url,
        base,
        token,
        events,
        stop,
        thread: Some(thread),
    })
}

/// Accept until `stop`; every connection is answered on its own thread.
fn accept_loop(listener: TcpListener, state: Arc<State>, stop: Arc<AtomicBool>) {
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            // Too many open requests: close this one unanswered.
            drop(stream);
            continue;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let guard = ActiveGuard(active.clone());
        let state = state.clone();
        let spawned = std::thread::Builder::new()
            .name("twinmint-bridge-conn".into())
            .spawn(move || {
                let _guard = guard;
                state.serve_connection(stream);
            });
        // A thread that cannot start drops its closure: the guard and the stream go with it.
        drop(spawned);
    }
}

/// Counts a connection being served until dropped.
struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
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
        // The accept loop owns the listener: once it returns, the port is closed.
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
    /// Optional (the token travels in the URL); when present it must be the session's too.
    token: Option<String>,
    hash: Option<String>,
    message: Option<String>,
}

/// A parsed request head.
struct Head {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no normal answer.
struct Refusal(u16, &'static str);

impl State {
    fn serve_connection(&self, mut stream: TcpStream) {
        let deadline = Instant::now() + IO_TIMEOUT;
        // Accepted sockets may inherit the listener's non-blocking mode on some platforms.
        if stream.set_nonblocking(false).is_err()
            || stream.set_write_timeout(Some(IO_TIMEOUT)).is_err()
        {
            return;
        }
        let (head, rest) = match read_head(&mut stream, deadline) {
            Ok(h) => h,
            Err(Some(r)) => return respond(&mut stream, r.0, "text/plain", r.1.into(), false),
            // Closed, timed out, or not HTTP: nothing to answer.
            Err(None) => return,
        };
        let declares_body = head
            .header("Content-Length")
            .is_some_and(|v| v.trim() != "0")
            || head.header("Transfer-Encoding").is_some();
        let answer = self.route(&head, rest, &mut stream, deadline);
        // A refused request's body may still be on its way.
        let drain = declares_body && answer.is_err();
        let (status, content_type, body) = match answer {
            Ok(a) => a,
            Err(r) => (r.0, "text/plain", r.1.to_string()),
        };
        respond(&mut stream, status, content_type, body, drain);
    }

    /// Everything is checked before the body is read: `Host`, token, route, content type and
    /// length.
    fn route(
        &self,
        head: &Head,
        rest: Vec<u8>,
        stream: &mut TcpStream,
        deadline: Instant,
    ) -> Result<(u16, &'static str, String), Refusal> {
        let host_ok = head
            .header("Host")
            .is_some_and(|h| self.hosts.iter().any(|ok| h.trim() == ok));
        if !host_ok {
            return Err(Refusal(421, "wrong Host"));
        }
        let known = matches!(
            (head.method.as_str(), head.path.as_str()),
            ("GET", "/") | ("GET", "/tx") | ("POST", "/hash") | ("POST", "/error")
        );
        if !known {
            return Err(Refusal(404, "not found"));
        }
        let given = head
            .query
            .split('&')
            .find_map(|kv| kv.strip_prefix("t="))
            .or_else(|| head.header("X-TwinMint-Token"))
            .unwrap_or("");
        if !same_secret(given.trim(), &self.token) {
            return Err(Refusal(403, "missing or wrong token"));
        }
        match (head.method.as_str(), head.path.as_str()) {
            ("GET", "/") => Ok((200, "text/html; charset=utf-8", self.page.clone())),
            ("GET", "/tx") => Ok((200, "application/json", self.tx_json.clone())),
            (_, path) => {
                let json = head
                    .header("Content-Type")
                    .is_some_and(|v| v.trim_start().starts_with("application/json"));
                if !json {
                    return Err(Refusal(415, "expected application/json"));
                }
                if head.header("Transfer-Encoding").is_some() {
                    return Err(Refusal(411, "send a Content-Length, not a chunked body"));
                }
                let length = match head.header("Content-Length").map(|v| v.trim().parse()) {
                    Some(Ok(n)) => n,
                    Some(Err(_)) => return Err(Refusal(400, "bad Content-Length")),
                    None => return Err(Refusal(411, "Content-Length required")),
                };
                if length > MAX_BODY {
                    return Err(Refusal(413, "body too large"));
                }
                let body = read_body(stream, rest, length, deadline)
                    .ok_or(Refusal(408, "body incomplete or too slow"))?;
                let posted: Posted =
                    serde_json::from_slice(&body).map_err(|_| Refusal(400, "bad JSON"))?;
                if posted
                    .token
                    .as_deref()
                    .is_some_and(|t| !same_secret(t, &self.token))
                {
                    return Err(Refusal(403, "wrong token"));
                }
                let event = if path == "/hash" {
                    match posted.hash.as_deref().map(str::parse::<TxHash>) {
                        Some(Ok(h)) => Event::Hash(h),
                        _ => {
                            return Err(Refusal(400, "hash must be 0x followed by 64 hex digits"));
                        }
                    }
                } else {
                    let mut m = posted.message.unwrap_or_else(|| "no reason given".into());
                    if m.len() > 500 {
                        let mut end = 500;
                        while !m.is_char_boundary(end) {
                            end -= 1;
                        }
                        m.truncate(end);
                        m.push('…');
                    }
                    Event::Rejected(m)
                };
                let _ = self.events.send(event);
                Ok((200, "application/json", "{\"ok\":true}".into()))
            }
        }
    }
}

/// Constant-time comparison of two tokens.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Set the read timeout to what is left until `deadline`; `false` once it has passed.
fn time_left(stream: &TcpStream, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    !left.is_zero() && stream.set_read_timeout(Some(left)).is_ok()
}

/// Read up to the blank line that ends the head. Returns the head and any body bytes read with
/// it; `Err(Some(refusal))` for a head too large or malformed, `Err(None)` when the client
/// closed, stalled past the deadline, or failed.
fn read_head(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<(Head, Vec<u8>), Option<Refusal>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(Some(Refusal(431, "request head too large")));
        }
        if !time_left(stream, deadline) {
            return Err(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let rest = buf[end + 4..].to_vec();
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| Some(Refusal(400, "bad request")))?;
    let mut lines = text.split("\r\n");
    let mut request = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version)) =
        (request.next(), request.next(), request.next())
    else {
        return Err(Some(Refusal(400, "bad request line")));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Some(Refusal(400, "HTTP/1.x only")));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or(Some(Refusal(400, "bad header line")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok((
        Head {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
        },
        rest,
    ))
}

/// Exactly `length` body bytes (some may have come with the head), before `deadline`.
fn read_body(
    stream: &mut TcpStream,
    mut body: Vec<u8>,
    length: usize,
    deadline: Instant,
) -> Option<Vec<u8>> {
    if body.len() > length {
        // Pipelined requests are not served: one request per connection.
        body.truncate(length);
    }
    let mut chunk = [0u8; 4096];
    while body.len() < length {
        if !time_left(stream, deadline) {
            return None;
        }
        let want = (length - body.len()).min(chunk.len());
        match stream.read(&mut chunk[..want]) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(body)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Answer and close. With `drain`, body bytes the client may still send are read and dropped
/// for a moment after the answer (bounded), so closing does not reset the connection before
/// the client has read the refusal.
fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: String, drain: bool) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body.as_bytes()))
        .and_then(|_| stream.flush());
    let _ = stream.shutdown(Shutdown::Write);
    if drain {
        let until = Instant::now() + Duration::from_millis(250);
        let mut sink = [0u8; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 && time_left(stream, until) {
            match stream.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    }
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
