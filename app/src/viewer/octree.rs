//! Out-of-core octree of a point cloud for level-of-detail viewing.
//!
//! The layout follows Potree 2 / COPC: every node holds a *subsample* of the points in its cube,
//! one point per cell of a `grid_cells`³ grid over the cube, and the points it did not take
//! descend to its eight children; leaves hold all that is left. Drawing a node and its ancestors
//! therefore draws every point once, at a density that doubles with each level (Schütz,
//! Ohrhallinger & Wimmer 2020, "Fast Out-of-Core Octree Generation for Massive Point Clouds",
//! CGF 39(7); COPC 1.0 specification: nodes keyed `(depth, x, y, z)`, spacing =
//! cube size / grid cells / 2^depth).
//!
//! Construction is Morton-ordered rather than Potree's counting passes: points are sorted once by
//! 63-bit Morton code (21 bits per axis), after which every node, child and grid cell is a
//! contiguous run of the sorted array, so sampling is a linear scan and children are found by
//! binary search. Subtrees are built in parallel (rayon). Node points are streamed to one cache
//! file ([`crate::viewer::node_store`]) and read back on demand with positional reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use capture::PointCloud;
use rayon::prelude::*;

use crate::viewer::node::spread;
pub use crate::viewer::node::{MORTON_BITS, NO_NODE, Node, NodeKey, OctreeError};
use crate::viewer::node_store::{
    self, Attributes, Header, NodePoints, NodeStore, StoreWriter, node_geometry,
};

/// Extra column whose values become [`NodePoints::tree`].
pub const TREE_ID_COLUMN: &str = "treeID";

/// Ranges smaller than this are built on the current thread (rayon overhead beats the gain).
const PAR_MIN: usize = 1 << 15;

/// How the octree is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OctreeOptions {
    /// A node with at most this many remaining points becomes a leaf holding them all
    /// (default 20 000: one GPU upload of ≈ 0.5 MB, the granularity Potree streams at).
    pub max_points_per_node: usize,
    /// Subsample grid per node axis, a power of two (default 128 as in Potree 2 and COPC):
    /// a node keeps at most one point per cell, so node spacing = cube / grid / 2^depth.
    pub grid_cells: u32,
    /// Deepest level (default 18, at most 21 = the Morton resolution); a node there is a leaf
    /// whatever its count, so duplicate-heavy data cannot recurse forever.
    pub max_depth: u8,
}

impl Default for OctreeOptions {
    fn default() -> Self {
        OctreeOptions {
            max_points_per_node: 20_000,
            grid_cells: 128,
            max_depth: 18,
        }
    }
}

impl OctreeOptions {
    fn validate(&self) -> Result<(), OctreeError> {
        let bad = |reason: String| Err(OctreeError::InvalidOptions(reason));
        if self.max_points_per_node == 0 {
            return bad("max_points_per_node must be at least 1".into());
        }
        if !self.grid_cells.is_power_of_two() || self.grid_cells > 1 << 12 {
            return bad(format!(
                "grid_cells {} is not a power of two in 1..=4096",
                self.grid_cells
            ));
        }
        if self.max_depth as u32 > MORTON_BITS {
            return bad(format!(
                "max_depth {} exceeds the Morton resolution ({MORTON_BITS})",
                self.max_depth
            ));
        }
        Ok(())
    }
}

/// A built (or reopened) octree: the hierarchy in memory, the points in the cache file.
#[derive(Debug)]
pub struct Octree {
    /// The cloud's origin: local → absolute.
    pub origin: [f64; 3],
    /// `nodes[0]` is the root; ordered by level, then Morton order within a level.
    pub nodes: Vec<Node>,
    pub total_points: u64,
    /// Minimum corner of the root cube (cloud-local).
    pub cube_min: [f64; 3],
    /// Edge length of the root cube.
    pub cube_size: f64,
    pub options: OctreeOptions,
    store: NodeStore,
}

/// Sort record: Morton code in the high 64 bits, point index in the low 32, so a plain integer
/// sort orders by code, then index (deterministic), and a zeroed array is a cheap `calloc`.
type Entry = u128;

fn entry(code: u64, idx: u32) -> Entry {
    (code as u128) << 32 | idx as u128
}
fn code(e: Entry) -> u64 {
    (e >> 32) as u64
}
fn idx(e: Entry) -> u32 {
    e as u32
}

/// A node as the partition produced it: its key and the runs of the sorted array it took.
struct RawNode {
    key: NodeKey,
    runs: Vec<(u32, u32)>,
}

/// State shared by the build thread and the calling (monitor) thread.
struct Shared {
    cancelled: AtomicBool,
    /// Progress as `f32` bits.
    progress: AtomicU32,
}

impl Shared {
    fn set_progress(&self, p: f32) {
        self.progress.store(p.to_bits(), Ordering::Relaxed);
    }
    fn check(&self) -> Result<(), OctreeError> {
        if self.cancelled.load(Ordering::Relaxed) {
            Err(OctreeError::Cancelled)
        } else {
            Ok(())
        }
    }
}

enum Msg {
    /// The build reached a checkpoint; the monitor answers whether to go on.
    Checkpoint(f32),
}

/// The build thread's handle on the monitor: at a checkpoint it waits for the caller's
/// `cancel()` verdict, so cancellation is exact at phase boundaries.
struct Monitor<'a> {
    shared: &'a Shared,
    tx: mpsc::Sender<Msg>,
    ack: mpsc::Receiver<bool>,
}

impl Monitor<'_> {
    fn checkpoint(&self, p: f32) -> Result<(), OctreeError> {
        self.shared.set_progress(p);
        // A monitor that is gone (its callback panicked) counts as a cancel.
        let go_on = self.tx.send(Msg::Checkpoint(p)).is_ok() && self.ack.recv() == Ok(true);
        if !go_on {
            self.shared.cancelled.store(true, Ordering::Relaxed);
        }
        self.shared.check()
    }
}

/// A bijective 32-bit mix (Wellons' lowbias32): the per-cell winner is the point with the
/// smallest hash, a uniform pick, so samples are not biased to cell corners or scan order.
fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

impl Octree {
    /// Build the octree of `cloud` and write its points to `cache_file` (replaced atomically:
    /// an octree still reading an older file at that path keeps working).
    ///
    /// `progress` (0…1) and `cancel` are called only on the calling thread, every ~20 ms and at
    /// phase boundaries; `cancel` returning true stops the build with
    /// [`OctreeError::Cancelled`] and removes the partial file.
    pub fn build(
        cloud: &PointCloud,
        opts: &OctreeOptions,
        cache_file: &Path,
        progress: &dyn Fn(f32),
        cancel: &dyn Fn() -> bool,
    ) -> Result<Octree, OctreeError> {
        opts.validate()?;
        if cloud.is_empty() {
            return Err(OctreeError::EmptyCloud);
        }
        if cloud.len() >= u32::MAX as usize {
            return Err(OctreeError::TooManyPoints(cloud.len()));
        }
        cloud.check_columns().map_err(OctreeError::InvalidCloud)?;
        if cancel() {
            return Err(OctreeError::Cancelled);
        }
        let mut partial = cache_file.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let shared = Shared {
            cancelled: AtomicBool::new(false),
            progress: AtomicU32::new(0f32.to_bits()),
        };
        let (tx, rx) = mpsc::channel();
        let (ack_tx, ack_rx) = mpsc::channel();
        let result = std::thread::scope(|s| {
            // Owned by this closure so that a panicking callback drops it and frees the worker.
            let ack_tx = ack_tx;
            let worker = std::thread::Builder::new()
                .name("octree-build".into())
                .spawn_scoped(s, || {
                    let mon = Monitor {
                        shared: &shared,
                        tx,
                        ack: ack_rx,
                    };
                    build_inner(cloud, opts, &partial, cache_file, &mon)
                })
                .map_err(|e| OctreeError::Io {
                    path: cache_file.to_path_buf(),
                    source: e,
                })?;
            let mut last = 0f32;
            let mut report = |p: f32| {
                if p > last {
                    last = p;
                    progress(p);
                }
            };
            loop {
                match rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(Msg::Checkpoint(p)) => {
                        report(p);
                        let _ = ack_tx.send(!cancel());
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        report(f32::from_bits(shared.progress.load(Ordering::Relaxed)));
                        if cancel() {
                            shared.cancelled.store(true, Ordering::Relaxed);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            match worker.join() {
                Ok(r) => r,
                Err(panic) => {
                    let _ = std::fs::remove_file(&partial);
                    std::panic::resume_unwind(panic)
                }
            }
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        } else {
            progress(1.0);
        }
        result
    }

    /// An octree from its parts (the COPC import builds the same cache another way).
    pub(crate) fn from_parts(
        origin: [f64; 3],
        nodes: Vec<Node>,
        total_points: u64,
        cube_min: [f64; 3],
        cube_size: f64,
        options: OctreeOptions,
        store: NodeStore,
    ) -> Octree {
        Octree {
            origin,
            nodes,
            total_points,
            cube_min,
            cube_size,
            options,
            store,
        }
    }

    /// Reopen a cache file written by [`Octree::build`] (no rebuild). The caller decides
    /// whether it still matches its cloud (compare [`Octree::origin`] and `total_points`).
    pub fn open(cache_file: &Path) -> Result<Octree, OctreeError> {
        let (store, h, nodes) = NodeStore::open(cache_file)?;
        Ok(Octree {
            origin: h.origin,
            nodes,
            total_points: h.total_points,
            cube_min: h.cube_min,
            cube_size: h.cube_size,
            options: OctreeOptions {
                max_points_per_node: h.max_points_per_node as usize,
                grid_cells: h.grid_cells,
                max_depth: h.max_depth,
            },
            store,
        })
    }

    /// Load node `id`'s points from the cache file. Thread-safe: positional reads on a shared
    /// file handle.
    pub fn read_node(&self, id: u32) -> Result<NodePoints, OctreeError> {
        let node = self.nodes.get(id as usize).ok_or(OctreeError::NoSuchNode {
            id,
            count: self.nodes.len(),
        })?;
        self.store.read(id, node)
    }

    /// Deepest level present.
    pub fn max_depth(&self) -> u8 {
        self.nodes.iter().map(|n| n.key.depth).max().unwrap_or(0)
    }

    /// Which optional attributes the nodes carry.
    pub fn attributes(&self) -> Attributes {
        self.store.attributes()
    }

    /// The cache file.
    pub fn cache_path(&self) -> &Path {
        self.store.path()
    }

    /// Absolute (CRS) centre of node `id`.
    pub fn absolute_center(&self, id: u32) -> [f64; 3] {
        let c = self.nodes[id as usize].center;
        [
            c[0] + self.origin[0],
            c[1] + self.origin[1],
            c[2] + self.origin[2],
        ]
    }
}

fn build_inner(
    cloud: &PointCloud,
    opts: &OctreeOptions,
    partial: &Path,
    cache_file: &Path,
    mon: &Monitor,
) -> Result<Octree, OctreeError> {
    let n = cloud.len();

    // Bounds, rejecting NaN and infinities (they would wreck the cube).
    let (lo, hi, bad) = cloud
        .positions
        .par_chunks(1 << 16)
        .enumerate()
        .map(|(c, chunk)| {
            let mut lo = [f32::INFINITY; 3];
            let mut hi = [f32::NEG_INFINITY; 3];
            let mut bad = usize::MAX;
            for (i, p) in chunk.iter().enumerate() {
                if !p.iter().all(|v| v.is_finite()) {
                    bad = bad.min((c << 16) + i);
                }
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
            (lo, hi, bad)
        })
        .reduce(
            || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3], usize::MAX),
            |a, b| {
                (
                    std::array::from_fn(|k| a.0[k].min(b.0[k])),
                    std::array::from_fn(|k| a.1[k].max(b.1[k])),
                    a.2.min(b.2),
                )
            },
        );
    if bad != usize::MAX {
        return Err(OctreeError::NonFinite { index: bad });
    }
    let extent = (0..3)
        .map(|k| hi[k] as f64 - lo[k] as f64)
        .fold(0.0, f64::max);
    // A hair larger than the data so the maximum corner quantises inside; 1 m for a single point.
    let cube_size = if extent > 0.0 {
        extent * (1.0 + 1e-6) + 1e-6
    } else {
        1.0
    };
    let cube_min: [f64; 3] =
        std::array::from_fn(|k| 0.5 * (lo[k] as f64 + hi[k] as f64) - 0.5 * cube_size);

    // Morton codes, sorted (ties by index, so the build is deterministic).
    let cells = (1u64 << MORTON_BITS) as f64;
    let scale = cells / cube_size;
    let top = (1u32 << MORTON_BITS) - 1;
    let quant = |v: f32, k: usize| (((v as f64 - cube_min[k]) * scale) as u32).min(top);
    let code_of = |p: &[f32; 3]| {
        spread(quant(p[0], 0)) | spread(quant(p[1], 1)) << 1 | spread(quant(p[2], 2)) << 2
    };
    let mut entries = morton_sorted(&cloud.positions, code_of, mon)?;
    mon.checkpoint(0.35)?;

    // Top-down partition into nodes.
    let part = Partition {
        max_points: opts.max_points_per_node,
        max_depth: opts.max_depth,
        grid_bits: opts.grid_cells.trailing_zeros(),
        shared: mon.shared,
        placed: AtomicU64::new(0),
        total: n as f64,
    };
    let raw = part.node(&mut entries, 0, NodeKey::ROOT);
    mon.checkpoint(0.55)?;

    // Hierarchy in level order, so the cache file starts with the coarse levels.
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_unstable_by_key(|&i| (raw[i].key.depth, raw[i].key.morton()));
    let raw: Vec<RawNode> = {
        let mut slots: Vec<Option<RawNode>> = raw.into_iter().map(Some).collect();
        order.iter().map(|&i| slots[i].take().unwrap()).collect()
    };
    let ids: HashMap<NodeKey, u32> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key, i as u32))
        .collect();
    let mut nodes: Vec<Node> = raw
        .iter()
        .map(|r| {
            let (center, half_size, spacing) =
                node_geometry(r.key, cube_min, cube_size, opts.grid_cells);
            Node {
                key: r.key,
                center,
                half_size,
                spacing,
                point_count: r.runs.iter().map(|&(_, l)| l).sum(),
                children: [NO_NODE; 8],
                parent: r.key.parent().map_or(NO_NODE, |p| ids[&p]),
                file_offset: 0,
                file_len: 0,
            }
        })
        .collect();
    for i in 1..nodes.len() {
        let p = nodes[i].parent as usize;
        let o = nodes[i].key.octant();
        nodes[p].children[o] = i as u32;
    }

    // Stream node chunks in batches: encode batch k + 1 in parallel while batch k is written.
    let tree = cloud.extra(TREE_ID_COLUMN);
    let attrs = Attributes::of(cloud, tree);
    let mut writer = StoreWriter::create(partial)?;
    let batch_points = (n as u64 / 16).clamp(1 << 14, 1 << 21);
    let mut batches = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let mut j = i;
        let mut pts = 0u64;
        while j < nodes.len() && (j == i || pts + nodes[j].point_count as u64 <= batch_points) {
            pts += nodes[j].point_count as u64;
            j += 1;
        }
        batches.push((i..j, pts));
        i = j;
    }
    let encode = |ids: std::ops::Range<usize>| -> Vec<Vec<u8>> {
        ids.into_par_iter()
            .map(|id| {
                let idx: Vec<u32> = raw[id]
                    .runs
                    .iter()
                    .flat_map(|&(s, l)| entries[s as usize..(s + l) as usize].iter())
                    .map(|&e| idx(e))
                    .collect();
                let mut out = Vec::new();
                node_store::encode_chunk(
                    id as u32,
                    nodes[id].center,
                    &idx,
                    cloud,
                    tree,
                    attrs,
                    &mut out,
                );
                out
            })
            .collect()
    };
    let mut placed: Vec<(u64, u64)> = Vec::with_capacity(nodes.len());
    let mut written = 0u64;
    let mut pending = encode(batches[0].0.clone());
    for k in 0..batches.len() {
        let next = batches.get(k + 1).map(|b| b.0.clone());
        let (res, encoded) = rayon::join(
            || -> Result<(), OctreeError> {
                for chunk in &pending {
                    placed.push((writer.write_chunk(chunk)?, chunk.len() as u64));
                }
                Ok(())
            },
            || next.map(encode),
        );
        res?;
        written += batches[k].1;
        mon.checkpoint(0.55 + 0.45 * (written as f64 / n as f64) as f32 * 0.999)?;
        pending = encoded.unwrap_or_default();
    }
    for (node, (off, len)) in nodes.iter_mut().zip(placed) {
        node.file_offset = off;
        node.file_len = len;
    }
    drop(entries);
    let header = Header {
        attrs,
        node_count: nodes.len() as u32,
        grid_cells: opts.grid_cells,
        max_points_per_node: opts.max_points_per_node as u64,
        max_depth: opts.max_depth,
        total_points: n as u64,
        origin: cloud.origin,
        cube_min,
        cube_size,
        index_offset: 0,
        file_len: 0,
    };
    mon.shared.check()?;
    let store = writer.finish(header, &nodes, cache_file)?;
    Ok(Octree {
        origin: cloud.origin,
        nodes,
        total_points: n as u64,
        cube_min,
        cube_size,
        options: opts.clone(),
        store,
    })
}

struct Partition<'a> {
    max_points: usize,
    max_depth: u8,
    grid_bits: u32,
    shared: &'a Shared,
    placed: AtomicU64,
    total: f64,
}

impl Partition<'_> {
    fn placed(&self, k: usize) {
        let done = self.placed.fetch_add(k as u64, Ordering::Relaxed) + k as u64;
        self.shared
            .set_progress(0.35 + 0.2 * (done as f64 / self.total) as f32);
    }

    /// Build the subtree of `key` over `entries` (its not-yet-taken points, Morton-sorted,
    /// starting at `base` in the full array). Returns the subtree's nodes, this one first.
    fn node(&self, entries: &mut [Entry], base: usize, key: NodeKey) -> Vec<RawNode> {
        let n = entries.len();
        if self.shared.cancelled.load(Ordering::Relaxed) {
            return Vec::new();
        }
        // Identical codes cannot be separated by any level: stop here rather than descend
        // to max_depth one point at a time.
        if n <= self.max_points
            || key.depth >= self.max_depth
            || code(entries[0]) == code(entries[n - 1])
        {
            self.placed(n);
            return vec![RawNode {
                key,
                runs: vec![(base as u32, n as u32)],
            }];
        }
        let depth = key.depth as u32;
        let child_shift = 3 * (MORTON_BITS - depth - 1);
        let cell_shift = 3 * (MORTON_BITS - (depth + self.grid_bits).min(MORTON_BITS));
        // Octant sub-ranges. Cells nest inside octants, so each octant samples its own cells
        // and the node's sample is the union of the octants' fronts.
        let mut parts: Vec<(usize, &mut [Entry], usize)> = Vec::with_capacity(8);
        let mut rest = entries;
        let mut off = base;
        for c in 0..8u64 {
            let k = rest.partition_point(|&e| (code(e) >> child_shift) & 7 <= c);
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(k);
            if !head.is_empty() {
                parts.push((c as usize, head, off));
            }
            off += k;
            rest = tail;
        }
        let work = |(c, slice, off): (usize, &mut [Entry], usize)| {
            let taken = sample_front(slice, cell_shift);
            self.placed(taken);
            let sub = if taken < slice.len() {
                self.node(&mut slice[taken..], off + taken, key.child(c))
            } else {
                Vec::new()
            };
            ((off as u32, taken as u32), sub)
        };
        let results: Vec<((u32, u32), Vec<RawNode>)> = if n >= PAR_MIN {
            parts.into_par_iter().map(work).collect()
        } else {
            parts.into_iter().map(work).collect()
        };
        let mut out = Vec::with_capacity(1 + results.iter().map(|r| r.1.len()).sum::<usize>());
        out.push(RawNode {
            key,
            runs: results.iter().map(|r| r.0).collect(),
        });
        for (_, sub) in results {
            out.extend(sub);
        }
        out
    }
}

/// Morton-sort the points: one parallel counting pass on the top 12 bits (buckets = octree
/// cells four levels down) scatters them into buckets, then each bucket is sorted on its
/// own, in cache. About 3× faster than a comparison sort of the whole array on two cores, and the
/// codes are computed twice rather than stored twice.
fn morton_sorted(
    positions: &[[f32; 3]],
    code_of: impl Fn(&[f32; 3]) -> u64 + Sync,
    mon: &Monitor,
) -> Result<Vec<Entry>, OctreeError> {
    const RADIX_BITS: u32 = 12;
    const SHIFT: u32 = 3 * MORTON_BITS - RADIX_BITS;
    let nb = 1usize << RADIX_BITS;
    let n = positions.len();
    let chunk = n.div_ceil(2 * rayon::current_num_threads()).max(1 << 16);
    let hist: Vec<Vec<u32>> = positions
        .par_chunks(chunk)
        .map(|c| {
            let mut h = vec![0u32; nb];
            c.iter()
                .for_each(|p| h[(code_of(p) >> SHIFT) as usize] += 1);
            h
        })
        .collect();
    mon.checkpoint(0.1)?;
    let mut out = vec![0 as Entry; n];
    {
        // One slice of `out` per (bucket, chunk), bucket-major, handed to the chunk that fills it.
        let mut slots: Vec<Vec<&mut [Entry]>> =
            hist.iter().map(|_| Vec::with_capacity(nb)).collect();
        let mut rest: &mut [Entry] = &mut out;
        for b in 0..nb {
            for (c, h) in hist.iter().enumerate() {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(h[b] as usize);
                slots[c].push(head);
                rest = tail;
            }
        }
        positions
            .par_chunks(chunk)
            .zip(slots.into_par_iter())
            .enumerate()
            .for_each(|(ci, (c, mut slot))| {
                let mut fill = vec![0usize; nb];
                for (i, p) in c.iter().enumerate() {
                    let code = code_of(p);
                    let b = (code >> SHIFT) as usize;
                    slot[b][fill[b]] = entry(code, (ci * chunk + i) as u32);
                    fill[b] += 1;
                }
            });
    }
    mon.checkpoint(0.2)?;
    let mut buckets: Vec<&mut [Entry]> = Vec::new();
    let mut rest: &mut [Entry] = &mut out;
    for b in 0..nb {
        let len: usize = hist.iter().map(|h| h[b] as usize).sum();
        if len > 0 {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            buckets.push(head);
            rest = tail;
        }
    }
    buckets.into_par_iter().for_each(|b| {
        if b.len() > 1 << 20 {
            b.par_sort_unstable()
        } else {
            b.sort_unstable()
        }
    });
    Ok(out)
}

/// Move one point per grid cell (cells = runs of equal `code >> cell_shift`) to the front of
/// `slice`, keeping both the sample and the rest in Morton order; returns the sample size.
fn sample_front(slice: &mut [Entry], cell_shift: u32) -> usize {
    let n = slice.len();
    let mut chosen: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < n {
        let cell = code(slice[i]) >> cell_shift;
        let (mut best, mut best_h) = (i, hash32(idx(slice[i])));
        let mut j = i + 1;
        while j < n && code(slice[j]) >> cell_shift == cell {
            let h = hash32(idx(slice[j]));
            if h < best_h {
                (best, best_h) = (j, h);
            }
            j += 1;
        }
        chosen.push(best);
        i = j;
    }
    if chosen.len() == n {
        return n;
    }
    let sample: Vec<Entry> = chosen.iter().map(|&p| slice[p]).collect();
    // Compact the rest to the back, from the end, so its order is kept.
    let mut w = n;
    let mut k = chosen.len();
    for i in (0..n).rev() {
        if k > 0 && chosen[k - 1] == i {
            k -= 1;
            continue;
        }
        w -= 1;
        slice[w] = slice[i];
    }
    debug_assert_eq!(w, sample.len());
    slice[..w].copy_from_slice(&sample);
    w
}
