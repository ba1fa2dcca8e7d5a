//! One run of the real studio window under Xvfb (winit on X11, Vulkan through lavapipe): open
//! the sample project, wait until the cloud has settled, save a screenshot of the window and
//! exit. The picture must show the panels and the cloud.

mod common;

use std::process::Command;

#[test]
fn the_window_opens_the_sample_and_screenshots_itself() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        assert!(
            std::env::var("TWINMINT_REQUIRE_GPU").as_deref() != Ok("1"),
            "xvfb-run is missing (apt install xvfb); TWINMINT_REQUIRE_GPU=1"
        );
        eprintln!("skipped: no xvfb-run");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let project = common::sample_project(tmp.path());
    let shot = tmp.path().join("studio.png");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
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
