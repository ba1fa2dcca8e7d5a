//! Per-frame level-of-detail selection over an [`Octree`] and the cache of loaded nodes.
//!
//! Selection is Potree's: a priority queue of nodes ordered by projected size on screen, filled
//! until the point budget is reached, so the points go where they are largest on screen (near the
//! camera) and the frame cost stays bounded whatever the cloud size.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use crate::viewer::node_store::NodePoints;
use crate::viewer::octree::{NO_NODE, Octree};

/// What selection needs of the camera, in cloud-local z-up coordinates (the octree's frame).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LodCamera {
    pub position: [f64; 3],
    /// Planes `[a, b, c, d]`, inside where `a·x + b·y + c·z + d ≥ 0`, with unit normals.
    pub frustum: [[f64; 4]; 6],
    pub screen_height_px: f64,
    /// Vertical field of view in radians.
    pub fov_y: f64,
}

impl LodCamera {
    /// Frustum planes from a view-projection matrix (Gribb & Hartmann 2001, "Fast Extraction
    /// of Viewing Frustum Planes from the World-View-Projection Matrix").
    ///
    /// `view_proj` is column-major (`view_proj[col][row]`, glam's layout), mapping local z-up
    /// coordinates to clip space with depth in `0 ≤ z ≤ w` (wgpu/glam `perspective_rh`; Bevy's
    /// reverse-Z infinite projection also fits: its far plane degenerates and is dropped).
    pub fn from_view_projection(
        position: [f64; 3],
        view_proj: [[f64; 4]; 4],
        screen_height_px: f64,
        fov_y: f64,
    ) -> LodCamera {
        let row = |i: usize| {
            [
                view_proj[0][i],
                view_proj[1][i],
                view_proj[2][i],
                view_proj[3][i],
            ]
        };
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let add = |a: [f64; 4], b: [f64; 4], s: f64| -> [f64; 4] {
            std::array::from_fn(|k| a[k] + s * b[k])
        };
        let planes = [
            add(r3, r0, 1.0),
            add(r3, r0, -1.0),
            add(r3, r1, 1.0),
            add(r3, r1, -1.0),
            r2,
            add(r3, r2, -1.0),
        ];
        let frustum = planes.map(|p| {
            let len = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
            if len > 1e-12 {
                p.map(|v| v / len)
            } else {
                // Degenerate (an infinite far plane): always inside.
                [0.0, 0.0, 0.0, 1.0]
            }
        });
        LodCamera {
            position,
            frustum,
            screen_height_px,
            fov_y,
        }
    }

    /// Pixels per metre at distance 1: `screen height / (2 tan(fov/2))`.
    pub fn projection_factor(&self) -> f64 {
        self.screen_height_px / (2.0 * (0.5 * self.fov_y).tan())
    }

    /// Whether the cube (`center`, `half`) intersects the frustum (conservative: a cube
    /// straddling two planes outside a corner may pass).
    pub fn sees_cube(&self, center: [f64; 3], half: f64) -> bool {
        self.frustum.iter().all(|p| {
            let d = p[0] * center[0] + p[1] * center[1] + p[2] * center[2] + p[3];
            d + half * (p[0].abs() + p[1].abs() + p[2].abs()) >= 0.0
        })
    }
}

/// Column-major right-handed look-at × perspective (depth 0…1), as glam's
/// `Mat4::perspective_rh(..) * Mat4::look_at_rh(..)`; for tools and tests without glam.
pub fn look_at_perspective(
    eye: [f64; 3],
    target: [f64; 3],
    up: [f64; 3],
    fov_y: f64,
    aspect: f64,
    near: f64,
    far: f64,
) -> [[f64; 4]; 4] {
    let sub = |a: [f64; 3], b: [f64; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let cross = |a: [f64; 3], b: [f64; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    let norm = |a: [f64; 3]| {
        let l = dot(a, a).sqrt();
        a.map(|v| v / l)
    };
    let f = norm(sub(target, eye));
    let s = norm(cross(f, up));
    let u = cross(s, f);
    let view = [
        [s[0], u[0], -f[0], 0.0],
        [s[1], u[1], -f[1], 0.0],
        [s[2], u[2], -f[2], 0.0],
        [-dot(s, eye), -dot(u, eye), dot(f, eye), 1.0],
    ];
    let h = 1.0 / (0.5 * fov_y).tan();
    let r = far / (near - far);
    let proj = [
        [h / aspect, 0.0, 0.0, 0.0],
        [0.0, h, 0.0, 0.0],
        [0.0, 0.0, r, -1.0],
        [0.0, 0.0, r * near, 0.0],
    ];
    std::array::from_fn(|c| {
        std::array::from_fn(|row| (0..4).map(|k| proj[k][row] * view[c][k]).sum())
    })
}

/// Heap entry: larger projected size first.
struct Candidate(f64, u32);

impl PartialEq for Candidate {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Distance from `p` to the cube (0 inside).
pub fn distance_to_cube(p: [f64; 3], center: [f64; 3], half: f64) -> f64 {
    let d: [f64; 3] = std::array::from_fn(|k| ((p[k] - center[k]).abs() - half).max(0.0));
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// Choose the nodes to draw this frame into `out` (cleared first), largest on screen first;
/// returns their point count.
///
/// The root is always drawn (it is the coarse whole). A node's children are considered only if
/// they intersect the frustum and the node's own spacing, projected at its nearest point, is at
/// least `min_pixel_spacing` pixels (finer would not show). Traversal stops at the first node
/// that would exceed `budget_points`, as in Potree, so a frame never overshoots the budget.
pub fn select(
    octree: &Octree,
    cam: &LodCamera,
    budget_points: u64,
    min_pixel_spacing: f64,
    out: &mut Vec<u32>,
) -> u64 {
    out.clear();
    let nodes = &octree.nodes;
    if nodes.is_empty() {
        return 0;
    }
    let proj = cam.projection_factor();
    let priority = |id: u32| {
        let n = &nodes[id as usize];
        let d = distance(cam.position, n.center);
        if d < n.half_size * 3f64.sqrt() {
            f64::INFINITY
        } else {
            n.half_size / d * proj
        }
    };
    let mut heap = BinaryHeap::with_capacity(256);
    heap.push(Candidate(f64::INFINITY, 0));
    let mut used = 0u64;
    while let Some(Candidate(_, id)) = heap.pop() {
        let n = &nodes[id as usize];
        if id != 0 && used + n.point_count as u64 > budget_points {
            break;
        }
        out.push(id);
        used += n.point_count as u64;
        let near = distance_to_cube(cam.position, n.center, n.half_size);
        if near > 0.0 && n.spacing * proj / near < min_pixel_spacing {
            continue;
        }
        for &c in &n.children {
            if c != NO_NODE {
                let ch = &nodes[c as usize];
                if cam.sees_cube(ch.center, ch.half_size) {
                    heap.push(Candidate(priority(c), c));
                }
            }
        }
    }
    used
}

/// Loaded nodes kept between frames, least recently used evicted first, bounded by points.
///
/// Give it a capacity above the selection budget: the current selection is touched every frame,
/// so it is never the least recently used while older nodes remain.
#[derive(Debug, Default)]
pub struct NodeCache {
    capacity_points: u64,
    used_points: u64,
    tick: u64,
    entries: HashMap<u32, (Arc<NodePoints>, u64)>,
    by_age: BTreeMap<u64, u32>,
}

impl NodeCache {
    pub fn new(capacity_points: u64) -> Self {
        NodeCache {
            capacity_points,
            ..Default::default()
        }
    }
    pub fn capacity_points(&self) -> u64 {
        self.capacity_points
    }
    pub fn used_points(&self) -> u64 {
        self.used_points
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn contains(&self, id: u32) -> bool {
        self.entries.contains_key(&id)
    }

    fn bump(&mut self, id: u32) {
        if let Some(e) = self.entries.get_mut(&id) {
            self.by_age.remove(&e.1);
            self.tick += 1;
            e.1 = self.tick;
            self.by_age.insert(self.tick, id);
        }
    }

    /// The node's points, marking it used.
    pub fn get(&mut self, id: u32) -> Option<Arc<NodePoints>> {
        self.bump(id);
        self.entries.get(&id).map(|e| e.0.clone())
    }

    /// The node's points without marking it used.
    pub fn peek(&self, id: u32) -> Option<&Arc<NodePoints>> {
        self.entries.get(&id).map(|e| &e.0)
    }

    /// Mark `ids` (this frame's selection) used, in order.
    pub fn touch(&mut self, ids: &[u32]) {
        ids.iter().for_each(|&id| self.bump(id));
    }

    /// The ids of `ids` not in the cache, in the given (priority) order: what to load next.
    pub fn missing(&self, ids: &[u32], out: &mut Vec<u32>) {
        out.clear();
        out.extend(
            ids.iter()
                .copied()
                .filter(|id| !self.entries.contains_key(id)),
        );
    }

    /// Add (or replace) a node, evicting least recently used nodes until it fits; returns the
    /// evicted ids so their GPU buffers can be freed. A node larger than the whole capacity is
    /// still kept, alone.
    pub fn insert(&mut self, id: u32, points: Arc<NodePoints>) -> Vec<u32> {
        self.remove(id);
        let n = points.len() as u64;
        let mut evicted = Vec::new();
        while self.used_points + n > self.capacity_points {
            let Some((_, old)) = self.by_age.pop_first() else {
                break;
            };
            if let Some((p, _)) = self.entries.remove(&old) {
                self.used_points -= p.len() as u64;
            }
            evicted.push(old);
        }
        self.tick += 1;
        self.entries.insert(id, (points, self.tick));
        self.by_age.insert(self.tick, id);
        self.used_points += n;
        evicted
    }

    /// Drop a node; returns its points if it was cached.
    pub fn remove(&mut self, id: u32) -> Option<Arc<NodePoints>> {
        let (p, t) = self.entries.remove(&id)?;
        self.by_age.remove(&t);
        self.used_points -= p.len() as u64;
        Some(p)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_age.clear();
        self.used_points = 0;
    }
}
