//! The simulation: options, the Monte Carlo engine and the representative run.
//!
//! # How a run is organised (and why it is fast)
//!
//! 1. **Preparation.** Each tree gets a species group (default if unknown), a survey DBH
//!    (observed, or Jucker et al. 2017 from H·CD), a crown factor (observed CD over the
//!    allometric CD, so crowns keep their individuality as they grow), wood density, carbon
//!    fraction and its log-scale allometric error σ_i.
//! 2. **Deterministic schedule** on the median growth parameters: crown-overlap competition
//!    each year (grid neighbour index) and the thinning/harvest events (which trees go, by size
//!    on that trajectory). Competition indices and the removal schedule are then shared by all
//!    runs — a mortality or disturbance death in one run does not release its neighbours.
//! 3. **Growth levels.** Growth-parameter uncertainty is a lognormal multiplier on the
//!    Chapman–Richards rates (σ `growth.rate_log_sigma`), stratified into `growth.levels`
//!    equiprobable levels (multiplier at each stratum's median). Every level's trajectory is
//!    computed once for all trees (rayon over levels): above-ground biomass and the annual
//!    mortality probability per tree-year, as `f32`/`u32` struct-of-arrays.
//! 4. **Monte Carlo runs** (rayon over runs; each run's ChaCha8 stream comes from
//!    (seed, run index) only, so results do not depend on the thread count): draw a growth
//!    level, per-tree allometric residuals (mean-one lognormal), a price path; then per year
//!    draw mortality for each standing tree, a disturbance event and its victims, apply the
//!    removal schedule, and accumulate stand totals only. The inner loop is a gather, a compare
//!    and two multiply-adds per standing tree-year, with no allocation.
//! 5. **Accounting and value** across the ensemble (uncertainty deduction needs it), bands per
//!    year, collateral from the low-side credits ([`crate::ensemble`]).
//! 6. **Representative run** for per-tree states (see `output`).

use std::time::Instant;

use rand::RngCore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::allometry::{
    AgbModel, CO2_PER_C, ForestType, GroupSource, JuckerCoefficients, RootShoot, SpeciesGroup,
};
use crate::error::{GrowthError, Result};
use crate::growth::{GrowthParams, Neighbours, Selection, cr_step_e, lens_area};
use crate::output::{
    Bits, DerivedSettings, EquationUse, F32Array, Inventory, InventoryTotals, InventoryTree,
    SCHEMA_VERSION, Settings, Simulation, TreeStates, TreeYear,
};
use crate::prices::{Market, PriceModel};
use crate::stats::{
    Normal, STREAM_REPRESENTATIVE, STREAM_THINNING, inverse_normal_cdf, run_rng, uniform_open,
};

/// The shared cancellation token (`twinmint-progress`): [`CancelToken::cancel`] stops a
/// simulation at the next chunk of runs, and `run` returns [`GrowthError::Cancelled`].
pub use twinmint_progress::CancelToken;

impl From<twinmint_progress::Cancelled> for GrowthError {
    fn from(_: twinmint_progress::Cancelled) -> Self {
        GrowthError::Cancelled
    }
}

pub use crate::options::*;

/// Timing of one simulation (not part of the serialised result, which stays reproducible).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub precompute_s: f64,
    pub monte_carlo_s: f64,
    pub total_s: f64,
    pub threads: usize,
}

/// Trees prepared for simulation (struct of arrays).
struct Prepared {
    n: usize,
    group: Vec<SpeciesGroup>,
    gi: Vec<u8>,
    h0: Vec<f64>,
    d0: Vec<f64>,
    crown_k: Vec<f64>,
    jucker: Vec<JuckerCoefficients>,
    model: Vec<AgbModel>,
    rho: Vec<f64>,
    cf: Vec<f32>,
    sigma: Vec<f32>,
    dbh_observed: Vec<bool>,
    group_source: Vec<GroupSource>,
    x: Vec<f64>,
    y: Vec<f64>,
    id: Vec<u32>,
    dbh_predicted: usize,
    group_defaulted: usize,
    species_unknown: Vec<String>,
    class_conflicts: usize,
}

impl Prepared {
    #[inline]
    fn crown(&self, i: usize, h: f64, d: f64) -> f64 {
        self.crown_k[i] * self.jucker[i].crown_diameter_m(d, h)
    }
}

fn prepare(trees: &[TreeInput], opts: &SimulationOptions) -> Result<Prepared> {
    if trees.is_empty() {
        return Err(GrowthError::NoTrees);
    }
    let al = &opts.allometry;
    let n = trees.len();
    let mut p = Prepared {
        n,
        group: Vec::with_capacity(n),
        gi: Vec::with_capacity(n),
        h0: Vec::with_capacity(n),
        d0: Vec::with_capacity(n),
        crown_k: Vec::with_capacity(n),
        jucker: Vec::with_capacity(n),
        model: Vec::with_capacity(n),
        rho: Vec::with_capacity(n),
        cf: Vec::with_capacity(n),
        sigma: Vec::with_capacity(n),
        dbh_observed: Vec::with_capacity(n),
        group_source: Vec::with_capacity(n),
        x: Vec::with_capacity(n),
        y: Vec::with_capacity(n),
        id: Vec::with_capacity(n),
        dbh_predicted: 0,
        group_defaulted: 0,
        species_unknown: Vec::new(),
        class_conflicts: 0,
    };
    let mut seen = std::collections::HashSet::with_capacity(n);
    for t in trees {
        let bad = |reason: String| GrowthError::InvalidInput {
            what: "tree",
            id: t.id,
            reason,
        };
        if !seen.insert(t.id) {
            return Err(bad("duplicate id".into()));
        }
        if !(t.x.is_finite() && t.y.is_finite()) {
            return Err(bad(format!("position ({}, {}) is not finite", t.x, t.y)));
        }
        if !(t.height_m.is_finite() && t.height_m > 1.3 && t.height_m <= MAX_TREE_HEIGHT_M) {
            return Err(bad(format!(
                "height {} m must exceed breast height (1.3 m) and be at most {MAX_TREE_HEIGHT_M} m",
                t.height_m
            )));
        }
        if !(t.crown_diameter_m.is_finite()
            && t.crown_diameter_m >= 0.0
            && t.crown_diameter_m <= MAX_CROWN_DIAMETER_M)
        {
            return Err(bad(format!(
                "crown diameter {} m must be in [0, {MAX_CROWN_DIAMETER_M}] m",
                t.crown_diameter_m
            )));
        }
        if let Some(d) = t.dbh_cm {
            if !(d.is_finite() && d > 0.0 && d <= MAX_DBH_CM) {
                return Err(bad(format!(
                    "DBH {d} cm must be > 0 and at most {MAX_DBH_CM} cm"
                )));
            }
        } else if t.crown_diameter_m <= 0.0 {
            return Err(bad(
                "needs a crown diameter or an observed DBH to size the stem".into(),
            ));
        }
        let a = tree_allometry(t, al);
        let group = a.resolved.group;
        if a.resolved.source == GroupSource::Default {
            p.group_defaulted += 1;
        }
        if a.resolved.species_unknown
            && let Some(s) = &t.species
            && !p.species_unknown.iter().any(|u| u == s.trim())
        {
            p.species_unknown.push(s.trim().to_string());
        }
        if a.resolved.class_conflict {
            p.class_conflicts += 1;
        }
        if !a.dbh_observed {
            p.dbh_predicted += 1;
        }
        let (jc, d0) = (a.jucker, a.dbh_cm);
        let k = if t.crown_diameter_m > 0.0 {
            (t.crown_diameter_m / jc.crown_diameter_m(d0, t.height_m)).clamp(0.25, 4.0)
        } else {
            1.0
        };
        p.group.push(group);
        p.gi.push(group_index(group) as u8);
        p.h0.push(t.height_m);
        p.d0.push(d0);
        p.crown_k.push(k);
        p.jucker.push(jc);
        p.model.push(a.model);
        p.rho.push(a.wood_density.mean);
        p.cf.push(a.carbon_fraction as f32);
        p.sigma.push(a.log_sigma as f32);
        p.dbh_observed.push(a.dbh_observed);
        p.group_source.push(a.resolved.source);
        p.x.push(t.x);
        p.y.push(t.y);
        p.id.push(t.id);
    }
    Ok(p)
}

/// Area of the bounding box of the crowns, ha (at least 1 m²).
fn crown_bbox_area_ha(trees: &[TreeInput], prep: &Prepared) -> f64 {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for (i, t) in trees.iter().enumerate() {
        let r = 0.5 * prep.crown(i, prep.h0[i], prep.d0[i]).max(0.5);
        b[0] = b[0].min(t.x - r);
        b[1] = b[1].min(t.y - r);
        b[2] = b[2].max(t.x + r);
        b[3] = b[3].max(t.y + r);
    }
    ((b[2] - b[0]) * (b[3] - b[1])).max(1.0) / 10_000.0
}

/// Output of the deterministic schedule pass.
struct Schedule {
    /// Crown-overlap index per (year 0..years-1, tree), empty without competition.
    overlap: Vec<f32>,
    /// Year a tree is thinned/harvested, u16::MAX = never.
    removed_at: Vec<u16>,
}

#[inline]
#[allow(clippy::too_many_arguments)]
fn step_tree(
    h: &mut f64,
    d: &mut f64,
    gp: &GrowthParams,
    eh: f64,
    ed: f64,
    overlap: f64,
    strength: f64,
) {
    let hn = cr_step_e(*h, gp.height_max_m, gp.height_shape, eh);
    let dn = cr_step_e(*d, gp.dbh_max_cm, gp.dbh_shape, ed);
    let m = strength * overlap;
    *h += (hn - *h) * (1.0 - 0.5 * m);
    *d += (dn - *d) * (1.0 - m);
}

fn rate_factors(gp: &[GrowthParams; 10], mult: f64) -> ([f64; 10], [f64; 10]) {
    (
        gp.map(|p| (-p.height_rate * mult).exp()),
        gp.map(|p| (-p.dbh_rate * mult).exp()),
    )
}

fn schedule(
    prep: &Prepared,
    gp: &[GrowthParams; 10],
    opts: &SimulationOptions,
    cancel: &CancelToken,
) -> Result<Schedule> {
    let n = prep.n;
    let years = opts.years as usize;
    let (eh, ed) = rate_factors(gp, 1.0);
    let comp = opts.growth.competition;
    let strength = comp.map_or(0.0, |c| c.strength);
    // Neighbour lists within crown reach: the largest crown each tree reaches on the
    // competition-free median trajectory, plus 20 % margin.
    let nb = if comp.is_some() {
        let mut reach: Vec<f64> = (0..n)
            .map(|i| prep.crown(i, prep.h0[i], prep.d0[i]))
            .collect();
        let (mut h, mut d) = (prep.h0.clone(), prep.d0.clone());
        for _ in 0..years {
            for i in 0..n {
                let g = prep.gi[i] as usize;
                step_tree(&mut h[i], &mut d[i], &gp[g], eh[g], ed[g], 0.0, 0.0);
                reach[i] = reach[i].max(prep.crown(i, h[i], d[i]));
            }
        }
        for r in &mut reach {
            *r *= 0.6;
        }
        Some(Neighbours::build(&prep.x, &prep.y, &reach))
    } else {
        None
    };
    let mut overlap = if nb.is_some() {
        vec![0f32; years * n]
    } else {
        Vec::new()
    };
    let mut removed_at = vec![u16::MAX; n];
    let (mut h, mut d) = (prep.h0.clone(), prep.d0.clone());
    let mut events = opts.growth.events.clone();
    events.sort_by_key(|e| e.year);
    let mut thin_rng = run_rng(opts.seed, STREAM_THINNING);
    let mut cd = vec![0f64; n];
    for t in 0..years {
        cancel.check()?;
        let ov_t: Option<&mut [f32]> = nb.as_ref().map(|_| &mut overlap[t * n..(t + 1) * n]);
        if let (Some(nb), Some(ov_t)) = (nb.as_ref(), ov_t) {
            for i in 0..n {
                cd[i] = prep.crown(i, h[i], d[i]);
            }
            let (h, cd, removed) = (&h, &cd, &removed_at);
            ov_t.par_iter_mut().enumerate().for_each(|(i, o)| {
                if (removed[i] as usize) <= t {
                    *o = 0.0;
                    return;
                }
                let ri = 0.5 * cd[i];
                if ri <= 0.0 {
                    *o = 0.0;
                    return;
                }
                let mut s = 0.0;
                for k in nb.off[i] as usize..nb.off[i + 1] as usize {
                    let j = nb.idx[k] as usize;
                    if (removed[j] as usize) <= t {
                        continue;
                    }
                    let w = if h[j] >= h[i] { 1.0 } else { 0.5 };
                    s += w * lens_area(ri, 0.5 * cd[j], nb.dist[k] as f64);
                }
                *o = (s / (std::f64::consts::PI * ri * ri)).min(1.0) as f32;
            });
        }
        for i in 0..n {
            let g = prep.gi[i] as usize;
            let o = if overlap.is_empty() {
                0.0
            } else {
                overlap[t * n + i] as f64
            };
            step_tree(&mut h[i], &mut d[i], &gp[g], eh[g], ed[g], o, strength);
        }
        let year = t + 1;
        for e in events.iter().filter(|e| e.year as usize == year) {
            let mut cand: Vec<usize> = (0..n).filter(|&i| removed_at[i] == u16::MAX).collect();
            let take = ((e.fraction * cand.len() as f64).round() as usize).min(cand.len());
            match e.selection {
                Selection::Smallest => cand.sort_by(|&a, &b| d[a].total_cmp(&d[b])),
                Selection::Largest => cand.sort_by(|&a, &b| d[b].total_cmp(&d[a])),
                Selection::Random => {
                    for k in (1..cand.len()).rev() {
                        let j = (uniform_open(&mut thin_rng) * (k + 1) as f64) as usize;
                        cand.swap(k, j.min(k));
                    }
                }
            }
            for &i in &cand[..take] {
                removed_at[i] = year as u16;
            }
        }
    }
    Ok(Schedule {
        overlap,
        removed_at,
    })
}

/// Per-level trajectories: AGB (kg, f32) for years 0..=Y and mortality thresholds (u32, p·2³²)
/// for years 0..Y-1, tree-minor. Optionally the height/DBH path (for the median level).
#[allow(clippy::too_many_arguments)]
fn level_trajectory(
    prep: &Prepared,
    gp: &[GrowthParams; 10],
    mult: f64,
    sched: &Schedule,
    opts: &SimulationOptions,
    agb: &mut [f32],
    thr: &mut [u32],
    keep_path: bool,
) -> Option<(Vec<f32>, Vec<f32>)> {
    let n = prep.n;
    let years = opts.years as usize;
    let (eh, ed) = rate_factors(gp, mult);
    let strength = opts.growth.competition.map_or(0.0, |c| c.strength);
    let mort = &opts.growth.mortality;
    let (mut h, mut d) = (prep.h0.clone(), prep.d0.clone());
    let mut path = keep_path.then(|| {
        (
            Vec::with_capacity((years + 1) * n),
            Vec::with_capacity((years + 1) * n),
        )
    });
    for t in 0..=years {
        let a = &mut agb[t * n..(t + 1) * n];
        for i in 0..n {
            a[i] = prep.model[i].agb_kg(d[i], h[i]) as f32;
        }
        if let Some((ph, pd)) = path.as_mut() {
            ph.extend(h.iter().map(|v| *v as f32));
            pd.extend(d.iter().map(|v| *v as f32));
        }
        if t == years {
            break;
        }
        let th = &mut thr[t * n..(t + 1) * n];
        for i in 0..n {
            let p = mort.annual_probability(d[i]);
            th[i] = (p * 4_294_967_296.0).min(4_294_967_295.0) as u32;
            let g = prep.gi[i] as usize;
            let o = if sched.overlap.is_empty() {
                0.0
            } else {
                sched.overlap[t * n + i] as f64
            };
            step_tree(&mut h[i], &mut d[i], &gp[g], eh[g], ed[g], o, strength);
        }
    }
    path
}

/// Shared read-only context of the Monte Carlo runs.
struct Ctx<'a> {
    n: usize,
    years: usize,
    levels: usize,
    agb: &'a [f32],
    thr: &'a [u32],
    removed_at: &'a [u16],
    cf: &'a [f32],
    sigma: &'a [f32],
    inv_rho: Vec<f32>,
    seed: u64,
    price: PriceModel,
    hazard: f64,
    loss_thr: u32,
    area_ha: f64,
    root_shoot: RootShoot,
    forest_type: ForestType,
    merch: Option<f64>,
}

/// Stand totals of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunOut {
    pub(crate) stock: Vec<f64>,
    pub(crate) price: Vec<f64>,
    pub(crate) stems: Vec<f64>,
    pub(crate) timber_m3: Vec<f64>,
    /// Representative run only: live AGB (t), BGB (t), carbon (t C) and the root:shoot ratio.
    pub(crate) agb_t: Vec<f64>,
    pub(crate) bgb_t: Vec<f64>,
    pub(crate) carbon_t: Vec<f64>,
    pub(crate) root_shoot: Vec<f64>,
}

impl Ctx<'_> {
    #[inline]
    fn stock_co2e_t(&self, s_agb_kg: f64, s_c_kg: f64) -> f64 {
        let r = self
            .root_shoot
            .ratio(s_agb_kg / 1000.0 / self.area_ha, self.forest_type);
        s_c_kg * (1.0 + r) / 1000.0 * CO2_PER_C
    }

    fn run(&self, run: u64, resid: &mut Vec<f32>, alive: &mut Vec<bool>) -> RunOut {
        let (n, years) = (self.n, self.years);
        let mut rng = run_rng(self.seed, run);
        let k = ((rng.next_u32() as u64 * self.levels as u64) >> 32) as usize;
        let mut normal = Normal::new();
        resid.clear();
        resid.extend(self.sigma.iter().map(|&s| {
            let z = normal.sample(&mut rng);
            let s = s as f64;
            (s * z - 0.5 * s * s).exp() as f32
        }));
        let mut out = RunOut {
            stock: vec![0.0; years + 1],
            price: vec![0.0; years + 1],
            stems: vec![0.0; years + 1],
            timber_m3: if self.merch.is_some() {
                vec![0.0; years + 1]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        self.price.path(&mut out.price, || normal.sample(&mut rng));
        alive.clear();
        alive.resize(n, true);
        let base = k * (years + 1) * n;
        let tbase = k * years * n;
        let (mut s_agb, mut s_c) = (0.0f64, 0.0f64);
        let a0 = &self.agb[base..base + n];
        for i in 0..n {
            let a = resid[i] * a0[i];
            s_agb += a as f64;
            s_c += (a * self.cf[i]) as f64;
        }
        out.stock[0] = self.stock_co2e_t(s_agb, s_c);
        out.stems[0] = n as f64;
        for t in 1..=years {
            let event = self.hazard > 0.0 && uniform_open(&mut rng) < self.hazard;
            let a_t = &self.agb[base + t * n..base + (t + 1) * n];
            let thr = &self.thr[tbase + (t - 1) * n..tbase + t * n];
            let (mut s_agb, mut s_c, mut stems) = (0.0f64, 0.0f64, 0u32);
            let mut harvested = 0.0f64;
            for i in 0..n {
                if !alive[i] {
                    continue;
                }
                if self.removed_at[i] as usize == t {
                    alive[i] = false;
                    if self.merch.is_some() {
                        harvested += (resid[i] * a_t[i] * self.inv_rho[i]) as f64;
                    }
                    continue;
                }
                let th = thr[i];
                if th != 0 && rng.next_u32() < th {
                    alive[i] = false;
                    continue;
                }
                if event && rng.next_u32() < self.loss_thr {
                    alive[i] = false;
                    continue;
                }
                let a = resid[i] * a_t[i];
                s_agb += a as f64;
                s_c += (a * self.cf[i]) as f64;
                stems += 1;
            }
            out.stock[t] = self.stock_co2e_t(s_agb, s_c);
            out.stems[t] = stems as f64;
            if let Some(m) = self.merch {
                // kg dry matter / (t/m³ · 1000 kg/t) → m³, merchantable share.
                out.timber_m3[t] = harvested / 1000.0 * m;
            }
        }
        out
    }
}

/// Runs the simulation. `progress(done, total)` is called from the calling thread after the
/// growth levels and after each chunk of runs; `cancel` is checked at the same points.
pub fn run(
    trees: &[TreeInput],
    opts: &SimulationOptions,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &CancelToken,
) -> Result<Simulation> {
    run_timed(trees, opts, progress, cancel).map(|(s, _)| s)
}

/// [`run`] plus wall-clock timing (kept out of the result so it stays reproducible).
pub fn run_timed(
    trees: &[TreeInput],
    opts: &SimulationOptions,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &CancelToken,
) -> Result<(Simulation, Timing)> {
    let t_start = Instant::now();
    opts.validate()?;
    opts.check_size(trees.len())?;
    let prep = prepare(trees, opts)?;
    let n = prep.n;
    let years = opts.years as usize;
    let runs = opts.runs as usize;
    let mut warnings = Vec::new();
    let gp = opts.group_params();

    let (area_ha, area_source) = stand_area(trees, &prep, opts, &mut warnings);

    let price_model = PriceModel::new(&opts.price.series, &opts.price.scenario)?;
    if opts.price.series.market == Market::Ccer
        && opts.price.series.provenance.source.starts_with("bundled")
    {
        warnings.push("CCER prices are user-supplied".into());
    }

    let multipliers = level_multipliers(opts, years, n, &mut warnings);
    let levels = multipliers.len();
    let median = levels / 2;
    let total_work = (levels + runs) as u64;

    let sched = schedule(&prep, &gp, opts, cancel)?;
    cancel.check()?;
    let mut agb = vec![0f32; levels * (years + 1) * n];
    let mut thr = vec![0u32; levels * years * n];
    let paths: Vec<Option<(Vec<f32>, Vec<f32>)>> = agb
        .par_chunks_mut((years + 1) * n)
        .zip(thr.par_chunks_mut((years * n).max(1)))
        .enumerate()
        .map(|(k, (a, th))| {
            level_trajectory(&prep, &gp, multipliers[k], &sched, opts, a, th, k == median)
        })
        .collect();
    let (path_h, path_d) = paths
        .into_iter()
        .nth(median)
        .flatten()
        .expect("median level keeps its path");
    cancel.check()?;
    progress(levels as u64, total_work);

    let forest_type = forest_type_for(
        opts,
        &prep,
        &agb[median * (years + 1) * n..median * (years + 1) * n + n],
    );
    let t_pre = t_start.elapsed().as_secs_f64();

    let ctx = Ctx {
        n,
        years,
        levels,
        agb: &agb,
        thr: &thr,
        removed_at: &sched.removed_at,
        cf: &prep.cf,
        sigma: &prep.sigma,
        inv_rho: prep.rho.iter().map(|r| (1.0 / r) as f32).collect(),
        seed: opts.seed,
        price: price_model,
        hazard: opts.growth.disturbance.hazard_per_year,
        loss_thr: (opts.growth.disturbance.loss_fraction * 4_294_967_296.0).min(4_294_967_295.0)
            as u32,
        area_ha,
        root_shoot: opts.allometry.root_shoot,
        forest_type,
        merch: opts
            .finance
            .timber
            .as_ref()
            .map(|t| t.merchantable_fraction),
    };

    let t_mc = Instant::now();
    let results = monte_carlo(&ctx, runs, levels, total_work, progress, cancel)?;
    let mc_s = t_mc.elapsed().as_secs_f64();

    // Representative run.
    let (rep_out, tree_states, est_sd) = representative(
        &ctx,
        &prep,
        median,
        &path_h,
        &path_d,
        opts,
        opts.output.tree_states,
    );

    let ens = crate::ensemble::summarise(&results, &rep_out, &est_sd, opts, price_model);
    input_warnings(&prep, &gp, &mut warnings);
    let inventory = year0_inventory(trees, &prep, opts, area_ha, rep_out.root_shoot[0]);
    let sim = Simulation {
        schema_version: SCHEMA_VERSION,
        generator: format!("twinmint growth-model {}", env!("CARGO_PKG_VERSION")),
        settings: Settings {
            options: opts.clone(),
            derived: DerivedSettings {
                n_trees: n,
                area_ha,
                area_source,
                forest_type,
                growth_level_multipliers: multipliers,
                price_model,
                price_currency: opts.price.series.currency.clone(),
                dbh_predicted: prep.dbh_predicted,
                species_group_defaulted: prep.group_defaulted,
                region: opts.allometry.region,
                biomass_equation: opts.allometry.biomass_equation(),
                dbh_model: opts.allometry.jucker_biome(),
                group_sources: inventory.totals.group_sources,
            },
        },
        inventory: Some(inventory),
        trees: tree_states,
        stand: ens.stand,
        accounting: ens.accounting,
        valuation: ens.valuation,
        collateral: ens.collateral,
        warnings,
    };
    let timing = Timing {
        precompute_s: t_pre,
        monte_carlo_s: mc_s,
        total_s: t_start.elapsed().as_secs_f64(),
        threads: rayon::current_num_threads(),
    };
    crate::output::check_finite(&sim)?;
    Ok((sim, timing))
}

/// The stand area (ha) and where it came from: the option, else the crowns' bounding box
/// (with a warning: the surveyed area is what per-hectare figures should use).
fn stand_area(
    trees: &[TreeInput],
    prep: &Prepared,
    opts: &SimulationOptions,
    warnings: &mut Vec<String>,
) -> (f64, String) {
    match opts.area_ha {
        Some(a) => (a, "option".to_string()),
        None => {
            warnings.push(
                "stand area taken from the bounding box of the crowns; pass area_ha for the \
                 surveyed area"
                    .to_string(),
            );
            (
                crown_bbox_area_ha(trees, prep),
                "crown bounding box".to_string(),
            )
        }
    }
}

/// The growth levels' rate multipliers (module docs, step 3): one level without growth
/// uncertainty, else `levels` (odd) stratified lognormal medians, fewer when the levels'
/// trajectories would not fit in 1 GiB (with a warning).
fn level_multipliers(
    opts: &SimulationOptions,
    years: usize,
    n: usize,
    warnings: &mut Vec<String>,
) -> Vec<f64> {
    let mut levels = if opts.growth.rate_log_sigma > 0.0 {
        (opts.growth.levels | 1) as usize
    } else {
        1
    };
    let per_level_bytes = (2 * years + 1) * n * 4;
    let budget = 1usize << 30;
    if levels * per_level_bytes > budget {
        let fit = (budget / per_level_bytes.max(1)).max(1);
        let reduced = if fit.is_multiple_of(2) { fit - 1 } else { fit }.max(1);
        warnings.push(format!(
            "growth levels reduced from {levels} to {reduced} to stay within 1 GiB"
        ));
        levels = reduced;
    }
    (0..levels)
        .map(|k| {
            if levels == 1 {
                1.0
            } else {
                let z = inverse_normal_cdf((k as f64 + 0.5) / levels as f64);
                (opts.growth.rate_log_sigma * z).exp()
            }
        })
        .collect()
}

/// Forest type for the IPCC root:shoot ratios: the option, or from the year-0 AGB mix `a0`
/// (conifer when softwoods hold half the biomass, oak when oak–hickory–beech does).
fn forest_type_for(opts: &SimulationOptions, prep: &Prepared, a0: &[f32]) -> ForestType {
    let n = prep.n;
    match opts.allometry.root_shoot {
        RootShoot::Ipcc2006 {
            forest_type: ForestType::Auto,
            ..
        } => {
            let total: f64 = a0.iter().map(|v| *v as f64).sum();
            let soft: f64 = (0..n)
                .filter(|&i| prep.group[i].is_softwood())
                .map(|i| a0[i] as f64)
                .sum();
            let oak: f64 = (0..n)
                .filter(|&i| prep.group[i] == SpeciesGroup::HardMapleOakHickoryBeech)
                .map(|i| a0[i] as f64)
                .sum();
            if soft >= 0.5 * total {
                ForestType::Conifer
            } else if oak >= 0.5 * total {
                ForestType::Oak
            } else {
                ForestType::OtherBroadleaf
            }
        }
        RootShoot::Ipcc2006 { forest_type, .. } => forest_type,
        _ => ForestType::OtherBroadleaf,
    }
}

/// The Monte Carlo runs, in chunks so progress and cancellation stay responsive.
fn monte_carlo(
    ctx: &Ctx,
    runs: usize,
    levels: usize,
    total_work: u64,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &CancelToken,
) -> Result<Vec<RunOut>> {
    let n = ctx.n;
    let mut results: Vec<RunOut> = Vec::with_capacity(runs);
    let chunk = (rayon::current_num_threads() * 8).clamp(16, 256);
    let mut done = 0usize;
    while done < runs {
        cancel.check()?;
        let end = (done + chunk).min(runs);
        let part: Vec<RunOut> = (done..end)
            .into_par_iter()
            .map_init(
                || (Vec::with_capacity(n), Vec::with_capacity(n)),
                |(resid, alive), r| ctx.run(r as u64, resid, alive),
            )
            .collect();
        results.extend(part);
        done = end;
        progress((levels + done) as u64, total_work);
    }

    Ok(results)
}

/// Warnings about the inputs: trees at their group's asymptotic height, species names not in
/// the table, species whose clade contradicts the conifer/broadleaf call.
fn input_warnings(prep: &Prepared, gp: &[GrowthParams; 10], warnings: &mut Vec<String>) {
    let n = prep.n;
    let too_big = (0..n)
        .filter(|&i| prep.h0[i] >= gp[prep.gi[i] as usize].height_max_m)
        .count();
    if too_big > 0 {
        warnings.push(format!(
            "{too_big} trees are at or above their group's asymptotic height and do not grow \
             in height; consider site-specific growth parameters"
        ));
    }
    if !prep.species_unknown.is_empty() {
        let shown: Vec<&str> = prep
            .species_unknown
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        warnings.push(format!(
            "{} species name(s) not in the species table ({}{}); those trees fell back to their \
             conifer/broadleaf call or the default group",
            prep.species_unknown.len(),
            shown.join(", "),
            if prep.species_unknown.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        ));
    }
    if prep.class_conflicts > 0 {
        warnings.push(format!(
            "{} trees name a species whose clade contradicts their conifer/broadleaf call; the \
             named species was used",
            prep.class_conflicts
        ));
    }
}

/// The year-0 inventory from the prepared trees (the same equations and values as the
/// representative run's year 0) and the stand's year-0 root:shoot ratio.
fn year0_inventory(
    trees: &[TreeInput],
    prep: &Prepared,
    opts: &SimulationOptions,
    area_ha: f64,
    root_shoot: f64,
) -> Inventory {
    const Z90: f64 = 1.644_853_626_951_472_2;
    let mut totals = InventoryTotals {
        trees: prep.n,
        dbh_predicted: prep.dbh_predicted,
        dbh_observed: prep.n - prep.dbh_predicted,
        ..Default::default()
    };
    let mut records = Vec::with_capacity(prep.n);
    let mut equations: Vec<EquationUse> = Vec::new();
    let (mut var_agb, mut var_co2e) = (0.0, 0.0);
    for (i, t) in trees.iter().enumerate() {
        let m = &prep.model[i];
        let agb = m.agb_kg(prep.d0[i], prep.h0[i]);
        let sigma = prep.sigma[i] as f64;
        let sd_factor = (sigma * sigma).exp_m1().sqrt();
        let half = 0.5 * sigma * sigma;
        let bgb = agb * root_shoot;
        let cf = prep.cf[i] as f64;
        let carbon = (agb + bgb) * cf;
        let co2e = carbon * CO2_PER_C;
        let label = m.label();
        totals.group_sources.add(prep.group_source[i]);
        totals.agb_t += agb / 1000.0;
        totals.bgb_t += bgb / 1000.0;
        totals.carbon_t += carbon / 1000.0;
        totals.co2e_t += co2e / 1000.0;
        var_agb += (agb * sd_factor / 1000.0).powi(2);
        var_co2e += (co2e * sd_factor / 1000.0).powi(2);
        match equations.iter_mut().find(|e| e.label == label) {
            Some(e) => {
                e.trees += 1;
                e.agb_t += agb / 1000.0;
            }
            None => equations.push(EquationUse {
                equation: m.equation,
                label: label.clone(),
                citation: m.equation.citation().to_string(),
                log_sigma: opts.allometry.biomass_log_sigma.unwrap_or(m.log_sigma),
                trees: 1,
                agb_t: agb / 1000.0,
            }),
        }
        records.push(InventoryTree {
            id: t.id,
            x: t.x,
            y: t.y,
            height_m: t.height_m,
            crown_diameter_m: t.crown_diameter_m,
            dbh_cm: prep.d0[i],
            dbh_observed: prep.dbh_observed[i],
            species: t
                .species
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
            species_group: prep.group[i],
            group_source: prep.group_source[i],
            equation: label,
            agb_kg: agb,
            agb_log_sigma: sigma,
            agb_sd_kg: agb * sd_factor,
            agb_p05_kg: agb * (-Z90 * sigma - half).exp(),
            agb_p95_kg: agb * (Z90 * sigma - half).exp(),
            bgb_kg: bgb,
            carbon_fraction: cf,
            carbon_kg: carbon,
            co2e_kg: co2e,
        });
    }
    equations.sort_by(|a, b| b.agb_t.total_cmp(&a.agb_t));
    totals.agb_sd_t = var_agb.sqrt();
    totals.co2e_sd_t = var_co2e.sqrt();
    totals.agb_t_per_ha = totals.agb_t / area_ha;
    totals.bgb_t_per_ha = totals.bgb_t / area_ha;
    totals.carbon_t_per_ha = totals.carbon_t / area_ha;
    totals.co2e_t_per_ha = totals.co2e_t / area_ha;
    totals.co2e_t_per_ha_p05 = ((totals.co2e_t - Z90 * totals.co2e_sd_t) / area_ha).max(0.0);
    totals.co2e_t_per_ha_p95 = (totals.co2e_t + Z90 * totals.co2e_sd_t) / area_ha;
    Inventory {
        year: opts.start_year,
        area_ha,
        region: opts.allometry.region,
        root_shoot_ratio: root_shoot,
        totals,
        equations,
        trees: records,
    }
}

/// The representative run (median growth level, mean-one residuals, optional mortality on its
/// own stream, schedule applied, no disturbance) and its per-tree states.
fn representative(
    ctx: &Ctx,
    prep: &Prepared,
    median: usize,
    path_h: &[f32],
    path_d: &[f32],
    opts: &SimulationOptions,
    keep_states: bool,
) -> (RunOut, Option<TreeStates>, Vec<f64>) {
    let (n, years) = (ctx.n, ctx.years);
    let mut rng = run_rng(ctx.seed, STREAM_REPRESENTATIVE);
    let mortality = opts.output.representative_mortality;
    let mut alive = vec![true; n];
    let mut out = RunOut {
        stock: vec![0.0; years + 1],
        price: vec![ctx.price.anchor; years + 1],
        stems: vec![0.0; years + 1],
        timber_m3: Vec::new(),
        agb_t: vec![0.0; years + 1],
        bgb_t: vec![0.0; years + 1],
        carbon_t: vec![0.0; years + 1],
        root_shoot: vec![0.0; years + 1],
    };
    let mut states = Vec::with_capacity(if keep_states { years + 1 } else { 0 });
    // Estimation error of the stock change: per-tree variance factor e^{σ²} − 1 and the
    // tree's year-0 CO2e.
    let var_k: Vec<f64> = ctx
        .sigma
        .iter()
        .map(|&s| ((s as f64) * (s as f64)).exp_m1())
        .collect();
    let mut s0 = vec![0f64; n];
    let mut est_sd = vec![0f64; years + 1];
    let base = median * (years + 1) * n;
    let tbase = median * years * n;
    for t in 0..=years {
        if t > 0 {
            let thr = &ctx.thr[tbase + (t - 1) * n..tbase + t * n];
            for i in 0..n {
                if !alive[i] {
                    continue;
                }
                if ctx.removed_at[i] as usize == t
                    || (mortality && thr[i] != 0 && rng.next_u32() < thr[i])
                {
                    alive[i] = false;
                }
            }
        }
        let a_t = &ctx.agb[base + t * n..base + (t + 1) * n];
        let (mut s_agb, mut s_c, mut stems) = (0.0f64, 0.0f64, 0usize);
        for i in 0..n {
            if alive[i] {
                s_agb += a_t[i] as f64;
                s_c += (a_t[i] * ctx.cf[i]) as f64;
                stems += 1;
            }
        }
        out.stock[t] = ctx.stock_co2e_t(s_agb, s_c);
        out.stems[t] = stems as f64;
        let r = ctx
            .root_shoot
            .ratio(s_agb / 1000.0 / ctx.area_ha, ctx.forest_type);
        out.agb_t[t] = s_agb / 1000.0;
        out.bgb_t[t] = s_agb * r / 1000.0;
        out.carbon_t[t] = s_c * (1.0 + r) / 1000.0;
        out.root_shoot[t] = r;
        let f64_factor = (1.0 + r) / 1000.0 * CO2_PER_C;
        let mut var = 0.0;
        for i in 0..n {
            let s_it = if alive[i] {
                a_t[i] as f64 * ctx.cf[i] as f64 * f64_factor
            } else {
                0.0
            };
            if t == 0 {
                s0[i] = s_it;
            }
            var += var_k[i] * (s_it - s0[i]).powi(2);
        }
        est_sd[t] = var.sqrt();
        if keep_states {
            let f = f64_factor as f32;
            let h = &path_h[t * n..(t + 1) * n];
            let d = &path_d[t * n..(t + 1) * n];
            let mut bits = Bits::with_len(n);
            for (i, a) in alive.iter().enumerate() {
                bits.set(i, *a);
            }
            states.push(TreeYear {
                year: opts.start_year + t as i32,
                height_m: F32Array(h.to_vec()),
                dbh_cm: F32Array(d.to_vec()),
                crown_diameter_m: F32Array(
                    (0..n)
                        .map(|i| prep.crown(i, h[i] as f64, d[i] as f64) as f32)
                        .collect(),
                ),
                agb_kg: F32Array(a_t.to_vec()),
                co2e_t: F32Array(
                    (0..n)
                        .map(|i| {
                            if alive[i] {
                                a_t[i] * ctx.cf[i] * f
                            } else {
                                0.0
                            }
                        })
                        .collect(),
                ),
                alive: bits,
            });
        }
    }
    let ts = keep_states.then(|| TreeStates {
        run: "representative: median growth level, no allometric residual, scheduled \
              thinning/harvest, background mortality drawn on its own random stream (if \
              enabled), no disturbance"
            .into(),
        n_trees: n,
        id: prep.id.clone(),
        x: prep.x.clone(),
        y: prep.y.clone(),
        species_group: prep.group.clone(),
        dbh_observed: prep.dbh_observed.clone(),
        years: states,
    });
    (out, ts, est_sd)
}
