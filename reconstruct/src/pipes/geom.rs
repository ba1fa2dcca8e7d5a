//! The pipe fit's frame and cylinder model (vector algebra from [`crate::vec3`]).

pub use crate::vec3::{V3, add, cross, dot, norm, normalize, scale, sub};

/// Two unit vectors completing `w` to an orthonormal frame.
pub fn frame(w: V3) -> (V3, V3) {
    let h = if w[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    let u = normalize(cross(w, h));
    let v = cross(w, u);
    (u, v)
}

/// An infinite cylinder: axis through `point` along unit `dir`, and a radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cylinder {
    pub point: V3,
    pub dir: V3,
    pub radius: f64,
}

impl Cylinder {
    /// Axial coordinate and radial vector (perpendicular to the axis) of `p`.
    #[inline]
    pub fn decompose(&self, p: V3) -> (f64, V3) {
        let q = sub(p, self.point);
        let t = dot(q, self.dir);
        (t, sub(q, scale(self.dir, t)))
    }

    /// Signed distance to the surface (positive outside) and |cos| between `n` and the surface
    /// normal at `p`.
    #[inline]
    pub(super) fn residual(&self, p: V3, n: V3) -> (f64, f64) {
        let (_, radial) = self.decompose(p);
        let rho = norm(radial);
        let cos = if rho > 0.0 {
            (dot(radial, n) / rho).abs()
        } else {
            0.0
        };
        (rho - self.radius, cos)
    }

    /// Candidate from two oriented points (Schnabel et al. 2007 §4.3).
    pub fn from_two(p1: V3, n1: V3, p2: V3, n2: V3, min_sin: f64) -> Option<Cylinder> {
        let a = cross(n1, n2);
        let s = norm(a);
        if s < min_sin {
            return None;
        }
        let dir = scale(a, 1.0 / s);
        // Lines p_i + t n_i projected onto the plane ⟂ dir (the n_i are ⟂ dir already, being
        // factors of the cross product): closest points of the two lines.
        let q1 = sub(p1, scale(dir, dot(p1, dir)));
        let q2 = sub(p2, scale(dir, dot(p2, dir)));
        let m1 = sub(n1, scale(dir, dot(n1, dir)));
        let m2 = sub(n2, scale(dir, dot(n2, dir)));
        let w0 = sub(q1, q2);
        let (a11, a12, a22) = (dot(m1, m1), dot(m1, m2), dot(m2, m2));
        let (b1, b2) = (dot(m1, w0), dot(m2, w0));
        let den = a11 * a22 - a12 * a12;
        if den.abs() < 1e-12 {
            return None;
        }
        let t1 = (a12 * b2 - a22 * b1) / den;
        let t2 = (a11 * b2 - a12 * b1) / den;
        let c1 = add(q1, scale(m1, t1));
        let c2 = add(q2, scale(m2, t2));
        let c = scale(add(c1, c2), 0.5);
        let r1 = norm(sub(q1, c));
        let r2 = norm(sub(q2, c));
        let radius = 0.5 * (r1 + r2);
        if !radius.is_finite() {
            return None;
        }
        Some(Cylinder {
            point: c,
            dir,
            radius,
        })
    }
}
