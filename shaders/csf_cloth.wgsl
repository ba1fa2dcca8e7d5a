// Cloth Simulation Filter time step (Zhang et al. 2016, Remote Sensing 8(6):501), as the
// GPU twin of reconstruct/src/ground/csf.rs. Heights are inverted (h = -z): the cloth falls
// toward -h. One particle per invocation; every kernel reads only the previous pass's buffers
// (Jacobi), so the result does not depend on scheduling, and the sums run in the CPU twin's
// order (PARTNERS in csf.rs).
//
// Per time step the host records: verlet (in place), then `rigidness` relaxation sweeps
// src -> dst alternating two buffers, the last one being `sweep_final` (relaxation +
// collision + largest height change, reduced per workgroup then with one atomicMax).

struct Params {
    w: u32,
    h: u32,
    relaxation: f32,
    accel: f32,
    keep: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> old: array<f32>;
@group(0) @binding(4) var<storage, read> hv: array<f32>;
@group(0) @binding(5) var<storage, read_write> pinned: array<u32>;
// Largest |h - old| of a movable particle this step, as f32 bits (non-negative floats order
// like their bit patterns).
@group(0) @binding(6) var<storage, read_write> max_diff: atomic<u32>;

const WG: u32 = 256u;

// Verlet integration of movable particles, in place on `dst` (reference Particle::timeStep).
@compute @workgroup_size(256)
fn verlet(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if (p >= prm.w * prm.h) {
        return;
    }
    if (pinned[p] == 0u) {
        let cur = dst[p];
        let v = cur - old[p];
        dst[p] = cur + v * prm.keep + prm.accel;
        old[p] = cur;
    }
}

// Mean of the in-grid spring partners of (i, j), summed in the CPU twin's order.
var<private> s_sum: f32;
var<private> s_cnt: f32;

fn take(i: i32, j: i32) {
    if (i >= 0 && j >= 0 && i < i32(prm.w) && j < i32(prm.h)) {
        s_sum = s_sum + src[u32(j) * prm.w + u32(i)];
        s_cnt = s_cnt + 1.0;
    }
}

fn partner_mean(i: i32, j: i32) -> f32 {
    s_sum = 0.0;
    s_cnt = 0.0;
    take(i - 1, j);
    take(i + 1, j);
    take(i, j - 1);
    take(i, j + 1);
    take(i - 1, j - 1);
    take(i + 1, j - 1);
    take(i - 1, j + 1);
    take(i + 1, j + 1);
    take(i - 2, j);
    take(i + 2, j);
    take(i, j - 2);
    take(i, j + 2);
    take(i - 2, j - 2);
    take(i + 2, j - 2);
    take(i - 2, j + 2);
    take(i + 2, j + 2);
    return s_sum / s_cnt;
}

fn relaxed(p: u32) -> f32 {
    let cur = src[p];
    if (pinned[p] != 0u) {
        return cur;
    }
    let i = i32(p % prm.w);
    let j = i32(p / prm.w);
    let m = partner_mean(i, j);
    return cur + prm.relaxation * (m - cur);
}

@compute @workgroup_size(256)
fn sweep(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if (p >= prm.w * prm.h) {
        return;
    }
    dst[p] = relaxed(p);
}

var<workgroup> wg_max: array<f32, 256>;

@compute @workgroup_size(256)
fn sweep_final(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let p = gid.x;
    var d = 0.0;
    if (p < prm.w * prm.h) {
        var y = relaxed(p);
        if (pinned[p] == 0u) {
            d = abs(y - old[p]);
            if (y < hv[p]) {
                y = hv[p];
                pinned[p] = 1u;
            }
        }
        dst[p] = y;
    }
    wg_max[lid] = d;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            wg_max[lid] = max(wg_max[lid], wg_max[lid + s]);
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        atomicMax(&max_diff, bitcast<u32>(wg_max[0]));
    }
}
