//! Client hardening (issue 10, part 6) on a real anvil chain:
//!
//! - the hash the browser bridge posts back is accepted only for the prepared transaction
//!   (recipient, calldata, sender checked once mined);
//! - a mint journal naming a transaction whose `Minted` event comes from another (look-alike)
//!   contract is not taken for our mint;
//! - a fee estimate above the configured cap is refused before anything is signed;
//! - RPC URLs with an API key never appear in error text or `Debug` output.
//!
//! Needs `npm ci --prefix mint/contracts` (anvil ships inside the npm package).

mod chain_support;

use alloy::network::TransactionBuilder;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use mint::chain::{
    Address, B256, BridgeTx, Chain, ChainConfig, ChainError, Claim, KycCategory, MintStatus,
    PendingMint, Role, TwinMintNFR, TxHash, Wallet, footprint_root,
};

use chain_support::{CHAIN_ID, MNEMONIC, anvil as start_anvil, cells, chain_now, free_port};
use mint::chain::dev::Anvil;

const YEAR: u64 = 365 * 24 * 3600;

fn account(index: u32) -> Wallet {
    Wallet::from_mnemonic(MNEMONIC, index).unwrap()
}

async fn connect(anvil: &Anvil, contract: Option<Address>, wallet: Wallet) -> Chain {
    Chain::connect(ChainConfig::new(anvil.url(), CHAIN_ID, contract), wallet)
        .await
        .unwrap()
}

/// A contract deployed by account 0, which is also its registrar and surveyor; account 4
/// admitted (KYC).
async fn deploy(anvil: &Anvil) -> Address {
    let mut admin = connect(anvil, None, account(0)).await;
    let contract = admin.deploy(None).await.unwrap().contract;
    for role in [Role::Registrar, Role::Surveyor] {
        admin.grant_role(role, account(0).address()).await.unwrap();
    }
    let now = chain_now(&admin).await;
    admin
        .admit(account(4).address(), KycCategory::Institutional, now + YEAR)
        .await
        .unwrap();
    contract
}

/// Have anvil send `request` from its unlocked account (what a browser wallet's
/// `eth_sendTransaction` does) and return the hash.
async fn wallet_sends(c: &Chain, request: TransactionRequest) -> TxHash {
    c.provider()
        .raw_request("eth_sendTransaction".into(), (request,))
        .await
        .unwrap()
}

fn mismatch_field(r: Result<impl std::fmt::Debug, ChainError>) -> &'static str {
    match r {
        Err(ChainError::BridgeTxMismatch { field, .. }) => field,
        other => panic!("expected BridgeTxMismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn chain_bridge_hash_must_be_the_prepared_transaction() {
    let anvil = start_anvil();
    let a = deploy(&anvil).await;
    let look_alike = deploy(&anvil).await;
    let admin = account(0).address();
    let reader = Chain::connect_read_only(ChainConfig::new(anvil.url(), CHAIN_ID, Some(a)))
        .await
        .unwrap();
    // The owner-side action: grant the oracle role to account 3, sent by the authority.
    let call = TwinMintNFR::grantRoleCall {
        role: Role::ValuationOracle.id(),
        account: account(3).address(),
    };
    let prepared: BridgeTx = reader
        .prepare("grantRole", &call, Some(admin))
        .await
        .unwrap();
    assert_eq!(prepared.to, Some(a));
    let as_prepared = || {
        TransactionRequest::default()
            .with_from(admin)
            .with_to(prepared.to.unwrap())
            .with_input(prepared.data.clone())
            .with_value(prepared.value)
    };

    // The same calldata sent to a look-alike contract.
    let h = wallet_sends(&reader, as_prepared().with_to(look_alike)).await;
    assert_eq!(
        mismatch_field(reader.confirm_bridge(&prepared, h).await),
        "recipient"
    );
    // Another call to the right contract (a role for someone else).
    let other = TwinMintNFR::grantRoleCall {
        role: Role::ValuationOracle.id(),
        account: account(9).address(),
    };
    let h = wallet_sends(
        &reader,
        as_prepared().with_input(alloy::sol_types::SolCall::abi_encode(&other)),
    )
    .await;
    match reader.confirm_bridge(&prepared, h).await {
        Err(e @ ChainError::BridgeTxMismatch { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("calldata") && msg.contains(&h.to_string()),
                "{msg}"
            );
        }
        other => panic!("expected a calldata mismatch, got {other:?}"),
    }
    // From another account than the pinned one (mined as a failed call: explicit gas skips
    // the wallet's simulation); the mismatch, not the revert, is what is reported.
    let h = wallet_sends(
        &reader,
        as_prepared()
            .with_from(account(1).address())
            .with_gas_limit(300_000),
    )
    .await;
    assert_eq!(
        mismatch_field(reader.confirm_bridge(&prepared, h).await),
        "sender"
    );

    // The prepared transaction itself is accepted.
    let h = wallet_sends(&reader, as_prepared()).await;
    let receipt = reader.confirm_bridge(&prepared, h).await.unwrap();
    assert_eq!(receipt.transaction_hash, h);
    assert!(
        reader
            .has_role(Role::ValuationOracle, account(3).address())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn chain_minted_event_only_from_our_contract() {
    let anvil = start_anvil();
    let ours = deploy(&anvil).await;
    let look_alike = deploy(&anvil).await;
    let owner_a = account(4).address();
    let area = cells(500, 3);
    let claim = Claim::Mint {
        to: owner_a,
        fingerprint: B256::repeat_byte(0x21),
        scan_root: B256::repeat_byte(0xa1),
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&area),
        cell_count: area.len() as u32,
        uri: "ipfs://forest".into(),
        deadline: 4_000_000_000,
    };
    // A real mint of the same claim on the look-alike: its receipt carries a Minted event.
    let surveyor_b = connect(&anvil, Some(look_alike), account(0)).await;
    let owner_b = connect(&anvil, Some(look_alike), account(4)).await;
    let signed_b = surveyor_b
        .attest(claim.clone(), area.clone())
        .await
        .unwrap();
    let foreign = owner_b.send_mint(&signed_b).await.unwrap();

    // A journal for our contract that names the look-alike's mint (as a bridge page posting
    // a foreign hash would leave it).
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join(".mint-journal.json");
    PendingMint {
        chain_id: CHAIN_ID,
        contract: ours,
        fingerprint: B256::repeat_byte(0x21),
        to: owner_a,
        tx_hash: foreign.tx_hash.unwrap(),
        created: 0,
    }
    .write(&journal)
    .unwrap();
    let surveyor_a = connect(&anvil, Some(ours), account(0)).await;
    let owner = connect(&anvil, Some(ours), account(4)).await;
    let signed_a = surveyor_a.attest(claim, area).await.unwrap();
    // Not recovered as "our" token: nothing of ours is on chain, the journal is forgotten.
    assert_eq!(
        owner.reconcile_mint(&signed_a, &journal).await.unwrap(),
        None
    );
    assert!(!journal.exists());
    // And the real mint goes through, its token read from our contract's event.
    let minted = owner.mint(&signed_a, &journal).await.unwrap();
    assert_eq!(minted.status, MintStatus::Minted);
    assert_eq!(owner.owner_of(minted.token_id).await.unwrap(), owner_a);
    // The journal stays until the caller has recorded the token.
    assert!(journal.exists());
    PendingMint::remove(&journal).unwrap();
}

#[tokio::test]
async fn chain_fee_cap_refuses_before_signing() {
    let anvil = start_anvil();
    let mut cfg = ChainConfig::new(anvil.url(), CHAIN_ID, None);
    // anvil's base fee starts at 1 gwei: the estimate is above a 0.5 gwei cap.
    cfg.max_fee_per_gas_wei = 500_000_000;
    let mut c = Chain::connect(cfg, account(0)).await.unwrap();
    let nonce = c
        .provider()
        .get_transaction_count(account(0).address())
        .await
        .unwrap();
    match c.deploy(None).await {
        Err(e @ ChainError::FeeTooHigh { .. }) => {
            let ChainError::FeeTooHigh {
                estimate_wei,
                cap_wei,
                ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*cap_wei, 500_000_000);
            assert!(*estimate_wei > *cap_wei);
            let msg = e.to_string();
            assert!(
                msg.contains("0.5 gwei") && msg.contains(&mint::chain::gwei(*estimate_wei)),
                "{msg}"
            );
        }
        other => panic!("expected FeeTooHigh, got {other:?}"),
    }
    // Nothing was sent.
    assert_eq!(
        c.provider()
            .get_transaction_count(account(0).address())
            .await
            .unwrap(),
        nonce
    );
    // The default cap (500 gwei) lets the same deployment through.
    let ok = Chain::connect(ChainConfig::new(anvil.url(), CHAIN_ID, None), account(0))
        .await
        .unwrap();
    assert_eq!(
        ok.config().max_fee_per_gas_wei,
        u128::from(mint::chain::DEFAULT_MAX_FEE_GWEI) * 1_000_000_000
    );
    let mut ok = ok;
    ok.deploy(None).await.unwrap();
}

/// An RPC URL with an API key (path) and credentials (userinfo) on a port nothing listens on:
/// the error names the host and port, never the key, in `Display` and `Debug`; so does the
/// config's `Debug`.
#[test]
fn chain_rpc_url_secrets_are_redacted() {
    let port = free_port().unwrap();
    let url = format!("http://user:S3CRETPASS@127.0.0.1:{port}/v2/S3CRETKEY?apikey=S3CRETQ");
    let cfg = ChainConfig::new(url.clone(), CHAIN_ID, None);
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("S3CRET"), "{debug}");
    assert!(debug.contains(&format!("127.0.0.1:{port}")), "{debug}");
    let err = mint::chain::block_on(Chain::connect_read_only(cfg)).unwrap_err();
    assert!(matches!(err, ChainError::RpcUnreachable { .. }), "{err:?}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("S3CRET"), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    }
    // A malformed URL is not echoed either.
    let bad = ChainConfig::new("http://[S3CRETKEY", CHAIN_ID, None);
    let err = mint::chain::block_on(Chain::connect_read_only(bad)).unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("S3CRET"), "{text}");
    }
}
