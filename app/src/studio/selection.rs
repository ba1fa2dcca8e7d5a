//! Clicking things in the viewport: trees (their crown cylinder), pipe runs (their segments)
//! and, in measuring mode, points of the cloud. The geometry is plain functions over
//! cloud-local coordinates so it is tested without a window.

use bevy::math::DVec3;
use bevy::prelude::*;
use reconstruct::model::Reconstruction;

use crate::studio::points::ViewerCloud;
use crate::studio::points_render::{local_to_world, world_to_local};
use crate::studio::scene::SceneData;

/// What is selected.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub enum Selection {
    #[default]
    None,
    /// Index into `Reconstruction::trees`.
    Tree(usize),
    /// Index into `Reconstruction::pipes`.
    Pipe(usize),
}

/// The distance tool: two picked points (cloud-local) and whether clicks measure.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Measure {
    pub active: bool,
    pub a: Option<DVec3>,
    pub b: Option<DVec3>,
}

/// A measured distance broken down as surveyors read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distance {
    pub slope_m: f64,
    pub horizontal_m: f64,
    pub vertical_m: f64,
}

impl Measure {
    /// Add a picked point: the first click sets A, the second B, a third starts over.
    pub fn click(&mut self, p: DVec3) {
        match (self.a, self.b) {
            (Some(_), None) => self.b = Some(p),
            _ => {
                self.a = Some(p);
                self.b = None;
            }
        }
    }
    pub fn distance(&self) -> Option<Distance> {
        let (a, b) = (self.a?, self.b?);
        let d = b - a;
        Some(Distance {
            slope_m: d.length(),
            horizontal_m: d.truncate().length(),
            vertical_m: d.z,
        })
    }
}

/// A ray in cloud-local coordinates (`dir` unit length).
#[derive(Clone, Copy, Debug)]
pub struct LocalRay {
    pub origin: DVec3,
    pub dir: DVec3,
}

/// Nearest entry of a vertical cylinder (tree crown envelope): base centre, height, radius.
fn ray_vertical_cylinder(r: &LocalRay, base: DVec3, height: f64, radius: f64) -> Option<f64> {
    let (ox, oy) = (r.origin.x - base.x, r.origin.y - base.y);
    let (dx, dy) = (r.dir.x, r.dir.y);
    let a = dx * dx + dy * dy;
    let mut best: Option<f64> = None;
    let mut consider = |t: f64| {
        if t > 0.0 {
            let z = r.origin.z + t * r.dir.z - base.z;
            if (0.0..=height).contains(&z) && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        }
    };
    if a > 1e-12 {
        let b = 2.0 * (ox * dx + oy * dy);
        let c = ox * ox + oy * oy - radius * radius;
        let disc = b * b - 4.0 * a * c;
        if disc >= 0.0 {
            let s = disc.sqrt();
            consider((-b - s) / (2.0 * a));
            consider((-b + s) / (2.0 * a));
        }
    }
    // Caps (looking straight down at a crown).
    if r.dir.z.abs() > 1e-12 {
        for zc in [height, 0.0] {
            let t = (base.z + zc - r.origin.z) / r.dir.z;
            let p = r.origin + r.dir * t;
            if t > 0.0 && (p.x - base.x).powi(2) + (p.y - base.y).powi(2) <= radius * radius {
                best = Some(best.map_or(t, |b: f64| b.min(t)));
            }
        }
    }
    best
}

/// Distance from a ray to a segment, and the ray parameter at the closest approach.
fn ray_segment(r: &LocalRay, a: DVec3, b: DVec3) -> (f64, f64) {
    let u = r.dir;
    let v = b - a;
    let w = r.origin - a;
    let (uu, uv, vv, uw, vw) = (u.dot(u), u.dot(v), v.dot(v), u.dot(w), v.dot(w));
    let den = uu * vv - uv * uv;
    let mut s = if den > 1e-12 {
        (uv * vw - vv * uw) / den
    } else {
        0.0
    };
    let mut t = if vv > 1e-12 { (vw + s * uv) / vv } else { 0.0 };
    t = t.clamp(0.0, 1.0);
    s = ((t * uv - uw) / uu).max(0.0);
    let d = (r.origin + u * s - (a + v * t)).length();
    (d, s)
}

/// The tree or pipe a ray hits first (pipes are hit within their radius plus `slack_m`).
pub fn pick(rec: &Reconstruction, origin: [f64; 3], ray: &LocalRay, slack_m: f64) -> Selection {
    let o = DVec3::from(origin);
    let mut best = (f64::INFINITY, Selection::None);
    for (i, t) in rec.trees.iter().enumerate() {
        let base = DVec3::new(t.x, t.y, t.ground_z) - o;
        let r = (t.crown_diameter_m * 0.5).max(0.3);
        if let Some(d) = ray_vertical_cylinder(ray, base, t.height_m, r)
            && d < best.0
        {
            best = (d, Selection::Tree(i));
        }
    }
    for (i, run) in rec.pipes.iter().enumerate() {
        for s in &run.segments {
            let (d, at) = ray_segment(ray, DVec3::from(s.start) - o, DVec3::from(s.end) - o);
            if d <= s.radius_m + slack_m && at < best.0 {
                best = (at, Selection::Pipe(i));
            }
        }
    }
    best.1
}

/// The point nearest the ray within `tolerance_rad` of its direction (nearest to the eye
/// among those), for the distance tool.
pub fn pick_point(
    points: impl Iterator<Item = DVec3>,
    ray: &LocalRay,
    tolerance_rad: f64,
) -> Option<DVec3> {
    let cos_tol = tolerance_rad.cos();
    let mut best: Option<(f64, DVec3)> = None;
    for p in points {
        let v = p - ray.origin;
        let along = v.dot(ray.dir);
        if along <= 0.0 {
            continue;
        }
        let len = v.length();
        if along / len < cos_tol {
            continue;
        }
        // Prefer the angularly closest, breaking near-ties towards the eye.
        let score = (1.0 - along / len) * 1e6 + along * 1e-6;
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, p));
        }
    }
    best.map(|(_, p)| p)
}

/// A click in the viewport, as a ray in cloud-local coordinates: selects (or measures).
#[derive(Message, Clone, Copy, Debug)]
pub struct PickRay(pub LocalRay);

/// Selection and measuring state, fed by [`PickRay`] messages (no rendering needed).
pub struct SelectionPlugin;

impl Plugin for SelectionPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Selection>()
            .init_resource::<Measure>()
            .add_message::<PickRay>()
            .add_systems(Update, apply_picks);
    }
}

/// Draws the selection and the measured line (needs the gizmo plugin: windowed and offscreen
/// apps only).
pub struct SelectionGizmosPlugin;

impl Plugin for SelectionGizmosPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, draw_selection);
    }
}

/// Apply clicks: pick a point for the distance tool, or select the tree or pipe hit.
pub fn apply_picks(
    mut picks: MessageReader<PickRay>,
    scene: Option<Res<SceneData>>,
    cloud: Option<Res<ViewerCloud>>,
    mut selection: ResMut<Selection>,
    mut measure: ResMut<Measure>,
) {
    for PickRay(ray) in picks.read() {
        if measure.active {
            if let Some(c) = cloud.as_deref()
                && let Some(p) = pick_point(c.resident_points().map(|(p, ..)| p), ray, 0.004)
            {
                measure.click(p);
            }
            continue;
        }
        let picked = match scene
            .as_deref()
            .and_then(|s| s.reconstruction.as_ref().map(|r| (s, r)))
        {
            Some((s, rec)) => pick(rec, s.origin, ray, 0.05),
            None => Selection::None,
        };
        selection.set_if_neq(picked);
    }
}

/// Turn a cursor position into a cloud-local ray.
pub fn cursor_ray(camera: &Camera, transform: &GlobalTransform, cursor: Vec2) -> Option<LocalRay> {
    let ray = camera.viewport_to_world(transform, cursor).ok()?;
    let o = world_to_local(ray.origin);
    let d = world_to_local(*ray.direction).normalize();
    Some(LocalRay { origin: o, dir: d })
}

fn draw_selection(
    mut gizmos: Gizmos,
    selection: Res<Selection>,
    measure: Res<Measure>,
    scene: Option<Res<SceneData>>,
) {
    let Some(scene) = scene else {
        return;
    };
    let o = DVec3::from(scene.origin);
    if let (Selection::Tree(i), Some(rec)) = (*selection, &scene.reconstruction)
        && let Some(t) = rec.trees.get(i)
    {
        let base = DVec3::new(t.x, t.y, t.ground_z) - o;
        let r = (t.crown_diameter_m * 0.5) as f32;
        for z in [0.0, t.height_m] {
            let c = local_to_world(base + DVec3::Z * z);
            gizmos.circle(
                Isometry3d::new(c, Quat::from_rotation_x(std::f32::consts::FRAC_PI_2)),
                r,
                Color::srgb(1.0, 0.85, 0.1),
            );
        }
        gizmos.line(
            local_to_world(base),
            local_to_world(base + DVec3::Z * t.height_m),
            Color::srgb(1.0, 0.85, 0.1),
        );
    }
    if let (Selection::Pipe(i), Some(rec)) = (*selection, &scene.reconstruction)
        && let Some(run) = rec.pipes.get(i)
    {
        for s in &run.segments {
            gizmos.line(
                local_to_world(DVec3::from(s.start) - o),
                local_to_world(DVec3::from(s.end) - o),
                Color::srgb(1.0, 0.85, 0.1),
            );
        }
    }
    for p in [measure.a, measure.b].into_iter().flatten() {
        gizmos.sphere(
            Isometry3d::from_translation(local_to_world(p)),
            0.15,
            Color::srgb(0.2, 0.9, 1.0),
        );
    }
    if let (Some(a), Some(b)) = (measure.a, measure.b) {
        gizmos.line(
            local_to_world(a),
            local_to_world(b),
            Color::srgb(0.2, 0.9, 1.0),
        );
    }
}
