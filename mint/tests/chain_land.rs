//! Land uniqueness on a real chain (issue 10): footprints from the H3 module minted on anvil.
//!
//! - the same synthetic forest scanned twice (two simulator seeds over one scene): the second
//!   mint is refused for overlap, naming the first token;
//! - two parcels that share an edge both mint;
//! - gas for 1 ha, 10 ha and 100 ha footprints (batched), pledge, accept and resurvey —
//!   printed as the table in mint/contracts/README.md (`--nocapture`).

mod chain_support;

use std::path::Path;

use mint::chain::{
    Address, B256, Chain, ChainConfig, ChainError, Claim, FOOTPRINT_BATCH, KycCategory, Role,
    SignedAttestation, U256, Wallet, footprint_root,
};
use mint::footprint::{self, CoverageOptions, Footprint};

use chain_support::{CHAIN_ID, MNEMONIC, anvil as start_anvil, chain_now};
use mint::chain::dev::Anvil;

fn account(index: u32) -> Wallet {
    Wallet::from_mnemonic(MNEMONIC, index).unwrap()
}

struct World {
    _anvil: Anvil,
    surveyor: Chain,
    owner: Chain,
    lender: Chain,
}

async fn world() -> World {
    let anvil = start_anvil();
    let mut admin = Chain::connect(ChainConfig::new(anvil.url(), CHAIN_ID, None), account(0))
        .await
        .unwrap();
    let contract = admin.deploy(None).await.unwrap().contract;
    for role in [Role::Registrar, Role::Surveyor] {
        admin.grant_role(role, account(0).address()).await.unwrap();
    }
    let now = chain_now(&admin).await;
    for i in [1, 2] {
        admin
            .admit(
                account(i).address(),
                KycCategory::Institutional,
                now + 3600 * 24 * 365,
            )
            .await
            .unwrap();
    }
    let c = |i| {
        Chain::connect(
            ChainConfig::new(anvil.url(), CHAIN_ID, Some(contract)),
            account(i),
        )
    };
    World {
        surveyor: c(0).await.unwrap(),
        owner: c(1).await.unwrap(),
        lender: c(2).await.unwrap(),
        _anvil: anvil,
    }
}

async fn attest(w: &World, fp: &Footprint, scan_root: B256, k: u8) -> SignedAttestation {
    let claim = Claim::Mint {
        to: w.owner.address().unwrap(),
        fingerprint: B256::from(alloy::primitives::keccak256([k, 0xf0])),
        scan_root,
        capture_hash: B256::repeat_byte(0xcc),
        footprint_root: footprint_root(&fp.cells),
        cell_count: fp.cells.len() as u32,
        uri: format!("ipfs://plot-{k}"),
        deadline: 4_000_000_000,
    };
    w.surveyor.attest(claim, fp.cells.clone()).await.unwrap()
}

/// A square parcel `side_m` wide with its south-west corner at (`e`, `n`) in UTM 33N, as a
/// GeoJSON file that names its CRS.
fn square(dir: &Path, name: &str, e: f64, n: f64, side_m: f64) -> std::path::PathBuf {
    let ring = [
        [e, n],
        [e + side_m, n],
        [e + side_m, n + side_m],
        [e, n + side_m],
        [e, n],
    ];
    let json = serde_json::json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}},
        "features": [{"type": "Feature", "properties": {"name": name},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}}]
    });
    let path = dir.join(format!("{name}.geojson"));
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    path
}

fn utm33() -> capture::Crs {
    capture::Crs::epsg(32633)
}

#[tokio::test]
async fn adjacent_parcels_both_mint_and_overlapping_one_is_refused() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    // Two 150 m × 150 m parcels sharing the edge x = 600,150.
    let west = footprint::from_parcel(
        &square(dir.path(), "west", 600_000.0, 5_100_000.0, 150.0),
        &utm33(),
    )
    .unwrap();
    let east = footprint::from_parcel(
        &square(dir.path(), "east", 600_150.0, 5_100_000.0, 150.0),
        &utm33(),
    )
    .unwrap();
    assert!(west.overlap(&east).is_empty());
    let t_west = w
        .owner
        .send_mint(&attest(&w, &west, B256::repeat_byte(1), 1).await)
        .await
        .unwrap()
        .token_id;
    let t_east = w
        .owner
        .send_mint(&attest(&w, &east, B256::repeat_byte(2), 2).await)
        .await
        .unwrap()
        .token_id;
    assert_ne!(t_west, t_east);
    // A parcel straddling both is refused, naming a token it overlaps.
    let middle = footprint::from_parcel(
        &square(dir.path(), "middle", 600_075.0, 5_100_000.0, 150.0),
        &utm33(),
    )
    .unwrap();
    match w
        .owner
        .send_mint(&attest(&w, &middle, B256::repeat_byte(3), 3).await)
        .await
    {
        Err(e @ ChainError::FootprintOverlap { .. }) => {
            let ChainError::FootprintOverlap { token_id, .. } = &e else {
                unreachable!()
            };
            assert!(*token_id == U256::from(t_west) || *token_id == U256::from(t_east));
            println!("overlapping parcel refused: {e}");
        }
        other => panic!("expected FootprintOverlap, got {other:?}"),
    }
}

#[tokio::test]
async fn same_forest_scanned_twice_is_refused_for_overlap() {
    use capture::synth::{Scene, SceneOptions, SynthOptions, scan_scene};
    let scene_opts = SceneOptions {
        seed: 11,
        width_m: 60.0,
        depth_m: 60.0,
        ..SynthOptions::default().scene
    };
    let scene = Scene::generate(&scene_opts).unwrap();
    let mut rescanned = scene.clone();
    rescanned.options.seed = 12; // another flight: other scan noise, same forest
    let scan = |s: &Scene| {
        scan_scene(
            s,
            &Default::default(),
            None,
            &mut capture::NoProgress,
            &capture::CancelToken::new(),
        )
        .unwrap()
        .cloud
    };
    let (a, b) = (scan(&scene), scan(&rescanned));
    let root = |c: &capture::PointCloud| {
        let (fp, _) = mint::fingerprint::cloud_fingerprint(
            c,
            &mint::fingerprint::FingerprintOptions::default(),
        )
        .unwrap();
        B256::from(fp.root)
    };
    let (root_a, root_b) = (root(&a), root(&b));
    assert_ne!(root_a, root_b, "two flights are two scans");
    let fa = footprint::from_cloud(&a, &CoverageOptions::default()).unwrap();
    let fb = footprint::from_cloud(&b, &CoverageOptions::default()).unwrap();
    assert!(!fa.overlap(&fb).is_empty());

    let w = world().await;
    let t = w
        .owner
        .send_mint(&attest(&w, &fa, root_a, 1).await)
        .await
        .unwrap()
        .token_id;
    // The same scan again (under another fingerprint): refused by scan root.
    match w.owner.send_mint(&attest(&w, &fb, root_a, 2).await).await {
        Err(ChainError::ScanAlreadyMinted { token_id, .. }) => assert_eq!(token_id, U256::from(t)),
        other => panic!("expected ScanAlreadyMinted, got {other:?}"),
    }
    // The second flight: refused for overlap with token t.
    match w.owner.send_mint(&attest(&w, &fb, root_b, 3).await).await {
        Err(e @ ChainError::FootprintOverlap { .. }) => {
            assert!(e.to_string().contains(&format!("token {t}")), "{e}");
        }
        other => panic!("expected FootprintOverlap, got {other:?}"),
    }
}

#[tokio::test]
async fn gas_for_footprints_pledge_and_resurvey() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut last = None;
    for (i, ha) in [1.0f64, 10.0, 100.0].into_iter().enumerate() {
        let side = (ha * 1e4).sqrt();
        let e = 610_000.0 + i as f64 * 2_000.0;
        let fp = footprint::from_parcel(
            &square(dir.path(), &format!("p{i}"), e, 5_100_000.0, side),
            &utm33(),
        )
        .unwrap();
        let signed = attest(&w, &fp, B256::repeat_byte(10 + i as u8), 10 + i as u8).await;
        let outcome = w.owner.send_mint(&signed).await.unwrap();
        // Gas of every transaction of this mint: the mint itself and each claimFootprint.
        let mint_gas = receipt_gas(&w.owner, outcome.tx_hash.unwrap()).await;
        let batches = fp.cells.len().div_ceil(FOOTPRINT_BATCH);
        let total = total_gas_since(&w.owner, outcome.block.unwrap()).await;
        rows.push((
            format!("mint, {ha} ha"),
            fp.cells.len(),
            batches,
            mint_gas,
            total,
        ));
        let info = w.owner.footprint_of(outcome.token_id).await.unwrap();
        assert!(info.complete(), "{info:?}");
        assert_eq!(info.claimed as usize, fp.cells.len());
        last = Some((outcome.token_id, fp, signed));
    }
    let (t, fp, signed) = last.unwrap();
    let lender_a = w.lender.address().unwrap();
    let loan = B256::repeat_byte(0x10);
    let maturity = chain_now(&w.owner).await + 30 * 24 * 3600;
    let r = w
        .owner
        .offer_pledge(t, lender_a, loan, maturity, 0)
        .await
        .unwrap();
    rows.push(("offer pledge".into(), 0, 0, r.gas_used, r.gas_used));
    let r = w.lender.accept_pledge(t, loan).await.unwrap();
    rows.push(("accept pledge".into(), 0, 0, r.gas_used, r.gas_used));
    let r = w.lender.release(t).await.unwrap();
    rows.push(("release".into(), 0, 0, r.gas_used, r.gas_used));
    // Resurvey of the 100 ha token over the same land: cells already held are kept.
    let claim = Claim::Resurvey {
        token_id: U256::from(t),
        previous_fingerprint: signed.claim.fingerprint(),
        fingerprint: B256::repeat_byte(0x77),
        scan_root: B256::repeat_byte(0x78),
        capture_hash: B256::repeat_byte(0xdd),
        footprint_root: footprint_root(&fp.cells),
        cell_count: fp.cells.len() as u32,
        drift_hash: B256::repeat_byte(0xd1),
        uri: "ipfs://resurvey".into(),
        deadline: 4_000_000_000,
    };
    let re = w.surveyor.attest(claim, fp.cells.clone()).await.unwrap();
    let receipt = w.owner.resurvey(&re).await.unwrap();
    let total = total_gas_since(&w.owner, receipt.block_number.unwrap()).await;
    rows.push((
        "resurvey, 100 ha (same land)".into(),
        fp.cells.len(),
        fp.cells.len().div_ceil(FOOTPRINT_BATCH),
        receipt.gas_used,
        total,
    ));

    println!("| action | H3 cells | batches | gas (first tx) | gas (all txs) |");
    println!("|---|---:|---:|---:|---:|");
    for (what, cells, batches, first, total) in &rows {
        println!("| {what} | {cells} | {batches} | {first} | {total} |");
    }
    // Every transaction stays under the per-transaction gas cap of 2^24 (EIP-7825).
    for (what, _, _, first, _) in &rows {
        assert!(*first < 1 << 24, "{what}: {first}");
    }
    // 100 ha needs more than one batch.
    assert!(rows[2].2 > 1, "{:?}", rows[2]);
    let _ = Address::ZERO;
}

async fn receipt_gas(c: &Chain, hash: mint::chain::TxHash) -> u64 {
    use alloy::providers::Provider;
    c.provider()
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .unwrap()
        .gas_used
}

/// Gas of all transactions in blocks `from..=latest` (anvil mines one transaction a block).
async fn total_gas_since(c: &Chain, from: u64) -> u64 {
    use alloy::providers::Provider;
    let latest = c.provider().get_block_number().await.unwrap();
    let mut total = 0;
    for n in from..=latest {
        let b = c
            .provider()
            .get_block_by_number(n.into())
            .await
            .unwrap()
            .unwrap();
        total += b.header.gas_used;
    }
    total
}
