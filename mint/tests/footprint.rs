//! Footprint acceptance (issue 10): parcels sharing an edge get disjoint, non-empty footprints;
//! a parcel in UTM and the same parcel in longitude/latitude give the same cells; two scans of
//! one scene (different simulator seeds), and a decimated scan, give overlapping footprints;
//! gaps inside a scan do not punch holes; refusals name the file and the fix.
//!
//! `cargo test -p mint --test footprint cell_counts -- --nocapture` prints the cell counts of
//! 1, 10 and 100 ha parcels quoted in `FOOTPRINT_RESOLUTION`'s documentation.

use std::path::{Path, PathBuf};

use capture::geodesy::utm_inverse;
use capture::synth::{self, AirborneOptions, ScanPattern, SceneOptions, SynthOptions};
use capture::{CancelToken, Crs, NoProgress, PointCloud};
use mint::footprint::{
    self, CoverageOptions, FOOTPRINT_JSON, Footprint, FootprintError, FootprintSource,
    MAX_FOOTPRINT_CELLS,
};

/// South-west corner of the synthetic scenes (UTM 33N, about 45.1° N 15° E).
const E0: f64 = 500_000.0;
const N0: f64 = 5_000_000.0;

/// A parcel ring in UTM 33N metres relative to (E0, N0).
fn ring(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    points.iter().map(|p| [E0 + p[0], N0 + p[1]]).collect()
}

fn rect(x: f64, y: f64, w: f64, h: f64) -> Vec<[f64; 2]> {
    ring(&[[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
}

/// GeoJSON Feature of one polygon; `crs` = Some(EPSG code) adds the 2008 `crs` member.
fn geojson(rings: &[Vec<[f64; 2]>], crs: Option<u32>) -> String {
    let rings: Vec<Vec<[f64; 2]>> = rings
        .iter()
        .map(|r| {
            let mut closed = r.clone();
            closed.push(r[0]);
            closed
        })
        .collect();
    let mut doc = serde_json::json!({
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"name": "parcel"},
            "geometry": {"type": "Polygon", "coordinates": rings},
        }],
    });
    if let Some(code) = crs {
        doc["crs"] = serde_json::json!({
            "type": "name",
            "properties": {"name": format!("urn:ogc:def:crs:EPSG::{code}")},
        });
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Footprint of a UTM 33N parcel given as rings.
fn utm_parcel(
    dir: &Path,
    name: &str,
    rings: &[Vec<[f64; 2]>],
) -> Result<Footprint, FootprintError> {
    let p = write(dir, name, &geojson(rings, Some(32633)));
    footprint::from_parcel(&p, &Crs::default())
}

fn to_lonlat(r: &[[f64; 2]]) -> Vec<[f64; 2]> {
    r.iter()
        .map(|p| {
            let (lat, lon) = utm_inverse(p[0], p[1], 33, true);
            [lon, lat]
        })
        .collect()
}

#[test]
fn cell_counts() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "H3 resolution {} square parcels at 45° N:",
        footprint::FOOTPRINT_RESOLUTION
    );
    for (ha, bounds) in [(1.0, 15..=30), (10.0, 250..=330), (100.0, 2_950..=3_300)] {
        let side = (ha * 10_000.0f64).sqrt();
        // Four placements, so the count is not one lucky alignment with the grid.
        let counts: Vec<u32> = [[0.0, 0.0], [3.3, 7.1], [11.0, 2.5], [5.9, 13.7]]
            .iter()
            .map(|o| {
                utm_parcel(dir.path(), "sq.geojson", &[rect(o[0], o[1], side, side)])
                    .unwrap()
                    .cell_count()
            })
            .collect();
        let f = utm_parcel(dir.path(), "sq.geojson", &[rect(0.0, 0.0, side, side)]).unwrap();
        println!(
            "  {ha:>5} ha ({side:.0} m square): {counts:?} cells, {:.2} ha claimed ({:.0} %)",
            f.area_m2 / 10_000.0,
            f.area_m2 / (ha * 100.0)
        );
        for c in counts {
            assert!(bounds.contains(&c), "{ha} ha: {c} cells");
        }
    }
}

#[test]
fn adjacent_parcels_are_disjoint() {
    let dir = tempfile::tempdir().unwrap();
    // Two rectangles sharing the edge x = 150.
    let a = utm_parcel(dir.path(), "a.geojson", &[rect(0.0, 0.0, 150.0, 120.0)]).unwrap();
    let b = utm_parcel(dir.path(), "b.geojson", &[rect(150.0, 0.0, 130.0, 120.0)]).unwrap();
    assert!(
        a.cell_count() > 20 && b.cell_count() > 20,
        "{} {}",
        a.cell_count(),
        b.cell_count()
    );
    assert_eq!(a.overlap(&b), Vec::<u64>::new());
    // The whole holds both halves (and the cells straddling the shared edge).
    let whole = utm_parcel(dir.path(), "ab.geojson", &[rect(0.0, 0.0, 280.0, 120.0)]).unwrap();
    assert_eq!(whole.overlap(&a), a.cells);
    assert_eq!(whole.overlap(&b), b.cells);
    assert!(whole.cell_count() > a.cell_count() + b.cell_count());

    // Two quadrilaterals sharing a slanted edge, given in longitude/latitude (RFC 7946).
    let c = ring(&[[0.0, 0.0], [200.0, 0.0], [140.0, 200.0], [0.0, 200.0]]);
    let d = ring(&[[200.0, 0.0], [400.0, 0.0], [400.0, 200.0], [140.0, 200.0]]);
    let pc = write(dir.path(), "c.geojson", &geojson(&[to_lonlat(&c)], None));
    let pd = write(dir.path(), "d.geojson", &geojson(&[to_lonlat(&d)], None));
    let fc = footprint::from_parcel(&pc, &Crs::default()).unwrap();
    let fd = footprint::from_parcel(&pd, &Crs::default()).unwrap();
    assert!(fc.cell_count() > 40 && fd.cell_count() > 40);
    assert!(fc.overlap(&fd).is_empty());
}

#[test]
fn utm_and_lonlat_parcels_agree() {
    let dir = tempfile::tempdir().unwrap();
    let outer = ring(&[
        [0.0, 0.0],
        [310.0, -20.0],
        [350.0, 260.0],
        [120.0, 330.0],
        [-30.0, 180.0],
    ]);
    let hole = rect(100.0, 100.0, 60.0, 50.0);
    let utm = utm_parcel(dir.path(), "utm.geojson", &[outer.clone(), hole.clone()]).unwrap();
    let lonlat_path = write(
        dir.path(),
        "lonlat.geojson",
        &geojson(&[to_lonlat(&outer), to_lonlat(&hole)], None),
    );
    let lonlat = footprint::from_parcel(&lonlat_path, &Crs::default()).unwrap();
    assert_eq!(utm.cells, lonlat.cells);
    assert_eq!(utm.root(), lonlat.root());
    assert!(utm.cell_count() > 200, "{}", utm.cell_count());
    match (&utm.source, &lonlat.source) {
        (
            FootprintSource::Parcel {
                crs: a,
                file,
                sha256,
            },
            FootprintSource::Parcel { crs: b, .. },
        ) => {
            assert_eq!((a.as_str(), b.as_str()), ("EPSG:32633", "OGC:CRS84"));
            assert_eq!(file, "utm.geojson");
            assert_eq!(sha256.len(), 64);
        }
        other => panic!("{other:?}"),
    }
    // Deterministic, and the file round-trips.
    let again = footprint::from_parcel(&lonlat_path, &Crs::default()).unwrap();
    assert_eq!(again, lonlat);
    let out = dir.path().join(FOOTPRINT_JSON);
    lonlat.write(&out).unwrap();
    assert_eq!(Footprint::read(&out).unwrap(), lonlat);
}

#[test]
fn parcel_refusals_name_file_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let e = utm_parcel(dir.path(), "tiny.geojson", &[rect(0.0, 0.0, 15.0, 15.0)]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, FootprintError::TooSmall { .. }), "{msg}");
    assert!(
        msg.contains("tiny.geojson") && msg.contains("225 m²") && msg.contains("307 m²"),
        "{msg}"
    );

    let e = utm_parcel(
        dir.path(),
        "huge.geojson",
        &[rect(0.0, 0.0, 6_000.0, 6_000.0)],
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, FootprintError::TooLarge { .. }), "{msg}");
    assert!(
        msg.contains("huge.geojson") && msg.contains(&MAX_FOOTPRINT_CELLS.to_string()),
        "{msg}"
    );

    let p = write(dir.path(), "notes.geojson", "parcel: the north field");
    let msg = footprint::from_parcel(&p, &Crs::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("notes.geojson") && msg.contains("not GeoJSON"),
        "{msg}"
    );

    let p = write(
        dir.path(),
        "line.geojson",
        r#"{"type":"LineString","coordinates":[[15,45],[15.1,45]]}"#,
    );
    let msg = footprint::from_parcel(&p, &Crs::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line.geojson") && msg.contains("no Polygon"),
        "{msg}"
    );

    let p = write(
        dir.path(),
        "lv95.geojson",
        &geojson(&[rect(0.0, 0.0, 100.0, 100.0)], Some(2056)),
    );
    let msg = footprint::from_parcel(&p, &Crs::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("lv95.geojson") && msg.contains("EPSG::2056"),
        "{msg}"
    );

    let msg = footprint::from_parcel(&dir.path().join("absent.geojson"), &Crs::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("absent.geojson"), "{msg}");
}

/// A simulated ALS scan of the default one-hectare scene (100 × 100 m at (E0, N0)).
fn scan(seed: u64) -> PointCloud {
    let opts = SynthOptions {
        scene: SceneOptions {
            seed,
            ..Default::default()
        },
        scan: ScanPattern::Airborne(AirborneOptions {
            target_density_per_m2: Some(15.0),
            ..Default::default()
        }),
        capture_time: None,
        resurvey: None,
    };
    synth::run(&opts, &mut NoProgress, &CancelToken::new())
        .unwrap_or_else(|e| panic!("{e}"))
        .cloud
}

fn coverage(cloud: &PointCloud) -> Footprint {
    footprint::from_cloud(cloud, &CoverageOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn jaccard(a: &Footprint, b: &Footprint) -> f64 {
    let both = a.overlap(b).len() as f64;
    both / (a.cells.len() as f64 + b.cells.len() as f64 - both)
}

fn keep(cloud: &PointCloud, f: impl Fn(usize, [f64; 3]) -> bool) -> PointCloud {
    let idx: Vec<usize> = (0..cloud.len())
        .filter(|&i| f(i, cloud.absolute(i)))
        .collect();
    cloud.select(&idx)
}

#[test]
fn scan_coverage() {
    let a = scan(1);
    let fa = coverage(&a);
    println!(
        "coverage of a 1 ha scan ({} points): {} cells",
        a.len(),
        fa.cell_count()
    );
    assert!(fa.cell_count() >= 15, "{}", fa.cell_count());
    assert!(matches!(
        fa.source,
        FootprintSource::Coverage {
            grid_m: 2.0,
            min_points: 2,
            ..
        }
    ));
    // Every claimed hexagon lies inside the scanned square (coverage never claims beyond it).
    let square = utm_parcel(
        tempfile::tempdir().unwrap().path(),
        "s.geojson",
        &[rect(0.0, 0.0, 100.0, 100.0)],
    )
    .unwrap();
    assert_eq!(
        square.overlap(&fa),
        fa.cells,
        "coverage claims only cells inside the scene"
    );
    assert!(
        fa.cell_count() + 3 >= square.cell_count(),
        "{} vs {}",
        fa.cell_count(),
        square.cell_count()
    );

    // Another seed: another forest and other scan noise over the same ground.
    let fb = coverage(&scan(2));
    println!(
        "seed 2: {} cells, {} shared, Jaccard {:.2}",
        fb.cell_count(),
        fa.overlap(&fb).len(),
        jaccard(&fa, &fb)
    );
    assert!(jaccard(&fa, &fb) > 0.8);

    // Every 10th point (≈ 1.5 points/m²).
    let thin = keep(&a, |i, _| i % 10 == 0);
    let ft = coverage(&thin);
    println!(
        "decimated 1:10: {} cells, Jaccard {:.2}",
        ft.cell_count(),
        jaccard(&fa, &ft)
    );
    assert!(jaccard(&fa, &ft) > 0.8);

    // A 3 m gap and a 20 m pond with no returns inside the plot change nothing.
    let holed = keep(&a, |_, p| {
        let (x, y) = (p[0] - E0, p[1] - N0);
        let gap = (40.0..43.0).contains(&x) && (60.0..63.0).contains(&y);
        let pond = (45.0..65.0).contains(&x) && (30.0..50.0).contains(&y);
        !gap && !pond
    });
    assert_eq!(coverage(&holed).cells, fa.cells);
    // … because the pond is filled: without hole filling it would cost cells.
    let no_fill = CoverageOptions {
        fill_holes_m2: 0.0,
        ..Default::default()
    };
    let unfilled = footprint::from_cloud(&holed, &no_fill).unwrap();
    assert!(
        unfilled.cell_count() < fa.cell_count(),
        "{}",
        unfilled.cell_count()
    );

    // The same cloud in longitude/latitude gives the same footprint.
    let lonlat: Vec<[f64; 3]> = (0..a.len())
        .map(|i| {
            let p = a.absolute(i);
            let (lat, lon) = utm_inverse(p[0], p[1], 33, true);
            [lon, lat, p[2]]
        })
        .collect();
    let mut geo = PointCloud::from_absolute(&lonlat);
    geo.crs = Crs::epsg(4326);
    let fg = coverage(&geo);
    println!(
        "lon/lat copy: {} cells, Jaccard {:.2}",
        fg.cell_count(),
        jaccard(&fa, &fg)
    );
    assert!(jaccard(&fa, &fg) > 0.9);

    // Deterministic.
    assert_eq!(coverage(&a).root(), fa.root());

    // A cloud with no CRS cannot be placed on the globe.
    let mut local = a.clone();
    local.crs = Crs::default();
    let msg = footprint::from_cloud(&local, &CoverageOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("--crs") && msg.contains("--parcel"), "{msg}");

    // Options are checked.
    let bad = CoverageOptions {
        grid_m: 0.0,
        ..Default::default()
    };
    assert!(footprint::from_cloud(&a, &bad).is_err());
}

#[test]
fn project_footprint() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = scan(3);
    let laz = dir.path().join("scan.laz");
    capture::write(&cloud, &laz, &mut NoProgress, &CancelToken::new()).unwrap();
    let project = dir.path().join("plot.twinmint");
    capture::project::ingest(
        &[laz],
        &project,
        &Default::default(),
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let opts = CoverageOptions::default();
    let run = |parcel: Option<&Path>| {
        footprint::for_project_with(
            &project,
            parcel,
            &opts,
            &mut NoProgress,
            &CancelToken::new(),
        )
    };
    let from_scan = run(None).unwrap();
    assert_eq!(from_scan.cells, coverage(&cloud).cells);
    assert_eq!(footprint::for_project(&project, None).unwrap(), from_scan);

    // A parcel in metres without a "crs" member is read in the project's CRS (UTM 33N).
    let parcel = write(
        dir.path(),
        "parcel.geojson",
        &geojson(&[rect(-20.0, -20.0, 140.0, 140.0)], None).replace("\n", ""),
    );
    let from_parcel = run(Some(&parcel)).unwrap();
    assert_eq!(from_parcel.overlap(&from_scan), from_scan.cells);
    from_parcel.write(&project.join(FOOTPRINT_JSON)).unwrap();
    assert_eq!(
        Footprint::read(&project.join(FOOTPRINT_JSON)).unwrap(),
        from_parcel
    );

    // A parcel 5 km away is a wrong file or a wrong CRS.
    let far = write(
        dir.path(),
        "far.geojson",
        &geojson(&[rect(5_000.0, 0.0, 100.0, 100.0)], Some(32633)),
    );
    let msg = run(Some(&far)).unwrap_err().to_string();
    assert!(
        msg.contains("far.geojson") && msg.contains("does not overlap"),
        "{msg}"
    );
}
