//! Dense multi-view stereo: every registered photo gets a depth map by PatchMatch stereo
//! against its best source photos ([`views`], [`patchmatch`]), and the depth maps are fused
//! into one coloured cloud by geometric consistency ([`fusion`]).
//!
//! Photos are decoded at `max_side` (default 800 px: the 2-core setting; a GPU takes 2000)
//! and resampled to distortion-free pinhole images first, so one plane-induced mapping serves
//! every pixel. Memory: the photos at that size plus one depth map (20 bytes a pixel) per photo.

pub mod fusion;
pub mod gpu;
pub mod patchmatch;
pub mod views;

use std::path::Path;

use rayon::prelude::*;

use capture::CancelToken;

use crate::camera::Intrinsics;
use crate::error::{PhotoError, Result};
use crate::image;
use crate::linalg::{mul, mulv, sub, transpose};
use crate::sfm::SparseModel;
use patchmatch::{DepthMap, MAX_SOURCES, Problem};

/// Dense reconstruction options.
#[derive(Clone, Debug)]
pub struct MvsOptions {
    /// Long side of the images the depth maps are computed on, pixels.
    pub max_side: usize,
    /// Source photos per reference photo (at most 4).
    pub sources: usize,
    /// Red–black PatchMatch iterations (Gipuma converges in about 6–8).
    pub iterations: u32,
    pub fusion: fusion::FusionOptions,
    /// Statistical outlier removal on the fused cloud (PDAL's defaults, as the scan pipeline):
    /// fusion keeps a point one source confirms, and the few that agree by accident float
    /// off the surface alone.
    pub outliers: Option<reconstruct::noise::NoiseOptions>,
}

impl Default for MvsOptions {
    fn default() -> Self {
        MvsOptions {
            max_side: 800,
            sources: 4,
            iterations: 6,
            fusion: fusion::FusionOptions::default(),
            outliers: Some(reconstruct::noise::NoiseOptions::default()),
        }
    }
}

/// A dense coloured cloud in the sparse model's frame.
#[derive(Clone, Debug, Default)]
pub struct DenseCloud {
    pub points: Vec<[f64; 3]>,
    pub colours: Vec<[u8; 3]>,
}

/// A photo at the MVS size, undistorted.
struct Undistorted {
    gray: Vec<f32>,
    rgb: Vec<[u8; 3]>,
}

/// Resample a decoded photo to the distortion-free pinhole of the same size and focal length.
fn undistort(img: &image::Decoded, k: &Intrinsics) -> Undistorted {
    let (w, h) = (img.gray.width, img.gray.height);
    let mut gray = vec![0.0f32; w * h];
    let mut rgb = vec![[0u8; 3]; w * h];
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (
                (x as f64 - k.cx) / k.focal_px,
                (y as f64 - k.cy) / k.focal_px,
            );
            let r2 = u * u + v * v;
            let d = 1.0 + k.k1 * r2 + k.k2 * r2 * r2;
            let (sx, sy) = (k.focal_px * u * d + k.cx, k.focal_px * v * d + k.cy);
            gray[y * w + x] = img.gray.sample(sx as f32, sy as f32);
            let (ix, iy) = (
                (sx.round().max(0.0) as usize).min(w - 1),
                (sy.round().max(0.0) as usize).min(h - 1),
            );
            rgb[y * w + x] = img.rgb[iy * w + ix];
        }
    }
    Undistorted { gray, rgb }
}

/// The model's intrinsics for images `width` pixels wide (distortion kept). Pixel centres sit
/// at integers in both sizes: x_mvs = (x_sfm + ½)·s − ½.
fn scaled(model: &SparseModel, width: usize) -> Intrinsics {
    let s = width as f64 / model.width as f64;
    Intrinsics {
        focal_px: model.intrinsics.focal_px * s,
        cx: (model.intrinsics.cx + 0.5) * s - 0.5,
        cy: (model.intrinsics.cy + 0.5) * s - 0.5,
        ..model.intrinsics
    }
}

/// The PatchMatch problem of reference `r` against `sources`.
fn problem(
    model: &SparseModel,
    k: &Intrinsics,
    imgs: &[Option<Undistorted>],
    size: (usize, usize),
    r: usize,
    sources: &[usize],
    range: (f64, f64),
) -> Problem {
    let pr = &model.cameras[r].pose;
    let (rotations, translations) = sources
        .iter()
        .map(|&s| {
            let ps = &model.cameras[s].pose;
            let rel = mul(&ps.rotation, &transpose(&pr.rotation));
            let t = mulv(&ps.rotation, &sub(&pr.centre, &ps.centre));
            (rel.map(|row| row.map(|v| v as f32)), t.map(|v| v as f32))
        })
        .unzip();
    Problem {
        width: size.0,
        height: size.1,
        focal: k.focal_px as f32,
        cx: k.cx as f32,
        cy: k.cy as f32,
        reference: imgs[r].as_ref().map(|u| u.gray.clone()).unwrap_or_default(),
        sources: sources
            .iter()
            .map(|&s| imgs[s].as_ref().map(|u| u.gray.clone()).unwrap_or_default())
            .collect(),
        rotations,
        translations,
        depth_min: range.0 as f32,
        depth_max: range.1 as f32,
        seed: r as u32 + 1,
    }
}

/// Depth maps of every registered photo and their fusion. `solve` runs one problem (the CPU
/// twin or the GPU kernel).
pub fn dense_with(
    dir: &Path,
    model: &SparseModel,
    o: &MvsOptions,
    solve: &(dyn Fn(&Problem, u32) -> Result<Option<DepthMap>> + Sync),
    progress: &(dyn Fn(&str, f64) + Sync),
    cancel: &CancelToken,
) -> Result<DenseCloud> {
    if o.sources == 0 || o.sources > MAX_SOURCES {
        return Err(PhotoError::InvalidOption {
            option: "mvs sources",
            reason: format!("{}: between 1 and {MAX_SOURCES}", o.sources),
        });
    }
    let registered: Vec<usize> = (0..model.cameras.len())
        .filter(|&i| model.cameras[i].registered)
        .collect();
    // Photos at the MVS size, undistorted.
    let imgs: Vec<Option<(Undistorted, usize, usize)>> = model
        .cameras
        .par_iter()
        .map(|c| -> Result<Option<(Undistorted, usize, usize)>> {
            if !c.registered || cancel.is_cancelled() {
                return Ok(None);
            }
            let img = image::load(&dir.join(&c.file), o.max_side)?;
            let (w, h) = (img.gray.width, img.gray.height);
            Ok(Some((undistort(&img, &scaled(model, w)), w, h)))
        })
        .collect::<Result<_>>()?;
    if cancel.is_cancelled() {
        return Err(PhotoError::Cancelled);
    }
    let Some((_, w, h)) = imgs.iter().flatten().next().map(|(_, w, h)| ((), *w, *h)) else {
        return Ok(DenseCloud::default());
    };
    // The undistorted images' pinhole.
    let k = Intrinsics {
        k1: 0.0,
        k2: 0.0,
        ..scaled(model, w)
    };
    let imgs: Vec<Option<Undistorted>> = imgs.into_iter().map(|i| i.map(|t| t.0)).collect();
    let poses: Vec<crate::camera::Pose> = model.cameras.iter().map(|c| c.pose).collect();
    let sparse: Vec<[f64; 3]> = model.points.iter().map(|p| p.xyz).collect();
    // Depth maps, one photo after the other (each uses both cores inside).
    let mut maps: Vec<Option<(DepthMap, Vec<usize>)>> = vec![None; model.cameras.len()];
    for (n, &r) in registered.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(PhotoError::Cancelled);
        }
        let src = views::sources(&k, &poses, &registered, r, &sparse, (w, h), o.sources);
        let Some(range) = views::depth_range(&k, &poses[r], &sparse, (w, h)) else {
            continue;
        };
        if src.is_empty() {
            continue;
        }
        let p = problem(model, &k, &imgs, (w, h), r, &src, range);
        let Some(m) = solve(&p, o.iterations)? else {
            return Err(PhotoError::Cancelled);
        };
        maps[r] = Some((m, src));
        progress("depth maps", (n + 1) as f64 / registered.len() as f64);
    }
    // Fusion.
    let fviews: Vec<Option<fusion::View<'_>>> = maps
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (m, _) = m.as_ref()?;
            Some(fusion::View {
                focal: k.focal_px,
                cx: k.cx,
                cy: k.cy,
                rotation: poses[i].rotation,
                centre: poses[i].centre,
                width: w,
                height: h,
                depth: &m.depth,
                cost: &m.cost,
                rgb: &imgs[i].as_ref()?.rgb,
            })
        })
        .collect();
    let fused: Vec<Vec<([f64; 3], [u8; 3])>> = maps
        .par_iter()
        .enumerate()
        .map(|(r, m)| match m {
            Some((_, src)) => fusion::fuse_view(&fviews, r, src, &o.fusion),
            None => Vec::new(),
        })
        .collect();
    let mut out = DenseCloud::default();
    for v in fused {
        for (p, c) in v {
            out.points.push(p);
            out.colours.push(c);
        }
    }
    if let Some(no) = &o.outliers {
        let cloud = out.to_point_cloud();
        let noise =
            reconstruct::noise::run(&cloud, no, &mut |_| {}, cancel).map_err(|e| match e {
                reconstruct::ReconstructError::Cancelled => PhotoError::Cancelled,
                other => PhotoError::InvalidOption {
                    option: "outliers",
                    reason: other.to_string(),
                },
            })?;
        let keep = noise.keep();
        let mut kept = DenseCloud::default();
        for ((p, c), k) in out.points.iter().zip(&out.colours).zip(&keep) {
            if *k {
                kept.points.push(*p);
                kept.colours.push(*c);
            }
        }
        out = kept;
    }
    Ok(out)
}

impl DenseCloud {
    /// As TwinMint's point cloud (16-bit RGB as LAS stores it).
    pub fn to_point_cloud(&self) -> capture::PointCloud {
        let mut c = capture::PointCloud::from_absolute(&self.points);
        c.rgb = Some(
            self.colours
                .iter()
                .map(|v| v.map(|x| x as u16 * 257))
                .collect(),
        );
        c
    }
}

/// [`dense_with`] on the CPU twin.
pub fn dense_cpu(
    dir: &Path,
    model: &SparseModel,
    o: &MvsOptions,
    progress: &(dyn Fn(&str, f64) + Sync),
    cancel: &CancelToken,
) -> Result<DenseCloud> {
    dense_with(
        dir,
        model,
        o,
        &|p, it| Ok(p.solve(it, &|| cancel.is_cancelled())),
        progress,
        cancel,
    )
}
