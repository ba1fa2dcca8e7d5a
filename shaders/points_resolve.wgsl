// Turns the compute rasteriser's 64-bit framebuffer into the colour and distance textures the
// quad rasteriser renders, so both feed the same Eye-Dome Lighting composite.

@group(0) @binding(0) var<uniform> frame: Frame;
// The framebuffer as (low, high) words: low = colour, high = inverted distance.
@group(0) @binding(1) var<storage, read> framebuffer: array<vec2<u32>>;
@group(0) @binding(2) var color_out: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(3) var dist_out: texture_storage_2d<r32float, write>;

@compute @workgroup_size(8, 8)
fn resolve(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = u32(frame.viewport.x);
    let h = u32(frame.viewport.y);
    if (id.x >= w || id.y >= h) {
        return;
    }
    let v = framebuffer[id.y * w + id.x];
    let at = vec2<i32>(id.xy);
    if (v.y == 0u) {
        textureStore(color_out, at, vec4<f32>(0.0));
        textureStore(dist_out, at, vec4<f32>(0.0));
        return;
    }
    let c = unpack4x8unorm(v.x);
    textureStore(color_out, at, vec4<f32>(c.rgb, 1.0));
    textureStore(dist_out, at, vec4<f32>(bitcast<f32>(0xffffffffu - v.y), 0.0, 0.0, 0.0));
}
