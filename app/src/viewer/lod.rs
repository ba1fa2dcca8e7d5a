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
fn distance_to_cube(p: [f64; 3], center: [f64; 3], half: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::octree::OctreeOptions;
    use crate::viewer::octree::tests::{Rng, build};
    use capture::PointCloud;

    /// A 1000 m × 100 m strip of gently rolling ground, 300 k points.
    fn strip(dir: &std::path::Path) -> Octree {
        let mut rng = Rng::new(9);
        let pts: Vec<[f64; 3]> = (0..300_000)
            .map(|_| {
                let (x, y) = (1000.0 * rng.next(), 100.0 * rng.next());
                [600_000.0 + x, 4_000_000.0 + y, 100.0 + (y / 10.0).sin()]
            })
            .collect();
        let cloud = PointCloud::from_absolute(&pts);
        let opts = OctreeOptions {
            max_points_per_node: 2_000,
            grid_cells: 32,
            max_depth: 18,
        };
        build(&cloud, &opts, &dir.join("strip.octree"))
    }

    /// Camera at local `eye` looking at local `target`, 1080 px high, 60° fov.
    fn camera(eye: [f64; 3], target: [f64; 3]) -> LodCamera {
        let fov = 60f64.to_radians();
        let vp = look_at_perspective(eye, target, [0.0, 0.0, 1.0], fov, 16.0 / 9.0, 0.1, 1e5);
        LodCamera::from_view_projection(eye, vp, 1080.0, fov)
    }

    /// Local coordinates of a point of the strip (its origin is the bounds centre).
    fn local(t: &Octree, x: f64, y: f64, z: f64) -> [f64; 3] {
        [
            600_000.0 + x - t.origin[0],
            4_000_000.0 + y - t.origin[1],
            100.0 + z - t.origin[2],
        ]
    }

    #[test]
    fn frustum_planes_classify_points() {
        let cam = camera([0.0, 0.0, 0.0], [10.0, 0.0, 0.0]);
        let inside = |p: [f64; 3]| cam.sees_cube(p, 0.0);
        assert!(inside([10.0, 0.0, 0.0]));
        assert!(inside([100.0, 20.0, -20.0]));
        assert!(!inside([-10.0, 0.0, 0.0]), "behind");
        assert!(!inside([0.05, 0.0, 0.0]), "before the near plane");
        assert!(!inside([10.0, 0.0, 10.0]), "above a 60° fov");
        assert!(!inside([10.0, -30.0, 0.0]), "right of the frustum");
        assert!(!inside([2e5, 0.0, 0.0]), "beyond far");
        for p in cam.frustum {
            let len = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn selection_respects_budget_and_keeps_root() {
        let dir = tempfile::tempdir().unwrap();
        let t = strip(dir.path());
        let cam = camera(local(&t, -50.0, 50.0, 30.0), local(&t, 200.0, 50.0, 0.0));
        let mut out = Vec::new();
        let root = t.nodes[0].point_count as u64;
        for budget in [root, root + 5_000, 40_000, 120_000] {
            let used = select(&t, &cam, budget, 0.0, &mut out);
            assert_eq!(out[0], 0, "root first");
            let sum: u64 = out
                .iter()
                .map(|&i| t.nodes[i as usize].point_count as u64)
                .sum();
            assert_eq!(sum, used);
            assert!(used <= budget, "{used} > {budget}");
            let mut ids = out.clone();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), out.len(), "a node selected twice");
            // Every selected node's parent is selected (drawing is additive).
            for &i in &out[1..] {
                assert!(out.contains(&t.nodes[i as usize].parent));
            }
        }
        // Budget below the root: the root alone.
        assert_eq!(select(&t, &cam, 1, 0.0, &mut out), root);
        assert_eq!(out, vec![0]);
        // Everything in view with no budget limit: all nodes from far above.
        let top = camera(local(&t, 500.0, 50.0, 3000.0), local(&t, 500.0, 50.1, 0.0));
        select(&t, &top, u64::MAX, 0.0, &mut out);
        assert_eq!(out.len(), t.nodes.len());
    }

    #[test]
    fn near_nodes_win_over_far_ones() {
        let dir = tempfile::tempdir().unwrap();
        let t = strip(dir.path());
        let cam = camera(local(&t, -20.0, 50.0, 15.0), local(&t, 300.0, 50.0, 0.0));
        let mut out = Vec::new();
        select(&t, &cam, 60_000, 0.0, &mut out);
        let x0 = local(&t, 0.0, 0.0, 0.0)[0];
        let deepest = |lo: f64, hi: f64| {
            out.iter()
                .map(|&i| &t.nodes[i as usize])
                .filter(|n| (lo..hi).contains(&(n.center[0] - x0)))
                .map(|n| n.key.depth)
                .max()
                .unwrap_or(0)
        };
        let (near, far) = (deepest(0.0, 150.0), deepest(600.0, 1000.0));
        assert!(near >= far + 2, "near depth {near}, far depth {far}");
        // Points per metre of strip: the first 150 m get more than the last 400 m.
        let pts = |lo: f64, hi: f64| -> u64 {
            out.iter()
                .map(|&i| &t.nodes[i as usize])
                .filter(|n| n.key.depth > 0 && (lo..hi).contains(&(n.center[0] - x0)))
                .map(|n| n.point_count as u64)
                .sum()
        };
        assert!(pts(0.0, 150.0) > pts(600.0, 1000.0));
    }

    #[test]
    fn nodes_behind_the_camera_are_excluded() {
        let dir = tempfile::tempdir().unwrap();
        let t = strip(dir.path());
        // Looking level along +x, so the near plane is x = eye.x + 0.1 exactly.
        let eye = local(&t, 500.0, 50.0, 10.0);
        let cam = camera(eye, local(&t, 600.0, 50.0, 10.0));
        let mut out = Vec::new();
        select(&t, &cam, u64::MAX, 0.0, &mut out);
        assert!(out.len() > 10);
        for &i in &out[1..] {
            let n = &t.nodes[i as usize];
            assert!(
                n.center[0] + n.half_size >= eye[0],
                "node {i} lies behind the camera"
            );
        }
        // Leaves ahead of the camera were reached, leaves behind it were not.
        let leaf_ahead = out.iter().any(|&i| {
            let n = &t.nodes[i as usize];
            n.is_leaf() && n.center[0] - n.half_size > eye[0]
        });
        assert!(leaf_ahead);
        let behind_leaves = t
            .nodes
            .iter()
            .filter(|n| n.is_leaf() && n.center[0] + n.half_size < eye[0])
            .count();
        assert!(behind_leaves > 0, "the test needs leaves behind the camera");
    }

    #[test]
    fn min_pixel_spacing_stops_descent() {
        let dir = tempfile::tempdir().unwrap();
        let t = strip(dir.path());
        let cam = camera(local(&t, -100.0, 50.0, 50.0), local(&t, 500.0, 50.0, 0.0));
        let mut out = Vec::new();
        let all = select(&t, &cam, u64::MAX, 0.0, &mut out);
        let coarse = select(&t, &cam, u64::MAX, 2.0, &mut out);
        assert!(coarse < all, "{coarse} vs {all}");
        for &i in &out {
            let n = &t.nodes[i as usize];
            if n.parent != NO_NODE {
                let p = &t.nodes[n.parent as usize];
                let near = distance_to_cube(cam.position, p.center, p.half_size);
                assert!(p.spacing * cam.projection_factor() / near >= 2.0);
            }
        }
        assert_eq!(
            select(&t, &cam, u64::MAX, 1e12, &mut out),
            t.nodes[0].point_count as u64
        );
    }

    #[test]
    fn cache_evicts_least_recently_used() {
        let pts = |n: usize| {
            Arc::new(NodePoints {
                positions: vec![[0.0; 3]; n],
                z: vec![0.0; n],
                ..Default::default()
            })
        };
        let mut c = NodeCache::new(100);
        assert!(c.insert(1, pts(40)).is_empty());
        assert!(c.insert(2, pts(40)).is_empty());
        c.touch(&[1]);
        assert_eq!(c.insert(3, pts(40)), vec![2]);
        assert!(c.contains(1) && c.contains(3) && !c.contains(2));
        assert_eq!(c.used_points(), 80);
        let mut miss = Vec::new();
        c.missing(&[3, 2, 1, 7], &mut miss);
        assert_eq!(miss, vec![2, 7]);
        assert!(c.get(3).is_some());
        assert_eq!(c.insert(4, pts(30)), vec![1]);
        // Replacing a node does not double-count it.
        c.insert(4, pts(10));
        assert_eq!(c.used_points(), 50);
        // Too big for the cache: kept alone.
        assert_eq!(c.insert(5, pts(500)).len(), 2);
        assert_eq!(c.len(), 1);
        assert!(c.remove(5).is_some());
        assert_eq!(c.used_points(), 0);
    }
}
