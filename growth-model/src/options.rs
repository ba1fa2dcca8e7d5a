//! Everything a simulation takes: the tree inputs, the option structs with their documented
//! defaults and limits, and the per-tree allometry a tree's inputs resolve to. Shared by the
//! simulation (`sim`) and its output (`output`), so the two do not import each other.

use serde::{Deserialize, Serialize};

use crate::accounting::AccountingOptions;
use crate::allometry::{
    AgbForm, AgbModel, BiomassEquation, CarbonFraction, Clade, GroupSource, JuckerBiome,
    JuckerCoefficients, Region, RootShoot, SpeciesGroup, WoodDensity,
};
use crate::error::{GrowthError, Result, bad_option};
use crate::finance::CollateralOptions;
use crate::growth::{
    CompetitionOptions, DisturbanceOptions, GrowthParams, HarvestEvent, MortalityOptions,
};
use crate::prices::{Market, PriceScenario, PriceSeries, builtin};
use crate::species::{SpeciesMatch, class_alias, lookup};

/// Tallest tree input the model accepts (the tallest measured tree is 116 m).
pub const MAX_TREE_HEIGHT_M: f64 = 150.0;
/// Widest stem input the model accepts (the widest measured stems are about 11–14 m).
pub const MAX_DBH_CM: f64 = 1500.0;
/// Widest crown input the model accepts.
pub const MAX_CROWN_DIAMETER_M: f64 = 100.0;
/// Most Monte Carlo runs one simulation accepts.
pub const MAX_RUNS: u32 = 1_000_000;
/// Largest stand area (ha) accepted (1 M ha = 10 000 km²).
pub const MAX_AREA_HA: f64 = 1.0e6;
/// Escalation range, percent a year: (−100, 100].
pub const MAX_ESCALATION_PCT: f64 = 100.0;
/// Discount rate range: [−0.1, 1] (−10 % … 100 % a year).
pub const DISCOUNT_RATE_RANGE: (f64, f64) = (-0.1, 1.0);
/// Memory one simulation may plan for (8 GB): runs × years and levels × years × trees.
pub const MAX_SIMULATION_BYTES: f64 = 8.0e9;

/// One observed tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeInput {
    pub id: u32,
    /// Stem position, absolute CRS coordinates (m).
    pub x: f64,
    pub y: f64,
    pub height_m: f64,
    /// 0 when unknown (then `dbh_cm` must be given).
    pub crown_diameter_m: f64,
    /// Observed DBH; `None` = predict from height and crown (Jucker et al. 2017).
    #[serde(default)]
    pub dbh_cm: Option<f64>,
    /// The group, when the input names it; it wins over everything else.
    #[serde(default)]
    pub species_group: Option<SpeciesGroup>,
    /// The point-based conifer (`true`) / broadleaf (`false`) call of the reconstruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conifer: Option<bool>,
    /// A species the user named: scientific name, USDA PLANTS / NEON code, common name or group
    /// name (`Picea abies`, `PIPA2`, `Norway spruce`, `spruce`); see [`crate::species`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub species: Option<String>,
}

/// Allometry settings. Defaults: region `global` (Jenkins 2003 biomass, Jucker global DBH
/// model — the model's behaviour before regions existed; see [`Region`]), mixed hardwood when
/// nothing is known about a tree, IPCC carbon fraction 0.47, IPCC temperate root:shoot with the
/// forest type from the species mix, each equation's own log-scale residual σ
/// ([`AgbModel::log_sigma`]), DBH residual σ 0.056 (Jucker global), wood-density spread on.
///
/// A tree's group is decided in this order ([`AllometryOptions::resolve_group`]): its explicit
/// `species_group`; its `species` looked up in [`crate::species`]; its conifer/broadleaf call
/// mapped to the region's default conifer or broadleaf group; `default_species_group`. The
/// rule that decided is recorded per tree ([`GroupSource`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AllometryOptions {
    /// Where the stand grows: picks `auto` equations, the Jucker biome and class defaults.
    pub region: Region,
    /// Jucker et al. (2017) model for DBH from height × crown diameter; `None` = the region's
    /// biome ([`Region::jucker_biome`]). The clade follows each tree's resolved group.
    pub dbh_model: Option<JuckerBiome>,
    /// Biomass equation set; `auto` (default) = by region ([`Region::biomass_equation`]).
    pub biomass: BiomassEquation,
    pub default_species_group: SpeciesGroup,
    pub carbon_fraction: CarbonFraction,
    pub root_shoot: RootShoot,
    /// Per-tree log-scale residual of the biomass equation; `None` (default) = each equation's
    /// own σ, a value overrides it for every tree.
    pub biomass_log_sigma: Option<f64>,
    /// Per-tree log-scale residual of predicted DBH (propagated through the DBH exponent).
    pub dbh_log_sigma: f64,
    /// Add the group's between-species wood-density spread to the residual (Chave only).
    pub wood_density_spread: bool,
}

impl Default for AllometryOptions {
    fn default() -> Self {
        AllometryOptions {
            region: Region::Global,
            dbh_model: None,
            biomass: BiomassEquation::Auto,
            default_species_group: SpeciesGroup::MixedHardwood,
            carbon_fraction: CarbonFraction::IpccDefault,
            root_shoot: RootShoot::default(),
            biomass_log_sigma: None,
            dbh_log_sigma: 0.056,
            wood_density_spread: true,
        }
    }
}

/// A tree's resolved species group and how it was decided.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedGroup {
    pub group: SpeciesGroup,
    pub source: GroupSource,
    /// The looked-up species, when the tree named one the table knows.
    pub taxon: Option<SpeciesMatch>,
    /// The tree named a species the table does not know (it fell back to class or default).
    pub species_unknown: bool,
    /// The named species' clade contradicts the tree's conifer/broadleaf call.
    pub class_conflict: bool,
}

impl AllometryOptions {
    /// The Jucker biome in use: `dbh_model`, else the region's.
    pub fn jucker_biome(&self) -> JuckerBiome {
        self.dbh_model.unwrap_or(self.region.jucker_biome())
    }

    /// The biomass equation set in use (`auto` resolved by region).
    pub fn biomass_equation(&self) -> BiomassEquation {
        self.biomass.resolve(self.region)
    }

    /// A tree's species group: explicit group → species (name/code/genus) → conifer/broadleaf
    /// call → `default_species_group`. A species string that is only a class word
    /// (`conifer`, `broadleaf`) counts as the tree's class call and overrides the points'.
    pub fn resolve_group(
        &self,
        species_group: Option<SpeciesGroup>,
        species: Option<&str>,
        conifer: Option<bool>,
    ) -> ResolvedGroup {
        let species = species.map(str::trim).filter(|s| !s.is_empty());
        let taxon = species.and_then(lookup);
        if let Some(group) = species_group {
            return ResolvedGroup {
                group,
                source: GroupSource::SpeciesGroup,
                taxon,
                species_unknown: false,
                class_conflict: false,
            };
        }
        let mut conifer = conifer;
        let mut species_unknown = false;
        if let Some(s) = species {
            if let Some(m) = taxon {
                let class_conflict = match (conifer, m.group.clade()) {
                    (Some(c), Some(k)) => c != (k == Clade::Gymnosperm),
                    _ => false,
                };
                return ResolvedGroup {
                    group: m.group,
                    source: GroupSource::Species,
                    taxon: Some(m),
                    species_unknown: false,
                    class_conflict,
                };
            }
            match class_alias(s) {
                Some(c) => conifer = Some(c),
                None => species_unknown = true,
            }
        }
        let (group, source) = match conifer {
            Some(true) => (self.region.conifer_group(), GroupSource::Class),
            Some(false) => (self.region.broadleaf_group(), GroupSource::Class),
            None => (self.default_species_group, GroupSource::Default),
        };
        ResolvedGroup {
            group,
            source,
            taxon: None,
            species_unknown,
            class_conflict: false,
        }
    }
}

/// Everything the simulation derives for one tree at year 0 (its allometry).
#[derive(Clone, Debug, PartialEq)]
pub struct TreeAllometry {
    pub resolved: ResolvedGroup,
    /// DBH at year 0: observed, or Jucker et al. (2017) from height × crown.
    pub dbh_cm: f64,
    pub dbh_observed: bool,
    /// The Jucker coefficients for the tree's biome and clade (also used to grow its crown).
    pub jucker: JuckerCoefficients,
    pub model: AgbModel,
    /// Above-ground dry biomass at year 0, kg.
    pub agb_kg: f64,
    /// Total log-scale σ of the tree's AGB: √(σ_eq² + (b·σ_DBH)² [predicted DBH] + (0.976·sd_ρ/ρ)²
    /// [Chave with wood-density spread]).
    pub log_sigma: f64,
    pub wood_density: WoodDensity,
    pub carbon_fraction: f64,
}

/// A tree's year-0 allometry, by exactly the rules the simulation uses (it calls this).
/// Inputs are not validated (`run` rejects bad trees first).
pub fn tree_allometry(t: &TreeInput, al: &AllometryOptions) -> TreeAllometry {
    let resolved = al.resolve_group(t.species_group, t.species.as_deref(), t.conifer);
    let group = resolved.group;
    let jucker = al.jucker_biome().coefficients(group.clade());
    let (dbh_cm, dbh_observed) = match t.dbh_cm {
        Some(d) => (d, true),
        None => (jucker.dbh_cm(t.height_m, t.crown_diameter_m), false),
    };
    let model = AgbModel::for_tree(
        al.biomass_equation(),
        group,
        resolved.taxon.as_ref(),
        resolved.source,
    );
    let wd = group.wood_density();
    let mut s2 = al.biomass_log_sigma.unwrap_or(model.log_sigma).powi(2);
    if !dbh_observed {
        s2 += (model.dbh_exponent() * al.dbh_log_sigma).powi(2);
    }
    if matches!(model.form, AgbForm::Chave2014 { .. }) && al.wood_density_spread {
        s2 += (0.976 * wd.sd / wd.mean).powi(2);
    }
    TreeAllometry {
        agb_kg: model.agb_kg(dbh_cm, t.height_m),
        resolved,
        dbh_cm,
        dbh_observed,
        jucker,
        model,
        log_sigma: s2.sqrt(),
        wood_density: wd,
        carbon_fraction: al.carbon_fraction.for_group(group),
    }
}

/// DBH (cm) predicted from height and crown diameter for a tree known only by its
/// conifer/broadleaf call (or nothing), by the simulation's rule: the group the call resolves
/// to picks the clade, the region (or `dbh_model`) the Jucker biome.
pub fn predicted_dbh_cm(
    height_m: f64,
    crown_diameter_m: f64,
    conifer: Option<bool>,
    al: &AllometryOptions,
) -> f64 {
    let r = al.resolve_group(None, None, conifer);
    al.jucker_biome()
        .coefficients(r.group.clade())
        .dbh_cm(height_m, crown_diameter_m)
}

/// A tree's above-ground biomass at year 0 (kg) and the equation's label
/// (`"Forrester et al. 2017: Picea abies"`), exactly as the simulation's inventory computes it.
pub fn year0_agb_kg(tree: &TreeInput, al: &AllometryOptions) -> (f64, String) {
    let a = tree_allometry(tree, al);
    (a.agb_kg, a.model.label())
}

/// Growth parameters for one species group (overrides the defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupParams {
    pub group: SpeciesGroup,
    pub params: GrowthParams,
}

/// Growth settings. Defaults: illustrative Chapman–Richards parameters per group, rate
/// uncertainty σ 0.15 in 15 levels, competition on (strength 0.5), U-shaped mortality on,
/// disturbance 2 %/yr × 30 %, no thinning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GrowthOptions {
    /// Per-group overrides of [`GrowthParams::default_for`].
    pub params: Vec<GroupParams>,
    /// Lognormal σ of the run-level multiplier on growth rates (0 = no growth uncertainty).
    pub rate_log_sigma: f64,
    /// Number of stratified growth levels (odd; even numbers are rounded up).
    pub levels: u32,
    /// `None` disables crown competition.
    pub competition: Option<CompetitionOptions>,
    pub mortality: MortalityOptions,
    pub disturbance: DisturbanceOptions,
    pub events: Vec<HarvestEvent>,
}

impl Default for GrowthOptions {
    fn default() -> Self {
        GrowthOptions {
            params: Vec::new(),
            rate_log_sigma: 0.15,
            levels: 15,
            competition: Some(CompetitionOptions::default()),
            mortality: MortalityOptions::default(),
            disturbance: DisturbanceOptions::default(),
            events: Vec::new(),
        }
    }
}

/// Price settings. Default: the bundled CEA table, flat scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceOptions {
    pub series: PriceSeries,
    pub scenario: PriceScenario,
}

impl Default for PriceOptions {
    fn default() -> Self {
        PriceOptions {
            series: builtin(Market::Cea).expect("bundled CEA table parses (tested)"),
            scenario: PriceScenario::Flat,
        }
    }
}

/// Timber value of harvest events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimberOptions {
    /// Price per m³ of merchantable wood, in the carbon price currency.
    pub price_per_m3: f64,
    /// Share of above-ground biomass that is merchantable stem wood (illustrative 0.6).
    #[serde(default = "default_merch")]
    pub merchantable_fraction: f64,
}

fn default_merch() -> f64 {
    0.6
}

/// Finance settings. Defaults: 8 % discount rate (illustrative), no timber, default collateral.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FinanceOptions {
    pub discount_rate: f64,
    pub timber: Option<TimberOptions>,
    pub collateral: CollateralOptions,
}

impl Default for FinanceOptions {
    fn default() -> Self {
        FinanceOptions {
            discount_rate: 0.08,
            timber: None,
            collateral: CollateralOptions::default(),
        }
    }
}

/// What goes into the result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputOptions {
    /// Keep per-tree per-year states of the representative run (true).
    pub tree_states: bool,
    /// Draw background mortality in the representative run (true).
    pub representative_mortality: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            tree_states: true,
            representative_mortality: true,
        }
    }
}

/// All simulation settings; `Default` gives the documented defaults (30 years, 1000 runs,
/// seed 42, start year 2025, area from the crowns' bounding box).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulationOptions {
    pub years: u32,
    pub runs: u32,
    pub seed: u64,
    /// Calendar year of the survey (year 0).
    pub start_year: i32,
    /// Stand area for per-hectare biomass (root:shoot class); `None` = bounding box of crowns.
    pub area_ha: Option<f64>,
    pub allometry: AllometryOptions,
    pub growth: GrowthOptions,
    pub accounting: AccountingOptions,
    pub price: PriceOptions,
    pub finance: FinanceOptions,
    pub output: OutputOptions,
}

impl Default for SimulationOptions {
    fn default() -> Self {
        SimulationOptions {
            years: 30,
            runs: 1000,
            seed: 42,
            start_year: 2025,
            area_ha: None,
            allometry: AllometryOptions::default(),
            growth: GrowthOptions::default(),
            accounting: AccountingOptions::default(),
            price: PriceOptions::default(),
            finance: FinanceOptions::default(),
            output: OutputOptions::default(),
        }
    }
}

impl SimulationOptions {
    /// Checks every setting; `run` calls this first.
    pub fn validate(&self) -> Result<()> {
        if self.years == 0 || self.years > 1000 {
            return Err(bad_option("years", self.years, "must be in 1..=1000"));
        }
        if self.runs == 0 || self.runs > MAX_RUNS {
            return Err(bad_option(
                "runs",
                self.runs,
                "must be in 1..=1000000 (1000 runs resolve P10/P90 to well under 1 %)",
            ));
        }
        if let Some(a) = self.area_ha
            && !(a.is_finite() && a > 0.0 && a <= MAX_AREA_HA)
        {
            return Err(bad_option(
                "area_ha",
                a,
                "must be a stand area in hectares, > 0 and ≤ 1000000",
            ));
        }
        match self.price.scenario {
            crate::prices::PriceScenario::Flat => {}
            crate::prices::PriceScenario::Escalating { pct_per_year } => {
                if !(pct_per_year.is_finite()
                    && pct_per_year > -100.0
                    && pct_per_year <= MAX_ESCALATION_PCT)
                {
                    return Err(bad_option(
                        "price.escalating.pct_per_year",
                        pct_per_year,
                        "must be a percentage a year in (-100, 100]",
                    ));
                }
            }
            crate::prices::PriceScenario::Stochastic {
                drift, volatility, ..
            } => {
                if !(drift.is_finite() && drift.abs() <= 1.0) {
                    return Err(bad_option(
                        "price.stochastic.drift",
                        drift,
                        "must be in [-1, 1] a year",
                    ));
                }
                if let Some(v) = volatility
                    && !(v.is_finite() && (0.0..=5.0).contains(&v))
                {
                    return Err(bad_option(
                        "price.stochastic.volatility",
                        v,
                        "must be in [0, 5] a year",
                    ));
                }
            }
        }
        let al = &self.allometry;
        for (n, v) in [
            (
                "allometry.biomass_log_sigma",
                al.biomass_log_sigma.unwrap_or(0.0),
            ),
            ("allometry.dbh_log_sigma", al.dbh_log_sigma),
        ] {
            if !(v.is_finite() && (0.0..=3.0).contains(&v)) {
                return Err(bad_option(n, v, "must be in [0, 3]"));
            }
        }
        if let CarbonFraction::Fixed(f) = al.carbon_fraction
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(bad_option(
                "allometry.carbon_fraction",
                f,
                "must be in (0, 1]",
            ));
        }
        if let RootShoot::Fixed { ratio } = al.root_shoot
            && !(ratio.is_finite() && ratio >= 0.0)
        {
            return Err(bad_option(
                "allometry.root_shoot.ratio",
                ratio,
                "must be ≥ 0",
            ));
        }
        let g = &self.growth;
        for p in &g.params {
            p.params.validate()?;
        }
        if !(g.rate_log_sigma.is_finite() && (0.0..=2.0).contains(&g.rate_log_sigma)) {
            return Err(bad_option(
                "growth.rate_log_sigma",
                g.rate_log_sigma,
                "must be in [0, 2]",
            ));
        }
        if g.levels == 0 || g.levels > 255 {
            return Err(bad_option("growth.levels", g.levels, "must be in 1..=255"));
        }
        if let Some(c) = g.competition
            && !(0.0..=1.0).contains(&c.strength)
        {
            return Err(bad_option(
                "growth.competition.strength",
                c.strength,
                "must be in [0, 1]",
            ));
        }
        g.mortality.validate()?;
        for (n, v) in [
            (
                "growth.disturbance.hazard_per_year",
                g.disturbance.hazard_per_year,
            ),
            (
                "growth.disturbance.loss_fraction",
                g.disturbance.loss_fraction,
            ),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad_option(n, v, "must be in [0, 1]"));
            }
        }
        for e in &g.events {
            if e.year == 0 || e.year > self.years {
                return Err(bad_option(
                    "growth.events.year",
                    e.year,
                    "must be in 1..=years",
                ));
            }
            if !(0.0..=1.0).contains(&e.fraction) {
                return Err(bad_option(
                    "growth.events.fraction",
                    e.fraction,
                    "must be in [0, 1]",
                ));
            }
        }
        self.accounting.validate()?;
        let f = &self.finance;
        if !(f.discount_rate.is_finite()
            && (DISCOUNT_RATE_RANGE.0..=DISCOUNT_RATE_RANGE.1).contains(&f.discount_rate))
        {
            return Err(bad_option(
                "finance.discount_rate",
                f.discount_rate,
                "must be a fraction a year in [-0.1, 1] (0.08 = 8 %)",
            ));
        }
        if let Some(t) = &f.timber
            && !(t.price_per_m3.is_finite()
                && t.price_per_m3 >= 0.0
                && (0.0..=1.0).contains(&t.merchantable_fraction))
        {
            return Err(bad_option(
                "finance.timber",
                format!("{t:?}"),
                "price must be ≥ 0, merchantable fraction in [0, 1]",
            ));
        }
        f.collateral.validate()?;
        Ok(())
    }

    /// Memory a simulation of `trees` trees with these options plans for, in bytes: per run
    /// the stock, price, stems, timber and net series (5 × (years + 1) × 8 B), the growth
    /// levels' per-tree trajectories (levels × (years + 1) × trees × 8 B) and the tree states
    /// of the representative run ((years + 1) × trees × 64 B).
    pub fn memory_estimate(&self, trees: usize) -> f64 {
        let len = self.years as f64 + 1.0;
        let (runs, n) = (self.runs as f64, trees as f64);
        let levels = self.growth.levels.max(1) as f64;
        runs * (len * 40.0 + 160.0) + levels * len * n * 8.0 + len * n * 64.0
    }

    /// Refuse a simulation whose [`Self::memory_estimate`] exceeds [`MAX_SIMULATION_BYTES`],
    /// with the estimate; [`run`] calls this before allocating.
    pub fn check_size(&self, trees: usize) -> Result<()> {
        let est = self.memory_estimate(trees);
        if est > MAX_SIMULATION_BYTES {
            return Err(GrowthError::TooLarge {
                what: format!(
                    "{} runs × {} years × {} trees",
                    self.runs, self.years, trees
                ),
                estimate_gb: est / 1e9,
                cap_gb: MAX_SIMULATION_BYTES / 1e9,
                hint: "use fewer --runs or --years (1000 runs resolve P10/P90 well)".into(),
            });
        }
        Ok(())
    }

    pub(crate) fn group_params(&self) -> [GrowthParams; 10] {
        let mut t = SpeciesGroup::ALL.map(GrowthParams::default_for);
        for p in &self.growth.params {
            t[group_index(p.group)] = p.params;
        }
        t
    }
}

pub(crate) fn group_index(g: SpeciesGroup) -> usize {
    SpeciesGroup::ALL.iter().position(|x| *x == g).unwrap_or(0)
}
