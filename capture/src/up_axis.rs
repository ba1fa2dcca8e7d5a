//! Which way is up? Phone and game-engine exports (ARKit, RealityKit, Polycam, Scaniverse,
//! glTF) are Y-up; LiDAR and GIS are Z-up. Guessing wrong lays a forest on its side, so the
//! decision and its reason are recorded in provenance (`twinmint info` prints both), and `--up`
//! overrides it.
//!
//! # Decision
//! 1. **Proof.** A file proves it is Z-up when it was written by TwinMint (which always writes
//!    Z-up), or when it sits at *map coordinates*: both horizontal coordinates of its centre at
//!    least [`MAP_COORDINATE_M`] from the origin (projected CRS eastings/northings; a phone or a
//!    scanner's own frame starts near 0) and the third within it (an elevation), or lon/lat
//!    under a geographic CRS. Georeferenced LAS/LAZ/E57 files are thereby Z-up without geometry
//!    checks — whatever the format, unless a phone-app producer string says otherwise.
//! 2. **Geometry** for everything else: files without a CRS or with local coordinates (a
//!    terrestrial scan of one plot, a phone scan), in any format, LAS included. Each candidate
//!    axis (Y, Z) is scored on evidence from the points themselves (see [`GeometryEvidence`]):
//!    - *ground plane*: the lowest layer along the candidate axis (points within a thin band
//!      above the lowest point of their column, on a coarse grid across the other two axes)
//!      is the ground when that axis is up, so its surface normals (local PCA) point along it;
//!      when the axis is horizontal, that "lowest layer" is the near side of stems and crowns,
//!      with normals in every direction;
//!    - *point distribution*: ground is a dense thin layer at the low end of the up axis, so
//!      the lowest layer holds a large share of all points only along the true up axis;
//!    - *stems*: linear structures (trunks, posts, walls' edges) stand along the up axis;
//!      a local neighbourhood is linear, planar or volumetric after the dimensionality
//!      features of Demantké, Mallet, David & Vallet 2011 ("Dimensionality based scale
//!      selection in 3D lidar point clouds", ISPRS Archives XXXVIII-5/W12);
//!    - *stored normals*, when the file has them (meshes): floors and ground face up.
//!
//!    Each evidence votes `w · clamp(ln((share_Y + 0.02) / (share_Z + 0.02)), ±2)` (positive =
//!    Y), weights 2 (ground plane), 1 (distribution), 1.5 (stems), 1 (stored normals). Priors
//!    are added: +1 for a phone-app producer string (see [`Y_UP_PRODUCERS`]; such apps export
//!    Y-up, though some also write Z-up LAS, so geometry can overrule the string), −0.5 for
//!    LAS/LAZ/E57 (ASPRS and ASTM E2807 define Z as up). The sign of the sum decides; the
//!    reason lists every vote, says when the votes conflict, and says when the geometry was
//!    inconclusive (|geometry| < 1) so that a prior decided.
//!
//! Only Y-up and Z-up are candidates (the two conventions in use; [`UpAxis`]).

use std::collections::HashMap;

use rayon::prelude::*;

use crate::cloud::PointCloud;
use crate::provenance::{Source, UpAxis};

/// Producers known to export Y-up geometry, matched case-insensitively in the file's
/// generating software, system identifier / device, or comment text.
pub const Y_UP_PRODUCERS: [&str; 12] = [
    "polycam",
    "scaniverse",
    "3d scanner app",
    "sitescape",
    "record3d",
    "everypoint",
    "arkit",
    "realitykit",
    "object capture",
    "luma",
    "kiri",
    "gltf",
];

/// Centre coordinates at least this far from the origin (both horizontal axes) are map
/// coordinates: 10 km, beyond the reach of any terrestrial or phone scan's local frame, while
/// UTM eastings start at 166 km and national grids are offset by hundreds of km.
pub const MAP_COORDINATE_M: f64 = 10_000.0;

/// Points kept for the geometric analysis (voxel-thinned to about this many).
const MAX_SAMPLE: usize = 200_000;

/// Per-axis measurements behind a geometric decision; index 0 is Y, 1 is Z.
#[derive(Clone, Debug, PartialEq)]
pub struct GeometryEvidence {
    /// Points analysed (after voxel thinning) and the voxel edge.
    pub points: usize,
    pub voxel_m: f64,
    /// Neighbourhood radii for normals and for linear structures.
    pub radius_m: f64,
    pub linear_radius_m: f64,
    /// Share of the lowest layer's planar points whose normal is within 25° of the axis; `None`
    /// with fewer than 20 planar points in the layer.
    pub ground_facing: [Option<f64>; 2],
    /// Share of all analysed points in the lowest layer along the axis.
    pub lowest_layer_share: [f64; 2],
    /// Share of linear points whose direction is within 20° of the axis; `None` when under 1 %
    /// of the points (and under 30) are linear.
    pub linear_along: [Option<f64>; 2],
    /// Linear points found.
    pub linear_points: usize,
    /// Share of the file's normals within 25° of the axis, when the file stores normals.
    pub stored_normals: Option<[f64; 2]>,
}

/// One weighted vote; positive favours Y.
struct Vote {
    name: &'static str,
    weight: f64,
    y: f64,
    z: f64,
    what: &'static str,
}

impl Vote {
    fn value(&self) -> f64 {
        self.weight * ((self.y + 0.02) / (self.z + 0.02)).ln().clamp(-2.0, 2.0)
    }
    fn describe(&self) -> String {
        let v = self.value();
        let axis = if v > 0.0 { "Y" } else { "Z" };
        format!(
            "{} {} ({:.0} % {} along Y vs {:.0} % along Z; vote {:+.1})",
            self.name,
            if v.abs() < 0.05 {
                "undecided".to_string()
            } else {
                format!("favours {axis}")
            },
            100.0 * self.y,
            self.what,
            100.0 * self.z,
            v
        )
    }
}

/// The phone-app producer named in the source's metadata, if any.
pub fn y_up_producer(source: &Source) -> Option<&'static str> {
    let text = [
        &source.generating_software,
        &source.system_identifier,
        &source.device,
    ]
    .iter()
    .filter_map(|s| s.as_deref())
    .collect::<Vec<_>>()
    .join(" ")
    .to_ascii_lowercase();
    Y_UP_PRODUCERS.iter().copied().find(|p| text.contains(p))
}

/// Why the file itself proves it is Z-up, if it does (see the module docs).
pub fn proof_of_z_up(cloud: &PointCloud, source: &Source) -> Option<String> {
    // First: TwinMint keeps the source's device in the system identifier, so a converted
    // phone scan still names its app there, but its points are Z-up by now.
    if source
        .generating_software
        .as_deref()
        .is_some_and(|s| s.trim_start().to_ascii_lowercase().starts_with("twinmint"))
    {
        return Some("written by TwinMint, which always writes Z-up".into());
    }
    if y_up_producer(source).is_some() {
        return None;
    }
    if cloud.is_empty() {
        return None;
    }
    let c = cloud.bounds().center();
    let crs = if source.crs.is_unknown() {
        cloud.crs.clone()
    } else {
        source.crs.clone()
    };
    if crs.is_geographic() && c[0].abs() <= 180.0 && c[1].abs() <= 90.0 {
        return Some(format!(
            "{} longitude/latitude with {}: Z is the height",
            source.format,
            crs.label()
        ));
    }
    if c[0].abs() >= MAP_COORDINATE_M
        && c[1].abs() >= MAP_COORDINATE_M
        && c[2].abs() < MAP_COORDINATE_M
    {
        let with = if crs.is_unknown() {
            "no CRS record".to_string()
        } else {
            crs.label()
        };
        return Some(format!(
            "{} at map coordinates ({:.0} km E, {:.0} km N; {with}): Z is the elevation",
            source.format,
            c[0] / 1000.0,
            c[1] / 1000.0
        ));
    }
    None
}

/// Decide the up axis of a cloud read with `--up auto`: the file's proof if it has one,
/// otherwise the geometry with the producer and format priors (module docs).
pub fn detect(cloud: &PointCloud, source: &Source) -> (UpAxis, String) {
    if let Some(why) = proof_of_z_up(cloud, source) {
        return (UpAxis::Z, why);
    }
    let mut votes = Vec::new();
    let geometry = from_geometry(cloud);
    if let Some(g) = &geometry {
        if let [Some(y), Some(z)] = g.ground_facing {
            votes.push(Vote {
                name: "ground plane",
                weight: 2.0,
                y,
                z,
                what: "of the lowest layer's normals",
            });
        }
        votes.push(Vote {
            name: "point distribution",
            weight: 1.0,
            y: g.lowest_layer_share[0],
            z: g.lowest_layer_share[1],
            what: "of the points in a thin lowest layer",
        });
        if let [Some(y), Some(z)] = g.linear_along {
            votes.push(Vote {
                name: "stems",
                weight: 1.5,
                y,
                z,
                what: "of the elongated structures",
            });
        }
        if let Some([y, z]) = g.stored_normals {
            votes.push(Vote {
                name: "stored normals",
                weight: 1.0,
                y,
                z,
                what: "of the file's normals",
            });
        }
    }
    let geo: f64 = votes.iter().map(Vote::value).sum();
    let mut priors: Vec<(f64, String)> = Vec::new();
    if let Some(p) = y_up_producer(source) {
        priors.push((
            1.0,
            format!("produced by {p:?}, which exports Y-up (prior +1.0)"),
        ));
    }
    if matches!(source.format.as_str(), "LAS" | "LAZ" | "E57") {
        priors.push((
            -0.5,
            format!(
                "{} is Z-up by definition, but has no map coordinates (prior −0.5)",
                source.format
            ),
        ));
    }
    let total = geo + priors.iter().map(|p| p.0).sum::<f64>();
    let up = if total > 0.0 { UpAxis::Y } else { UpAxis::Z };
    let name = if up == UpAxis::Y { "Y" } else { "Z" };
    let mut parts: Vec<String> = Vec::new();
    match &geometry {
        None => parts.push("too few points for the geometry".into()),
        Some(g) => {
            parts.extend(votes.iter().map(Vote::describe));
            let sure = votes.iter().filter(|v| v.value().abs() >= 0.5);
            let (py, pz) = sure.fold((0, 0), |(y, z), v| {
                if v.value() > 0.0 {
                    (y + 1, z)
                } else {
                    (y, z + 1)
                }
            });
            if py > 0 && pz > 0 {
                parts.push(format!(
                    "evidence conflicts ({py} for Y, {pz} for Z): the weighted sum decides"
                ));
            }
            if geo.abs() < 1.0 {
                parts.push(format!(
                    "geometry inconclusive ({geo:+.1}; {} points analysed)",
                    g.points
                ));
            }
        }
    }
    parts.extend(priors.into_iter().map(|p| p.1));
    let reason = format!(
        "{name}-up from the {} (score {total:+.1}, positive = Y): {}",
        if geometry.is_some() && geo.abs() >= 1.0 {
            "geometry"
        } else {
            "priors"
        },
        parts.join("; ")
    );
    (up, reason)
}

/// The geometric evidence of `cloud` (module docs); `None` with fewer than 50 points.
pub fn from_geometry(cloud: &PointCloud) -> Option<GeometryEvidence> {
    if cloud.len() < 50 {
        return None;
    }
    // Stride first for very large clouds, then thin to about MAX_SAMPLE voxels.
    let stride = cloud.len().div_ceil(4 * MAX_SAMPLE).max(1);
    let raw: Vec<[f64; 3]> = cloud
        .positions
        .iter()
        .step_by(stride)
        .filter(|p| p.iter().all(|v| v.is_finite()))
        .map(|p| [p[0] as f64, p[1] as f64, p[2] as f64])
        .collect();
    if raw.len() < 50 {
        return None;
    }
    let e = cloud.bounds().extent();
    let diag = e[0].max(e[1]).max(e[2]);
    if !(diag.is_finite() && diag > 0.0) {
        return None;
    }
    let mut voxel = (diag / 250.0).clamp(1e-4, 0.25);
    let mut pts = thin(&raw, voxel);
    for _ in 0..4 {
        if pts.len() <= MAX_SAMPLE {
            break;
        }
        voxel *= (pts.len() as f64 / MAX_SAMPLE as f64).sqrt() * 1.05;
        pts = thin(&raw, voxel);
    }
    if pts.len() < 50 {
        return None;
    }
    // Normal radius: at least 3 voxels, and enough neighbours (median ≥ 10) for sparse clouds.
    let mut radius = 3.0 * voxel;
    let mut grid = Grid::new(&pts, radius);
    for _ in 0..12 {
        let step = (pts.len() / 256).max(1);
        let mut counts: Vec<usize> = (0..pts.len())
            .step_by(step)
            .map(|i| grid.count(&pts, pts[i], radius))
            .collect();
        counts.sort_unstable();
        if counts[counts.len() / 2] >= 10 || radius > diag / 8.0 {
            break;
        }
        radius *= 1.5;
        grid = Grid::new(&pts, radius);
    }
    let normals: Vec<Option<[f64; 3]>> = (0..pts.len())
        .into_par_iter()
        .map(|i| {
            let nb = grid.within(&pts, pts[i], radius);
            match local_shape(&pts, &nb) {
                Some((Shape::Planar, d)) => Some(d),
                _ => None,
            }
        })
        .collect();
    // Linear structures at 2.5 × the normal radius, on at most 40 000 points.
    let linear_radius = 2.5 * radius;
    let lgrid = Grid::new(&pts, linear_radius);
    let lstep = pts.len().div_ceil(40_000).max(1);
    let lines: Vec<[f64; 3]> = (0..pts.len())
        .into_par_iter()
        .step_by(lstep)
        .filter_map(|i| {
            let nb = lgrid.within(&pts, pts[i], linear_radius);
            match local_shape(&pts, &nb) {
                Some((Shape::Linear, d)) => Some(d),
                _ => None,
            }
        })
        .collect();
    let evaluated = pts.len().div_ceil(lstep);
    let enough_lines = lines.len() >= 30 && lines.len() * 100 >= evaluated;
    let cos20 = 20f64.to_radians().cos();
    let cos25 = 25f64.to_radians().cos();
    let mut ev = GeometryEvidence {
        points: pts.len(),
        voxel_m: voxel,
        radius_m: radius,
        linear_radius_m: linear_radius,
        ground_facing: [None; 2],
        lowest_layer_share: [0.0; 2],
        linear_along: [None; 2],
        linear_points: lines.len(),
        stored_normals: None,
    };
    // Lowest-layer cells: about 25 across the scene, never finer than 4 normal radii.
    let cell = (diag / 25.0).max(4.0 * radius);
    let band = (0.25 * cell).max(radius);
    for (k, axis) in [1usize, 2].into_iter().enumerate() {
        let layer = lowest_layer(&pts, axis, cell, band);
        ev.lowest_layer_share[k] = layer.len() as f64 / pts.len() as f64;
        let planar: Vec<[f64; 3]> = layer.iter().filter_map(|&i| normals[i]).collect();
        if planar.len() >= 20 {
            let facing = planar.iter().filter(|n| n[axis].abs() >= cos25).count();
            ev.ground_facing[k] = Some(facing as f64 / planar.len() as f64);
        }
        if enough_lines {
            let along = lines.iter().filter(|d| d[axis].abs() >= cos20).count();
            ev.linear_along[k] = Some(along as f64 / lines.len() as f64);
        }
    }
    if let Some(n) = &cloud.normals
        && !n.is_empty()
    {
        let share = |axis: usize| {
            n.iter()
                .filter(|v| {
                    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                    l > 0.0 && (v[axis] / l).abs() as f64 >= cos25
                })
                .count() as f64
                / n.len() as f64
        };
        ev.stored_normals = Some([share(1), share(2)]);
    }
    Some(ev)
}

/// First point per voxel of edge `s`.
fn thin(pts: &[[f64; 3]], s: f64) -> Vec<[f64; 3]> {
    let mut seen = std::collections::HashSet::with_capacity(pts.len() / 2);
    pts.iter()
        .filter(|p| seen.insert(key(**p, s)))
        .copied()
        .collect()
}

fn key(p: [f64; 3], s: f64) -> [i64; 3] {
    [
        (p[0] / s).floor() as i64,
        (p[1] / s).floor() as i64,
        (p[2] / s).floor() as i64,
    ]
}

/// Points within `band` of the (robust) lowest point of their column along `axis`, columns
/// being `cell`-sized squares across the other two axes. The lowest point is the 2nd
/// percentile of the column, so a stray point below the ground does not lift the layer off it.
fn lowest_layer(pts: &[[f64; 3]], axis: usize, cell: f64, band: f64) -> Vec<usize> {
    let (a, b) = match axis {
        1 => (0, 2),
        _ => (0, 1),
    };
    let col = |p: &[f64; 3]| ((p[a] / cell).floor() as i64, (p[b] / cell).floor() as i64);
    let mut cols: HashMap<(i64, i64), Vec<f64>> = HashMap::new();
    for p in pts {
        cols.entry(col(p)).or_default().push(p[axis]);
    }
    let floor: HashMap<(i64, i64), f64> = cols
        .into_iter()
        .map(|(k, mut v)| {
            let n = v.len() / 50;
            let (_, x, _) = v.select_nth_unstable_by(n, f64::total_cmp);
            (k, *x)
        })
        .collect();
    (0..pts.len())
        .filter(|&i| {
            let f = floor[&col(&pts[i])];
            pts[i][axis] - f <= band && pts[i][axis] >= f
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Linear,
    Planar,
    Volumetric,
}

/// Dimensionality of a neighbourhood after Demantké et al. 2011 (σₖ = √λₖ: a1D = (σ1 − σ2)/σ1,
/// a2D = (σ2 − σ3)/σ1, a3D = σ3/σ1, the largest wins) and its direction: the principal axis
/// of a linear neighbourhood, the normal of a planar one.
fn local_shape(pts: &[[f64; 3]], nb: &[u32]) -> Option<(Shape, [f64; 3])> {
    if nb.len() < 6 {
        return None;
    }
    let n = nb.len() as f64;
    let mut m = [0.0; 3];
    for &i in nb {
        let p = pts[i as usize];
        (0..3).for_each(|k| m[k] += p[k] / n);
    }
    let mut c = [[0.0; 3]; 3];
    for &i in nb {
        let p = pts[i as usize];
        let d = [p[0] - m[0], p[1] - m[1], p[2] - m[2]];
        for r in 0..3 {
            for s in 0..3 {
                c[r][s] += d[r] * d[s] / n;
            }
        }
    }
    let (val, vec) = eigen_sym3(c);
    if val[0] <= 0.0 {
        return None;
    }
    let s: Vec<f64> = val.iter().map(|v| v.max(0.0).sqrt()).collect();
    let a1 = (s[0] - s[1]) / s[0];
    let a2 = (s[1] - s[2]) / s[0];
    let a3 = s[2] / s[0];
    if a1 >= a2 && a1 >= a3 {
        Some((Shape::Linear, vec[0]))
    } else if a2 >= a3 {
        Some((Shape::Planar, vec[2]))
    } else {
        Some((Shape::Volumetric, vec[2]))
    }
}

/// Eigenvalues (descending) and unit eigenvectors of a symmetric 3 × 3 matrix
/// ([`crate::linalg::symmetric_eigen3`], reversed).
#[doc(hidden)]
pub fn eigen_sym3(a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let (val, vec) = crate::linalg::symmetric_eigen3(a);
    ([val[2], val[1], val[0]], [vec[2], vec[1], vec[0]])
}

/// Uniform hash grid for fixed-radius neighbour queries.
struct Grid {
    cell: f64,
    map: HashMap<[i64; 3], Vec<u32>>,
}

impl Grid {
    fn new(pts: &[[f64; 3]], cell: f64) -> Self {
        let mut map: HashMap<[i64; 3], Vec<u32>> = HashMap::new();
        for (i, p) in pts.iter().enumerate() {
            map.entry(key(*p, cell)).or_default().push(i as u32);
        }
        Grid { cell, map }
    }

    fn visit(&self, pts: &[[f64; 3]], p: [f64; 3], r: f64, mut f: impl FnMut(u32)) {
        let k = key(p, self.cell);
        let r2 = r * r;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    // Saturating: a far outlier's key is clamped to ±i64::MAX (fuzz crasher).
                    let nk = [
                        k[0].saturating_add(dx),
                        k[1].saturating_add(dy),
                        k[2].saturating_add(dz),
                    ];
                    if let Some(v) = self.map.get(&nk) {
                        for &j in v {
                            let q = pts[j as usize];
                            let d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
                            if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= r2 {
                                f(j);
                            }
                        }
                    }
                }
            }
        }
    }

    fn within(&self, pts: &[[f64; 3]], p: [f64; 3], r: f64) -> Vec<u32> {
        let mut out = Vec::new();
        self.visit(pts, p, r, |j| out.push(j));
        out
    }

    fn count(&self, pts: &[[f64; 3]], p: [f64; 3], r: f64) -> usize {
        let mut n = 0;
        self.visit(pts, p, r, |_| n += 1);
        n
    }
}
