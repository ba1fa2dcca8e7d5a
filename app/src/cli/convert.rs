//! `twinmint convert IN OUT`: any readable format to LAS/LAZ 1.4, PLY or XYZ.

use std::path::PathBuf;

use clap::Args;

use super::progress::Bar;
use super::{Ctx, LoadArgs};

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input scan.
    input: PathBuf,
    /// Output file; the extension picks the format (.las, .laz, .ply, .xyz).
    output: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(a: ConvertArgs, ctx: &Ctx) -> anyhow::Result<()> {
    capture::WriteFormat::from_path(&a.output)?;
    let bar = Bar::new(ctx.quiet, "reading");
    let cloud = capture::read(
        &a.input,
        &a.load.read_options()?,
        &mut |e| bar.update(e),
        &ctx.cancel,
    )?;
    bar.reset("writing");
    capture::write(&cloud, &a.output, &mut |e| bar.update(e), &ctx.cancel)?;
    bar.finish();
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "input": a.input.display().to_string(),
                "output": a.output.display().to_string(),
                "points": cloud.len(),
                "crs": cloud.crs.label(),
                "warnings": cloud.provenance.warnings,
            })
        );
    } else {
        println!(
            "{} → {}: {} points, CRS {}",
            a.input.display(),
            a.output.display(),
            cloud.len(),
            cloud.crs.label()
        );
        for w in &cloud.provenance.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
