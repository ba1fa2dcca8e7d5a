// Point-to-raster canopy height: each point raises its cell to its height (atomic max).
// GPU twin of the PointToRaster branch of reconstruct::chm::ChmPlan::rasterize_cpu.
//
// Heights are stored as order-preserving u32 keys (negative floats: all bits flipped; others:
// sign bit set), so integer atomicMax is a float max; key 0 means "no point" (nodata).

struct Params {
    count: u32,
    width: u32,
    height: u32,
    row_stride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cells: array<u32>;
@group(0) @binding(2) var<storage, read> heights: array<f32>;
@group(0) @binding(3) var<storage, read_write> raster: array<atomic<u32>>;

fn height_key(z: f32) -> u32 {
    let b = bitcast<u32>(z);
    if ((b & 0x80000000u) != 0u) {
        return ~b;
    }
    return b | 0x80000000u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * params.row_stride + gid.x;
    if (i >= params.count) {
        return;
    }
    atomicMax(&raster[cells[i]], height_key(heights[i]));
}
