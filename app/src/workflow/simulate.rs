//! Simulate a project: the growth model's trees from a reconstruction (or the simulator's
//! truth), the defaults the project itself knows (year 0, area, an earlier run's allometry),
//! and the four outputs committed as one unit.

use std::path::Path;

use capture::CancelToken;
use capture::synth::{SpeciesGroup as SynthSpecies, TreeTruth, Truth};
use growth_model::output::Simulation;
use growth_model::{SimulationOptions, TreeInput};

use super::{StepProgress, WorkflowError, WorkflowResult};

/// Label of the simulation step.
pub const SIMULATING: &str = "Simulating";

/// The growth model's trees from a reconstruction (DBH predicted where the scan saw no stem).
pub fn reconstruction_trees(rec: &reconstruct::Reconstruction) -> Vec<TreeInput> {
    rec.trees.iter().map(tree_input).collect()
}

/// One reconstructed tree as the growth model's input: its species call becomes the conifer
/// flag and, where the user named one, the species; the growth model resolves the group from
/// them (species → class → default, see `growth_model::AllometryOptions::resolve_group`).
pub fn tree_input(t: &reconstruct::Tree) -> TreeInput {
    TreeInput {
        id: t.id,
        x: t.x,
        y: t.y,
        height_m: t.height_m,
        crown_diameter_m: t.crown_diameter_m,
        dbh_cm: t.dbh_cm,
        species_group: None,
        conifer: t
            .species
            .as_ref()
            .map(|s| s.class == reconstruct::model::SpeciesClass::Conifer),
        species: t.species.as_ref().and_then(|s| s.species.clone()),
    }
}

/// One of the simulator's true trees as the growth model's input: its measured DBH, and its
/// crown form as the conifer flag — the same path to a species group as a detected tree's
/// class call takes ([`tree_input`]), so truth and reconstruction are valued alike.
pub fn truth_tree_input(t: &TreeTruth) -> TreeInput {
    TreeInput {
        id: t.id,
        x: t.x,
        y: t.y,
        height_m: t.height_m,
        crown_diameter_m: 2.0 * t.crown_radius_m,
        dbh_cm: Some(t.dbh_cm),
        species_group: None,
        conifer: Some(t.species_group == SynthSpecies::Conifer),
        species: None,
    }
}

/// The simulator's truth as the growth model's trees.
pub fn truth_trees(truth: &Truth) -> Vec<TreeInput> {
    truth.trees.iter().map(truth_tree_input).collect()
}

/// The trees of a reconstructed project.
pub fn project_trees(dir: &Path) -> WorkflowResult<Vec<TreeInput>> {
    let p = dir.join(reconstruct::pipeline::RECONSTRUCTION_JSON);
    let bytes = std::fs::read(&p).map_err(|source| WorkflowError::NoReconstruction {
        path: p.clone(),
        project: dir.display().to_string(),
        source,
    })?;
    let rec: reconstruct::Reconstruction = serde_json::from_slice(&bytes)
        .map_err(|source| WorkflowError::BadReconstruction { path: p, source })?;
    Ok(reconstruction_trees(&rec))
}

/// The year the capture started (the simulation's year 0), when the manifest knows it.
pub fn capture_year(manifest: &capture::project::Manifest) -> Option<i32> {
    manifest
        .capture_start
        .map(|t| chrono::Datelike::year(&t.date_naive()))
}

/// The plot's area from the manifest's bounding box, in hectares.
pub fn plot_area_ha(manifest: &capture::project::Manifest) -> Option<f64> {
    let b = &manifest.bounds;
    (!b.is_empty()).then(|| b.area_xy() / 10_000.0)
}

/// The allometry (region, equations) of the project's existing `simulation.json`, so that a
/// re-run for other prices keeps what `twinmint simulate --region …` chose.
pub fn previous_allometry(dir: &Path) -> Option<growth_model::AllometryOptions> {
    #[derive(serde::Deserialize)]
    struct Options {
        #[serde(default)]
        allometry: growth_model::AllometryOptions,
    }
    #[derive(serde::Deserialize)]
    struct Settings {
        options: Options,
    }
    #[derive(serde::Deserialize)]
    struct View {
        settings: Settings,
    }
    let bytes = std::fs::read(dir.join(SIMULATION_JSON)).ok()?;
    serde_json::from_slice::<View>(&bytes)
        .ok()
        .map(|v| v.settings.options.allometry)
}

pub use capture::layout::{COLLATERAL_CSV, SIMULATION_JSON, STAND_CSV, TREES_CSV};

/// Run the growth model on `trees` with `opts` and commit `simulation.json`, `stand.csv`,
/// `trees.csv` and `collateral.csv` into `dir` as one unit.
pub fn simulate_project(
    dir: &Path,
    trees: &[TreeInput],
    opts: &SimulationOptions,
    progress: &mut StepProgress<'_>,
    cancel: &CancelToken,
) -> WorkflowResult<Simulation> {
    if trees.is_empty() {
        return Err(WorkflowError::NoTrees {
            project: dir.to_path_buf(),
        });
    }
    let sim = growth_model::run(
        trees,
        opts,
        &mut |done, total| progress(SIMULATING, done as f32 / total.max(1) as f32),
        cancel,
    )?;
    write_simulation(dir, &sim)?;
    Ok(sim)
}

/// Write the simulation's four files into the project as one unit: an interrupted run leaves
/// the previous four, never a mix of old and new tables.
pub fn write_simulation(dir: &Path, sim: &Simulation) -> capture::Result<()> {
    let mut commit = capture::commit::Commit::begin(dir)?;
    for (name, text) in [
        (SIMULATION_JSON, sim.to_json()),
        (STAND_CSV, growth_model::stand_csv(sim)),
        (TREES_CSV, growth_model::trees_csv(sim)),
        (COLLATERAL_CSV, growth_model::collateral_csv(sim)),
    ] {
        capture::atomic::write_bytes(&commit.path(name), text.as_bytes())?;
    }
    commit.commit()
}
