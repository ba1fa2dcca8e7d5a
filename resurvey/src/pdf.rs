//! The drift report as a PDF: what changed, against what was projected, and the numbers a
//! verifier recomputes — with a map of the trees coloured by drift and the stand chart (the
//! previous projection's stock band with the two measured stocks).

use growth_model::output::Simulation;
use twinmint_pdf::figure::{self, Band, Dot, Legend};
use twinmint_pdf::flow::fixed as f;
use twinmint_pdf::{Flow, Rgb};

use crate::change::Status;
use crate::drift::Flag;
use crate::report::Resurvey;

const WITHIN: Rgb = Rgb::GREEN;
const BELOW: Rgb = Rgb::RED;
const ABOVE: Rgb = Rgb::BLUE;
const GONE: Rgb = Rgb(0.25, 0.25, 0.25);
const DEAD: Rgb = Rgb::ORANGE;
const NEW: Rgb = Rgb(0.6, 0.3, 0.75);

fn colour(status: Status, flag: Option<Flag>) -> Rgb {
    match (status, flag) {
        (Status::Survivor, Some(Flag::BelowP10)) => BELOW,
        (Status::Survivor, Some(Flag::AboveP90)) => ABOVE,
        (Status::Survivor, _) => WITHIN,
        (Status::StandingDead, _) => DEAD,
        (Status::Removed | Status::Unresolved, _) => GONE,
        (Status::Ingrowth | Status::NewlyDetected, _) => NEW,
    }
}

/// The drift report of `r`, whose previous survey's simulation is `previous`.
pub fn drift_report(r: &Resurvey, previous: &Simulation) -> Vec<u8> {
    let mut doc = Flow::new(format!(
        "TwinMint drift report — {} vs {}",
        r.current.project, r.previous.project
    ));
    doc.title(&format!("Drift report: {}", r.current.project));
    doc.para(&format!(
        "Resurvey of {} after {:.2} years (captured {} and {}). Measured change, drift against the projection made at the previous survey, and the recalibrated growth.",
        r.previous.project,
        r.elapsed_years,
        r.previous.capture_start.as_deref().unwrap_or("?"),
        r.current.capture_start.as_deref().unwrap_or("?"),
    ));
    summary_tables(&mut doc, r);
    doc.need(380.0);
    doc.heading("Trees coloured by drift");
    let dots: Vec<Dot> = r
        .trees
        .iter()
        .map(|t| Dot {
            x: t.x,
            y: t.y,
            r: 1.2,
            color: colour(t.status, t.drift.map(|d| d.flag)),
        })
        .collect();
    let polys: Vec<(Vec<[f64; 2]>, Rgb)> = r
        .canopy_loss
        .polygons
        .iter()
        .map(|p| (p.outline.clone(), Rgb::RED))
        .collect();
    doc.figure(330.0, |page, area| {
        figure::map(
            page,
            area,
            &dots,
            &polys,
            &[
                Legend {
                    label: "within band",
                    color: WITHIN,
                },
                Legend {
                    label: "below P10",
                    color: BELOW,
                },
                Legend {
                    label: "above P90",
                    color: ABOVE,
                },
                Legend {
                    label: "removed",
                    color: GONE,
                },
                Legend {
                    label: "dead",
                    color: DEAD,
                },
                Legend {
                    label: "new",
                    color: NEW,
                },
            ],
        )
    });
    doc.para("Red outlines: canopy-loss polygons (canopy >= 5 m before, < 2 m now).");
    stand_chart(&mut doc, r, previous);
    verification(&mut doc, r);
    doc.finish(&format!("Drift report {}", r.current.project))
}

fn summary_tables(doc: &mut Flow, r: &Resurvey) {
    let g = &r.registration;
    let s = &r.stand;
    let d = &r.drift;
    doc.heading("Co-registration");
    doc.table(
        &["what", "value"],
        &[
            vec!["yaw".into(), format!("{:+.4} deg", g.transform.yaw_deg)],
            vec![
                "shift east, north, up".into(),
                format!(
                    "{:+.3}, {:+.3}, {:+.3} m",
                    g.transform.shift_m[0], g.transform.shift_m[1], g.transform.shift_m[2]
                ),
            ],
            vec![
                "treetops matched / RMS".into(),
                format!("{} / {} m", g.matched_tops, f(g.top_rms_m, 3)),
            ],
            vec![
                "ground returns / RMS".into(),
                format!("{} / {} m", g.ground_cells, f(g.ground_rms_m, 3)),
            ],
        ],
    );
    doc.heading("Change");
    doc.table(
        &["trees", "count"],
        &[
            vec!["before".into(), s.trees_before.to_string()],
            vec!["now".into(), s.trees_now.to_string()],
            vec!["survivors".into(), s.survivors.to_string()],
            vec!["standing dead".into(), s.standing_dead.to_string()],
            vec!["removed".into(), s.removed.to_string()],
            vec!["unresolved".into(), s.unresolved.to_string()],
            vec!["ingrowth".into(), s.ingrowth.to_string()],
            vec!["newly detected".into(), s.newly_detected.to_string()],
        ],
    );
    doc.table(
        &["stand", "value"],
        &[
            vec![
                "mean height increment".into(),
                format!("{} m", f(s.mean_height_increment_m, 2)),
            ],
            vec![
                "mean crown increment".into(),
                format!("{} m", f(s.mean_crown_diameter_increment_m, 2)),
            ],
            vec!["CO2e before".into(), format!("{} t", f(s.co2e_before_t, 1))],
            vec!["CO2e now".into(), format!("{} t", f(s.co2e_t, 1))],
            vec![
                "change (growth - lost + ingrowth)".into(),
                format!(
                    "{} t ({} - {} + {})",
                    f(s.co2e_change_t, 1),
                    f(s.co2e_growth_t, 1),
                    f(s.co2e_lost_t, 1),
                    f(s.co2e_ingrowth_t, 1)
                ),
            ],
            vec![
                "canopy loss".into(),
                format!(
                    "{} m2 in {} polygons",
                    f(r.canopy_loss.area_m2, 0),
                    r.canopy_loss.polygons.len()
                ),
            ],
        ],
    );
    doc.heading("Drift against the projection");
    let gb = &d.growth.projected_mean_increment_m;
    let sb = &d.stock.projected_co2e_t;
    doc.table(
        &["measure", "measured", "P10", "P50", "P90", "flag"],
        &[
            vec![
                "mean height increment (m)".into(),
                f(d.growth.measured_mean_increment_m, 2),
                f(gb.p10, 2),
                f(gb.p50, 2),
                f(gb.p90, 2),
                d.growth.flag.label().into(),
            ],
            vec![
                "stand stock (t CO2e)".into(),
                f(d.stock.measured_co2e_t, 1),
                f(sb.p10, 1),
                f(sb.p50, 1),
                f(sb.p90, 1),
                d.stock.flag.label().into(),
            ],
        ],
    );
    doc.para(&format!(
        "Survivors below P10: {}, within: {}, above P90: {}. Value at stake: {} {} ({} t CO2e against P50 at {}/t).",
        d.growth.trees_below_p10,
        d.growth.trees_within,
        d.growth.trees_above_p90,
        f(d.stock.value_at_stake, 0),
        d.stock.currency,
        f(d.stock.shortfall_co2e_t, 1),
        f(d.stock.price_per_t, 2)
    ));
    let rc = &r.recalibration;
    doc.heading("Recalibration");
    doc.para(&format!(
        "Growth-rate multiplier {} (90 % {} to {}) from {} survivors; new rate sigma {}. Method: {}.",
        f(rc.multiplier, 3),
        f(rc.multiplier_p05, 3),
        f(rc.multiplier_p95, 3),
        rc.trees,
        f(rc.new_rate_log_sigma, 3),
        rc.method
    ));
}

fn stand_chart(doc: &mut Flow, r: &Resurvey, previous: &Simulation) {
    let s = &previous.stand;
    let x: Vec<f64> = s.year.iter().map(|y| *y as f64).collect();
    let y0 = x.first().copied().unwrap_or(0.0);
    let points = [
        (y0, r.stand.co2e_before_t),
        (y0 + r.elapsed_years, r.stand.co2e_t),
    ];
    doc.band_figure(
        "Stand stock: projected band and measured surveys",
        &Band {
            x: &x,
            p10: &s.stock_co2e_t.p10,
            p50: &s.stock_co2e_t.p50,
            p90: &s.stock_co2e_t.p90,
            points: &points,
            x_label: "year",
            y_label: "t CO2e",
        },
    );
    doc.para("Blue: the previous survey's projection (P50 line, P10-P90 band). Red: the measured stock at each survey.");
}

fn verification(doc: &mut Flow, r: &Resurvey) {
    doc.heading("Verification");
    doc.table(
        &["item", "value"],
        &[
            vec![
                "previous fingerprint".into(),
                r.previous.fingerprint.clone().unwrap_or_else(|| "-".into()),
            ],
            vec![
                "drift summary SHA-256".into(),
                format!("0x{}", r.summary_sha256),
            ],
            vec![
                "schema".into(),
                format!("resurvey.json v{}", r.schema_version),
            ],
        ],
    );
    doc.para("The drift summary in resurvey.json hashes (compact JSON, SHA-256) to the value above; the resurvey attested on chain carries it.");
}
