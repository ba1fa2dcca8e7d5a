//! The small dense linear algebra SfM needs (3 × 3 rotations, symmetric eigenproblems up to
//! 9 × 9, Cholesky for the reduced camera system) — a hundred lines instead of a matrix crate
//! in every cold build.

pub type M3 = [[f64; 3]; 3];
pub type V3 = [f64; 3];

pub fn mul(a: &M3, b: &M3) -> M3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

pub fn mulv(a: &M3, v: &V3) -> V3 {
    std::array::from_fn(|i| a[i][0] * v[0] + a[i][1] * v[1] + a[i][2] * v[2])
}

pub fn transpose(a: &M3) -> M3 {
    std::array::from_fn(|i| std::array::from_fn(|j| a[j][i]))
}

pub fn sub(a: &V3, b: &V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn dot(a: &V3, b: &V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: &V3, b: &V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn norm(a: &V3) -> f64 {
    dot(a, a).sqrt()
}

pub fn det(a: &M3) -> f64 {
    dot(&a[0], &cross(&a[1], &a[2]))
}

/// Rotation matrix of the rotation vector `w` (Rodrigues).
pub fn exp_so3(w: &V3) -> M3 {
    let t = norm(w);
    let k = if t < 1e-12 {
        [0.0; 3]
    } else {
        [w[0] / t, w[1] / t, w[2] / t]
    };
    let (s, c) = t.sin_cos();
    let kx: M3 = [[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]];
    let kk = mul(&kx, &kx);
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            (if i == j { 1.0 } else { 0.0 }) + s * kx[i][j] + (1.0 - c) * kk[i][j]
        })
    })
}

/// Rotation vector of the rotation matrix `r`.
pub fn log_so3(r: &M3) -> V3 {
    let c = ((r[0][0] + r[1][1] + r[2][2] - 1.0) / 2.0).clamp(-1.0, 1.0);
    let t = c.acos();
    let v = [r[2][1] - r[1][2], r[0][2] - r[2][0], r[1][0] - r[0][1]];
    if t < 1e-9 {
        return [v[0] / 2.0, v[1] / 2.0, v[2] / 2.0];
    }
    if t > std::f64::consts::PI - 1e-6 {
        // Near π: the axis from the diagonal.
        let i = (0..3)
            .max_by(|&a, &b| r[a][a].total_cmp(&r[b][b]))
            .unwrap_or(0);
        let mut k = [0.0; 3];
        k[i] = ((r[i][i] + 1.0) / 2.0).max(0.0).sqrt();
        for j in 0..3 {
            if j != i {
                k[j] = r[i][j] / (2.0 * k[i]);
            }
        }
        return [k[0] * t, k[1] * t, k[2] * t];
    }
    let f = t / (2.0 * t.sin());
    [v[0] * f, v[1] * f, v[2] * f]
}

/// Eigen-decomposition of a symmetric n × n matrix (row-major) by cyclic Jacobi rotations:
/// eigenvalues ascending, eigenvectors as the matching rows.
pub fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    // Converged when the off-diagonal part is below 1e-13 of the matrix's norm: rounding keeps
    // it near 1e-16 of the norm for ever after, so an absolute bound (1e-30 was used) is never
    // met on matrices of ordinary scale and every call ran all 100 sweeps (a third of a
    // photo block's matching time, in the 8-point RANSAC's 9 × 9 solves).
    let norm2: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let mut off = 0.0;
        for i in 0..n {
            for j in 0..n {
                if j != i {
                    off += m[i * n + j] * m[i * n + j];
                }
            }
        }
        if off <= 1e-26 * norm2 || off < 1e-300 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| m[a * n + a].total_cmp(&m[b * n + b]));
    let vals = idx.iter().map(|&i| m[i * n + i]).collect();
    let vecs = idx
        .iter()
        .map(|&i| (0..n).map(|k| v[k * n + i]).collect())
        .collect();
    (vals, vecs)
}

/// Singular value decomposition of a 3 × 3 matrix: (U, σ descending, V) with A = U Σ Vᵀ and
/// U, V proper rotations up to the sign convention noted: det(U)·det(V) = sign(det A).
pub fn svd3(a: &M3) -> (M3, V3, M3) {
    let ata = mul(&transpose(a), a);
    let flat: Vec<f64> = ata.iter().flatten().copied().collect();
    let (vals, vecs) = sym_eigen(&flat, 3);
    // Descending.
    let order = [2usize, 1, 0];
    let vcols: [V3; 3] = order.map(|i| [vecs[i][0], vecs[i][1], vecs[i][2]]);
    let s: V3 = order.map(|i| vals[i].max(0.0).sqrt());
    let mut ucols: [V3; 3] = [[0.0; 3]; 3];
    for k in 0..2 {
        let av = mulv(a, &vcols[k]);
        let n = norm(&av);
        ucols[k] = if n > 1e-300 {
            [av[0] / n, av[1] / n, av[2] / n]
        } else {
            [0.0; 3]
        };
    }
    ucols[2] = cross(&ucols[0], &ucols[1]);
    let mut v3 = vcols;
    // Keep A = U Σ Vᵀ for the third column (σ3 may be 0): its sign follows A v3.
    let av3 = mulv(a, &v3[2]);
    if dot(&av3, &ucols[2]) < 0.0 {
        v3[2] = [-v3[2][0], -v3[2][1], -v3[2][2]];
    }
    let u: M3 = std::array::from_fn(|i| std::array::from_fn(|j| ucols[j][i]));
    let v: M3 = std::array::from_fn(|i| std::array::from_fn(|j| v3[j][i]));
    (u, s, v)
}

/// The rotation G minimising Σ |G aᵢ − bᵢ|² given H = Σ aᵢ bᵢᵀ (Kabsch 1976): with
/// H = U Σ Vᵀ, G = V diag(1, 1, ±1) Uᵀ, the sign making it a rotation, not a reflection.
pub fn kabsch(h: &M3) -> M3 {
    let (u, _, mut v) = svd3(h);
    if det(&mul(&v, &transpose(&u))) < 0.0 {
        for row in &mut v {
            row[2] = -row[2];
        }
    }
    mul(&v, &transpose(&u))
}

/// Solve the symmetric positive-definite system `a x = b` (n × n, row-major) by Cholesky;
/// `None` when `a` is not positive definite.
pub fn cholesky_solve(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    Some(x)
}

/// Inverse of a 3 × 3 matrix, `None` when singular.
pub fn inv3(a: &M3) -> Option<M3> {
    let d = det(a);
    if d.abs() < 1e-300 || !d.is_finite() {
        return None;
    }
    let c = |r: usize, s: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (s1, s2) = ((s + 1) % 3, (s + 2) % 3);
        a[r1][s1] * a[r2][s2] - a[r1][s2] * a[r2][s1]
    };
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| c(j, i) / d)
    }))
}
