//! Issue 12 acceptance: SIGINT, SIGTERM and SIGKILL at random moments of `ingest`,
//! `reconstruct`, `simulate` and `package` (20 times each) leave the project in either its old
//! or its new complete state — after the next verb has opened it, which finishes or rolls back
//! an interrupted commit (`capture::commit`) — and `verify` gives the verdict of that state.
//!
//! The old state is a complete project (ingested, reconstructed, simulated, packaged); the new
//! one is what the same verb makes from it with different options when left alone. Moments are
//! drawn uniformly over the uninterrupted run's duration, half of them over its last 40 % where
//! the outputs are written (seeded, so a failure reproduces).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use test_support::TinyFs;

/// Trials per verb and signal.
const TRIALS: usize = 20;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinmint"));
    c.arg("-q");
    c
}

fn run_ok(args: &[&str]) {
    test_support::output_ok(bin().args(args));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` (relative path → SHA-256), hidden entries included except the lock;
/// run-dependent fields (creation time, step timings) are left out of the JSON files.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            if rel == capture::commit::LOCK {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let bytes = match rel.as_str() {
                "manifest.json" | "reconstruction.json" => {
                    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    if let Some(o) = v.as_object_mut() {
                        o.remove("created");
                        if let Some(run) = o.get_mut("run").and_then(|r| r.as_object_mut()) {
                            run.remove("timings");
                        }
                    }
                    serde_json::to_vec(&v).unwrap()
                }
                _ => bytes,
            };
            out.insert(rel, capture::hash::sha256_bytes(&bytes));
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `verify`'s verdict on a project: passed, and the (subject, check) pairs that did not.
fn verdict(project: &Path) -> (bool, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_twinmint"))
        .args(["--json", "verify"])
        .arg(project.join("package"))
        .arg("--project")
        .arg(project)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify --json: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let mut failed: Vec<String> = v["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !matches!(c["status"].as_str(), Some("ok" | "note")))
        .map(|c| format!("{} / {}", c["subject"], c["what"]))
        .collect();
    failed.sort();
    (v["ok"].as_bool().unwrap(), failed)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Hidden entries left beside or inside a project (other than its lock file).
fn leftovers(project: &Path) -> Vec<String> {
    let name = project.file_name().unwrap().to_string_lossy().to_string();
    let beside = std::fs::read_dir(project.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(&format!(".{name}")));
    let inside = std::fs::read_dir(project)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with('.') && n != capture::commit::LOCK)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    beside.chain(inside).collect()
}

/// A small deterministic generator for the kill moments.
struct Lcg(u64);
impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The verb's command line for a project.
type ArgsFn = Box<dyn Fn(&Path) -> Vec<String>>;

struct Verb {
    name: &'static str,
    args: ArgsFn,
}

/// A complete project `old/p.twinmint` (ingested, reconstructed, simulated, packaged) from a
/// simulated scan, and a second scan for a re-ingest.
fn old_project(base: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let scan = |seed: &str, name: &str| {
        let p = base.join(name);
        run_ok(&[
            "synth",
            "-o",
            s(&p),
            "--seed",
            seed,
            "--size",
            "40",
            "--points",
            "60000",
        ]);
        p
    };
    let a = scan("1", "a.laz");
    let b = scan("2", "b.laz");
    let old = base.join("old").join("p.twinmint");
    run_ok(&["ingest", s(&a), "-o", s(&old)]);
    run_ok(&["reconstruct", s(&old), "--device", "cpu"]);
    run_ok(&["simulate", s(&old), "--runs", "40", "--years", "10"]);
    run_ok(&["package", s(&old)]);
    (old, b)
}

#[test]
fn killed_verbs_leave_the_old_or_the_new_complete_project() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let (old, b) = old_project(base);
    let old_state = snapshot(&old);
    let old_verdict = verdict(&old);
    assert!(old_verdict.0, "the old project verifies: {old_verdict:?}");

    let verbs = [
        Verb {
            name: "ingest",
            args: Box::new(move |p| {
                vec![
                    "ingest".into(),
                    s(&b).into(),
                    "-o".into(),
                    s(p).into(),
                    "--force".into(),
                ]
            }),
        },
        Verb {
            name: "reconstruct",
            args: Box::new(|p| {
                [
                    "reconstruct",
                    s(p),
                    "--device",
                    "cpu",
                    "--dtm-resolution",
                    "2",
                ]
                .map(String::from)
                .to_vec()
            }),
        },
        Verb {
            name: "simulate",
            args: Box::new(|p| {
                [
                    "simulate",
                    s(p),
                    "--runs",
                    "60",
                    "--years",
                    "12",
                    "--seed",
                    "7",
                ]
                .map(String::from)
                .to_vec()
            }),
        },
        Verb {
            name: "package",
            args: Box::new(|p| {
                ["package", s(p), "--name", "Another title"]
                    .map(String::from)
                    .to_vec()
            }),
        },
    ];

    let mut rng = Lcg(20261205);
    let mut table = Vec::new();
    let mut trial = 0usize;
    for verb in &verbs {
        // The new complete state, and how long the verb takes uninterrupted.
        // Named like the trials' projects: ingest records the folder name in the manifest.
        let new = base.join(format!("new-{}", verb.name)).join("p.twinmint");
        copy_dir(&old, &new);
        let t = Instant::now();
        let out = bin().args((verb.args)(&new)).output().unwrap();
        let full = t.elapsed();
        assert!(
            out.status.success(),
            "{}: {}",
            verb.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let new_state = snapshot(&new);
        assert_ne!(new_state, old_state, "{}: the new state differs", verb.name);
        let new_verdict = verdict(&new);

        for signal in ["INT", "TERM", "KILL"] {
            let (mut n_old, mut n_new) = (0, 0);
            for _ in 0..TRIALS {
                trial += 1;
                let dir = base.join(format!("t{trial}"));
                let project = dir.join("p.twinmint");
                copy_dir(&old, &project);
                // Half anywhere in the run, half in its last part where the files are written.
                let from = if trial.is_multiple_of(2) { 0.0 } else { 0.6 };
                let delay = full.mul_f64(from + rng.unit() * (1.1 - from));
                let child = bin()
                    .args((verb.args)(&project))
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                std::thread::sleep(delay);
                let _ = Command::new("kill")
                    .arg(format!("-{signal}"))
                    .arg(child.id().to_string())
                    .stderr(Stdio::null())
                    .status();
                let out = child.wait_with_output().unwrap();
                let err = String::from_utf8_lossy(&out.stderr);
                let ctx = format!(
                    "{} SIG{signal} after {:?} (trial {trial}): exit {:?}: {err}",
                    verb.name, delay, out.status
                );
                assert!(!err.contains("panicked"), "{ctx}");
                // The next verb opens the project (verify does), finishing or rolling back.
                let got_verdict = verdict(&project);
                let state = snapshot(&project);
                assert!(
                    leftovers(&project).is_empty(),
                    "{ctx}: {:?}",
                    leftovers(&project)
                );
                if state == old_state {
                    n_old += 1;
                    assert_eq!(
                        got_verdict, old_verdict,
                        "{ctx}: verify disagrees (old state)"
                    );
                } else if state == new_state {
                    n_new += 1;
                    assert_eq!(
                        got_verdict, new_verdict,
                        "{ctx}: verify disagrees (new state)"
                    );
                } else {
                    let diff: Vec<_> = state
                        .iter()
                        .filter(|(k, v)| {
                            old_state.get(*k) != Some(v) && new_state.get(*k) != Some(v)
                        })
                        .map(|(k, _)| k.clone())
                        .chain(
                            old_state
                                .keys()
                                .chain(new_state.keys())
                                .filter(|k| !state.contains_key(*k))
                                .cloned(),
                        )
                        .collect();
                    panic!("{ctx}: neither the old nor the new state; differing: {diff:?}");
                }
                std::fs::remove_dir_all(&dir).unwrap();
            }
            table.push(format!(
                "{:<12} SIG{signal:<5} run {:>6.2}s  old {n_old:>2}  new {n_new:>2}",
                verb.name,
                full.as_secs_f64()
            ));
        }
    }
    eprintln!("verb         signal  uninterrupted  outcome of {TRIALS} kills");
    for row in &table {
        eprintln!("{row}");
    }
}

/// Bytes `dir` takes on a tmpfs (whole 4 KiB pages per file).
fn pages(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        total += if p.is_dir() {
            4096 + pages(&p)
        } else {
            std::fs::metadata(&p).unwrap().len().div_ceil(4096) * 4096
        };
    }
    total
}

#[test]
fn a_full_disk_mid_commit_leaves_the_old_project_and_names_the_real_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, _) = old_project(tmp.path());
    let old_state = snapshot(&old);
    let old_verdict = verdict(&old);
    let runs: [(&str, &[&str]); 3] = [
        ("reconstruct", &["--device", "cpu", "--dtm-resolution", "2"]),
        (
            "simulate",
            &["--runs", "60", "--years", "12", "--seed", "7"],
        ),
        ("package", &["--name", "Another title"]),
    ];
    for (verb, extra) in runs {
        // Room for the project and half of what the verb stages.
        let probe = tmp.path().join(format!("probe-{verb}")).join("p.twinmint");
        copy_dir(&old, &probe);
        let before = pages(&probe);
        run_ok(&[&[verb, s(&probe)][..], extra].concat());
        let staged: u64 = snapshot(&probe)
            .iter()
            .filter(|(k, v)| old_state.get(*k) != Some(v))
            .map(|(k, _)| {
                std::fs::metadata(probe.join(k))
                    .unwrap()
                    .len()
                    .div_ceil(4096)
                    * 4096
            })
            .sum();
        let Some(fs) = TinyFs::mount(before + 64 * 1024 + staged / 2) else {
            return;
        };
        let project = fs.path().join("p.twinmint");
        copy_dir(&old, &project);
        let out = bin()
            .args([verb, s(&project)])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{verb} on a full disk: {err}");
        assert!(!err.contains("panicked"), "{verb}: {err}");
        assert!(
            err.contains("p.twinmint/") && !err.contains(".twinmint-stage"),
            "{verb}: the message names the project's file, not a staging path: {err}"
        );
        assert_eq!(
            snapshot(&project),
            old_state,
            "{verb}: the old project is intact"
        );
        assert!(
            leftovers(&project).is_empty(),
            "{verb}: {:?}",
            leftovers(&project)
        );
        assert_eq!(verdict(&project), old_verdict, "{verb}");
    }
}
