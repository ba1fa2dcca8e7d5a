//! The COPC writer against an independent reader — the `las` crate's `CopcReader` (hierarchy,
//! per-node chunks, level and box queries) — and against plain LAZ reading: every point comes
//! back once, each node's points lie in its voxel, the root is a coarse sample of the whole, and
//! a box query returns exactly the points in the box.

use capture::copc::{CopcOptions, write_copc};
use capture::synth::{self, AirborneOptions, ScanPattern, SceneOptions, SynthOptions};
use capture::{CancelToken, NoProgress, PointCloud};
use las::{BoundsSelection, CopcReader, LodSelection};

fn stand() -> PointCloud {
    synth::run(
        &SynthOptions {
            scene: SceneOptions {
                seed: 11,
                width_m: 60.0,
                depth_m: 60.0,
                origin: [500_000.0, 5_000_000.0, 300.0],
                ..Default::default()
            },
            scan: ScanPattern::Airborne(AirborneOptions {
                target_points: Some(120_000),
                ..Default::default()
            }),
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap()
    .cloud
}

/// Millimetre integer positions, sorted: what a LAS writer at 1 mm keeps of a cloud.
fn quantised(points: impl Iterator<Item = [f64; 3]>) -> Vec<[i64; 3]> {
    let mut v: Vec<[i64; 3]> = points
        .map(|p| p.map(|c| (c * 1000.0).round() as i64))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn copc_octree_reads_back_whole_by_node_by_level_and_by_box() {
    let cloud = stand();
    let n = cloud.len();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stand.copc.laz");
    // Small nodes so the test cloud gets several levels.
    let opts = CopcOptions {
        max_node_points: 5_000,
        ..Default::default()
    };
    let s = write_copc(&cloud, &path, &opts, &CancelToken::new()).unwrap();
    assert_eq!(s.points, n as u64);
    assert!(s.max_depth >= 2, "{s:?}");

    let mut r = CopcReader::from_path(&path).unwrap();
    let entries: Vec<las::copc::Entry> = r.hierarchy_entries().collect();
    assert_eq!(entries.len(), s.nodes);
    let total: i64 = entries.iter().map(|e| i64::from(e.point_count)).sum();
    assert_eq!(total, n as i64);
    let info = r.header().copc_info_vlr().expect("COPC info VLR");
    let all = r.query(LodSelection::All, BoundsSelection::All).unwrap();
    assert_eq!(all.len(), n);
    // Every node's points lie in its voxel (one millimetre quantum of slack).
    for e in &entries {
        let b = e.key.bounds(&info);
        let pts = r.read_entry(e).unwrap();
        assert_eq!(pts.len(), e.point_count as usize);
        for p in pts.points() {
            let p = p.unwrap();
            for (v, lo, hi) in [
                (p.x, b.min.x, b.max.x),
                (p.y, b.min.y, b.max.y),
                (p.z, b.min.z, b.max.z),
            ] {
                assert!(
                    v >= lo - 1e-3 && v <= hi + 1e-3,
                    "{v} outside {lo}…{hi} of {:?}",
                    e.key
                );
            }
        }
    }
    // The root: at most one point per cell of a 128³ grid over the cube — a coarse sample.
    let root = r
        .query(LodSelection::Level(0), BoundsSelection::All)
        .unwrap();
    assert!(
        root.len() > 1000 && root.len() < n,
        "root holds {}",
        root.len()
    );
    let cell = 2.0 * info.halfsize / 128.0;
    let mut cells: Vec<[i64; 3]> = root
        .points()
        .map(|p| {
            let p = p.unwrap();
            [
                ((p.x - (info.center_x - info.halfsize)) / cell).floor() as i64,
                ((p.y - (info.center_y - info.halfsize)) / cell).floor() as i64,
                ((p.z - (info.center_z - info.halfsize)) / cell).floor() as i64,
            ]
        })
        .collect();
    cells.sort_unstable();
    let distinct = cells.windows(2).filter(|w| w[0] != w[1]).count() + 1;
    // Millimetre rounding may move a point sitting on a cell wall into its neighbour.
    assert!(
        distinct as f64 >= 0.999 * root.len() as f64,
        "{distinct} cells for {} root points",
        root.len()
    );
    // A box query equals the brute-force count.
    let (x0, y0) = (500_010.123, 5_000_020.456);
    let (x1, y1) = (500_031.789, 5_000_047.012);
    let b = las::Bounds {
        min: las::Vector {
            x: x0,
            y: y0,
            z: -1e9,
        },
        max: las::Vector {
            x: x1,
            y: y1,
            z: 1e9,
        },
    };
    let got = r
        .query(LodSelection::All, BoundsSelection::Within(b))
        .unwrap()
        .len();
    let want = (0..n)
        .map(|i| cloud.absolute(i))
        .filter(|p| {
            let (x, y) = (
                (p[0] * 1000.0).round() / 1000.0,
                (p[1] * 1000.0).round() / 1000.0,
            );
            x >= x0 && x <= x1 && y >= y0 && y <= y1
        })
        .count();
    assert!(want > 1000);
    assert_eq!(got, want);

    // As plain LAZ (variable-size chunks), the same points as the cloud's own LAS writer keeps.
    let back = capture::read(
        &path,
        &Default::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(back.len(), n);
    assert_eq!(
        quantised((0..n).map(|i| back.absolute(i))),
        quantised((0..n).map(|i| cloud.absolute(i)))
    );
    assert_eq!(back.classification.as_ref().map(Vec::len), Some(n));
    // A plain LAZ of the same cloud is not COPC: `open_if_copc` says so, `open` refuses it.
    let plain = dir.path().join("plain.laz");
    capture::write(&cloud, &plain, &mut NoProgress, &CancelToken::new()).unwrap();
    assert!(
        capture::copc::CopcFile::open_if_copc(&plain)
            .unwrap()
            .is_none()
    );
    assert!(!capture::copc::is_copc(&plain) && capture::copc::is_copc(&path));
    let e = capture::copc::CopcFile::open(&plain)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("plain.laz") && e.contains("not a COPC file"),
        "{e}"
    );

    // Deterministic: the same cloud gives the same bytes.
    let again = dir.path().join("again.copc.laz");
    write_copc(&cloud, &again, &opts, &CancelToken::new()).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

/// A damaged hierarchy (a node said to hold two billion points, at a place past the end, or a
/// key outside the octree) is a typed error naming the file, never a panic or a huge allocation.
#[test]
fn a_lying_hierarchy_is_an_error_not_a_panic() {
    let cloud = stand();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stand.copc.laz");
    write_copc(&cloud, &path, &Default::default(), &CancelToken::new()).unwrap();
    let good = std::fs::read(&path).unwrap();
    // LAS 1.4: the first EVLR's offset at byte 235; its 60-byte header, then the page.
    let evlr = u64::from_le_bytes(good[235..243].try_into().unwrap()) as usize;
    let entry = evlr + 60;
    let cases: [(&str, usize, Vec<u8>); 3] = [
        ("count", entry + 28, i32::MAX.to_le_bytes().to_vec()),
        (
            "offset",
            entry + 16,
            (good.len() as u64 * 4).to_le_bytes().to_vec(),
        ),
        ("depth", entry, 40i32.to_le_bytes().to_vec()),
    ];
    for (what, at, bytes) in cases {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(&bytes);
        let bad = dir.path().join(format!("{what}.copc.laz"));
        std::fs::write(&bad, &b).unwrap();
        let err = match capture::copc::CopcFile::open(&bad) {
            Err(e) => e,
            Ok(f) => {
                let mut r = f.reader().unwrap();
                (0..f.nodes.len())
                    .find_map(|k| r.read_node(k, &capture::Fields::ALL, [0.0; 3]).err())
                    .unwrap_or_else(|| panic!("{what}: every node read"))
            }
        };
        let msg = err.to_string();
        assert!(msg.contains(&bad.display().to_string()), "{what}: {msg}");
    }
}
