//! The PatchMatch kernel (`shaders/patchmatch.wgsl`) on the shared wgpu context: one reference
//! photo's planes initialised and swept red–black on the GPU, read back once. Same problem,
//! same result as [`Problem::solve`] up to float rounding (the parity test holds them to it).

use bytemuck::{Pod, Zeroable};
use reconstruct::gpu::GpuContext;

use super::patchmatch::{DepthMap, Problem};
use crate::error::{PhotoError, Result};

const WGSL: &str = include_str!("../../../shaders/patchmatch.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
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
}

fn gpu_err(e: reconstruct::ReconstructError) -> PhotoError {
    PhotoError::Gpu { source: e }
}

/// Solve `p` with `iterations` sweeps on `gpu`; `None` when cancelled between sweeps.
pub fn solve(
    gpu: &GpuContext,
    p: &Problem,
    iterations: u32,
    cancel: &dyn Fn() -> bool,
) -> Result<Option<DepthMap>> {
    let (w, h) = (p.width, p.height);
    let init = gpu
        .kernel("patchmatch init", WGSL, "init")
        .map_err(gpu_err)?;
    let step = gpu
        .kernel("patchmatch step", WGSL, "step")
        .map_err(gpu_err)?;
    let sources: Vec<f32> = p.sources.iter().flatten().copied().collect();
    let poses: Vec<f32> = p
        .rotations
        .iter()
        .zip(&p.translations)
        .flat_map(|(r, t)| {
            r.iter()
                .flatten()
                .copied()
                .chain(t.iter().copied())
                .collect::<Vec<_>>()
        })
        .collect();
    let reference = gpu.storage("reference", &p.reference).map_err(gpu_err)?;
    let src = gpu.storage("sources", &sources).map_err(gpu_err)?;
    let pose_buf = gpu.storage("poses", &poses).map_err(gpu_err)?;
    let plane = gpu
        .storage_zeroed("planes", (w * h * 16) as u64)
        .map_err(gpu_err)?;
    let cost = gpu
        .storage_zeroed("costs", (w * h * 4) as u64)
        .map_err(gpu_err)?;
    let params = |iteration: u32, colour: u32| Params {
        width: w as u32,
        height: h as u32,
        n_src: p.sources.len() as u32,
        iteration,
        colour,
        seed: p.seed,
        focal: p.focal,
        cx: p.cx,
        cy: p.cy,
        depth_min: p.depth_min,
        depth_max: p.depth_max,
        _pad: 0.0,
    };
    let groups = [GpuContext::groups(w, 8), GpuContext::groups(h, 8), 1];
    let u0 = gpu.uniform("patchmatch params", &params(0, 0));
    let bg = gpu.bind(&init, &[&u0, &reference, &src, &pose_buf, &plane, &cost]);
    let mut enc = gpu.encoder();
    gpu.dispatch(&mut enc, &init, &bg, groups);
    gpu.submit(enc).map_err(gpu_err)?;
    for it in 0..iterations {
        if cancel() {
            return Ok(None);
        }
        // One submission per iteration: both colours, then a cancel check.
        let mut enc = gpu.encoder();
        let mut keep = Vec::new();
        for colour in 0..2 {
            let u = gpu.uniform("patchmatch params", &params(it, colour));
            let bg = gpu.bind(&step, &[&u, &reference, &src, &pose_buf, &plane, &cost]);
            gpu.dispatch(&mut enc, &step, &bg, groups);
            keep.push((u, bg));
        }
        gpu.submit(enc).map_err(gpu_err)?;
    }
    let planes: Vec<[f32; 4]> = gpu.read(&plane).map_err(gpu_err)?;
    let costs: Vec<f32> = gpu.read(&cost).map_err(gpu_err)?;
    Ok(Some(DepthMap {
        width: w,
        height: h,
        depth: planes.iter().map(|q| q[3]).collect(),
        normal: planes.iter().map(|q| [q[0], q[1], q[2]]).collect(),
        cost: costs,
    }))
}
