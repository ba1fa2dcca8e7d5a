//! `twinmint bench accuracy` end to end (issue 11): the inventory's accuracy on IDTReeS,
//! MixedConifer and the simulator's multi-layer stands, this release against the previous one.
//! Run with `--nocapture` to see the table's numbers.

use std::process::Command;
use test_support::data_dir as data_root;

fn set<'a>(v: &'a serde_json::Value, name_part: &str, profile: &str) -> &'a serde_json::Value {
    v["sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            let name = s["scores"]["set"].as_str().unwrap();
            s["profile"] == profile
                && name.contains(name_part)
                && (name_part.contains("field height") || !name.contains("field height"))
        })
        .unwrap_or_else(|| panic!("no set {name_part} / {profile}"))
}

fn class<'a>(s: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    s["scores"]["detection"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == label)
        .unwrap()
}

fn ratio(c: &serde_json::Value, num: &str, den: &str) -> f64 {
    c[num].as_f64().unwrap() / c[den].as_f64().unwrap().max(1.0)
}

fn f1(c: &serde_json::Value) -> f64 {
    let (p, r) = (
        ratio(c, "matched", "detected"),
        ratio(c, "matched", "reference"),
    );
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

#[test]
fn accuracy_table_improves_on_the_previous_release() {
    let root = data_root();
    assert!(
        root.join("als/idtrees/trees.csv").exists(),
        "set TWINMINT_DATA"
    );
    let out = test_support::output_ok(
        Command::new(env!("CARGO_BIN_EXE_twinmint"))
            .args(["bench", "accuracy", "--json", "--quiet", "--data"])
            .arg(&root),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for s in v["sets"].as_array().unwrap() {
        let sc = &s["scores"];
        let c10 = sc["detection"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["class"] == "≥ 10 m");
        println!(
            "{} [{}]: ≥10 m {}; height {}; DBH {}; AGB {}; class {} of {}; suppressed {}; lidR ratio {} ARI {}",
            sc["set"],
            s["profile"],
            c10.map_or("–".into(), |c| c.to_string()),
            sc["height"],
            sc["dbh_cm"],
            sc["agb_kg"],
            sc["class_correct"],
            sc["class_known"],
            sc["suppressed"],
            s["lidr_count_ratio"],
            s["lidr_ari"]
        );
    }
    // IDTReeS: more crowns get a detected tree than with the previous profile, and at least 80 %.
    let (now, before) = (
        set(&v, "IDTReeS", "current"),
        set(&v, "IDTReeS", "previous"),
    );
    let (r_now, r_before) = (
        ratio(class(now, "all"), "matched", "reference"),
        ratio(class(before, "all"), "matched", "reference"),
    );
    println!("IDTReeS crown recall {r_now:.3} (previous {r_before:.3})");
    assert!(
        r_now >= 0.80 && r_now > r_before + 0.1,
        "{r_now} vs {r_before}"
    );
    // The simulator's multi-layer stands: F1 of trees ≥ 10 m up on both densities, precision
    // kept, conifer/broadleaf right for most trees, suppressed trees' recall reported.
    for d in ["ALS", "drone"] {
        let (now, before) = (set(&v, d, "current"), set(&v, d, "previous"));
        let (f_now, f_before) = (f1(class(now, "≥ 10 m")), f1(class(before, "≥ 10 m")));
        let p_now = ratio(class(now, "≥ 10 m"), "matched", "detected");
        let acc = now["scores"]["class_correct"].as_f64().unwrap()
            / now["scores"]["class_known"].as_f64().unwrap();
        println!(
            "simulator {d}: F1 ≥ 10 m {f_now:.3} (previous {f_before:.3}), precision {p_now:.3}, class accuracy {acc:.3}"
        );
        // Sparse ALS must improve; drone density keeps the dense profile of the previous release.
        assert!(f_now >= 0.65, "{d}: F1 {f_now}");
        if d == "ALS" {
            assert!(f_now >= f_before + 0.05, "{d}: {f_now} vs {f_before}");
        }
        assert!(p_now >= 0.85, "{d}: precision {p_now}");
        assert!(acc >= 0.85, "{d}: class accuracy {acc}");
        assert!(now["scores"]["suppressed"]["reference"].as_u64().unwrap() > 0);
        let h = now["scores"]["height"]["rmse"].as_f64().unwrap();
        assert!(h <= 1.0, "{d}: height RMSE {h}");
    }
}
