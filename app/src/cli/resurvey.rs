//! `twinmint resurvey PREVIOUS NEW_SCAN… -o NEW_PROJECT`: a new scan of a surveyed asset
//! compared with the previous survey — co-registered, reconstructed with the previous options,
//! trees matched, change, drift against the projection, growth rates re-fitted and the stand
//! simulated again from the new survey (`resurvey.json` beside the usual project files).

use std::path::PathBuf;

use clap::Args;

use capture::project::IngestOptions;
use twinmint_app::workflow::resurvey::{ResurveyRequest, resurvey_project};

use super::progress::Bar;
use super::{Ctx, LoadArgs};

#[derive(Args, Debug)]
pub struct ResurveyArgs {
    /// The previous survey's project (reconstructed and simulated).
    previous: PathBuf,
    /// The new scan files.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The new project folder.
    #[arg(short, long)]
    output: PathBuf,
    /// Replace the new project if it exists.
    #[arg(long)]
    force: bool,
    /// Largest horizontal georeferencing error between the surveys, metres (default 8).
    #[arg(long)]
    search_radius: Option<f64>,
    /// All comparison settings as JSON (register, change, canopy, drift, recalibrate).
    #[arg(long)]
    options: Option<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(a: ResurveyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let mut options: resurvey::ResurveyOptions = match &a.options {
        Some(p) => super::options_file(p, "resurvey options")?,
        None => Default::default(),
    };
    if let Some(r) = a.search_radius {
        options.register.search_radius_m = r;
    }
    options.validate()?;
    let req = ResurveyRequest {
        previous: &a.previous,
        inputs: &a.inputs,
        output: &a.output,
        ingest: IngestOptions {
            read: a.load.read_options()?,
            overwrite: a.force,
        },
        options,
    };
    let bar = Bar::new(ctx.quiet, "resurvey");
    let r = resurvey_project(&req, None, &mut |label, f| bar.set(label, f), &ctx.cancel)?;
    bar.finish();
    if ctx.json {
        let mut v = serde_json::to_value(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.remove("trees");
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let g = &r.registration;
    let s = &r.stand;
    let d = &r.drift;
    println!(
        "{}: resurvey of {} after {:.2} years",
        a.output.display(),
        r.previous.project,
        r.elapsed_years
    );
    println!("| what | value |\n|---|---|");
    println!(
        "| registration | yaw {:+.3}°, shift ({:+.3}, {:+.3}, {:+.3}) m; {} treetops RMS {:.3} m; ground RMS {:.3} m |",
        g.transform.yaw_deg,
        g.transform.shift_m[0],
        g.transform.shift_m[1],
        g.transform.shift_m[2],
        g.matched_tops,
        g.top_rms_m,
        g.ground_rms_m
    );
    println!(
        "| trees | {} before, {} now: {} survivors, {} standing dead, {} removed, {} unresolved, {} ingrowth |",
        s.trees_before,
        s.trees_now,
        s.survivors,
        s.standing_dead,
        s.removed,
        s.unresolved,
        s.ingrowth
    );
    println!(
        "| height increment | {:.2} m measured, {:.2} m projected (P10 {:.2}, P90 {:.2}): {} |",
        d.growth.measured_mean_increment_m,
        d.growth.projected_mean_increment_m.p50,
        d.growth.projected_mean_increment_m.p10,
        d.growth.projected_mean_increment_m.p90,
        d.growth.flag.label()
    );
    println!(
        "| stock | {:.1} t CO2e now, {:.1} t before; projected {:.1} (P10 {:.1}, P90 {:.1}): {} |",
        s.co2e_t,
        s.co2e_before_t,
        d.stock.projected_co2e_t.p50,
        d.stock.projected_co2e_t.p10,
        d.stock.projected_co2e_t.p90,
        d.stock.flag.label()
    );
    println!(
        "| value at stake | {:+.0} {} ({:+.1} t at {:.2}/t) |",
        d.stock.value_at_stake, d.stock.currency, d.stock.shortfall_co2e_t, d.stock.price_per_t
    );
    println!(
        "| canopy loss | {:.0} m² in {} opening(s) |",
        r.canopy_loss.area_m2,
        r.canopy_loss.polygons.len()
    );
    println!(
        "| recalibration | growth-rate multiplier {:.3} (90 % {:.3}–{:.3}) from {} trees; new σ {:.3} |",
        r.recalibration.multiplier,
        r.recalibration.multiplier_p05,
        r.recalibration.multiplier_p95,
        r.recalibration.trees,
        r.recalibration.new_rate_log_sigma
    );
    println!("| drift summary SHA-256 | {} |", r.summary_sha256);
    Ok(())
}
