//! The asset's footprint on the ground as a set of cells of the H3 global grid, so that the
//! contract can refuse a mint or resurvey whose footprint overlaps a live token's.
//!
//! # Why a discrete global grid
//! Overlap of two arbitrary polygons is too expensive to decide on chain, and polygons from two
//! surveys never share exact coordinates. A discrete global grid turns "do these areas overlap?"
//! into "do these sets of 64-bit ids intersect?" — one storage read per cell. H3 (Uber's
//! hexagonal hierarchical grid, <https://h3geo.org/docs/core-library/overview>; an aperture-7
//! icosahedral DGGS in the sense of Sahr, White & Kimerling 2003, "Geodesic discrete global grid
//! systems", *Cartography and GIS* 30(2)) has ids that are plain `uint64`s, near-uniform cell
//! areas everywhere on Earth, and one neighbour relation (hexagons share edges, never just a
//! corner). Cells are computed with h3o, a pure-Rust port of the H3 reference library.
//!
//! # The claim rule
//! Only cells whose **closed hexagon lies wholly inside** the area are claimed: inside the parcel
//! polygon ([`from_parcel`]) or inside the scanned ground ([`from_cloud`]). A cell straddling
//! the boundary belongs to nobody, so two parcels sharing an edge get disjoint footprints by
//! construction, whichever surveys drew them; the price is a strip up to one cell (~20 m) wide
//! along the boundary that no token claims.
//!
//! # On chain
//! [`Footprint::root`] chains the sorted cells with keccak-256 exactly as Solidity's
//! `h = keccak256(abi.encodePacked(h, uint64(cell)))` from `h = 0`, so a contract receiving the
//! cells in [`Footprint::batches`] can recompute the root across transactions and compare it
//! with the one the surveyor attested.
//!
//! # `footprint.json`
//! Written into the project and the package ([`FOOTPRINT_JSON`]). Cells are lowercase hex
//! strings without prefix (`"8c1e0e14ad853ff"`, h3o's and the H3 library's text form), not JSON
//! numbers: a 64-bit id exceeds the 2^53 integers JavaScript and many JSON tools keep exact.

// Internal modules, public (hidden from the docs) only so the tests in tests/units reach them.
#[doc(hidden)]
pub mod cells;
#[doc(hidden)]
pub mod coverage;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod parcel;
#[doc(hidden)]
pub mod plane;

use std::path::Path;

use capture::{CancelToken, Crs, PointCloud, Progress, ReadOptions};
use h3o::CellIndex;
use serde::{Deserialize, Serialize};

pub use coverage::CoverageOptions;
pub use error::FootprintError;

/// H3 resolution of every footprint.
///
/// Resolution 12 hexagons average 307.1 m² with 10.8 m edges (h3o `Resolution::Twelve`, from
/// H3 v4's table; the 9.4 m of H3 v3's older table does not fit the area: a regular hexagon of
/// 307 m² has 10.9 m edges), so a cell is about 19 m across flats and 22 m across corners.
/// Measured on square parcels at 45° N (`cargo test -p mint --test footprint cell_counts --
/// --nocapture`, four placements each): 1 ha → 19–20 whole cells (64 % of the area claimed),
/// 10 ha → 272–274 (87 %), 100 ha → 3,004–3,010 (96 %) — the rule leaves a strip up to one cell
/// wide along the boundary, which matters less as parcels grow. That is fine enough for a plot
/// of a fraction of a hectare to hold cells, and coarse enough that a 100 ha estate costs ~3,000
/// storage writes: at ~22,100 gas per new cell (SSTORE 0 → non-zero 20,000 + cold slot 2,100,
/// EIP-2929) about 67 M gas, i.e. four transactions of [`crate::chain::FOOTPRINT_BATCH`] cells.
/// Resolution 11 (2,150 m²) would drop small plots and waste a ~50 m strip along every
/// boundary; resolution 13 (44 m²) would cost 7× the gas for the same land.
pub const FOOTPRINT_RESOLUTION: u8 = 12;

pub use capture::layout::FOOTPRINT_JSON;

/// Version of [`Footprint`]'s JSON layout.
pub const FOOTPRINT_SCHEMA_VERSION: u32 = 1;

/// Most cells one footprint may hold: about 3,070 ha at resolution 12 and ~2.2 G gas of cell
/// writes (a hundred batches) — beyond what one token should pledge, while still enumerable in
/// about a second here.
pub const MAX_FOOTPRINT_CELLS: usize = 100_000;

/// The footprint of an asset: H3 cells at [`FOOTPRINT_RESOLUTION`], and where they came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    pub schema_version: u32,
    pub resolution: u8,
    /// H3 cell indices, sorted ascending, unique; hex strings in JSON (see the module docs).
    #[serde(with = "hex_cells")]
    pub cells: Vec<u64>,
    pub source: FootprintSource,
    /// Sum of the claimed cells' areas (H3's spherical areas on the authalic sphere), m².
    pub area_m2: f64,
}

/// What the cells were claimed from; enough to recompute them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FootprintSource {
    /// The scan's coverage ([`from_cloud`]) with these [`CoverageOptions`].
    Coverage {
        grid_m: f64,
        min_points: u32,
        fill_holes_m2: f64,
    },
    /// A parcel boundary file ([`from_parcel`]).
    Parcel {
        /// File name only (no folders: the footprint travels in packages).
        file: String,
        /// SHA-256 of the file's bytes (hex).
        sha256: String,
        /// The CRS its coordinates were read in (`OGC:CRS84` for RFC 7946 lon/lat).
        crs: String,
    },
}

mod hex_cells {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(cells: &[u64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(cells.iter().map(|c| format!("{c:x}")))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(D::Error::custom(format!(
                        "cell {s:?} is not a hex H3 index"
                    )));
                }
                u64::from_str_radix(s, 16).map_err(|e| D::Error::custom(format!("cell {s:?}: {e}")))
            })
            .collect()
    }
}

impl Footprint {
    /// A footprint of `cells` (any order, duplicates allowed), each checked to be an H3 cell at
    /// [`FOOTPRINT_RESOLUTION`]; sorted, deduplicated, area summed.
    pub fn from_cells(
        cells: impl IntoIterator<Item = u64>,
        source: FootprintSource,
    ) -> Result<Self, FootprintError> {
        let cells = cells
            .into_iter()
            .map(|c| check_cell(c).map_err(|reason| invalid_cell(c, reason)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_indices(cells, source))
    }

    fn from_indices(mut cells: Vec<CellIndex>, source: FootprintSource) -> Self {
        cells.sort_unstable_by_key(|&c| u64::from(c));
        cells.dedup();
        Footprint {
            schema_version: FOOTPRINT_SCHEMA_VERSION,
            resolution: FOOTPRINT_RESOLUTION,
            area_m2: area_m2(&cells),
            cells: cells.into_iter().map(u64::from).collect(),
            source,
        }
    }

    /// The commitment the surveyor signs and the contract checks (TwinMintNFR v2): the
    /// keccak-256 of the packed keccak-256 hashes of the ascending cells in batches of
    /// [`crate::chain::FOOTPRINT_BATCH`] (see [`crate::chain::footprint_root`]), so the
    /// contract can verify each batch as it arrives.
    pub fn root(&self) -> [u8; 32] {
        crate::chain::footprint_root(&self.cells).0
    }

    /// [`Footprint::root`] as `0x…` hex (the form `bytes32` takes in JSON-RPC and the CLI).
    pub fn root_hex(&self) -> String {
        format!("0x{}", hex::encode(self.root()))
    }

    pub fn cell_count(&self) -> u32 {
        self.cells.len() as u32
    }

    /// Cells in both footprints (ascending): what the contract would refuse.
    pub fn overlap(&self, other: &Footprint) -> Vec<u64> {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.cells.len() && j < other.cells.len() {
            match self.cells[i].cmp(&other.cells[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    out.push(self.cells[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        out
    }

    /// The cells in transaction-sized runs of at most `max_cells` (0 is taken as 1), in root
    /// order.
    pub fn batches(&self, max_cells: usize) -> impl Iterator<Item = &[u64]> {
        self.cells.chunks(max_cells.max(1))
    }

    /// Read and check a `footprint.json`: a file whose cells are not sorted, unique, valid
    /// resolution-12 H3 cells, or whose area does not match them, is refused rather than trusted.
    pub fn read(path: &Path) -> Result<Self, FootprintError> {
        let bytes = std::fs::read(path).map_err(|e| FootprintError::io(path, e))?;
        let f: Footprint =
            serde_json::from_slice(&bytes).map_err(|source| FootprintError::Parse {
                path: path.into(),
                source,
            })?;
        f.check().map_err(|reason| FootprintError::InvalidFile {
            path: path.into(),
            reason,
        })?;
        Ok(f)
    }

    /// Write as pretty JSON, atomically (temporary file + rename: a crash never leaves half a
    /// footprint in a project).
    pub fn write(&self, path: &Path) -> Result<(), FootprintError> {
        Ok(capture::atomic::write_json(path, self)?)
    }

    fn check(&self) -> Result<(), String> {
        if self.schema_version > FOOTPRINT_SCHEMA_VERSION {
            return Err(format!(
                "schema version {} is newer than this build understands \
                 ({FOOTPRINT_SCHEMA_VERSION})",
                self.schema_version
            ));
        }
        if self.resolution != FOOTPRINT_RESOLUTION {
            return Err(format!(
                "resolution {} (footprints use {FOOTPRINT_RESOLUTION})",
                self.resolution
            ));
        }
        let mut indices = Vec::with_capacity(self.cells.len());
        for (k, &c) in self.cells.iter().enumerate() {
            indices.push(check_cell(c).map_err(|r| format!("cell {k} ({c:x}): {r}"))?);
            if k > 0 && self.cells[k - 1] >= c {
                return Err(format!(
                    "cell {k} ({c:x}) is not above the one before it: cells must be sorted and \
                     unique"
                ));
            }
        }
        let area = area_m2(&indices);
        if (area - self.area_m2).abs() > 1e-6 * area.max(1.0) {
            return Err(format!(
                "area_m2 is {} but the cells cover {area} m²",
                self.area_m2
            ));
        }
        Ok(())
    }
}

fn check_cell(c: u64) -> Result<CellIndex, String> {
    let cell = CellIndex::try_from(c).map_err(|e| e.to_string())?;
    if u8::from(cell.resolution()) != FOOTPRINT_RESOLUTION {
        return Err(format!("resolution {}", cell.resolution()));
    }
    Ok(cell)
}

fn invalid_cell(value: u64, reason: String) -> FootprintError {
    FootprintError::InvalidCell {
        value,
        resolution: FOOTPRINT_RESOLUTION,
        reason,
    }
}

/// Summed in id order, so the same cells always give the same bits.
fn area_m2(cells: &[CellIndex]) -> f64 {
    cells.iter().map(|c| c.area_m2()).sum()
}

/// The footprint of a cloud's scan coverage (see [`CoverageOptions`] for how coverage is
/// decided). The cloud's CRS must be UTM or longitude/latitude, else
/// [`FootprintError::UnsupportedCloudCrs`] tells the user to assign one or give a parcel.
pub fn from_cloud(cloud: &PointCloud, opts: &CoverageOptions) -> Result<Footprint, FootprintError> {
    let label = cloud
        .provenance
        .sources
        .first()
        .map(|s| s.path.clone())
        .unwrap_or_else(|| "the point cloud".into());
    cloud_footprint(cloud, opts, &label)
}

fn cloud_footprint(
    cloud: &PointCloud,
    opts: &CoverageOptions,
    label: &str,
) -> Result<Footprint, FootprintError> {
    let (cells, covered_m2) = coverage::claim(cloud, opts, label)?;
    if cells.is_empty() {
        return Err(cells::too_small(
            &format!("the scan coverage of {label}"),
            covered_m2,
        ));
    }
    Ok(Footprint::from_indices(
        cells,
        FootprintSource::Coverage {
            grid_m: opts.grid_m,
            min_points: opts.min_points,
            fill_holes_m2: opts.fill_holes_m2,
        },
    ))
}

/// The footprint of a GeoJSON parcel boundary (`Polygon`, `MultiPolygon`, `Feature`,
/// `FeatureCollection`) in longitude/latitude, or in the UTM CRS its `"crs"` member names; a file
/// in metres that names no CRS is read in `project_crs` when that is UTM.
pub fn from_parcel(path: &Path, project_crs: &Crs) -> Result<Footprint, FootprintError> {
    let bytes = std::fs::read(path).map_err(|e| FootprintError::io(path, e))?;
    let parsed = parcel::parse(path, &bytes, project_crs)?;
    let what = format!("the parcel {}", path.display());
    let (cells, area) = parcel::claim(&parsed, &what)?;
    if cells.is_empty() {
        return Err(cells::too_small(&what, area));
    }
    Ok(Footprint::from_indices(
        cells,
        FootprintSource::Parcel {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: capture::hash::sha256_bytes(&bytes),
            crs: parsed.crs_label,
        },
    ))
}

/// The footprint of a project: from `parcel` when given (checked to overlap the scan's bounds,
/// which catches a wrong file or CRS before anything is claimed on chain), else from the
/// coverage of the project's `cloud.laz` with the default [`CoverageOptions`]. The caller writes
/// it to `project/footprint.json` ([`FOOTPRINT_JSON`]) with [`Footprint::write`].
pub fn for_project(project: &Path, parcel: Option<&Path>) -> Result<Footprint, FootprintError> {
    for_project_with(
        project,
        parcel,
        &CoverageOptions::default(),
        &mut capture::NoProgress,
        &CancelToken::new(),
    )
}

/// [`for_project`] with coverage options, progress of the cloud read, and cancellation.
pub fn for_project_with(
    project: &Path,
    parcel: Option<&Path>,
    opts: &CoverageOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<Footprint, FootprintError> {
    let manifest = capture::project::open(project)?;
    if let Some(parcel) = parcel {
        let f = from_parcel(parcel, &manifest.crs)?;
        check_parcel_meets_scan(&f, parcel, project, &manifest)?;
        return Ok(f);
    }
    let path = project.join(capture::project::CLOUD);
    if !path.is_file() {
        return Err(FootprintError::MissingInput {
            path,
            hint: "the project has no merged cloud; run `twinmint ingest`, or give the parcel \
                   with --parcel FILE.geojson"
                .into(),
        });
    }
    let mut cloud = capture::read(&path, &ReadOptions::default(), progress, cancel)?;
    if cloud.crs.is_unknown() {
        cloud.crs = manifest.crs.clone();
    }
    cloud_footprint(&cloud, opts, &path.display().to_string())
}

/// Refuse a parcel none of whose cells has its centre within the scan's bounds (grown by one
/// cell width). Skipped when the scan has no usable CRS: then the parcel is the only georeference.
fn check_parcel_meets_scan(
    f: &Footprint,
    parcel: &Path,
    project: &Path,
    manifest: &capture::project::Manifest,
) -> Result<(), FootprintError> {
    let b = manifest.bounds;
    let Some(geo) = plane::georef(&manifest.crs) else {
        return Ok(());
    };
    if b.is_empty() {
        return Ok(());
    }
    let to_scan = |cell: CellIndex| {
        let ll = h3o::LatLng::from(cell);
        match geo {
            plane::Georef::Utm { zone, north } => {
                plane::Plane { zone, north }.forward(ll.lat(), ll.lng())
            }
            plane::Georef::LonLat => [ll.lng(), ll.lat()],
        }
    };
    let grow = match geo {
        plane::Georef::Utm { .. } => 2.0 * cells::edge_m(),
        // Degrees: a cell width in latitude (and generously in longitude).
        plane::Georef::LonLat => 2.0 * cells::edge_m() / 111_000.0 * 3.0,
    };
    let meets = f.cells.iter().any(|&c| {
        let p = to_scan(CellIndex::try_from(c).expect("cells of a built footprint are valid"));
        (b.min[0] - grow..=b.max[0] + grow).contains(&p[0])
            && (b.min[1] - grow..=b.max[1] + grow).contains(&p[1])
    });
    if meets {
        return Ok(());
    }
    Err(FootprintError::ParcelOutsideScan {
        path: parcel.into(),
        project: project.into(),
        scan: format!(
            "{:.1}, {:.1} – {:.1}, {:.1} in {}",
            b.min[0],
            b.min[1],
            b.max[0],
            b.max[1],
            manifest.crs.label()
        ),
        crs: match &f.source {
            FootprintSource::Parcel { crs, .. } => crs.clone(),
            FootprintSource::Coverage { .. } => String::new(),
        },
    })
}
