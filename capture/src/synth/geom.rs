//! Ray casting against the scene: analytic terrain (sphere-traced, then refined by regula
//! falsi), tapered stems, paraboloid/ellipsoid crown volumes, pipe cylinders with joint spheres
//! and support posts, found through a uniform 2-D grid walked with Amanatides–Woo DDA.
//!
//! Everything is in the *local* frame: metres relative to the scene centre at mean terrain
//! height (the cloud origin).

use super::scene::{CONIFER_STEM_TOP, Scene, SpeciesGroup, TerrainFn};

/// What a ray hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Terrain,
    /// Tree index (0-based) — stem surface.
    Stem(u32),
    /// Tree index — an interception inside the crown volume.
    Crown(u32),
    /// Pipe segment index (0-based).
    Pipe(u32),
    /// Support index (0-based).
    Support(u32),
}

/// The nearest opaque surface along a ray.
#[derive(Clone, Copy, Debug)]
pub struct SurfaceHit {
    pub t: f64,
    pub target: Target,
    /// |cos| of the incidence angle.
    pub cos_incidence: f64,
}

/// A stretch of a ray inside a crown volume, with the sub-stretch inside the crown core
/// (empty when `c0 >= c1`).
#[derive(Clone, Copy, Debug)]
pub struct CrownSpan {
    pub t0: f64,
    pub t1: f64,
    pub c0: f64,
    pub c1: f64,
    pub tree: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum CrownGeom {
    /// `r²(z) = k·(top − z)` for `base ≤ z ≤ top`.
    Paraboloid { top: f64, base: f64, k: f64 },
    /// Centre height, horizontal and vertical semi-axes.
    Ellipsoid { zc: f64, a: f64, c: f64 },
}

#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub struct TreeGeom {
    pub cx: f64,
    pub cy: f64,
    /// Stem: radius `r_bh + taper·(z_bh − z)` for `z0 ≤ z ≤ z1`.
    pub r_bh: f64,
    pub z_bh: f64,
    pub taper: f64,
    pub z0: f64,
    pub z1: f64,
    pub crown: CrownGeom,
    /// The crown core: the crown shrunk by the shell thickness (`None` when the crown is all
    /// shell).
    pub core: Option<CrownGeom>,
    /// Interception events per metre in the shell and in the core.
    pub lambda_shell: f64,
    pub lambda_core: f64,
    pub zmax: f64,
}

#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub struct PipeGeom {
    pub a: [f64; 3],
    /// Unit axis.
    pub w: [f64; 3],
    pub len: f64,
    pub r: f64,
    /// A joint sphere sits at the end vertex (an interior vertex of the run).
    pub joint: bool,
    pub zmin: f64,
    pub zmax: f64,
}

#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub struct SupportGeom {
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
    pub z0: f64,
    pub z1: f64,
}

/// The scene prepared for ray casting.
pub struct World {
    pub terrain: TerrainFn,
    pub trees: Vec<TreeGeom>,
    pub pipes: Vec<PipeGeom>,
    pub supports: Vec<SupportGeom>,
    /// Scene rectangle (local).
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    /// Vertical extent of everything (local).
    pub zmin: f64,
    pub zmax: f64,
    pub cell: f64,
    pub nx: usize,
    pub ny: usize,
    pub cell_start: Vec<u32>,
    pub cell_items: Vec<u32>,
}

/// Per-thread scratch buffers for tracing.
pub struct Scratch {
    pub stamp: Vec<u32>,
    pub ray: u32,
    pub spans: Vec<CrownSpan>,
}

impl Scratch {
    pub fn new(world: &World) -> Self {
        Scratch {
            stamp: vec![0; world.object_count()],
            ray: 0,
            spans: Vec::with_capacity(16),
        }
    }
}

#[inline]
#[doc(hidden)]
pub fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
#[doc(hidden)]
pub fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Real roots of `a t² + b t + c = 0` in ascending order (numerically stable form).
#[inline]
pub fn quadratic(a: f64, b: f64, c: f64) -> Option<(f64, f64)> {
    if a.abs() < 1e-14 {
        if b.abs() < 1e-300 {
            return None;
        }
        let t = -c / b;
        return Some((t, t));
    }
    let disc = b * b - 4.0 * a * c;
    if disc < 0.0 {
        return None;
    }
    let q = -0.5 * (b + b.signum() * disc.sqrt());
    let (t1, t2) = if q == 0.0 { (0.0, 0.0) } else { (q / a, c / q) };
    Some(if t1 <= t2 { (t1, t2) } else { (t2, t1) })
}

impl World {
    pub fn new(scene: &Scene) -> World {
        let c = scene.centre;
        let o = &scene.options;
        let terrain = scene.terrain.local_fn();
        let lad = |s: SpeciesGroup| match s {
            SpeciesGroup::Conifer => o.trees.conifer_leaf_area_density,
            SpeciesGroup::Broadleaf => o.trees.broadleaf_leaf_area_density,
        };
        let trees: Vec<TreeGeom> = scene
            .trees
            .iter()
            .map(|t| {
                let g = t.ground_z - c[2];
                let top = g + t.height_m;
                let cb = g + t.crown_base_height_m;
                let r_bh = 0.005 * t.dbh_cm;
                let z_bh = g + 1.3;
                let taper = r_bh / (top - z_bh);
                let shell = o.trees.crown_shell_m;
                let r = t.crown_radius_m;
                let (crown, core, z1) = match t.species_group {
                    SpeciesGroup::Conifer => {
                        let len = top - cb;
                        let core =
                            (r > 2.0 * shell && len > 4.0 * shell).then(|| CrownGeom::Paraboloid {
                                top: top - shell,
                                base: cb + shell,
                                k: (r - shell).powi(2) / (len - 2.0 * shell),
                            });
                        (
                            CrownGeom::Paraboloid {
                                top,
                                base: cb,
                                k: r * r / len,
                            },
                            core,
                            g + CONIFER_STEM_TOP * t.height_m,
                        )
                    }
                    SpeciesGroup::Broadleaf => {
                        let zc = 0.5 * (cb + top);
                        let c = 0.5 * (top - cb);
                        let core =
                            (r > 2.0 * shell && c > 2.0 * shell).then_some(CrownGeom::Ellipsoid {
                                zc,
                                a: r - shell,
                                c: c - shell,
                            });
                        (CrownGeom::Ellipsoid { zc, a: r, c }, core, zc)
                    }
                };
                let lambda_core = lad(t.species_group) * t.foliage;
                TreeGeom {
                    cx: t.x - c[0],
                    cy: t.y - c[1],
                    r_bh,
                    z_bh,
                    taper,
                    // Below ground by more than the ground can vary across the stem.
                    z0: g - 0.5 - terrain.lipschitz * 2.0 * r_bh,
                    z1,
                    crown,
                    core,
                    // Interception rate: G·LAD / E[f] = 0.5·LAD / 0.5 (see scan.rs).
                    lambda_shell: lambda_core * o.trees.crown_shell_density_factor,
                    lambda_core,
                    zmax: top,
                }
            })
            .collect();
        let pipes: Vec<PipeGeom> = scene
            .pipes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let a = [p.start[0] - c[0], p.start[1] - c[1], p.start[2] - c[2]];
                let b = [p.end[0] - c[0], p.end[1] - c[1], p.end[2] - c[2]];
                let d = sub(b, a);
                let len = dot(d, d).sqrt();
                let joint = scene.pipes.get(i + 1).is_some_and(|q| q.run_id == p.run_id);
                PipeGeom {
                    a,
                    w: [d[0] / len, d[1] / len, d[2] / len],
                    len,
                    r: p.radius_m,
                    joint,
                    zmin: a[2].min(b[2]) - p.radius_m,
                    zmax: a[2].max(b[2]) + p.radius_m,
                }
            })
            .collect();
        let supports: Vec<SupportGeom> = scene
            .supports
            .iter()
            .map(|s| SupportGeom {
                cx: s.base[0] - c[0],
                cy: s.base[1] - c[1],
                r: s.radius_m,
                z0: s.base[2] - c[2],
                z1: s.top[2] - c[2],
            })
            .collect();
        let (hw, hd) = (0.5 * o.width_m, 0.5 * o.depth_m);
        let mut zmax = terrain.zmax;
        trees.iter().for_each(|t| zmax = zmax.max(t.zmax));
        pipes.iter().for_each(|p| zmax = zmax.max(p.zmax));
        let cell = 5.0f64.max((o.width_m * o.depth_m / 4.0e6).sqrt());
        let nx = ((o.width_m / cell).ceil() as usize).max(1);
        let ny = ((o.depth_m / cell).ceil() as usize).max(1);
        let mut w = World {
            zmin: terrain.zmin - 0.01,
            terrain,
            trees,
            pipes,
            supports,
            x0: -hw,
            x1: hw,
            y0: -hd,
            y1: hd,
            zmax: zmax + 0.01,
            cell,
            nx,
            ny,
            cell_start: Vec::new(),
            cell_items: Vec::new(),
        };
        w.build_grid();
        w
    }

    pub fn object_count(&self) -> usize {
        self.trees.len() + self.pipes.len() + self.supports.len()
    }

    /// Interception rates in a tree's crown shell and core, per metre.
    pub fn crown_lambda(&self, tree: u32) -> (f64, f64) {
        let t = &self.trees[tree as usize];
        (t.lambda_shell, t.lambda_core)
    }

    fn cell_range(&self, lo: f64, hi: f64, origin: f64, n: usize) -> (usize, usize) {
        let a = ((lo - origin) / self.cell).floor().max(0.0) as usize;
        let b = ((hi - origin) / self.cell).floor().max(0.0) as usize;
        (a.min(n - 1), b.min(n - 1))
    }

    fn build_grid(&mut self) {
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); self.nx * self.ny];
        let nt = self.trees.len();
        let np = self.pipes.len();
        for (i, t) in self.trees.iter().enumerate() {
            let r = match t.crown {
                CrownGeom::Paraboloid { top, base, k } => (k * (top - base)).sqrt(),
                CrownGeom::Ellipsoid { a, .. } => a,
            }
            .max(t.r_bh + t.taper * (t.z_bh - t.z0));
            let (ia, ib) = self.cell_range(t.cx - r, t.cx + r, self.x0, self.nx);
            let (ja, jb) = self.cell_range(t.cy - r, t.cy + r, self.y0, self.ny);
            for j in ja..=jb {
                for ii in ia..=ib {
                    lists[j * self.nx + ii].push(i as u32);
                }
            }
        }
        let half_diag = self.cell * std::f64::consts::FRAC_1_SQRT_2;
        for (i, p) in self.pipes.iter().enumerate() {
            let b = [
                p.a[0] + p.w[0] * p.len,
                p.a[1] + p.w[1] * p.len,
                p.a[2] + p.w[2] * p.len,
            ];
            let r = p.r;
            let (ia, ib) =
                self.cell_range(p.a[0].min(b[0]) - r, p.a[0].max(b[0]) + r, self.x0, self.nx);
            let (ja, jb) =
                self.cell_range(p.a[1].min(b[1]) - r, p.a[1].max(b[1]) + r, self.y0, self.ny);
            for j in ja..=jb {
                for ii in ia..=ib {
                    let cx = self.x0 + (ii as f64 + 0.5) * self.cell;
                    let cy = self.y0 + (j as f64 + 0.5) * self.cell;
                    let d = seg_dist_2d([cx, cy], [p.a[0], p.a[1]], [b[0], b[1]]);
                    if d <= r + half_diag + 1e-9 {
                        lists[j * self.nx + ii].push((nt + i) as u32);
                    }
                }
            }
        }
        for (i, s) in self.supports.iter().enumerate() {
            let (ia, ib) = self.cell_range(s.cx - s.r, s.cx + s.r, self.x0, self.nx);
            let (ja, jb) = self.cell_range(s.cy - s.r, s.cy + s.r, self.y0, self.ny);
            for j in ja..=jb {
                for ii in ia..=ib {
                    lists[j * self.nx + ii].push((nt + np + i) as u32);
                }
            }
        }
        self.cell_start = Vec::with_capacity(lists.len() + 1);
        self.cell_items.clear();
        self.cell_start.push(0);
        for l in &lists {
            self.cell_items.extend_from_slice(l);
            self.cell_start.push(self.cell_items.len() as u32);
        }
    }

    /// Clip `[t0, t1]` of the ray to the scene box; `None` when it misses.
    pub fn clip(&self, o: [f64; 3], d: [f64; 3], t0: f64, t1: f64) -> Option<(f64, f64)> {
        let mut lo = t0;
        let mut hi = t1;
        let bounds = [
            (self.x0, self.x1),
            (self.y0, self.y1),
            (self.zmin, self.zmax),
        ];
        for (k, (a, b)) in bounds.iter().enumerate() {
            if d[k].abs() < 1e-15 {
                if o[k] < *a || o[k] > *b {
                    return None;
                }
            } else {
                let inv = 1.0 / d[k];
                let (ta, tb) = ((a - o[k]) * inv, (b - o[k]) * inv);
                let (ta, tb) = if ta <= tb { (ta, tb) } else { (tb, ta) };
                lo = lo.max(ta);
                hi = hi.min(tb);
            }
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// First terrain crossing in `[t0, t1]`.
    pub fn terrain_hit(&self, o: [f64; 3], d: [f64; 3], t0: f64, t1: f64) -> Option<f64> {
        const MIN_STEP: f64 = 0.04;
        let tf = &self.terrain;
        // Only where the ray is inside the terrain's height slab.
        let (mut ta, t1) = if d[2].abs() < 1e-15 {
            if o[2] < tf.zmin || o[2] > tf.zmax {
                return None;
            }
            (t0, t1)
        } else {
            let a = (tf.zmin - 1e-6 - o[2]) / d[2];
            let b = (tf.zmax + 1e-6 - o[2]) / d[2];
            (t0.max(a.min(b)), t1.min(a.max(b)))
        };
        if ta > t1 {
            return None;
        }
        let g = |t: f64| o[2] + t * d[2] - tf.height(o[0] + t * d[0], o[1] + t * d[1]);
        let lip = d[2].abs() + tf.lipschitz * d[0].hypot(d[1]) + 1e-12;
        let mut ga = g(ta);
        if ga <= 0.0 {
            // Starts at or below the ground: no visible crossing.
            return None;
        }
        loop {
            let mut tb = ta + (ga / lip).max(MIN_STEP);
            let last = tb >= t1;
            if last {
                tb = t1;
            }
            let gb = g(tb);
            if gb <= 0.0 {
                return Some(refine(&g, ta, ga, tb, gb));
            }
            if last {
                return None;
            }
            ta = tb;
            ga = gb;
        }
    }

    /// Unit normal of the terrain at a local position.
    pub fn terrain_normal(&self, x: f64, y: f64) -> [f64; 3] {
        let g = self.terrain.gradient(x, y);
        let n = (g[0] * g[0] + g[1] * g[1] + 1.0).sqrt();
        [-g[0] / n, -g[1] / n, 1.0 / n]
    }

    /// Cast a ray over `[tmin, tmax]`: returns the nearest opaque hit and fills `s.spans` with
    /// the crown stretches before it (unsorted, not yet clipped to the opaque hit).
    pub fn trace(
        &self,
        o: [f64; 3],
        d: [f64; 3],
        tmin: f64,
        tmax: f64,
        s: &mut Scratch,
    ) -> Option<SurfaceHit> {
        s.spans.clear();
        let (t0, t1) = self.clip(o, d, tmin, tmax)?;
        s.ray = s.ray.wrapping_add(1);
        if s.ray == 0 {
            s.stamp.iter_mut().for_each(|v| *v = 0);
            s.ray = 1;
        }
        let mut best: Option<SurfaceHit> = self.terrain_hit(o, d, t0, t1).map(|t| {
            let n = self.terrain_normal(o[0] + t * d[0], o[1] + t * d[1]);
            SurfaceHit {
                t,
                target: Target::Terrain,
                cos_incidence: dot(n, d).abs(),
            }
        });
        let limit = |best: &Option<SurfaceHit>| best.map_or(t1, |b| b.t.min(t1));
        // DDA over the grid in xy.
        let px = o[0] + t0 * d[0];
        let py = o[1] + t0 * d[1];
        let mut ix = (((px - self.x0) / self.cell).floor().max(0.0) as usize).min(self.nx - 1);
        let mut iy = (((py - self.y0) / self.cell).floor().max(0.0) as usize).min(self.ny - 1);
        let axis = |dk: f64, i: usize, p0: f64, ok: f64| -> (i64, f64, f64) {
            if dk > 1e-15 {
                let next = p0 + (i as f64 + 1.0) * self.cell;
                (1, (next - ok) / dk, self.cell / dk)
            } else if dk < -1e-15 {
                let next = p0 + i as f64 * self.cell;
                (-1, (next - ok) / dk, -self.cell / dk)
            } else {
                (0, f64::INFINITY, f64::INFINITY)
            }
        };
        let (sx, mut tmx, dtx) = axis(d[0], ix, self.x0, o[0]);
        let (sy, mut tmy, dty) = axis(d[1], iy, self.y0, o[1]);
        let mut tc = t0;
        loop {
            let t_exit = tmx.min(tmy).min(t1);
            let cell = iy * self.nx + ix;
            let (za, zb) = (o[2] + tc * d[2], o[2] + t_exit * d[2]);
            let (zlo, zhi) = if za <= zb { (za, zb) } else { (zb, za) };
            let items = &self.cell_items
                [self.cell_start[cell] as usize..self.cell_start[cell + 1] as usize];
            for &id in items {
                let id = id as usize;
                if s.stamp[id] == s.ray {
                    continue;
                }
                let lim = limit(&best);
                if id < self.trees.len() {
                    let t = &self.trees[id];
                    if zlo > t.zmax {
                        continue;
                    }
                    s.stamp[id] = s.ray;
                    if let Some(h) = stem_hit(t, o, d, t0, lim) {
                        best = Some(SurfaceHit {
                            target: Target::Stem(id as u32),
                            ..h
                        });
                    }
                    if let Some((a, b)) = crown_span(&t.crown, t.cx, t.cy, o, d) {
                        let a = a.max(t0);
                        let b = b.min(t1);
                        if a < b {
                            let (c0, c1) = t
                                .core
                                .and_then(|c| crown_span(&c, t.cx, t.cy, o, d))
                                .unwrap_or((0.0, 0.0));
                            s.spans.push(CrownSpan {
                                t0: a,
                                t1: b,
                                c0,
                                c1,
                                tree: id as u32,
                            });
                        }
                    }
                } else if id < self.trees.len() + self.pipes.len() {
                    let k = id - self.trees.len();
                    let p = &self.pipes[k];
                    if zlo > p.zmax || zhi < p.zmin {
                        continue;
                    }
                    s.stamp[id] = s.ray;
                    if let Some(h) = pipe_hit(p, o, d, t0, lim) {
                        best = Some(SurfaceHit {
                            target: Target::Pipe(k as u32),
                            ..h
                        });
                    }
                } else {
                    let k = id - self.trees.len() - self.pipes.len();
                    let sp = &self.supports[k];
                    if zlo > sp.z1 {
                        continue;
                    }
                    s.stamp[id] = s.ray;
                    if let Some(h) =
                        vcone_hit(sp.cx, sp.cy, sp.r, 0.0, 0.0, sp.z0, sp.z1, o, d, t0, lim)
                    {
                        best = Some(SurfaceHit {
                            target: Target::Support(k as u32),
                            ..h
                        });
                    }
                }
            }
            if t_exit >= limit(&best) {
                break;
            }
            // Step to the next cell.
            if tmx <= tmy {
                let n = ix as i64 + sx;
                if n < 0 || n >= self.nx as i64 {
                    break;
                }
                ix = n as usize;
                tc = tmx;
                tmx += dtx;
            } else {
                let n = iy as i64 + sy;
                if n < 0 || n >= self.ny as i64 {
                    break;
                }
                iy = n as usize;
                tc = tmy;
                tmy += dty;
            }
        }
        best
    }
}

pub fn seg_dist_2d(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let ap = [p[0] - a[0], p[1] - a[1]];
    let l2 = ab[0] * ab[0] + ab[1] * ab[1];
    let s = if l2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ap[0] - s * ab[0]).hypot(ap[1] - s * ab[1])
}

/// Illinois-variant regula falsi on a bracket with `ga > 0 ≥ gb`.
pub fn refine(g: &impl Fn(f64) -> f64, mut a: f64, mut ga: f64, mut b: f64, mut gb: f64) -> f64 {
    let mut side = 0i8;
    let mut c = b;
    for _ in 0..60 {
        c = (a * gb - b * ga) / (gb - ga);
        if !(c > a && c < b) {
            c = 0.5 * (a + b);
        }
        let gc = g(c);
        if gc.abs() < 1e-10 || b - a < 1e-9 {
            return c;
        }
        if gc > 0.0 {
            a = c;
            ga = gc;
            if side == 1 {
                gb *= 0.5;
            }
            side = 1;
        } else {
            b = c;
            gb = gc;
            if side == -1 {
                ga *= 0.5;
            }
            side = -1;
        }
    }
    c
}

/// Vertical cone frustum (radius `r_ref + taper·(z_ref − z)`, `z0 ≤ z ≤ z1`, open ends): first
/// surface point in `(tmin, tmax)`. Seen from outside this is the outer wall; through an open
/// end, the inner wall.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn vcone_hit(
    cx: f64,
    cy: f64,
    r_ref: f64,
    z_ref: f64,
    taper: f64,
    z0: f64,
    z1: f64,
    o: [f64; 3],
    d: [f64; 3],
    tmin: f64,
    tmax: f64,
) -> Option<SurfaceHit> {
    let ux = o[0] - cx;
    let uy = o[1] - cy;
    let alpha = r_ref + taper * (z_ref - o[2]);
    let beta = -taper * d[2];
    // Quick reject: the ray's xy line passes farther from the axis than the widest radius.
    let dxy2 = d[0] * d[0] + d[1] * d[1];
    let rmax = r_ref + taper * (z_ref - z0);
    if dxy2 > 1e-12 {
        let cross = ux * d[1] - uy * d[0];
        if cross * cross > rmax * rmax * dxy2 * 1.000001 + 1e-12 {
            return None;
        }
    }
    let a = dxy2 - beta * beta;
    let b = 2.0 * (ux * d[0] + uy * d[1] - alpha * beta);
    let c = ux * ux + uy * uy - alpha * alpha;
    let (r1, r2) = quadratic(a, b, c)?;
    for t in [r1, r2] {
        if t <= tmin || t >= tmax {
            continue;
        }
        let z = o[2] + t * d[2];
        if z < z0 || z > z1 || alpha + beta * t < 0.0 {
            continue;
        }
        let nx = ux + t * d[0];
        let ny = uy + t * d[1];
        let nr = nx.hypot(ny);
        let cos = if nr > 0.0 {
            ((nx * d[0] + ny * d[1]) / nr).abs()
        } else {
            1.0
        };
        return Some(SurfaceHit {
            t,
            target: Target::Terrain,
            cos_incidence: cos,
        });
    }
    None
}

#[inline]
#[doc(hidden)]
pub fn stem_hit(
    t: &TreeGeom,
    o: [f64; 3],
    d: [f64; 3],
    tmin: f64,
    tmax: f64,
) -> Option<SurfaceHit> {
    vcone_hit(
        t.cx, t.cy, t.r_bh, t.z_bh, t.taper, t.z0, t.z1, o, d, tmin, tmax,
    )
}

/// Interval of the ray inside a crown volume (not clipped to any range).
#[inline]
#[doc(hidden)]
pub fn crown_span(c: &CrownGeom, cx: f64, cy: f64, o: [f64; 3], d: [f64; 3]) -> Option<(f64, f64)> {
    let ux = o[0] - cx;
    let uy = o[1] - cy;
    match *c {
        CrownGeom::Paraboloid { top, base, k } => {
            // Quick reject by the base radius.
            let dxy2 = d[0] * d[0] + d[1] * d[1];
            let r2 = k * (top - base);
            if dxy2 > 1e-12 {
                let cross = ux * d[1] - uy * d[0];
                if cross * cross > r2 * dxy2 {
                    return None;
                }
            } else if ux * ux + uy * uy > r2 {
                return None;
            }
            // Inside: f(t) = |u + t dxy|² − k (top − oz − t dz) ≤ 0, and z ≥ base.
            let a = dxy2;
            let b = 2.0 * (ux * d[0] + uy * d[1]) + k * d[2];
            let cc = ux * ux + uy * uy - k * (top - o[2]);
            let (mut lo, mut hi) = if a < 1e-14 {
                if b.abs() < 1e-300 {
                    if cc <= 0.0 {
                        (f64::NEG_INFINITY, f64::INFINITY)
                    } else {
                        return None;
                    }
                } else if b > 0.0 {
                    (f64::NEG_INFINITY, -cc / b)
                } else {
                    (-cc / b, f64::INFINITY)
                }
            } else {
                quadratic(a, b, cc)?
            };
            if d[2].abs() < 1e-15 {
                if o[2] < base {
                    return None;
                }
            } else {
                let tb = (base - o[2]) / d[2];
                if d[2] < 0.0 {
                    hi = hi.min(tb);
                } else {
                    lo = lo.max(tb);
                }
            }
            (lo < hi).then_some((lo, hi))
        }
        CrownGeom::Ellipsoid { zc, a, c: cz } => {
            let dxy2 = d[0] * d[0] + d[1] * d[1];
            if dxy2 > 1e-12 {
                let cross = ux * d[1] - uy * d[0];
                if cross * cross > a * a * dxy2 {
                    return None;
                }
            } else if ux * ux + uy * uy > a * a {
                return None;
            }
            let ia2 = 1.0 / (a * a);
            let ic2 = 1.0 / (cz * cz);
            let uz = o[2] - zc;
            let qa = dxy2 * ia2 + d[2] * d[2] * ic2;
            let qb = 2.0 * ((ux * d[0] + uy * d[1]) * ia2 + uz * d[2] * ic2);
            let qc = (ux * ux + uy * uy) * ia2 + uz * uz * ic2 - 1.0;
            let (lo, hi) = quadratic(qa, qb, qc)?;
            (lo < hi).then_some((lo, hi))
        }
    }
}

/// Open finite cylinder plus the joint sphere at its end vertex.
#[inline]
pub fn pipe_hit(
    p: &PipeGeom,
    o: [f64; 3],
    d: [f64; 3],
    tmin: f64,
    tmax: f64,
) -> Option<SurfaceHit> {
    let m = sub(o, p.a);
    let md = dot(m, p.w);
    let dd = dot(d, p.w);
    let mp = [m[0] - md * p.w[0], m[1] - md * p.w[1], m[2] - md * p.w[2]];
    let dp = [d[0] - dd * p.w[0], d[1] - dd * p.w[1], d[2] - dd * p.w[2]];
    let a = dot(dp, dp);
    let mut best: Option<SurfaceHit> = None;
    let mut lim = tmax;
    if a > 1e-14 {
        let b = 2.0 * dot(mp, dp);
        let c = dot(mp, mp) - p.r * p.r;
        if let Some((r1, r2)) = quadratic(a, b, c) {
            for t in [r1, r2] {
                if t <= tmin || t >= lim {
                    continue;
                }
                let s = md + t * dd;
                if !(0.0..=p.len).contains(&s) {
                    continue;
                }
                let n = [mp[0] + t * dp[0], mp[1] + t * dp[1], mp[2] + t * dp[2]];
                let cos = (dot(n, d) / p.r).abs().min(1.0);
                best = Some(SurfaceHit {
                    t,
                    target: Target::Terrain,
                    cos_incidence: cos,
                });
                lim = t;
                break;
            }
        }
    }
    if p.joint {
        let cen = [
            p.a[0] + p.w[0] * p.len,
            p.a[1] + p.w[1] * p.len,
            p.a[2] + p.w[2] * p.len,
        ];
        let m = sub(o, cen);
        let b = 2.0 * dot(m, d);
        let c = dot(m, m) - p.r * p.r;
        if let Some((r1, r2)) = quadratic(dot(d, d), b, c) {
            for t in [r1, r2] {
                if t <= tmin || t >= lim {
                    continue;
                }
                let n = [m[0] + t * d[0], m[1] + t * d[1], m[2] + t * d[2]];
                let cos = (dot(n, d) / p.r).abs().min(1.0);
                best = Some(SurfaceHit {
                    t,
                    target: Target::Terrain,
                    cos_incidence: cos,
                });
                break;
            }
        }
    }
    best
}
