//! Cloud Optimized GeoTIFF for wall-to-wall DTM and CHM mosaics: a reader fetching one corner
//! of an estate over HTTP range requests reads the header, the IFDs and only the tiles it needs.
//!
//! Layout (OGC 21-026 "Cloud Optimized GeoTIFF" 1.0, and GDAL's COG driver, which it mirrors so
//! `validate_cloud_optimized_geotiff.py` accepts it): GDAL's structural-metadata ghost area
//! right after the header (`LAYOUT=IFDS_BEFORE_DATA`, `BLOCK_ORDER=ROW_MAJOR`, tiles with a
//! size leader and a repeated-last-4-bytes trailer), then every IFD
//! — full resolution first, then the overviews by decreasing size (`NewSubfileType` = 1) — and
//! after them the tile data, smallest overview first and full resolution last, each level's
//! tiles in row-major order. Tiles are 256 × 256 Float32 (GDAL's COG default block size),
//! Deflate-compressed (TIFF compression 8, zlib stream); overviews halve the size until the
//! image fits one tile, each cell the mean of the valid cells below it (GDAL's `AVERAGE`
//! resampling, what elevation and height rasters use: nearest would alias crowns away).
//! Georeferencing and nodata are those of [`crate::geotiff`].

use std::io::Write;
use std::path::Path;

use capture::Crs;
use rayon::prelude::*;

use crate::error::{ReconstructError, Result};
use crate::geotiff::{
    BITS_PER_SAMPLE, COMPRESSION, DEFLATE, IMAGE_LENGTH, IMAGE_WIDTH, NEW_SUBFILE_TYPE,
    PHOTOMETRIC, PLANAR_CONFIGURATION, SAMPLE_FORMAT, SAMPLES_PER_PIXEL, TILE_BYTE_COUNTS,
    TILE_LENGTH, TILE_OFFSETS, TILE_WIDTH, Val, check_raster, georef_entries, ifd_block,
};
use crate::model::Raster;

/// Tile edge in cells (GDAL's COG driver default, `BLOCKSIZE=512` is its other common value).
pub const TILE: usize = 256;

/// GDAL's ghost area: what a reader may assume of the layout without scanning it. Each tile is
/// written with a 4-byte leader holding its size and a trailer repeating its last 4 bytes, so
/// a reader of one byte range knows where the tile ends and that it got all of it. The text is
/// byte for byte what GDAL's COG driver writes (trailing space included), which its reader
/// recognises as `LAYOUT=COG`.
const GHOST: &str = "LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\nBLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n ";

/// One resolution level: its size and cells (row-major, nodata where nothing was measured).
pub struct Level {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

fn valid(v: f32, nodata: f32) -> bool {
    !(v.is_nan() || v == nodata)
}

/// Halve `l`: each cell the mean of the valid cells of its 2 × 2 block (nodata if none).
pub fn halve(l: &Level, nodata: f32) -> Level {
    let (w, h) = (l.width.div_ceil(2), l.height.div_ceil(2));
    let mut data = vec![nodata; w * h];
    data.par_chunks_mut(w).enumerate().for_each(|(r, row)| {
        for (c, out) in row.iter_mut().enumerate() {
            let (mut sum, mut n) = (0f64, 0u32);
            for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let (rr, cc) = (2 * r + dr, 2 * c + dc);
                if rr < l.height && cc < l.width {
                    let v = l.data[rr * l.width + cc];
                    if valid(v, nodata) {
                        sum += f64::from(v);
                        n += 1;
                    }
                }
            }
            if n > 0 {
                *out = (sum / f64::from(n)) as f32;
            }
        }
    });
    Level {
        width: w,
        height: h,
        data,
    }
}

/// Every tile of `l`, row-major, each padded with nodata to a full tile and Deflate-compressed.
fn tiles(l: &Level, nodata: f32) -> Vec<Vec<u8>> {
    let (nx, ny) = (l.width.div_ceil(TILE), l.height.div_ceil(TILE));
    (0..nx * ny)
        .into_par_iter()
        .map(|k| {
            let (tx, ty) = (k % nx, k / nx);
            let mut raw = Vec::with_capacity(TILE * TILE * 4);
            for r in 0..TILE {
                for c in 0..TILE {
                    let (rr, cc) = (ty * TILE + r, tx * TILE + c);
                    let v = if rr < l.height && cc < l.width {
                        l.data[rr * l.width + cc]
                    } else {
                        nodata
                    };
                    raw.extend_from_slice(&v.to_le_bytes());
                }
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
            // Writing to a Vec cannot fail.
            z.write_all(&raw).expect("in-memory deflate");
            z.finish().expect("in-memory deflate")
        })
        .collect()
}

/// The IFD entries of one level; `offsets` of its tiles (placeholders when sizing).
fn entries(
    l: &Level,
    overview: bool,
    offsets: Vec<u32>,
    counts: Vec<u32>,
    georef: &[(u16, Val)],
) -> Vec<(u16, Val)> {
    let mut e = vec![
        (NEW_SUBFILE_TYPE, Val::Long(vec![u32::from(overview)])),
        (IMAGE_WIDTH, Val::Long(vec![l.width as u32])),
        (IMAGE_LENGTH, Val::Long(vec![l.height as u32])),
        (BITS_PER_SAMPLE, Val::Short(vec![32])),
        (COMPRESSION, Val::Short(vec![DEFLATE as u16])),
        (PHOTOMETRIC, Val::Short(vec![1])),
        (SAMPLES_PER_PIXEL, Val::Short(vec![1])),
        (PLANAR_CONFIGURATION, Val::Short(vec![1])),
        (TILE_WIDTH, Val::Short(vec![TILE as u16])),
        (TILE_LENGTH, Val::Short(vec![TILE as u16])),
        (TILE_OFFSETS, Val::Long(offsets)),
        (TILE_BYTE_COUNTS, Val::Long(counts)),
        (SAMPLE_FORMAT, Val::Short(vec![3])),
    ];
    e.extend(georef.iter().map(|(t, v)| (*t, v.clone())));
    e.sort_by_key(|x| x.0);
    e
}

/// Encode `raster` as a Cloud Optimized GeoTIFF in `crs` (module docs). No file I/O.
pub fn encode_cog(raster: &Raster, crs: &Crs, citation: &str) -> Result<Vec<u8>> {
    check_raster(raster)?;
    let nodata = raster.nodata;
    let mut levels = vec![Level {
        width: raster.width,
        height: raster.height,
        data: raster.data.clone(),
    }];
    while let Some(l) = levels.last()
        && (l.width > TILE || l.height > TILE)
    {
        let next = halve(l, nodata);
        levels.push(next);
    }
    let blocks: Vec<Vec<Vec<u8>>> = levels.iter().map(|l| tiles(l, nodata)).collect();
    // Full resolution carries the georeference; overviews inherit it (GDAL reads it from the
    // first IFD) but keep the nodata so each level reads alone.
    let full_georef = georef_entries(raster, crs, citation);
    let ovr_georef: Vec<(u16, Val)> = full_georef
        .iter()
        .filter(|(t, _)| *t == crate::geotiff::GDAL_NODATA)
        .map(|(t, v)| (*t, v.clone()))
        .collect();
    let level_entries = |i: usize, offsets: Vec<u32>| {
        let counts = blocks[i].iter().map(|b| b.len() as u32).collect();
        let georef = if i == 0 { &full_georef } else { &ovr_georef };
        entries(&levels[i], i > 0, offsets, counts, georef)
    };
    let ghost = format!(
        "GDAL_STRUCTURAL_METADATA_SIZE={:06} bytes\n{GHOST}",
        GHOST.len()
    );
    let first_ifd = (8 + ghost.len()).next_multiple_of(2);
    // Pass 1: where each IFD starts (their lengths do not depend on the offsets' values).
    let mut ifd_at = Vec::with_capacity(levels.len());
    let mut at = first_ifd;
    for (i, b) in blocks.iter().enumerate() {
        ifd_at.push(at);
        at += ifd_block(&level_entries(i, vec![0; b.len()]), at, 0).len();
        at = at.next_multiple_of(8);
    }
    // Tile data: smallest overview first, full resolution last.
    let mut offsets: Vec<Vec<u32>> = vec![Vec::new(); levels.len()];
    for i in (0..levels.len()).rev() {
        for b in &blocks[i] {
            offsets[i].push(at as u32 + 4);
            at += 4 + b.len() + 4;
        }
    }
    if at as u64 > u32::MAX as u64 {
        return Err(ReconstructError::Input {
            step: "cog",
            reason: "file exceeds classic TIFF's 4 GiB".into(),
        });
    }
    let mut out = Vec::with_capacity(at);
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&(first_ifd as u32).to_le_bytes());
    out.extend_from_slice(ghost.as_bytes());
    for (i, offs) in offsets.iter().enumerate() {
        out.resize(ifd_at[i], 0);
        let next = ifd_at.get(i + 1).map_or(0, |n| *n as u32);
        out.extend_from_slice(&ifd_block(&level_entries(i, offs.clone()), ifd_at[i], next));
    }
    for i in (0..levels.len()).rev() {
        for (b, o) in blocks[i].iter().zip(&offsets[i]) {
            out.resize(*o as usize - 4, 0);
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
            out.extend_from_slice(&b[b.len() - 4..]);
        }
    }
    debug_assert_eq!(out.len(), at);
    Ok(out)
}

/// Encode and write atomically (temporary file + rename).
pub fn write_cog(path: &Path, raster: &Raster, crs: &Crs) -> Result<()> {
    let bytes = encode_cog(raster, crs, "TwinMint")?;
    capture::atomic::write_bytes(path, &bytes).map_err(|e| ReconstructError::write(path, e))
}
