//! Shared by the studio tests: the bundled sample as a ready project.

use std::path::{Path, PathBuf};

use twinmint_app::studio::jobs::{self, JobCtx, SimulateSettings};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/sample/forest.laz")
}

/// The sample as a reconstructed, simulated project in `dir`.
pub fn sample_project(dir: &Path) -> PathBuf {
    let project = dir.join("forest.twinmint");
    let ctx = JobCtx::default();
    capture::project::ingest(
        &[sample()],
        &project,
        &Default::default(),
        &mut |_| {},
        &capture::CancelToken::new(),
    )
    .expect("ingest the sample");
    jobs::reconstruct_project(&project, &ctx).expect("reconstruct the sample");
    let s = SimulateSettings {
        runs: 40,
        ..Default::default()
    };
    jobs::simulate_project(&project, &s, &ctx).expect("simulate the sample");
    project
}
