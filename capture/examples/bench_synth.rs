//! Scan simulator throughput (a benchmark, not a test):
//! `cargo run --release -p capture --example bench_synth`.

use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions, TerrestrialOptions};
use capture::{CancelToken, NoProgress};

fn main() -> Result<(), capture::CaptureError> {
    println!("| scan | points | seconds | points/s | pulses |");
    println!("|---|---|---|---|---|");
    for (name, scan) in [
        ("ALS default", ScanPattern::default()),
        (
            "ALS 3 M target",
            ScanPattern::Airborne(AirborneOptions {
                target_points: Some(3_000_000),
                ..Default::default()
            }),
        ),
        (
            "TLS default",
            ScanPattern::Terrestrial(TerrestrialOptions::default()),
        ),
    ] {
        let opts = SynthOptions {
            scan,
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let out = synth::run(&opts, &mut NoProgress, &CancelToken::new())?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "| {name} | {} | {s:.2} | {:.0} | {} |",
            out.cloud.len(),
            out.cloud.len() as f64 / s,
            out.truth.scan.pulse_count
        );
    }
    Ok(())
}
