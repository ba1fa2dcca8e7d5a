//! TwinMint's application layer: the studio (Bevy plugins) and the viewer engine it draws
//! with. The `twinmint` binary (CLI and studio launcher) is built on this library.

pub mod studio;
pub mod viewer;
