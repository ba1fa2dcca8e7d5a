//! `twinmint synth`: simulate an airborne or terrestrial LiDAR scan of a procedural forest and/or
//! pipe runs, written as LAZ with its truth table (JSON) beside it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions, TerrestrialOptions};

use super::Ctx;
use super::progress::Bar;

#[derive(ValueEnum, Debug, Clone, Copy)]
enum Scan {
    /// Drone/airborne LiDAR: flight lines, multiple returns.
    Als,
    /// Terrestrial laser scanner: one station at the plot centre, sees stems.
    Tls,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum SceneKind {
    /// Trees on rolling terrain.
    Forest,
    /// Pipe runs (with bends and supports) on bare terrain.
    Pipes,
    /// Both.
    Mixed,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Output LAZ (or .las) file.
    #[arg(short, long)]
    output: PathBuf,
    /// Truth table path (default: OUTPUT with extension .truth.json).
    #[arg(long)]
    truth: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Scan::Als)]
    scan: Scan,
    #[arg(long, value_enum, default_value_t = SceneKind::Forest)]
    scene: SceneKind,
    /// Random seed: the same seed gives the same scan, bit for bit.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Side of the square plot in metres.
    #[arg(long, default_value_t = 100.0)]
    size: f64,
    /// Approximate number of points (adjusts pulse rate / angular step); at most 250 M.
    #[arg(long)]
    points: Option<u64>,
    /// Trees per hectare (forest and mixed scenes).
    #[arg(long)]
    trees_per_ha: Option<f64>,
    /// Number of pipe runs (pipes and mixed scenes; default 3).
    #[arg(long)]
    pipes: Option<usize>,
    /// Scan the same scene again this many years later with known change (growth, standing
    /// mortality, a harvest patch, a storm gap, a georeferencing offset; see the options'
    /// `resurvey`): give the first survey's flags and seed again.
    #[arg(long, value_name = "YEARS")]
    resurvey_years: Option<f64>,
    /// With --resurvey-years: growth rate relative to the projection's calibration (1 = as
    /// projected, 0.3 = much slower).
    #[arg(long, requires = "resurvey_years")]
    growth_factor: Option<f64>,
    /// Full options as JSON (SynthOptions); command-line flags override it.
    #[arg(long)]
    options: Option<PathBuf>,
}

fn build_options(a: &SynthArgs) -> anyhow::Result<SynthOptions> {
    let mut o: SynthOptions = match &a.options {
        Some(p) => super::options_file(p, "synth options")?,
        None => SynthOptions::default(),
    };
    o.scene.seed = a.seed;
    o.scene.width_m = a.size;
    o.scene.depth_m = a.size;
    match a.scene {
        SceneKind::Forest => o.scene.pipes.count = 0,
        SceneKind::Pipes => {
            o.scene.trees.density_per_ha = 0.0;
            o.scene.pipes.count = a.pipes.unwrap_or(3);
        }
        SceneKind::Mixed => o.scene.pipes.count = a.pipes.unwrap_or(3),
    }
    if let Some(t) = a.trees_per_ha {
        o.scene.trees.density_per_ha = t;
    }
    o.scan = match (a.scan, &o.scan) {
        (Scan::Als, ScanPattern::Airborne(x)) => ScanPattern::Airborne(x.clone()),
        (Scan::Als, _) => ScanPattern::Airborne(AirborneOptions::default()),
        (Scan::Tls, ScanPattern::Terrestrial(x)) => ScanPattern::Terrestrial(x.clone()),
        (Scan::Tls, _) => ScanPattern::Terrestrial(TerrestrialOptions::default()),
    };
    if let Some(y) = a.resurvey_years {
        let r = o.resurvey.get_or_insert_with(Default::default);
        r.years = y;
        if let Some(g) = a.growth_factor {
            r.growth_factor = g;
        }
    }
    if let Some(n) = a.points {
        match &mut o.scan {
            ScanPattern::Airborne(x) => x.target_points = Some(n),
            ScanPattern::Terrestrial(x) => x.target_points = Some(n),
        }
    }
    Ok(o)
}

pub fn run(a: SynthArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let opts = build_options(&a)?;
    opts.validate()?;
    if let Some(r) = &opts.resurvey {
        r.validate()?;
    }
    capture::WriteFormat::from_path(&a.output)?;
    let bar = Bar::new(ctx.quiet, "simulating");
    let out = synth::run(&opts, &mut |e| bar.update(e), &ctx.cancel)?;
    bar.reset("writing");
    let truth_path = a.truth.clone().unwrap_or_else(|| {
        let stem = a
            .output
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "scan".into());
        a.output.with_file_name(format!("{stem}.truth.json"))
    });
    synth::write_truth(&out.truth, &truth_path)?;
    capture::write(&out.cloud, &a.output, &mut |e| bar.update(e), &ctx.cancel)?;
    bar.finish();
    let t = &out.truth;
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "output": a.output.display().to_string(),
                "truth": truth_path.display().to_string(),
                "points": out.cloud.len(),
                "trees": t.trees.len(),
                "pipes": t.pipes.len(),
                "seed": t.seed,
            })
        );
    } else {
        println!(
            "{}: {} points, {} trees, {} pipe segments (seed {}); truth in {}",
            a.output.display(),
            out.cloud.len(),
            t.trees.len(),
            t.pipes.len(),
            t.seed,
            truth_path.display()
        );
    }
    Ok(())
}
