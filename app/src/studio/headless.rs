//! Offscreen rendering with the studio's own renderer and scene: a Bevy app without winit whose
//! camera renders into an image, captured with Bevy's `Screenshot`. Used by `twinmint render`
//! (screenshots, time-lapse GIFs, package thumbnails) and by the tests.

use std::sync::{Arc, Mutex};

use bevy::asset::RenderAssetUsages;
use bevy::camera::RenderTarget;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat, TextureUsages};
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use crate::studio::points::{PointCloudPlugin, PointViewSettings, ViewerCloud};
use crate::studio::points_render::{PointCloudCamera, PointSettings, RasterizerSupport};
use crate::studio::project::{OpenedProject, StudioError};
use crate::studio::scene::{Layers, ScenePlugin};
use crate::studio::timelapse::{Timelapse, TimelapsePlugin};
use crate::studio::{BACKGROUND, home_view};
use crate::viewer::colormap::ColorMode;

/// One picture to take.
#[derive(Clone, Debug)]
pub struct Shot {
    pub width: u32,
    pub height: u32,
    pub color_mode: ColorMode,
    pub points: PointSettings,
    pub layers: Layers,
    /// Simulated calendar year to show (trees grown to it); `None` = survey state.
    pub year: Option<i32>,
    /// Hide vegetation points so tree models stand alone (what the time-lapse shows).
    pub hide_vegetation: bool,
    /// Camera pose in Bevy world coordinates; `None` = the studio's home view.
    pub camera: Option<Transform>,
}

impl Default for Shot {
    fn default() -> Self {
        Shot {
            width: 640,
            height: 400,
            color_mode: ColorMode::Height,
            points: PointSettings::default(),
            layers: Layers::default(),
            year: None,
            hide_vegetation: false,
            camera: None,
        }
    }
}

/// A rendered frame (RGBA8, sRGB) and what drew it.
pub struct Frame {
    pub image: image::RgbaImage,
    /// Whether the compute rasteriser was available (it is used unless `Quads` is forced).
    pub compute_available: bool,
}

/// Render `shots` of `project` offscreen, in order, with one Bevy app.
pub fn render(project: &OpenedProject, shots: &[Shot]) -> Result<Vec<Frame>, StudioError> {
    crate::studio::require_gpu()?;
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(RenderPlugin {
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .disable::<WinitPlugin>()
            .disable::<bevy::log::LogPlugin>(),
    )
    .add_plugins((PointCloudPlugin, ScenePlugin, TimelapsePlugin))
    .init_resource::<PointViewSettings>();
    app.finish();
    app.cleanup();

    let mut cloud = ViewerCloud::new(project.octree.clone());
    cloud.synchronous = true;
    app.insert_resource(cloud);
    app.insert_resource(project.scene.clone());

    let mut frames = Vec::new();
    let mut target: Option<(UVec2, Handle<Image>, Entity)> = None;
    for shot in shots {
        let size = UVec2::new(shot.width.max(16), shot.height.max(16));
        if target.as_ref().is_none_or(|t| t.0 != size) {
            if let Some((_, _, cam)) = target.take() {
                app.world_mut().despawn(cam);
            }
            let mut img = Image::new_uninit(
                Extent3d {
                    width: size.x,
                    height: size.y,
                    depth_or_array_layers: 1,
                },
                TextureDimension::D2,
                TextureFormat::Rgba8UnormSrgb,
                RenderAssetUsages::RENDER_WORLD,
            );
            img.texture_descriptor.usage |=
                TextureUsages::RENDER_ATTACHMENT | TextureUsages::COPY_SRC;
            let handle = app.world_mut().resource_mut::<Assets<Image>>().add(img);
            let cam = app
                .world_mut()
                .spawn((
                    Camera3d::default(),
                    Camera {
                        clear_color: ClearColorConfig::Custom(BACKGROUND),
                        ..default()
                    },
                    RenderTarget::from(handle.clone()),
                    Msaa::Off,
                    Tonemapping::None,
                    PointCloudCamera,
                    Transform::default(),
                ))
                .id();
            target = Some((size, handle, cam));
        }
        let (_, handle, cam) = target.clone().expect("target made above");
        let pose = shot
            .camera
            .unwrap_or_else(|| home_view(project, size.x as f32 / size.y as f32).0);
        {
            let w = app.world_mut();
            *w.get_mut::<Transform>(cam).expect("camera") = pose;
            w.resource_mut::<PointViewSettings>().0 = shot.points;
            *w.resource_mut::<Layers>() = shot.layers;
            let mut c = w.resource_mut::<ViewerCloud>();
            c.mode = shot.color_mode;
            c.filter = if shot.hide_vegetation {
                crate::viewer::colormap::ClassFilter::terrain_and_structures()
            } else {
                Default::default()
            };
        }
        // Let the scene spawn, the LOD settle and meshes upload.
        for _ in 0..200 {
            app.update();
            if app.world().resource::<ViewerCloud>().is_settled() {
                break;
            }
        }
        if let Some(y) = shot.year {
            let mut tl = app.world_mut().resource_mut::<Timelapse>();
            tl.playing = false;
            tl.set_year(y);
        } else {
            app.world_mut().resource_mut::<Timelapse>().position = 0.0;
        }
        for _ in 0..3 {
            app.update();
        }
        let captured: Arc<Mutex<Option<Image>>> = Arc::default();
        let sink = captured.clone();
        app.world_mut()
            .spawn(Screenshot::image(handle.clone()))
            .observe(move |ev: On<ScreenshotCaptured>| {
                *sink.lock().expect("screenshot sink") = Some(ev.image.clone());
            });
        let mut got = None;
        for _ in 0..50 {
            app.update();
            if let Some(img) = captured.lock().expect("screenshot sink").take() {
                got = Some(img);
                break;
            }
        }
        let img = got.ok_or_else(|| StudioError::Render("the screenshot never arrived".into()))?;
        let dynimg = img
            .try_into_dynamic()
            .map_err(|e| StudioError::Render(format!("screenshot format: {e}")))?;
        frames.push(Frame {
            image: dynimg.to_rgba8(),
            compute_available: app.world().resource::<RasterizerSupport>().compute,
        });
    }
    Ok(frames)
}
