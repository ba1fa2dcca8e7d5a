//! What each reference photo is matched against: the source photos that see most of the same
//! sparse points from a useful angle, and the depth range the sparse points span in front of it
//! (COLMAP's and Gipuma's view selection reduced to its two essentials: co-visibility and a
//! triangulation angle above a minimum).

use crate::camera::{Intrinsics, Pose, project};
use crate::linalg::{V3, mulv, norm, sub};

/// Minimum triangulation angle at the scene for a source photo, degrees (below it depth is
/// ill-conditioned; Schönberger et al. 2016 filter at 1–2° as well).
pub const MIN_ANGLE_DEG: f64 = 1.5;

fn visible(k: &Intrinsics, p: &Pose, x: &V3, w: usize, h: usize) -> bool {
    project(k, p, x)
        .is_some_and(|q| q[0] >= 0.0 && q[1] >= 0.0 && q[0] < w as f64 && q[1] < h as f64)
}

/// Up to `max` source photos for `reference` among `candidates`, best first.
pub fn sources(
    k: &Intrinsics,
    poses: &[Pose],
    candidates: &[usize],
    reference: usize,
    points: &[V3],
    size: (usize, usize),
    max: usize,
) -> Vec<usize> {
    let seen: Vec<&V3> = points
        .iter()
        .filter(|x| visible(k, &poses[reference], x, size.0, size.1))
        .collect();
    let mut scored: Vec<(f64, usize)> = candidates
        .iter()
        .copied()
        .filter(|&j| j != reference)
        .filter_map(|j| {
            let shared: Vec<&&V3> = seen
                .iter()
                .filter(|x| visible(k, &poses[j], x, size.0, size.1))
                .collect();
            if shared.len() < 10 {
                return None;
            }
            let mut angles: Vec<f64> = shared
                .iter()
                .map(|x| {
                    let a = sub(&poses[reference].centre, x);
                    let b = sub(&poses[j].centre, x);
                    (crate::linalg::dot(&a, &b) / (norm(&a) * norm(&b)))
                        .clamp(-1.0, 1.0)
                        .acos()
                        .to_degrees()
                })
                .collect();
            angles.sort_by(f64::total_cmp);
            let median = angles[angles.len() / 2];
            (median >= MIN_ANGLE_DEG).then_some((shared.len() as f64, j))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(max).map(|(_, j)| j).collect()
}

/// Depth range (along the optical axis) of the sparse points in front of `pose`: the 1st and
/// 99th percentiles widened by 20 %; `None` with fewer than ten points.
pub fn depth_range(
    k: &Intrinsics,
    pose: &Pose,
    points: &[V3],
    size: (usize, usize),
) -> Option<(f64, f64)> {
    let mut d: Vec<f64> = points
        .iter()
        .filter(|x| visible(k, pose, x, size.0, size.1))
        .map(|x| mulv(&pose.rotation, &sub(x, &pose.centre))[2])
        .collect();
    if d.len() < 10 {
        return None;
    }
    d.sort_by(f64::total_cmp);
    let lo = d[d.len() / 100];
    let hi = d[(d.len() * 99 / 100).min(d.len() - 1)];
    Some(((lo * 0.8).max(1e-3), hi * 1.2))
}
