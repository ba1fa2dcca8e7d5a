//! Studio plugin logic on headless Bevy apps (no renderer, no window): the time-lapse clock,
//! panel requests becoming background jobs, finished jobs opening projects, and failures
//! reaching the error panel instead of crashing.

mod common;

use std::time::Duration;

use bevy::math::DVec3;
use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use twinmint_app::studio::StudioState;
use twinmint_app::studio::app::{finish_jobs, handle_requests};
use twinmint_app::studio::jobs::{Errors, Jobs};
use twinmint_app::studio::points::ViewerCloud;
use twinmint_app::studio::scene::SceneData;
use twinmint_app::studio::selection::{LocalRay, Measure, PickRay, Selection, SelectionPlugin};
use twinmint_app::studio::timelapse::{Timelapse, TimelapsePlugin};
use twinmint_app::studio::ui::UiRequest;

fn logic_app() -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .init_resource::<StudioState>()
        .init_resource::<Jobs>()
        .init_resource::<Errors>()
        .init_resource::<Selection>()
        .init_resource::<Measure>()
        .init_resource::<twinmint_app::studio::survey_view::SurveyPanel>()
        .add_message::<UiRequest>()
        .add_systems(Update, (handle_requests, finish_jobs).chain());
    app
}

fn run_until(app: &mut App, mut done: impl FnMut(&mut App) -> bool) {
    for _ in 0..6000 {
        app.update();
        if done(app) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("condition not reached");
}

/// Run `app` until a cloud is in the viewer or an error shows, which fails the test.
fn wait_opened(app: &mut App) {
    run_until(app, |a| {
        a.world().get_resource::<ViewerCloud>().is_some()
            || !a.world().resource::<Errors>().0.is_empty()
    });
    assert!(
        app.world().resource::<Errors>().0.is_empty(),
        "{:?}",
        app.world().resource::<Errors>().0
    );
}

/// Drop `path` on the window of a logic app and run it until a cloud is in the viewer (or an
/// error shows, which fails the test); the app and its window.
fn drop_and_open(path: &std::path::Path) -> (App, Entity) {
    use bevy::window::FileDragAndDrop;
    use twinmint_app::studio::app::dropped_files;
    let mut app = logic_app();
    app.add_message::<FileDragAndDrop>()
        .add_systems(Update, dropped_files.before(handle_requests));
    let window = app.world_mut().spawn_empty().id();
    app.world_mut().write_message(FileDragAndDrop::DroppedFile {
        window,
        path_buf: path.to_path_buf(),
    });
    wait_opened(&mut app);
    (app, window)
}

#[test]
fn timelapse_plays_with_the_app_clock() {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(TimelapsePlugin);
    app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
        250,
    )));
    {
        let mut tl = app.world_mut().resource_mut::<Timelapse>();
        tl.years = (2025..=2055).collect();
        tl.speed = 4.0;
        tl.toggle_play();
    }
    for _ in 0..4 {
        app.update();
    }
    let tl = app.world().resource::<Timelapse>();
    // The first update has no delta; three quarter-seconds at 4 years/s = 3 years.
    assert_eq!(tl.year(), Some(2028), "{tl:?}");
    assert!(tl.playing);
}

#[test]
fn opening_a_missing_project_reports_an_error() {
    let mut app = logic_app();
    let missing = std::env::temp_dir().join("no-such-twinmint-project");
    app.world_mut()
        .write_message(UiRequest::OpenProject(missing.clone()));
    run_until(&mut app, |a| !a.world().resource::<Errors>().0.is_empty());
    let e = &app.world().resource::<Errors>().0[0];
    assert!(e.message.contains("no-such-twinmint-project"), "{e:?}");
    assert!(app.world().get_resource::<ViewerCloud>().is_none());
    assert!(app.world().resource::<StudioState>().project().is_none());
}

#[test]
fn opening_a_project_installs_the_cloud_and_scene() {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let mut app = logic_app();
    app.world_mut()
        .write_message(UiRequest::OpenProject(project.clone()));
    run_until(&mut app, |a| {
        a.world().get_resource::<ViewerCloud>().is_some()
    });
    let state = app.world().resource::<StudioState>();
    assert_eq!(state.project(), Some(project.as_path()));
    let cloud = app.world().resource::<ViewerCloud>();
    assert_eq!(cloud.octree.total_points, 150_095);
    let scene = app.world().resource::<SceneData>();
    let rec = scene
        .reconstruction
        .as_ref()
        .expect("reconstruction loaded");
    assert!(rec.trees.len() > 20, "{} trees", rec.trees.len());
    assert!(scene.simulation.is_some());
    assert!(app.world().resource::<Errors>().0.is_empty());

    // Clicking straight down onto a tree selects it; clicking beside the plot clears.
    let (origin, tree) = (scene.origin, rec.trees[0].clone());
    app.add_plugins(SelectionPlugin);
    let down = |x: f64, y: f64| {
        PickRay(LocalRay {
            origin: DVec3::new(x - origin[0], y - origin[1], 500.0),
            dir: DVec3::NEG_Z,
        })
    };
    app.world_mut().write_message(down(tree.x, tree.y));
    app.update();
    let Selection::Tree(i) = *app.world().resource::<Selection>() else {
        panic!("no tree selected");
    };
    let picked = &app
        .world()
        .resource::<SceneData>()
        .reconstruction
        .as_ref()
        .unwrap()
        .trees[i];
    let d = ((picked.x - tree.x).powi(2) + (picked.y - tree.y).powi(2)).sqrt();
    assert!(
        d <= picked.crown_diameter_m / 2.0 + 1e-6,
        "picked tree #{} is {d:.1} m away",
        picked.id
    );
    app.world_mut().write_message(down(tree.x + 1000.0, tree.y));
    app.update();
    assert_eq!(*app.world().resource::<Selection>(), Selection::None);
}

fn panel_app() -> App {
    use twinmint_app::studio::panels::{MintPanel, OfficerPanel, poll_panels};
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .init_resource::<MintPanel>()
        .init_resource::<OfficerPanel>()
        .init_resource::<Errors>()
        .add_systems(Update, poll_panels);
    app
}

/// The owner's mint flow and the credit officer's view, driven through their panels' state on
/// a headless app against a real local chain (anvil from mint/contracts' npm packages).
#[test]
fn mint_panel_mints_once_and_the_officer_verifies_the_token() {
    use twinmint_app::studio::mint_flow::MintStep;
    use twinmint_app::studio::panels::{MintPanel, OfficerPanel};
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let mut app = panel_app();
    app.world_mut()
        .resource_mut::<MintPanel>()
        .start_dev_chain();
    run_until(&mut app, |a| {
        a.world().resource::<MintPanel>().dev.info().is_some()
    });

    app.world_mut()
        .resource_mut::<MintPanel>()
        .start(&project)
        .expect("mint starts");
    let mut seen = Vec::new();
    run_until(&mut app, |a| {
        let step = a.world().resource::<MintPanel>().flow.step.clone();
        if seen.last() != Some(&step.label()) {
            seen.push(step.label());
        }
        !step.is_running()
    });
    let panel = app.world().resource::<MintPanel>();
    let MintStep::Minted {
        token_id,
        ref status,
        ..
    } = panel.flow.step
    else {
        panic!(
            "mint ended in {:?}; log {:#?}",
            panel.flow.step, panel.flow.log
        );
    };
    eprintln!("mint steps: {seen:?}, token #{token_id} ({status})");
    assert!(
        seen.contains(&"fingerprinting") && seen.contains(&"minted"),
        "{seen:?}"
    );
    assert!(
        panel.flow.package.is_some(),
        "the package preview is filled in"
    );
    assert!(project.join("chain.json").is_file());

    // Minting again from the panel is refused: one token per fingerprint.
    let again = app.world_mut().resource_mut::<MintPanel>().start(&project);
    assert!(again.is_err(), "a second mint must not start");

    // The credit officer opens the token on the same chain and verifies it against the package.
    {
        let mut o = app.world_mut().resource_mut::<OfficerPanel>();
        o.token = token_id.to_string();
    }
    app.update(); // poll_panels hands the dev chain to the officer panel
    let q = app
        .world()
        .resource::<OfficerPanel>()
        .query(Some(&project))
        .expect("query");
    let job = twinmint_app::studio::officer::OfficerJob::start(q, Default::default());
    let report = loop {
        if let Some(r) = job.poll() {
            break r.expect("officer report");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(report.token_id, token_id);
    assert!(report.verified, "{:#?}", report.files);
    assert!(report.files.iter().all(|f| f.ok));
    assert!(report.pledge.is_none());
    assert!(app.world().resource::<Errors>().0.is_empty());
}

#[test]
fn mint_panel_reports_an_unreachable_rpc() {
    use twinmint_app::studio::mint_flow::MintStep;
    use twinmint_app::studio::panels::MintPanel;
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let mut app = panel_app();
    {
        let mut p = app.world_mut().resource_mut::<MintPanel>();
        p.chain = twinmint_app::studio::panels::ChainForm {
            use_rpc: true,
            rpc_url: "http://127.0.0.1:9".into(),
            chain_id: "31337".into(),
            contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3".into(),
        };
        p.start(&project).expect("starts");
    }
    run_until(&mut app, |a| {
        !a.world().resource::<MintPanel>().flow.step.is_running()
    });
    let step = app.world().resource::<MintPanel>().flow.step.clone();
    let MintStep::Failed { error, .. } = step else {
        panic!("expected a failure, got {step:?}");
    };
    assert!(error.contains("127.0.0.1:9"), "{error}");
}

/// The surveyor's path: scans dropped on the window are imported (ingest → reconstruct →
/// simulate) into a new project beside them, which then opens; a dropped project folder opens.
#[test]
fn dropped_scans_are_imported_and_opened() {
    use bevy::window::FileDragAndDrop;
    let tmp = tempfile::tempdir().unwrap();
    let scan = tmp.path().join("plot.laz");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz"),
        &scan,
    )
    .unwrap();
    let (mut app, window) = drop_and_open(&scan);
    let project = tmp.path().join("plot.twinmint");
    assert_eq!(
        app.world().resource::<StudioState>().project(),
        Some(project.as_path())
    );
    for f in [
        "manifest.json",
        "cloud.laz",
        "reconstruction.json",
        "classified.laz",
        "simulation.json",
        "viewer/octree.bin",
    ] {
        assert!(project.join(f).is_file(), "{f} missing");
    }
    let scene = app.world().resource::<SceneData>();
    assert!(scene.simulation.is_some() && scene.reconstruction.is_some());

    // Dropping the project folder itself opens it (no second import).
    app.world_mut().remove_resource::<ViewerCloud>();
    app.world_mut().write_message(FileDragAndDrop::DroppedFile {
        window,
        path_buf: project.clone(),
    });
    run_until(&mut app, |a| {
        a.world().get_resource::<ViewerCloud>().is_some()
    });
    assert!(
        !tmp.path().join("plot-2.twinmint").exists(),
        "the folder was opened, not imported"
    );
}

/// Reopening reuses the octree cache (no rebuild) until the cloud changes.
#[test]
fn reopening_reuses_the_octree_until_the_cloud_changes() {
    use twinmint_app::studio::project::{OCTREE_FILE, open_project};
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let open = || open_project(&project, &|_, _| {}, &Default::default()).expect("open");
    let first = open();
    let cache = project.join(OCTREE_FILE);
    let built = std::fs::metadata(&cache).unwrap().modified().unwrap();
    let again = open();
    assert_eq!(
        std::fs::metadata(&cache).unwrap().modified().unwrap(),
        built,
        "rebuilt needlessly"
    );
    assert_eq!(again.octree.total_points, first.octree.total_points);
    assert_eq!(again.octree.nodes.len(), first.octree.nodes.len());
    assert_eq!(again.scene.origin, first.scene.origin);
    assert!((again.bounds[1] - first.bounds[1]).length() < 1e-6);

    // A newer cloud (reconstruct ran again) invalidates the cache.
    std::thread::sleep(Duration::from_millis(20));
    let cloud = project.join("classified.laz");
    let bytes = std::fs::read(&cloud).unwrap();
    std::fs::write(&cloud, bytes).unwrap();
    let _third = open();
    assert!(
        std::fs::metadata(&cache).unwrap().modified().unwrap() > built,
        "stale cache reused"
    );
}

/// Issue "Re-survey" in the studio: scans of a stand are imported and opened; File > Resurvey
/// with a later scan of the same stand runs the resurvey as a job and opens the new project,
/// its comparison with the first survey loaded for the timeline.
#[test]
fn a_resurvey_request_resurveys_the_open_project_and_opens_the_result() {
    use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
    let tmp = tempfile::tempdir().unwrap();
    let scan = |name: &str, resurvey: bool| {
        let mut o = SynthOptions::default();
        o.scene.seed = 5;
        o.scene.width_m = 60.0;
        o.scene.depth_m = 60.0;
        o.scan = ScanPattern::Airborne(AirborneOptions {
            target_points: Some(120_000),
            ..Default::default()
        });
        o.resurvey = resurvey.then(Default::default);
        let out = synth::run(&o, &mut capture::NoProgress, &Default::default()).unwrap();
        let path = tmp.path().join(name);
        capture::write(
            &out.cloud,
            &path,
            &mut capture::NoProgress,
            &Default::default(),
        )
        .unwrap();
        path
    };
    let (first, later) = (scan("first.laz", false), scan("later.laz", true));
    let mut app = logic_app();
    app.world_mut()
        .write_message(UiRequest::ImportScans(vec![first]));
    wait_opened(&mut app);
    app.world_mut().remove_resource::<ViewerCloud>();
    app.world_mut()
        .write_message(UiRequest::Resurvey(vec![later]));
    wait_opened(&mut app);
    let project = tmp.path().join("later.twinmint");
    assert_eq!(
        app.world().resource::<StudioState>().project(),
        Some(project.as_path())
    );
    assert!(project.join("resurvey.json").is_file() && project.join("drift-report.pdf").is_file());
    let scene = app.world().resource::<SceneData>();
    let r = scene
        .resurvey
        .as_ref()
        .expect("the timeline's comparison is loaded");
    assert_eq!(r.previous.project, "first");
    assert!((r.elapsed_years - 5.0).abs() < 0.01, "{}", r.elapsed_years);
    assert!(r.stand.survivors > 10, "{:?}", r.stand);
}

/// A survey folder dropped on the window shows its tile map (every tile's state) and opens its
/// merged estate — a COPC cloud — in the viewer.
#[test]
fn dropped_survey_shows_its_tiles_and_opens_the_merged_estate() {
    use twinmint_app::studio::survey_view::SurveyPanel;
    let tmp = tempfile::tempdir().unwrap();
    let scan = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz");
    let dir = tmp.path().join("forest.survey");
    let plan = survey::plan::plan(&[scan], 50.0, 15.0, Default::default()).unwrap();
    plan.write(&dir).unwrap();
    let cancel = capture::CancelToken::new();
    for t in &plan.tiles {
        survey::tile::run_tile(&dir, t.index, None, &mut |_, _| {}, &cancel).unwrap();
    }
    survey::merge::merge(&dir, &cancel).unwrap();

    let (app, _) = drop_and_open(&dir);
    let status = app
        .world()
        .resource::<SurveyPanel>()
        .status
        .clone()
        .unwrap();
    assert_eq!(status.tiles.len(), plan.tiles.len());
    assert_eq!(status.done(), plan.tiles.len());
    assert!(status.merged);
    let merged = dir.join("merged");
    assert_eq!(
        app.world().resource::<StudioState>().project(),
        Some(merged.as_path())
    );
    // The viewer's octree came from the COPC nodes: every point of the estate.
    let manifest = capture::project::open(&merged).unwrap();
    let cloud = app.world().resource::<ViewerCloud>();
    assert_eq!(cloud.octree.total_points, manifest.point_count);
    assert!(merged.join("viewer/octree.bin").is_file());
}
