//! The simulation result (`simulation.json`, schema version 1) and its CSV tables.
//!
//! # Schema (version 1)
//!
//! ```text
//! Simulation
//!   schema_version      1
//!   generator           "twinmint growth-model <version>"
//!   settings            { options: SimulationOptions (every input setting, with the price
//!                         table), derived: DerivedSettings (area, forest type, growth levels,
//!                         resolved price model, counts of predicted DBH / defaulted groups) }
//!   trees               TreeStates | null — per-tree, per-year states of the representative
//!                         run (see below), struct-of-arrays
//!   stand               StandSeries — per-year bands across the Monte Carlo runs
//!   accounting          AccountingSummary — uncertainty half-width and deduction per year
//!   valuation           Valuation — NPV bands in the price currency
//!   collateral          Collateral — conservative credits, value, grade limits, liquidation line
//!   warnings            [string]
//! ```
//!
//! Years: index 0 is the survey (`start_year`), index t is `start_year + t`; every per-year
//! vector has `years + 1` entries. Bands are `{p10, p50, p90}` vectors of the per-year
//! percentiles across runs (type-7 quantiles; per year, so a band is not one run's path).
//! Tonnes are t CO2e (1 credit = 1 t CO2e); money carries a `currency` (ISO 4217) next to it.
//!
//! ## Per-tree states
//!
//! `trees` holds the **representative run**: every tree on the median growth-parameter level,
//! no allometric residual (mean-one multipliers), background mortality drawn on a dedicated
//! random stream (so trees visibly die in the time-lapse; `representative_mortality: false`
//! turns that off), scheduled thinning/harvest applied, no random disturbance. Its stand totals
//! are `stand.representative` — close to, but not the same as, the P50 band. Arrays are stored
//! per year, each tree in input order:
//!
//! - `height_m`, `dbh_cm`, `crown_diameter_m`, `co2e_t` — little-endian IEEE f32, base64
//!   (RFC 4648, padded): `n_trees × 4` bytes each. `co2e_t` is the tree's above + below-ground
//!   carbon as CO2e (0 once dead or removed);
//! - `alive` — a bitset, base64: bit i (byte i/8, least-significant bit first) set while tree i
//!   stands.
//!
//! 10 000 trees × 51 years is ≈ 11 MB of JSON. In Python:
//! `np.frombuffer(base64.b64decode(s), "<f4")`.

use serde::{Deserialize, Serialize};

use crate::allometry::{ForestType, SpeciesGroup};
use crate::finance::Collateral;
use crate::prices::PriceModel;
use crate::sim::SimulationOptions;
use crate::stats::{base64_decode, base64_encode};

/// Current `simulation.json` schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// A vector of f32 serialised as base64 of its little-endian bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct F32Array(pub Vec<f32>);

impl Serialize for F32Array {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.0.iter().flat_map(|v| v.to_le_bytes()).collect();
        s.serialize_str(&base64_encode(&bytes))
    }
}

impl<'de> Deserialize<'de> for F32Array {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let b = base64_decode(&s).ok_or_else(|| serde::de::Error::custom("bad base64"))?;
        if b.len() % 4 != 0 {
            return Err(serde::de::Error::custom(
                "f32 array length not a multiple of 4",
            ));
        }
        Ok(F32Array(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }
}

/// A bitset serialised as base64 (bit i in byte i/8, LSB first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bits(pub Vec<u8>);

impl Bits {
    pub fn with_len(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(8)])
    }
    pub fn set(&mut self, i: usize, v: bool) {
        if v {
            self.0[i / 8] |= 1 << (i % 8);
        } else {
            self.0[i / 8] &= !(1 << (i % 8));
        }
    }
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }
    pub fn count_ones(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }
}

impl Serialize for Bits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64_encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64_decode(&s)
            .map(Bits)
            .ok_or_else(|| serde::de::Error::custom("bad base64"))
    }
}

/// One year of the representative run, all trees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeYear {
    pub year: i32,
    pub height_m: F32Array,
    pub dbh_cm: F32Array,
    pub crown_diameter_m: F32Array,
    pub co2e_t: F32Array,
    pub alive: Bits,
}

/// Per-tree per-year states of the representative run (struct of arrays).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeStates {
    /// What run these states come from.
    pub run: String,
    pub n_trees: usize,
    pub id: Vec<u32>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub species_group: Vec<SpeciesGroup>,
    /// Whether the survey DBH was observed (false: predicted by Jucker et al. 2017).
    pub dbh_observed: Vec<bool>,
    pub years: Vec<TreeYear>,
}

/// Per-year P10/P50/P90 across Monte Carlo runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
}

/// P10/P50/P90 and mean of a scalar across runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScalarBand {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub mean: f64,
}

/// Stand totals of the representative run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepresentativeSeries {
    pub stock_co2e_t: Vec<f64>,
    pub removals_co2e_t: Vec<f64>,
    pub stems_alive: Vec<f64>,
    /// Credits issued per year if the representative run were the project's realisation
    /// (using the ensemble's uncertainty deduction).
    pub credits_issued_t: Vec<f64>,
}

/// Stand-level series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StandSeries {
    /// Calendar years, `start_year ..= start_year + years`.
    pub year: Vec<i32>,
    /// Live-tree carbon stock, above + below ground, t CO2e.
    pub stock_co2e_t: Band,
    /// Net annual stock change (0 in year 0), t CO2e/yr; negative after losses.
    pub removals_co2e_t: Band,
    /// Credits issued in the year (after baseline, leakage, uncertainty, buffer, lag).
    pub credits_issued_t: Band,
    /// Credits issued up to and including the year.
    pub credits_cumulative_t: Band,
    /// Buffer contributions in the year.
    pub buffer_t: Band,
    /// Carbon price per t in `currency`.
    pub price_per_t: Band,
    /// Credits issued × price, in `currency` (undiscounted).
    pub value: Band,
    /// Standing stems.
    pub stems_alive: Band,
    pub currency: String,
    pub representative: RepresentativeSeries,
}

/// Accounting summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountingSummary {
    /// Human-readable description of the steps (see `accounting` module docs).
    pub method: String,
    /// U_t: half-width of the central interval of cumulative net benefit over its mean.
    pub uncertainty_half_width: Vec<f64>,
    /// d_t: fraction deducted from the cumulative net benefit.
    pub uncertainty_deduction: Vec<f64>,
    /// Credits verified within the horizon but issued after it.
    pub pending_after_horizon_t: ScalarBand,
    /// Share of runs that end below an earlier verified high-water mark (a reversal not made
    /// good within the horizon).
    pub runs_with_unrecovered_reversal: f64,
}

/// Valuation in `currency`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Valuation {
    pub currency: String,
    pub discount_rate: f64,
    /// Present value of issued credits × price path.
    pub carbon_pv: ScalarBand,
    /// Present value of timber from harvest events (when timber options are set).
    pub timber_pv: Option<ScalarBand>,
    /// carbon + timber.
    pub npv: ScalarBand,
    /// Flat-scenario anchor (mean of the last 12 months).
    pub price_anchor_per_t: f64,
    pub price_latest_month: String,
    pub price_latest_per_t: f64,
}

/// Settings computed from the inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DerivedSettings {
    pub n_trees: usize,
    pub area_ha: f64,
    /// `option` or `crown bounding box`.
    pub area_source: String,
    /// Forest type used for root:shoot.
    pub forest_type: ForestType,
    /// Multipliers on the growth rates of the stratified growth levels.
    pub growth_level_multipliers: Vec<f64>,
    pub price_model: PriceModel,
    pub price_currency: String,
    pub dbh_predicted: usize,
    pub species_group_defaulted: usize,
}

/// Everything the simulation used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub options: SimulationOptions,
    pub derived: DerivedSettings,
}

/// The result of [`crate::run`] — `simulation.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub schema_version: u32,
    pub generator: String,
    pub settings: Settings,
    pub trees: Option<TreeStates>,
    pub stand: StandSeries,
    pub accounting: AccountingSummary,
    pub valuation: Valuation,
    pub collateral: Collateral,
    pub warnings: Vec<String>,
}

impl Simulation {
    /// Pretty JSON of the whole result.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("simulation serialises")
    }
}

fn fmt(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.into() }
    } else {
        v.to_string()
    }
}

/// Stand series as CSV: one row per year, P10/P50/P90 columns per quantity.
pub fn stand_csv(sim: &Simulation) -> String {
    let s = &sim.stand;
    let c = &s.currency;
    let bands: [(&str, &Band); 8] = [
        ("stock_co2e_t", &s.stock_co2e_t),
        ("removals_co2e_t", &s.removals_co2e_t),
        ("credits_issued_t", &s.credits_issued_t),
        ("credits_cumulative_t", &s.credits_cumulative_t),
        ("buffer_t", &s.buffer_t),
        ("price_per_t", &s.price_per_t),
        ("value", &s.value),
        ("stems_alive", &s.stems_alive),
    ];
    let mut out = String::from("year");
    for (name, _) in &bands {
        let unit = match *name {
            "price_per_t" | "value" => format!("_{c}"),
            _ => String::new(),
        };
        for p in ["p10", "p50", "p90"] {
            out.push_str(&format!(",{name}{unit}_{p}"));
        }
    }
    out.push_str(",representative_stock_co2e_t,uncertainty_deduction\n");
    for (t, year) in s.year.iter().enumerate() {
        out.push_str(&year.to_string());
        for (_, b) in &bands {
            for v in [&b.p10, &b.p50, &b.p90] {
                out.push(',');
                out.push_str(&fmt(v.get(t).copied().unwrap_or(f64::NAN)));
            }
        }
        out.push(',');
        out.push_str(&fmt(s
            .representative
            .stock_co2e_t
            .get(t)
            .copied()
            .unwrap_or(f64::NAN)));
        out.push(',');
        out.push_str(&fmt(sim
            .accounting
            .uncertainty_deduction
            .get(t)
            .copied()
            .unwrap_or(0.0)));
        out.push('\n');
    }
    out
}

/// Per-tree states as a long CSV: `year,id,x,y,species_group,alive,height_m,dbh_cm,
/// crown_diameter_m,co2e_t` (empty string when the simulation kept no tree states).
pub fn trees_csv(sim: &Simulation) -> String {
    let Some(ts) = &sim.trees else {
        return String::new();
    };
    let mut out =
        String::from("year,id,x,y,species_group,alive,height_m,dbh_cm,crown_diameter_m,co2e_t\n");
    for y in &ts.years {
        for i in 0..ts.n_trees {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                y.year,
                ts.id[i],
                ts.x[i],
                ts.y[i],
                ts.species_group[i].name(),
                y.alive.get(i) as u8,
                fmt(y.height_m.0[i] as f64),
                fmt(y.dbh_cm.0[i] as f64),
                fmt(y.crown_diameter_m.0[i] as f64),
                fmt(y.co2e_t.0[i] as f64),
            ));
        }
    }
    out
}

/// Collateral summary and grade table as CSV (`key,value` rows, then the grade table).
pub fn collateral_csv(sim: &Simulation) -> String {
    let c = &sim.collateral;
    let l = &c.liquidation;
    let cur = &c.currency;
    let mut out = String::from("key,value\n");
    for (k, v) in [
        ("currency", cur.clone()),
        ("credit_percentile", fmt(c.credit_percentile)),
        (
            "conservative_credits_total_t",
            fmt(c.conservative_credits_total_t),
        ),
        (
            "discounted_credit_units_t",
            fmt(c.discounted_credit_units_t),
        ),
        ("discount_rate", fmt(c.discount_rate)),
        ("current_month", c.current_month.clone()),
        ("current_price_per_t", fmt(c.current_price_per_t)),
        ("conservative_price_per_t", fmt(c.conservative_price_per_t)),
        ("price_haircut", fmt(c.price_haircut)),
        ("delivery_haircut", fmt(c.delivery_haircut)),
        ("collateral_value", fmt(c.value)),
        ("liquidation_grade", l.grade.clone()),
        ("loan", fmt(l.loan)),
        ("max_ltv", fmt(l.max_ltv)),
        ("breach_price_per_t", fmt(l.breach_price_per_t)),
        ("margin_per_t", fmt(l.margin_per_t)),
        ("margin_fraction", fmt(l.margin_fraction)),
        ("ltv_at_current_price", fmt(l.ltv_at_current_price)),
    ] {
        out.push_str(&format!("{k},{v}\n"));
    }
    out.push_str(&format!(
        "\ngrade,over_collateralisation,max_ltv,max_loan_{cur}\n"
    ));
    for g in &c.grades {
        out.push_str(&format!(
            "{},{},{},{}\n",
            g.grade,
            fmt(g.over_collateralisation),
            fmt(g.max_ltv),
            fmt(g.max_loan)
        ));
    }
    out
}

pub(crate) fn band_from_runs(runs: usize, len: usize, get: impl Fn(usize, usize) -> f64) -> Band {
    let mut b = Band {
        p10: Vec::with_capacity(len),
        p50: Vec::with_capacity(len),
        p90: Vec::with_capacity(len),
    };
    let mut col = Vec::with_capacity(runs);
    for t in 0..len {
        col.clear();
        col.extend((0..runs).map(|r| get(r, t)));
        col.sort_by(|a, b| a.total_cmp(b));
        b.p10.push(crate::stats::quantile_sorted(&col, 0.10));
        b.p50.push(crate::stats::quantile_sorted(&col, 0.50));
        b.p90.push(crate::stats::quantile_sorted(&col, 0.90));
    }
    b
}

pub(crate) fn scalar_band(values: &[f64]) -> ScalarBand {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    ScalarBand {
        p10: crate::stats::quantile_sorted(&v, 0.10),
        p50: crate::stats::quantile_sorted(&v, 0.50),
        p90: crate::stats::quantile_sorted(&v, 0.90),
        mean: if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        },
    }
}
