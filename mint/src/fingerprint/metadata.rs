//! Capture metadata: what a lender needs to tie a cloud to a survey — when, where (bounding box
//! and CRS), with what device, from which files. It is canonicalised with RFC 8785 (see
//! [`super::jcs`]) and hashed into the model fingerprint, so none of it can change after
//! minting without changing the fingerprint.
//!
//! Only deterministic, machine-independent facts about the *capture* go in: file *names* and
//! SHA-256s, not paths; bounds in integer millimetres (the fingerprint's own quantisation), not
//! floats; times as RFC 3339 UTC strings. Who vouches for the survey is not one of them: the
//! surveyor is bound by their EIP-712 attestation on chain (and shown in the package), so
//! spelling their name differently, or another surveyor attesting a resurvey of the same data,
//! does not make it another model.

use capture::{Crs, PointCloud, TimeSource};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::canonical::{BoundsMm, quantised_bounds};
use super::jcs;
use crate::error::Result;

/// Version of the [`CaptureMetadata`] layout; bump when fields change meaning.
/// 2: `surveyor` removed (see the module docs).
pub const CAPTURE_METADATA_VERSION: u32 = 2;

/// One scan file the cloud came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDigest {
    /// File name without directories (paths differ between machines; the hash does not).
    pub name: String,
    /// `LAS`, `LAZ`, `PLY`, … as capture reports it.
    pub format: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    pub size_bytes: u64,
    /// Points loaded from this file.
    pub points: u64,
}

/// The capture half of the model fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureMetadata {
    pub schema_version: u32,
    /// Start of the capture, RFC 3339 UTC (`2021-06-01T12:00:00Z`).
    #[serde(with = "rfc3339_opt")]
    pub capture_start: Option<DateTime<Utc>>,
    #[serde(with = "rfc3339_opt")]
    pub capture_end: Option<DateTime<Utc>>,
    /// How the capture time was established.
    pub time_source: Option<TimeSource>,
    /// Bounding box in integer millimetres of the CRS, exactly as the fingerprint quantises.
    pub bounds_mm: Option<BoundsMm>,
    pub points: u64,
    /// Scanner or camera make and model (distinct values over the sources, in order, joined by
    /// `"; "`).
    pub device: Option<String>,
    pub crs: Crs,
    pub sources: Vec<SourceDigest>,
}

impl CaptureMetadata {
    /// Metadata of `cloud` from its provenance.
    pub fn from_cloud(cloud: &PointCloud) -> Result<Self> {
        let sources = &cloud.provenance.sources;
        let times: Vec<_> = sources
            .iter()
            .filter_map(|s| s.capture_time.as_ref())
            .collect();
        let first = times.iter().min_by_key(|t| t.start);
        let end = times.iter().map(|t| t.end.unwrap_or(t.start)).max();
        let mut devices: Vec<&str> = Vec::new();
        for d in sources.iter().filter_map(|s| s.device.as_deref()) {
            let d = d.trim();
            if !d.is_empty() && !devices.contains(&d) {
                devices.push(d);
            }
        }
        Ok(CaptureMetadata {
            schema_version: CAPTURE_METADATA_VERSION,
            capture_start: first.map(|t| t.start),
            capture_end: end.filter(|e| first.is_some_and(|f| *e != f.start)),
            time_source: first.map(|t| t.source),
            bounds_mm: quantised_bounds(cloud)?,
            points: cloud.len() as u64,
            device: (!devices.is_empty()).then(|| devices.join("; ")),
            crs: cloud.crs.clone(),
            sources: sources
                .iter()
                .map(|s| SourceDigest {
                    name: std::path::Path::new(&s.path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| s.path.clone()),
                    format: s.format.clone(),
                    sha256: s.sha256.clone(),
                    size_bytes: s.size_bytes,
                    points: s.points_loaded,
                })
                .collect(),
        })
    }

    /// RFC 8785 canonical JSON.
    pub fn canonical_json(&self) -> Result<String> {
        jcs::canonicalize_serialize("capture metadata", self)
    }

    /// SHA-256 of the canonical JSON.
    pub fn hash(&self) -> Result<[u8; 32]> {
        Ok(Sha256::digest(self.canonical_json()?.as_bytes()).into())
    }
}

/// `Option<DateTime<Utc>>` as RFC 3339 with `Z` and only as many fractional digits as needed
/// (0, 3, 6 or 9), so one instant has one spelling.
mod rfc3339_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::rfc3339(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let v: Option<String> = Option::deserialize(d)?;
        v.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
