//! End to end against a real local chain (issue 5): anvil from the pinned npm package, the
//! committed contract artifact, and the alloy client.
//!
//! deploy → roles → KYC admissions → attest (EIP-712, cross-checked with the contract's digest)
//! → mint → idempotent re-mint and journal recovery → duplicate mint rejected (AlreadyMinted
//! decoded) → pledge offered and accepted → transfer blocked (Pledged decoded) → second pledge
//! rejected → release → transfer to an address without KYC rejected (KycMissing decoded) →
//! seize on another token after maturity → setValuation emits MetadataUpdate → resurvey appends
//! history → insufficient funds → browser-bridge round trip → wrong chain id → RPC down.
//! The attacks the v2 contract closes are in `chain_attacks.rs`.
//!
//! Needs `npm ci --prefix mint/contracts` (anvil ships inside the npm package).

mod chain_support;

use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use mint::chain::{
    Address, B256, Chain, ChainConfig, ChainError, ChainRecord, Claim, MintStatus, PendingMint,
    Role, TwinMintNFR, TxHash, U256, Wallet, bridge, currency_code,
};

use chain_support::{
    CHAIN_ID, MNEMONIC, advance, anvil as start_anvil, cells, chain_now, free_port, http,
};
use mint::chain::dev::Anvil;
use mint::chain::{KycCategory, footprint_root};

fn account(index: u32) -> Wallet {
    Wallet::from_mnemonic(MNEMONIC, index).unwrap()
}

fn fp(n: u8) -> B256 {
    B256::repeat_byte(n)
}

/// A mint claim whose scan root and footprint are unique to `fingerprint` (cells from
/// `100 * fingerprint[0]`, three of them).
fn mint_claim(to: Address, fingerprint: B256, uri: &str) -> Claim {
    let cells = claim_cells(fingerprint);
    Claim::Mint {
        to,
        fingerprint,
        scan_root: B256::from(alloy::primitives::keccak256(fingerprint)),
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&cells),
        cell_count: cells.len() as u32,
        uri: uri.to_string(),
        deadline: 4_000_000_000,
    }
}

fn claim_cells(fingerprint: B256) -> Vec<u64> {
    cells(100 * fingerprint[0] as u64, 3)
}

async fn attest(surveyor: &Chain, claim: Claim) -> mint::chain::SignedAttestation {
    let c = claim_cells(claim.fingerprint());
    surveyor.attest(claim, c).await.unwrap()
}

const YEAR: u64 = 365 * 24 * 3600;

async fn connect(anvil: &Anvil, contract: Option<Address>, wallet: Wallet) -> Chain {
    Chain::connect(ChainConfig::new(anvil.url(), CHAIN_ID, contract), wallet)
        .await
        .unwrap()
}

fn expect_revert(result: Result<impl std::fmt::Debug, ChainError>, name: &str) -> String {
    match result {
        Err(ChainError::Reverted {
            name: got, args, ..
        }) if got == name => args,
        other => panic!("expected revert {name}, got {other:?}"),
    }
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one end-to-end scenario, read top to bottom
async fn chain_end_to_end_on_anvil() {
    let anvil = start_anvil();
    let dir = tempfile::tempdir().unwrap();

    // ---------------------------------------------------------------- deploy and roles
    let mut admin = connect(&anvil, None, account(0)).await;
    let deployment = admin.deploy(None).await.unwrap();
    let contract = deployment.contract;
    assert_eq!(deployment.authority, account(0).address());
    assert_eq!(deployment.chain_id, CHAIN_ID);
    deployment
        .write(&dir.path().join("deployment.json"))
        .unwrap();

    let (registrar_w, surveyor_w, oracle_w, owner_w, lender_w) =
        (account(1), account(2), account(3), account(4), account(5));
    for (role, w) in [
        (Role::Registrar, &registrar_w),
        (Role::Surveyor, &surveyor_w),
        (Role::ValuationOracle, &oracle_w),
    ] {
        admin.grant_role(role, w.address()).await.unwrap();
        assert!(admin.has_role(role, w.address()).await.unwrap());
    }
    let registrar = connect(&anvil, Some(contract), registrar_w.clone()).await;
    let surveyor = connect(&anvil, Some(contract), surveyor_w.clone()).await;
    let oracle = connect(&anvil, Some(contract), oracle_w.clone()).await;
    let owner = connect(&anvil, Some(contract), owner_w.clone()).await;
    let lender = connect(&anvil, Some(contract), lender_w.clone()).await;
    let owner_a = owner_w.address();
    let lender_a = lender_w.address();

    // Only a registrar may admit.
    let now = chain_now(&owner).await;
    let args = expect_revert(
        owner.admit(owner_a, KycCategory::Retail, now + YEAR).await,
        "AccessControlUnauthorizedAccount",
    );
    assert!(args.contains(&owner_a.to_checksum(None)), "{args}");
    registrar
        .admit(owner_a, KycCategory::Accredited, now + 10 * YEAR)
        .await
        .unwrap();
    registrar
        .admit(lender_a, KycCategory::Institutional, now + 10 * YEAR)
        .await
        .unwrap();
    assert!(owner.has_kyc(owner_a).await.unwrap());
    let k = owner.kyc_of(owner_a).await.unwrap().unwrap();
    assert_eq!(
        (k.registrar, k.category),
        (registrar_w.address(), KycCategory::Accredited)
    );

    // ---------------------------------------------------------------- attest and mint
    let claim1 = mint_claim(owner_a, fp(1), "ipfs://bafy-forest-a/metadata.json");
    let signed1 = attest(&surveyor, claim1.clone()).await;
    assert_eq!(signed1.recover_surveyor(), Some(surveyor_w.address()));
    // The client's EIP-712 hash is the contract's.
    assert_eq!(
        owner.contract_digest(&claim1).await.unwrap(),
        claim1.signing_hash(&mint::chain::attest::domain(CHAIN_ID, contract))
    );
    let journal = dir.path().join("mint.pending.json");
    let minted = owner.mint(&signed1, &journal).await.unwrap();
    assert_eq!(minted.status, MintStatus::Minted);
    assert_eq!(minted.token_id, 1);
    assert!(
        journal.exists(),
        "the journal stays until the caller has recorded the token"
    );
    let t1 = minted.token_id;
    assert_eq!(owner.owner_of(t1).await.unwrap(), owner_a);
    assert_eq!(owner.history(t1).await.unwrap(), vec![fp(1)]);
    assert_eq!(owner.fingerprint_of(t1).await.unwrap(), fp(1));
    assert_eq!(
        owner.token_uri(t1).await.unwrap(),
        "ipfs://bafy-forest-a/metadata.json"
    );
    assert!(owner.is_minted(fp(1)).await.unwrap());
    assert!(!owner.is_minted(fp(99)).await.unwrap());
    let surveys = owner.surveys(t1).await.unwrap();
    assert_eq!(surveys[0].surveyor, surveyor_w.address());
    assert_eq!(surveys[0].capture_hash, B256::repeat_byte(0xcc));

    // The project's chain.json.
    let mut record = ChainRecord::new("anvil", CHAIN_ID, contract);
    record.token_id = Some(t1);
    record.fingerprint = Some(fp(1));
    record.push_tx("mint", minted.tx_hash.unwrap(), minted.block);
    record.write(&dir.path().join("chain.json")).unwrap();
    // Recorded: now the journal may go.
    PendingMint::remove(&journal).unwrap();

    // Same attestation again (app restarted, journal gone): nothing is sent, same token.
    let again = owner.mint(&signed1, &journal).await.unwrap();
    assert_eq!(
        (again.token_id, again.status),
        (t1, MintStatus::AlreadyOnChain)
    );
    assert_eq!(again.tx_hash, None);

    // Crash after broadcast: the journal names a mined transaction → recovered, not re-sent.
    let signed2 = attest(&surveyor, mint_claim(owner_a, fp(2), "ipfs://forest-b")).await;
    let sent = owner.send_mint(&signed2).await.unwrap();
    PendingMint {
        chain_id: CHAIN_ID,
        contract,
        fingerprint: fp(2),
        to: owner_a,
        tx_hash: sent.tx_hash.unwrap(),
        created: 0,
    }
    .write(&journal)
    .unwrap();
    let recovered = owner.mint(&signed2, &journal).await.unwrap();
    assert_eq!(recovered.status, MintStatus::Recovered);
    assert_eq!(recovered.token_id, sent.token_id);
    assert_eq!(recovered.tx_hash, sent.tx_hash);
    assert!(journal.exists(), "kept until the caller recorded the token");
    PendingMint::remove(&journal).unwrap();

    // Crash before broadcast: the journal names a transaction the node never saw → minted now.
    let signed3 = attest(&surveyor, mint_claim(owner_a, fp(3), "ipfs://forest-c")).await;
    PendingMint {
        chain_id: CHAIN_ID,
        contract,
        fingerprint: fp(3),
        to: owner_a,
        tx_hash: TxHash::repeat_byte(0x77),
        created: 0,
    }
    .write(&journal)
    .unwrap();
    let m3 = owner.mint(&signed3, &journal).await.unwrap();
    assert_eq!(m3.status, MintStatus::Minted);
    let t3 = m3.token_id;
    assert_eq!(t3, 3);

    // A journal for another fingerprint is never silently discarded.
    PendingMint {
        chain_id: CHAIN_ID,
        contract,
        fingerprint: fp(42),
        to: owner_a,
        tx_hash: TxHash::repeat_byte(1),
        created: 0,
    }
    .write(&journal)
    .unwrap();
    assert!(matches!(
        owner.mint(&signed1, &journal).await,
        Err(ChainError::PendingMismatch { .. })
    ));
    PendingMint::remove(&journal).unwrap();

    // ---------------------------------------------------------------- duplicate mint rejected
    // Same fingerprint for another recipient: the client's pre-check refuses.
    let dup = attest(&surveyor, mint_claim(lender_a, fp(1), "ipfs://copy")).await;
    match owner.mint(&dup, &journal).await {
        Err(ChainError::AlreadyMinted {
            fingerprint,
            token_id,
        }) => assert_eq!((fingerprint, token_id), (fp(1), U256::from(t1))),
        other => panic!("expected AlreadyMinted, got {other:?}"),
    }
    // And the contract's own revert, decoded from the custom error.
    match owner.send_mint(&signed1).await {
        Err(e @ ChainError::AlreadyMinted { .. }) => {
            assert_eq!(e.revert_name(), Some("AlreadyMinted"));
            let msg = e.to_string();
            assert!(
                msg.contains(&fp(1).to_string()) && msg.contains("token 1"),
                "{msg}"
            );
        }
        other => panic!("expected AlreadyMinted revert, got {other:?}"),
    }
    // Attested by someone without SURVEYOR_ROLE.
    let forged = attest(&owner, mint_claim(owner_a, fp(5), "ipfs://forged")).await;
    let args = expect_revert(owner.send_mint(&forged).await, "InvalidAttestation");
    assert_eq!(args, format!("recovered={}", owner_a.to_checksum(None)));
    // Valid attestation, but the recipient has no KYC.
    let stranger = Address::repeat_byte(0x5e);
    let to_stranger = attest(&surveyor, mint_claim(stranger, fp(6), "ipfs://stranger")).await;
    // (submitted by the surveyor: a third party may not submit someone else's mint)
    expect_revert(owner.send_mint(&to_stranger).await, "NotSubmitter");
    assert!(matches!(
        surveyor.send_mint(&to_stranger).await,
        Err(ChainError::KycMissing { account }) if account == stranger
    ));

    // ---------------------------------------------------------------- pledge
    let loan = B256::repeat_byte(0x10);
    let maturity = chain_now(&owner).await + 30 * 24 * 3600;
    let args = expect_revert(
        lender.offer_pledge(t1, lender_a, loan, maturity, 0).await,
        "NotOwner",
    );
    assert!(args.starts_with("tokenId=1, caller="), "{args}");
    owner
        .offer_pledge(t1, lender_a, loan, maturity, 0)
        .await
        .unwrap();
    // Offered, not yet in force: the token can still move until the lender accepts.
    assert!(owner.can_transfer(owner_a, lender_a, t1).await.unwrap());
    let accepted = lender.accept_pledge(t1, loan).await.unwrap();
    assert!(
        accepted
            .decoded_log::<TwinMintNFR::MetadataUpdate>()
            .is_some()
    );
    let p = owner.pledge_of(t1).await.unwrap().unwrap();
    assert_eq!(
        (p.lender, p.loan_ref, p.owner, p.accepted, p.seizable_after),
        (lender_a, loan, owner_a, true, maturity)
    );
    assert!(!owner.can_transfer(owner_a, lender_a, t1).await.unwrap());

    // Transfer blocked while pledged, even to the (whitelisted) lender.
    let args = expect_revert(owner.transfer(lender_a, t1).await, "Pledged");
    assert_eq!(
        args,
        format!("tokenId=1, lender={}", lender_a.to_checksum(None))
    );
    // A second pledge is rejected.
    expect_revert(
        owner
            .offer_pledge(t1, Address::repeat_byte(0x33), loan, maturity, 0)
            .await,
        "Pledged",
    );
    // Only the lender releases.
    expect_revert(owner.release(t1).await, "NotLender");
    lender.release(t1).await.unwrap();
    assert_eq!(owner.pledge_of(t1).await.unwrap(), None);
    expect_revert(lender.release(t1).await, "NotPledged");

    // Transfer to an address without KYC rejected, decoded.
    match owner.transfer(stranger, t1).await {
        Err(e @ ChainError::KycMissing { .. }) => {
            assert!(matches!(e, ChainError::KycMissing { account } if account == stranger));
            assert!(e.to_string().contains("no KYC admission"), "{e}");
        }
        other => panic!("expected KycMissing, got {other:?}"),
    }
    assert!(owner.can_transfer(owner_a, lender_a, t1).await.unwrap());
    assert!(!owner.can_transfer(owner_a, stranger, t1).await.unwrap());

    // ---------------------------------------------------------------- seize (token 3)
    let maturity = chain_now(&owner).await + 3600;
    owner
        .offer_pledge(t3, lender_a, loan, maturity, 0)
        .await
        .unwrap();
    lender.accept_pledge(t3, loan).await.unwrap();
    // Before maturity the lender cannot seize.
    expect_revert(lender.seize(t3).await, "SeizeTooEarly");
    advance(&owner, 3601).await;
    // The defaulting owner's KYC lapses after the pledge: seizure must still work.
    registrar.revoke_kyc(owner_a).await.unwrap();
    let seized = lender.seize(t3).await.unwrap();
    let log = seized
        .decoded_log::<TwinMintNFR::TokenSeized>()
        .expect("TokenSeized");
    assert_eq!((log.data.owner, log.data.lender), (owner_a, lender_a));
    assert!(
        seized
            .decoded_log::<TwinMintNFR::MetadataUpdate>()
            .is_some()
    );
    assert_eq!(owner.owner_of(t3).await.unwrap(), lender_a);
    assert_eq!(owner.pledge_of(t3).await.unwrap(), None);
    let now = chain_now(&owner).await;
    registrar
        .admit(owner_a, KycCategory::Accredited, now + 10 * YEAR)
        .await
        .unwrap();
    // A lender whose KYC lapsed after accepting cannot seize.
    let shady_w = account(7);
    let shady = connect(&anvil, Some(contract), shady_w.clone()).await;
    registrar
        .admit(shady_w.address(), KycCategory::Retail, now + 2 * 3600)
        .await
        .unwrap();
    owner
        .offer_pledge(2, shady_w.address(), loan, now + 3600, 0)
        .await
        .unwrap();
    shady.accept_pledge(2, loan).await.unwrap();
    advance(&owner, 3 * 3600).await;
    assert!(matches!(
        shady.seize(2).await,
        Err(ChainError::KycExpired { account, .. }) if account == shady_w.address()
    ));
    shady.release(2).await.unwrap();

    // ---------------------------------------------------------------- valuation
    let usd = currency_code("USD");
    let as_of = chain_now(&owner).await - 60;
    let receipt = oracle
        .set_valuation(t1, U256::from(125_000_000_u64), usd, as_of)
        .await
        .unwrap();
    let update = receipt
        .decoded_log::<TwinMintNFR::MetadataUpdate>()
        .expect("setValuation emits ERC-4906 MetadataUpdate");
    assert_eq!(update.data._tokenId, U256::from(t1));
    let v = owner.valuation_of(t1).await.unwrap().unwrap();
    assert_eq!(
        (v.value, v.currency, v.as_of, v.oracle),
        (U256::from(125_000_000_u64), usd, as_of, oracle_w.address())
    );
    expect_revert(
        owner.set_valuation(t1, U256::from(1), usd, 0).await,
        "AccessControlUnauthorizedAccount",
    );
    assert!(
        owner
            .contract()
            .unwrap()
            .supportsInterface(alloy::primitives::FixedBytes([0x49, 0x06, 0x49, 0x06]))
            .call()
            .await
            .unwrap(),
        "ERC-4906 interface id"
    );

    // ---------------------------------------------------------------- resurvey
    let resurvey_cells = claim_cells(fp(1));
    let resurvey = surveyor
        .attest(
            Claim::Resurvey {
                token_id: U256::from(t1),
                previous_fingerprint: fp(1),
                fingerprint: fp(4),
                scan_root: B256::repeat_byte(0x44),
                capture_hash: B256::repeat_byte(0xdd),
                footprint_root: footprint_root(&resurvey_cells),
                cell_count: resurvey_cells.len() as u32,
                drift_hash: B256::repeat_byte(0xd1),
                uri: "ipfs://bafy-forest-a-2027/metadata.json".into(),
                deadline: 4_000_000_000,
            },
            resurvey_cells.clone(),
        )
        .await
        .unwrap();
    let receipt = owner.resurvey(&resurvey).await.unwrap();
    assert!(
        receipt
            .decoded_log::<TwinMintNFR::MetadataUpdate>()
            .is_some()
    );
    assert!(receipt.decoded_log::<TwinMintNFR::Resurveyed>().is_some());
    let drift = receipt.decoded_log::<TwinMintNFR::DriftRecorded>().unwrap();
    assert_eq!(drift.driftHash, B256::repeat_byte(0xd1));
    let surveys = owner.surveys(t1).await.unwrap();
    assert_eq!(
        surveys[0].drift_hash,
        B256::ZERO,
        "the first survey has no drift"
    );
    assert_eq!(surveys[1].drift_hash, B256::repeat_byte(0xd1));
    assert_eq!(owner.history(t1).await.unwrap(), vec![fp(1), fp(4)]);
    assert_eq!(owner.fingerprint_of(t1).await.unwrap(), fp(4));
    assert_eq!(owner.token_of_fingerprint(fp(4)).await.unwrap(), Some(t1));
    assert_eq!(
        owner.token_uri(t1).await.unwrap(),
        "ipfs://bafy-forest-a-2027/metadata.json"
    );
    // A fingerprint already in any history cannot be appended again.
    let stale = surveyor
        .attest(
            Claim::Resurvey {
                token_id: U256::from(t1),
                previous_fingerprint: fp(4),
                fingerprint: fp(1),
                scan_root: B256::repeat_byte(0x45),
                capture_hash: B256::ZERO,
                footprint_root: footprint_root(&resurvey_cells),
                cell_count: resurvey_cells.len() as u32,
                drift_hash: B256::repeat_byte(0xd1),
                uri: "ipfs://old".into(),
                deadline: 4_000_000_000,
            },
            resurvey_cells.clone(),
        )
        .await
        .unwrap();
    assert!(matches!(
        owner.resurvey(&stale).await,
        Err(ChainError::AlreadyMinted { .. })
    ));

    // ---------------------------------------------------------------- insufficient funds
    let broke_w = Wallet::from_private_key(
        "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    let broke = connect(&anvil, Some(contract), broke_w.clone()).await;
    // (a call that would succeed with gas money: withdrawing an attestation digest)
    match broke.cancel_attestation(B256::repeat_byte(7)).await {
        Err(e @ ChainError::InsufficientFunds { .. }) => {
            let ChainError::InsufficientFunds {
                account,
                balance_wei,
                ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!((*account, *balance_wei), (broke_w.address(), U256::ZERO));
            assert!(e.to_string().contains("insufficient funds"), "{e}");
        }
        other => panic!("expected InsufficientFunds, got {other:?}"),
    }

    // ---------------------------------------------------------------- browser-wallet bridge
    // The test plays the browser wallet: it reads the prepared transaction from the bridge,
    // has anvil send it from its unlocked account (what the wallet's eth_sendTransaction does),
    // and posts the hash back.
    let signed8 = attest(&surveyor, mint_claim(owner_a, fp(8), "ipfs://forest-h")).await;
    let reader = Chain::connect_read_only(ChainConfig::new(anvil.url(), CHAIN_ID, Some(contract)))
        .await
        .unwrap();
    assert!(matches!(
        reader.offer_pledge(t1, lender_a, loan, maturity, 0).await,
        Err(ChainError::NoWallet { .. })
    ));
    let bridge_journal = dir.path().join("bridge-mint.pending.json");
    assert_eq!(
        reader
            .reconcile_mint(&signed8, &bridge_journal)
            .await
            .unwrap(),
        None
    );
    let prepared = reader.prepare_mint(&signed8, Some(owner_a)).await.unwrap();
    let handle = bridge::serve(prepared.clone()).unwrap();
    let port: u16 = handle
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let host = format!("127.0.0.1:{port}");
    let (status, body) = http(
        port,
        "GET",
        &format!("/tx?t={}", handle.token()),
        &host,
        &[],
        "",
    );
    assert_eq!(status, 200);
    let json = body.split("\r\n\r\n").nth(1).unwrap();
    let tx: mint::chain::BridgeTx = serde_json::from_str(json).unwrap();
    assert_eq!(tx, prepared);
    let request = TransactionRequest::default()
        .with_from(tx.from.unwrap())
        .with_to(tx.to.unwrap())
        .with_input(tx.data.clone())
        .with_value(tx.value);
    let hash: TxHash = reader
        .provider()
        .raw_request("eth_sendTransaction".into(), (request,))
        .await
        .unwrap();
    let (status, _) = http(
        port,
        "POST",
        &format!("/hash?t={}", handle.token()),
        &host,
        &[("Content-Type", "application/json")],
        &format!(r#"{{"hash":"{hash}"}}"#),
    );
    assert_eq!(status, 200);
    let got = handle.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(got, hash);
    reader.journal_mint(&signed8, got, &bridge_journal).unwrap();
    let receipt = reader.confirm_bridge(&prepared, got).await.unwrap();
    assert!(receipt.decoded_log::<TwinMintNFR::Minted>().is_some());
    // The CLI restarted before recording the result: the journal finds the mint.
    let found = reader
        .reconcile_mint(&signed8, &bridge_journal)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.token_id, found.status, found.tx_hash),
        (4, MintStatus::Recovered, Some(got))
    );
    assert!(
        bridge_journal.exists(),
        "kept until the caller recorded the token"
    );
    PendingMint::remove(&bridge_journal).unwrap();
    assert_eq!(reader.token_of_fingerprint(fp(8)).await.unwrap(), Some(4));
    // Preparing a transaction the contract would reject fails before reaching the wallet.
    assert!(matches!(
        reader.prepare_mint(&signed8, Some(owner_a)).await,
        Err(ChainError::AlreadyMinted { .. })
    ));
    drop(handle);
    // A wallet that skips simulation (explicit gas) gets the same mint mined as a failed
    // transaction: `confirm` replays it and decodes why.
    let failing = TransactionRequest::default()
        .with_from(owner_a)
        .with_to(contract)
        .with_input(tx.data.clone())
        .with_gas_limit(500_000);
    let failed: TxHash = reader
        .provider()
        .raw_request("eth_sendTransaction".into(), (failing,))
        .await
        .unwrap();
    match reader.confirm("mint", failed).await {
        Err(ChainError::AlreadyMinted { token_id, .. }) => assert_eq!(token_id, U256::from(4)),
        other => panic!("expected the failed mint decoded as AlreadyMinted, got {other:?}"),
    }

    // ---------------------------------------------------------------- wrong chain id
    match Chain::connect(ChainConfig::new(anvil.url(), 1, Some(contract)), account(0)).await {
        Err(e @ ChainError::WrongChainId { .. }) => {
            assert!(matches!(
                e,
                ChainError::WrongChainId {
                    expected: 1,
                    actual: CHAIN_ID,
                    ..
                }
            ));
            assert!(e.to_string().contains("chain id 31337"), "{e}");
        }
        other => panic!("expected WrongChainId, got {other:?}"),
    }
    // No contract at the configured address on this chain.
    assert!(matches!(
        Chain::connect_read_only(ChainConfig::new(anvil.url(), CHAIN_ID, Some(stranger))).await,
        Err(ChainError::NoCode { .. })
    ));

    // ---------------------------------------------------------------- RPC down
    let dead = format!("http://127.0.0.1:{}", free_port().unwrap());
    match Chain::connect(ChainConfig::new(dead.clone(), CHAIN_ID, None), account(0)).await {
        Err(e @ ChainError::RpcUnreachable { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("RPC at {dead} is not reachable")),
                "{msg}"
            );
        }
        other => panic!("expected RpcUnreachable, got {other:?}"),
    }
    // The node going away under a connected client.
    drop(anvil);
    assert!(matches!(
        owner.owner_of(t1).await,
        Err(ChainError::RpcUnreachable { .. })
    ));
}

/// The synchronous entry the CLI uses: `block_on` around the async client, here against a port
/// nothing listens on.
#[test]
fn chain_block_on_reports_rpc_down() {
    let url = format!("http://127.0.0.1:{}", free_port().unwrap());
    let err = mint::chain::block_on(Chain::connect_read_only(ChainConfig::new(
        url.clone(),
        CHAIN_ID,
        None,
    )))
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("RPC at {url} is not reachable")),
        "{err}"
    );
}
