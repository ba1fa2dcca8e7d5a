//! `twinmint bench view`: the viewer's out-of-core pipeline on a synthetic airborne forest scan —
//! LAZ load, octree build, and per-frame LOD selection along a camera orbit (target: select
//! < 2 ms per frame at 20 M points).
//!
//! The cloud comes from the scan simulator ([`capture::synth`], as `twinmint synth --scene
//! forest`) with the plot side scaled so the default drone density (≈ 140 points/m²) reaches the
//! requested count; its `truth_id` becomes a `treeID` column so the tree attribute path is
//! exercised too.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
use capture::{CancelToken, ExtraColumn, NoProgress, ReadOptions};

use twinmint_app::viewer::lod::{self, LodCamera};
use twinmint_app::viewer::octree::{Octree, OctreeOptions, TREE_ID_COLUMN};

/// Per-frame LOD selection target.
pub const SELECT_TARGET_MS: f64 = 2.0;
/// Points per hectare of the simulator's default drone scan.
const DEFAULT_POINTS_PER_HA: f64 = 1.4e6;

/// What one run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ViewBench {
    pub points: u64,
    pub plot_side_m: f64,
    pub simulate_s: f64,
    pub load_s: f64,
    pub build_s: f64,
    pub nodes: usize,
    pub root_points: u64,
    pub max_depth: u8,
    pub cache_mb: f64,
    pub budget: u64,
    pub frames: u32,
    pub select_ms_mean: f64,
    pub select_ms_p95: f64,
    pub select_ms_max: f64,
    pub selected_points_mean: f64,
    pub selected_nodes_mean: f64,
    /// Reading one frame's selection from the cache file (warm page cache).
    pub read_frame_s: f64,
    pub read_frame_points: u64,
}

/// Removes the scratch folder however the bench ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run the bench: simulate, write LAZ, time the load, the build and `frames` selections.
pub fn measure(points: u64, budget: u64, frames: u32) -> anyhow::Result<ViewBench> {
    anyhow::ensure!(points >= 1000, "use at least 1000 points");
    anyhow::ensure!(frames >= 1, "use at least one frame");
    let dir = std::env::temp_dir().join(format!("twinmint-bench-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let scratch = Scratch(dir);
    let laz = scratch.0.join("scene.laz");
    let cache = scratch.0.join("scene.octree");
    let cancel = CancelToken::new();

    // (a) Synthetic forest at the simulator's default density, written as LAZ.
    let side = (100.0 * (points as f64 / DEFAULT_POINTS_PER_HA).sqrt()).max(30.0);
    let mut o = SynthOptions::default();
    o.scene.width_m = side;
    o.scene.depth_m = side;
    o.scene.pipes.count = 0;
    o.scan = ScanPattern::Airborne(AirborneOptions {
        target_points: Some(points),
        ..Default::default()
    });
    let t = Instant::now();
    let mut cloud = synth::run(&o, &mut NoProgress, &cancel)?.cloud;
    if let Some(ids) = cloud.extra(synth::TRUTH_ID_COLUMN) {
        let tree: Vec<u32> = (0..ids.len()).map(|i| ids.get(i) as u32).collect();
        cloud.set_extra(ExtraColumn::from_u32(TREE_ID_COLUMN, &tree));
    }
    let simulate_s = t.elapsed().as_secs_f64();
    capture::write(&cloud, &laz, &mut NoProgress, &cancel)?;
    drop(cloud);

    let t = Instant::now();
    let cloud = capture::read(&laz, &ReadOptions::default(), &mut NoProgress, &cancel)?;
    let load_s = t.elapsed().as_secs_f64();

    // (b) Octree.
    let t = Instant::now();
    let tree = Octree::build(&cloud, &OctreeOptions::default(), &cache, &|_| {}, &|| {
        false
    })?;
    let build_s = t.elapsed().as_secs_f64();
    let cache_mb = std::fs::metadata(&cache)?.len() as f64 / 1e6;

    // (c) Orbit: a full turn around the plot centre, the radius swinging between a close
    // fly-over and the whole plot in view, looking at the ground in the middle.
    let b = cloud.bounds();
    let c: [f64; 3] = std::array::from_fn(|k| 0.5 * (b.min[k] + b.max[k]) - cloud.origin[k]);
    let ground = b.min[2] - cloud.origin[2];
    let extent = b.extent()[0].max(b.extent()[1]);
    drop(cloud);
    let (fov, height_px, aspect) = (60f64.to_radians(), 1080.0, 16.0 / 9.0);
    let mut times = Vec::with_capacity(frames as usize);
    let mut sel = Vec::new();
    let (mut pts_sum, mut nodes_sum) = (0u64, 0usize);
    let mut read_pick = (0u64, Vec::new());
    for f in 0..frames {
        let a = std::f64::consts::TAU * f as f64 / frames as f64;
        let r = extent * (0.55 + 0.4 * (3.0 * a).cos());
        let eye = [
            c[0] + r * a.cos(),
            c[1] + r * a.sin(),
            ground + 0.15 * extent + 0.25 * r,
        ];
        let target = [c[0], c[1], ground];
        let vp = lod::look_at_perspective(eye, target, [0.0, 0.0, 1.0], fov, aspect, 0.5, 1e5);
        let cam = LodCamera::from_view_projection(eye, vp, height_px, fov);
        let t = Instant::now();
        let used = lod::select(&tree, &cam, budget, 1.0, &mut sel);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        pts_sum += used;
        nodes_sum += sel.len();
        if used > read_pick.0 {
            read_pick = (used, sel.clone());
        }
    }

    // How long loading a (the fullest) frame's nodes takes from the cache file.
    let t = Instant::now();
    let mut read_points = 0u64;
    for &id in &read_pick.1 {
        read_points += tree.read_node(id)?.len() as u64;
    }
    let read_frame_s = t.elapsed().as_secs_f64();

    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let p95 = sorted[((sorted.len() as f64 * 0.95).ceil() as usize).clamp(1, sorted.len()) - 1];
    Ok(ViewBench {
        points: tree.total_points,
        plot_side_m: side,
        simulate_s,
        load_s,
        build_s,
        nodes: tree.nodes.len(),
        root_points: tree.nodes[0].point_count as u64,
        max_depth: tree.max_depth(),
        cache_mb,
        budget,
        frames,
        select_ms_mean: times.iter().sum::<f64>() / times.len() as f64,
        select_ms_p95: p95,
        select_ms_max: *sorted.last().unwrap(),
        selected_points_mean: pts_sum as f64 / frames as f64,
        selected_nodes_mean: nodes_sum as f64 / frames as f64,
        read_frame_s,
        read_frame_points: read_points,
    })
}

/// The result as a Markdown table plus the target line.
pub fn print_table(r: &ViewBench) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("| step | value |");
    println!("|---|---|");
    println!(
        "| points | {} ({:.0} m × {:.0} m simulated forest, {:.1} s to simulate) |",
        r.points, r.plot_side_m, r.plot_side_m, r.simulate_s
    );
    println!("| load (LAZ read) | {:.2} s |", r.load_s);
    println!(
        "| octree build | {:.2} s ({:.1} M points/s, cache {:.0} MB) |",
        r.build_s,
        r.points as f64 / r.build_s / 1e6,
        r.cache_mb
    );
    println!("| nodes | {} (root {} points) |", r.nodes, r.root_points);
    println!("| max depth | {} |", r.max_depth);
    println!(
        "| LOD select per frame (mean / p95 / max, {} frames) | {:.3} / {:.3} / {:.3} ms |",
        r.frames, r.select_ms_mean, r.select_ms_p95, r.select_ms_max
    );
    println!(
        "| points selected per frame (budget {}) | {:.0} in {:.0} nodes |",
        r.budget, r.selected_points_mean, r.selected_nodes_mean
    );
    println!(
        "| read one frame's nodes from cache | {:.3} s ({} points, {:.0} M points/s) |",
        r.read_frame_s,
        r.read_frame_points,
        r.read_frame_points as f64 / r.read_frame_s.max(1e-9) / 1e6
    );
    println!(
        "target: LOD select < {SELECT_TARGET_MS} ms per frame on {threads} threads — ratio target/mean {:.1}×, target/p95 {:.1}×{}",
        SELECT_TARGET_MS / r.select_ms_mean.max(1e-9),
        SELECT_TARGET_MS / r.select_ms_p95.max(1e-9),
        if cfg!(debug_assertions) {
            " (debug build: use --release)"
        } else {
            ""
        }
    );
}
