//! Private by default: a packaged project sealed for owner + lender opens for the lender and
//! verifies (ciphertext and plaintext); a third party's key fails clearly; one flipped
//! ciphertext byte fails `verify` naming the file; a regulator sees only the carbon view; and
//! disclosure proofs of one tree, the carbon total and a cloud chunk verify against the
//! fingerprint while tampered ones fail.

mod package_support;

use mint::chain::Wallet;
use mint::disclosure::{self, ChunkAt, Claim, DisclosureError};
use mint::package::{self, PackageOptions, ProjectFingerprint};
use mint::seal::{self, ReaderCard, Role, SealError};
use mint::verify::{Status, verify_sealed};
use package_support::{flip_byte, synth_project};

/// Anvil's well-known dev keys (owner, lender, stranger, regulator).
const KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

fn wallet(i: usize) -> Wallet {
    Wallet::from_private_key(KEYS[i]).unwrap()
}

fn card(i: usize) -> ReaderCard {
    ReaderCard::from_wallet(&wallet(i)).unwrap()
}

#[test]
fn sealed_round_trip_grant_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "plot", 11, true);
    package::build(&project, &PackageOptions::default()).unwrap();
    let fp = ProjectFingerprint::read(&project).unwrap().fingerprint;
    let sealed = seal::seal(&seal::SealRequest {
        project: &project,
        readers: vec![(card(0), Role::Owner), (card(1), Role::Lender)],
        regulators: vec![card(3)],
    })
    .unwrap();
    let sdir = sealed.dir.clone();

    // Nothing in the clear but the short list: no point, tree or CRS in the public files.
    let public = std::fs::read_to_string(sdir.join(seal::METADATA_JSON)).unwrap();
    // (As JSON keys or words: the CIDs are random base32 and may spell anything.)
    for secret in [
        "\"height_m\"",
        "\"crs\"",
        "\"co2e_t\"",
        "\"x\"",
        "EPSG",
        "\"trees\"",
    ] {
        assert!(!public.contains(secret), "{secret} is public:\n{public}");
    }
    let cloud = std::fs::read(project.join("cloud.laz")).unwrap();
    let sealed_cloud = std::fs::read(sdir.join("cloud.laz.enc")).unwrap();
    // The sealed file starts with the seal's magic and a random nonce prefix; the LAS signature
    // that opens the plaintext is not where an unencrypted copy would put it.
    assert_eq!(&sealed_cloud[..8], seal::stream::MAGIC);
    assert!(cloud.starts_with(b"LASF"));
    assert!(
        !sealed_cloud[16..].starts_with(b"LASF"),
        "the cloud is in the clear"
    );
    assert!(sealed_cloud.len() > cloud.len());

    // Without a key: the ciphertext verifies and the report says what it could not check.
    let r = verify_sealed(&sdir, None, None);
    assert!(r.ok(), "{r}");
    assert!(r.to_string().contains("no reader key given"), "{r}");

    // The lender decrypts; the plaintext's fingerprint is the model's.
    let lender = wallet(1).secret_key().unwrap();
    let r = verify_sealed(&sdir, None, Some(&lender));
    assert!(r.ok(), "{r}");
    assert!(
        r.checks
            .iter()
            .any(|c| c.what.starts_with("model fingerprint of the plaintext")
                && c.status == Status::Ok),
        "{r}"
    );
    let opened = dir.path().join("opened.twinmint");
    seal::open(&sdir, &lender, &opened).unwrap();
    assert_eq!(std::fs::read(opened.join("cloud.laz")).unwrap(), cloud);
    let again = package::compute_project_fingerprint(
        &opened,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    assert_eq!(again.fingerprint, fp);

    // A third party: a clear error naming their address and the readers.
    let stranger = wallet(2).secret_key().unwrap();
    let err = seal::open(&sdir, &stranger, &dir.path().join("x")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SealError::NotAReader { .. }), "{msg}");
    assert!(
        msg.contains(&wallet(2).address().to_checksum(None)),
        "{msg}"
    );
    assert!(msg.contains("(lender)"), "{msg}");
    assert!(!dir.path().join("x").exists());
    let r = verify_sealed(&sdir, None, Some(&stranger));
    assert!(!r.ok() && r.to_string().contains("is not a reader"), "{r}");

    // The regulator: the carbon view, never the project.
    let regulator = wallet(3).secret_key().unwrap();
    let carbon = seal::open_carbon(&sdir, &regulator).unwrap();
    assert_eq!(carbon["fingerprint"], fp.model_hex0x());
    assert!(
        carbon["inventory"]["co2e_t"].as_f64().unwrap() > 0.0,
        "{carbon}"
    );
    assert!(seal::open(&sdir, &regulator, &dir.path().join("y")).is_err());

    // Grant: the stranger becomes a reader; ciphertexts unchanged, folder CID new.
    let before = sealed.cids.clone();
    let granted = seal::grant(
        &project,
        &wallet(0).secret_key().unwrap(),
        &[(card(2), Role::Reader)],
    )
    .unwrap();
    assert_ne!(granted.cids.directory, before.directory);
    assert_eq!(
        granted.cids.files["cloud.laz.enc"],
        before.files["cloud.laz.enc"]
    );
    assert!(verify_sealed(&sdir, None, Some(&stranger)).ok());
    // A regulator cannot grant.
    assert!(seal::grant(&project, &regulator, &[(card(2), Role::Reader)]).is_err());

    // One flipped ciphertext byte: verify fails naming the file, with or without a key.
    flip_byte(&sdir.join("reconstruction.json.enc"), 40);
    let r = verify_sealed(&sdir, None, None);
    assert!(!r.ok());
    assert!(
        r.differences()
            .any(|c| c.subject == "reconstruction.json.enc"),
        "{r}"
    );
    let r = verify_sealed(&sdir, None, Some(&lender));
    assert!(r.to_string().contains("reconstruction.json.enc"), "{r}");
    let err = seal::open(&sdir, &lender, &dir.path().join("z")).unwrap_err();
    assert!(err.to_string().contains("reconstruction.json.enc"), "{err}");
    assert!(
        !dir.path().join("z").exists(),
        "a failed open must not leave a project"
    );
}

#[test]
fn disclosure_proofs_verify_against_the_fingerprint_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "plot", 12, true);
    package::build(&project, &PackageOptions::default()).unwrap();
    let fp = ProjectFingerprint::read(&project).unwrap().fingerprint;
    let recon: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("reconstruction.json")).unwrap())
            .unwrap();
    let id = recon["trees"][3]["id"].as_u64().unwrap();

    let p = disclosure::prove_tree(&project, id).unwrap();
    let d = disclosure::verify_proof(&p, Some(fp.model)).unwrap();
    assert_eq!(d.kind, "tree");
    assert_eq!(d.value["id"].as_u64(), Some(id));
    // Only the tree: no other tree's data in the proof.
    let other = recon["trees"][4]["id"].as_u64().unwrap();
    let text = serde_json::to_string(&p).unwrap();
    assert!(
        !text.contains(&format!("\"id\":{other},")),
        "another tree leaks"
    );

    // Tampered: a changed height, another fingerprint, a broken path.
    let Claim::Tree { leaf, proof } = &p.claim else {
        unreachable!()
    };
    let h = d.value["height_m"].as_f64().unwrap();
    let mut t = p.clone();
    t.claim = Claim::Tree {
        leaf: leaf.replace(
            &format!("\"height_m\":{h}"),
            &format!("\"height_m\":{}", h + 5.0),
        ),
        proof: proof.clone(),
    };
    assert_ne!(t, p);
    assert!(matches!(
        disclosure::verify_proof(&t, Some(fp.model)),
        Err(DisclosureError::Invalid(_))
    ));
    let mut wrong = fp.model;
    wrong[0] ^= 1;
    assert!(matches!(
        disclosure::verify_proof(&p, Some(wrong)),
        Err(DisclosureError::WrongFingerprint { .. })
    ));
    let mut t = p.clone();
    if let Claim::Tree { proof, .. } = &mut t.claim {
        proof.path[0][5] ^= 1;
    }
    assert!(disclosure::verify_proof(&t, Some(fp.model)).is_err());

    // The carbon total and a cloud chunk.
    let c = disclosure::prove_carbon(&project).unwrap();
    let d = disclosure::verify_proof(&c, Some(fp.model)).unwrap();
    let sim: growth_model::Simulation =
        serde_json::from_slice(&std::fs::read(project.join("simulation.json")).unwrap()).unwrap();
    let co2e = sim.inventory.unwrap().totals.co2e_t;
    assert!((d.value["totals"]["co2e_t"].as_f64().unwrap() - co2e).abs() < 0.001);
    let k = disclosure::prove_cloud_chunk(&project, ChunkAt::Index(0)).unwrap();
    let d = disclosure::verify_proof(&k, Some(fp.model)).unwrap();
    assert!(d.value["points"].as_u64().unwrap() > 1000, "{}", d.value);
    // A tree proof of a stale project (reconstruction changed since packaging) is refused.
    let mut r2 = recon.clone();
    r2["trees"][0]["height_m"] = serde_json::json!(99.0);
    std::fs::write(project.join("reconstruction.json"), r2.to_string()).unwrap();
    assert!(matches!(
        disclosure::prove_tree(&project, id),
        Err(DisclosureError::Stale { .. })
    ));
}

#[test]
fn a_sealed_project_mints_with_the_sealed_uri_and_a_stale_seal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "plot", 13, true);
    let surveyor = wallet(1).address();
    let prepare = || {
        mint::workflow::prepare_package(
            &project,
            surveyor,
            &mut |_| {},
            &mut capture::NoProgress,
            &capture::CancelToken::new(),
        )
    };
    let clear = prepare().unwrap().cids.token_uri;
    let sealed = seal::seal(&seal::SealRequest {
        project: &project,
        readers: vec![(card(0), Role::Owner)],
        regulators: vec![],
    })
    .unwrap();
    let uri = prepare().unwrap().cids.token_uri;
    assert_eq!(uri, sealed.cids.token_uri);
    assert_ne!(uri, clear);
    // The project changes after sealing (another simulation): the seal is stale, and the mint
    // is refused rather than pointing the token at the clear package.
    let mut sim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("simulation.json")).unwrap()).unwrap();
    let co2e = sim["inventory"]["totals"]["co2e_t"].as_f64().unwrap();
    sim["inventory"]["totals"]["co2e_t"] = serde_json::json!(co2e * 2.0);
    std::fs::write(project.join("simulation.json"), sim.to_string()).unwrap();
    let err = prepare().unwrap_err().to_string();
    assert!(err.contains("run `twinmint seal` again"), "{err}");
}

#[test]
fn hostile_sealed_folders_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "plot", 14, true);
    package::build(&project, &PackageOptions::default()).unwrap();
    let sealed = seal::seal(&seal::SealRequest {
        project: &project,
        readers: vec![(card(0), Role::Owner)],
        regulators: vec![],
    })
    .unwrap()
    .dir;
    let owner = wallet(0).secret_key().unwrap();
    // A file name that would leave the output folder.
    let meta_path = sealed.join(seal::METADATA_JSON);
    let original = std::fs::read(&meta_path).unwrap();
    let mut meta: serde_json::Value = serde_json::from_slice(&original).unwrap();
    meta["twinmint"]["files"]["cloud.laz.enc"]["name"] = serde_json::json!("../../escaped.laz");
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let out = dir.path().join("out");
    let err = seal::open(&sealed, &owner, &out).unwrap_err().to_string();
    assert!(err.contains("leaves the project folder"), "{err}");
    assert!(!out.exists() && !dir.path().join("escaped.laz").exists());
    // A damaged access list: a clear error naming access.json.
    std::fs::write(&meta_path, &original).unwrap();
    std::fs::write(sealed.join(seal::ACCESS_JSON), b"{ not json").unwrap();
    let err = seal::open(&sealed, &owner, &out).unwrap_err().to_string();
    assert!(err.contains("access.json"), "{err}");
    let r = mint::verify::verify_sealed(&sealed, None, None);
    assert!(!r.ok() && r.to_string().contains("access.json"), "{r}");
}
