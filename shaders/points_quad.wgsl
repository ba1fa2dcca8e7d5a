// Points as screen-space quads (WebGPU has no point size): six vertices per point, expanded in
// clip space so every point covers `point_size` pixels whatever its distance. Depth is the
// point centre's, constant over the quad, so occlusion matches the compute rasteriser exactly.
// Positions are relative to their octree node's centre; `nodes[slot].offset` is that centre
// relative to the camera, computed in f64 on the CPU, so UTM-scale scenes keep f32 precision.

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> points: array<Point>;
@group(0) @binding(2) var<storage, read> nodes: array<Node>;

struct VOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) dist: f32,
};

@vertex
fn vs(@builtin(vertex_index) vid: u32, @builtin(instance_index) slot: u32) -> VOut {
    var corners = array<vec2<f32>, 6>(
        vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0),
        vec2(-1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, 1.0),
    );
    let p = points[vid / 6u];
    let rel = nodes[slot].offset + p.pos;
    var clip = frame.clip_from_rel * vec4<f32>(rel, 1.0);
    var out: VOut;
    out.color = unpack4x8unorm(p.color);
    out.dist = clip.w;
    // Hidden points (alpha 0) and points behind the camera become degenerate quads.
    if (out.color.a == 0.0 || clip.w <= 0.0) {
        out.clip = vec4<f32>(2.0, 2.0, 2.0, 1.0);
        return out;
    }
    let c = corners[vid % 6u];
    clip = vec4<f32>(clip.xy + c * (frame.point_size / frame.viewport) * clip.w, clip.zw);
    out.clip = clip;
    return out;
}

struct FOut {
    @location(0) color: vec4<f32>,
    @location(1) dist: vec4<f32>,
};

@fragment
fn fs(in: VOut) -> FOut {
    var out: FOut;
    out.color = vec4<f32>(in.color.rgb, 1.0);
    out.dist = vec4<f32>(in.dist, 0.0, 0.0, 0.0);
    return out;
}
