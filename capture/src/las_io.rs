//! LAS/LAZ 1.0–1.4 reading (point formats 0–10, extra bytes, WKT/GeoTIFF CRS) and LAS/LAZ 1.4
//! writing (formats 6–8 with extra bytes).
//!
//! Records are decoded straight from the `las` crate's raw byte slabs into columns — no per-point
//! structs — which keeps import at decompression speed. LAZ decompression runs chunk-parallel, and
//! the next read's chunks decode while this read's records become columns (`read_chunks`): a
//! 5 M-point LAZ reads 8 % faster with every attribute, 14 % with the viewer's (five interleaved
//! runs each, 2 cores).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::Path;

use las::point::Format;
use las::{Builder, GpsTimeType, Transform, Vector, Version, Vlr};

use crate::cloud::{ExtraColumn, ExtraType, PointCloud, Quantization};
use crate::crs::{Crs, geokey_directory};
use crate::error::{CaptureError, Result};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::{
    CaptureTime, Source, TimeSource, UpAxis, adjusted_gps_to_utc, date_to_utc,
};
use crate::read::Fields;

/// Byte offsets of the optional fields inside one point record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    extended: bool,
    gps: Option<usize>,
    rgb: Option<usize>,
    nir: Option<usize>,
    extra: usize,
    pub(crate) extra_len: usize,
    pub(crate) record_len: usize,
}

impl Layout {
    pub(crate) fn of(f: &Format) -> Self {
        let mut at = if f.is_extended { 30 } else { 20 };
        let gps = if f.is_extended {
            Some(22)
        } else if f.has_gps_time {
            at += 8;
            Some(20)
        } else {
            None
        };
        let rgb = f.has_color.then(|| {
            at += 6;
            at - 6
        });
        let nir = f.has_nir.then(|| {
            at += 2;
            at - 2
        });
        if f.has_waveform {
            at += 29;
        }
        Layout {
            extended: f.is_extended,
            gps,
            rgb,
            nir,
            extra: at,
            extra_len: f.extra_bytes as usize,
            record_len: at + f.extra_bytes as usize,
        }
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn i32_at(b: &[u8], o: usize) -> i32 {
    i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn f64_at(b: &[u8], o: usize) -> f64 {
    f64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Parse the LAS extra-bytes VLR (`LASF_Spec`/4) into empty column templates.
pub(crate) fn extra_templates(
    path: &Path,
    header: &las::Header,
    extra_len: usize,
) -> Result<Vec<ExtraColumn>> {
    let mut cols = Vec::new();
    let mut width = 0usize;
    if let Some(vlr) = header
        .all_vlrs()
        .find(|v| v.user_id.trim_end_matches('\0') == "LASF_Spec" && v.record_id == 4)
    {
        if vlr.data.len() % 192 != 0 {
            return Err(CaptureError::invalid(
                path,
                "LAS",
                format!(
                    "extra-bytes VLR is {} bytes, not a multiple of 192",
                    vlr.data.len()
                ),
            ));
        }
        for d in vlr.data.chunks_exact(192) {
            let code = d[2];
            let options = d[3];
            let name = cstr(&d[4..36]);
            let description = cstr(&d[160..192]);
            let data_type = match code {
                0..=10 => ExtraType::from_las_code(code, options).unwrap(),
                // Deprecated 2- and 3-element arrays of types 1–10: kept as opaque bytes.
                11..=30 => {
                    let base = ExtraType::from_las_code((code - 1) % 10 + 1, 0).unwrap();
                    ExtraType::Undocumented((base.width() * if code <= 20 { 2 } else { 3 }) as u16)
                }
                _ => {
                    return Err(CaptureError::invalid(
                        path,
                        "LAS",
                        format!("extra-bytes column {name:?} has unknown data type {code}"),
                    ));
                }
            };
            let typed = code <= 10 && code > 0;
            let mut col = ExtraColumn::new(&name, data_type);
            col.description = description;
            let f = |o: usize| f64_at(d, o);
            if typed && options & 1 != 0 {
                col.no_data = Some(match data_type {
                    ExtraType::F32 | ExtraType::F64 => f(40),
                    ExtraType::I8 | ExtraType::I16 | ExtraType::I32 | ExtraType::I64 => {
                        i64::from_le_bytes(d[40..48].try_into().unwrap()) as f64
                    }
                    _ => u64::from_le_bytes(d[40..48].try_into().unwrap()) as f64,
                });
            }
            if typed && options & 8 != 0 {
                col.scale = Some(f(112));
            }
            if typed && options & 16 != 0 {
                col.offset = Some(f(136));
            }
            width += data_type.width();
            cols.push(col);
        }
    }
    if width > extra_len {
        return Err(CaptureError::invalid(
            path,
            "LAS",
            format!("extra-bytes VLR describes {width} bytes but records carry {extra_len}"),
        ));
    }
    if width < extra_len {
        cols.push(ExtraColumn::new(
            "undescribed_extra_bytes",
            ExtraType::Undocumented((extra_len - width) as u16),
        ));
    }
    Ok(cols)
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

/// The CRS a LAS/LAZ header declares (WKT or GeoTIFF keys); warnings about it are dropped.
pub fn crs_of(header: &las::Header, path: &Path) -> Crs {
    header_crs(header, &mut Vec::new(), path)
}

/// The CRS a LAS header declares (WKT VLR first, then GeoTIFF keys).
fn header_crs(header: &las::Header, warnings: &mut Vec<String>, path: &Path) -> Crs {
    if let Some(w) = header.get_wkt_crs_bytes() {
        let text = String::from_utf8_lossy(w).to_string();
        let crs = Crs::from_wkt(&text);
        if crs.epsg.is_none() {
            warnings.push(format!(
                "{}: WKT CRS names no EPSG code; kept as WKT",
                path.display()
            ));
        }
        return crs;
    }
    match header.get_geotiff_crs() {
        Ok(Some(g)) => {
            let horizontal = g
                .get_projected_crs_geo_key_value()
                .or_else(|| g.get_geodetic_crs_geo_key_value());
            let mut crs = Crs::default();
            match horizontal {
                Some(c) if c > 0 && c != 32767 => crs.epsg = Some(c as u32),
                _ => warnings.push(format!(
                    "{}: GeoTIFF keys give no EPSG code (user-defined CRS); CRS unknown",
                    path.display()
                )),
            }
            crs.vertical_epsg = g
                .get_vertical_crs_geo_key_value()
                .filter(|&v| v > 0 && v != 32767)
                .map(|v| v as u32);
            crs
        }
        Ok(None) => {
            warnings.push(format!("{}: no CRS in the file", path.display()));
            Crs::default()
        }
        Err(e) => {
            warnings.push(format!(
                "{}: unreadable GeoTIFF CRS keys ({e}); CRS unknown",
                path.display()
            ));
            Crs::default()
        }
    }
}

/// Header facts `read` needs before decoding points.
pub struct LasInfo {
    pub header: las::Header,
    pub point_data_offset: u64,
    pub file_size: u64,
    /// Problems that do not stop the read (negative scale, header bounds that are not a box).
    pub warnings: Vec<String>,
}

/// Minimum record length of each LAS point format (LAS 1.4 R15 §2.6).
const FORMAT_LEN: [u64; 11] = [20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67];

/// What [`validate`] learnt from the raw header.
struct RawFacts {
    point_data_offset: u64,
    warnings: Vec<String>,
}

fn le_u16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn le_u32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn le_u64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn read_at(f: &mut File, at: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    f.seek(SeekFrom::Start(at))?;
    read_up_to(f, buf)
}

/// Check every header field the `las`/`laz` crates would trust — sizes, counts, offsets, the
/// LAZ item list and chunk table — against the file size *before* they allocate or decode from
/// them. A hostile header must end in a typed error, not an overflow, a 64 GiB allocation or a
/// decoder assertion.
fn validate(path: &Path, f: &mut File, file_size: u64) -> Result<RawFacts> {
    let io = |e| CaptureError::io(path, e);
    let bad = |reason: String| CaptureError::invalid(path, "LAS", reason);
    let mut head = [0u8; 375];
    let got = read_at(f, 0, &mut head).map_err(io)?;
    if got < 227 || &head[0..4] != b"LASF" {
        return Err(bad(format!(
            "header is {got} bytes or lacks the LASF signature"
        )));
    }
    let (major, minor) = (head[24], head[25]);
    if major != 1 || minor > 4 {
        return Err(bad(format!(
            "LAS version {major}.{minor} is not supported (1.0–1.4)"
        )));
    }
    let min_header = match minor {
        0..=2 => 227u64,
        3 => 235,
        _ => 375,
    };
    let header_size = le_u16(&head, 94) as u64;
    if header_size < min_header || (got as u64) < min_header {
        return Err(bad(format!(
            "header size {header_size} is smaller than LAS 1.{minor}'s {min_header} bytes"
        )));
    }
    let point_data_offset = le_u32(&head, 96) as u64;
    if point_data_offset < header_size {
        return Err(bad(format!(
            "point data offset {point_data_offset} lies inside the {header_size}-byte header"
        )));
    }
    if point_data_offset > file_size {
        return Err(CaptureError::TruncatedAt {
            path: path.into(),
            what: "the header puts the point data",
            needed: point_data_offset,
            size: file_size,
        });
    }
    let format_byte = head[104];
    let compressed = format_byte & 0xc0 != 0;
    let format_id = format_byte & 0x3f;
    if format_id as usize >= FORMAT_LEN.len() {
        return Err(bad(format!(
            "point format {format_id} is not a LAS point format (0–10)"
        )));
    }
    if minor < 4 && format_id > 5 {
        return Err(bad(format!(
            "point format {format_id} needs LAS 1.4, the header says 1.{minor}"
        )));
    }
    let record_len = le_u16(&head, 105) as u64;
    if record_len < FORMAT_LEN[format_id as usize] {
        return Err(bad(format!(
            "record length {record_len} is shorter than point format {format_id} needs ({} bytes)",
            FORMAT_LEN[format_id as usize]
        )));
    }
    let legacy = le_u32(&head, 107) as u64;
    let count = if minor >= 4 {
        let c64 = le_u64(&head, 247);
        if legacy != 0 && legacy != c64 {
            return Err(bad(format!(
                "header point counts disagree: legacy {legacy}, 64-bit {c64}"
            )));
        }
        c64
    } else {
        legacy
    };
    // The `las` crate computes offset + count × record length (in u64) while reading the header.
    let point_bytes = count
        .checked_mul(record_len)
        .and_then(|b| b.checked_add(point_data_offset));
    if !compressed {
        match point_bytes {
            Some(end) if end <= file_size => {}
            _ => {
                return Err(CaptureError::Truncated {
                    path: path.into(),
                    expected: count,
                    found: (file_size - point_data_offset) / record_len,
                });
            }
        }
    } else if point_bytes.is_none() {
        return Err(bad(format!(
            "header point count {count} × record length {record_len} overflows"
        )));
    }
    // Scale and offset: 0 collapses every point onto one; NaN/inf poisons every coordinate.
    let mut warnings = Vec::new();
    let axes = ["X", "Y", "Z"];
    for (k, axis) in axes.iter().enumerate() {
        let scale = f64_at(&head, 131 + 8 * k);
        let offset = f64_at(&head, 155 + 8 * k);
        if scale == 0.0 || !scale.is_finite() {
            return Err(bad(format!(
                "{axis} scale factor is {scale}: every coordinate would collapse to the offset"
            )));
        }
        if !offset.is_finite() {
            return Err(bad(format!("{axis} offset is {offset}")));
        }
        if !(scale.abs() * 2f64.powi(31) + offset.abs()).is_finite() {
            return Err(bad(format!(
                "{axis} scale factor {scale} with offset {offset} puts coordinates beyond f64 range"
            )));
        }
        if scale < 0.0 {
            warnings.push(format!(
                "{}: negative {axis} scale factor {scale}; coordinates are read as integer × scale + offset (mirrored against the usual positive scale), check the writer",
                path.display()
            ));
        }
        let (max, min) = (f64_at(&head, 179 + 16 * k), f64_at(&head, 187 + 16 * k));
        if count > 0 && !(min.is_finite() && max.is_finite() && min <= max) {
            warnings.push(format!(
                "{}: header {axis} bounds [{min}, {max}] are not a valid range; the points' own extent is used",
                path.display()
            ));
        }
    }
    // VLRs must fit between the header and the point data.
    let n_vlrs = le_u32(&head, 100) as u64;
    let room = point_data_offset - header_size;
    if n_vlrs.saturating_mul(54) > room {
        return Err(bad(format!(
            "{n_vlrs} VLRs cannot fit in the {room} bytes between header and point data"
        )));
    }
    let mut laszip: Option<Vec<u8>> = None;
    let mut pos = header_size;
    for i in 0..n_vlrs {
        let mut vh = [0u8; 54];
        if pos + 54 > point_data_offset || read_at(f, pos, &mut vh).map_err(io)? < 54 {
            return Err(bad(format!("VLR {i} runs past the point data offset")));
        }
        let len = le_u16(&vh, 20) as u64;
        if pos + 54 + len > point_data_offset {
            return Err(bad(format!(
                "VLR {i} ({len} bytes at byte {pos}) runs past the point data offset {point_data_offset}"
            )));
        }
        if vh[2..16] == *b"laszip encoded" && le_u16(&vh, 18) == 22204 {
            let mut data = vec![0u8; len as usize];
            read_at(f, pos + 54, &mut data).map_err(io)?;
            laszip = Some(data);
        }
        pos += 54 + len;
    }
    // LAS 1.4 EVLRs: the `las` crate allocates the first one's 64-bit length as read.
    if minor >= 4 {
        let start = le_u64(&head, 235);
        let n = le_u32(&head, 243);
        if n > 0 && start > 0 {
            let mut eh = [0u8; 60];
            let got = match start.checked_add(60) {
                Some(end) if end <= file_size => read_at(f, start, &mut eh).map_err(io)?,
                _ => 0,
            };
            if got < 60 {
                return Err(CaptureError::TruncatedAt {
                    path: path.into(),
                    what: "the header puts the first EVLR",
                    needed: start,
                    size: file_size,
                });
            }
            let len = le_u64(&eh, 20);
            if start
                .checked_add(60)
                .and_then(|s| s.checked_add(len))
                .is_none_or(|end| end > file_size)
            {
                return Err(CaptureError::TruncatedAt {
                    path: path.into(),
                    what: "the first EVLR claims data up to",
                    needed: start.saturating_add(60).saturating_add(len),
                    size: file_size,
                });
            }
        }
    }
    if compressed {
        validate_laz(
            path,
            f,
            file_size,
            point_data_offset,
            record_len,
            count,
            laszip,
        )?;
    }
    Ok(RawFacts {
        point_data_offset,
        warnings,
    })
}

/// The LAZ item list must describe exactly one record (the `laz` crate asserts it), and the chunk
/// table must fit the file (the `laz` crate allocates one entry per claimed chunk) and hold the
/// header's point count.
fn validate_laz(
    path: &Path,
    f: &mut File,
    file_size: u64,
    data_start: u64,
    record_len: u64,
    count: u64,
    laszip: Option<Vec<u8>>,
) -> Result<()> {
    let io = |e| CaptureError::io(path, e);
    let bad = |reason: String| CaptureError::invalid(path, "LAZ", reason);
    let Some(v) = laszip else {
        return Err(bad(
            "compressed point format but no laszip VLR describing the compression".into(),
        ));
    };
    if v.len() < 34 {
        return Err(bad(format!("laszip VLR is {} bytes, under 34", v.len())));
    }
    let n_items = le_u16(&v, 32) as usize;
    if v.len() < 34 + 6 * n_items {
        return Err(bad(format!(
            "laszip VLR lists {n_items} items but holds {} bytes",
            v.len()
        )));
    }
    let item_bytes: u64 = (0..n_items)
        .map(|i| le_u16(&v, 34 + 6 * i + 2) as u64)
        .sum();
    if item_bytes != record_len {
        return Err(bad(format!(
            "record length {record_len} disagrees with the LAZ items ({item_bytes} bytes per point)"
        )));
    }
    // Even a zero-point LAZ has its chunk table read (and allocated) by the decoder.
    let chunk_size = le_u32(&v, 12) as u64;
    let mut b8 = [0u8; 8];
    if read_at(f, data_start, &mut b8).map_err(io)? < 8 {
        if count == 0 {
            return Ok(());
        }
        return Err(CaptureError::Truncated {
            path: path.into(),
            expected: count,
            found: 0,
        });
    }
    let mut table = i64::from_le_bytes(b8);
    if table <= data_start as i64 && file_size >= 8 {
        // The writer could not seek back: the offset is then stored at the end (as laz does).
        read_at(f, file_size - 8, &mut b8).map_err(io)?;
        table = i64::from_le_bytes(b8);
        if table <= data_start as i64 {
            return Ok(()); // no chunk table: the decoder reads sequentially.
        }
    }
    let table = table as u64;
    if table.saturating_add(8) > file_size {
        return Err(CaptureError::TruncatedAt {
            path: path.into(),
            what: "the LAZ chunk table is said to start",
            needed: table,
            size: file_size,
        });
    }
    read_at(f, table, &mut b8).map_err(io)?;
    let chunks = le_u32(&b8, 4) as u64;
    let data_bytes = table - data_start;
    if chunks > data_bytes {
        return Err(bad(format!(
            "LAZ chunk table claims {chunks} chunks in {data_bytes} bytes of point data"
        )));
    }
    if chunk_size != u32::MAX as u64 && chunks.saturating_mul(chunk_size) < count {
        return Err(CaptureError::Truncated {
            path: path.into(),
            expected: count,
            found: chunks.saturating_mul(chunk_size),
        });
    }
    Ok(())
}

/// Open and sanity-check a LAS/LAZ header without reading points.
pub fn open(path: &Path) -> Result<(las::Reader, LasInfo)> {
    let mut f = File::open(path).map_err(|e| CaptureError::io(path, e))?;
    let file_size = f.metadata().map_err(|e| CaptureError::io(path, e))?.len();
    if file_size == 0 {
        return Err(CaptureError::Empty { path: path.into() });
    }
    let facts = validate(path, &mut f, file_size)?;
    f.seek(SeekFrom::Start(0))
        .map_err(|e| CaptureError::io(path, e))?;
    let reader = crate::contain::contained(|| las::Reader::new(BufReader::new(f)))
        .map_err(|reason| CaptureError::Corrupt {
            path: path.into(),
            format: "LAS/LAZ",
            at: 0,
            reason: format!("decoder failed on the header: {reason}"),
        })?
        .map_err(|e| map_las(path, e))?;
    let header = reader.header().clone();
    Ok((
        reader,
        LasInfo {
            header,
            point_data_offset: facts.point_data_offset,
            file_size,
            warnings: facts.warnings,
        },
    ))
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Whether an error (or one of its sources) is an unexpected end of data.
fn ends_early(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::UnexpectedEof
        {
            return true;
        }
        cur = e.source();
    }
    false
}

fn map_las(path: &Path, e: las::Error) -> CaptureError {
    match e {
        las::Error::Io(io) => CaptureError::io(path, io),
        other => CaptureError::Las {
            path: path.into(),
            source: other,
        },
    }
}

/// Where the raw point records come from: the `las` reader for uncompressed LAS, or — for LAZ —
/// laz's parallel decompressor, with a layer selection when the read skips attributes
/// ([`Fields`]), over the same validated file.
enum Records {
    Las {
        reader: las::Reader,
        data: las::PointData,
    },
    Laz {
        decompressor: Box<laz::ParLasZipDecompressor<BufReader<File>>>,
        record_len: usize,
    },
}

impl Records {
    fn new(path: &Path, reader: las::Reader, info: &LasInfo, fields: &Fields) -> Result<Records> {
        let fmt = info.header.point_format();
        if !fmt.is_compressed {
            let data = las::PointDataBuilder::new()
                .for_header(&info.header)
                .build();
            return Ok(Records::Las { reader, data });
        }
        let corrupt = |reason: String| CaptureError::Corrupt {
            path: path.into(),
            format: "LAZ",
            at: 0,
            reason,
        };
        let vlr = info
            .header
            .laz_vlr()
            .map_err(|e| corrupt(format!("the LASzip record: {e}")))?;
        let record_len = vlr.items_size() as usize;
        let mut f = File::open(path).map_err(|e| CaptureError::io(path, e))?;
        f.seek(SeekFrom::Start(info.point_data_offset))
            .map_err(|e| CaptureError::io(path, e))?;
        // Every layer when every attribute is wanted (the layer bits also cover formats 0–5,
        // whose records are not layered and always decode whole).
        let layers = if *fields == Fields::ALL {
            laz::DecompressionSelection::all()
        } else {
            selection(fields)
        };
        // `open` built the `las` reader on this same decompressor (its parallel default), so a
        // compressor it cannot take (LASzip's unchunked one) never gets here.
        let decompressor = crate::contain::contained(|| {
            laz::ParLasZipDecompressor::selective(BufReader::new(f), vlr, layers)
        })
        .map_err(|reason| corrupt(format!("decoder failed on the chunk table: {reason}")))?
        .map_err(|e| corrupt(format!("the chunk table: {e}")))?;
        Ok(Records::Laz {
            decompressor: Box::new(decompressor),
            record_len,
        })
    }
}

/// `chunk_points` rounded down to whole rounds of LAZ chunks — one chunk per thread of the
/// decompressor's pool — for a LAZ file with fixed-size chunks; a size below one round is kept
/// (never rounded up). The parallel decompressor decodes whole chunks on the threads; a read
/// that ends inside a chunk, or leaves a thread without one, runs part of its work on one thread (2^18 points is 5.24 chunks of
/// LASzip's 50 000; on 2 cores the read becomes 200 000, 4 chunks). `twinmint info` on a 5 M-point
/// LAZ, six interleaved runs each on 2 cores: 1.88 s mean aligned, 2.00 s at 2^18.
#[doc(hidden)]
pub fn laz_aligned(chunk_points: usize, header: &las::Header) -> usize {
    if !header.point_format().is_compressed {
        return chunk_points;
    }
    let step = header
        .laz_vlr()
        .ok()
        .filter(|v| !v.uses_variable_size_chunks())
        .map_or(0, |v| v.chunk_size() as usize);
    if step == 0 {
        return chunk_points;
    }
    let round = step * rayon::current_num_threads().max(1);
    if chunk_points < round {
        // Smaller than a round: the caller bounds memory or cancels at that grain; keep it.
        return chunk_points;
    }
    (chunk_points / round) * round
}

/// The LAZ layers `fields` needs: positions and returns always (they share the first layer).
pub(crate) fn selection(fields: &Fields) -> laz::DecompressionSelection {
    use laz::DecompressionSelection as D;
    let mut s = D::base().decompress_z();
    let pick = [
        (fields.classification, D::CLASSIFICATION),
        (fields.flags, D::FLAGS),
        (fields.intensity, D::INTENSITY),
        (fields.scan_angle, D::SCAN_ANGLE),
        (fields.user_data, D::USER_DATA),
        (fields.point_source_id, D::POINT_SOURCE_ID),
        (fields.gps_time, D::GPS_TIME),
        (fields.rgb, D::RGB),
        (fields.nir, D::NIR),
        (fields.extra, D::ALL_EXTRA_BYTES),
    ];
    for (wanted, bit) in pick {
        if wanted {
            s = D(s.0 | bit);
        }
    }
    s
}

/// A decoder panic contained while reading the points `done`–`done + want`.
fn decoder_panicked(path: &Path, fmt: &Format, done: u64, want: u64, reason: &str) -> CaptureError {
    CaptureError::Corrupt {
        path: path.into(),
        format: if fmt.is_compressed { "LAZ" } else { "LAS" },
        at: done,
        reason: format!(
            "the decoder failed in the chunk of points {done}–{} ({reason})",
            done + want
        ),
    }
}

/// A LAZ decoder error while reading the points `done`–`done + want`, named for the user: data
/// that ends early is damaged compressed data.
fn laz_error(
    path: &Path,
    done: u64,
    want: u64,
    z: &(dyn std::error::Error + 'static),
) -> CaptureError {
    CaptureError::Corrupt {
        path: path.into(),
        format: "LAZ",
        at: done,
        reason: if ends_early(z) || z.to_string().contains("fill whole buffer") {
            format!(
                "the compressed stream ends early in the chunk of points {done}–{} (damaged data)",
                done + want
            )
        } else {
            format!(
                "the decoder failed in the chunk of points {done}–{} ({z})",
                done + want
            )
        },
    }
}

/// A `las` reader error while reading the points `done`–`done + want` of `total`: data that ends
/// early is a truncated file.
fn las_error(
    path: &Path,
    fmt: &Format,
    done: u64,
    want: u64,
    total: u64,
    e: las::Error,
) -> CaptureError {
    match map_las(path, e) {
        CaptureError::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof => {
            CaptureError::Truncated {
                path: path.into(),
                expected: total,
                found: done,
            }
        }
        CaptureError::Io { source, .. } if fmt.is_compressed => CaptureError::Corrupt {
            path: path.into(),
            format: "LAZ",
            at: done,
            reason: source.to_string(),
        },
        CaptureError::Las {
            source: las::Error::LasZipError(z),
            ..
        } => laz_error(path, done, want, &z),
        other => other,
    }
}

/// Stream a LAS/LAZ file in chunks of `chunk_points`, handing each decoded chunk to `sink`;
/// `declared` hears the header's point count first (a caller that keeps every point sizes its
/// cloud once; the count is the header's claim, not yet checked against the data).
/// Returns the source record (header facts, CRS, capture time) and warnings.
pub fn read_chunks(
    path: &Path,
    chunk_points: usize,
    fields: &Fields,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
    declared: &dyn Fn(u64),
    sink: &mut dyn FnMut(PointCloud) -> Result<()>,
) -> Result<(Source, Vec<String>)> {
    let (reader, info) = open(path)?;
    let header = &info.header;
    let fmt = *header.point_format();
    let mut records = Records::new(path, reader, &info, fields)?;
    let chunk_points = laz_aligned(chunk_points, header);
    let layout = Layout::of(&fmt);
    let mut warnings = info.warnings.clone();
    let crs = header_crs(header, &mut warnings, path);
    let templates = extra_templates(path, header, layout.extra_len)?;
    let t = header.transforms();
    let quant = Quantization {
        scale: [t.x.scale, t.y.scale, t.z.scale],
        offset: [t.x.offset, t.y.offset, t.z.offset],
    };
    let hb = header.bounds();
    let (hmin, hmax) = (
        [hb.min.x, hb.min.y, hb.min.z],
        [hb.max.x, hb.max.y, hb.max.z],
    );
    // Tolerance for header bounds vs the points: one quantum plus rounding of the written value.
    let tol = |k: usize, v: f64| quant.scale[k].abs() + 1e-9 * v.abs();
    let inside = |p: [f64; 3]| {
        (0..3).all(|k| p[k] >= hmin[k] - tol(k, hmin[k]) && p[k] <= hmax[k] + tol(k, hmax[k]))
    };
    let mut origin: Option<[f64; 3]> = None;
    let total = header.number_of_points();
    declared(total);
    let standard_time = header.gps_time_type() == GpsTimeType::Standard;
    let mut done = 0u64;
    let mut gps_min = f64::INFINITY;
    let mut gps_max = f64::NEG_INFINITY;
    let mut gps_nonfinite = 0u64;
    let mut raw = [[i32::MAX, i32::MIN]; 3];
    let schema = Schema {
        layout: &layout,
        quant: &quant,
        templates: &templates,
        fields,
    };
    // The origin (f32 positions are stored relative to it) is the header box's centre when the
    // box holds the first point, else the first point itself: a lying box must not cost precision.
    let origin_of = |bytes: &[u8]| {
        let first =
            [0, 1, 2].map(|k| i32_at(bytes, 4 * k) as f64 * quant.scale[k] + quant.offset[k]);
        let centre = [0, 1, 2].map(|k| 0.5 * (hmin[k] + hmax[k]));
        if centre.iter().all(|v| v.is_finite()) && inside(first) {
            centre
        } else {
            first.map(|v| v.round())
        }
    };
    let check_len = |bytes: &[u8], rl: usize, got: u64| {
        if rl != layout.record_len || bytes.len() < rl * got as usize {
            return Err(CaptureError::invalid(
                path,
                "LAS",
                format!(
                    "record length {rl} does not match point format {} ({} bytes)",
                    fmt.to_u8().unwrap_or(255),
                    layout.record_len
                ),
            ));
        }
        Ok(())
    };
    // Records to columns, with the GPS-time range: (chunk, min, max, non-finite count).
    let convert = |bytes: &[u8], got: u64, o: [f64; 3], raw: &mut [[i32; 2]; 3]| {
        let chunk = decode(bytes, got as usize, &schema, o, raw);
        let (mut lo, mut hi, mut bad) = (f64::INFINITY, f64::NEG_INFINITY, 0u64);
        if let Some(g) = &chunk.gps_time {
            for &v in g {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                } else {
                    bad += 1;
                }
            }
        }
        (chunk, lo, hi, bad)
    };
    let mut deliver =
        |(mut chunk, lo, hi, bad): (PointCloud, f64, f64, u64), done: u64| -> Result<()> {
            gps_min = gps_min.min(lo);
            gps_max = gps_max.max(hi);
            gps_nonfinite += bad;
            chunk.crs = crs.clone();
            chunk.gps_standard_time = standard_time;
            sink(chunk)?;
            progress.report(ProgressEvent {
                points: done,
                total_points: Some(total),
                bytes: info.point_data_offset
                    + ((info.file_size - info.point_data_offset.min(info.file_size)) as f64
                        * done as f64
                        / total.max(1) as f64) as u64,
                total_bytes: Some(info.file_size),
            });
            Ok(())
        };
    match &mut records {
        // LAZ: the chunks of the next read decode on the pool while this read's records become
        // columns (`rayon::join`), so converting costs no wall time beside decompression; the
        // sink still sees the chunks in file order, one at a time.
        Records::Laz {
            decompressor,
            record_len,
            ..
        } => {
            let rl = *record_len;
            // Decoded records not yet converted, and their count.
            let mut pending: Option<(Vec<u8>, u64)> = None;
            let mut spare: Vec<u8> = Vec::new();
            let mut delivered = 0u64;
            loop {
                cancel.check()?;
                let want = (total - done).min(chunk_points as u64);
                let prev = pending.take();
                if let Some((bytes, got)) = &prev {
                    check_len(bytes, rl, *got)?;
                    if origin.is_none() {
                        origin = Some(origin_of(bytes));
                    }
                }
                let o = origin.unwrap_or([0.0; 3]);
                let mut next = std::mem::take(&mut spare);
                let (filled, converted) = rayon::join(
                    || {
                        (want > 0).then(|| {
                            crate::contain::contained(|| {
                                next.resize(want as usize * rl, 0);
                                decompressor.decompress_many(&mut next)
                            })
                        })
                    },
                    || {
                        prev.as_ref()
                            .map(|(bytes, got)| convert(bytes, *got, o, &mut raw))
                    },
                );
                if let (Some(c), Some((bytes, got))) = (converted, prev) {
                    delivered += got;
                    spare = bytes;
                    deliver(c, delivered)?;
                }
                match filled {
                    None => break,
                    Some(r) => {
                        r.map_err(|reason| decoder_panicked(path, &fmt, done, want, &reason))?
                            .map_err(|e| laz_error(path, done, want, &e))?;
                        done += want;
                        pending = Some((next, want));
                    }
                }
            }
        }
        Records::Las { reader, data } => {
            while done < total {
                cancel.check()?;
                let want = (total - done).min(chunk_points as u64);
                let got = crate::contain::contained(|| reader.fill_points(want, data))
                    .map_err(|reason| decoder_panicked(path, &fmt, done, want, &reason))?
                    .map_err(|e| las_error(path, &fmt, done, want, total, e))?;
                if got == 0 {
                    break;
                }
                let (bytes, rl) = (data.raw_bytes(), data.record_len());
                check_len(bytes, rl, got)?;
                let o = *origin.get_or_insert_with(|| origin_of(bytes));
                let c = convert(bytes, got, o, &mut raw);
                done += got;
                deliver(c, done)?;
            }
        }
    }
    if done < total {
        return Err(CaptureError::Truncated {
            path: path.into(),
            expected: total,
            found: done,
        });
    }
    if done > 0 {
        let axes = ["X", "Y", "Z"];
        for k in 0..3 {
            let a = raw[k][0] as f64 * quant.scale[k] + quant.offset[k];
            let b = raw[k][1] as f64 * quant.scale[k] + quant.offset[k];
            let (lo, hi) = (a.min(b), a.max(b));
            let ok = lo >= hmin[k] - tol(k, hmin[k]) && hi <= hmax[k] + tol(k, hmax[k]);
            if !ok && hmin[k].is_finite() && hmax[k].is_finite() && hmin[k] <= hmax[k] {
                warnings.push(format!(
                    "{}: header {} bounds [{}, {}] do not contain the points ([{lo}, {hi}]); the points' own extent is used",
                    path.display(),
                    axes[k],
                    hmin[k],
                    hmax[k]
                ));
            }
        }
    }
    if gps_nonfinite > 0 {
        warnings.push(format!(
            "{}: {gps_nonfinite} point(s) have a non-finite GPS time (NaN/inf); kept in the cloud but ignored for the capture time",
            path.display()
        ));
    }
    let capture_time = if standard_time && gps_min.is_finite() {
        adjusted_gps_to_utc(gps_min).map(|start| CaptureTime {
            start,
            end: adjusted_gps_to_utc(gps_max),
            source: TimeSource::GpsTime,
        })
    } else {
        None
    }
    .or_else(|| {
        header.date().map(|d| CaptureTime {
            start: date_to_utc(d),
            end: None,
            source: TimeSource::LasCreationDate,
        })
    });
    let v = header.version();
    let mut src = Source::new(
        &path.display().to_string(),
        if fmt.is_compressed { "LAZ" } else { "LAS" },
    );
    src.format_version = Some(format!(
        "{}.{} point format {}",
        v.major,
        v.minor,
        fmt.to_u8().unwrap_or(255)
    ));
    src.point_count = total;
    src.points_loaded = done;
    src.generating_software = non_empty(header.generating_software());
    src.system_identifier = non_empty(header.system_identifier());
    src.device = src.system_identifier.clone();
    src.capture_time = capture_time;
    src.creation_date = header.date();
    src.up_axis = UpAxis::Z;
    src.up_axis_reason = "LAS defines Z as the elevation (read() confirms it; see up_axis)".into();
    src.crs = crs;
    Ok((src, warnings))
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim_matches(char::from(0)).trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// How a file's records are laid out and which of their attributes to keep.
pub(crate) struct Schema<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) quant: &'a Quantization,
    pub(crate) templates: &'a [ExtraColumn],
    pub(crate) fields: &'a Fields,
}

/// Decode `n` records of `l.record_len` bytes (checked against the reader's record length).
pub(crate) fn decode(
    b: &[u8],
    n: usize,
    schema: &Schema<'_>,
    origin: [f64; 3],
    raw: &mut [[i32; 2]; 3],
) -> PointCloud {
    let (l, q, templates, fields) = (schema.layout, schema.quant, schema.templates, schema.fields);
    let mut c = PointCloud::new(origin);
    c.quantization = Some(*q);
    let mut pos = Vec::with_capacity(n);
    let mut intensity = Vec::with_capacity(n);
    let mut rn = Vec::with_capacity(n);
    let mut nr = Vec::with_capacity(n);
    let mut class = Vec::with_capacity(n);
    let mut flags = Vec::with_capacity(n);
    let mut angle = Vec::with_capacity(n);
    let mut user = Vec::with_capacity(n);
    let mut psid = Vec::with_capacity(n);
    let mut gps = l
        .gps
        .filter(|_| fields.gps_time)
        .map(|_| Vec::with_capacity(n));
    let mut rgb = l.rgb.filter(|_| fields.rgb).map(|_| Vec::with_capacity(n));
    let mut nir = l.nir.filter(|_| fields.nir).map(|_| Vec::with_capacity(n));
    let mut extra: Vec<ExtraColumn> = templates
        .iter()
        .filter(|_| fields.extra)
        .map(|t| {
            let mut c = t.clone();
            c.data = Vec::with_capacity(n * t.data_type.width());
            c
        })
        .collect();
    // Offsets are subtracted in f64 before narrowing so precision is relative to the origin.
    let d = [
        q.offset[0] - origin[0],
        q.offset[1] - origin[1],
        q.offset[2] - origin[2],
    ];
    for r in b.chunks_exact(l.record_len).take(n) {
        let ix = [i32_at(r, 0), i32_at(r, 4), i32_at(r, 8)];
        for k in 0..3 {
            raw[k][0] = raw[k][0].min(ix[k]);
            raw[k][1] = raw[k][1].max(ix[k]);
        }
        let x = ix[0] as f64 * q.scale[0] + d[0];
        let y = ix[1] as f64 * q.scale[1] + d[1];
        let z = ix[2] as f64 * q.scale[2] + d[2];
        pos.push([x as f32, y as f32, z as f32]);
        intensity.push(u16_at(r, 12));
        if l.extended {
            rn.push(r[14] & 0x0f);
            nr.push(r[14] >> 4);
            flags.push(r[15]);
            class.push(r[16]);
            user.push(r[17]);
            angle.push(i16::from_le_bytes([r[18], r[19]]));
            psid.push(u16_at(r, 20));
        } else {
            rn.push(r[14] & 0x07);
            nr.push((r[14] >> 3) & 0x07);
            // Legacy: synthetic/key/withheld live in the classification byte's top bits,
            // scan direction and edge in the return byte; repack into the LAS 1.4 layout.
            flags.push(((r[15] >> 5) & 0x07) | (r[14] & 0xc0));
            class.push(r[15] & 0x1f);
            angle.push((r[16] as i8 as f64 / 0.006).round() as i16);
            user.push(r[17]);
            psid.push(u16_at(r, 18));
        }
        if let (Some(g), Some(o)) = (gps.as_mut(), l.gps) {
            g.push(f64_at(r, o));
        }
        if let (Some(c), Some(o)) = (rgb.as_mut(), l.rgb) {
            c.push([u16_at(r, o), u16_at(r, o + 2), u16_at(r, o + 4)]);
        }
        if let (Some(v), Some(o)) = (nir.as_mut(), l.nir) {
            v.push(u16_at(r, o));
        }
        let mut at = l.extra;
        for col in extra.iter_mut() {
            let w = col.data_type.width();
            col.data.extend_from_slice(&r[at..at + w]);
            at += w;
        }
    }
    c.positions = pos;
    c.intensity = Some(intensity);
    c.return_number = Some(rn);
    c.number_of_returns = Some(nr);
    c.classification = Some(class);
    c.flags = Some(flags);
    c.scan_angle = Some(angle);
    c.user_data = Some(user);
    c.point_source_id = Some(psid);
    c.gps_time = gps;
    c.rgb = rgb;
    c.nir = nir;
    c.extra = extra;
    c
}

/// Options for writing LAS/LAZ 1.4.
#[derive(Clone, Debug)]
pub struct LasWriteOptions {
    /// LAZ compression (chunk-parallel).
    pub compress: bool,
    /// Points encoded per slab handed to the writer (default 2^18: five LAZ chunks of 50 000
    /// points, enough to keep both cores compressing, while the slab's raw records — about
    /// 10 MB — stay small beside the cloud; 2^20 made writing a 1 M-point cloud's peak).
    pub chunk_points: usize,
}

impl Default for LasWriteOptions {
    fn default() -> Self {
        LasWriteOptions {
            compress: true,
            chunk_points: 1 << 18,
        }
    }
}

fn extra_vlr(cols: &[ExtraColumn]) -> Vlr {
    let mut data = Vec::with_capacity(192 * cols.len());
    for c in cols {
        let mut d = [0u8; 192];
        d[2] = c.data_type.las_code();
        let mut options = 0u8;
        if let ExtraType::Undocumented(w) = c.data_type {
            options = w.min(255) as u8;
        } else {
            let put = |d: &mut [u8; 192], at: usize, v: f64| {
                d[at..at + 8].copy_from_slice(&v.to_le_bytes())
            };
            if let Some(v) = c.no_data {
                options |= 1;
                match c.data_type {
                    ExtraType::F32 | ExtraType::F64 => put(&mut d, 40, v),
                    ExtraType::I8 | ExtraType::I16 | ExtraType::I32 | ExtraType::I64 => {
                        d[40..48].copy_from_slice(&(v as i64).to_le_bytes())
                    }
                    _ => d[40..48].copy_from_slice(&(v as u64).to_le_bytes()),
                }
            }
            if let Some(s) = c.scale {
                options |= 8;
                put(&mut d, 112, s);
            }
            if let Some(o) = c.offset {
                options |= 16;
                put(&mut d, 136, o);
            }
        }
        d[3] = options;
        let name = c.name.as_bytes();
        d[4..4 + name.len().min(31)].copy_from_slice(&name[..name.len().min(31)]);
        let desc = c.description.as_bytes();
        d[160..160 + desc.len().min(31)].copy_from_slice(&desc[..desc.len().min(31)]);
        data.extend_from_slice(&d);
    }
    Vlr {
        user_id: "LASF_Spec".into(),
        record_id: 4,
        description: "Extra bytes".into(),
        data,
    }
}

/// The LAS 1.4 header `cloud` is written with (point format 6, 7 with colour, 8 with colour and
/// NIR; its quantization, else millimetres about the centre; WKT or GeoTIFF keys), its point
/// format and quantization. `compress`: the format's LAZ flag. Shared by [`write`] and the COPC
/// writer ([`crate::copc`]).
pub(crate) fn header_for(
    cloud: &PointCloud,
    path: &Path,
    compress: bool,
) -> Result<(las::Header, Format, Quantization)> {
    let werr = |reason: String| CaptureError::Write {
        path: path.into(),
        reason,
    };
    let bounds = cloud.bounds();
    let q = cloud.quantization.unwrap_or_else(|| {
        Quantization::millimetre(if bounds.is_empty() {
            cloud.origin
        } else {
            bounds.center()
        })
    });
    if !bounds.is_empty() {
        for k in 0..3 {
            for v in [bounds.min[k], bounds.max[k]] {
                let i = ((v - q.offset[k]) / q.scale[k]).round();
                if !(i32::MIN as f64..=i32::MAX as f64).contains(&i) {
                    return Err(werr(format!(
                        "coordinate {v} does not fit a 32-bit integer at scale {} offset {}",
                        q.scale[k], q.offset[k]
                    )));
                }
            }
        }
    }
    let point_format = match (&cloud.rgb, &cloud.nir) {
        (Some(_), Some(_)) => 8,
        (Some(_), None) => 7,
        _ => 6,
    };
    let mut fmt = Format::new(point_format).expect("6–8 are valid formats");
    let extra_len: usize = cloud.extra.iter().map(|c| c.data_type.width()).sum();
    fmt.extra_bytes = extra_len as u16;
    fmt.is_compressed = compress;
    let mut builder = Builder::from(Version::new(1, 4));
    builder.point_format = fmt;
    builder.transforms = Vector {
        x: Transform {
            scale: q.scale[0],
            offset: q.offset[0],
        },
        y: Transform {
            scale: q.scale[1],
            offset: q.offset[1],
        },
        z: Transform {
            scale: q.scale[2],
            offset: q.offset[2],
        },
    };
    builder.generating_software = format!("TwinMint {}", env!("CARGO_PKG_VERSION"));
    builder.system_identifier = system_identifier(
        cloud
            .provenance
            .sources
            .iter()
            .find_map(|s| s.device.as_deref())
            .unwrap_or("TwinMint"),
    );
    // The source's own creation date, else the capture date, else none (0/0, "unknown"):
    // never today's, so converting the same input twice gives the same bytes.
    builder.date = cloud
        .provenance
        .creation_date()
        .or_else(|| cloud.provenance.capture_start().map(|t| t.date_naive()));
    if cloud.gps_standard_time {
        builder.gps_time_type = GpsTimeType::Standard;
    }
    if extra_len > 0 {
        builder.vlrs.push(extra_vlr(&cloud.extra));
    }
    // WKT when we have it (LAS 1.4 formats 6–10 require it); GeoTIFF keys for a bare EPSG code.
    if let Some(g) = geokey_directory(&cloud.crs).filter(|_| cloud.crs.wkt.is_none()) {
        builder.vlrs.push(Vlr {
            user_id: "LASF_Projection".into(),
            record_id: 34735,
            description: "GeoTIFF GeoKeyDirectoryTag".into(),
            data: g,
        });
    }
    let mut header = builder.into_header().map_err(|e| werr(e.to_string()))?;
    if let Some(w) = &cloud.crs.wkt {
        let mut bytes = w.as_bytes().to_vec();
        bytes.push(0);
        header.set_wkt_crs(bytes).map_err(|e| werr(e.to_string()))?;
    }
    Ok((header, fmt, q))
}

/// Write `cloud` as LAS/LAZ 1.4 (point format 6, 7 with colour, 8 with colour and NIR) to
/// `path`, via a temporary file renamed into place so no partial file is ever visible.
pub fn write(
    cloud: &PointCloud,
    path: &Path,
    opts: &LasWriteOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<()> {
    cloud
        .check_columns()
        .map_err(|reason| CaptureError::Write {
            path: path.into(),
            reason,
        })?;
    let werr = |reason: String| CaptureError::Write {
        path: path.into(),
        reason,
    };
    let (header, fmt, q) = header_for(cloud, path, opts.compress)?;
    let layout = Layout::of(&fmt);
    let transforms = *header.transforms();
    let tmp = crate::atomic::temp_beside(path)?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| CaptureError::write_io(path, e))?;
    let mut writer =
        las::Writer::new(BufWriter::new(file), header).map_err(|e| werr(e.to_string()))?;
    let n = cloud.len();
    let written = (|| -> Result<()> {
        let mut start = 0;
        let mut buf = Vec::new();
        while start < n {
            cancel.check()?;
            let end = (start + opts.chunk_points.max(1)).min(n);
            encode(cloud, start..end, &layout, &q, &mut buf);
            let data = las::PointDataBuilder::new()
                .with_format(fmt)
                .with_transforms(transforms)
                .build_from_bytes(std::mem::take(&mut buf))
                .map_err(|e| werr(e.to_string()))?;
            writer
                .write_points(&data)
                .map_err(|e| werr(e.to_string()))?;
            start = end;
            progress.report(ProgressEvent {
                points: end as u64,
                total_points: Some(n as u64),
                bytes: 0,
                total_bytes: None,
            });
        }
        writer.close().map_err(|e| werr(e.to_string()))
    })();
    if let Err(e) = written {
        // `las::Writer`'s Drop closes an unclosed writer and panics when that fails (a full
        // disk: "Error when dropping the writer"). Close it here; if that fails too, forget it
        // instead of dropping it. The temporary file is removed by `tmp`; the leaked handle and
        // buffer live until the process exits, which only happens on this error path.
        if writer.close().is_err() {
            std::mem::forget(writer);
        }
        return Err(e);
    }
    drop(writer);
    tmp.as_file()
        .sync_all()
        .map_err(|e| CaptureError::write_io(path, e))?;
    crate::atomic::publish_mode(tmp.as_file(), path)?;
    tmp.persist(path)
        .map_err(|e| CaptureError::write_io(path, e.error))?;
    Ok(())
}

/// LAS gives the device 31 ASCII characters: keep whole words, dropping any parenthesised detail
/// that does not fit (the full text stays in the project manifest).
fn system_identifier(device: &str) -> String {
    let ascii: String = device
        .chars()
        .filter(|c| c.is_ascii() && !c.is_control())
        .collect();
    if ascii.len() <= 31 {
        return ascii;
    }
    let head = ascii.split(" (").next().unwrap_or(&ascii);
    let mut out = String::new();
    for word in head.split_whitespace() {
        if out.len() + word.len() + usize::from(!out.is_empty()) > 31 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        ascii[..31].to_string()
    } else {
        out
    }
}

/// Encode the points `indices` of `c` (a range, or a COPC node's points) as LAS records.
pub(crate) fn encode(
    c: &PointCloud,
    indices: impl ExactSizeIterator<Item = usize>,
    l: &Layout,
    q: &Quantization,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.resize(indices.len() * l.record_len, 0);
    let d = [
        c.origin[0] - q.offset[0],
        c.origin[1] - q.offset[1],
        c.origin[2] - q.offset[2],
    ];
    for (k, i) in indices.enumerate() {
        let r = &mut out[k * l.record_len..(k + 1) * l.record_len];
        let p = c.positions[i];
        for a in 0..3 {
            let v = ((p[a] as f64 + d[a]) / q.scale[a]).round() as i32;
            r[a * 4..a * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        let put16 = |r: &mut [u8], o: usize, v: u16| r[o..o + 2].copy_from_slice(&v.to_le_bytes());
        put16(r, 12, c.intensity.as_ref().map_or(0, |v| v[i]));
        let rn = c.return_number.as_ref().map_or(1, |v| v[i]).min(15);
        let nr = c.number_of_returns.as_ref().map_or(1, |v| v[i]).min(15);
        r[14] = rn | (nr << 4);
        r[15] = c.flags.as_ref().map_or(0, |v| v[i]);
        r[16] = c.classification.as_ref().map_or(0, |v| v[i]);
        r[17] = c.user_data.as_ref().map_or(0, |v| v[i]);
        let ang = c.scan_angle.as_ref().map_or(0, |v| v[i]);
        r[18..20].copy_from_slice(&ang.to_le_bytes());
        put16(r, 20, c.point_source_id.as_ref().map_or(0, |v| v[i]));
        let g = c.gps_time.as_ref().map_or(0.0, |v| v[i]);
        r[22..30].copy_from_slice(&g.to_le_bytes());
        if let (Some(o), Some(rgb)) = (l.rgb, &c.rgb) {
            for (ch, v) in rgb[i].into_iter().enumerate() {
                put16(r, o + 2 * ch, v);
            }
        }
        if let (Some(o), Some(nir)) = (l.nir, &c.nir) {
            put16(r, o, nir[i]);
        }
        let mut at = l.extra;
        for col in &c.extra {
            let w = col.data_type.width();
            r[at..at + w].copy_from_slice(&col.data[i * w..(i + 1) * w]);
            at += w;
        }
    }
}
