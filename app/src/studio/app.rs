//! The windowed studio: plugins wired together, the orbit camera, viewport clicks, dropped
//! files, and requests from the panels turned into background jobs.

use std::path::PathBuf;
use std::sync::Arc;

use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use bevy::window::{FileDragAndDrop, PrimaryWindow};
use bevy_egui::{EguiPlugin, EguiPrimaryContextPass, egui};
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraPlugin};

use crate::studio::jobs::{self, Errors, JobOutput, Jobs, SimulateSettings};
use crate::studio::panels::{ChainForm, MintPanel, OfficerPanel};
use crate::studio::points::{PointCloudPlugin, PointViewSettings, ViewerCloud};
use crate::studio::points_render::{PointCloudCamera, local_to_world};
use crate::studio::project::OpenedProject;
use crate::studio::scene::{Layers, SceneData, ScenePlugin};
use crate::studio::selection::{self, Measure, Selection, SelectionPlugin};
use crate::studio::timelapse::TimelapsePlugin;
use crate::studio::ui::{UiCapturesPointer, UiRequest, panels};
use crate::studio::{BACKGROUND, CameraCommand, home_view};

/// The side panel's tabs, one per kind of user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Survey,
    Growth,
    Mint,
    Credit,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Survey, Tab::Growth, Tab::Mint, Tab::Credit];
    pub fn label(self) -> &'static str {
        match self {
            Tab::Survey => "Survey",
            Tab::Growth => "Growth & value",
            Tab::Mint => "Mint",
            Tab::Credit => "Credit officer",
        }
    }
}

/// Studio-wide state the panels share.
#[derive(Resource, Default)]
pub struct StudioState {
    pub tab: Tab,
    pub simulate: SimulateSettings,
    /// The open project (folder, name, bounds for camera resets).
    pub opened: Option<Arc<OpenedProject>>,
}

impl StudioState {
    /// The open project's folder.
    pub fn project(&self) -> Option<&std::path::Path> {
        self.opened.as_deref().map(|p| p.dir.as_path())
    }
}

/// File dialogs behind a trait: the desktop uses `rfd`; tests feed paths.
pub trait Dialogs: Send + Sync {
    fn pick_folder(&self, title: &str) -> Option<PathBuf>;
    fn pick_files(&self, title: &str) -> Vec<PathBuf>;
}

/// The native dialogs (xdg-desktop-portal on Linux; nothing happens without one).
pub struct RfdDialogs;

impl Dialogs for RfdDialogs {
    fn pick_folder(&self, title: &str) -> Option<PathBuf> {
        rfd::FileDialog::new().set_title(title).pick_folder()
    }
    fn pick_files(&self, title: &str) -> Vec<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .add_filter(
                "Scans",
                &[
                    "las", "laz", "e57", "ply", "xyz", "txt", "csv", "pts", "obj",
                ],
            )
            .pick_files()
            .unwrap_or_default()
    }
}

#[derive(Resource, Clone)]
pub struct FileDialog(pub Arc<dyn Dialogs>);

impl Default for FileDialog {
    fn default() -> Self {
        FileDialog(Arc::new(RfdDialogs))
    }
}

/// The mint and credit-officer panels (their own state machines live in `panels`).
#[derive(SystemParam)]
pub struct PanelExtras<'w, 's> {
    cameras: Query<'w, 's, &'static mut Camera, With<PointCloudCamera>>,
    windows: Query<'w, 's, &'static Window, With<PrimaryWindow>>,
    mint: ResMut<'w, MintPanel>,
    officer: ResMut<'w, OfficerPanel>,
    survey: ResMut<'w, crate::studio::survey_view::SurveyPanel>,
}

impl PanelExtras<'_, '_> {
    /// Fit the 3D viewport between the panels (logical sizes from egui).
    pub fn set_viewport(&mut self, left: f32, top: f32, bottom: f32) {
        let Ok(window) = self.windows.single() else {
            return;
        };
        let s = window.scale_factor();
        let pos = UVec2::new((left * s) as u32, (top * s) as u32);
        let full = UVec2::new(window.physical_width(), window.physical_height());
        let used = pos + UVec2::new(0, (bottom * s) as u32);
        if full.x <= used.x + 16 || full.y <= used.y + 16 {
            return;
        }
        let vp = bevy::camera::Viewport {
            physical_position: pos,
            physical_size: full - used,
            ..default()
        };
        for mut cam in &mut self.cameras {
            if cam.viewport.as_ref().is_none_or(|v| {
                v.physical_position != vp.physical_position || v.physical_size != vp.physical_size
            }) {
                cam.viewport = Some(vp.clone());
            }
        }
    }
    pub fn mint_panel(
        &mut self,
        ui: &mut egui::Ui,
        project: Option<&std::path::Path>,
        errors: &mut Errors,
    ) {
        self.mint.ui(ui, project, errors);
    }
    /// The open survey's map and actions, as requests (nothing when no survey is open).
    pub fn survey_panel(&mut self, ui: &mut egui::Ui, busy: bool) -> Option<UiRequest> {
        use crate::studio::survey_view::SurveyAction;
        self.survey.refresh();
        let dir = self.survey.status.as_ref()?.dir.clone();
        match self.survey.ui(ui, busy)? {
            SurveyAction::Run => Some(UiRequest::RunSurvey(dir)),
            SurveyAction::OpenMerged => {
                Some(UiRequest::OpenProject(dir.join(survey::merge::MERGED_DIR)))
            }
            SurveyAction::Close => {
                self.survey.status = None;
                None
            }
        }
    }
    pub fn officer_panel(
        &mut self,
        ui: &mut egui::Ui,
        project: Option<&std::path::Path>,
        errors: &mut Errors,
    ) {
        self.officer.ui(ui, project, errors);
    }
}

/// How the studio starts.
#[derive(Clone, Debug, Default)]
pub struct StudioOptions {
    /// Project to open at start.
    pub project: Option<PathBuf>,
    /// Start a local dev chain (anvil) for the mint and credit-officer panels.
    pub dev_chain: bool,
    /// Open this tab first.
    pub tab: Tab,
    /// Take a screenshot of the window after this many frames once the project is shown, then
    /// exit (README screenshots, the Xvfb test).
    pub screenshot: Option<(PathBuf, u32)>,
    pub width: u32,
    pub height: u32,
    /// Open this token in the credit officer's panel once the project (and dev chain) is up.
    pub officer: Option<OfficerStart>,
}

/// A token to open at start: id and, unless it is on the studio's dev chain, where it lives.
#[derive(Clone, Debug, Default)]
pub struct OfficerStart {
    pub token: u64,
    pub rpc_url: Option<String>,
    pub chain_id: Option<u64>,
    pub contract: Option<String>,
}

/// Pending start-up request for the officer panel (cleared once sent).
#[derive(Resource)]
struct OpenTokenAtStart;

fn open_token_at_start(
    mut commands: Commands,
    pending: Option<Res<OpenTokenAtStart>>,
    state: Res<StudioState>,
    mut officer: ResMut<OfficerPanel>,
    mut errors: ResMut<Errors>,
) {
    if pending.is_none()
        || state.project().is_none()
        || (!officer.chain.use_rpc && officer.dev.is_none())
    {
        return;
    }
    commands.remove_resource::<OpenTokenAtStart>();
    let project = state.project().map(std::path::Path::to_path_buf);
    if let Err(e) = officer.open(project.as_deref()) {
        errors.push("Credit officer", e);
    }
}

/// The plugins of the studio that do not need a window (the tests build headless apps with
/// these).
pub struct StudioCorePlugin;

impl Plugin for StudioCorePlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            PointCloudPlugin,
            ScenePlugin,
            TimelapsePlugin,
            SelectionPlugin,
        ))
        .init_resource::<StudioState>()
        .init_resource::<Jobs>()
        .init_resource::<Errors>()
        .init_resource::<PointViewSettings>()
        .init_resource::<FileDialog>()
        .init_resource::<UiCapturesPointer>()
        .init_resource::<MintPanel>()
        .init_resource::<OfficerPanel>()
        .init_resource::<crate::studio::survey_view::SurveyPanel>()
        .add_message::<UiRequest>()
        .add_systems(Startup, jobs::adopt_render_device)
        .add_systems(
            Update,
            (
                handle_requests,
                finish_jobs,
                crate::studio::panels::poll_panels,
            )
                .chain(),
        );
    }
}

/// Turn panel requests into jobs and camera moves.
pub fn handle_requests(
    mut requests: MessageReader<UiRequest>,
    mut jobs: ResMut<Jobs>,
    state: Res<StudioState>,
    mut errors: ResMut<Errors>,
    mut survey: ResMut<crate::studio::survey_view::SurveyPanel>,
    selection: Res<Selection>,
    scene: Option<Res<SceneData>>,
    mut cams: Query<(&mut Transform, Option<&mut PanOrbitCamera>, &Camera), With<PointCloudCamera>>,
) {
    for r in requests.read() {
        match r {
            UiRequest::OpenSurvey(dir) => match survey.open(dir) {
                Ok(()) => {
                    // The merged estate, when there is one, goes to the viewer.
                    if let Some(s) = survey.status.as_ref().filter(|s| s.merged) {
                        let merged = s.merged_dir();
                        jobs.spawn(format!("Opening {}", merged.display()), move |ctx| {
                            jobs::open(&merged, ctx)
                        });
                    }
                }
                Err(e) => errors.push("Open survey", e.to_string()),
            },
            UiRequest::RunSurvey(dir) => {
                let dir = dir.clone();
                jobs.spawn(format!("Surveying {}", dir.display()), move |ctx| {
                    jobs::run_survey(&dir, ctx)
                });
            }
            UiRequest::OpenProject(dir) => {
                let dir = dir.clone();
                jobs.spawn(format!("Opening {}", dir.display()), move |ctx| {
                    jobs::open(&dir, ctx)
                });
            }
            UiRequest::ImportScans(files) => {
                let files = files.clone();
                let label = format!("Importing {} scan(s)", files.len());
                jobs.spawn(label, move |ctx| jobs::import_scans(files, ctx));
            }
            UiRequest::Resurvey(files) => match state.project() {
                Some(dir) => {
                    let (dir, files) = (dir.to_path_buf(), files.clone());
                    jobs.spawn(format!("Resurveying {}", dir.display()), move |ctx| {
                        jobs::resurvey(&dir, files, ctx)
                    });
                }
                None => errors.push("Resurvey", "open the previous survey's project first"),
            },
            UiRequest::Resimulate(s) => match state.project() {
                Some(dir) => {
                    let (dir, s) = (dir.to_path_buf(), s.clone());
                    jobs.spawn("Re-running the simulation", move |ctx| {
                        jobs::simulate_project(&dir, &s, ctx)
                            .map(|sim| JobOutput::Simulated(Box::new(sim)))
                    });
                }
                None => errors.push("Simulation", "no project is open"),
            },
            UiRequest::Camera(cmd) => {
                let Some(p) = &state.opened else {
                    continue;
                };
                let target = match cmd {
                    CameraCommand::Reset => None,
                    CameraCommand::FocusSelection => scene
                        .as_deref()
                        .and_then(|s| selection_focus(s, &selection)),
                };
                for (mut t, orbit, cam) in &mut cams {
                    let (pose, focus) = home_view(p, aspect(cam));
                    match (orbit, target) {
                        (Some(mut o), Some((f, r))) => {
                            o.target_focus = f;
                            o.target_radius = r;
                        }
                        (Some(mut o), None) => {
                            o.target_focus = focus;
                            o.target_radius = pose.translation.distance(focus);
                            o.target_yaw = 0.6;
                            o.target_pitch = 0.6;
                        }
                        (None, Some((f, r))) => {
                            *t = Transform::from_translation(f + Vec3::new(r, r, r) * 0.6)
                                .looking_at(f, Vec3::Y)
                        }
                        (None, None) => *t = pose,
                    }
                }
            }
        }
    }
}

/// Width over height of a camera's viewport (1.6 before the first frame sizes it).
fn aspect(cam: &Camera) -> f32 {
    cam.logical_viewport_size()
        .filter(|s| s.y > 0.0)
        .map_or(1.6, |s| s.x / s.y)
}

/// Where to look for the selection, and from how far.
fn selection_focus(scene: &SceneData, sel: &Selection) -> Option<(Vec3, f32)> {
    let rec = scene.reconstruction.as_ref()?;
    let o = bevy::math::DVec3::from(scene.origin);
    match *sel {
        Selection::Tree(i) => {
            let t = rec.trees.get(i)?;
            let c = bevy::math::DVec3::new(t.x, t.y, t.ground_z + t.height_m * 0.5) - o;
            Some((local_to_world(c), (t.height_m as f32 * 2.0).max(8.0)))
        }
        Selection::Pipe(i) => {
            let s = rec.pipes.get(i)?.segments.first()?;
            let c = (bevy::math::DVec3::from(s.start) + bevy::math::DVec3::from(s.end)) * 0.5 - o;
            Some((local_to_world(c), 10.0))
        }
        Selection::None => None,
    }
}

/// Apply finished jobs: open projects, new simulations, errors.
pub fn finish_jobs(
    mut commands: Commands,
    mut jobs: ResMut<Jobs>,
    mut errors: ResMut<Errors>,
    mut state: ResMut<StudioState>,
    scene: Option<ResMut<SceneData>>,
    mut selection: ResMut<Selection>,
    mut measure: ResMut<Measure>,
    mut cams: Query<(&mut Transform, Option<&mut PanOrbitCamera>, &Camera), With<PointCloudCamera>>,
) {
    let mut scene = scene;
    for (label, result, cancelled) in jobs.take_finished() {
        match result {
            Ok(JobOutput::Opened(p)) => {
                let p = Arc::new(*p);
                state.opened = Some(p.clone());
                *selection = Selection::None;
                *measure = Measure::default();
                commands.insert_resource(ViewerCloud::new(p.octree.clone()));
                commands.insert_resource(p.scene.clone());
                for (mut t, orbit, cam) in &mut cams {
                    let (pose, focus) = home_view(&p, aspect(cam));
                    match orbit {
                        Some(mut o) => {
                            // Jump (no smoothing) to the home view of the new project.
                            let r = pose.translation.distance(focus);
                            o.target_focus = focus;
                            o.focus = focus;
                            o.target_radius = r;
                            o.radius = Some(r);
                            o.target_yaw = 0.6;
                            o.yaw = Some(0.6);
                            o.target_pitch = 0.6;
                            o.pitch = Some(0.6);
                            o.force_update = true;
                        }
                        None => *t = pose,
                    }
                }
            }
            Ok(JobOutput::Simulated(sim)) => {
                if let Some(s) = scene.as_deref_mut() {
                    s.simulation = Some(*sim);
                }
            }
            Err(_) if cancelled => {}
            Err(e) => errors.push(label, e),
        }
    }
}

fn viewport_clicks(
    buttons: Res<ButtonInput<MouseButton>>,
    windows: Query<&Window, With<PrimaryWindow>>,
    cams: Query<(&Camera, &GlobalTransform), With<PointCloudCamera>>,
    captures: Res<UiCapturesPointer>,
    mut picks: MessageWriter<selection::PickRay>,
    mut pressed_at: Local<Option<Vec2>>,
) {
    let Ok(window) = windows.single() else {
        return;
    };
    let cursor = window.cursor_position();
    if buttons.just_pressed(MouseButton::Left) {
        *pressed_at = if captures.0 { None } else { cursor };
    }
    if !buttons.just_released(MouseButton::Left) {
        return;
    }
    let (Some(start), Some(end)) = (pressed_at.take(), cursor) else {
        return;
    };
    // A drag orbits the camera; only a still click selects.
    if start.distance(end) > 4.0 {
        return;
    }
    let Ok((camera, transform)) = cams.single() else {
        return;
    };
    if let Some(ray) = selection::cursor_ray(camera, transform, end) {
        picks.write(selection::PickRay(ray));
    }
}

pub fn dropped_files(
    mut drops: MessageReader<FileDragAndDrop>,
    mut requests: MessageWriter<UiRequest>,
) {
    let mut files = Vec::new();
    for d in drops.read() {
        if let FileDragAndDrop::DroppedFile { path_buf, .. } = d {
            files.push(path_buf.clone());
        }
    }
    if files.is_empty() {
        return;
    }
    // A dropped project folder opens; dropped scans are imported.
    if files.len() == 1 && files[0].join(survey::PLAN_JSON).is_file() {
        requests.write(UiRequest::OpenSurvey(files.remove(0)));
    } else if files.len() == 1 && files[0].join(capture::project::MANIFEST).is_file() {
        requests.write(UiRequest::OpenProject(files.remove(0)));
    } else {
        requests.write(UiRequest::ImportScans(files));
    }
}

fn camera_input_gate(captures: Res<UiCapturesPointer>, mut cams: Query<&mut PanOrbitCamera>) {
    for mut c in &mut cams {
        let enabled = !captures.0;
        if c.enabled != enabled {
            c.enabled = enabled;
        }
    }
}

fn setup_camera(mut commands: Commands, mut egui_settings: ResMut<bevy_egui::EguiGlobalSettings>) {
    // egui gets its own camera over the whole window, so the 3D camera's viewport can be the
    // area between the panels.
    egui_settings.auto_create_primary_context = false;
    commands.spawn((
        bevy_egui::PrimaryEguiContext,
        Camera2d,
        bevy::camera::visibility::RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: bevy::camera::CameraOutputMode::Write {
                blend_state: Some(bevy::render::render_resource::BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
    commands.spawn((
        Camera3d::default(),
        Camera {
            clear_color: ClearColorConfig::Custom(BACKGROUND),
            ..default()
        },
        Msaa::Off,
        Tonemapping::None,
        PointCloudCamera,
        PanOrbitCamera {
            button_orbit: MouseButton::Left,
            button_pan: MouseButton::Right,
            ..default()
        },
        Transform::from_xyz(60.0, 50.0, 60.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
}

/// Counts frames after the project is shown and takes the scripted screenshot.
#[derive(Resource)]
struct ScriptedShot {
    path: PathBuf,
    after: u32,
    shown: u32,
    taken: bool,
    wait: u32,
    /// Frames before giving up (a project that never settles must not hang a script).
    budget: u32,
}

fn scripted_screenshot(
    mut commands: Commands,
    shot: Option<ResMut<ScriptedShot>>,
    cloud: Option<Res<ViewerCloud>>,
    jobs: Res<Jobs>,
    officer: Res<OfficerPanel>,
    pending_token: Option<Res<OpenTokenAtStart>>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(mut shot) = shot else {
        return;
    };
    shot.budget = shot.budget.saturating_sub(1);
    if shot.budget == 0 {
        error!("--screenshot: gave up waiting for the scene to settle");
        exit.write(AppExit::error());
        return;
    }
    if shot.taken {
        shot.wait += 1;
        if shot.wait > 30 && std::fs::metadata(&shot.path).is_ok_and(|m| m.len() > 0) {
            exit.write(AppExit::Success);
        }
        if shot.wait > 600 {
            exit.write(AppExit::error());
        }
        return;
    }
    if jobs.is_busy()
        || !cloud.is_some_and(|c| c.is_settled())
        || officer.job.is_some()
        || pending_token.is_some()
    {
        return;
    }
    shot.shown += 1;
    if shot.shown >= shot.after {
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(shot.path.clone()));
        shot.taken = true;
    }
}

/// Run the studio window until it is closed.
pub fn run_studio(opts: StudioOptions) -> AppExit {
    let mut app = App::new();
    let (w, h) = (opts.width.max(640), opts.height.max(480));
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "TwinMint Studio".into(),
            resolution: (w, h).into(),
            ..default()
        }),
        ..default()
    }))
    .add_plugins((
        EguiPlugin::default(),
        PanOrbitCameraPlugin,
        StudioCorePlugin,
    ))
    .insert_resource(StudioState {
        tab: opts.tab,
        ..default()
    })
    .insert_resource(if opts.tab == Tab::Growth {
        // The finance view starts on the grown tree models over the terrain.
        Layers {
            trees: true,
            terrain: true,
            ..default()
        }
    } else {
        Layers::default()
    })
    .add_systems(Startup, setup_camera)
    .add_systems(EguiPrimaryContextPass, panels)
    .add_systems(
        Update,
        (
            viewport_clicks,
            dropped_files,
            camera_input_gate,
            scripted_screenshot,
        ),
    );
    if let Some(dir) = &opts.project {
        // A survey folder opens its tile map (and its merged estate); anything else is a project.
        app.world_mut()
            .write_message(crate::studio::ui::open_request(dir.clone()));
    }
    if opts.dev_chain {
        app.world_mut()
            .resource_mut::<MintPanel>()
            .start_dev_chain();
    }
    if let Some(o) = &opts.officer {
        let mut panel = app.world_mut().resource_mut::<OfficerPanel>();
        panel.token = o.token.to_string();
        panel.chain = ChainForm {
            use_rpc: o.rpc_url.is_some(),
            rpc_url: o.rpc_url.clone().unwrap_or_default(),
            chain_id: o.chain_id.map(|c| c.to_string()).unwrap_or_default(),
            contract: o.contract.clone().unwrap_or_default(),
        };
        app.insert_resource(OpenTokenAtStart)
            .add_systems(Update, open_token_at_start);
    }
    if let Some((path, frames)) = &opts.screenshot {
        app.insert_resource(ScriptedShot {
            path: path.clone(),
            after: *frames,
            shown: 0,
            taken: false,
            wait: 0,
            budget: 20_000,
        });
    }
    app.run()
}
