//! Tests of `photogrammetry::camera` (src/camera.rs).
use photogrammetry::camera::*;

#[test]
fn nadir_camera_looks_down_with_north_up() {
    let gimbal = |yaw_deg: f64| {
        capture::photos::Gimbal {
            yaw_deg,
            pitch_deg: -90.0,
            roll_deg: 0.0,
        }
        .world_to_camera()
    };
    let r = gimbal(0.0);
    let pose = Pose {
        rotation: r,
        centre: [0.0, 0.0, 100.0],
    };
    let k = Intrinsics {
        focal_px: 1000.0,
        cx: 500.0,
        cy: 400.0,
        k1: 0.0,
        k2: 0.0,
    };
    // Below: the principal point; north of it: up in the image; east: right.
    let c = project(&k, &pose, &[0.0, 0.0, 0.0]).unwrap();
    assert!((c[0] - 500.0).abs() < 1e-9 && (c[1] - 400.0).abs() < 1e-9);
    let n = project(&k, &pose, &[0.0, 10.0, 0.0]).unwrap();
    assert!(n[1] < 400.0 && (n[0] - 500.0).abs() < 1e-9);
    let e = project(&k, &pose, &[10.0, 0.0, 0.0]).unwrap();
    assert!(e[0] > 500.0);
    // Facing east (yaw 90): north is left.
    let pose = Pose {
        rotation: gimbal(90.0),
        ..pose
    };
    let n = project(&k, &pose, &[0.0, 10.0, 0.0]).unwrap();
    assert!(n[0] < 500.0, "{n:?}");
    assert!((photogrammetry::linalg::det(&pose.rotation) - 1.0).abs() < 1e-12);
}
