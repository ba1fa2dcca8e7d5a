//! The simulated airborne tile a benchmark runs on when it is given none: made once per name,
//! point count and side in the temporary folder (with its truth table beside it) and reused.

use std::path::PathBuf;

use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
use capture::{CancelToken, NoProgress};

/// `given` when there is one, else `$TMP/{name}-{points}.laz`: a `side_m` × `side_m` forest
/// scanned from the air to about `points` points, and `NAME.truth.json` beside it.
pub fn tile_or_simulated(
    given: Option<PathBuf>,
    name: &str,
    points: u64,
    side_m: f64,
) -> anyhow::Result<PathBuf> {
    if let Some(t) = given {
        return Ok(t);
    }
    let p = std::env::temp_dir().join(format!("{name}-{points}.laz"));
    if !p.exists() {
        let mut o = SynthOptions::default();
        o.scene.width_m = side_m;
        o.scene.depth_m = side_m;
        o.scan = ScanPattern::Airborne(AirborneOptions {
            target_points: Some(points),
            ..Default::default()
        });
        let out = synth::run(&o, &mut NoProgress, &CancelToken::new())?;
        synth::write_truth(&out.truth, &p.with_extension("truth.json"))?;
        capture::write(&out.cloud, &p, &mut NoProgress, &CancelToken::new())?;
    }
    Ok(p)
}
