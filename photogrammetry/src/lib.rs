//! TwinMint photogrammetry: a folder of overlapping drone photos → cameras (poses, intrinsics,
//! residuals) and a georeferenced sparse model, by structure from motion with the photos' GPS
//! and gimbal as priors (see [`sfm`]).
//!
//! Modules, one concern each: [`image`] decoding at the working size, [`features`] (Harris +
//! steered BRIEF), [`matching`] (ratio + mutual), [`geometry`] (fundamental RANSAC),
//! [`tracks`] (union–find), [`rotations`] (relative poses, rotation averaging, GPS alignment), [`camera`] (model and metadata priors), [`bundle`] (LM with the
//! Schur complement and GPS priors), [`linalg`] (the small dense algebra they need).

pub mod bundle;
pub mod camera;
pub mod error;
pub mod features;
pub mod geometry;
pub mod image;
pub mod linalg;
pub mod matching;
pub mod mvs;
pub mod rotations;
pub mod sfm;
pub mod tracks;

pub use error::{PhotoError, Result};
pub use sfm::{SfmOptions, SparseModel, run};
