//! Pipe detection: cylinders found by efficient RANSAC with normals, refined by least squares,
//! merged into straight runs.
//!
//! # Method
//! 1. **Candidate points.** Ground and vegetation are removed first: by an explicit mask (the
//!    pipeline passes "not ground, not assigned to a tree") or, without one, by dropping the
//!    ASPRS classes in [`PipeOptions::exclude_classes`]. PCA normals ([`crate::normals`]) are
//!    computed on what remains.
//! 2. **Efficient RANSAC** after Schnabel, Wahl & Klein 2007 ("Efficient RANSAC for point-cloud
//!    shape detection", Computer Graphics Forum 26(2):214–226). A candidate cylinder comes from
//!    two oriented points: the axis direction is `n₁ × n₂`; projected along the axis, the normal
//!    lines of both points meet at the axis, and the radius is the distance of the points to it
//!    (§4.3 of the paper). Sampling is *localised* (the second point is drawn from a ball around
//!    the first, §4.4), which makes the chance of drawing two points of one small pipe
//!    independent of the size of the cloud. A candidate's inliers are the points within `ε` of
//!    its surface whose normal deviates by less than `α` from the surface normal; only the
//!    largest axially connected component counts (the paper's connectivity step, here along the
//!    axis, where pipes are long and thin). Each round draws `candidates_per_round`
//!    candidates, keeps the `candidates_evaluated` best by inlier *fraction* in the sampling
//!    ball, ranks those on a random subset of the remaining points (the paper's subset
//!    scoring), and grows them in that order on all remaining points until one is accepted; its
//!    points are removed and the search repeats until `max_failures` rounds in a row find
//!    nothing. Evaluations only visit the points of a uniform grid near the candidate's axis.
//!    Structures that grow but are rejected (elbows, flanges, foliage) are no longer drawn as
//!    first samples, so they cannot win round after round.
//!
//!    A piece is accepted when it has `min_points` inliers, a radius in range, a length of at
//!    least max(`min_length_m`, 3 r), `min_arc_deg` of angular coverage, a *sharp* residual
//!    distribution (`min_sharpness` of the inliers in the inner half of the band — a surface,
//!    not a volume) and a *hollow* inside (`max_interior_fraction`): scanners see pipes as
//!    shells, while a cylinder through foliage has points inside it.
//! 3. **Refinement**: Levenberg–Marquardt (damped Gauss–Newton) on the geometric distance
//!    `‖(p − c) × d‖ − r` over axis point (2 parameters), axis direction (2) and radius, in the
//!    local parametrisation of Lukács, Marshall & Martin 1998 ("Faithful least-squares fitting
//!    of spheres, cylinders, cones and tori for reliable segmentation", ECCV) and Eberly
//!    ("Fitting 3D data with a cylinder", Geometric Tools 2003). Inliers are re-selected with
//!    the refined model (by distance only, in a band narrowed to `refit_band_sigmas` × RMS) and
//!    refitted, up to [`PipeOptions::refit_rounds`] times. For airborne data residuals are
//!    measured along each point's laser beam ([`NoiseModel`]): orthogonal fitting of a top-only
//!    view with range noise along the beam underestimates the radius by ≈ 2.4 σ²/r (−4 % for a
//!    0.15 m pipe under 2 cm noise), the beam-direction fit does not.
//! 4. **Runs.** Pieces whose axes are collinear — angle below `merge_angle_deg`, lateral offset
//!    below `merge_offset_m`, radius within `merge_radius_rel`, axial gap below `merge_gap_m` —
//!    belong to one straight run; a joint refit of all their inliers gives the run's axis and
//!    radius. Bends therefore end runs (the legs are not collinear), and a run is split where
//!    another run ends on its mantle (a tee junction; both parts must be pieces in their own
//!    right, so the overhang of a leg at an elbow does not split it). Segments of a run are its
//!    stretches of continuous inliers (gaps are usually occlusion); a run's `length_m` spans
//!    its first segment's start to its last segment's end, and its radius is the joint fit's.
//! 5. **Posts.** Cylinders whose axis is within `post_max_tilt_deg` of vertical are reported
//!    as [`PipeDetection::posts`], not as pipe runs: on pipe racks vertical cylinders are the
//!    supports (and, in mixed scenes, tree stems). Set `post_max_tilt_deg` to 0 to keep vertical
//!    pipes as runs.
//! 6. **Stems are not pipes** ([`StemRejection`], issue 11). In a forest the pipe step sees
//!    what tree labelling leaves: under terrestrial and phone scans' crowns that is the stems,
//!    the lower crown shell, branches and roots. Pieces that are parts of trees are set aside as
//!    [`PipeDetection::stems`] before runs are built; posts stay posts, so pipe supports are
//!    handled as before.
//!    - *Under a crown*: a steep piece (within [`StemRejection::max_tilt_deg`] of vertical, not
//!      a post) with a crown above its top — many points spread over several metres of height
//!      in a column of [`StemRejection::crown_radius_m`] around its axis continued upward. It
//!      is a leaning stem or a cylinder fitted to a crown's shell. Horizontal pieces are never
//!      tested for a crown: crowns overhang pipe racks.
//!    - *Touching a stem*: a piece within [`StemRejection::stem_clearance_m`] of a stem — a
//!      steep piece under a crown, or a post under a crown that carries no pipe — is a branch,
//!      a root, or a cylinder fitted across the stem. Pipe supports carry their pipe (its
//!      axis passes one radius above the support's top) and are never stems.
//!
//! Everything is deterministic for a given `seed` (per-candidate ChaCha8 streams), whatever the
//! number of threads.

use std::time::Instant;

use capture::{CancelToken, PointCloud, Progress, ProgressEvent};
use kiddo::SquaredEuclidean;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::{PipeRun, PipeSegment};
use crate::normals::{self, NormalOptions, Orientation};

// Internal modules, public (hidden from the docs) only so the tests in tests/units reach them.
#[doc(hidden)]
pub mod beam;
#[doc(hidden)]
pub mod geom;
#[doc(hidden)]
pub mod options;
#[doc(hidden)]
pub mod ransac;
#[doc(hidden)]
pub mod refine;
#[doc(hidden)]
pub mod runs;
#[doc(hidden)]
pub mod stems;

pub use beam::NoiseModel;
pub use options::{PipeOptions, StemRejection};

use beam::*;
use geom::*;
use ransac::*;
use refine::*;
use runs::*;
use stems::*;

/// A cylinder piece set aside as part of a tree (see [`StemRejection`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectedStem {
    pub segment: PipeSegment,
    /// Angle of the axis from vertical, degrees.
    pub tilt_deg: f64,
    /// Why: `under a crown (…)` or `touches a stem (gap … m)`.
    pub reason: String,
}

/// What [`run`] found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeDetection {
    /// Straight pipe runs, longest first, ids 1…n.
    pub runs: Vec<PipeRun>,
    /// Vertical cylinders (supports, posts, stems): one segment each, `start` at the bottom,
    /// ids are their 1-based position.
    pub posts: Vec<PipeSegment>,
    /// Pieces that are tree stems or crown shells, not pipes ([`StemRejection`]); their points
    /// belong to no run.
    #[serde(default)]
    pub stems: Vec<RejectedStem>,
    /// Per point of the input cloud: the run id it belongs to, 0 for none. Includes the points
    /// within `2ε` of a run's surface that were not used in the fit.
    #[serde(skip)]
    pub point_run: Vec<u32>,
    /// Per point: 1-based post index, 0 for none.
    #[serde(skip)]
    pub point_post: Vec<u32>,
    pub stats: PipeStats,
}

/// Work done, for `reconstruction.json` and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeStats {
    /// Points left after the mask / class filter.
    pub points_considered: u64,
    pub rounds: u64,
    pub candidates: u64,
    /// Cylinder pieces accepted by RANSAC (before merging).
    pub pieces: u64,
    pub normals_seconds: f64,
    pub ransac_seconds: f64,
}

/// Detect pipe runs and posts in `cloud`.
///
/// `mask` (one flag per point, `true` = may be a pipe) overrides
/// [`PipeOptions::exclude_classes`]. No file I/O.
pub fn run(
    cloud: &PointCloud,
    mask: Option<&[bool]>,
    opts: &PipeOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<PipeDetection> {
    opts.validate()?;
    let n_all = cloud.len();
    if let Some(m) = mask
        && m.len() != n_all
    {
        return Err(ReconstructError::Input {
            step: "pipes",
            reason: format!("mask has {} flags for {} points", m.len(), n_all),
        });
    }
    let subset: Vec<usize> = match (mask, &cloud.classification) {
        (Some(m), _) => (0..n_all).filter(|&i| m[i]).collect(),
        (None, Some(cls)) => (0..n_all)
            .filter(|&i| !opts.exclude_classes.contains(&cls[i]))
            .collect(),
        (None, None) => (0..n_all).collect(),
    };
    let mut det = PipeDetection {
        point_run: vec![0; n_all],
        point_post: vec![0; n_all],
        ..Default::default()
    };
    det.stats.points_considered = subset.len() as u64;
    if subset.len() < opts.min_points.max(3) {
        return Ok(det);
    }

    let t_norm = Instant::now();
    let pos32: Vec<[f32; 3]> = subset.iter().map(|&i| cloud.positions[i]).collect();
    let nrm = normals::run(
        &pos32,
        &NormalOptions {
            k: opts.normal_k,
            orientation: Orientation::None,
        },
    )?;
    let nrm: Vec<V3> = nrm
        .normals
        .iter()
        .map(|n| [n[0] as f64, n[1] as f64, n[2] as f64])
        .collect();
    let pts: Vec<V3> = pos32
        .iter()
        .map(|p| [p[0] as f64, p[1] as f64, p[2] as f64])
        .collect();
    det.stats.normals_seconds = t_norm.elapsed().as_secs_f64();
    cancel.check()?;

    let t_ransac = Instant::now();
    let tree = normals::kd_tree(&pos32);
    let ctx = Ctx {
        pts: &pts,
        nrm: &nrm,
        opts,
        cos_alpha: opts.normal_angle_deg.to_radians().cos(),
        beams: beam_directions(cloud, &subset, opts.noise_model),
        grid: Grid::new(&pts, 2.0 * (opts.max_radius_m + 2.0 * opts.epsilon_m)),
    };
    let m = pts.len();
    let mut alive_flag = vec![true; m];
    let mut alive: Vec<u32> = (0..m as u32).collect();
    // Points a round may draw its first sample from: alive, and not part of a structure whose
    // candidates all failed to grow (an elbow, a flange, a dense patch near a terrestrial
    // scanner) — otherwise such clutter wins round after round and ends the search early.
    let mut seedable = vec![true; m];
    let mut seeds: Vec<u32> = alive.clone();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut failures = 0usize;
    let mut round = 0u64;
    let r2 = (opts.sample_radius_m * opts.sample_radius_m) as f32;
    // Normals closer than 10° in direction give an ill-conditioned axis.
    let min_sin = 10f64.to_radians().sin();
    while failures < opts.max_failures
        && seeds.len() >= opts.min_points
        && pieces.len() < opts.max_pieces
    {
        cancel.check()?;
        round += 1;
        let seeds_ref = &seeds;
        let alive_flag_ref = &alive_flag;
        // Draw and locally score candidates.
        let mut cands: Vec<(usize, usize, u64, Cylinder)> = (0..opts.candidates_per_round as u64)
            .into_par_iter()
            .filter_map(|j| {
                let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
                rng.set_stream(round.wrapping_mul(1 << 20).wrapping_add(j));
                let i1 = seeds_ref[rng.random_range(0..seeds_ref.len())] as usize;
                let ball: Vec<u32> = tree
                    .within_unsorted::<SquaredEuclidean>(&pos32[i1], r2)
                    .into_iter()
                    .map(|nb| nb.item)
                    .filter(|&k| alive_flag_ref[k as usize] && k as usize != i1)
                    .collect();
                if ball.len() < 2 {
                    return None;
                }
                let i2 = ball[rng.random_range(0..ball.len())] as usize;
                let cyl = Cylinder::from_two(pts[i1], nrm[i1], pts[i2], nrm[i2], min_sin)?;
                if !(opts.min_radius_m..=opts.max_radius_m).contains(&cyl.radius) {
                    return None;
                }
                for i in [i1, i2] {
                    let (d, c) = cyl.residual(pts[i], nrm[i]);
                    if d.abs() > opts.epsilon_m || c < ctx.cos_alpha {
                        return None;
                    }
                }
                let score = ball
                    .iter()
                    .filter(|&&k| {
                        let (d, c) = cyl.residual(pts[k as usize], nrm[k as usize]);
                        d.abs() <= opts.epsilon_m && c >= ctx.cos_alpha
                    })
                    .count();
                // Ranked by the inlier fraction of the ball, not the count, so that dense
                // clutter does not crowd out sparse pipes.
                let frac = score * 1000 / (ball.len() + 1);
                (score >= 8).then_some((frac, score, j, cyl))
            })
            .collect();
        det.stats.candidates += opts.candidates_per_round as u64;
        cands.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        cands.truncate(opts.candidates_evaluated);
        // Compare the best local candidates on a random subset of the remaining points
        // (inliers with agreeing normals), then grow them in that order until one succeeds.
        let subset_idx: Vec<u32> = if alive.len() <= opts.score_subset.max(1) {
            alive.clone()
        } else {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x5C0E);
            rng.set_stream(round);
            (0..opts.score_subset)
                .map(|_| alive[rng.random_range(0..alive.len())])
                .collect()
        };
        let scale_up = alive.len() as f64 / subset_idx.len().max(1) as f64;
        let mut ranked: Vec<(usize, u64, Cylinder)> = cands
            .iter()
            .map(|&(_, _, j, cyl)| {
                let n = subset_idx
                    .par_iter()
                    .filter(|&&i| {
                        let (d, c) = cyl.residual(pts[i as usize], nrm[i as usize]);
                        d.abs() <= opts.epsilon_m && c >= ctx.cos_alpha
                    })
                    .count();
                (n, j, cyl)
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut accepted = None;
        let mut rejected: Vec<u32> = Vec::new();
        for &(n, _, cyl) in &ranked {
            if (n as f64 * scale_up) < 0.5 * opts.min_points as f64 {
                break;
            }
            match ctx.grow(cyl, &alive_flag) {
                Ok(p) => {
                    accepted = Some(p);
                    break;
                }
                Err(inl) => rejected.extend(inl),
            }
        }
        // Structures that grew but are not pipes are not seeded from again.
        for &i in &rejected {
            seedable[i as usize] = false;
        }
        match accepted {
            Some(p) => {
                for &i in &p.consumed {
                    alive_flag[i as usize] = false;
                }
                alive.retain(|&i| alive_flag[i as usize]);
                pieces.push(p);
                failures = 0;
                progress.report(ProgressEvent {
                    points: (m - alive.len()) as u64,
                    total_points: Some(m as u64),
                    bytes: 0,
                    total_bytes: None,
                });
            }
            None => {
                failures += 1;
                // Nothing grew: the seeds of this round's candidates sit in clutter (an elbow,
                // a flange, a dense patch near a terrestrial scanner) that would otherwise win
                // round after round and end the search early.
                for &(_, _, cyl) in &ranked {
                    let mut inl = ctx.inliers_in(&cyl, &subset_idx, opts.epsilon_m);
                    ctx.largest_component(&cyl, &mut inl);
                    for i in inl {
                        seedable[i as usize] = false;
                    }
                }
            }
        }
        seeds.retain(|&i| alive_flag[i as usize] && seedable[i as usize]);
    }
    det.stats.rounds = round;
    det.stats.pieces = pieces.len() as u64;

    // Posts versus pipe pieces.
    let post_cos = opts.post_max_tilt_deg.to_radians().cos();
    let (posts, pipe_pieces): (Vec<Piece>, Vec<Piece>) = pieces
        .into_iter()
        .partition(|p| opts.post_max_tilt_deg > 0.0 && p.cyl.dir[2].abs() >= post_cos);
    for (k, p) in posts.iter().enumerate() {
        let seg = segment_of(&ctx, &p.cyl, &p.inliers, p.t0, p.t1, cloud.origin, true);
        det.posts.push(seg);
        for &i in &p.consumed {
            det.point_post[subset[i as usize]] = k as u32 + 1;
        }
    }

    // Stems and crown shells.
    let pipe_pieces = match &opts.stems {
        Some(st) => {
            let (kept, stems) = reject_stems(&ctx, cloud, &posts, pipe_pieces, st);
            det.stems = stems;
            kept
        }
        None => pipe_pieces,
    };

    // Runs.
    let runs = build_runs(&ctx, pipe_pieces);
    for (k, r) in runs.iter().enumerate() {
        let id = k as u32 + 1;
        let mut segments = Vec::new();
        for s in &r.segments {
            let pts_in: Vec<u32> = s.inliers.clone();
            segments.push(segment_of(
                &ctx,
                &r.cyl,
                &pts_in,
                s.t0,
                s.t1,
                cloud.origin,
                false,
            ));
        }
        for &i in &r.consumed {
            det.point_run[subset[i as usize]] = id;
        }
        let total: u64 = segments.iter().map(|s| s.point_count).sum();
        let radius_m = if total > 0 {
            segments
                .iter()
                .map(|s| s.radius_m * s.point_count as f64)
                .sum::<f64>()
                / total as f64
        } else {
            r.cyl.radius
        };
        det.runs.push(PipeRun {
            id,
            length_m: r.t1 - r.t0,
            radius_m,
            segments,
        });
    }
    det.stats.ransac_seconds = t_ransac.elapsed().as_secs_f64();
    Ok(det)
}
