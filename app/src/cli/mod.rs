//! Command-line interface: one module per verb, each a thin shell over a core crate.

mod bench;
mod bench_accuracy;
mod bench_laz;
mod bench_photogrammetry;
mod bench_pipeline;
mod bench_reconstruct;
mod bench_seal;
mod bench_survey;
mod bench_tile;
mod bench_view;
mod chain;
mod convert;
mod footprint;
mod heap;
mod info;
mod ingest;
mod mint;
mod peak;
mod private;
mod progress;
mod reconstruct;
mod resurvey;
mod simulate;
mod species_spec;
#[cfg(feature = "studio")]
mod studio;
mod survey;
mod synth;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// TwinMint: turn a scan of a real asset into verified, valued, on-chain collateral.
#[derive(Parser, Debug)]
#[command(name = "twinmint", version, about)]
pub struct Cli {
    /// Machine-readable JSON on stdout instead of tables (progress still goes to stderr).
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Without a verb, the studio opens.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe a scan file: header, CRS, counts per class, bounds, density (like `pdal info`).
    Info(info::InfoArgs),
    /// Import scan files into a project folder (manifest.json + merged cloud.laz).
    Ingest(ingest::IngestArgs),
    /// Convert a scan between formats (LAS/LAZ/E57/PLY/XYZ/OBJ in; LAS/LAZ/PLY/XYZ out).
    Convert(convert::ConvertArgs),
    /// Simulate an airborne or terrestrial LiDAR scan of a procedural forest or pipe runs, with
    /// its truth table (tree positions, heights, DBH, crowns; pipe axes and radii).
    Synth(synth::SynthArgs),
    /// Reconstruct the asset: ground (cloth simulation), terrain model, canopy, trees, pipes,
    /// meshes (writes reconstruction.json, classified.laz, model.glb, dtm.tif, chm.tif).
    Reconstruct(reconstruct::ReconstructArgs),
    /// Project the trees forward: growth, mortality, Monte Carlo carbon bands, value and
    /// collateral (writes simulation.json and CSV tables into the project).
    Simulate(simulate::SimulateArgs),
    /// Compare a new scan with a surveyed project: co-register it, reconstruct, match trees,
    /// change, drift against the projection, re-fit growth and simulate again (writes a new
    /// project with resurvey.json).
    Resurvey(resurvey::ResurveyArgs),
    /// Plan a wall-to-wall survey: tiles (core + buffer) from the inputs' headers → SURVEY/plan.json.
    Plan(survey::PlanArgs),
    /// One survey tile task (stateless, idempotent): `tile run SURVEY --index N`.
    Tile(survey::TileCmd),
    /// Merge a survey's tiles: trees with apex-derived ids, DTM/CHM mosaics → SURVEY/merged/.
    Merge(survey::MergeArgs),
    /// Run a survey's tiles as local processes, then merge: `survey run SURVEY --workers K`.
    Survey(survey::SurveyCmd),
    /// Submit a survey to a cluster: `submit slurm SURVEY` (sbatch array + merge job) or
    /// `submit k8s SURVEY --image IMG --volume PVC` (Indexed Job + merge Job YAML).
    Submit(survey::SubmitCmd),
    /// The desktop studio (the default without a verb).
    #[cfg(feature = "studio")]
    Studio(studio::StudioArgs),
    /// Render a project offscreen with the studio's renderer: a still (PNG) or a growth
    /// time-lapse (GIF).
    #[cfg(feature = "studio")]
    Render(studio::RenderArgs),
    /// Benchmarks against the issues' targets.
    Bench(bench::BenchArgs),
    /// Model fingerprint of a project (cloud root, capture hash, reconstruction hash, keccak
    /// model fingerprint); writes fingerprint.json.
    Fingerprint(self::mint::FingerprintArgs),
    /// Land footprint as H3 cells, from a GeoJSON parcel or the scan's coverage; writes
    /// footprint.json (what mint and resurvey claim on chain).
    Footprint(footprint::FootprintArgs),
    /// Build the NFR package: metadata.json, thumbnail.png, model.glb, report.html, cids.json.
    Package(self::mint::PackageArgs),
    /// Local dev chain, contract deployment, roles and KYC admissions.
    Chain(chain::ChainCmd),
    /// Fingerprint, package, surveyor attestation and mint (at most once per fingerprint); for a
    /// resurvey project (resurvey.json), the attested resurvey of the previous survey's token.
    Mint(self::mint::MintArgs),
    /// Recompute a package's hashes, CIDs and fingerprint; compare with the project and chain.
    Verify(self::mint::VerifyArgs),
    /// Offer a token to a lender as collateral (owner); locked once the lender accepts.
    Pledge(self::mint::PledgeArgs),
    /// Accept a pledge offer (lender): the token is frozen until released, seized or expired.
    AcceptPledge(self::mint::AcceptPledgeArgs),
    /// Release a pledge (lender).
    Release(self::mint::TokenArgs),
    /// Seize a pledged token on default (lender).
    Seize(self::mint::TokenArgs),
    /// Publish a valuation (valuation oracle).
    Value(self::mint::ValueArgs),
    /// Agree, as the lender of a pledged token, to a resurvey with exactly this fingerprint.
    ConsentResurvey(self::mint::ConsentArgs),
    /// Write a reader card (address + signature giving the public key) for sealed packages.
    ReaderKey(private::ReaderKeyArgs),
    /// Seal a packaged project for its readers (owner, lenders, readers, regulators) into
    /// PROJECT/sealed/: encrypted files, wrapped keys, a short public metadata.json.
    Seal(private::SealArgs),
    /// Add readers to a sealed package (no re-encryption); --token records the new URI on chain.
    Grant(private::GrantArgs),
    /// Decrypt a sealed package with a reader's key into a new project (or --carbon: the
    /// regulator's view).
    OpenSealed(private::OpenSealedArgs),
    /// Disclose one tree, the carbon total or a cloud chunk with a Merkle proof against the
    /// fingerprint, revealing nothing else.
    Prove(private::ProveArgs),
    /// Check a disclosure proof (against a token's on-chain fingerprint with --token).
    VerifyProof(private::VerifyProofArgs),
}

/// Reading options shared by every verb that loads scans.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Which axis is up in the source: auto (files at map coordinates or written by TwinMint are
    /// Z-up; any other file, LAS included, is decided from its geometry — ground plane, stems,
    /// point distribution — and its producer), y (convert Y-up to Z-up), or z.
    #[arg(long, value_enum, default_value_t = Up::Auto)]
    up: Up,
    /// Assign a CRS (EPSG:xxxx or WKT), overriding the file's.
    #[arg(long)]
    crs: Option<String>,
    /// Keep every n-th point while reading (for files larger than memory).
    #[arg(long, value_name = "N")]
    every: Option<u32>,
    /// Keep one point per voxel of this size in metres while reading (1 mm … 1 km).
    #[arg(
        long,
        value_name = "METRES",
        conflicts_with = "every",
        allow_negative_numbers = true
    )]
    voxel: Option<f64>,
}

impl Command {
    /// Every verb but the studio's windows: these run their stages and exit.
    fn is_batch(&self) -> bool {
        match self {
            #[cfg(feature = "studio")]
            Command::Studio(_) | Command::Render(_) => false,
            _ => true,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum Up {
    Auto,
    Y,
    Z,
}

impl LoadArgs {
    fn read_options(&self) -> anyhow::Result<capture::ReadOptions> {
        Ok(capture::ReadOptions {
            up: match self.up {
                Up::Auto => capture::UpOption::Auto,
                Up::Y => capture::UpOption::Y,
                Up::Z => capture::UpOption::Z,
            },
            crs: self.crs.as_deref().map(capture::Crs::parse).transpose()?,
            decimation: match (self.every, self.voxel) {
                (Some(n), _) if n >= 1 => capture::Decimation::EveryNth(n),
                (Some(_), _) => anyhow::bail!("--every must be at least 1"),
                (None, Some(v)) => capture::Decimation::Voxel(check_voxel(v)?),
                (None, None) => capture::Decimation::None,
            },
            ..Default::default()
        })
    }
}

/// Smallest and largest voxel accepted by `--voxel`: below 1 mm the voxel keys of map
/// coordinates lose precision (1e-300 m keeps one point of the whole cloud); above 1 km one
/// voxel holds a whole plot.
pub const VOXEL_RANGE_M: (f64, f64) = (0.001, 1000.0);

/// `--voxel` within [`VOXEL_RANGE_M`], or the reason it is refused.
pub fn check_voxel(v: f64) -> anyhow::Result<f64> {
    let (lo, hi) = VOXEL_RANGE_M;
    if !(v.is_finite() && (lo..=hi).contains(&v)) {
        anyhow::bail!(
            "invalid option --voxel: {v:e} m is outside {lo}–{hi} m (smaller voxels overflow the \
             voxel index and keep a single point; use --every to thin without a grid)"
        );
    }
    Ok(v)
}

/// Global output settings handed to each verb.
pub struct Ctx {
    pub json: bool,
    pub quiet: bool,
    pub cancel: capture::CancelToken,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The batch verbs only: the studio's frame loop allocates and frees small blocks on many
    // threads, where per-thread arenas and an untrimmed heap top are the right trade.
    if cli.command.as_ref().is_some_and(Command::is_batch) {
        heap::bound();
    }
    let cancel = capture::CancelToken::new();
    {
        let c = cancel.clone();
        // Ctrl-C cancels cooperatively: readers stop at the next chunk and nothing partial is
        // left behind. A second Ctrl-C exits at once.
        let _ = ctrlc::set_handler(move || {
            if c.is_cancelled() {
                std::process::exit(130);
            }
            c.cancel();
        });
    }
    let ctx = Ctx {
        json: cli.json,
        quiet: cli.quiet,
        cancel,
    };
    let Some(command) = cli.command else {
        return no_verb();
    };
    let result = match command {
        #[cfg(feature = "studio")]
        Command::Studio(a) => studio::studio(a),
        #[cfg(feature = "studio")]
        Command::Render(a) => studio::render(a, &ctx),
        Command::Info(a) => info::run(a, &ctx),
        Command::Ingest(a) => ingest::run(a, &ctx),
        Command::Convert(a) => convert::run(a, &ctx),
        Command::Synth(a) => synth::run(a, &ctx),
        Command::Reconstruct(a) => reconstruct::run(a, &ctx),
        Command::Simulate(a) => simulate::run(a, &ctx),
        Command::Resurvey(a) => resurvey::run(a, &ctx),
        Command::Plan(a) => survey::plan(a, &ctx),
        Command::Tile(a) => survey::tile(a, &ctx),
        Command::Merge(a) => survey::merge(a, &ctx),
        Command::Survey(a) => survey::survey(a, &ctx),
        Command::Submit(a) => survey::submit(a, &ctx),
        Command::Bench(a) => bench::run(a, &ctx),
        Command::Fingerprint(a) => self::mint::fingerprint(a, &ctx),
        Command::Footprint(a) => footprint::run(a, &ctx),
        Command::Package(a) => self::mint::package(a, &ctx),
        Command::Chain(a) => chain::run(a, &ctx),
        Command::Mint(a) => self::mint::mint_token(a, &ctx),
        Command::Verify(a) => self::mint::verify(a, &ctx),
        Command::Pledge(a) => self::mint::collateral(self::mint::Action::Pledge(a), &ctx),
        Command::AcceptPledge(a) => self::mint::collateral(self::mint::Action::Accept(a), &ctx),
        Command::Release(a) => self::mint::collateral(self::mint::Action::Release(a), &ctx),
        Command::Seize(a) => self::mint::collateral(self::mint::Action::Seize(a), &ctx),
        Command::Value(a) => self::mint::collateral(self::mint::Action::Value(a), &ctx),
        Command::ConsentResurvey(a) => self::mint::collateral(self::mint::Action::Consent(a), &ctx),
        Command::ReaderKey(a) => private::reader_key(a, &ctx),
        Command::Seal(a) => private::seal_cmd(a, &ctx),
        Command::Grant(a) => private::grant_cmd(a, &ctx),
        Command::OpenSealed(a) => private::open_sealed(a, &ctx),
        Command::Prove(a) => private::prove(a, &ctx),
        Command::VerifyProof(a) => private::verify_proof(a, &ctx),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            if ctx.cancel.is_cancelled() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Without a verb: the studio on the demo project `scripts/studio.sh` makes, when it is there.
#[cfg(feature = "studio")]
fn no_verb() -> ExitCode {
    // The demo project scripts/studio.sh makes opens by default when it is there.
    let demo = std::path::PathBuf::from("demo/forest.twinmint");
    match studio::studio(studio::StudioArgs {
        project: demo
            .join(capture::project::MANIFEST)
            .is_file()
            .then_some(demo),
        dev_chain: true,
        width: 1600,
        height: 960,
        ..Default::default()
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// Without a verb in a headless build: the help, since there is no studio to open.
#[cfg(not(feature = "studio"))]
fn no_verb() -> ExitCode {
    use clap::CommandFactory;
    let _ = Cli::command().print_help();
    eprintln!("\n(this twinmint was built without the studio: cargo build --features studio)");
    ExitCode::from(2)
}

/// A JSON options file (`--options`, `bench accuracy --trees`), read and parsed with the file
/// named in either error.
fn options_file<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    what: &str,
) -> anyhow::Result<T> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: invalid {what}", path.display()))
}

/// The error and its causes, skipping causes whose text the previous message already contains
/// (the core crates' messages include their source).
fn chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    // A writer only sees its staged path; name the file the user will look for.
    capture::commit::public_paths(&out)
}
