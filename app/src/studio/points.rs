//! The point renderer's main-world half: each frame, pick the octree nodes worth drawing from
//! the camera (level of detail under a point budget), load missing nodes from the on-disk
//! octree on background threads, colour them, and hand the resident set to the render world.

use std::collections::HashMap;
use std::sync::Arc;

use bevy::math::{DMat4, DVec3};
use bevy::prelude::*;
use bevy::tasks::{AsyncComputeTaskPool, Task, block_on, poll_once};

use crate::studio::points_render::{
    LayerNode, PointCloudCamera, PointLayer, PointRenderPlugin, PointSettings, world_from_local,
    world_to_local,
};
use crate::studio::scene::Layers;
use crate::viewer::colormap::{ClassFilter, ColorMode, ColorRanges, GpuPoint, colorize};
use crate::viewer::lod::{LodCamera, select};
use crate::viewer::node_store::NodePoints;
use crate::viewer::octree::Octree;

/// The cloud on screen and how it is drawn.
#[derive(Resource)]
pub struct ViewerCloud {
    pub octree: Arc<Octree>,
    pub ranges: ColorRanges,
    pub mode: ColorMode,
    pub filter: ClassFilter,
    /// Most points drawn per frame (Potree's default is 1–3 M).
    pub budget: u64,
    /// Don't refine nodes whose point spacing projects below this many pixels.
    pub min_pixel_spacing: f64,
    /// Load nodes on the calling thread (headless renders want a settled frame).
    pub synchronous: bool,
    raw: HashMap<u32, Arc<NodePoints>>,
    colored: HashMap<u32, Arc<Vec<GpuPoint>>>,
    last_used: HashMap<u32, u64>,
    loading: HashMap<u32, Task<Option<(Arc<NodePoints>, Vec<GpuPoint>)>>>,
    applied: Option<(ColorMode, ClassFilter)>,
    frame: u64,
    pub stats: ViewerStats,
}

/// What the last frame selected and how long it took (shown in the studio's status bar).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ViewerStats {
    pub selected_nodes: usize,
    pub selected_points: u64,
    pub drawn_points: u64,
    pub pending_nodes: usize,
    pub select_ms: f64,
}

impl ViewerCloud {
    pub fn new(octree: Arc<Octree>) -> ViewerCloud {
        let ranges = octree
            .read_node(0)
            .map(|root| ColorRanges::from_sample(&root))
            .unwrap_or_default();
        // Scan colour when the scan has it, else height.
        let mode = if octree.attributes().rgb {
            ColorMode::Rgb
        } else {
            ColorMode::Height
        };
        ViewerCloud {
            octree,
            ranges,
            mode,
            filter: ClassFilter::default(),
            budget: 3_000_000,
            min_pixel_spacing: 0.5,
            synchronous: false,
            raw: HashMap::new(),
            colored: HashMap::new(),
            last_used: HashMap::new(),
            loading: HashMap::new(),
            applied: None,
            frame: 0,
            stats: ViewerStats::default(),
        }
    }

    /// Whether the cloud carries what `mode` colours by.
    pub fn has(&self, mode: ColorMode) -> bool {
        let a = self.octree.attributes();
        match mode {
            ColorMode::Rgb => a.rgb,
            ColorMode::Height => true,
            ColorMode::Class => a.class,
            ColorMode::Intensity => a.intensity,
            ColorMode::TreeId => a.tree,
        }
    }

    /// True when every selected node is loaded and nothing is in flight.
    pub fn is_settled(&self) -> bool {
        self.loading.is_empty()
            && self.stats.selected_nodes > 0
            && self.stats.drawn_points == self.stats.selected_points
    }

    /// Every resident point in cloud-local coordinates with its node-relative data, for picking.
    pub fn resident_points(&self) -> impl Iterator<Item = (DVec3, u32, &NodePoints, usize)> {
        self.raw.iter().flat_map(move |(&id, np)| {
            let c = DVec3::from(self.octree.nodes[id as usize].center);
            np.positions.iter().enumerate().map(move |(i, p)| {
                (
                    c + DVec3::new(p[0] as f64, p[1] as f64, p[2] as f64),
                    id,
                    &**np,
                    i,
                )
            })
        })
    }
}

/// Convert a camera into the octree's LOD camera (cloud-local, z-up, f64).
pub fn lod_camera(camera: &Camera, transform: &GlobalTransform, fov_y: f32) -> Option<LodCamera> {
    let size = camera.physical_viewport_size()?;
    let clip_from_view = camera.clip_from_view().as_dmat4();
    let view_from_world = transform.to_matrix().as_dmat4().inverse();
    let world_from_local = DMat4::from_mat3(world_from_local().as_dmat3());
    let view_proj = clip_from_view * view_from_world * world_from_local;
    let position = world_to_local(transform.translation());
    Some(LodCamera::from_view_projection(
        position.to_array(),
        view_proj.to_cols_array_2d(),
        size.y as f64,
        fov_y as f64,
    ))
}

pub struct PointCloudPlugin;

impl Plugin for PointCloudPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(PointRenderPlugin).add_systems(
            PostUpdate,
            update_point_layer.after(bevy::transform::TransformSystems::Propagate),
        );
    }
}

fn load_node(
    octree: &Octree,
    id: u32,
    mode: ColorMode,
    ranges: &ColorRanges,
    filter: &ClassFilter,
) -> Option<(Arc<NodePoints>, Vec<GpuPoint>)> {
    match octree.read_node(id) {
        Ok(np) => {
            let colored = colorize(&np, mode, ranges, filter);
            Some((Arc::new(np), colored))
        }
        Err(e) => {
            error!("octree node {id}: {e}");
            None
        }
    }
}

fn update_point_layer(
    cameras: Query<(&Camera, &GlobalTransform, &Projection), With<PointCloudCamera>>,
    cloud: Option<ResMut<ViewerCloud>>,
    settings: Res<PointViewSettings>,
    layers: Option<Res<Layers>>,
    mut layer: ResMut<PointLayer>,
) {
    let Some(mut cloud) = cloud else {
        if !layer.nodes.is_empty() {
            layer.nodes.clear();
            layer.generation += 1;
        }
        return;
    };
    let cloud = &mut *cloud;
    cloud.frame += 1;
    layer.settings = settings.0;

    // Re-colour resident nodes when the colour mode or class filter changes.
    let want = (cloud.mode, cloud.filter);
    if cloud.applied != Some(want) {
        cloud.applied = Some(want);
        cloud.colored = cloud
            .raw
            .iter()
            .map(|(&id, np)| (id, Arc::new(colorize(np, want.0, &cloud.ranges, &want.1))))
            .collect();
        cloud.loading.clear();
        layer.generation += 1;
    }

    if layers.is_some_and(|l| !l.points) {
        layer.nodes.clear();
        return;
    }
    let Some((camera, transform, projection)) = cameras.iter().find(|(c, ..)| c.is_active) else {
        return;
    };
    let fov = match projection {
        Projection::Perspective(p) => p.fov,
        _ => std::f32::consts::FRAC_PI_4,
    };
    let Some(lod) = lod_camera(camera, transform, fov) else {
        return;
    };
    let t0 = std::time::Instant::now();
    let mut selected = Vec::new();
    select(
        &cloud.octree,
        &lod,
        cloud.budget,
        cloud.min_pixel_spacing,
        &mut selected,
    );
    let select_ms = t0.elapsed().as_secs_f64() * 1e3;

    // Finish loads that are done.
    let done: Vec<u32> = cloud
        .loading
        .iter_mut()
        .filter_map(|(&id, task)| block_on(poll_once(task)).map(|r| (id, r)))
        .map(|(id, r)| {
            if let Some((np, colored)) = r {
                cloud.raw.insert(id, np);
                cloud.colored.insert(id, Arc::new(colored));
            }
            id
        })
        .collect();
    for id in done {
        cloud.loading.remove(&id);
    }

    // Start loads for what is missing.
    let pool = AsyncComputeTaskPool::get();
    for &id in &selected {
        if cloud.colored.contains_key(&id) || cloud.loading.contains_key(&id) {
            continue;
        }
        if cloud.synchronous {
            if let Some((np, colored)) =
                load_node(&cloud.octree, id, want.0, &cloud.ranges, &want.1)
            {
                cloud.raw.insert(id, np);
                cloud.colored.insert(id, Arc::new(colored));
            }
        } else {
            let octree = cloud.octree.clone();
            let ranges = cloud.ranges;
            let task = pool.spawn(async move { load_node(&octree, id, want.0, &ranges, &want.1) });
            cloud.loading.insert(id, task);
        }
    }

    // Hand the resident part of the selection to the render world.
    let frame = cloud.frame;
    let mut nodes = Vec::with_capacity(selected.len());
    let mut selected_points = 0;
    let mut drawn = 0;
    for &id in &selected {
        let node = &cloud.octree.nodes[id as usize];
        selected_points += node.point_count as u64;
        if let Some(points) = cloud.colored.get(&id) {
            drawn += points.len() as u64;
            cloud.last_used.insert(id, frame);
            nodes.push(LayerNode {
                id,
                center: DVec3::from(node.center),
                points: points.clone(),
            });
        }
    }
    layer.nodes = nodes;

    // Keep at most twice the budget resident in memory; drop the least recently drawn.
    let resident: u64 = cloud.colored.values().map(|v| v.len() as u64).sum();
    if resident > 2 * cloud.budget {
        let mut by_age: Vec<(u64, u32)> = cloud
            .colored
            .keys()
            .map(|id| (cloud.last_used.get(id).copied().unwrap_or(0), *id))
            .filter(|(f, _)| *f != frame)
            .collect();
        by_age.sort_unstable();
        let mut excess = resident - 2 * cloud.budget;
        for (_, id) in by_age {
            if excess == 0 {
                break;
            }
            if let Some(v) = cloud.colored.remove(&id) {
                excess = excess.saturating_sub(v.len() as u64);
            }
            cloud.raw.remove(&id);
            cloud.last_used.remove(&id);
        }
    }
    cloud.stats = ViewerStats {
        selected_nodes: selected.len(),
        selected_points,
        drawn_points: drawn,
        pending_nodes: cloud.loading.len(),
        select_ms,
    };
}

/// The studio's point display settings (point size, rasteriser, EDL).
#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct PointViewSettings(pub PointSettings);
