//! Stems are not pipes (module docs of [`super`], step 6): pieces under a crown or touching a
//! stem are set aside.

use super::*;

/// A cylinder's axis segment, bottom first.
pub(super) fn axis_segment(c: &Cylinder, t0: f64, t1: f64) -> (V3, V3) {
    let a = add(c.point, scale(c.dir, t0));
    let b = add(c.point, scale(c.dir, t1));
    if a[2] <= b[2] { (a, b) } else { (b, a) }
}

/// Shortest distance between segments `p0p1` and `q0q1` (Ericson 2005, "Real-Time Collision
/// Detection", §5.1.9).
pub fn segment_distance(p0: V3, p1: V3, q0: V3, q1: V3) -> f64 {
    let (d1, d2, r) = (sub(p1, p0), sub(q1, q0), sub(p0, q0));
    let (a, e, f) = (dot(d1, d1), dot(d2, d2), dot(d2, r));
    let (s, t) = if a <= 1e-12 && e <= 1e-12 {
        (0.0, 0.0)
    } else if a <= 1e-12 {
        (0.0, (f / e).clamp(0.0, 1.0))
    } else {
        let c = dot(d1, r);
        if e <= 1e-12 {
            ((-c / a).clamp(0.0, 1.0), 0.0)
        } else {
            let b = dot(d1, d2);
            let den = a * e - b * b;
            let mut s = if den > 1e-12 {
                ((b * f - c * e) / den).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let mut t = (b * s + f) / e;
            if t < 0.0 {
                t = 0.0;
                s = (-c / a).clamp(0.0, 1.0);
            } else if t > 1.0 {
                t = 1.0;
                s = ((b - c) / a).clamp(0.0, 1.0);
            }
            (s, t)
        }
    };
    norm(sub(add(p0, scale(d1, s)), add(q0, scale(d2, t))))
}

/// Split `pieces` into pipe pieces and tree parts (module docs, step 6). `posts` are only
/// consulted: those under a crown and not carrying a pipe are stems.
pub(super) fn reject_stems(
    ctx: &Ctx,
    cloud: &PointCloud,
    posts: &[Piece],
    pieces: Vec<Piece>,
    st: &StemRejection,
) -> (Vec<Piece>, Vec<RejectedStem>) {
    let tilt = |p: &Piece| p.cyl.dir[2].abs().min(1.0).acos().to_degrees();
    let steep: Vec<bool> = pieces.iter().map(|p| tilt(p) <= st.max_tilt_deg).collect();
    if posts.is_empty() && !steep.iter().any(|s| *s) {
        return (pieces, Vec::new());
    }
    // Every point of the cloud (ground, trees and all) by horizontal cell.
    let mut map: std::collections::HashMap<(i64, i64), Vec<u32>> = std::collections::HashMap::new();
    for (i, p) in cloud.positions.iter().enumerate() {
        let key = (
            (p[0] as f64 / st.crown_radius_m).floor() as i64,
            (p[1] as f64 / st.crown_radius_m).floor() as i64,
        );
        map.entry(key).or_default().push(i as u32);
    }
    let crown = |c: &Cylinder, t0: f64, t1: f64| -> Option<String> {
        let (n, slices) = crown_above(cloud, &map, c, t0, t1, st);
        (n >= st.crown_min_points && slices >= st.crown_min_slices).then(|| {
            format!(
                "under a crown ({n} points in {slices} of the {} half-metre slices above its top)",
                (st.crown_depth_m / CROWN_SLICE_M).ceil()
            )
        })
    };
    // Stems: steep pieces under a crown, and posts under a crown that carry no pipe (a
    // support's top touches the bottom of the pipe it carries).
    let mut stem_axes: Vec<(V3, V3, f64)> = Vec::new();
    for q in posts {
        let (_, top) = axis_segment(&q.cyl, q.t0, q.t1);
        let carries = pieces.iter().any(|p| {
            let (a, b) = axis_segment(&p.cyl, p.t0, p.t1);
            segment_distance(a, b, top, top) <= p.cyl.radius + q.cyl.radius + 0.1
        });
        if !carries && crown(&q.cyl, q.t0, q.t1).is_some() {
            let (a, b) = axis_segment(&q.cyl, q.t0, q.t1);
            stem_axes.push((a, b, q.cyl.radius));
        }
    }
    let mut reasons: Vec<Option<String>> = vec![None; pieces.len()];
    for (k, p) in pieces.iter().enumerate() {
        if steep[k]
            && let Some(r) = crown(&p.cyl, p.t0, p.t1)
        {
            let (a, b) = axis_segment(&p.cyl, p.t0, p.t1);
            stem_axes.push((a, b, p.cyl.radius));
            reasons[k] = Some(r);
        }
    }
    // Pieces touching a stem: branches, roots and buttresses, or a slice across the stem.
    for (k, p) in pieces.iter().enumerate() {
        if reasons[k].is_some() {
            continue;
        }
        let (a, b) = axis_segment(&p.cyl, p.t0, p.t1);
        let gap = stem_axes
            .iter()
            .map(|&(s0, s1, r)| segment_distance(a, b, s0, s1) - r - p.cyl.radius)
            .fold(f64::INFINITY, f64::min);
        if gap <= st.stem_clearance_m {
            reasons[k] = Some(format!("touches a stem (gap {:.2} m)", gap.max(0.0)));
        }
    }
    let mut kept = Vec::new();
    let mut stems = Vec::new();
    for (p, reason) in pieces.into_iter().zip(reasons) {
        match reason {
            Some(reason) => stems.push(RejectedStem {
                segment: segment_of(ctx, &p.cyl, &p.inliers, p.t0, p.t1, cloud.origin, true),
                tilt_deg: tilt(&p),
                reason,
            }),
            None => kept.push(p),
        }
    }
    (kept, stems)
}

/// Height of the slices [`crown_above`] counts occupied.
pub(super) const CROWN_SLICE_M: f64 = 0.5;

/// Points of the cloud in the column above a cylinder's top (see [`StemRejection`]) and the
/// number of `CROWN_SLICE_M` height slices they occupy: heights `crown_gap_m`…`crown_gap_m +
/// crown_depth_m` above it, within `crown_radius_m` of the axis continued upward (a vertical
/// column for axes within 5° of horizontal).
pub(super) fn crown_above(
    cloud: &PointCloud,
    map: &std::collections::HashMap<(i64, i64), Vec<u32>>,
    c: &Cylinder,
    t0: f64,
    t1: f64,
    st: &StemRejection,
) -> (usize, usize) {
    let (_, top) = axis_segment(c, t0, t1);
    let d = if c.dir[2] < 0.0 {
        scale(c.dir, -1.0)
    } else {
        c.dir
    };
    let (z0, z1) = (
        top[2] + st.crown_gap_m,
        top[2] + st.crown_gap_m + st.crown_depth_m,
    );
    // Horizontal drift of the axis per metre of height.
    let drift = if d[2] > 5f64.to_radians().sin() {
        [d[0] / d[2], d[1] / d[2]]
    } else {
        [0.0, 0.0]
    };
    let at = |z: f64| {
        [
            top[0] + drift[0] * (z - top[2]),
            top[1] + drift[1] * (z - top[2]),
        ]
    };
    let (c0, c1) = (at(z0), at(z1));
    let r = st.crown_radius_m;
    let cell = |v: f64| (v / r).floor() as i64;
    let (x0, x1) = (cell(c0[0].min(c1[0]) - r), cell(c0[0].max(c1[0]) + r));
    let (y0, y1) = (cell(c0[1].min(c1[1]) - r), cell(c0[1].max(c1[1]) + r));
    let n_slices = (st.crown_depth_m / CROWN_SLICE_M).ceil().max(1.0) as usize;
    let mut occupied = vec![false; n_slices];
    let mut n = 0usize;
    for cx in x0..=x1 {
        for cy in y0..=y1 {
            let Some(list) = map.get(&(cx, cy)) else {
                continue;
            };
            for &i in list {
                let q = cloud.positions[i as usize];
                let z = q[2] as f64;
                if z < z0 || z > z1 {
                    continue;
                }
                let a = at(z);
                let (dx, dy) = (q[0] as f64 - a[0], q[1] as f64 - a[1]);
                if dx * dx + dy * dy <= r * r {
                    n += 1;
                    occupied[(((z - z0) / CROWN_SLICE_M) as usize).min(n_slices - 1)] = true;
                }
            }
        }
    }
    (n, occupied.iter().filter(|o| **o).count())
}
