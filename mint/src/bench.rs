//! `twinmint bench fingerprint`: how fast the cloud fingerprint runs on this machine.
//!
//! The cloud is synthetic and adversarial for caches: uniformly random points in a
//! 400 m × 400 m × 40 m plot (UTM-sized origin, mm-noise positions, colour), stored in random
//! order, so the Morton sort and the gather of records see no locality. Generation is not timed.

use std::time::Instant;

use capture::PointCloud;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fingerprint::{FingerprintOptions, cloud_fingerprint};

/// What to measure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchOptions {
    pub points: usize,
    /// Timed runs; the report gives the best and the mean.
    pub runs: usize,
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            points: 5_000_000,
            runs: 5,
            seed: 1,
        }
    }
}

/// Result of [`bench`](fn@bench).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub points: usize,
    pub runs: usize,
    /// Rayon worker threads used.
    pub threads: usize,
    pub best_s: f64,
    pub mean_s: f64,
    /// `points / best_s`.
    pub points_per_s: f64,
    /// Cloud root (hex), identical across runs.
    pub root: String,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fingerprint: {} points, {} threads, best {:.3} s, mean {:.3} s over {} runs: {:.1} M points/s (root {})",
            self.points,
            self.threads,
            self.best_s,
            self.mean_s,
            self.runs,
            self.points_per_s / 1e6,
            self.root
        )
    }
}

/// SplitMix64: a tiny, fast, seedable generator (no dependency for a benchmark cloud).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The benchmark cloud: `points` random points with colour, in random order.
pub fn synthetic_cloud(points: usize, seed: u64) -> PointCloud {
    let mut rng = SplitMix(seed);
    let mut c = PointCloud::new([500_000.0, 4_000_000.0, 100.0]);
    c.positions = (0..points)
        .map(|_| {
            [
                (rng.unit() * 400.0 - 200.0) as f32,
                (rng.unit() * 400.0 - 200.0) as f32,
                (rng.unit() * 40.0) as f32,
            ]
        })
        .collect();
    c.rgb = Some(
        (0..points)
            .map(|_| {
                let v = rng.next();
                [
                    (v & 0xff) as u16 * 257,
                    ((v >> 8) & 0xff) as u16 * 257,
                    ((v >> 16) & 0xff) as u16 * 257,
                ]
            })
            .collect(),
    );
    c
}

/// Time the portable cloud fingerprint of a synthetic cloud.
pub fn bench(options: &BenchOptions) -> Result<BenchReport> {
    let cloud = synthetic_cloud(options.points, options.seed);
    let fo = FingerprintOptions::default();
    let runs = options.runs.max(1);
    let mut times = Vec::with_capacity(runs);
    let mut root = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (fp, _) = cloud_fingerprint(&cloud, &fo)?;
        times.push(t.elapsed().as_secs_f64());
        root = hex::encode(fp.root);
    }
    let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
    let mean = times.iter().sum::<f64>() / runs as f64;
    Ok(BenchReport {
        points: options.points,
        runs,
        threads: rayon::current_num_threads(),
        best_s: best,
        mean_s: mean,
        points_per_s: options.points as f64 / best,
        root,
    })
}
