//! `twinmint reconstruct PROJECT`: ground, terrain, canopy, trees, pipes and meshes from the
//! project's cloud; writes reconstruction.json, classified.laz, model.glb, dtm.tif, chm.tif.

use std::path::PathBuf;

use clap::Args;

use reconstruct::gpu::DevicePreference;
use reconstruct::pipeline::ReconstructOptions;

use super::Ctx;
use super::progress::Bar;

#[derive(Args, Debug)]
pub struct ReconstructArgs {
    /// Project folder made by `twinmint ingest` (or `synth` + `ingest`).
    project: PathBuf,
    /// Where compute kernels run: auto (hardware GPU if present), gpu (any adapter, e.g.
    /// lavapipe), cpu.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Cloth resolution in metres for the ground filter (0 < r ≤ 1000; the cloth over the scan's
    /// extent at most 200 M cells).
    #[arg(long, allow_negative_numbers = true)]
    cloth_resolution: Option<f64>,
    /// Cloth rigidness (1 steep … 3 flat).
    #[arg(long)]
    rigidness: Option<u32>,
    /// DTM cell size in metres (0 < r ≤ 1000; at most 200 M cells over the scan's extent).
    #[arg(long, allow_negative_numbers = true)]
    dtm_resolution: Option<f64>,
    /// Skip tree detection (pipeline sites).
    #[arg(long)]
    no_trees: bool,
    /// Skip pipe detection (forests).
    #[arg(long)]
    no_pipes: bool,
    /// Full options as JSON (ReconstructOptions); flags override it.
    #[arg(long)]
    options: Option<PathBuf>,
    /// What grows there: a stand composition ("Picea abies=0.5,Fagus sylvatica=0.5",
    /// "conifer=0.7,broadleaf=0.3") or a field list CSV (x, y, species[, class]). Overrides or
    /// informs each tree's conifer/broadleaf call from its crown.
    #[arg(long)]
    species: Option<String>,
}

pub fn run(a: ReconstructArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let mut o: ReconstructOptions = match &a.options {
        Some(p) => super::options_file(p, "reconstruct options")?,
        None => ReconstructOptions::default(),
    };
    o.device = a.device.parse::<DevicePreference>()?;
    if let Some(r) = a.cloth_resolution {
        o.ground.cloth_resolution_m = r;
    }
    if let Some(r) = a.rigidness {
        o.ground.rigidness = r;
    }
    if let Some(r) = a.dtm_resolution {
        o.dtm.resolution_m = r;
    }
    o.skip_trees |= a.no_trees;
    if let Some(spec) = &a.species {
        o.species = Some(super::species_spec::parse(spec)?);
    }
    if a.no_pipes {
        o.pipes = None;
    }
    let bar = Bar::new(ctx.quiet, "reconstruct");
    let out = twinmint_app::workflow::reconstruct::reconstruct_project(
        &a.project,
        &o,
        None,
        &mut |label, f| bar.set(label, f),
        &ctx.cancel,
    )?;
    bar.finish();
    let r = &out.reconstruction;
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "project": a.project.display().to_string(),
                "device": r.run.device,
                "trees": r.trees.len(),
                "trees_with_observed_dbh": r.trees.iter().filter(|t| t.dbh_cm.is_some()).count(),
                "pipes": r.pipes.len(),
                "terrain": r.terrain,
                "timings": r.run.timings,
                "threads": r.run.threads,
            })
        );
    } else {
        println!(
            "{}: {} trees ({} with a fitted stem), {} pipe runs; ground {} points, terrain {:.1}–{:.1} m, mean slope {:.1}°",
            a.project.display(),
            r.trees.len(),
            r.trees.iter().filter(|t| t.dbh_cm.is_some()).count(),
            r.pipes.len(),
            r.terrain.ground_points,
            r.terrain.min_z,
            r.terrain.max_z,
            r.terrain.mean_slope_deg
        );
        println!("| step | device | seconds |");
        println!("|---|---|---|");
        for t in &r.run.timings {
            println!("| {} | {} | {:.3} |", t.step, t.device, t.seconds);
        }
    }
    Ok(())
}
