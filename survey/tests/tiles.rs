//! Issue "Wall-to-wall surveys": a simulated stand given as two files in a tiling unlike the
//! plan's, planned in 2 × 2 and 4 × 4 tiles, every tile run as its own task, merged — against
//! one process reconstructing the whole cloud.

use std::path::Path;

use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
use capture::{CancelToken, NoProgress, PointCloud};
use reconstruct::pipeline::ReconstructOptions;
use survey::tile::{Outcome, run_tile};

fn options() -> ReconstructOptions {
    ReconstructOptions {
        device: reconstruct::gpu::DevicePreference::Cpu,
        pipes: None,
        noise: None,
        ..Default::default()
    }
}

/// The scene split at x = 500 037 m: two input files in their own tiling.
fn inputs(dir: &Path) -> (PointCloud, Vec<std::path::PathBuf>) {
    let mut o = SynthOptions::default();
    o.scene.seed = 21;
    o.scan = ScanPattern::Airborne(AirborneOptions {
        target_points: Some(400_000),
        ..Default::default()
    });
    let cloud = synth::run(&o, &mut NoProgress, &CancelToken::new())
        .unwrap()
        .cloud;
    let split = 500_037.0 - cloud.origin[0];
    let west: Vec<usize> = (0..cloud.len())
        .filter(|&i| (cloud.positions[i][0] as f64) < split)
        .collect();
    let east: Vec<usize> = (0..cloud.len())
        .filter(|&i| (cloud.positions[i][0] as f64) >= split)
        .collect();
    let mut files = Vec::new();
    for (name, idx) in [("west.laz", west), ("east.laz", east)] {
        let p = dir.join(name);
        capture::write(
            &cloud.select(&idx),
            &p,
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        files.push(p);
    }
    (cloud, files)
}

fn run_survey(dir: &Path, files: &[std::path::PathBuf], tile: f64) -> Vec<reconstruct::Tree> {
    let plan = survey::plan::plan(files, tile, 30.0, options()).unwrap();
    plan.write(dir).unwrap();
    for t in &plan.tiles {
        let r = run_tile(dir, t.index, None, &mut |_, _| {}, &CancelToken::new()).unwrap();
        assert!(matches!(r, Outcome::Ran(_)));
        // A rerun of a done task is a no-op.
        let again = run_tile(dir, t.index, None, &mut |_, _| {}, &CancelToken::new()).unwrap();
        assert_eq!(again, Outcome::AlreadyDone);
    }
    survey::merge::merge(dir, &capture::CancelToken::new()).unwrap();
    survey::merge::merged_trees(dir).unwrap()
}

#[test]
fn tiled_survey_equals_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let (cloud, files) = inputs(tmp.path());
    // One process on the whole cloud with the options the plan gives every tile.
    let plan = survey::plan::plan(&files, 50.0, 30.0, options()).unwrap();
    let whole = reconstruct::pipeline::run_on(
        &cloud,
        &plan.reconstruct,
        None,
        &mut |_, _| {},
        &CancelToken::new(),
    )
    .unwrap();
    let single: Vec<&reconstruct::Tree> = whole.reconstruction.trees.iter().collect();

    let two = run_survey(&tmp.path().join("s50"), &files, 50.0);
    let four = run_survey(&tmp.path().join("s25"), &files, 25.0);
    for (name, merged) in [("2 x 2", &two), ("4 x 4", &four)] {
        let mut matched = 0;
        let mut worst = 0.0f64;
        for t in single.iter() {
            if let Some(m) = merged
                .iter()
                .map(|m| (m, (m.x - t.x).hypot(m.y - t.y)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .filter(|(_, d)| *d <= 0.01)
            {
                matched += 1;
                worst = worst.max(m.1);
            }
        }
        eprintln!(
            "{name}: {} merged vs {} single-process trees; {matched} within 1 cm (worst {worst:.4} m)",
            merged.len(),
            single.len()
        );
        // Exactly the same trees: cells and apexes are chosen on absolute millimetres (no
        // float noise from a tile's origin), and the cloth a tile drapes differs from the whole
        // one's by millimetres only.
        assert_eq!(
            merged.len(),
            single.len(),
            "{name}: tree count {} vs {}",
            merged.len(),
            single.len()
        );
        assert_eq!(
            matched,
            single.len(),
            "{name}: {matched} of {} within 1 cm",
            single.len()
        );
        // No tree twice.
        let mut keys: Vec<(i64, i64)> = merged
            .iter()
            .map(|t| survey::ids::apex_key(t.x, t.y))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), merged.len(), "{name}: duplicates");
    }
    // The DTM mosaic has no seam: across each core edge it steps as the one-process DTM does.
    let m = reconstruct::geotiff::read_geotiff_file(&tmp.path().join("s50/merged/dtm.tif"))
        .unwrap()
        .raster;
    let res = m.resolution_m;
    let mut seam = 0.0f64;
    for row in 0..m.height {
        for col in 1..m.width {
            let (x, y) = m.center(col, row);
            // A vertical core edge between this cell and the previous one.
            let edge = x - res / 2.0;
            if ((edge - 500_050.0).abs()) > 1e-6 {
                continue;
            }
            let (a, b) = (m.get(col - 1, row) as f64, m.get(col, row) as f64);
            let (sa, sb) = (whole.dtm.sample(x - res, y), whole.dtm.sample(x, y));
            if let (Some(sa), Some(sb)) = (sa, sb) {
                seam = seam.max(((b - a) - (sb - sa)).abs());
            }
        }
    }
    eprintln!("DTM seam discontinuity {seam:.4} m");
    assert!(seam <= 0.02, "DTM seam {seam:.3} m > 2 cm");

    // The merged estate's cloud is COPC: every input point once, in octree chunks a COPC
    // reader (the las crate's) walks and queries.
    let mut copc = las::CopcReader::from_path(tmp.path().join("s25/merged/cloud.laz")).unwrap();
    let in_nodes: i64 = copc
        .hierarchy_entries()
        .map(|e| i64::from(e.point_count))
        .sum();
    assert_eq!(in_nodes, cloud.len() as i64);
    let root = copc
        .query(las::LodSelection::Level(0), las::BoundsSelection::All)
        .unwrap();
    assert!(!root.is_empty() && root.len() <= cloud.len());

    // The same inputs delivered as COPC: each tile decodes only the octree nodes meeting its
    // buffered box, and finds exactly the same trees.
    let copc: Vec<std::path::PathBuf> = files
        .iter()
        .map(|f| {
            let c = capture::read(f, &Default::default(), &mut NoProgress, &CancelToken::new())
                .unwrap();
            let out = f.with_extension("copc.laz");
            let o = capture::copc::CopcOptions {
                max_node_points: 5_000,
                ..Default::default()
            };
            capture::copc::write_copc(&c, &out, &o, &CancelToken::new()).unwrap();
            out
        })
        .collect();
    let from_copc = run_survey(&tmp.path().join("c50"), &copc, 50.0);
    assert_eq!(from_copc.len(), two.len(), "COPC inputs: tree count");
    for (a, b) in from_copc.iter().zip(&two) {
        assert_eq!(a.id, b.id);
        assert!((a.x - b.x).hypot(a.y - b.y) <= 0.01, "{} {}", a.id, b.id);
    }

    // Ids stay when the tile size changes.
    for t in &two {
        let same = four
            .iter()
            .find(|f| survey::ids::apex_key(f.x, f.y) == survey::ids::apex_key(t.x, t.y));
        if let Some(f) = same {
            assert_eq!(f.id, t.id);
        }
    }
}
