//! Simulator stands with exact truth for the accuracy table: a multi-layer stand (clumped
//! canopy over an understorey, so some canopy trees stand under taller crowns) scanned as
//! sparse airborne LiDAR (~10 first returns/m², the density of most national ALS programmes)
//! and as dense drone LiDAR.

use capture::synth::{AirborneOptions, ScanPattern, SceneOptions, SynthOptions, Truth};

use crate::model::SpeciesClass;

use super::ReferenceTree;

/// Density profiles the table runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Density {
    /// ~10 first returns / m².
    SparseAls,
    /// ~100 points / m².
    Drone,
}

/// A multi-layer stand: 80 m × 80 m, 250 canopy trees/ha of 10–30 m with 20 % in clumps
/// (1.5 m spacing within 4 m), 300 understorey trees/ha of 3–9 m, 50 % conifers.
pub fn multilayer(seed: u64, density: Density) -> SynthOptions {
    let mut scene = SceneOptions {
        seed,
        width_m: 80.0,
        depth_m: 80.0,
        ..Default::default()
    };
    let t = &mut scene.trees;
    t.density_per_ha = 250.0;
    t.min_height_m = 10.0;
    t.max_height_m = 30.0;
    t.conifer_fraction = 0.5;
    t.min_spacing_m = 2.5;
    t.clump_fraction = 0.2;
    t.understorey_density_per_ha = 300.0;
    let points_per_m2 = match density {
        Density::SparseAls => 14.0,
        Density::Drone => 100.0,
    };
    SynthOptions {
        scene,
        scan: ScanPattern::Airborne(AirborneOptions {
            target_density_per_m2: Some(points_per_m2),
            ..Default::default()
        }),
        capture_time: None,
        resurvey: None,
    }
}

/// The reference trees of a simulated scene (all of them: precision is meaningful).
pub fn reference(truth: &Truth) -> Vec<ReferenceTree> {
    truth
        .trees
        .iter()
        .map(|t| ReferenceTree {
            id: t.id.to_string(),
            x: t.x,
            y: t.y,
            height_m: Some(t.height_m),
            dbh_cm: Some(t.dbh_cm),
            class: Some(match t.species_group {
                capture::synth::SpeciesGroup::Conifer => SpeciesClass::Conifer,
                capture::synth::SpeciesGroup::Broadleaf => SpeciesClass::Broadleaf,
            }),
            agb_kg: None,
            suppressed: t.suppressed,
        })
        .collect()
}
