//! The studio: Bevy plugins over the core crates. Each concern is one plugin (points, scene,
//! time-lapse, UI panels, mint flow, credit officer); none of them holds business logic of its
//! own beyond state machines over capture, reconstruct, growth-model and mint.

// Bevy systems take their data as parameters and queries spell out their filters: the two lints
// below flag the normal shape of ECS code, so they are allowed here, in the studio's plugins only.
#![allow(clippy::too_many_arguments, clippy::type_complexity)]

pub mod app;
pub mod error;
pub mod headless;
pub mod jobs;
pub mod mint_flow;
pub mod officer;
pub mod panels;
pub mod points;
pub mod points_render;
pub mod project;
pub mod scene;
pub mod selection;
pub mod survey_view;
pub mod timelapse;
pub mod ui;

use bevy::math::DVec3;
use bevy::prelude::*;

use crate::studio::points_render::local_to_world;
use crate::studio::project::OpenedProject;

/// Fail with a message instead of Bevy's panic when the machine has no Vulkan (or Metal/DX12)
/// adapter at all, not even lavapipe.
pub fn require_gpu() -> Result<(), project::StudioError> {
    // Ask for an adapter only: Bevy opens the device itself, a second one would be wasted.
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
    let instance = wgpu::Instance::new(desc.with_env());
    bevy::tasks::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
    }))
    .map(|_| ())
    .map_err(|e| {
        project::StudioError::Render(format!(
            "no GPU adapter ({e}); the studio and `render` need a Vulkan driver (on Debian \
             without a GPU: apt install mesa-vulkan-drivers)"
        ))
    })
}

/// The viewport's background (dark slate, so height and class colours read well).
pub const BACKGROUND: Color = Color::srgb(0.07, 0.08, 0.10);

/// The studio's default view of a project: looking at the cloud's centre from the south-east,
/// 35° above the horizon, far enough to see all of it. Returns the camera pose and the focus
/// point (Bevy world coordinates).
pub fn home_view(p: &OpenedProject, aspect: f32) -> (Transform, Vec3) {
    let [lo, hi] = p.bounds;
    let center = (lo + hi) * 0.5;
    let radius = ((hi - lo).length() * 0.5).max(1.0);
    let fov = std::f64::consts::FRAC_PI_4;
    // Fit the bounding sphere vertically and horizontally; a box seldom fills its sphere, so
    // come a little closer than the sphere needs.
    let t = (fov * 0.5).tan();
    let fit = (radius / t).max(radius / (t * (aspect as f64).max(0.3)));
    let dir = DVec3::new(0.55, -0.75, 0.62).normalize();
    let eye = center + dir * fit * 0.8;
    let focus = local_to_world(center);
    let t = Transform::from_translation(local_to_world(eye)).looking_at(focus, Vec3::Y);
    (t, focus)
}

pub use app::{FileDialog, PanelExtras, StudioOptions, StudioState, Tab, run_studio};

/// Camera requests from the panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CameraCommand {
    Reset,
    FocusSelection,
}
