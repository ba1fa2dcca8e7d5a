//! The NFR package of a synthetic project: every file, its CIDs, ERC-721 metadata, the
//! self-contained report, determinism, and the errors a surveyor meets.

mod package_support;

use mint::cid::{ImportOptions, import_dir};
use mint::package::{
    self, CIDS_JSON, METADATA_JSON, PackageManifest, PackageOptions, ProjectFingerprint,
    TokenMetadata,
};
use package_support::synth_project;

fn surveyor() -> mint::chain::Address {
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        .parse()
        .unwrap()
}

fn options() -> PackageOptions {
    PackageOptions {
        surveyor_address: Some(surveyor()),
        surveyor_name: Some("J. Doe, PLS 1234".into()),
        external_url: Some("https://lender.example/assets/plot-7".into()),
        extra_attributes: vec![mint::package::Attribute::text("Programme", "test")],
        ..Default::default()
    }
}

#[test]
fn package_has_every_file_with_matching_cids_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "plot", 7, true);
    let built = package::build(&project, &options()).unwrap();
    let pkg = project.join("package");
    assert_eq!(built.dir, pkg);
    for f in [
        "metadata.json",
        "thumbnail.png",
        "model.glb",
        "report.html",
        "report.pdf",
        "cids.json",
    ] {
        assert!(pkg.join(f).is_file(), "{f} missing");
    }
    // No staging or backup folders left behind (the lock file stays: see capture::commit).
    let hidden: Vec<_> = std::fs::read_dir(&project)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != capture::commit::LOCK)
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");

    // cids.json is what build returned, and its CIDs are the files' CIDs.
    let cids = PackageManifest::read(&pkg).unwrap();
    assert_eq!(cids, built);
    for (name, rec) in &cids.files {
        let actual = package::packaged_file(&pkg.join(name)).unwrap();
        assert_eq!(&actual, rec, "{name}");
    }
    // The directory CID is the folder of the four content files (cids.json excluded).
    let copy = dir.path().join("ipfs");
    std::fs::create_dir(&copy).unwrap();
    for name in package::CONTENT_FILES {
        std::fs::copy(pkg.join(name), copy.join(name)).unwrap();
    }
    let root = import_dir(&copy, &ImportOptions::default())
        .unwrap()
        .root
        .cid;
    assert_eq!(cids.directory, root);
    assert_eq!(cids.token_uri, format!("ipfs://{root}/metadata.json"));
    assert!(cids.directory.to_string().starts_with("bafy"));

    // ERC-721 metadata.
    let meta: TokenMetadata =
        serde_json::from_slice(&std::fs::read(pkg.join(METADATA_JSON)).unwrap()).unwrap();
    assert_eq!(
        meta.image,
        format!("ipfs://{}", cids.files["thumbnail.png"].cid)
    );
    assert_eq!(
        meta.animation_url,
        format!("ipfs://{}", cids.files["model.glb"].cid)
    );
    assert_eq!(
        meta.external_url.as_deref(),
        Some("https://lender.example/assets/plot-7")
    );
    assert!(meta.name.contains("forest"), "{}", meta.name);
    let attr = |t: &str| {
        meta.attributes
            .iter()
            .find(|a| a.trait_type == t)
            .unwrap_or_else(|| panic!("attribute {t} missing: {:?}", meta.attributes))
            .value
            .clone()
    };
    assert_eq!(attr("Asset type"), "forest");
    // Scene origin 500000 E, 5000000 N in UTM 33N: about 45.1° N, 15.0° E.
    let lat = attr("Latitude").as_f64().unwrap();
    let lon = attr("Longitude").as_f64().unwrap();
    assert!(
        (lat - 45.15).abs() < 0.05 && (lon - 15.0).abs() < 0.05,
        "{lat} {lon}"
    );
    assert!((attr("Area (ha)").as_f64().unwrap() - 0.16).abs() < 1e-9);
    assert!(attr("Trees").as_u64().unwrap() > 0);
    let p50 = attr("Carbon stock P50 (t CO2e)").as_f64().unwrap();
    let p90 = attr("Carbon stock P90 (t CO2e)").as_f64().unwrap();
    assert!(p50 > 0.0 && p90 >= p50, "{p50} {p90}");
    assert!(attr("Price anchor").as_str().unwrap().contains("CNY"));
    assert!(attr("Projected value P50 (CNY)").as_f64().is_some());
    assert!(attr("Survey date").as_str().unwrap().starts_with("2024-"));
    assert_eq!(attr("Fingerprint"), built.fingerprint.as_str());
    assert_eq!(
        attr("Surveyor"),
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    );
    assert_eq!(attr("Programme"), "test");

    // The twinmint object: fingerprint parts agree with fingerprint.json, and the capture
    // metadata in it hashes to the capture hash.
    let fp = ProjectFingerprint::read(&project).unwrap();
    assert_eq!(meta.twinmint.fingerprint, fp.fingerprint);
    assert_eq!(fp.model_0x, built.fingerprint);
    assert_eq!(
        meta.twinmint.capture.hash().unwrap(),
        meta.twinmint.fingerprint.capture_hash
    );
    // The surveyor is shown (metadata, report), not hashed: the capture metadata has none.
    assert_eq!(
        meta.twinmint.surveyor.name.as_deref(),
        Some("J. Doe, PLS 1234")
    );
    assert_eq!(meta.twinmint.surveyor.address, Some(surveyor()));
    assert!(
        !serde_json::to_string(&meta.twinmint.capture)
            .unwrap()
            .contains("surveyor")
    );
    assert_eq!(fp.schema_version, 3);
    assert_eq!(
        fp.covers.reconstruction_hash.files,
        ["reconstruction.json", "simulation.json"]
    );
    assert!(
        fp.covers
            .capture_hash
            .excludes
            .iter()
            .any(|e| e.contains("surveyor"))
    );
    for name in [
        "manifest.json",
        "cloud.laz",
        "reconstruction.json",
        "simulation.json",
        "model.glb",
    ] {
        assert!(meta.twinmint.project.contains_key(name), "{name}");
    }
    assert_eq!(meta.twinmint.files.len(), 4);

    // The thumbnail is a 512×512 PNG with content.
    let img = image::load_from_memory(&std::fs::read(pkg.join("thumbnail.png")).unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(img.dimensions(), (512, 512));
    let opaque = img.pixels().filter(|p| p[3] == 255).count();
    assert!(opaque > 512 * 512 / 2, "{opaque} opaque pixels");

    // The report is self-contained and has every section.
    let html = std::fs::read_to_string(pkg.join("report.html")).unwrap();
    for needle in [
        "<h2>Provenance</h2>",
        "<h2>Reconstruction</h2>",
        "<h2>Carbon stock and credits</h2>",
        "<h2>Valuation and collateral</h2>",
        "<h2>Fingerprint</h2>",
        "<h2>Content identifiers</h2>",
        "<h2>Chain record</h2>",
        "Liquidation line",
        "J. Doe, PLS 1234",
        "Reconstructed by",
        "data:image/png;base64,",
        &built.fingerprint,
        &cids.files["model.glb"].cid.to_string(),
    ] {
        assert!(html.contains(needle), "report lacks {needle}");
    }
    let lower = html.to_ascii_lowercase();
    for banned in ["<script", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!lower.contains(banned), "report references {banned}");
    }
    // The bands table has a row every five years: 2024, 2029, 2034.
    for y in ["<td>2024</td>", "<td>2029</td>", "<td>2034</td>"] {
        assert!(html.contains(y), "{y}");
    }
    // The year-0 inventory: totals per hectare as in simulation.json, and the equations used.
    let sim: growth_model::Simulation =
        serde_json::from_slice(&std::fs::read(project.join("simulation.json")).unwrap()).unwrap();
    let inv = sim.inventory.expect("schema 2 simulation has an inventory");
    let t = &inv.totals;
    assert!(t.agb_t_per_ha > 0.0 && t.co2e_t_per_ha > t.agb_t_per_ha);
    for needle in [
        "<h2>Inventory at survey (year 0)</h2>".to_string(),
        format!("{:.1} t/ha ({:.1} t, SD", t.agb_t_per_ha, t.agb_t),
        format!("<strong>{:.1} t CO2e/ha</strong>", t.co2e_t_per_ha),
        format!("default {}", t.group_sources.default),
        "Jenkins et al. 2003: mixed_hardwood".to_string(),
        "Forest Science 49(1):12-35".to_string(),
    ] {
        assert!(html.contains(&needle), "report lacks {needle}");
    }

    // report.pdf: the same report as a PDF, with its text, map and chart on rendered pages.
    let Some(pdf) = test_support::render_pdf(&pkg.join("report.pdf"), 40) else {
        return;
    };
    for needle in [
        "Asset",
        "Stand map",
        "Projected stand stock",
        "Collateral",
        "liquidation line",
        "Verification",
        "J. Doe, PLS 1234",
        built.fingerprint.as_str(),
        cids.files["model.glb"].sha256.as_str(),
    ] {
        assert!(
            pdf.text.contains(needle),
            "report.pdf lacks {needle:?}:\n{}",
            pdf.text
        );
    }
    // Crowns drawn in green shades, the projection band in light blue.
    let greenish = (0..pdf.pages.len())
        .map(|k| {
            pdf.pages[k]
                .2
                .chunks_exact(3)
                .filter(|p| p[1] as i32 > p[0] as i32 + 30 && p[1] as i32 > p[2] as i32 + 30)
                .count()
        })
        .max()
        .unwrap();
    assert!(
        greenish > 200,
        "no crowns on the map ({greenish} green pixels)"
    );
    assert!(
        (0..pdf.pages.len()).any(|k| pdf.pixels_near(k, [199, 222, 247]) > 1000),
        "no projection band"
    );
}

#[test]
fn rebuilding_gives_the_same_bytes_and_the_surveyor_does_not_change_the_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "det", 3, false);
    let a = package::build(&project, &options()).unwrap();
    let b = package::build(&project, &options()).unwrap();
    assert_eq!(a, b, "a rebuild must reproduce every CID");
    // Without simulation.json the report says how to get one and metadata has no carbon.
    let html = std::fs::read_to_string(project.join("package/report.html")).unwrap();
    assert!(html.contains("twinmint simulate"));
    let meta = std::fs::read_to_string(project.join("package/metadata.json")).unwrap();
    assert!(!meta.contains("Carbon stock"));
    let fa: ProjectFingerprint = ProjectFingerprint::read(&project).unwrap();

    // Another surveyor (name, no address): the same fingerprint — the surveyor is attested
    // on chain, not hashed —, but a different package, because the package shows them.
    let other = PackageOptions {
        surveyor_address: None,
        surveyor_name: Some("Someone Else".into()),
        ..Default::default()
    };
    let c = package::build(&project, &other).unwrap();
    assert_eq!(c.fingerprint, a.fingerprint);
    assert_ne!(c.directory, a.directory, "the package shows the surveyor");
    let html = std::fs::read_to_string(project.join("package/report.html")).unwrap();
    assert!(html.contains("Someone Else"));
    let fc: ProjectFingerprint = ProjectFingerprint::read(&project).unwrap();
    assert_eq!(fc, fa);
    // Recomputed from the project alone: the same fingerprint.
    let fb = package::compute_project_fingerprint(
        &project,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    assert_eq!(fb, fa);
    assert_eq!(fb.model_0x, a.fingerprint);
    assert_eq!(fb.inputs.len(), 3);
}

#[test]
fn missing_inputs_name_the_step_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "bare", 5, false);
    std::fs::remove_file(project.join("model.glb")).unwrap();
    let msg = package::build(&project, &options())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("model.glb") && msg.contains("twinmint reconstruct"),
        "{msg}"
    );
    assert!(!project.join("package").exists());
    std::fs::write(project.join("model.glb"), package_support::minimal_glb()).unwrap();
    std::fs::remove_file(project.join("reconstruction.json")).unwrap();
    let msg = package::build(&project, &options())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("reconstruction.json") && msg.contains("twinmint reconstruct"),
        "{msg}"
    );
    let bad_url = PackageOptions {
        external_url: Some("javascript:alert(1)".into()),
        ..Default::default()
    };
    let msg = package::build(&project, &bad_url).unwrap_err().to_string();
    assert!(msg.contains("external_url"), "{msg}");
    assert!(!project.join(CIDS_JSON).exists());
}

/// Issue 12: a reconstruct cut short leaves a new `model.glb` beside the old
/// `reconstruction.json`; the hashes the run recorded in `run.outputs` make `package` refuse the
/// mix, naming the file and the step to run, and write nothing.
#[test]
fn a_model_from_another_reconstruct_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "mixed", 6, false);
    let rp = project.join("reconstruction.json");
    let mut rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&rp).unwrap()).unwrap();
    let (sha, _) = capture::hash::sha256_file(&project.join("model.glb")).unwrap();
    rec["run"]["outputs"] = serde_json::json!({ "model.glb": sha });
    std::fs::write(&rp, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    // The recorded model: packages.
    package::build(&project, &options()).unwrap();
    std::fs::remove_dir_all(project.join("package")).unwrap();
    // A different model (another run's): refused, nothing written.
    let mut glb = package_support::minimal_glb();
    glb.extend([b' '; 4]);
    let n = glb.len() as u32;
    glb[8..12].copy_from_slice(&n.to_le_bytes());
    let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) + 4;
    glb[12..16].copy_from_slice(&json_len.to_le_bytes());
    std::fs::write(project.join("model.glb"), &glb).unwrap();
    let msg = package::build(&project, &options())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("model.glb") && msg.contains("twinmint reconstruct"),
        "{msg}"
    );
    assert!(!project.join("package").exists());
}

#[test]
fn chain_record_goes_into_the_report_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "minted", 4, false);
    let before = package::build(&project, &options()).unwrap();
    let mut record =
        mint::chain::ChainRecord::new("anvil", 31337, mint::chain::Address::repeat_byte(0x5f));
    record.token_id = Some(7);
    record.fingerprint = Some(before.fingerprint.parse().unwrap());
    record.push_tx("mint", mint::chain::TxHash::repeat_byte(0xab), Some(12));
    record.write(&project.join("chain.json")).unwrap();
    // A minted project rebuilds to the minted CIDs.
    assert_eq!(package::build(&project, &options()).unwrap(), before);
    let html = std::fs::read_to_string(project.join("package/report.html")).unwrap();
    assert!(!html.contains("<th>Token</th>"));
    // The credit-file copy names the token, and so has other CIDs.
    let with = PackageOptions {
        chain_record: true,
        ..options()
    };
    let after = package::build(&project, &with).unwrap();
    assert_ne!(after.directory, before.directory);
    assert_eq!(after.fingerprint, before.fingerprint);
    let html = std::fs::read_to_string(project.join("package/report.html")).unwrap();
    assert!(html.contains("<th>Token</th><td>#7</td>") && html.contains("(block 12)"));
    assert!(html.contains(&mint::chain::Address::repeat_byte(0x5f).to_checksum(None)));
}

/// The fingerprint's read of `cloud.laz` decodes positions and colour only (the other LAZ
/// layers are skipped), and fingerprints exactly as the cloud read whole: the cloud root and
/// the capture metadata cover nothing else.
#[test]
fn the_fingerprint_reads_only_what_it_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let project = synth_project(dir.path(), "lean", 5, false);
    let manifest = capture::project::open(&project).unwrap();
    let lean = package::project::read_cloud(
        &project,
        &manifest,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    let mut whole = capture::read(
        &project.join(capture::project::CLOUD),
        &capture::ReadOptions::default(),
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    whole.provenance.sources = manifest.sources.clone();
    // The whole read has the attributes the lean one skipped.
    assert!(whole.gps_time.is_some() && whole.classification.is_some());
    assert!(!whole.extra.is_empty());
    assert!(lean.gps_time.is_none() && lean.classification.is_none() && lean.intensity.is_none());
    assert!(lean.extra.is_empty());
    assert_eq!(lean.positions, whole.positions);
    let opts = mint::fingerprint::FingerprintOptions::default();
    let (a, _) = mint::fingerprint::cloud_fingerprint(&lean, &opts).unwrap();
    let (b, _) = mint::fingerprint::cloud_fingerprint(&whole, &opts).unwrap();
    assert_eq!(a.root, b.root);
    assert_eq!(
        mint::fingerprint::CaptureMetadata::from_cloud(&lean).unwrap(),
        mint::fingerprint::CaptureMetadata::from_cloud(&whole).unwrap()
    );
}
