//! Discounting, collateral value, credit grades and the liquidation line.
//!
//! Collateral value (what a credit officer lends against):
//!
//! ```text
//! units  = Σ_t Q_t / (1 + r)^t          Q_t = conservative credits issued in year t
//! value  = units · P_c · (1 − h_price) · (1 − h_delivery)
//! ```
//!
//! "P90 credits" means the credit volume the project reaches or exceeds with 90 % probability,
//! i.e. the **10th percentile (P10)** of the simulated credits — the low side. Q_t are the
//! yearly increments of the P10 *cumulative* issued-credit path across the Monte Carlo runs:
//! each run's cumulative credits never fall, so the P10 path never falls either, Σ Q_t is the
//! P10 of total credits over the horizon (exceeded in 90 % of runs) and the timing follows the
//! low path. (Summing per-year P10s instead would count a disturbed run's zero years as the
//! conservative case every year and collapse to almost nothing.) P_c is the conservative price:
//! the lower of the latest monthly price and the mean of the last 12 months, unless set
//! explicitly.
//!
//! A credit grade has an over-collateralisation ratio OC (collateral / loan); its maximum
//! loan-to-value is 1/OC and its maximum loan `value / OC`. For a loan L the LTV at a monthly
//! price P is `L / (units · P · (1 − h_price)(1 − h_delivery))`; the **liquidation line** is the
//! price at which the LTV reaches the grade's maximum:
//!
//! ```text
//! P* = L · OC / (units · (1 − h_price) · (1 − h_delivery))
//! ```
//!
//! and the margin is how far the current monthly price sits above it. The default grade table
//! (AAA 1.25 … B 3.00) is an illustrative placeholder for a lender's own policy, not a rating
//! agency's.

use serde::{Deserialize, Serialize};

use crate::error::{Result, bad_option};

/// Discount factor (1 + r)^−t.
pub fn discount_factor(rate: f64, t: f64) -> f64 {
    (1.0 + rate).powf(-t)
}

/// `Σ_t values[t] · (1 + r)^−t`, with `values[0]` undiscounted.
pub fn present_value(values: &[f64], rate: f64) -> f64 {
    values
        .iter()
        .enumerate()
        .map(|(t, v)| v * discount_factor(rate, t as f64))
        .sum()
}

/// Serde for f64 fields that may be infinite: JSON has no ∞, so ±∞ are written as the strings
/// `"inf"` / `"-inf"` (NaN as null) and read back.
pub mod serde_inf {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_none()
        } else if *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum V {
            N(f64),
            S(String),
            Null(()),
        }
        match V::deserialize(d)? {
            V::N(x) => Ok(x),
            V::S(s) if s == "inf" => Ok(f64::INFINITY),
            V::S(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
            V::S(s) => Err(serde::de::Error::custom(format!("bad number {s:?}"))),
            V::Null(_) => Ok(f64::NAN),
        }
    }
}

/// One row of the credit-grade table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditGrade {
    pub grade: String,
    /// Collateral value / loan required (≥ 1).
    pub over_collateralisation: f64,
}

/// Illustrative default grade table (over-collateralisation ratios): AAA 1.25, AA 1.40, A 1.60,
/// BBB 2.00, BB 2.50, B 3.00 — i.e. maximum LTV 80 %, 71 %, 62.5 %, 50 %, 40 %, 33 %.
pub fn default_grades() -> Vec<CreditGrade> {
    [
        ("AAA", 1.25),
        ("AA", 1.40),
        ("A", 1.60),
        ("BBB", 2.00),
        ("BB", 2.50),
        ("B", 3.00),
    ]
    .into_iter()
    .map(|(g, oc)| CreditGrade {
        grade: g.to_string(),
        over_collateralisation: oc,
    })
    .collect()
}

/// Collateral settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollateralOptions {
    /// Percentile of credits treated as conservative (0.10 = "P90 exceedance" volume).
    pub credit_percentile: f64,
    /// Haircut for price risk (0.25).
    pub price_haircut: f64,
    /// Haircut for delivery risk — credits not issued, not sold (0.10).
    pub delivery_haircut: f64,
    /// Conservative price per t; `None` = min(latest month, 12-month mean).
    pub conservative_price: Option<f64>,
    pub grades: Vec<CreditGrade>,
    /// Grade for the liquidation line ("BBB").
    pub grade: String,
    /// Loan for the liquidation line; `None` = the grade's maximum loan.
    pub loan: Option<f64>,
}

impl Default for CollateralOptions {
    fn default() -> Self {
        CollateralOptions {
            credit_percentile: 0.10,
            price_haircut: 0.25,
            delivery_haircut: 0.10,
            conservative_price: None,
            grades: default_grades(),
            grade: "BBB".into(),
            loan: None,
        }
    }
}

impl CollateralOptions {
    pub fn validate(&self) -> Result<()> {
        for (n, v) in [
            ("collateral.credit_percentile", self.credit_percentile),
            ("collateral.price_haircut", self.price_haircut),
            ("collateral.delivery_haircut", self.delivery_haircut),
        ] {
            if !(0.0..=1.0).contains(&v) || (n != "collateral.credit_percentile" && v >= 1.0) {
                return Err(bad_option(n, v, "must be in [0, 1) (percentile in [0, 1])"));
            }
        }
        if let Some(p) = self.conservative_price
            && !(p.is_finite() && p >= 0.0)
        {
            return Err(bad_option(
                "collateral.conservative_price",
                p,
                "must be ≥ 0",
            ));
        }
        for g in &self.grades {
            if !(g.over_collateralisation.is_finite() && g.over_collateralisation >= 1.0) {
                return Err(bad_option(
                    "collateral.grades",
                    format!("{} {}", g.grade, g.over_collateralisation),
                    "over-collateralisation must be ≥ 1",
                ));
            }
        }
        if !self.grades.iter().any(|g| g.grade == self.grade) {
            return Err(bad_option(
                "collateral.grade",
                &self.grade,
                "not in the grade table",
            ));
        }
        if let Some(l) = self.loan
            && !(l.is_finite() && l >= 0.0)
        {
            return Err(bad_option("collateral.loan", l, "must be ≥ 0"));
        }
        Ok(())
    }
}

/// Collateral value: units × price × (1 − price haircut) × (1 − delivery haircut).
pub fn collateral_value(units: f64, price: f64, price_haircut: f64, delivery_haircut: f64) -> f64 {
    (units * price * (1.0 - price_haircut) * (1.0 - delivery_haircut)).max(0.0)
}

/// Loan-to-value of `loan` against `value` (∞ when the value is 0 and the loan is not).
pub fn ltv(loan: f64, value: f64) -> f64 {
    if value > 0.0 {
        loan / value
    } else if loan > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Liquidation line: the flat price at which LTV(loan) reaches 1/OC.
/// ∞ when there are no credit units (any positive loan is already in breach).
pub fn breach_price(
    loan: f64,
    units: f64,
    price_haircut: f64,
    delivery_haircut: f64,
    over_collateralisation: f64,
) -> f64 {
    let per_price = units * (1.0 - price_haircut) * (1.0 - delivery_haircut);
    if per_price > 0.0 {
        loan * over_collateralisation / per_price
    } else if loan > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Maximum loan at a grade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeLimit {
    pub grade: String,
    pub over_collateralisation: f64,
    pub max_ltv: f64,
    pub max_loan: f64,
}

/// The liquidation line for one loan at one grade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiquidationLine {
    pub grade: String,
    pub loan: f64,
    pub max_ltv: f64,
    /// Monthly price per t at which LTV reaches `max_ltv`.
    #[serde(with = "serde_inf")]
    pub breach_price_per_t: f64,
    /// Latest monthly price.
    pub current_price_per_t: f64,
    /// current − breach (per t).
    #[serde(with = "serde_inf")]
    pub margin_per_t: f64,
    /// 1 − breach / current: the fall in price the loan can absorb.
    #[serde(with = "serde_inf")]
    pub margin_fraction: f64,
    /// LTV with the collateral marked at the current price.
    #[serde(with = "serde_inf")]
    pub ltv_at_current_price: f64,
}

/// Collateral summary in `currency`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collateral {
    pub currency: String,
    /// Percentile of the credit distribution used (0.10: exceeded in 90 % of runs).
    pub credit_percentile: f64,
    /// Q_t: conservative credits issued per year (t CO2e).
    pub conservative_credits_t: Vec<f64>,
    /// Σ Q_t (undiscounted).
    pub conservative_credits_total_t: f64,
    /// Σ Q_t (1 + r)^−t.
    pub discounted_credit_units_t: f64,
    pub discount_rate: f64,
    pub current_month: String,
    pub current_price_per_t: f64,
    pub conservative_price_per_t: f64,
    pub price_haircut: f64,
    pub delivery_haircut: f64,
    /// units × P_c × (1 − h_price)(1 − h_delivery).
    pub value: f64,
    pub grades: Vec<GradeLimit>,
    pub liquidation: LiquidationLine,
}

/// Builds the collateral summary from conservative credits per year.
#[allow(clippy::too_many_arguments)]
pub fn collateral(
    conservative_credits_t: Vec<f64>,
    discount_rate: f64,
    currency: &str,
    current_month: String,
    current_price: f64,
    trailing_mean_price: f64,
    opts: &CollateralOptions,
) -> Collateral {
    let units = present_value(&conservative_credits_t, discount_rate);
    let pc = opts
        .conservative_price
        .unwrap_or(current_price.min(trailing_mean_price));
    let value = collateral_value(units, pc, opts.price_haircut, opts.delivery_haircut);
    let grades: Vec<GradeLimit> = opts
        .grades
        .iter()
        .map(|g| GradeLimit {
            grade: g.grade.clone(),
            over_collateralisation: g.over_collateralisation,
            max_ltv: 1.0 / g.over_collateralisation,
            max_loan: value / g.over_collateralisation,
        })
        .collect();
    let g = grades
        .iter()
        .find(|g| g.grade == opts.grade)
        .cloned()
        .unwrap_or_else(|| grades[0].clone());
    let loan = opts.loan.unwrap_or(g.max_loan);
    let bp = breach_price(
        loan,
        units,
        opts.price_haircut,
        opts.delivery_haircut,
        g.over_collateralisation,
    );
    let value_now = collateral_value(
        units,
        current_price,
        opts.price_haircut,
        opts.delivery_haircut,
    );
    let liquidation = LiquidationLine {
        grade: g.grade.clone(),
        loan,
        max_ltv: g.max_ltv,
        breach_price_per_t: bp,
        current_price_per_t: current_price,
        margin_per_t: current_price - bp,
        margin_fraction: if current_price > 0.0 {
            1.0 - bp / current_price
        } else {
            f64::NEG_INFINITY
        },
        ltv_at_current_price: ltv(loan, value_now),
    };
    Collateral {
        currency: currency.to_string(),
        credit_percentile: opts.credit_percentile,
        conservative_credits_total_t: conservative_credits_t.iter().sum(),
        conservative_credits_t,
        discounted_credit_units_t: units,
        discount_rate,
        current_month,
        current_price_per_t: current_price,
        conservative_price_per_t: pc,
        price_haircut: opts.price_haircut,
        delivery_haircut: opts.delivery_haircut,
        value,
        grades,
        liquidation,
    }
}
