//! The browser-wallet bridge's HTTP endpoints, without a browser: the page shows the prepared
//! transaction and carries the session token, `/tx` serves it as JSON, `/hash` accepts a hash
//! (and nothing else), `/error` reports a refusal, and requests without the token, with a
//! foreign `Host` or a non-JSON body are refused.

mod chain_support;

use std::time::Duration;

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
    let good = format!(r#"{{"token":"{token}","hash":"{hash}"}}"#);
    assert_eq!(
        http(
            port,
            "POST",
            "/hash",
            &host,
            &[("Content-Type", "text/plain")],
            &good
        )
        .0,
        415,
        "a form post from another origin is not JSON"
    );
    let wrong = format!(r#"{{"token":"nope","hash":"{hash}"}}"#);
    assert_eq!(
        http(port, "POST", "/hash", &host, &json_headers(), &wrong).0,
        403
    );
    let bad = format!(r#"{{"token":"{token}","hash":"0x1234"}}"#);
    assert_eq!(
        http(port, "POST", "/hash", &host, &json_headers(), &bad).0,
        400
    );
    assert_eq!(
        http(port, "POST", "/hash", &host, &json_headers(), "{").0,
        400
    );

    // Nothing valid arrived yet.
    assert!(matches!(
        handle.wait(Duration::from_millis(100)),
        Err(ChainError::BridgeTimeout { .. })
    ));

    // The hash is accepted and handed to the waiting CLI.
    let (status, body) = http(port, "POST", "/hash", &host, &json_headers(), &good);
    assert_eq!(status, 200, "{body}");
    assert_eq!(handle.wait(Duration::from_secs(5)).unwrap(), hash);
}

#[test]
fn chain_bridge_reports_wallet_refusal() {
    let handle = bridge::serve(sample_tx()).unwrap();
    let port = port_of(&handle);
    let body = format!(
        r#"{{"token":"{}","message":"User rejected the request."}}"#,
        handle.token()
    );
    let (status, _) = http(
        port,
        "POST",
        "/error",
        &format!("127.0.0.1:{port}"),
        &json_headers(),
        &body,
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
