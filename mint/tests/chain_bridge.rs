//! The browser-wallet bridge's HTTP endpoints, without a browser: the page shows the prepared
//! transaction and carries the session token, `/tx` serves it as JSON, `/hash` accepts a hash
//! (and nothing else), `/error` reports a refusal, and requests without the token, with a
//! foreign `Host` or a non-JSON body are refused. A client that connects and stalls does not
//! hold up anyone else, and a wrong token is refused before any body byte is read.

mod chain_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mint::chain::{Address, BridgeTx, Bytes, ChainError, TxHash, U256, bridge};

use chain_support::http;

fn sample_tx() -> BridgeTx {
    BridgeTx {
        action: "pledge <token 7>".into(),
        chain_id: 31337,
        from: Some(Address::repeat_byte(0xaa)),
        to: Some(Address::repeat_byte(0xbb)),
        data: Bytes::from(vec![0xde, 0xad, 0xbe, 0xef]),
        value: U256::ZERO,
    }
}

fn port_of(handle: &bridge::BridgeHandle) -> u16 {
    handle
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn json_headers() -> [(&'static str, &'static str); 1] {
    [("Content-Type", "application/json")]
}

#[test]
fn chain_bridge_page_and_endpoints() {
    let tx = sample_tx();
    let handle = bridge::serve(tx.clone()).unwrap();
    let port = port_of(&handle);
    let host = format!("127.0.0.1:{port}");
    let token = handle.token().to_string();
    assert!(handle.url().starts_with("http://127.0.0.1:"));
    assert!(handle.url().ends_with(&format!("/?t={token}")));

    // The page lists every field, escaped, and embeds the transaction and token for its script.
    let (status, page) = http(port, "GET", &format!("/?t={token}"), &host, &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("text/html"));
    for needle in [
        "pledge &lt;token 7&gt;",
        "31337",
        &Address::repeat_byte(0xaa).to_checksum(None),
        &Address::repeat_byte(0xbb).to_checksum(None),
        "0xdeadbeef",
        "eth_sendTransaction",
        "window.ethereum",
        &token,
    ] {
        assert!(page.contains(needle), "page lacks {needle:?}");
    }
    assert!(!page.contains("<token 7>"), "unescaped field in the page");
    // `localhost:PORT` is the same server.
    let (status, _) = http(
        port,
        "GET",
        &format!("/?t={token}"),
        &format!("localhost:{port}"),
        &[],
        "",
    );
    assert_eq!(status, 200);

    // The transaction as JSON.
    let (status, body) = http(port, "GET", &format!("/tx?t={token}"), &host, &[], "");
    assert_eq!(status, 200);
    let served: BridgeTx = serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(served, tx);

    // Refusals.
    assert_eq!(http(port, "GET", "/", &host, &[], "").0, 403, "no token");
    assert_eq!(
        http(port, "GET", "/?t=nope", &host, &[], "").0,
        403,
        "wrong token"
    );
    assert_eq!(
        http(
            port,
            "GET",
            &format!("/?t={token}"),
            "evil.example:80",
            &[],
            ""
        )
        .0,
        421,
        "foreign Host (DNS rebinding)"
    );
    assert_eq!(http(port, "GET", "/favicon.ico", &host, &[], "").0, 404);
    let hash = TxHash::repeat_byte(0x42);
    let good = format!(r#"{{"hash":"{hash}"}}"#);
    let hash_path = format!("/hash?t={token}");
    assert_eq!(
        http(
            port,
            "POST",
            &hash_path,
            &host,
            &[("Content-Type", "text/plain")],
            &good
        )
        .0,
        415,
        "a form post from another origin is not JSON"
    );
    // The token belongs in the URL (or a header): in the body alone it is not enough.
    let in_body = format!(r#"{{"token":"{token}","hash":"{hash}"}}"#);
    assert_eq!(
        http(port, "POST", "/hash", &host, &json_headers(), &in_body).0,
        403
    );
    assert_eq!(
        http(port, "POST", "/hash?t=nope", &host, &json_headers(), &good).0,
        403
    );
    // A token in the body must be the session's too.
    let wrong = format!(r#"{{"token":"nope","hash":"{hash}"}}"#);
    assert_eq!(
        http(port, "POST", &hash_path, &host, &json_headers(), &wrong).0,
        403
    );
    let bad = r#"{"hash":"0x1234"}"#;
    assert_eq!(
        http(port, "POST", &hash_path, &host, &json_headers(), bad).0,
        400
    );
    assert_eq!(
        http(port, "POST", &hash_path, &host, &json_headers(), "{").0,
        400
    );

    // Nothing valid arrived yet.
    assert!(matches!(
        handle.wait(Duration::from_millis(100)),
        Err(ChainError::BridgeTimeout { .. })
    ));

    // The hash is accepted and handed to the waiting CLI; the token may also come as a header.
    let (status, body) = http(port, "POST", &hash_path, &host, &json_headers(), &good);
    assert_eq!(status, 200, "{body}");
    assert_eq!(handle.wait(Duration::from_secs(5)).unwrap(), hash);
    let (status, body) = http(
        port,
        "POST",
        "/hash",
        &host,
        &[
            ("Content-Type", "application/json"),
            ("X-TwinMint-Token", &token),
        ],
        &good,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(handle.wait(Duration::from_secs(5)).unwrap(), hash);
}

#[test]
fn chain_bridge_reports_wallet_refusal() {
    let handle = bridge::serve(sample_tx()).unwrap();
    let port = port_of(&handle);
    let body = r#"{"message":"User rejected the request."}"#;
    let (status, _) = http(
        port,
        "POST",
        &format!("/error?t={}", handle.token()),
        &format!("127.0.0.1:{port}"),
        &json_headers(),
        body,
    );
    assert_eq!(status, 200);
    match handle.wait(Duration::from_secs(5)) {
        Err(e @ ChainError::BridgeRejected(_)) => {
            assert!(e.to_string().contains("User rejected"), "{e}")
        }
        other => panic!("expected BridgeRejected, got {other:?}"),
    }
    // Dropping the handle stops the server (its listener closes shortly after).
    drop(handle);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the bridge still listens after drop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The page's own script, run in Node against the live bridge with a fake injected wallet:
/// it requests accounts, switches chain, sends exactly the prepared fields, posts the hash.
#[test]
fn chain_bridge_page_script_drives_the_wallet() {
    let tx = sample_tx();
    let from = tx.from.unwrap().to_checksum(None);
    let hash = TxHash::repeat_byte(0x5a);
    for reject in [false, true] {
        let handle = bridge::serve(tx.clone()).unwrap();
        let port = port_of(&handle);
        let (status, page) = http(
            port,
            "GET",
            &format!("/?t={}", handle.token()),
            &format!("127.0.0.1:{port}"),
            &[],
            "",
        );
        assert_eq!(status, 200);
        let dir = tempfile::tempdir().unwrap();
        let page_file = dir.path().join("page.html");
        std::fs::write(&page_file, chain_support::body(&page)).unwrap();
        let harness = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/chain_support/bridge_page.mjs");
        let mut cmd = std::process::Command::new("node");
        cmd.arg(&harness)
            .arg(handle.base_url())
            .arg(&page_file)
            .arg(&from)
            .arg(hash.to_string());
        if reject {
            cmd.arg("reject");
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run `node` (Node.js ≥ 20 is needed): {e}"));
        assert!(
            out.status.success(),
            "page script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["calls"],
            serde_json::json!([
                "eth_requestAccounts",
                "eth_chainId",
                "wallet_switchEthereumChain",
                "eth_sendTransaction"
            ])
        );
        let sent = &report["sent"];
        assert_eq!(
            sent["from"].as_str().unwrap().to_lowercase(),
            from.to_lowercase()
        );
        assert_eq!(
            sent["to"].as_str().unwrap().to_lowercase(),
            tx.to.unwrap().to_string().to_lowercase()
        );
        assert_eq!(sent["data"], "0xdeadbeef");
        assert_eq!(sent["value"], "0x0");
        if reject {
            match handle.wait(Duration::from_secs(10)) {
                Err(ChainError::BridgeRejected(m)) => assert!(m.contains("User rejected"), "{m}"),
                other => panic!("expected BridgeRejected, got {other:?}"),
            }
        } else {
            assert_eq!(handle.wait(Duration::from_secs(10)).unwrap(), hash);
            assert!(report["status"].as_str().unwrap().starts_with("Sent: "));
        }
    }
}

/// Read a whole response (the bridge closes after answering) within `limit`; the status code,
/// or `None` when nothing complete came back in time.
fn response_within(s: &mut TcpStream, limit: Duration) -> Option<(u16, String)> {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(_) if !out.is_empty() => {}
        Err(_) => return None,
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

/// One client that connects and sends nothing, and one that sends the head of a `/hash` post
/// (valid token, declared body) but never the body: neither holds up the next request, which is
/// answered at once instead of after their timeouts. The stalled ones are dropped after the
/// bridge's I/O timeout.
#[test]
fn chain_bridge_slow_clients_do_not_block_others() {
    let handle = bridge::serve(sample_tx()).unwrap();
    let port = port_of(&handle);
    let host = format!("127.0.0.1:{port}");
    let token = handle.token().to_string();

    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stalled_body = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled_body
        .write_all(
            format!(
                "POST /hash?t={token} HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut trickle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    trickle.write_all(b"GET /tx?t=").unwrap();
    std::thread::sleep(Duration::from_millis(200));

    for _ in 0..3 {
        let t = Instant::now();
        let (status, body) = http(port, "GET", &format!("/tx?t={token}"), &host, &[], "");
        assert_eq!(status, 200, "{body}");
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "a request waited {:?} behind stalled clients",
            t.elapsed()
        );
    }
    // A hash still gets through while they hang.
    let hash = TxHash::repeat_byte(0x11);
    let (status, _) = http(
        port,
        "POST",
        &format!("/hash?t={token}"),
        &host,
        &json_headers(),
        &format!(r#"{{"hash":"{hash}"}}"#),
    );
    assert_eq!(status, 200);
    assert_eq!(handle.wait(Duration::from_secs(5)).unwrap(), hash);

    // The stalled connections are closed by the server after its I/O timeout, not kept open.
    let limit = bridge::IO_TIMEOUT + Duration::from_secs(5);
    let mut silent = silent;
    let t = Instant::now();
    silent.set_read_timeout(Some(limit)).unwrap();
    let mut buf = Vec::new();
    let closed = silent.read_to_end(&mut buf).is_ok();
    assert!(
        closed && t.elapsed() < limit,
        "a silent client was kept for {:?}",
        t.elapsed()
    );
    // The client that never sent its body gets an answer (408) when the server gives up.
    let (status, _) =
        response_within(&mut stalled_body, limit).expect("no answer to a stalled body");
    assert_eq!(status, 408);
}

/// A post with a wrong (or no) token is refused as soon as its head is in: the client declares a
/// body and never sends it, and still gets its 403 at once. So is a body over the size cap, even
/// with the right token.
#[test]
fn chain_bridge_refuses_a_wrong_token_without_reading_the_body() {
    let handle = bridge::serve(sample_tx()).unwrap();
    let port = port_of(&handle);
    let host = format!("127.0.0.1:{port}");
    let token = handle.token().to_string();
    let head = |path: &str, length: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\n\r\n"
        )
    };
    for (path, length, expected) in [
        ("/hash?t=wrong".to_string(), 1000, 403),
        ("/hash".to_string(), 1000, 403),
        ("/error?t=wrong".to_string(), 1000, 403),
        (format!("/hash?t={token}"), bridge::MAX_BODY + 1, 413),
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(head(&path, length).as_bytes()).unwrap();
        // No body follows: an answer can only come from the head.
        let t = Instant::now();
        let (status, text) = response_within(&mut s, Duration::from_secs(3)).unwrap_or_else(|| {
            panic!("{path}: no answer without the body (was it waiting for it?)")
        });
        assert_eq!(status, expected, "{path}: {text}");
        assert!(t.elapsed() < Duration::from_secs(3));
    }
    // Nothing reached the waiting CLI.
    assert!(matches!(
        handle.wait(Duration::from_millis(100)),
        Err(ChainError::BridgeTimeout { .. })
    ));
}
