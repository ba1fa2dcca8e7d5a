//! Wall-to-wall surveys: thousands of tiles, beyond one process. A survey folder holds a
//! **plan** made from the inputs' headers only ([`plan`]: a tile lattice anchored at multiples
//! of the tile size, each tile's core and buffered box, the inputs and point estimate it
//! touches), one stateless, idempotent **task** per tile ([`tile`]: read the buffered box,
//! reconstruct, keep what lies in the core, commit with a done marker), and a **merge**
//! ([`merge`]: trees with ids derived from their apex coordinates, DTM and CHM mosaicked from
//! the cores on one grid, written as a project of the whole estate: [`project`]). Executors — local processes, a Slurm array, a Kubernetes Indexed
//! Job — only run `twinmint tile run SURVEY --index N`; see the app's `survey` verbs.

pub mod error;
pub mod executors;
pub mod ids;
pub mod merge;
pub mod parcels;
pub mod plan;
pub mod project;
pub mod status;
pub mod tile;

pub use error::{Result, SurveyError};
pub use plan::{PLAN_JSON, Plan, Tile};
