//! The bundled demo sample is the simulator's own output: regenerating it from its seed gives
//! the same points, and its truth table describes its cloud.

use std::path::PathBuf;

use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
use capture::{CancelToken, NoProgress, ReadOptions};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz")
}

#[test]
fn bundled_sample_is_reproducible_from_its_seed() {
    let committed = capture::read(
        &sample(),
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let mut o = SynthOptions::default();
    o.scene.seed = 7;
    o.scene.width_m = 60.0;
    o.scene.depth_m = 60.0;
    o.scene.pipes.count = 0;
    o.scan = ScanPattern::Airborne(AirborneOptions {
        target_points: Some(150_000),
        ..Default::default()
    });
    let fresh = synth::run(&o, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(
        committed.len(),
        fresh.cloud.len(),
        "scripts/make-sample.sh and this test disagree"
    );
    for i in (0..committed.len()).step_by(997) {
        let (a, b) = (committed.absolute(i), fresh.cloud.absolute(i));
        for k in 0..3 {
            assert!((a[k] - b[k]).abs() <= 0.001, "point {i}: {a:?} vs {b:?}");
        }
    }
    assert_eq!(
        committed.extra("truth_id").unwrap().data,
        fresh.cloud.extra("truth_id").unwrap().data
    );
    let truth = synth::read_truth(&sample().with_file_name("forest.truth.json")).unwrap();
    assert_eq!(truth.trees.len(), fresh.truth.trees.len());
    assert_eq!(truth.point_count, committed.len() as u64);
}

#[test]
fn sample_truth_matches_its_cloud() {
    let cloud = capture::read(
        &sample(),
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let truth = synth::read_truth(&sample().with_file_name("forest.truth.json")).unwrap();
    let ids = cloud.extra("truth_id").unwrap();
    let mut top = vec![f64::NEG_INFINITY; truth.trees.len() + 1];
    let mut count = vec![0u32; truth.trees.len() + 1];
    for i in 0..cloud.len() {
        let id = ids.get(i) as usize;
        if id >= 1 && id <= truth.trees.len() {
            top[id] = top[id].max(cloud.absolute(i)[2]);
            count[id] += 1;
        }
    }
    let mut checked = 0;
    for t in &truth.trees {
        if count[t.id as usize] >= 100 {
            let h = top[t.id as usize] - t.ground_z;
            assert!(
                h <= t.height_m + 0.1 && h > t.height_m - 1.0,
                "tree {}: {h:.2} vs {:.2}",
                t.id,
                t.height_m
            );
            checked += 1;
        }
    }
    assert!(
        checked * 10 >= truth.trees.len() * 8,
        "only {checked} of {} trees well sampled",
        truth.trees.len()
    );
    let ground = (0..cloud.len()).filter(|&i| ids.get(i) == 0.0).count();
    assert_eq!(
        cloud.class_counts().get(&2).copied().unwrap_or(0),
        ground as u64
    );
}
