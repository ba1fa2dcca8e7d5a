//! `report.html`: the collateral report a credit officer reads before lending against the token.
//!
//! One self-contained file — inline CSS, the thumbnail as a `data:` URI, no scripts, fonts or
//! links to fetch — so it renders the same offline, from IPFS, or attached to a credit file, and
//! its CID pins everything it shows. Sections: asset summary, provenance (every source scan with
//! its SHA-256, capture time and device), reconstruction summary, the year-0 inventory (AGB,
//! carbon and CO2e per hectare with the biomass equations used), carbon bands (P10/P50/P90 every
//! five years), valuation and collateral (value, grade table, maximum loan, liquidation line and
//! margin), fingerprint, content identifiers, and the chain record when the project was minted.
//!
//! The report holds no clock time: the same project gives the same bytes (and CID).

use std::fmt::Write;

use base64::Engine;
use capture::project::Manifest;
use growth_model::Simulation;

use super::Summary;
use super::metadata::{PackagedFile, Surveyor};
use super::project::{ProjectFingerprint, ReconstructionView};
use crate::chain::ChainRecord;

/// What the report shows.
pub(crate) struct ReportInput<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub summary: &'a Summary,
    pub manifest: &'a Manifest,
    pub reconstruction: &'a ReconstructionView,
    pub simulation: Option<&'a Simulation>,
    pub fingerprint: &'a ProjectFingerprint,
    pub surveyor: &'a Surveyor,
    pub thumbnail_png: &'a [u8],
    pub thumbnail: &'a PackagedFile,
    pub model: &'a PackagedFile,
    pub chain: Option<&'a ChainRecord>,
}

const CSS: &str = "\
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2a22;\
margin:0;background:#f4f6f3}\
main{max-width:980px;margin:0 auto;padding:24px 28px 48px;background:#fff}\
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px;padding-bottom:4px;\
border-bottom:2px solid #2f6b45;color:#2f6b45}\
.lead{color:#4a5a50;margin:0 0 16px}\
.top{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}\
.top img{width:256px;height:256px;border:1px solid #cfd8d1;background:#e9eee9;border-radius:4px}\
.top table{flex:1;min-width:320px}\
table{border-collapse:collapse;width:100%;font-size:.92em;margin:4px 0}\
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e1e7e2;vertical-align:top}\
th{background:#eef3ef;font-weight:600}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
.mono{font-family:SFMono-Regular,Consolas,'Liberation Mono',monospace;font-size:.86em;\
word-break:break-all}\
.note{color:#5b6a60;font-size:.88em}\
.warn{background:#fff6e0;border-left:4px solid #d9a400;padding:6px 10px}\
.hl{background:#eaf5ee;font-weight:600}\
footer{margin-top:32px;color:#7a887f;font-size:.8em}";

/// The report as HTML text.
// One HTML document written in order, section by section.
#[allow(clippy::too_many_lines)]
pub(crate) fn render(r: &ReportInput) -> String {
    let s = r.summary;
    let mut h = String::with_capacity(32 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(r.title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        esc(r.title),
        esc(r.description)
    );

    // ------------------------------------------------------------------ summary
    let img = base64::engine::general_purpose::STANDARD.encode(r.thumbnail_png);
    h.push_str("<div class=\"top\">\n");
    let _ = writeln!(
        h,
        "<img alt=\"Top-down view of the scan\" src=\"data:image/png;base64,{img}\">"
    );
    h.push_str("<table>\n");
    row(&mut h, "Asset type", &esc(s.asset_type.label()));
    row(&mut h, "Location", &esc(&s.location.describe()));
    row(&mut h, "CRS", &esc(&r.manifest.crs.label()));
    row(
        &mut h,
        "Area",
        &format!("{} ha ({})", num(s.area_ha, 2), esc(s.area_source)),
    );
    if s.trees > 0 || s.pipe_length_m == 0.0 {
        row(&mut h, "Trees", &s.trees.to_string());
    }
    if s.pipe_length_m > 0.0 {
        row(
            &mut h,
            "Pipe length",
            &format!("{} m in {} runs", num(s.pipe_length_m, 1), s.pipe_runs),
        );
    }
    row(&mut h, "Points", &group(r.manifest.point_count));
    row(
        &mut h,
        "Survey date",
        &esc(s.survey_date.as_deref().unwrap_or("unknown")),
    );
    row(&mut h, "Surveyor", &surveyor_html(r.surveyor));
    if let Some(c) = &s.carbon {
        row(
            &mut h,
            "Carbon stock at survey",
            &format!(
                "P50 {} t CO2e · P90 {} t CO2e",
                num(c.stock_p50_t, 1),
                num(c.stock_p90_t, 1)
            ),
        );
        row(
            &mut h,
            "Collateral value",
            &format!("{} {}", esc(&c.currency), num(c.collateral_value, 0)),
        );
    }
    row(
        &mut h,
        "Model fingerprint",
        &format!(
            "<span class=\"mono\">{}</span>",
            r.fingerprint.fingerprint.model_hex0x()
        ),
    );
    h.push_str("</table>\n</div>\n");

    // ------------------------------------------------------------------ provenance
    h.push_str("<h2>Provenance</h2>\n");
    h.push_str(
        "<p class=\"note\">Every scan file merged into the project, as recorded at ingest. The \
         SHA-256 of each source is hashed into the capture metadata and so into the fingerprint.\
         </p>\n",
    );
    h.push_str(
        "<table>\n<tr><th>Source</th><th>Format</th><th>SHA-256</th><th class=\"n\">Points</th>\
         <th>Capture time (UTC)</th><th>Device</th></tr>\n",
    );
    for src in &r.manifest.sources {
        let name = std::path::Path::new(&src.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| src.path.clone());
        let time = src
            .capture_time
            .as_ref()
            .map(|t| {
                let start = t.start.format("%Y-%m-%d %H:%M:%S").to_string();
                match t.end {
                    Some(e) if e != t.start => format!("{start} – {}", e.format("%H:%M:%S")),
                    _ => start,
                }
            })
            .unwrap_or_else(|| "unknown".into());
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}{}</td><td class=\"mono\">{}</td><td class=\"n\">{}</td>\
             <td>{}</td><td>{}</td></tr>",
            esc(&name),
            esc(&src.format),
            src.format_version
                .as_deref()
                .map(|v| format!(" {}", esc(v)))
                .unwrap_or_default(),
            esc(&src.sha256),
            group(src.points_loaded),
            esc(&time),
            esc(src.device.as_deref().unwrap_or("—")),
        );
    }
    h.push_str("</table>\n");
    h.push_str("<table>\n<tr><th>Project file</th><th>SHA-256</th></tr>\n");
    for (name, sha) in &r.fingerprint.inputs {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"mono\">{}</td></tr>",
            esc(name),
            esc(sha)
        );
    }
    h.push_str("</table>\n");
    if !r.manifest.warnings.is_empty() {
        h.push_str("<p class=\"warn\">Capture warnings: ");
        h.push_str(
            &r.manifest
                .warnings
                .iter()
                .map(|w| esc(w))
                .collect::<Vec<_>>()
                .join("; "),
        );
        h.push_str("</p>\n");
    }

    // ------------------------------------------------------------------ reconstruction
    let rec = r.reconstruction;
    h.push_str("<h2>Reconstruction</h2>\n<table>\n");
    if !rec.trees.is_empty() {
        let n = rec.trees.len() as f64;
        let mean_h = rec.trees.iter().map(|t| t.height_m).sum::<f64>() / n;
        let max_h = rec.trees.iter().map(|t| t.height_m).fold(0.0, f64::max);
        let crown = rec.trees.iter().map(|t| t.crown_area_m2).sum::<f64>() / n;
        let dbh: Vec<f64> = rec.trees.iter().filter_map(|t| t.dbh_cm).collect();
        row(&mut h, "Trees detected", &rec.trees.len().to_string());
        row(
            &mut h,
            "Height",
            &format!("mean {} m, max {} m", num(mean_h, 1), num(max_h, 1)),
        );
        row(&mut h, "Mean crown area", &format!("{} m²", num(crown, 1)));
        let dbh_text = if dbh.is_empty() {
            "not observed (estimated from height and crown by the growth model)".to_string()
        } else {
            format!(
                "measured on {} of {} stems, mean {} cm",
                dbh.len(),
                rec.trees.len(),
                num(dbh.iter().sum::<f64>() / dbh.len() as f64, 1)
            )
        };
        row(&mut h, "DBH", &esc(&dbh_text));
    }
    if !rec.pipes.is_empty() {
        row(
            &mut h,
            "Pipe runs",
            &format!(
                "{} runs, {} m in total",
                rec.pipes.len(),
                num(rec.pipe_length_m(), 1)
            ),
        );
        let rmax = rec.pipes.iter().map(|p| p.radius_m).fold(0.0, f64::max);
        row(&mut h, "Largest radius", &format!("{} m", num(rmax, 3)));
    }
    let t = &rec.terrain;
    if t.ground_points > 0 {
        row(
            &mut h,
            "Terrain",
            &format!(
                "{} ground points, {} ha, elevation {}–{} m, mean slope {}°",
                group(t.ground_points),
                num(t.area_m2 / 10_000.0, 2),
                num(t.min_z, 1),
                num(t.max_z, 1),
                num(t.mean_slope_deg, 1)
            ),
        );
    }
    if !rec.generator.is_empty() {
        row(&mut h, "Reconstructed by", &esc(&rec.generator));
    }
    if !rec.device().is_empty() {
        row(&mut h, "Computed on", &esc(rec.device()));
    }
    h.push_str("</table>\n");

    // ------------------------------------------------------------------ carbon and value
    match r.simulation {
        Some(sim) => carbon_and_collateral(&mut h, sim),
        None => h.push_str(
            "<h2>Carbon and collateral</h2>\n<p class=\"warn\">No simulation in this project: \
             run <code>twinmint simulate</code> and rebuild the package for carbon bands, value \
             and collateral limits.</p>\n",
        ),
    }

    // ------------------------------------------------------------------ fingerprint
    let fp = &r.fingerprint;
    h.push_str("<h2>Fingerprint</h2>\n");
    h.push_str(
        "<p class=\"note\">The model fingerprint is keccak-256(cloud root ‖ capture hash ‖ \
         reconstruction hash) and is what the token carries on chain. The cloud root is the \
         SHA-256 Merkle root of the cloud's canonical millimetre records in Morton order (the \
         same for LAS, LAZ or PLY copies, in any point order); the capture and reconstruction \
         hashes are SHA-256 of their RFC 8785 canonical JSON. <code>twinmint verify</code> \
         recomputes all four.</p>\n<table>\n",
    );
    row(
        &mut h,
        "Model fingerprint",
        &mono_hl(&fp.fingerprint.model_hex0x()),
    );
    row(
        &mut h,
        "Cloud root",
        &mono(&hex::encode(fp.fingerprint.cloud_root)),
    );
    row(
        &mut h,
        "Capture hash",
        &mono(&hex::encode(fp.fingerprint.capture_hash)),
    );
    row(
        &mut h,
        "Reconstruction hash",
        &mono(&hex::encode(fp.fingerprint.reconstruction_hash)),
    );
    row(
        &mut h,
        "Cloud tree",
        &format!(
            "{} points in {} leaves of {} points, records <span class=\"mono\">{}</span> ({} bytes)",
            group(fp.cloud.points),
            group(fp.cloud.leaves),
            group(fp.cloud.chunk_points),
            esc(&fp.cloud.schema),
            fp.cloud.record_bytes
        ),
    );
    h.push_str("</table>\n");

    // ------------------------------------------------------------------ CIDs
    h.push_str("<h2>Content identifiers</h2>\n");
    h.push_str(
        "<p class=\"note\">IPFS CIDv1 (raw leaves, 1 MiB chunks, SHA-256), computed locally. The \
         CIDs of this report, of <code>metadata.json</code> and of the package folder are in \
         <code>cids.json</code> and in the token URI (a file cannot contain its own CID).</p>\n\
         <table>\n<tr><th>File</th><th>CID</th><th>SHA-256</th><th class=\"n\">Bytes</th></tr>\n",
    );
    for (name, f) in [("thumbnail.png", r.thumbnail), ("model.glb", r.model)] {
        let _ = writeln!(
            h,
            "<tr><td>{name}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            f.cid,
            esc(&f.sha256),
            group(f.bytes)
        );
    }
    h.push_str("</table>\n");

    // ------------------------------------------------------------------ chain
    h.push_str("<h2>Chain record</h2>\n");
    match r.chain {
        Some(c) => {
            h.push_str("<table>\n");
            row(
                &mut h,
                "Network",
                &format!("{} (chain id {})", esc(&c.network), c.chain_id),
            );
            row(&mut h, "Contract", &mono(&c.contract.to_checksum(None)));
            row(
                &mut h,
                "Token",
                &c.token_id
                    .map(|t| format!("#{t}"))
                    .unwrap_or_else(|| "not minted".into()),
            );
            if let Some(f) = c.fingerprint {
                row(&mut h, "Fingerprint on chain", &mono(&f.to_string()));
            }
            for tx in &c.tx_hashes {
                row(
                    &mut h,
                    &tx.action,
                    &format!(
                        "{}{}",
                        mono(&tx.hash.to_string()),
                        tx.block
                            .map(|b| format!(" (block {b})"))
                            .unwrap_or_default()
                    ),
                );
            }
            h.push_str("</table>\n");
        }
        None => h.push_str(
            "<p class=\"note\">This package is what a token points to, so it is built before \
             the mint and names no token. After <code>twinmint mint</code> the project's \
             <code>chain.json</code> names the network, contract, token and transactions, and \
             <code>twinmint verify --token N</code> checks this package's fingerprint and URI \
             against the token.</p>\n",
        ),
    }

    let _ = write!(
        h,
        "<footer>Generated by twinmint-mint {} from project “{}”. Figures are model \
         estimates with the stated percentiles; the price tables, options and uncertainty \
         method are recorded in the project's simulation.json.</footer>\n\
         </main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&r.manifest.name)
    );
    h
}

/// The year-0 inventory: stand totals per hectare, how species groups were decided, and the
/// biomass equations used with their uncertainty.
fn inventory_section(h: &mut String, inv: &growth_model::Inventory) {
    let t = &inv.totals;
    h.push_str("<h2>Inventory at survey (year 0)</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Every tree's above-ground biomass from its DBH (measured, or \
         predicted from height × crown diameter by Jucker et al. 2017) by the equation listed \
         below; below ground with root:shoot {}; carbon as the carbon fraction of dry matter; \
         CO2e = C × 44/12. Intervals are 90 % from the equations' residuals and the DBH \
         prediction error, trees independent. Per-tree values are in simulation.json \
         (<code>inventory.trees</code>) and trees.csv.</p>",
        num(inv.root_shoot_ratio, 2)
    );
    h.push_str("<table>\n");
    row(
        h,
        "Trees",
        &format!(
            "{} on {} ha · DBH measured on {}, predicted on {}",
            t.trees,
            num(inv.area_ha, 2),
            t.dbh_observed,
            t.dbh_predicted
        ),
    );
    row(
        h,
        "Species group decided by",
        &format!(
            "named species {} · group given {} · conifer/broadleaf call {} · default {}",
            t.group_sources.species,
            t.group_sources.species_group,
            t.group_sources.class,
            t.group_sources.default
        ),
    );
    row(
        h,
        "Above-ground biomass",
        &format!(
            "{} t/ha ({} t, SD {} t)",
            num(t.agb_t_per_ha, 1),
            num(t.agb_t, 1),
            num(t.agb_sd_t, 1)
        ),
    );
    row(
        h,
        "Below-ground biomass",
        &format!("{} t/ha ({} t)", num(t.bgb_t_per_ha, 1), num(t.bgb_t, 1)),
    );
    row(
        h,
        "Carbon",
        &format!(
            "{} t C/ha ({} t C)",
            num(t.carbon_t_per_ha, 1),
            num(t.carbon_t, 1)
        ),
    );
    row(
        h,
        "CO2e",
        &format!(
            "<strong>{} t CO2e/ha</strong> (90 %: {}–{}; {} t CO2e in all)",
            num(t.co2e_t_per_ha, 1),
            num(t.co2e_t_per_ha_p05, 1),
            num(t.co2e_t_per_ha_p95, 1),
            num(t.co2e_t, 1)
        ),
    );
    row(h, "Region", &esc(inv.region.name()));
    h.push_str("</table>\n");
    h.push_str(
        "<table>\n<tr><th>Biomass equation</th><th class=\"n\">Trees</th>\
         <th class=\"n\">AGB (t)</th><th class=\"n\">Residual σ (ln)</th><th>Source</th></tr>\n",
    );
    for e in &inv.equations {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"note\">{}</td></tr>",
            esc(&e.label),
            e.trees,
            num(e.agb_t, 2),
            num(e.log_sigma, 3),
            esc(&e.citation)
        );
    }
    h.push_str("</table>\n");
}

fn carbon_and_collateral(h: &mut String, sim: &Simulation) {
    if let Some(inv) = &sim.inventory {
        inventory_section(h, inv);
    }
    let st = &sim.stand;
    let cur = &st.currency;
    h.push_str("<h2>Carbon stock and credits</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Percentiles across {} Monte Carlo runs, per year (a band is not one \
         run's path). Stock is live-tree carbon above and below ground in t CO2e; credits are \
         after baseline, leakage, uncertainty deduction and buffer.</p>",
        sim.settings.options.runs
    );
    h.push_str(
        "<table>\n<tr><th>Year</th><th class=\"n\">Stock P10</th><th class=\"n\">Stock P50</th>\
         <th class=\"n\">Stock P90</th><th class=\"n\">Credits to date P50</th>\
         <th class=\"n\">Price P50</th></tr>\n",
    );
    let last = st.year.len().saturating_sub(1);
    let mut idx: Vec<usize> = (0..st.year.len()).step_by(5).collect();
    if idx.last() != Some(&last) && !st.year.is_empty() {
        idx.push(last);
    }
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
    for i in idx {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{} {}</td></tr>",
            st.year[i],
            num(at(&st.stock_co2e_t.p10, i), 1),
            num(at(&st.stock_co2e_t.p50, i), 1),
            num(at(&st.stock_co2e_t.p90, i), 1),
            num(at(&st.credits_cumulative_t.p50, i), 1),
            esc(cur),
            num(at(&st.price_per_t.p50, i), 2),
        );
    }
    h.push_str("</table>\n");

    let v = &sim.valuation;
    let series = &sim.settings.options.price.series;
    h.push_str("<h2>Valuation and collateral</h2>\n<table>\n");
    row(
        h,
        "Price anchor",
        &format!(
            "{} {}/t ({}, mean of the 12 months to {}; latest {} {}/t)",
            esc(&v.currency),
            num(v.price_anchor_per_t, 2),
            esc(market_label(series.market)),
            esc(&v.price_latest_month),
            esc(&v.currency),
            num(v.price_latest_per_t, 2),
        ),
    );
    row(
        h,
        "Net present value",
        &format!(
            "P10 {c} {} · P50 {c} {} · P90 {c} {} (discount rate {} %)",
            num(v.npv.p10, 0),
            num(v.npv.p50, 0),
            num(v.npv.p90, 0),
            num(v.discount_rate * 100.0, 1),
            c = esc(&v.currency)
        ),
    );
    let c = &sim.collateral;
    row(
        h,
        "Conservative credits",
        &format!(
            "{} t CO2e (P{} of issued credits), {} t discounted",
            num(c.conservative_credits_total_t, 1),
            num(c.credit_percentile * 100.0, 0),
            num(c.discounted_credit_units_t, 1)
        ),
    );
    row(
        h,
        "Collateral value",
        &format!(
            "<strong>{} {}</strong> at {} {}/t after a {} % price and {} % delivery haircut",
            esc(&c.currency),
            num(c.value, 0),
            esc(&c.currency),
            num(c.conservative_price_per_t, 2),
            num(c.price_haircut * 100.0, 0),
            num(c.delivery_haircut * 100.0, 0)
        ),
    );
    h.push_str("</table>\n");
    let _ = write!(
        h,
        "<table>\n<tr><th>Grade</th><th class=\"n\">Over-collateralisation</th>\
         <th class=\"n\">Max LTV</th><th class=\"n\">Max loan ({})</th></tr>\n",
        esc(&c.currency)
    );
    for g in &c.grades {
        let cls = if g.grade == c.liquidation.grade {
            " class=\"hl\""
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr{cls}><td>{}</td><td class=\"n\">{}×</td><td class=\"n\">{} %</td>\
             <td class=\"n\">{}</td></tr>",
            esc(&g.grade),
            num(g.over_collateralisation, 2),
            num(g.max_ltv * 100.0, 1),
            num(g.max_loan, 0)
        );
    }
    h.push_str("</table>\n");
    let l = &c.liquidation;
    h.push_str("<table>\n");
    row(
        h,
        "Liquidation line",
        &format!(
            "grade {}, loan {} {}: breach at {} {}/t against {} {}/t today",
            esc(&l.grade),
            esc(&c.currency),
            num(l.loan, 0),
            esc(&c.currency),
            num(l.breach_price_per_t, 2),
            esc(&c.currency),
            num(l.current_price_per_t, 2)
        ),
    );
    row(
        h,
        "Margin",
        &format!(
            "{} {}/t — the price can fall {} % before LTV reaches {} % (LTV today {} %)",
            esc(&c.currency),
            num(l.margin_per_t, 2),
            num(l.margin_fraction * 100.0, 1),
            num(l.max_ltv * 100.0, 1),
            num(l.ltv_at_current_price * 100.0, 1)
        ),
    );
    h.push_str("</table>\n");
    if !sim.warnings.is_empty() {
        h.push_str("<p class=\"warn\">Simulation warnings: ");
        h.push_str(
            &sim.warnings
                .iter()
                .map(|w| esc(w))
                .collect::<Vec<_>>()
                .join("; "),
        );
        h.push_str("</p>\n");
    }
}

pub(crate) fn market_label(m: growth_model::Market) -> &'static str {
    match m {
        growth_model::Market::Cea => "China ETS allowance (CEA)",
        growth_model::Market::Eua => "EU ETS allowance (EUA)",
        growth_model::Market::Ccer => "China CCER",
        growth_model::Market::User => "user price table",
    }
}

fn surveyor_html(s: &Surveyor) -> String {
    match (&s.name, s.address) {
        (Some(n), Some(a)) => format!("{} {}", esc(n), mono(&a.to_checksum(None))),
        (None, Some(a)) => mono(&a.to_checksum(None)),
        (Some(n), None) => esc(n),
        (None, None) => "not given".into(),
    }
}

fn row(h: &mut String, label: &str, value_html: &str) {
    let _ = writeln!(h, "<tr><th>{}</th><td>{value_html}</td></tr>", esc(label));
}

fn mono(s: &str) -> String {
    format!("<span class=\"mono\">{}</span>", esc(s))
}

fn mono_hl(s: &str) -> String {
    format!("<span class=\"mono hl\">{}</span>", esc(s))
}

/// HTML-escape text for element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number with thousands separators and `decimals` places; `∞`/`—` for non-finite values.
pub fn num(v: f64, decimals: usize) -> String {
    if v.is_nan() {
        return "—".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    let negative = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative {
        out.push('−');
    }
    let digits = int.len();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

fn group(v: u64) -> String {
    num(v as f64, 0)
}
