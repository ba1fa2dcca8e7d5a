//! Noise: statistical outlier removal and voxel thinning.
//!
//! **Statistical outlier removal** (Rusu et al. 2008, "Towards 3D point cloud based object maps
//! for household environments", *Robotics and Autonomous Systems* 56(11); as PDAL's
//! `filters.outlier` `method="statistical"`): for every point, the mean distance to its
//! `mean_k` nearest neighbours; over the cloud those means have mean μ and standard deviation
//! σ; a point whose mean exceeds μ + `multiplier`·σ is noise. Defaults are PDAL's (`mean_k` 8,
//! `multiplier` 2.0). Noise points get ASPRS class 7 ("low point (noise)", which PDAL assigns
//! too) and should be kept out of the ground filter: one low outlier pins the cloth below the
//! terrain (see [`crate::ground::run_masked`]).
//!
//! **Voxel thinning** keeps the first point (in cloud order) of every occupied cube of side
//! `voxel_m` — PDAL's `filters.voxeldownsize` `mode="first"` — to even out density before
//! density-sensitive steps.

use std::collections::HashMap;
use std::num::NonZero;

use capture::{CancelToken, PointCloud};
use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};

/// ASPRS class of noise points (LAS 1.4 R15, table 17: 7 = low point (noise)).
pub const CLASS_NOISE: u8 = 7;

/// Statistical outlier removal options (PDAL `filters.outlier` defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoiseOptions {
    /// Neighbours averaged per point (PDAL `mean_k`, 8).
    pub mean_k: usize,
    /// Points with mean neighbour distance above μ + multiplier·σ are noise (PDAL 2.0).
    pub multiplier: f64,
}

impl Default for NoiseOptions {
    fn default() -> Self {
        NoiseOptions {
            mean_k: 8,
            multiplier: 2.0,
        }
    }
}

/// What the outlier filter found.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseResult {
    pub is_noise: Vec<bool>,
    /// μ and σ of the per-point mean neighbour distances, and the cut-off μ + multiplier·σ.
    pub mean_distance_m: f64,
    pub std_distance_m: f64,
    pub threshold_m: f64,
}

impl NoiseResult {
    pub fn noise_count(&self) -> usize {
        self.is_noise.iter().filter(|n| **n).count()
    }
    /// Flags of the points to keep (not noise), e.g. for [`crate::ground::run_masked`].
    pub fn keep(&self) -> Vec<bool> {
        self.is_noise.iter().map(|n| !n).collect()
    }
    /// `classification` with noise points set to [`CLASS_NOISE`] (others unchanged; 1
    /// "unclassified" where the cloud had no classes).
    pub fn classify(&self, cloud: &PointCloud) -> Vec<u8> {
        let base = cloud.classification.as_deref();
        self.is_noise
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if *n {
                    CLASS_NOISE
                } else {
                    base.map_or(1, |c| c[i])
                }
            })
            .collect()
    }
}

/// Statistical outlier removal.
pub fn run(
    cloud: &PointCloud,
    opts: &NoiseOptions,
    progress: &mut dyn FnMut(f32),
    cancel: &CancelToken,
) -> Result<NoiseResult> {
    if opts.mean_k == 0 {
        return Err(ReconstructError::InvalidOption {
            option: "mean_k",
            reason: "must be at least 1".into(),
        });
    }
    if !opts.multiplier.is_finite() {
        return Err(ReconstructError::InvalidOption {
            option: "multiplier",
            reason: "must be finite".into(),
        });
    }
    let n = cloud.len();
    if n <= opts.mean_k {
        return Ok(NoiseResult {
            is_noise: vec![false; n],
            mean_distance_m: 0.0,
            std_distance_m: 0.0,
            threshold_m: f64::INFINITY,
        });
    }
    let tree: ImmutableKdTree<f32, u32, 3, 32> = ImmutableKdTree::new_from_slice(&cloud.positions);
    // k + 1: the nearest neighbour of a point is itself (PDAL queries mean_k + 1 too).
    let k = NonZero::new(opts.mean_k + 1).unwrap();
    const CHUNK: usize = 1 << 15;
    let chunks = n.div_ceil(CHUNK);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut mean_d = vec![0.0f32; n];
    mean_d
        .par_chunks_mut(CHUNK)
        .enumerate()
        .try_for_each(|(ci, out)| {
            if cancel.is_cancelled() {
                return Err(ReconstructError::Cancelled);
            }
            for (j, m) in out.iter_mut().enumerate() {
                let p = &cloud.positions[ci * CHUNK + j];
                let nn = tree.nearest_n::<SquaredEuclidean>(p, k);
                // Skip the query point itself (distance 0); duplicates count as neighbours.
                let sum: f32 = nn.iter().skip(1).map(|x| x.distance.sqrt()).sum();
                *m = sum / (nn.len().saturating_sub(1)).max(1) as f32;
            }
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })?;
    progress(done.into_inner() as f32 / chunks as f32);
    let mu = mean_d.iter().map(|v| *v as f64).sum::<f64>() / n as f64;
    let var = mean_d.iter().map(|v| (*v as f64 - mu).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sigma = var.sqrt();
    let threshold = mu + opts.multiplier * sigma;
    Ok(NoiseResult {
        is_noise: mean_d.iter().map(|m| *m as f64 > threshold).collect(),
        mean_distance_m: mu,
        std_distance_m: sigma,
        threshold_m: threshold,
    })
}

/// Indices of the points voxel thinning keeps: the first point of every occupied
/// `voxel_m`-cube (anchored at absolute 0, so tiles thin consistently), in cloud order.
pub fn voxel_thin(cloud: &PointCloud, voxel_m: f64) -> Result<Vec<usize>> {
    if !(voxel_m > 0.0 && voxel_m.is_finite()) {
        return Err(ReconstructError::InvalidOption {
            option: "voxel_m",
            reason: "must be a positive number of metres".into(),
        });
    }
    let inv = 1.0 / voxel_m;
    let o = cloud.origin;
    let keys: Vec<[i64; 3]> = cloud
        .positions
        .par_iter()
        .map(|p| [0, 1, 2].map(|d| ((o[d] + p[d] as f64) * inv).floor() as i64))
        .collect();
    let mut seen: HashMap<[i64; 3], ()> = HashMap::with_capacity(cloud.len() / 4);
    Ok(keys
        .iter()
        .enumerate()
        .filter(|(_, k)| seen.insert(**k, ()).is_none())
        .map(|(i, _)| i)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolated_points_are_noise() {
        let mut pts = Vec::new();
        for i in 0..40 {
            for j in 0..40 {
                pts.push([i as f64 * 0.1, j as f64 * 0.1, 0.0]);
            }
        }
        pts.push([2.0, 2.0, -30.0]);
        pts.push([50.0, 50.0, 5.0]);
        let cloud = PointCloud::from_absolute(&pts);
        let r = run(
            &cloud,
            &NoiseOptions::default(),
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
        assert_eq!(r.noise_count(), 2, "{r:?}");
        assert!(r.is_noise[1600] && r.is_noise[1601]);
        assert_eq!(r.classify(&cloud)[1600], CLASS_NOISE);
    }

    #[test]
    fn voxel_thin_keeps_first_per_voxel() {
        let cloud = PointCloud::from_absolute(&[
            [0.1, 0.1, 0.1],
            [0.2, 0.2, 0.2],
            [1.5, 0.1, 0.1],
            [0.3, 0.1, 0.1],
        ]);
        let keep = voxel_thin(&cloud, 1.0).unwrap();
        assert_eq!(keep.len(), 2);
        assert_eq!(keep[0], 0);
    }
}
