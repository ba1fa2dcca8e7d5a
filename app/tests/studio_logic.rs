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

// The studio modules' own tests (moved here from `#[cfg(test)]` modules so the app library is
// not compiled a second time in test mode).

mod jobs {
    use bevy::prelude::*;
    use twinmint_app::studio::jobs::*;

    mod tests {
        use super::*;

        #[test]
        fn failing_and_panicking_jobs_become_errors() {
            let mut jobs = Jobs::default();
            jobs.spawn("fails", |_| Err("bad file".into()));
            jobs.spawn("panics", |_| panic!("boom"));
            let mut results = Vec::new();
            for _ in 0..500 {
                results.extend(jobs.take_finished());
                if results.len() == 2 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            assert_eq!(results.len(), 2);
            for (label, r, _) in &results {
                let e = r.as_ref().err().expect("an error");
                match label.as_str() {
                    "fails" => assert_eq!(e.to_string(), "bad file"),
                    _ => assert!(e.to_string().contains("panicked")),
                }
            }
            assert!(!jobs.is_busy());
        }

        #[test]
        fn cancel_reaches_the_worker() {
            let mut jobs = Jobs::default();
            jobs.spawn("waits", |ctx| {
                while !ctx.cancelled() {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Err("cancelled".into())
            });
            jobs.running[0].cancel();
            let mut got = Vec::new();
            for _ in 0..500 {
                got = jobs.take_finished();
                if !got.is_empty() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            assert_eq!(got.len(), 1);
            assert!(got[0].2, "reported as cancelled");
        }

        #[test]
        fn import_target_does_not_overwrite() {
            let dir = tempfile::tempdir().unwrap();
            let scan = dir.path().join("plot.laz");
            assert_eq!(project_dir_for(&scan), dir.path().join("plot.twinmint"));
            std::fs::create_dir(dir.path().join("plot.twinmint")).unwrap();
            assert_eq!(project_dir_for(&scan), dir.path().join("plot-2.twinmint"));
        }
    }
}

mod officer {
    use capture::CancelToken;
    use mint::chain::{B256, Chain, block_on};
    use mint::package::{PACKAGE_DIR, REPORT_HTML};
    use twinmint_app::studio::error::{StudioError, StudioResult};
    use twinmint_app::studio::mint_flow::ChainTarget;
    use twinmint_app::studio::officer::*;

    mod tests {
        use super::*;
        use crate::mint_flow::e2e::{copy_dir, demo_copy, run_job};
        use mint::chain::{Address, U256, currency_code, dev};
        use twinmint_app::studio::mint_flow::{MintFlow, MintStep, start_dev_chain};

        fn sample_report(verified: bool) -> OfficerReport {
            OfficerReport {
                token_id: 7,
                chain_id: 31337,
                network: "anvil".into(),
                contract: Address::repeat_byte(1).to_checksum(None),
                owner: Address::repeat_byte(2).to_checksum(None),
                token_uri: "ipfs://bafy/metadata.json".into(),
                fingerprint: B256::repeat_byte(3).to_string(),
                package_fingerprint: None,
                package_source: Some("pkg".into()),
                files: vec![
                    FileCheck {
                        name: "report.html".into(),
                        what: "sha256".into(),
                        ok: verified,
                        detail: "expected <a>, found b".into(),
                    },
                    FileCheck {
                        name: "model.glb".into(),
                        what: "cid".into(),
                        ok: true,
                        detail: "ok".into(),
                    },
                ],
                verified,
                pledge: None,
                owner_kyc: None,
                footprint: None,
                valuation: None,
                attestation: None,
                surveys: vec![],
                timeline: None,
                carbon_view: None,
                collateral: None,
                notes: vec!["a <note>".into()],
                checked_at: "2025-01-01T00:00:00Z".into(),
            }
        }

        #[test]
        fn export_appends_inside_main_and_escapes() {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join(REPORT_HTML),
                "<html><body><main><h1>R</h1></main></body></html>",
            )
            .unwrap();
            let out = export_report(&sample_report(false), dir.path(), dir.path()).unwrap();
            assert_eq!(out, dir.path().join("report-token-7-verified.html"));
            let html = std::fs::read_to_string(&out).unwrap();
            assert!(html.contains("Verification — token #7"));
            assert!(html.find("twinmint-verification").unwrap() < html.find("</main>").unwrap());
            assert!(html.contains("class=\"fail\""));
            assert!(html.contains("class=\"ok\""));
            assert!(html.contains("expected &lt;a&gt;"));
            assert!(html.contains("a &lt;note&gt;"));
            assert!(html.contains("NOT verified"));
            // No partial files left beside it.
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(
                export_report(&sample_report(true), &dir.path().join("none"), dir.path()).is_err()
            );
        }

        #[test]
        fn currency_and_time_text() {
            assert_eq!(currency_text(currency_code("CNY")), "CNY");
            assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
            let note = no_package_note("ipfs://bafyabc/metadata.json");
            assert!(note.contains("https://ipfs.io/ipfs/bafyabc"), "{note}");
        }

        #[test]
        fn unreachable_chain_is_an_error_naming_the_url() {
            let port = dev::free_port().unwrap();
            let q = TokenQuery {
                target: ChainTarget {
                    rpc_url: format!("http://127.0.0.1:{port}"),
                    chain_id: 31337,
                    contract: Address::repeat_byte(1),
                },
                token_id: 1,
                package: None,
                project: None,
                reader: None,
            };
            let job = OfficerJob::start(q, CancelToken::new());
            let r = wait(&job);
            let e = r.unwrap_err();
            assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
        }

        fn wait(job: &OfficerJob) -> StudioResult<OfficerReport> {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
            loop {
                if let Some(r) = job.poll() {
                    return r;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "officer job timed out"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }

        #[test]
        fn officer_view_of_the_minted_demo() {
            let Some((tmp, project)) = demo_copy() else {
                return;
            };
            let (_h, info) = start_dev_chain().expect("dev chain");
            let (flow, _) = run_job(
                &project,
                MintFlow::default(),
                Some(info.clone()),
                CancelToken::new(),
            );
            let MintStep::Minted { token_id, .. } = flow.step else {
                panic!("{:?}", flow.log);
            };
            let cancel = CancelToken::new();
            let query = TokenQuery {
                target: info.target(),
                token_id,
                package: None,
                project: Some(project.clone()),
                reader: None,
            };

            // The project's own package: everything green.
            let r = wait(&OfficerJob::start(query.clone(), cancel.clone())).unwrap();
            let red: Vec<_> = r.failures().collect();
            assert!(r.verified, "{red:?}");
            assert!(red.is_empty());
            assert!(r.files.iter().any(|f| f.name == "report.html"));
            assert!(r.files.iter().any(|f| f.name == "chain"));
            assert_eq!(r.owner, info.accounts[0].to_checksum(None));
            assert_eq!(Some(&r.fingerprint), r.package_fingerprint.as_ref());
            assert_eq!(r.surveys.len(), 1);
            assert!(r.surveys[0].is_package);
            let a = r.attestation.as_ref().unwrap();
            assert_eq!(a.surveyor, info.accounts[0].to_checksum(None));
            assert!(a.surveyor_active);
            assert!(r.pledge.is_none() && r.valuation.is_none());
            let c = r.collateral.as_ref().unwrap();
            assert_eq!(c.currency, "CNY");
            assert!(c.collateral_value > 0.0 && c.loan.is_some() && c.loan_is_grade_max);
            assert_eq!(c.matches_package, Some(true));
            assert!(c.liquidation_price_per_t.unwrap() > 0.0);

            // Only the URI: not verified, and the report says why.
            let r0 = build_report(
                &TokenQuery {
                    project: None,
                    ..query.clone()
                },
                &CancelToken::new(),
            )
            .unwrap();
            assert!(!r0.verified && r0.files.is_empty());
            assert!(
                r0.notes.iter().any(|n| n.contains("no IPFS node")),
                "{:?}",
                r0.notes
            );

            // One byte of a copy of report.html changed: that row is red.
            let copy = tmp.path().join("package-copy");
            copy_dir(&project.join(PACKAGE_DIR), &copy);
            let mut bytes = std::fs::read(copy.join(REPORT_HTML)).unwrap();
            let i = bytes.len() / 2;
            bytes[i] ^= 0x01;
            std::fs::write(copy.join(REPORT_HTML), &bytes).unwrap();
            let bad = wait(&OfficerJob::start(
                TokenQuery {
                    package: Some(copy.clone()),
                    ..query.clone()
                },
                cancel.clone(),
            ))
            .unwrap();
            assert!(!bad.verified);
            assert!(
                bad.files.iter().any(|f| f.name == REPORT_HTML && !f.ok),
                "{:?}",
                bad.files
            );
            assert!(bad.files.iter().any(|f| f.name == "model.glb" && f.ok));

            // Pledge (owner = dev account 0) and value (account 0 is the oracle), then look again.
            let lender = info.accounts[1];
            let loan_ref: B256 = mint::fingerprint::keccak256(b"LOAN-2025-001").into();
            block_on(async {
                let c = Chain::connect(info.target().config(), dev::dev_account(0)).await?;
                let seizable = chrono::Utc::now().timestamp() as u64 + 30 * 24 * 3600;
                c.offer_pledge(token_id, lender, loan_ref, seizable, 0)
                    .await?;
                Chain::connect(info.target().config(), dev::dev_account(1))
                    .await?
                    .accept_pledge(token_id, loan_ref)
                    .await?;
                c.set_valuation(
                    token_id,
                    U256::from(383u64),
                    currency_code("CNY"),
                    1_735_689_600,
                )
                .await
            })
            .unwrap();
            let r2 = wait(&OfficerJob::start(query.clone(), cancel.clone())).unwrap();
            let p = r2.pledge.as_ref().unwrap();
            assert_eq!(p.lender, lender.to_checksum(None));
            assert_eq!(p.loan_ref, loan_ref.to_string());
            assert!(p.since > 0 && p.accepted);
            let k = r2.owner_kyc.as_ref().expect("the dev owner is admitted");
            assert!(k.valid && k.category == "institutional", "{k:?}");
            assert!(
                r2.footprint
                    .as_deref()
                    .is_some_and(|f| !f.contains("INCOMPLETE"))
            );
            let v = r2.valuation.as_ref().unwrap();
            assert_eq!((v.value.as_str(), v.currency.as_str()), ("383", "CNY"));
            assert_eq!(v.as_of, 1_735_689_600);
            assert!(r2.verified);

            // Export: the tampered result, appended to the package's report.
            let out = tmp.path().join("credit-file.html");
            let written = export_report(&bad, &project.join(PACKAGE_DIR), &out).unwrap();
            assert_eq!(written, out);
            let html = std::fs::read_to_string(&out).unwrap();
            assert!(html.contains(&format!("token #{token_id}")));
            assert!(html.contains("class=\"fail\""));
            assert!(html.contains("class=\"ok\""));
            assert!(html.contains(&info.contract.to_checksum(None)));
            assert!(
                !html.contains(&info.rpc_url),
                "the RPC URL stays out of the file"
            );
            let original =
                std::fs::read_to_string(project.join(PACKAGE_DIR).join(REPORT_HTML)).unwrap();
            assert!(html.len() > original.len());
            assert!(!original.contains("twinmint-verification"));

            // Cancelled before it starts.
            let e = build_report(&query, &{
                let t = CancelToken::new();
                t.cancel();
                t
            })
            .unwrap_err();
            assert!(matches!(e, StudioError::Cancelled), "{e}");
        }
    }
}

mod survey_view {
    use std::path::Path;
    use twinmint_app::studio::survey_view::*;

    mod tests {
        use super::*;
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;

        /// A 2 × 1 survey with tile 0 done (7 trees) and tile 1 pending.
        fn survey(dir: &Path) {
            let tile = |index: usize, x0: f64, points_estimate: u64| survey::Tile {
                index,
                col: index as i64,
                row: 0,
                core: capture::Crop {
                    min: [x0, 0.0],
                    max: [x0 + 50.0, 50.0],
                },
                buffered: capture::Crop {
                    min: [x0 - 10.0, -10.0],
                    max: [x0 + 60.0, 60.0],
                },
                inputs: Vec::new(),
                points_estimate,
                memory_estimate_bytes: 1,
            };
            survey::Plan {
                schema_version: 1,
                tile_m: 50.0,
                buffer_m: 10.0,
                inputs: Vec::new(),
                tiles: vec![tile(0, 0.0, 1000), tile(1, 50.0, 2000)],
                crs: Default::default(),
                reconstruct: Default::default(),
            }
            .write(dir)
            .unwrap();
            let t0 = dir.join("tiles").join("00000");
            std::fs::create_dir_all(&t0).unwrap();
            std::fs::write(
                t0.join("done.json"),
                r#"{"index":0,"points_read":900,"trees":7,"ground_points":300}"#,
            )
            .unwrap();
        }

        #[test]
        fn the_map_shows_tile_states_and_runs_the_pending_ones() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("estate.survey");
            std::fs::create_dir_all(&dir).unwrap();
            survey(&dir);
            let mut panel = SurveyPanel::default();
            panel.open(&dir).unwrap();
            let s = panel.status.as_ref().unwrap();
            assert_eq!(s.done(), 1);
            assert_eq!(s.pending(), vec![1]);
            assert!(!s.merged);

            let mut h = Harness::new_ui_state(
                |ui, p: &mut (SurveyPanel, Option<SurveyAction>)| {
                    if let Some(a) = p.0.ui(ui, false) {
                        p.1 = Some(a);
                    }
                },
                (panel, None),
            );
            h.get_by_label("estate.survey: 1 of 2 tiles done, 7 trees in their cores");
            h.get_by_label("Run 1 pending tile(s) here and merge")
                .click();
            h.run();
            assert_eq!(h.state().1, Some(SurveyAction::Run));
            // Tile 1 finishes elsewhere: the next refresh shows it.
            let t1 = dir.join("tiles").join("00001");
            std::fs::create_dir_all(&t1).unwrap();
            std::fs::write(
                t1.join("done.json"),
                r#"{"index":1,"points_read":1,"trees":5}"#,
            )
            .unwrap();
            h.state_mut().0.read_at = None;
            h.state_mut().0.refresh();
            h.run();
            h.get_by_label("estate.survey: 2 of 2 tiles done, 12 trees in their cores");
            h.get_by_label("Merge the tiles");
        }
    }
}

mod ui {
    use bevy::prelude::*;
    use twinmint_app::studio::points::PointViewSettings;
    use twinmint_app::studio::points_render::RasterizerSupport;
    use twinmint_app::studio::scene::{Layers, SceneData};
    use twinmint_app::studio::selection::{Measure, Selection};
    use twinmint_app::studio::ui::*;

    mod tests {
        use super::*;
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;

        struct Survey {
            layers: Layers,
            settings: PointViewSettings,
            support: RasterizerSupport,
            measure: Measure,
            selection: Selection,
            scene: SceneData,
        }

        fn harness(selection: Selection) -> Harness<'static, Survey> {
            let state = Survey {
                layers: Layers::default(),
                settings: PointViewSettings::default(),
                support: RasterizerSupport { compute: false },
                measure: Measure::default(),
                selection,
                scene: SceneData {
                    origin: [0.0; 3],
                    reconstruction: Some(crate::selection::test_reconstruction()),
                    simulation: None,
                    resurvey: None,
                },
            };
            Harness::new_ui_state(
                |ui, s: &mut Survey| {
                    survey_panel(
                        ui,
                        &mut s.layers,
                        &mut s.settings,
                        None,
                        &s.support,
                        &mut s.measure,
                        &s.selection,
                        Some(&s.scene),
                    )
                },
                state,
            )
        }

        #[test]
        fn selected_tree_shows_its_metrics() {
            let h = harness(Selection::Tree(1));
            h.get_by_label("#2");
            h.get_by_label("15.00 m");
            h.get_by_label("4.00 m");
            h.get_by_label("not observed (predicted by the growth model)");
            let none = harness(Selection::None);
            none.get_by_label("Click a tree or pipe in the view.");
            let pipe = harness(Selection::Pipe(0));
            pipe.get_by_label("600 mm");
        }

        #[test]
        fn a_resurvey_shows_both_surveys_drift_and_ltv_then_and_now() {
            let mut r = resurvey::Resurvey::default();
            r.previous.project = "forest-2024".into();
            r.previous.capture_start = Some("2024-06-04T10:00:00+00:00".into());
            r.previous.trees = 242;
            r.current.project = "forest-2029".into();
            r.current.capture_start = Some("2029-06-04T10:00:00+00:00".into());
            r.current.trees = 225;
            r.elapsed_years = 5.0;
            r.stand.co2e_before_t = 157.0;
            r.stand.co2e_t = 170.0;
            r.drift.growth.flag = resurvey::drift::Flag::BelowP10;
            r.drift.stock.currency = "CNY".into();
            r.collateral = resurvey::report::CollateralChange {
                currency: "CNY".into(),
                value_before: 1000.0,
                value_now: 800.0,
                loan: 400.0,
            };
            let sim = growth_model::run(
                &twinmint_app::workflow::simulate::reconstruction_trees(
                    &crate::selection::test_reconstruction(),
                ),
                &growth_model::SimulationOptions {
                    years: 3,
                    runs: 4,
                    area_ha: Some(0.1),
                    ..Default::default()
                },
                &mut |_, _| {},
                &Default::default(),
            )
            .unwrap();
            let h = Harness::new_ui(|ui| survey_timeline(ui, &r, &sim));
            h.get_by_label("Survey 1 — forest-2024 2024-06-04: 242 trees, 157 t CO2e");
            h.get_by_label("Survey 2 — forest-2029 2029-06-04: 225 trees, 170 t CO2e");
            h.get_by_label_contains("growth below P10");
            h.get_by_label("Collateral then 1000, now 800 CNY; LTV then 40%, now 50% (loan 400)");
        }

        #[test]
        fn selected_tree_shows_its_inventory() {
            use reconstruct::model::{SpeciesCall, SpeciesClass, SpeciesSource};
            let mut rec = crate::selection::test_reconstruction();
            rec.trees[1].species = Some(SpeciesCall {
                class: SpeciesClass::Conifer,
                p_conifer: 0.9,
                species: Some("Picea abies".into()),
                source: SpeciesSource::FieldList,
            });
            let mut o = growth_model::SimulationOptions {
                years: 2,
                runs: 4,
                area_ha: Some(0.1),
                ..Default::default()
            };
            o.allometry.region = growth_model::Region::Europe;
            let trees = twinmint_app::workflow::simulate::reconstruction_trees(&rec);
            assert_eq!(trees[1].conifer, Some(true));
            assert_eq!(trees[1].species.as_deref(), Some("Picea abies"));
            let sim = growth_model::run(&trees, &o, &mut |_, _| {}, &Default::default()).unwrap();
            let r = sim.inventory.as_ref().unwrap().tree(2).unwrap().clone();
            let mut h = harness(Selection::Tree(1));
            h.state_mut().scene.reconstruction = Some(rec);
            h.state_mut().scene.simulation = Some(sim);
            h.run();
            h.get_by_label("conifer · Picea abies (p conifer 0.90, field list)");
            h.get_by_label("spruce (named species)");
            h.get_by_label(&format!(
                "{:.0} kg ± {:.0} (90 %: {:.0}–{:.0})",
                r.agb_kg, r.agb_sd_kg, r.agb_p05_kg, r.agb_p95_kg
            ));
            h.get_by_label(&format!(
                "{:.0} kg C · {:.0} kg CO2e",
                r.carbon_kg, r.co2e_kg
            ));
            h.get_by_label(&format!(
                "Forrester et al. 2017: Picea abies · DBH {:.1} cm predicted (Jucker 2017)",
                r.dbh_cm
            ));
        }

        #[test]
        fn layer_and_measure_toggles_change_state() {
            let mut h = harness(Selection::None);
            assert!(!h.state().layers.trees);
            h.get_by_label("Tree models").click();
            h.run();
            assert!(h.state().layers.trees);
            h.get_by_label("Point cloud").click();
            h.run();
            assert!(!h.state().layers.points);
            h.get_by_label("Click two points to measure").click();
            h.run();
            assert!(h.state().measure.active);
            h.get_by_label("pick the first point");
        }
    }
}

mod points_render {
    use bevy::math::{DVec3, Mat4};
    use bevy::prelude::*;
    use twinmint_app::studio::points_render::*;

    mod tests {
        use super::*;

        #[test]
        fn local_and_world_axes_round_trip() {
            let p = DVec3::new(12.5, -3.25, 40.0);
            let w = local_to_world(p);
            assert_eq!(w, Vec3::new(12.5, 40.0, 3.25), "z-up local → y-up world");
            assert!((world_to_local(w) - p).length() < 1e-6);
            assert!((world_from_local() * p.as_vec3() - w).length() < 1e-5);
            // A right-handed frame stays right-handed.
            assert!((world_from_local().determinant() - 1.0).abs() < 1e-6);
        }

        #[test]
        fn camera_relative_projection_centres_what_the_camera_looks_at() {
            // Camera 50 m south of a point, level, looking north (local +y).
            let target_local = DVec3::new(1000.0, 2000.0, 30.0);
            let eye_local = target_local - DVec3::new(0.0, 50.0, 0.0);
            let eye = local_to_world(eye_local);
            let view = GlobalTransform::from(
                Transform::from_translation(eye).looking_at(local_to_world(target_local), Vec3::Y),
            );
            let proj = Mat4::perspective_infinite_reverse_rh(std::f32::consts::FRAC_PI_4, 1.5, 0.1);
            let m = clip_from_rel(proj, &view);
            let rel = (target_local - eye_local).as_vec3();
            let clip = m * rel.extend(1.0);
            let ndc = clip.truncate() / clip.w;
            assert!(ndc.x.abs() < 1e-5 && ndc.y.abs() < 1e-5, "{ndc:?}");
            assert!(
                (clip.w - 50.0).abs() < 1e-3,
                "w is the view distance: {}",
                clip.w
            );
            // A point 10 m east appears right of centre; 10 m up appears above.
            let east = m * (rel + Vec3::X * 10.0).extend(1.0);
            let up = m * (rel + Vec3::Z * 10.0).extend(1.0);
            assert!(east.x / east.w > 0.1);
            assert!(up.y / up.w > 0.1);
        }

        #[test]
        fn compute_needs_both_int64_features() {
            assert!(!compute_supported(wgpu::Features::SHADER_INT64));
            assert!(!compute_supported(
                wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX
            ));
            assert!(compute_supported(
                wgpu::Features::SHADER_INT64 | wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX
            ));
        }
    }
}

mod selection {
    use bevy::math::DVec3;
    use bevy::prelude::*;
    use reconstruct::model::Reconstruction;
    use twinmint_app::studio::selection::*;

    /// Two trees (x = 0 and 10, heights 20 and 15 m, crowns 4 m) and one 10 m pipe, for tests.
    pub(crate) fn test_reconstruction() -> Reconstruction {
        tests::rec()
    }

    mod tests {
        use super::*;
        use reconstruct::model::{PipeRun, PipeSegment, Tree};

        pub(super) fn rec() -> Reconstruction {
            let tree = |id, x: f64, h| Tree {
                id,
                x,
                y: 0.0,
                ground_z: 0.0,
                height_m: h,
                crown_area_m2: 12.0,
                crown_diameter_m: 4.0,
                crown_base_height_m: None,
                point_count: 10,
                hull: vec![],
                dbh_status: reconstruct::model::DbhStatus::NotObserved,
                dbh_cm: None,
                dbh_fit_rms_cm: None,
                species: None,
            };
            Reconstruction {
                trees: vec![tree(1, 0.0, 20.0), tree(2, 10.0, 15.0)],
                pipes: vec![PipeRun {
                    id: 1,
                    segments: vec![PipeSegment {
                        start: [0.0, 20.0, 1.0],
                        end: [10.0, 20.0, 1.0],
                        radius_m: 0.3,
                        inlier_rms_m: 0.0,
                        point_count: 10,
                    }],
                    length_m: 10.0,
                    radius_m: 0.3,
                }],
                schema_version: 1,
                generator: String::new(),
                crs: Default::default(),
                origin: [0.0; 3],
                terrain: Default::default(),
                dtm: None,
                chm: None,
                options: serde_json::Value::Null,
                run: Default::default(),
            }
        }

        fn ray(o: [f64; 3], d: [f64; 3]) -> LocalRay {
            LocalRay {
                origin: DVec3::from(o),
                dir: DVec3::from(d).normalize(),
            }
        }

        #[test]
        fn picks_the_first_tree_along_the_ray() {
            let r = rec();
            // From the west, level at 5 m: tree 1 (x = 0) comes before tree 2 (x = 10).
            assert_eq!(
                pick(&r, [0.0; 3], &ray([-30.0, 0.0, 5.0], [1.0, 0.0, 0.0]), 0.0),
                Selection::Tree(0)
            );
            // From the east: tree 2 first.
            assert_eq!(
                pick(&r, [0.0; 3], &ray([40.0, 0.0, 5.0], [-1.0, 0.0, 0.0]), 0.0),
                Selection::Tree(1)
            );
            // Above tree 2's top (15 m) but below tree 1's: only tree 1.
            assert_eq!(
                pick(&r, [0.0; 3], &ray([40.0, 0.0, 17.0], [-1.0, 0.0, 0.0]), 0.0),
                Selection::Tree(0)
            );
            // Straight down onto tree 2's crown.
            assert_eq!(
                pick(
                    &r,
                    [0.0; 3],
                    &ray([10.5, 0.5, 100.0], [0.0, 0.0, -1.0]),
                    0.0
                ),
                Selection::Tree(1)
            );
            // Missing everything.
            assert_eq!(
                pick(&r, [0.0; 3], &ray([-30.0, 50.0, 5.0], [1.0, 0.0, 0.0]), 0.0),
                Selection::None
            );
        }

        #[test]
        fn picks_pipes_within_radius_and_respects_origin() {
            let r = rec();
            let origin = [100.0, 200.0, 0.0];
            // The same scene shifted: local = absolute − origin.
            let hit = pick(
                &r,
                origin,
                &ray([5.0 - 100.0, 20.0 - 200.0, 10.0], [0.0, 0.0, -1.0]),
                0.0,
            );
            assert_eq!(hit, Selection::Pipe(0));
            let miss = pick(
                &r,
                origin,
                &ray([5.0 - 100.0, 20.5 - 200.0, 10.0], [0.0, 0.0, -1.0]),
                0.0,
            );
            assert_eq!(miss, Selection::None);
        }

        #[test]
        fn measure_takes_two_points_then_restarts() {
            let mut m = Measure::default();
            m.click(DVec3::new(0.0, 0.0, 0.0));
            assert!(m.distance().is_none());
            m.click(DVec3::new(3.0, 4.0, 12.0));
            let d = m.distance().unwrap();
            assert!((d.slope_m - 13.0).abs() < 1e-9);
            assert!((d.horizontal_m - 5.0).abs() < 1e-9);
            assert!((d.vertical_m - 12.0).abs() < 1e-9);
            m.click(DVec3::ONE);
            assert_eq!(m.a, Some(DVec3::ONE));
            assert!(m.b.is_none());
        }

        #[test]
        fn pick_point_prefers_the_point_on_the_ray() {
            let pts = vec![
                DVec3::new(10.0, 0.3, 0.0),
                DVec3::new(10.0, 0.01, 0.0),
                DVec3::new(-10.0, 0.0, 0.0),
            ];
            let r = ray([0.0; 3], [1.0, 0.0, 0.0]);
            assert_eq!(
                pick_point(pts.clone().into_iter(), &r, 0.01),
                Some(DVec3::new(10.0, 0.01, 0.0))
            );
            assert_eq!(
                pick_point(pts.into_iter(), &ray([0.0; 3], [0.0, 1.0, 0.0]), 0.01),
                None
            );
        }
    }
}

mod mint_flow {
    use capture::CancelToken;
    use mint::chain::{Address, Chain, block_on, dev};
    use mint::workflow::MINT_JOURNAL;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};
    use twinmint_app::studio::mint_flow::*;

    mod tests {
        use super::*;

        fn running(step: MintStep) -> MintFlow {
            MintFlow {
                step,
                ..MintFlow::default()
            }
        }

        fn minted() -> MintEvent {
            MintEvent::Minted {
                token_id: 1,
                tx: Some("0xab".into()),
                block: Some(3),
                status: "minted".into(),
            }
        }

        fn failed() -> MintEvent {
            MintEvent::Failed {
                during: "connecting".into(),
                error: "RPC at http://x is not reachable".into(),
            }
        }

        fn preview() -> PackagePreview {
            PackagePreview {
                name: "forest".into(),
                token_uri: "ipfs://bafy/metadata.json".into(),
                directory: "bafy".into(),
                fingerprint: "0x01".into(),
                files: vec![],
                attributes: vec![("Trees".into(), "94".into())],
            }
        }

        /// Apply and say whether the event was taken (nothing "ignored" logged).
        fn took(f: &mut MintFlow, ev: MintEvent) -> bool {
            let n = f.log.len();
            f.apply(ev);
            !f.log[n..].iter().any(|l| l.starts_with("ignored"))
        }

        #[test]
        fn local_wallet_happy_path() {
            let mut f = MintFlow::default();
            f.begin(true).unwrap();
            assert_eq!(f.step, MintStep::Fingerprinting);
            assert!(took(&mut f, MintEvent::Fingerprinting)); // the worker's first event: no-op
            assert!(took(&mut f, MintEvent::Fingerprinted("0x01".into())));
            assert_eq!(f.fingerprint.as_deref(), Some("0x01"));
            assert!(took(&mut f, MintEvent::Packaging));
            assert!(took(&mut f, MintEvent::PackageReady(preview())));
            assert!(took(&mut f, MintEvent::Connecting));
            assert!(took(&mut f, MintEvent::Attesting));
            assert!(took(&mut f, MintEvent::Sending));
            assert!(took(&mut f, minted()));
            assert!(matches!(f.step, MintStep::Minted { token_id: 1, .. }));
            assert_eq!(f.tx.as_deref(), Some("0xab"));
            assert!(!f.is_running());
        }

        #[test]
        fn package_step_may_be_skipped_and_already_minted_skips_sending() {
            let mut f = running(MintStep::Idle);
            assert!(took(&mut f, MintEvent::Fingerprinting));
            assert!(took(&mut f, MintEvent::PackageReady(preview())));
            assert!(took(&mut f, MintEvent::Connecting));
            assert!(took(&mut f, MintEvent::Attesting));
            assert!(took(
                &mut f,
                MintEvent::Minted {
                    token_id: 1,
                    tx: None,
                    block: None,
                    status: "already on chain".into()
                }
            ));
            assert!(
                matches!(&f.step, MintStep::Minted { status, .. } if status == "already on chain")
            );
        }

        #[test]
        fn browser_path() {
            let mut f = running(MintStep::Attesting);
            assert!(took(&mut f, MintEvent::AwaitingWallet));
            assert!(took(
                &mut f,
                MintEvent::OpenUrl("http://127.0.0.1:1/?t=x".into())
            ));
            assert_eq!(f.wallet_url.as_deref(), Some("http://127.0.0.1:1/?t=x"));
            assert!(took(&mut f, MintEvent::Confirming { tx: "0xcd".into() }));
            assert_eq!(f.step, MintStep::Confirming);
            assert_eq!(f.wallet_url, None);
            assert!(took(&mut f, minted()));
            // A browser mint that was already on chain ends at Attesting.
            let mut g = running(MintStep::Attesting);
            assert!(took(&mut g, minted()));
        }

        #[test]
        fn ledger_approval_then_sending() {
            let mut f = running(MintStep::Attesting);
            assert!(took(&mut f, MintEvent::AwaitingWallet));
            assert!(took(&mut f, MintEvent::Sending));
            assert!(took(&mut f, MintEvent::Confirming { tx: "0x1".into() }));
        }

        #[test]
        fn out_of_order_events_are_logged_and_ignored() {
            let cases: Vec<(MintStep, MintEvent)> = vec![
                (MintStep::Idle, minted()),
                (MintStep::Idle, failed()),
                (MintStep::Idle, MintEvent::Packaging),
                (MintStep::Idle, MintEvent::Connecting),
                (MintStep::Idle, MintEvent::Fingerprinted("0x1".into())),
                (MintStep::Idle, MintEvent::PackageReady(preview())),
                (MintStep::Idle, MintEvent::OpenUrl("u".into())),
                (MintStep::Fingerprinting, MintEvent::Attesting),
                (MintStep::Fingerprinting, MintEvent::Sending),
                (MintStep::Fingerprinting, minted()),
                (MintStep::Fingerprinting, MintEvent::OpenUrl("u".into())),
                (MintStep::Packaging, MintEvent::Fingerprinting),
                (MintStep::Packaging, MintEvent::Fingerprinted("0x1".into())),
                (MintStep::Connecting, MintEvent::Packaging),
                (MintStep::Connecting, MintEvent::Sending),
                (MintStep::Connecting, minted()),
                (MintStep::Connecting, MintEvent::PackageReady(preview())),
                (
                    MintStep::Attesting,
                    MintEvent::Confirming { tx: "0x1".into() },
                ),
                (MintStep::Sending, MintEvent::AwaitingWallet),
                (MintStep::Sending, MintEvent::Attesting),
                (MintStep::Confirming, MintEvent::Sending),
                (MintStep::Confirming, MintEvent::OpenUrl("u".into())),
                (
                    MintStep::Minted {
                        token_id: 1,
                        tx: None,
                        block: None,
                        status: "minted".into(),
                    },
                    failed(),
                ),
                (
                    MintStep::Minted {
                        token_id: 1,
                        tx: None,
                        block: None,
                        status: "minted".into(),
                    },
                    MintEvent::Fingerprinting,
                ),
                (
                    MintStep::Failed {
                        during: "x".into(),
                        error: "y".into(),
                    },
                    minted(),
                ),
                (
                    MintStep::Failed {
                        during: "x".into(),
                        error: "y".into(),
                    },
                    MintEvent::Connecting,
                ),
            ];
            for (step, ev) in cases {
                let mut f = running(step.clone());
                let name = event_name(&ev);
                assert!(!took(&mut f, ev), "{name} while {step:?} was taken");
                assert_eq!(f.step, step, "{name} changed the step");
                assert!(
                    f.log.last().unwrap().contains(name),
                    "log names the event: {:?}",
                    f.log
                );
                assert_eq!(f.fingerprint, None);
                assert_eq!(f.package, None);
            }
        }

        #[test]
        fn failed_from_every_running_step() {
            for step in [
                MintStep::Fingerprinting,
                MintStep::Packaging,
                MintStep::Connecting,
                MintStep::Attesting,
                MintStep::AwaitingWallet,
                MintStep::Sending,
                MintStep::Confirming,
            ] {
                let mut f = running(step.clone());
                f.wallet_url = Some("u".into());
                assert!(took(&mut f, failed()), "{step:?}");
                assert!(
                    matches!(&f.step, MintStep::Failed { during, .. } if during == "connecting"),
                    "{step:?}"
                );
                assert_eq!(f.wallet_url, None);
            }
        }

        #[test]
        fn log_is_always_taken() {
            for step in [MintStep::Idle, MintStep::Sending] {
                let mut f = running(step);
                f.apply(MintEvent::Log("hello".into()));
                assert_eq!(f.log, vec!["hello".to_string()]);
            }
        }

        #[test]
        fn reset_keeps_previews_and_is_refused_while_running() {
            let mut f = running(MintStep::Sending);
            f.fingerprint = Some("0x1".into());
            f.package = Some(preview());
            assert!(!f.reset());
            assert_eq!(f.step, MintStep::Sending);
            f.apply(failed());
            assert!(f.reset());
            assert_eq!(f.step, MintStep::Idle);
            assert_eq!(f.fingerprint.as_deref(), Some("0x1"));
            assert_eq!(f.package, Some(preview()));
            f.step = MintStep::Minted {
                token_id: 2,
                tx: None,
                block: None,
                status: "minted".into(),
            };
            assert!(f.reset());
            assert_eq!(f.step, MintStep::Idle);
            f.begin(true).unwrap();
        }

        #[test]
        fn can_start_reasons() {
            let f = MintFlow::default();
            assert!(
                f.can_start(false)
                    .unwrap_err()
                    .to_string()
                    .contains("project")
            );
            assert!(f.can_start(true).is_ok());
            let f = running(MintStep::Packaging);
            assert!(
                f.can_start(true)
                    .unwrap_err()
                    .to_string()
                    .contains("already running")
            );
            let f = running(MintStep::Minted {
                token_id: 4,
                tx: None,
                block: None,
                status: "minted".into(),
            });
            assert!(
                f.can_start(true)
                    .unwrap_err()
                    .to_string()
                    .contains("already minted")
            );
            let f = running(MintStep::Failed {
                during: "x".into(),
                error: "y".into(),
            });
            assert!(f.can_start(true).is_ok(), "a failed mint may be retried");

            let mut f = MintFlow::new(WalletChoice::Browser, Network::DevChain);
            assert!(
                f.can_start(true)
                    .unwrap_err()
                    .to_string()
                    .contains("recipient")
            );
            f.recipient = Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".into());
            assert!(
                f.can_start(true)
                    .unwrap_err()
                    .to_string()
                    .contains("surveyor")
            );
            f.surveyor = Some(WalletChoice::DevAccount(0));
            assert!(f.can_start(true).is_ok());
            f.recipient = Some("nope".into());
            assert!(
                f.can_start(true)
                    .unwrap_err()
                    .to_string()
                    .contains("not an address")
            );

            let f = MintFlow::new(
                WalletChoice::DevAccount(0),
                Network::Rpc {
                    url: "http://127.0.0.1:8545".into(),
                    chain_id: 31337,
                    contract: "0x12".into(),
                },
            );
            assert!(
                f.can_start(true)
                    .unwrap_err()
                    .to_string()
                    .contains("not an address")
            );

            let mut f = MintFlow::default();
            f.begin(true).unwrap();
            assert!(f.begin(true).is_err(), "a second click is refused");
        }

        #[test]
        fn keystore_password_is_not_debug_printed() {
            let w = WalletChoice::Keystore {
                path: "k.json".into(),
                password: "hunter2".into(),
            };
            assert!(!format!("{w:?}").contains("hunter2"));
            let mut f = MintFlow::new(w, Network::DevChain);
            f.begin(true).unwrap();
            assert!(!format!("{f:?}").contains("hunter2"));
        }

        #[test]
        fn network_resolution() {
            assert!(
                Network::DevChain
                    .resolve(None)
                    .unwrap_err()
                    .to_string()
                    .contains("dev chain")
            );
            let t = Network::Rpc {
                url: " http://h:1 ".into(),
                chain_id: 11155111,
                contract: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".into(),
            }
            .resolve(None)
            .unwrap();
            assert_eq!(t.rpc_url, "http://h:1");
            assert_eq!(t.network_name(), "sepolia");
        }
    }

    /// End to end against a real anvil and the bundled sample made into a project.
    pub(crate) mod e2e {
        use super::*;
        use mint::chain::ChainRecord;
        use mint::package;

        /// The bundled sample (`assets/sample/forest.laz`, our own simulator's output) as a fresh
        /// ingested, reconstructed and simulated project in a temporary folder.
        pub(crate) fn demo_copy() -> Option<(tempfile::TempDir, PathBuf)> {
            let dir = tempfile::tempdir().unwrap();
            let project = dir.path().join("forest.twinmint");
            let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz");
            capture::project::ingest(
                &[sample],
                &project,
                &Default::default(),
                &mut |_| {},
                &capture::CancelToken::new(),
            )
            .unwrap();
            let ctx = twinmint_app::studio::jobs::JobCtx::default();
            twinmint_app::studio::jobs::reconstruct_project(&project, &ctx).unwrap();
            let s = twinmint_app::studio::jobs::SimulateSettings {
                runs: 40,
                ..Default::default()
            };
            twinmint_app::studio::jobs::simulate_project(&project, &s, &ctx).unwrap();
            Some((dir, project))
        }

        pub(crate) fn copy_dir(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for e in std::fs::read_dir(from).unwrap() {
                let e = e.unwrap();
                let dst = to.join(e.file_name());
                if e.file_type().unwrap().is_dir() {
                    copy_dir(&e.path(), &dst);
                } else {
                    std::fs::copy(e.path(), &dst).unwrap();
                }
            }
        }

        /// Run a job to its end, applying every event; returns the flow and the events.
        pub(crate) fn run_job(
            project: &Path,
            mut flow: MintFlow,
            dev: Option<DevChainInfo>,
            cancel: CancelToken,
        ) -> (MintFlow, Vec<MintEvent>) {
            flow.begin(true).unwrap();
            let job = MintJob::start(project.to_path_buf(), flow.clone(), dev, cancel);
            let deadline = Instant::now() + Duration::from_secs(600);
            let mut all = Vec::new();
            loop {
                for ev in job.poll() {
                    all.push(ev.clone());
                    flow.apply(ev);
                }
                if !flow.is_running() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "mint job timed out: {:?}",
                    flow.log
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(
                !flow.log.iter().any(|l| l.starts_with("ignored")),
                "{:?}",
                flow.log
            );
            (flow, all)
        }

        fn steps(events: &[MintEvent]) -> Vec<&'static str> {
            events
                .iter()
                .filter(|e| !matches!(e, MintEvent::Log(_)))
                .map(event_name)
                .collect()
        }

        #[test]
        fn mint_demo_on_anvil_then_again_is_idempotent() {
            let Some((_tmp, project)) = demo_copy() else {
                return;
            };
            let (_h, info) = start_dev_chain().expect("dev chain");
            let cancel = CancelToken::new();

            let (flow, events) = run_job(
                &project,
                MintFlow::default(),
                Some(info.clone()),
                cancel.clone(),
            );
            let MintStep::Minted {
                token_id,
                tx,
                status,
                ..
            } = &flow.step
            else {
                panic!("not minted: {:?}", flow.log);
            };
            assert_eq!(*token_id, 1);
            assert_eq!(status, "minted");
            assert!(tx.is_some());
            // The demo package names no surveyor address, so it is rebuilt for dev account 0.
            assert_eq!(
                steps(&events),
                [
                    "Fingerprinting",
                    "Fingerprinted",
                    "Packaging",
                    "PackageReady",
                    "Connecting",
                    "Attesting",
                    "Sending",
                    "Minted"
                ],
                "{:?}",
                flow.log
            );
            let pkg = flow.package.clone().unwrap();
            assert_eq!(Some(pkg.fingerprint.clone()), flow.fingerprint);
            assert!(pkg.token_uri.starts_with("ipfs://"));
            assert!(
                pkg.files
                    .iter()
                    .any(|f| f.name == "report.html" && f.bytes > 0)
            );
            let record = ChainRecord::read(&project.join(package::CHAIN_JSON)).unwrap();
            assert_eq!(record.token_id, Some(1));
            assert_eq!(record.contract, info.contract);
            assert_eq!(record.network, "anvil");
            assert_eq!(record.tx_hashes.len(), 1);
            assert!(!project.join(MINT_JOURNAL).exists());

            // Again: the package is current (no Packaging) and nothing is sent.
            let (flow2, events2) =
                run_job(&project, MintFlow::default(), Some(info.clone()), cancel);
            assert_eq!(
                steps(&events2),
                [
                    "Fingerprinting",
                    "Fingerprinted",
                    "PackageReady",
                    "Connecting",
                    "Attesting",
                    "Minted"
                ],
                "{:?}",
                flow2.log
            );
            assert!(
                matches!(&flow2.step, MintStep::Minted { token_id: 1, tx: None, status, .. } if status == "already on chain"),
                "{:?}",
                flow2.step
            );
            let record = ChainRecord::read(&project.join(package::CHAIN_JSON)).unwrap();
            assert_eq!(record.tx_hashes.len(), 1);
            let (second, owner) = block_on(async {
                let c = Chain::connect_read_only(info.target().config())
                    .await
                    .unwrap();
                (c.owner_of(2).await, c.owner_of(1).await.unwrap())
            });
            assert!(second.is_err(), "a second token exists");
            assert_eq!(owner, info.accounts[0]);
        }

        /// The journal goes only after chain.json is written: a mint whose record cannot be
        /// written is found again by the next run (not forgotten, not sent twice).
        #[test]
        fn journal_outlives_a_failed_chain_json_write() {
            let Some((_tmp, project)) = demo_copy() else {
                return;
            };
            let (_h, info) = start_dev_chain().expect("dev chain");
            let record_path = project.join(package::CHAIN_JSON);
            std::fs::create_dir(&record_path).unwrap();
            let cancel = CancelToken::new();
            let (flow, _) = run_job(
                &project,
                MintFlow::default(),
                Some(info.clone()),
                cancel.clone(),
            );
            assert!(
                matches!(&flow.step, MintStep::Failed { during, .. } if during == "writing chain.json"),
                "{:?}",
                flow.step
            );
            assert!(project.join(MINT_JOURNAL).is_file(), "{:?}", flow.log);
            std::fs::remove_dir(&record_path).unwrap();
            let (flow, _) = run_job(&project, MintFlow::default(), Some(info), cancel);
            let MintStep::Minted {
                token_id, status, ..
            } = &flow.step
            else {
                panic!("{:?}", flow.log);
            };
            assert_eq!(
                (*token_id, status.as_str()),
                (1, "found the earlier run's mint")
            );
            let record = ChainRecord::read(&record_path).unwrap();
            assert_eq!(record.token_id, Some(1));
            assert_eq!(record.tx_hashes.len(), 1);
            assert!(!project.join(MINT_JOURNAL).exists());
        }

        #[test]
        fn stopped_rpc_fails_naming_the_url() {
            let Some((_tmp, project)) = demo_copy() else {
                return;
            };
            let port = dev::free_port().unwrap();
            let url = format!("http://127.0.0.1:{port}");
            let flow = MintFlow::new(
                WalletChoice::DevAccount(0),
                Network::Rpc {
                    url: url.clone(),
                    chain_id: dev::CHAIN_ID,
                    contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3".into(),
                },
            );
            let (flow, _) = run_job(&project, flow, None, CancelToken::new());
            let MintStep::Failed { during, error } = &flow.step else {
                panic!("{:?}", flow.step);
            };
            assert_eq!(during, "connecting");
            assert!(error.contains(&url), "{error}");
            assert!(!project.join(package::CHAIN_JSON).exists());
        }

        #[test]
        fn cancelled_before_start_and_no_ledger_fail_cleanly() {
            let Some((_tmp, project)) = demo_copy() else {
                return;
            };
            let (flow, _) = run_job(&project, MintFlow::default(), None, {
                let t = CancelToken::new();
                t.cancel();
                t
            });
            assert!(
                matches!(&flow.step, MintStep::Failed { error, .. } if error == "cancelled"),
                "{:?}",
                flow.step
            );
            let (flow, _) = run_job(
                &project,
                MintFlow::new(WalletChoice::Ledger { index: 0 }, Network::DevChain),
                None,
                CancelToken::new(),
            );
            // The dev chain is resolved before the wallet is loaded.
            assert!(
                matches!(&flow.step, MintStep::Failed { error, .. } if error.contains("dev chain")),
                "{:?}",
                flow.step
            );
            let flow = MintFlow::new(
                WalletChoice::Ledger { index: 0 },
                Network::Rpc {
                    url: "http://127.0.0.1:1".into(),
                    chain_id: 1,
                    contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3".into(),
                },
            );
            let (flow, _) = run_job(&project, flow, None, CancelToken::new());
            assert!(
                matches!(&flow.step, MintStep::Failed { during, error } if during == "loading the wallet" && error.contains("Ledger")),
                "{:?}",
                flow.step
            );
        }

        /// A raw HTTP/1.1 exchange (the bridge and anvil need nothing more); returns the body.
        fn http(host: &str, method: &str, path: &str, body: Option<&str>) -> String {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(host).unwrap();
            let body = body.unwrap_or("");
            write!(
                s,
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            let (head, rest) = out.split_once("\r\n\r\n").unwrap();
            assert!(head.contains(" 200 "), "{method} {path}: {head}");
            if head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked")
            {
                // One chunk is all these small answers need.
                let (_, after) = rest.split_once("\r\n").unwrap();
                after
                    .rsplit_once("\r\n0\r\n")
                    .map(|(b, _)| b)
                    .unwrap_or(after)
                    .trim_end()
                    .to_string()
            } else {
                rest.to_string()
            }
        }

        /// Play the browser: read the bridge's transaction, send it from anvil's unlocked account
        /// (what the wallet would do), post the hash back.
        fn act_as_browser_wallet(page: &str, rpc_url: &str, from: Address) {
            let rest = page.strip_prefix("http://").unwrap();
            let (host, query) = rest.split_once("/?t=").unwrap();
            let tx: serde_json::Value =
                serde_json::from_str(&http(host, "GET", &format!("/tx?t={query}"), None)).unwrap();
            let send = serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
                "params": [{"from": from, "to": tx["to"], "data": tx["data"], "value": "0x0"}],
            });
            let anvil = rpc_url.strip_prefix("http://").unwrap();
            let answer: serde_json::Value =
                serde_json::from_str(&http(anvil, "POST", "/", Some(&send.to_string()))).unwrap();
            let hash = answer["result"]
                .as_str()
                .unwrap_or_else(|| panic!("{answer}"));
            let posted = serde_json::json!({"token": query, "hash": hash}).to_string();
            http(host, "POST", &format!("/hash?t={query}"), Some(&posted));
        }

        fn browser_flow(owner: Address) -> MintFlow {
            let mut f = MintFlow::new(WalletChoice::Browser, Network::DevChain);
            f.recipient = Some(owner.to_string());
            f.surveyor = Some(WalletChoice::DevAccount(0));
            f
        }

        #[test]
        fn browser_wallet_mint_through_the_bridge_and_cancel_while_waiting() {
            let Some((_tmp, project)) = demo_copy() else {
                return;
            };
            let (_h, info) = start_dev_chain().expect("dev chain");
            let owner = info.accounts[2];

            // Cancel while the page waits: nothing is sent, no journal is left.
            let cancel = CancelToken::new();
            let mut flow = browser_flow(owner);
            flow.begin(true).unwrap();
            let job = MintJob::start(
                project.clone(),
                flow.clone(),
                Some(info.clone()),
                cancel.clone(),
            );
            let deadline = Instant::now() + Duration::from_secs(600);
            while flow.is_running() {
                for ev in job.poll() {
                    if matches!(ev, MintEvent::OpenUrl(_)) {
                        cancel.cancel();
                    }
                    flow.apply(ev);
                }
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                matches!(&flow.step, MintStep::Failed { during, error } if during == "awaiting the browser wallet" && error == "cancelled"),
                "{:?}",
                flow.step
            );
            assert!(!project.join(MINT_JOURNAL).exists());

            // Now the wallet answers.
            let mut flow = browser_flow(owner);
            flow.begin(true).unwrap();
            let job = MintJob::start(
                project.clone(),
                flow.clone(),
                Some(info.clone()),
                CancelToken::new(),
            );
            let mut seen = Vec::new();
            while flow.is_running() {
                for ev in job.poll() {
                    if let MintEvent::OpenUrl(u) = &ev {
                        act_as_browser_wallet(u, &info.rpc_url, info.accounts[0]);
                    }
                    if !matches!(ev, MintEvent::Log(_)) {
                        seen.push(event_name(&ev));
                    }
                    flow.apply(ev);
                }
                assert!(Instant::now() < deadline, "{:?}", flow.log);
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(
                seen,
                [
                    "Fingerprinting",
                    "Fingerprinted",
                    "PackageReady",
                    "Connecting",
                    "Attesting",
                    "AwaitingWallet",
                    "OpenUrl",
                    "Confirming",
                    "Minted"
                ],
                "{:?}",
                flow.log
            );
            let MintStep::Minted {
                token_id,
                tx,
                status,
                ..
            } = &flow.step
            else {
                panic!("{:?}", flow.log);
            };
            assert_eq!((*token_id, status.as_str()), (1, "minted"));
            assert_eq!(tx, &flow.tx);
            let record = ChainRecord::read(&project.join(package::CHAIN_JSON)).unwrap();
            assert_eq!(record.token_id, Some(1));
            assert_eq!(record.tx_hashes[0].hash.to_string(), tx.clone().unwrap());
            assert!(!project.join(MINT_JOURNAL).exists());
            let holder = block_on(async {
                let c = Chain::connect_read_only(info.target().config())
                    .await
                    .unwrap();
                c.owner_of(1).await.unwrap()
            });
            assert_eq!(holder, owner);
        }
    }
}

mod timelapse {
    use twinmint_app::studio::timelapse::*;

    mod tests {
        use super::*;

        fn tl(n: i32) -> Timelapse {
            Timelapse {
                years: (2025..2025 + n).collect(),
                ..Default::default()
            }
        }

        #[test]
        fn play_runs_to_the_end_and_stops() {
            let mut t = tl(31);
            t.toggle_play();
            assert!(t.playing);
            t.speed = 10.0;
            t.advance(1.0);
            assert_eq!(t.year(), Some(2035));
            t.advance(5.0);
            assert_eq!(t.year(), Some(2055));
            assert!(!t.playing, "stops at the last year");
            t.toggle_play();
            assert_eq!(t.year(), Some(2025), "play at the end restarts");
        }

        #[test]
        fn looping_wraps() {
            let mut t = tl(11);
            t.looping = true;
            t.speed = 4.0;
            t.toggle_play();
            t.advance(3.0);
            assert!(t.playing);
            assert_eq!(t.year(), Some(2027));
        }

        #[test]
        fn set_year_clamps() {
            let mut t = tl(31);
            t.set_year(2040);
            assert_eq!(t.year(), Some(2040));
            t.set_year(1990);
            assert_eq!(t.year(), Some(2025));
            t.set_year(2100);
            assert_eq!(t.year(), Some(2055));
        }

        #[test]
        fn paused_or_without_simulation_does_not_move() {
            let mut t = tl(31);
            t.advance(10.0);
            assert_eq!(t.position, 0.0);
            let mut none = Timelapse::default();
            none.toggle_play();
            assert!(!none.playing);
            none.set_year(2030);
            assert_eq!(none.year(), None);
        }
    }
}
