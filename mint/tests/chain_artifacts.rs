//! The committed contract artifacts are exactly what the pinned solc makes of the committed
//! Solidity sources (issue 5): `node mint/contracts/build.mjs --check` recompiles in memory and
//! fails naming any artifact that differs. The Rust bindings are generated from that artifact,
//! so this also guards the client against a stale ABI.
//!
//! Needs Node.js and the pinned npm packages: `npm ci --prefix mint/contracts` (CI runs it).

use std::path::PathBuf;
use std::process::Command;

fn contracts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contracts")
}

#[test]
fn chain_artifacts_match_sources() {
    let dir = contracts_dir();
    assert!(
        dir.join("node_modules/solc/package.json").exists()
            && dir
                .join("node_modules/@openzeppelin/contracts/package.json")
                .exists(),
        "solc and OpenZeppelin are not installed in {}: run `npm ci --prefix mint/contracts` \
         (from the repository root) first",
        dir.display()
    );
    let out = Command::new("node")
        .arg(dir.join("build.mjs"))
        .arg("--check")
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `node` (Node.js ≥ 20 is needed): {e}"));
    assert!(
        out.status.success(),
        "contract artifacts are stale or the build failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn chain_artifact_is_what_the_bindings_embed() {
    let on_disk =
        std::fs::read_to_string(contracts_dir().join("artifacts/TwinMintNFR.json")).unwrap();
    assert_eq!(on_disk, mint::chain::ARTIFACT_JSON);
    let v: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
    assert_eq!(v["compiler"]["settings"]["evmVersion"], "cancun");
    assert!(
        v["compiler"]["solc"]
            .as_str()
            .unwrap()
            .starts_with("0.8.37+")
    );
    // The runtime code must stay deployable on mainnet-like chains (EIP-170: 24 576 bytes).
    let runtime = v["deployedBytecode"].as_str().unwrap();
    assert!((runtime.len() - 2) / 2 < 24_576, "runtime code too large");
}
