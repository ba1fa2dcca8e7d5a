//! The point-cloud viewer's engine-independent parts: the out-of-core octree, level-of-detail
//! selection and per-point colours. No Bevy types here, so the `bench view` command and tests
//! use them directly.

pub mod colormap;
pub mod copc_octree;
pub mod lod;
pub mod node;
pub mod node_store;
pub mod octree;
