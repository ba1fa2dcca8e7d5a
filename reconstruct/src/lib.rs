//! TwinMint reconstruct: from a capture [`capture::PointCloud`] to the asset's geometry — ground,
//! terrain model, heights, canopy, trees, pipes and meshes — as a [`Reconstruction`].
//!
//! Every heavy step runs as wgpu compute (WGSL in `shaders/`) with a CPU (rayon) path that gives
//! the same answer; each step is an options struct with cited defaults and a `run` function that
//! does no file I/O.

pub mod accuracy;
pub mod ari;
pub mod chm;
pub mod chm_filter;
pub mod classified;
pub mod cog;
pub mod dtm;
pub mod error;
pub mod geotiff;
pub mod gltf;
pub mod gpu;
pub mod ground;
pub mod mesh;
pub mod model;
pub mod noise;
pub mod normalize;
pub mod normals;
pub mod pipeline;
pub mod pipes;
pub mod segment;
pub mod species;
pub mod species_input;
pub mod stem;
pub mod step;
pub mod trees;
pub mod treetops;
pub mod understorey;
pub mod vec3;

pub use error::{ReconstructError, Result};
pub use model::{
    DbhStatus, PipeRun, PipeSegment, Raster, Reconstruction, RunInfo, SpeciesCall, SpeciesClass,
    SpeciesSource, StepTiming, TerrainStats, Tree,
};
