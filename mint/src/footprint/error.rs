//! Errors of the footprint builder. Every variant names the file (or the cloud) at fault and what
//! to do about it: a surveyor reading the message alone should know whether to fix the parcel
//! file, assign a CRS, or split the asset.

use std::path::PathBuf;

/// Everything that can stop a footprint from being built, read or written.
#[derive(Debug, thiserror::Error)]
pub enum FootprintError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The parcel file is not JSON at all.
    #[error("{path}: not GeoJSON (not valid JSON): {source}")]
    NotJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but not a GeoJSON object we can read a parcel from.
    #[error("{path}: not a usable GeoJSON parcel: {reason}")]
    InvalidGeoJson { path: PathBuf, reason: String },
    /// Valid GeoJSON without any area in it (points or lines only).
    #[error(
        "{path}: no Polygon or MultiPolygon in the file (found: {found}); a parcel must be an area"
    )]
    NoPolygon { path: PathBuf, found: String },
    /// The parcel names (or implies) a CRS footprints cannot place on the globe.
    #[error("{path}: CRS {crs} cannot be used for a footprint: {hint}")]
    UnsupportedParcelCrs {
        path: PathBuf,
        crs: String,
        hint: String,
    },
    /// The cloud's CRS is unknown or local, so its coverage has no place on the globe.
    #[error(
        "{cloud}: the cloud's CRS is {crs}; a footprint needs WGS 84 / UTM (EPSG:326zz or 327zz; \
         ETRS89 258zz and NAD83 269zz are accepted too) or longitude/latitude (EPSG:4326). Assign \
         the right one with `twinmint ingest --crs EPSG:…`, or give the parcel boundary with \
         `--parcel FILE.geojson`"
    )]
    UnsupportedCloudCrs { cloud: String, crs: String },
    /// Not a single whole H3 cell fits: nothing could be claimed.
    #[error(
        "{what} (about {area_m2:.0} m²) holds no whole H3 cell at resolution {resolution}: cells \
         average {cell_m2:.0} m² and about {cell_width_m:.0} m across, so an area needs at least \
         that much, and one at least {min_width_m:.0} m wide in every direction (about \
         {min_area_m2:.0} m² as a square) always holds one"
    )]
    TooSmall {
        what: String,
        area_m2: f64,
        resolution: u8,
        cell_m2: f64,
        cell_width_m: f64,
        min_width_m: f64,
        min_area_m2: f64,
    },
    /// More cells than one token may claim (the contract stores every cell).
    #[error(
        "{what}: the footprint would hold {cells} H3 cells (resolution {resolution}), more than \
         the {max} one token may claim (about {max_ha:.0} ha); split the asset into several \
         tokens"
    )]
    TooLarge {
        what: String,
        cells: u64,
        resolution: u8,
        max: usize,
        max_ha: f64,
    },
    /// A `footprint.json` that is not a footprint this build can trust.
    #[error("{path}: not a valid footprint file: {reason}")]
    InvalidFile { path: PathBuf, reason: String },
    #[error("{path}: not a footprint file (JSON does not match): {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A cell id handed to [`super::Footprint::from_cells`] that is not an H3 cell of the
    /// footprint resolution.
    #[error("cell {value:#x} is not an H3 cell at resolution {resolution}: {reason}")]
    InvalidCell {
        value: u64,
        resolution: u8,
        reason: String,
    },
    #[error("invalid footprint option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    /// A project file the footprint needs is not there.
    #[error("{path}: missing ({hint})")]
    MissingInput { path: PathBuf, hint: String },
    /// The parcel lies nowhere near the scan: almost always a wrong file or a wrong CRS.
    #[error(
        "{path}: the parcel does not overlap the scan of {project} (scan bounds {scan}); check \
         the file and its CRS ({crs})"
    )]
    ParcelOutsideScan {
        path: PathBuf,
        project: PathBuf,
        scan: String,
        crs: String,
    },
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
}

impl FootprintError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FootprintError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn geojson(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        FootprintError::InvalidGeoJson {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
