//! Tests of `mint::chain::bridge` (src/chain/bridge.rs).
use alloy::primitives::{Address, Bytes, TxHash, U256};
use mint::chain::bridge::*;
use mint::chain::error::{ChainError, ChainResult};

fn prepared() -> BridgeTx {
    BridgeTx {
        action: "pledge".into(),
        chain_id: 31337,
        from: Some(Address::repeat_byte(0xaa)),
        to: Some(Address::repeat_byte(0xbb)),
        data: Bytes::from(vec![0xde, 0xad, 0xbe, 0xef]),
        value: U256::ZERO,
    }
}

fn sent_as_prepared() -> SentTx {
    let p = prepared();
    SentTx {
        chain_id: Some(p.chain_id),
        from: p.from.unwrap(),
        to: p.to,
        input: p.data,
        value: p.value,
    }
}

fn field_of(r: ChainResult<()>) -> &'static str {
    match r {
        Err(ChainError::BridgeTxMismatch { field, .. }) => field,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn only_the_prepared_transaction_is_accepted() {
    let hash = TxHash::repeat_byte(1);
    let p = prepared();
    p.check_sent(hash, &sent_as_prepared()).unwrap();

    let mut s = sent_as_prepared();
    s.to = Some(Address::repeat_byte(0xcc));
    assert_eq!(field_of(p.check_sent(hash, &s)), "recipient");
    let mut s = sent_as_prepared();
    s.to = None;
    assert_eq!(field_of(p.check_sent(hash, &s)), "recipient");
    let mut s = sent_as_prepared();
    s.input = Bytes::from(vec![0xde, 0xad, 0xbe, 0xee]);
    assert_eq!(field_of(p.check_sent(hash, &s)), "calldata");
    let mut s = sent_as_prepared();
    s.input = Bytes::new();
    assert_eq!(field_of(p.check_sent(hash, &s)), "calldata");
    let mut s = sent_as_prepared();
    s.value = U256::from(1);
    assert_eq!(field_of(p.check_sent(hash, &s)), "value (wei)");
    let mut s = sent_as_prepared();
    s.from = Address::repeat_byte(0x01);
    assert_eq!(field_of(p.check_sent(hash, &s)), "sender");
    let mut s = sent_as_prepared();
    s.chain_id = Some(1);
    assert_eq!(field_of(p.check_sent(hash, &s)), "chain id");
    let mut s = sent_as_prepared();
    s.chain_id = None;
    assert_eq!(field_of(p.check_sent(hash, &s)), "chain id");

    // Without a pinned sender, any account may send it.
    let mut any = prepared();
    any.from = None;
    let mut s = sent_as_prepared();
    s.from = Address::repeat_byte(0x01);
    any.check_sent(hash, &s).unwrap();

    let mut s = sent_as_prepared();
    s.to = Some(Address::repeat_byte(0xcc));
    let msg = p.check_sent(hash, &s).unwrap_err().to_string();
    assert!(
        msg.contains(&hash.to_string()) && msg.contains("not the prepared pledge"),
        "{msg}"
    );
}

#[test]
fn tokens_compare_whole() {
    assert!(same_secret("abc", "abc"));
    assert!(!same_secret("abc", "abd"));
    assert!(!same_secret("ab", "abc"));
    assert!(!same_secret("", "abc"));
}
