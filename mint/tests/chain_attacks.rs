//! The attacks found against contract v1 (issue 10), each reproduced on anvil against v2 and
//! now refused: every step below would have succeeded on v1.
//!
//! - a holder taken off the KYC list pledges to an accomplice who seizes;
//! - an older, unused resurvey attestation submitted after a newer one (and while pledged, and
//!   by someone other than the owner);
//! - a pledge to a lender without KYC, or to 0x…dEaD;
//! - a seizure one block after the pledge (no maturity), or without the lender's acceptance;
//! - a valuation overwritten with an older `asOf`, or dated in the future;
//! - the authority renouncing its role at once, a zero authority at deployment;
//! - a mint attestation that never expires, submitted by anyone; a cancelled attestation;
//! - the same scan minted twice; an overlapping footprint; a registrar revoking another's client.

mod chain_support;

use alloy::network::TransactionBuilder;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolConstructor;
use mint::chain::{
    Address, B256, Chain, ChainConfig, ChainError, Claim, KycCategory, Role, SignedAttestation,
    TwinMintNFR, U256, Wallet, footprint_root,
};

use chain_support::{CHAIN_ID, MNEMONIC, advance, anvil as start_anvil, cells, chain_now};
use mint::chain::dev::Anvil;

const YEAR: u64 = 365 * 24 * 3600;
const DAY: u64 = 24 * 3600;

fn account(index: u32) -> Wallet {
    Wallet::from_mnemonic(MNEMONIC, index).unwrap()
}

async fn connect(anvil: &Anvil, contract: Option<Address>, wallet: Wallet) -> Chain {
    Chain::connect(ChainConfig::new(anvil.url(), CHAIN_ID, contract), wallet)
        .await
        .unwrap()
}

fn expect_revert(result: Result<impl std::fmt::Debug, ChainError>, name: &str) -> String {
    match result {
        Err(e) if e.revert_name() == Some(name) => match e {
            ChainError::Reverted { args, .. } => args,
            other => other.to_string(),
        },
        other => panic!("expected revert {name}, got {other:?}"),
    }
}

/// Everyone in the scenario, on one freshly deployed contract.
struct World {
    anvil: Anvil,
    contract: Address,
    admin: Chain,
    registrar: Chain,
    registrar2: Chain,
    surveyor: Chain,
    oracle: Chain,
    owner: Chain,
    lender: Chain,
    accomplice: Chain,
}

async fn world() -> World {
    let anvil = start_anvil();
    let mut admin = connect(&anvil, None, account(0)).await;
    let contract = admin.deploy(None).await.unwrap().contract;
    let c = |i| {
        let url = anvil.url();
        async move {
            Chain::connect(ChainConfig::new(url, CHAIN_ID, Some(contract)), account(i))
                .await
                .unwrap()
        }
    };
    let (registrar, registrar2, surveyor, oracle, owner, lender, accomplice) = (
        c(1).await,
        c(8).await,
        c(2).await,
        c(3).await,
        c(4).await,
        c(5).await,
        c(6).await,
    );
    for (role, who) in [
        (Role::Registrar, account(1).address()),
        (Role::Registrar, account(8).address()),
        (Role::Surveyor, account(2).address()),
        (Role::ValuationOracle, account(3).address()),
    ] {
        admin.grant_role(role, who).await.unwrap();
    }
    let now = chain_now(&admin).await;
    for a in [
        account(4).address(),
        account(5).address(),
        account(6).address(),
    ] {
        registrar
            .admit(a, KycCategory::Institutional, now + YEAR)
            .await
            .unwrap();
    }
    World {
        anvil,
        contract,
        admin,
        registrar,
        registrar2,
        surveyor,
        oracle,
        owner,
        lender,
        accomplice,
    }
}

/// A mint attestation for `to` with a fresh fingerprint, scan root and footprint (`cells(k*10, 3)`).
async fn mint_attestation(w: &World, to: Address, k: u8, deadline: u64) -> SignedAttestation {
    let c = cells(k as u64 * 10, 3);
    let claim = Claim::Mint {
        to,
        fingerprint: B256::repeat_byte(k),
        scan_root: B256::repeat_byte(0x80 | k),
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&c),
        cell_count: 3,
        uri: format!("ipfs://forest-{k}"),
        deadline,
    };
    w.surveyor.attest(claim, c).await.unwrap()
}

/// A resurvey attestation of `token` from `previous` to fingerprint `k`.
async fn resurvey_attestation(
    w: &World,
    token: u64,
    previous: B256,
    k: u8,
    cells_of: &[u64],
) -> SignedAttestation {
    let claim = Claim::Resurvey {
        token_id: U256::from(token),
        previous_fingerprint: previous,
        fingerprint: B256::repeat_byte(k),
        scan_root: B256::repeat_byte(0x80 | k),
        capture_hash: B256::repeat_byte(0xdd),
        footprint_root: footprint_root(cells_of),
        cell_count: cells_of.len() as u32,
        drift_hash: B256::repeat_byte(0xd1),
        uri: format!("ipfs://forest-resurvey-{k}"),
        deadline: 4_000_000_000,
    };
    w.surveyor.attest(claim, cells_of.to_vec()).await.unwrap()
}

async fn mint_to_owner(w: &World, k: u8) -> u64 {
    let signed = mint_attestation(w, w.owner.address().unwrap(), k, 4_000_000_000).await;
    w.owner.send_mint(&signed).await.unwrap().token_id
}

#[tokio::test]
async fn attack_dewhitelisted_holder_pledges_to_accomplice() {
    let w = world().await;
    let t = mint_to_owner(&w, 1).await;
    let owner_a = w.owner.address().unwrap();
    let accomplice_a = w.accomplice.address().unwrap();
    w.registrar.revoke_kyc(owner_a).await.unwrap();
    let soon = chain_now(&w.owner).await + 60;
    // v1: pledge accepted, accomplice seizes, the token leaves the frozen holder.
    match w
        .owner
        .offer_pledge(t, accomplice_a, B256::ZERO, soon, 0)
        .await
    {
        Err(ChainError::KycMissing { account }) => assert_eq!(account, owner_a),
        other => panic!("expected KycMissing for the owner, got {other:?}"),
    }
    // Nor can it simply transfer.
    assert!(matches!(
        w.owner.transfer(accomplice_a, t).await,
        Err(ChainError::KycMissing { account }) if account == owner_a
    ));
    // An expired admission is as good as none.
    let now = chain_now(&w.owner).await;
    w.registrar
        .admit(owner_a, KycCategory::Retail, now + 100)
        .await
        .unwrap();
    advance(&w.owner, 200).await;
    let soon = chain_now(&w.owner).await + 60;
    match w
        .owner
        .offer_pledge(t, accomplice_a, B256::ZERO, soon, 0)
        .await
    {
        Err(e @ ChainError::KycExpired { .. }) => {
            assert!(e.to_string().contains("expired on"), "{e}");
        }
        other => panic!("expected KycExpired, got {other:?}"),
    }
    assert_eq!(w.owner.owner_of(t).await.unwrap(), owner_a);
}

#[tokio::test]
async fn attack_stale_resurvey_replayed() {
    let w = world().await;
    let t = mint_to_owner(&w, 1).await;
    let fp1 = B256::repeat_byte(1);
    let area = cells(10, 3);
    // Two resurveys attested from the same previous survey; the owner submits the newer one.
    let older = resurvey_attestation(&w, t, fp1, 2, &area).await;
    let newer = resurvey_attestation(&w, t, fp1, 3, &area).await;
    // A resurvey of other land (no cell shared with the token's footprint) is refused.
    let elsewhere = resurvey_attestation(&w, t, fp1, 5, &cells(500, 3)).await;
    expect_revert(w.owner.resurvey(&elsewhere).await, "ResurveyElsewhere");
    // Not the owner: refused (v1: anyone could submit).
    expect_revert(w.accomplice.resurvey(&newer).await, "NotOwner");
    w.owner.resurvey(&newer).await.unwrap();
    // v1: the older one, still unused, made the stale survey "current".
    let args = expect_revert(w.owner.resurvey(&older).await, "StaleResurvey");
    assert!(args.contains(&B256::repeat_byte(3).to_string()), "{args}");
    assert_eq!(
        w.owner.fingerprint_of(t).await.unwrap(),
        B256::repeat_byte(3)
    );

    // While pledged, a resurvey needs the lender's consent to exactly that fingerprint.
    let lender_a = w.lender.address().unwrap();
    let loan = B256::repeat_byte(0x10);
    let maturity = chain_now(&w.owner).await + 30 * DAY;
    w.owner
        .offer_pledge(t, lender_a, loan, maturity, 0)
        .await
        .unwrap();
    w.lender.accept_pledge(t, loan).await.unwrap();
    let next = resurvey_attestation(&w, t, B256::repeat_byte(3), 4, &area).await;
    let args = expect_revert(w.owner.resurvey(&next).await, "LenderConsentRequired");
    assert!(args.contains(&lender_a.to_checksum(None)), "{args}");
    // Consent to another fingerprint does not count.
    w.lender
        .consent_resurvey(t, B256::repeat_byte(9))
        .await
        .unwrap();
    expect_revert(w.owner.resurvey(&next).await, "LenderConsentRequired");
    w.lender
        .consent_resurvey(t, B256::repeat_byte(4))
        .await
        .unwrap();
    let receipt = w.owner.resurvey(&next).await.unwrap();
    assert!(
        receipt
            .decoded_log::<TwinMintNFR::MetadataUpdate>()
            .is_some()
    );
    let log = receipt
        .decoded_log::<TwinMintNFR::Resurveyed>()
        .expect("Resurveyed");
    assert_eq!(log.data.owner, w.owner.address().unwrap());
    assert_eq!(w.owner.history(t).await.unwrap().len(), 3);
}

#[tokio::test]
async fn attack_pledge_to_lender_without_kyc_or_dead_address() {
    let w = world().await;
    let t = mint_to_owner(&w, 1).await;
    let maturity = chain_now(&w.owner).await + 30 * DAY;
    let dead: Address = "0x000000000000000000000000000000000000dEaD"
        .parse()
        .unwrap();
    // v1: accepted, and the token was frozen for ever.
    assert!(matches!(
        w.owner.offer_pledge(t, dead, B256::ZERO, maturity, 0).await,
        Err(ChainError::KycMissing { account }) if account == dead
    ));
    let stranger = account(9).address();
    assert!(matches!(
        w.owner.offer_pledge(t, stranger, B256::ZERO, maturity, 0).await,
        Err(ChainError::KycMissing { account }) if account == stranger
    ));
    expect_revert(
        w.owner
            .offer_pledge(t, Address::ZERO, B256::ZERO, maturity, 0)
            .await,
        "InvalidLender",
    );
    // Seizable-after in the past, or expiry before maturity.
    let now = chain_now(&w.owner).await;
    let lender_a = w.lender.address().unwrap();
    expect_revert(
        w.owner.offer_pledge(t, lender_a, B256::ZERO, now, 0).await,
        "InvalidPledgeTerms",
    );
    expect_revert(
        w.owner
            .offer_pledge(t, lender_a, B256::ZERO, now + 100, now + 50)
            .await,
        "InvalidPledgeTerms",
    );
    assert!(
        w.owner
            .can_transfer(w.owner.address().unwrap(), lender_a, t)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn attack_seize_one_block_after_pledge() {
    let w = world().await;
    let t = mint_to_owner(&w, 1).await;
    let lender_a = w.lender.address().unwrap();
    let loan = B256::repeat_byte(0x10);
    let maturity = chain_now(&w.owner).await + 30 * DAY;
    let expiry = maturity + 30 * DAY;
    w.owner
        .offer_pledge(t, lender_a, loan, maturity, expiry)
        .await
        .unwrap();
    // Not accepted yet: nothing to seize, and the token is not frozen.
    expect_revert(w.lender.seize(t).await, "NotPledged");
    // Accepting with another loan reference is refused; only the named lender accepts.
    expect_revert(
        w.lender.accept_pledge(t, B256::repeat_byte(0x11)).await,
        "PledgeOfferMismatch",
    );
    expect_revert(w.accomplice.accept_pledge(t, loan).await, "NotLender");
    let r = w.lender.accept_pledge(t, loan).await.unwrap();
    let log = r.decoded_log::<TwinMintNFR::TokenPledged>().unwrap();
    assert_eq!(
        (log.data.owner, log.data.lender, log.data.seizableAfter),
        (w.owner.address().unwrap(), lender_a, maturity)
    );
    // v1: the lender could seize one block later.
    let args = expect_revert(w.lender.seize(t).await, "SeizeTooEarly");
    assert!(args.contains(&maturity.to_string()), "{args}");
    // After the expiry the pledge lapses: no seizure, and the owner may release it.
    advance(&w.owner, expiry - chain_now(&w.owner).await + 10).await;
    expect_revert(w.lender.seize(t).await, "PledgeExpired");
    w.owner.release(t).await.unwrap();
    assert_eq!(w.owner.pledge_of(t).await.unwrap(), None);

    // A second pledge seized on time works and emits MetadataUpdate.
    let maturity = chain_now(&w.owner).await + DAY;
    w.owner
        .offer_pledge(t, lender_a, loan, maturity, 0)
        .await
        .unwrap();
    w.lender.accept_pledge(t, loan).await.unwrap();
    advance(&w.owner, DAY + 1).await;
    let r = w.lender.seize(t).await.unwrap();
    assert!(r.decoded_log::<TwinMintNFR::MetadataUpdate>().is_some());
    assert_eq!(w.owner.owner_of(t).await.unwrap(), lender_a);
}

#[tokio::test]
async fn attack_valuation_backdated_or_future() {
    let w = world().await;
    let t = mint_to_owner(&w, 1).await;
    let usd = mint::chain::currency_code("USD");
    let now = chain_now(&w.owner).await;
    w.oracle
        .set_valuation(t, U256::from(1_000_000u64), usd, now - 100)
        .await
        .unwrap();
    // v1: an older appraisal overwrote the newer one.
    expect_revert(
        w.oracle
            .set_valuation(t, U256::from(5_000_000u64), usd, now - 200)
            .await,
        "ValuationNotNewer",
    );
    expect_revert(
        w.oracle
            .set_valuation(t, U256::from(5_000_000u64), usd, now - 100)
            .await,
        "ValuationNotNewer",
    );
    // v1: a value dated far in the future blocked every later update.
    expect_revert(
        w.oracle
            .set_valuation(t, U256::from(5_000_000u64), usd, now + 10 * YEAR)
            .await,
        "ValuationInFuture",
    );
    let v = w.owner.valuation_of(t).await.unwrap().unwrap();
    assert_eq!(v.value, U256::from(1_000_000u64));
}

#[tokio::test]
async fn attack_authority_renounces_or_zero_at_deployment() {
    let w = world().await;
    let admin_a = w.admin.address().unwrap();
    // v1: renounceRole(DEFAULT_ADMIN_ROLE) at once left the registry without an authority.
    let c = w.admin.contract().unwrap();
    let call = c.renounceRole(B256::ZERO, admin_a);
    let err = call.call().await.unwrap_err();
    let data = err
        .as_revert_data()
        .expect("renounceRole reverts with data");
    let decoded = mint::chain::decode_revert(&data).unwrap();
    assert_eq!(decoded.name, "AccessControlEnforcedDefaultAdminDelay");
    assert!(w.admin.has_role(Role::Authority, admin_a).await.unwrap());
    // Granting the admin role directly is refused too (two-step transfer only).
    expect_revert(
        w.admin
            .grant_role(Role::Authority, account(7).address())
            .await,
        "AccessControlEnforcedDefaultAdminRules",
    );
    // The client refuses a zero authority before sending anything …
    let mut deployer = connect(&w.anvil, None, account(0)).await;
    assert!(matches!(
        deployer.deploy(Some(Address::ZERO)).await,
        Err(ChainError::InvalidArgument(_))
    ));
    // … and the constructor reverts when someone else's tool tries it.
    let mut code = TwinMintNFR::BYTECODE.to_vec();
    code.extend(
        TwinMintNFR::constructorCall {
            authority: Address::ZERO,
            adminDelay: alloy::primitives::Uint::<48, 1>::from(0u64),
        }
        .abi_encode(),
    );
    let tx = TransactionRequest::default()
        .with_from(admin_a)
        .with_deploy_code(code);
    let err = w.admin.provider().estimate_gas(tx).await.unwrap_err();
    let data = err
        .as_error_resp()
        .and_then(|p| p.as_revert_data())
        .unwrap();
    assert_eq!(
        mint::chain::decode_revert(&data).unwrap().name,
        "AccessControlInvalidDefaultAdmin"
    );
}

#[tokio::test]
async fn attack_attestation_never_expires_and_anyone_submits() {
    let w = world().await;
    let owner_a = w.owner.address().unwrap();
    let now = chain_now(&w.owner).await;
    let signed = mint_attestation(&w, owner_a, 1, now + DAY).await;
    // Submitted by a third party: refused (v1: anyone could submit).
    let args = expect_revert(w.accomplice.send_mint(&signed).await, "NotSubmitter");
    assert!(
        args.contains(&w.accomplice.address().unwrap().to_checksum(None)),
        "{args}"
    );
    // v1: a year later it still minted.
    advance(&w.owner, 2 * DAY).await;
    match w.owner.send_mint(&signed).await {
        Err(e @ ChainError::AttestationExpired { .. }) => {
            assert!(e.to_string().contains("expired on"), "{e}");
        }
        other => panic!("expected AttestationExpired, got {other:?}"),
    }
    // A surveyor can cancel an unused attestation.
    let now = chain_now(&w.owner).await;
    let signed = mint_attestation(&w, owner_a, 2, now + DAY).await;
    w.surveyor
        .cancel_attestation(signed.digest())
        .await
        .unwrap();
    let args = expect_revert(w.owner.send_mint(&signed).await, "AttestationCancelled");
    assert!(args.contains(&signed.digest().to_string()), "{args}");
    // The contract's digest is the client's.
    assert_eq!(
        w.owner.contract_digest(&signed.claim).await.unwrap(),
        signed.digest()
    );
}

#[tokio::test]
async fn same_scan_and_overlapping_land_refused() {
    let w = world().await;
    let owner_a = w.owner.address().unwrap();
    let t1 = mint_to_owner(&w, 1).await;
    // Same scan root under another fingerprint (another surveyor name, other options, …).
    let c = cells(500, 3);
    let claim = Claim::Mint {
        to: owner_a,
        fingerprint: B256::repeat_byte(0x42),
        scan_root: B256::repeat_byte(0x81), // token 1's scan
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&c),
        cell_count: 3,
        uri: "ipfs://again".into(),
        deadline: 4_000_000_000,
    };
    let signed = w.surveyor.attest(claim, c).await.unwrap();
    match w.owner.send_mint(&signed).await {
        Err(e @ ChainError::ScanAlreadyMinted { .. }) => {
            assert!(e.to_string().contains("token 1"), "{e}");
        }
        other => panic!("expected ScanAlreadyMinted, got {other:?}"),
    }
    // Another scan whose footprint shares one cell with token 1's.
    let mut c = cells(600, 2);
    c.insert(0, cells(10, 3)[2]);
    let claim = Claim::Mint {
        to: owner_a,
        fingerprint: B256::repeat_byte(0x43),
        scan_root: B256::repeat_byte(0x43),
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&c),
        cell_count: 3,
        uri: "ipfs://overlap".into(),
        deadline: 4_000_000_000,
    };
    let signed = w.surveyor.attest(claim, c.clone()).await.unwrap();
    match w.owner.send_mint(&signed).await {
        Err(e @ ChainError::FootprintOverlap { .. }) => {
            assert!(
                matches!(e, ChainError::FootprintOverlap { cell, token_id } if cell == c[0] && token_id == U256::from(t1))
            );
            assert!(e.to_string().contains("token 1"), "{e}");
        }
        other => panic!("expected FootprintOverlap, got {other:?}"),
    }
    assert_eq!(w.owner.token_of_cell(c[0]).await.unwrap(), Some(t1));
    assert_eq!(w.owner.token_of_cell(c[1]).await.unwrap(), None);
    assert_eq!(
        w.owner
            .token_of_scan(B256::repeat_byte(0x81))
            .await
            .unwrap(),
        Some(t1)
    );
    // Malformed cells (another resolution) are refused.
    let bad = vec![(1u64 << 59) | (11u64 << 52) | (5 << 12) | 0xfff];
    let claim = Claim::Mint {
        to: owner_a,
        fingerprint: B256::repeat_byte(0x44),
        scan_root: B256::repeat_byte(0x44),
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&bad),
        cell_count: 1,
        uri: "ipfs://bad".into(),
        deadline: 4_000_000_000,
    };
    let signed = w.surveyor.attest(claim, bad).await.unwrap();
    expect_revert(w.owner.send_mint(&signed).await, "InvalidCell");
}

#[tokio::test]
async fn kyc_hierarchy_registrars_revoke_only_their_clients() {
    let w = world().await;
    let owner_a = w.owner.address().unwrap();
    // Admitted by registrar 1: registrar 2 can neither revoke nor take the client over.
    let args = expect_revert(w.registrar2.revoke_kyc(owner_a).await, "AdmittedByOther");
    assert!(
        args.contains(&w.registrar.address().unwrap().to_checksum(None)),
        "{args}"
    );
    let now = chain_now(&w.owner).await;
    expect_revert(
        w.registrar2
            .admit(owner_a, KycCategory::Retail, now + YEAR)
            .await,
        "AdmittedByOther",
    );
    // The authority removes registrar 1: its clients' admissions stop counting.
    w.admin
        .revoke_role(Role::Registrar, w.registrar.address().unwrap())
        .await
        .unwrap();
    assert!(!w.owner.has_kyc(owner_a).await.unwrap());
    let signed = mint_attestation(&w, owner_a, 1, 4_000_000_000).await;
    expect_revert(w.owner.send_mint(&signed).await, "RegistrarRemoved");
    // Registrar 2 may now admit the client.
    w.registrar2
        .admit(owner_a, KycCategory::Accredited, now + YEAR)
        .await
        .unwrap();
    let k = w.owner.kyc_of(owner_a).await.unwrap().unwrap();
    assert_eq!(
        (k.registrar, k.category),
        (w.registrar2.address().unwrap(), KycCategory::Accredited)
    );
    w.owner.send_mint(&signed).await.unwrap();
    let _ = (&w.contract, &w.lender);
}
