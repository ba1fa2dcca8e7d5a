// Pit-free canopy height (Khosravipour et al. 2014): every kept triangle of every threshold
// layer is evaluated at the cell centres it covers and each cell keeps the maximum.
// GPU twin of reconstruct::chm::raster_triangle: the same f32 operations in the same order,
// so CPU and GPU CHMs agree to rounding.
//
// Triangles: 9 f32 each, u0 v0 z0 u1 v1 z1 u2 v2 z2, u = columns east of the grid's west
// edge, v = rows south of its north edge (cell (c, r) has its centre at (c + 0.5, r + 0.5)).
// Heights are stored as order-preserving u32 keys (see chm_p2r.wgsl); key 0 = nodata.

struct Params {
    count: u32,
    width: u32,
    height: u32,
    row_stride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tris: array<f32>;
@group(0) @binding(2) var<storage, read_write> raster: array<atomic<u32>>;

const INSIDE_EPS: f32 = 1e-5;

fn height_key(z: f32) -> u32 {
    let b = bitcast<u32>(z);
    if ((b & 0x80000000u) != 0u) {
        return ~b;
    }
    return b | 0x80000000u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.y * params.row_stride + gid.x;
    if (t >= params.count) {
        return;
    }
    let b = t * 9u;
    let x0 = tris[b];
    let y0 = tris[b + 1u];
    let z0 = tris[b + 2u];
    let x1 = tris[b + 3u];
    let y1 = tris[b + 4u];
    let z1 = tris[b + 5u];
    let x2 = tris[b + 6u];
    let y2 = tris[b + 7u];
    let z2 = tris[b + 8u];
    let d = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2);
    if (d == 0.0 || params.width == 0u || params.height == 0u) {
        return;
    }
    let lo_x = min(min(x0, x1), x2);
    let hi_x = max(max(x0, x1), x2);
    let lo_y = min(min(y0, y1), y2);
    let hi_y = max(max(y0, y1), y2);
    let c0 = max(i32(floor(lo_x - 0.5)), 0);
    let c1 = min(i32(ceil(hi_x - 0.5)), i32(params.width) - 1);
    let r0 = max(i32(floor(lo_y - 0.5)), 0);
    let r1 = min(i32(ceil(hi_y - 0.5)), i32(params.height) - 1);
    for (var r = r0; r <= r1; r = r + 1) {
        let py = f32(r) + 0.5;
        for (var c = c0; c <= c1; c = c + 1) {
            let px = f32(c) + 0.5;
            let w0 = ((y1 - y2) * (px - x2) + (x2 - x1) * (py - y2)) / d;
            let w1 = ((y2 - y0) * (px - x2) + (x0 - x2) * (py - y2)) / d;
            let w2 = 1.0 - w0 - w1;
            if (w0 >= -INSIDE_EPS && w1 >= -INSIDE_EPS && w2 >= -INSIDE_EPS) {
                let z = w0 * z0 + w1 * z1 + w2 * z2;
                atomicMax(&raster[u32(r) * params.width + u32(c)], height_key(z));
            }
        }
    }
}
