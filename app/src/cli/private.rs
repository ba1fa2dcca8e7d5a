//! Private by default: reader keys, sealed packages, grants, and selective-disclosure proofs
//! (`reader-key`, `seal`, `grant`, `open-sealed`, `prove`, `verify-proof`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use mint::chain::{B256, Chain, ChainRecord, block_on};
use mint::disclosure::{self, ChunkAt};
use mint::seal::{self, ReaderCard, Role};

use super::Ctx;
use super::chain::{ChainArgs, WalletArgs};

#[derive(Args, Debug)]
pub struct ReaderKeyArgs {
    /// Where to write the card (address + signature from which the public key is recovered).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    wallet: WalletArgs,
}

/// `twinmint reader-key`: a reader card of the wallet's key.
pub fn reader_key(a: ReaderKeyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let w = a.wallet.load("reader")?;
    let card = ReaderCard::from_wallet(&w)?;
    card.write(&a.output)?;
    if !ctx.quiet {
        println!(
            "wrote {} (reader {}): give it to whoever seals a package for you",
            a.output.display(),
            card.address
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct SealArgs {
    /// A packaged project (`twinmint package` first).
    project: PathBuf,
    /// The owner's reader card (always a reader).
    #[arg(long, value_name = "CARD")]
    owner: PathBuf,
    /// A lender's reader card (repeatable).
    #[arg(long, value_name = "CARD")]
    lender: Vec<PathBuf>,
    /// Another reader's card (repeatable).
    #[arg(long, value_name = "CARD")]
    reader: Vec<PathBuf>,
    /// A regulator's card: the carbon view only (repeatable).
    #[arg(long, value_name = "CARD")]
    regulator: Vec<PathBuf>,
}

fn cards(paths: &[PathBuf], role: Role) -> anyhow::Result<Vec<(ReaderCard, Role)>> {
    paths
        .iter()
        .map(|p| Ok((ReaderCard::read(p)?, role)))
        .collect()
}

/// `twinmint seal`.
pub fn seal_cmd(a: SealArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let mut readers = cards(std::slice::from_ref(&a.owner), Role::Owner)?;
    readers.extend(cards(&a.lender, Role::Lender)?);
    readers.extend(cards(&a.reader, Role::Reader)?);
    let regulators = cards(&a.regulator, Role::Regulator)?
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let t = Instant::now();
    let s = seal::seal(&seal::SealRequest {
        project: &a.project,
        readers,
        regulators,
    })?;
    let secs = t.elapsed().as_secs_f64();
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "sealed": s.dir, "cids": s.cids, "plaintext_bytes": s.plaintext_bytes, "seconds": secs,
            }))?
        );
    } else if !ctx.quiet {
        println!(
            "sealed {} ({:.1} MB in {secs:.2} s, {:.0} MB/s)\ntoken URI: {}",
            s.dir.display(),
            s.plaintext_bytes as f64 / 1e6,
            s.plaintext_bytes as f64 / 1e6 / secs.max(1e-9),
            s.cids.token_uri
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct GrantArgs {
    /// A project with a sealed package.
    project: PathBuf,
    /// Lender cards to add.
    #[arg(long, value_name = "CARD")]
    lender: Vec<PathBuf>,
    /// Reader cards to add.
    #[arg(long, value_name = "CARD")]
    reader: Vec<PathBuf>,
    /// Regulator cards to add (carbon view only).
    #[arg(long, value_name = "CARD")]
    regulator: Vec<PathBuf>,
    /// Record the new package version on chain for this token (`updateTokenURI`, owner).
    #[arg(long, value_name = "N")]
    token: Option<u64>,
    #[command(flatten)]
    chain: ChainArgs,
    /// The granter's key (a reader of the package, usually the owner; also sends the update).
    #[command(flatten)]
    wallet: WalletArgs,
}

/// `twinmint grant`.
pub fn grant_cmd(a: GrantArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let mut add = cards(&a.lender, Role::Lender)?;
    add.extend(cards(&a.reader, Role::Reader)?);
    add.extend(cards(&a.regulator, Role::Regulator)?);
    if add.is_empty() {
        bail!("name a --lender, --reader or --regulator card to grant");
    }
    let w = a.wallet.load("granter")?;
    let s = grant_and_record(&a.project, &w, &add, a.token, &a.chain)?;
    if !ctx.quiet {
        println!(
            "granted {} reader(s); new token URI {}",
            add.len(),
            s.cids.token_uri
        );
    }
    Ok(())
}

/// Re-wrap the content key for `add` and, with a token, record the new URI on chain (and in the
/// project's chain.json).
pub(crate) fn grant_and_record(
    project: &std::path::Path,
    w: &mint::chain::Wallet,
    add: &[(ReaderCard, Role)],
    token: Option<u64>,
    chain: &ChainArgs,
) -> anyhow::Result<seal::Sealed> {
    let secret = w.secret_key()?;
    let s = seal::grant(project, &secret, add)?;
    if let Some(token) = token {
        let cfg = chain.config(Some(project), true)?;
        let uri = s.cids.token_uri.clone();
        let hash = block_on(async {
            let c = Chain::connect(cfg, w.clone()).await?;
            let r = c.update_token_uri(token, uri).await?;
            Ok::<_, mint::chain::ChainError>(r.transaction_hash)
        })?;
        let path = project.join(mint::package::CHAIN_JSON);
        if let Ok(mut r) = ChainRecord::read(&path) {
            r.push_tx("updateTokenURI", hash, None);
            r.write(&path)?;
        }
    }
    Ok(s)
}

#[derive(Args, Debug)]
pub struct OpenSealedArgs {
    /// The sealed folder (PROJECT/sealed, or a copy of the pinned folder).
    sealed: PathBuf,
    /// New project folder to decrypt into (not for --carbon).
    #[arg(short, long, required_unless_present = "carbon")]
    output: Option<PathBuf>,
    /// Print the regulator's carbon view instead (any reader or regulator key).
    #[arg(long)]
    carbon: bool,
    #[command(flatten)]
    wallet: WalletArgs,
}

/// `twinmint open-sealed`.
pub fn open_sealed(a: OpenSealedArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let w = a.wallet.load("reader")?;
    let secret = w.secret_key()?;
    if a.carbon {
        let v = seal::open_carbon(&a.sealed, &secret)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let out = a.output.context("--output is required")?;
    let t = Instant::now();
    seal::open(&a.sealed, &secret, &out)?;
    if !ctx.quiet {
        println!(
            "opened {} into {} in {:.2} s",
            a.sealed.display(),
            out.display(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ProveArgs {
    /// A packaged project (its fingerprint.json names the fingerprint proven against).
    project: PathBuf,
    /// Disclose the tree with this id.
    #[arg(long, value_name = "ID", group = "what")]
    tree: Option<u64>,
    /// Disclose the stand's year-0 inventory (carbon total).
    #[arg(long, group = "what")]
    carbon: bool,
    /// Disclose cloud chunk N.
    #[arg(long, value_name = "N", group = "what")]
    chunk: Option<usize>,
    /// Disclose the cloud chunk holding the point nearest X,Y (CRS metres).
    #[arg(long, value_name = "X,Y", group = "what", value_parser = parse_xy)]
    at: Option<(f64, f64)>,
    #[arg(short, long)]
    output: PathBuf,
}

fn parse_xy(s: &str) -> Result<(f64, f64), String> {
    let (x, y) = s.split_once(',').ok_or("expected X,Y")?;
    let p = |v: &str| v.trim().parse::<f64>().map_err(|e| format!("{v:?}: {e}"));
    Ok((p(x)?, p(y)?))
}

/// `twinmint prove`.
pub fn prove(a: ProveArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let proof = match (a.tree, a.carbon, a.chunk, a.at) {
        (Some(id), ..) => disclosure::prove_tree(&a.project, id)?,
        (_, true, ..) => disclosure::prove_carbon(&a.project)?,
        (_, _, Some(n), _) => disclosure::prove_cloud_chunk(&a.project, ChunkAt::Index(n))?,
        (_, _, _, Some((x, y))) => disclosure::prove_cloud_chunk(&a.project, ChunkAt::Point(x, y))?,
        _ => bail!("say what to disclose: --tree ID, --carbon, --chunk N or --at X,Y"),
    };
    capture::atomic::write_json(&a.output, &proof)?;
    if !ctx.quiet {
        println!(
            "wrote {} (fingerprint {})",
            a.output.display(),
            proof.fingerprint.model_hex0x()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct VerifyProofArgs {
    proof: PathBuf,
    /// Check against this token's fingerprint on chain (--network / --rpc …).
    #[arg(long, value_name = "N", conflicts_with = "fingerprint")]
    token: Option<u64>,
    /// Check against this fingerprint (0x…), e.g. read from a block explorer.
    #[arg(long)]
    fingerprint: Option<B256>,
    #[command(flatten)]
    chain: ChainArgs,
}

/// `twinmint verify-proof`.
pub fn verify_proof(a: VerifyProofArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let proof = disclosure::read_proof(&a.proof)?;
    let trusted: Option<[u8; 32]> = match (a.token, a.fingerprint) {
        (Some(t), _) => {
            let cfg = a.chain.config(None, true)?;
            Some(
                block_on(async {
                    let c = Chain::connect_read_only(cfg).await?;
                    c.fingerprint_of(t).await
                })?
                .0,
            )
        }
        (None, Some(f)) => Some(f.0),
        (None, None) => None,
    };
    let d = disclosure::verify_proof(&proof, trusted)
        .with_context(|| format!("{}: does not verify", a.proof.display()))?;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"ok": true, "anchored": trusted.is_some(), "disclosed": d})
            )?
        );
    } else {
        println!(
            "verified: this {} is part of the model {}{}\n{}",
            d.kind,
            d.fingerprint,
            if trusted.is_some() {
                " (the trusted fingerprint)"
            } else {
                " — NOT anchored: pass --token N or --fingerprint 0x… to check it is the token's"
            },
            serde_json::to_string_pretty(&d.value)?
        );
    }
    Ok(())
}
