//! The octree's cache file: one file, each node's points contiguous so one positional read
//! loads a node.
//!
//! Layout (little-endian):
//!
//! | part | bytes |
//! |---|---|
//! | header | [`HEADER_LEN`]: magic, version, attribute bits, cube, counts, node-table offset, file length |
//! | node chunks | per node: 16-byte chunk header (`TMND`, node id, point count, 0), positions as 3 × `f32` relative to the node centre, then `rgb` 3 × `u8`, `intensity` `u16`, `class` `u8`, `tree` `u32` when present |
//! | node table | [`RECORD_LEN`] bytes per node: key, count, parent, children, chunk offset and length |
//!
//! Positions are relative to the node centre rather than the cloud origin so that a UTM-scale
//! cloud stays precise in `f32` on the GPU: a 1 m leaf keeps sub-micrometre steps. The magic is
//! written last, so a build that died half-way never looks like a valid file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use capture::{ExtraColumn, ExtraType, PointCloud};

use crate::viewer::node::{MORTON_BITS, NO_NODE, Node, NodeKey, OctreeError};

/// First bytes of a cache file.
pub const MAGIC: [u8; 8] = *b"TMOCTREE";
/// Layout version; a file of another version is rejected (rebuild it).
pub const VERSION: u32 = 1;
/// Fixed header size.
pub const HEADER_LEN: u64 = 128;
/// Size of one node-table record.
pub const RECORD_LEN: usize = 72;
const CHUNK_MAGIC: u32 = u32::from_le_bytes(*b"TMND");
const CHUNK_HEADER_LEN: usize = 16;

/// Which optional attributes the file stores (positions are always there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    pub rgb: bool,
    pub intensity: bool,
    pub class: bool,
    /// Tree ids from the cloud's `treeID` extra column.
    pub tree: bool,
}

impl Attributes {
    /// The attributes `cloud` carries.
    pub fn of(cloud: &PointCloud, tree: Option<&ExtraColumn>) -> Self {
        Attributes {
            rgb: cloud.rgb.is_some(),
            intensity: cloud.intensity.is_some(),
            class: cloud.classification.is_some(),
            tree: tree.is_some(),
        }
    }
    fn bits(self) -> u32 {
        self.rgb as u32
            | (self.intensity as u32) << 1
            | (self.class as u32) << 2
            | (self.tree as u32) << 3
    }
    fn from_bits(b: u32) -> Option<Self> {
        (b < 16).then_some(Attributes {
            rgb: b & 1 != 0,
            intensity: b & 2 != 0,
            class: b & 4 != 0,
            tree: b & 8 != 0,
        })
    }
    /// Stored bytes per point.
    pub fn bytes_per_point(self) -> usize {
        12 + 3 * self.rgb as usize
            + 2 * self.intensity as usize
            + self.class as usize
            + 4 * self.tree as usize
    }
    /// Bytes of a node chunk holding `points` points.
    pub fn chunk_len(self, points: u32) -> u64 {
        CHUNK_HEADER_LEN as u64 + points as u64 * self.bytes_per_point() as u64
    }
}

/// One node's points as loaded from the cache, ready to upload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodePoints {
    /// Relative to the node centre (f32 stays precise at any absolute coordinate).
    pub positions: Vec<[f32; 3]>,
    /// 8-bit colour (the cloud's 16-bit colour >> 8).
    pub rgb: Option<Vec<[u8; 3]>>,
    pub intensity: Option<Vec<u16>>,
    pub class: Option<Vec<u8>>,
    /// From the extra column `treeID`; 0 = no tree.
    pub tree: Option<Vec<u32>>,
    /// Cloud-local z of each point, for height colouring.
    pub z: Vec<f32>,
}

impl NodePoints {
    pub fn len(&self) -> usize {
        self.positions.len()
    }
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}

/// Everything in the header besides the magic and version.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Header {
    pub attrs: Attributes,
    pub node_count: u32,
    pub grid_cells: u32,
    pub max_points_per_node: u64,
    pub max_depth: u8,
    pub total_points: u64,
    pub origin: [f64; 3],
    pub cube_min: [f64; 3],
    pub cube_size: f64,
    pub index_offset: u64,
    pub file_len: u64,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_LEN as usize);
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&self.attrs.bits().to_le_bytes());
        b.extend_from_slice(&self.node_count.to_le_bytes());
        b.extend_from_slice(&self.grid_cells.to_le_bytes());
        b.extend_from_slice(&self.max_points_per_node.to_le_bytes());
        b.extend_from_slice(&self.total_points.to_le_bytes());
        for v in self.origin.iter().chain(&self.cube_min) {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.cube_size.to_le_bytes());
        b.extend_from_slice(&self.index_offset.to_le_bytes());
        b.extend_from_slice(&self.file_len.to_le_bytes());
        b.push(self.max_depth);
        b.resize(HEADER_LEN as usize, 0);
        b
    }

    fn decode(b: &[u8], path: &Path) -> Result<Header, OctreeError> {
        let corrupt = |reason: String| OctreeError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        if b[..8] != MAGIC {
            return Err(corrupt("not a TwinMint octree cache (bad magic)".into()));
        }
        let mut r = Reader { b, at: 8 };
        let version = r.u32();
        if version != VERSION {
            return Err(corrupt(format!(
                "cache version {version}, this build reads {VERSION}"
            )));
        }
        let bits = r.u32();
        let attrs =
            Attributes::from_bits(bits).ok_or_else(|| corrupt(format!("attribute bits {bits}")))?;
        let node_count = r.u32();
        let grid_cells = r.u32();
        let max_points_per_node = r.u64();
        let total_points = r.u64();
        let origin = [r.f64(), r.f64(), r.f64()];
        let cube_min = [r.f64(), r.f64(), r.f64()];
        let cube_size = r.f64();
        let index_offset = r.u64();
        let file_len = r.u64();
        let max_depth = r.b[r.at];
        let finite = origin.iter().chain(&cube_min).all(|v| v.is_finite());
        if !(cube_size.is_finite() && cube_size > 0.0 && finite) {
            return Err(corrupt("cube is not finite".into()));
        }
        if node_count == 0 || !grid_cells.is_power_of_two() || max_depth > MORTON_BITS as u8 {
            return Err(corrupt(format!(
                "{node_count} nodes, grid {grid_cells}, max depth {max_depth}"
            )));
        }
        Ok(Header {
            attrs,
            node_count,
            grid_cells,
            max_points_per_node,
            max_depth,
            total_points,
            origin,
            cube_min,
            cube_size,
            index_offset,
            file_len,
        })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let v = self.b[self.at..self.at + N].try_into().unwrap();
        self.at += N;
        v
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.take())
    }
}

fn encode_record(n: &Node, b: &mut Vec<u8>) {
    b.push(n.key.depth);
    b.extend_from_slice(&[0; 3]);
    for v in [n.key.x, n.key.y, n.key.z, n.point_count, n.parent] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for c in n.children {
        b.extend_from_slice(&c.to_le_bytes());
    }
    b.extend_from_slice(&n.file_offset.to_le_bytes());
    b.extend_from_slice(&n.file_len.to_le_bytes());
}

/// Node geometry from its key: the file stores keys only, so the cube is the single truth.
pub(crate) fn node_geometry(
    key: NodeKey,
    cube_min: [f64; 3],
    cube_size: f64,
    grid_cells: u32,
) -> ([f64; 3], f64, f64) {
    let size = cube_size / (1u64 << key.depth) as f64;
    let c = |k: u32, m: f64| m + (k as f64 + 0.5) * size;
    (
        [
            c(key.x, cube_min[0]),
            c(key.y, cube_min[1]),
            c(key.z, cube_min[2]),
        ],
        0.5 * size,
        size / grid_cells as f64,
    )
}

/// An open cache file. Reads are positional (`pread`), so one store serves any number of
/// loader threads through `&self`.
#[derive(Debug)]
pub struct NodeStore {
    file: File,
    path: PathBuf,
    attrs: Attributes,
}

impl NodeStore {
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn attributes(&self) -> Attributes {
        self.attrs
    }

    fn io(&self, e: std::io::Error) -> OctreeError {
        OctreeError::Io {
            path: self.path.clone(),
            source: e,
        }
    }

    /// Open and validate a cache file: header, length and every node record.
    pub(crate) fn open(path: &Path) -> Result<(NodeStore, Header, Vec<Node>), OctreeError> {
        let io = |e| OctreeError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let corrupt = |reason: String| OctreeError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let file = File::open(path).map_err(io)?;
        let actual = file.metadata().map_err(io)?.len();
        if actual < HEADER_LEN {
            return Err(OctreeError::Truncated {
                path: path.to_path_buf(),
                expected: HEADER_LEN,
                actual,
            });
        }
        let mut hb = vec![0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut hb, 0).map_err(io)?;
        let h = Header::decode(&hb, path)?;
        if actual < h.file_len {
            return Err(OctreeError::Truncated {
                path: path.to_path_buf(),
                expected: h.file_len,
                actual,
            });
        }
        if actual > h.file_len
            || h.index_offset < HEADER_LEN
            || h.index_offset + h.node_count as u64 * RECORD_LEN as u64 != h.file_len
        {
            return Err(corrupt(format!(
                "length {actual}, header says {} with the node table at {}",
                h.file_len, h.index_offset
            )));
        }
        let mut tb = vec![0u8; h.node_count as usize * RECORD_LEN];
        file.read_exact_at(&mut tb, h.index_offset).map_err(io)?;
        let count = h.node_count;
        let mut nodes = Vec::with_capacity(count as usize);
        let mut sum = 0u64;
        for (id, rec) in tb.chunks_exact(RECORD_LEN).enumerate() {
            let mut r = Reader { b: rec, at: 4 };
            let depth = rec[0];
            let key = NodeKey {
                depth,
                x: r.u32(),
                y: r.u32(),
                z: r.u32(),
            };
            let point_count = r.u32();
            let parent = r.u32();
            let children: [u32; 8] = std::array::from_fn(|_| r.u32());
            let file_offset = r.u64();
            let file_len = r.u64();
            let span = 1u64 << depth.min(MORTON_BITS as u8);
            let bad = depth > h.max_depth
                || [key.x, key.y, key.z].iter().any(|&k| k as u64 >= span)
                || (id == 0) != (parent == NO_NODE)
                || (id > 0 && parent >= count)
                || children
                    .iter()
                    .any(|&c| c != NO_NODE && (c >= count || c == 0))
                || file_offset < HEADER_LEN
                || file_offset + file_len > h.index_offset
                || file_len != h.attrs.chunk_len(point_count);
            if bad {
                return Err(corrupt(format!("node {id} record is inconsistent")));
            }
            sum += point_count as u64;
            let (center, half_size, spacing) =
                node_geometry(key, h.cube_min, h.cube_size, h.grid_cells);
            nodes.push(Node {
                key,
                center,
                half_size,
                spacing,
                point_count,
                children,
                parent,
                file_offset,
                file_len,
            });
        }
        if nodes[0].key != NodeKey::ROOT || sum != h.total_points {
            return Err(corrupt(format!(
                "node counts sum to {sum}, header says {}",
                h.total_points
            )));
        }
        let attrs = h.attrs;
        Ok((
            NodeStore {
                file,
                path: path.to_path_buf(),
                attrs,
            },
            h,
            nodes,
        ))
    }

    /// Load node `id` (described by `node`) and check it: chunk header, length, and every
    /// position finite and inside the node's cube, so a garbled file is an error, not garbage
    /// on screen.
    pub fn read(&self, id: u32, node: &Node) -> Result<NodePoints, OctreeError> {
        let mut buf = vec![0u8; node.file_len as usize];
        self.file
            .read_exact_at(&mut buf, node.file_offset)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    OctreeError::Truncated {
                        path: self.path.clone(),
                        expected: node.file_offset + node.file_len,
                        actual: self.file.metadata().map(|m| m.len()).unwrap_or(0),
                    }
                } else {
                    self.io(e)
                }
            })?;
        decode_chunk(&buf, id, node, self.attrs).map_err(|reason| OctreeError::Corrupt {
            path: self.path.clone(),
            reason: format!("node {id}: {reason}"),
        })
    }
}

fn decode_chunk(buf: &[u8], id: u32, node: &Node, attrs: Attributes) -> Result<NodePoints, String> {
    let word = |i: usize| u32::from_le_bytes(buf[4 * i..4 * i + 4].try_into().unwrap());
    if buf.len() < CHUNK_HEADER_LEN || word(0) != CHUNK_MAGIC {
        return Err("bad chunk header".into());
    }
    if word(1) != id || word(2) != node.point_count {
        return Err(format!(
            "chunk says node {} with {} points, expected node {id} with {}",
            word(1),
            word(2),
            node.point_count
        ));
    }
    let n = node.point_count as usize;
    if buf.len() as u64 != attrs.chunk_len(node.point_count) {
        return Err("chunk length does not match its point count".into());
    }
    let mut at = CHUNK_HEADER_LEN;
    let mut column = |width: usize| {
        let s = &buf[at..at + n * width];
        at += n * width;
        s
    };
    let lim = (node.half_size * (1.0 + 1e-5) + 1e-4) as f32;
    let mut positions = Vec::with_capacity(n);
    let mut z = Vec::with_capacity(n);
    for c in column(12).chunks_exact(12) {
        let p: [f32; 3] =
            std::array::from_fn(|k| f32::from_le_bytes(c[4 * k..4 * k + 4].try_into().unwrap()));
        // `!(a <= lim)` also rejects NaN.
        if !p.iter().all(|v| v.abs() <= lim) {
            return Err(format!("position {p:?} outside the node cube"));
        }
        positions.push(p);
        z.push((node.center[2] + p[2] as f64) as f32);
    }
    let rgb = attrs.rgb.then(|| {
        column(3)
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect()
    });
    let intensity = attrs.intensity.then(|| {
        column(2)
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    });
    let class = attrs.class.then(|| column(1).to_vec());
    let tree = attrs.tree.then(|| {
        column(4)
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    });
    Ok(NodePoints {
        positions,
        rgb,
        intensity,
        class,
        tree,
        z,
    })
}

/// Tree id of point `i`: the column's value when it is a whole number in `u32` range, else 0.
fn tree_id(col: &ExtraColumn, i: usize) -> u32 {
    let v = col.get(i);
    if v.is_finite() && v >= 0.0 && v <= u32::MAX as f64 {
        v as u32
    } else {
        0
    }
}

/// Serialise the points `indices` of `cloud` as node `id`'s chunk (appended to `out`). Columns
/// are filled through pre-sized slices: the gather is random access, so keep the rest cheap.
pub(crate) fn encode_chunk(
    id: u32,
    center: [f64; 3],
    indices: &[u32],
    cloud: &PointCloud,
    tree: Option<&ExtraColumn>,
    attrs: Attributes,
    out: &mut Vec<u8>,
) {
    let n = indices.len();
    let start = out.len();
    out.resize(start + attrs.chunk_len(n as u32) as usize, 0);
    let (head, mut rest) = out[start..].split_at_mut(CHUNK_HEADER_LEN);
    for (k, w) in [CHUNK_MAGIC, id, n as u32, 0].into_iter().enumerate() {
        head[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
    }
    let mut column = |width: usize| {
        let (c, r) = std::mem::take(&mut rest).split_at_mut(n * width);
        rest = r;
        c
    };
    let pos = column(12);
    for (o, &i) in pos.chunks_exact_mut(12).zip(indices) {
        let p = cloud.positions[i as usize];
        for k in 0..3 {
            let rel = (p[k] as f64 - center[k]) as f32;
            o[4 * k..4 * k + 4].copy_from_slice(&rel.to_le_bytes());
        }
    }
    if let (true, Some(rgb)) = (attrs.rgb, &cloud.rgb) {
        for (o, &i) in column(3).chunks_exact_mut(3).zip(indices) {
            o.copy_from_slice(&rgb[i as usize].map(|c| (c >> 8) as u8));
        }
    }
    if let (true, Some(v)) = (attrs.intensity, &cloud.intensity) {
        for (o, &i) in column(2).chunks_exact_mut(2).zip(indices) {
            o.copy_from_slice(&v[i as usize].to_le_bytes());
        }
    }
    if let (true, Some(v)) = (attrs.class, &cloud.classification) {
        for (o, &i) in column(1).iter_mut().zip(indices) {
            *o = v[i as usize];
        }
    }
    if let (true, Some(col)) = (attrs.tree, tree) {
        let out = column(4);
        // Plain u32 ids (lidR, TwinMint) are copied as bytes; other types go through `get`.
        let plain = col.data_type == ExtraType::U32 && col.scale.is_none() && col.offset.is_none();
        for (o, &i) in out.chunks_exact_mut(4).zip(indices) {
            let i = i as usize;
            if plain {
                o.copy_from_slice(&col.data[4 * i..4 * i + 4]);
            } else {
                o.copy_from_slice(&tree_id(col, i).to_le_bytes());
            }
        }
    }
}

/// Streams node chunks into `<cache>.partial`; [`StoreWriter::finish`] adds the node table and
/// header and renames it into place.
pub(crate) struct StoreWriter {
    out: BufWriter<File>,
    path: PathBuf,
    at: u64,
}

impl StoreWriter {
    pub fn create(path: &Path) -> Result<Self, OctreeError> {
        let io = |e| OctreeError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io)?;
        let mut w = StoreWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            at: 0,
        };
        // Zero header until finish(): an unfinished file has no magic.
        w.write(&[0u8; HEADER_LEN as usize])?;
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<u64, OctreeError> {
        let at = self.at;
        self.out.write_all(b).map_err(|e| OctreeError::Io {
            path: self.path.clone(),
            source: e,
        })?;
        self.at += b.len() as u64;
        Ok(at)
    }

    /// Append one encoded chunk; returns its offset.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<u64, OctreeError> {
        self.write(chunk)
    }

    /// Write the node table and header, then move the file to `final_path`.
    pub fn finish(
        mut self,
        mut header: Header,
        nodes: &[Node],
        final_path: &Path,
    ) -> Result<NodeStore, OctreeError> {
        let mut table = Vec::with_capacity(nodes.len() * RECORD_LEN);
        nodes.iter().for_each(|n| encode_record(n, &mut table));
        header.index_offset = self.write(&table)?;
        header.file_len = self.at;
        header.node_count = nodes.len() as u32;
        let io_at = |p: &Path| {
            let p = p.to_path_buf();
            move |e| OctreeError::Io { path: p, source: e }
        };
        let file = self
            .out
            .into_inner()
            .map_err(|e| io_at(&self.path)(e.into_error()))?;
        file.write_all_at(&header.encode(), 0)
            .map_err(io_at(&self.path))?;
        std::fs::rename(&self.path, final_path).map_err(io_at(final_path))?;
        Ok(NodeStore {
            file,
            path: final_path.to_path_buf(),
            attrs: header.attrs,
        })
    }
}
