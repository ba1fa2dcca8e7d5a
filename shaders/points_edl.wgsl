// Composites the point layer into the camera's target with Eye-Dome Lighting (Boucheny 2009,
// "Visualisation scientifique de grands volumes de données"; the form Potree and CloudCompare
// use): each pixel is darkened by how far its log-depth lies behind its neighbours', which
// outlines shapes without normals. Writes the points' depth so meshes and points occlude each
// other correctly in the main pass's depth buffer (reverse-Z, as Bevy uses).

struct Composite {
    // Projection terms turning view distance d into NDC depth: (a·(−d) + b) / (c·(−d) + e).
    proj: vec4<f32>,
    proj_e: f32,
    edl_strength: f32,
    edl_radius: f32,
    _pad: f32,
    // Top-left of the camera's viewport in the target (the layer textures start there).
    offset: vec2<f32>,
    _pad2: vec2<f32>,
};

@group(0) @binding(0) var<uniform> comp: Composite;
@group(0) @binding(1) var color_tex: texture_2d<f32>;
@group(0) @binding(2) var dist_tex: texture_2d<f32>;

struct VOut {
    @builtin(position) pos: vec4<f32>,
};

@vertex
fn vs(@builtin(vertex_index) vid: u32) -> VOut {
    let uv = vec2<f32>(f32((vid << 1u) & 2u), f32(vid & 2u));
    var out: VOut;
    out.pos = vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
    return out;
}

fn log_depth(at: vec2<i32>, size: vec2<i32>) -> f32 {
    let c = clamp(at, vec2<i32>(0), size - 1);
    let d = textureLoad(dist_tex, c, 0).r;
    if (d <= 0.0) {
        return 0.0;
    }
    return max(0.0, log2(d));
}

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, c <= vec3<f32>(0.04045));
}

struct FOut {
    @location(0) color: vec4<f32>,
    @builtin(frag_depth) depth: f32,
};

@fragment
fn fs(in: VOut) -> FOut {
    let at = vec2<i32>(in.pos.xy - comp.offset);
    let size = vec2<i32>(textureDimensions(color_tex));
    let c = textureLoad(color_tex, at, 0);
    if (c.a == 0.0) {
        discard;
    }
    let d = textureLoad(dist_tex, at, 0).r;
    var shade = 1.0;
    if (comp.edl_strength > 0.0) {
        let ld = max(0.0, log2(d));
        var offsets = array<vec2<f32>, 8>(
            vec2(1.0, 0.0), vec2(0.7071, 0.7071), vec2(0.0, 1.0), vec2(-0.7071, 0.7071),
            vec2(-1.0, 0.0), vec2(-0.7071, -0.7071), vec2(0.0, -1.0), vec2(0.7071, -0.7071),
        );
        var response = 0.0;
        for (var i = 0; i < 8; i++) {
            let n = at + vec2<i32>(round(offsets[i] * comp.edl_radius));
            response += max(0.0, ld - log_depth(n, size));
        }
        response /= 8.0;
        shade = exp(-response * 300.0 * comp.edl_strength);
    }
    var out: FOut;
    out.color = vec4<f32>(srgb_to_linear(c.rgb) * shade, 1.0);
    let z = -d;
    out.depth = clamp((comp.proj.x * z + comp.proj.y) / (comp.proj.z * z + comp.proj_e), 0.0, 1.0);
    return out;
}
