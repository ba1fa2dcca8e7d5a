//! Runs: collinear pieces merged (union-find), refit, split at tees and cut into segments.

use super::*;

/// A model segment for a stretch `[t0, t1]` of `cyl` with the given inliers.
pub(super) fn segment_of(
    ctx: &Ctx,
    cyl: &Cylinder,
    inl: &[u32],
    t0: f64,
    t1: f64,
    origin: [f64; 3],
    upward: bool,
) -> PipeSegment {
    let mut a = add(cyl.point, scale(cyl.dir, t0));
    let mut b = add(cyl.point, scale(cyl.dir, t1));
    if upward && a[2] > b[2] {
        std::mem::swap(&mut a, &mut b);
    }
    let rms = if inl.is_empty() {
        0.0
    } else {
        (inl.iter()
            .map(|&i| {
                let (_, r) = cyl.decompose(ctx.pts[i as usize]);
                (norm(r) - cyl.radius).powi(2)
            })
            .sum::<f64>()
            / inl.len() as f64)
            .sqrt()
    };
    let abs = |p: V3| [p[0] + origin[0], p[1] + origin[1], p[2] + origin[2]];
    PipeSegment {
        start: abs(a),
        end: abs(b),
        radius_m: cyl.radius,
        inlier_rms_m: rms,
        point_count: inl.len() as u64,
    }
}

pub(super) struct RunSeg {
    pub(super) t0: f64,
    pub(super) t1: f64,
    pub(super) inliers: Vec<u32>,
}

pub(super) struct RunBuild {
    pub(super) cyl: Cylinder,
    pub(super) t0: f64,
    pub(super) t1: f64,
    pub(super) segments: Vec<RunSeg>,
    pub(super) consumed: Vec<u32>,
}

/// Union-find root with path halving.
pub(super) fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Merge collinear pieces, refit, split at tees, cut into segments.
pub(super) fn build_runs(ctx: &Ctx, pieces: Vec<Piece>) -> Vec<RunBuild> {
    let o = ctx.opts;
    let n = pieces.len();
    let cos_merge = o.merge_angle_deg.to_radians().cos();
    let mut parent: Vec<usize> = (0..n).collect();
    let ends = |p: &Piece| {
        (
            add(p.cyl.point, scale(p.cyl.dir, p.t0)),
            add(p.cyl.point, scale(p.cyl.dir, p.t1)),
        )
    };
    let line_dist = |c: &Cylinder, x: V3| norm(c.decompose(x).1);
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (&pieces[i], &pieces[j]);
            if dot(a.cyl.dir, b.cyl.dir).abs() < cos_merge {
                continue;
            }
            let rmax = a.cyl.radius.max(b.cyl.radius);
            if (a.cyl.radius - b.cyl.radius).abs() > (o.merge_radius_rel * rmax).max(0.005) {
                continue;
            }
            let (b0, b1) = ends(b);
            let (a0, a1) = ends(a);
            let off = line_dist(&a.cyl, scale(add(b0, b1), 0.5))
                .max(line_dist(&b.cyl, scale(add(a0, a1), 0.5)));
            if off > o.merge_offset_m {
                continue;
            }
            let tb0 = dot(sub(b0, a.cyl.point), a.cyl.dir);
            let tb1 = dot(sub(b1, a.cyl.point), a.cyl.dir);
            let (lo, hi) = (tb0.min(tb1), tb0.max(tb1));
            let gap = (lo - a.t1).max(a.t0 - hi);
            if gap > o.merge_gap_m {
                continue;
            }
            let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
            if ri != rj {
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        let r = find(&mut parent, i);
        groups[r].push(i);
    }
    let mut runs: Vec<RunBuild> = Vec::new();
    for g in groups.into_iter().filter(|g| !g.is_empty()) {
        // Start from the piece with most inliers; joint refit on all inliers.
        let seed = *g
            .iter()
            .max_by_key(|&&i| (pieces[i].inliers.len(), std::cmp::Reverse(i)))
            .unwrap();
        let mut inl: Vec<u32> = g
            .iter()
            .flat_map(|&i| pieces[i].inliers.iter().copied())
            .collect();
        inl.sort_unstable();
        inl.dedup();
        let mut consumed: Vec<u32> = g
            .iter()
            .flat_map(|&i| pieces[i].consumed.iter().copied())
            .collect();
        consumed.sort_unstable();
        consumed.dedup();
        let mut cyl = pieces[seed].cyl;
        if g.len() > 1
            && let Some((fit, _)) = ctx.fit(&inl, cyl)
        {
            cyl = fit;
        }
        // Orient runs consistently: the axis points to increasing x (then y, then z).
        let d = cyl.dir;
        if d[0] < -1e-9
            || (d[0].abs() <= 1e-9 && (d[1] < -1e-9 || (d[1].abs() <= 1e-9 && d[2] < 0.0)))
        {
            cyl.dir = scale(d, -1.0);
        }
        let mut ts: Vec<(f64, u32)> = inl
            .iter()
            .map(|&i| (dot(sub(ctx.pts[i as usize], cyl.point), cyl.dir), i))
            .collect();
        ts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let t0 = ts.first().map_or(0.0, |x| x.0);
        let t1 = ts.last().map_or(0.0, |x| x.0);
        runs.push(RunBuild {
            cyl,
            t0,
            t1,
            segments: vec![RunSeg {
                t0,
                t1,
                inliers: ts.iter().map(|x| x.1).collect(),
            }],
            consumed,
        });
    }

    // Tee junctions: cut a run where another run ends on its mantle, away from its own ends.
    let mut cuts: Vec<Vec<f64>> = vec![Vec::new(); runs.len()];
    for (a, ra) in runs.iter().enumerate() {
        for (b, rb) in runs.iter().enumerate() {
            if a == b {
                continue;
            }
            for tb in [rb.t0, rb.t1] {
                let e = add(rb.cyl.point, scale(rb.cyl.dir, tb));
                let (t, radial) = ra.cyl.decompose(e);
                let reach = ra.cyl.radius + rb.cyl.radius + o.junction_tolerance_m;
                // Both sides must be pieces of pipe in their own right; otherwise the other run
                // meets this one at a bend (an elbow), whose inliers overhang the vertex a little.
                let margin = o
                    .min_length_m
                    .max(3.0 * ra.cyl.radius)
                    .max(rb.cyl.radius + o.junction_tolerance_m);
                if norm(radial) <= reach && t > ra.t0 + margin && t < ra.t1 - margin {
                    cuts[a].push(t);
                }
            }
        }
    }
    let mut out: Vec<RunBuild> = Vec::new();
    for (ra, mut cut) in runs.into_iter().zip(cuts) {
        cut.sort_by(f64::total_cmp);
        // Keep cuts at least a piece apart, so no sliver run is left between two tees.
        let spacing = o.min_length_m.max(3.0 * ra.cyl.radius);
        let mut kept: Vec<f64> = Vec::new();
        for c in cut {
            if kept.last().is_none_or(|&k| c - k >= spacing) {
                kept.push(c);
            }
        }
        let cut = kept;
        let all: Vec<u32> = ra.segments.into_iter().flat_map(|s| s.inliers).collect();
        let t_of = |i: u32| dot(sub(ctx.pts[i as usize], ra.cyl.point), ra.cyl.dir);
        // Pieces between cuts.
        let mut bounds = vec![f64::NEG_INFINITY];
        bounds.extend(cut.iter().copied());
        bounds.push(f64::INFINITY);
        for w in bounds.windows(2) {
            let part: Vec<u32> = all
                .iter()
                .copied()
                .filter(|&i| {
                    let t = t_of(i);
                    t >= w[0] && t < w[1]
                })
                .collect();
            if part.is_empty() {
                continue;
            }
            let consumed: Vec<u32> = ra
                .consumed
                .iter()
                .copied()
                .filter(|&i| {
                    let t = t_of(i);
                    t >= w[0] && t < w[1]
                })
                .collect();
            // Segments: stretches without gaps longer than the cluster gap.
            let mut segs: Vec<RunSeg> = Vec::new();
            let mut cur: Vec<u32> = Vec::new();
            let (mut s0, mut last) = (t_of(part[0]), t_of(part[0]));
            for &i in &part {
                let t = t_of(i);
                if t - last > o.cluster_gap_m && !cur.is_empty() {
                    segs.push(RunSeg {
                        t0: s0,
                        t1: last,
                        inliers: std::mem::take(&mut cur),
                    });
                    s0 = t;
                }
                cur.push(i);
                last = t;
            }
            segs.push(RunSeg {
                t0: s0,
                t1: last,
                inliers: cur,
            });
            let (t0, t1) = (segs[0].t0, segs[segs.len() - 1].t1);
            out.push(RunBuild {
                cyl: ra.cyl,
                t0,
                t1,
                segments: segs,
                consumed,
            });
        }
    }
    out.sort_by(|a, b| {
        (b.t1 - b.t0)
            .total_cmp(&(a.t1 - a.t0))
            .then(a.cyl.point[0].total_cmp(&b.cyl.point[0]))
            .then(a.cyl.point[1].total_cmp(&b.cyl.point[1]))
    });
    out
}
