//! The NFR (non-fungible right) package of a project: what the token points to and what a lender
//! inspects.
//!
//! ```text
//! forest-a.twinmint/
//!   fingerprint.json        the model fingerprint and its parts (also `twinmint fingerprint`)
//!   package/
//!     metadata.json         ERC-721 metadata; `twinmint` object = the root of trust
//!     thumbnail.png         top-down hillshaded view (metadata `image`)
//!     model.glb             the reconstructed model (metadata `animation_url`)
//!     report.html           the collateral report for credit officers
//!     cids.json             CIDv1 of every file and of the folder, and the token URI
//! ```
//!
//! [`build`] reads the project (`manifest.json`, `cloud.laz`, `reconstruction.json`,
//! `model.glb`, and `simulation.json` / `chain.json` when present), computes the fingerprint
//! ([`project::compute_project_fingerprint`]), and stages `fingerprint.json` and every package
//! file in one [`capture::commit::Commit`] — a crash never leaves half a package or a
//! fingerprint without its package, and the old ones stay intact until the new ones are complete.
//!
//! **What the IPFS folder is.** The *directory CID* in `cids.json` is the CID of the folder of
//! the four content files (`metadata.json`, `thumbnail.png`, `model.glb`, `report.html`):
//! `cids.json` lists that CID, so it cannot be inside it. Pin those four (e.g. `ipfs add -r
//! --cid-version 1 --raw-leaves` on a copy without `cids.json`); the token URI is
//! `ipfs://<directory CID>/metadata.json`.
//!
//! **Determinism.** Nothing in a package depends on the clock or the machine: the same project
//! and options give the same bytes, hence the same CIDs, so rebuilding a minted package
//! reproduces the token URI (unless [`PackageOptions::chain_record`] adds the mint to the
//! report).

pub mod error;
pub mod metadata;
mod pdf;
pub mod project;
// Internal modules, public (hidden from the docs) only so the tests in tests/units reach them.
#[doc(hidden)]
pub mod report;
pub mod thumbnail;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use capture::project::Manifest;
use capture::{CancelToken, NoProgress, Progress};
use serde::{Deserialize, Serialize};

pub use error::{PackageError, PackageResult};
pub use metadata::{
    AssetType, Attribute, METADATA_SCHEMA_VERSION, PackagedFile, Surveyor, TokenMetadata,
    TwinMintRecord,
};
pub use project::{
    CHAIN_JSON, Coverage, Covers, FINGERPRINT_JSON, MODEL_GLB, PACKAGE_DIR, ProjectFingerprint,
    RECONSTRUCTION_JSON, SIMULATION_JSON, compute_project_fingerprint, surveyor_identity,
};

use crate::chain::Address;
use crate::cid::{Cid, ImportOptions};
use project::ReconstructionView;

/// `package/metadata.json`.
pub const METADATA_JSON: &str = "metadata.json";
/// `package/thumbnail.png`.
pub const THUMBNAIL_PNG: &str = "thumbnail.png";
/// `package/report.html`.
pub const REPORT_HTML: &str = "report.html";
/// `package/cids.json` ([`PackageManifest`]).
pub const CIDS_JSON: &str = "cids.json";
/// The files of the IPFS folder (sorted, as the directory node lists them).
/// The collateral report as PDF (same content as `report.html`, for filing and print).
pub const REPORT_PDF: &str = "report.pdf";
pub const CONTENT_FILES: [&str; 5] = [
    METADATA_JSON,
    MODEL_GLB,
    REPORT_HTML,
    REPORT_PDF,
    THUMBNAIL_PNG,
];
/// Version of `cids.json`'s layout.
pub const CIDS_SCHEMA_VERSION: u32 = 1;

/// What the package says about the asset and who vouches for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageOptions {
    /// The surveyor's on-chain address (the key that will attest the mint), shown in the
    /// metadata and the report. Not part of the fingerprint: the attestation binds it on chain.
    pub surveyor_address: Option<Address>,
    /// The surveyor's name or licence, shown in the metadata and the report (not hashed).
    pub surveyor_name: Option<String>,
    /// Token name (default: "TwinMint forest — <project name>").
    pub name: Option<String>,
    /// Token description (default: a one-line summary of the asset).
    pub description: Option<String>,
    /// ERC-721 `external_url` (e.g. the project's page at the lender).
    pub external_url: Option<String>,
    /// Appended to the generated attributes.
    pub extra_attributes: Vec<Attribute>,
    /// Put the project's `chain.json` (network, contract, token, transactions) into the report.
    /// Off by default: the package a token points to is built before the mint, and rebuilding
    /// it must reproduce the minted CIDs. Turn it on for a credit-file copy after minting (its
    /// report, and so its folder CID, then differ from the token's).
    pub chain_record: bool,
}

/// `cids.json`, and what [`build`] returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageManifest {
    pub schema_version: u32,
    /// CID of the folder of [`CONTENT_FILES`] (see the module docs: `cids.json` itself is not
    /// part of it).
    pub directory: Cid,
    /// `ipfs://<directory>/metadata.json`: the URI the token is minted with.
    pub token_uri: String,
    /// The model fingerprint, `0x…` (what the token carries).
    pub fingerprint: String,
    /// Every content file.
    pub files: BTreeMap<String, PackagedFile>,
    /// The options the package was built with, so a rebuild (`mint::workflow`) reproduces it:
    /// `cids.json` is not in the folder CID, so recording them changes no CID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<PackageOptions>,
    /// The package folder this was read from or written to (not serialised).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl PackageManifest {
    /// Read `cids.json` from a package folder.
    pub fn read(package_dir: &Path) -> PackageResult<Self> {
        let mut m: PackageManifest = project::read_json(&package_dir.join(CIDS_JSON))?;
        m.dir = package_dir.to_path_buf();
        Ok(m)
    }
}

/// `ipfs://<directory>/metadata.json`.
pub fn token_uri(directory: &Cid) -> String {
    format!("ipfs://{directory}/{METADATA_JSON}")
}

/// Build `PROJECT/package/` (and `PROJECT/fingerprint.json`). See the module docs.
pub fn build(project: &Path, opts: &PackageOptions) -> PackageResult<PackageManifest> {
    build_with(project, opts, &mut NoProgress, &CancelToken::new())
}

/// [`build`] with progress (reading `cloud.laz`) and cancellation.
pub fn build_with(
    project: &Path,
    opts: &PackageOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> PackageResult<PackageManifest> {
    // Cheap checks first: fail before the long cloud read.
    if let Some(url) = &opts.external_url
        && !(url.starts_with("https://")
            || url.starts_with("http://")
            || url.starts_with("ipfs://"))
    {
        return Err(PackageError::InvalidOption {
            option: "external_url",
            reason: format!("{url:?} is not an http(s) or ipfs URL"),
        });
    }
    let manifest = capture::project::open(project)?;
    let model_path = project.join(MODEL_GLB);
    if !model_path.is_file() {
        return Err(PackageError::MissingInput {
            hint: format!(
                "the package needs the 3-D model: run `twinmint reconstruct {}` first",
                project.display()
            ),
            path: model_path,
        });
    }
    check_glb(&model_path)?;
    let recon_json = project::read_reconstruction_json(project)?;
    let recon = ReconstructionView::from_json(&project.join(RECONSTRUCTION_JSON), &recon_json)?;
    // An interrupted reconstruct leaves new rasters or a new model beside the old
    // reconstruction.json: refuse the mix instead of packaging it.
    for (name, sha) in &recon.run.outputs {
        let p = project.join(name);
        if !capture::hash::sha256_file(&p).is_ok_and(|(s, _)| &s == sha) {
            return Err(PackageError::Invalid {
                path: p,
                reason: format!(
                    "missing or not the file the reconstruction that wrote reconstruction.json \
                     made (an interrupted or concurrent reconstruct?): run `twinmint reconstruct \
                     {}` again",
                    project.display()
                ),
            });
        }
    }
    let simulation = project::read_simulation(project)?;
    let chain = if opts.chain_record {
        project::read_chain_record(project)?
    } else {
        None
    };

    let cloud = project::read_cloud(project, &manifest, progress, cancel)?;
    cancel.check()?;
    // The fingerprint and the thumbnail both only read the cloud: side by side, the thumbnail's
    // single-threaded splat and PNG encoding fill the fingerprint's serial stretches.
    let (fp, thumb_png) = rayon::join(
        || project::project_fingerprint(project, &cloud, &recon_json),
        || thumbnail::render_png(&cloud, thumbnail::THUMBNAIL_SIZE),
    );
    let (fp, thumb_png) = (fp?, thumb_png?);
    drop(cloud);
    cancel.check()?;
    // fingerprint.json and package/ are one unit: an interrupted run leaves both old ones.
    let mut commit = capture::commit::Commit::begin(project)?;
    capture::atomic::write_json(&commit.path(FINGERPRINT_JSON), &fp)?;

    let summary = Summary::new(&manifest, &fp, &recon, simulation.as_ref());
    let surveyor = Surveyor {
        address: opts.surveyor_address,
        name: opts
            .surveyor_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
    };
    let title = opts.name.clone().unwrap_or_else(|| {
        format!(
            "TwinMint {} — {}",
            summary.asset_type.label(),
            manifest.name
        )
    });
    let description = opts
        .description
        .clone()
        .unwrap_or_else(|| summary.describe(&manifest));

    let staging = commit.path(PACKAGE_DIR);
    std::fs::create_dir(&staging).map_err(|e| PackageError::io(&staging, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| PackageError::io(&staging, e))?;
    }
    let st = staging.as_path();

    // thumbnail.png
    capture::atomic::write_bytes(&st.join(THUMBNAIL_PNG), &thumb_png)?;
    let thumb = PackagedFile::of_bytes(&thumb_png)?;

    // model.glb: copied as is (the staging folder is the atomic unit).
    let glb_dst = st.join(MODEL_GLB);
    std::fs::copy(&model_path, &glb_dst).map_err(|e| PackageError::io(&model_path, e))?;
    let model = packaged_file(&glb_dst)?;
    cancel.check()?;

    // report.html and report.pdf
    let report_input = report::ReportInput {
        title: &title,
        description: &description,
        summary: &summary,
        manifest: &manifest,
        reconstruction: &recon,
        simulation: simulation.as_ref(),
        fingerprint: &fp,
        surveyor: &surveyor,
        thumbnail_png: &thumb_png,
        thumbnail: &thumb,
        model: &model,
        chain: chain.as_ref(),
    };
    let report_html = report::render(&report_input);
    capture::atomic::write_bytes(&st.join(REPORT_HTML), report_html.as_bytes())?;
    let report_pdf = pdf::collateral_report(&report_input);
    capture::atomic::write_bytes(&st.join(REPORT_PDF), &report_pdf)?;
    let report_pdf = PackagedFile::of_bytes(&report_pdf)?;
    let report = PackagedFile::of_bytes(report_html.as_bytes())?;

    // metadata.json
    let mut project_hashes = fp.inputs.clone();
    project_hashes.extend(project::input_hashes(
        project,
        &[SIMULATION_JSON, MODEL_GLB, capture::layout::RESURVEY_JSON],
    )?);
    let mut files = BTreeMap::new();
    files.insert(THUMBNAIL_PNG.to_string(), thumb.clone());
    files.insert(MODEL_GLB.to_string(), model.clone());
    files.insert(REPORT_HTML.to_string(), report);
    files.insert(REPORT_PDF.to_string(), report_pdf);
    let mut attributes = summary.attributes(&fp, &surveyor);
    attributes.extend(project::resurvey_attributes(project)?);
    attributes.extend(opts.extra_attributes.iter().cloned());
    let meta = TokenMetadata {
        name: title,
        description,
        image: thumb.ipfs_uri(),
        animation_url: model.ipfs_uri(),
        external_url: opts.external_url.clone(),
        attributes,
        twinmint: TwinMintRecord {
            schema_version: METADATA_SCHEMA_VERSION,
            generator: concat!("twinmint-mint ", env!("CARGO_PKG_VERSION")).into(),
            asset_type: summary.asset_type,
            fingerprint: fp.fingerprint.clone(),
            cloud: fp.cloud.clone(),
            capture: fp.capture.clone(),
            surveyor,
            files: files.clone(),
            project: project_hashes,
        },
    };
    let mut meta_bytes = serde_json::to_vec_pretty(&meta).map_err(|e| {
        PackageError::invalid(st.join(METADATA_JSON), format!("cannot serialise: {e}"))
    })?;
    meta_bytes.push(b'\n');
    capture::atomic::write_bytes(&st.join(METADATA_JSON), &meta_bytes)?;
    files.insert(
        METADATA_JSON.to_string(),
        PackagedFile::of_bytes(&meta_bytes)?,
    );

    // The folder CID over exactly the four content files, then cids.json beside them.
    let directory = crate::cid::import_dir(st, &ImportOptions::default())?
        .root
        .cid;
    let out = PackageManifest {
        schema_version: CIDS_SCHEMA_VERSION,
        token_uri: token_uri(&directory),
        directory,
        fingerprint: fp.model_0x.clone(),
        files,
        options: Some(opts.clone()),
        dir: project.join(PACKAGE_DIR),
    };
    capture::atomic::write_json(&st.join(CIDS_JSON), &out)?;
    cancel.check()?;

    commit.commit()?;
    Ok(out)
}

/// CID, SHA-256 and size of a file on disk (streamed; a model can be large).
pub fn packaged_file(path: &Path) -> PackageResult<PackagedFile> {
    let imported = crate::cid::import_file(path, &ImportOptions::default())?;
    let (sha256, bytes) = capture::hash::sha256_file(path)?;
    Ok(PackagedFile {
        cid: imported.cid,
        sha256,
        bytes,
    })
}

/// Where the asset is.
#[derive(Clone, Debug, PartialEq)]
pub enum Location {
    /// WGS 84 latitude and longitude of the centre (from a UTM CRS).
    LatLon { lat: f64, lon: f64 },
    /// Centre in a CRS that is not UTM (or unknown).
    Crs { label: String, x: f64, y: f64 },
}

impl Location {
    fn of(manifest: &Manifest) -> Location {
        let c = manifest.bounds.center();
        match manifest.crs.utm_zone() {
            Some((zone, north)) if !manifest.bounds.is_empty() => {
                let (lat, lon) = capture::geodesy::utm_inverse(c[0], c[1], zone, north);
                Location::LatLon { lat, lon }
            }
            _ => Location::Crs {
                label: manifest.crs.label(),
                x: c[0],
                y: c[1],
            },
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Location::LatLon { lat, lon } => format!(
                "{:.5}° {}, {:.5}° {}",
                lat.abs(),
                if *lat >= 0.0 { "N" } else { "S" },
                lon.abs(),
                if *lon >= 0.0 { "E" } else { "W" }
            ),
            Location::Crs { label, x, y } => format!("{label} {x:.1}, {y:.1} (centre)"),
        }
    }
}

/// Carbon and money figures from `simulation.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct CarbonSummary {
    pub stock_p50_t: f64,
    pub stock_p90_t: f64,
    pub npv_p50: f64,
    pub collateral_value: f64,
    pub currency: String,
    pub market: &'static str,
    pub anchor_per_t: f64,
    pub anchor_month: String,
}

/// The asset figures both the metadata attributes and the report show.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub asset_type: AssetType,
    pub location: Location,
    pub area_ha: f64,
    pub area_source: &'static str,
    pub trees: usize,
    pub pipe_runs: usize,
    pub pipe_length_m: f64,
    /// `YYYY-MM-DD` (UTC) of the capture start.
    pub survey_date: Option<String>,
    pub carbon: Option<CarbonSummary>,
}

impl Summary {
    fn new(
        manifest: &Manifest,
        fp: &ProjectFingerprint,
        recon: &ReconstructionView,
        sim: Option<&growth_model::Simulation>,
    ) -> Summary {
        let asset_type = if recon.trees.is_empty() && !recon.pipes.is_empty() {
            AssetType::Pipeline
        } else {
            AssetType::Forest
        };
        let (area_ha, area_source) = match sim {
            Some(s) if s.settings.derived.area_ha > 0.0 => {
                (s.settings.derived.area_ha, "as simulated")
            }
            _ if recon.terrain.area_m2 > 0.0 => (recon.terrain.area_m2 / 10_000.0, "terrain model"),
            _ => (manifest.bounds.area_xy() / 10_000.0, "bounding box"),
        };
        let carbon = sim.map(|s| CarbonSummary {
            stock_p50_t: s.stand.stock_co2e_t.p50.first().copied().unwrap_or(0.0),
            stock_p90_t: s.stand.stock_co2e_t.p90.first().copied().unwrap_or(0.0),
            npv_p50: s.valuation.npv.p50,
            collateral_value: s.collateral.value,
            currency: s.valuation.currency.clone(),
            market: report::market_label(s.settings.options.price.series.market),
            anchor_per_t: s.valuation.price_anchor_per_t,
            anchor_month: s.valuation.price_latest_month.clone(),
        });
        Summary {
            asset_type,
            location: Location::of(manifest),
            area_ha,
            area_source,
            trees: recon.trees.len(),
            pipe_runs: recon.pipes.len(),
            pipe_length_m: recon.pipe_length_m(),
            survey_date: fp
                .capture
                .capture_start
                .or(manifest.capture_start)
                .map(|t| t.format("%Y-%m-%d").to_string()),
            carbon,
        }
    }

    /// The default token description.
    fn describe(&self, manifest: &Manifest) -> String {
        let what = match self.asset_type {
            AssetType::Forest => format!("{} trees", self.trees),
            AssetType::Pipeline => format!("{:.0} m of pipe", self.pipe_length_m),
        };
        let mut s = format!(
            "Surveyed {} of {:.2} ha at {}: {what}, {} LiDAR points",
            self.asset_type.label(),
            self.area_ha,
            self.location.describe(),
            manifest.point_count,
        );
        if let Some(d) = &self.survey_date {
            s.push_str(&format!(", captured {d}"));
        }
        if let Some(c) = &self.carbon {
            s.push_str(&format!(
                "; carbon stock P50 {:.1} t CO2e, collateral value {} {:.0}",
                c.stock_p50_t, c.currency, c.collateral_value
            ));
        }
        s.push_str(
            ". The token carries the model fingerprint; report.html is the collateral report.",
        );
        s
    }

    /// ERC-721 attributes.
    fn attributes(&self, fp: &ProjectFingerprint, surveyor: &Surveyor) -> Vec<Attribute> {
        let mut a = vec![Attribute::text("Asset type", self.asset_type.label())];
        match &self.location {
            Location::LatLon { lat, lon } => {
                a.push(Attribute::number("Latitude", *lat, 6));
                a.push(Attribute::number("Longitude", *lon, 6));
            }
            Location::Crs { .. } => a.push(Attribute::text("Location", self.location.describe())),
        }
        a.push(Attribute::number("Area (ha)", self.area_ha, 2));
        if self.trees > 0 || self.pipe_length_m == 0.0 {
            a.push(Attribute::integer("Trees", self.trees as u64));
        }
        if self.pipe_length_m > 0.0 {
            a.push(Attribute::number("Pipe length (m)", self.pipe_length_m, 1));
        }
        if let Some(c) = &self.carbon {
            a.push(Attribute::number(
                "Carbon stock P50 (t CO2e)",
                c.stock_p50_t,
                1,
            ));
            a.push(Attribute::number(
                "Carbon stock P90 (t CO2e)",
                c.stock_p90_t,
                1,
            ));
            a.push(Attribute::number(
                &format!("Projected value P50 ({})", c.currency),
                c.npv_p50,
                0,
            ));
            a.push(Attribute::number(
                &format!("Collateral value ({})", c.currency),
                c.collateral_value,
                0,
            ));
            a.push(Attribute::text(
                "Price anchor",
                format!(
                    "{} {:.2}/t, {}, {}",
                    c.currency, c.anchor_per_t, c.market, c.anchor_month
                ),
            ));
        }
        if let Some(d) = &self.survey_date {
            let mut attr = Attribute::text("Survey date", d.clone());
            attr.display_type = None;
            a.push(attr);
        }
        a.push(Attribute::text("Fingerprint", fp.model_0x.clone()));
        if let Some(addr) = surveyor.address {
            a.push(Attribute::text("Surveyor", addr.to_checksum(None)));
        }
        if let Some(n) = &surveyor.name {
            a.push(Attribute::text("Surveyor name", n.clone()));
        }
        a
    }
}

/// Largest JSON chunk [`check_glb`] reads (64 MiB; TwinMint's own models have a few KB).
const MAX_GLB_JSON: u32 = 64 << 20;

/// Check that `path` is a binary glTF 2.0 file before it is packaged: the 12-byte header (magic
/// `glTF`, version 2, a total length equal to the file's size), a first chunk of type `JSON` that
/// fits the file, and JSON that parses with `asset.version` 2.x. A garbage or truncated
/// `model.glb` is refused with the reason instead of being copied into the package.
pub fn check_glb(path: &Path) -> PackageResult<()> {
    use std::io::Read;
    let hint = |reason: String| {
        PackageError::invalid(
            path,
            format!("not a valid glTF binary model ({reason}); run `twinmint reconstruct` again"),
        )
    };
    let mut f = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
    let size = f.metadata().map_err(|e| PackageError::io(path, e))?.len();
    let mut head = [0u8; 20];
    if size < 20 {
        return Err(hint(format!("{size} bytes, shorter than a GLB header")));
    }
    f.read_exact(&mut head)
        .map_err(|e| PackageError::io(path, e))?;
    let u32_at = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    if &head[0..4] != b"glTF" {
        return Err(hint("no glTF magic".into()));
    }
    if u32_at(4) != 2 {
        return Err(hint(format!("container version {}, not 2", u32_at(4))));
    }
    if u64::from(u32_at(8)) != size {
        return Err(hint(format!(
            "header says {} bytes, the file has {size}",
            u32_at(8)
        )));
    }
    let json_len = u32_at(12);
    if u32_at(16) != 0x4E4F_534A {
        return Err(hint("first chunk is not JSON".into()));
    }
    if json_len == 0 || json_len > MAX_GLB_JSON || u64::from(json_len) + 20 > size {
        return Err(hint(format!(
            "JSON chunk of {json_len} bytes does not fit the file"
        )));
    }
    let mut json = vec![0u8; json_len as usize];
    f.read_exact(&mut json)
        .map_err(|e| PackageError::io(path, e))?;
    let v: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|e| hint(format!("JSON chunk does not parse: {e}")))?;
    let version = v
        .get("asset")
        .and_then(|a| a.get("version"))
        .and_then(|x| x.as_str())
        .unwrap_or("");
    if !version.starts_with("2.") {
        return Err(hint(format!("asset.version is {version:?}, not glTF 2.x")));
    }
    Ok(())
}
