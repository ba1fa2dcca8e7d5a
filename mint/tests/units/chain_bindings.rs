//! Tests of `mint::chain::bindings` (src/chain/bindings.rs).
use alloy::primitives::{Address, U256};
use alloy::sol_types::SolError;
use mint::chain::bindings::*;
use mint::chain::error::ChainError;

#[test]
fn decodes_custom_errors_by_name_with_arguments() {
    let data = TwinMintNFR::Pledged {
        tokenId: U256::from(7),
        lender: Address::repeat_byte(0x11),
    }
    .abi_encode();
    let d = decode_revert(&data).unwrap();
    assert_eq!(d.name, "Pledged");
    assert_eq!(
        d.args,
        format!(
            "tokenId=7, lender={}",
            Address::repeat_byte(0x11).to_checksum(None)
        )
    );
    match revert_error("pledge", data.into()) {
        ChainError::Reverted { name, .. } => assert_eq!(name, "Pledged"),
        other => panic!("{other}"),
    }
}

#[test]
fn dedicated_variants_and_standard_errors() {
    let data = TwinMintNFR::KycMissing {
        account: Address::repeat_byte(2),
    }
    .abi_encode();
    assert!(matches!(
        revert_error("x", data.into()),
        ChainError::KycMissing { account } if account == Address::repeat_byte(2)
    ));
    let data = TwinMintNFR::FootprintOverlap {
        cell: 0x08c2_a107_2b59_ffff,
        tokenId: U256::from(3),
    }
    .abi_encode();
    let e = revert_error("mint", data.into());
    assert!(e.to_string().contains("token 3"), "{e}");
    let data = alloy::sol_types::Revert::from("boom").abi_encode();
    let d = decode_revert(&data).unwrap();
    assert_eq!(
        (d.name.as_str(), d.args.as_str()),
        ("Error", "message=\"boom\"")
    );
    assert!(decode_revert(&[1, 2]).is_none());
}
