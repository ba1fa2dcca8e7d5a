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
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(a: IngestArgs, ctx: &Ctx) -> anyhow::Result<()> {
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
