//! One entry point for every scan format: detect, stream in chunks, decimate, hash, orient.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cloud::PointCloud;
use crate::crs::Crs;
use crate::error::{CaptureError, Result};
use crate::hash::sha256_file;
use crate::progress::{CancelToken, Progress};
use crate::provenance::{Source, UpAxis};
use crate::{e57_io, las_io, obj, ply, text, up_axis};

/// Scan file formats TwinMint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    Las,
    Laz,
    E57,
    Ply,
    /// XYZ, CSV, PTS, TXT, ASC: delimited text with sniffed header and delimiter.
    Text,
    Obj,
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Las => "LAS",
            Format::Laz => "LAZ",
            Format::E57 => "E57",
            Format::Ply => "PLY",
            Format::Text => "XYZ/CSV text",
            Format::Obj => "OBJ",
        }
    }

    /// The format an extension names, if any.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "las" => Format::Las,
            "laz" => Format::Laz,
            "e57" => Format::E57,
            "ply" => Format::Ply,
            "xyz" | "csv" | "pts" | "txt" | "asc" => Format::Text,
            "obj" => Format::Obj,
            _ => return None,
        })
    }

    /// Detect by content, then check the extension agrees. LAS and LAZ are interchangeable
    /// (PDAL reads both from either name); any other disagreement is an error, not a guess.
    pub fn detect(path: &Path) -> Result<Format> {
        let mut f = std::fs::File::open(path).map_err(|e| CaptureError::io(path, e))?;
        let mut head = [0u8; 512];
        let mut n = 0;
        while n < head.len() {
            match f
                .read(&mut head[n..])
                .map_err(|e| CaptureError::io(path, e))?
            {
                0 => break,
                k => n += k,
            }
        }
        if n == 0 {
            return Err(CaptureError::Empty { path: path.into() });
        }
        let head = &head[..n];
        let by_ext = Format::from_extension(path);
        let by_magic = if head.starts_with(b"LASF") {
            // Bit 7 (or 6) of the point format id marks LAZ.
            Some(if n > 104 && head[104] & 0xc0 != 0 {
                Format::Laz
            } else {
                Format::Las
            })
        } else if head.starts_with(b"ASTM-E57") {
            Some(Format::E57)
        } else if head.starts_with(b"ply") && n > 3 && (head[3] == b'\n' || head[3] == b'\r') {
            Some(Format::Ply)
        } else {
            None
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_string();
        match (by_magic, by_ext) {
            (Some(m), Some(e)) if m == e => Ok(m),
            (Some(m @ (Format::Las | Format::Laz)), Some(Format::Las | Format::Laz)) => Ok(m),
            (Some(m), Some(e)) => Err(CaptureError::WrongExtension {
                path: path.into(),
                claimed: e.name(),
                actual: m.name(),
            }),
            (Some(m), None) => Ok(m),
            (None, Some(e @ (Format::Text | Format::Obj))) => {
                if head.contains(&0) {
                    Err(CaptureError::invalid(
                        path,
                        e.name(),
                        "binary content in a text format",
                    ))
                } else {
                    Ok(e)
                }
            }
            (None, Some(e)) => Err(CaptureError::invalid(
                path,
                e.name(),
                format!("missing {} signature", e.name()),
            )),
            (None, None) => Err(CaptureError::UnknownFormat {
                path: path.into(),
                extension: ext,
                magic: head
                    .iter()
                    .take(8)
                    .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
                    .collect(),
            }),
        }
    }
}

/// Thinning applied while streaming, so files larger than memory can still be viewed and
/// processed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Decimation {
    #[default]
    None,
    /// Keep every n-th point in file order (lidR `decimate_points(homogenize)`-free, PDAL
    /// `filters.decimation`).
    EveryNth(u32),
    /// Keep the first point in each cube of this edge length in metres (PDAL
    /// `filters.voxeldownsize` "first" mode).
    Voxel(f64),
}

impl Decimation {
    pub fn describe(&self) -> Option<String> {
        match self {
            Decimation::None => None,
            Decimation::EveryNth(n) => Some(format!("every {n}th point")),
            Decimation::Voxel(s) => Some(format!("first point per {s} m voxel")),
        }
    }
}

/// Which way is up in the source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpOption {
    /// Files that prove Z-up (written by TwinMint, or at map coordinates) are Z-up; every other
    /// file, in any format, is decided from its geometry (see [`up_axis`]).
    #[default]
    Auto,
    Z,
    Y,
}

/// Options for [`read`].
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Points decoded per chunk; bounds the working memory of a read beside the cloud itself
    /// (default 256 Ki points: about 10 MB of raw records and as much of decoded columns; 1 Mi
    /// made a 1 M-point read's transient twice the cloud). LAZ reads round it down to whole
    /// rounds of the file's chunks over the decompressor's threads (on 2 cores and LASzip's
    /// 50 000-point chunks: 200 000).
    pub chunk_points: usize,
    pub decimation: Decimation,
    pub up: UpOption,
    /// Assign this CRS, overriding (or supplying) the file's.
    pub crs: Option<Crs>,
    /// Read as this format regardless of extension.
    pub format: Option<Format>,
    /// Which optional attributes to decode (default all). See [`Fields`].
    pub fields: Fields,
    /// Keep only points whose x, y lie in this box (absolute CRS coordinates), chunk by chunk,
    /// so a tile of a large survey is read in memory bounded by the tile (PDAL `filters.crop`).
    pub crop: Option<Crop>,
}

/// A horizontal box: `min` inclusive, `max` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crop {
    pub min: [f64; 2],
    pub max: [f64; 2],
}

impl Crop {
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.min[0] && x < self.max[0] && y >= self.min[1] && y < self.max[1]
    }
}

/// The optional point attributes a read decodes; positions always are. A caller that draws or
/// counts only some of them (the viewer: colour, intensity, class, the tree-id column) skips the
/// rest: their columns are absent from the cloud, and in layered LAZ (point formats 6–10, whose
/// chunks store each attribute as its own compressed layer — LAS 1.4 R15 and LASzip's
/// "layered chunked" compressor) their layers are not even decompressed, the way LASzip's and
/// laz-rs's `DecompressionSelection` allow. Other formats drop the columns after parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fields {
    pub intensity: bool,
    /// Return number and number of returns (decoded with the positions in layered LAZ).
    pub returns: bool,
    pub classification: bool,
    pub flags: bool,
    pub scan_angle: bool,
    pub user_data: bool,
    pub point_source_id: bool,
    pub gps_time: bool,
    pub rgb: bool,
    pub nir: bool,
    /// Extra-bytes columns (all or none: LAZ keeps them in one layer).
    pub extra: bool,
}

impl Fields {
    /// Every attribute (what ingest keeps).
    pub const ALL: Fields = Fields {
        intensity: true,
        returns: true,
        classification: true,
        flags: true,
        scan_angle: true,
        user_data: true,
        point_source_id: true,
        gps_time: true,
        rgb: true,
        nir: true,
        extra: true,
    };
    /// No optional attribute: positions only (a caller picks the few it needs on top, as
    /// `Fields { rgb: true, ..Fields::NONE }`).
    pub const NONE: Fields = Fields {
        intensity: false,
        returns: false,
        classification: false,
        flags: false,
        scan_angle: false,
        user_data: false,
        point_source_id: false,
        gps_time: false,
        rgb: false,
        nir: false,
        extra: false,
    };
    /// What the point viewer colours by: RGB, intensity, class, returns and the extra columns
    /// (tree ids).
    pub const VIEWER: Fields = Fields {
        intensity: true,
        returns: true,
        classification: true,
        rgb: true,
        extra: true,
        ..Fields::NONE
    };

    /// Drop the columns of `cloud` this selection does not keep.
    pub fn apply(&self, cloud: &mut PointCloud) {
        if !self.intensity {
            cloud.intensity = None;
        }
        if !self.returns {
            cloud.return_number = None;
            cloud.number_of_returns = None;
        }
        if !self.classification {
            cloud.classification = None;
        }
        if !self.flags {
            cloud.flags = None;
        }
        if !self.scan_angle {
            cloud.scan_angle = None;
        }
        if !self.user_data {
            cloud.user_data = None;
        }
        if !self.point_source_id {
            cloud.point_source_id = None;
        }
        if !self.gps_time {
            cloud.gps_time = None;
        }
        if !self.rgb {
            cloud.rgb = None;
        }
        if !self.nir {
            cloud.nir = None;
        }
        if !self.extra {
            cloud.extra.clear();
        }
    }
}

impl Default for Fields {
    fn default() -> Self {
        Fields::ALL
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            chunk_points: 1 << 18,
            decimation: Decimation::None,
            up: UpOption::Auto,
            crs: None,
            format: None,
            fields: Fields::ALL,
            crop: None,
        }
    }
}

/// Streams chunks through decimation into one cloud.
struct Accumulator {
    cloud: PointCloud,
    /// Columns outside the selection are dropped chunk by chunk (every format; layered LAZ
    /// did not decompress them at all).
    fields: Fields,
    crop: Option<Crop>,
    decimation: Decimation,
    seen: u64,
    voxels: HashSet<(i64, i64, i64)>,
}

impl Accumulator {
    /// Add `chunk`; `expected`: the points the file declares, when every one is kept — the
    /// cloud's columns are then sized for them once the first chunk has arrived.
    fn push(&mut self, mut chunk: PointCloud, expected: Option<u64>) {
        self.fields.apply(&mut chunk);
        if let Some(c) = self.crop {
            let inside: Vec<usize> = (0..chunk.len())
                .filter(|&i| {
                    let p = chunk.absolute(i);
                    c.contains(p[0], p[1])
                })
                .collect();
            if inside.len() != chunk.len() {
                chunk = chunk.select(&inside);
            }
        }
        let keep: Option<Vec<usize>> = match self.decimation {
            Decimation::None => None,
            Decimation::EveryNth(n) => {
                let n = n.max(1) as u64;
                let start = self.seen;
                Some(
                    (0..chunk.len())
                        .filter(|i| (start + *i as u64).is_multiple_of(n))
                        .collect(),
                )
            }
            Decimation::Voxel(s) => Some(
                (0..chunk.len())
                    .filter(|&i| {
                        let p = chunk.absolute(i);
                        let key = (
                            (p[0] / s).floor() as i64,
                            (p[1] / s).floor() as i64,
                            (p[2] / s).floor() as i64,
                        );
                        self.voxels.insert(key)
                    })
                    .collect(),
            ),
        };
        self.seen += chunk.len() as u64;
        let chunk = match keep {
            Some(idx) if idx.len() != chunk.len() => chunk.select(&idx),
            _ => chunk,
        };
        let first = self.cloud.is_empty();
        self.cloud.append(chunk);
        if let Some(n) = expected.filter(|_| first) {
            let more = usize::try_from(n.saturating_sub(self.cloud.len() as u64)).unwrap_or(0);
            // A header that lies (or a count beyond this machine) only loses the reservation:
            // the columns then grow as chunks arrive, and the reader reports what is wrong.
            let _ = self.cloud.try_reserve_exact(more);
        }
    }
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    let _ = meta;
    "not a regular file"
}

/// The smallest voxel for [`Decimation::Voxel`]: 1 mm, below the ranging precision of every
/// scanner TwinMint reads, and far from where `coordinate / size` leaves the `i64` key range.
pub const MIN_VOXEL_M: f64 = 0.001;

/// Read one scan file into a [`PointCloud`] with provenance. Streams in chunks; reports progress;
/// stops with [`CaptureError::Cancelled`] when `cancel` fires. The file's SHA-256 is computed on a
/// second thread while it is parsed.
pub fn read(
    path: &Path,
    opts: &ReadOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<PointCloud> {
    if let Decimation::Voxel(s) = opts.decimation
        && !(s.is_finite() && s >= MIN_VOXEL_M)
    {
        return Err(CaptureError::InvalidOption {
            option: "decimation voxel size",
            reason: format!(
                "{s} m: must be at least {MIN_VOXEL_M} m (finer than any scanner's precision; \
                 below it voxel keys overflow and every point falls in one voxel)"
            ),
        });
    }
    if opts.chunk_points == 0 {
        return Err(CaptureError::InvalidOption {
            option: "chunk_points",
            reason: "must be at least 1".into(),
        });
    }
    let meta = std::fs::metadata(path).map_err(|e| CaptureError::io(path, e))?;
    if meta.is_dir() {
        return Err(CaptureError::invalid(
            path,
            "scan",
            "is a directory, not a scan file",
        ));
    }
    // A FIFO named `scan.las` would block the reader (and the hashing thread) forever; a device
    // never ends. Only regular files are scans.
    if !meta.is_file() {
        return Err(CaptureError::NotAFile {
            path: path.into(),
            kind: file_kind(&meta),
        });
    }
    let format = match opts.format {
        Some(f) => f,
        None => Format::detect(path)?,
    };
    let mut acc = Accumulator {
        cloud: PointCloud::default(),
        fields: opts.fields,
        crop: opts.crop,
        decimation: opts.decimation,
        seen: 0,
        voxels: HashSet::new(),
    };
    // Only a read that keeps every point can size its cloud from the declared count.
    let keeps_all = opts.crop.is_none() && matches!(opts.decimation, Decimation::None);
    let declared = std::cell::Cell::new(None);
    let (hash, parsed) = std::thread::scope(|s| {
        let hasher = s.spawn(|| sha256_file(path));
        let mut sink = |chunk: PointCloud| -> Result<()> {
            acc.push(chunk, declared.get().filter(|_| keeps_all));
            Ok(())
        };
        let chunk = opts.chunk_points;
        let parsed = match format {
            Format::Las | Format::Laz => {
                let declare = |n| declared.set(Some(n));
                las_io::read_chunks(
                    path,
                    chunk,
                    &opts.fields,
                    progress,
                    cancel,
                    &declare,
                    &mut sink,
                )
            }
            Format::E57 => e57_io::read_chunks(path, chunk, progress, cancel, &mut sink),
            Format::Ply => ply::read_chunks(path, chunk, progress, cancel, &mut sink),
            Format::Text => text::read_chunks(path, chunk, progress, cancel, &mut sink),
            Format::Obj => obj::read_chunks(path, chunk, progress, cancel, &mut sink),
        };
        (hasher.join().expect("hash thread"), parsed)
    });
    let (mut source, warnings): (Source, Vec<String>) = parsed?;
    let (sha, size) = hash?;
    let mut cloud = acc.cloud;
    if cloud.is_empty() && source.point_count > 0 {
        return Err(CaptureError::NoPoints { path: path.into() });
    }
    // A cloud with no point has no bounds: every later stage would fail on it, so say it here.
    if cloud.is_empty() {
        return Err(CaptureError::ZeroPoints { path: path.into() });
    }
    cloud
        .check_columns()
        .map_err(|reason| CaptureError::invalid(path, format.name(), reason))?;
    // Positions are f32 offsets from an f64 origin: coordinates spread wider than f32 can hold
    // (a corrupt scale, a 1e300 in a text file) would become ±inf — refuse rather than lie.
    let unstorable = cloud
        .positions
        .iter()
        .filter(|p| !p.iter().all(|v| v.is_finite()))
        .count();
    if unstorable > 0 || !cloud.origin.iter().all(|v| v.is_finite()) {
        return Err(CaptureError::invalid(
            path,
            format.name(),
            format!(
                "{unstorable} point(s) lie too far from the others to be stored (coordinates beyond ±3.4e38 m apart): a corrupt scale or coordinate"
            ),
        ));
    }
    source.sha256 = sha;
    source.size_bytes = size;
    source.points_loaded = cloud.len() as u64;
    source.decimation = opts.decimation.describe();
    let (up, reason) = match opts.up {
        UpOption::Z => (UpAxis::Z, "user said Z-up".to_string()),
        UpOption::Y => (UpAxis::Y, "user said Y-up".to_string()),
        UpOption::Auto => {
            // The file's CRS is needed by the proof (map coordinates, lon/lat).
            if let Some(crs) = &opts.crs {
                source.crs = crs.clone();
            }
            up_axis::detect(&cloud, &source)
        }
    };
    if up == UpAxis::Y {
        cloud.y_up_to_z_up();
    }
    source.up_axis = up;
    source.up_axis_reason = reason;
    if let Some(crs) = &opts.crs {
        source.crs = crs.clone();
        cloud.crs = crs.clone();
    } else {
        cloud.crs = source.crs.clone();
    }
    cloud.provenance.sources = vec![source];
    cloud.provenance.warnings = warnings;
    Ok(cloud)
}
