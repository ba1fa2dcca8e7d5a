//! Tests of `resurvey::carry` (src/carry.rs).
use growth_model::allometry::SpeciesGroup;
use resurvey::carry::*;
use resurvey::change::{Status, TreeChange};

fn naslund(a: f64, b: f64, d: f64) -> f64 {
    BREAST_HEIGHT_M + d * d / (a + b * d).powi(2)
}

#[test]
fn the_fit_recovers_a_curve_and_inverts_it() {
    let trees: Vec<(f64, f64)> = (5..60)
        .map(|d| (naslund(1.6, 0.22, d as f64), d as f64))
        .collect();
    let c = HdCurve::fit(&trees).unwrap();
    assert!(
        (c.a - 1.6).abs() < 1e-9 && (c.b - 0.22).abs() < 1e-9,
        "{c:?}"
    );
    for d in [8.0, 25.0, 55.0] {
        let h = naslund(1.6, 0.22, d);
        assert!((c.dbh_cm(h).unwrap() - d).abs() < 1e-6);
    }
    // No diameter at breast height, none at or past the asymptote 1.3 + 1/b².
    assert_eq!(c.dbh_cm(1.3), None);
    assert_eq!(c.dbh_cm(1.3 + 1.0 / (0.22f64 * 0.22)), None);
    // Too few trees, or no spread in DBH: no curve.
    assert_eq!(HdCurve::fit(&trees[..2]), None);
    assert_eq!(HdCurve::fit(&[(10.0, 20.0); 5]), None);
}

fn survivor(pid: u32, id: u32, h: f64) -> TreeChange {
    TreeChange {
        previous_id: Some(pid),
        id: Some(id),
        x: 0.0,
        y: 0.0,
        status: Status::Survivor,
        height_before_m: None,
        height_m: Some(h),
        height_increment_m: None,
        crown_diameter_increment_m: None,
        dbh_increment_cm: None,
        density_ratio: None,
        co2e_before_t: None,
        co2e_t: None,
        drift: None,
    }
}

#[test]
fn survivors_keep_their_ratio_to_the_curve() {
    // Trees on the curve, one tree 20 % stouter than the curve.
    let mut prev: Vec<PreviousTree> = (0..40)
        .map(|i| {
            let d = 10.0 + i as f64;
            PreviousTree {
                id: i,
                height_m: naslund(1.6, 0.22, d),
                dbh_cm: d,
                observed: true,
                group: SpeciesGroup::Pine,
            }
        })
        .collect();
    prev[10].dbh_cm *= 1.2;
    let grown = naslund(1.6, 0.22, 23.0);
    let changes = vec![
        survivor(10, 100, grown),
        // Lost height: keeps its DBH.
        survivor(5, 101, prev[5].height_m - 1.0),
        // A removed tree: nothing carried.
        TreeChange {
            status: Status::Removed,
            ..survivor(6, 102, 20.0)
        },
    ];
    let o = CarryOptions::default();
    let got = carry_forward(&changes, &prev, &o);
    // The stout tree grew from the curve's 20 cm to its 23 cm, and stays 20 % stouter; the
    // fit runs on the stout tree too, so within a few per cent.
    assert!((got[&100] / (23.0 * 1.2) - 1.0).abs() < 0.03, "{got:?}");
    assert_eq!(got[&101], prev[5].dbh_cm);
    assert!(!got.contains_key(&102));
    // Off carries nothing; predicted DBHs are carried only when asked for.
    let off = CarryOptions {
        survivors: CarryForward::Off,
        ..o.clone()
    };
    assert!(carry_forward(&changes, &prev, &off).is_empty());
    for t in &mut prev {
        t.observed = false;
    }
    assert!(carry_forward(&changes, &prev, &o).is_empty());
    let all = CarryOptions {
        survivors: CarryForward::All,
        ..o
    };
    assert!((carry_forward(&changes, &prev, &all)[&100] / (23.0 * 1.2) - 1.0).abs() < 0.03);
}
