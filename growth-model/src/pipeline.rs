//! CO2 pipelines: transport capacity, stored tonnes, value, depreciation and collateral.
//!
//! Capacity of a pipe of inner diameter d carrying dense-phase CO2:
//!
//! ```text
//! ṁ [kg/s] = ρ · v · π d² / 4,   capacity [t/yr] = ṁ · 31 557 600 s / 1000
//! ```
//!
//! with ρ ≈ 900 kg/m³ (CO2 above its critical pressure, 7.38 MPa, is transported as a dense
//! phase of roughly 800–1 000 kg/m³; IPCC Special Report on Carbon Dioxide Capture and Storage,
//! 2005, ch. 4) and a design velocity of 1.5–2 m/s (the engineering range given in issue 4;
//! capacity is reported at both ends). Stored tonnes per year = capacity × utilisation; annual
//! value = stored × (price − operating cost per t). Book value by straight-line or
//! declining-balance depreciation of the replacement cost (capex) over the design life; DCF =
//! present value of the annual value over the remaining life; collateral = min(book, DCF) —
//! or DCF alone when no capex is known.

use serde::{Deserialize, Serialize};

use crate::error::{GrowthError, Result, bad_option};
use crate::finance::discount_factor;

/// Seconds in a Julian year.
const SECONDS_PER_YEAR: f64 = 365.25 * 24.0 * 3600.0;

/// One pipe run (from the reconstruction).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeInput {
    pub id: u32,
    pub length_m: f64,
    /// Inner diameter.
    pub diameter_m: f64,
    /// Years in service (0 = new).
    #[serde(default)]
    pub age_years: f64,
    /// Replacement cost in the valuation currency; `None` = unknown (collateral = DCF).
    #[serde(default)]
    pub capex: Option<f64>,
}

/// Depreciation method for the book value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Depreciation {
    /// capex · max(0, 1 − age / life). Default.
    StraightLine,
    /// capex · (1 − rate)^age.
    DecliningBalance { rate: f64 },
}

/// Pipeline valuation settings. Defaults: ρ 900 kg/m³, v 1.5 m/s (2.0 upper), 80 % utilisation,
/// 40-year life, straight-line, 8 % discount rate, no operating cost; price and currency
/// default to the bundled CEA 12-month mean in CNY.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipelineOptions {
    pub density_kg_m3: f64,
    pub velocity_m_s: f64,
    pub velocity_max_m_s: f64,
    pub utilisation: f64,
    /// Value per stored t CO2 (carbon price or tariff).
    pub price_per_t: f64,
    pub currency: String,
    /// Operating cost per t transported, same currency.
    pub opex_per_t: f64,
    pub life_years: f64,
    pub depreciation: Depreciation,
    pub discount_rate: f64,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        let cea = crate::prices::builtin(crate::prices::Market::Cea)
            .expect("bundled CEA table parses (tested)");
        PipelineOptions {
            density_kg_m3: 900.0,
            velocity_m_s: 1.5,
            velocity_max_m_s: 2.0,
            utilisation: 0.8,
            price_per_t: cea.anchor(),
            currency: cea.currency,
            opex_per_t: 0.0,
            life_years: 40.0,
            depreciation: Depreciation::StraightLine,
            discount_rate: 0.08,
        }
    }
}

impl PipelineOptions {
    /// Defaults with the price (12-month mean anchor) and currency of a price table.
    pub fn with_prices(series: &crate::prices::PriceSeries) -> PipelineOptions {
        PipelineOptions {
            price_per_t: series.anchor(),
            currency: series.currency.clone(),
            ..Default::default()
        }
    }
}

/// Capacity in t/yr of a pipe of inner diameter `d` m at `v` m/s and density `rho` kg/m³.
pub fn capacity_t_per_year(diameter_m: f64, velocity_m_s: f64, density_kg_m3: f64) -> f64 {
    let area = std::f64::consts::PI * diameter_m * diameter_m / 4.0;
    density_kg_m3 * velocity_m_s * area * SECONDS_PER_YEAR / 1000.0
}

/// Valuation of one pipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeValuation {
    pub id: u32,
    pub length_m: f64,
    pub diameter_m: f64,
    /// At the design velocity.
    pub capacity_t_per_yr: f64,
    /// At the upper velocity.
    pub capacity_max_t_per_yr: f64,
    pub stored_t_per_yr: f64,
    pub annual_value: f64,
    pub remaining_life_years: f64,
    pub book_value: Option<f64>,
    pub dcf_value: f64,
    pub collateral_value: f64,
}

/// Pipeline valuation result (serde, `schema_version` 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineValuation {
    pub schema_version: u32,
    pub currency: String,
    pub price_per_t: f64,
    pub options: PipelineOptions,
    pub pipes: Vec<PipeValuation>,
    pub total_capacity_t_per_yr: f64,
    pub total_stored_t_per_yr: f64,
    pub total_dcf_value: f64,
    pub total_collateral_value: f64,
    pub warnings: Vec<String>,
}

/// Values pipe runs as CO2 transport assets. Each run is valued as an independent line.
pub fn value_pipeline(pipes: &[PipeInput], opts: &PipelineOptions) -> Result<PipelineValuation> {
    let pos = |n: &'static str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(bad_option(n, v, "must be > 0"))
        }
    };
    pos("pipeline.density_kg_m3", opts.density_kg_m3)?;
    pos("pipeline.velocity_m_s", opts.velocity_m_s)?;
    pos("pipeline.velocity_max_m_s", opts.velocity_max_m_s)?;
    pos("pipeline.life_years", opts.life_years)?;
    // Upper bounds: a life of 1e300 years would loop for ever over its annual values, and
    // non-physical densities, speeds or prices only produce overflowing values.
    for (n, v, hi) in [
        ("pipeline.life_years", opts.life_years, 200.0),
        ("pipeline.density_kg_m3", opts.density_kg_m3, 2000.0),
        ("pipeline.velocity_m_s", opts.velocity_m_s, 100.0),
        ("pipeline.velocity_max_m_s", opts.velocity_max_m_s, 100.0),
    ] {
        if v > hi {
            return Err(bad_option(n, v, &format!("must be at most {hi}")));
        }
    }
    for (n, v) in [
        ("pipeline.price_per_t", opts.price_per_t),
        ("pipeline.opex_per_t", opts.opex_per_t),
    ] {
        if !(v.is_finite() && v.abs() <= 1.0e6) {
            return Err(bad_option(n, v, "must be finite, at most 1000000 a tonne"));
        }
    }
    if !(0.0..=1.0).contains(&opts.utilisation) {
        return Err(bad_option(
            "pipeline.utilisation",
            opts.utilisation,
            "must be in [0, 1]",
        ));
    }
    let (lo, hi) = crate::sim::DISCOUNT_RATE_RANGE;
    if !(opts.discount_rate.is_finite() && (lo..=hi).contains(&opts.discount_rate)) {
        return Err(bad_option(
            "pipeline.discount_rate",
            opts.discount_rate,
            "must be a fraction a year in [-0.1, 1]",
        ));
    }
    if !(opts.price_per_t.is_finite() && opts.opex_per_t.is_finite()) {
        return Err(bad_option(
            "pipeline.price_per_t",
            opts.price_per_t,
            "must be finite",
        ));
    }
    if let Depreciation::DecliningBalance { rate } = opts.depreciation
        && !(0.0..1.0).contains(&rate)
    {
        return Err(bad_option(
            "pipeline.depreciation.rate",
            rate,
            "must be in [0, 1)",
        ));
    }
    let mut out = Vec::with_capacity(pipes.len());
    let mut warnings = Vec::new();
    for p in pipes {
        let bad = |reason: &str| GrowthError::InvalidInput {
            what: "pipe",
            id: p.id,
            reason: reason.into(),
        };
        if !(p.diameter_m.is_finite() && p.diameter_m > 0.0 && p.diameter_m <= 10.0) {
            return Err(bad("inner diameter must be > 0 m and at most 10 m"));
        }
        if !(p.length_m.is_finite() && p.length_m >= 0.0) {
            return Err(bad("length must be ≥ 0 m"));
        }
        if !(p.age_years.is_finite() && p.age_years >= 0.0 && p.age_years <= 1000.0) {
            return Err(bad("age must be in [0, 1000] years"));
        }
        if let Some(c) = p.capex
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(bad("capex must be finite and ≥ 0"));
        }
        let cap = capacity_t_per_year(p.diameter_m, opts.velocity_m_s, opts.density_kg_m3);
        let cap_max = capacity_t_per_year(p.diameter_m, opts.velocity_max_m_s, opts.density_kg_m3);
        let stored = cap * opts.utilisation;
        let annual = stored * (opts.price_per_t - opts.opex_per_t);
        let remaining = (opts.life_years - p.age_years).max(0.0);
        // Annual values at the end of each remaining year, the last one pro rata.
        let mut dcf = 0.0;
        let full = remaining.floor() as u64;
        for t in 1..=full {
            dcf += annual * discount_factor(opts.discount_rate, t as f64);
        }
        let frac = remaining - full as f64;
        if frac > 0.0 {
            dcf += annual * frac * discount_factor(opts.discount_rate, remaining);
        }
        let book = p.capex.map(|c| match opts.depreciation {
            Depreciation::StraightLine => c * (1.0 - p.age_years / opts.life_years).max(0.0),
            Depreciation::DecliningBalance { rate } => c * (1.0 - rate).powf(p.age_years),
        });
        if book.is_none() {
            warnings.push(format!(
                "pipe {}: no capex given, collateral is the DCF value alone",
                p.id
            ));
        }
        let collateral = match book {
            Some(b) => b.min(dcf),
            None => dcf,
        }
        .max(0.0);
        out.push(PipeValuation {
            id: p.id,
            length_m: p.length_m,
            diameter_m: p.diameter_m,
            capacity_t_per_yr: cap,
            capacity_max_t_per_yr: cap_max,
            stored_t_per_yr: stored,
            annual_value: annual,
            remaining_life_years: remaining,
            book_value: book,
            dcf_value: dcf,
            collateral_value: collateral,
        });
    }
    Ok(PipelineValuation {
        schema_version: 1,
        currency: opts.currency.clone(),
        price_per_t: opts.price_per_t,
        options: opts.clone(),
        total_capacity_t_per_yr: out.iter().map(|p| p.capacity_t_per_yr).sum(),
        total_stored_t_per_yr: out.iter().map(|p| p.stored_t_per_yr).sum(),
        total_dcf_value: out.iter().map(|p| p.dcf_value).sum(),
        total_collateral_value: out.iter().map(|p| p.collateral_value).sum(),
        pipes: out,
        warnings,
    })
}

/// The per-pipe table as CSV (no file I/O).
pub fn pipeline_csv(v: &PipelineValuation) -> String {
    let c = &v.currency;
    let mut s = format!(
        "id,length_m,diameter_m,capacity_t_per_yr,capacity_max_t_per_yr,stored_t_per_yr,\
         annual_value_{c},remaining_life_years,book_value_{c},dcf_value_{c},collateral_value_{c}\n"
    );
    for p in &v.pipes {
        s.push_str(&format!(
            "{},{},{},{:.1},{:.1},{:.1},{:.2},{},{},{:.2},{:.2}\n",
            p.id,
            p.length_m,
            p.diameter_m,
            p.capacity_t_per_yr,
            p.capacity_max_t_per_yr,
            p.stored_t_per_yr,
            p.annual_value,
            p.remaining_life_years,
            p.book_value.map(|b| format!("{b:.2}")).unwrap_or_default(),
            p.dcf_value,
            p.collateral_value
        ));
    }
    s
}
