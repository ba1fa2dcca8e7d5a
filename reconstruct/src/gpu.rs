//! The one small wgpu context every reconstruct kernel shares.
//!
//! Design rule (docs/design.md): GPU work goes through one headless device, chosen by
//! `--device auto|gpu|cpu`, and every kernel has a CPU twin that gives the same answer. This
//! module is that device plus the four things every kernel needs: storage buffers from
//! `bytemuck` slices, a compute pipeline from WGSL, a dispatch, and a blocking read-back.
//!
//! The context is created lazily once per process ([`GpuContext::shared`]) so tests and the CLI
//! open one device. Without a GPU (CI), wgpu's Vulkan backend finds Mesa's lavapipe, a software
//! rasteriser that runs compute on the CPU; [`DevicePreference::Gpu`] then still exercises the
//! WGSL kernels, while [`DevicePreference::Auto`] prefers the rayon CPU twin on a software
//! adapter because lavapipe is slower than native Rust on the same cores.
//!
//! ```no_run
//! use reconstruct::gpu::{DevicePreference, GpuContext};
//! # fn main() -> reconstruct::Result<()> {
//! const WGSL: &str = "
//!   @group(0) @binding(0) var<storage, read_write> v: array<f32>;
//!   @compute @workgroup_size(64)
//!   fn main(@builtin(global_invocation_id) id: vec3<u32>) {
//!       if (id.x < arrayLength(&v)) { v[id.x] = v[id.x] * 2.0; }
//!   }";
//! // In the crate: include_str!("../../shaders/my_kernel.wgsl").
//! if let Some(gpu) = DevicePreference::Gpu.resolve()? {
//!     let buf = gpu.storage("values", &[1.0f32, 2.0, 3.0])?;
//!     let kernel = gpu.kernel("double", WGSL, "main")?;
//!     gpu.run(&kernel, &[&buf], [GpuContext::groups(3, 64), 1, 1])?;
//!     let out: Vec<f32> = gpu.read(&buf)?;
//!     assert_eq!(out, vec![2.0, 4.0, 6.0]);
//! }
//! # Ok(()) }
//! ```
//!
//! For many dispatches (an iterative solver) record them into one encoder:
//! `let mut enc = gpu.encoder(); gpu.dispatch(&mut enc, &k, &bg, [x, 1, 1]); … gpu.submit(enc)?;`
//! with bind groups from [`GpuContext::bind`].

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use bytemuck::Pod;
use serde::{Deserialize, Serialize};
use wgpu::util::DeviceExt;

use crate::error::{ReconstructError, Result};

/// Where a step runs: `--device auto|gpu|cpu`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevicePreference {
    /// A hardware GPU when one is present, else the CPU twin. A software adapter (lavapipe,
    /// WARP, SwiftShader) counts as "no GPU": it runs on the same cores as rayon, slower.
    #[default]
    Auto,
    /// The GPU path, on any adapter including a software one; error when there is none.
    Gpu,
    /// The rayon CPU twin.
    Cpu,
}

impl DevicePreference {
    /// The context to run on, or `None` for the CPU twin.
    ///
    /// `Gpu` fails with [`ReconstructError::NoAdapter`] when no adapter exists; `Auto` never
    /// fails (it falls back to the CPU).
    pub fn resolve(self) -> Result<Option<Arc<GpuContext>>> {
        self.resolve_with(None)
    }

    /// [`resolve`](Self::resolve) with the caller's device in place of the process-wide probe:
    /// an application that already has a wgpu device (the studio: Bevy's) hands it over so
    /// reconstruct does not open a second one ([`GpuContext::from_device`]).
    pub fn resolve_with(self, host: Option<&Arc<GpuContext>>) -> Result<Option<Arc<GpuContext>>> {
        let any = || match host {
            Some(h) => Ok(h.clone()),
            None => GpuContext::shared(),
        };
        match self {
            DevicePreference::Cpu => Ok(None),
            DevicePreference::Gpu => any().map(Some),
            // Without a host device, a software adapter is recognised before a device is opened.
            DevicePreference::Auto if host.is_none() && !hardware_adapter() => Ok(None),
            DevicePreference::Auto => Ok(any().ok().filter(|g| !g.is_software)),
        }
    }
}

impl fmt::Display for DevicePreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DevicePreference::Auto => "auto",
            DevicePreference::Gpu => "gpu",
            DevicePreference::Cpu => "cpu",
        })
    }
}

impl FromStr for DevicePreference {
    type Err = ReconstructError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(DevicePreference::Auto),
            "gpu" => Ok(DevicePreference::Gpu),
            "cpu" => Ok(DevicePreference::Cpu),
            _ => Err(ReconstructError::InvalidOption {
                option: "device",
                reason: format!("{s:?}: expected auto, gpu or cpu"),
            }),
        }
    }
}

/// `"gpu (<adapter>)"` or `"cpu"`, the form `Reconstruction::device` and step timings use.
pub fn device_label(gpu: Option<&GpuContext>) -> String {
    match gpu {
        Some(g) => format!("gpu ({}, {})", g.adapter_name, g.backend),
        None => "cpu".to_string(),
    }
}

/// A headless wgpu device and queue.
#[derive(Debug)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// Adapter name as the driver reports it (e.g. `llvmpipe (LLVM 15.0.7, 256 bits)`).
    pub adapter_name: String,
    /// Backend in use (`Vulkan`, `Metal`, `Dx12`).
    pub backend: wgpu::Backend,
    /// True for a CPU-emulated adapter (lavapipe, WARP): see [`DevicePreference::Auto`].
    pub is_software: bool,
    /// The limits the device was opened with (the adapter's own, so large buffers work).
    pub limits: wgpu::Limits,
    /// The adapter as the driver describes it.
    pub info: wgpu::AdapterInfo,
}

/// A compute pipeline and the layout of its bind group 0 (derived from the WGSL).
#[derive(Debug)]
pub struct Kernel {
    pub label: &'static str,
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// The adapter [`GpuContext::new`] opens: the high-performance adapter of the native backends,
/// else the backend's software fallback.
fn default_adapter() -> Result<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
    // WGPU_BACKEND etc. still override, as in every wgpu program.
    let instance = wgpu::Instance::new(desc.with_env());
    pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
    }))
    .or_else(|_| {
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: true,
            compatible_surface: None,
        }))
    })
    .map_err(|e| ReconstructError::NoAdapter(e.to_string()))
}

static HARDWARE_ADAPTER: OnceLock<bool> = OnceLock::new();

/// Whether the process-wide adapter is a hardware GPU, asked of the adapter without opening a
/// device: `Auto` on a machine with only a software adapter (lavapipe) must not pay for a
/// device it will not use — lavapipe reserves ~64 MB of host memory for one, measured as a
/// survey tile task's peak.
fn hardware_adapter() -> bool {
    *HARDWARE_ADAPTER.get_or_init(|| {
        gpu_device_nodes()
            && default_adapter().is_ok_and(|a| a.get_info().device_type != wgpu::DeviceType::Cpu)
    })
}

/// Whether the machine could have a hardware GPU at all. On Linux every GPU driver a Vulkan
/// adapter can sit on exposes a device node — a DRM render node (`/dev/dri/renderD*`: Mesa's
/// Intel, AMD and the like), NVIDIA's `/dev/nvidia*`, WSL's `/dev/dxg` — so without one the
/// probe is skipped: it would only load the Vulkan loader and lavapipe's LLVM (~45 MB of
/// resident pages, measured in a survey tile task) to find a software adapter `Auto` does not
/// use. Elsewhere the adapter is always asked.
fn gpu_device_nodes() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let dri = std::fs::read_dir("/dev/dri").is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("renderD")))
    });
    dri || std::path::Path::new("/dev/nvidia0").exists()
        || std::path::Path::new("/dev/nvidiactl").exists()
        || std::path::Path::new("/dev/dxg").exists()
}

static SHARED: OnceLock<std::result::Result<Arc<GpuContext>, String>> = OnceLock::new();

impl GpuContext {
    /// Open a new headless device: the high-performance adapter of the native backends
    /// (Vulkan; Metal on Apple; DX12 on Windows), else the backend's software fallback.
    /// Prefer [`GpuContext::shared`], which opens it once per process.
    pub fn new() -> Result<GpuContext> {
        let adapter = default_adapter()?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("twinmint-reconstruct"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| ReconstructError::NoAdapter(format!("{}: {e}", info.name)))?;
        Ok(GpuContext::from_device(device, queue, &info, limits))
    }

    /// A context over a device the host application already opened (Bevy's render device in
    /// the studio), so compute shares the GPU with drawing instead of opening a second device.
    /// `limits` are the ones the device was opened with: buffers are checked against them.
    pub fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: &wgpu::AdapterInfo,
        limits: wgpu::Limits,
    ) -> GpuContext {
        GpuContext {
            device,
            queue,
            is_software: info.device_type == wgpu::DeviceType::Cpu,
            adapter_name: info.name.clone(),
            backend: info.backend,
            limits,
            info: info.clone(),
        }
    }

    /// The process-wide context, opened on first use. A failure is remembered too, so a
    /// machine without an adapter pays for the probe once.
    pub fn shared() -> Result<Arc<GpuContext>> {
        SHARED
            .get_or_init(|| GpuContext::new().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
            .map_err(ReconstructError::NoAdapter)
    }

    /// Workgroups needed to cover `n` items with `size` threads each.
    pub fn groups(n: usize, size: u32) -> u32 {
        (n as u64).div_ceil(size as u64).max(1) as u32
    }

    fn check_size(&self, label: &str, bytes: u64) -> Result<()> {
        let max = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        if bytes > max {
            return Err(ReconstructError::Gpu {
                kernel: "buffer",
                reason: format!("{label}: {bytes} bytes exceed the adapter's {max}-byte limit"),
            });
        }
        Ok(())
    }

    /// A storage buffer holding `data` (usable as kernel input/output, copy source and target).
    pub fn storage<T: Pod>(&self, label: &str, data: &[T]) -> Result<wgpu::Buffer> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        self.check_size(label, bytes.len() as u64)?;
        if bytes.is_empty() {
            // Zero-sized bindings are invalid; keep one element of padding.
            return self.storage_zeroed(label, 4);
        }
        Ok(self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytes,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            }))
    }

    /// A zero-filled storage buffer of `bytes` bytes (rounded up to 4).
    pub fn storage_zeroed(&self, label: &str, bytes: u64) -> Result<wgpu::Buffer> {
        let size = bytes.max(4).div_ceil(4) * 4;
        self.check_size(label, size)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }))
    }

    /// A uniform buffer holding `value` (a `#[repr(C)]` Pod struct laid out as the WGSL one:
    /// mind WGSL's 16-byte alignment of vec3/vec4 and struct sizes).
    pub fn uniform<T: Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// Overwrite the start of `buffer` with `data` (ordered before the next submit).
    pub fn write<T: Pod>(&self, buffer: &wgpu::Buffer, data: &[T]) {
        self.queue
            .write_buffer(buffer, 0, bytemuck::cast_slice(data));
    }

    /// Compile `wgsl` and build the compute pipeline for `entry`. The bind group layout is
    /// derived from the shader (group 0 only). WGSL errors come back as [`ReconstructError::Gpu`].
    pub fn kernel(&self, label: &'static str, wgsl: &str, entry: &str) -> Result<Kernel> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(ReconstructError::Gpu {
                kernel: label,
                reason: e.to_string(),
            });
        }
        let layout = pipeline.get_bind_group_layout(0);
        Ok(Kernel {
            label,
            pipeline,
            layout,
        })
    }

    /// Bind `buffers` to bindings 0, 1, 2 … of the kernel's group 0, in order.
    pub fn bind(&self, kernel: &Kernel, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.label),
            layout: &kernel.layout,
            entries: &entries,
        })
    }

    /// Bind buffers to explicit binding numbers of the kernel's group 0 — for a WGSL module
    /// whose entry points share one binding scheme and each use only some of it.
    pub fn bind_at(&self, kernel: &Kernel, buffers: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: *i,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.label),
            layout: &kernel.layout,
            entries: &entries,
        })
    }

    /// A fresh command encoder.
    pub fn encoder(&self) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
    }

    /// Record one dispatch of `kernel` with `bind_group` into `encoder`.
    pub fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kernel: &Kernel,
        bind_group: &wgpu::BindGroup,
        workgroups: [u32; 3],
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(kernel.label),
            timestamp_writes: None,
        });
        pass.set_pipeline(&kernel.pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
    }

    /// Submit `encoder` and wait for the GPU to finish it.
    pub fn submit(&self, encoder: wgpu::CommandEncoder) -> Result<()> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        self.queue.submit([encoder.finish()]);
        let err = pollster::block_on(scope.pop());
        if let Some(e) = err {
            return Err(ReconstructError::Gpu {
                kernel: "submit",
                reason: e.to_string(),
            });
        }
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| ReconstructError::Gpu {
                kernel: "submit",
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// One dispatch of `kernel` over `buffers` (bindings 0, 1, …), submitted and waited for.
    pub fn run(
        &self,
        kernel: &Kernel,
        buffers: &[&wgpu::Buffer],
        workgroups: [u32; 3],
    ) -> Result<()> {
        let bg = self.bind(kernel, buffers);
        let mut enc = self.encoder();
        self.dispatch(&mut enc, kernel, &bg, workgroups);
        self.submit(enc)
    }

    /// Copy `buffer` back to the host as `T`s (the whole buffer; it must be a multiple of
    /// `size_of::<T>()`). Blocks until the copy is done.
    pub fn read<T: Pod>(&self, buffer: &wgpu::Buffer) -> Result<Vec<T>> {
        let size = buffer.size();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.encoder();
        enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.submit(enc)?;
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        let gpu_err = |reason: String| ReconstructError::Gpu {
            kernel: "read-back",
            reason,
        };
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| gpu_err(e.to_string()))?;
        rx.recv()
            .map_err(|e| gpu_err(e.to_string()))?
            .map_err(|e| gpu_err(e.to_string()))?;
        let out = {
            let view = staging.get_mapped_range(..);
            bytemuck::pod_collect_to_vec(&view)
        };
        staging.unmap();
        Ok(out)
    }
}
