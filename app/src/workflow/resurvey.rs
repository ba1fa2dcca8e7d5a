//! Resurvey a project: read the new scans, co-register them to the previous survey, write the
//! new project, reconstruct it with the previous options, match and compare the trees, re-fit
//! the growth rates, simulate from the new survey with them, and commit `resurvey.json` with
//! its PDF drift report — the
//! steps of `twinmint resurvey` and the studio's resurvey, written once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use capture::CancelToken;
use capture::project::{IngestEvent, IngestOptions};
use growth_model::output::Simulation;
use reconstruct::gpu::GpuContext;
use reconstruct::model::Raster;
use reconstruct::pipeline::ReconstructOptions;
use resurvey::register::Top;
use resurvey::report::{DriftSummary, RESURVEY_SCHEMA_VERSION, Resurvey, SurveyRef};
use resurvey::{ResurveyError, ResurveyOptions};

use super::reconstruct::reconstruct_project;
use super::simulate::{SIMULATION_JSON, reconstruction_trees, simulate_project};
use super::{StepProgress, WorkflowError, WorkflowResult};

/// Step labels.
pub const READING: &str = "Reading scans";
pub const REGISTERING: &str = "Co-registering";
pub const COMPARING: &str = "Comparing surveys";

/// What to resurvey and how.
pub struct ResurveyRequest<'a> {
    /// The previous survey's project (reconstructed and simulated).
    pub previous: &'a Path,
    /// The new scan files.
    pub inputs: &'a [PathBuf],
    /// The new project folder.
    pub output: &'a Path,
    pub ingest: IngestOptions,
    pub options: ResurveyOptions,
}

/// The previous survey as the comparison needs it.
struct Previous {
    manifest: capture::project::Manifest,
    rec: reconstruct::Reconstruction,
    dtm: Raster,
    chm: Raster,
    sim: Simulation,
    fingerprint: Option<String>,
}

fn read_raster(path: &Path) -> WorkflowResult<Raster> {
    Ok(reconstruct::geotiff::read_geotiff_file(path)?.raster)
}

fn read_previous(dir: &Path) -> WorkflowResult<Previous> {
    let manifest = capture::project::open(dir)?;
    let rec = reconstruct::pipeline::read_reconstruction(dir)?;
    let dtm = read_raster(&dir.join(capture::layout::DTM_TIF))?;
    let chm_path = dir.join(capture::layout::CHM_TIF);
    if !chm_path.is_file() {
        return Err(ResurveyError::Missing {
            what: "canopy height model (chm.tif)",
            hint: "reconstruct the previous survey with trees before resurveying it",
        }
        .into());
    }
    let chm = read_raster(&chm_path)?;
    let sim_path = dir.join(SIMULATION_JSON);
    let bytes = std::fs::read(&sim_path).map_err(|_| ResurveyError::Missing {
        what: "simulation (simulation.json)",
        hint: "run `twinmint simulate` on the previous survey: its projection is what the resurvey is measured against",
    })?;
    let sim: Simulation = serde_json::from_slice(&bytes).map_err(|e| WorkflowError::BadFile {
        path: sim_path.clone(),
        what: "not a simulation.json",
        source: Box::new(e),
    })?;
    let fingerprint = std::fs::read(dir.join(capture::layout::FINGERPRINT_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("model_0x")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        });
    Ok(Previous {
        manifest,
        rec,
        dtm,
        chm,
        sim,
        fingerprint,
    })
}

fn project_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".twinmint")
                .to_string()
        })
        .unwrap_or_default()
}

/// CO2e per tree (t) from a simulation's year-0 inventory.
fn co2e_by_tree(sim: &Simulation) -> HashMap<u32, f64> {
    sim.inventory
        .as_ref()
        .map(|inv| {
            inv.trees
                .iter()
                .map(|t| (t.id, t.co2e_kg / 1000.0))
                .collect()
        })
        .unwrap_or_default()
}

/// Run the whole resurvey (module docs) and return what was committed as `resurvey.json`.
pub fn resurvey_project(
    req: &ResurveyRequest<'_>,
    gpu: Option<&Arc<GpuContext>>,
    progress: &mut StepProgress<'_>,
    cancel: &CancelToken,
) -> WorkflowResult<Resurvey> {
    req.options.validate()?;
    let prev = read_previous(req.previous)?;
    let mut events = |e: IngestEvent| {
        if let IngestEvent::Progress(p) = e
            && let Some(t) = p.total_points.filter(|&t| t > 0)
        {
            progress(READING, p.points as f32 / t as f32);
        }
    };
    let (mut cloud, extra) =
        capture::project::read_inputs(req.inputs, req.output, &req.ingest, &mut events, cancel)?;
    if !cloud.crs.is_unknown()
        && !prev.manifest.crs.is_unknown()
        && !cloud.crs.compatible(&prev.manifest.crs)
    {
        return Err(capture::CaptureError::CrsMismatch {
            path: req.inputs[0].clone(),
            expected: format!(
                "{} of the previous survey {}",
                prev.manifest.crs.label(),
                req.previous.display()
            ),
            found: cloud.crs.label(),
        }
        .into());
    }
    progress(REGISTERING, 0.0);
    let tops: Vec<Top> = prev
        .rec
        .trees
        .iter()
        .map(|t| Top {
            x: t.x,
            y: t.y,
            height_m: t.height_m,
        })
        .collect();
    let origin = prev.manifest.origin;
    let reg = resurvey::register::register(
        &tops,
        &prev.dtm,
        &cloud,
        [origin[0], origin[1]],
        &req.options.register,
    )?;
    reg.transform.apply_cloud(&mut cloud);
    cloud.provenance.warnings.push(format!(
        "co-registered to the previous survey {}: yaw {:+.3}°, shift ({:+.3}, {:+.3}, {:+.3}) m about ({:.2}, {:.2}); {} treetops, RMS {:.3} m; ground RMS {:.3} m",
        project_name(req.previous),
        reg.transform.yaw_deg,
        reg.transform.shift_m[0],
        reg.transform.shift_m[1],
        reg.transform.shift_m[2],
        reg.transform.pivot[0],
        reg.transform.pivot[1],
        reg.matched_tops,
        reg.top_rms_m,
        reg.ground_rms_m
    ));
    progress(REGISTERING, 1.0);
    let manifest = capture::project::write_project(
        &cloud,
        &extra,
        req.output,
        req.ingest.overwrite,
        &mut |_| {},
        cancel,
    )?;
    drop(cloud);
    let rec_opts: ReconstructOptions =
        serde_json::from_value(prev.rec.options.clone()).unwrap_or_default();
    let out = reconstruct_project(req.output, &rec_opts, gpu, progress, cancel)?;
    let now_chm = out.chm.ok_or(ResurveyError::Missing {
        what: "canopy height model in the new reconstruction",
        hint: "the new scan produced no canopy",
    })?;
    progress(COMPARING, 0.0);
    let elapsed = match (prev.manifest.capture_start, manifest.capture_start) {
        (Some(a), Some(b)) if b > a => (b - a).num_seconds() as f64 / (365.25 * 86_400.0),
        _ => {
            return Err(ResurveyError::Missing {
                what: "capture time before the new scan's",
                hint: "both scans need capture times (LAS GPS time or file dates) and the new one must be later",
            }
            .into());
        }
    };
    let o = &req.options;
    let co2e_before = co2e_by_tree(&prev.sim);
    let mut changes = resurvey::change::compare(
        &prev.rec.trees,
        &out.reconstruction.trees,
        &now_chm,
        &co2e_before,
        elapsed,
        &o.change,
    )?;
    let recal = resurvey::recalibrate::recalibrate(&changes, &prev.sim, elapsed, &o.recalibrate)?;
    let year =
        super::simulate::capture_year(&manifest).unwrap_or(prev.sim.settings.options.start_year);
    let sim_opts = resurvey::recalibrate::recalibrated_options(&prev.sim, &recal, year);
    // Standing dead trees are not projected: dead wood leaves the stock at once.
    let dead: std::collections::HashSet<u32> = changes
        .iter()
        .filter(|c| c.status == resurvey::change::Status::StandingDead)
        .filter_map(|c| c.id)
        .collect();
    // Survivors with an observed DBH keep it, grown along the stand's height–diameter curve.
    let previous: Vec<resurvey::carry::PreviousTree> = prev
        .sim
        .inventory
        .iter()
        .flat_map(|i| &i.trees)
        .map(|t| resurvey::carry::PreviousTree {
            id: t.id,
            height_m: t.height_m,
            dbh_cm: t.dbh_cm,
            observed: t.dbh_observed,
            group: t.species_group,
        })
        .collect();
    let carried = resurvey::carry::carry_forward(&changes, &previous, &o.carry);
    let living: Vec<growth_model::TreeInput> = reconstruction_trees(&out.reconstruction)
        .into_iter()
        .filter(|t| !dead.contains(&t.id))
        .map(|mut t| {
            if let Some(&d) = carried.get(&t.id) {
                t.dbh_cm = Some(d);
            }
            t
        })
        .collect();
    let new_sim = simulate_project(req.output, &living, &sim_opts, progress, cancel)?;
    // Change is counted at the previous survey's root:shoot ratio: IPCC's table picks R by
    // biomass class, and a stand crossing a class boundary is not growth.
    let ratio = |s: &Simulation| s.inventory.as_ref().map_or(0.0, |i| i.root_shoot_ratio);
    let scale = (1.0 + ratio(&prev.sim)) / (1.0 + ratio(&new_sim));
    let co2e_now: HashMap<u32, f64> = co2e_by_tree(&new_sim)
        .into_iter()
        .map(|(id, c)| (id, c * scale))
        .collect();
    resurvey::change::attach_co2e(&mut changes, &co2e_now);
    let mut stand = resurvey::change::stand_change(
        &changes,
        prev.rec.trees.len(),
        out.reconstruction.trees.len(),
        &co2e_before,
        &co2e_now,
        carried.len(),
    );
    stand.co2e_t = new_sim.inventory.as_ref().map_or(0.0, |i| i.totals.co2e_t);
    let canopy = resurvey::canopy::canopy_loss(&prev.chm, &now_chm, &o.canopy)?;
    let drift = resurvey::drift::drift(&mut changes, &prev.sim, stand.co2e_t, elapsed, &o.drift);
    let summary = DriftSummary::of(
        prev.fingerprint.clone(),
        &reg,
        &stand,
        &canopy,
        &drift,
        &recal,
    );
    let report = Resurvey {
        schema_version: RESURVEY_SCHEMA_VERSION,
        generator: concat!("TwinMint ", env!("CARGO_PKG_VERSION")).to_string(),
        previous: SurveyRef {
            project: project_name(req.previous),
            fingerprint: prev.fingerprint,
            capture_start: prev.manifest.capture_start.map(|t| t.to_rfc3339()),
            trees: prev.rec.trees.len(),
        },
        current: SurveyRef {
            project: project_name(req.output),
            fingerprint: None,
            capture_start: manifest.capture_start.map(|t| t.to_rfc3339()),
            trees: out.reconstruction.trees.len(),
        },
        elapsed_years: elapsed,
        registration: reg,
        stand,
        canopy_loss: canopy,
        drift,
        recalibration: recal,
        collateral: resurvey::report::CollateralChange {
            currency: new_sim.collateral.currency.clone(),
            value_before: prev.sim.collateral.value,
            value_now: new_sim.collateral.value,
            loan: new_sim.collateral.liquidation.loan,
        },
        summary_sha256: summary.sha256(),
        summary,
        trees: changes,
    };
    let pdf = resurvey::pdf::drift_report(&report, &prev.sim);
    let mut commit = capture::commit::Commit::begin(req.output)?;
    capture::atomic::write_json(&commit.path(resurvey::RESURVEY_JSON), &report)?;
    capture::atomic::write_bytes(&commit.path(capture::layout::DRIFT_REPORT_PDF), &pdf)?;
    commit.commit()?;
    progress(COMPARING, 1.0);
    Ok(report)
}

/// A project's `resurvey.json`, when it is a resurvey.
pub fn read_resurvey(dir: &Path) -> WorkflowResult<Option<Resurvey>> {
    let path = dir.join(resurvey::RESURVEY_JSON);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| WorkflowError::BadFile {
            path,
            what: "not a resurvey.json",
            source: Box::new(e),
        })
}
