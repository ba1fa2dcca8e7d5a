//! Our locally computed IPFS CIDs against the npm `ipfs-unixfs-importer` (issue 5): an empty
//! file, a 3-byte file, a 5 MiB file and a folder with nested files, with TwinMint's profile —
//! and, with tiny chunks, multi-level balanced layouts that would otherwise need 175+ MiB.
//!
//! Needs Node.js and the pinned npm packages: `npm ci --prefix mint/js` (CI runs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use mint::cid::{self, ImportOptions};
use rand::{RngCore, SeedableRng};

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// The importer's answer for `paths`, as parsed JSON.
fn importer(args: &[&str], paths: &[&Path]) -> Vec<serde_json::Value> {
    let js = js_dir();
    assert!(
        js.join("node_modules/ipfs-unixfs-importer/package.json")
            .exists(),
        "the npm reference importer is not installed in {}: run `npm ci --prefix mint/js` \
         (from the repository root) first",
        js.display()
    );
    let out = Command::new("node")
        .arg(js.join("cids.mjs"))
        .args(args)
        .args(paths)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` (Node.js ≥ 20 is needed for this test): {e}")
        });
    assert!(
        out.status.success(),
        "node cids.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("cids.mjs printed no JSON array ({e})"))
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

/// A package-like folder: nested folders, an empty folder, a multi-chunk file, names whose
/// byte order differs from a case-insensitive or UTF-16 order.
fn make_folder(root: &Path) {
    let w = |rel: &str, bytes: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    w(
        "metadata.json",
        br#"{"name":"Forest A","animation_url":"ipfs://..."}"#,
    );
    w("model.glb", &random_bytes(2 * 1024 * 1024 + 12_345, 2));
    w("thumbnail.png", &random_bytes(70_000, 3));
    w(
        "Report.html",
        b"<html><body>collateral report</body></html>\n",
    );
    w("report/appendix.txt", b"appendix\n");
    w("report/deeper/notes.txt", b"");
    w("r\u{e9}sum\u{e9}.txt", "é".as_bytes());
    w(
        "\u{1f332}tree.txt",
        b"emoji name sorts after U+E000 in UTF-8 bytes",
    );
    w("\u{e000}private.txt", b"private use area");
    std::fs::create_dir_all(root.join("empty")).unwrap();
}

/// Compare one importer result with ours.
fn check(js: &serde_json::Value, options: &ImportOptions) {
    let path = PathBuf::from(js["path"].as_str().unwrap());
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    if path.is_dir() {
        let ours = cid::import_dir(&path, options).unwrap();
        assert_eq!(ours.root.cid.to_string(), js["cid"], "{}", path.display());
        assert_eq!(ours.root.dag_size, js["size"], "{} size", path.display());
        let entries = js["entries"].as_array().unwrap();
        assert!(entries.len() > 3);
        for e in entries {
            let p = e["path"].as_str().unwrap();
            if p == name {
                continue;
            }
            let rel = p.strip_prefix(&format!("{name}/")).unwrap();
            let mine = ours
                .entries
                .iter()
                .find(|m| m.path == rel)
                .unwrap_or_else(|| panic!("importer lists {rel}, we do not"));
            assert_eq!(mine.imported.cid.to_string(), e["cid"], "{rel}");
            assert_eq!(mine.imported.dag_size, e["size"], "{rel} size");
        }
    } else {
        let ours = cid::import_file(&path, options).unwrap();
        assert_eq!(ours.cid.to_string(), js["cid"], "{}", path.display());
        assert_eq!(ours.dag_size, js["size"], "{} size", path.display());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(cid::import_bytes(&bytes, options).unwrap(), ours);
    }
}

#[test]
fn cids_equal_the_npm_importer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("empty.bin");
    let three = d.join("three.bin");
    let five = d.join("five-mib.bin");
    let folder = d.join("package");
    std::fs::write(&empty, b"").unwrap();
    std::fs::write(&three, b"abc").unwrap();
    std::fs::write(&five, random_bytes(5 * 1024 * 1024, 1)).unwrap();
    make_folder(&folder);

    let results = importer(&[], &[&empty, &three, &five, &folder]);
    assert_eq!(results.len(), 4);
    let o = ImportOptions::default();
    for r in &results {
        check(r, &o);
    }
    // Shapes, for the record: raw leaves for small files, dag-pb above 1 MiB and for folders.
    assert!(results[0]["cid"].as_str().unwrap().starts_with("bafkrei"));
    assert!(results[1]["cid"].as_str().unwrap().starts_with("bafkrei"));
    assert!(results[2]["cid"].as_str().unwrap().starts_with("bafybei"));
    assert_eq!(
        cid::import_file(&empty, &o).unwrap().cid.to_string(),
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    );
}

#[test]
fn multi_level_layouts_equal_the_npm_importer() {
    // 1 KiB chunks: 174 chunks fill one node exactly, 175 need a second level whose right
    // node has a single child, 200 KB spans two; with 3 links per node, many levels.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut paths = Vec::new();
    for (name, len) in [
        ("one-chunk.bin", 1024),
        ("two-chunks.bin", 1025),
        ("174-chunks.bin", 174 * 1024),
        ("175-chunks.bin", 174 * 1024 + 1),
        ("200k.bin", 200_000),
    ] {
        let p = d.join(name);
        std::fs::write(&p, random_bytes(len, len as u64)).unwrap();
        paths.push(p);
    }
    let folder = d.join("package");
    make_folder(&folder);
    paths.push(folder);
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    for (chunk, children) in [(1024usize, 174usize), (1024, 3)] {
        let args = [
            "--chunk-size".to_string(),
            chunk.to_string(),
            "--max-children".to_string(),
            children.to_string(),
        ];
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let o = ImportOptions {
            chunk_size: chunk,
            max_children: children,
        };
        for r in importer(&args, &refs) {
            check(&r, &o);
        }
    }
}
