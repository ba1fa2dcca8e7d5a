//! Capture acceptance tests on the shared real-world data.

use std::path::Path;

use capture::las_io::{self, LasWriteOptions};
use capture::{CancelToken, CaptureError, NoProgress, PointCloud, ReadOptions, TimeSource};
use twinmint_tests::data;

fn load(p: &Path) -> Result<PointCloud, CaptureError> {
    capture::read(
        p,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
}

fn header(p: &Path) -> las::Header {
    las::Reader::from_path(p).unwrap().header().clone()
}

/// Integer LAS coordinates of every point on the cloud's own grid.
fn grid(c: &PointCloud) -> Vec<[i64; 3]> {
    let q = c.quantization.expect("LAS clouds keep their grid");
    (0..c.len())
        .map(|i| {
            let p = c.absolute(i);
            [0, 1, 2].map(|k| ((p[k] - q.offset[k]) / q.scale[k]).round() as i64)
        })
        .collect()
}

#[test]
fn als_point_counts_and_bounds_match_headers() {
    for (file, n) in [
        ("als/MixedConifer.laz", 37_657),
        ("als/Megaplot.laz", 81_590),
        ("als/Topography.laz", 73_403),
    ] {
        let p = data(file);
        let c = load(&p).unwrap();
        assert_eq!(c.len(), n, "{file}");
        let h = header(&p).bounds();
        let b = c.bounds();
        let s = c.quantization.unwrap().scale;
        for (k, (lo, hi)) in [(h.min.x, h.max.x), (h.min.y, h.max.y), (h.min.z, h.max.z)]
            .into_iter()
            .enumerate()
        {
            assert!(
                (b.min[k] - lo).abs() <= s[k],
                "{file} min[{k}] {} vs {lo}",
                b.min[k]
            );
            assert!(
                (b.max[k] - hi).abs() <= s[k],
                "{file} max[{k}] {} vs {hi}",
                b.max[k]
            );
        }
        let src = &c.provenance.sources[0];
        assert_eq!(src.sha256.len(), 64);
        assert_eq!(src.point_count, n as u64);
        if header(&p).date().is_some() {
            assert!(
                src.capture_time.is_some(),
                "{file}: capture time from GPS or header date"
            );
        }
    }
}

#[test]
fn topography_classes_are_counted() {
    let c = load(&data("als/Topography.laz")).unwrap();
    let classes = c.class_counts();
    assert_eq!(classes.get(&2), Some(&8_159), "{classes:?}");
    assert!(classes.contains_key(&9), "water class present: {classes:?}");
    assert_eq!(classes.values().sum::<u64>(), 73_403);
}

#[test]
fn mixed_conifer_tree_id_survives_laz_round_trip() {
    let c = load(&data("als/MixedConifer.laz")).unwrap();
    let ids = c.extra("treeID").expect("lidR treeID column").values();
    let distinct: std::collections::BTreeSet<i64> = ids.iter().map(|v| *v as i64).collect();
    assert!(distinct.len() > 100, "{} distinct tree ids", distinct.len());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mc.laz");
    las_io::write(
        &c,
        &out,
        &LasWriteOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let back = load(&out).unwrap();
    assert_eq!(back.extra("treeID").unwrap().values(), ids);
    assert_eq!(
        back.extra("treeID").unwrap().data_type,
        c.extra("treeID").unwrap().data_type
    );
}

/// Whether `f32` offsets from the origin resolve the source grid (true for every airborne
/// tile at the usual 1 mm / 1 cm scales; false for micrometre grids over hundreds of metres).
fn f32_resolves_grid(c: &PointCloud) -> bool {
    let q = c.quantization.unwrap();
    let b = c.bounds();
    (0..3).all(|k| {
        let reach = (b.max[k] - c.origin[k])
            .abs()
            .max((b.min[k] - c.origin[k]).abs()) as f32;
        (reach.max(1.0) * f32::EPSILON) as f64 <= q.scale[k]
    })
}

fn assert_same(a: &PointCloud, b: &PointCloud, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: count");
    if f32_resolves_grid(a) {
        assert_eq!(grid(a), grid(b), "{what}: integer positions");
    } else {
        // Sub-f32 grids (test1_4.las: 1.2 µm over 500 m) keep f32 resolution: 31 µm here.
        for i in 0..a.len() {
            let (p, q) = (a.absolute(i), b.absolute(i));
            for k in 0..3 {
                assert!(
                    (p[k] - q[k]).abs() < 1e-4,
                    "{what}: point {i} axis {k}: {} vs {}",
                    p[k],
                    q[k]
                );
            }
        }
    }
    assert_eq!(a.intensity, b.intensity, "{what}: intensity");
    assert_eq!(a.return_number, b.return_number, "{what}: return number");
    assert_eq!(
        a.number_of_returns, b.number_of_returns,
        "{what}: number of returns"
    );
    assert_eq!(a.classification, b.classification, "{what}: classification");
    assert_eq!(a.flags, b.flags, "{what}: flags");
    assert_eq!(a.scan_angle, b.scan_angle, "{what}: scan angle");
    assert_eq!(a.user_data, b.user_data, "{what}: user data");
    assert_eq!(
        a.point_source_id, b.point_source_id,
        "{what}: point source id"
    );
    assert_eq!(a.rgb, b.rgb, "{what}: rgb");
    assert_eq!(a.nir, b.nir, "{what}: nir");
    let bits = |g: &Option<Vec<f64>>| {
        g.as_ref()
            .map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
    };
    assert_eq!(
        bits(&a.gps_time),
        bits(&b.gps_time),
        "{what}: gps time bits"
    );
    assert_eq!(a.extra.len(), b.extra.len(), "{what}: extra columns");
    for (x, y) in a.extra.iter().zip(&b.extra) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.data_type, y.data_type, "{what}: {}", x.name);
        assert_eq!(x.scale, y.scale, "{what}: {}", x.name);
        assert_eq!(x.offset, y.offset, "{what}: {}", x.name);
        assert_eq!(x.data, y.data, "{what}: {} bytes", x.name);
    }
    assert_eq!(a.crs.epsg, b.crs.epsg, "{what}: crs");
}

#[test]
fn las_laz_las_round_trip_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "formats/1.2-with-color.las",
        "formats/test1_4.las",
        "formats/extrabytes.las",
        "formats/autzen_trim.laz",
        "als/MixedConifer.laz",
    ] {
        let a = load(&data(file)).unwrap();
        let laz = dir.path().join("rt.laz");
        let las = dir.path().join("rt.las");
        las_io::write(
            &a,
            &laz,
            &LasWriteOptions::default(),
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        let b = load(&laz).unwrap();
        assert_eq!(b.provenance.sources[0].format, "LAZ");
        assert_same(&a, &b, &format!("{file} → LAZ"));
        let opts = LasWriteOptions {
            compress: false,
            ..Default::default()
        };
        las_io::write(&b, &las, &opts, &mut NoProgress, &CancelToken::new()).unwrap();
        let c = load(&las).unwrap();
        assert_eq!(c.provenance.sources[0].format, "LAS");
        assert_same(&a, &c, &format!("{file} → LAZ → LAS"));
        // After one pass every file is a fixed point: LAZ and LAS copies agree bit for bit.
        assert_eq!(grid(&b), grid(&c), "{file}: LAZ vs LAS integer positions");
        assert_eq!(
            f32_resolves_grid(&a),
            file != "formats/test1_4.las",
            "{file}"
        );
    }
}

#[test]
fn extra_bytes_file_keeps_every_described_column() {
    let c = load(&data("formats/extrabytes.las")).unwrap();
    assert_eq!(c.len(), 1065);
    assert!(!c.extra.is_empty());
    let h = header(&data("formats/extrabytes.las"));
    let described: usize = c.extra.iter().map(|e| e.data_type.width()).sum();
    assert_eq!(described, h.point_format().extra_bytes as usize);
    for e in &c.extra {
        assert_eq!(e.len(), 1065, "{}", e.name);
    }
}

#[test]
fn every_format_sample_loads_with_exact_count_or_fails_typed() {
    for entry in std::fs::read_dir(data("formats")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let res = load(&p);
        match name.as_str() {
            "corrupt_crc.e57" => {
                let e = res.expect_err("corrupt CRC must fail");
                assert!(matches!(e, CaptureError::E57 { .. }), "{e}");
                assert!(e.to_string().contains("corrupt_crc.e57"), "{e}");
            }
            n if n.ends_with(".las") || n.ends_with(".laz") => {
                let c = res.unwrap_or_else(|e| panic!("{n}: {e}"));
                assert_eq!(c.len() as u64, header(&p).number_of_points(), "{n}");
            }
            "bunnyDouble.e57" => {
                let c = res.unwrap();
                assert_eq!(c.len(), 30_571);
                assert_eq!(c.provenance.sources[0].format, "E57");
            }
            "tiny_pc_and_images.e57" => {
                let c = res.unwrap();
                assert!(!c.is_empty());
                let src = &c.provenance.sources[0];
                assert!(!src.images.is_empty(), "images listed in provenance");
                assert_eq!(src.point_count, c.len() as u64 + skipped(&c));
            }
            other => panic!("unexpected sample {other}"),
        }
    }
}

fn skipped(c: &PointCloud) -> u64 {
    c.provenance
        .warnings
        .iter()
        .find_map(|w| w.split(": ").nth(1)?.split(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn gps_time_nan_loads_and_stays_out_of_capture_time() {
    let c = load(&data("formats/gps-time-nan.las")).unwrap();
    assert_eq!(c.len(), 1);
    assert!(
        c.gps_time.as_ref().unwrap()[0].is_nan(),
        "the NaN is kept as data"
    );
    assert!(
        c.provenance
            .warnings
            .iter()
            .any(|w| w.contains("non-finite GPS time")),
        "{:?}",
        c.provenance.warnings
    );
    if let Some(t) = &c.provenance.sources[0].capture_time {
        assert_ne!(t.source, TimeSource::GpsTime);
    }
}

#[test]
fn e57_bunny_has_sensible_geometry() {
    let c = load(&data("formats/bunnyDouble.e57")).unwrap();
    let e = c.bounds().extent();
    assert!(e.iter().all(|v| *v > 0.0 && *v < 10.0), "{e:?}");
    assert!(c.positions.iter().all(|p| p.iter().all(|v| v.is_finite())));
}

#[test]
fn bad_inputs_fail_with_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Empty file.
    let empty = d.join("empty.las");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(load(&empty), Err(CaptureError::Empty { .. })));
    // Wrong extension: a LAS file named .ply.
    let wrong = d.join("cloud.ply");
    std::fs::copy(data("formats/1.2-with-color.las"), &wrong).unwrap();
    let e = load(&wrong).unwrap_err();
    assert!(matches!(e, CaptureError::WrongExtension { .. }), "{e}");
    assert!(e.to_string().contains("cloud.ply"));
    // Unknown extension and content.
    let junk = d.join("notes.bin");
    std::fs::write(&junk, b"hello world").unwrap();
    assert!(matches!(
        load(&junk),
        Err(CaptureError::UnknownFormat { .. })
    ));
    // Truncated LAZ.
    let bytes = std::fs::read(data("als/MixedConifer.laz")).unwrap();
    let trunc = d.join("truncated.laz");
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    let e = load(&trunc).expect_err("truncated LAZ");
    assert!(e.to_string().contains("truncated.laz"), "{e}");
    // Header claiming far more points than the file holds: error, no huge allocation.
    let mut las = std::fs::read(data("formats/1.2-with-color.las")).unwrap();
    las[107..111].copy_from_slice(&2_000_000_000u32.to_le_bytes());
    let liar = d.join("liar.las");
    std::fs::write(&liar, &las).unwrap();
    match load(&liar) {
        Err(CaptureError::Truncated {
            expected, found, ..
        }) => {
            assert_eq!(expected, 2_000_000_000);
            assert_eq!(found, 1065);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    // Same lie in a LAS 1.4 file (64-bit count field).
    let mut las14 = std::fs::read(data("formats/test1_4.las")).unwrap();
    las14[247..255].copy_from_slice(&5_000_000_000u64.to_le_bytes());
    let liar14 = d.join("liar14.las");
    std::fs::write(&liar14, &las14).unwrap();
    let r = load(&liar14);
    assert!(
        matches!(&r, Err(CaptureError::Invalid { reason, .. }) if reason.contains("disagree")),
        "{r:?}"
    );
    las14[107..111].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(&liar14, &las14).unwrap();
    let r = load(&liar14);
    assert!(
        matches!(
            r,
            Err(CaptureError::Truncated {
                expected: 5_000_000_000,
                ..
            })
        ),
        "{r:?}"
    );
    // Unknown CRS supplied by the user.
    assert!(matches!(
        capture::Crs::parse("EPSG:nope"),
        Err(CaptureError::UnknownCrs { .. })
    ));
    // Writing into a missing folder fails and leaves nothing behind.
    let c = load(&data("formats/1.2-with-color.las")).unwrap();
    let out = d.join("missing").join("x.laz");
    assert!(capture::write(&c, &out, &mut NoProgress, &CancelToken::new()).is_err());
    assert!(!out.exists());
}

#[test]
fn cancelled_read_stops_and_returns_cancelled() {
    let cancel = CancelToken::new();
    let mut calls = 0;
    let c2 = cancel.clone();
    let mut progress = move |_e: capture::ProgressEvent| {
        calls += 1;
        if calls == 1 {
            c2.cancel();
        }
    };
    let opts = ReadOptions {
        chunk_points: 1000,
        ..Default::default()
    };
    let r = capture::read(&data("als/Megaplot.laz"), &opts, &mut progress, &cancel);
    assert!(matches!(r, Err(CaptureError::Cancelled)));
}

#[test]
fn decimation_on_load() {
    let p = data("als/Megaplot.laz");
    let opts = ReadOptions {
        decimation: capture::Decimation::EveryNth(10),
        chunk_points: 7_777,
        ..Default::default()
    };
    let c = capture::read(&p, &opts, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(c.len(), 81_590usize.div_ceil(10));
    let opts = ReadOptions {
        decimation: capture::Decimation::Voxel(2.0),
        ..Default::default()
    };
    let v = capture::read(&p, &opts, &mut NoProgress, &CancelToken::new()).unwrap();
    assert!(v.len() < 81_590 && v.len() > 1000, "{}", v.len());
    // No two kept points share a 2 m voxel.
    let keys: std::collections::HashSet<_> = (0..v.len())
        .map(|i| v.absolute(i).map(|x| (x / 2.0).floor() as i64))
        .collect();
    assert_eq!(keys.len(), v.len());
}
