//! Tests of `mint::chain::attest` (src/chain/attest.rs).
use alloy::primitives::{Address, B256};
use alloy::sol_types::SolStruct;
use mint::chain::attest::*;
use mint::chain::wallet::Wallet;

#[test]
fn type_strings_match_the_contract() {
    assert_eq!(
        Attestation::eip712_encode_type(),
        "Attestation(address to,bytes32 fingerprint,bytes32 scanRoot,bytes32 captureHash,bytes32 footprintRoot,uint32 cellCount,string uri,uint64 deadline)"
    );
    assert_eq!(
        Resurvey::eip712_encode_type(),
        "Resurvey(uint256 tokenId,bytes32 previousFingerprint,bytes32 fingerprint,bytes32 scanRoot,bytes32 captureHash,bytes32 footprintRoot,uint32 cellCount,bytes32 driftHash,string uri,uint64 deadline)"
    );
}

#[test]
fn footprint_root_covers_every_batch() {
    let cells: Vec<u64> = (0..2500u64)
        .map(|i| 0x08c0_0000_0000_01ff + (i << 9))
        .collect();
    let batches = footprint_batches(&cells);
    assert_eq!(batches.len(), 2500usize.div_ceil(FOOTPRINT_BATCH));
    let root = footprint_root(&cells);
    let mut other = cells.clone();
    other[2400] += 1 << 9;
    assert_ne!(
        footprint_root(&other),
        root,
        "a change in the last batch changes the root"
    );
    assert_ne!(footprint_root(&cells[..2499]), root);
}

#[tokio::test]
async fn signature_recovers_to_the_surveyor() {
    let w = Wallet::from_mnemonic(
        "test test test test test test test test test test test junk",
        3,
    )
    .unwrap();
    let cells = vec![0x08c0_0000_0000_01ffu64, 0x08c0_0000_0000_03ff];
    let claim = Claim::Mint {
        to: Address::repeat_byte(9),
        fingerprint: B256::repeat_byte(1),
        scan_root: B256::repeat_byte(3),
        capture_hash: B256::repeat_byte(2),
        footprint_root: footprint_root(&cells),
        cell_count: 2,
        uri: "ipfs://bafy".into(),
        deadline: 2_000_000_000,
    };
    let signed = sign(&w, 31337, Address::repeat_byte(5), claim, cells)
        .await
        .unwrap();
    assert_eq!(signed.signature.len(), 65);
    assert_eq!(signed.recover_surveyor(), Some(w.address()));
    assert!(signed.footprint_matches());
    let mut tampered = signed.clone();
    tampered.chain_id = 1;
    assert_ne!(tampered.recover_surveyor(), Some(w.address()));
    let mut moved = signed.clone();
    moved.cells[1] += 1 << 9;
    assert!(!moved.footprint_matches());
    let json = serde_json::to_string(&signed).unwrap();
    assert_eq!(
        serde_json::from_str::<SignedAttestation>(&json).unwrap(),
        signed
    );
}
