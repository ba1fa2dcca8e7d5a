//! The simulation result (`simulation.json`, schema version 2) and its CSV tables.
//!
//! # Schema (version 2)
//!
//! ```text
//! Simulation
//!   schema_version      2
//!   generator           "twinmint growth-model <version>"
//!   settings            { options: SimulationOptions (every input setting, with the price
//!                         table), derived: DerivedSettings (area, forest type, growth levels,
//!                         resolved price model, counts of predicted DBH / defaulted groups,
//!                         region, resolved biomass equation set and Jucker biome, group
//!                         sources) }
//!   inventory           Inventory | null — the year-0 (survey) inventory: per-tree AGB,
//!                         below-ground biomass, carbon and CO2e with the equation used and
//!                         its uncertainty, stand totals per hectare (see below)
//!   trees               TreeStates | null — per-tree, per-year states of the representative
//!                         run (see below), struct-of-arrays
//!   stand               StandSeries — per-year bands across the Monte Carlo runs
//!   accounting          AccountingSummary — uncertainty half-width and deduction per year
//!   valuation           Valuation — NPV bands in the price currency
//!   collateral          Collateral — conservative credits, value, grade limits, liquidation line
//!   warnings            [string]
//! ```
//!
//! Version 2 added `inventory`, `trees.years[].agb_kg`, `stand.representative.{agb_t, bgb_t,
//! carbon_t}` and the derived region/equation fields; version-1 files still read (the new
//! fields are empty).
//!
//! Years: index 0 is the survey (`start_year`), index t is `start_year + t`; every per-year
//! vector has `years + 1` entries. Bands are `{p10, p50, p90}` vectors of the per-year
//! percentiles across runs (type-7 quantiles; per year, so a band is not one run's path).
//! Tonnes are t CO2e (1 credit = 1 t CO2e); money carries a `currency` (ISO 4217) next to it.
//!
//! ## Year-0 inventory
//!
//! `inventory.trees` has one record per tree, in input order:
//!
//! | field | meaning |
//! |---|---|
//! | `id`, `x`, `y`, `height_m`, `crown_diameter_m` | the input tree |
//! | `dbh_cm`, `dbh_observed` | DBH used; `false` = predicted by Jucker et al. (2017) |
//! | `species` | the species string the input named, if any |
//! | `species_group`, `group_source` | the resolved group and the rule that decided it: `species_group` (given), `species` (named species/genus/code), `class` (conifer/broadleaf call → region default), `default` |
//! | `equation` | the biomass equation and taxon, e.g. `Chojnacky et al. 2014: Pinus spg<0.45` |
//! | `agb_kg` | above-ground dry biomass, kg (the equation's value, as in the representative run) |
//! | `agb_log_sigma` | total log-scale σ: equation residual, plus the DBH error propagated through the DBH exponent when DBH was predicted, plus wood-density spread (Chave) |
//! | `agb_sd_kg`, `agb_p05_kg`, `agb_p95_kg` | SD and 90 % interval of the tree's AGB: the residual is a mean-one lognormal, so SD = AGB·√(e^{σ²}−1) and the quantiles are AGB·exp(∓1.645σ − σ²/2) |
//! | `bgb_kg` | below-ground biomass = AGB × `inventory.root_shoot_ratio` |
//! | `carbon_fraction`, `carbon_kg`, `co2e_kg` | (AGB + BGB) × carbon fraction; × 44/12 |
//!
//! `inventory.totals` sums them (t) and divides by `area_ha` (t/ha); its SDs treat trees'
//! allometric errors as independent and its 90 % interval is the normal approximation of the
//! sum. `inventory.equations` lists each equation used with its tree count, AGB and σ. The
//! stand's year-0 CO2e equals `stand.representative.stock_co2e_t[0]`.
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
//! - `height_m`, `dbh_cm`, `crown_diameter_m`, `agb_kg`, `co2e_t` — little-endian IEEE f32,
//!   base64 (RFC 4648, padded): `n_trees × 4` bytes each. `agb_kg` is the tree's above-ground
//!   biomass (also after death, as the tree's size); `co2e_t` is the tree's above +
//!   below-ground carbon as CO2e (0 once dead or removed);
//! - `alive` — a bitset, base64: bit i (byte i/8, least-significant bit first) set while tree i
//!   stands.
//!
//! 10 000 trees × 51 years is ≈ 13 MB of JSON. In Python:
//! `np.frombuffer(base64.b64decode(s), "<f4")`.
//!
//! ## CSV tables
//!
//! - `stand.csv`: one row per year, P10/P50/P90 of every band, the representative stock and
//!   uncertainty deduction, and the representative run's `agb`, `bgb`, `carbon` and `co2e` in
//!   t/ha (year 0 = the inventory's stand totals).
//! - `trees.csv`: one row per tree and year (see [`trees_csv`]).
//! - `collateral.csv`: collateral summary and grade table.

use serde::{Deserialize, Serialize};

use crate::allometry::{
    BiomassEquation, ForestType, GroupSource, JuckerBiome, Region, SpeciesGroup,
};
use crate::finance::Collateral;
use crate::options::SimulationOptions;
use crate::prices::PriceModel;
use crate::stats::{base64_decode, base64_encode};

/// Current `simulation.json` schema version.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Above-ground dry biomass, kg (schema 2; empty in version-1 files).
    #[serde(default)]
    pub agb_kg: F32Array,
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
    /// Live-tree above-ground dry biomass, t (schema 2).
    #[serde(default)]
    pub agb_t: Vec<f64>,
    /// Live-tree below-ground dry biomass (AGB × root:shoot of the year), t (schema 2).
    #[serde(default)]
    pub bgb_t: Vec<f64>,
    /// Live-tree carbon above and below ground, t C (schema 2).
    #[serde(default)]
    pub carbon_t: Vec<f64>,
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
    /// Region of the allometry (schema 2).
    #[serde(default)]
    pub region: Region,
    /// Biomass equation set after `auto` was resolved (schema 2).
    #[serde(default)]
    pub biomass_equation: BiomassEquation,
    /// Jucker biome used for predicted DBH (schema 2).
    #[serde(default)]
    pub dbh_model: JuckerBiome,
    /// How many trees each rule decided the group of (schema 2).
    #[serde(default)]
    pub group_sources: GroupSourceCounts,
}

/// Trees per [`GroupSource`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSourceCounts {
    pub species_group: usize,
    pub species: usize,
    pub class: usize,
    pub default: usize,
}

impl GroupSourceCounts {
    pub fn add(&mut self, s: GroupSource) {
        *self.get_mut(s) += 1;
    }
    pub fn get(&self, s: GroupSource) -> usize {
        match s {
            GroupSource::SpeciesGroup => self.species_group,
            GroupSource::Species => self.species,
            GroupSource::Class => self.class,
            GroupSource::Default => self.default,
        }
    }
    fn get_mut(&mut self, s: GroupSource) -> &mut usize {
        match s {
            GroupSource::SpeciesGroup => &mut self.species_group,
            GroupSource::Species => &mut self.species,
            GroupSource::Class => &mut self.class,
            GroupSource::Default => &mut self.default,
        }
    }
}

/// One tree of the year-0 inventory (see the module docs for each field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InventoryTree {
    pub id: u32,
    pub x: f64,
    pub y: f64,
    pub height_m: f64,
    pub crown_diameter_m: f64,
    pub dbh_cm: f64,
    pub dbh_observed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub species: Option<String>,
    pub species_group: SpeciesGroup,
    pub group_source: GroupSource,
    pub equation: String,
    pub agb_kg: f64,
    pub agb_log_sigma: f64,
    pub agb_sd_kg: f64,
    pub agb_p05_kg: f64,
    pub agb_p95_kg: f64,
    pub bgb_kg: f64,
    pub carbon_fraction: f64,
    pub carbon_kg: f64,
    pub co2e_kg: f64,
}

/// Stand totals of the year-0 inventory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InventoryTotals {
    pub trees: usize,
    pub dbh_observed: usize,
    pub dbh_predicted: usize,
    pub group_sources: GroupSourceCounts,
    pub agb_t: f64,
    pub bgb_t: f64,
    pub carbon_t: f64,
    pub co2e_t: f64,
    pub agb_t_per_ha: f64,
    pub bgb_t_per_ha: f64,
    pub carbon_t_per_ha: f64,
    pub co2e_t_per_ha: f64,
    /// SD of the stand AGB from the trees' allometric errors (independent), t.
    pub agb_sd_t: f64,
    /// SD of the stand CO2e, t.
    pub co2e_sd_t: f64,
    /// 90 % interval of CO2e per hectare (normal approximation of the sum, ≥ 0).
    pub co2e_t_per_ha_p05: f64,
    pub co2e_t_per_ha_p95: f64,
}

/// One biomass equation as used in the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquationUse {
    pub equation: BiomassEquation,
    /// `"Chojnacky et al. 2014: Pinus spg<0.45"`.
    pub label: String,
    pub citation: String,
    /// The equation's own residual σ (ln scale).
    pub log_sigma: f64,
    pub trees: usize,
    pub agb_t: f64,
}

/// The year-0 (survey) inventory: what a field inventory, a registry module or an auditor
/// compares against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Calendar year of the survey.
    pub year: i32,
    pub area_ha: f64,
    pub region: Region,
    /// Root:shoot ratio R applied to every tree (IPCC 2006 Table 4.4 for the stand's year-0
    /// AGB per hectare and forest type, or the fixed ratio).
    pub root_shoot_ratio: f64,
    pub totals: InventoryTotals,
    /// Equations used, most above-ground biomass first.
    pub equations: Vec<EquationUse>,
    pub trees: Vec<InventoryTree>,
}

impl Inventory {
    /// The record of tree `id`.
    pub fn tree(&self, id: u32) -> Option<&InventoryTree> {
        self.trees.iter().find(|t| t.id == id)
    }
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
    /// Year-0 inventory (schema 2; `None` in version-1 files).
    #[serde(default)]
    pub inventory: Option<Inventory>,
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

/// Refuse a simulation with a NaN or infinite number where none can be meaningful: the stand
/// and tree tables (every field), the collateral table (NaN; an LTV against a zero value is
/// legitimately infinite), NPV and collateral value. [`crate::run`] calls this, so no NaN reaches
/// `stand.csv`, `trees.csv`, `collateral.csv` or the valuation.
pub fn check_finite(sim: &Simulation) -> crate::Result<()> {
    let bad = |what: String, value: String| crate::GrowthError::NonFinite { what, value };
    for (name, text, allow_inf) in [
        ("stand.csv", stand_csv(sim), false),
        ("trees.csv", trees_csv(sim), false),
        ("collateral.csv", collateral_csv(sim), true),
    ] {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        for (row, line) in lines.enumerate() {
            for (col, field) in line.split(',').enumerate() {
                let non_finite = matches!(field, "NaN" | "-NaN")
                    || (!allow_inf && matches!(field, "inf" | "-inf"));
                if non_finite {
                    let column = if name == "collateral.csv" {
                        line.split(',').next().unwrap_or("?").to_string()
                    } else {
                        header.get(col).copied().unwrap_or("?").to_string()
                    };
                    return Err(bad(
                        format!("{name} value (row {}, {column})", row + 1),
                        field.to_string(),
                    ));
                }
            }
        }
    }
    let v = &sim.valuation;
    let c = &sim.collateral;
    for (what, x) in [
        ("NPV P10", v.npv.p10),
        ("NPV P50", v.npv.p50),
        ("NPV P90", v.npv.p90),
        ("carbon present value P50", v.carbon_pv.p50),
        ("price anchor", v.price_anchor_per_t),
        ("collateral value", c.value),
        ("conservative credits", c.conservative_credits_total_t),
    ] {
        if !x.is_finite() {
            return Err(bad(what.to_string(), x.to_string()));
        }
    }
    Ok(())
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

/// Quotes a CSV field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Stand series as CSV: one row per year, P10/P50/P90 columns per quantity, then
/// `representative_stock_co2e_t`, `uncertainty_deduction` and the representative run's
/// `representative_{agb,bgb,carbon,co2e}_t_per_ha` (year 0 = the inventory's stand totals;
/// empty for version-1 simulations).
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
    out.push_str(
        ",representative_stock_co2e_t,uncertainty_deduction,representative_agb_t_per_ha,\
         representative_bgb_t_per_ha,representative_carbon_t_per_ha,\
         representative_co2e_t_per_ha\n",
    );
    let rep = &s.representative;
    let area = sim.settings.derived.area_ha;
    let per_ha = |v: &[f64], t: usize| {
        v.get(t)
            .filter(|_| area > 0.0)
            .map(|x| fmt(x / area))
            .unwrap_or_default()
    };
    for (t, year) in s.year.iter().enumerate() {
        out.push_str(&year.to_string());
        for (_, b) in &bands {
            for v in [&b.p10, &b.p50, &b.p90] {
                out.push(',');
                out.push_str(&fmt(v.get(t).copied().unwrap_or(f64::NAN)));
            }
        }
        out.push(',');
        out.push_str(&fmt(rep.stock_co2e_t.get(t).copied().unwrap_or(f64::NAN)));
        out.push(',');
        out.push_str(&fmt(sim
            .accounting
            .uncertainty_deduction
            .get(t)
            .copied()
            .unwrap_or(0.0)));
        for v in [&rep.agb_t, &rep.bgb_t, &rep.carbon_t] {
            out.push(',');
            out.push_str(&per_ha(v, t));
        }
        out.push(',');
        if rep.agb_t.get(t).is_some() {
            out.push_str(&per_ha(&rep.stock_co2e_t, t));
        }
        out.push('\n');
    }
    out
}

/// Per-tree states as a long CSV, one row per year and tree:
/// `year,id,x,y,species_group,alive,height_m,dbh_cm,crown_diameter_m,co2e_t` (as in schema 1),
/// then `agb_kg` (the year's above-ground biomass of the representative run; at year 0 the
/// inventory's `agb_kg`), `species` (as named in the input), `group_source`, `dbh_source`
/// (`observed`/`predicted`, of the survey DBH) and `equation` (the biomass equation). Empty
/// string when the simulation kept no tree states; the last five columns are empty for
/// version-1 simulations.
pub fn trees_csv(sim: &Simulation) -> String {
    let Some(ts) = &sim.trees else {
        return String::new();
    };
    let inv = sim
        .inventory
        .as_ref()
        .filter(|inv| inv.trees.len() == ts.n_trees);
    let stat: Vec<String> = (0..ts.n_trees)
        .map(|i| match inv.map(|inv| &inv.trees[i]) {
            Some(r) => format!(
                "{},{},{},{}",
                csv_field(r.species.as_deref().unwrap_or("")),
                r.group_source.name(),
                if r.dbh_observed {
                    "observed"
                } else {
                    "predicted"
                },
                csv_field(&r.equation)
            ),
            None => ",,,".into(),
        })
        .collect();
    let mut out = String::from(
        "year,id,x,y,species_group,alive,height_m,dbh_cm,crown_diameter_m,co2e_t,agb_kg,species,\
         group_source,dbh_source,equation\n",
    );
    for y in &ts.years {
        for (i, stat_i) in stat.iter().enumerate() {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{}\n",
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
                y.agb_kg
                    .0
                    .get(i)
                    .map(|v| fmt(*v as f64))
                    .unwrap_or_default(),
                stat_i,
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
