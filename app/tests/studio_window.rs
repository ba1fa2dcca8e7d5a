//! One run of the real studio window under Xvfb (winit on X11, Vulkan through lavapipe): open
//! the sample project, wait until the cloud has settled, save a screenshot of the window and
//! exit. The picture must show the panels and the cloud.

mod common;

use std::process::Command;

/// Whether Xvfb is here; else skip (never under CI).
fn xvfb() -> bool {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        test_support::skip_or_fail(
            "the studio window test",
            "xvfb-run is missing (apt install xvfb)",
        );
        return false;
    }
    true
}

/// Open `project` in a real 1280 × 800 studio window under Xvfb with `args`, save its screenshot
/// and return it (also to `$TWINMINT_TEST_OUT/name` when set).
fn screenshot(
    project: &std::path::Path,
    args: &[&str],
    dir: &std::path::Path,
    name: &str,
) -> image::RgbImage {
    let shot = dir.join(name);
    // One window at a time: two `xvfb-run -a` started together can pick the same display
    // number, and one of them then fails to open it.
    static XVFB: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = XVFB.lock().unwrap_or_else(|e| e.into_inner());
    // `timeout`: a window that never settles must fail the test, not hang CI.
    let out = Command::new("timeout")
        .args(["600", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_twinmint"))
        .arg("studio")
        .arg(project)
        .args(args)
        .args(["--width", "1280", "--height", "800", "--screenshot"])
        .arg(&shot)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("run the studio under Xvfb");
    assert!(
        out.status.success(),
        "studio failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&shot).expect("screenshot written").to_rgb8();
    if let Some(out) = std::env::var_os("TWINMINT_TEST_OUT") {
        img.save(std::path::Path::new(&out).join(name)).unwrap();
    }
    img
}

#[test]
fn the_window_opens_the_sample_and_screenshots_itself() {
    if !xvfb() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let img = screenshot(&project, &[], tmp.path(), "studio-window.png");
    assert_eq!((img.width(), img.height()), (1280, 800));
    // The viewport (right of the side panel, between the bars) shows the cloud…
    let bg = [0x12u8, 0x14, 0x1a];
    let mut cloud = 0;
    let mut total = 0;
    for y in 100..700 {
        for x in 500..1260 {
            let p = img.get_pixel(x, y);
            total += 1;
            if (0..3).any(|k| (p[k] as i32 - bg[k] as i32).abs() > 3) {
                cloud += 1;
            }
        }
    }
    eprintln!(
        "viewport: {:.1}% cloud",
        100.0 * cloud as f64 / total as f64
    );
    assert!(cloud * 3 > total, "the viewport is mostly empty");
    // …and the side panel is drawn (egui's panel fill, not the viewport background).
    let panel = img.get_pixel(20, 400);
    assert!(
        (0..3).any(|k| (panel[k] as i32 - bg[k] as i32).abs() > 3),
        "no side panel: {panel:?}"
    );
}

/// `twinmint render`: a still and a growth time-lapse GIF from the same offscreen renderer.
#[test]
fn render_verb_writes_a_still_and_a_timelapse() {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let png = tmp.path().join("shot.png");
    let gif = tmp.path().join("growth.gif");
    let out = Command::new(env!("CARGO_BIN_EXE_twinmint"))
        .args(["--quiet", "render"])
        .arg(&project)
        .arg("--out")
        .arg(&png)
        .arg("--timelapse")
        .arg(&gif)
        .args([
            "--years", "0..30", "--step", "10", "--width", "320", "--height", "200",
        ])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("run twinmint render");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let still = image::open(&png).expect("png").to_rgb8();
    assert_eq!((still.width(), still.height()), (320, 200));
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&gif).unwrap(),
    ))
    .unwrap();
    let frames = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .expect("gif frames");
    assert_eq!(frames.len(), 4, "years 0, 10, 20, 30");
    let (a, b) = (frames[0].buffer(), frames[3].buffer());
    let changed = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
    assert!(
        changed > (320 * 200) / 20,
        "year 30 looks like year 0 ({changed} pixels differ)"
    );

    // Bad input: a folder that is no project, named in the error.
    let out = Command::new(env!("CARGO_BIN_EXE_twinmint"))
        .args(["render"])
        .arg(tmp.path())
        .arg("--out")
        .arg(tmp.path().join("x.png"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("manifest.json"), "{err}");
    assert!(!tmp.path().join("x.png").exists(), "no partial output");
}

/// Issue "Re-survey": a resurvey project opened in the studio's growth tab shows the survey
/// timeline — both surveys as points (magenta) and the previous projection's band at the
/// resurvey (orange) — on a real window's screenshot.
#[test]
fn the_window_shows_a_resurvey_timeline() {
    if !xvfb() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = |name: &str| tmp.path().join(name);
    let bin = env!("CARGO_BIN_EXE_twinmint");
    let run = |args: &[&std::ffi::OsStr]| {
        test_support::output_ok(Command::new(bin).arg("-q").args(args));
    };
    let scene = ["--size", "60", "--points", "120000", "--seed", "5"];
    let os = |s: &str| std::ffi::OsString::from(s);
    let mut a: Vec<std::ffi::OsString> = vec![os("synth"), os("-o"), t("a.laz").into()];
    a.extend(scene.iter().map(|s| os(s)));
    run(&a.iter().map(|s| s.as_os_str()).collect::<Vec<_>>());
    let mut b: Vec<std::ffi::OsString> = vec![
        os("synth"),
        os("-o"),
        t("b.laz").into(),
        os("--resurvey-years"),
        os("5"),
    ];
    b.extend(scene.iter().map(|s| os(s)));
    run(&b.iter().map(|s| s.as_os_str()).collect::<Vec<_>>());
    let (first, later) = (t("a.twinmint"), t("b.twinmint"));
    run(&[
        "ingest".as_ref(),
        t("a.laz").as_os_str(),
        "-o".as_ref(),
        first.as_os_str(),
    ]);
    run(&[
        "reconstruct".as_ref(),
        first.as_os_str(),
        "--device".as_ref(),
        "cpu".as_ref(),
    ]);
    run(&[
        "simulate".as_ref(),
        first.as_os_str(),
        "--runs".as_ref(),
        "100".as_ref(),
    ]);
    run(&[
        "resurvey".as_ref(),
        first.as_os_str(),
        t("b.laz").as_os_str(),
        "-o".as_ref(),
        later.as_os_str(),
    ]);
    let img = screenshot(
        &later,
        &["--tab", "growth"],
        tmp.path(),
        "studio-timeline.png",
    );
    let near = |c: [u8; 3]| {
        img.pixels()
            .filter(|p| (0..3).all(|k| (p[k] as i32 - c[k] as i32).abs() <= 25))
            .count()
    };
    let surveys = near([230, 40, 200]);
    let band = near([250, 150, 30]);
    eprintln!("timeline: {surveys} survey pixels, {band} band pixels");
    assert!(surveys >= 60, "both surveys should be drawn ({surveys} px)");
    assert!(
        band >= 30,
        "the projected band at the resurvey should be drawn ({band} px)"
    );
}
