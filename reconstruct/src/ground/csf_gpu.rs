//! The cloth simulation of [`super::csf`] as wgpu compute (`shaders/csf_cloth.wgsl`).
//!
//! The cloth lives on the device for the whole run; the host records `check_every` time steps
//! per submission (verlet, then `rigidness × sweeps_per_rigidness` sweeps ping-ponging two height buffers, the last
//! sweep fused with collision and a max-reduction) and reads back one `u32` per batch for the
//! convergence test — the same schedule as the CPU twin, so both stop at the same step.

use bytemuck::{Pod, Zeroable};
use capture::CancelToken;

use super::cloth::{Cloth, CsfOptions, SimConsts};
use crate::error::{ReconstructError, Result};
use crate::gpu::GpuContext;

const SHADER: &str = include_str!("../../../shaders/csf_cloth.wgsl");
const WORKGROUP: u32 = 256;

/// Mirrors `Params` in the WGSL (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    w: u32,
    h: u32,
    relaxation: f32,
    accel: f32,
    keep: f32,
    pad: [u32; 3],
}

pub(crate) fn simulate(
    g: &GpuContext,
    cloth: &mut Cloth,
    o: &CsfOptions,
    progress: &mut dyn FnMut(f32),
    cancel: &CancelToken,
) -> Result<(u32, bool)> {
    let k = SimConsts::new(o);
    let n = cloth.w * cloth.h;
    let params = g.uniform(
        "csf params",
        &Params {
            w: cloth.w as u32,
            h: cloth.h as u32,
            relaxation: k.relaxation,
            accel: k.accel,
            keep: k.keep,
            pad: [0; 3],
        },
    );
    let ybuf = [
        g.storage("csf heights 0", &cloth.y)?,
        g.storage("csf heights 1", &cloth.y)?,
    ];
    let old = g.storage("csf old heights", &cloth.old)?;
    let hv = g.storage("csf intersection heights", &cloth.hv)?;
    let pinned = g.storage("csf pinned", &cloth.pinned)?;
    let max_diff = g.storage_zeroed("csf max diff", 4)?;

    let kv = g.kernel("csf verlet", SHADER, "verlet")?;
    let ks = g.kernel("csf sweep", SHADER, "sweep")?;
    let kf = g.kernel("csf sweep_final", SHADER, "sweep_final")?;
    let bg_verlet =
        [0, 1].map(|c| g.bind_at(&kv, &[(0, &params), (2, &ybuf[c]), (3, &old), (5, &pinned)]));
    let bg_sweep = [0, 1].map(|c| {
        g.bind_at(
            &ks,
            &[(0, &params), (1, &ybuf[c]), (2, &ybuf[1 - c]), (5, &pinned)],
        )
    });
    let bg_final = [0, 1].map(|c| {
        g.bind_at(
            &kf,
            &[
                (0, &params),
                (1, &ybuf[c]),
                (2, &ybuf[1 - c]),
                (3, &old),
                (4, &hv),
                (5, &pinned),
                (6, &max_diff),
            ],
        )
    });
    let groups = [GpuContext::groups(n, WORKGROUP), 1, 1];

    let mut cur = 0usize;
    let mut it = 0u32;
    let mut converged = false;
    while it < o.max_iterations {
        let batch = o.check_every.min(o.max_iterations - it);
        let mut enc = g.encoder();
        for b in 0..batch {
            g.dispatch(&mut enc, &kv, &bg_verlet[cur], groups);
            let sweeps = o.sweeps();
            for s in 0..sweeps {
                if s + 1 == sweeps {
                    if b + 1 == batch {
                        enc.clear_buffer(&max_diff, 0, None);
                    }
                    g.dispatch(&mut enc, &kf, &bg_final[cur], groups);
                } else {
                    g.dispatch(&mut enc, &ks, &bg_sweep[cur], groups);
                }
                cur ^= 1;
            }
        }
        g.submit(enc)?;
        it += batch;
        if it.is_multiple_of(o.check_every) {
            if cancel.is_cancelled() {
                return Err(ReconstructError::Cancelled);
            }
            progress(it as f32 / o.max_iterations as f32);
            let d: Vec<u32> = g.read(&max_diff)?;
            if f32::from_bits(d[0]) < o.convergence_m as f32 {
                converged = true;
                break;
            }
        }
    }
    cloth.y = g.read(&ybuf[cur])?;
    cloth.y.truncate(n);
    cloth.pinned = g.read(&pinned)?;
    cloth.pinned.truncate(n);
    Ok((it, converged))
}
