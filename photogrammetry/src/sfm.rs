//! Structure from motion with pose priors: every photo starts where its GPS and gimbal put it,
//! features are matched only between GPS neighbours, verified pairs are chained into tracks,
//! tracks are triangulated from the prior poses, and bundle adjustment with GPS priors refines
//! poses, focal length, distortion and points — in rounds of shrinking robust scale with
//! outlier observations dropped in between. This is the "global SfM from priors" route that
//! OpenSfM and ODM take for georeferenced drone blocks instead of COLMAP's incremental
//! registration: with a prior for every photo, no photo has to wait for a registered neighbour.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use capture::CancelToken;
use capture::photos::{CameraTrack, PhotoOptions};

use crate::bundle::{self, BundleOptions, Obs, Prior};
use crate::camera::{Intrinsics, Pose, focal_px, project};
use crate::error::{PhotoError, Result};
use crate::features::{Feature, FeatureOptions, detect};
use crate::geometry::{Corr, RansacOptions, ransac_fundamental};
use crate::image;
use crate::linalg::{V3, mulv, transpose};
use crate::matching::{MatchOptions, match_pair};
use crate::rotations::{Relative, align_to_gps, average, relative_pose};
use crate::tracks;

/// Options of the sparse reconstruction.
#[derive(Clone, Debug)]
pub struct SfmOptions {
    /// Long side of the working images, pixels.
    pub max_side: usize,
    pub features: FeatureOptions,
    pub matching: MatchOptions,
    pub ransac: RansacOptions,
    /// Photos matched with each photo: its nearest by GPS position.
    pub neighbours: usize,
    /// Verified matches a pair needs to count.
    pub min_pair_inliers: usize,
    /// GPS standard deviation, horizontal and vertical, metres (consumer drone GNSS).
    pub gps_sigma_m: [f64; 2],
    /// Observations needed for a photo to count as registered.
    pub min_observations: usize,
    /// Observations farther than this from their projection after the final adjustment are
    /// dropped, pixels.
    pub max_error_px: f64,
    /// The CRS of the output (WGS 84 / UTM or local ENU when `None`), see [`PhotoOptions`].
    pub target_crs: Option<capture::Crs>,
}

impl SparseModel {
    /// The solved cameras as `cameras.json` records them.
    pub fn solved(&self) -> capture::photos::SolvedCameras {
        capture::photos::SolvedCameras {
            intrinsics: capture::photos::SolvedIntrinsics {
                focal_px: self.intrinsics.focal_px,
                cx: self.intrinsics.cx,
                cy: self.intrinsics.cy,
                k1: self.intrinsics.k1,
                k2: self.intrinsics.k2,
                width: self.width,
                height: self.height,
                scale: self.scale,
            },
            cameras: self
                .cameras
                .iter()
                .map(|c| capture::photos::SolvedPose {
                    file: c.file.clone(),
                    registered: c.registered,
                    rotation: c.pose.rotation,
                    centre: c.pose.centre,
                    gps_shift_m: crate::linalg::norm(&crate::linalg::sub(&c.pose.centre, &c.gps)),
                    observations: c.observations,
                    mean_error_px: c.mean_error_px,
                })
                .collect(),
            sparse_points: self.points.len(),
            mean_error_px: self.mean_error_px,
        }
    }
}

impl Default for SfmOptions {
    fn default() -> Self {
        SfmOptions {
            max_side: 2000,
            features: FeatureOptions::default(),
            matching: MatchOptions::default(),
            ransac: RansacOptions::default(),
            neighbours: 8,
            min_pair_inliers: 30,
            gps_sigma_m: [3.0, 5.0],
            min_observations: 30,
            max_error_px: 2.0,
            target_crs: None,
        }
    }
}

/// One photo's solved camera.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SolvedCamera {
    pub file: String,
    pub registered: bool,
    pub pose: Pose,
    /// The GPS position it started from (same frame).
    pub gps: V3,
    pub observations: usize,
    /// Mean reprojection error of its observations, working pixels.
    pub mean_error_px: f64,
}

/// A triangulated point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SparsePoint {
    pub xyz: V3,
    pub rgb: [u8; 3],
    pub track_length: usize,
}

/// The sparse model: cameras, intrinsics and points, in the track's frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SparseModel {
    pub frame: capture::photos::TrackFrame,
    pub intrinsics: Intrinsics,
    /// Working pixels per full-size pixel.
    pub scale: f64,
    pub width: usize,
    pub height: usize,
    pub cameras: Vec<SolvedCamera>,
    pub points: Vec<SparsePoint>,
    pub mean_error_px: f64,
    pub stats: SfmStats,
}

/// Counts along the way (for the benchmark and the closing note).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SfmStats {
    pub features: usize,
    pub pairs_tried: usize,
    pub pairs_verified: usize,
    pub tracks: usize,
    pub observations: usize,
    pub seconds_features: f64,
    pub seconds_matching: f64,
    pub seconds_bundle: f64,
}

/// Progress of a stage, 0–1.
pub type StageProgress<'a> = &'a (dyn Fn(&str, f64) + Sync);

/// A photo pair that passed geometric verification.
struct VerifiedPair {
    a: usize,
    b: usize,
    matches: Vec<(u32, u32)>,
    f: crate::linalg::M3,
    /// The inlier correspondences, working pixels.
    corr: Vec<Corr>,
}

struct PhotoFeatures {
    features: Vec<Feature>,
    colours: Vec<[u8; 3]>,
    width: usize,
    height: usize,
    scale: f64,
}

fn check(cancel: &CancelToken) -> Result<()> {
    if cancel.is_cancelled() {
        Err(PhotoError::Cancelled)
    } else {
        Ok(())
    }
}

/// The nearest `k` photos of each photo by horizontal GPS distance, as unordered pairs.
fn neighbour_pairs(pos: &[V3], k: usize) -> Vec<(usize, usize)> {
    let mut pairs = std::collections::BTreeSet::new();
    for (i, p) in pos.iter().enumerate() {
        let mut d: Vec<(f64, usize)> = pos
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2), j))
            .collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for &(_, j) in d.iter().take(k) {
            pairs.insert((i.min(j), i.max(j)));
        }
    }
    pairs.into_iter().collect()
}

/// Ray through working pixel `uv` (distortion-free) in world coordinates.
fn ray(k: &Intrinsics, p: &Pose, uv: &[f64; 2]) -> V3 {
    let n = crate::camera::undistort(k, uv);
    let d = [n[0], n[1], 1.0];
    let w = mulv(&transpose(&p.rotation), &d);
    let n = crate::linalg::norm(&w);
    [w[0] / n, w[1] / n, w[2] / n]
}

/// The point nearest to all rays (least squares), `None` when the rays are near parallel.
fn triangulate(k: &Intrinsics, poses: &[Pose], views: &[(usize, [f64; 2])]) -> Option<V3> {
    let mut a = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    for (cam, uv) in views {
        let d = ray(k, &poses[*cam], uv);
        let c = poses[*cam].centre;
        for i in 0..3 {
            for j in 0..3 {
                let m = if i == j { 1.0 } else { 0.0 } - d[i] * d[j];
                a[i][j] += m;
                b[i] += m * c[j];
            }
        }
    }
    let inv = crate::linalg::inv3(&a)?;
    // Reject ill-conditioned systems (rays within a fraction of a degree).
    let (vals, _) = crate::linalg::sym_eigen(&a.iter().flatten().copied().collect::<Vec<_>>(), 3);
    if vals[0] < 1e-5 * vals[2] {
        return None;
    }
    let x = mulv(&inv, &b);
    views
        .iter()
        .all(|(cam, _)| project(k, &poses[*cam], &x).is_some())
        .then_some(x)
}

/// Distance in pixels between `x`'s projection and the observation `e` (`None` behind).
fn reprojection_px(k: &Intrinsics, pose: &Pose, x: &V3, e: [f64; 2]) -> Option<f64> {
    project(k, pose, x).map(|q| ((q[0] - e[0]).powi(2) + (q[1] - e[1]).powi(2)).sqrt())
}

/// Triangulate track `t` with the current cameras and keep the views within `max_px` of the
/// point's projection (twice: the point is refitted on the kept views); `None` when fewer than
/// two views remain.
fn refit_track(
    k: &Intrinsics,
    poses: &[Pose],
    t: &tracks::Track,
    uv: &(dyn Fn(u32, u32) -> [f64; 2] + Sync),
    max_px: f64,
) -> Option<(tracks::Track, V3)> {
    let fit = |views: &tracks::Track| {
        let v: Vec<(usize, [f64; 2])> =
            views.iter().map(|&(p, f)| (p as usize, uv(p, f))).collect();
        triangulate(k, poses, &v)
    };
    let mut views: tracks::Track = t.clone();
    let mut x = fit(&views)?;
    for round in 0..2 {
        let keep: tracks::Track = t
            .iter()
            .copied()
            .filter(|&(c, f)| {
                reprojection_px(k, &poses[c as usize], &x, uv(c, f)).is_some_and(|e| e <= max_px)
            })
            .collect();
        if keep.len() < 2 {
            return None;
        }
        if keep == views {
            break;
        }
        views = keep;
        // After the last round a point that no longer triangulates keeps its previous fit.
        x = match fit(&views) {
            Some(p) => p,
            None if round == 1 => x,
            None => return None,
        };
    }
    Some((views, x))
}

/// Photo folder → sparse model.
pub fn run(
    dir: &Path,
    o: &SfmOptions,
    progress: StageProgress<'_>,
    cancel: &CancelToken,
) -> Result<SparseModel> {
    let track: CameraTrack = capture::photos::read_folder(
        dir,
        &PhotoOptions {
            target_crs: o.target_crs.clone(),
            ..Default::default()
        },
        &mut capture::NoProgress,
        cancel,
    )?;
    run_track(dir, &track, o, progress, cancel)
}

/// The sparse model of `track`'s photos (in `dir`), in the track's frame.
#[allow(clippy::too_many_lines)]
pub fn run_track(
    dir: &Path,
    track: &CameraTrack,
    o: &SfmOptions,
    progress: StageProgress<'_>,
    cancel: &CancelToken,
) -> Result<SparseModel> {
    let n = track.photos.len();
    let unsolvable = |reason: String| PhotoError::Unsolvable {
        dir: dir.into(),
        reason,
    };
    if n < 2 {
        return Err(unsolvable(format!("{n} photo(s): at least two are needed")));
    }
    // Features, photo by photo in parallel (each decoded image is dropped once described).
    let t = std::time::Instant::now();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let feats: Vec<PhotoFeatures> = track
        .photos
        .par_iter()
        .map(|ph| -> Result<PhotoFeatures> {
            check(cancel)?;
            let path: PathBuf = dir.join(&ph.file);
            let img = image::load(&path, o.max_side)?;
            let features = detect(&img.gray, &o.features);
            let colours = features
                .iter()
                .map(|f| {
                    let (x, y) = (f.x.round() as usize, f.y.round() as usize);
                    img.rgb[y.min(img.gray.height - 1) * img.gray.width + x.min(img.gray.width - 1)]
                })
                .collect();
            let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress("features", k as f64 / n as f64);
            Ok(PhotoFeatures {
                features,
                colours,
                width: img.gray.width,
                height: img.gray.height,
                scale: img.scale,
            })
        })
        .collect::<Result<_>>()?;
    let (w, h) = (feats[0].width, feats[0].height);
    if feats.iter().any(|f| f.width != w || f.height != h) {
        return Err(unsolvable(
            "photos of different sizes: one camera per folder is supported".into(),
        ));
    }
    let mut stats = SfmStats {
        features: feats.iter().map(|f| f.features.len()).sum(),
        seconds_features: t.elapsed().as_secs_f64(),
        ..Default::default()
    };
    // Matching between GPS neighbours, verified by the fundamental matrix.
    let t = std::time::Instant::now();
    let gps: Vec<V3> = track.photos.iter().map(|p| p.position).collect();
    let pairs = neighbour_pairs(&gps, o.neighbours);
    stats.pairs_tried = pairs.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let verified_full: Vec<VerifiedPair> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            if cancel.is_cancelled() {
                return None;
            }
            let m = match_pair(&feats[a].features, &feats[b].features, &o.matching);
            let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress("matching", k as f64 / pairs.len() as f64);
            if m.len() < o.min_pair_inliers {
                return None;
            }
            let corr: Vec<Corr> = m
                .iter()
                .map(|&(i, j)| {
                    let (p, q) = (
                        &feats[a].features[i as usize],
                        &feats[b].features[j as usize],
                    );
                    ([p.x as f64, p.y as f64], [q.x as f64, q.y as f64])
                })
                .collect();
            let ro = RansacOptions {
                seed: (a * 7919 + b) as u64 + 1,
                ..o.ransac.clone()
            };
            let (f, inl) = ransac_fundamental(&corr, &ro)?;
            let kept: Vec<(u32, u32)> = m
                .iter()
                .zip(&inl)
                .filter(|(_, k)| **k)
                .map(|(p, _)| *p)
                .collect();
            let kept_corr: Vec<Corr> = corr
                .iter()
                .zip(&inl)
                .filter(|(_, k)| **k)
                .map(|(c, _)| *c)
                .collect();
            (kept.len() >= o.min_pair_inliers).then_some(VerifiedPair {
                a,
                b,
                matches: kept,
                f,
                corr: kept_corr,
            })
        })
        .collect();
    check(cancel)?;
    let verified: Vec<tracks::PairMatches<'_>> = verified_full
        .iter()
        .map(|v| (v.a, v.b, &v.matches[..]))
        .collect();
    stats.pairs_verified = verified.len();
    stats.seconds_matching = t.elapsed().as_secs_f64();
    let counts: Vec<usize> = feats.iter().map(|f| f.features.len()).collect();
    let all_tracks = tracks::build(&counts, &verified);
    // Initial cameras from the metadata.
    let first = &track.photos[0];
    let scale = feats[0].scale;
    let full_w = (w as f64 / scale).round() as usize;
    let mut k = Intrinsics {
        focal_px: focal_px(
            first.model.as_deref(),
            first.focal_length_mm,
            first.focal_length_35mm,
            full_w,
        ) * scale,
        // Pixel centres at integer coordinates: the middle of the frame is (w − 1)/2; w/2 would
        // tilt every camera by half a pixel (4 cm at 30 m over the simulator's truth).
        cx: (w as f64 - 1.0) / 2.0,
        cy: (h as f64 - 1.0) / 2.0,
        k1: 0.0,
        k2: 0.0,
    };
    // Orientations from the images (rotation averaging turned onto the GPS baselines); the
    // gimbal only for a photo no verified pair reaches, or when the block cannot be aligned.
    let gimbal_rotation = |p: &capture::photos::Photo| {
        p.gimbal
            .unwrap_or(capture::photos::Gimbal {
                yaw_deg: p.flight_yaw_deg.unwrap_or(0.0),
                pitch_deg: -90.0,
                roll_deg: 0.0,
            })
            .world_to_camera()
    };
    let relatives: Vec<Relative> = verified_full
        .par_iter()
        .filter_map(|v| {
            let (rel, t) = relative_pose(&k, &v.f, &v.corr)?;
            Some(Relative {
                a: v.a,
                b: v.b,
                rel,
                t,
                weight: (v.matches.len() as f64).sqrt(),
            })
        })
        .collect();
    let averaged = average(n, &relatives);
    let world = align_to_gps(&averaged, &relatives, &gps, 1.0);
    let focal0 = k.focal_px;
    let mut poses: Vec<Pose> = track
        .photos
        .iter()
        .zip(&averaged)
        .map(|(p, r)| Pose {
            rotation: match (r, world) {
                (Some(r), Some(g)) => crate::linalg::mul(r, &transpose(&g)),
                _ => gimbal_rotation(p),
            },
            centre: p.position,
        })
        .collect();
    let priors: Vec<Option<Prior>> = gps
        .iter()
        .map(|c| {
            Some(Prior {
                centre: *c,
                sigma: [o.gps_sigma_m[0], o.gps_sigma_m[0], o.gps_sigma_m[1]],
            })
        })
        .collect();
    // Triangulate from the priors, then adjust in rounds of shrinking robust scale.
    let uv = |photo: u32, f: u32| {
        let g = &feats[photo as usize].features[f as usize];
        [g.x as f64, g.y as f64]
    };
    let mut kept_tracks: Vec<tracks::Track> = Vec::new();
    let mut points: Vec<V3> = Vec::new();
    for t in &all_tracks {
        let views: Vec<(usize, [f64; 2])> =
            t.iter().map(|&(p, f)| (p as usize, uv(p, f))).collect();
        if let Some(x) = triangulate(&k, &poses, &views) {
            kept_tracks.push(t.clone());
            points.push(x);
        }
    }
    stats.tracks = kept_tracks.len();
    let t0 = std::time::Instant::now();
    let rounds: [(f64, f64, usize); 4] = [
        (32.0, 64.0, 15),
        (8.0, 16.0, 15),
        (3.0, 6.0, 20),
        (1.5, o.max_error_px, 30),
    ];
    let mut obs: Vec<Obs> = Vec::new();
    for (ri, &(loss, drop_px, iters)) in rounds.iter().enumerate() {
        check(cancel)?;
        obs.clear();
        for (pi, t) in kept_tracks.iter().enumerate() {
            for &(p, f) in t {
                obs.push(Obs {
                    cam: p,
                    point: pi as u32,
                    uv: uv(p, f),
                });
            }
        }
        bundle::adjust(
            &mut k,
            &mut poses,
            &mut points,
            &obs,
            &priors,
            &BundleOptions {
                iterations: iters,
                loss_px: loss,
                refine_intrinsics: ri > 0,
                focal_prior: Some((focal0, 0.01 * focal0)),
            },
            &|| cancel.is_cancelled(),
        );
        progress("bundle adjustment", (ri + 1) as f64 / rounds.len() as f64);
        // Every original track against the adjusted cameras: re-triangulated, its views within
        // the round's bound kept (observations dropped in an early, coarse round come back once
        // the cameras are right).
        // After the last round the adjusted points stay; only their far views go.
        let (nt, np): (Vec<tracks::Track>, Vec<V3>) = if ri + 1 < rounds.len() {
            all_tracks
                .par_iter()
                .filter_map(|t| refit_track(&k, &poses, t, &uv, drop_px))
                .unzip()
        } else {
            kept_tracks
                .iter()
                .zip(&points)
                .filter_map(|(t, x)| {
                    let good: tracks::Track = t
                        .iter()
                        .copied()
                        .filter(|&(p, f)| {
                            reprojection_px(&k, &poses[p as usize], x, uv(p, f))
                                .is_some_and(|e| e <= drop_px)
                        })
                        .collect();
                    (good.len() >= 2).then_some((good, *x))
                })
                .unzip()
        };
        kept_tracks = nt;
        points = np;
    }
    check(cancel)?;
    stats.seconds_bundle = t0.elapsed().as_secs_f64();
    // Final statistics.
    let mut per_cam = vec![(0usize, 0.0f64); n];
    let mut total = (0usize, 0.0f64);
    for (t, x) in kept_tracks.iter().zip(&points) {
        for &(p, f) in t {
            if let Some(d) = reprojection_px(&k, &poses[p as usize], x, uv(p, f)) {
                per_cam[p as usize].0 += 1;
                per_cam[p as usize].1 += d;
                total.0 += 1;
                total.1 += d;
            }
        }
    }
    stats.observations = total.0;
    let cameras = track
        .photos
        .iter()
        .enumerate()
        .map(|(i, ph)| SolvedCamera {
            file: ph.file.clone(),
            registered: per_cam[i].0 >= o.min_observations,
            pose: poses[i],
            gps: gps[i],
            observations: per_cam[i].0,
            mean_error_px: per_cam[i].1 / per_cam[i].0.max(1) as f64,
        })
        .collect();
    let sparse = kept_tracks
        .iter()
        .zip(&points)
        .map(|(t, x)| {
            let mut c = [0u32; 3];
            for &(p, f) in t {
                let col = feats[p as usize].colours[f as usize];
                for a in 0..3 {
                    c[a] += col[a] as u32;
                }
            }
            SparsePoint {
                xyz: *x,
                rgb: c.map(|v| (v / t.len() as u32) as u8),
                track_length: t.len(),
            }
        })
        .collect();
    Ok(SparseModel {
        frame: track.frame.clone(),
        intrinsics: k,
        scale,
        width: w,
        height: h,
        cameras,
        points: sparse,
        mean_error_px: total.1 / total.0.max(1) as f64,
        stats,
    })
}
