//! Triangle meshes of the reconstruction: terrain, trees (trunk and crown) and pipe runs.
//!
//! Meshes live in the reconstruction's local frame: metres relative to its `origin`, Z up,
//! `f32` positions (a 10 km tile stays within ±5 km, where `f32` resolves 0.5 mm, as for point
//! clouds), with per-vertex unit normals and `u32` triangle indices, counter-clockwise seen from
//! outside. They are simple enough to render at a glance and cheap to build for thousands of
//! trees; [`crate::gltf`] writes them as GLB.

use serde::{Deserialize, Serialize};

use crate::error::{ReconstructError, Result};
use crate::model::{PipeRun, Raster, Tree};
use crate::vec3::{V3, add, cross, norm, normalize, scale, sub};

/// An indexed triangle mesh (local frame, Z up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TriMesh {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    /// Three indices per triangle, counter-clockwise seen from outside.
    pub indices: Vec<u32>,
}

impl TriMesh {
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    pub fn vertex_count(&self) -> usize {
        self.positions.len()
    }
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }
    /// Append `other` (indices re-based).
    pub fn append(&mut self, other: &TriMesh) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&other.positions);
        self.normals.extend_from_slice(&other.normals);
        self.indices.extend(other.indices.iter().map(|i| i + base));
    }
    /// Axis-aligned bounds of the vertices, `None` when empty.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let first = *self.positions.first()?;
        let (mut lo, mut hi) = (first, first);
        for p in &self.positions {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        Some((lo, hi))
    }
    fn vertex(&mut self, p: V3, n: V3) -> u32 {
        self.positions.push([p[0] as f32, p[1] as f32, p[2] as f32]);
        self.normals.push([n[0] as f32, n[1] as f32, n[2] as f32]);
        self.positions.len() as u32 - 1
    }
    fn tri(&mut self, a: u32, b: u32, c: u32) {
        self.indices.extend_from_slice(&[a, b, c]);
    }
    /// Replace the normals of the vertices from `first` on by area-weighted face normals of
    /// the triangles that use them (smooth shading).
    fn smooth_normals_from(&mut self, first: usize) {
        let n = self.positions.len();
        let mut acc = vec![[0f64; 3]; n];
        for t in self.indices.chunks_exact(3) {
            let [a, b, c] = [t[0] as usize, t[1] as usize, t[2] as usize];
            if a < first && b < first && c < first {
                continue;
            }
            let p = |i: usize| self.positions[i].map(|v| v as f64);
            let f = cross(sub(p(b), p(a)), sub(p(c), p(a)));
            for i in [a, b, c] {
                acc[i] = add(acc[i], f);
            }
        }
        for (i, a) in acc.iter().enumerate().skip(first) {
            let l = norm(*a);
            if l > 0.0 {
                self.normals[i] = [(a[0] / l) as f32, (a[1] / l) as f32, (a[2] / l) as f32];
            }
        }
    }
}

/// Two unit vectors completing unit `w` to a right-handed orthonormal frame (u, v, w).
fn frame(w: V3) -> (V3, V3) {
    let h = if w[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    let u = normalize(cross(h, w));
    let v = cross(w, u);
    (u, v)
}

// ---------------------------------------------------------------------------------------------
// Terrain.

/// Options of [`terrain`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TerrainMeshOptions {
    /// Grid step of the mesh; `None` (default) = the DTM's resolution, coarsened as needed to
    /// stay within `max_vertices`.
    pub step_m: Option<f64>,
    /// Vertex budget (default 262 144 = 512²: a 1 km² tile at 2 m, a few MB of GLB — enough for
    /// a viewer, and terrain detail below the DTM's own accuracy is noise anyway).
    pub max_vertices: usize,
}

impl Default for TerrainMeshOptions {
    fn default() -> Self {
        TerrainMeshOptions {
            step_m: None,
            max_vertices: 262_144,
        }
    }
}

/// A terrain mesh from a DTM: a regular grid (decimated to `step_m` or the vertex budget) with
/// heights interpolated bilinearly ([`Raster::sample`]); cells touching nodata are left out.
pub fn terrain(dtm: &Raster, origin: [f64; 3], opts: &TerrainMeshOptions) -> Result<TriMesh> {
    if dtm.width == 0 || dtm.height == 0 || dtm.data.len() != dtm.width * dtm.height {
        return Err(ReconstructError::Input {
            step: "terrain mesh",
            reason: format!(
                "raster {}×{} holds {} values",
                dtm.width,
                dtm.height,
                dtm.data.len()
            ),
        });
    }
    if opts.max_vertices < 4 || opts.step_m.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return Err(ReconstructError::InvalidOption {
            option: "terrain mesh",
            reason: "step must be positive and the budget at least 4 vertices".into(),
        });
    }
    let res = dtm.resolution_m;
    // The mesh spans the cell centres (where the DTM is defined).
    let ex = (dtm.width as f64 - 1.0) * res;
    let ey = (dtm.height as f64 - 1.0) * res;
    let mut step = opts.step_m.unwrap_or(res).max(1e-6);
    loop {
        let nx = (ex / step).ceil() as usize + 1;
        let ny = (ey / step).ceil() as usize + 1;
        if nx * ny <= opts.max_vertices {
            break;
        }
        step *= 1.25;
    }
    let nx = (ex / step).ceil() as usize + 1;
    let ny = (ey / step).ceil() as usize + 1;
    let x0 = dtm.x_min + 0.5 * res;
    let y0 = dtm.y_max - 0.5 * res;
    let mut mesh = TriMesh::default();
    let mut id = vec![u32::MAX; nx * ny];
    for j in 0..ny {
        let y = y0 - (j as f64 * step).min(ey);
        for i in 0..nx {
            let x = x0 + (i as f64 * step).min(ex);
            if let Some(z) = dtm.sample(x, y) {
                id[j * nx + i] = mesh.vertex(
                    [x - origin[0], y - origin[1], z - origin[2]],
                    [0.0, 0.0, 1.0],
                );
            }
        }
    }
    for j in 0..ny.saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            let tl = id[j * nx + i];
            let tr = id[j * nx + i + 1];
            let bl = id[(j + 1) * nx + i];
            let br = id[(j + 1) * nx + i + 1];
            // Rows run north to south: (bl, br, tr) and (bl, tr, tl) are counter-clockwise
            // seen from above.
            if bl != u32::MAX && br != u32::MAX && tr != u32::MAX {
                mesh.tri(bl, br, tr);
            }
            if bl != u32::MAX && tr != u32::MAX && tl != u32::MAX {
                mesh.tri(bl, tr, tl);
            }
        }
    }
    mesh.smooth_normals_from(0);
    Ok(mesh)
}

// ---------------------------------------------------------------------------------------------
// Trees.

/// Options of [`trunk`] and [`crown`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeMeshOptions {
    /// Sides of the trunk's cone frustum (default 10).
    pub trunk_sides: usize,
    /// The trunk runs from 0.2 m below ground to this fraction of the height (default 0.85:
    /// into the crown, but not through its top).
    pub trunk_top_fraction: f64,
    /// Height-to-diameter ratio used when a tree has no DBH and none is given (default 80;
    /// slenderness coefficients of dominant trees in closed stands lie around 60–100, Wang,
    /// Titus & LeMay 1998, Can. J. For. Res. 28:1171–1183; the simulator's Näslund curve gives
    /// 78 for a 25 m conifer).
    pub slenderness: f64,
    /// Crown base, as a fraction of the height, for trees without a measured one (default 0.5).
    pub default_crown_base_fraction: f64,
    /// Most outline vertices per crown ring; larger hulls are resampled (default 32).
    pub max_outline_vertices: usize,
}

impl Default for TreeMeshOptions {
    fn default() -> Self {
        TreeMeshOptions {
            trunk_sides: 10,
            trunk_top_fraction: 0.85,
            slenderness: 80.0,
            default_crown_base_fraction: 0.5,
            max_outline_vertices: 32,
        }
    }
}

/// DBH (cm) the trunk mesh uses: the tree's own, else `given`, else height / slenderness.
pub fn trunk_dbh_cm(tree: &Tree, given: Option<f64>, opts: &TreeMeshOptions) -> f64 {
    tree.dbh_cm
        .or(given)
        .filter(|d| d.is_finite() && *d > 0.0)
        .unwrap_or(100.0 * tree.height_m.max(0.5) / opts.slenderness.max(1.0))
}

/// The trunk: a vertical cone frustum whose diameter is the DBH at 1.3 m and which tapers
/// linearly to zero at the tree top (the stem form the simulator uses), from 0.2 m below
/// ground to `trunk_top_fraction` of the height. `dbh_cm` is used when the tree has no
/// observed DBH (e.g. the growth model's estimate).
pub fn trunk(
    tree: &Tree,
    dbh_cm: Option<f64>,
    origin: [f64; 3],
    opts: &TreeMeshOptions,
) -> TriMesh {
    let h = tree.height_m.max(0.5);
    let r13 = 0.005 * trunk_dbh_cm(tree, dbh_cm, opts);
    let radius_at = |z: f64| r13 * (h - z).max(0.0) / (h - 1.3).max(0.1 * h);
    let (zb, zt) = (-0.2, opts.trunk_top_fraction.clamp(0.05, 1.0) * h);
    let (rb, rt) = (radius_at(zb), radius_at(zt).max(0.002));
    let c = [
        tree.x - origin[0],
        tree.y - origin[1],
        tree.ground_z - origin[2],
    ];
    let sides = opts.trunk_sides.max(3);
    // Normal of a cone side: radial, tilted up by the taper.
    let slope = (rb - rt) / (zt - zb);
    let mut m = TriMesh::default();
    for k in 0..sides {
        let a = 2.0 * std::f64::consts::PI * k as f64 / sides as f64;
        let (s, co) = a.sin_cos();
        let n = normalize([co, s, slope]);
        m.vertex([c[0] + rb * co, c[1] + rb * s, c[2] + zb], n);
        m.vertex([c[0] + rt * co, c[1] + rt * s, c[2] + zt], n);
    }
    for k in 0..sides as u32 {
        let k1 = (k + 1) % sides as u32;
        let (b0, t0, b1, t1) = (2 * k, 2 * k + 1, 2 * k1, 2 * k1 + 1);
        m.tri(b0, b1, t1);
        m.tri(b0, t1, t0);
    }
    // Top cap (visible where the crown is sparse).
    let top = m.vertex([c[0], c[1], c[2] + zt], [0.0, 0.0, 1.0]);
    let first_cap = m.positions.len() as u32;
    for k in 0..sides {
        let a = 2.0 * std::f64::consts::PI * k as f64 / sides as f64;
        m.vertex(
            [c[0] + rt * a.cos(), c[1] + rt * a.sin(), c[2] + zt],
            [0.0, 0.0, 1.0],
        );
    }
    for k in 0..sides as u32 {
        m.tri(top, first_cap + k, first_cap + (k + 1) % sides as u32);
    }
    m
}

/// Relative width of the crown at relative height `u` (0 = crown base, 1 = top): widest at a
/// third of the crown length, rounded below, tapering to a point above — between the conifer
/// paraboloid and the broadleaf ellipsoid of the simulator's crown models.
fn crown_profile(u: f64) -> f64 {
    const W: f64 = 0.35;
    if u <= W {
        0.6 + 0.4 * (std::f64::consts::FRAC_PI_2 * u / W).sin()
    } else {
        (std::f64::consts::FRAC_PI_2 * ((u - W) / (1.0 - W)).min(1.0))
            .cos()
            .max(0.0)
            .powf(0.7)
    }
}

/// The crown: the 2-D crown outline (the tree's convex hull, or a circle of the crown
/// diameter when it has none) lofted between crown base and top with a rounded profile
/// (widest at a third of the crown length, pointed at the top), its centre drifting from the
/// hull's centroid to the treetop, closed by a flat base and an apex.
pub fn crown(tree: &Tree, origin: [f64; 3], opts: &TreeMeshOptions) -> TriMesh {
    let h = tree.height_m.max(0.5);
    let base = tree
        .crown_base_height_m
        .filter(|b| b.is_finite() && *b >= 0.0 && *b < h)
        .unwrap_or(opts.default_crown_base_fraction.clamp(0.0, 0.95) * h);
    let top_xy = [tree.x - origin[0], tree.y - origin[1]];
    let mut outline: Vec<[f64; 2]> = tree
        .hull
        .iter()
        .map(|p| [p[0] - origin[0], p[1] - origin[1]])
        .collect();
    if polygon_area(&outline) < 1e-6 {
        let r = (0.5 * tree.crown_diameter_m).max(0.25);
        outline = (0..16)
            .map(|k| {
                let a = 2.0 * std::f64::consts::PI * k as f64 / 16.0;
                [top_xy[0] + r * a.cos(), top_xy[1] + r * a.sin()]
            })
            .collect();
    }
    if polygon_area(&outline) < 0.0 {
        outline.reverse();
    }
    let max_v = opts.max_outline_vertices.max(3);
    if outline.len() > max_v {
        let n = outline.len();
        outline = (0..max_v).map(|k| outline[k * n / max_v]).collect();
    }
    let centroid = polygon_centroid(&outline);
    let z0 = tree.ground_z - origin[2] + base;
    let z1 = tree.ground_z - origin[2] + h;
    let rings = [0.0, 0.12, 0.35, 0.55, 0.72, 0.86, 0.95];
    let nv = outline.len() as u32;
    let mut m = TriMesh::default();
    for &u in &rings {
        let s = crown_profile(u);
        let c = [
            centroid[0] + (top_xy[0] - centroid[0]) * u,
            centroid[1] + (top_xy[1] - centroid[1]) * u,
        ];
        for p in &outline {
            m.vertex(
                [
                    c[0] + s * (p[0] - centroid[0]),
                    c[1] + s * (p[1] - centroid[1]),
                    z0 + u * (z1 - z0),
                ],
                [0.0, 0.0, 1.0],
            );
        }
    }
    for r in 0..rings.len() as u32 - 1 {
        for k in 0..nv {
            let k1 = (k + 1) % nv;
            let (a, b) = (r * nv + k, r * nv + k1);
            let (c, d) = ((r + 1) * nv + k, (r + 1) * nv + k1);
            m.tri(a, b, d);
            m.tri(a, d, c);
        }
    }
    let apex = m.vertex([top_xy[0], top_xy[1], z1], [0.0, 0.0, 1.0]);
    let last = (rings.len() as u32 - 1) * nv;
    for k in 0..nv {
        m.tri(last + k, last + (k + 1) % nv, apex);
    }
    m.smooth_normals_from(0);
    // Flat base with its own vertices (a crisp rim).
    let first = m.positions.len() as u32;
    let s0 = crown_profile(0.0);
    for p in &outline {
        m.vertex(
            [
                centroid[0] + s0 * (p[0] - centroid[0]),
                centroid[1] + s0 * (p[1] - centroid[1]),
                z0,
            ],
            [0.0, 0.0, -1.0],
        );
    }
    let mid = m.vertex([centroid[0], centroid[1], z0], [0.0, 0.0, -1.0]);
    for k in 0..nv {
        m.tri(mid, first + (k + 1) % nv, first + k);
    }
    m
}

fn polygon_area(p: &[[f64; 2]]) -> f64 {
    if p.len() < 3 {
        return 0.0;
    }
    let mut a = 0.0;
    for i in 0..p.len() {
        let (q, r) = (p[i], p[(i + 1) % p.len()]);
        a += q[0] * r[1] - r[0] * q[1];
    }
    0.5 * a
}

fn polygon_centroid(p: &[[f64; 2]]) -> [f64; 2] {
    let a = polygon_area(p);
    if a.abs() < 1e-12 {
        let n = p.len().max(1) as f64;
        return [
            p.iter().map(|q| q[0]).sum::<f64>() / n,
            p.iter().map(|q| q[1]).sum::<f64>() / n,
        ];
    }
    let (mut cx, mut cy) = (0.0, 0.0);
    for i in 0..p.len() {
        let (q, r) = (p[i], p[(i + 1) % p.len()]);
        let c = q[0] * r[1] - r[0] * q[1];
        cx += (q[0] + r[0]) * c;
        cy += (q[1] + r[1]) * c;
    }
    [cx / (6.0 * a), cy / (6.0 * a)]
}

// ---------------------------------------------------------------------------------------------
// Pipes.

/// Options of [`pipe_run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipeMeshOptions {
    /// Sides of each cylinder (default 16).
    pub sides: usize,
    /// Close run ends with hemispheres (default true). Two runs meeting at a bend then overlap
    /// in a ball joint, which reads as an elbow — the same model the simulator uses for bends.
    pub dome_ends: bool,
    /// Draw one cylinder from the first segment's start to the last one's end rather than one
    /// per segment (default true: gaps within a run are usually occlusion, not missing pipe).
    pub bridge_gaps: bool,
}

impl Default for PipeMeshOptions {
    fn default() -> Self {
        PipeMeshOptions {
            sides: 16,
            dome_ends: true,
            bridge_gaps: true,
        }
    }
}

/// Cylinders along a run's segments (absolute coordinates → local frame).
pub fn pipe_run(run: &PipeRun, origin: [f64; 3], opts: &PipeMeshOptions) -> TriMesh {
    let local = |p: [f64; 3]| sub(p, origin);
    let mut m = TriMesh::default();
    let pieces: Vec<(V3, V3, f64)> = if opts.bridge_gaps && !run.segments.is_empty() {
        vec![(
            local(run.segments[0].start),
            local(run.segments[run.segments.len() - 1].end),
            run.radius_m,
        )]
    } else {
        run.segments
            .iter()
            .map(|s| (local(s.start), local(s.end), s.radius_m))
            .collect()
    };
    for (a, b, r) in pieces {
        cylinder(&mut m, a, b, r, opts.sides.max(3), opts.dome_ends);
    }
    m
}

/// An open cylinder from `a` to `b` with optional hemispherical ends.
fn cylinder(m: &mut TriMesh, a: V3, b: V3, r: f64, sides: usize, domes: bool) {
    let axis = sub(b, a);
    let len = norm(axis);
    if !(len > 0.0 && r > 0.0) {
        return;
    }
    let w = scale(axis, 1.0 / len);
    let (u, v) = frame(w);
    let ring = |k: usize| {
        let t = 2.0 * std::f64::consts::PI * k as f64 / sides as f64;
        add(scale(u, t.cos()), scale(v, t.sin()))
    };
    let first = m.positions.len() as u32;
    for k in 0..sides {
        let n = ring(k);
        m.vertex(add(a, scale(n, r)), n);
        m.vertex(add(b, scale(n, r)), n);
    }
    let s = sides as u32;
    for k in 0..s {
        let k1 = (k + 1) % s;
        let (a0, b0, a1, b1) = (
            first + 2 * k,
            first + 2 * k + 1,
            first + 2 * k1,
            first + 2 * k1 + 1,
        );
        m.tri(a0, a1, b1);
        m.tri(a0, b1, b0);
    }
    if domes {
        dome(m, b, w, u, v, r, sides);
        dome(m, a, scale(w, -1.0), v, u, r, sides);
    }
}

/// A hemisphere on the disc at `c` with outward axis `w` (u, v, w right-handed).
fn dome(m: &mut TriMesh, c: V3, w: V3, u: V3, v: V3, r: f64, sides: usize) {
    let rings = (sides / 4).max(2);
    let first = m.positions.len() as u32;
    for i in 0..rings {
        let phi = std::f64::consts::FRAC_PI_2 * i as f64 / rings as f64;
        for k in 0..sides {
            let t = 2.0 * std::f64::consts::PI * k as f64 / sides as f64;
            let n = add(
                scale(add(scale(u, t.cos()), scale(v, t.sin())), phi.cos()),
                scale(w, phi.sin()),
            );
            m.vertex(add(c, scale(n, r)), n);
        }
    }
    let apex = m.vertex(add(c, scale(w, r)), w);
    let s = sides as u32;
    for i in 0..rings as u32 - 1 {
        for k in 0..s {
            let k1 = (k + 1) % s;
            let (a0, a1) = (first + i * s + k, first + i * s + k1);
            let (b0, b1) = (first + (i + 1) * s + k, first + (i + 1) * s + k1);
            m.tri(a0, a1, b1);
            m.tri(a0, b1, b0);
        }
    }
    let last = first + (rings as u32 - 1) * s;
    for k in 0..s {
        m.tri(last + k, last + (k + 1) % s, apex);
    }
}
