//! Tests of `mint::chain::wallet` (src/chain/wallet.rs).
use alloy::primitives::Address;
use mint::chain::wallet::*;

/// Foundry/Hardhat's well-known test mnemonic and its first two accounts.
const PHRASE: &str = "test test test test test test test test test test test junk";

#[test]
fn mnemonic_derives_the_standard_accounts() {
    let w0 = Wallet::from_mnemonic(PHRASE, 0).unwrap();
    let w1 = Wallet::from_mnemonic(PHRASE, 1).unwrap();
    assert_eq!(
        w0.address(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse::<Address>()
            .unwrap()
    );
    assert_eq!(
        w1.address(),
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            .parse::<Address>()
            .unwrap()
    );
    let bad = Wallet::from_mnemonic("not a real phrase", 0).unwrap_err();
    assert!(!bad.to_string().contains("real phrase"), "{bad}");
}

#[test]
fn keystore_round_trip_and_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::from_private_key(
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    )
    .unwrap();
    let path = w
        .write_keystore(dir.path(), "surveyor.json", "correct horse")
        .unwrap();
    let back = Wallet::from_keystore(&path, "correct horse").unwrap();
    assert_eq!(back.address(), w.address());
    assert_eq!(back.origin(), "keystore");
    let err = Wallet::from_keystore(&path, "battery staple").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("wrong password"), "{msg}");
    assert!(!msg.contains("battery"), "{msg}");
    let debug = format!("{back:?}");
    assert!(!debug.contains("ac0974"), "{debug}");
    assert!(Wallet::from_keystore(dir.path().join("none.json"), "x").is_err());
}
