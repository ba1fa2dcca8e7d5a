//! `mint::verify` on a synthetic project: a clean package verifies; one changed byte in any
//! package file is named with its expected and actual hash and CID; a changed cloud, manifest
//! source or reconstruction is named as the fingerprint part it changes; chain reads that
//! disagree are named; and a package served over HTTP (as from an IPFS gateway) verifies too.

mod package_support;

use std::path::Path;

use mint::chain::{Address, B256};
use mint::package::{self, PackageOptions};
use mint::verify::{ChainReads, PackageSource, Status, VerifyReport, verify};
use package_support::{flip_byte, synth_project};

fn build(dir: &Path, name: &str) -> (std::path::PathBuf, package::PackageManifest) {
    let project = synth_project(dir, name, 11, false);
    let opts = PackageOptions {
        surveyor_name: Some("Survey Co.".into()),
        ..Default::default()
    };
    let m = package::build(&project, &opts).unwrap();
    (project, m)
}

fn local(project: &Path) -> PackageSource {
    PackageSource::Dir(project.join("package"))
}

fn diff_whats(r: &VerifyReport, subject: &str) -> Vec<String> {
    r.differences()
        .filter(|c| c.subject == subject)
        .map(|c| c.what.clone())
        .collect()
}

/// Issue 12: a project file that is not the one the reconstruct run recorded (an interrupted
/// run's raster) is named by `verify --project`.
#[test]
fn a_raster_from_another_reconstruct_run_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (project, _) = build(dir.path(), "o");
    std::fs::write(project.join("dtm.tif"), b"the old run's DTM").unwrap();
    let rp = project.join("reconstruction.json");
    let mut rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&rp).unwrap()).unwrap();
    let (sha, _) = capture::hash::sha256_file(&project.join("dtm.tif")).unwrap();
    rec["run"]["outputs"] = serde_json::json!({ "dtm.tif": sha });
    std::fs::write(&rp, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    let r = verify(&local(&project), Some(&project), None);
    assert!(!r.names("dtm.tif"), "{r}");
    std::fs::write(project.join("dtm.tif"), b"a newer, interrupted run's DTM").unwrap();
    let r = verify(&local(&project), Some(&project), None);
    assert!(!r.ok() && r.names("dtm.tif"), "{r}");
}

#[test]
fn clean_package_verifies_and_each_tampered_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (project, built) = build(dir.path(), "v");
    let r = verify(&local(&project), Some(&project), None);
    assert!(r.ok(), "{r}");
    assert_eq!(r.fingerprint.as_deref(), Some(built.fingerprint.as_str()));
    assert!(r.checks.len() > 20, "{}", r.checks.len());
    assert!(r.to_string().contains("nothing differs"), "{r}");

    for name in ["report.html", "thumbnail.png", "model.glb", "metadata.json"] {
        let p = project.join("package").join(name);
        let original = std::fs::read(&p).unwrap();
        flip_byte(&p, (original.len() / 2) as isize);
        let r = verify(&local(&project), Some(&project), None);
        assert!(!r.ok(), "{name}: {r}");
        assert!(r.names(name), "{name} not named:\n{r}");
        let whats = diff_whats(&r, name);
        assert!(
            whats.iter().any(|w| w.starts_with("sha256"))
                && whats.iter().any(|w| w.starts_with("cid")),
            "{name}: {whats:?}"
        );
        // Expected and actual SHA-256 are both printed.
        let text = r.to_string();
        assert!(text.contains(&built.files[name].sha256), "{text}");
        assert!(
            text.contains("DIFF  cids.json: directory CID differs"),
            "{text}"
        );
        std::fs::write(&p, original).unwrap();
    }
    assert!(verify(&local(&project), Some(&project), None).ok());

    // A deleted file is reported missing; a stray file is only a note.
    std::fs::write(project.join("package/notes.txt"), b"hello").unwrap();
    let r = verify(&local(&project), None, None);
    assert!(r.ok(), "{r}");
    assert!(r.to_string().contains("notes.txt"), "{r}");
    std::fs::remove_file(project.join("package/report.html")).unwrap();
    let r = verify(&local(&project), None, None);
    assert!(r.names("report.html"), "{r}");
    assert!(
        r.differences()
            .any(|c| c.subject == "report.html" && c.status == Status::Missing)
    );
}

#[test]
fn changed_cloud_manifest_or_reconstruction_is_named_as_its_fingerprint_part() {
    let dir = tempfile::tempdir().unwrap();
    let (project, _) = build(dir.path(), "fp");

    // One point raised by 5 cm, the cloud rewritten: cloud root (and the manifest hash of
    // cloud.laz) differ.
    let cloud_path = project.join("cloud.laz");
    let original_cloud = std::fs::read(&cloud_path).unwrap();
    let mut cloud = capture::read(
        &cloud_path,
        &capture::ReadOptions::default(),
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    // A point strictly inside the bounds, so only the cloud root changes.
    let b = cloud.bounds();
    let i = (0..cloud.len())
        .find(|&i| {
            let p = cloud.absolute(i);
            p[2] > b.min[2] + 1.0 && p[2] < b.max[2] - 1.0
        })
        .unwrap();
    cloud.positions[i][2] += 0.05;
    capture::write(
        &cloud,
        &cloud_path,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    )
    .unwrap();
    let r = verify(&local(&project), Some(&project), None);
    assert!(!r.ok());
    let whats = diff_whats(&r, "fingerprint");
    assert!(whats.iter().any(|w| w.starts_with("cloud root")), "{r}");
    assert!(whats.iter().any(|w| w == "model fingerprint"), "{r}");
    assert!(
        !whats.iter().any(|w| w.starts_with("reconstruction hash")),
        "{r}"
    );
    assert!(!whats.iter().any(|w| w.starts_with("capture hash")), "{r}");
    assert!(r.names("cloud.laz"), "{r}");
    // The package itself is untouched.
    for f in ["report.html", "thumbnail.png", "model.glb", "metadata.json"] {
        assert!(!r.names(f), "{f}: {r}");
    }
    std::fs::write(&cloud_path, &original_cloud).unwrap();
    assert!(verify(&local(&project), Some(&project), None).ok());

    // A manifest source hash edited: the capture hash differs and says which field.
    let mpath = project.join("manifest.json");
    let original_manifest = std::fs::read(&mpath).unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&original_manifest).unwrap();
    m["sources"][0]["sha256"] = serde_json::Value::String("00".repeat(32));
    std::fs::write(&mpath, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let r = verify(&local(&project), Some(&project), None);
    let whats = diff_whats(&r, "fingerprint");
    assert!(
        whats.iter().any(|w| w == "capture hash (changed: sources)"),
        "{whats:?}\n{r}"
    );
    assert!(!whats.iter().any(|w| w.starts_with("cloud root")), "{r}");
    assert!(r.names("manifest.json"), "{r}");
    std::fs::write(&mpath, &original_manifest).unwrap();

    // reconstruction.json edited (one tree taller): the reconstruction hash differs.
    let rpath = project.join("reconstruction.json");
    let mut rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rpath).unwrap()).unwrap();
    let h = rec["trees"][0]["height_m"].as_f64().unwrap();
    rec["trees"][0]["height_m"] = serde_json::json!(h + 1.0);
    std::fs::write(&rpath, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    let r = verify(&local(&project), Some(&project), None);
    let whats = diff_whats(&r, "fingerprint");
    assert!(
        whats.iter().any(|w| w.starts_with("reconstruction hash")),
        "{r}"
    );
    assert!(r.names("reconstruction.json"), "{r}");
}

/// The cloud root the package recorded (what the chain's scan root must be).
fn scan_root_of(project: &std::path::Path) -> B256 {
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(project.join("package").join("metadata.json")).unwrap(),
    )
    .unwrap();
    let hex = meta["twinmint"]["fingerprint"]["cloud_root"]
        .as_str()
        .unwrap();
    format!("0x{}", hex.trim_start_matches("0x"))
        .parse()
        .unwrap()
}

#[test]
fn chain_reads_are_compared() {
    let dir = tempfile::tempdir().unwrap();
    let (project, built) = build(dir.path(), "chain");
    let ours: B256 = built.fingerprint.parse().unwrap();
    let mut reads = ChainReads {
        chain_id: 31337,
        contract: Address::repeat_byte(7),
        token_id: 1,
        fingerprint: ours,
        history: vec![ours],
        token_uri: built.token_uri.clone(),
        owner: Address::repeat_byte(9),
        scan_root: scan_root_of(&project),
        footprint: mint::chain::FootprintInfo {
            root: B256::repeat_byte(0x66),
            expected: 4,
            claimed: 4,
        },
        surveys: Vec::new(),
    };
    let r = verify(&local(&project), Some(&project), Some(&reads));
    assert!(r.ok(), "{r}");

    // Another scan on chain than the one packaged: named.
    let mut other_scan = reads.clone();
    other_scan.scan_root = B256::repeat_byte(0x55);
    let r = verify(&local(&project), Some(&project), Some(&other_scan));
    assert!(
        diff_whats(&r, "chain")
            .iter()
            .any(|w| w.contains("scan root vs the package")),
        "{r}"
    );
    // An incomplete footprint claim is a difference; a footprint.json in the project is
    // compared with the on-chain root.
    let mut partial = reads.clone();
    partial.footprint.claimed = 1;
    let r = verify(&local(&project), None, Some(&partial));
    assert!(
        diff_whats(&r, "chain")
            .iter()
            .any(|w| w.contains("land footprint")),
        "{r}"
    );
    let cells = [0x08c0_0000_0000_01ffu64, 0x08c0_0000_0000_03ff];
    let f = mint::footprint::Footprint::from_cells(
        cells,
        mint::footprint::FootprintSource::Coverage {
            grid_m: 2.0,
            min_points: 1,
            fill_holes_m2: 0.0,
        },
    )
    .unwrap();
    f.write(&project.join(mint::footprint::FOOTPRINT_JSON))
        .unwrap();
    let r = verify(&local(&project), Some(&project), Some(&reads));
    assert!(
        diff_whats(&r, "chain")
            .iter()
            .any(|w| w.contains("root vs footprint.json")),
        "{r}"
    );
    let mut matching = reads.clone();
    matching.footprint.root = mint::chain::footprint_root(&f.cells);
    matching.footprint.expected = f.cells.len() as u32;
    matching.footprint.claimed = f.cells.len() as u32;
    let r = verify(&local(&project), Some(&project), Some(&matching));
    assert!(r.ok(), "{r}");
    std::fs::remove_file(project.join(mint::footprint::FOOTPRINT_JSON)).unwrap();
    assert_eq!(
        r.chain.as_deref(),
        Some(&*format!("31337:{}#1", Address::repeat_byte(7)))
    );

    // A resurvey superseded the package.
    let newer = B256::repeat_byte(0x42);
    reads.history.push(newer);
    reads.fingerprint = newer;
    let r = verify(&local(&project), None, Some(&reads));
    assert!(r.names("chain"), "{r}");
    assert!(r.to_string().contains("survey 1 of 2"), "{r}");

    // A token with another fingerprint and URI.
    reads.history = vec![newer];
    reads.token_uri = "ipfs://bafyother/metadata.json".into();
    let r = verify(&local(&project), None, Some(&reads));
    let whats = diff_whats(&r, "chain");
    assert!(
        whats
            .iter()
            .any(|w| w.contains("not in the token's history")),
        "{r}"
    );
    assert!(whats.iter().any(|w| w == "token 1 URI"), "{r}");
}

/// Serve `root` at `http://127.0.0.1:PORT/ipfs/<cid>/NAME` (only the content files, as a
/// gateway serves the pinned folder), answering at most `max_requests` requests.
fn serve(
    root: std::path::PathBuf,
    cid: String,
    max_requests: usize,
) -> (String, std::thread::JoinHandle<()>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let base = format!("http://127.0.0.1:{port}/ipfs/{cid}");
    let prefix = format!("/ipfs/{cid}/");
    let handle = std::thread::spawn(move || {
        for _ in 0..max_requests {
            let Ok(Some(req)) = server.recv_timeout(std::time::Duration::from_secs(10)) else {
                return;
            };
            let name = req.url().strip_prefix(&prefix).unwrap_or("").to_string();
            let path = root.join(&name);
            let served = package::CONTENT_FILES.contains(&name.as_str()) && path.is_file();
            if served {
                let _ = req.respond(tiny_http::Response::from_data(std::fs::read(path).unwrap()));
            } else {
                let _ = req.respond(tiny_http::Response::empty(404));
            }
        }
    });
    (base, handle)
}

#[test]
fn package_behind_a_gateway_verifies_and_names_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let (project, built) = build(dir.path(), "gw");
    let pkg = project.join("package");
    let (base, h) = serve(pkg.clone(), built.directory.to_string(), 6);
    let r = verify(&PackageSource::parse(&base), None, None);
    h.join().unwrap();
    assert!(r.ok(), "{r}");
    assert!(
        r.checks
            .iter()
            .any(|c| c.what == "directory CID (gateway URL)" && c.status == Status::Ok)
    );
    assert!(r.to_string().contains("cids.json file: not served"), "{r}");

    flip_byte(&pkg.join("thumbnail.png"), -5);
    let (base, h) = serve(pkg.clone(), built.directory.to_string(), 6);
    let r = verify(&PackageSource::parse(&base), None, None);
    h.join().unwrap();
    assert!(r.names("thumbnail.png"), "{r}");
    assert!(r.names("package"), "{r}");
}
