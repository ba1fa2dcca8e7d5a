//! `twinmint footprint PROJECT [--parcel FILE.geojson]`: the asset's land footprint as H3 cells
//! (from the parcel boundary, or from where the scan has points), written to
//! `PROJECT/footprint.json` for the mint and resurvey to claim on chain.

use std::path::PathBuf;

use clap::Args;
use mint::footprint::{self, CoverageOptions, FOOTPRINT_JSON, FootprintSource};

use super::Ctx;
use super::progress::Bar;

#[derive(Args, Debug)]
pub struct FootprintArgs {
    /// Project folder (reads manifest.json and cloud.laz; writes footprint.json).
    project: PathBuf,
    /// Parcel boundary (GeoJSON Polygon/MultiPolygon/Feature/FeatureCollection, lon/lat or the
    /// UTM CRS its "crs" member names) instead of the scan's coverage.
    #[arg(long, value_name = "FILE.geojson")]
    parcel: Option<PathBuf>,
    /// Coverage grid square size in metres.
    #[arg(
        long,
        value_name = "METRES",
        default_value_t = CoverageOptions::default().grid_m,
        conflicts_with = "parcel"
    )]
    grid: f64,
    /// Points a grid square needs to count as scanned.
    #[arg(
        long,
        value_name = "N",
        default_value_t = CoverageOptions::default().min_points,
        conflicts_with = "parcel"
    )]
    min_points: u32,
}

pub fn run(a: FootprintArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let opts = CoverageOptions {
        grid_m: a.grid,
        min_points: a.min_points,
        ..Default::default()
    };
    let bar = Bar::new(ctx.quiet || a.parcel.is_some(), "reading");
    let t = std::time::Instant::now();
    let f = footprint::for_project_with(
        &a.project,
        a.parcel.as_deref(),
        &opts,
        &mut |e| bar.update(e),
        &ctx.cancel,
    )?;
    bar.finish();
    let out = a.project.join(FOOTPRINT_JSON);
    f.write(&out)?;
    if ctx.json {
        let mut v = serde_json::to_value(&f)?;
        v["root"] = mint::chain::footprint_root(&f.cells).to_string().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let from = match &f.source {
            FootprintSource::Parcel { file, crs, .. } => format!("parcel {file} ({crs})"),
            FootprintSource::Coverage { grid_m, .. } => format!("scan coverage ({grid_m} m grid)"),
        };
        println!(
            "{} H3 cells at resolution {} ({:.2} ha) from {from}",
            f.cell_count(),
            f.resolution,
            f.area_m2 / 10_000.0
        );
        // The commitment the surveyor's attestation signs and the contract checks.
        println!("footprint root: {}", mint::chain::footprint_root(&f.cells));
        println!(
            "wrote {} ({:.2} s)",
            out.display(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
