//! TwinMint's application layer: the Bevy-free workflow that joins the stages (used by the CLI
//! and the studio), the viewer engine, and — with the default `studio` feature — the studio
//! (Bevy plugins). The `twinmint` binary (CLI and studio launcher) is built on this library.

#[cfg(feature = "studio")]
pub mod studio;
pub mod viewer;
pub mod workflow;
