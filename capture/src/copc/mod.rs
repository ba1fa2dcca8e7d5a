//! Cloud Optimized Point Cloud (COPC 1.0, copc.io): a LAZ 1.4 file whose points are stored as
//! an octree of independently compressed chunks, with a hierarchy saying where each node lies —
//! so a viewer (QGIS, Potree, the las crate's `CopcReader`, laspy, PDAL) fetches the coarse
//! levels of a whole estate, or the full detail of one corner, without reading the rest. Every
//! COPC file is also an ordinary LAZ file (variable-size chunks), so every LAS reader, and
//! [`crate::read`], reads it whole.
//!
//! Layout (COPC 1.0 §3–§5): the LAS header, the COPC *info* VLR first (octree cube, root
//! spacing, the root hierarchy page's place, GPS time range), the LASzip VLR with variable
//! chunk size, the CRS and extra-bytes VLRs, the point chunks (one per node), the LAZ chunk
//! table, and the *hierarchy* EVLR: one page with an entry per node — key `(depth, x, y, z)`,
//! chunk offset, compressed size, point count. [`write`] writes it, [`read`] reads it node by
//! node.

pub mod read;
pub mod write;

pub use read::{CopcFile, CopcNode, NodeReader, is_copc};
pub use write::{CopcOptions, CopcSummary, write_copc};
