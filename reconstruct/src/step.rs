//! One context for the stage's steps — where GPU kernels run, where progress goes, and the
//! cancel token — so every step has the same interface (as PDAL's stages share one), and a
//! pipeline chooses its device once ([`crate::gpu::DevicePreference::resolve_with`]).

use capture::CancelToken;

use crate::error::Result;
use crate::gpu::GpuContext;

/// Device, progress and cancellation for one step.
pub struct StepCtx<'a> {
    /// Where GPU kernels run; `None`: the CPU twins.
    pub gpu: Option<&'a GpuContext>,
    progress: &'a mut (dyn FnMut(f32) + Send),
    cancel: &'a CancelToken,
}

impl<'a> StepCtx<'a> {
    pub fn new(
        gpu: Option<&'a GpuContext>,
        progress: &'a mut (dyn FnMut(f32) + Send),
        cancel: &'a CancelToken,
    ) -> Self {
        StepCtx {
            gpu,
            progress,
            cancel,
        }
    }

    /// Run `f` with a context that reports nowhere and is never cancelled (tests, scripts, the
    /// one-call forms of the steps).
    pub fn detached<R>(gpu: Option<&GpuContext>, f: impl FnOnce(&mut StepCtx<'_>) -> R) -> R {
        let cancel = CancelToken::new();
        let mut quiet = |_f: f32| {};
        f(&mut StepCtx::new(gpu, &mut quiet, &cancel))
    }

    /// The step's fraction done (0–1).
    pub fn report(&mut self, fraction: f32) {
        (self.progress)(fraction.clamp(0.0, 1.0));
    }

    /// `Err(Cancelled)` once the run was cancelled; steps call it between phases.
    pub fn check(&self) -> Result<()> {
        Ok(self.cancel.check()?)
    }
}
