//! Across stages: a simulated forest, reconstructed, then grown — stand carbon from our
//! reconstruction must agree with carbon from the simulator's truth (issue 4 acceptance).

use capture::synth::{self, AirborneOptions, ScanPattern, SynthOptions};
use capture::{CancelToken, NoProgress};
use growth_model::{SimulationOptions, TreeInput};
use reconstruct::pipeline::{self, ReconstructOptions};

fn grow(trees: &[TreeInput], area_ha: f64) -> (f64, f64) {
    let opts = SimulationOptions {
        years: 20,
        runs: 100,
        area_ha: Some(area_ha),
        ..Default::default()
    };
    let sim = growth_model::run(
        trees,
        &opts,
        &mut |_, _| {},
        &growth_model::CancelToken::new(),
    )
    .unwrap();
    let s = &sim.stand.stock_co2e_t.p50;
    (s[0], *s.last().unwrap())
}

#[test]
fn stand_carbon_from_reconstruction_matches_truth() {
    let mut o = SynthOptions::default();
    o.scene.seed = 11;
    o.scene.width_m = 80.0;
    o.scene.depth_m = 80.0;
    o.scan = ScanPattern::Airborne(AirborneOptions {
        target_points: Some(500_000),
        ..Default::default()
    });
    let out = synth::run(&o, &mut NoProgress, &CancelToken::new()).unwrap();
    let area_ha = 0.64;
    let rec = pipeline::run(
        &out.cloud,
        &ReconstructOptions::default(),
        &mut |_, _| {},
        &CancelToken::new(),
    )
    .unwrap()
    .reconstruction;
    let truth_trees = twinmint_app::workflow::simulate::truth_trees(&out.truth);
    // Structure and growth, not the species classifier (measured by `twinmint bench accuracy`):
    // the detected trees go in without their class call, valued with the default group.
    let ours: Vec<TreeInput> = twinmint_app::workflow::simulate::reconstruction_trees(&rec)
        .into_iter()
        .map(|t| TreeInput {
            conifer: None,
            species: None,
            ..t
        })
        .collect();
    let (t0, t1) = grow(&truth_trees, area_ha);
    let (r0, r1) = grow(&ours, area_ha);
    let d0 = (r0 - t0).abs() / t0;
    let d1 = (r1 - t1).abs() / t1;
    println!(
        "trees: truth {} reconstructed {}; stand CO2e now {t0:.1} vs {r0:.1} t ({:.1}%), in 20 years {t1:.1} vs {r1:.1} t ({:.1}%)",
        truth_trees.len(),
        ours.len(),
        100.0 * d0,
        100.0 * d1
    );
    assert!(
        d0 <= 0.15 && d1 <= 0.15,
        "stand carbon differs by {:.1}% / {:.1}%",
        100.0 * d0,
        100.0 * d1
    );
    // The terrain under the forest is the simulator's, within decimetres.
    let dtm = rec.dtm.as_ref().unwrap();
    let mut se = 0.0;
    let mut n = 0;
    for row in (2..dtm.height - 2).step_by(3) {
        for col in (2..dtm.width - 2).step_by(3) {
            let (x, y) = dtm.center(col, row);
            let v = dtm.get(col, row);
            if !dtm.is_nodata(v) {
                se += (v as f64 - out.truth.ground_height(x, y)).powi(2);
                n += 1;
            }
        }
    }
    let rmse = (se / n as f64).sqrt();
    println!("DTM RMSE vs simulator terrain: {rmse:.3} m over {n} cells");
    assert!(rmse < 0.3, "{rmse}");
}
