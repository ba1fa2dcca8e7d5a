//! Read one scan file and print the time and rate (a profiling aid, not a test):
//! `cargo run --release -p capture --example read_scan -- FILE [--viewer]` (`--viewer`: only
//! the attributes the point viewer draws).

use capture::{CancelToken, NoProgress, ReadOptions};

fn main() -> Result<(), capture::CaptureError> {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: read_scan FILE");
        std::process::exit(2);
    };
    let fields = if std::env::args().any(|a| a == "--viewer") {
        capture::Fields::VIEWER
    } else {
        capture::Fields::ALL
    };
    let t = std::time::Instant::now();
    let cloud = capture::read(
        std::path::Path::new(&path),
        &ReadOptions {
            fields,
            ..Default::default()
        },
        &mut NoProgress,
        &CancelToken::new(),
    )?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} points in {s:.3} s ({:.1} M points/s)",
        cloud.len(),
        cloud.len() as f64 / s / 1e6
    );
    Ok(())
}
