//! Reader/writer tests for the formats that need no shared data: PLY, XYZ/CSV/PTS, OBJ, and
//! Y-up phone exports.

use std::path::Path;

use capture::{
    CancelToken, CaptureError, ExtraColumn, NoProgress, PointCloud, ReadOptions, UpAxis, UpOption,
};

fn load(p: &Path) -> Result<PointCloud, CaptureError> {
    capture::read(
        p,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
}

fn sample() -> PointCloud {
    let pts: Vec<[f64; 3]> = (0..500)
        .map(|i| {
            let t = i as f64;
            [
                500_000.0 + (t * 0.37) % 40.0,
                5_000_000.0 + (t * 0.73) % 30.0,
                100.0 + (t * 0.11) % 12.0,
            ]
        })
        .collect();
    let mut c = PointCloud::from_absolute(&pts);
    c.rgb = Some(
        (0..500)
            .map(|i| [(i % 256) as u16 * 257, 0, 65535])
            .collect(),
    );
    c.intensity = Some((0..500).map(|i| i as u16 * 7).collect());
    c.set_extra(ExtraColumn::from_u32(
        "treeID",
        &(0..500).map(|i| i / 10).collect::<Vec<_>>(),
    ));
    c
}

#[test]
fn ply_binary_round_trip_keeps_colour_intensity_and_extras() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ply");
    let c = sample();
    capture::ply::write(&c, &p, "test").unwrap();
    let b = load(&p).unwrap();
    assert_eq!(b.len(), 500);
    for i in [0, 123, 499] {
        let (x, y) = (c.absolute(i), b.absolute(i));
        for k in 0..3 {
            assert!((x[k] - y[k]).abs() < 1e-3, "{x:?} {y:?}");
        }
    }
    assert_eq!(b.rgb, c.rgb);
    assert_eq!(b.intensity, c.intensity);
    assert_eq!(
        b.extra("treeID").unwrap().values(),
        c.extra("treeID").unwrap().values()
    );
}

#[test]
fn ply_ascii_with_faces_and_float_colour() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mesh.ply");
    std::fs::write(
        &p,
        "ply\nformat ascii 1.0\ncomment made by hand\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n\
property float red\nproperty float green\nproperty float blue\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n\
0 0 0 1 0 0\n1 0 0 0 1 0\n1 1 0 0 0 1\n0 1 0.5 0.5 0.5 0.5\n4 0 1 2 3\n",
    )
    .unwrap();
    let c = load(&p).unwrap();
    assert_eq!(c.len(), 4);
    assert_eq!(
        c.mesh.as_ref().unwrap().triangles,
        vec![[0, 1, 2], [0, 2, 3]]
    );
    assert_eq!(c.rgb.as_ref().unwrap()[0], [65535, 0, 0]);
    assert_eq!(c.provenance.sources[0].format, "PLY");
}

#[test]
fn ply_big_endian_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("be.ply");
    let mut bytes = b"ply\nformat binary_big_endian 1.0\nelement vertex 2\nproperty double x\nproperty double y\nproperty double z\nend_header\n".to_vec();
    for v in [1.5f64, 2.5, 3.5, -1.0, -2.0, -3.0] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    std::fs::write(&p, &bytes).unwrap();
    let c = load(&p).unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c.absolute(1), [-1.0, -2.0, -3.0]);
    std::fs::write(&p, &bytes[..bytes.len() - 4]).unwrap();
    let e = load(&p).unwrap_err();
    assert!(matches!(e, CaptureError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("be.ply"));
}

#[test]
fn text_formats_sniff_delimiters_headers_and_pts_counts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = d.join("a.csv");
    std::fs::write(
        &csv,
        "X,Y,Z,Intensity,Red,Green,Blue,treeID\n1,2,3,100,255,0,0,7\n4,5,6,200,0,255,0,8\n",
    )
    .unwrap();
    let c = load(&csv).unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c.intensity.as_deref(), Some(&[100, 200][..]));
    assert_eq!(c.rgb.as_ref().unwrap()[1], [0, 65535, 0]);
    assert_eq!(c.extra("treeID").unwrap().values(), vec![7.0, 8.0]);

    let xyz = d.join("b.xyz");
    std::fs::write(&xyz, "# comment\n10.5 20.5 30.5\n11.5\t21.5\t31.5\n").unwrap();
    let c = load(&xyz).unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c.absolute(1), [11.5, 21.5, 31.5]);

    let pts = d.join("c.pts");
    std::fs::write(&pts, "2\n1 2 3 -2048 10 20 30\n4 5 6 2047 40 50 60\n").unwrap();
    let c = load(&pts).unwrap();
    assert_eq!(c.intensity.as_deref(), Some(&[0, 65520][..]));
    assert_eq!(c.rgb.as_ref().unwrap()[0], [10 * 257, 20 * 257, 30 * 257]);

    let short = d.join("d.pts");
    std::fs::write(&short, "3\n1 2 3 0 1 1 1\n").unwrap();
    assert!(matches!(
        load(&short),
        Err(CaptureError::Truncated {
            expected: 3,
            found: 1,
            ..
        })
    ));

    let bad = d.join("e.xyz");
    std::fs::write(&bad, "1 2 3\n4 five 6\n").unwrap();
    match load(&bad) {
        Err(CaptureError::Parse { line, .. }) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn obj_vertices_become_points_and_faces_a_mesh() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.obj");
    std::fs::write(
        &p,
        "# Exported by Metashape\nv 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 1 1 0 0 0 1\nv 0 1 0\nvt 0 0\nf 1/1 2/1 3/1\nf -4 -2 -1\n",
    )
    .unwrap();
    let c = load(&p).unwrap();
    assert_eq!(c.len(), 4);
    assert_eq!(
        c.mesh.as_ref().unwrap().triangles,
        vec![[0, 1, 2], [0, 2, 3]]
    );
    assert_eq!(c.rgb.as_ref().unwrap()[1], [0, 65535, 0]);
    std::fs::write(&p, "v 0 0 0\nf 1 2 3\n").unwrap();
    let e = load(&p).unwrap_err();
    assert!(
        e.to_string().contains("m.obj") && e.to_string().contains("vertex 2"),
        "{e}"
    );
}

/// A phone-style export: a 40 m × 30 m site, 3 m tall, lying in XZ with Y up.
fn phone_scan(comment: &str, dir: &Path) -> std::path::PathBuf {
    let mut c = PointCloud::from_absolute(
        &(0..2000)
            .map(|i| {
                let (x, z) = ((i % 50) as f64 * 0.8, (i / 50) as f64 * 0.75);
                let ground = 0.1 * (x * 0.3).sin();
                let tree = if i % 97 == 0 { 3.0 } else { 0.0 };
                [x, ground + tree, -z]
            })
            .collect::<Vec<_>>(),
    );
    c.rgb = None;
    let p = dir.join(format!("{}.ply", comment.len()));
    capture::ply::write(&c, &p, comment).unwrap();
    p
}

#[test]
fn y_up_phone_exports_are_detected_and_rotated() {
    let dir = tempfile::tempdir().unwrap();
    for comment in ["Exported by Polycam 3.2", "unnamed"] {
        let p = phone_scan(comment, dir.path());
        let c = load(&p).unwrap();
        let src = &c.provenance.sources[0];
        assert_eq!(src.up_axis, UpAxis::Y, "{comment}: {}", src.up_axis_reason);
        let e = c.bounds().extent();
        assert!(
            e[2] < 3.5 && e[0] > 35.0 && e[1] > 25.0,
            "{comment}: Z-up after conversion {e:?}"
        );
        // Tall points (trees) are above the ground after conversion, not below.
        let b = c.bounds();
        let top = (0..c.len())
            .map(|i| c.absolute(i)[2])
            .fold(f64::MIN, f64::max);
        assert!((top - b.max[2]).abs() < 1e-9 && top - b.min[2] > 2.5);
    }
    // The user's word wins.
    let p = phone_scan("Exported by Polycam 3.2", dir.path());
    let opts = ReadOptions {
        up: UpOption::Z,
        ..Default::default()
    };
    let c = capture::read(&p, &opts, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(c.provenance.sources[0].up_axis, UpAxis::Z);
    assert!(c.bounds().extent()[1] < 3.5);
}

#[test]
fn writes_are_atomic_and_cancellable() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.laz");
    let c = sample();
    let cancel = CancelToken::new();
    cancel.cancel();
    let r = capture::write(&c, &p, &mut NoProgress, &cancel);
    assert!(matches!(r, Err(CaptureError::Cancelled)));
    assert!(!p.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp file left behind"
    );
    capture::write(&c, &p, &mut NoProgress, &CancelToken::new()).unwrap();
    let back = load(&p).unwrap();
    assert_eq!(back.len(), 500);
    assert_eq!(
        back.extra("treeID").unwrap().values(),
        c.extra("treeID").unwrap().values()
    );
}

/// A LAS/LAZ read in many chunks sizes the cloud's columns for the header's count once (no
/// amortised doubling, whose last grow held the old columns beside new ones of 1.6× the cloud);
/// a crop keeps growing as it goes, since its count is not known in advance.
#[test]
fn las_reads_size_the_columns_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.laz");
    capture::write(&sample(), &p, &mut NoProgress, &CancelToken::new()).unwrap();
    let opts = ReadOptions {
        chunk_points: 64,
        ..Default::default()
    };
    let c = capture::read(&p, &opts, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(c.len(), 500);
    assert_eq!(c.positions.capacity(), 500);
    assert_eq!(c.intensity.as_ref().unwrap().capacity(), 500);
    assert_eq!(c.rgb.as_ref().unwrap().capacity(), 500);
    assert_eq!(c.extra("treeID").unwrap().data.capacity(), 500 * 4);
    let b = c.bounds();
    let cropped = capture::read(
        &p,
        &ReadOptions {
            crop: Some(capture::Crop {
                min: [b.min[0] - 1.0, b.min[1] - 1.0],
                max: [b.max[0] + 1.0, b.max[1] + 1.0],
            }),
            ..opts
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(cropped.len(), 500);
    assert_ne!(cropped.positions.capacity(), 500);
}

#[test]
fn ingest_builds_a_project_and_refuses_mixed_crs() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.laz");
    let b = dir.path().join("b.laz");
    let mut c = sample();
    c.crs = capture::Crs::epsg(32633);
    capture::write(&c, &a, &mut NoProgress, &CancelToken::new()).unwrap();
    c.crs = capture::Crs::epsg(32634);
    capture::write(&c, &b, &mut NoProgress, &CancelToken::new()).unwrap();
    let proj = dir.path().join("p.twinmint");
    let opts = capture::project::IngestOptions::default();
    let e = capture::project::ingest(
        &[a.clone(), b],
        &proj,
        &opts,
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(matches!(e, CaptureError::CrsMismatch { .. }), "{e}");
    assert!(!proj.exists(), "no partial project");
    // The same scan twice would double its points: refused, by path and by content.
    let copy = dir.path().join("copy.laz");
    std::fs::copy(&a, &copy).unwrap();
    for twice in [[a.clone(), a.clone()], [a.clone(), copy]] {
        let e = capture::project::ingest(&twice, &proj, &opts, &mut |_| {}, &CancelToken::new())
            .unwrap_err();
        assert!(
            matches!(
                e,
                CaptureError::InvalidOption {
                    option: "inputs",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("twice"), "{e}");
        assert!(!proj.exists(), "no partial project");
    }
    // Two scans in one CRS merge.
    let a2 = dir.path().join("a2.las");
    c.crs = capture::Crs::epsg(32633);
    capture::write(&c, &a2, &mut NoProgress, &CancelToken::new()).unwrap();
    let m = capture::project::ingest(
        &[a.clone(), a2],
        &proj,
        &opts,
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(m.point_count, 1000);
    assert_eq!(m.crs.epsg, Some(32633));
    assert_eq!(m.sources.len(), 2);
    assert_ne!(m.sources[0].sha256, m.sources[1].sha256);
    let (m2, cloud) =
        capture::project::load_cloud(&proj, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(m2, m);
    assert_eq!(cloud.len(), 1000);
    // Tampering with the cloud is caught.
    let mut bytes = std::fs::read(proj.join("cloud.laz")).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff;
    std::fs::write(proj.join("cloud.laz"), bytes).unwrap();
    assert!(capture::project::load_cloud(&proj, &mut NoProgress, &CancelToken::new()).is_err());
}

/// A selective read of layered LAZ (point format 6+) decodes the kept attributes exactly as a
/// full read does and leaves the skipped ones out; other formats drop the same columns.
#[test]
fn selective_reads_keep_exactly_the_chosen_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = sample();
    c.gps_time = Some((0..c.len()).map(|i| 1e9 + i as f64).collect());
    c.scan_angle = Some((0..c.len()).map(|i| (i % 90) as i16).collect());
    c.point_source_id = Some((0..c.len()).map(|i| (i % 3) as u16).collect());
    let laz = dir.path().join("s.laz");
    capture::write(&c, &laz, &mut NoProgress, &CancelToken::new()).unwrap();
    let ply = dir.path().join("s.ply");
    capture::write(&c, &ply, &mut NoProgress, &CancelToken::new()).unwrap();
    for path in [&laz, &ply] {
        let all = load(path).unwrap();
        let opts = ReadOptions {
            fields: capture::Fields::VIEWER,
            ..Default::default()
        };
        let some = capture::read(path, &opts, &mut NoProgress, &CancelToken::new()).unwrap();
        let name = path.display();
        assert_eq!(some.positions, all.positions, "{name}");
        assert_eq!(some.intensity, all.intensity, "{name}");
        assert_eq!(some.classification, all.classification, "{name}");
        assert_eq!(some.rgb, all.rgb, "{name}");
        assert_eq!(some.extra, all.extra, "{name}");
        assert!(
            some.gps_time.is_none() && some.scan_angle.is_none(),
            "{name}"
        );
        assert!(
            some.point_source_id.is_none() && some.flags.is_none(),
            "{name}"
        );
    }
    // The full read of the LAZ kept what was written.
    let all = load(&laz).unwrap();
    assert_eq!(all.gps_time, c.gps_time);
    assert_eq!(all.scan_angle, c.scan_angle);
}
