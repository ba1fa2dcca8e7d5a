//! `twinmint ingest FILES… -o PROJECT`: scans (and drone photo folders) into a project folder.

use std::path::PathBuf;
use std::sync::Mutex;

use clap::Args;

use capture::project::{IngestEvent, IngestOptions};

use super::progress::Bar;
use super::{Ctx, LoadArgs};

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Scan files to merge, and folders of drone photos (EXIF GPS → cameras.json).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Project folder to create (conventionally NAME.twinmint).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace the project if it exists.
    #[arg(long)]
    force: bool,
    /// Photos only (one folder): the long side, in pixels, the photos are matched at.
    #[arg(long, default_value_t = 2000, value_name = "PX")]
    photo_size: usize,
    /// Photos only: the long side, in pixels, of the depth maps (800 suits 2 cores; a GPU
    /// takes 2000).
    #[arg(long, default_value_t = 800, value_name = "PX")]
    mvs_size: usize,
    /// Photos only: where PatchMatch runs (auto: a hardware GPU, else the CPU twin).
    #[arg(long, default_value = "auto")]
    device: reconstruct::gpu::DevicePreference,
    #[command(flatten)]
    load: LoadArgs,
}

/// A folder of photos and nothing else: the photogrammetry step makes the cloud.
fn run_photos(a: &IngestArgs, ctx: &Ctx) -> anyhow::Result<()> {
    use twinmint_app::workflow::photogrammetry::{PhotogrammetryOptions, ingest_photos};
    let o = PhotogrammetryOptions {
        sfm: photogrammetry::SfmOptions {
            max_side: a.photo_size,
            ..Default::default()
        },
        mvs: photogrammetry::mvs::MvsOptions {
            max_side: a.mvs_size,
            ..Default::default()
        },
        device: a.device,
    };
    let bar = Bar::new(ctx.quiet, "photos");
    let mut progress = |stage: &str, f: f32| bar.set(stage, f);
    let manifest = ingest_photos(
        &a.inputs[0],
        &a.output,
        &o,
        a.force,
        &mut progress,
        &ctx.cancel,
    )?;
    bar.finish();
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
    } else {
        println!(
            "{}: {} points from the photos in {}, CRS {}",
            a.output.display(),
            manifest.point_count,
            a.inputs[0].display(),
            manifest.crs.label()
        );
    }
    Ok(())
}

pub fn run(a: IngestArgs, ctx: &Ctx) -> anyhow::Result<()> {
    if a.inputs.len() == 1 && a.inputs[0].is_dir() {
        return run_photos(&a, ctx);
    }
    let bar = Mutex::new(Bar::new(ctx.quiet, "reading"));
    let opts = IngestOptions {
        read: a.load.read_options()?,
        overwrite: a.force,
    };
    let mut events = |e: IngestEvent| {
        let b = bar.lock().unwrap();
        match e {
            IngestEvent::Source { index, count, path } => b.reset(format!(
                "{}/{} {}",
                index + 1,
                count,
                path.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
            )),
            IngestEvent::Progress(p) => b.update(p),
            IngestEvent::Writing { .. } => b.reset("writing"),
        }
    };
    let manifest = capture::project::ingest(&a.inputs, &a.output, &opts, &mut events, &ctx.cancel)?;
    bar.lock().unwrap().finish();
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
    } else {
        println!(
            "{}: {} points from {} source(s), CRS {}",
            a.output.display(),
            manifest.point_count,
            manifest.sources.len(),
            manifest.crs.label()
        );
        for w in &manifest.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
