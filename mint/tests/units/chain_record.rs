//! Tests of `mint::chain::record` (src/chain/record.rs).
use alloy::primitives::{Address, B256, TxHash};
use mint::chain::record::*;

#[test]
fn chain_record_round_trips_through_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p/chain.json");
    let mut r = ChainRecord::new("anvil", 31337, Address::repeat_byte(1));
    r.token_id = Some(3);
    r.fingerprint = Some(B256::repeat_byte(0xab));
    r.push_tx("mint", TxHash::repeat_byte(7), Some(12));
    r.write(&path).unwrap();
    assert_eq!(ChainRecord::read(&path).unwrap(), r);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"fingerprint\": \"0xabab"), "{text}");
    assert!(
        PendingMint::read(&dir.path().join("none"))
            .unwrap()
            .is_none()
    );
}
