//! Accounting and value across the Monte Carlo ensemble (module docs of [`crate::sim`], step
//! 5): the uncertainty deduction (VMD0017-style, from the allometric estimation error or the
//! ensemble's spread), credits per run, the stand's yearly bands, present values and the
//! conservative collateral path from the low-side cumulative credits.

use crate::accounting::{AccountingOptions, Baseline, RunCredits, UncertaintySource};
use crate::finance::{Collateral, collateral, discount_factor};
use crate::options::SimulationOptions;
use crate::output::{
    AccountingSummary, RepresentativeSeries, StandSeries, Valuation, band_from_runs, scalar_band,
};
use crate::prices::PriceModel;
use crate::sim::RunOut;
use crate::stats::quantile_sorted;

/// What the ensemble gives the simulation.
pub(crate) struct EnsembleSummary {
    pub(crate) stand: StandSeries,
    pub(crate) accounting: AccountingSummary,
    pub(crate) valuation: Valuation,
    pub(crate) collateral: Collateral,
}

/// Summarise `results` (one per run), with the representative run `rep_out` and its
/// estimation SD per year `est_sd`.
pub(crate) fn summarise(
    results: &[RunOut],
    rep_out: &RunOut,
    est_sd: &[f64],
    opts: &SimulationOptions,
    price_model: PriceModel,
) -> EnsembleSummary {
    let runs = results.len();
    let years = opts.years as usize;
    let acc = &opts.accounting;
    let len = years + 1;
    let mut net: Vec<Vec<f64>> = Vec::with_capacity(runs);
    for r in results {
        let mut a = Vec::with_capacity(len);
        acc.net_cumulative(&r.stock, &mut a);
        net.push(a);
    }
    let (half_width, deduction) = uncertainty(acc, &net, rep_out, est_sd, len);
    let mut col = Vec::with_capacity(runs);
    let rate = opts.finance.discount_rate;
    let timber_price = opts.finance.timber.as_ref().map(|t| t.price_per_m3);
    let mut credits: Vec<RunCredits> = Vec::with_capacity(runs);
    let mut carbon_pv = Vec::with_capacity(runs);
    let mut timber_pv = Vec::with_capacity(runs);
    let mut pending = Vec::with_capacity(runs);
    let mut unrecovered = 0usize;
    for (r, a) in results.iter().zip(&net) {
        let mut c = RunCredits::default();
        acc.issue(a, &deduction, &mut c);
        let pv: f64 = (0..len)
            .map(|t| c.issued[t] * r.price[t] * discount_factor(rate, t as f64))
            .sum();
        carbon_pv.push(pv);
        if let Some(p) = timber_price {
            timber_pv.push(
                (0..len)
                    .map(|t| r.timber_m3[t] * p * discount_factor(rate, t as f64))
                    .sum::<f64>(),
            );
        }
        pending.push(c.pending_after_horizon);
        let last_verification = (1..len)
            .rev()
            .find(|t| (*t as u32).is_multiple_of(acc.verification_interval_years));
        if last_verification.is_some_and(|t| c.below_high_water[t] > 0.0) {
            unrecovered += 1;
        }
        credits.push(c);
    }
    let currency = opts.price.series.currency.clone();
    let removals = |r: &RunOut, t: usize| {
        if t == 0 {
            0.0
        } else {
            r.stock[t] - r.stock[t - 1]
        }
    };
    let cumulative: Vec<Vec<f64>> = credits
        .iter()
        .map(|c| {
            c.issued
                .iter()
                .scan(0.0, |s, v| {
                    *s += v;
                    Some(*s)
                })
                .collect()
        })
        .collect();
    let stand = StandSeries {
        year: (0..len).map(|t| opts.start_year + t as i32).collect(),
        stock_co2e_t: band_from_runs(runs, len, |r, t| results[r].stock[t]),
        removals_co2e_t: band_from_runs(runs, len, |r, t| removals(&results[r], t)),
        credits_issued_t: band_from_runs(runs, len, |r, t| credits[r].issued[t]),
        credits_cumulative_t: band_from_runs(runs, len, |r, t| cumulative[r][t]),
        buffer_t: band_from_runs(runs, len, |r, t| credits[r].buffer[t]),
        price_per_t: band_from_runs(runs, len, |r, t| results[r].price[t]),
        value: band_from_runs(runs, len, |r, t| credits[r].issued[t] * results[r].price[t]),
        stems_alive: band_from_runs(runs, len, |r, t| results[r].stems[t]),
        currency: currency.clone(),
        representative: {
            let mut a = Vec::new();
            acc.net_cumulative(&rep_out.stock, &mut a);
            let mut c = RunCredits::default();
            acc.issue(&a, &deduction, &mut c);
            RepresentativeSeries {
                removals_co2e_t: (0..len).map(|t| removals(rep_out, t)).collect(),
                stock_co2e_t: rep_out.stock.clone(),
                stems_alive: rep_out.stems.clone(),
                credits_issued_t: c.issued,
                agb_t: rep_out.agb_t.clone(),
                bgb_t: rep_out.bgb_t.clone(),
                carbon_t: rep_out.carbon_t.clone(),
            }
        },
    };
    let carbon_band = scalar_band(&carbon_pv);
    let timber_band = timber_price.map(|_| scalar_band(&timber_pv));
    let npv: Vec<f64> = if timber_price.is_some() {
        carbon_pv
            .iter()
            .zip(&timber_pv)
            .map(|(a, b)| a + b)
            .collect()
    } else {
        carbon_pv.clone()
    };
    let (latest_month, latest_price) = opts.price.series.latest();
    let valuation = Valuation {
        currency: currency.clone(),
        discount_rate: rate,
        carbon_pv: carbon_band,
        timber_pv: timber_band,
        npv: scalar_band(&npv),
        price_anchor_per_t: price_model.anchor,
        price_latest_month: latest_month.to_string(),
        price_latest_per_t: latest_price,
    };
    // Conservative credits: increments of the low-percentile cumulative-credit path. Each run's
    // cumulative credits never fall, so neither does any percentile of them; the increments
    // are ≥ 0 and sum to the percentile of total credits.
    let q = opts.finance.collateral.credit_percentile;
    let low_path: Vec<f64> = (0..len)
        .map(|t| {
            col.clear();
            col.extend(cumulative.iter().map(|c| c[t]));
            col.sort_by(|a, b| a.total_cmp(b));
            quantile_sorted(&col, q)
        })
        .collect();
    let conservative: Vec<f64> = (0..len)
        .map(|t| {
            if t == 0 {
                low_path[0]
            } else {
                (low_path[t] - low_path[t - 1]).max(0.0)
            }
        })
        .collect();
    let collateral = collateral(
        conservative,
        rate,
        &currency,
        latest_month.to_string(),
        latest_price,
        opts.price.series.trailing_mean(12),
        &opts.finance.collateral,
    );
    let accounting = AccountingSummary {
        method: format!(
            "VMD0017-style: cumulative net benefit (baseline, leakage) → uncertainty deduction \
             max(0, U − threshold) on the cumulative, U from {} → high-water-mark \
             verification → non-permanence buffer → issuance after the lag",
            match acc.uncertainty.source {
                UncertaintySource::Estimation => "the allometric estimation error",
                UncertaintySource::Ensemble => "the Monte Carlo ensemble spread",
            }
        ),
        uncertainty_half_width: half_width,
        uncertainty_deduction: deduction,
        pending_after_horizon_t: scalar_band(&pending),
        runs_with_unrecovered_reversal: unrecovered as f64 / runs as f64,
    };
    EnsembleSummary {
        stand,
        accounting,
        valuation,
        collateral,
    }
}

/// Uncertainty half-width and deduction per year: from the representative run's allometric
/// estimation SD (`est_sd`, through the baseline's share of removals, before leakage), or from
/// the spread of the runs' cumulative net benefit `net`; `len` years including year 0.
fn uncertainty(
    acc: &AccountingOptions,
    net: &[Vec<f64>],
    rep_out: &RunOut,
    est_sd: &[f64],
    len: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut half_width = vec![0.0; len];
    let mut deduction = vec![0.0; len];
    let mut col = Vec::with_capacity(net.len());
    match acc.uncertainty.source {
        UncertaintySource::Estimation => {
            // Cumulative net benefit of the representative run before leakage, and how much
            // of a stock-change error passes into it.
            let pass = match acc.baseline {
                Baseline::FractionOfRemovals { fraction } => 1.0 - fraction,
                _ => 1.0,
            };
            let no_leak = AccountingOptions {
                leakage_fraction: 0.0,
                ..acc.clone()
            };
            let mut net_rep = Vec::with_capacity(len);
            no_leak.net_cumulative(&rep_out.stock, &mut net_rep);
            for t in 0..len {
                let u = acc.estimation_half_width(est_sd[t] * pass, net_rep[t]);
                half_width[t] = u;
                deduction[t] = acc.deduction_for(u);
            }
        }
        UncertaintySource::Ensemble => {
            for t in 0..len {
                col.clear();
                col.extend(net.iter().map(|a| a[t]));
                let (u, d) = acc.uncertainty_deduction(&col);
                half_width[t] = u;
                deduction[t] = d;
            }
        }
    }
    (half_width, deduction)
}
