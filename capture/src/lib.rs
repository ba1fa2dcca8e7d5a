//! TwinMint capture: every scan format in, one columnar point-cloud type out.
//!
//! - [`PointCloud`]: columnar, `f32` positions around an `f64` origin, LAS attributes, extra
//!   columns by name, CRS and [`Provenance`].
//! - [`read`]: LAS/LAZ 1.0–1.4, E57, PLY, XYZ/CSV/PTS/TXT, OBJ — streamed in chunks with
//!   progress, cancellation and optional decimation.
//! - [`write`]: LAS/LAZ 1.4, PLY, XYZ — atomically (temp file + rename).
//! - [`photos`]: drone photo folders → camera track.
//! - [`synth`]: the LiDAR scan simulator that makes the demo sample and test scenes with truth.
//! - [`project`]: the `*.twinmint` project folder and its manifest.

pub mod atomic;
pub mod cloud;
pub mod commit;
mod contain;
pub mod copc;
pub mod crs;
pub mod e57_io;
pub mod error;
pub mod geodesy;
pub mod hash;
pub mod las_io;
pub mod layout;
pub mod linalg;
pub mod obj;
pub mod photos;
pub mod ply;
pub mod progress;
pub mod project;
pub mod provenance;
pub mod read;
pub mod synth;
pub mod text;
pub mod up_axis;
pub mod write;

pub use cloud::{Bounds, ExtraColumn, ExtraType, Mesh, PointCloud, Quantization};
pub use crs::Crs;
pub use error::{CaptureError, Result};
pub use progress::{CancelToken, NoProgress, Progress, ProgressEvent};
pub use provenance::{CaptureTime, Provenance, Source, TimeSource, UpAxis};
pub use read::{Crop, Decimation, Fields, Format, ReadOptions, UpOption, read};
pub use write::{WriteFormat, write};
