//! Issue 11 item 5: orientation from geometry. A phone LiDAR scan exported as LAS (no CRS,
//! local coordinates, a phone app's name in the header) is Y-up; LAS read with `--up auto` must
//! not take it as Z-up "by definition". Scenes: the scan simulator's terrestrial pattern over a
//! 20 m × 20 m forest of a few trees, rotated Y-up; the real TLS pine (`tls/pine.laz`), also
//! rotated; and every real file in `$TWINMINT_DATA` (default `../shared/data`), which must keep
//! the axis it had before. Every decision's reason is printed.

use std::path::Path;

use capture::las_io::{self, LasWriteOptions};
use capture::synth::{self, ScanPattern, SceneOptions, SynthOptions, TerrestrialOptions};
use capture::{CancelToken, Crs, NoProgress, PointCloud, ReadOptions, UpAxis, UpOption};
use test_support::data;

fn load_with(p: &Path, up: UpOption) -> PointCloud {
    capture::read(
        p,
        &ReadOptions {
            up,
            ..Default::default()
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn load(p: &Path) -> PointCloud {
    load_with(p, UpOption::Auto)
}

/// A small forest (20 m × 20 m, about six trees) scanned terrestrially from two stations, as a
/// phone walk-through would see it: short range, centimetre noise. Z-up, local coordinates.
pub fn small_forest_scan(seed: u64) -> PointCloud {
    let out = synth::run(
        &SynthOptions {
            scene: SceneOptions {
                seed,
                width_m: 20.0,
                depth_m: 20.0,
                origin: [0.0, 0.0, 0.0],
                trees: synth::TreeOptions {
                    density_per_ha: 150.0,
                    min_height_m: 8.0,
                    max_height_m: 16.0,
                    min_spacing_m: 4.0,
                    ..Default::default()
                },
                ..Default::default()
            },
            scan: ScanPattern::Terrestrial(TerrestrialOptions {
                stations: vec![[-4.0, -3.0], [4.0, 3.0]],
                angular_step_deg: 0.25,
                max_range_m: 15.0,
                range_noise_m: 0.01,
                ..Default::default()
            }),
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .expect("simulate");
    let mut c = out.cloud;
    c.crs = Crs::default();
    c
}

/// `c` turned Y-up: (x, y, z) → (x, z, −y), the inverse of TwinMint's Y-up → Z-up rotation.
pub fn to_y_up(c: &PointCloud) -> PointCloud {
    let mut r = c.clone();
    r.positions
        .iter_mut()
        .for_each(|p| *p = [p[0], p[2], -p[1]]);
    let o = c.origin;
    r.origin = [o[0], o[2], -o[1]];
    r.normals = None;
    r.quantization = None;
    r
}

/// Write `c` as LAS with no CRS and the given header strings (generating software, system
/// identifier — 32 bytes each at offsets 58 and 26 of the public header, ASPRS LAS 1.4 R15
/// table 3), as a phone app's export would carry.
pub fn write_las(c: &PointCloud, path: &Path, software: &str, system: &str) {
    let mut c = c.clone();
    c.crs = Crs::default();
    las_io::write(
        &c,
        path,
        &LasWriteOptions {
            compress: false,
            ..Default::default()
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    for (at, s) in [(58usize, software), (26, system)] {
        let field = &mut bytes[at..at + 32];
        field.fill(0);
        field[..s.len()].copy_from_slice(s.as_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn decide(label: &str, p: &Path) -> (UpAxis, String) {
    let c = load(p);
    let s = &c.provenance.sources[0];
    println!("{label}: {:?} — {}", s.up_axis, s.up_axis_reason);
    (s.up_axis, s.up_axis_reason.clone())
}

#[test]
fn phone_style_forest_las_is_detected_y_up() {
    let dir = tempfile::tempdir().unwrap();
    let z_up = small_forest_scan(11);
    let e = z_up.bounds().extent();
    println!(
        "small forest scan: {} points, extent {:.1} × {:.1} × {:.1} m",
        z_up.len(),
        e[0],
        e[1],
        e[2]
    );
    let y_up = to_y_up(&z_up);
    let cases = [
        (
            "Y-up, 3D Scanner App",
            &y_up,
            "3D Scanner App",
            "iPhone 15 Pro",
            UpAxis::Y,
        ),
        ("Y-up, no software string", &y_up, "", "", UpAxis::Y),
        ("Y-up, unrelated software", &y_up, "PDAL 2.6", "", UpAxis::Y),
        ("Z-up, no software string", &z_up, "", "", UpAxis::Z),
        ("Z-up, Polycam string", &z_up, "Polycam", "", UpAxis::Z),
    ];
    for (k, (label, cloud, software, system, want)) in cases.into_iter().enumerate() {
        let p = dir.path().join(format!("scan{k}.las"));
        write_las(cloud, &p, software, system);
        let (up, why) = decide(label, &p);
        assert_eq!(up, want, "{label}: {why}");
        if up == UpAxis::Y {
            // After conversion the trees stand: the cloud's top is far above its ground.
            let c = load(&p);
            let e = c.bounds().extent();
            assert!(e[2] > 8.0 && e[2] < e[0] && e[2] < e[1] + 10.0, "{e:?}");
        }
    }
    // `--up` still wins.
    let p = dir.path().join("scan0.las");
    let c = load_with(&p, UpOption::Z);
    assert_eq!(c.provenance.sources[0].up_axis, UpAxis::Z);
    assert_eq!(c.provenance.sources[0].up_axis_reason, "user said Z-up");
}

#[test]
fn real_pine_is_z_up_and_rotated_pine_is_y_up() {
    let dir = tempfile::tempdir().unwrap();
    let (up, why) = decide("tls/pine.laz", &data("tls/pine.laz"));
    assert_eq!(up, UpAxis::Z, "{why}");
    let pine = load_with(&data("tls/pine.laz"), UpOption::Z);
    let p = dir.path().join("pine_y_up.las");
    write_las(&to_y_up(&pine), &p, "", "");
    let (up, why) = decide("pine rotated Y-up, no CRS", &p);
    assert_eq!(up, UpAxis::Y, "{why}");
    let p = dir.path().join("pine_z_up.las");
    write_las(&pine, &p, "", "");
    let (up, why) = decide("pine re-written, no CRS", &p);
    assert_eq!(up, UpAxis::Z, "{why}");
}

#[test]
fn real_data_keeps_its_axis() {
    let mut files = vec!["tls/pine.laz".to_string()];
    for dir in ["als", "als/idtrees", "formats"] {
        let mut names: Vec<String> = std::fs::read_dir(data(dir))
            .unwrap()
            .filter_map(|e| {
                let n = e.ok()?.file_name().to_string_lossy().to_string();
                (n.ends_with(".las") || n.ends_with(".laz")).then(|| format!("{dir}/{n}"))
            })
            .collect();
        names.sort();
        files.extend(names);
    }
    for f in &files {
        let (up, why) = decide(f, &data(f));
        assert_eq!(up, UpAxis::Z, "{f}: {why}");
    }
    // E57 files have no georeference: they are decided from the geometry (reported only).
    for f in ["formats/bunnyDouble.e57", "formats/tiny_pc_and_images.e57"] {
        decide(f, &data(f));
    }
}
