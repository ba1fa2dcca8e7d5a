//! The point renderer's render-world half: a pool of GPU chunks holding resident octree nodes,
//! two rasterisers (screen-space quads, and a compute rasteriser with 64-bit atomics after
//! Schütz et al. 2021) writing the same colour + distance layer, and an Eye-Dome Lighting
//! composite into the camera's target that also writes depth, so points and meshes occlude
//! each other. It runs as one system in Bevy's `Core3d` schedule between the opaque and
//! transparent main passes (Bevy 0.19 has no render graph).
//!
//! Pipelines are built on the raw wgpu device Bevy renders with; shaders are the WGSL files in
//! `shaders/`, compiled into the binary.

use std::collections::HashMap;
use std::sync::Arc;

use bevy::core_pipeline::Core3dSystems;
use bevy::core_pipeline::core_3d::{main_opaque_pass_3d, main_transparent_pass_3d};
use bevy::core_pipeline::schedule::Core3d;
use bevy::math::{DVec3, Mat3, Mat4};
use bevy::prelude::*;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::renderer::{RenderContext, RenderDevice, RenderQueue, ViewQuery};
use bevy::render::view::{ExtractedView, ViewDepthTexture, ViewTarget};
use bevy::render::{Render, RenderApp, RenderStartup, RenderSystems};
use wgpu::util::DeviceExt;

use crate::viewer::colormap::GpuPoint;

/// Largest chunk buffer (one storage binding). WebGPU guarantees 128 MiB bindings.
pub const MAX_CHUNK_BYTES: u64 = 128 << 20;
/// GPU memory the pool may use before it compacts to what is selected now.
pub const POOL_BYTES: u64 = 768 << 20;

/// Which rasteriser draws the points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rasterizer {
    /// Compute where the adapter has 64-bit atomics, else quads.
    #[default]
    Auto,
    Quads,
    Compute,
}

/// Display settings of the point layer (main world, extracted every frame).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointSettings {
    /// Point size in pixels.
    pub point_size: f32,
    pub rasterizer: Rasterizer,
    /// Eye-Dome Lighting strength (0 = off); Potree's default is 1.
    pub edl_strength: f32,
    /// EDL neighbour radius in pixels; Potree's default is 1.4.
    pub edl_radius: f32,
}

impl Default for PointSettings {
    fn default() -> Self {
        PointSettings {
            point_size: 3.0,
            rasterizer: Rasterizer::Auto,
            edl_strength: 0.5,
            edl_radius: 1.4,
        }
    }
}

/// One node to draw: its centre in cloud-local (z-up) coordinates and its coloured points.
#[derive(Clone, Debug)]
pub struct LayerNode {
    pub id: u32,
    pub center: DVec3,
    pub points: Arc<Vec<GpuPoint>>,
}

/// What the main world wants drawn this frame (no nodes while the point layer is hidden).
#[derive(Resource, Clone, Debug, Default)]
pub struct PointLayer {
    pub nodes: Vec<LayerNode>,
    /// Bumped whenever resident colours change (mode, filter, new cloud): the pool restarts.
    pub generation: u64,
    pub settings: PointSettings,
}

impl ExtractResource for PointLayer {
    type Source = PointLayer;
    fn extract_resource(source: &Self::Source) -> Self {
        source.clone()
    }
}

/// Marks the cameras the point layer is drawn into.
#[derive(Component, Clone, Copy, Debug, Default, ExtractComponent)]
pub struct PointCloudCamera;

/// What the render world found out about the adapter (read back by the UI and tests).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RasterizerSupport {
    pub compute: bool,
}

/// Cloud-local (z-up, x east, y north) to Bevy world (y-up, right-handed): (x, z, −y).
pub fn world_from_local() -> Mat3 {
    Mat3::from_cols(Vec3::X, Vec3::NEG_Z, Vec3::Y)
}

pub fn local_to_world(p: DVec3) -> Vec3 {
    Vec3::new(p.x as f32, p.z as f32, -p.y as f32)
}

pub fn world_to_local(p: Vec3) -> DVec3 {
    DVec3::new(p.x as f64, -(p.z as f64), p.y as f64)
}

pub struct PointRenderPlugin;

impl Plugin for PointRenderPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<PointLayer>()
            .init_resource::<RasterizerSupport>()
            .add_plugins((
                ExtractResourcePlugin::<PointLayer>::default(),
                ExtractComponentPlugin::<PointCloudCamera>::default(),
            ));
        let support = SupportShare::default();
        app.insert_resource(support.clone())
            .add_systems(First, publish_support);
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        render_app
            .insert_resource(support)
            .init_resource::<PointPool>()
            .init_resource::<ViewLayers>()
            .add_systems(RenderStartup, init_pipelines)
            .add_systems(Render, upload_nodes.in_set(RenderSystems::PrepareResources))
            .add_systems(
                Core3d,
                point_pass
                    .after(main_opaque_pass_3d)
                    .before(main_transparent_pass_3d)
                    .in_set(Core3dSystems::MainPass),
            );
    }
}

/// Shares the render world's adapter findings with the main world.
#[derive(Resource, Clone, Default)]
struct SupportShare(Arc<std::sync::atomic::AtomicU8>);

fn publish_support(share: Res<SupportShare>, mut support: ResMut<RasterizerSupport>) {
    let v = share.0.load(std::sync::atomic::Ordering::Relaxed);
    let s = RasterizerSupport { compute: v == 2 };
    if *support != s {
        *support = s;
    }
}

#[derive(Resource)]
struct PointPipelines {
    frame_layout: wgpu::BindGroupLayout,
    quad: wgpu::RenderPipeline,
    compute: Option<ComputePipelines>,
    composite_layout: wgpu::BindGroupLayout,
    composite: HashMap<wgpu::TextureFormat, wgpu::RenderPipeline>,
}

struct ComputePipelines {
    raster_layout: wgpu::BindGroupLayout,
    raster: wgpu::ComputePipeline,
    resolve_layout: wgpu::BindGroupLayout,
    resolve: wgpu::ComputePipeline,
}

const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DIST_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R32Float;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

fn storage(binding: u32, vis: wgpu::ShaderStages, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: vis,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn uniform(binding: u32, vis: wgpu::ShaderStages) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: vis,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn texture(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: false },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

fn storage_texture(binding: u32, format: wgpu::TextureFormat) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::StorageTexture {
            access: wgpu::StorageTextureAccess::WriteOnly,
            format,
            view_dimension: wgpu::TextureViewDimension::D2,
        },
        count: None,
    }
}

/// A point shader with the structs all three share (WGSL has no includes).
fn points_shader(body: &str) -> String {
    format!(
        "{}\n{body}",
        include_str!("../../../shaders/points_common.wgsl")
    )
}

fn layout(
    device: &wgpu::Device,
    label: &str,
    entries: &[wgpu::BindGroupLayoutEntry],
) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries,
    })
}

fn compute_pipeline(
    device: &wgpu::Device,
    label: &str,
    src: &str,
    layout: &wgpu::BindGroupLayout,
    entry: &str,
) -> wgpu::ComputePipeline {
    let module = shader(device, label, src);
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: Some(
            &device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            }),
        ),
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    })
}

/// A vertex+fragment pipeline (`vs`/`fs`) that tests and writes Depth32Float with `compare`.
fn render_pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
    compare: wgpu::CompareFunction,
    targets: &[Option<wgpu::ColorTargetState>],
) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(true),
            depth_compare: Some(compare),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: Default::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some("fs"),
            compilation_options: Default::default(),
            targets,
        }),
        multiview_mask: None,
        cache: None,
    })
}

fn shader(device: &wgpu::Device, label: &str, src: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(src.into()),
    })
}

/// Whether the adapter can run the compute rasteriser.
pub fn compute_supported(features: wgpu::Features) -> bool {
    features.contains(wgpu::Features::SHADER_INT64 | wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX)
}

fn init_pipelines(mut commands: Commands, device: Res<RenderDevice>, share: Res<SupportShare>) {
    let features = device.features();
    let device = device.wgpu_device();
    let vf = wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::COMPUTE;
    let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("points_quad_layout"),
        entries: &[uniform(0, vf), storage(1, vf, true), storage(2, vf, true)],
    });
    let quad_shader = shader(
        device,
        "points_quad",
        &points_shader(include_str!("../../../shaders/points_quad.wgsl")),
    );
    let quad_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("points_quad"),
        bind_group_layouts: &[Some(&frame_layout)],
        immediate_size: 0,
    });
    let quad = render_pipeline(
        device,
        "points_quad",
        &quad_shader,
        &quad_layout,
        wgpu::CompareFunction::Greater,
        &[Some(COLOR_FORMAT.into()), Some(DIST_FORMAT.into())],
    );

    let compute = compute_supported(features).then(|| {
        let raster_layout = layout(
            device,
            "points_compute_layout",
            &[
                uniform(0, vf),
                storage(1, vf, true),
                storage(2, vf, true),
                storage(3, vf, true),
                storage(4, vf, false),
            ],
        );
        let raster = compute_pipeline(
            device,
            "points_compute",
            &points_shader(include_str!("../../../shaders/points_compute.wgsl")),
            &raster_layout,
            "rasterize",
        );
        let resolve_layout = layout(
            device,
            "points_resolve_layout",
            &[
                uniform(0, vf),
                storage(1, vf, true),
                storage_texture(2, COLOR_FORMAT),
                storage_texture(3, DIST_FORMAT),
            ],
        );
        let resolve = compute_pipeline(
            device,
            "points_resolve",
            &points_shader(include_str!("../../../shaders/points_resolve.wgsl")),
            &resolve_layout,
            "resolve",
        );
        ComputePipelines {
            raster_layout,
            raster,
            resolve_layout,
            resolve,
        }
    });
    share.0.store(
        if compute.is_some() { 2 } else { 1 },
        std::sync::atomic::Ordering::Relaxed,
    );

    let composite_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("points_edl_layout"),
        entries: &[
            uniform(0, wgpu::ShaderStages::FRAGMENT),
            texture(1),
            texture(2),
        ],
    });
    let edl = shader(
        device,
        "points_edl",
        include_str!("../../../shaders/points_edl.wgsl"),
    );
    let edl_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("points_edl"),
        bind_group_layouts: &[Some(&composite_layout)],
        immediate_size: 0,
    });
    let mut composite = HashMap::new();
    for format in [
        wgpu::TextureFormat::Rgba8UnormSrgb,
        wgpu::TextureFormat::Bgra8UnormSrgb,
        wgpu::TextureFormat::Rgba16Float,
    ] {
        let p = render_pipeline(
            device,
            "points_edl",
            &edl,
            &edl_layout,
            wgpu::CompareFunction::GreaterEqual,
            &[Some(format.into())],
        );
        composite.insert(format, p);
    }
    commands.insert_resource(PointPipelines {
        frame_layout,
        quad,
        compute,
        composite_layout,
        composite,
    });
}

struct Chunk {
    buffer: wgpu::Buffer,
    capacity: u32,
    used: u32,
}

/// Resident nodes on the GPU: bump-allocated in chunk buffers; when the pool is full it
/// restarts with only the nodes selected now (cheaper than a general allocator, and rare).
#[derive(Resource, Default)]
struct PointPool {
    generation: u64,
    chunks: Vec<Chunk>,
    /// node id → (chunk, first point, count)
    resident: HashMap<u32, (usize, u32, u32)>,
}

impl PointPool {
    fn reset(&mut self) {
        for c in &mut self.chunks {
            c.used = 0;
        }
        self.resident.clear();
    }

    fn alloc(
        &mut self,
        device: &wgpu::Device,
        count: u32,
        max_chunk_points: u32,
    ) -> Option<(usize, u32)> {
        if let Some(i) = self
            .chunks
            .iter()
            .position(|c| c.capacity - c.used >= count)
        {
            let first = self.chunks[i].used;
            self.chunks[i].used += count;
            return Some((i, first));
        }
        let bytes: u64 = self.chunks.iter().map(|c| c.capacity as u64 * 16).sum();
        let cap = max_chunk_points.max(count);
        if bytes + cap as u64 * 16 > POOL_BYTES && !self.chunks.is_empty() {
            return None;
        }
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("points_chunk"),
            size: cap as u64 * 16,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.chunks.push(Chunk {
            buffer,
            capacity: cap,
            used: count,
        });
        Some((self.chunks.len() - 1, 0))
    }
}

fn upload_nodes(
    layer: Res<PointLayer>,
    mut pool: ResMut<PointPool>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    if layer.generation != pool.generation {
        pool.reset();
        pool.generation = layer.generation;
    }
    let max_binding = device.limits().max_storage_buffer_binding_size;
    let max_chunk_points = (MAX_CHUNK_BYTES.min(max_binding) / 16).min(8 << 20) as u32;
    let device = device.wgpu_device();
    for pass in 0..2 {
        let mut full = false;
        for n in &layer.nodes {
            if pool.resident.contains_key(&n.id) || n.points.is_empty() {
                continue;
            }
            let count = n.points.len() as u32;
            match pool.alloc(device, count, max_chunk_points) {
                Some((chunk, first)) => {
                    queue.write_buffer(
                        &pool.chunks[chunk].buffer,
                        first as u64 * 16,
                        bytemuck::cast_slice(&n.points),
                    );
                    pool.resident.insert(n.id, (chunk, first, count));
                }
                None => {
                    full = true;
                    break;
                }
            }
        }
        if !full || pass == 1 {
            break;
        }
        pool.reset();
    }
}

/// Per-view intermediate targets, re-made when the view's size changes.
struct ViewLayer {
    size: UVec2,
    color: wgpu::TextureView,
    dist: wgpu::TextureView,
    depth: wgpu::TextureView,
    framebuffer: Option<wgpu::Buffer>,
}

#[derive(Resource, Default)]
struct ViewLayers(HashMap<Entity, ViewLayer>);

fn make_texture(
    device: &wgpu::Device,
    size: UVec2,
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::TextureView {
    device
        .create_texture(&wgpu::TextureDescriptor {
            label: Some("points_layer"),
            size: wgpu::Extent3d {
                width: size.x,
                height: size.y,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage,
            view_formats: &[],
        })
        .create_view(&Default::default())
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FrameUniform {
    clip_from_rel: [[f32; 4]; 4],
    viewport: [f32; 2],
    point_size: f32,
    groups_x: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct NodeUniform {
    offset: [f32; 3],
    first: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct WorkItem {
    slot: u32,
    first: u32,
    count: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CompositeUniform {
    proj: [f32; 4],
    proj_e: f32,
    edl_strength: f32,
    edl_radius: f32,
    _pad: f32,
    offset: [f32; 2],
    _pad2: [f32; 2],
}

const WORKGROUP: u32 = 128;

/// Camera-relative projection: clip ← view rotation ← Bevy world axes ← cloud-local offsets.
pub fn clip_from_rel(clip_from_view: Mat4, world_from_view: &GlobalTransform) -> Mat4 {
    let rot = world_from_view.affine().matrix3;
    let view_from_world = Mat3::from(rot).transpose();
    clip_from_view * Mat4::from_mat3(view_from_world * world_from_local())
}

/// A bind group whose entries are `resources` at bindings 0, 1, 2, … in order.
fn bind_group(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    resources: &[wgpu::BindingResource<'_>],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry<'_>> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: r.clone(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

/// A storage buffer holding `values`.
fn storage_buffer<T: bytemuck::Pod>(
    device: &wgpu::Device,
    label: &str,
    values: &[T],
) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(values),
        usage: wgpu::BufferUsages::STORAGE,
    })
}

/// A uniform buffer holding `value`.
fn uniform_buffer<T: bytemuck::Pod>(device: &wgpu::Device, label: &str, value: &T) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::bytes_of(value),
        usage: wgpu::BufferUsages::UNIFORM,
    })
}

/// The view's offscreen targets (colour, distance, depth, and the compute rasteriser's
/// framebuffer), made anew when the viewport size or the rasteriser changed.
fn view_layer(
    layers: &mut ViewLayers,
    device: &wgpu::Device,
    entity: Entity,
    size: UVec2,
    use_compute: bool,
) {
    let stale = layers
        .0
        .get(&entity)
        .is_none_or(|l| l.size != size || l.framebuffer.is_some() != use_compute);
    if !stale {
        return;
    }
    let att = wgpu::TextureUsages::RENDER_ATTACHMENT
        | wgpu::TextureUsages::TEXTURE_BINDING
        | wgpu::TextureUsages::STORAGE_BINDING;
    layers.0.insert(
        entity,
        ViewLayer {
            size,
            color: make_texture(device, size, COLOR_FORMAT, att),
            dist: make_texture(device, size, DIST_FORMAT, att),
            depth: make_texture(
                device,
                size,
                DEPTH_FORMAT,
                wgpu::TextureUsages::RENDER_ATTACHMENT,
            ),
            framebuffer: use_compute.then(|| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("points_framebuffer"),
                    size: size.x as u64 * size.y as u64 * 8,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            }),
        },
    );
}

/// What a frame draws: per resident node its offset from the camera (computed in f64, then
/// narrowed, so far-away projects keep their precision) and, per pool chunk, the nodes in it
/// as `(slot, first point, count)`.
struct FrameNodes {
    nodes: Vec<NodeUniform>,
    per_chunk: Vec<Vec<(u32, u32, u32)>>,
}

fn frame_nodes(layer: &PointLayer, pool: &PointPool, cam_local: DVec3) -> FrameNodes {
    let mut nodes = Vec::new();
    let mut per_chunk: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); pool.chunks.len()];
    for n in &layer.nodes {
        let Some(&(chunk, first, count)) = pool.resident.get(&n.id) else {
            continue;
        };
        let off = n.center - cam_local;
        let slot = nodes.len() as u32;
        nodes.push(NodeUniform {
            offset: [off.x as f32, off.y as f32, off.z as f32],
            first,
        });
        per_chunk[chunk].push((slot, first, count));
    }
    FrameNodes { nodes, per_chunk }
}

/// The work items of one chunk's nodes (at most [`WORKGROUP`] points each) and the dispatch
/// size, padded so every dispatched group reads a valid (empty) item.
fn work_items(items: &[(u32, u32, u32)]) -> (Vec<WorkItem>, u32, u32) {
    let mut work = Vec::new();
    for &(slot, first, count) in items {
        let mut k = 0;
        while k < count {
            work.push(WorkItem {
                slot,
                first: first + k,
                count: WORKGROUP.min(count - k),
                _pad: 0,
            });
            k += WORKGROUP;
        }
    }
    let groups = work.len() as u32;
    let gx = groups.min(65535);
    let gy = groups.div_ceil(gx);
    work.resize(
        (gx * gy) as usize,
        WorkItem {
            slot: 0,
            first: 0,
            count: 0,
            _pad: 0,
        },
    );
    (work, gx, gy)
}

/// Inputs shared by the two rasterisers.
struct RasterInputs<'a> {
    device: &'a wgpu::Device,
    pool: &'a PointPool,
    frame: &'a FrameNodes,
    node_buf: &'a wgpu::Buffer,
    vl: &'a ViewLayer,
    size: UVec2,
    frame_for: &'a dyn Fn(u32) -> FrameUniform,
}

/// Compute rasteriser: every chunk's points into the 64-bit depth|colour framebuffer with
/// atomics, then a resolve pass into the colour and distance targets.
fn compute_pass(
    encoder: &mut wgpu::CommandEncoder,
    cp: &ComputePipelines,
    fb: &wgpu::Buffer,
    r: &RasterInputs<'_>,
) {
    let device = r.device;
    encoder.clear_buffer(fb, 0, None);
    let mut binds = Vec::new();
    for (chunk, items) in r.frame.per_chunk.iter().enumerate() {
        if items.is_empty() {
            continue;
        }
        let (work, gx, gy) = work_items(items);
        let frame = uniform_buffer(device, "points_frame", &(r.frame_for)(gx));
        let work_buf = storage_buffer(device, "points_work", &work);
        let bg = bind_group(
            device,
            "points_compute",
            &cp.raster_layout,
            &[
                frame.as_entire_binding(),
                r.pool.chunks[chunk].buffer.as_entire_binding(),
                r.node_buf.as_entire_binding(),
                work_buf.as_entire_binding(),
                fb.as_entire_binding(),
            ],
        );
        binds.push((bg, gx, gy));
    }
    let frame = uniform_buffer(device, "points_frame", &(r.frame_for)(1));
    let resolve_bg = bind_group(
        device,
        "points_resolve",
        &cp.resolve_layout,
        &[
            frame.as_entire_binding(),
            fb.as_entire_binding(),
            wgpu::BindingResource::TextureView(&r.vl.color),
            wgpu::BindingResource::TextureView(&r.vl.dist),
        ],
    );
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("points_compute"),
        timestamp_writes: None,
    });
    pass.set_pipeline(&cp.raster);
    for (bg, gx, gy) in &binds {
        pass.set_bind_group(0, bg, &[]);
        pass.dispatch_workgroups(*gx, *gy, 1);
    }
    pass.set_pipeline(&cp.resolve);
    pass.set_bind_group(0, &resolve_bg, &[]);
    pass.dispatch_workgroups(r.size.x.div_ceil(8), r.size.y.div_ceil(8), 1);
}

/// Quad rasteriser: six vertices per point, depth-tested, into the colour and distance
/// targets.
fn quad_pass(encoder: &mut wgpu::CommandEncoder, pipes: &PointPipelines, r: &RasterInputs<'_>) {
    let device = r.device;
    let frame = uniform_buffer(device, "points_frame", &(r.frame_for)(1));
    let binds: Vec<_> = r
        .frame
        .per_chunk
        .iter()
        .enumerate()
        .filter(|(_, items)| !items.is_empty())
        .map(|(chunk, items)| {
            let bg = bind_group(
                device,
                "points_quad",
                &pipes.frame_layout,
                &[
                    frame.as_entire_binding(),
                    r.pool.chunks[chunk].buffer.as_entire_binding(),
                    r.node_buf.as_entire_binding(),
                ],
            );
            (bg, items)
        })
        .collect();
    let clear = |view| {
        Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                store: wgpu::StoreOp::Store,
            },
        })
    };
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("points_quads"),
        color_attachments: &[clear(&r.vl.color), clear(&r.vl.dist)],
        depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
            view: &r.vl.depth,
            depth_ops: Some(wgpu::Operations {
                load: wgpu::LoadOp::Clear(0.0),
                store: wgpu::StoreOp::Discard,
            }),
            stencil_ops: None,
        }),
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_pipeline(&pipes.quad);
    for (bg, items) in &binds {
        pass.set_bind_group(0, bg, &[]);
        for &(slot, first, count) in items.iter() {
            pass.draw(first * 6..(first + count) * 6, slot..slot + 1);
        }
    }
}

/// Composite the colour and distance targets with eye-dome lighting into the camera's target,
/// writing depth so meshes and points occlude each other.
fn composite_pass(
    encoder: &mut wgpu::CommandEncoder,
    device: &wgpu::Device,
    pipes: &PointPipelines,
    composite: &wgpu::RenderPipeline,
    extracted: &ExtractedView,
    target: &ViewTarget,
    depth: &ViewDepthTexture,
    vl: &ViewLayer,
    settings: &PointSettings,
) {
    let p = extracted.clip_from_view;
    let cu = CompositeUniform {
        proj: [p.z_axis.z, p.w_axis.z, p.z_axis.w, 0.0],
        proj_e: p.w_axis.w,
        edl_strength: settings.edl_strength.max(0.0),
        edl_radius: settings.edl_radius.max(1.0),
        _pad: 0.0,
        offset: [extracted.viewport.x as f32, extracted.viewport.y as f32],
        _pad2: [0.0; 2],
    };
    let cbuf = uniform_buffer(device, "points_edl", &cu);
    let bg = bind_group(
        device,
        "points_edl",
        &pipes.composite_layout,
        &[
            cbuf.as_entire_binding(),
            wgpu::BindingResource::TextureView(&vl.color),
            wgpu::BindingResource::TextureView(&vl.dist),
        ],
    );
    let color = target.get_color_attachment();
    let depth_att = depth.get_attachment(wgpu::StoreOp::Store);
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("points_edl"),
        color_attachments: &[Some(color)],
        depth_stencil_attachment: Some(depth_att),
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    let vp = extracted.viewport.as_vec4();
    pass.set_viewport(vp.x, vp.y, vp.z, vp.w, 0.0, 1.0);
    pass.set_pipeline(composite);
    pass.set_bind_group(0, &bg, &[]);
    pass.draw(0..3, 0..1);
}

/// The point layer's render pass for one view: targets, node offsets, the compute or quad
/// rasteriser, then the EDL composite.
fn point_pass(
    view: ViewQuery<(
        &ExtractedView,
        &ViewTarget,
        &ViewDepthTexture,
        &PointCloudCamera,
    )>,
    layer: Res<PointLayer>,
    pool: Res<PointPool>,
    pipelines: Option<Res<PointPipelines>>,
    mut layers: ResMut<ViewLayers>,
    mut ctx: RenderContext,
) {
    let Some(pipes) = pipelines else {
        return;
    };
    let entity = view.entity();
    let (extracted, target, depth, _) = view.into_inner();
    let settings = layer.settings;
    if layer.nodes.is_empty() {
        return;
    }
    let size = UVec2::new(extracted.viewport.z, extracted.viewport.w);
    if size.x == 0 || size.y == 0 {
        return;
    }
    let Some(composite) = pipes.composite.get(&target.main_texture_format()) else {
        return;
    };
    let use_compute = pipes.compute.is_some() && settings.rasterizer != Rasterizer::Quads;
    let device = ctx.render_device().wgpu_device().clone();
    view_layer(&mut layers, &device, entity, size, use_compute);
    let vl = &layers.0[&entity];

    let cam_local = world_to_local(extracted.world_from_view.translation());
    let frame = frame_nodes(&layer, &pool, cam_local);
    if frame.nodes.is_empty() {
        return;
    }
    let clip = clip_from_rel(extracted.clip_from_view, &extracted.world_from_view);
    let node_buf = storage_buffer(&device, "points_nodes", &frame.nodes);
    let frame_for = |groups_x: u32| FrameUniform {
        clip_from_rel: clip.to_cols_array_2d(),
        viewport: [size.x as f32, size.y as f32],
        point_size: settings.point_size.max(1.0),
        groups_x,
    };
    let inputs = RasterInputs {
        device: &device,
        pool: &pool,
        frame: &frame,
        node_buf: &node_buf,
        vl,
        size,
        frame_for: &frame_for,
    };

    let encoder = ctx.command_encoder();
    match (use_compute, pipes.compute.as_ref(), vl.framebuffer.as_ref()) {
        (true, Some(cp), Some(fb)) => compute_pass(encoder, cp, fb, &inputs),
        _ => quad_pass(encoder, &pipes, &inputs),
    }
    composite_pass(
        encoder, &device, &pipes, composite, extracted, target, depth, vl, &settings,
    );
}
