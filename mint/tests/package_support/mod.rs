//! A small synthetic project for the package and verify tests: a simulated airborne scan of a
//! 40 m × 40 m forest plot, ingested as a project folder, with a `reconstruction.json` written
//! from the reconstruct stage's own type (trees from the scan's truth), a minimal valid
//! `model.glb`, and optionally a short `simulation.json` from the growth model.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use capture::synth::{AirborneOptions, ScanPattern, SceneOptions, SynthOptions};
use capture::{CancelToken, NoProgress};

/// The smallest valid binary glTF 2.0: a 12-byte header and one JSON chunk.
pub fn minimal_glb() -> Vec<u8> {
    let mut json = br#"{"asset":{"version":"2.0","generator":"twinmint test"}}"#.to_vec();
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out
}

/// Write `dir/<name>.twinmint` and return its path. `simulate` adds a 10-year, 16-run
/// simulation.json.
pub fn synth_project(dir: &Path, name: &str, seed: u64, simulate: bool) -> PathBuf {
    let out = capture::synth::run(
        &SynthOptions {
            scene: SceneOptions {
                seed,
                width_m: 40.0,
                depth_m: 40.0,
                ..Default::default()
            },
            scan: ScanPattern::Airborne(AirborneOptions {
                target_points: Some(20_000),
                ..Default::default()
            }),
            capture_time: None,
            resurvey: None,
        },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let project = dir.join(format!("{name}.twinmint"));
    capture::project::write_project(
        &out.cloud,
        &[],
        &project,
        false,
        &mut |_| {},
        &CancelToken::new(),
    )
    .unwrap();

    let trees: Vec<reconstruct::model::Tree> = out
        .truth
        .trees
        .iter()
        .map(|t| {
            let r = t.crown_radius_m;
            reconstruct::model::Tree {
                id: t.id,
                x: t.x,
                y: t.y,
                ground_z: out.truth.ground_height(t.x, t.y),
                height_m: t.height_m,
                crown_area_m2: std::f64::consts::PI * r * r,
                crown_diameter_m: 2.0 * r,
                crown_base_height_m: None,
                point_count: 100,
                hull: (0..8)
                    .map(|k| {
                        let a = k as f64 * std::f64::consts::FRAC_PI_4;
                        [t.x + r * a.cos(), t.y + r * a.sin()]
                    })
                    .collect(),
                dbh_status: reconstruct::model::DbhStatus::NotObserved,
                dbh_cm: None,
                dbh_fit_rms_cm: None,
                species: None,
            }
        })
        .collect();
    assert!(!trees.is_empty(), "the synthetic plot has trees");
    let rec = reconstruct::Reconstruction {
        schema_version: reconstruct::model::RECONSTRUCTION_SCHEMA_VERSION,
        generator: reconstruct::model::GENERATOR.into(),
        crs: out.cloud.crs.clone(),
        origin: out.cloud.origin,
        terrain: reconstruct::model::TerrainStats {
            ground_points: 5_000,
            min_z: 240.0,
            max_z: 260.0,
            mean_z: 250.0,
            mean_slope_deg: 4.0,
            max_slope_deg: 9.0,
            area_m2: 1_600.0,
        },
        dtm: None,
        chm: None,
        trees: trees.clone(),
        pipes: Vec::new(),
        options: serde_json::json!({"test": true}),
        run: Default::default(),
    };
    capture::atomic::write_json(&project.join("reconstruction.json"), &rec).unwrap();
    std::fs::write(project.join("model.glb"), minimal_glb()).unwrap();

    if simulate {
        let inputs: Vec<growth_model::TreeInput> = trees
            .iter()
            .map(|t| growth_model::TreeInput {
                id: t.id,
                x: t.x,
                y: t.y,
                height_m: t.height_m,
                crown_diameter_m: t.crown_diameter_m,
                dbh_cm: None,
                species_group: None,
                ..Default::default()
            })
            .collect();
        let opts = growth_model::SimulationOptions {
            years: 10,
            runs: 16,
            start_year: 2024,
            area_ha: Some(0.16),
            ..Default::default()
        };
        let sim = growth_model::run(
            &inputs,
            &opts,
            &mut |_, _| {},
            &growth_model::CancelToken::new(),
        )
        .unwrap();
        std::fs::write(project.join("simulation.json"), sim.to_json()).unwrap();
    }
    project
}

/// Flip the lowest bit of the byte at `offset` (from the end when negative).
pub fn flip_byte(path: &Path, offset: isize) {
    let mut b = std::fs::read(path).unwrap();
    let i = if offset < 0 {
        (b.len() as isize + offset) as usize
    } else {
        offset as usize
    };
    b[i] ^= 1;
    std::fs::write(path, b).unwrap();
}
