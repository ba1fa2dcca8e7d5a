//! Tests of `mint::chain::error` (src/chain/error.rs).
use mint::chain::error::*;

#[test]
fn rpc_urls_are_redacted_in_display_and_debug() {
    let url = "https://user:pass@eth-mainnet.example/v2/KEY123?x=1";
    for e in [
        ChainError::RpcUnreachable {
            url: url.into(),
            detail: "connection refused".into(),
        },
        ChainError::Rpc {
            url: url.into(),
            detail: "HTTP 500".into(),
        },
        ChainError::InvalidUrl {
            url: url.into(),
            reason: "bad".into(),
        },
        ChainError::WrongChainId {
            url: url.into(),
            expected: 1,
            actual: 5,
        },
    ] {
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains("KEY123") && !text.contains("pass"), "{text}");
            assert!(text.contains("eth-mainnet.example"), "{text}");
        }
    }
}

#[test]
fn fee_cap_error_names_both_numbers() {
    assert_eq!(gwei(1_500_000_000), "1.5");
    assert_eq!(gwei(500_000_000_000), "500");
    assert_eq!(gwei(1), "0.000000001");
    let e = ChainError::FeeTooHigh {
        action: "mint".into(),
        estimate_wei: 612_500_000_000,
        cap_wei: 500_000_000_000,
    };
    let msg = e.to_string();
    assert!(
        msg.contains("612.5 gwei") && msg.contains("500 gwei"),
        "{msg}"
    );
}
