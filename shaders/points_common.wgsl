// Shared by points_quad.wgsl, points_compute.wgsl and points_resolve.wgsl (prepended when the
// studio loads them; WGSL has no includes).

struct Frame {
    // clip ← camera-relative local (z-up) coordinates: projection × view rotation × axis swap.
    clip_from_rel: mat4x4<f32>,
    viewport: vec2<f32>,
    point_size: f32,
    // Workgroups per row of the compute dispatch (dispatches are 2-D past 65,535 groups).
    groups_x: u32,
};

// A point: position relative to its octree node's centre, RGBA8 colour (alpha 0 = hidden).
struct Point {
    pos: vec3<f32>,
    color: u32,
};

// A drawn node: its centre relative to the camera (computed in f64 on the CPU), and where its
// points start in the chunk buffer.
struct Node {
    offset: vec3<f32>,
    first: u32,
};
