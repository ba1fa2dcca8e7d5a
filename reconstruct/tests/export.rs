//! Export acceptance: GLB (glTF 2.0), GeoTIFF and the classified LAZ, each parsed back.
//!
//! The reconstruction comes from a simulated mixed scene (trees and pipes): DTM sampled from the
//! exact terrain, trees from the truth, pipes detected by `reconstruct::pipes` on the scan. The
//! GLB is checked structurally (header, chunks, accessors within their buffer views, POSITION
//! bounds, indices in range, node names and extras) and, when `reconstruct/js/node_modules`
//! holds the Khronos glTF-Validator (`npm ci --prefix reconstruct/js`), by the validator too.
//! The GeoTIFF is read back by our reader and, when Python's `tifffile` is importable, by it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use capture::synth::{self, AirborneOptions, ScanPattern, SceneOptions, SynthOptions, Truth};
use capture::{CancelToken, Crs, NoProgress, PointCloud, ReadOptions};
use reconstruct::classified::{self, ClassifyOptions, PointLabels};
use reconstruct::geotiff::{self, GeoTiffOptions};
use reconstruct::gltf::{self, GlbOptions};
use reconstruct::pipes::{self, PipeOptions};
use reconstruct::{DbhStatus, Raster, Reconstruction, TerrainStats, Tree};
use serde_json::Value;

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "twinmint-export-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn simulate() -> (PointCloud, Truth) {
    let mut scene = SceneOptions {
        seed: 4,
        width_m: 40.0,
        depth_m: 40.0,
        ..Default::default()
    };
    scene.trees.density_per_ha = 150.0;
    scene.pipes.count = 2;
    scene.pipes.min_radius_m = 0.15;
    let out = synth::run(
        &SynthOptions {
            scene,
            scan: ScanPattern::Airborne(AirborneOptions {
                altitude_m: 40.0,
                target_density_per_m2: Some(300.0),
                ..Default::default()
            }),
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    (out.cloud, out.truth)
}

/// The reconstruction a pipeline would hand over, built from truth where other engineers'
/// steps would supply it (DTM, trees) and from our own pipe detection.
fn reconstruction(cloud: &PointCloud, truth: &Truth) -> (Reconstruction, Vec<u32>) {
    let b = cloud.bounds();
    let mut dtm = Raster::covering(b.min[0], b.min[1], b.max[0], b.max[1], 1.0, -9999.0);
    for row in 0..dtm.height {
        for col in 0..dtm.width {
            let (x, y) = dtm.center(col, row);
            dtm.data[row * dtm.width + col] = truth.ground_height(x, y) as f32;
        }
    }
    // A nodata corner, as a real DTM has outside the scan.
    dtm.data[0] = dtm.nodata;
    let trees: Vec<Tree> = truth
        .trees
        .iter()
        .map(|t| {
            let hull = (0..12)
                .map(|k| {
                    let a = 2.0 * std::f64::consts::PI * k as f64 / 12.0;
                    [
                        t.x + t.crown_radius_m * a.cos(),
                        t.y + t.crown_radius_m * a.sin(),
                    ]
                })
                .collect();
            let observed = t.id % 2 == 0;
            Tree {
                id: t.id,
                x: t.x,
                y: t.y,
                ground_z: t.ground_z,
                height_m: t.height_m,
                crown_area_m2: std::f64::consts::PI * t.crown_radius_m.powi(2),
                crown_diameter_m: 2.0 * t.crown_radius_m,
                crown_base_height_m: Some(t.crown_base_height_m),
                point_count: 0,
                hull,
                dbh_status: if observed {
                    DbhStatus::Observed
                } else {
                    DbhStatus::NotObserved
                },
                dbh_cm: observed.then_some(t.dbh_cm),
                dbh_fit_rms_cm: observed.then_some(0.4),
                species: None,
            }
        })
        .collect();
    let cls = cloud.classification.as_ref().unwrap();
    let mask: Vec<bool> = cls.iter().map(|&c| c != 2 && c != 5).collect();
    let det = pipes::run(
        cloud,
        Some(&mask),
        &PipeOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(!det.runs.is_empty(), "the scene has pipes");
    let recon = Reconstruction {
        schema_version: reconstruct::model::RECONSTRUCTION_SCHEMA_VERSION,
        generator: reconstruct::model::GENERATOR.into(),
        crs: cloud.crs.clone(),
        origin: cloud.origin,
        terrain: TerrainStats {
            ground_points: cls.iter().filter(|&&c| c == 2).count() as u64,
            ..Default::default()
        },
        dtm: Some(dtm),
        chm: None,
        trees,
        pipes: det.runs.clone(),
        options: Value::Null,
        run: Default::default(),
    };
    (recon, det.point_run)
}

fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}
fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Structural validation of a GLB, independent of the writer: returns the JSON document.
fn check_glb(bytes: &[u8]) -> Value {
    // Header and chunks, parsed here by hand.
    assert_eq!(&bytes[0..4], b"glTF");
    assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 2);
    assert_eq!(
        u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
        bytes.len()
    );
    let jlen = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    assert_eq!(&bytes[16..20], b"JSON");
    assert!(jlen.is_multiple_of(4), "JSON chunk 4-byte aligned");
    let doc: Value = serde_json::from_slice(&bytes[20..20 + jlen]).expect("JSON chunk parses");
    let at = 20 + jlen;
    let blen = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&bytes[at + 4..at + 8], b"BIN\0");
    assert!(blen.is_multiple_of(4), "BIN chunk 4-byte aligned");
    assert_eq!(at + 8 + blen, bytes.len());
    let bin = &bytes[at + 8..];
    assert_eq!(doc["asset"]["version"], "2.0");
    let buf_len = doc["buffers"][0]["byteLength"].as_u64().unwrap() as usize;
    assert_eq!(buf_len, blen, "BIN chunk length = buffers[0].byteLength");
    assert_eq!(doc["buffers"].as_array().unwrap().len(), 1);
    // Buffer views inside the buffer.
    let views = doc["bufferViews"].as_array().unwrap();
    for v in views {
        let off = v["byteOffset"].as_u64().unwrap_or(0) as usize;
        let len = v["byteLength"].as_u64().unwrap() as usize;
        assert!(off + len <= buf_len && off.is_multiple_of(4));
    }
    // Accessors inside their views; POSITION bounds exact; indices in range.
    let accessors = doc["accessors"].as_array().unwrap();
    let size = |a: &Value| -> usize {
        let comps = match a["type"].as_str().unwrap() {
            "SCALAR" => 1,
            "VEC3" => 3,
            t => panic!("unexpected accessor type {t}"),
        };
        assert!(matches!(a["componentType"].as_u64(), Some(5126 | 5125)));
        4 * comps
    };
    let data = |a: &Value| -> &[u8] {
        let v = &views[a["bufferView"].as_u64().unwrap() as usize];
        let start = v["byteOffset"].as_u64().unwrap_or(0) as usize
            + a["byteOffset"].as_u64().unwrap_or(0) as usize;
        let len = a["count"].as_u64().unwrap() as usize * size(a);
        let view_end = v["byteOffset"].as_u64().unwrap_or(0) as usize
            + v["byteLength"].as_u64().unwrap() as usize;
        assert!(start + len <= view_end, "accessor within its bufferView");
        &bin[start..start + len]
    };
    for a in accessors {
        assert!(a["count"].as_u64().unwrap() > 0);
        data(a);
    }
    let mut triangles = 0usize;
    for mesh in doc["meshes"].as_array().unwrap() {
        for p in mesh["primitives"].as_array().unwrap() {
            let pos = &accessors[p["attributes"]["POSITION"].as_u64().unwrap() as usize];
            let nrm = &accessors[p["attributes"]["NORMAL"].as_u64().unwrap() as usize];
            let idx = &accessors[p["indices"].as_u64().unwrap() as usize];
            assert_eq!(pos["count"], nrm["count"]);
            let xyz = f32s(data(pos));
            let (min, max) = (
                pos["min"].as_array().unwrap(),
                pos["max"].as_array().unwrap(),
            );
            for k in 0..3 {
                let lo = xyz
                    .iter()
                    .skip(k)
                    .step_by(3)
                    .copied()
                    .fold(f32::INFINITY, f32::min);
                let hi = xyz
                    .iter()
                    .skip(k)
                    .step_by(3)
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max);
                assert_eq!(min[k].as_f64().unwrap() as f32, lo);
                assert_eq!(max[k].as_f64().unwrap() as f32, hi);
            }
            for n in f32s(data(nrm)).chunks_exact(3) {
                let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                assert!((l - 1.0).abs() < 1e-3, "unit normals");
            }
            let n = pos["count"].as_u64().unwrap() as u32;
            let ix = u32s(data(idx));
            assert_eq!(ix.len() % 3, 0);
            assert!(ix.iter().all(|&i| i < n), "indices in range");
            triangles += ix.len() / 3;
            assert!(p["material"].as_u64().unwrap() < 4);
        }
    }
    assert!(triangles > 0);
    doc
}

/// The Khronos glTF-Validator, when installed (`npm ci --prefix reconstruct/js`).
fn khronos_validate(glb: &Path) -> Option<Value> {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    if !js.join("node_modules/gltf-validator").is_dir() {
        test_support::skip_or_fail(
            "the Khronos glTF-Validator check",
            "not installed (scripts/setup.sh runs npm ci --prefix reconstruct/js)",
        );
        return None;
    }
    let out = Command::new("node")
        .arg(js.join("validate-gltf.js"))
        .arg(glb)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("validator report"))
}

#[test]
fn glb_export_round_trip() {
    let (cloud, truth) = simulate();
    let (recon, _) = reconstruction(&cloud, &truth);
    let mut estimates = BTreeMap::new();
    for t in recon.trees.iter().filter(|t| t.dbh_cm.is_none()) {
        estimates.insert(t.id, 1.1 * t.height_m);
    }
    let dir = Scratch::new("glb");
    let path = dir.path("model.glb");
    gltf::write_glb(&path, &recon, &estimates, &GlbOptions::default()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // Keep a copy for a look in a viewer: TWINMINT_KEEP_GLB=/some/where/model.glb.
    if let Ok(keep) = std::env::var("TWINMINT_KEEP_GLB") {
        std::fs::write(keep, &bytes).unwrap();
    }
    let doc = check_glb(&bytes);
    // Our own reader agrees.
    let parts = gltf::read_glb(&bytes).unwrap();
    assert_eq!(parts.json, doc);

    // One scene listing every node; names and metrics.
    let nodes = doc["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(doc["scenes"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["scenes"][0]["nodes"].as_array().unwrap().len(),
        nodes.len()
    );
    assert!(names.contains(&"terrain"));
    for t in &recon.trees {
        let name = format!("tree-{}", t.id);
        let node = nodes
            .iter()
            .find(|n| n["name"] == name.as_str())
            .expect(&name);
        assert_eq!(node["extras"]["id"], t.id);
        assert!((node["extras"]["height_m"].as_f64().unwrap() - t.height_m).abs() < 1e-9);
        if t.dbh_cm.is_none() {
            assert!(
                (node["extras"]["mesh_dbh_cm"].as_f64().unwrap() - 1.1 * t.height_m).abs() < 1e-9
            );
        }
        let mesh = &doc["meshes"][node["mesh"].as_u64().unwrap() as usize];
        assert_eq!(mesh["primitives"].as_array().unwrap().len(), 2);
    }
    for r in &recon.pipes {
        let name = format!("pipe-{}", r.id);
        let node = nodes
            .iter()
            .find(|n| n["name"] == name.as_str())
            .expect(&name);
        let back: reconstruct::PipeRun = serde_json::from_value(node["extras"].clone()).unwrap();
        assert_eq!(&back, r);
    }
    assert_eq!(nodes.len(), 1 + recon.trees.len() + recon.pipes.len());
    let mats: Vec<&str> = doc["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(mats, ["bark", "foliage", "pipe", "terrain"]);
    let tm = &doc["asset"]["extras"]["twinmint"];
    assert_eq!(tm["crs"], "EPSG:32633");
    assert!(tm["axes"].as_str().unwrap().contains("(x, z, -y)"));
    let origin: Vec<f64> = serde_json::from_value(tm["origin"].clone()).unwrap();
    assert_eq!(origin, recon.origin.to_vec());

    // Y-up: a tree top sits at +Y = height above the origin's z; north is −Z.
    let t = &recon.trees[0];
    let node = nodes
        .iter()
        .find(|n| n["name"] == format!("tree-{}", t.id).as_str())
        .unwrap();
    let crown_pos = &doc["accessors"]
        [doc["meshes"][node["mesh"].as_u64().unwrap() as usize]["primitives"][1]["attributes"]
            ["POSITION"]
            .as_u64()
            .unwrap() as usize];
    let top_y = crown_pos["max"][1].as_f64().unwrap();
    assert!((top_y - (t.ground_z + t.height_m - recon.origin[2])).abs() < 1e-3);
    let north_z = crown_pos["min"][2].as_f64().unwrap();
    assert!(north_z <= -(t.y - recon.origin[1]) + 1e-3);

    println!(
        "GLB: {} bytes, {} nodes ({} trees, {} pipes, terrain), {} meshes, {} accessors",
        bytes.len(),
        nodes.len(),
        recon.trees.len(),
        recon.pipes.len(),
        doc["meshes"].as_array().unwrap().len(),
        doc["accessors"].as_array().unwrap().len()
    );
    if let Some(report) = khronos_validate(&path) {
        println!(
            "glTF-Validator: {} errors, {} warnings, {} infos",
            report["numErrors"], report["numWarnings"], report["numInfos"]
        );
        assert_eq!(report["numErrors"], 0, "{report}");
        assert_eq!(report["numWarnings"], 0, "{report}");
    }
}

fn sample_raster() -> Raster {
    let mut r = Raster::covering(500_000.0, 5_000_000.0, 500_037.0, 5_000_023.0, 0.5, -9999.0);
    for row in 0..r.height {
        for col in 0..r.width {
            r.data[row * r.width + col] = (250.0 + 0.01 * (row * r.width + col) as f64) as f32;
        }
    }
    r.data[5] = r.nodata;
    r
}

#[test]
fn geotiff_round_trip_and_tags() {
    let r = sample_raster();
    let dir = Scratch::new("tif");
    let path = dir.path("dtm.tif");
    let crs = Crs::epsg(32633);
    geotiff::write_geotiff(&path, &r, &crs, &GeoTiffOptions::default()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let g = geotiff::read_geotiff(&bytes).unwrap();
    assert_eq!(
        g.raster, r,
        "pixels, georeference and nodata round-trip exactly"
    );
    assert_eq!(g.crs.epsg, Some(32633));
    assert_eq!((g.model_type, g.raster_type), (1, 1));
    assert_eq!(g.geokey_version, [1, 1, 1]);
    assert_eq!(g.citation.as_deref(), Some("TwinMint; EPSG:32633"));
    for tag in [
        256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 339, 33550, 33922, 34735, 42113,
    ] {
        assert!(g.tags.contains(&tag), "tag {tag} present");
    }
    assert!(g.rows_per_strip as usize * r.width * 4 <= 8192);
    // Header by hand: little-endian classic TIFF.
    assert_eq!(&bytes[0..4], b"II*\0");

    // Geographic CRS, vertical datum, NaN nodata.
    let mut geo = r.clone();
    geo.nodata = f32::NAN;
    geo.data[7] = f32::NAN;
    let crs = Crs {
        epsg: Some(4326),
        vertical_epsg: Some(5773),
        wkt: None,
    };
    let g =
        geotiff::read_geotiff(&geotiff::encode_geotiff(&geo, &crs, &Default::default()).unwrap())
            .unwrap();
    assert_eq!(g.model_type, 2);
    assert_eq!(g.crs.epsg, Some(4326));
    assert_eq!(g.crs.vertical_epsg, Some(5773));
    assert!(g.raster.nodata.is_nan() && g.raster.data[7].is_nan());
    assert_eq!(g.raster.data[8], geo.data[8]);

    // A CRS known only by WKT is user-defined with the WKT as citation.
    let wkt = r#"PROJCS["local grid",GEOGCS["WGS 84"],UNIT["metre",1]]"#;
    let g = geotiff::read_geotiff(
        &geotiff::encode_geotiff(&r, &Crs::from_wkt(wkt), &Default::default()).unwrap(),
    )
    .unwrap();
    assert_eq!((g.model_type, g.crs.epsg), (1, None));
    assert!(g.citation.unwrap().contains("local grid"));

    // Bad rasters are typed errors.
    let mut bad = r.clone();
    bad.data.pop();
    assert!(geotiff::encode_geotiff(&bad, &Crs::epsg(32633), &Default::default()).is_err());
    assert!(geotiff::read_geotiff(&bytes[..100]).is_err());
}

/// Debian's python3 (where `python3-tifffile` installs) before whatever `python3` is on PATH
/// (pyenv and virtualenvs shadow it).
fn system_python() -> &'static str {
    if Path::new("/usr/bin/python3").is_file() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

#[test]
fn geotiff_cross_check_with_tifffile() {
    let ok = Command::new(system_python())
        .args(["-c", "import tifffile, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        test_support::skip_or_fail(
            "the tifffile cross-check",
            "python3 tifffile is not importable (scripts/setup.sh installs python3-tifffile)",
        );
        return;
    }
    let r = sample_raster();
    let dir = Scratch::new("tifffile");
    let path = dir.path("chm.tif");
    geotiff::write_geotiff(&path, &r, &Crs::epsg(32633), &GeoTiffOptions::default()).unwrap();
    let script = r#"
import json, sys, tifffile, numpy
with tifffile.TiffFile(sys.argv[1]) as t:
    p = t.pages[0]
    a = p.asarray()
    g = t.geotiff_metadata
    print(json.dumps({
        "shape": list(a.shape), "dtype": str(a.dtype),
        "sum": float(numpy.where(a == -9999.0, 0, a).astype(numpy.float64).sum()),
        "nodata": p.tags["GDAL_NODATA"].value,
        "scale": list(g["ModelPixelScale"]), "tie": list(g["ModelTiepoint"]),
        "model": int(g["GTModelTypeGeoKey"]), "raster": int(g["GTRasterTypeGeoKey"]),
        "pcs": int(g.get("ProjectedCSTypeGeoKey", g.get("ProjectedCRSGeoKey", 0))),
    }))
"#;
    let out = test_support::output_ok(
        Command::new(system_python())
            .arg("-c")
            .arg(script)
            .arg(&path),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("tifffile: {v}");
    assert_eq!(v["shape"], serde_json::json!([r.height, r.width]));
    assert_eq!(v["dtype"], "float32");
    let want: f64 = r
        .data
        .iter()
        .filter(|&&x| x != r.nodata)
        .map(|&x| x as f64)
        .sum();
    assert!((v["sum"].as_f64().unwrap() - want).abs() < 1e-6 * want);
    assert_eq!(v["nodata"], "-9999");
    assert_eq!(v["scale"][0].as_f64().unwrap(), 0.5);
    assert_eq!(v["tie"][3].as_f64().unwrap(), r.x_min);
    assert_eq!(v["tie"][4].as_f64().unwrap(), r.y_max);
    assert_eq!(
        (v["model"].as_u64(), v["raster"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["pcs"], 32633);
}

#[test]
fn classified_laz_round_trip() {
    let (cloud, truth) = simulate();
    let (_, point_run) = reconstruction(&cloud, &truth);
    // Labels as the pipeline would supply them (here from the simulator's classes and truth).
    let cls = cloud.classification.as_ref().unwrap();
    let ground: Vec<bool> = cls.iter().map(|&c| c == 2).collect();
    let ids = cloud.extra("truth_id").unwrap();
    let parts = cloud.extra("truth_part").unwrap();
    let tree_id: Vec<u32> = (0..cloud.len())
        .map(|i| match parts.get(i) as u8 {
            synth::PART_STEM | synth::PART_CROWN => ids.get(i) as u32,
            _ => 0,
        })
        .collect();
    let out = classified::classified_cloud(
        &cloud,
        &PointLabels {
            ground: Some(&ground),
            tree_id: Some(&tree_id),
            pipe_run: Some(&point_run),
            ..Default::default()
        },
        &ClassifyOptions::default(),
    )
    .unwrap();
    let dir = Scratch::new("laz");
    let path = dir.path("classified.laz");
    classified::write_classified(&path, &out, &mut NoProgress, &CancelToken::new()).unwrap();
    let back = capture::read(
        &path,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(back.len(), cloud.len());
    let bc = back.classification.as_ref().unwrap();
    let tid = back.extra("treeID").expect("treeID column");
    let pid = back.extra("pipeID").expect("pipeID column");
    let mut counts = BTreeMap::new();
    for i in 0..back.len() {
        *counts.entry(bc[i]).or_insert(0u64) += 1;
        let want = if point_run[i] != 0 {
            64
        } else if ground[i] {
            2
        } else if tree_id[i] != 0 {
            5
        } else {
            1
        };
        assert_eq!(bc[i], want, "point {i}");
        assert_eq!(tid.get(i) as u32, tree_id[i]);
        assert_eq!(pid.get(i) as u32, point_run[i]);
    }
    println!(
        "classified.laz: {} bytes, classes {counts:?}",
        std::fs::metadata(&path).unwrap().len()
    );
    assert!(counts[&2] > 0 && counts[&5] > 0 && counts[&64] > 0);
    // The source's columns survive (truth columns included).
    assert!(back.extra("truth_id").is_some());
    // Label slices of the wrong length are typed errors.
    assert!(
        classified::classified_cloud(
            &cloud,
            &PointLabels {
                ground: Some(&ground[1..]),
                ..Default::default()
            },
            &ClassifyOptions::default(),
        )
        .is_err()
    );
}

/// The COG mosaic as GDAL sees it: its own COG validator (`validate_cloud_optimized_geotiff.py`
/// from python3-gdal) passes, GDAL reports the COG layout, the overviews and the tiling, and
/// its pixel values equal ours — every cell, through GDAL's decoder.
#[test]
fn cog_is_valid_and_read_identically_by_gdal() {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "from osgeo import gdal"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        test_support::skip_or_fail(
            "the GDAL COG check",
            "GDAL's Python bindings are not importable (scripts/setup.sh installs python3-gdal)",
        );
        return;
    }
    // 600 × 300 cells: three tiles across, two overviews; nodata holes included.
    let mut r = Raster::covering(500_000.0, 5_000_000.0, 500_300.0, 5_000_150.0, 0.5, -9999.0);
    r.data = (0..r.width * r.height)
        .map(|k| {
            let (c, row) = ((k % r.width) as f32, (k / r.width) as f32);
            if k % 53 == 0 {
                -9999.0
            } else {
                100.0 + 0.01 * c - 0.02 * row
            }
        })
        .collect();
    let dir = Scratch::new("cog");
    let path = dir.path("dtm.tif");
    reconstruct::cog::write_cog(&path, &r, &Crs::epsg(32633)).unwrap();
    let script = r#"
import json, sys
from osgeo import gdal
from osgeo_utils.samples import validate_cloud_optimized_geotiff as v
gdal.UseExceptions()
warnings, errors, details = v.validate(sys.argv[1], full_check=True)
ds = gdal.Open(sys.argv[1])
b = ds.GetRasterBand(1)
a = b.ReadAsArray()
print(json.dumps({
    "errors": errors, "warnings": warnings,
    "layout": ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"),
    "compression": ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"),
    "size": [ds.RasterXSize, ds.RasterYSize], "block": b.GetBlockSize(),
    "overviews": [[b.GetOverview(i).XSize, b.GetOverview(i).YSize] for i in range(b.GetOverviewCount())],
    "nodata": b.GetNoDataValue(), "geotransform": list(ds.GetGeoTransform()),
    "epsg": ds.GetSpatialRef().GetAuthorityCode(None),
    "values": [float(x) for x in a.ravel()],
}))
"#;
    let out = test_support::output_ok(
        Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(script)
            .arg(&path),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{}", v["errors"]);
    assert_eq!(v["layout"], "COG");
    assert_eq!(v["compression"], "DEFLATE");
    assert_eq!(v["size"], serde_json::json!([600, 300]));
    assert_eq!(v["block"], serde_json::json!([256, 256]));
    assert_eq!(v["overviews"], serde_json::json!([[300, 150], [150, 75]]));
    assert_eq!(v["nodata"], -9999.0);
    assert_eq!(v["epsg"], "32633");
    assert_eq!(
        v["geotransform"],
        serde_json::json!([500_000.0, 0.5, 0.0, 5_000_150.0, 0.0, -0.5])
    );
    let got: Vec<f32> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(got, r.data);
}
