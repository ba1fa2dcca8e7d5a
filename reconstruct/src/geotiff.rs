//! Single-band Float32 GeoTIFF for DTM and CHM rasters, written by hand, and a small reader.
//!
//! The file is baseline TIFF 6.0 (Adobe 1992): little-endian, uncompressed, one sample per
//! pixel, in strips (§3, §7 of TIFF 6.0), with `SampleFormat = 3` (IEEE floating point,
//! Adobe TIFF Technical Note / TIFF 6.0 §19). Georeferencing follows OGC GeoTIFF 1.1
//! (OGC 19-008r4): `ModelPixelScaleTag` (33550) and `ModelTiepointTag` (33922) tie the raster's
//! top-left corner to the CRS (raster type *PixelIsArea*, so the tie point is the corner of
//! cell (0, 0), matching [`Raster::x_min`]/[`Raster::y_max`]), and `GeoKeyDirectoryTag` (34735)
//! names the CRS by its EPSG code (`ProjectedCRSGeoKey` 3072 or `GeodeticCRSGeoKey` 2048, with
//! `GTModelTypeGeoKey` 1024 and `GTRasterTypeGeoKey` 1025). CRSs without an EPSG code are
//! written as user-defined (32767) with their WKT as citation. Nodata goes in GDAL's
//! `GDAL_NODATA` tag (42113, ASCII), which GDAL, QGIS and rasterio honour.

use std::path::Path;

use capture::Crs;
use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::Raster;

// TIFF field types (TIFF 6.0 §2).
const ASCII: u16 = 2;
pub(crate) const SHORT: u16 = 3;
pub(crate) const LONG: u16 = 4;
const DOUBLE: u16 = 12;

// Tags.
pub const IMAGE_WIDTH: u16 = 256;
pub const IMAGE_LENGTH: u16 = 257;
pub const BITS_PER_SAMPLE: u16 = 258;
pub const COMPRESSION: u16 = 259;
pub const PHOTOMETRIC: u16 = 262;
const STRIP_OFFSETS: u16 = 273;
pub const SAMPLES_PER_PIXEL: u16 = 277;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;
pub const PLANAR_CONFIGURATION: u16 = 284;
pub const SAMPLE_FORMAT: u16 = 339;
const PREDICTOR: u16 = 317;
pub const NEW_SUBFILE_TYPE: u16 = 254;
pub const TILE_WIDTH: u16 = 322;
pub const TILE_LENGTH: u16 = 323;
pub const TILE_OFFSETS: u16 = 324;
pub const TILE_BYTE_COUNTS: u16 = 325;
/// Compression codes: Deflate (TIFF 6.0 supplement 2; what GDAL writes) and Adobe's older one.
pub const DEFLATE: u32 = 8;
const ADOBE_DEFLATE: u32 = 32946;
/// The largest raster the reader accepts (2^28 cells: 1 GiB of Float32, a 16 km square at 1 m).
const MAX_CELLS: u64 = 1 << 28;
/// The largest tile edge the reader accepts (GDAL writes 256 or 512).
const MAX_TILE: usize = 4096;
const MODEL_PIXEL_SCALE: u16 = 33550;
const MODEL_TIEPOINT: u16 = 33922;
const GEO_KEY_DIRECTORY: u16 = 34735;
const GEO_ASCII_PARAMS: u16 = 34737;
pub(crate) const GDAL_NODATA: u16 = 42113;

// GeoKeys (OGC 19-008r4 §7.1) and values.
const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GT_CITATION: u16 = 1026;
const GEODETIC_CRS: u16 = 2048;
const PROJECTED_CRS: u16 = 3072;
const VERTICAL_CRS: u16 = 4096;
const MODEL_PROJECTED: u16 = 1;
const MODEL_GEOGRAPHIC: u16 = 2;
const USER_DEFINED: u16 = 32767;
const PIXEL_IS_AREA: u16 = 1;

/// Options of [`encode_geotiff`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeoTiffOptions {
    /// Target strip size in bytes (default 8 KiB, libtiff's `TIFFDefaultStripSize` target and
    /// the TIFF 6.0 recommendation, §3 "RowsPerStrip"); at least one row per strip.
    pub strip_bytes: usize,
    /// Written into `GTCitationGeoKey` before the CRS label (default "TwinMint").
    pub citation: String,
}

impl Default for GeoTiffOptions {
    fn default() -> Self {
        GeoTiffOptions {
            strip_bytes: 8192,
            citation: "TwinMint".into(),
        }
    }
}

/// One IFD entry's value.
#[derive(Clone)]
pub enum Val {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Double(Vec<f64>),
    Ascii(String),
}

impl Val {
    fn type_count_bytes(&self) -> (u16, u32, Vec<u8>) {
        match self {
            Val::Short(v) => (
                SHORT,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Val::Long(v) => (
                LONG,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Val::Double(v) => (
                DOUBLE,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Val::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (ASCII, b.len() as u32, b)
            }
        }
    }
}

/// The GeoKey directory and ASCII parameters for `crs`.
fn geokeys(crs: &Crs, citation: &str) -> (Vec<u16>, String) {
    let mut keys: Vec<[u16; 4]> = Vec::new();
    let mut ascii = String::new();
    let mut push_ascii = |key: u16, text: &str, keys: &mut Vec<[u16; 4]>| {
        let clean = text.replace('|', "/");
        let offset = ascii.len() as u16;
        ascii.push_str(&clean);
        ascii.push('|');
        keys.push([key, GEO_ASCII_PARAMS, clean.len() as u16 + 1, offset]);
    };
    let code = crs.epsg.filter(|c| *c <= 32766).map(|c| c as u16);
    let geographic = match (code, &crs.wkt) {
        (Some(_), _) => crs.is_geographic(),
        (None, Some(w)) => {
            let u = w.trim_start().to_ascii_uppercase();
            u.starts_with("GEOGCS") || u.starts_with("GEOGCRS")
        }
        (None, None) => false,
    };
    let model = if crs.is_unknown() {
        USER_DEFINED
    } else if geographic {
        MODEL_GEOGRAPHIC
    } else {
        MODEL_PROJECTED
    };
    keys.push([GT_MODEL_TYPE, 0, 1, model]);
    keys.push([GT_RASTER_TYPE, 0, 1, PIXEL_IS_AREA]);
    let label = match (&crs.wkt, code) {
        (_, Some(_)) => crs.label(),
        (Some(w), None) => w.clone(),
        (None, None) => "unknown CRS".into(),
    };
    push_ascii(GT_CITATION, &format!("{citation}; {label}"), &mut keys);
    if model != USER_DEFINED {
        let key = if geographic {
            GEODETIC_CRS
        } else {
            PROJECTED_CRS
        };
        keys.push([key, 0, 1, code.unwrap_or(USER_DEFINED)]);
    }
    if let Some(v) = crs.vertical_epsg.filter(|v| *v <= 32766) {
        keys.push([VERTICAL_CRS, 0, 1, v as u16]);
    }
    keys.sort_by_key(|k| k[0]);
    // Header: KeyDirectoryVersion 1, KeyRevision 1, MinorRevision 1 (GeoTIFF 1.1), count.
    let mut dir = vec![1u16, 1, 1, keys.len() as u16];
    for k in keys {
        dir.extend_from_slice(&k);
    }
    (dir, ascii)
}

/// Format a nodata value the way GDAL writes `GDAL_NODATA` (shortest round-trip decimal,
/// `nan` for NaN).
fn nodata_text(v: f32) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v}")
    }
}

/// One IFD written at byte `at` of the file: the entries (sorted by tag), the offset of the
/// next IFD (`next`, 0 for none), then the values too long to sit in their entry, each on an
/// 8-byte boundary (TIFF requires a word boundary; 8 keeps doubles aligned for readers that
/// map the file). Its length depends only on the entries' types and counts.
pub fn ifd_block(entries: &[(u16, Val)], at: usize, next: u32) -> Vec<u8> {
    let ifd_len = 2 + 12 * entries.len() + 4;
    let extra_at = at + ifd_len;
    let mut ifd = Vec::with_capacity(ifd_len);
    let mut extra: Vec<u8> = Vec::new();
    ifd.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, val) in entries {
        let (ty, count, bytes) = val.type_count_bytes();
        ifd.extend_from_slice(&tag.to_le_bytes());
        ifd.extend_from_slice(&ty.to_le_bytes());
        ifd.extend_from_slice(&count.to_le_bytes());
        if bytes.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..bytes.len()].copy_from_slice(&bytes);
            ifd.extend_from_slice(&inline);
        } else {
            while !(extra_at + extra.len()).is_multiple_of(8) {
                extra.push(0);
            }
            ifd.extend_from_slice(&((extra_at + extra.len()) as u32).to_le_bytes());
            extra.extend_from_slice(&bytes);
        }
    }
    ifd.extend_from_slice(&next.to_le_bytes());
    debug_assert_eq!(ifd.len(), ifd_len);
    ifd.extend_from_slice(&extra);
    ifd
}

/// Refuse rasters a TIFF cannot georeference or hold.
pub fn check_raster(raster: &Raster) -> Result<()> {
    let (w, h) = (raster.width, raster.height);
    if w == 0 || h == 0 || raster.data.len() != w * h {
        return Err(ReconstructError::Input {
            step: "geotiff",
            reason: format!("raster {w}×{h} holds {} values", raster.data.len()),
        });
    }
    let finite = raster.resolution_m.is_finite() && raster.x_min.is_finite();
    if !finite || raster.resolution_m <= 0.0 || !raster.y_max.is_finite() {
        return Err(ReconstructError::Input {
            step: "geotiff",
            reason: "raster georeference must be finite with a positive resolution".into(),
        });
    }
    Ok(())
}

/// The georeferencing entries: pixel scale, tie point, GeoKeys (with their ASCII parameters)
/// and GDAL's nodata.
pub fn georef_entries(raster: &Raster, crs: &Crs, citation: &str) -> Vec<(u16, Val)> {
    let (dir, ascii) = geokeys(crs, citation);
    vec![
        (
            MODEL_PIXEL_SCALE,
            Val::Double(vec![raster.resolution_m, raster.resolution_m, 0.0]),
        ),
        (
            MODEL_TIEPOINT,
            Val::Double(vec![0.0, 0.0, 0.0, raster.x_min, raster.y_max, 0.0]),
        ),
        (GEO_KEY_DIRECTORY, Val::Short(dir)),
        (GEO_ASCII_PARAMS, Val::Ascii(ascii)),
        (GDAL_NODATA, Val::Ascii(nodata_text(raster.nodata))),
    ]
}

/// Encode `raster` as a single-band Float32 GeoTIFF in `crs`. No file I/O.
pub fn encode_geotiff(raster: &Raster, crs: &Crs, opts: &GeoTiffOptions) -> Result<Vec<u8>> {
    check_raster(raster)?;
    let (w, h) = (raster.width, raster.height);
    let data_len = w * h * 4;
    if data_len as u64 > u32::MAX as u64 - (1 << 20) || w > u32::MAX as usize {
        return Err(ReconstructError::Input {
            step: "geotiff",
            reason: format!("{w}×{h} Float32 exceeds classic TIFF's 4 GiB"),
        });
    }
    let rows_per_strip = (opts.strip_bytes / (w * 4)).clamp(1, h);
    let strips = h.div_ceil(rows_per_strip);
    let mut offsets = Vec::with_capacity(strips);
    let mut counts = Vec::with_capacity(strips);
    for s in 0..strips {
        let rows = rows_per_strip.min(h - s * rows_per_strip);
        offsets.push((8 + s * rows_per_strip * w * 4) as u32);
        counts.push((rows * w * 4) as u32);
    }
    let mut entries: Vec<(u16, Val)> = vec![
        (IMAGE_WIDTH, Val::Long(vec![w as u32])),
        (IMAGE_LENGTH, Val::Long(vec![h as u32])),
        (BITS_PER_SAMPLE, Val::Short(vec![32])),
        (COMPRESSION, Val::Short(vec![1])),
        (PHOTOMETRIC, Val::Short(vec![1])),
        (STRIP_OFFSETS, Val::Long(offsets)),
        (SAMPLES_PER_PIXEL, Val::Short(vec![1])),
        (ROWS_PER_STRIP, Val::Long(vec![rows_per_strip as u32])),
        (STRIP_BYTE_COUNTS, Val::Long(counts)),
        (PLANAR_CONFIGURATION, Val::Short(vec![1])),
        (SAMPLE_FORMAT, Val::Short(vec![3])),
    ];
    entries.extend(georef_entries(raster, crs, &opts.citation));
    entries.sort_by_key(|e| e.0);

    // Layout: header, pixel data (strips back to back), IFD, out-of-line values.
    let ifd_at = 8 + data_len;
    let ifd = ifd_block(&entries, ifd_at, 0);
    let total = ifd_at + ifd.len();
    if total as u64 > u32::MAX as u64 {
        return Err(ReconstructError::Input {
            step: "geotiff",
            reason: "file exceeds classic TIFF's 4 GiB".into(),
        });
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&(ifd_at as u32).to_le_bytes());
    for v in &raster.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&ifd);
    Ok(out)
}

/// Encode and write atomically (temporary file + rename).
pub fn write_geotiff(path: &Path, raster: &Raster, crs: &Crs, opts: &GeoTiffOptions) -> Result<()> {
    let bytes = encode_geotiff(raster, crs, opts)?;
    capture::atomic::write_bytes(path, &bytes).map_err(|e| ReconstructError::write(path, e))
}

/// What [`read_geotiff`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoTiff {
    pub raster: Raster,
    /// EPSG codes from the GeoKeys (a user-defined 32767 reads as none; the citation then
    /// holds the WKT).
    pub crs: Crs,
    /// `GTModelTypeGeoKey` and `GTRasterTypeGeoKey`.
    pub model_type: u16,
    pub raster_type: u16,
    pub citation: Option<String>,
    /// The GeoKey directory header `[version, revision, minor, count]`.
    pub geokey_version: [u16; 3],
    /// Every tag present, ascending.
    pub tags: Vec<u16>,
    /// Rows per strip (0 when tiled).
    pub rows_per_strip: u32,
    /// Tile width and height, when tiled.
    pub tile: Option<[u32; 2]>,
    /// Reduced-resolution IFDs chained after the first (a COG's overviews).
    pub overviews: usize,
}

/// Decompress a Deflate (zlib) block, refusing more than `limit` bytes out (a hostile block
/// cannot expand without bound).
fn inflate(raw: &[u8], limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::with_capacity(limit);
    flate2::read::ZlibDecoder::new(raw)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// How many IFDs follow the first in the chain (bounded, so a looping chain ends).
fn count_overviews(bytes: &[u8], first: usize) -> usize {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let (mut at, mut n) = (first, 0usize);
    while let Some(count) = u16_at(at) {
        match u32_at(at + 2 + 12 * count as usize) {
            Some(next) if next != 0 && (next as usize) > at && n < 64 => {
                at = next as usize;
                n += 1;
            }
            _ => break,
        }
    }
    n
}

/// [`read_geotiff`] of the file at `path`, naming it in either error.
pub fn read_geotiff_file(path: &Path) -> Result<GeoTiff> {
    let bytes = std::fs::read(path).map_err(|source| ReconstructError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    read_geotiff(&bytes).map_err(|e| ReconstructError::Input {
        step: "geotiff",
        reason: format!("{}: {e}", path.display()),
    })
}

/// Read a little-endian, uncompressed, single-band Float32 GeoTIFF as written by
/// [`encode_geotiff`] (enough for tests and for re-reading TwinMint's own rasters).
pub fn read_geotiff(bytes: &[u8]) -> Result<GeoTiff> {
    let bad = |reason: String| ReconstructError::Input {
        step: "geotiff",
        reason,
    };
    let get = |at: usize, n: usize| -> Result<&[u8]> {
        bytes
            .get(at..at + n)
            .ok_or_else(|| bad(format!("truncated at byte {at}")))
    };
    let u16_at =
        |at: usize| -> Result<u16> { Ok(u16::from_le_bytes(get(at, 2)?.try_into().unwrap())) };
    let u32_at =
        |at: usize| -> Result<u32> { Ok(u32::from_le_bytes(get(at, 4)?.try_into().unwrap())) };
    if get(0, 2)? != b"II" || u16_at(2)? != 42 {
        return Err(bad("not a little-endian classic TIFF".into()));
    }
    let ifd = u32_at(4)? as usize;
    let n = u16_at(ifd)? as usize;
    let mut tags: Vec<(u16, u16, u32, usize)> = Vec::with_capacity(n);
    for k in 0..n {
        let e = ifd + 2 + 12 * k;
        let (tag, ty, count) = (u16_at(e)?, u16_at(e + 2)?, u32_at(e + 4)?);
        let size = match ty {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 => 4,
            5 | 10 | 12 => 8,
            _ => return Err(bad(format!("tag {tag}: unknown type {ty}"))),
        } * count as usize;
        let at = if size <= 4 {
            e + 8
        } else {
            u32_at(e + 8)? as usize
        };
        get(at, size)?;
        tags.push((tag, ty, count, at));
    }
    if tags.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(bad("IFD entries not in ascending tag order".into()));
    }
    let find = |tag: u16| tags.iter().find(|t| t.0 == tag).copied();
    let ints = |tag: u16| -> Result<Vec<u32>> {
        let (_, ty, count, at) = find(tag).ok_or_else(|| bad(format!("tag {tag} missing")))?;
        (0..count as usize)
            .map(|i| match ty {
                SHORT => u16_at(at + 2 * i).map(u32::from),
                LONG => u32_at(at + 4 * i),
                _ => Err(bad(format!("tag {tag}: type {ty} is not an integer"))),
            })
            .collect()
    };
    let doubles = |tag: u16| -> Result<Vec<f64>> {
        let (_, ty, count, at) = find(tag).ok_or_else(|| bad(format!("tag {tag} missing")))?;
        if ty != DOUBLE {
            return Err(bad(format!("tag {tag}: type {ty} is not DOUBLE")));
        }
        (0..count as usize)
            .map(|i| Ok(f64::from_le_bytes(get(at + 8 * i, 8)?.try_into().unwrap())))
            .collect()
    };
    let ascii = |tag: u16| -> Option<String> {
        let (_, ty, count, at) = find(tag)?;
        (ty == ASCII).then(|| {
            String::from_utf8_lossy(&bytes[at..at + count as usize])
                .trim_end_matches('\0')
                .to_string()
        })
    };
    let one = |tag: u16| -> Result<u32> { Ok(ints(tag)?[0]) };
    let (w, h) = (one(IMAGE_WIDTH)? as usize, one(IMAGE_LENGTH)? as usize);
    let compression = one(COMPRESSION)?;
    // Sizes a hostile header could claim are refused before anything is allocated: the cells
    // (a Deflate stream expands at most ~1000×, so more than that many cells per byte cannot be
    // in the file) and the tile edge.
    let cells = (w as u64).saturating_mul(h as u64);
    if w == 0 || h == 0 || cells > MAX_CELLS || cells > 1024 * bytes.len() as u64 {
        return Err(bad(format!(
            "{w}×{h} cells cannot be in a {}-byte file",
            bytes.len()
        )));
    }
    if one(BITS_PER_SAMPLE)? != 32
        || one(SAMPLE_FORMAT)? != 3
        || !matches!(compression, 1 | DEFLATE | ADOBE_DEFLATE)
        || find(PREDICTOR).map_or(Ok(1), |_| one(PREDICTOR))? != 1
        || find(SAMPLES_PER_PIXEL).map_or(Ok(1), |_| one(SAMPLES_PER_PIXEL))? != 1
    {
        return Err(bad(
            "only single-band Float32, uncompressed or Deflate without predictor, is supported"
                .into(),
        ));
    }
    // A block: its bytes decompressed, checked to hold exactly `values` Float32s.
    let block = |o: u32, c: u32, values: usize| -> Result<Vec<f32>> {
        let raw = get(o as usize, c as usize)?;
        let owned;
        let plain = if compression == 1 {
            raw
        } else {
            owned = inflate(raw, values * 4).map_err(|e| bad(format!("block at {o}: {e}")))?;
            &owned[..]
        };
        if plain.len() != values * 4 {
            return Err(bad(format!(
                "block at {o} holds {} bytes, not {}",
                plain.len(),
                values * 4
            )));
        }
        Ok(plain
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect())
    };
    let (data, rows_per_strip, tile) = if find(TILE_WIDTH).is_some() {
        let (tw, th) = (one(TILE_WIDTH)? as usize, one(TILE_LENGTH)? as usize);
        if tw == 0 || th == 0 || tw > MAX_TILE || th > MAX_TILE {
            return Err(bad(format!("tile size {tw}×{th} (at most {MAX_TILE})")));
        }
        let (offsets, counts) = (ints(TILE_OFFSETS)?, ints(TILE_BYTE_COUNTS)?);
        let (nx, ny) = (w.div_ceil(tw), h.div_ceil(th));
        if offsets.len() != nx * ny || counts.len() != nx * ny {
            return Err(bad(format!(
                "{} tiles listed, {} expected",
                offsets.len(),
                nx * ny
            )));
        }
        let mut data = vec![0f32; w * h];
        for ty in 0..ny {
            for tx in 0..nx {
                let k = ty * nx + tx;
                let t = block(offsets[k], counts[k], tw * th)?;
                for r in 0..th.min(h - ty * th) {
                    let row = (ty * th + r) * w + tx * tw;
                    let cols = tw.min(w - tx * tw);
                    data[row..row + cols].copy_from_slice(&t[r * tw..r * tw + cols]);
                }
            }
        }
        (data, 0, Some([tw as u32, th as u32]))
    } else {
        let rows_per_strip = one(ROWS_PER_STRIP)?;
        let (offsets, counts) = (ints(STRIP_OFFSETS)?, ints(STRIP_BYTE_COUNTS)?);
        let rps = (rows_per_strip as usize).max(1);
        if offsets.len() != counts.len() || offsets.len() != h.div_ceil(rps) {
            return Err(bad(
                "strips do not hold width × height Float32 values".into()
            ));
        }
        let mut data = Vec::with_capacity(w * h);
        for (s, (o, c)) in offsets.iter().zip(&counts).enumerate() {
            let rows = rps.min(h - s * rps);
            data.extend(block(*o, *c, rows * w)?);
        }
        (data, rows_per_strip, None)
    };
    let scale = doubles(MODEL_PIXEL_SCALE)?;
    let tie = doubles(MODEL_TIEPOINT)?;
    if scale.len() < 2 || tie.len() < 6 || (scale[0] - scale[1]).abs() > 1e-9 * scale[0].abs() {
        return Err(bad("need square pixels and one tie point".into()));
    }
    let nodata = ascii(GDAL_NODATA)
        .and_then(|s| s.trim().parse::<f32>().ok())
        .unwrap_or(f32::NAN);
    let raster = Raster {
        x_min: tie[3] - tie[0] * scale[0],
        y_max: tie[4] + tie[1] * scale[1],
        resolution_m: scale[0],
        width: w,
        height: h,
        data,
        nodata,
    };
    let dir = ints(GEO_KEY_DIRECTORY)?;
    if dir.len() < 4 || dir.len() != 4 + 4 * dir[3] as usize {
        return Err(bad("malformed GeoKeyDirectory".into()));
    }
    let params = ascii(GEO_ASCII_PARAMS).unwrap_or_default();
    let mut crs = Crs::default();
    let (mut model_type, mut raster_type, mut citation) = (0u16, 0u16, None);
    for k in dir[4..].chunks_exact(4) {
        let (key, loc, count, val) = (k[0] as u16, k[1] as u16, k[2] as usize, k[3] as u16);
        match (key, loc) {
            (GT_MODEL_TYPE, 0) => model_type = val,
            (GT_RASTER_TYPE, 0) => raster_type = val,
            (GEODETIC_CRS | PROJECTED_CRS, 0) if val != USER_DEFINED => crs.epsg = Some(val as u32),
            (VERTICAL_CRS, 0) => crs.vertical_epsg = Some(val as u32),
            (GT_CITATION, GEO_ASCII_PARAMS) => {
                let s = params.get(val as usize..val as usize + count).unwrap_or("");
                citation = Some(s.trim_end_matches('|').to_string());
            }
            _ => {}
        }
    }
    Ok(GeoTiff {
        raster,
        crs,
        model_type,
        raster_type,
        citation,
        geokey_version: [dir[0] as u16, dir[1] as u16, dir[2] as u16],
        tags: tags.iter().map(|t| t.0).collect(),
        rows_per_strip,
        tile,
        overviews: count_overviews(bytes, ifd),
    })
}
