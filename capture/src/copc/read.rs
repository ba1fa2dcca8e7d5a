//! Reading a COPC file node by node. [`CopcFile`] is what the file says — its octree from the
//! hierarchy, the point layout, CRS and cube — and is opened once; a [`NodeReader`] is a
//! decoding handle on it (a file handle and a layered LAZ decompressor), cheap to make, so
//! parallel workers each take their own without re-reading the header or the hierarchy.

use std::path::{Path, PathBuf};

use crate::cloud::PointCloud;
use crate::error::{CaptureError, Result};
use crate::las_io::Layout;

/// One node of an open COPC file.
#[derive(Clone, Debug)]
pub struct CopcNode {
    /// `[depth, x, y, z]` (COPC's `VoxelKey`).
    pub key: [i32; 4],
    pub points: u64,
    entry: las::copc::Entry,
}

/// An open COPC file (module docs): the octree from its hierarchy and what decoding its nodes
/// needs. Read its nodes through [`CopcFile::reader`].
pub struct CopcFile {
    path: PathBuf,
    items: Vec<laz::LazItem>,
    file_len: u64,
    layout: Layout,
    quant: crate::cloud::Quantization,
    templates: Vec<crate::cloud::ExtraColumn>,
    pub crs: crate::crs::Crs,
    /// The octree cube: minimum corner (absolute) and edge length.
    pub cube_min: [f64; 3],
    pub cube_size: f64,
    /// Points in the file (the header's count) and their box (the header's).
    pub total_points: u64,
    pub bounds: crate::cloud::Bounds,
    /// Nodes with points, by depth then key.
    pub nodes: Vec<CopcNode>,
}

/// A decoding handle on a [`CopcFile`]: reads one node's chunk at a time, only the layers asked
/// for.
pub struct NodeReader<'f> {
    file: &'f CopcFile,
    decompressor:
        laz::record::LayeredPointRecordDecompressor<'static, std::io::BufReader<std::fs::File>>,
    buf: Vec<u8>,
}

/// Whether `path` is a COPC file (a LAS header whose first VLR is COPC's info record). The
/// header is checked against the file first ([`crate::las_io::open`]), so a hostile file is
/// simply "not COPC".
pub fn is_copc(path: &Path) -> bool {
    crate::las_io::open(path).is_ok_and(|(_, info)| first_vlr_is_copc(&info.header))
}

fn first_vlr_is_copc(header: &las::Header) -> bool {
    header
        .vlrs()
        .first()
        .is_some_and(|v| v.user_id == "copc" && v.record_id == 1)
}

impl CopcFile {
    /// Open `path`; a typed error naming it when it is not COPC or its hierarchy is damaged.
    pub fn open(path: &Path) -> Result<CopcFile> {
        Self::open_if_copc(path)?.ok_or_else(|| {
            CaptureError::invalid(path, "COPC", "not a COPC file (no COPC info record first)")
        })
    }

    /// Open `path` when it is a COPC file, `None` when it is another LAS/LAZ file: one read of
    /// the header for both the question and the answer.
    pub fn open_if_copc(path: &Path) -> Result<Option<CopcFile>> {
        let bad = |reason: String| CaptureError::invalid(path, "COPC", reason);
        // The header and its records are checked against the file before the COPC reader
        // allocates anything they claim.
        let (_, info) = crate::las_io::open(path)?;
        if !first_vlr_is_copc(&info.header) {
            return Ok(None);
        }
        let reader = crate::contain::contained(|| las::CopcReader::from_path(path))
            .map_err(|r| bad(format!("the reader failed ({r})")))?
            .map_err(|e| bad(e.to_string()))?;
        let header = reader.header();
        let copc = header
            .copc_info_vlr()
            .ok_or_else(|| bad("no COPC info record".into()))?;
        let layout = Layout::of(header.point_format());
        let t = header.transforms();
        let quant = crate::cloud::Quantization {
            scale: [t.x.scale, t.y.scale, t.z.scale],
            offset: [t.x.offset, t.y.offset, t.z.offset],
        };
        let templates = crate::las_io::extra_templates(path, header, layout.extra_len)?;
        let items = header
            .laz_vlr()
            .map_err(|e| bad(format!("the LASzip record: {e}")))?
            .items()
            .clone();
        let mut nodes: Vec<CopcNode> = reader
            .hierarchy_entries()
            .filter(|e| e.point_count > 0)
            .map(|e| CopcNode {
                key: [e.key.l, e.key.x, e.key.y, e.key.z],
                points: e.point_count as u64,
                entry: e,
            })
            .collect();
        if let Some(n) = nodes.iter().find(|n| {
            n.key[0] < 0 || n.key[0] > 30 || n.key[1..].iter().any(|&c| c < 0 || c >= 1 << n.key[0])
        }) {
            return Err(bad(format!("node key {:?} outside the octree", n.key)));
        }
        nodes.sort_by_key(|n| n.key);
        let b = header.bounds();
        Ok(Some(CopcFile {
            path: path.to_path_buf(),
            crs: crate::las_io::crs_of(header, path),
            layout,
            quant,
            templates,
            items,
            file_len: info.file_size,
            cube_min: [
                copc.center_x - copc.halfsize,
                copc.center_y - copc.halfsize,
                copc.center_z - copc.halfsize,
            ],
            cube_size: 2.0 * copc.halfsize,
            total_points: header.number_of_points(),
            bounds: crate::cloud::Bounds {
                min: [b.min.x, b.min.y, b.min.z],
                max: [b.max.x, b.max.y, b.max.z],
            },
            nodes,
        }))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A decoding handle on this file.
    pub fn reader(&self) -> Result<NodeReader<'_>> {
        let f = std::fs::File::open(&self.path).map_err(|e| CaptureError::io(&self.path, e))?;
        Ok(NodeReader {
            file: self,
            decompressor: laz::record::LayeredPointRecordDecompressor::new(
                std::io::BufReader::new(f),
            ),
            buf: Vec::new(),
        })
    }

    /// The horizontal box of node `k`'s cube: x min, y min, x max, y max.
    pub fn node_box_xy(&self, k: usize) -> [f64; 4] {
        let key = self.nodes[k].key;
        let size = self.cube_size / f64::from(1u32 << key[0].clamp(0, 30));
        let (x0, y0) = (
            self.cube_min[0] + f64::from(key[1]) * size,
            self.cube_min[1] + f64::from(key[2]) * size,
        );
        [x0, y0, x0 + size, y0 + size]
    }
}

impl NodeReader<'_> {
    /// The points of node `k` (an index into [`CopcFile::nodes`]) with the columns `fields`
    /// selects, positions relative to `origin`.
    pub fn read_node(
        &mut self,
        k: usize,
        fields: &crate::read::Fields,
        origin: [f64; 3],
    ) -> Result<PointCloud> {
        let f = self.file;
        let node = f
            .nodes
            .get(k)
            .ok_or_else(|| CaptureError::invalid(&f.path, "COPC", format!("no node {k}")))?;
        let (entry, key) = (node.entry, node.key);
        let n = usize::try_from(entry.point_count).unwrap_or(0);
        let bad = |e: String| CaptureError::invalid(&f.path, "COPC", format!("node {key:?}: {e}"));
        // A node's bytes cannot exceed the file (a lying hierarchy must not allocate freely).
        if entry.offset >= f.file_len || (n as u64) > f.file_len.saturating_mul(8) {
            return Err(bad(format!(
                "{n} points at byte {} of a {}-byte file",
                entry.offset, f.file_len
            )));
        }
        self.buf.clear();
        self.buf.resize(n * f.layout.record_len, 0);
        let (dec, buf) = (&mut self.decompressor, &mut self.buf);
        let sel = crate::las_io::selection(fields);
        crate::contain::contained(|| -> std::io::Result<()> {
            use laz::record::RecordDecompressor;
            use std::io::Seek;
            dec.get_mut().seek(std::io::SeekFrom::Start(entry.offset))?;
            dec.reset();
            dec.set_fields_from(&f.items)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            dec.set_selection(sel);
            dec.decompress_many(buf)
        })
        .map_err(|r| bad(r.to_string()))?
        .map_err(|e| bad(e.to_string()))?;
        let schema = crate::las_io::Schema {
            layout: &f.layout,
            quant: &f.quant,
            templates: &f.templates,
            fields,
        };
        let mut raw = [[i32::MAX, i32::MIN]; 3];
        let mut c = crate::las_io::decode(&self.buf, n, &schema, origin, &mut raw);
        c.crs = f.crs.clone();
        Ok(c)
    }
}
