//! Tests of `reconstruct::gpu` (src/gpu.rs).
use reconstruct::gpu::*;
use std::sync::Arc;

const DOUBLE: &str = "
@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
if (id.x < arrayLength(&v)) { v[id.x] = v[id.x] * 2.0; }
}";

#[test]
fn a_host_device_replaces_the_process_probe() {
    let Some(g) = crate::shared_or_skip() else {
        return;
    };
    let host = |t: wgpu::DeviceType| {
        let mut info = g.info.clone();
        info.device_type = t;
        Arc::new(GpuContext::from_device(
            g.device.clone(),
            g.queue.clone(),
            &info,
            g.limits.clone(),
        ))
    };
    let hw = host(wgpu::DeviceType::DiscreteGpu);
    let sw = host(wgpu::DeviceType::Cpu);
    let got = |p: DevicePreference, h: &Arc<GpuContext>| p.resolve_with(Some(h)).unwrap();
    assert!(Arc::ptr_eq(&got(DevicePreference::Gpu, &sw).unwrap(), &sw));
    assert!(Arc::ptr_eq(&got(DevicePreference::Auto, &hw).unwrap(), &hw));
    assert!(
        got(DevicePreference::Auto, &sw).is_none(),
        "software: the CPU twin"
    );
    assert!(got(DevicePreference::Cpu, &hw).is_none());
    // The handed-over device computes.
    let k = hw.kernel("double", DOUBLE, "main").unwrap();
    let buf = hw.storage("x", &[1.0f32, 2.5]).unwrap();
    hw.run(&k, &[&buf], [1, 1, 1]).unwrap();
    assert_eq!(hw.read::<f32>(&buf).unwrap(), vec![2.0, 5.0]);
}

#[test]
fn device_preference_parses() {
    assert_eq!(
        "GPU".parse::<DevicePreference>().unwrap(),
        DevicePreference::Gpu
    );
    assert!("tpu".parse::<DevicePreference>().is_err());
    assert_eq!(
        serde_json::to_string(&DevicePreference::Auto).unwrap(),
        "\"auto\""
    );
    assert_eq!(DevicePreference::Cpu.resolve().unwrap().map(|_| ()), None);
}

/// Runs on lavapipe in CI; skipped (with a message) only outside CI where no adapter exists.
#[test]
fn doubles_on_gpu() {
    let Some(gpu) = crate::shared_or_skip() else {
        return;
    };
    eprintln!("adapter: {}", device_label(Some(&gpu)));
    let data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    let buf = gpu.storage("v", &data).unwrap();
    let k = gpu.kernel("double", DOUBLE, "main").unwrap();
    gpu.run(&k, &[&buf], [GpuContext::groups(data.len(), 64), 1, 1])
        .unwrap();
    let out: Vec<f32> = gpu.read(&buf).unwrap();
    assert!(out.iter().enumerate().all(|(i, v)| *v == 2.0 * i as f32));
    // A broken shader is an error, not a panic.
    assert!(gpu.kernel("broken", "fn main( {", "main").is_err());
}
