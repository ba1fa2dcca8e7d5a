//! One run of the real studio window under Xvfb (winit on X11, Vulkan through lavapipe): open
//! the sample project, wait until the cloud has settled, save a screenshot of the window and
//! exit. The picture must show the panels and the cloud.

mod common;

use std::process::Command;

#[test]
fn the_window_opens_the_sample_and_screenshots_itself() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        test_support::skip_or_fail(
            "the studio window test",
            "xvfb-run is missing (apt install xvfb)",
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let shot = tmp.path().join("studio.png");
    // `timeout`: a window that never settles must fail the test, not hang CI.
    let out = Command::new("timeout")
        .args(["600", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_twinmint"))
        .arg("studio")
        .arg(&project)
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
    assert_eq!((img.width(), img.height()), (1280, 800));
    if let Some(dir) = std::env::var_os("TWINMINT_TEST_OUT") {
        img.save(std::path::Path::new(&dir).join("studio-window.png"))
            .unwrap();
    }
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
