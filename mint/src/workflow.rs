//! Ready a project's package for minting — the one stale-input policy the CLI (`twinmint mint`)
//! and the studio's mint flow share.
//!
//! **Policy.** The package is derived data: it is rebuilt from the project whenever it is
//! *missing* or *stale* — its metadata is not TwinMint metadata, it names another surveyor than
//! the attesting key, its fingerprint is not the project's, or it no longer verifies against
//! the project (a file edited or replaced since it was built). A rebuild uses the options the
//! package was built with (recorded in `cids.json`), says why it happened, and must itself
//! verify; otherwise minting is refused before any transaction. A package that
//! verifies is never touched, so re-minting reproduces the token URI.

use std::path::Path;

use capture::{CancelToken, Progress};

use crate::chain::{Address, B256, ChainRecord, ChainResult, MintOutcome, PendingMint};
use crate::package::metadata::TokenMetadata;
use crate::package::{
    self, METADATA_JSON, PACKAGE_DIR, PackageError, PackageManifest, PackageOptions, PackageResult,
    ProjectFingerprint,
};
use crate::verify::PackageSource;

/// Where a mint in flight is journalled ([`PendingMint`]) inside the project, so a rerun after a
/// crash or a lost connection recovers the transaction instead of sending another.
pub use capture::layout::MINT_JOURNAL;

/// What [`prepare_package`] reports as it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepareEvent {
    /// `fingerprint.json` written; the model fingerprint `0x…`.
    Fingerprinted(String),
    /// The existing package is being checked against the project.
    Checking,
    /// The package is being (re)built, and why.
    Building(String),
}

/// A package ready to mint.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub fingerprint: ProjectFingerprint,
    /// The clear package's CIDs; `token_uri` is the sealed package's when the project has a
    /// current one (see `sealed_token_uri`).
    pub cids: PackageManifest,
    pub metadata: TokenMetadata,
    /// Why the package was (re)built, when it was.
    pub rebuilt: Option<String>,
}

/// Fingerprint the project (`fingerprint.json`), then check its package for `surveyor` and
/// rebuild it when missing or stale (see the module docs).
pub fn prepare_package(
    project: &Path,
    surveyor: Address,
    events: &mut dyn FnMut(PrepareEvent),
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> PackageResult<Prepared> {
    let pkg = project.join(PACKAGE_DIR);
    let existing = read_metadata(&pkg).ok();
    let fp = package::compute_project_fingerprint(project, progress, cancel)?;
    fp.write(project)?;
    events(PrepareEvent::Fingerprinted(fp.model_0x.clone()));
    cancel.check()?;

    let stale = match &existing {
        None if !pkg.join(METADATA_JSON).is_file() => Some("no package yet".to_string()),
        None => Some("its metadata.json is not TwinMint metadata".to_string()),
        Some(m) if m.twinmint.surveyor.address != Some(surveyor) => Some(format!(
            "it names surveyor {} but the attesting key is {surveyor}",
            m.twinmint
                .surveyor
                .address
                .map(|a| a.to_string())
                .unwrap_or_else(|| "none".into())
        )),
        Some(m) if m.twinmint.fingerprint.model_hex0x() != fp.model_0x => {
            Some("its fingerprint is not the project's".into())
        }
        Some(_) => {
            events(PrepareEvent::Checking);
            let report =
                crate::verify::verify(&PackageSource::Dir(pkg.clone()), Some(project), None);
            (!report.ok()).then(|| {
                let n = report.differences().count();
                let files: std::collections::BTreeSet<&str> =
                    report.differences().map(|c| c.subject.as_str()).collect();
                let files: Vec<&str> = files.into_iter().collect();
                format!(
                    "it does not match the project ({n} difference(s): {})",
                    files.join(", ")
                )
            })
        }
    };
    if let Some(reason) = &stale {
        events(PrepareEvent::Building(reason.clone()));
        package::build_with(
            project,
            &rebuild_options(&pkg, existing.as_ref(), surveyor),
            progress,
            cancel,
        )?;
        // Never mint a package that does not match the project as it is now.
        let report = crate::verify::verify(&PackageSource::Dir(pkg.clone()), Some(project), None);
        if !report.ok() {
            return Err(PackageError::invalid(
                &pkg,
                format!("the rebuilt package does not match the project:\n{report}"),
            ));
        }
    }
    let mut cids = PackageManifest::read(&pkg)?;
    if let Some(uri) = sealed_token_uri(project, &fp.model_0x)? {
        cids.token_uri = uri;
    }
    Ok(Prepared {
        fingerprint: fp,
        cids,
        metadata: read_metadata(&pkg)?,
        rebuilt: stale,
    })
}

/// Private by default once sealed: a project with a sealed package (`twinmint seal`) is minted
/// with the sealed package's URI, so the token never points at the data in the clear. A sealed
/// package of another fingerprint (the project changed since) is refused rather than silently
/// minting the clear package; a damaged one too.
fn sealed_token_uri(project: &Path, fingerprint: &str) -> PackageResult<Option<String>> {
    let dir = project.join(crate::seal::SEALED_DIR);
    if !crate::verify::is_sealed(&dir) {
        return Ok(None);
    }
    let cids: crate::seal::SealedCids =
        package::project::read_json(&dir.join(crate::seal::CIDS_JSON))?;
    if cids.fingerprint != fingerprint {
        return Err(PackageError::invalid(
            &dir,
            format!(
                "sealed for fingerprint {}, but the project's is now {fingerprint}: run `twinmint \
                 seal` again (or remove the folder to mint the clear package)",
                cids.fingerprint
            ),
        ));
    }
    let report = crate::verify::verify_sealed(&dir, None, None);
    if !report.ok() {
        return Err(PackageError::invalid(
            &dir,
            format!("the sealed package does not verify:\n{report}"),
        ));
    }
    Ok(Some(cids.token_uri))
}

/// A rebuild uses the options the old package was built with (recorded in its `cids.json`),
/// for the attesting surveyor: a package that was only damaged comes back byte for byte, with
/// the minted token URI. Without a readable record, the defaults — keeping the surveyor's name
/// when the old metadata names this surveyor.
fn rebuild_options(pkg: &Path, old: Option<&TokenMetadata>, surveyor: Address) -> PackageOptions {
    let recorded = PackageManifest::read(pkg).ok().and_then(|m| m.options);
    let mut o = recorded.unwrap_or_default();
    if o.surveyor_address != Some(surveyor) {
        o.surveyor_name = old
            .filter(|m| m.twinmint.surveyor.address == Some(surveyor))
            .and_then(|m| m.twinmint.surveyor.name.clone());
        o.surveyor_address = Some(surveyor);
    }
    o
}

/// A package's `metadata.json`.
pub fn read_metadata(package_dir: &Path) -> PackageResult<TokenMetadata> {
    let path = package_dir.join(METADATA_JSON);
    let bytes = std::fs::read(&path).map_err(|e| PackageError::io(&path, e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| PackageError::invalid(&path, format!("not TwinMint metadata: {e}")))
}

/// Record a mint in the project's `chain.json` — earlier transactions of the same deployment
/// are kept, another deployment's record is replaced — and only then drop the mint journal:
/// until the record is written, the journal lets a rerun recover the mint. Returns the path of
/// `chain.json`.
pub fn record_mint(
    project: &Path,
    network: &str,
    chain_id: u64,
    contract: Address,
    fingerprint: B256,
    outcome: &MintOutcome,
) -> ChainResult<std::path::PathBuf> {
    let record_path = record_token_tx(
        project,
        network,
        chain_id,
        contract,
        outcome.token_id,
        fingerprint,
        "mint",
        outcome.tx_hash.map(|h| (h, outcome.block)),
    )?;
    PendingMint::remove(&project.join(MINT_JOURNAL))?;
    Ok(record_path)
}

/// Record in the project's `chain.json` that `token_id` now carries `fingerprint`, and the
/// transaction (`action`, hash, block) that made it so, once; a record for another chain or
/// contract is replaced. Shared by the mint and the resurvey.
#[allow(clippy::too_many_arguments)]
pub fn record_token_tx(
    project: &Path,
    network: &str,
    chain_id: u64,
    contract: Address,
    token_id: u64,
    fingerprint: B256,
    action: &str,
    tx: Option<(crate::chain::TxHash, Option<u64>)>,
) -> ChainResult<std::path::PathBuf> {
    let record_path = project.join(package::CHAIN_JSON);
    let mut record = ChainRecord::read(&record_path)
        .ok()
        .filter(|r| r.chain_id == chain_id && r.contract == contract)
        .unwrap_or_else(|| ChainRecord::new(network.to_string(), chain_id, contract));
    record.token_id = Some(token_id);
    record.fingerprint = Some(fingerprint);
    if let Some((h, block)) = tx
        && !record.tx_hashes.iter().any(|t| t.hash == h)
    {
        record.push_tx(action, h, block);
    }
    record.write(&record_path)?;
    Ok(record_path)
}
