//! Carbon price tables and scenarios.
//!
//! A [`PriceSeries`] is a monthly price table for one market in one currency. The bundled tables
//! (`assets/prices/`, see its `PROVENANCE.md`) are monthly means of the China ETS allowance
//! (CEA, CNY/t) and the EU ETS allowance (EUA, EUR/t), derived from daily series; they are
//! compiled into the crate ([`builtin`]) so the model itself never touches the file system.
//! Users can parse their own table ([`parse_csv`], minimal `month,price`), e.g. for CCER, whose
//! prices are not bundled; [`load_csv`] reads one from disk and [`refresh`] fetches one over
//! HTTPS (cargo feature `refresh`).
//!
//! Column choice: when a table has both `vwap` and `mean_close`, the volume-weighted average
//! price is used. It is the average price at which tonnes actually changed hands that month;
//! the mean of daily closes weights every trading day equally, including days with almost no
//! volume, and in a thin market (CEA months with a few thousand tonnes traded) the closes of
//! illiquid days can sit far from where the volume cleared. For a lender valuing tonnes that
//! must be sold, the traded-volume price is the better anchor. Rows with an empty `vwap` fall
//! back to `mean_close`, and the provenance counts them.
//!
//! Scenarios ([`PriceScenario`]): flat at the anchor (the mean of the last 12 monthly prices),
//! escalating by a fixed % per year, or stochastic geometric Brownian motion whose volatility is
//! estimated from the monthly log returns (annualised × √12) and whose drift is configurable
//! (default 0).

use serde::{Deserialize, Serialize};

use crate::error::{GrowthError, Result};

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    /// 1–12.
    pub month: u8,
}

impl YearMonth {
    pub fn new(year: i32, month: u8) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// Parses `YYYY-MM`, `YYYY/MM`, `YYYY-MM-DD` (day ignored) or `YYYYMM`.
    pub fn parse(s: &str) -> Option<YearMonth> {
        let s = s.trim();
        let (y, m) = if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            (&s[..4], &s[4..])
        } else {
            let mut it = s.split(['-', '/', '.']);
            (it.next()?, it.next()?)
        };
        YearMonth::new(y.parse().ok()?, m.parse().ok()?)
    }

    /// Months since year 0, for differences.
    pub fn index(self) -> i64 {
        self.year as i64 * 12 + (self.month as i64 - 1)
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        YearMonth::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad month {s:?}")))
    }
}

/// Carbon market of a price table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Market {
    /// China national ETS allowance (CEA), CNY/t. Bundled.
    Cea,
    /// EU ETS allowance (EUA), EUR/t. Bundled.
    Eua,
    /// China Certified Emission Reduction (CCER), CNY/t; user-supplied table.
    Ccer,
    /// Any other user-supplied table.
    User,
}

impl Market {
    /// Parses `cea`, `eua`, `ccer`, `user` and the table identifiers `CN-ETS-CEA`, `EU-ETS-EUA`.
    pub fn parse(s: &str) -> Option<Market> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "cea" | "cn-ets-cea" | "cn_ets_cea" | "china-ets" => Market::Cea,
            "eua" | "eu-ets-eua" | "eu_ets_eua" | "eu-ets" => Market::Eua,
            "ccer" | "cn-ccer" => Market::Ccer,
            "user" | "custom" => Market::User,
            _ => return None,
        })
    }

    /// Default currency of the market (user tables must name theirs).
    pub fn default_currency(self) -> Option<&'static str> {
        match self {
            Market::Cea | Market::Ccer => Some("CNY"),
            Market::Eua => Some("EUR"),
            Market::User => None,
        }
    }
}

/// Where a price table came from and how it was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceProvenance {
    /// `bundled:assets/prices/cea_monthly.csv`, a file path, or a URL.
    pub source: String,
    /// Column the prices were taken from (`vwap`, `mean_close`, `price`, …).
    pub column: String,
    /// Rows whose preferred column was empty and fell back to `mean_close`.
    pub fallback_rows: usize,
    /// Free text (what the table is, how it was derived).
    pub note: String,
}

/// A monthly price table: one market, one currency, months strictly increasing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceSeries {
    pub market: Market,
    /// ISO 4217 code; every value derived from this table carries it.
    pub currency: String,
    /// (month, price per t CO2e) in increasing month order.
    pub months: Vec<(YearMonth, f64)>,
    pub provenance: PriceProvenance,
}

const CEA_CSV: &str = include_str!("../../assets/prices/cea_monthly.csv");
const EUA_CSV: &str = include_str!("../../assets/prices/eua_monthly.csv");

/// The bundled table for `market` (CEA or EUA). CCER and user markets have no bundled table:
/// supply a CSV.
pub fn builtin(market: Market) -> Result<PriceSeries> {
    let (text, name, note) = match market {
        Market::Cea => (
            CEA_CSV,
            "bundled:assets/prices/cea_monthly.csv",
            "China national ETS allowance (CEA), monthly VWAP and mean close derived from daily \
             trading data; see assets/prices/PROVENANCE.md",
        ),
        Market::Eua => (
            EUA_CSV,
            "bundled:assets/prices/eua_monthly.csv",
            "EU ETS allowance (EUA), monthly mean of daily closes; see \
             assets/prices/PROVENANCE.md",
        ),
        Market::Ccer | Market::User => {
            return Err(GrowthError::PriceData {
                source_name: format!("{market:?}"),
                reason: "no bundled price table for this market; supply a CSV (month,price)".into(),
            });
        }
    };
    let mut s = parse_csv(text, Some(market), None, name)?;
    s.provenance.note = note.into();
    Ok(s)
}

/// Parses a monthly price CSV.
///
/// Recognised header columns (case-insensitive): `month` (required; `date` also accepted),
/// one price column — `vwap` (preferred), `mean_close`, `price`, `close`, `mean` — and optional
/// `market` and `currency`. Blank lines and lines starting with `#` are skipped. `market` and
/// `currency` arguments override / fill what the table does not say; a table that names a
/// currency different from `currency` is an error. Months must be unique; they are sorted.
pub fn parse_csv(
    text: &str,
    market: Option<Market>,
    currency: Option<&str>,
    source_name: &str,
) -> Result<PriceSeries> {
    let err = |line: usize, reason: String| GrowthError::PriceParse {
        source_name: source_name.to_string(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().trim_start_matches('\u{feff}')))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (hline, header) = lines.next().ok_or_else(|| err(1, "empty table".into()))?;
    let delim = if header.contains(',') {
        ','
    } else if header.contains(';') {
        ';'
    } else {
        '\t'
    };
    let cols: Vec<String> = header
        .split(delim)
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let find = |names: &[&str]| names.iter().find_map(|n| cols.iter().position(|c| c == n));
    let month_col = find(&["month", "date", "year_month", "ym"])
        .ok_or_else(|| err(hline, format!("no `month` column in header {header:?}")))?;
    let vwap_col = find(&["vwap"]);
    let close_col = find(&["mean_close"]);
    let plain_col = find(&["price", "close", "mean", "value", "price_per_t"]);
    let (primary, fallback, column) = match (vwap_col, close_col, plain_col) {
        (Some(v), c, _) => (v, c, "vwap"),
        (None, Some(c), _) => (c, None, "mean_close"),
        (None, None, Some(p)) => (p, None, "price"),
        _ => {
            return Err(err(
                hline,
                "no price column (vwap, mean_close or price)".into(),
            ));
        }
    };
    let market_col = find(&["market"]);
    let currency_col = find(&["currency"]);

    let mut table_market: Option<Market> = None;
    let mut table_currency: Option<String> = None;
    let mut months: Vec<(YearMonth, f64)> = Vec::new();
    let mut fallback_rows = 0;
    for (ln, line) in lines {
        let f: Vec<&str> = line
            .split(delim)
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let ym = YearMonth::parse(get(month_col))
            .ok_or_else(|| err(ln, format!("bad month {:?}", get(month_col))))?;
        let mut raw = get(primary);
        if raw.is_empty()
            && let Some(fc) = fallback
        {
            raw = get(fc);
            fallback_rows += 1;
        }
        let price: f64 = raw
            .parse()
            .map_err(|_| err(ln, format!("bad price {raw:?} in column {column}")))?;
        if !price.is_finite() || price < 0.0 {
            return Err(err(
                ln,
                format!("price {price} is not a finite non-negative number"),
            ));
        }
        if let Some(mc) = market_col {
            let m = get(mc);
            if !m.is_empty() && table_market.is_none() {
                table_market = Market::parse(m);
            }
        }
        if let Some(cc) = currency_col {
            let c = get(cc).to_ascii_uppercase();
            if !c.is_empty() {
                match &table_currency {
                    None => table_currency = Some(c),
                    Some(prev) if *prev != c => {
                        return Err(err(ln, format!("mixed currencies {prev} and {c}")));
                    }
                    _ => {}
                }
            }
        }
        months.push((ym, price));
    }
    if months.is_empty() {
        return Err(err(hline, "no price rows".into()));
    }
    months.sort_by_key(|(m, _)| *m);
    if let Some(w) = months.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(err(0, format!("month {} appears twice", w[0].0)));
    }
    let market = market.or(table_market).unwrap_or(Market::User);
    let currency = match (
        currency.map(|c| c.trim().to_ascii_uppercase()),
        table_currency,
    ) {
        (Some(a), Some(t)) if a != t => {
            return Err(GrowthError::CurrencyMismatch {
                expected: a,
                found: t,
                context: format!("price table {source_name}"),
            });
        }
        (Some(a), _) => a,
        (None, Some(t)) => t,
        (None, None) => match market.default_currency() {
            Some(c) => c.to_string(),
            None => {
                return Err(err(
                    hline,
                    "the table names no currency; pass one (e.g. CNY, EUR)".into(),
                ));
            }
        },
    };
    Ok(PriceSeries {
        market,
        currency,
        months,
        provenance: PriceProvenance {
            source: source_name.to_string(),
            column: column.to_string(),
            fallback_rows,
            note: String::new(),
        },
    })
}

/// Reads and parses a price CSV from disk (the only file access in this crate).
pub fn load_csv(
    path: &std::path::Path,
    market: Option<Market>,
    currency: Option<&str>,
) -> Result<PriceSeries> {
    let text = std::fs::read_to_string(path).map_err(|source| GrowthError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_csv(&text, market, currency, &path.display().to_string())
}

/// Fetches a price CSV from `url` (HTTPS, 30 s timeout) and parses it like [`parse_csv`].
///
/// Needs the `refresh` cargo feature; without it this returns
/// [`GrowthError::NetworkDisabled`]. Offline, an HTTP error status or an unparsable body is a
/// [`GrowthError::Network`] naming the URL.
pub fn refresh(url: &str, market: Option<Market>, currency: Option<&str>) -> Result<PriceSeries> {
    #[cfg(feature = "refresh")]
    {
        let net = |message: String| GrowthError::Network {
            url: url.to_string(),
            message,
        };
        let client = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| net(e.to_string()))?;
        let resp = client.get(url).send().map_err(|e| net(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(net(format!("HTTP {status}")));
        }
        let text = resp.text().map_err(|e| net(e.to_string()))?;
        parse_csv(&text, market, currency, url)
    }
    #[cfg(not(feature = "refresh"))]
    {
        let _ = (market, currency);
        Err(GrowthError::NetworkDisabled {
            url: url.to_string(),
        })
    }
}

impl PriceSeries {
    fn data_err(&self, reason: String) -> GrowthError {
        GrowthError::PriceData {
            source_name: self.provenance.source.clone(),
            reason,
        }
    }

    /// The last month and its price ("current price").
    pub fn latest(&self) -> (YearMonth, f64) {
        *self.months.last().expect("a PriceSeries is never empty")
    }

    /// Mean of the last `n` monthly prices (fewer if the table is shorter).
    pub fn trailing_mean(&self, n: usize) -> f64 {
        let k = n.clamp(1, self.months.len());
        self.months[self.months.len() - k..]
            .iter()
            .map(|(_, p)| p)
            .sum::<f64>()
            / k as f64
    }

    /// Flat-scenario anchor: mean of the last 12 months.
    pub fn anchor(&self) -> f64 {
        self.trailing_mean(12)
    }

    /// Log returns between consecutive months (pairs more than one month apart are skipped, as
    /// are non-positive prices).
    pub fn log_returns(&self) -> Vec<f64> {
        self.months
            .windows(2)
            .filter(|w| w[1].0.index() - w[0].0.index() == 1 && w[0].1 > 0.0 && w[1].1 > 0.0)
            .map(|w| (w[1].1 / w[0].1).ln())
            .collect()
    }

    /// Annualised volatility: sample SD of the monthly log returns × √12, over the whole table.
    pub fn annualised_volatility(&self) -> Result<f64> {
        self.annualised_volatility_window(None)
    }

    /// Annualised volatility over the last `window_months` monthly returns (all if `None` or
    /// longer than the table).
    pub fn annualised_volatility_window(&self, window_months: Option<usize>) -> Result<f64> {
        let mut r = self.log_returns();
        if let Some(w) = window_months
            && w < r.len()
        {
            r.drain(..r.len() - w);
        }
        if r.len() < 3 {
            return Err(self.data_err(format!(
                "{} monthly returns; at least 3 are needed to estimate volatility",
                r.len()
            )));
        }
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64;
        Ok(var.sqrt() * 12f64.sqrt())
    }
}

/// How prices evolve over the simulated years. Year 0 is the anchor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[derive(Default)]
pub enum PriceScenario {
    /// Constant at the anchor (mean of the last 12 months). Default.
    #[default]
    Flat,
    /// Anchor × (1 + pct_per_year/100)^t.
    Escalating { pct_per_year: f64 },
    /// Geometric Brownian motion in annual steps:
    /// `P_t = P_{t−1} · exp((μ − σ²/2) + σ · Z_t)`, so `E[P_t] = P_0 · e^{μt}`. `volatility`
    /// `None` estimates σ from the table's last `window_months` monthly log returns
    /// ([`PriceSeries::annualised_volatility_window`]; default 60 months, so the EUA table's
    /// 2005–2007 Phase I expiry and contract roll — prices falling to €0.07 and jumping back —
    /// do not pose as volatility; `null` uses the whole table); `drift` μ defaults to 0 (no
    /// expected trend).
    Stochastic {
        drift: f64,
        volatility: Option<f64>,
        #[serde(default = "default_window")]
        window_months: Option<u32>,
    },
}

fn default_window() -> Option<u32> {
    Some(60)
}

impl PriceScenario {
    /// Stochastic scenario with zero drift and volatility estimated over the last 60 months.
    pub fn stochastic() -> PriceScenario {
        PriceScenario::Stochastic {
            drift: 0.0,
            volatility: None,
            window_months: default_window(),
        }
    }
}

/// Resolved price model for a simulation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceModel {
    pub anchor: f64,
    pub growth_per_year: f64,
    pub drift: f64,
    pub volatility: f64,
}

impl PriceModel {
    pub fn new(series: &PriceSeries, scenario: &PriceScenario) -> Result<PriceModel> {
        let anchor = series.anchor();
        Ok(match scenario {
            PriceScenario::Flat => PriceModel {
                anchor,
                growth_per_year: 0.0,
                drift: 0.0,
                volatility: 0.0,
            },
            PriceScenario::Escalating { pct_per_year } => {
                if !pct_per_year.is_finite() || *pct_per_year <= -100.0 {
                    return Err(crate::error::bad_option(
                        "price.escalating.pct_per_year",
                        pct_per_year,
                        "must be finite and above -100",
                    ));
                }
                PriceModel {
                    anchor,
                    growth_per_year: pct_per_year / 100.0,
                    drift: 0.0,
                    volatility: 0.0,
                }
            }
            PriceScenario::Stochastic {
                drift,
                volatility,
                window_months,
            } => {
                let vol = match volatility {
                    Some(v) => *v,
                    None => {
                        series.annualised_volatility_window(window_months.map(|w| w as usize))?
                    }
                };
                if !vol.is_finite() || vol < 0.0 || !drift.is_finite() {
                    return Err(crate::error::bad_option(
                        "price.stochastic",
                        format!("drift {drift}, volatility {vol}"),
                        "must be finite, volatility ≥ 0",
                    ));
                }
                PriceModel {
                    anchor,
                    growth_per_year: 0.0,
                    drift: *drift,
                    volatility: vol,
                }
            }
        })
    }

    /// Fills `out[t]` (t = 0..len) with one price path; `z(t)` supplies standard normal draws
    /// (only called when the model is stochastic).
    pub fn path(&self, out: &mut [f64], mut z: impl FnMut() -> f64) {
        let mut p = self.anchor;
        for (t, o) in out.iter_mut().enumerate() {
            if t > 0 {
                if self.volatility > 0.0 {
                    let s = self.volatility;
                    p *= ((self.drift - 0.5 * s * s) + s * z()).exp();
                } else {
                    p *= (1.0 + self.growth_per_year) * self.drift.exp();
                }
            }
            *o = p;
        }
    }
}
