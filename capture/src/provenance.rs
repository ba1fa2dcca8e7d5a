//! Where every point came from: source hashes, formats, CRS, capture time, device, up-axis.
//!
//! Lenders trust a model only as far as they can trace it back to a survey, so provenance is
//! recorded at import and travels with the cloud into the project manifest and the mint.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::crs::Crs;

/// How the capture time was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// Points' adjusted-standard GPS time (LAS global encoding bit 0).
    GpsTime,
    /// The LAS header's creation day of year (date only).
    LasCreationDate,
    /// E57 `acquisitionStart`/`acquisitionEnd`.
    E57Acquisition,
    /// EXIF `DateTimeOriginal` of photos.
    ExifDateTimeOriginal,
    /// Written by the scan simulator.
    Simulated,
}

/// When the scan was captured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptureTime {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub source: TimeSource,
}

/// Which axis pointed up in the source, and how TwinMint decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpAxis {
    #[default]
    Z,
    Y,
}

/// Metadata of an image embedded in or accompanying a scan (E57 images, drone photos).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub name: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub kind: String,
    pub time: Option<DateTime<Utc>>,
}

/// One imported file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The path as given on import.
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    pub size_bytes: u64,
    /// `LAS`, `LAZ`, `E57`, `PLY`, `XYZ`, `OBJ`, `photos`.
    pub format: String,
    pub format_version: Option<String>,
    /// Points the file declares (or holds).
    pub point_count: u64,
    /// Points kept after decimation.
    pub points_loaded: u64,
    pub generating_software: Option<String>,
    pub system_identifier: Option<String>,
    pub capture_time: Option<CaptureTime>,
    /// The file's own creation date, when its format records one (LAS header "File Creation
    /// Day of Year / Year", E57 `creationDateTime`). Kept apart from `capture_time` so that a
    /// conversion writes the source's date back rather than today's: the same input then
    /// converts to the same bytes.
    #[serde(default)]
    pub creation_date: Option<NaiveDate>,
    /// Scanner / camera make and model, when the file says.
    pub device: Option<String>,
    pub up_axis: UpAxis,
    /// Why `up_axis` was chosen ("user said Y-up", "LAZ at map coordinates …", the geometric
    /// evidence of [`crate::up_axis::detect`], …).
    pub up_axis_reason: String,
    pub crs: Crs,
    pub images: Vec<ImageInfo>,
    /// Decimation applied on load, if any (`every 10th`, `voxel 0.1 m`).
    pub decimation: Option<String>,
}

impl Source {
    /// A record with only the mandatory parts filled; readers fill the rest.
    pub fn new(path: &str, format: &str) -> Self {
        Source {
            path: path.to_string(),
            sha256: String::new(),
            size_bytes: 0,
            format: format.to_string(),
            format_version: None,
            point_count: 0,
            points_loaded: 0,
            generating_software: None,
            system_identifier: None,
            capture_time: None,
            creation_date: None,
            device: None,
            up_axis: UpAxis::Z,
            up_axis_reason: String::new(),
            crs: Crs::default(),
            images: Vec::new(),
            decimation: None,
        }
    }
}

/// Provenance of a cloud: its sources and any warnings raised while reading them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub sources: Vec<Source>,
    pub warnings: Vec<String>,
}

impl Provenance {
    pub fn merge(&mut self, other: Provenance) {
        self.sources.extend(other.sources);
        self.warnings.extend(other.warnings);
    }

    /// Earliest file creation date over all sources (see [`Source::creation_date`]).
    pub fn creation_date(&self) -> Option<NaiveDate> {
        self.sources.iter().filter_map(|s| s.creation_date).min()
    }

    /// Earliest capture start over all sources.
    pub fn capture_start(&self) -> Option<DateTime<Utc>> {
        self.sources
            .iter()
            .filter_map(|s| s.capture_time.as_ref().map(|t| t.start))
            .min()
    }
}

/// The GPS epoch, 1980-01-06T00:00:00Z.
pub fn gps_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1980, 1, 6, 0, 0, 0).unwrap()
}

/// Leap seconds between GPS time and UTC at the given GPS second (IERS Bulletin C; GPS−UTC has
/// been 18 s since 2017-01-01).
fn gps_utc_offset(gps_seconds: f64) -> i64 {
    // GPS seconds at which each new offset took effect.
    const STEPS: [(f64, i64); 18] = [
        (46_828_800.0, 1),
        (78_364_801.0, 2),
        (109_900_802.0, 3),
        (173_059_203.0, 4),
        (252_028_804.0, 5),
        (315_187_205.0, 6),
        (346_723_206.0, 7),
        (393_984_007.0, 8),
        (425_520_008.0, 9),
        (457_056_009.0, 10),
        (504_489_610.0, 11),
        (551_750_411.0, 12),
        (599_184_012.0, 13),
        (820_108_813.0, 14),
        (914_803_214.0, 15),
        (1_025_136_015.0, 16),
        (1_119_744_016.0, 17),
        (1_167_264_017.0, 18),
    ];
    STEPS
        .iter()
        .rev()
        .find(|(t, _)| gps_seconds >= *t)
        .map(|(_, o)| *o)
        .unwrap_or(0)
}

/// UTC instant of a GPS time in seconds since the GPS epoch. `None` for NaN, infinities or
/// values outside 1980…2100 — those are never a capture time.
pub fn gps_to_utc(gps_seconds: f64) -> Option<DateTime<Utc>> {
    if !gps_seconds.is_finite() || !(0.0..3.8e9).contains(&gps_seconds) {
        return None;
    }
    let whole = gps_seconds.floor();
    let nanos = ((gps_seconds - whole) * 1e9) as i64;
    let secs = whole as i64 - gps_utc_offset(gps_seconds);
    Some(gps_epoch() + Duration::seconds(secs) + Duration::nanoseconds(nanos))
}

/// UTC of an *adjusted standard* GPS time (GPS seconds − 10⁹), as LAS stores it.
pub fn adjusted_gps_to_utc(adjusted: f64) -> Option<DateTime<Utc>> {
    gps_to_utc(adjusted + 1e9)
}

/// Adjusted standard GPS time of a UTC instant (inverse of [`adjusted_gps_to_utc`]).
pub fn utc_to_adjusted_gps(t: DateTime<Utc>) -> f64 {
    let approx = (t - gps_epoch()).num_milliseconds() as f64 / 1000.0;
    let gps = approx + gps_utc_offset(approx) as f64;
    gps - 1e9
}

/// Midnight UTC of a LAS header date.
pub fn date_to_utc(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
}
