//! Sealed packages: the project's data encrypted for the readers the owner names, with only a
//! short, deliberate list public.
//!
//! ```text
//! forest-a.twinmint/sealed/
//!   metadata.json        PUBLIC: name, the model fingerprint and its parts, asset type, the
//!                        sealed files' CIDs/SHA-256/sizes, access.json's CID, "sealed": true
//!   access.json          PUBLIC: per reader address and role, the content key wrapped to their
//!                        secp256k1 key (ECIES); per regulator, the carbon key
//!   *.enc                the project files, AES-256-GCM STREAM (see [`stream`])
//!   carbon.enc           the regulator's view: stand carbon and survey history, no scans
//!   cids.json            CIDs of every file above, the folder CID and the token URI
//! ```
//!
//! **What is public, deliberately**: the fingerprint (already on chain), the asset type, the
//! number and sizes of sealed files, and the reader and regulator addresses with their roles
//! (a lender's address is public on chain once the pledge is offered). Not public: positions,
//! extents, CRS, capture dates, tree counts, stock, value, imagery — everything else.
//!
//! **Two integrity layers.** CIDs and SHA-256 in `metadata.json` / `cids.json` cover the
//! *ciphertext*, so anyone can check that the pinned folder is the one the token names without
//! a key; AES-GCM authenticates every segment; and the model fingerprint covers the
//! *plaintext*, so a reader recomputes it after decrypting ([`crate::verify`]'s sealed path).
//!
//! **Keys.** Sealing draws a fresh 256-bit content key; the carbon key is derived from it
//! (HKDF, so every content reader can also re-grant the regulator's view) and wrapped on its own
//! for regulators, who never receive the content key. [`grant`] re-wraps the same content key
//! for a new reader: the ciphertexts do not change, only `access.json`, `metadata.json` and the
//! folder CID. **Revocation** works for future versions only: [`seal`] again without the
//! reader draws a new key and re-encrypts everything; what a reader once decrypted (or the key
//! they once unwrapped from an old version still pinned somewhere) cannot be taken back.

pub mod ecies;
pub mod error;
pub mod reader;
pub mod stream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use hkdf::Hkdf;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use rand08::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

pub use ecies::WrappedKey;
/// A reader's secret key (secp256k1), as [`crate::chain::Wallet::secret_key`] gives it.
pub use error::{SealError, SealResult};
pub use k256::SecretKey;
pub use reader::ReaderCard;

use crate::cid::{Cid, ImportOptions};
use crate::fingerprint::ModelFingerprint;
use crate::package::project::{FINGERPRINT_JSON, ProjectFingerprint};
use crate::package::{PACKAGE_DIR, PackagedFile, packaged_file, token_uri};

/// The sealed package's folder inside a project.
pub const SEALED_DIR: &str = "sealed";
/// `sealed/metadata.json` (public).
pub const METADATA_JSON: &str = "metadata.json";
/// `sealed/access.json` (public).
pub const ACCESS_JSON: &str = "access.json";
/// `sealed/cids.json`.
pub const CIDS_JSON: &str = "cids.json";
/// `sealed/carbon.enc`: the regulator's view.
pub const CARBON_ENC: &str = "carbon.enc";
/// Name the carbon view is sealed under (its AAD and key info).
pub const CARBON_NAME: &str = "carbon.json";
/// Layout version of the sealed files.
pub const SEALED_SCHEMA_VERSION: u32 = 1;
/// How the package is encrypted, as `metadata.json` states it.
pub const CIPHER: &str = "AES-256-GCM STREAM (1 MiB segments, HKDF-SHA256 file keys); content key \
                          wrapped per reader by ECIES secp256k1 / HKDF-SHA256 / AES-256-GCM";

/// What a reader may do with the package (shown, not enforced: a key decrypts everything).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Lender,
    Reader,
    /// Receives only the carbon view.
    Regulator,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Lender => "lender",
            Role::Reader => "reader",
            Role::Regulator => "regulator",
        }
    }
}

/// One wrapped key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub address: Address,
    pub role: Role,
    /// The reader's public key, SEC 1 compressed hex (recovered from their card).
    pub public_key: String,
    pub key: WrappedKey,
}

/// `access.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub schema_version: u32,
    /// The model fingerprint, `0x…`.
    pub fingerprint: String,
    /// Content readers (owner, lender, readers).
    pub readers: Vec<Grant>,
    /// Regulators: the carbon key only.
    pub regulators: Vec<Grant>,
}

/// A sealed project file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFile {
    /// Its path in the project (`cloud.laz`, `package/report.pdf`).
    pub name: String,
    /// The ciphertext.
    pub sealed: PackagedFile,
}

/// The `twinmint` object of the public `metadata.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealedRecord {
    pub schema_version: u32,
    pub sealed: bool,
    pub cipher: String,
    pub fingerprint: ModelFingerprint,
    /// What stays public (the list in the module docs).
    pub public: Vec<String>,
    /// Sealed files by their name in the folder (`cloud.laz.enc`).
    pub files: BTreeMap<String, SealedFile>,
    /// `access.json`.
    pub access: PackagedFile,
}

/// The public `metadata.json` of a sealed package (ERC-721 metadata with no image: the
/// thumbnail would show the asset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealedMetadata {
    pub name: String,
    pub description: String,
    pub twinmint: SealedRecord,
}

/// `cids.json` of a sealed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedCids {
    pub schema_version: u32,
    /// CID of the folder of every file but `cids.json`.
    pub directory: Cid,
    pub token_uri: String,
    pub fingerprint: String,
    pub files: BTreeMap<String, PackagedFile>,
}

/// The public short list.
pub fn public_fields() -> Vec<String> {
    [
        "the model fingerprint and its three part hashes (on chain already)",
        "that the package is sealed, and how",
        "the sealed files' names, sizes, SHA-256 and CIDs (of the ciphertext)",
        "reader and regulator addresses and roles, with their wrapped keys",
    ]
    .map(String::from)
    .to_vec()
}

/// Project files sealed, when present: the cloud, its manifest, the reconstruction and its
/// outputs, the simulation and its tables, the resurvey, the package's report and thumbnail.
fn project_files(project: &Path) -> SealResult<Vec<String>> {
    use capture::layout as l;
    let mut names: Vec<String> = [
        l::MANIFEST,
        l::CLOUD,
        l::RECONSTRUCTION_JSON,
        l::MODEL_GLB,
        l::DTM_TIF,
        l::CHM_TIF,
        l::SIMULATION_JSON,
        l::STAND_CSV,
        l::TREES_CSV,
        l::COLLATERAL_CSV,
        l::RESURVEY_JSON,
        l::DRIFT_REPORT_PDF,
        FINGERPRINT_JSON,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for f in [
        crate::package::REPORT_HTML,
        crate::package::REPORT_PDF,
        crate::package::THUMBNAIL_PNG,
        crate::package::METADATA_JSON,
    ] {
        names.push(format!("{PACKAGE_DIR}/{f}"));
    }
    names.retain(|n| project.join(n).is_file());
    for need in [
        l::MANIFEST,
        l::CLOUD,
        l::RECONSTRUCTION_JSON,
        FINGERPRINT_JSON,
    ] {
        if !names.iter().any(|n| n == need) {
            return Err(SealError::Invalid {
                path: project.join(need),
                reason: "missing: a sealed package needs the packaged project (run `twinmint \
                         package` first)"
                    .into(),
            });
        }
    }
    Ok(names)
}

/// `package/report.pdf` → `package.report.pdf.enc`.
fn sealed_name(name: &str) -> String {
    format!("{}.enc", name.replace('/', "."))
}

/// The carbon key: derived from the content key, so content readers can re-grant regulators.
fn carbon_key(content: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let hk = Hkdf::<Sha256>::new(None, content);
    let mut k = Zeroizing::new([0u8; 32]);
    hk.expand(b"twinmint-carbon-key-v1", k.as_mut())
        .expect("valid HKDF length");
    k
}

fn grant_for(card: &ReaderCard, role: Role, key: &[u8; 32]) -> SealResult<Grant> {
    let pk = card.public_key()?;
    Ok(Grant {
        address: card.address,
        role,
        public_key: hex::encode(pk.to_encoded_point(true).as_bytes()),
        key: ecies::wrap(key, &pk, card.address.as_slice()),
    })
}

/// The regulator's view (`carbon.json` inside `carbon.enc`): the stand's carbon at the survey
/// and projected, and the survey history — never the scans, positions or trees.
pub fn carbon_view(project: &Path, fp: &ModelFingerprint) -> SealResult<serde_json::Value> {
    let mut v = serde_json::json!({
        "fingerprint": fp.model_hex0x(),
    });
    let sim_path = project.join(capture::layout::SIMULATION_JSON);
    if sim_path.is_file() {
        let sim: growth_model::Simulation = crate::package::project::read_json(&sim_path)?;
        if let Some(inv) = &sim.inventory {
            v["inventory"] = serde_json::json!({
                "year": inv.year,
                "area_ha": inv.area_ha,
                "trees": inv.totals.trees,
                "co2e_t": inv.totals.co2e_t,
                "co2e_t_per_ha": inv.totals.co2e_t_per_ha,
                "carbon_t": inv.totals.carbon_t,
                "co2e_t_per_ha_p05": inv.totals.co2e_t_per_ha_p05,
                "co2e_t_per_ha_p95": inv.totals.co2e_t_per_ha_p95,
            });
        }
        let s = &sim.stand;
        v["projection"] = serde_json::json!({
            "year": s.year,
            "stock_co2e_t_p10": s.stock_co2e_t.p10,
            "stock_co2e_t_p50": s.stock_co2e_t.p50,
            "stock_co2e_t_p90": s.stock_co2e_t.p90,
            "credits_cumulative_t_p50": s.credits_cumulative_t.p50,
        });
    }
    let rs = project.join(capture::layout::RESURVEY_JSON);
    if rs.is_file() {
        let r: serde_json::Value = crate::package::project::read_json(&rs)?;
        v["history"] = serde_json::json!({
            "previous_fingerprint": r.pointer("/previous/fingerprint"),
            "elapsed_years": r.get("elapsed_years"),
            "drift_summary": r.get("summary"),
            "drift_summary_sha256": r.get("summary_sha256"),
        });
    }
    Ok(v)
}

/// The sealing request: who reads.
#[derive(Clone, Debug)]
pub struct SealRequest<'a> {
    pub project: &'a Path,
    /// Content readers with their roles (the owner first, usually).
    pub readers: Vec<(ReaderCard, Role)>,
    pub regulators: Vec<ReaderCard>,
}

/// What [`seal`] and [`grant`] wrote.
#[derive(Clone, Debug)]
pub struct Sealed {
    pub dir: PathBuf,
    pub cids: SealedCids,
    /// Plaintext bytes sealed.
    pub plaintext_bytes: u64,
}

/// Seal the packaged project into `PROJECT/sealed/` under a fresh content key (one commit).
pub fn seal(req: &SealRequest) -> SealResult<Sealed> {
    if req.readers.is_empty() {
        return Err(SealError::Reader(
            "name at least one reader (the owner), or nobody could ever open the package".into(),
        ));
    }
    let project = req.project;
    capture::project::open(project)?;
    let names = project_files(project)?;
    let fp = ProjectFingerprint::read(project)?.fingerprint;
    let mut key = Zeroizing::new([0u8; 32]);
    rand08::rngs::OsRng.fill_bytes(key.as_mut());
    let carbon = carbon_key(&key);
    let mut commit = capture::commit::Commit::begin(project)?;
    let stage = commit.path(SEALED_DIR);
    std::fs::create_dir_all(&stage).map_err(|e| SealError::io(&stage, e))?;
    let mut files = BTreeMap::new();
    let mut plaintext = 0u64;
    for name in &names {
        let src_path = project.join(name);
        let file = sealed_name(name);
        let dst_path = stage.join(&file);
        let mut src = std::io::BufReader::new(
            std::fs::File::open(&src_path).map_err(|e| SealError::io(&src_path, e))?,
        );
        let mut dst = std::io::BufWriter::new(
            std::fs::File::create(&dst_path).map_err(|e| SealError::io(&dst_path, e))?,
        );
        plaintext += stream::seal(&key, name, &mut src, &mut dst)
            .map_err(|e| SealError::io(&dst_path, e))?;
        std::io::Write::flush(&mut dst).map_err(|e| SealError::io(&dst_path, e))?;
        drop(dst);
        files.insert(
            file,
            SealedFile {
                name: name.clone(),
                sealed: packaged_file(&dst_path)?,
            },
        );
    }
    let view = serde_json::to_vec_pretty(&carbon_view(project, &fp)?).expect("JSON");
    let carbon_path = stage.join(CARBON_ENC);
    let mut out = Vec::new();
    stream::seal(&carbon, CARBON_NAME, &mut &view[..], &mut out)
        .map_err(|e| SealError::io(&carbon_path, e))?;
    std::fs::write(&carbon_path, &out).map_err(|e| SealError::io(&carbon_path, e))?;
    files.insert(
        CARBON_ENC.to_string(),
        SealedFile {
            name: CARBON_NAME.into(),
            sealed: packaged_file(&carbon_path)?,
        },
    );
    let access = Access {
        schema_version: SEALED_SCHEMA_VERSION,
        fingerprint: fp.model_hex0x(),
        readers: req
            .readers
            .iter()
            .map(|(c, r)| grant_for(c, *r, &key))
            .collect::<SealResult<_>>()?,
        regulators: req
            .regulators
            .iter()
            .map(|c| grant_for(c, Role::Regulator, &carbon))
            .collect::<SealResult<_>>()?,
    };
    let cids = finish(&stage, &fp, files, &access)?;
    commit.commit()?;
    Ok(Sealed {
        dir: project.join(SEALED_DIR),
        cids,
        plaintext_bytes: plaintext,
    })
}

/// Write `access.json`, `metadata.json` and `cids.json` into the staged folder.
fn finish(
    stage: &Path,
    fp: &ModelFingerprint,
    files: BTreeMap<String, SealedFile>,
    access: &Access,
) -> SealResult<SealedCids> {
    let access_path = stage.join(ACCESS_JSON);
    capture::atomic::write_json(&access_path, access)?;
    let meta = SealedMetadata {
        name: format!("TwinMint sealed asset {}", &fp.model_hex0x()[..10]),
        description: "A surveyed asset's digital twin, sealed for its owner, lender and \
                      regulator. The fingerprint is public; the data opens with a reader key."
            .into(),
        twinmint: SealedRecord {
            schema_version: SEALED_SCHEMA_VERSION,
            sealed: true,
            cipher: CIPHER.into(),
            fingerprint: fp.clone(),
            public: public_fields(),
            files,
            access: packaged_file(&access_path)?,
        },
    };
    capture::atomic::write_json(&stage.join(METADATA_JSON), &meta)?;
    let dir = crate::cid::import_dir(stage, &ImportOptions::default())
        .map_err(crate::package::PackageError::from)?;
    let mut listed = BTreeMap::new();
    for e in std::fs::read_dir(stage).map_err(|e| SealError::io(stage, e))? {
        let e = e.map_err(|e| SealError::io(stage, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        listed.insert(name, packaged_file(&e.path())?);
    }
    let cids = SealedCids {
        schema_version: SEALED_SCHEMA_VERSION,
        token_uri: token_uri(&dir.root.cid),
        directory: dir.root.cid,
        fingerprint: fp.model_hex0x(),
        files: listed,
    };
    capture::atomic::write_json(&stage.join(CIDS_JSON), &cids)?;
    Ok(cids)
}

/// Read a sealed folder's `metadata.json` and `access.json`.
pub fn read(sealed: &Path) -> SealResult<(SealedMetadata, Access)> {
    let meta: SealedMetadata = crate::package::project::read_json(&sealed.join(METADATA_JSON))?;
    let access: Access = crate::package::project::read_json(&sealed.join(ACCESS_JSON))?;
    Ok((meta, access))
}

/// The content key of `secret`'s address (or, for a regulator, the carbon key and `true`).
pub fn unwrap_key(
    sealed: &Path,
    access: &Access,
    secret: &SecretKey,
) -> SealResult<(Zeroizing<[u8; 32]>, Role)> {
    let address = reader::address_of(&secret.public_key());
    let grant = access
        .readers
        .iter()
        .chain(&access.regulators)
        .find(|g| g.address == address)
        .ok_or_else(|| SealError::NotAReader {
            path: sealed.join(ACCESS_JSON),
            address: address.to_checksum(None),
            readers: access
                .readers
                .iter()
                .chain(&access.regulators)
                .map(|g| format!("{} ({})", g.address.to_checksum(None), g.role.label()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let key = ecies::unwrap(&grant.key, secret, address.as_slice()).map_err(|e| match e {
        SealError::WrongKey => SealError::Invalid {
            path: sealed.join(ACCESS_JSON),
            reason: format!(
                "the key wrapped for {} does not open with that address's key (altered access list)",
                address.to_checksum(None)
            ),
        },
        other => other,
    })?;
    Ok((key, grant.role))
}

/// Add readers (or regulators) to a sealed package without re-encrypting: `secret` is a content
/// reader's key (usually the owner's). One commit; returns the new CIDs (the folder CID
/// changes, the ciphertexts do not).
pub fn grant(
    project: &Path,
    secret: &SecretKey,
    readers: &[(ReaderCard, Role)],
) -> SealResult<Sealed> {
    let sealed = project.join(SEALED_DIR);
    let (meta, mut access) = read(&sealed)?;
    let (key, role) = unwrap_key(&sealed, &access, secret)?;
    if role == Role::Regulator {
        return Err(SealError::Reader(
            "a regulator's key opens the carbon view only and cannot grant access".into(),
        ));
    }
    let carbon = carbon_key(&key);
    for (card, role) in readers {
        let list = if *role == Role::Regulator {
            &mut access.regulators
        } else {
            &mut access.readers
        };
        list.retain(|g| g.address != card.address);
        let k: &[u8; 32] = if *role == Role::Regulator {
            &carbon
        } else {
            &key
        };
        list.push(grant_for(card, *role, k)?);
    }
    let mut commit = capture::commit::Commit::begin(project)?;
    let stage = commit.path(SEALED_DIR);
    std::fs::create_dir_all(&stage).map_err(|e| SealError::io(&stage, e))?;
    for file in meta.twinmint.files.keys() {
        let (src, dst) = (sealed.join(file), stage.join(file));
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(|e| SealError::io(&src, e))?;
        }
    }
    let cids = finish(
        &stage,
        &meta.twinmint.fingerprint,
        meta.twinmint.files,
        &access,
    )?;
    commit.commit()?;
    Ok(Sealed {
        dir: sealed,
        cids,
        plaintext_bytes: 0,
    })
}

/// Decrypt a sealed package with a content reader's key into a new project folder `out`
/// (written whole, then renamed into place: never half a project). Every file is authenticated;
/// the first that is not fails naming it.
pub fn open(sealed: &Path, secret: &SecretKey, out: &Path) -> SealResult<PathBuf> {
    let (meta, access) = read(sealed)?;
    let (key, role) = unwrap_key(sealed, &access, secret)?;
    if role == Role::Regulator {
        return Err(SealError::Reader(format!(
            "{} is a regulator of this package: it opens the carbon view only (`twinmint \
             open-sealed --carbon`)",
            reader::address_of(&secret.public_key()).to_checksum(None)
        )));
    }
    if out.exists() {
        return Err(SealError::Invalid {
            path: out.to_path_buf(),
            reason: "already exists: choose a new folder to open the package into".into(),
        });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| SealError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".twinmint-open-")
        .tempdir_in(parent)
        .map_err(|e| SealError::io(parent, e))?;
    for (file, rec) in &meta.twinmint.files {
        if file == CARBON_ENC {
            continue;
        }
        if rec.name.contains("..") || rec.name.starts_with('/') {
            return Err(SealError::Invalid {
                path: sealed.join(METADATA_JSON),
                reason: format!("file name {:?} leaves the project folder", rec.name),
            });
        }
        let dst = tmp.path().join(&rec.name);
        if let Some(d) = dst.parent() {
            std::fs::create_dir_all(d).map_err(|e| SealError::io(d, e))?;
        }
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(&dst).map_err(|e| SealError::io(&dst, e))?,
        );
        stream::open(&key, &rec.name, &sealed.join(file), &mut w)?;
        std::io::Write::flush(&mut w).map_err(|e| SealError::io(&dst, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, out).map_err(|e| SealError::io(out, e))?;
    Ok(out.to_path_buf())
}

/// Decrypt the regulator's carbon view (any reader or regulator key).
pub fn open_carbon(sealed: &Path, secret: &SecretKey) -> SealResult<serde_json::Value> {
    let (_meta, access) = read(sealed)?;
    let (key, role) = unwrap_key(sealed, &access, secret)?;
    let carbon = if role == Role::Regulator {
        key
    } else {
        carbon_key(&key)
    };
    let mut out = Vec::new();
    stream::open(&carbon, CARBON_NAME, &sealed.join(CARBON_ENC), &mut out)?;
    serde_json::from_slice(&out).map_err(|e| SealError::Invalid {
        path: sealed.join(CARBON_ENC),
        reason: format!("the carbon view is not JSON: {e}"),
    })
}
