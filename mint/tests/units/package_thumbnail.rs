//! Tests of `mint::package::thumbnail` (src/package/thumbnail.rs).
use capture::PointCloud;
use mint::package::thumbnail::*;

fn cone(n: usize) -> PointCloud {
    // A cone on a plane: the shade must vary and the outline must be filled.
    let mut pts = Vec::new();
    let side = (n as f64).sqrt() as usize;
    for i in 0..side {
        for j in 0..side {
            let x = i as f64 / side as f64 * 20.0 - 10.0;
            let y = j as f64 / side as f64 * 20.0 - 10.0;
            let r = (x * x + y * y).sqrt();
            pts.push([500_000.0 + x, 4_000_000.0 + y, 100.0 + (6.0 - r).max(0.0)]);
        }
    }
    PointCloud::from_absolute(&pts)
}

#[test]
fn order_independent_and_shaded() {
    let c = cone(40_000);
    let a = render_png(&c, 128).unwrap();
    let mut shuffled = c.clone();
    shuffled.positions.reverse();
    assert_eq!(a, render_png(&shuffled, 128).unwrap());
    let img = render(&c, 128).unwrap();
    // Corners are inside the margin: transparent; the centre is opaque.
    assert_eq!(img.get_pixel(0, 0)[3], 0);
    assert_eq!(img.get_pixel(64, 64)[3], 255);
    // The sun is in the north-west: that flank of the cone is brighter than the south-east.
    let nw = img.get_pixel(56, 56);
    let se = img.get_pixel(72, 72);
    let lum = |p: &image::Rgba<u8>| p[0] as u32 + p[1] as u32 + p[2] as u32;
    assert!(lum(nw) > lum(se), "{nw:?} vs {se:?}");
}

#[test]
fn empty_cloud_is_transparent_and_size_checked() {
    let img = render(&PointCloud::default(), 8).unwrap();
    assert!(img.pixels().all(|p| p[3] == 0));
    assert!(render(&PointCloud::default(), 0).is_err());
    assert_eq!(ramp(-1.0), RAMP[0].1);
    assert_eq!(ramp(2.0), RAMP[4].1);
}
