//! Tests of `mint::seal::ecies` (src/seal/ecies.rs).
use k256::SecretKey;
use mint::seal::ecies::*;
use mint::seal::error::SealError;

#[test]
fn wrap_round_trips_and_other_keys_fail() {
    let r = SecretKey::random(&mut rand08::rngs::OsRng);
    let other = SecretKey::random(&mut rand08::rngs::OsRng);
    let key = [7u8; 32];
    let w = wrap(&key, &r.public_key(), b"reader");
    assert_eq!(w.ephemeral.len(), 33);
    assert_eq!(w.ciphertext.len(), 48);
    assert_eq!(*unwrap(&w, &r, b"reader").unwrap(), key);
    assert!(matches!(
        unwrap(&w, &other, b"reader"),
        Err(SealError::WrongKey)
    ));
    assert!(matches!(
        unwrap(&w, &r, b"someone"),
        Err(SealError::WrongKey)
    ));
    let mut bad = w.clone();
    bad.ciphertext[3] ^= 1;
    assert!(matches!(
        unwrap(&bad, &r, b"reader"),
        Err(SealError::WrongKey)
    ));
}
