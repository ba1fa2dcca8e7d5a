//! Ground classification: which points are bare earth.
//!
//! The filter is the Cloth Simulation Filter (CSF; Zhang, W., Qi, J., Wan, P., Wang, H., Xie, D.,
//! Wang, X., Yan, G. 2016, "An Easy-to-Use Airborne LiDAR Data Filtering Method Based on Cloth
//! Simulation", *Remote Sensing* 8(6):501), parameterised as the authors' reference
//! implementation (jianboqi/CSF, PyPI `cloth-simulation-filter`). See [`csf`] for the algorithm
//! and where TwinMint's version differs, and [`CsfOptions`] for the cited defaults.
//!
//! ```no_run
//! use reconstruct::ground::{self, CsfOptions};
//! use reconstruct::gpu::DevicePreference;
//! # fn f(cloud: &capture::PointCloud) -> reconstruct::Result<()> {
//! let g = ground::run(cloud, &CsfOptions::default(), DevicePreference::Auto,
//!                     &mut |_f| {}, &capture::CancelToken::new())?;
//! println!("{} ground points on {}", g.ground_count(), g.device);
//! # Ok(()) }
//! ```

pub mod bench;
// Internal modules, public (hidden from the docs) only so the tests in tests/units reach them.
#[doc(hidden)]
pub mod cloth;
pub mod csf;
mod csf_gpu;

pub use csf::{CsfOptions, IntersectionHeight, run, run_masked};

use serde::{Deserialize, Serialize};

use crate::model::Raster;

/// ASPRS class code of ground points (LAS 1.4 R15, table 17).
pub const CLASS_GROUND: u8 = 2;

/// What the ground filter found.
#[derive(Clone, Debug, PartialEq)]
pub struct GroundResult {
    /// One flag per input point: true for ground.
    pub is_ground: Vec<bool>,
    /// The settled cloth as a north-up raster of absolute heights, one cell per cloth particle
    /// (cell centres on the particles, `cloth_resolution_m` apart). A coarse DTM in itself.
    pub cloth: Raster,
    /// `gpu (<adapter>, <backend>)` or `cpu`, as in `Reconstruction::device`.
    pub device: String,
    /// Cloth time steps run.
    pub iterations: u32,
    /// Whether the cloth settled (max height change below `convergence_m`) before
    /// `max_iterations`.
    pub converged: bool,
    /// Number of cloth particles (grid width × height).
    pub particles: usize,
    /// Wall time of each phase.
    pub phases: PhaseSeconds,
}

/// Wall time of the phases of a ground run, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSeconds {
    /// Building the cloth: bounds, intersection heights, gap fill.
    pub rasterize: f64,
    /// The cloth simulation proper (the part that runs on the GPU).
    pub simulate: f64,
    /// Slope smoothing.
    pub smooth: f64,
    /// Point-to-cloth classification.
    pub classify: f64,
}

impl GroundResult {
    /// Number of ground points.
    pub fn ground_count(&self) -> usize {
        self.is_ground.iter().filter(|g| **g).count()
    }

    /// ASPRS classes for `classified.laz`: [`CLASS_GROUND`] (2) for ground; other points keep
    /// their class, except that a point the source called ground and we do not becomes 1
    /// (unclassified), as does every non-ground point of an unclassified cloud.
    pub fn classification(&self, cloud: &capture::PointCloud) -> Vec<u8> {
        let base = cloud.classification.as_deref();
        self.is_ground
            .iter()
            .enumerate()
            .map(|(i, g)| match (g, base.map(|c| c[i])) {
                (true, _) => CLASS_GROUND,
                (false, Some(CLASS_GROUND) | None) => 1,
                (false, Some(c)) => c,
            })
            .collect()
    }
}
