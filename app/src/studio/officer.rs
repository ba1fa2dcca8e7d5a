//! The credit officer's view, without Bevy: read a token from the chain, verify the package it
//! points to with `mint::verify` (every hash, CID, the fingerprint, the token's URI and
//! history), and gather pledge, valuation, surveys and the collateral figures the package was
//! built from into one [`OfficerReport`]; [`export_report`] appends the result to the package's
//! own `report.html` for the credit file.
//!
//! Nothing here computes a number of its own: every figure is a chain read, a verify check, or
//! a value from `simulation.json` / the package metadata, labelled with where it came from.

use crate::studio::error::{StudioError, StudioResult};
use capture::CancelToken;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};

use mint::chain::{
    B256, Chain, ChainError, PledgeInfo, Role, SurveyEntry, ValuationInfo, block_on,
};
use mint::package::{PACKAGE_DIR, REPORT_HTML, SIMULATION_JSON, TokenMetadata};
use mint::verify::{ChainReads, PackageSource, Status, VerifyReport};
use serde::Serialize;

use crate::studio::mint_flow::{ChainTarget, panic_text, read_metadata};

/// What the officer asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenQuery {
    pub target: ChainTarget,
    pub token_id: u64,
    /// A local package folder, or a gateway URL (`https://…/ipfs/<CID>`) as a path string.
    pub package: Option<PathBuf>,
    /// The surveyor's project: its fingerprint is recomputed, and its `package/` and
    /// `simulation.json` are used when no package is given.
    pub project: Option<PathBuf>,
    /// A reader's key, for a sealed package (`PROJECT/sealed`): the package is decrypted into
    /// a temporary project for the figures, and its plaintext fingerprint recomputed.
    pub reader: Option<ReaderKey>,
}

/// A reader's secret key, compared by address and never printed.
#[derive(Clone)]
pub struct ReaderKey(pub std::sync::Arc<mint::seal::SecretKey>);

impl ReaderKey {
    pub fn address(&self) -> mint::chain::Address {
        mint::seal::reader::address_of(&self.0.public_key())
    }
}

impl PartialEq for ReaderKey {
    fn eq(&self, other: &Self) -> bool {
        self.address() == other.address()
    }
}

impl Eq for ReaderKey {}

impl std::fmt::Debug for ReaderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReaderKey({})", self.address())
    }
}

/// One row of the verification table: one check of `mint::verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    /// File name (`report.html`), `fingerprint`, `chain`, `package`, …
    pub name: String,
    /// Which value (`sha256 (vs cids.json)`, `model fingerprint`, …).
    pub what: String,
    /// Green (passed or a note) or red.
    pub ok: bool,
    pub detail: String,
}

/// A pledge: offered, or accepted (in force until released, seized or expired).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PledgeView {
    pub lender: String,
    /// bytes32 on chain (the keccak-256 of a text reference, or the reference itself).
    pub loan_ref: String,
    /// Unix seconds (0 while only offered).
    pub since: u64,
    pub since_utc: String,
    pub accepted: bool,
    /// The lender may seize from then on.
    pub seizable_after_utc: String,
    /// The pledge lapses then (`None`: never).
    pub expires_utc: Option<String>,
}

impl PledgeView {
    /// One line for the panel and the report.
    pub fn summary(&self) -> String {
        let state = if self.accepted {
            format!("PLEDGED to {} since {}", self.lender, self.since_utc)
        } else {
            format!("OFFERED to {} (not yet accepted)", self.lender)
        };
        format!(
            "{state}; seizable after {}{}; loan ref {}",
            self.seizable_after_utc,
            self.expires_utc
                .as_deref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default(),
            self.loan_ref
        )
    }
}

/// Who admitted the owner (KYC) and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KycView {
    pub registrar: String,
    pub category: String,
    pub expiry_utc: String,
    /// Unexpired and the registrar still holds its role.
    pub valid: bool,
}

impl KycView {
    pub fn summary(&self) -> String {
        format!(
            "{} client admitted by {} until {}{}",
            self.category,
            self.registrar,
            self.expiry_utc,
            if self.valid { "" } else { " — NOT VALID" }
        )
    }
}

/// The latest on-chain valuation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValuationView {
    /// Whole currency units, as stored (a uint256, kept as text).
    pub value: String,
    pub currency: String,
    pub as_of: u64,
    pub as_of_utc: String,
    pub oracle: String,
}

/// Who attested the latest survey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttestationView {
    pub surveyor: String,
    /// From the package metadata, when it names the same address.
    pub surveyor_name: Option<String>,
    /// The surveyor still holds the contract's Surveyor role.
    pub surveyor_active: bool,
    pub capture_hash: String,
    pub timestamp: u64,
    pub timestamp_utc: String,
}

/// One survey of the token, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SurveyView {
    /// 1-based.
    pub index: usize,
    pub fingerprint: String,
    pub capture_hash: String,
    pub surveyor: String,
    pub timestamp: u64,
    pub timestamp_utc: String,
    /// The verified package carries this survey's fingerprint.
    pub is_package: bool,
    /// The drift summary's SHA-256 a resurvey carries on chain (`None` for the first survey).
    pub drift_hash: Option<String>,
}

/// A resurvey project's comparison with its previous survey, as the officer reads it: drift,
/// collateral and LTV then and now, and whether the drift summary is the one on chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineView {
    pub previous_project: String,
    pub elapsed_years: f64,
    pub growth_flag: String,
    pub stock_flag: String,
    pub value_at_stake: f64,
    pub currency: String,
    pub collateral_before: f64,
    pub collateral_now: f64,
    pub ltv_then: Option<f64>,
    pub ltv_now: Option<f64>,
    /// `0x…` SHA-256 of the project's drift summary.
    pub drift_hash: String,
    /// The drift summary hash on chain equals the project's.
    pub drift_on_chain: bool,
}

/// Collateral figures as `twinmint simulate` computed them (or only the value, from the
/// package's metadata attributes, when the simulation is not at hand).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CollateralView {
    /// Where the figures come from.
    pub source: String,
    pub currency: String,
    pub collateral_value: f64,
    pub loan: Option<f64>,
    /// No loan was given to `simulate`: `loan` is the grade's maximum loan, and `ltv` and
    /// `liquidation_price_per_t` refer to it.
    pub loan_is_grade_max: bool,
    pub grade: Option<String>,
    /// The grade's LTV threshold (1 / over-collateralisation).
    pub max_ltv: Option<f64>,
    /// LTV with the collateral marked at the current price.
    pub ltv: Option<f64>,
    pub current_price_per_t: Option<f64>,
    /// The carbon price per t at which LTV reaches `max_ltv` (∞: no credits to sell).
    pub liquidation_price_per_t: Option<f64>,
    /// The fall in price the loan can absorb (1 − liquidation / current).
    pub margin_fraction: Option<f64>,
    /// `simulation.json` is the file the package recorded (its SHA-256 matches).
    pub matches_package: Option<bool>,
}

/// Everything the officer's panel shows about one token.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OfficerReport {
    pub token_id: u64,
    pub chain_id: u64,
    pub network: String,
    pub contract: String,
    pub owner: String,
    pub token_uri: String,
    /// The token's latest fingerprint on chain (`0x…`).
    pub fingerprint: String,
    /// What the package claims, when one was read.
    pub package_fingerprint: Option<String>,
    /// The package verified (a folder or gateway URL); `None` when only the URI is known.
    pub package_source: Option<String>,
    pub files: Vec<FileCheck>,
    /// A package was checked and every check passed.
    pub verified: bool,
    pub pledge: Option<PledgeView>,
    /// The owner's KYC admission (`None`: not admitted).
    pub owner_kyc: Option<KycView>,
    /// The land footprint on chain: `claimed of expected` H3 cells.
    pub footprint: Option<String>,
    pub valuation: Option<ValuationView>,
    pub attestation: Option<AttestationView>,
    pub surveys: Vec<SurveyView>,
    /// For a resurvey project: drift and LTV then vs now.
    pub timeline: Option<TimelineView>,
    pub collateral: Option<CollateralView>,
    /// A sealed package opened with a regulator's key: the carbon view (year-0 stock, the
    /// projected band, the survey history) — all a regulator's key opens.
    pub carbon_view: Option<serde_json::Value>,
    /// What could not be checked, and why.
    pub notes: Vec<String>,
    /// RFC 3339, UTC.
    pub checked_at: String,
}

impl OfficerReport {
    /// The red rows.
    pub fn failures(&self) -> impl Iterator<Item = &FileCheck> {
        self.files.iter().filter(|f| !f.ok)
    }
}

/// Chain reads and verification on a worker thread.
#[derive(Debug)]
pub struct OfficerJob {
    result: Receiver<StudioResult<OfficerReport>>,
}

impl OfficerJob {
    /// `cancel` is checked between the chain reads and the (slow, with a project) verify.
    pub fn start(query: TokenQuery, cancel: CancelToken) -> OfficerJob {
        let (send, result) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("twinmint-officer".into())
            .spawn({
                let send = send.clone();
                move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        build_report(&query, &cancel)
                    }))
                    .unwrap_or_else(|p| Err(StudioError::Panic(panic_text(&*p))));
                    let _ = send.send(r);
                }
            });
        if let Err(e) = spawned {
            let _ = send.send(Err(StudioError::Thread {
                what: "officer",
                source: e,
            }));
        }
        OfficerJob { result }
    }

    /// The report once it is ready (then `None` again); never blocks.
    pub fn poll(&self) -> Option<StudioResult<OfficerReport>> {
        self.result.try_recv().ok()
    }
}

struct Reads {
    chain: ChainReads,
    pledge: Option<PledgeInfo>,
    valuation: Option<ValuationInfo>,
    surveys: Vec<SurveyEntry>,
    surveyor_active: Option<bool>,
    kyc: Option<(mint::chain::KycInfo, bool)>,
    footprint: mint::chain::FootprintInfo,
}

fn cancelled(cancel: &CancelToken) -> StudioResult<()> {
    Ok(cancel.check()?)
}

/// The whole report, synchronously (what [`OfficerJob`] runs).
pub fn build_report(query: &TokenQuery, cancel: &CancelToken) -> StudioResult<OfficerReport> {
    cancelled(cancel)?;
    let id = query.token_id;
    let reads = block_on(async {
        let c = Chain::connect_read_only(query.target.config()).await?;
        let chain = ChainReads::fetch(&c, id).await?;
        let pledge = c.pledge_of(id).await?;
        let valuation = c.valuation_of(id).await?;
        let surveys = c.surveys(id).await?;
        let surveyor_active = match surveys.last() {
            Some(s) => Some(c.has_role(Role::Surveyor, s.surveyor).await?),
            None => None,
        };
        let owner = chain.owner;
        let kyc = match c.kyc_of(owner).await? {
            Some(k) => Some((k, c.has_kyc(owner).await?)),
            None => None,
        };
        let footprint = c.footprint_of(id).await?;
        Ok::<_, ChainError>(Reads {
            chain,
            pledge,
            valuation,
            surveys,
            surveyor_active,
            kyc,
            footprint,
        })
    })
    .map_err(|source| StudioError::Token {
        token: id,
        source: Box::new(source),
    })?;
    cancelled(cancel)?;

    let mut notes = Vec::new();
    // Which package: the one given, else the project's; the token URI alone cannot be
    // fetched (no IPFS node here).
    let source = match (&query.package, &query.project) {
        (Some(p), _) => Some(PackageSource::parse(&p.to_string_lossy())),
        (None, Some(proj)) if proj.join(PACKAGE_DIR).is_dir() => {
            Some(PackageSource::Dir(proj.join(PACKAGE_DIR)))
        }
        _ => None,
    };
    // A sealed package: verified as ciphertext (and plaintext, with a reader key), and opened
    // into a temporary project whose simulation and metadata the figures below read.
    let opened = tempfile::tempdir().map_err(|e| StudioError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let mut project = query.project.clone();
    let mut carbon_view = None;
    let sealed = match &source {
        Some(PackageSource::Dir(d)) if mint::verify::is_sealed(d) => Some(d.clone()),
        _ => None,
    };
    let verify_report: Option<VerifyReport> = match (&source, &sealed) {
        (_, Some(d)) => {
            let key = query.reader.as_ref().map(|k| &*k.0);
            // Verified and, for a content reader, decrypted once into the temporary project.
            let into = opened.path().join("project");
            let r = mint::verify::verify_sealed_into(d, Some(&reads.chain), key, Some(&into));
            let regulator = key.filter(|k| {
                mint::seal::read(d)
                    .and_then(|(_, a)| mint::seal::unwrap_key(d, &a, k))
                    .is_ok_and(|(_, role)| role == mint::seal::Role::Regulator)
            });
            match key {
                Some(k) if regulator.is_some() => match mint::seal::open_carbon(d, k) {
                    Ok(v) => {
                        notes.push(
                            "a regulator's key: the carbon view only (no scans, trees or model)"
                                .into(),
                        );
                        carbon_view = Some(v);
                    }
                    Err(e) => notes.push(format!("carbon view not opened: {e}")),
                },
                Some(k) => {
                    // Not opened by the verification when it stopped early (a difference in
                    // the ciphertext or against the chain): opened for the figures all the same.
                    let opened = if into.join(capture::project::MANIFEST).is_file() {
                        Ok(into)
                    } else {
                        mint::seal::open(d, k, &into)
                    };
                    match opened {
                        Ok(p) => {
                            notes.push(format!(
                                "sealed package opened with the key of {}",
                                query
                                    .reader
                                    .as_ref()
                                    .map(ReaderKey::address)
                                    .unwrap_or_default()
                            ));
                            project = Some(p);
                        }
                        Err(e) => notes.push(format!("sealed package not opened: {e}")),
                    }
                }
                None => notes.push(
                    "sealed package: give a reader key to open it (only the ciphertext was \
                     checked)"
                        .into(),
                ),
            }
            Some(r)
        }
        (Some(s), None) => Some(mint::verify::verify(
            s,
            query.project.as_deref(),
            Some(&reads.chain),
        )),
        (None, None) => {
            notes.push(no_package_note(&reads.chain.token_uri));
            None
        }
    };
    let meta: Option<TokenMetadata> = match (&source, &sealed) {
        (_, Some(_)) => project
            .as_ref()
            .and_then(|p| read_metadata(&p.join(PACKAGE_DIR)).ok()),
        (Some(PackageSource::Dir(d)), None) => read_metadata(d).ok(),
        _ => None,
    };
    if matches!(source, Some(PackageSource::Url(_))) {
        notes.push(
            "package read from a gateway: the surveyor name and collateral attributes are not \
             shown (only the verification)"
                .into(),
        );
    }

    let files: Vec<FileCheck> = verify_report
        .as_ref()
        .map(|r| r.checks.iter().map(file_check).collect())
        .unwrap_or_default();
    let verified = verify_report.as_ref().is_some_and(VerifyReport::ok);
    let package_fingerprint = verify_report.as_ref().and_then(|r| r.fingerprint.clone());

    let surveys: Vec<SurveyView> = reads
        .surveys
        .iter()
        .enumerate()
        .map(|(i, s)| SurveyView {
            index: i + 1,
            fingerprint: s.fingerprint.to_string(),
            capture_hash: s.capture_hash.to_string(),
            surveyor: s.surveyor.to_checksum(None),
            timestamp: s.timestamp,
            timestamp_utc: utc(s.timestamp),
            is_package: package_fingerprint.as_deref() == Some(&s.fingerprint.to_string()),
            drift_hash: (s.drift_hash != B256::ZERO).then(|| s.drift_hash.to_string()),
        })
        .collect();
    let timeline = timeline_view(project.as_deref(), &surveys, &mut notes);
    let attestation = reads.surveys.last().map(|s| AttestationView {
        surveyor: s.surveyor.to_checksum(None),
        surveyor_name: meta
            .as_ref()
            .filter(|m| m.twinmint.surveyor.address == Some(s.surveyor))
            .and_then(|m| m.twinmint.surveyor.name.clone()),
        surveyor_active: reads.surveyor_active.unwrap_or(false),
        capture_hash: s.capture_hash.to_string(),
        timestamp: s.timestamp,
        timestamp_utc: utc(s.timestamp),
    });

    let collateral = collateral_view(project.as_deref(), meta.as_ref(), &mut notes);
    let c = &reads.chain;
    Ok(OfficerReport {
        token_id: id,
        chain_id: c.chain_id,
        network: query.target.network_name(),
        contract: c.contract.to_checksum(None),
        owner: c.owner.to_checksum(None),
        token_uri: c.token_uri.clone(),
        fingerprint: c.fingerprint.to_string(),
        package_fingerprint,
        package_source: verify_report.as_ref().map(|r| r.package.clone()),
        files,
        verified,
        pledge: reads.pledge.map(|p| PledgeView {
            lender: p.lender.to_checksum(None),
            loan_ref: p.loan_ref.to_string(),
            since: p.since,
            since_utc: utc(p.since),
            accepted: p.accepted,
            seizable_after_utc: utc(p.seizable_after),
            expires_utc: (p.expires_at != 0).then(|| utc(p.expires_at)),
        }),
        owner_kyc: reads.kyc.map(|(k, valid)| KycView {
            registrar: k.registrar.to_checksum(None),
            category: k.category.label().to_string(),
            expiry_utc: utc(k.expiry),
            valid,
        }),
        footprint: Some(format!(
            "{} of {} H3 cells claimed (root {}){}",
            reads.footprint.claimed,
            reads.footprint.expected,
            reads.footprint.root,
            if reads.footprint.complete() {
                ""
            } else {
                " — INCOMPLETE: cannot be pledged"
            }
        )),
        valuation: reads.valuation.map(|v| ValuationView {
            value: v.value.to_string(),
            currency: currency_text(v.currency),
            as_of: v.as_of,
            as_of_utc: utc(v.as_of),
            oracle: v.oracle.to_checksum(None),
        }),
        attestation,
        surveys,
        timeline,
        collateral,
        carbon_view,
        notes,
        checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// The project's `resurvey.json` against the chain's surveys (module docs of [`TimelineView`]).
fn timeline_view(
    project: Option<&std::path::Path>,
    surveys: &[SurveyView],
    notes: &mut Vec<String>,
) -> Option<TimelineView> {
    let r = match crate::workflow::resurvey::read_resurvey(project?) {
        Ok(r) => r?,
        Err(e) => {
            notes.push(e.to_string());
            return None;
        }
    };
    let hash = format!("0x{}", r.summary_sha256);
    let (ltv_then, ltv_now) = r.collateral.ltv();
    Some(TimelineView {
        previous_project: r.previous.project.clone(),
        elapsed_years: r.elapsed_years,
        growth_flag: r.drift.growth.flag.label().into(),
        stock_flag: r.drift.stock.flag.label().into(),
        value_at_stake: r.drift.stock.value_at_stake,
        currency: r.drift.stock.currency.clone(),
        collateral_before: r.collateral.value_before,
        collateral_now: r.collateral.value_now,
        ltv_then,
        ltv_now,
        drift_on_chain: surveys
            .iter()
            .any(|s| s.drift_hash.as_deref() == Some(hash.as_str())),
        drift_hash: hash,
    })
}

/// What to do when the token's package is not on this machine: where to fetch it from.
pub fn no_package_note(token_uri: &str) -> String {
    let gateway = token_uri
        .strip_prefix("ipfs://")
        .and_then(|rest| rest.split('/').next())
        .map(|cid| format!(" (e.g. https://ipfs.io/ipfs/{cid})"))
        .unwrap_or_default();
    format!(
        "not verified: only the token URI {token_uri} is known and there is no IPFS node here \
         to fetch it; give the package folder or a gateway URL{gateway}"
    )
}

fn file_check(c: &mint::verify::Check) -> FileCheck {
    let detail = match &c.status {
        Status::Ok => "ok".to_string(),
        Status::Mismatch { expected, actual } => format!("expected {expected}, found {actual}"),
        Status::Missing => "missing".to_string(),
        Status::Error { message } => message.clone(),
        Status::Note { message } => message.clone(),
    };
    FileCheck {
        name: c.subject.clone(),
        what: c.what.clone(),
        ok: c.passed(),
        detail,
    }
}

/// Collateral from the project's `simulation.json` (full liquidation line), else the value
/// attribute the package metadata carries.
fn collateral_view(
    project: Option<&Path>,
    meta: Option<&TokenMetadata>,
    notes: &mut Vec<String>,
) -> Option<CollateralView> {
    if let Some(path) = project
        .map(|p| p.join(SIMULATION_JSON))
        .filter(|p| p.is_file())
    {
        match std::fs::read(&path).map(|b| serde_json::from_slice::<growth_model::Simulation>(&b)) {
            Ok(Ok(sim)) => {
                let matches_package = meta.and_then(|m| {
                    let recorded = m.twinmint.project.get(SIMULATION_JSON)?;
                    let actual = capture::hash::sha256_file(&path).ok()?.0;
                    Some(*recorded == actual)
                });
                if matches_package == Some(false) {
                    notes.push(
                        "simulation.json has changed since the package was built: the \
                         collateral figures are not the ones the token's report shows"
                            .into(),
                    );
                }
                let c = &sim.collateral;
                let l = &c.liquidation;
                return Some(CollateralView {
                    source: format!("{} (twinmint simulate)", path.display()),
                    currency: c.currency.clone(),
                    collateral_value: c.value,
                    loan: Some(l.loan),
                    loan_is_grade_max: sim.settings.options.finance.collateral.loan.is_none(),
                    grade: Some(l.grade.clone()),
                    max_ltv: Some(l.max_ltv),
                    ltv: Some(l.ltv_at_current_price),
                    current_price_per_t: Some(l.current_price_per_t),
                    liquidation_price_per_t: Some(l.breach_price_per_t),
                    margin_fraction: Some(l.margin_fraction),
                    matches_package,
                });
            }
            Ok(Err(e)) => notes.push(format!("{}: not a simulation: {e}", path.display())),
            Err(e) => notes.push(format!("{}: {e}", path.display())),
        }
    }
    let m = meta?;
    let a = m.attributes.iter().find_map(|a| {
        let currency = a
            .trait_type
            .strip_prefix("Collateral value (")?
            .strip_suffix(')')?;
        Some((currency.to_string(), a.value.as_f64()?))
    });
    match a {
        Some((currency, value)) => Some(CollateralView {
            source: "package metadata attribute (rounded; no simulation.json at hand for the \
                     loan, LTV and liquidation price)"
                .into(),
            currency,
            collateral_value: value,
            loan: None,
            loan_is_grade_max: false,
            grade: None,
            max_ltv: None,
            ltv: None,
            current_price_per_t: None,
            liquidation_price_per_t: None,
            margin_fraction: None,
            matches_package: None,
        }),
        None => {
            notes.push("the package carries no collateral value (no simulation)".into());
            None
        }
    }
}

/// bytes32 currency code → "USD".
pub fn currency_text(code: B256) -> String {
    let bytes: Vec<u8> = code.iter().copied().take_while(|b| *b != 0).collect();
    String::from_utf8(bytes).unwrap_or_else(|_| code.to_string())
}

/// A Unix time as "YYYY-MM-DD HH:MM:SS UTC".
pub fn utc(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

// ---------------------------------------------------------------------------------- export

/// Check a disclosure proof file (`twinmint prove`) against the token's on-chain fingerprint
/// in `report`: one line saying what it proves, or why it does not.
pub fn check_proof(path: &Path, report: &OfficerReport) -> Result<String, String> {
    let proof = mint::disclosure::read_proof(path).map_err(|e| e.to_string())?;
    let trusted: B256 = report.fingerprint.parse().map_err(|_| {
        format!(
            "the token's fingerprint {} is not 32 bytes",
            report.fingerprint
        )
    })?;
    let d = mint::disclosure::verify_proof(&proof, Some(trusted.0))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let what = match d.kind {
        "tree" => format!(
            "tree {} (height {} m)",
            d.value.get("id").and_then(|v| v.as_u64()).unwrap_or(0),
            d.value
                .get("height_m")
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        ),
        "carbon" => format!(
            "year-0 stock {:.1} t CO2e",
            d.value
                .pointer("/totals/co2e_t")
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        ),
        _ => format!(
            "cloud chunk {} ({} points)",
            d.value.get("chunk").and_then(|v| v.as_u64()).unwrap_or(0),
            d.value.get("points").and_then(|v| v.as_u64()).unwrap_or(0)
        ),
    };
    Ok(format!(
        "{what} is part of token #{}'s fingerprinted model",
        report.token_id
    ))
}

/// Copy `package_dir/report.html` to `out` (a file, or a folder: then
/// `report-token-N-verified.html` in it) with the verification appended, written atomically.
/// The RPC URL is left out: it can carry an API key.
pub fn export_report(
    report: &OfficerReport,
    package_dir: &Path,
    out: &Path,
) -> StudioResult<PathBuf> {
    let src = package_dir.join(REPORT_HTML);
    let html = std::fs::read_to_string(&src).map_err(|source| StudioError::Io {
        path: src.clone(),
        source,
    })?;
    let section = verification_html(report);
    // Inside <main> so the report's own styles apply.
    let merged = match html.rfind("</main>").or_else(|| html.rfind("</body>")) {
        Some(i) => format!("{}{section}{}", &html[..i], &html[i..]),
        None => format!("{html}{section}"),
    };
    let path = if out.is_dir() {
        out.join(format!("report-token-{}-verified.html", report.token_id))
    } else {
        out.to_path_buf()
    };
    capture::atomic::write_bytes(&path, merged.as_bytes())?;
    Ok(path)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn verification_html(r: &OfficerReport) -> String {
    let mut h = String::new();
    h.push_str("<section id=\"twinmint-verification\">\n");
    h.push_str(&format!(
        "<h2>Verification — token #{}</h2>\n<p class=\"note\">Checked {} on {} (chain id {}), \
         contract <span class=\"mono\">{}</span>. Result: <strong style=\"color:{}\">{}</strong>.</p>\n",
        r.token_id,
        esc(&r.checked_at),
        esc(&r.network),
        r.chain_id,
        esc(&r.contract),
        if r.verified { "#1e7b34" } else { "#b3261e" },
        if r.verified {
            "verified — every check passed".to_string()
        } else {
            format!("NOT verified — {} check(s) failed", r.failures().count())
        }
    ));
    let row = |k: &str, v: &str| format!("<tr><th>{}</th><td>{}</td></tr>\n", esc(k), esc(v));
    h.push_str("<table>\n");
    h.push_str(&row("Owner", &r.owner));
    h.push_str(&row("Token URI", &r.token_uri));
    h.push_str(&row("Fingerprint on chain", &r.fingerprint));
    if let Some(p) = &r.package_source {
        h.push_str(&row("Package checked", p));
    }
    match &r.owner_kyc {
        Some(k) => h.push_str(&row("Owner KYC", &k.summary())),
        None => h.push_str(&row("Owner KYC", "not admitted")),
    }
    if let Some(f) = &r.footprint {
        h.push_str(&row("Land footprint", f));
    }
    match &r.pledge {
        Some(p) => h.push_str(&row("Pledge", &p.summary())),
        None => h.push_str(&row("Pledge", "none")),
    }
    if let Some(v) = &r.valuation {
        h.push_str(&row(
            "On-chain valuation",
            &format!(
                "{} {} as of {} (oracle {})",
                v.currency, v.value, v.as_of_utc, v.oracle
            ),
        ));
    }
    if let Some(a) = &r.attestation {
        let who = match &a.surveyor_name {
            Some(n) => format!("{n} ({})", a.surveyor),
            None => a.surveyor.clone(),
        };
        h.push_str(&row(
            "Latest survey attested by",
            &format!(
                "{who} at {}{}",
                a.timestamp_utc,
                if a.surveyor_active {
                    ""
                } else {
                    " — no longer holds the Surveyor role"
                }
            ),
        ));
    }
    h.push_str("</table>\n");
    if !r.notes.is_empty() {
        h.push_str("<ul>\n");
        for n in &r.notes {
            h.push_str(&format!("<li>{}</li>\n", esc(n)));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<table>\n<tr><th></th><th>Subject</th><th>Check</th><th>Result</th></tr>\n");
    for f in &r.files {
        let (mark, colour, class) = if f.ok {
            ("✓", "#1e7b34", "ok")
        } else {
            ("✗", "#b3261e", "fail")
        };
        h.push_str(&format!(
            "<tr class=\"{class}\" style=\"color:{colour}\"><td>{mark}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>\n",
            esc(&f.name),
            esc(&f.what),
            esc(&f.detail)
        ));
    }
    h.push_str("</table>\n</section>\n");
    h
}

// ---------------------------------------------------------------------------------- tests
