//! Issue "Re-survey": a simulated stand scanned twice, five years apart, with known growth,
//! standing mortality, a harvest patch, a storm gap and a deliberate georeferencing offset
//! (yaw 1°, 2 m), resurveyed through the workflow layer and measured against the simulator's
//! exact truth: co-registration error, survivors matched, height increments, removed trees
//! found, canopy-loss area, stand carbon change, and the drift flags of a stand grown slower
//! than projected. A scan of another place is refused.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use capture::synth::resurvey::{Fate, ResurveyOptions};
use capture::synth::{self, SynthOptions, Truth};
use capture::{CancelToken, NoProgress};
use growth_model::SimulationOptions;
use reconstruct::model::{Raster, Tree};
use resurvey::change::Status;
use resurvey::drift::Flag;
use resurvey::{Resurvey, ResurveyError};
use twinmint_app::workflow::resurvey::{ResurveyRequest, resurvey_project};
use twinmint_app::workflow::{WorkflowError, simulate};

const SEED: u64 = 3;

fn synth_options(resurvey: Option<ResurveyOptions>) -> SynthOptions {
    let mut o = SynthOptions::default();
    o.scene.seed = SEED;
    o.resurvey = resurvey;
    o
}

/// Scan the scene (or its resurvey) to `dir/name.laz` with its truth beside it.
fn scan(dir: &Path, name: &str, o: &SynthOptions) -> (PathBuf, Truth) {
    let out = synth::run(o, &mut NoProgress, &CancelToken::new()).unwrap();
    let path = dir.join(format!("{name}.laz"));
    capture::write(&out.cloud, &path, &mut NoProgress, &CancelToken::new()).unwrap();
    (path, out.truth)
}

struct Base {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    project: PathBuf,
    truth: Truth,
}

/// The first survey: scanned, ingested, reconstructed, simulated (once for every test).
fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let (laz, truth) = scan(&dir, "first", &synth_options(None));
        let project = dir.join("first.twinmint");
        capture::project::ingest(
            &[laz],
            &project,
            &Default::default(),
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
        let opts = reconstruct::pipeline::ReconstructOptions {
            device: reconstruct::gpu::DevicePreference::Cpu,
            ..Default::default()
        };
        let out = twinmint_app::workflow::reconstruct::reconstruct_project(
            &project,
            &opts,
            None,
            &mut |_, _| {},
            &CancelToken::new(),
        )
        .unwrap();
        let sim = SimulationOptions {
            runs: 200,
            start_year: 2024,
            ..Default::default()
        };
        simulate::simulate_project(
            &project,
            &simulate::reconstruction_trees(&out.reconstruction),
            &sim,
            &mut |_, _| {},
            &CancelToken::new(),
        )
        .unwrap();
        Base {
            _dir: tmp,
            dir,
            project,
            truth,
        }
    })
}

/// Scan the resurvey and run it; returns the report, the new truth and the new project.
fn resurvey_with(name: &str, r: ResurveyOptions) -> (Resurvey, Truth, PathBuf) {
    resurvey_with_options(name, r, resurvey::ResurveyOptions::default())
}

/// [`resurvey_with`], with the re-survey's own options.
fn resurvey_with_options(
    name: &str,
    r: ResurveyOptions,
    options: resurvey::ResurveyOptions,
) -> (Resurvey, Truth, PathBuf) {
    let b = base();
    let (laz, truth) = scan(&b.dir, name, &synth_options(Some(r)));
    let out = b.dir.join(format!("{name}.twinmint"));
    let req = ResurveyRequest {
        previous: &b.project,
        inputs: &[laz],
        output: &out,
        ingest: Default::default(),
        options,
    };
    let report = resurvey_project(&req, None, &mut |_, _| {}, &CancelToken::new()).unwrap();
    (report, truth, out)
}

/// The truth tree a detected tree stands for: the nearest true top within 1.5 m and 3 m of
/// height (none for a false detection).
fn truth_of(t: &Tree, truth: &Truth) -> Option<u32> {
    truth
        .trees
        .iter()
        .filter(|s| (s.height_m - t.height_m).abs() <= 3.0)
        .map(|s| (s.id, (s.x - t.x).hypot(s.y - t.y)))
        .filter(|&(_, d)| d <= 1.5)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

fn read_rec(dir: &Path) -> reconstruct::Reconstruction {
    reconstruct::pipeline::read_reconstruction(dir).unwrap()
}

fn read_chm(dir: &Path) -> Raster {
    reconstruct::geotiff::read_geotiff_file(&dir.join(capture::layout::CHM_TIF))
        .unwrap()
        .raster
}

/// Area of true canopy loss on `grid`: cells whose true canopy stood ≥ 5 m and now lies
/// below 2 m (the same thresholds as the measurement), counting standing dead crowns as lost.
fn true_canopy_loss(grid: &Raster, before: &Truth, after: &Truth) -> f64 {
    let canopy = |t: &Truth, x: f64, y: f64| {
        let g = t.ground_height(x, y);
        t.trees
            .iter()
            .filter(|s| s.foliage >= 0.5)
            .filter_map(|s| s.crown_surface_z(x, y))
            .fold(0.0f64, |m, z| m.max(z - g))
    };
    let mut cells = 0usize;
    for r in 0..grid.height {
        for c in 0..grid.width {
            let (x, y) = grid.center(c, r);
            if canopy(before, x, y) >= 5.0 && canopy(after, x, y) < 2.0 {
                cells += 1;
            }
        }
    }
    cells as f64 * grid.resolution_m.powi(2)
}

/// CO2e (t) of every living true tree (foliage kept), by id, with its true height, crown and
/// DBH through the growth model's allometry at root:shoot ratio `ratio`.
fn true_co2e(
    truth: &Truth,
    start_year: i32,
    ratio: f64,
    field_dbh: bool,
) -> std::collections::HashMap<u32, f64> {
    let trees: Vec<growth_model::TreeInput> = simulate::truth_trees(truth)
        .into_iter()
        .zip(&truth.trees)
        .filter(|(_, s)| s.foliage >= 0.5)
        .map(|(mut t, _)| {
            if !field_dbh {
                t.dbh_cm = None;
            }
            t
        })
        .collect();
    let opts = SimulationOptions {
        runs: 1,
        years: 1,
        start_year,
        area_ha: Some(1.0),
        allometry: growth_model::AllometryOptions {
            root_shoot: growth_model::allometry::RootShoot::Fixed { ratio },
            ..Default::default()
        },
        ..Default::default()
    };
    let sim = growth_model::run(&trees, &opts, &mut |_, _| {}, &CancelToken::new()).unwrap();
    sim.inventory
        .unwrap()
        .trees
        .iter()
        .map(|t| (t.id, t.co2e_kg / 1000.0))
        .collect()
}

#[test]
fn five_year_resurvey_matches_the_truth() {
    let b = base();
    let opts = ResurveyOptions::default();
    let (r, truth, out) = resurvey_with("later", opts.clone());
    let rt = truth.resurvey.as_ref().unwrap();

    // Co-registration: the estimated transform applied to where the offset survey put points
    // must bring them back to where they are, over the whole plot.
    let c = truth.cloud_origin;
    let mut worst = 0.0f64;
    for i in -5..=5 {
        for j in -5..=5 {
            let p = [i as f64 * 10.0, j as f64 * 10.0, 0.0];
            let q = opts.offset.apply(p);
            let back = r
                .registration
                .transform
                .apply([q[0] + c[0], q[1] + c[1], q[2] + c[2]]);
            let e = ((back[0] - c[0] - p[0]).powi(2)
                + (back[1] - c[1] - p[1]).powi(2)
                + (back[2] - c[2] - p[2]).powi(2))
            .sqrt();
            worst = worst.max(e);
        }
    }
    eprintln!(
        "registration: {:?}; worst error {worst:.4} m",
        r.registration
    );
    assert!(worst <= 0.05, "co-registration error {worst:.3} m > 5 cm");

    // Survivors detected in both surveys: matched to each other.
    let now = read_rec(&out);
    let fate = |id: u32| rt.fates.iter().find(|f| f.id == id).map(|f| f.fate);
    let before_truth = first_survey_truth();
    let now_truth: std::collections::HashMap<u32, u32> = now
        .trees
        .iter()
        .filter_map(|t| truth_of(t, &truth).map(|s| (t.id, s)))
        .collect();
    let detected_now: std::collections::HashSet<u32> = now_truth.values().copied().collect();
    let mut eligible = 0usize;
    let mut matched = 0usize;
    let mut sq = 0.0f64;
    for ch in &r.trees {
        let Some(pid) = ch.previous_id else { continue };
        let Some(&sid) = before_truth.get(&pid) else {
            continue;
        };
        if fate(sid) != Some(Fate::Survived) || !detected_now.contains(&sid) {
            continue;
        }
        eligible += 1;
        if ch.id.and_then(|n| now_truth.get(&n)) == Some(&sid) {
            matched += 1;
            let f = rt.fates.iter().find(|f| f.id == sid).unwrap();
            let true_dh = f.height_after_m - f.height_before_m;
            sq += (ch.height_increment_m.unwrap() - true_dh).powi(2);
        }
    }
    let match_rate = matched as f64 / eligible as f64;
    let dh_rmse = (sq / matched as f64).sqrt();
    eprintln!(
        "survivors matched {matched}/{eligible} = {match_rate:.3}; height increment RMSE {dh_rmse:.3} m"
    );
    assert!(
        match_rate >= 0.95,
        "survivors matched {match_rate:.3} < 0.95"
    );
    assert!(dh_rmse <= 0.5, "height increment RMSE {dh_rmse:.3} m > 0.5");

    // Removed trees (felled, thrown) among those the first survey detected: found as removed;
    // trees flagged removed that in truth still stand alive: false.
    let removed_truth: Vec<u32> = before_truth
        .iter()
        .filter(|&(_, &s)| matches!(fate(s), Some(Fate::Harvested | Fate::Windthrown)))
        .map(|(&p, _)| p)
        .collect();
    let flagged: Vec<u32> = r
        .trees
        .iter()
        .filter(|c| c.status == Status::Removed)
        .filter_map(|c| c.previous_id)
        .collect();
    let found = removed_truth.iter().filter(|p| flagged.contains(p)).count();
    let false_flags = flagged
        .iter()
        .filter(|p| {
            before_truth
                .get(p)
                .is_none_or(|&s| fate(s) == Some(Fate::Survived))
        })
        .count();
    let recall = found as f64 / removed_truth.len() as f64;
    let false_rate = false_flags as f64 / flagged.len().max(1) as f64;
    eprintln!(
        "removed: {found}/{} found ({recall:.3}); {false_flags}/{} flags false ({false_rate:.3})",
        removed_truth.len(),
        flagged.len()
    );
    assert!(
        removed_truth.len() >= 10,
        "the scene removes too few trees to measure"
    );
    assert!(recall >= 0.9, "removed trees found {recall:.3} < 0.9");
    assert!(false_rate <= 0.05, "false removals {false_rate:.3} > 0.05");

    // Canopy loss.
    let grid = read_chm(&b.project);
    let true_loss = true_canopy_loss(&grid, &b.truth, &truth);
    let loss_err = (r.canopy_loss.area_m2 - true_loss).abs() / true_loss;
    eprintln!(
        "canopy loss {:.0} m² vs truth {true_loss:.0} m² ({loss_err:.3})",
        r.canopy_loss.area_m2
    );
    assert!(loss_err <= 0.10, "canopy-loss area off by {loss_err:.3}");

    // Stand carbon change of the inventoried stand (the trees the first survey found, and
    // what grew in since) against the truth's through the same allometry.
    let mut ids: std::collections::HashSet<u32> = before_truth.values().copied().collect();
    ids.extend(rt.ingrowth.iter().copied());
    let stocks = true_stocks(&truth);
    let ([cb, ca], [jb, ja]) = (&stocks.field, &stocks.model);
    let sum = |m: &std::collections::HashMap<u32, f64>| -> f64 {
        ids.iter().filter_map(|i| m.get(i)).sum()
    };
    let (t_before, t_after) = (sum(cb), sum(ca));
    eprintln!(
        "through the scan's own allometry (DBH from height x crown): truth {:.1} -> {:.1} ({:+.1})",
        sum(jb),
        sum(ja),
        sum(ja) - sum(jb)
    );
    let true_change = t_after - t_before;
    // Where the change's error comes from (reported, not asserted): survivors' growth and
    // the trees lost, each against the same trees' truth.
    {
        let (mut l_m, mut l_t) = (0.0, 0.0);
        for ch in &r.trees {
            let Some(sid) = ch.previous_id.and_then(|p| before_truth.get(&p)) else {
                continue;
            };
            if matches!(ch.status, Status::Removed | Status::StandingDead) {
                l_m += ch.co2e_before_t.unwrap_or(0.0);
                l_t += cb.get(sid).copied().unwrap_or(0.0);
            }
        }
        let g = survivor_sums(&r, &before_truth, &stocks);
        eprintln!(
            "change components, survivors: stock {:.1} vs truth {:.1}; growth {:.1} vs truth {:.1} (height x crown on the true trees {:.1}); lost {l_m:.1} vs truth {l_t:.1}",
            g.stock_measured, g.stock_truth, g.growth_measured, g.growth_truth, g.growth_model
        );
    }
    // Within 5 % of the true stock: the net change itself is small here (the harvest and the
    // storm nearly offset five years of growth), so its own relative error is reported too.
    let change_err = (r.stand.co2e_change_t - true_change).abs() / t_before;
    eprintln!(
        "stand CO2e {:.1} → {:.1} t (change {:+.1}); truth {t_before:.1} → {t_after:.1} ({true_change:+.1}); error {change_err:.3} of the stock, {:.3} of the change; {:?}",
        r.stand.co2e_before_t,
        r.stand.co2e_t,
        r.stand.co2e_change_t,
        (r.stand.co2e_change_t - true_change).abs() / true_change.abs(),
        r.stand
    );
    assert!(
        change_err <= 0.05,
        "stand carbon change off by {change_err:.3}"
    );

    // Grown as projected: the stand's growth is within the band.
    assert_eq!(
        r.drift.growth.flag,
        Flag::WithinBand,
        "{:?}",
        r.drift.growth
    );
    // The summary's hash is the hash of the summary.
    assert_eq!(r.summary_sha256, r.summary.sha256());

    // The drift report: a real PDF whose text and drawings poppler reads back.
    let Some(pdf) = test_support::render_pdf(&out.join(capture::layout::DRIFT_REPORT_PDF), 40)
    else {
        return;
    };
    for needle in [
        "Drift report",
        "Co-registration",
        "Drift against the projection",
        "within band",
        "Recalibration",
        &format!("0x{}", r.summary_sha256),
    ] {
        assert!(
            pdf.text.contains(needle),
            "{needle:?} not in the drift report:\n{}",
            pdf.text
        );
    }
    // The map: survivors within the band in green, removed trees dark grey, canopy-loss
    // outlines red; the stand chart's band light blue.
    let page_with =
        |rgb: [u8; 3], n: usize| (0..pdf.pages.len()).any(|k| pdf.pixels_near(k, rgb) >= n);
    assert!(page_with([41, 153, 77], 300), "no green trees drawn");
    assert!(page_with([64, 64, 64], 30), "no removed trees drawn");
    assert!(page_with([199, 222, 247], 1000), "no projection band drawn");
}

#[test]
fn a_stand_growing_slower_than_projected_is_flagged_below_the_band() {
    let opts = ResurveyOptions {
        growth_factor: 0.3,
        mortality_fraction: 0.0,
        harvest: None,
        storm: None,
        ..Default::default()
    };
    let (r, _, _) = resurvey_with("slow", opts);
    let g = &r.drift.growth;
    eprintln!("slow stand: {g:?}; recalibration {:?}", r.recalibration);
    assert_eq!(g.flag, Flag::BelowP10);
    assert!(
        g.trees_below_p10 * 2 > g.trees,
        "most survivors should be below their band: {g:?}"
    );
    // The recalibration sees the slower growth: its multiplier lies near the truth's 0.3
    // (the increments are measured with errors; the 90 % interval must hold it).
    let rc = &r.recalibration;
    assert!(
        rc.multiplier_p05 <= 0.3 * 1.25 && rc.multiplier < 0.6,
        "recalibrated multiplier {rc:?}"
    );
    // No removals in this scene: nothing flagged removed beyond a stray few.
    assert!(r.stand.removed <= 3, "{:?}", r.stand);
}

#[test]
fn a_scan_of_another_place_is_refused() {
    let b = base();
    let mut o = synth_options(Some(ResurveyOptions::default()));
    o.scene.origin[0] += 5_000.0;
    let (laz, _) = scan(&b.dir, "elsewhere", &o);
    let out = b.dir.join("elsewhere.twinmint");
    let req = ResurveyRequest {
        previous: &b.project,
        inputs: &[laz],
        output: &out,
        ingest: Default::default(),
        options: Default::default(),
    };
    let err = resurvey_project(&req, None, &mut |_, _| {}, &CancelToken::new()).unwrap_err();
    assert!(
        matches!(
            err,
            WorkflowError::Resurvey(ResurveyError::NoOverlap { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("does not overlap"), "{err}");
    assert!(!out.exists(), "a refused resurvey must not leave a project");
}

/// The first survey's detected trees, by reconstruction id, to the truth ids they stand for.
fn first_survey_truth() -> std::collections::HashMap<u32, u32> {
    let b = base();
    read_rec(&b.project)
        .trees
        .iter()
        .filter_map(|t| truth_of(t, &b.truth).map(|s| (t.id, s)))
        .collect()
}

type Co2eById = std::collections::HashMap<u32, f64>;

/// CO2e (t) of the true trees at the base scan (2024) and at `truth` five years on, through
/// their field DBH (`field`) and through the DBH model on their true height and crown
/// (`model`), at the previous survey's root:shoot ratio (as the change is counted).
struct TrueStocks {
    field: [Co2eById; 2],
    model: [Co2eById; 2],
}

fn true_stocks(truth: &Truth) -> TrueStocks {
    let b = base();
    let sim: growth_model::output::Simulation = serde_json::from_slice(
        &std::fs::read(b.project.join(capture::layout::SIMULATION_JSON)).unwrap(),
    )
    .unwrap();
    let ratio = sim.inventory.unwrap().root_shoot_ratio;
    let year0 = 2024;
    let at = |field_dbh| {
        [
            true_co2e(&b.truth, year0, ratio, field_dbh),
            true_co2e(truth, year0 + 5, ratio, field_dbh),
        ]
    };
    TrueStocks {
        field: at(true),
        model: at(false),
    }
}

/// Sums over the survivors matched in re-survey `r` whose truth is known (t CO2e): their
/// stock before and growth, measured and true, and their growth as the DBH model reads the
/// true trees.
struct SurvivorSums {
    stock_measured: f64,
    stock_truth: f64,
    growth_measured: f64,
    growth_truth: f64,
    growth_model: f64,
}

fn survivor_sums(
    r: &Resurvey,
    before_truth: &std::collections::HashMap<u32, u32>,
    s: &TrueStocks,
) -> SurvivorSums {
    let ([cb, ca], [jb, ja]) = (&s.field, &s.model);
    let mut sums = SurvivorSums {
        stock_measured: 0.0,
        stock_truth: 0.0,
        growth_measured: 0.0,
        growth_truth: 0.0,
        growth_model: 0.0,
    };
    for ch in r.trees.iter().filter(|c| c.status == Status::Survivor) {
        let Some(sid) = ch.previous_id.and_then(|p| before_truth.get(&p)) else {
            continue;
        };
        if let (Some(a), Some(b0), Some(ta), Some(tb), Some(ma), Some(mb)) = (
            ch.co2e_t,
            ch.co2e_before_t,
            ca.get(sid),
            cb.get(sid),
            ja.get(sid),
            jb.get(sid),
        ) {
            sums.stock_measured += b0;
            sums.stock_truth += tb;
            sums.growth_measured += a - b0;
            sums.growth_truth += ta - tb;
            sums.growth_model += ma - mb;
        }
    }
    sums
}

/// Every survivor's DBH carried forward along the stand's height–diameter curve: the
/// measurement chain (matching, height increments, the fitted curve) must reproduce what the
/// DBH model says of the true trees' growth — the check that what remains between the default
/// estimate and the truth is the DBH model's error, not the measurement's.
#[test]
fn carried_forward_survivors_grow_as_the_dbh_model_reads_the_true_trees() {
    let options = resurvey::ResurveyOptions {
        carry: resurvey::carry::CarryOptions {
            survivors: resurvey::carry::CarryForward::All,
            ..Default::default()
        },
        ..Default::default()
    };
    let (r, truth, _) = resurvey_with_options("carried", ResurveyOptions::default(), options);
    assert_eq!(
        r.stand.dbh_carried_forward, r.stand.survivors,
        "{:?}",
        r.stand
    );
    let g = survivor_sums(&r, &first_survey_truth(), &true_stocks(&truth));
    let (measured, field, model) = (g.growth_measured, g.growth_truth, g.growth_model);
    eprintln!(
        "survivors' growth carried forward {measured:.1} t; the DBH model on the true trees {model:.1} t; truth {field:.1} t"
    );
    assert!(
        (measured - model).abs() <= 0.05 * model,
        "carried-forward growth {measured:.1} t vs {model:.1} t from the true trees"
    );
}
