//! Tests of `mint::chain::rpc_url` (src/chain/rpc_url.rs).
use mint::chain::rpc_url::*;

#[test]
fn keys_in_path_query_and_userinfo_are_hidden() {
    for (url, shown) in [
        (
            "https://eth-mainnet.example/v2/KEY123",
            "https://eth-mainnet.example/…",
        ),
        (
            "https://rpc.example:8443/?apikey=KEY123",
            "https://rpc.example:8443/…",
        ),
        ("https://user:KEY123@rpc.example/", "https://…@rpc.example"),
        (
            "https://user:KEY123@rpc.example/x#KEY123",
            "https://…@rpc.example/…",
        ),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
        ("KEY123", "(RPC URL not shown)"),
        ("1http://KEY123", "(RPC URL not shown)"),
        ("http://[KEY123", "(RPC URL not shown)"),
    ] {
        assert_eq!(redact_url(url), shown, "{url}");
        assert!(!redact_url(url).contains("KEY123"));
    }
}

#[test]
fn redact_in_scrubs_every_spelling() {
    let url = "https://User:KEY123@RPC.example/v2/KEY123";
    let text = format!(
        "error sending request for url (https://User:KEY123@rpc.example/v2/KEY123): {url} \
         /v2/KEY123"
    );
    let out = redact_in(&text, url);
    assert!(!out.contains("KEY123"), "{out}");
    assert!(out.contains("rpc.example"), "{out}");
}

#[test]
fn loopback_urls() {
    for url in [
        "http://127.0.0.1:8545",
        "http://localhost:8545/",
        "http://[::1]:8545",
        "https://127.9.9.9",
    ] {
        assert!(is_loopback_url(url), "{url}");
    }
    for url in [
        "http://evil.example:8545",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
        "ws://127.0.0.1:8545",
        "http://10.0.0.1:8545",
        "not a url",
    ] {
        assert!(!is_loopback_url(url), "{url}");
    }
}

#[test]
fn redacted_url_display_and_debug() {
    let u = RedactedUrl::from("https://eth-mainnet.example/v2/KEY123");
    assert_eq!(u.to_string(), "https://eth-mainnet.example/…");
    assert!(!format!("{u:?}").contains("KEY123"));
    assert_eq!(u.expose(), "https://eth-mainnet.example/v2/KEY123");
}
