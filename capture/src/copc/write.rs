//! The COPC writer. Node contents follow Potree 2 / Entwine (Schütz et al. 2020, "Fast
//! Out-of-Core Octree Generation for Massive Point Clouds", CGF 39(7)): each node keeps one point
//! per cell of a 128³ grid over its cube (the first in Morton order, so the result is
//! deterministic), passes the rest to its eight children, and keeps everything once it holds at
//! most [`CopcOptions::max_node_points`] or reaches [`CopcOptions::max_depth`]. Points are sorted
//! by their Morton code once; every node is then a contiguous run of that order, and its grid
//! cells are runs of a longer code prefix — no per-node hashing.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use las::Vlr;
use rayon::prelude::*;

use crate::cloud::PointCloud;
use crate::error::{CaptureError, Result};
use crate::las_io::{Layout, encode, header_for};
use crate::progress::CancelToken;

/// Bits per axis of the Morton codes (63-bit codes).
const BITS: u32 = 21;
/// A node's sampling grid: 2^7 = 128 cells per axis (Potree 2 and COPC writers' default).
const GRID_BITS: u32 = 7;

/// Options of [`write_copc`].
#[derive(Clone, Debug, PartialEq)]
pub struct CopcOptions {
    /// A node with at most this many points keeps them all (PDAL's `writers.copc` and
    /// Untwine use 100 000-ish chunks: large enough to compress well, small enough to stream).
    pub max_node_points: usize,
    /// Deepest level; at most `21 − 7` so a level's grid fits the Morton codes.
    pub max_depth: u32,
}

impl Default for CopcOptions {
    fn default() -> Self {
        CopcOptions {
            max_node_points: 100_000,
            max_depth: BITS - GRID_BITS,
        }
    }
}

/// What [`write_copc`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct CopcSummary {
    pub points: u64,
    pub nodes: usize,
    pub max_depth: u32,
    /// The octree cube: centre and half its side.
    pub center: [f64; 3],
    pub halfsize: f64,
    /// Point spacing of the root node (halved at each level).
    pub spacing: f64,
}

/// One octree node: its key and the points it keeps (indices into the cloud).
struct Node {
    key: [i32; 4],
    points: Vec<u32>,
}

/// Spread the low 21 bits of `v` to every third bit.
fn spread(v: u64) -> u64 {
    let mut x = v & 0x1f_ffff;
    x = (x | (x << 32)) & 0x001f_0000_0000_ffff;
    x = (x | (x << 16)) & 0x001f_0000_ff00_00ff;
    x = (x | (x << 8)) & 0x100f_00f0_0f00_f00f;
    x = (x | (x << 4)) & 0x10c3_0c30_c30c_30c3;
    x = (x | (x << 2)) & 0x1249_2492_4924_9249;
    x
}

/// Morton code of integer cube coordinates: x in bit 0 of each triple, y in bit 1, z in bit 2
/// (the child numbering of COPC's `VoxelKey`: direction bit 1 = x, 2 = y, 4 = z).
#[doc(hidden)]
pub fn morton(q: [u64; 3]) -> u64 {
    spread(q[0]) | (spread(q[1]) << 1) | (spread(q[2]) << 2)
}

/// Split `order[range]` (sorted by code) into nodes, depth first (module docs).
fn build(codes: &[u64], order: Vec<u32>, key: [i32; 4], opts: &CopcOptions, out: &mut Vec<Node>) {
    let depth = key[0] as u32;
    if order.len() <= opts.max_node_points || depth >= opts.max_depth {
        out.push(Node { key, points: order });
        return;
    }
    // Cells of this node's grid: runs of equal code prefixes `depth + 7` levels deep.
    let cell_shift = 3 * (BITS - depth - GRID_BITS);
    let child_shift = 3 * (BITS - depth - 1);
    let mut kept = Vec::new();
    let mut children: [Vec<u32>; 8] = Default::default();
    let mut last_cell = u64::MAX;
    for &i in &order {
        let c = codes[i as usize];
        if c >> cell_shift != last_cell {
            last_cell = c >> cell_shift;
            kept.push(i);
        } else {
            children[((c >> child_shift) & 7) as usize].push(i);
        }
    }
    drop(order);
    out.push(Node { key, points: kept });
    for (dir, pts) in children.into_iter().enumerate() {
        if pts.is_empty() {
            continue;
        }
        let child = [
            key[0] + 1,
            key[1] * 2 + (dir & 1) as i32,
            key[2] * 2 + ((dir >> 1) & 1) as i32,
            key[3] * 2 + ((dir >> 2) & 1) as i32,
        ];
        build(codes, pts, child, opts, out);
    }
}

fn vlr(user_id: &str, record_id: u16, description: &str, data: Vec<u8>) -> Vlr {
    Vlr {
        user_id: user_id.into(),
        record_id,
        description: description.into(),
        data,
    }
}

/// The COPC info VLR payload (COPC 1.0 §3.2: 160 bytes, reserved words zero).
fn info_payload(s: &CopcSummary, hier_offset: u64, hier_size: u64, gps: [f64; 2]) -> Vec<u8> {
    let mut b = Vec::with_capacity(160);
    for v in [s.center[0], s.center[1], s.center[2], s.halfsize, s.spacing] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&hier_offset.to_le_bytes());
    b.extend_from_slice(&hier_size.to_le_bytes());
    b.extend_from_slice(&gps[0].to_le_bytes());
    b.extend_from_slice(&gps[1].to_le_bytes());
    b.resize(160, 0);
    b
}

/// Write `cloud` to `path` as COPC (module docs), atomically: a temporary file renamed into
/// place, so no partial file is ever visible.
pub fn write_copc(
    cloud: &PointCloud,
    path: &Path,
    opts: &CopcOptions,
    cancel: &CancelToken,
) -> Result<CopcSummary> {
    let werr = |reason: String| CaptureError::Write {
        path: path.into(),
        reason,
    };
    cloud.check_columns().map_err(werr)?;
    if cloud.is_empty() {
        return Err(werr("a COPC file needs at least one point".into()));
    }
    if opts.max_depth > BITS - GRID_BITS || opts.max_node_points == 0 {
        return Err(CaptureError::InvalidOption {
            option: "copc",
            reason: format!(
                "max_depth must be at most {} and max_node_points at least 1",
                BITS - GRID_BITS
            ),
        });
    }
    let (header, fmt, q) = header_for(cloud, path, true)?;
    if !header.evlrs().is_empty() {
        return Err(werr("a CRS too long for a VLR (over 64 KiB of WKT)".into()));
    }
    let layout = Layout::of(&fmt);
    let n = cloud.len();

    // The cube: the bounds' largest side, from their minimum corner, a hair larger so the
    // maximum falls inside the last cell.
    let b = cloud.bounds();
    let side = (0..3).map(|k| b.max[k] - b.min[k]).fold(0.0f64, f64::max);
    let side = side * (1.0 + 1e-9) + 1e-3;
    let scale = (1u64 << BITS) as f64 / side;
    let codes: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let p = cloud.absolute(i);
            morton(std::array::from_fn(|k| {
                (((p[k] - b.min[k]) * scale).floor().max(0.0) as u64).min((1 << BITS) - 1)
            }))
        })
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.par_sort_unstable_by_key(|&i| (codes[i as usize], i));
    let mut nodes = Vec::new();
    build(&codes, order, [0, 0, 0, 0], opts, &mut nodes);
    drop(codes);
    cancel.check()?;
    let mut summary = CopcSummary {
        points: n as u64,
        nodes: nodes.len(),
        max_depth: nodes.iter().map(|nd| nd.key[0] as u32).max().unwrap_or(0),
        center: std::array::from_fn(|k| b.min[k] + side / 2.0),
        halfsize: side / 2.0,
        spacing: side / (1u64 << GRID_BITS) as f64,
    };
    let gps = cloud.gps_time.as_ref().map_or([0.0, 0.0], |g| {
        let f = g.iter().copied().filter(|v| v.is_finite());
        [
            f.clone().fold(f64::INFINITY, f64::min),
            f.fold(f64::NEG_INFINITY, f64::max),
        ]
    });

    // VLRs: COPC info first (patched at the end), then LASzip with variable chunks, then the
    // CRS / extra-bytes records the LAS writer made.
    let laz_vlr = laz::LazVlrBuilder::default()
        .with_point_format(
            fmt.to_u8().map_err(|e| werr(e.to_string()))?,
            fmt.extra_bytes,
        )
        .map_err(|e| werr(e.to_string()))?
        .with_variable_chunk_size()
        .build();
    let mut laz_bytes = Vec::new();
    laz_vlr
        .write_to(&mut laz_bytes)
        .map_err(|e| werr(e.to_string()))?;
    let mut vlrs = vec![
        vlr("copc", 1, "copc info", info_payload(&summary, 0, 0, gps)),
        vlr(
            laz::LazVlr::USER_ID,
            laz::LazVlr::RECORD_ID,
            laz::LazVlr::DESCRIPTION,
            laz_bytes,
        ),
    ];
    vlrs.extend(header.vlrs().iter().cloned());
    let mut builder = las::Builder::from(header);
    builder.vlrs = vlrs.clone();
    let header = builder.into_header().map_err(|e| werr(e.to_string()))?;

    let tmp = crate::atomic::temp_beside(path)?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| CaptureError::write_io(path, e))?;
    let io = |e: std::io::Error| CaptureError::write_io(path, e);
    let las = |e: las::Error| werr(e.to_string());
    let mut raw = header.clone().into_raw().map_err(las)?;
    let mut w = BufWriter::new(file);
    raw.write_to(&mut w).map_err(las)?;
    for v in &vlrs {
        v.clone()
            .into_raw(false)
            .map_err(las)?
            .write_to(&mut w)
            .map_err(las)?;
    }
    let point_start = w.stream_position().map_err(io)?;
    debug_assert_eq!(point_start, u64::from(raw.offset_to_point_data));

    // One compressed chunk per node, recording where each starts and how long it is.
    let mut by_return = [0u64; 15];
    let mut entries: Vec<([i32; 4], u64, u64, usize)> = Vec::with_capacity(nodes.len());
    let mut comp = laz::LasZipCompressor::new(w, laz_vlr).map_err(|e| werr(e.to_string()))?;
    comp.reserve_offset_to_chunk_table().map_err(io)?;
    let mut buf = Vec::new();
    for (k, node) in nodes.iter().enumerate() {
        cancel.check()?;
        let start = comp.get_mut().stream_position().map_err(io)?;
        encode(
            cloud,
            node.points.iter().map(|&i| i as usize),
            &layout,
            &q,
            &mut buf,
        );
        for &i in &node.points {
            let r = cloud
                .return_number
                .as_ref()
                .map_or(1, |v| v[i as usize])
                .clamp(1, 15);
            by_return[r as usize - 1] += 1;
        }
        comp.compress_many(&buf).map_err(io)?;
        if k + 1 < nodes.len() {
            comp.finish_current_chunk().map_err(io)?;
        } else {
            comp.done().map_err(io)?;
        }
        entries.push((node.key, start, 0, node.points.len()));
    }
    let mut w = comp.into_inner();
    // Chunk ends: the next chunk's start; the last one's, where the chunk table begins (the
    // offset LASzip wrote in front of the first chunk).
    w.flush().map_err(io)?;
    let mut f = w.into_inner().map_err(|e| io(e.into_error()))?;
    let end = f.seek(SeekFrom::End(0)).map_err(io)?;
    let mut off = [0u8; 8];
    f.seek(SeekFrom::Start(point_start)).map_err(io)?;
    std::io::Read::read_exact(&mut f, &mut off).map_err(io)?;
    let table_at = u64::from_le_bytes(off);
    for k in 0..entries.len() {
        let next = entries.get(k + 1).map_or(table_at, |e| e.1);
        entries[k].2 = next - entries[k].1;
    }

    // The hierarchy EVLR: one page, 32 bytes an entry.
    let mut page = Vec::with_capacity(entries.len() * 32);
    for (key, offset, size, count) in &entries {
        for v in key {
            page.extend_from_slice(&v.to_le_bytes());
        }
        page.extend_from_slice(&offset.to_le_bytes());
        page.extend_from_slice(&(*size as i32).to_le_bytes());
        page.extend_from_slice(&(*count as i32).to_le_bytes());
    }
    let page_len = page.len() as u64;
    f.seek(SeekFrom::Start(end)).map_err(io)?;
    let evlr = vlr("copc", 1000, "EPT hierarchy", page)
        .into_raw(true)
        .map_err(las)?;
    let mut fw = BufWriter::new(&mut f);
    evlr.write_to(&mut fw).map_err(las)?;
    fw.flush().map_err(io)?;
    drop(fw);

    // Patch the header (counts, bounds, EVLR) and the info VLR (hierarchy place).
    raw.number_of_point_records = 0;
    raw.number_of_points_by_return = [0; 5];
    raw.large_file = Some(las::raw::header::LargeFile {
        number_of_point_records: n as u64,
        number_of_points_by_return: by_return,
    });
    raw.evlr = Some(las::raw::header::Evlr {
        start_of_first_evlr: end,
        number_of_evlrs: 1,
    });
    (raw.min_x, raw.min_y, raw.min_z) = (b.min[0], b.min[1], b.min[2]);
    (raw.max_x, raw.max_y, raw.max_z) = (b.max[0], b.max[1], b.max[2]);
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    raw.write_to(&mut f).map_err(las)?;
    // The info VLR's payload follows the 375-byte header and its 54-byte VLR header.
    summary.nodes = entries.len();
    let info = info_payload(&summary, end + 60, page_len, gps);
    f.seek(SeekFrom::Start(u64::from(raw.header_size) + 54))
        .map_err(io)?;
    f.write_all(&info).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    crate::atomic::publish_mode(tmp.as_file(), path)?;
    tmp.persist(path)
        .map_err(|e| CaptureError::write_io(path, e.error))?;
    Ok(summary)
}
