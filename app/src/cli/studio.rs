//! `twinmint studio` (also `twinmint` with no verb) and `twinmint render`: the desktop app, and
//! the same renderer offscreen for screenshots, time-lapse GIFs and thumbnails.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use twinmint_app::studio::headless::{self, Shot};
use twinmint_app::studio::points_render::{PointSettings, Rasterizer};
use twinmint_app::studio::project::open_project;
use twinmint_app::studio::scene::Layers;
use twinmint_app::studio::{StudioOptions, Tab};
use twinmint_app::viewer::colormap::ColorMode;

use super::Ctx;

#[derive(Args, Debug, Default)]
pub struct StudioArgs {
    /// Project folder to open, or a survey folder (`twinmint plan`): its tile map and merged estate.
    pub project: Option<PathBuf>,
    /// Start a local dev chain (anvil, contract deployed, dev accounts KYC-admitted) for minting.
    #[arg(long)]
    pub dev_chain: bool,
    /// Tab to open first: survey, growth, mint, credit.
    #[arg(long, value_enum, default_value_t = TabArg::Survey)]
    pub tab: TabArg,
    /// Save a screenshot of the window once the project is shown, then exit.
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,
    #[arg(long, default_value_t = 1600)]
    pub width: u32,
    #[arg(long, default_value_t = 960)]
    pub height: u32,
    /// Open this token in the credit officer's panel (on the dev chain unless --rpc is given).
    #[arg(long, value_name = "N")]
    pub token: Option<u64>,
    #[arg(long, value_name = "URL", requires = "token")]
    pub rpc: Option<String>,
    #[arg(long, value_name = "N", requires = "rpc")]
    pub chain_id: Option<u64>,
    #[arg(long, value_name = "ADDR", requires = "rpc")]
    pub contract: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, Default)]
pub enum TabArg {
    #[default]
    Survey,
    Growth,
    Mint,
    Credit,
}

pub fn studio(a: StudioArgs) -> anyhow::Result<()> {
    twinmint_app::studio::require_gpu()?;
    let exit = twinmint_app::studio::run_studio(StudioOptions {
        project: a.project,
        dev_chain: a.dev_chain,
        tab: match a.tab {
            TabArg::Survey => Tab::Survey,
            TabArg::Growth => Tab::Growth,
            TabArg::Mint => Tab::Mint,
            TabArg::Credit => Tab::Credit,
        },
        screenshot: a.screenshot.map(|p| (p, 20)),
        width: a.width,
        height: a.height,
        officer: a
            .token
            .map(|token| twinmint_app::studio::app::OfficerStart {
                token,
                rpc_url: a.rpc,
                chain_id: a.chain_id,
                contract: a.contract,
            }),
    });
    if exit.is_error() {
        bail!("the studio exited with an error");
    }
    Ok(())
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum ColorArg {
    Rgb,
    Height,
    Class,
    Intensity,
    Tree,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum RasterArg {
    Auto,
    Quads,
    Compute,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Project folder.
    project: PathBuf,
    /// Still image (PNG).
    #[arg(long, value_name = "PNG", required_unless_present = "timelapse")]
    out: Option<PathBuf>,
    /// Time-lapse animation (GIF) of the simulated growth.
    #[arg(long, value_name = "GIF")]
    timelapse: Option<PathBuf>,
    /// Simulated years for --timelapse, relative to the survey: START..END.
    #[arg(long, default_value = "0..30")]
    years: String,
    /// Years between time-lapse frames.
    #[arg(long, default_value_t = 2)]
    step: u32,
    #[arg(long, default_value_t = 960)]
    width: u32,
    #[arg(long, default_value_t = 600)]
    height: u32,
    #[arg(long, value_enum, default_value_t = ColorArg::Height)]
    color: ColorArg,
    #[arg(long, value_enum, default_value_t = RasterArg::Auto)]
    rasterizer: RasterArg,
    /// Point size in pixels.
    #[arg(long, default_value_t = 2.0)]
    point_size: f32,
    /// Eye-Dome Lighting strength (0 = off).
    #[arg(long, default_value_t = 0.6)]
    edl: f32,
    /// Draw the tree models (always on for --timelapse).
    #[arg(long)]
    trees: bool,
    /// Draw the terrain model.
    #[arg(long)]
    terrain: bool,
}

fn parse_years(s: &str) -> anyhow::Result<(i32, i32)> {
    let (a, b) = s
        .split_once("..")
        .with_context(|| format!("--years {s:?}: expected START..END, e.g. 0..30"))?;
    let (a, b): (i32, i32) = (a.trim().parse()?, b.trim().parse()?);
    if b <= a {
        bail!("--years {s:?}: END must be after START");
    }
    Ok((a, b))
}

pub fn render(a: RenderArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let cancel = ctx.cancel.clone();
    let years = a
        .timelapse
        .as_ref()
        .map(|_| parse_years(&a.years))
        .transpose()?;
    let bar = super::progress::Bar::new(ctx.quiet, "opening");
    let project = open_project(&a.project, &|stage, f| bar.set(stage, f), &cancel)?;
    bar.finish();
    let base = Shot {
        width: a.width,
        height: a.height,
        color_mode: match a.color {
            ColorArg::Rgb => ColorMode::Rgb,
            ColorArg::Height => ColorMode::Height,
            ColorArg::Class => ColorMode::Class,
            ColorArg::Intensity => ColorMode::Intensity,
            ColorArg::Tree => ColorMode::TreeId,
        },
        points: PointSettings {
            point_size: a.point_size,
            edl_strength: a.edl,
            rasterizer: match a.rasterizer {
                RasterArg::Auto => Rasterizer::Auto,
                RasterArg::Quads => Rasterizer::Quads,
                RasterArg::Compute => Rasterizer::Compute,
            },
            ..Default::default()
        },
        layers: Layers {
            points: true,
            terrain: a.terrain,
            trees: a.trees,
            pipes: true,
        },
        ..Default::default()
    };
    let mut shots = Vec::new();
    if let Some(out) = &a.out {
        shots.push((out.clone(), base.clone()));
    }
    let mut gif_frames = Vec::new();
    if let (Some(_), Some((y0, y1))) = (&a.timelapse, years) {
        let sim = project.scene.simulation.as_ref().with_context(|| {
            format!(
                "{}: no simulation.json (run `twinmint simulate` first)",
                a.project.display()
            )
        })?;
        let first = *sim
            .stand
            .year
            .first()
            .context("the simulation has no years")?;
        let mut y = y0;
        while y <= y1 {
            gif_frames.push(Shot {
                year: Some(first + y),
                hide_vegetation: true,
                layers: Layers {
                    trees: true,
                    terrain: true,
                    ..base.layers
                },
                ..base.clone()
            });
            y += a.step.max(1) as i32;
        }
    }
    let all: Vec<Shot> = shots
        .iter()
        .map(|(_, s)| s.clone())
        .chain(gif_frames.iter().cloned())
        .collect();
    let frames = headless::render(&project, &all)?;
    let mut frames = frames.into_iter();
    for (path, _) in &shots {
        let f = frames.next().context("renderer returned too few frames")?;
        f.image
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !ctx.quiet {
            eprintln!("wrote {} ({}×{})", path.display(), a.width, a.height);
        }
    }
    if let Some(gif) = &a.timelapse {
        let imgs: Vec<image::RgbaImage> = frames.map(|f| f.image).collect();
        write_gif(gif, imgs)?;
        if !ctx.quiet {
            eprintln!("wrote {} ({} frames)", gif.display(), gif_frames.len());
        }
    }
    Ok(())
}

/// Write frames as a looping GIF (0.25 s a frame), atomically.
fn write_gif(path: &std::path::Path, frames: Vec<image::RgbaImage>) -> anyhow::Result<()> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite)?;
        for f in frames {
            enc.encode_frame(image::Frame::from_parts(
                f,
                0,
                0,
                image::Delay::from_numer_denom_ms(250, 1),
            ))?;
        }
    }
    capture::atomic::write_bytes(path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
