//! The viewer's octree straight from a COPC file: the nodes are the file's (its hierarchy gives
//! keys and counts, each node its own LAZ chunk), decoded one at a time into the cache — no read
//! of the whole cloud, no sort, memory bounded by the largest node. A survey's merged estate is
//! COPC (`capture::copc`), and so are the files PDAL, Untwine and QGIS write.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use capture::copc::{CopcFile, NodeReader};
use rayon::prelude::*;

use crate::viewer::node::{NO_NODE, Node, NodeKey, OctreeError};
use crate::viewer::node_store::{Attributes, Header, StoreWriter, encode_chunk, node_geometry};
use crate::viewer::octree::{Octree, OctreeOptions, TREE_ID_COLUMN};

/// COPC nodes sample a 128³ grid (COPC 1.0; what `capture::copc` and PDAL write).
const GRID_CELLS: u32 = 128;

fn source(path: &Path, e: &capture::CaptureError) -> OctreeError {
    OctreeError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

impl Octree {
    /// Build the viewer's cache `cache_file` from the open COPC file `f` (module docs).
    /// `progress` (0…1) after each batch of nodes; `cancel` returning true stops with
    /// [`OctreeError::Cancelled`] and removes the partial file.
    pub fn from_copc(
        f: &CopcFile,
        cache_file: &Path,
        progress: &dyn Fn(f32),
        cancel: &dyn Fn() -> bool,
    ) -> Result<Octree, OctreeError> {
        let cloud_file = f.path();
        if f.nodes.is_empty() {
            return Err(OctreeError::EmptyCloud);
        }
        // Positions are kept relative to the cube's centre, to the metre.
        let origin: [f64; 3] = std::array::from_fn(|k| (f.cube_min[k] + f.cube_size / 2.0).round());
        let cube_min: [f64; 3] = std::array::from_fn(|k| f.cube_min[k] - origin[k]);
        // Every node and its ancestors (a writer may leave empty inner nodes out), level by
        // level, Morton order within a level — the order the cache and its loader expect.
        let mut keys: HashSet<NodeKey> = HashSet::new();
        let mut in_file: HashMap<NodeKey, usize> = HashMap::new();
        for (k, n) in f.nodes.iter().enumerate() {
            let mut key = NodeKey {
                depth: n.key[0] as u8,
                x: n.key[1] as u32,
                y: n.key[2] as u32,
                z: n.key[3] as u32,
            };
            in_file.insert(key, k);
            loop {
                keys.insert(key);
                match key.parent() {
                    Some(p) => key = p,
                    None => break,
                }
            }
        }
        let mut order: Vec<NodeKey> = keys.into_iter().collect();
        order.sort_unstable_by_key(|k| (k.depth, k.morton()));
        let ids: HashMap<NodeKey, u32> = order
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect();
        let mut nodes: Vec<Node> = order
            .iter()
            .map(|&key| {
                let (center, half_size, spacing) =
                    node_geometry(key, cube_min, f.cube_size, GRID_CELLS);
                Node {
                    key,
                    center,
                    half_size,
                    spacing,
                    point_count: 0,
                    children: [NO_NODE; 8],
                    parent: key.parent().map_or(NO_NODE, |p| ids[&p]),
                    file_offset: 0,
                    file_len: 0,
                }
            })
            .collect();
        for i in 1..nodes.len() {
            let (p, o) = (nodes[i].parent as usize, nodes[i].key.octant());
            nodes[p].children[o] = i as u32;
        }

        let mut partial = cache_file.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        // What each node's chunk is made of: its id, centre and node in the file.
        let jobs: Vec<(u32, [f64; 3], Option<usize>)> = nodes
            .iter()
            .enumerate()
            .map(|(id, n)| (id as u32, n.center, in_file.get(&n.key).copied()))
            .collect();
        let built = (|| {
            let mut writer = StoreWriter::create(&partial)?;
            // Every node has the file's columns: the first one says which.
            let first = f
                .reader()
                .and_then(|mut r| r.read_node(0, &capture::Fields::VIEWER, origin))
                .map_err(|e| source(cloud_file, &e))?;
            let attrs = Attributes::of(&first, first.extra(TREE_ID_COLUMN));
            drop(first);
            let encode =
                |r: &mut NodeReader<'_>, &(id, center, k): &(u32, [f64; 3], Option<usize>)| {
                    let pc = match k {
                        Some(k) => r
                            .read_node(k, &capture::Fields::VIEWER, origin)
                            .map_err(|e| source(cloud_file, &e))?,
                        None => capture::PointCloud::new(origin),
                    };
                    let idx: Vec<u32> = (0..pc.len() as u32).collect();
                    let mut buf = Vec::new();
                    let tree = pc.extra(TREE_ID_COLUMN);
                    encode_chunk(id, center, &idx, &pc, tree, attrs, &mut buf);
                    Ok::<_, OctreeError>((buf, pc.len() as u32))
                };
            let points = |j: &(u32, [f64; 3], Option<usize>)| j.2.map_or(0, |k| f.nodes[k].points);
            let (mut total, expected) = (0u64, f.total_points.max(1));
            let mut start = 0;
            while start < jobs.len() {
                if cancel() {
                    return Err(OctreeError::Cancelled);
                }
                // A batch of about a million points, decoded in parallel (each worker with its
                // own decoding handle on the file), then written in node order.
                let (mut end, mut pts) = (start, 0u64);
                while end < jobs.len() && (end == start || pts < 1 << 20) {
                    pts += points(&jobs[end]);
                    end += 1;
                }
                let encoded: Vec<Result<(Vec<u8>, u32), OctreeError>> = jobs[start..end]
                    .par_iter()
                    .map_init(
                        || f.reader(),
                        |reader, job| match reader {
                            Ok(r) => encode(r, job),
                            Err(e) => Err(source(cloud_file, e)),
                        },
                    )
                    .collect();
                for (job, r) in jobs[start..end].iter().zip(encoded) {
                    let (buf, n) = r?;
                    let node = &mut nodes[job.0 as usize];
                    node.file_offset = writer.write_chunk(&buf)?;
                    node.file_len = buf.len() as u64;
                    node.point_count = n;
                    total += u64::from(n);
                }
                progress((total as f64 / expected as f64).min(1.0) as f32);
                start = end;
            }
            let options = OctreeOptions {
                max_points_per_node: nodes
                    .iter()
                    .map(|n| n.point_count as usize)
                    .max()
                    .unwrap_or(1),
                grid_cells: GRID_CELLS,
                max_depth: nodes.iter().map(|n| n.key.depth).max().unwrap_or(0),
            };
            let header = Header {
                attrs,
                node_count: nodes.len() as u32,
                grid_cells: GRID_CELLS,
                max_points_per_node: options.max_points_per_node as u64,
                max_depth: options.max_depth,
                total_points: total,
                origin,
                cube_min,
                cube_size: f.cube_size,
                index_offset: 0,
                file_len: 0,
            };
            let store = writer.finish(header, &nodes, cache_file)?;
            Ok((store, total, options))
        })();
        let (store, total, options) = match built {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        Ok(Octree::from_parts(
            origin,
            nodes,
            total,
            cube_min,
            f.cube_size,
            options,
            store,
        ))
    }
}
