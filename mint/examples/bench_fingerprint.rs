//! `cargo run --release -p mint --example bench_fingerprint [POINTS] [RUNS]`
//!
//! Prints the fingerprint throughput on a synthetic cloud (default 5 M points, 5 runs).

fn main() {
    let mut args = std::env::args().skip(1);
    let mut o = mint::bench::BenchOptions::default();
    if let Some(p) = args.next() {
        o.points = p
            .replace('_', "")
            .parse()
            .expect("POINTS must be an integer");
    }
    if let Some(r) = args.next() {
        o.runs = r.parse().expect("RUNS must be an integer");
    }
    match mint::bench::bench(&o) {
        Ok(r) => println!("{r}"),
        Err(e) => {
            eprintln!("bench_fingerprint: {e}");
            std::process::exit(1);
        }
    }
}
