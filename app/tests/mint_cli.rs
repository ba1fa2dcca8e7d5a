//! The mint verbs end to end through the `twinmint` binary on a real local chain (anvil from
//! the pinned npm package): synth → ingest → reconstruction → fingerprint → package → deploy →
//! roles and whitelist → mint → mint again (no second transaction) → verify against project
//! and chain → pledge, value, release → one byte of report.html changed → verify exits 1
//! naming it. Also `chain dev` (starts, deploys, writes its file, stops on Ctrl-C).
//!
//! Needs `npm ci --prefix mint/contracts` (anvil ships inside the npm package).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mint::chain::{Address, Chain, ChainConfig, block_on, dev};

/// Anvil's public dev mnemonic, handed to the CLI through the environment only.
const MNEMONIC_VAR: &str = "TWINMINT_TEST_MNEMONIC";
/// Private key of anvil dev account 2 (public knowledge; dev chains only).
const OWNER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const OWNER_KEY_VAR: &str = "TWINMINT_TEST_OWNER_KEY";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinmint"));
    c.env(MNEMONIC_VAR, dev::MNEMONIC)
        .env(OWNER_KEY_VAR, OWNER_KEY);
    c
}

fn run(args: &[&str]) -> Output {
    let out = bin().args(args).output().unwrap();
    // No secret ever reaches the output.
    for text in [&out.stdout, &out.stderr] {
        let t = String::from_utf8_lossy(text);
        assert!(
            !t.contains(&OWNER_KEY[2..]),
            "the owner key was printed: {t}"
        );
    }
    out
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "twinmint {}\nstdout: {}\nstderr: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let text = ok(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn addr(i: u32) -> Address {
    dev::dev_account(i).address()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The smallest valid binary glTF 2.0.
fn minimal_glb() -> Vec<u8> {
    let mut j = br#"{"asset":{"version":"2.0"}}"#.to_vec();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let total = (20 + j.len()) as u32;
    let mut out = b"glTF".to_vec();
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&j);
    out
}

/// reconstruction.json from the synthetic scan's truth (the reconstruct stage's own type).
fn write_reconstruction(project: &Path, truth: &Path) {
    let truth = capture::synth::read_truth(truth).unwrap();
    let manifest = capture::project::open(project).unwrap();
    let trees = truth
        .trees
        .iter()
        .map(|t| reconstruct::Tree {
            id: t.id,
            x: t.x,
            y: t.y,
            ground_z: t.ground_z,
            height_m: t.height_m,
            crown_area_m2: std::f64::consts::PI * t.crown_radius_m.powi(2),
            crown_diameter_m: 2.0 * t.crown_radius_m,
            crown_base_height_m: Some(t.crown_base_height_m),
            point_count: 50,
            hull: vec![
                [t.x - 1.0, t.y - 1.0],
                [t.x + 1.0, t.y - 1.0],
                [t.x, t.y + 1.0],
            ],
            dbh_status: reconstruct::DbhStatus::NotObserved,
            dbh_cm: None,
            dbh_fit_rms_cm: None,
            species: None,
        })
        .collect();
    let rec = reconstruct::Reconstruction {
        schema_version: reconstruct::model::RECONSTRUCTION_SCHEMA_VERSION,
        generator: reconstruct::model::GENERATOR.into(),
        crs: manifest.crs.clone(),
        origin: manifest.origin,
        terrain: reconstruct::TerrainStats::default(),
        dtm: None,
        chm: None,
        trees,
        pipes: Vec::new(),
        options: serde_json::json!({}),
        run: Default::default(),
    };
    std::fs::write(
        project.join("reconstruction.json"),
        serde_json::to_vec_pretty(&rec).unwrap(),
    )
    .unwrap();
    std::fs::write(project.join("model.glb"), minimal_glb()).unwrap();
}

fn balance(url: &str, who: Address) -> mint::chain::U256 {
    block_on(async {
        let c = Chain::connect_read_only(ChainConfig::new(url, dev::CHAIN_ID, None)).await?;
        c.balance(who).await
    })
    .unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // one end-to-end scenario, read top to bottom
fn fingerprint_package_deploy_mint_verify_pledge_on_anvil() {
    let anvil = dev::Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let url = anvil.url();
    let chain_id = dev::CHAIN_ID.to_string();
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("plot.laz");
    let project = dir.path().join("plot.twinmint");

    // ------------------------------------------------------------ scan → project
    ok(&[
        "synth",
        "-q",
        "-o",
        p(&laz),
        "--scene",
        "forest",
        "--size",
        "50",
        "--points",
        "30000",
        "--seed",
        "9",
    ]);
    ok(&["ingest", "-q", p(&laz), "-o", p(&project)]);
    write_reconstruction(&project, &dir.path().join("plot.truth.json"));

    // ------------------------------------------------------------ fingerprint and package
    let surveyor = addr(1);
    let fp = json(&["fingerprint", "--json", "-q", p(&project)]);
    let model = fp["model_0x"].as_str().unwrap().to_string();
    assert!(model.starts_with("0x") && model.len() == 66, "{model}");
    assert!(project.join("fingerprint.json").is_file());
    let text = ok(&["fingerprint", "-q", p(&project)]);
    for line in [
        "cloud root:",
        "capture hash:",
        "reconstruction hash:",
        "model fingerprint:",
    ] {
        assert!(text.contains(line), "{text}");
    }
    assert!(
        text.contains(&model),
        "the fingerprint is deterministic: {text}"
    );
    let pkg = json(&[
        "package",
        "--json",
        "-q",
        p(&project),
        "--surveyor",
        &surveyor.to_string(),
        "--surveyor-name",
        "Test Survey Ltd",
        "--attribute",
        "Programme=e2e",
    ]);
    // The surveyor's name is shown in the package, not hashed: the fingerprint stays.
    assert_eq!(pkg["fingerprint"], model.as_str());
    let token_uri = pkg["token_uri"].as_str().unwrap().to_string();
    assert!(token_uri.starts_with("ipfs://bafy") && token_uri.ends_with("/metadata.json"));
    let model = pkg["fingerprint"].as_str().unwrap().to_string();

    // ------------------------------------------------------------ deploy, roles, whitelist
    let admin = ["--mnemonic-env", MNEMONIC_VAR, "--index", "0"];
    let conn = ["--rpc", &url, "--chain-id", &chain_id];
    let mut args = vec!["chain", "deploy", "--json"];
    args.extend(conn);
    args.extend(admin);
    let deployment = json(&args);
    let contract = deployment["contract"].as_str().unwrap().to_string();
    assert_eq!(
        deployment["authority"].as_str().unwrap().to_lowercase(),
        addr(0).to_string().to_lowercase()
    );
    let with_contract = |v: Vec<&'static str>| -> Vec<String> {
        let mut out: Vec<String> = v.into_iter().map(String::from).collect();
        out.extend(
            [
                "--rpc",
                &url,
                "--chain-id",
                &chain_id,
                "--contract",
                &contract,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        out
    };
    let call = |v: Vec<String>| -> String { ok(&v.iter().map(String::as_str).collect::<Vec<_>>()) };
    for (role, who) in [
        ("registrar", addr(0)),
        ("surveyor", surveyor),
        ("oracle", addr(0)),
    ] {
        let mut v = with_contract(vec!["chain", "grant", "-q"]);
        v.push(role.into());
        v.push(who.to_string());
        v.extend(admin.iter().map(|s| s.to_string()));
        call(v);
    }
    let owner = addr(2);
    let lender = addr(3);
    let mut v = with_contract(vec![
        "chain",
        "kyc",
        "admit",
        "-q",
        "--category",
        "accredited",
    ]);
    v.extend([owner.to_string(), lender.to_string()]);
    v.extend(admin.iter().map(|s| s.to_string()));
    call(v);
    // Who admitted the owner, as what, until when; a stranger is not admitted.
    let mut v = with_contract(vec!["chain", "kyc", "show", "--json"]);
    v.push(owner.to_string());
    let shown: serde_json::Value = serde_json::from_str(&call(v)).unwrap();
    assert_eq!(shown["valid"], true, "{shown}");
    assert_eq!(shown["kyc"]["category"], "accredited", "{shown}");
    assert_eq!(
        shown["kyc"]["registrar"].as_str().unwrap().to_lowercase(),
        addr(0).to_string().to_lowercase()
    );
    let mut v = with_contract(vec!["chain", "kyc", "show"]);
    v.push(addr(7).to_string());
    assert!(call(v).contains("not admitted"));
    // A pledge to a lender without KYC is refused naming the lender, and nothing is sent.
    let stranger = addr(7);

    // ------------------------------------------------------------ mint, twice
    let mint_args = || {
        let mut v = with_contract(vec!["mint", "--json", "-q"]);
        v.extend([
            p(&project).to_string(),
            "--to".into(),
            owner.to_string(),
            "--key-env".into(),
            OWNER_KEY_VAR.into(),
            "--surveyor-mnemonic-env".into(),
            MNEMONIC_VAR.into(),
            "--surveyor-index".into(),
            "1".into(),
        ]);
        v
    };
    let first: serde_json::Value = serde_json::from_str(&call(mint_args())).unwrap();
    assert_eq!(first["token_id"], 1);
    assert_eq!(first["status"], "Minted");
    assert_eq!(first["fingerprint"], model.as_str());
    assert_eq!(first["token_uri"], token_uri.as_str());
    let tx = first["tx_hash"].as_str().unwrap().to_string();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("chain.json")).unwrap()).unwrap();
    assert_eq!(record["token_id"], 1);
    assert_eq!(record["chain_id"], dev::CHAIN_ID);
    assert_eq!(record["fingerprint"], model.as_str());
    assert_eq!(record["tx_hashes"][0]["hash"], tx.as_str());
    assert!(!project.join(".mint-journal.json").exists());

    let before = balance(&url, owner);
    let second: serde_json::Value = serde_json::from_str(&call(mint_args())).unwrap();
    assert_eq!(second["token_id"], 1);
    assert_eq!(second["status"], "AlreadyOnChain");
    assert!(second["tx_hash"].is_null());
    assert_eq!(
        balance(&url, owner),
        before,
        "a second transaction was sent"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("chain.json")).unwrap()).unwrap();
    assert_eq!(record["tx_hashes"].as_array().unwrap().len(), 1);

    // ------------------------------------------------------------ verify against project + chain
    let verify_args = |extra: &[&str]| {
        let mut v = with_contract(vec!["verify"]);
        v.extend([
            p(&project.join("package")).to_string(),
            "--project".into(),
            p(&project).to_string(),
            "--token".into(),
            "1".into(),
        ]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let text = call(verify_args(&[]));
    assert!(text.contains("nothing differs"), "{text}");
    let report: serde_json::Value = serde_json::from_str(&call(verify_args(&["--json"]))).unwrap();
    assert_eq!(report["ok"], true);

    // ------------------------------------------------------------ pledge, value, release
    let refused = run(&[
        "pledge",
        "-q",
        p(&project),
        "--lender",
        &stranger.to_string(),
        "--loan-ref",
        "LOAN-41",
        "--seizable-after",
        "2099-01-01",
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--key-env",
        OWNER_KEY_VAR,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("no KYC admission") && err.contains(&stranger.to_checksum(None)),
        "{err}"
    );
    // A maturity in the past is refused before anything is sent.
    let past = run(&[
        "pledge",
        "-q",
        p(&project),
        "--lender",
        &lender.to_string(),
        "--loan-ref",
        "LOAN-41",
        "--seizable-after",
        "2001-01-01",
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--key-env",
        OWNER_KEY_VAR,
    ]);
    assert_eq!(past.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&past.stderr).contains("not in the future"),
        "{}",
        String::from_utf8_lossy(&past.stderr)
    );
    // Through the project folder: its chain.json supplies the token (the chain comes from the
    // flags, and the record must name the same one).
    let pledge = ok(&[
        "pledge",
        "-q",
        p(&project),
        "--lender",
        &lender.to_string(),
        "--loan-ref",
        "LOAN-42",
        "--seizable-after",
        "2099-01-01",
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--key-env",
        OWNER_KEY_VAR,
    ]);
    assert!(pledge.contains("offered token #1"), "{pledge}");
    // The lender (dev account 3) accepts; from now on the token is frozen.
    let accepted = ok(&[
        "accept-pledge",
        "-q",
        p(&project),
        "--loan-ref",
        "LOAN-42",
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--mnemonic-env",
        MNEMONIC_VAR,
        "--index",
        "3",
    ]);
    assert!(
        accepted.contains("accepted the pledge of token #1"),
        "{accepted}"
    );
    // A second pledge is refused with the contract's decoded error.
    let again = run(&[
        "pledge",
        "-q",
        p(&project),
        "--lender",
        &lender.to_string(),
        "--loan-ref",
        "LOAN-43",
        "--seizable-after",
        "2099-01-01",
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--key-env",
        OWNER_KEY_VAR,
    ]);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("Pledged"), "{err}");
    let valued = ok(&[
        "value",
        "-q",
        "1",
        "--amount",
        "125000",
        "--currency",
        "USD",
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--mnemonic-env",
        MNEMONIC_VAR,
    ]);
    assert!(valued.contains("USD 125000"), "{valued}");
    let released = ok(&[
        "release",
        "-q",
        p(&project),
        "--rpc",
        &url,
        "--chain-id",
        &chain_id,
        "--contract",
        &contract,
        "--mnemonic-env",
        MNEMONIC_VAR,
        "--index",
        "3",
    ]);
    assert!(released.contains("released token #1"), "{released}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("chain.json")).unwrap()).unwrap();
    let actions: Vec<&str> = record["tx_hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["mint", "offerPledge", "acceptPledge", "release"]);

    // ------------------------------------------------------------ tamper → exit 1, file named
    let report_html = project.join("package/report.html");
    let mut bytes = std::fs::read(&report_html).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 1;
    std::fs::write(&report_html, bytes).unwrap();
    let v = verify_args(&[]);
    let out = run(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("DIFF  report.html: sha256"), "{stdout}");
    assert!(stdout.contains("DIFF  report.html: cid"), "{stdout}");
    assert!(stdout.contains("DIFF  chain: token 1 URI"), "{stdout}");
    assert!(!stdout.contains("DIFF  thumbnail.png"), "{stdout}");
    assert!(stderr.contains("verification failed"), "{stderr}");

    // Minting with a package that no longer matches the project rebuilds it from the project
    // first (the stale-input policy the studio shares, mint::workflow), saying why; the rebuilt
    // package is the minted one again, so nothing is sent.
    let again: serde_json::Value = serde_json::from_str(&call(mint_args())).unwrap();
    assert_eq!(again["status"], "AlreadyOnChain", "{again}");
    assert_eq!(again["token_uri"], token_uri.as_str());
    let why = again["package_rebuilt"].as_str().unwrap_or_default();
    assert!(
        why.contains("does not match the project") && why.contains("report.html"),
        "{again}"
    );
    let out = run(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        out.status.code(),
        Some(0),
        "the rebuilt package verifies against the project and the token: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(anvil);
}

#[test]
fn clear_errors_for_a_missing_model_a_missing_package_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("a.laz");
    let project = dir.path().join("a.twinmint");
    ok(&[
        "synth",
        "-q",
        "-o",
        p(&laz),
        "--size",
        "40",
        "--points",
        "10000",
        "--seed",
        "2",
    ]);
    ok(&["ingest", "-q", p(&laz), "-o", p(&project)]);
    write_reconstruction(&project, &dir.path().join("a.truth.json"));
    std::fs::remove_file(project.join("model.glb")).unwrap();
    let out = run(&["package", "-q", p(&project)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("model.glb") && err.contains("twinmint reconstruct"),
        "{err}"
    );
    // verify of a folder that is not a package fails cleanly too.
    let out = run(&["verify", p(&dir.path().join("nope"))]);
    assert_eq!(out.status.code(), Some(1));
    // Keys are never taken from the command line.
    let out = run(&[
        "chain",
        "deploy",
        "--rpc",
        "http://127.0.0.1:9",
        "--chain-id",
        "1",
        "--key",
        "00",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap rejects an unknown --key flag"
    );

    // A keystore: a wrong password is named as such and never echoed; the right one gets as
    // far as the (unreachable) node.
    let ks = dev::dev_account(0)
        .write_keystore(dir.path(), "admin.json", "correct horse")
        .unwrap();
    let deploy = |password: &str| {
        bin()
            .env("TWINMINT_TEST_PW", password)
            .args([
                "chain",
                "deploy",
                "--rpc",
                "http://127.0.0.1:9",
                "--chain-id",
                "31337",
            ])
            .args(["--keystore", p(&ks), "--password-env", "TWINMINT_TEST_PW"])
            .output()
            .unwrap()
    };
    let out = deploy("battery staple");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wrong password") && !err.contains("battery"),
        "{err}"
    );
    let out = deploy("correct horse");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("password") && !err.contains("correct"),
        "{err}"
    );
    assert!(err.contains("127.0.0.1:9"), "{err}");
}

#[test]
fn chain_dev_deploys_writes_its_file_and_stops_on_ctrl_c() {
    // Fail with the npm command when anvil is not installed.
    dev::find_anvil(&dev::contracts_dir()).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args(["chain", "dev", "--project"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let file: PathBuf = dir.path().join(".twinmint-dev-chain.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !file.is_file() {
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "chain dev exited early ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            Instant::now() < deadline,
            "chain dev wrote no file within 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let url = info["rpc_url"].as_str().unwrap().to_string();
    let contract: Address = info["contract"].as_str().unwrap().parse().unwrap();
    assert_eq!(info["accounts"].as_array().unwrap().len(), 5);
    block_on(async {
        let c = Chain::connect_read_only(ChainConfig::new(&url, dev::CHAIN_ID, Some(contract)))
            .await
            .unwrap();
        for i in 0..5 {
            assert!(c.has_kyc(addr(i)).await.unwrap());
        }
        for role in [
            mint::chain::Role::Authority,
            mint::chain::Role::Registrar,
            mint::chain::Role::Surveyor,
            mint::chain::Role::ValuationOracle,
        ] {
            assert!(c.has_role(role, addr(0)).await.unwrap(), "{role:?}");
        }
    });
    // Ctrl-C (SIGINT) ends it cleanly: exit 0, the chain stops, the file is removed.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{contract}")), "{stdout}");
    assert!(!file.exists(), "the dev chain file outlived the chain");
    let gone = block_on(Chain::connect_read_only(ChainConfig::new(
        &url,
        dev::CHAIN_ID,
        None,
    )));
    assert!(gone.is_err(), "anvil still answers after chain dev stopped");
}

/// One HTTP/1.1 request to 127.0.0.1:`port`; returns the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn mint_through_the_browser_wallet_bridge() {
    let anvil = dev::Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let url = anvil.url();
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("b.laz");
    let project = dir.path().join("b.twinmint");
    ok(&[
        "synth",
        "-q",
        "-o",
        p(&laz),
        "--size",
        "40",
        "--points",
        "10000",
        "--seed",
        "3",
    ]);
    ok(&["ingest", "-q", p(&laz), "-o", p(&project)]);
    write_reconstruction(&project, &dir.path().join("b.truth.json"));
    // Contract, roles and whitelist through the library (the CLI path is tested above).
    let owner = addr(4);
    let contract = block_on(async {
        let mut c = Chain::connect(
            ChainConfig::new(&url, dev::CHAIN_ID, None),
            dev::dev_account(0),
        )
        .await?;
        let d = c.deploy(None).await?;
        c.grant_role(mint::chain::Role::Registrar, addr(0)).await?;
        c.grant_role(mint::chain::Role::Surveyor, addr(1)).await?;
        c.admit(
            owner,
            mint::chain::KycCategory::Retail,
            chrono::Utc::now().timestamp() as u64 + 3600 * 24 * 365,
        )
        .await?;
        Ok::<_, mint::chain::ChainError>(d.contract)
    })
    .unwrap();

    let mut child = bin()
        .args([
            "mint",
            "-q",
            "--json",
            p(&project),
            "--to",
            &owner.to_string(),
        ])
        .args([
            "--rpc",
            &url,
            "--chain-id",
            "31337",
            "--contract",
            &contract.to_string(),
        ])
        .args(["--browser", "--from", &owner.to_string()])
        .args([
            "--surveyor-mnemonic-env",
            MNEMONIC_VAR,
            "--surveyor-index",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The CLI prints the page's URL; play the page: fetch the transaction, have the "wallet"
    // (anvil's unlocked dev account) send it, post the hash back.
    let stderr = child.stderr.take().unwrap();
    let (page_tx, page_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(u) = line
                .split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
            {
                let _ = page_tx.send(u.to_string());
            }
        }
    });
    let page = page_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("mint --browser printed no URL");
    let rest = page.strip_prefix("http://127.0.0.1:").unwrap();
    let (port, query) = rest.split_once("/?t=").unwrap();
    let port: u16 = port.parse().unwrap();
    let tx: serde_json::Value =
        serde_json::from_str(&http(port, "GET", &format!("/tx?t={query}"), "")).unwrap();
    assert_eq!(tx["action"], "mint");
    assert_eq!(tx["chain_id"], 31337);
    assert_eq!(
        tx["to"].as_str().unwrap().to_lowercase(),
        contract.to_string().to_lowercase()
    );
    let anvil_port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let send = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
        "params": [{"from": owner, "to": tx["to"], "data": tx["data"]}],
    });
    let sent: serde_json::Value =
        serde_json::from_str(&http(anvil_port, "POST", "/", &send.to_string())).unwrap();
    let hash = sent["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_string();
    let body = serde_json::json!({"token": query, "hash": hash}).to_string();
    http(port, "POST", &format!("/hash?t={query}"), &body);

    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "mint --browser failed");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["token_id"], 1);
    assert_eq!(v["tx_hash"], hash.as_str());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("chain.json")).unwrap()).unwrap();
    assert_eq!(record["tx_hashes"][0]["hash"], hash.as_str());
    assert!(!project.join(".mint-journal.json").exists());
    drop(anvil);
}

/// Where the verbs find the chain (issue 10, part 6): flags, a network of the user's own
/// `chains.json` (`--network`), or a loopback dev chain file — never the project folder, whose
/// `chain.json` is a record (checked, reported when it disagrees, never followed). Also: the mint
/// journal outlives a failed `chain.json` write, the fee cap, and keyed RPC URLs kept out of
/// messages.
#[test]
fn chain_from_flags_network_or_local_dev_chain_never_from_the_folder() {
    let anvil = dev::Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let url = anvil.url();
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("c.laz");
    let project = dir.path().join("c.twinmint");
    ok(&[
        "synth",
        "-q",
        "-o",
        p(&laz),
        "--size",
        "40",
        "--points",
        "10000",
        "--seed",
        "5",
    ]);
    ok(&["ingest", "-q", p(&laz), "-o", p(&project)]);
    write_reconstruction(&project, &dir.path().join("c.truth.json"));
    // The lender's contract and a look-alike, each with surveyor (account 1) and the owner
    // (account 2) admitted.
    let owner = addr(2);
    let deploy = || {
        block_on(async {
            let mut c = Chain::connect(
                ChainConfig::new(&url, dev::CHAIN_ID, None),
                dev::dev_account(0),
            )
            .await?;
            let d = c.deploy(None).await?;
            c.grant_role(mint::chain::Role::Registrar, addr(0)).await?;
            c.grant_role(mint::chain::Role::Surveyor, addr(1)).await?;
            c.admit(
                owner,
                mint::chain::KycCategory::Retail,
                chrono::Utc::now().timestamp() as u64 + 3600 * 24 * 365,
            )
            .await?;
            Ok::<_, mint::chain::ChainError>(d)
        })
        .unwrap()
    };
    let real = deploy();
    let fake = deploy();
    // The user's own config, outside the project.
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("twinmint")).unwrap();
    let dead = format!("http://127.0.0.1:{}", dev::free_port().unwrap());
    std::fs::write(
        config.join("twinmint/chains.json"),
        serde_json::json!({"networks": {
            "local": {"rpc_url": url, "chain_id": dev::CHAIN_ID, "contract": real.contract},
            "keyed": {"rpc_url": format!("{dead}/v2/S3CRETKEY"), "chain_id": dev::CHAIN_ID,
                      "contract": real.contract},
        }})
        .to_string(),
    )
    .unwrap();
    let cli = |args: &[&str]| -> (bool, String, String) {
        let out = bin()
            .env("XDG_CONFIG_HOME", &config)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mint_on = |chain: &[&str]| {
        let mut v = vec!["mint", "-q", "--json", p(&project), "--to"];
        let to = owner.to_string();
        v.push(&to);
        v.extend(chain);
        v.extend([
            "--key-env",
            OWNER_KEY_VAR,
            "--surveyor-mnemonic-env",
            MNEMONIC_VAR,
            "--surveyor-index",
            "1",
        ]);
        cli(&v)
    };
    let journal = project.join(".mint-journal.json");
    let record_path = project.join("chain.json");

    // ------------------------------------------------------------ journal outlives a failed record
    // chain.json cannot be written (a folder is in the way): the mint is on chain, the journal
    // must stay so that the next run recovers it instead of forgetting the transaction.
    std::fs::create_dir(&record_path).unwrap();
    let (done, _, err) = mint_on(&["--network", "local"]);
    assert!(!done, "writing chain.json should have failed: {err}");
    assert!(
        journal.is_file(),
        "the journal went before chain.json was written: {err}"
    );
    std::fs::remove_dir(&record_path).unwrap();
    let (done, out, err) = mint_on(&["--network", "local"]);
    assert!(done, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "Recovered", "{out}");
    assert_eq!(v["token_id"], 1);
    let mint_tx = v["tx_hash"]
        .as_str()
        .expect("the recovered mint's hash")
        .to_string();
    let record = mint::chain::ChainRecord::read(&record_path).unwrap();
    assert_eq!(record.contract, real.contract);
    assert_eq!(record.tx_hashes[0].hash.to_string(), mint_tx);
    assert!(!journal.exists(), "recorded, so the journal is gone");

    // ------------------------------------------------------------ the folder names a look-alike
    // The same package minted on the look-alike: the folder's chain.json now names it.
    let fake_s = fake.contract.to_string();
    let (done, _, err) = mint_on(&["--rpc", &url, "--chain-id", "31337", "--contract", &fake_s]);
    assert!(done, "{err}");
    assert_eq!(
        mint::chain::ChainRecord::read(&record_path)
            .unwrap()
            .contract,
        fake.contract
    );
    let pkg = project.join("package");
    let verify = |chain: &[&str]| {
        let mut v = vec![
            "verify",
            "--json",
            p(&pkg),
            "--project",
            p(&project),
            "--token",
            "1",
        ];
        v.extend(chain);
        cli(&v)
    };
    // Without --contract the chain.json is not where the contract comes from (v1 took it from
    // there and "verified" against the look-alike).
    let (done, _, err) = verify(&["--rpc", &url, "--chain-id", "31337"]);
    assert!(!done);
    assert!(err.contains("--contract"), "{err}");
    // With the lender's network: the lender's contract is checked; the folder's record is
    // reported as a difference naming the look-alike.
    let (done, out, _) = verify(&["--network", "local"]);
    assert!(!done);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let checked = report["report"]["chain"].as_str().unwrap();
    assert!(checked.contains(&real.contract.to_string()), "{checked}");
    let diffs: Vec<&serde_json::Value> = report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "ok" && c["status"] != "note")
        .collect();
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0]["subject"], "chain");
    assert!(diffs[0]["what"].as_str().unwrap().contains("chain.json"));
    assert!(
        diffs[0]["actual"].as_str().unwrap().contains(&fake_s),
        "{:?}",
        diffs[0]
    );
    // A collateral verb through the folder refuses a record of another chain than the one given.
    let (done, _, err) = cli(&[
        "release",
        "-q",
        p(&project),
        "--network",
        "local",
        "--mnemonic-env",
        MNEMONIC_VAR,
    ]);
    assert!(!done);
    assert!(
        err.contains("chain.json records token #1") && err.contains(&fake_s),
        "{err}"
    );

    // ------------------------------------------------------------ dev chain files
    let dev_file = project.join(".twinmint-dev-chain.json");
    let dev_chain = |rpc: &str, chain_id: u64, contract: Address| {
        serde_json::json!({
            "schema_version": 1, "rpc_url": rpc, "chain_id": chain_id, "contract": contract,
            "deployment": real, "accounts": [], "pid": 0,
        })
        .to_string()
    };
    // A remote RPC (or another chain id) in a folder's dev chain file is ignored, said so.
    for (rpc, id) in [
        ("http://evil.example:8545", dev::CHAIN_ID),
        (url.as_str(), 1),
    ] {
        std::fs::write(&dev_file, dev_chain(rpc, id, fake.contract)).unwrap();
        let (done, _, err) = verify(&[]);
        assert!(!done);
        assert!(
            err.contains("ignoring") && err.contains("no chain given"),
            "{err}"
        );
    }
    // A loopback one with anvil's chain id is used, and announced.
    std::fs::write(&dev_file, dev_chain(&url, dev::CHAIN_ID, real.contract)).unwrap();
    let (_, out, err) = verify(&[]);
    assert!(err.contains("using the local dev chain from"), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        report["report"]["chain"]
            .as_str()
            .unwrap()
            .contains(&real.contract.to_string())
    );
    std::fs::remove_file(&dev_file).unwrap();

    // ------------------------------------------------------------ --network errors, fee cap, keys
    let (done, _, err) = verify(&["--network", "nope"]);
    assert!(!done);
    assert!(
        err.contains("local, keyed") || err.contains("keyed, local"),
        "{err}"
    );
    let lender = addr(3).to_string();
    let (done, _, err) = cli(&[
        "chain",
        "grant",
        "-q",
        "oracle",
        &lender,
        "--network",
        "local",
        "--max-fee-gwei",
        "0.001",
        "--mnemonic-env",
        MNEMONIC_VAR,
    ]);
    assert!(!done);
    assert!(
        err.contains("above the cap of 0.001 gwei") && err.contains("nothing was sent"),
        "{err}"
    );
    let (done, _, err) = cli(&["chain", "kyc", "show", &lender, "--network", "keyed"]);
    assert!(!done);
    assert!(!err.contains("S3CRETKEY"), "{err}");
    assert!(err.contains(&dead), "{err}");
    drop(anvil);
}

/// Deploy the contract on the dev chain at `url` and appoint registrar (0), surveyor (1) and
/// oracle (0); admit owner (2) and lender (3) with KYC. Returns the contract address.
fn deploy_with_roles(url: &str, chain_id: &str) -> String {
    let admin = ["--mnemonic-env", MNEMONIC_VAR, "--index", "0"];
    let mut args = vec![
        "chain",
        "deploy",
        "--json",
        "--rpc",
        url,
        "--chain-id",
        chain_id,
    ];
    args.extend(admin);
    let contract = json(&args)["contract"].as_str().unwrap().to_string();
    let conn = |mut v: Vec<String>| -> Vec<String> {
        v.extend(
            [
                "--rpc",
                url,
                "--chain-id",
                chain_id,
                "--contract",
                &contract,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        v
    };
    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|x| x.to_string()).collect() };
    let call = |v: Vec<String>| ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let (surveyor, owner, lender) = (addr(1), addr(2), addr(3));
    for (role, who) in [
        ("registrar", addr(0)),
        ("surveyor", surveyor),
        ("oracle", addr(0)),
    ] {
        let mut v = conn(s(&["chain", "grant", "-q", role, &who.to_string()]));
        v.extend(s(&admin));
        call(v);
    }
    let mut v = conn(s(&[
        "chain",
        "kyc",
        "admit",
        "-q",
        "--category",
        "accredited",
    ]));
    v.extend([owner.to_string(), lender.to_string()]);
    v.extend(s(&admin));
    call(v);
    contract
}

/// Issue "Re-survey", on chain: a reconstructed and simulated survey is minted and pledged; the
/// same stand scanned five years later is resurveyed (co-registered, compared, re-projected);
/// its attested resurvey needs the lender's consent, then appends a second survey with the
/// drift summary's hash; `verify` shows both surveys and checks the hash; the oracle publishes
/// the new valuation.
#[test]
#[allow(clippy::too_many_lines)] // one end-to-end scenario, read top to bottom
fn resurvey_with_lender_consent_on_anvil() {
    let anvil = dev::Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let url = anvil.url();
    let chain_id = dev::CHAIN_ID.to_string();
    let dir = tempfile::tempdir().unwrap();
    let (first_laz, later_laz) = (dir.path().join("first.laz"), dir.path().join("later.laz"));
    let (first, later) = (
        dir.path().join("first.twinmint"),
        dir.path().join("later.twinmint"),
    );
    let scene = ["--size", "60", "--points", "120000", "--seed", "11"];
    let mut v = vec!["synth", "-q", "-o", p(&first_laz)];
    v.extend(scene);
    ok(&v);
    let mut v = vec!["synth", "-q", "-o", p(&later_laz), "--resurvey-years", "5"];
    v.extend(scene);
    ok(&v);
    ok(&["ingest", "-q", p(&first_laz), "-o", p(&first)]);
    ok(&["reconstruct", "-q", p(&first), "--device", "cpu"]);
    ok(&["simulate", "-q", p(&first), "--runs", "100"]);

    let admin = ["--mnemonic-env", MNEMONIC_VAR, "--index", "0"];
    let contract = deploy_with_roles(&url, &chain_id);
    let conn = |mut v: Vec<String>| -> Vec<String> {
        v.extend(
            [
                "--rpc",
                &url,
                "--chain-id",
                &chain_id,
                "--contract",
                &contract,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        v
    };
    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|x| x.to_string()).collect() };
    let call = |v: Vec<String>| ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let call_json = |v: Vec<String>| json(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let (owner, lender) = (addr(2), addr(3));
    let signer = s(&[
        "--key-env",
        OWNER_KEY_VAR,
        "--surveyor-mnemonic-env",
        MNEMONIC_VAR,
        "--surveyor-index",
        "1",
    ]);
    let mut v = conn(s(&[
        "mint",
        "--json",
        "-q",
        p(&first),
        "--to",
        &owner.to_string(),
    ]));
    v.extend(signer.clone());
    assert_eq!(call_json(v)["token_id"], 1);
    let v = conn(s(&[
        "pledge",
        "-q",
        p(&first),
        "--lender",
        &lender.to_string(),
        "--loan-ref",
        "LOAN-7",
        "--seizable-after",
        "2099-01-01",
        "--key-env",
        OWNER_KEY_VAR,
    ]));
    call(v);
    let lender_key = s(&["--mnemonic-env", MNEMONIC_VAR, "--index", "3"]);
    let mut v = conn(s(&[
        "accept-pledge",
        "-q",
        p(&first),
        "--loan-ref",
        "LOAN-7",
    ]));
    v.extend(lender_key.clone());
    call(v);

    // ------------------------------------------------------------ the resurvey itself
    let report = json(&[
        "resurvey",
        "--json",
        "-q",
        p(&first),
        p(&later_laz),
        "-o",
        p(&later),
    ]);
    assert!(later.join("resurvey.json").is_file());
    let sha = report["summary_sha256"].as_str().unwrap().to_string();
    assert!(
        (report["elapsed_years"].as_f64().unwrap() - 5.0).abs() < 0.01,
        "{report}"
    );
    let fp = json(&["fingerprint", "--json", "-q", p(&later)])["model_0x"]
        .as_str()
        .unwrap()
        .to_string();

    // Pledged: without the lender's consent the resurvey is refused, naming the lender.
    let mut v = conn(s(&["mint", "--json", "-q", p(&later)]));
    v.extend(signer.clone());
    let refused = run(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("LenderConsentRequired"), "{err}");
    let mut v = conn(s(&[
        "consent-resurvey",
        "-q",
        p(&first),
        "--fingerprint",
        &fp,
    ]));
    v.extend(lender_key);
    assert!(call(v).contains("consented to the resurvey of token #1"));
    let mut v = conn(s(&["mint", "--json", "-q", p(&later)]));
    v.extend(signer);
    let done = call_json(v);
    assert_eq!(done["token_id"], 1, "{done}");
    assert_eq!(done["status"], "resurveyed", "{done}");
    assert_eq!(done["drift_hash"], format!("0x{sha}").as_str(), "{done}");

    // On chain: two surveys, the second carrying the drift summary's hash.
    let surveys = block_on(async {
        let c = Chain::connect_read_only(ChainConfig::new(
            &url,
            dev::CHAIN_ID,
            Some(contract.parse().unwrap()),
        ))
        .await?;
        c.surveys(1).await
    })
    .unwrap();
    assert_eq!(surveys.len(), 2);
    assert_eq!(surveys[1].fingerprint.to_string(), fp);
    assert_eq!(surveys[1].drift_hash.to_string(), format!("0x{sha}"));

    // verify shows both surveys and checks the drift hash against the package.
    let v = conn(s(&[
        "verify",
        p(&later.join("package")),
        "--project",
        p(&later),
        "--token",
        "1",
    ]));
    let text = call(v);
    assert!(text.contains("nothing differs"), "{text}");
    assert!(
        text.contains("survey 1 of 2") && text.contains("survey 2 of 2"),
        "{text}"
    );
    assert!(text.contains(&format!("drift summary 0x{sha}")), "{text}");

    // The oracle publishes the re-projected collateral value.
    let mut v = conn(s(&["value", "-q", p(&later)]));
    v.extend(s(&admin));
    assert!(call(v).contains("valued token #1"));

    // The credit officer's view of the token with the resurvey project: both surveys, the
    // second carrying the drift hash, the drift and LTV then and now, the hash on chain.
    #[cfg(feature = "studio")]
    {
        use twinmint_app::studio::mint_flow::ChainTarget;
        use twinmint_app::studio::officer::{TokenQuery, build_report};
        let q = TokenQuery {
            target: ChainTarget {
                rpc_url: url.clone(),
                chain_id: dev::CHAIN_ID,
                contract: contract.parse().unwrap(),
            },
            token_id: 1,
            package: None,
            project: Some(later.clone()),
            reader: None,
        };
        let r = build_report(&q, &Default::default()).unwrap();
        assert_eq!(r.surveys.len(), 2);
        assert!(r.surveys[0].drift_hash.is_none());
        assert_eq!(
            r.surveys[1].drift_hash.as_deref(),
            Some(format!("0x{sha}").as_str())
        );
        assert!(r.surveys[1].is_package, "{:?}", r.surveys);
        let t = r.timeline.expect("the officer sees the drift timeline");
        assert!(t.drift_on_chain, "{t:?}");
        assert!((t.elapsed_years - 5.0).abs() < 0.01);
        assert!(t.ltv_then.is_some() && t.ltv_now.is_some(), "{t:?}");
    }
}

/// Issue "Private by default", on chain: a simulated survey is packaged, minted and sealed for
/// its owner; the pledge offer grants the lender read access (the lender's wrapped key in a new
/// package version whose URI the token now carries); the lender's key verifies the plaintext
/// and the officer's view opens it, a stranger's key is refused; a disclosure proof of one tree
/// verifies against the token's on-chain fingerprint and a tampered one fails.
#[test]
#[allow(clippy::too_many_lines)] // one end-to-end scenario, read top to bottom
fn sealed_package_pledge_with_access_grant_on_anvil() {
    let anvil = dev::Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let url = anvil.url();
    let chain_id = dev::CHAIN_ID.to_string();
    let dir = tempfile::tempdir().unwrap();
    let laz = dir.path().join("plot.laz");
    let project = dir.path().join("plot.twinmint");
    ok(&[
        "synth",
        "-q",
        "-o",
        p(&laz),
        "--size",
        "50",
        "--points",
        "80000",
        "--seed",
        "5",
    ]);
    ok(&["ingest", "-q", p(&laz), "-o", p(&project)]);
    ok(&["reconstruct", "-q", p(&project), "--device", "cpu"]);
    ok(&["simulate", "-q", p(&project), "--runs", "50"]);
    let contract = deploy_with_roles(&url, &chain_id);
    let conn = |v: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        v.extend(
            [
                "--rpc",
                &url,
                "--chain-id",
                &chain_id,
                "--contract",
                &contract,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        v
    };
    let call = |v: Vec<String>| ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let (owner, lender) = (addr(2), addr(3));

    // Reader cards: the owner's (a key), the lender's and a stranger's (the mnemonic).
    let card = |name: &str, key: &[&str]| -> PathBuf {
        let path = dir.path().join(format!("{name}.json"));
        let mut v = vec!["reader-key", "-q", "-o", p(&path)];
        v.extend(key);
        ok(&v);
        path
    };
    let owner_key = ["--key-env", OWNER_KEY_VAR];
    let lender_key = ["--mnemonic-env", MNEMONIC_VAR, "--index", "3"];
    let stranger_key = ["--mnemonic-env", MNEMONIC_VAR, "--index", "5"];
    let owner_card = card("owner", &owner_key);
    let lender_card = card("lender", &lender_key);
    let stranger_card = card("stranger", &stranger_key);
    ok(&[
        "package",
        "-q",
        p(&project),
        "--surveyor",
        &addr(1).to_string(),
    ]);
    let sealed_dir = project.join("sealed");
    let regulator_key = ["--mnemonic-env", MNEMONIC_VAR, "--index", "6"];
    let regulator_card = card("regulator", &regulator_key);
    let sealed = json(&[
        "seal",
        "--json",
        p(&project),
        "--owner",
        p(&owner_card),
        "--regulator",
        p(&regulator_card),
    ]);
    assert!(
        sealed["plaintext_bytes"].as_u64().unwrap() > 100_000,
        "{sealed}"
    );
    let _ = stranger_card;
    let mut v = conn(&[
        "mint",
        "--json",
        "-q",
        p(&project),
        "--to",
        &owner.to_string(),
    ]);
    v.extend(
        [
            "--key-env",
            OWNER_KEY_VAR,
            "--surveyor-mnemonic-env",
            MNEMONIC_VAR,
            "--surveyor-index",
            "1",
        ]
        .map(String::from),
    );
    let minted = json(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(minted["token_id"], 1, "{minted}");
    // Sealed before the mint: the token points at the sealed package from the start.
    let first_uri = block_on(async {
        let c = Chain::connect_read_only(ChainConfig::new(
            &url,
            dev::CHAIN_ID,
            Some(contract.parse().unwrap()),
        ))
        .await?;
        c.token_uri(1).await
    })
    .unwrap();
    assert_eq!(first_uri, sealed["cids"]["token_uri"].as_str().unwrap());

    // The pledge offer with the lender's grant: new package version, URI on chain.
    let mut v = conn(&[
        "pledge",
        p(&project),
        "--lender",
        &lender.to_string(),
        "--loan-ref",
        "LOAN-9",
        "--seizable-after",
        "2099-01-01",
        "--grant",
        p(&lender_card),
    ]);
    v.extend(owner_key.map(String::from));
    let out = call(v);
    assert!(
        out.contains("granted") && out.contains("offered token #1"),
        "{out}"
    );
    let access: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sealed_dir.join("access.json")).unwrap()).unwrap();
    let readers: Vec<&str> = access["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["address"].as_str().unwrap())
        .collect();
    assert!(
        readers
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&lender.to_string())),
        "{access}"
    );
    let cids: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sealed_dir.join("cids.json")).unwrap()).unwrap();
    let uri = block_on(async {
        let c = Chain::connect_read_only(ChainConfig::new(
            &url,
            dev::CHAIN_ID,
            Some(contract.parse().unwrap()),
        ))
        .await?;
        c.token_uri(1).await
    })
    .unwrap();
    assert_eq!(uri, cids["token_uri"].as_str().unwrap());
    let mut v = conn(&["accept-pledge", "-q", p(&project), "--loan-ref", "LOAN-9"]);
    v.extend(lender_key.map(String::from));
    call(v);

    // The lender's key verifies ciphertext, plaintext and chain; a stranger's is refused.
    let mut v = conn(&["verify", p(&sealed_dir), "--token", "1"]);
    v.extend(lender_key.map(String::from));
    let text = call(v);
    assert!(text.contains("nothing differs"), "{text}");
    assert!(!text.contains("no reader key given"), "{text}");
    let mut v = conn(&["verify", p(&sealed_dir), "--token", "1"]);
    v.extend(stranger_key.map(String::from));
    let refused = run(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(refused.status.code(), Some(1));
    let out = String::from_utf8_lossy(&refused.stdout);
    assert!(out.contains("is not a reader of this package"), "{out}");

    // A disclosure proof of one tree against the token's on-chain fingerprint.
    let recon: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("reconstruction.json")).unwrap())
            .unwrap();
    let id = recon["trees"][0]["id"].as_u64().unwrap().to_string();
    let proof = dir.path().join("tree.json");
    ok(&["prove", "-q", p(&project), "--tree", &id, "-o", p(&proof)]);
    let text = call(conn(&["verify-proof", p(&proof), "--token", "1"]));
    assert!(
        text.contains("verified: this tree is part of the model"),
        "{text}"
    );
    assert!(text.contains("(the trusted fingerprint)"), "{text}");
    let mut tampered: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    let leaf = tampered["claim"]["leaf"].as_str().unwrap().to_string();
    tampered["claim"]["leaf"] = serde_json::json!(leaf.replacen("\"id\":", "\"id\":9", 1));
    std::fs::write(&proof, tampered.to_string()).unwrap();
    let v = conn(&["verify-proof", p(&proof), "--token", "1"]);
    let bad = run(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    // The officer's view opens the sealed package with the lender's key.
    #[cfg(feature = "studio")]
    {
        use twinmint_app::studio::mint_flow::ChainTarget;
        use twinmint_app::studio::officer::{ReaderKey, TokenQuery, build_report};
        let key = dev::dev_account(3).secret_key().unwrap();
        let q = TokenQuery {
            target: ChainTarget {
                rpc_url: url.clone(),
                chain_id: dev::CHAIN_ID,
                contract: contract.parse().unwrap(),
            },
            token_id: 1,
            package: Some(sealed_dir.clone()),
            project: None,
            reader: Some(ReaderKey(std::sync::Arc::new(key))),
        };
        let r = build_report(&q, &Default::default()).unwrap();
        assert!(r.verified, "{:?}", r.failures().collect::<Vec<_>>());
        assert!(
            r.notes.iter().any(|n| n.contains("sealed package opened")),
            "{:?}",
            r.notes
        );
        let c = r
            .collateral
            .clone()
            .expect("the figures come from the decrypted simulation");
        assert!(c.collateral_value > 0.0, "{c:?}");
        let pl = r.pledge.clone().expect("pledged");
        assert!(pl.accepted);
        assert!(r.carbon_view.is_none());
        // The officer checks the tree's disclosure proof against the token (and the tampered
        // one fails).
        let good = dir.path().join("tree-good.json");
        ok(&["prove", "-q", p(&project), "--tree", &id, "-o", p(&good)]);
        let said = twinmint_app::studio::officer::check_proof(&good, &r).unwrap();
        assert!(said.contains(&format!("tree {id}")), "{said}");
        assert!(twinmint_app::studio::officer::check_proof(&proof, &r).is_err());
        // The regulator's key: the carbon view, not the project.
        let q = TokenQuery {
            reader: Some(ReaderKey(std::sync::Arc::new(
                dev::dev_account(6).secret_key().unwrap(),
            ))),
            ..q
        };
        let r = build_report(&q, &Default::default()).unwrap();
        assert!(r.verified, "{:?}", r.failures().collect::<Vec<_>>());
        let v = r.carbon_view.expect("the regulator sees the carbon view");
        assert!(v["inventory"]["co2e_t"].as_f64().unwrap() > 0.0, "{v}");
        assert!(
            r.collateral.is_none(),
            "a regulator must not see the project's figures"
        );
    }
    // The regulator's view from the CLI.
    let mut v = vec!["open-sealed", p(&sealed_dir), "--carbon"];
    v.extend(regulator_key);
    let carbon: serde_json::Value = serde_json::from_str(&ok(&v)).unwrap();
    assert!(
        carbon["projection"]["stock_co2e_t_p50"].is_array(),
        "{carbon}"
    );
}
