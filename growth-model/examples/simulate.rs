//! `cargo run -p growth-model --example simulate [trees] [years] [runs]` — runs the default
//! simulation on a synthetic stand and prints the stand table and the collateral summary.

use growth_model::{
    CancelToken, SimulationOptions, collateral_csv, run, stand_csv, synthetic_stand,
};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric argument"))
        .collect();
    let trees = synthetic_stand(args.first().copied().unwrap_or(1_000), 7);
    let opts = SimulationOptions {
        years: args.get(1).copied().unwrap_or(30) as u32,
        runs: args.get(2).copied().unwrap_or(1_000) as u32,
        ..Default::default()
    };
    let sim = run(&trees, &opts, &mut |_, _| {}, &CancelToken::new()).expect("simulation runs");
    println!("{}", stand_csv(&sim));
    println!("{}", collateral_csv(&sim));
    println!(
        "area {:.2} ha, forest type {:?}",
        sim.settings.derived.area_ha, sim.settings.derived.forest_type
    );
    println!("NPV {:?}", sim.valuation.npv);
    let t = std::time::Instant::now();
    let json = sim.to_json();
    println!(
        "simulation.json: {:.1} MB, serialised in {:.2} s",
        json.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    for w in &sim.warnings {
        println!("warning: {w}");
    }
}
