// PatchMatch multi-view stereo, one reference photo: the GPU side of
// photogrammetry/src/mvs/patchmatch.rs, written statement for statement like that CPU twin
// (same f32 operations in the same order, same PCG random numbers, same red–black schedule).
//
// plane[i] = (normal.xyz, depth) in the reference camera frame; cost[i] = mean of the best two
// source costs 1 − NCC over a 5 × 5 window sampled every 2 px.

struct Params {
    width: u32,
    height: u32,
    n_src: u32,
    iteration: u32,
    colour: u32,
    seed: u32,
    focal: f32,
    cx: f32,
    cy: f32,
    depth_min: f32,
    depth_max: f32,
    _pad: f32,
};

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> reference: array<f32>;
@group(0) @binding(2) var<storage, read> sources: array<f32>;
// Per source: rotation rows (9) then translation (3).
@group(0) @binding(3) var<storage, read> poses: array<f32>;
@group(0) @binding(4) var<storage, read_write> plane: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> cost_buf: array<f32>;

const WINDOW: i32 = 2;
const STEP: i32 = 2;
const TOP_K: u32 = 2u;
const BAD_COST: f32 = 2.0;
const DECAY: f32 = 0.3;

fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn rand01(x: u32, y: u32, it: u32, k: u32) -> f32 {
    let h = pcg(x ^ pcg(y ^ pcg((it * 16u + k) ^ pcg(P.seed))));
    return f32(h >> 8u) / 16777216.0;
}

fn dot3(a: vec3<f32>, b: vec3<f32>) -> f32 {
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

fn normalize3(a: vec3<f32>) -> vec3<f32> {
    let n = sqrt(dot3(a, a));
    return vec3<f32>(a.x / n, a.y / n, a.z / n);
}

fn ray(x: f32, y: f32) -> vec3<f32> {
    return vec3<f32>((x - P.cx) / P.focal, (y - P.cy) / P.focal, 1.0);
}

fn sample_src(s: u32, u: f32, v: f32) -> f32 {
    let x0 = floor(u);
    let y0 = floor(v);
    let fx = u - x0;
    let fy = v - y0;
    let w = P.width;
    let base = s * w * P.height;
    let xi = u32(x0);
    let yi = u32(y0);
    let a = sources[base + yi * w + xi];
    let b = sources[base + yi * w + xi + 1u];
    let c = sources[base + (yi + 1u) * w + xi];
    let d = sources[base + (yi + 1u) * w + xi + 1u];
    let top = a + (b - a) * fx;
    let bot = c + (d - c) * fx;
    return top + (bot - top) * fy;
}

fn cost_of(x: i32, y: i32, depth: f32, normal: vec3<f32>) -> f32 {
    let rp = ray(f32(x), f32(y));
    if (depth != depth || depth <= 0.0 || dot3(normal, rp) >= 0.0) {
        return BAD_COST;
    }
    let w = i32(P.width);
    let h = i32(P.height);
    let r = WINDOW * STEP;
    if (x < r || y < r || x >= w - r || y >= h - r) {
        return BAD_COST;
    }
    let rho = depth * dot3(normal, rp);
    let corners = array<vec2<i32>, 4>(vec2<i32>(-r, -r), vec2<i32>(r, -r), vec2<i32>(-r, r), vec2<i32>(r, r));
    for (var c = 0u; c < 4u; c = c + 1u) {
        if (dot3(normal, ray(f32(x + corners[c].x), f32(y + corners[c].y))) > -1e-6) {
            return BAD_COST;
        }
    }
    var costs = array<f32, 4>(BAD_COST, BAD_COST, BAD_COST, BAD_COST);
    for (var s = 0u; s < P.n_src; s = s + 1u) {
        let o = s * 12u;
        let t = vec3<f32>(poses[o + 9u], poses[o + 10u], poses[o + 11u]);
        let m0 = vec3<f32>(poses[o] + t.x * normal.x / rho, poses[o + 1u] + t.x * normal.y / rho, poses[o + 2u] + t.x * normal.z / rho);
        let m1 = vec3<f32>(poses[o + 3u] + t.y * normal.x / rho, poses[o + 4u] + t.y * normal.y / rho, poses[o + 5u] + t.y * normal.z / rho);
        let m2 = vec3<f32>(poses[o + 6u] + t.z * normal.x / rho, poses[o + 7u] + t.z * normal.y / rho, poses[o + 8u] + t.z * normal.z / rho);
        var sa = 0.0;
        var sb = 0.0;
        var saa = 0.0;
        var sbb = 0.0;
        var sab = 0.0;
        var n = 0.0;
        var ok = true;
        for (var j = -WINDOW; j <= WINDOW && ok; j = j + 1) {
            for (var i = -WINDOW; i <= WINDOW; i = i + 1) {
                let qx = x + i * STEP;
                let qy = y + j * STEP;
                let rq = ray(f32(qx), f32(qy));
                let yz = dot3(m2, rq);
                if (yz <= 1e-6) {
                    ok = false;
                    break;
                }
                let u = P.focal * dot3(m0, rq) / yz + P.cx;
                let v = P.focal * dot3(m1, rq) / yz + P.cy;
                if (!(u >= 0.0 && v >= 0.0 && u < f32(w - 1) && v < f32(h - 1))) {
                    ok = false;
                    break;
                }
                let a = reference[u32(qy * w + qx)];
                let b = sample_src(s, u, v);
                sa = sa + a;
                sb = sb + b;
                saa = saa + a * a;
                sbb = sbb + b * b;
                sab = sab + a * b;
                n = n + 1.0;
            }
        }
        if (!ok) {
            continue;
        }
        let va = saa / n - (sa / n) * (sa / n);
        let vb = sbb / n - (sb / n) * (sb / n);
        let cov = sab / n - (sa / n) * (sb / n);
        if (va < 1.0 || vb < 1.0) {
            continue;
        }
        let ncc = cov / sqrt(va * vb);
        costs[s] = clamp(1.0 - ncc, 0.0, BAD_COST);
    }
    for (var a = 1u; a < 4u; a = a + 1u) {
        var b = a;
        while (b > 0u && costs[b - 1u] > costs[b]) {
            let tmp = costs[b - 1u];
            costs[b - 1u] = costs[b];
            costs[b] = tmp;
            b = b - 1u;
        }
    }
    let k = min(TOP_K, max(P.n_src, 1u));
    var sum = 0.0;
    for (var a = 0u; a < k; a = a + 1u) {
        sum = sum + costs[a];
    }
    return sum / f32(k);
}

fn random_normal(x: u32, y: u32, it: u32, k: u32) -> vec3<f32> {
    let a = rand01(x, y, it, k) * 2.0 - 1.0;
    let b = rand01(x, y, it, k + 1u) * 2.0 - 1.0;
    let c = rand01(x, y, it, k + 2u) * 2.0 - 1.0;
    return vec3<f32>(a, b, c - 1.5);
}

fn facing(x: u32, y: u32, n0: vec3<f32>) -> vec3<f32> {
    let n = normalize3(n0);
    let rp = ray(f32(x), f32(y));
    if (dot3(n, rp) > 0.0) {
        return vec3<f32>(-n.x, -n.y, -n.z);
    }
    return n;
}

// (normal, depth) of a random plane.
fn random_plane(x: u32, y: u32, it: u32, k: u32) -> vec4<f32> {
    let u = rand01(x, y, it, k);
    let inv = 1.0 / P.depth_max + u * (1.0 / P.depth_min - 1.0 / P.depth_max);
    let depth = 1.0 / inv;
    let n = facing(x, y, random_normal(x, y, it, k + 1u));
    return vec4<f32>(n, depth);
}

@compute @workgroup_size(8, 8)
fn init(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= P.width || id.y >= P.height) {
        return;
    }
    let pl = random_plane(id.x, id.y, 0u, 0u);
    let i = id.y * P.width + id.x;
    plane[i] = pl;
    cost_buf[i] = cost_of(i32(id.x), i32(id.y), pl.w, pl.xyz);
}

@compute @workgroup_size(8, 8)
fn step(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= P.width || id.y >= P.height || ((id.x + id.y) % 2u) != P.colour) {
        return;
    }
    let x = i32(id.x);
    let y = i32(id.y);
    let w = i32(P.width);
    let h = i32(P.height);
    let i = id.y * P.width + id.x;
    var best = plane[i];
    var best_cost = cost_buf[i];
    let offs = array<vec2<i32>, 8>(
        vec2<i32>(-1, 0), vec2<i32>(1, 0), vec2<i32>(0, -1), vec2<i32>(0, 1),
        vec2<i32>(-5, 0), vec2<i32>(5, 0), vec2<i32>(0, -5), vec2<i32>(0, 5)
    );
    // Planes already scored here: a repeat (propagation copies planes bit for bit) scores the
    // same and cannot win, so it is skipped (as the CPU twin does; the result is unchanged).
    var seen: array<vec4<u32>, 9>;
    seen[0] = bitcast<vec4<u32>>(best);
    var seen_n = 1u;
    for (var k = 0u; k < 8u; k = k + 1u) {
        let nx = x + offs[k].x;
        let ny = y + offs[k].y;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
            continue;
        }
        let cand = plane[u32(ny * w + nx)];
        let key = bitcast<vec4<u32>>(cand);
        var repeat = false;
        for (var q = 0u; q < seen_n; q = q + 1u) {
            if (all(seen[q] == key)) {
                repeat = true;
            }
        }
        if (repeat) {
            continue;
        }
        seen[seen_n] = key;
        seen_n = seen_n + 1u;
        let c = cost_of(x, y, cand.w, cand.xyz);
        if (c < best_cost) {
            best = cand;
            best_cost = c;
        }
    }
    let it = P.iteration;
    let rnd = random_plane(id.x, id.y, it + 1u, 0u);
    let c = cost_of(x, y, rnd.w, rnd.xyz);
    if (c < best_cost) {
        best = rnd;
        best_cost = c;
    }
    var scale = 1.0;
    for (var k = 0u; k < min(it, 30u); k = k + 1u) {
        scale = scale * DECAY;
    }
    let dd = (rand01(id.x, id.y, it + 1u, 5u) * 2.0 - 1.0) * 0.1 * scale;
    let pd = best.w * (1.0 + dd);
    let q = random_normal(id.x, id.y, it + 1u, 6u);
    let ps = 0.5 * scale;
    let pn = facing(id.x, id.y, vec3<f32>(best.x + ps * q.x, best.y + ps * q.y, best.z + ps * (q.z + 1.5)));
    if (pd >= P.depth_min && pd <= P.depth_max) {
        let c2 = cost_of(x, y, pd, pn);
        if (c2 < best_cost) {
            best = vec4<f32>(pn, pd);
            best_cost = c2;
        }
    }
    plane[i] = best;
    cost_buf[i] = best_cost;
}
