//! The mint verbs: `twinmint fingerprint`, `package`, `mint`, `verify`, and the collateral
//! wrappers `pledge`, `release`, `seize`, `value`. Thin shells over `mint::package`,
//! `mint::verify` and `mint::chain`; chain and wallet flags are in [`super::chain`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use mint::chain::{
    self, Address, B256, Chain, ChainRecord, Claim, MintOutcome, MintStatus, TwinMintNFR, U256,
    attest, block_on,
};
use mint::package::{self, Attribute, PACKAGE_DIR, PackageManifest, PackageOptions, TokenMetadata};
use mint::verify::{ChainReads, PackageSource};

use super::Ctx;
use super::chain::{
    ChainArgs, SurveyorWalletArgs, WalletArgs, network_name, parse_when, print_tx, via_browser,
};
use super::progress::Bar;

/// The pending-mint journal in the project (see `mint::chain::PendingMint`).
use mint::workflow::MINT_JOURNAL;

/// Surveyor identity flags shared by `fingerprint` and `package`.
#[derive(Args, Debug, Clone, Default)]
pub struct SurveyorArgs {
    /// The surveyor's on-chain address (the key that will attest the mint); shown in the
    /// package and report. Not part of the fingerprint: who attests is in the attestation.
    #[arg(long, value_name = "ADDR")]
    surveyor: Option<Address>,
    /// The surveyor's name or licence, shown with the address.
    #[arg(long, value_name = "NAME")]
    surveyor_name: Option<String>,
}

#[derive(Args, Debug)]
pub struct FingerprintArgs {
    /// Project folder (reads cloud.laz, manifest.json, reconstruction.json; writes
    /// fingerprint.json).
    project: PathBuf,
}

pub fn fingerprint(a: FingerprintArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let bar = Bar::new(ctx.quiet, "reading");
    let t = std::time::Instant::now();
    let fp = package::compute_project_fingerprint(&a.project, &mut |e| bar.update(e), &ctx.cancel)?;
    bar.finish();
    fp.write(&a.project)?;
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&fp)?);
    } else {
        let f = &fp.fingerprint;
        println!(
            "cloud root:          {}",
            mint::hex32::to_hex(&f.cloud_root)
        );
        println!(
            "capture hash:        {}",
            mint::hex32::to_hex(&f.capture_hash)
        );
        println!(
            "reconstruction hash: {}",
            mint::hex32::to_hex(&f.reconstruction_hash)
        );
        println!("model fingerprint:   {}", fp.model_0x);
        println!(
            "{} points in {} leaves ({:.2} s); wrote {}",
            fp.cloud.points,
            fp.cloud.leaves,
            t.elapsed().as_secs_f64(),
            a.project.join(package::FINGERPRINT_JSON).display()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// Project folder (needs cloud.laz, reconstruction.json and model.glb; uses
    /// simulation.json and chain.json when present).
    project: PathBuf,
    #[command(flatten)]
    surveyor: SurveyorArgs,
    /// Token name (default: "TwinMint forest — <project>").
    #[arg(long)]
    name: Option<String>,
    /// Token description (default: a summary of the asset).
    #[arg(long)]
    description: Option<String>,
    /// ERC-721 external_url.
    #[arg(long, value_name = "URL")]
    external_url: Option<String>,
    /// Extra attribute, repeatable.
    #[arg(long = "attribute", value_name = "TRAIT=VALUE")]
    attributes: Vec<String>,
    /// Put chain.json (token, contract, transactions) into the report: a credit-file copy after
    /// minting, whose CIDs then differ from the token's.
    #[arg(long)]
    with_chain_record: bool,
}

impl PackageArgs {
    fn options(&self) -> anyhow::Result<PackageOptions> {
        let extra = self
            .attributes
            .iter()
            .map(|kv| {
                let (k, v) = kv
                    .split_once('=')
                    .with_context(|| format!("--attribute {kv:?}: expected TRAIT=VALUE"))?;
                Ok(Attribute::text(k.trim(), v.trim()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(PackageOptions {
            surveyor_address: self.surveyor.surveyor,
            surveyor_name: self.surveyor.surveyor_name.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            external_url: self.external_url.clone(),
            extra_attributes: extra,
            chain_record: self.with_chain_record,
        })
    }
}

fn build_package(
    project: &Path,
    opts: &PackageOptions,
    ctx: &Ctx,
) -> anyhow::Result<PackageManifest> {
    let bar = Bar::new(ctx.quiet, "reading");
    let m = package::build_with(project, opts, &mut |e| bar.update(e), &ctx.cancel)?;
    bar.finish();
    Ok(m)
}

pub fn package(a: PackageArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let opts = a.options()?;
    let m = build_package(&a.project, &opts, ctx)?;
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        println!("{}", m.dir.display());
        for (name, f) in &m.files {
            println!("  {name:<14} {}  {:>10} bytes", f.cid, f.bytes);
        }
        println!("  directory      {}", m.directory);
        println!("token URI:   {}", m.token_uri);
        println!("fingerprint: {}", m.fingerprint);
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct MintArgs {
    /// Project folder (packaged here first if package/ is missing).
    project: PathBuf,
    /// The owner: must hold a valid KYC admission on the contract. Not for a resurvey (a
    /// project with resurvey.json), which keeps the token's owner and is sent by it.
    #[arg(long, value_name = "ADDR")]
    to: Option<Address>,
    #[command(flatten)]
    chain: ChainArgs,
    /// The wallet that submits the mint (gas payer; anyone may submit an attested mint).
    #[command(flatten)]
    wallet: WalletArgs,
    /// The surveyor's key that signs the EIP-712 attestation (default: the submitting wallet).
    #[command(flatten)]
    surveyor: SurveyorWalletArgs,
    /// Submit from the browser wallet instead (prints a localhost URL to open); needs a
    /// surveyor key.
    #[arg(long)]
    browser: bool,
    /// Account the browser wallet must send from (default: any).
    #[arg(long, value_name = "ADDR", requires = "browser")]
    from: Option<Address>,
    /// Seconds to wait for the browser wallet.
    #[arg(long, default_value_t = 600)]
    browser_timeout: u64,
    /// The parcel boundary (GeoJSON Polygon/MultiPolygon, any CRS the project reads) whose
    /// whole H3 cells are claimed as the land footprint; default: the scan's coverage.
    #[arg(long, value_name = "GEOJSON")]
    parcel: Option<PathBuf>,
    /// How long the surveyor's attestation stays valid, in hours.
    #[arg(long, default_value_t = 168, value_name = "HOURS")]
    attestation_hours: u64,
}

/// The land footprint a mint claims: from `--parcel`, else the project's `footprint.json`,
/// else the scan's coverage (written to `footprint.json` so the package and a verifier see it).
fn footprint_for_mint(
    project: &Path,
    parcel: Option<&Path>,
) -> anyhow::Result<mint::footprint::Footprint> {
    let path = project.join(mint::footprint::FOOTPRINT_JSON);
    if parcel.is_none() && path.is_file() {
        return Ok(mint::footprint::Footprint::read(&path)?);
    }
    let fp = mint::footprint::for_project(project, parcel)?;
    fp.write(&path)?;
    Ok(fp)
}

/// The package to mint, readied by the policy the studio uses too
/// ([`mint::workflow::prepare_package`]: built when missing, rebuilt when stale, refused when
/// the rebuilt package does not verify).
fn package_for_mint(
    project: &Path,
    surveyor: Address,
    ctx: &Ctx,
) -> anyhow::Result<(PackageManifest, TokenMetadata, Option<String>)> {
    use mint::workflow::PrepareEvent;
    let bar = Bar::new(ctx.quiet, "fingerprint");
    let quiet = ctx.quiet;
    let prepared = mint::workflow::prepare_package(
        project,
        surveyor,
        &mut |ev| {
            if let PrepareEvent::Building(reason) = ev
                && !quiet
            {
                eprintln!("building {}: {reason}", project.join(PACKAGE_DIR).display());
            }
        },
        &mut |e: capture::ProgressEvent| bar.update(e),
        &ctx.cancel,
    )?;
    bar.finish();
    Ok((prepared.cids, prepared.metadata, prepared.rebuilt))
}

pub fn mint_token(a: MintArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let cfg = a.chain.config(Some(&a.project), true)?;
    let contract = cfg.contract.expect("config checked the contract");
    let surveyor_flags = a.surveyor.as_wallet_args();
    let owner_wallet = if a.browser {
        None
    } else {
        Some(a.wallet.load("wallet")?)
    };
    let surveyor = if surveyor_flags.is_given() {
        surveyor_flags.load("surveyor")?
    } else {
        match &owner_wallet {
            Some(w) => w.clone(),
            None => bail!(
                "--browser needs the surveyor's key: --surveyor-key-env, --surveyor-mnemonic-env \
                 or --surveyor-keystore"
            ),
        }
    };
    let (cids, meta, rebuilt) = package_for_mint(&a.project, surveyor.address(), ctx)?;
    let footprint = footprint_for_mint(&a.project, a.parcel.as_deref())?;
    let cells = footprint.cells.clone();
    let deadline = chrono::Utc::now().timestamp().max(0) as u64 + a.attestation_hours * 3600;
    if let Some(report) = twinmint_app::workflow::resurvey::read_resurvey(&a.project)? {
        let Some(wallet) = owner_wallet else {
            bail!("a resurvey is sent by the token's owner: give --wallet flags, not --browser");
        };
        if a.to.is_some() {
            bail!("--to is for a first mint; a resurvey keeps the token's owner");
        }
        let sub = ResurveySubmission {
            project: &a.project,
            cfg,
            contract,
            owner: wallet,
            surveyor,
            cids: &cids,
            meta: &meta,
            cells,
            deadline,
            report: &report,
        };
        return submit_resurvey(sub, ctx);
    }
    let to =
        a.to.context("--to is required: the owner the token is minted to")?;
    let claim = Claim::Mint {
        to,
        fingerprint: B256::from(meta.twinmint.fingerprint.model),
        scan_root: B256::from(meta.twinmint.fingerprint.cloud_root),
        capture_hash: B256::from(meta.twinmint.fingerprint.capture_hash),
        footprint_root: chain::footprint_root(&cells),
        cell_count: u32::try_from(cells.len()).context("footprint has too many cells")?,
        uri: cids.token_uri.clone(),
        deadline,
    };
    if !ctx.quiet {
        eprintln!(
            "footprint: {} H3 cells at resolution {} ({:.2} ha)",
            cells.len(),
            footprint.resolution,
            footprint.area_m2 / 1e4
        );
    }
    let signed = block_on(attest::sign(
        &surveyor,
        cfg.chain_id,
        contract,
        claim,
        cells,
    ))?;
    let journal = a.project.join(MINT_JOURNAL);
    let outcome: MintOutcome = match owner_wallet {
        Some(w) => block_on(async {
            let c = Chain::connect(cfg.clone(), w).await?;
            c.mint(&signed, &journal).await
        })?,
        None => {
            let c = block_on(Chain::connect_read_only(cfg.clone()))?;
            match block_on(c.reconcile_mint(&signed, &journal))? {
                Some(done) => done,
                None => {
                    let tx = block_on(c.prepare_mint(&signed, a.from))?;
                    let hash = via_browser(tx.clone(), a.browser_timeout)?;
                    // Journal before waiting, so a restart finds this transaction.
                    c.journal_mint(&signed, hash, &journal)?;
                    // The posted hash must be the prepared mint; a foreign one is forgotten.
                    if let Err(e) = block_on(c.confirm_bridge(&tx, hash)) {
                        if matches!(e, chain::ChainError::BridgeTxMismatch { .. }) {
                            chain::PendingMint::remove(&journal)?;
                        }
                        return Err(e.into());
                    }
                    let mut done = block_on(c.reconcile_mint(&signed, &journal))?.context(
                        "the browser wallet's mint was mined but no token holds the fingerprint",
                    )?;
                    done.status = MintStatus::Minted;
                    done.tx_hash = Some(hash);
                    done
                }
            }
        }
    };

    let record_path = mint::workflow::record_mint(
        &a.project,
        &network_name(cfg.chain_id),
        cfg.chain_id,
        contract,
        B256::from(meta.twinmint.fingerprint.model),
        &outcome,
    )?;

    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "token_id": outcome.token_id,
                "status": format!("{:?}", outcome.status),
                "tx_hash": outcome.tx_hash,
                "block": outcome.block,
                "contract": contract,
                "chain_id": cfg.chain_id,
                "to": to,
                "surveyor": surveyor.address(),
                "fingerprint": cids.fingerprint,
                "token_uri": cids.token_uri,
                "package_rebuilt": rebuilt,
            }))?
        );
    } else {
        let how = match outcome.status {
            MintStatus::Minted => "minted",
            MintStatus::Recovered => "found the earlier run's mint",
            MintStatus::AlreadyOnChain => "already minted (nothing sent)",
        };
        println!(
            "token #{} {how} on {} ({}) at {}",
            outcome.token_id,
            network_name(cfg.chain_id),
            cfg.chain_id,
            contract
        );
        if let Some(h) = outcome.tx_hash {
            println!("tx:          {h}");
        }
        println!("owner:       {to}");
        println!("fingerprint: {}", cids.fingerprint);
        println!("token URI:   {}", cids.token_uri);
        println!("wrote {}", record_path.display());
    }
    Ok(())
}

/// What `mint` sends for a resurvey.
struct ResurveySubmission<'a> {
    project: &'a Path,
    cfg: chain::ChainConfig,
    contract: Address,
    owner: chain::Wallet,
    surveyor: chain::Wallet,
    cids: &'a PackageManifest,
    meta: &'a TokenMetadata,
    cells: Vec<u64>,
    deadline: u64,
    report: &'a resurvey::Resurvey,
}

/// The resurvey path of `mint`: the token holding the previous survey's fingerprint gets this
/// survey appended, attested by the surveyor with the drift summary's hash, sent by the owner
/// (while pledged, after the lender's `consent-resurvey`).
fn submit_resurvey(s: ResurveySubmission<'_>, ctx: &Ctx) -> anyhow::Result<()> {
    let previous: B256 = s
        .report
        .previous
        .fingerprint
        .as_deref()
        .context(
            "resurvey.json names no previous fingerprint: fingerprint and mint the previous survey first",
        )?
        .parse()
        .context("resurvey.json: the previous fingerprint is not a 32-byte hex value")?;
    let drift: B256 = format!("0x{}", s.report.summary_sha256)
        .parse()
        .context("resurvey.json: summary_sha256 is not a SHA-256")?;
    let fingerprint = B256::from(s.meta.twinmint.fingerprint.model);
    let cfg = s.cfg.clone();
    let (token_id, hash, block, status) = block_on(async {
        let c = Chain::connect(cfg.clone(), s.owner.clone()).await?;
        let token = c.token_of_fingerprint(previous).await?.ok_or_else(|| {
            chain::ChainError::Unexpected(format!(
                "no token on chain {} holds the previous survey's fingerprint {previous}",
                cfg.chain_id
            ))
        })?;
        if c.token_of_fingerprint(fingerprint).await? == Some(token) {
            return Ok::<_, chain::ChainError>((
                token,
                None,
                None,
                "already resurveyed (nothing sent)",
            ));
        }
        let claim = Claim::Resurvey {
            token_id: U256::from(token),
            previous_fingerprint: previous,
            fingerprint,
            scan_root: B256::from(s.meta.twinmint.fingerprint.cloud_root),
            capture_hash: B256::from(s.meta.twinmint.fingerprint.capture_hash),
            footprint_root: chain::footprint_root(&s.cells),
            cell_count: u32::try_from(s.cells.len()).map_err(|_| {
                chain::ChainError::Unexpected("footprint has too many cells".into())
            })?,
            drift_hash: drift,
            uri: s.cids.token_uri.clone(),
            deadline: s.deadline,
        };
        let signed = attest::sign(
            &s.surveyor,
            cfg.chain_id,
            s.contract,
            claim,
            s.cells.clone(),
        )
        .await?;
        let receipt = c.resurvey(&signed).await?;
        Ok((
            token,
            Some(receipt.transaction_hash),
            receipt.block_number,
            "resurveyed",
        ))
    })?;
    let path = mint::workflow::record_token_tx(
        s.project,
        &network_name(s.cfg.chain_id),
        s.cfg.chain_id,
        s.contract,
        token_id,
        fingerprint,
        "resurvey",
        hash.map(|h| (h, block)),
    )?;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "token_id": token_id,
                "status": status,
                "tx_hash": hash,
                "previous_fingerprint": previous,
                "fingerprint": fingerprint,
                "drift_hash": drift,
                "token_uri": s.cids.token_uri,
            }))?
        );
    } else {
        println!("token #{token_id} {status}: {previous} → {fingerprint}; drift summary {drift}");
        if let Some(h) = hash {
            println!("tx:          {h}");
        }
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ConsentArgs {
    /// Token id, or the previous survey's minted project folder.
    token: String,
    /// The new survey's model fingerprint (0x…, `twinmint fingerprint NEW_PROJECT` prints it).
    #[arg(long)]
    fingerprint: B256,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Package folder (PROJECT/package) or gateway URL (https://…/ipfs/<CID>).
    package: String,
    /// Recompute the fingerprint from this project and compare.
    #[arg(long)]
    project: Option<PathBuf>,
    /// Compare with this token on chain (--network or --rpc/--chain-id/--contract, else the
    /// loopback dev chain; never the chain a folder's chain.json names).
    #[arg(long, value_name = "N")]
    token: Option<u64>,
    #[command(flatten)]
    chain: ChainArgs,
    /// A reader's key, for a sealed package: decrypt and recompute the fingerprint of the
    /// plaintext too (without it, only the ciphertext is checked, and the report says so).
    #[command(flatten)]
    reader: WalletArgs,
}

pub fn verify(a: VerifyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let source = PackageSource::parse(&a.package);
    if let PackageSource::Dir(dir) = &source
        && mint::verify::is_sealed(dir)
    {
        return verify_sealed(&a, dir, ctx);
    }
    let reads = chain_reads(&a)?;
    let mut report = mint::verify::verify(&source, a.project.as_deref(), reads.as_ref());
    if let Some(reads) = &reads {
        // A folder's chain.json is the borrower's record, never where to look: checked against
        // the chain given, and a disagreement is a difference.
        let places = [
            a.project.as_deref().map(|p| p.join(package::CHAIN_JSON)),
            match &source {
                PackageSource::Dir(d) => Some(d.join(package::CHAIN_JSON)),
                PackageSource::Url(_) => None,
            },
        ];
        for path in places.into_iter().flatten().filter(|p| p.is_file()) {
            report.checks.push(record_check(&path, reads));
        }
    }
    print_report(&report, ctx)
}

/// `verify` of a sealed package folder.
fn verify_sealed(a: &VerifyArgs, dir: &Path, ctx: &Ctx) -> anyhow::Result<()> {
    let reads = chain_reads(a)?;
    let secret = if a.reader.is_given() {
        Some(a.reader.load("reader")?.secret_key()?)
    } else {
        None
    };
    let report = mint::verify::verify_sealed(dir, reads.as_ref(), secret.as_ref());
    print_report(&report, ctx)
}

/// The token `verify --token` names, read from the chain given (never from a folder).
fn chain_reads(a: &VerifyArgs) -> anyhow::Result<Option<ChainReads>> {
    let Some(token) = a.token else {
        return Ok(None);
    };
    let cfg = a.chain.config(a.project.as_deref(), true)?;
    Ok(Some(block_on(async {
        let c = Chain::connect_read_only(cfg).await?;
        ChainReads::fetch(&c, token).await
    })?))
}

/// Print a verify report (text or JSON) and fail when anything differs.
fn print_report(report: &mint::verify::VerifyReport, ctx: &Ctx) -> anyhow::Result<()> {
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": report.ok(),
                "report": report,
            }))?
        );
    } else {
        println!("{report}");
    }
    if !report.ok() {
        bail!(
            "verification failed: {} difference(s)",
            report.differences().count()
        );
    }
    Ok(())
}

/// `chain.json` at `path` against the token `verify` read from the chain given.
fn record_check(path: &Path, reads: &ChainReads) -> mint::verify::Check {
    let what = format!("{} (a record; not followed)", path.display());
    let given = format!(
        "chain {}, contract {}, token {}",
        reads.chain_id, reads.contract, reads.token_id
    );
    let status = match ChainRecord::read(path) {
        Ok(r) => {
            let recorded = format!(
                "chain {}, contract {}, token {}",
                r.chain_id,
                r.contract,
                r.token_id
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "none".into())
            );
            if recorded == given {
                mint::verify::Status::Ok
            } else {
                mint::verify::Status::Mismatch {
                    expected: given,
                    actual: recorded,
                }
            }
        }
        Err(e) => mint::verify::Status::Error {
            message: e.to_string(),
        },
    };
    mint::verify::Check {
        subject: "chain".into(),
        what,
        status,
    }
}

/// A token id, or a project folder whose chain.json names one (with that record, which must
/// then name the chain given: it is a record, not a configuration).
fn token_of(spec: &str) -> anyhow::Result<(u64, Option<(PathBuf, ChainRecord)>)> {
    if let Ok(n) = spec.parse::<u64>() {
        return Ok((n, None));
    }
    let project = PathBuf::from(spec);
    let record = ChainRecord::read(&project.join(package::CHAIN_JSON)).with_context(|| {
        format!("{spec}: neither a token id nor a minted project (no chain.json)")
    })?;
    let id = record
        .token_id
        .with_context(|| format!("{spec}: chain.json has no token id"))?;
    Ok((id, Some((project, record))))
}

/// Flags shared by the collateral verbs.
#[derive(Args, Debug)]
pub struct TxArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    wallet: WalletArgs,
    /// Send from the browser wallet (prints a localhost URL to open).
    #[arg(long)]
    browser: bool,
    /// Seconds to wait for the browser wallet.
    #[arg(long, default_value_t = 600)]
    browser_timeout: u64,
}

#[derive(Args, Debug)]
pub struct PledgeArgs {
    /// Token id, or a minted project folder.
    token: String,
    /// The lender the token is offered to (needs valid KYC); nothing is locked until the
    /// lender runs `twinmint accept-pledge`.
    #[arg(long, value_name = "ADDR")]
    lender: Address,
    /// Loan reference: 32 bytes of hex, or text (stored as its keccak-256).
    #[arg(long, value_name = "REF")]
    loan_ref: String,
    /// When the lender may seize on default (loan maturity): YYYY-MM-DD, RFC 3339 or Unix
    /// seconds; must be in the future.
    #[arg(long, value_name = "DATE")]
    seizable_after: String,
    /// When the pledge lapses (after it the owner may release it): YYYY-MM-DD, RFC 3339 or Unix
    /// seconds; default never.
    #[arg(long, value_name = "DATE")]
    expires: Option<String>,
    /// The lender's reader card: add their key to the project's sealed package and record the
    /// new package version on chain before offering (the pledge comes with read access).
    #[arg(long, value_name = "CARD")]
    grant: Option<PathBuf>,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Args, Debug)]
pub struct AcceptPledgeArgs {
    /// Token id, or a minted project folder.
    token: String,
    /// The loan reference of the offer (must match it).
    #[arg(long, value_name = "REF")]
    loan_ref: String,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// Token id, or a minted project folder.
    token: String,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Args, Debug)]
pub struct ValueArgs {
    /// Token id, or a minted project folder (its simulation.json supplies the defaults).
    token: String,
    /// Value in whole currency units (default: the collateral value in simulation.json).
    #[arg(long)]
    amount: Option<u64>,
    /// ISO 4217 code (default: simulation.json's currency).
    #[arg(long)]
    currency: Option<String>,
    /// Valuation time, Unix seconds (default: now).
    #[arg(long)]
    as_of: Option<u64>,
    #[command(flatten)]
    tx: TxArgs,
}

/// Which collateral action.
pub enum Action {
    Pledge(PledgeArgs),
    Accept(AcceptPledgeArgs),
    Release(TokenArgs),
    Seize(TokenArgs),
    Value(ValueArgs),
    Consent(ConsentArgs),
}

/// One collateral call, typed.
enum Call {
    Pledge(TwinMintNFR::offerPledgeCall),
    Accept(TwinMintNFR::acceptPledgeCall),
    Release(TwinMintNFR::releaseCall),
    Seize(TwinMintNFR::seizeCall),
    Value(TwinMintNFR::setValuationCall),
    Consent(TwinMintNFR::consentResurveyCall),
}

pub fn collateral(action: Action, ctx: &Ctx) -> anyhow::Result<()> {
    let (spec, tx) = match &action {
        Action::Pledge(a) => (&a.token, &a.tx),
        Action::Accept(a) => (&a.token, &a.tx),
        Action::Release(a) | Action::Seize(a) => (&a.token, &a.tx),
        Action::Value(a) => (&a.token, &a.tx),
        Action::Consent(a) => (&a.token, &a.tx),
    };
    let (token_id, minted) = token_of(spec)?;
    let project = minted.as_ref().map(|(p, _)| p.clone());
    let cfg = tx.chain.config(project.as_deref(), true)?;
    if let Some((p, r)) = &minted
        && (r.chain_id != cfg.chain_id || Some(r.contract) != cfg.contract)
    {
        bail!(
            "{}: its chain.json records token #{token_id} on chain {} at {}, but the chain given is \
             {} at {}; pass the token id, or the chain it was minted on",
            p.display(),
            r.chain_id,
            r.contract,
            cfg.chain_id,
            cfg.contract.map(|c| c.to_string()).unwrap_or_default()
        );
    }
    let id = U256::from(token_id);
    let (call, what) = match &action {
        Action::Pledge(a) => {
            let r = super::chain::loan_ref(&a.loan_ref);
            let seizable = parse_when("--seizable-after", &a.seizable_after)?;
            let expires = a
                .expires
                .as_deref()
                .map(|e| parse_when("--expires", e))
                .transpose()?
                .unwrap_or(0);
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            if seizable <= now {
                bail!(
                    "--seizable-after {} is not in the future: a lender must not be able to seize at once",
                    chain::date(seizable)
                );
            }
            if expires != 0 && expires <= seizable {
                bail!(
                    "--expires {} must come after --seizable-after {}",
                    chain::date(expires),
                    chain::date(seizable)
                );
            }
            (
                Call::Pledge(TwinMintNFR::offerPledgeCall {
                    tokenId: id,
                    lender: a.lender,
                    loanRef: r,
                    seizableAfter: seizable,
                    expiresAt: expires,
                }),
                format!(
                    "offered token #{token_id} to {} (loan ref {r}, seizable after {}); the lender accepts with `twinmint accept-pledge`",
                    a.lender,
                    chain::date(seizable)
                ),
            )
        }
        Action::Accept(a) => {
            let r = super::chain::loan_ref(&a.loan_ref);
            (
                Call::Accept(TwinMintNFR::acceptPledgeCall {
                    tokenId: id,
                    loanRef: r,
                }),
                format!("accepted the pledge of token #{token_id} (loan ref {r})"),
            )
        }
        Action::Release(_) => (
            Call::Release(TwinMintNFR::releaseCall { tokenId: id }),
            format!("released token #{token_id}"),
        ),
        Action::Seize(_) => (
            Call::Seize(TwinMintNFR::seizeCall { tokenId: id }),
            format!("seized token #{token_id}"),
        ),
        Action::Value(a) => {
            let sim = project
                .as_deref()
                .map(|p| p.join(package::SIMULATION_JSON))
                .filter(|p| p.is_file())
                .map(|p| -> anyhow::Result<growth_model::Simulation> {
                    serde_json::from_slice(&std::fs::read(&p)?)
                        .with_context(|| format!("{}: not a simulation", p.display()))
                })
                .transpose()?;
            let amount = match (a.amount, &sim) {
                (Some(v), _) => v,
                (None, Some(s)) => s.collateral.value.max(0.0).round() as u64,
                (None, None) => bail!("--amount is required (no simulation.json to take it from)"),
            };
            let currency = a
                .currency
                .clone()
                .or_else(|| sim.as_ref().map(|s| s.collateral.currency.clone()))
                .context("--currency is required (no simulation.json to take it from)")?;
            let as_of = a
                .as_of
                .unwrap_or_else(|| chrono::Utc::now().timestamp().max(0) as u64);
            (
                Call::Value(TwinMintNFR::setValuationCall {
                    tokenId: id,
                    value: U256::from(amount),
                    currency: chain::currency_code(&currency),
                    asOf: as_of,
                }),
                format!("valued token #{token_id} at {currency} {amount}"),
            )
        }
        Action::Consent(a) => (
            Call::Consent(TwinMintNFR::consentResurveyCall {
                tokenId: id,
                fingerprint: a.fingerprint,
            }),
            format!(
                "consented to the resurvey of token #{token_id} with fingerprint {} (the owner sends it with `twinmint mint`)",
                a.fingerprint
            ),
        ),
    };
    let name = match &call {
        Call::Pledge(_) => "offerPledge",
        Call::Accept(_) => "acceptPledge",
        Call::Release(_) => "release",
        Call::Seize(_) => "seize",
        Call::Value(_) => "setValuation",
        Call::Consent(_) => "consentResurvey",
    };
    let hash = if tx.browser {
        block_on(async {
            let c = Chain::connect_read_only(cfg).await?;
            // Pin the account that must send, so the call is simulated (and a revert decoded)
            // before it reaches the wallet.
            let bridge_tx = match &call {
                Call::Pledge(k) => {
                    let owner = c.owner_of(token_id).await?;
                    c.prepare(name, k, Some(owner)).await?
                }
                Call::Accept(k) => {
                    let lender = c.pledge_of(token_id).await?.map(|p| p.lender);
                    c.prepare(name, k, lender).await?
                }
                Call::Release(k) => {
                    let lender = c.pledge_of(token_id).await?.map(|p| p.lender);
                    c.prepare(name, k, lender).await?
                }
                Call::Seize(k) => {
                    let lender = c.pledge_of(token_id).await?.map(|p| p.lender);
                    c.prepare(name, k, lender).await?
                }
                Call::Value(k) => c.prepare(name, k, None).await?,
                Call::Consent(k) => {
                    let lender = c.pledge_of(token_id).await?.map(|p| p.lender);
                    c.prepare(name, k, lender).await?
                }
            };
            Ok::<_, chain::ChainError>((c, bridge_tx))
        })
        .map_err(anyhow::Error::from)
        .and_then(|(c, bridge_tx)| {
            let hash = via_browser(bridge_tx.clone(), tx.browser_timeout)?;
            // Only the prepared transaction is accepted behind the posted hash.
            block_on(c.confirm_bridge(&bridge_tx, hash))?;
            Ok(hash)
        })?
    } else {
        let w = tx.wallet.load("wallet")?;
        if let Action::Pledge(PledgeArgs {
            grant: Some(card),
            lender,
            ..
        }) = &action
        {
            let p = project.as_deref().context(
                "--grant needs the minted project folder (its sealed package) as the token",
            )?;
            let card = mint::seal::ReaderCard::read(card)?;
            if card.address != *lender {
                bail!(
                    "the --grant card is for {}, but the pledge is offered to {lender}",
                    card.address
                );
            }
            let s = super::private::grant_and_record(
                p,
                &w,
                &[(card, mint::seal::Role::Lender)],
                Some(token_id),
                &tx.chain,
            )?;
            if !ctx.quiet {
                println!(
                    "granted {lender} read access: token URI {}",
                    s.cids.token_uri
                );
            }
        }
        block_on(async {
            let c = Chain::connect(cfg, w).await?;
            let receipt = match &call {
                Call::Pledge(k) => {
                    c.offer_pledge(token_id, k.lender, k.loanRef, k.seizableAfter, k.expiresAt)
                        .await?
                }
                Call::Accept(k) => c.accept_pledge(token_id, k.loanRef).await?,
                Call::Release(_) => c.release(token_id).await?,
                Call::Seize(_) => c.seize(token_id).await?,
                Call::Value(k) => {
                    c.set_valuation(token_id, k.value, k.currency, k.asOf)
                        .await?
                }
                Call::Consent(k) => c.consent_resurvey(token_id, k.fingerprint).await?,
            };
            Ok::<_, chain::ChainError>(receipt.transaction_hash)
        })?
    };
    if let Some(p) = &project {
        let path = p.join(package::CHAIN_JSON);
        if let Ok(mut r) = ChainRecord::read(&path) {
            r.push_tx(name, hash, None);
            r.write(&path)?;
        }
    }
    print_tx(ctx, &what, hash)
}
