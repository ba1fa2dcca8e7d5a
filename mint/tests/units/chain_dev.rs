//! Tests of `mint::chain::dev` (src/chain/dev.rs).
use mint::chain::dev::*;

#[test]
fn missing_anvil_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let msg = find_anvil(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("npm ci --prefix mint/contracts"), "{msg}");
}
