// Compute-shader point rasteriser after Schütz, Kerbl & Wimmer 2021, "Rendering Point Clouds with
// Compute Shaders and Vertex Order Optimization" (EGSR): each thread projects one point and
// resolves visibility with one 64-bit atomic on the framebuffer, key = (inverted depth << 32 |
// colour), so the nearest point wins without a depth test or a second pass. We use atomicMax on
// the inverted depth so a buffer cleared to zero means "empty". Needs
// SHADER_INT64_ATOMIC_MIN_MAX. Pixel coverage follows the same rule as the quad rasteriser
// (pixel centres inside the point's square) so both produce the same image.

// One workgroup's slice of one node: `count` points from `first` in the chunk.
struct Work {
    slot: u32,
    first: u32,
    count: u32,
    _pad: u32,
};

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> points: array<Point>;
@group(0) @binding(2) var<storage, read> nodes: array<Node>;
@group(0) @binding(3) var<storage, read> work: array<Work>;
@group(0) @binding(4) var<storage, read_write> framebuffer: array<atomic<u64>>;

@compute @workgroup_size(128)
fn rasterize(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let item = work[wg.x + wg.y * frame.groups_x];
    if (li >= item.count) {
        return;
    }
    let p = points[item.first + li];
    if ((p.color >> 24u) == 0u) {
        return;
    }
    let rel = nodes[item.slot].offset + p.pos;
    let clip = frame.clip_from_rel * vec4<f32>(rel, 1.0);
    if (clip.w <= 0.0) {
        return;
    }
    let ndc = clip.xyz / clip.w;
    if (ndc.z < 0.0 || ndc.z > 1.0) {
        return;
    }
    let w = frame.viewport.x;
    let h = frame.viewport.y;
    let px = (ndc.x * 0.5 + 0.5) * w;
    let py = (0.5 - ndc.y * 0.5) * h;
    let half = frame.point_size * 0.5;
    let x0 = i32(ceil(px - half - 0.5));
    let x1 = i32(ceil(px + half - 0.5));
    let y0 = i32(ceil(py - half - 0.5));
    let y1 = i32(ceil(py + half - 0.5));
    let key = (u64(0xffffffffu - bitcast<u32>(clip.w)) << 32u) | u64(p.color);
    let wi = i32(w);
    let hi = i32(h);
    for (var y = max(y0, 0); y < min(y1, hi); y++) {
        for (var x = max(x0, 0); x < min(x1, wi); x++) {
            atomicMax(&framebuffer[u32(y * wi + x)], key);
        }
    }
}
