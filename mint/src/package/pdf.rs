//! `report.pdf`: the collateral report as a PDF, beside `report.html` — the asset, the stand
//! map, the projection's stock band, the collateral and liquidation terms, and the verification
//! table (fingerprint parts and the package files' hashes) a lender files and re-checks.

use twinmint_pdf::figure::{self, Band, Dot, Legend};
use twinmint_pdf::flow::fixed as f;
use twinmint_pdf::{Flow, Rgb};

use super::report::ReportInput;

/// Colour by height: taller trees darker green.
fn by_height(h: f64, max: f64) -> Rgb {
    let t = (h / max.max(1e-9)).clamp(0.0, 1.0) as f32;
    Rgb(0.55 - 0.45 * t, 0.8 - 0.35 * t, 0.45 - 0.3 * t)
}

/// The collateral report of a package being built.
pub(crate) fn collateral_report(r: &ReportInput<'_>) -> Vec<u8> {
    let mut doc = Flow::new(format!("TwinMint collateral report — {}", r.manifest.name));
    doc.title(r.title);
    doc.para(r.description);
    doc.heading("Asset");
    let s = r.summary;
    let mut rows = vec![
        vec!["asset type".into(), s.asset_type.label().to_string()],
        vec![
            "area".into(),
            format!("{} ha ({})", f(s.area_ha, 2), s.area_source),
        ],
        vec![
            "survey date".into(),
            s.survey_date.clone().unwrap_or_else(|| "-".into()),
        ],
        vec!["CRS".into(), r.manifest.crs.label()],
        vec!["points".into(), r.manifest.point_count.to_string()],
    ];
    if s.trees > 0 {
        rows.push(vec!["trees".into(), s.trees.to_string()]);
    }
    if s.pipe_runs > 0 {
        rows.push(vec![
            "pipe runs".into(),
            format!("{} ({} m)", s.pipe_runs, f(s.pipe_length_m, 1)),
        ]);
    }
    let surveyor = match (&r.surveyor.name, r.surveyor.address) {
        (Some(n), Some(a)) => format!("{n} ({a})"),
        (Some(n), None) => n.clone(),
        (None, Some(a)) => a.to_string(),
        (None, None) => "-".into(),
    };
    rows.push(vec!["surveyor".into(), surveyor]);
    doc.table(&["item", "value"], &rows);
    stand_map(&mut doc, r);
    if let Some(sim) = r.simulation {
        projection(&mut doc, sim);
        collateral(&mut doc, sim);
    }
    verification(&mut doc, r);
    doc.finish(r.title)
}

fn stand_map(doc: &mut Flow, r: &ReportInput<'_>) {
    let trees = &r.reconstruction.trees;
    if trees.is_empty() {
        return;
    }
    let max = trees.iter().map(|t| t.height_m).fold(0.0, f64::max);
    let dots: Vec<Dot> = trees
        .iter()
        .map(|t| Dot {
            x: t.x,
            y: t.y,
            r: (t.crown_area_m2 / std::f64::consts::PI).sqrt().max(0.3),
            color: by_height(t.height_m, max),
        })
        .collect();
    doc.need(330.0);
    doc.heading("Stand map (crowns, shaded by height)");
    doc.figure(290.0, |page, area| {
        figure::map(
            page,
            area,
            &dots,
            &[],
            &[
                Legend {
                    label: "low",
                    color: by_height(0.0, 1.0),
                },
                Legend {
                    label: &format!("tall ({} m)", f(max, 0)),
                    color: by_height(1.0, 1.0),
                },
            ],
        )
    });
}

fn projection(doc: &mut Flow, sim: &growth_model::Simulation) {
    let st = &sim.stand;
    let x: Vec<f64> = st.year.iter().map(|y| *y as f64).collect();
    let points: Vec<(f64, f64)> = sim
        .inventory
        .as_ref()
        .map(|i| vec![(i.year as f64, i.totals.co2e_t)])
        .unwrap_or_default();
    doc.band_figure(
        "Projected stand stock (t CO2e)",
        &Band {
            x: &x,
            p10: &st.stock_co2e_t.p10,
            p50: &st.stock_co2e_t.p50,
            p90: &st.stock_co2e_t.p90,
            points: &points,
            x_label: "year",
            y_label: "t CO2e",
        },
    );
    doc.para(&format!(
        "P50 line and P10-P90 band of {} Monte Carlo runs; red: the surveyed stock at year 0.",
        sim.settings.options.runs
    ));
}

fn collateral(doc: &mut Flow, sim: &growth_model::Simulation) {
    let c = &sim.collateral;
    doc.heading("Collateral");
    let l = &c.liquidation;
    doc.table(
        &["item", "value"],
        &[
            vec![
                "collateral value".into(),
                format!("{} {}", f(c.value, 0), c.currency),
            ],
            vec![
                "conservative credits".into(),
                format!(
                    "{} t (P{:.0})",
                    f(c.conservative_credits_total_t, 1),
                    c.credit_percentile * 100.0
                ),
            ],
            vec![
                "price (current / conservative)".into(),
                format!(
                    "{} / {} per t",
                    f(c.current_price_per_t, 2),
                    f(c.conservative_price_per_t, 2)
                ),
            ],
            vec![
                "haircuts (price, delivery)".into(),
                format!(
                    "{} %, {} %",
                    f(c.price_haircut * 100.0, 0),
                    f(c.delivery_haircut * 100.0, 0)
                ),
            ],
            vec![
                "liquidation line".into(),
                format!(
                    "{} loan {} at max LTV {} %: breach at {} per t",
                    l.grade,
                    f(l.loan, 0),
                    f(l.max_ltv * 100.0, 0),
                    f(l.breach_price_per_t, 2)
                ),
            ],
        ],
    );
    let grades: Vec<Vec<String>> = c
        .grades
        .iter()
        .map(|g| {
            vec![
                g.grade.clone(),
                f(g.over_collateralisation, 2),
                format!("{} %", f(g.max_ltv * 100.0, 0)),
                f(g.max_loan, 0),
            ]
        })
        .collect();
    doc.table(&["grade", "over-collat.", "max LTV", "max loan"], &grades);
}

fn verification(doc: &mut Flow, r: &ReportInput<'_>) {
    let fp = &r.fingerprint.fingerprint;
    doc.need(200.0);
    doc.heading("Verification");
    let mut rows = vec![
        vec!["model fingerprint".into(), fp.model_hex0x()],
        vec!["cloud root".into(), hex::encode(fp.cloud_root)],
        vec!["capture hash".into(), hex::encode(fp.capture_hash)],
        vec![
            "reconstruction hash".into(),
            hex::encode(fp.reconstruction_hash),
        ],
        vec!["thumbnail.png sha256".into(), r.thumbnail.sha256.clone()],
        vec!["model.glb sha256".into(), r.model.sha256.clone()],
    ];
    if let Some(c) = r.chain
        && let Some(t) = c.token_id
    {
        rows.push(vec![
            "token".into(),
            format!("#{t} on chain {} at {}", c.chain_id, c.contract),
        ]);
    }
    doc.table(&["item", "value"], &rows);
    doc.para("Recompute with `twinmint verify PACKAGE --project PROJECT --token ID`: every hash above, the package's CIDs and the token's on-chain fingerprint.");
}
