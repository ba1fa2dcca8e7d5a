//! Tests of `reconstruct::ground::csf` (src/ground/csf.rs).
use capture::{CancelToken, PointCloud};
use reconstruct::gpu::DevicePreference;
use reconstruct::ground::cloth::CsfOptions;
use reconstruct::ground::cloth::*;
use reconstruct::ground::csf::*;

fn plane_with_boxes() -> PointCloud {
    // 40 m × 40 m tilted plane sampled every 0.25 m plus two 5 m-high "buildings".
    let mut pts = Vec::new();
    for a in 0..160 {
        for b in 0..160 {
            let (x, y) = (a as f64 * 0.25, b as f64 * 0.25);
            let ground = 100.0 + 0.1 * x - 0.05 * y;
            let inside = |cx: f64, cy: f64| (x - cx).abs() < 4.0 && (y - cy).abs() < 3.0;
            let z = if inside(10.0, 10.0) || inside(28.0, 25.0) {
                ground + 5.0
            } else {
                ground
            };
            pts.push([x, y, z]);
        }
    }
    PointCloud::from_absolute(&pts)
}

#[test]
fn plane_ground_and_roofs_off_ground() {
    let cloud = plane_with_boxes();
    let g = run(
        &cloud,
        &CsfOptions::default(),
        DevicePreference::Cpu,
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let mut wrong = 0;
    for i in 0..cloud.len() {
        let p = cloud.absolute(i);
        let truth = p[2] - (100.0 + 0.1 * p[0] - 0.05 * p[1]) < 0.1;
        if truth != g.is_ground[i] {
            wrong += 1;
        }
    }
    assert!(g.converged, "{} iterations", g.iterations);
    assert!(
        wrong < cloud.len() / 100,
        "{wrong} wrong of {}",
        cloud.len()
    );
    // Under a roof the cloth bridges the 8 m × 6 m gap near the ground, not on the roof.
    let z = g.cloth.sample(10.0, 10.0).unwrap();
    let ground = 100.0 + 0.1 * 10.0 - 0.05 * 10.0;
    assert!((z - ground).abs() < 1.0, "cloth {z} vs ground {ground}");
}

#[test]
fn fill_takes_nearest() {
    let mut v = vec![f32::NAN; 9];
    v[0] = 1.0;
    v[8] = 5.0;
    fill_nearest(&mut v, 3, 3);
    assert_eq!(v[1], 1.0);
    assert_eq!(v[7], 5.0);
    assert!(v.iter().all(|x| !x.is_nan()));
}

#[test]
fn options_validate() {
    assert!(CsfOptions::default().validate().is_ok());
    let o = CsfOptions {
        rigidness: 0,
        ..Default::default()
    };
    assert!(o.validate().is_err());
}
