//! Levenberg–Marquardt cylinder refinement (Lukács, Marshall & Martin 1998; Eberly 2003)
//! with order-fixed parallel sums, so the fit is the same bits on any thread pool.

use super::*;

/// Per-point residual `f` and its gradient in the local parameters (x₀, y₀, a, b, r) of the
/// axis frame (u, v, w). With a beam direction the residual is the signed distance from the
/// point along the beam to the surface; where the beam grazes the surface (or runs along the
/// axis) it falls back to the orthogonal distance.
#[inline]
pub(super) fn residual_jac(
    q: V3,
    frame: (V3, V3, V3),
    radius: f64,
    beam: Option<V3>,
) -> (f64, [f64; 5]) {
    let (u, v, w) = frame;
    let (qx, qy, qz) = (dot(q, u), dot(q, v), dot(q, w));
    if let Some(b) = beam {
        let (bx, by, bz) = (dot(b, u), dot(b, v), dot(b, w));
        let a2 = bx * bx + by * by;
        let bq = qx * bx + qy * by;
        let c = qx * qx + qy * qy - radius * radius;
        let disc = bq * bq - a2 * c;
        if a2 > 0.04 && disc >= 0.0 {
            let t1 = (-bq - bq.signum() * disc.sqrt()) / a2;
            let t2 = if t1 != 0.0 { c / (a2 * t1) } else { 0.0 };
            let t = if t1.abs() < t2.abs() { t1 } else { t2 };
            let (sx, sy, z) = (qx + t * bx, qy + t * by, qz + t * bz);
            let sw = sx * bx + sy * by;
            if sw.abs() >= 0.3 * radius * a2.sqrt() {
                return (t, [sx / sw, sy / sw, sx * z / sw, sy * z / sw, radius / sw]);
            }
        }
    }
    let rho = (qx * qx + qy * qy).sqrt().max(1e-12);
    (
        radius - rho,
        [qx / rho, qy / rho, qx * qz / rho, qy * qz / rho, 1.0],
    )
}

/// Levenberg–Marquardt refinement of `cyl` on `pts`; returns the refined cylinder (axis point
/// moved to the foot of the points' centroid) and the RMS orthogonal residual. `None` when the
/// fit degenerates.
///
/// Parameters are the axis point (2, in the plane ⟂ the current axis), the axis direction
/// `(a, b, 1)` in the current frame (2) and the radius, re-linearised around the current axis
/// every iteration (Lukács et al. 1998; Eberly 2003).
///
/// With `beams` (one unit direction per point) the residual is measured along the beam (errors-in-variables with known
/// noise direction). Orthogonal fitting is biased when noise is not along the surface normal:
/// for the top half of a pipe seen from above with vertical noise σ, a second-order expansion of
/// the normal equations gives a radius bias of about −2.4 σ²/r (−4 % at r = 0.15 m, σ = 2 cm),
/// which the simulator reproduces; residuals along the beam are unbiased to first order.
pub fn refine(
    pts: &[V3],
    cyl: Cylinder,
    beams: Option<&[V3]>,
    iterations: usize,
) -> Option<(Cylinder, f64)> {
    if pts.len() < 6 {
        return None;
    }
    let n = pts.len() as f64;
    let centroid = scale(pts.iter().fold([0.0; 3], |acc, p| add(acc, *p)), 1.0 / n);
    let foot = |c: &Cylinder| {
        let t = dot(sub(centroid, c.point), c.dir);
        add(c.point, scale(c.dir, t))
    };
    let cost_of = |c: &Cylinder| -> f64 {
        let (u, v) = frame(c.dir);
        chunked_sum(pts, |i, p| {
            let beam = beams.map(|b| b[i]);
            let (f, _) = residual_jac(sub(*p, c.point), (u, v, c.dir), c.radius, beam);
            f * f
        })
    };
    let mut cur = Cylinder {
        point: foot(&cyl),
        ..cyl
    };
    let mut cost = cost_of(&cur);
    let mut lambda = 1e-3;
    for _ in 0..iterations {
        let w = cur.dir;
        let (u, v) = frame(w);
        // Normal equations JᵀJ δ = −Jᵀf in parameters (x0, y0, a, b, r), accumulated per
        // fixed chunk and the chunks added in order (see [`SUM_CHUNK`]).
        let partial: Vec<([[f64; 5]; 5], [f64; 5])> = pts
            .par_chunks(SUM_CHUNK)
            .enumerate()
            .map(|(ci, chunk)| {
                let (mut jtj, mut jtf) = ([[0f64; 5]; 5], [0f64; 5]);
                for (k, p) in chunk.iter().enumerate() {
                    let beam = beams.map(|b| b[ci * SUM_CHUNK + k]);
                    let (f, j) = residual_jac(sub(*p, cur.point), (u, v, w), cur.radius, beam);
                    for a in 0..5 {
                        jtf[a] += j[a] * f;
                        for b in a..5 {
                            jtj[a][b] += j[a] * j[b];
                        }
                    }
                }
                (jtj, jtf)
            })
            .collect();
        let (mut jtj, mut jtf) = ([[0f64; 5]; 5], [0f64; 5]);
        for (c, d) in &partial {
            for i in 0..5 {
                jtf[i] += d[i];
                for k in 0..5 {
                    jtj[i][k] += c[i][k];
                }
            }
        }
        let mut improved = false;
        for _ in 0..8 {
            let mut m = jtj;
            for a in 0..5 {
                for b in 0..a {
                    m[a][b] = jtj[b][a];
                }
                m[a][a] += lambda * jtj[a][a].max(1e-9);
            }
            let rhs = jtf.map(|x| -x);
            let Some(d) = solve5(m, rhs) else {
                lambda *= 10.0;
                continue;
            };
            let dir = normalize(add(w, add(scale(u, d[2]), scale(v, d[3]))));
            let point = add(cur.point, add(scale(u, d[0]), scale(v, d[1])));
            let mut cand = Cylinder {
                point,
                dir,
                radius: cur.radius + d[4],
            };
            cand.point = foot(&cand);
            let c = cost_of(&cand);
            if c.is_finite() && c <= cost {
                let step = d.iter().map(|x| x * x).sum::<f64>().sqrt();
                cur = cand;
                cost = c;
                lambda = (lambda * 0.3).max(1e-9);
                improved = true;
                if step < 1e-9 {
                    return finish(cur, pts);
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    finish(cur, pts)
}

pub(super) fn finish(c: Cylinder, pts: &[V3]) -> Option<(Cylinder, f64)> {
    let ss = chunked_sum(pts, |_, p| {
        let (_, r) = c.decompose(*p);
        (norm(r) - c.radius).powi(2)
    });
    let rms = (ss / pts.len() as f64).sqrt();
    (c.radius > 0.0 && c.radius.is_finite() && rms.is_finite()).then_some((c, rms))
}

/// Points per chunk of the parallel sums of the fit. Fixed, not derived from the pool: a
/// rayon `sum` or `fold`/`reduce` adds floats in an order that depends on how the work was
/// split and stolen, so the fitted radius — and with it which points a pipe consumes — could
/// differ in the last bits between runs and thread counts. Summing each fixed chunk in order
/// and then the chunk sums in order gives the same bits on any pool.
pub(super) const SUM_CHUNK: usize = 1024;

/// `Σ f(i, pts[i])` in parallel, in a fixed order (see [`SUM_CHUNK`]).
pub fn chunked_sum(pts: &[V3], f: impl Fn(usize, &V3) -> f64 + Sync) -> f64 {
    let partial: Vec<f64> = pts
        .par_chunks(SUM_CHUNK)
        .enumerate()
        .map(|(ci, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(|(k, p)| f(ci * SUM_CHUNK + k, p))
                .sum::<f64>()
        })
        .collect();
    partial.iter().sum()
}

/// Gaussian elimination with partial pivoting for the 5×5 normal equations.
pub(super) fn solve5(mut a: [[f64; 5]; 5], mut b: [f64; 5]) -> Option<[f64; 5]> {
    for col in 0..5 {
        let piv = (col..5).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot = a[col];
        for row in col + 1..5 {
            let f = a[row][col] / pivot[col];
            for (x, p) in a[row].iter_mut().zip(pivot).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; 5];
    for row in (0..5).rev() {
        let s: f64 = (row + 1..5).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}
