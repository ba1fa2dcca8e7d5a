//! TwinMint's application layer: the Bevy-free workflow that joins the stages (used by the CLI
//! and the studio), the viewer engine, and — with the default `studio` feature — the studio
//! (Bevy plugins). The `twinmint` binary (CLI and studio launcher) is built on this library.

// Bevy systems take their data as parameters and queries spell out their filters: the two lints
// below flag the normal shape of ECS code.
#![allow(clippy::too_many_arguments, clippy::type_complexity)]

#[cfg(feature = "studio")]
pub mod studio;
pub mod viewer;
pub mod workflow;
