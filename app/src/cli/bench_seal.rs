//! `twinmint bench seal`: sealing a packaged 1 M-point project (AES-256-GCM STREAM + ECIES per
//! reader), the lender's authenticate-and-decrypt, and a grant, against SHA-256 of the same
//! bytes measured in the same run (the anchor: what `verify` without a key already reads).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use capture::CancelToken;
use mint::chain::Wallet;
use mint::seal::{self, ReaderCard, Role};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct SealReport {
    pub points: u64,
    pub plaintext_bytes: u64,
    pub sealed_bytes: u64,
    pub seal_seconds: f64,
    pub open_seconds: f64,
    pub grant_seconds: f64,
    pub sha256_seconds: f64,
    pub release_build: bool,
}

/// Anvil's public dev keys: a bench key, not a secret.
const KEYS: [&str; 2] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
];

pub fn measure(points: u64, cancel: &CancelToken) -> anyhow::Result<SealReport> {
    let tile = super::bench_tile::tile_or_simulated(None, "twinmint-bench-seal", points, 100.0)?;
    let work = tempfile::Builder::new()
        .prefix("twinmint-bench-seal")
        .tempdir()
        .context("creating the bench's project folder")?;
    let dir: PathBuf = work.path().join("tile.twinmint");
    super::bench_pipeline::run_stages(&tile, &dir, 100, &mut Vec::new(), cancel)?;
    let owner = Wallet::from_private_key(KEYS[0])?;
    let lender = Wallet::from_private_key(KEYS[1])?;
    let t = Instant::now();
    let sealed = seal::seal(&seal::SealRequest {
        project: &dir,
        readers: vec![(ReaderCard::from_wallet(&owner)?, Role::Owner)],
        regulators: Vec::new(),
    })?;
    let seal_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    seal::grant(
        &dir,
        &owner.secret_key()?,
        &[(ReaderCard::from_wallet(&lender)?, Role::Lender)],
    )?;
    let grant_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    seal::open(
        &sealed.dir,
        &lender.secret_key()?,
        &work.path().join("opened"),
    )?;
    let open_seconds = t.elapsed().as_secs_f64();
    let sealed_bytes: u64 = sealed.cids.files.values().map(|f| f.bytes).sum();
    let t = Instant::now();
    for f in std::fs::read_dir(work.path().join("opened"))? {
        let p = f?.path();
        if p.is_file() {
            capture::hash::sha256_file(&p)?;
        }
    }
    let sha256_seconds = t.elapsed().as_secs_f64();
    Ok(SealReport {
        points,
        plaintext_bytes: sealed.plaintext_bytes,
        sealed_bytes,
        seal_seconds,
        open_seconds,
        grant_seconds,
        sha256_seconds,
        release_build: !cfg!(debug_assertions),
    })
}

pub fn print(r: &SealReport) {
    let mb = r.plaintext_bytes as f64 / 1e6;
    let rate = |s: f64| mb / s.max(1e-9);
    println!("| step | seconds | MB/s | vs SHA-256 |");
    println!("|---|---|---|---|");
    println!(
        "| SHA-256 of the plaintext (anchor) | {:.3} | {:.0} | 1.00× |",
        r.sha256_seconds,
        rate(r.sha256_seconds)
    );
    for (name, s) in [
        ("seal (encrypt + CIDs)", r.seal_seconds),
        ("open (authenticate + decrypt)", r.open_seconds),
    ] {
        println!(
            "| {name} | {s:.3} | {:.0} | {:.2}× |",
            rate(s),
            r.sha256_seconds / s.max(1e-9)
        );
    }
    println!("| grant (re-wrap, new CIDs) | {:.3} | | |", r.grant_seconds);
    println!(
        "{} points: {:.1} MB sealed into {:.1} MB{}",
        r.points,
        mb,
        r.sealed_bytes as f64 / 1e6,
        if r.release_build {
            ""
        } else {
            " (debug build: use --release)"
        }
    );
}
