//! The octree's node types — key, node, error and the Morton layout — shared by the builder
//! (`octree`) and the on-disk store (`node_store`), so neither imports the other.

use std::path::PathBuf;

/// Bits per axis of the Morton codes (3 × 21 = 63 bits); also the deepest possible level.
pub const MORTON_BITS: u32 = 21;
/// "No node" in [`Node::children`] and [`Node::parent`].
pub const NO_NODE: u32 = u32::MAX;

/// A node's place in the tree: level and integer cube coordinates at that level (COPC key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey {
    pub depth: u8,
    pub x: u32,
    pub y: u32,
    pub z: u32,
}

impl NodeKey {
    pub const ROOT: NodeKey = NodeKey {
        depth: 0,
        x: 0,
        y: 0,
        z: 0,
    };
    /// Child in octant `c` (bit 0 = +x, bit 1 = +y, bit 2 = +z).
    pub fn child(self, c: usize) -> NodeKey {
        NodeKey {
            depth: self.depth + 1,
            x: 2 * self.x + (c & 1) as u32,
            y: 2 * self.y + (c >> 1 & 1) as u32,
            z: 2 * self.z + (c >> 2 & 1) as u32,
        }
    }
    pub fn parent(self) -> Option<NodeKey> {
        (self.depth > 0).then(|| NodeKey {
            depth: self.depth - 1,
            x: self.x >> 1,
            y: self.y >> 1,
            z: self.z >> 1,
        })
    }
    /// Which octant of its parent this node is.
    pub fn octant(self) -> usize {
        (self.x & 1 | (self.y & 1) << 1 | (self.z & 1) << 2) as usize
    }
    /// Morton code of the key at its own level (sorts siblings and cousins spatially).
    pub(crate) fn morton(self) -> u64 {
        spread(self.x) | spread(self.y) << 1 | spread(self.z) << 2
    }
}

/// One octree node. Geometry is in cloud-local coordinates (add [`Octree::origin`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub key: NodeKey,
    pub center: [f64; 3],
    pub half_size: f64,
    /// Grid cell size of this node's subsample (cube size / grid cells / 2^depth).
    pub spacing: f64,
    pub point_count: u32,
    /// Node ids per octant, [`NO_NODE`] where empty.
    pub children: [u32; 8],
    /// [`NO_NODE`] for the root.
    pub parent: u32,
    /// Where the node's chunk sits in the cache file.
    pub file_offset: u64,
    pub file_len: u64,
}

impl Node {
    pub fn is_leaf(&self) -> bool {
        self.children.iter().all(|&c| c == NO_NODE)
    }
    /// Ids of the existing children.
    pub fn child_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.children.iter().copied().filter(|&c| c != NO_NODE)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OctreeError {
    #[error("the point cloud is empty")]
    EmptyCloud,
    #[error("point {index} has a non-finite coordinate")]
    NonFinite { index: usize },
    #[error("{0} points exceed the octree's limit of 2^32 − 1")]
    TooManyPoints(usize),
    #[error("invalid point cloud: {0}")]
    InvalidCloud(String),
    #[error("invalid octree options: {0}")]
    InvalidOptions(String),
    #[error("octree build cancelled")]
    Cancelled,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: truncated octree cache ({actual} bytes, needs {expected})", path.display())]
    Truncated {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("{}: corrupt octree cache: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("node {id} does not exist (the octree has {count} nodes)")]
    NoSuchNode { id: u32, count: usize },
}

/// Spread the low 21 bits of `v` to every third bit (Morton interleave).
pub fn spread(v: u32) -> u64 {
    let mut x = v as u64 & 0x1f_ffff;
    x = (x | x << 32) & 0x1f00000000ffff;
    x = (x | x << 16) & 0x1f0000ff0000ff;
    x = (x | x << 8) & 0x100f00f00f00f00f;
    x = (x | x << 4) & 0x10c30c30c30c30c3;
    x = (x | x << 2) & 0x1249249249249249;
    x
}
