//! TwinMint's application layer: the studio (Bevy plugins) and the viewer engine it draws
//! with. The `twinmint` binary (CLI and studio launcher) is built on this library.

// Bevy systems take their data as parameters and queries spell out their filters: the two lints
// below flag the normal shape of ECS code.
#![allow(clippy::too_many_arguments, clippy::type_complexity)]

pub mod studio;
pub mod viewer;
