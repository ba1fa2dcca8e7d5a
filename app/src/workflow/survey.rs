//! A survey's local executor, for the CLI (`twinmint survey run`, `bench survey`) and the
//! studio's "Run survey": each pending tile as a `twinmint tile run` process (the task every
//! executor runs — Slurm and Kubernetes included — so a tile behaves the same everywhere),
//! `workers` at once, then the merge into the estate's project.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use capture::CancelToken;
use survey::merge::Merged;
use survey::status::SurveyStatus;

use super::{StepProgress, WorkflowError, WorkflowResult};

/// Label of the tile step.
pub const TILES: &str = "Tiles";

/// What [`run_tile_processes`] saw.
pub struct Executed {
    /// Tiles whose process failed.
    pub failed: Vec<usize>,
    /// The largest peak resident memory a tile process reported, bytes.
    pub peak_bytes: u64,
}

fn process_error(what: &str, source: std::io::Error) -> WorkflowError {
    WorkflowError::TileProcess {
        what: what.to_string(),
        source,
    }
}

/// Run `tiles` as `twinmint tile run --json` processes, `workers` at once; `on_done(k)` after
/// the k-th finishes; when `cancel` fires the running ones are killed (finished tiles stay
/// done).
pub fn run_tile_processes(
    survey: &Path,
    tiles: Vec<usize>,
    workers: usize,
    cancel: &CancelToken,
    on_done: &mut dyn FnMut(usize),
) -> WorkflowResult<Executed> {
    if workers == 0 {
        return Err(WorkflowError::NoWorkers);
    }
    let exe =
        std::env::current_exe().map_err(|e| process_error("locating the twinmint binary", e))?;
    let mut pending: Vec<usize> = tiles.into_iter().rev().collect();
    let mut running: Vec<(usize, Child)> = Vec::new();
    let mut out = Executed {
        failed: Vec::new(),
        peak_bytes: 0,
    };
    let mut finished = 0;
    while !pending.is_empty() || !running.is_empty() {
        if cancel.is_cancelled() {
            for (_, c) in &mut running {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(capture::CaptureError::Cancelled.into());
        }
        while running.len() < workers
            && let Some(i) = pending.pop()
        {
            let child = Command::new(&exe)
                .args(["--quiet", "--json", "tile", "run"])
                .arg(survey)
                .args(["--index", &i.to_string()])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| process_error("starting a tile process", e))?;
            running.push((i, child));
        }
        let mut k = 0;
        while k < running.len() {
            let exited = running[k]
                .1
                .try_wait()
                .map_err(|e| process_error("waiting for a tile process", e))?;
            if exited.is_none() {
                k += 1;
                continue;
            }
            let (i, child) = running.swap_remove(k);
            let o = child
                .wait_with_output()
                .map_err(|e| process_error("reading a tile process", e))?;
            if o.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
                out.peak_bytes = out.peak_bytes.max(v["peak_bytes"].as_u64().unwrap_or(0));
            } else {
                out.failed.push(i);
            }
            finished += 1;
            on_done(finished);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(out)
}

/// Run every pending tile of the survey at `dir` (`workers` processes), then, with `merge`,
/// merge it. Tiles done before are kept; a failed tile stops before the merge. What the merge
/// wrote, when it ran (the merged project is [`SurveyStatus::merged_dir`]).
pub fn run_survey(
    dir: &Path,
    workers: usize,
    merge: bool,
    progress: &mut StepProgress<'_>,
    cancel: &CancelToken,
) -> WorkflowResult<Option<Merged>> {
    let status = SurveyStatus::read(dir)?;
    let (total, pending) = (status.tiles.len(), status.pending());
    let already = total - pending.len();
    progress(TILES, already as f32 / total.max(1) as f32);
    let ran = run_tile_processes(dir, pending, workers, cancel, &mut |k| {
        progress(TILES, (already + k) as f32 / total.max(1) as f32)
    })?;
    if !ran.failed.is_empty() {
        return Err(WorkflowError::TilesFailed {
            survey: dir.to_path_buf(),
            failed: ran.failed,
        });
    }
    if !merge {
        return Ok(None);
    }
    let m = survey::merge::merge_with(dir, None, &mut |step, f| progress(step, f), cancel)?;
    Ok(Some(m))
}
