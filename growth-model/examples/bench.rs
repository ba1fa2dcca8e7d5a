//! `cargo run --release -p growth-model --example bench [trees] [years] [runs]`
//! Defaults: 10 000 trees × 50 years × 1 000 runs (the issue 4 target: under 10 s on 2 cores).

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric argument"))
        .collect();
    let trees = args.first().copied().unwrap_or(10_000);
    let years = args.get(1).copied().unwrap_or(50) as u32;
    let runs = args.get(2).copied().unwrap_or(1_000) as u32;
    let r = growth_model::bench(trees, years, runs).expect("bench runs");
    println!(
        "{} trees × {} years × {} runs on {} threads: {:.2} s (precompute {:.2} s, Monte Carlo \
         {:.2} s) — {:.3e} tree-years/s; final P50 stock {:.0} t CO2e",
        r.trees,
        r.years,
        r.runs,
        r.threads,
        r.total_s,
        r.precompute_s,
        r.monte_carlo_s,
        r.tree_years_per_s,
        r.final_stock_p50_co2e_t
    );
}
