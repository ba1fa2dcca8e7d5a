//! `verify` of a sealed package ([`crate::seal`]): the ciphertext checks anyone can run, and —
//! with a reader's key — the plaintext checks: every segment authenticates and the model
//! fingerprint recomputed from the decrypted project is the one the metadata and the chain
//! name. Without a key the report says what it could not check.

use std::path::Path;

use k256::SecretKey;

use super::{ChainReads, Status, VerifyReport, check_combined, compare_file};
use crate::chain::B256;
use crate::package::{packaged_file, token_uri};
use crate::seal::{
    self, ACCESS_JSON, CARBON_ENC, CIDS_JSON, METADATA_JSON, Role, SealedCids, SealedMetadata,
};

/// Whether `dir` is a sealed package folder.
pub fn is_sealed(dir: &Path) -> bool {
    dir.join(ACCESS_JSON).is_file()
}

/// Verify the sealed package in `dir`. See the module docs.
pub fn verify_sealed(
    dir: &Path,
    chain: Option<&ChainReads>,
    reader: Option<&SecretKey>,
) -> VerifyReport {
    verify_sealed_into(dir, chain, reader, None)
}

/// [`verify_sealed`], keeping the decrypted project at `open_into` (a new folder) when a content
/// reader's key opens it — for a caller that shows the project next (the officer's view), so
/// the package is decrypted once.
pub fn verify_sealed_into(
    dir: &Path,
    chain: Option<&ChainReads>,
    reader: Option<&SecretKey>,
    open_into: Option<&Path>,
) -> VerifyReport {
    let mut report = VerifyReport {
        package: dir.display().to_string(),
        project: None,
        chain: chain.map(|c| format!("{}:{}#{}", c.chain_id, c.contract, c.token_id)),
        fingerprint: None,
        checks: Vec::new(),
    };
    let meta: SealedMetadata = match crate::package::project::read_json(&dir.join(METADATA_JSON)) {
        Ok(m) => m,
        Err(e) => {
            report.error(METADATA_JSON, "parse", e);
            return report;
        }
    };
    let fp = meta.twinmint.fingerprint.clone();
    report.fingerprint = Some(fp.model_hex0x());
    check_combined(&mut report, &fp);

    // Ciphertext: size, SHA-256 and CID of every sealed file and of access.json.
    let listed = meta
        .twinmint
        .files
        .iter()
        .map(|(f, s)| (f.clone(), s.sealed.clone()))
        .chain([(ACCESS_JSON.to_string(), meta.twinmint.access.clone())]);
    for (file, rec) in listed {
        let path = dir.join(&file);
        if !path.is_file() {
            report.push(&file, "file", Status::Missing);
            continue;
        }
        match packaged_file(&path) {
            Ok(a) => compare_file(&mut report, &file, &rec, &a, "metadata.json"),
            Err(e) => report.error(&file, "read", e),
        }
    }

    // cids.json and the folder CID.
    let directory = folder_cid(dir);
    match crate::package::project::read_json::<SealedCids>(&dir.join(CIDS_JSON)) {
        Ok(c) => {
            match &directory {
                Ok(d) => {
                    report.compare(
                        CIDS_JSON,
                        "directory CID",
                        &c.directory.to_string(),
                        &d.to_string(),
                    );
                    report.compare(CIDS_JSON, "token URI", &c.token_uri, &token_uri(d));
                }
                Err(e) => report.error(CIDS_JSON, "directory CID", e),
            }
            report.compare(CIDS_JSON, "fingerprint", &c.fingerprint, &fp.model_hex0x());
        }
        Err(e) => report.error(CIDS_JSON, "read", e),
    }

    if let Some(c) = chain {
        let ours = B256::from(fp.model);
        let latest = c.fingerprint.to_string();
        let what = format!("token {} fingerprint", c.token_id);
        if c.history.last() == Some(&ours) {
            report.compare("chain", &what, &latest, &latest);
        } else {
            report.push(
                "chain",
                &format!("{what} (not the token's latest survey)"),
                Status::Mismatch {
                    expected: latest,
                    actual: ours.to_string(),
                },
            );
        }
        if let Ok(d) = &directory {
            report.compare(
                "chain",
                &format!("token {} URI", c.token_id),
                &c.token_uri,
                &token_uri(d),
            );
        }
    }

    // Plaintext, with a key.
    let Some(secret) = reader else {
        report.note(
            "plaintext",
            "not checked",
            "no reader key given: the ciphertext's hashes and CIDs were checked, not that it \
             decrypts to the fingerprinted model (pass --keystore of a reader)",
        );
        return report;
    };
    let access = match seal::read(dir) {
        Ok((_, a)) => a,
        Err(e) => {
            report.error(ACCESS_JSON, "read", e);
            return report;
        }
    };
    let role = match seal::unwrap_key(dir, &access, secret) {
        Ok((_, role)) => role,
        Err(e) => {
            report.error(ACCESS_JSON, "reader key", e);
            return report;
        }
    };
    if role == Role::Regulator {
        match seal::open_carbon(dir, secret) {
            Ok(v) => report.compare(
                CARBON_ENC,
                "carbon view decrypts, for the fingerprint",
                &fp.model_hex0x(),
                v.get("fingerprint").and_then(|f| f.as_str()).unwrap_or(""),
            ),
            Err(e) => report.error(CARBON_ENC, "decrypt", e),
        }
        report.note(
            "plaintext",
            "model fingerprint",
            "a regulator's key opens the carbon view only; the model was not recomputed",
        );
        return report;
    }
    if report.differences().count() > 0 {
        return report;
    }
    // Decrypting authenticates every segment of every file; the first that does not fails
    // naming it.
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => {
            report.error("plaintext", "temporary folder", e);
            return report;
        }
    };
    let temporary = tmp.path().join("opened");
    let out = open_into.unwrap_or(&temporary);
    if let Err(e) = seal::open(dir, secret, out) {
        report.error("plaintext", "decrypt", e);
        return report;
    }
    match crate::package::compute_project_fingerprint(
        out,
        &mut capture::NoProgress,
        &capture::CancelToken::new(),
    ) {
        Ok(p) => {
            let r = &p.fingerprint;
            for (what, a, b) in [
                (
                    "cloud root (decrypted cloud.laz)",
                    fp.cloud_root,
                    r.cloud_root,
                ),
                (
                    "capture hash (decrypted manifest)",
                    fp.capture_hash,
                    r.capture_hash,
                ),
                (
                    "reconstruction hash (decrypted reconstruction and simulation)",
                    fp.reconstruction_hash,
                    r.reconstruction_hash,
                ),
                ("model fingerprint of the plaintext", fp.model, r.model),
            ] {
                report.compare("plaintext", what, &hex::encode(a), &hex::encode(b));
            }
        }
        Err(e) => report.error("plaintext", "fingerprint", e),
    }
    report
}

/// CID of the folder without `cids.json`.
fn folder_cid(dir: &Path) -> Result<crate::cid::Cid, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let name = e.file_name();
        if name == CIDS_JSON || !e.path().is_file() {
            continue;
        }
        let dst = tmp.path().join(&name);
        if std::fs::hard_link(e.path(), &dst).is_err() {
            std::fs::copy(e.path(), &dst).map_err(|x| format!("{}: {x}", e.path().display()))?;
        }
    }
    crate::cid::import_dir(tmp.path(), &Default::default())
        .map(|d| d.root.cid)
        .map_err(|e| e.to_string())
}
