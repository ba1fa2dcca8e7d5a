//! Tests of `mint::seal::reader` (src/seal/reader.rs).
use alloy::primitives::Address;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use mint::chain::Wallet;
use mint::seal::reader::*;

#[test]
fn cards_recover_and_are_checked() {
    let w = Wallet::from_private_key(
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    )
    .unwrap();
    let card = ReaderCard::from_wallet(&w).unwrap();
    let key = card.public_key().unwrap();
    assert_eq!(address_of(&key), w.address());
    assert_eq!(key, w.secret_key().unwrap().public_key());
    // The same card naming another address is refused.
    let mut forged = card.clone();
    forged.address = Address::repeat_byte(0x11);
    assert!(forged.public_key().is_err());
    // A bare public key gives the same reader.
    let hexkey = hex::encode(key.to_encoded_point(false).as_bytes());
    assert_eq!(
        ReaderCard::from_public_key(&hexkey).unwrap().address,
        w.address()
    );
}
