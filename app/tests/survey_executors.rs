//! Issue "Wall-to-wall surveys" on a real Slurm: a single-node cluster on localhost (Debian's
//! `slurm-wlm` and `munge`, config and state in a temp dir, daemons run as root and stopped by
//! their pid files) runs a survey's tiles as an `sbatch --array` job and the dependent merge;
//! a tile whose task was killed is rerun alone by `submit slurm --resume`. Kubernetes: the
//! rendered Indexed Job and merge Job pass the Kubernetes API schema (kubernetes-validate's
//! bundled schemas, strict) and their container commands, run here as a pod would run them,
//! do the survey. Also the local executor (`survey run --workers 2`) on the same plan.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinmint"));
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c
}

fn ok(cmd: &mut Command) -> String {
    String::from_utf8(test_support::output_ok(cmd).stdout).unwrap()
}

/// A 60 m simulated stand as one LAZ, planned in 30 m tiles (2 × 2 or more).
fn survey(dir: &Path) -> PathBuf {
    let laz = dir.join("stand.laz");
    ok(bin()
        .args(["-q", "synth", "-o"])
        .arg(&laz)
        .args(["--size", "60", "--points", "150000", "--seed", "4"]));
    let s = dir.join("stand.survey");
    ok(bin()
        .args(["-q", "plan"])
        .arg(&laz)
        .arg("-o")
        .arg(&s)
        .args(["--tile", "30", "--buffer", "15"]));
    s
}

fn tiles(s: &Path) -> usize {
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("plan.json")).unwrap()).unwrap();
    plan["tiles"].as_array().unwrap().len()
}

fn done(s: &Path, i: usize) -> PathBuf {
    s.join("tiles").join(format!("{i:05}")).join("done.json")
}

#[test]
fn local_executor_runs_every_tile_and_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let s = survey(tmp.path());
    let n = tiles(&s);
    assert!(n >= 4, "{n} tiles");
    let out = ok(bin()
        .args(["-q", "survey", "run"])
        .arg(&s)
        .args(["--workers", "2"]));
    assert!(out.contains("tiles merged"), "{out}");
    for i in 0..n {
        assert!(done(&s, i).is_file(), "tile {i} not done");
    }
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("merged/merge.json")).unwrap()).unwrap();
    assert_eq!(merged["tiles"], n);
    assert!(merged["trees"].as_u64().unwrap() > 10, "{merged}");
    assert!(s.join("merged/dtm.tif").is_file());
    // The merged survey is a project of the whole estate: growth, package and verify run on it
    // unchanged, over the merged trees (ids from their apexes) and every input point.
    let project = s.join("merged");
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("reconstruction.json")).unwrap())
            .unwrap();
    assert_eq!(
        rec["trees"].as_array().unwrap().len() as u64,
        merged["trees"]
    );
    assert!(
        rec["terrain"]["ground_points"].as_u64().unwrap() > 1000,
        "{}",
        rec["terrain"]
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("manifest.json")).unwrap()).unwrap();
    let info: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["-q", "--json", "info"])
        .arg(tmp.path().join("stand.laz"))))
    .unwrap();
    assert_eq!(manifest["point_count"], info["point_count"]);
    assert!(info.get("copc").is_none(), "a plain LAZ is not COPC");
    // The estate's cloud is COPC, and `info` says so.
    let estate: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["-q", "--json", "info"])
        .arg(project.join("cloud.laz"))))
    .unwrap();
    assert_eq!(estate["point_count"], info["point_count"]);
    assert!(
        estate["copc"]["nodes"].as_u64().unwrap() >= 1,
        "{}",
        estate["copc"]
    );
    assert!(estate["copc"]["root_points"].as_u64().unwrap() > 0);
    ok(bin()
        .args(["-q", "simulate"])
        .arg(&project)
        .args(["--runs", "32", "--years", "10"]));
    let sim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("simulation.json")).unwrap()).unwrap();
    assert!(!sim.is_null());
    ok(bin().args(["-q", "package"]).arg(&project));
    let verified = ok(bin()
        .args(["-q", "verify"])
        .arg(project.join("package"))
        .arg("--project")
        .arg(&project));
    assert!(
        verified.to_lowercase().contains("fingerprint"),
        "{verified}"
    );
    // A done tile's task is a no-op; its JSON report carries the process's peak memory in bytes
    // (what the executors and `bench survey` read).
    let v: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["-q", "--json", "tile", "run"])
        .arg(&s)
        .args(["--index", "0"])))
    .unwrap();
    assert_eq!(v["ran"], false, "{v}");
    assert!(v["peak_bytes"].as_u64().unwrap() > 4 << 20, "{v}");
}

/// The single-node cluster: stops its daemons when dropped.
struct Cluster {
    conf: PathBuf,
    pids: Vec<PathBuf>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &self.pids {
            if let Ok(pid) = std::fs::read_to_string(p) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

fn start_cluster(dir: &Path) -> Option<Cluster> {
    let have = |c: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {c}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !(have("slurmctld") && have("slurmd") && have("munged") && have("sbatch") && root) {
        test_support::skip_or_fail(
            "the Slurm survey test",
            "needs root and Debian's slurm-wlm + munge (scripts/setup.sh installs them)",
        );
        return None;
    }
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    // munge: a key if there is none, the daemon as the munge user (once per machine).
    let sh = |script: &str| {
        let out = Command::new("sh").args(["-c", script]).output().unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(
        "test -s /etc/munge/munge.key || (dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null && chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key)",
    );
    sh(
        "mkdir -p /run/munge && chown munge:munge /run/munge && (pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged)",
    );
    let state = dir.join("state");
    let spool = dir.join("spool");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::create_dir_all(&spool).unwrap();
    let port = 16_817 + (std::process::id() % 1000) as u16 * 2;
    let conf = dir.join("slurm.conf");
    let ctl_pid = dir.join("slurmctld.pid");
    let d_pid = dir.join("slurmd.pid");
    std::fs::write(
        &conf,
        format!(
            "ClusterName=twinmint\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\n\
             SlurmctldPort={port}\nSlurmdPort={}\nAuthType=auth/munge\n\
             StateSaveLocation={}\nSlurmdSpoolDir={}\nSlurmctldPidFile={}\nSlurmdPidFile={}\n\
             SlurmctldLogFile={}\nSlurmdLogFile={}\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n\
             SelectTypeParameters=CR_CPU\nSchedulerType=sched/backfill\nMpiDefault=none\n\
             ReturnToService=2\nJobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n\
             NodeName={host} CPUs=2 RealMemory=8000 State=UNKNOWN\n\
             PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            port + 1,
            state.display(),
            spool.display(),
            ctl_pid.display(),
            d_pid.display(),
            dir.join("slurmctld.log").display(),
            dir.join("slurmd.log").display(),
        ),
    )
    .unwrap();
    let cluster = Cluster {
        conf: conf.clone(),
        pids: vec![d_pid, ctl_pid],
    };
    for daemon in ["slurmctld", "slurmd"] {
        let out = Command::new(daemon)
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{daemon}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Wait for the node to be idle.
    let t = Instant::now();
    loop {
        let out = Command::new("sinfo")
            .env("SLURM_CONF", &conf)
            .args(["-h", "-o", "%T"])
            .output()
            .unwrap();
        let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if state.starts_with("idle") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the Slurm node did not come up: {state:?}; {}",
            std::fs::read_to_string(dir.join("slurmctld.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    Some(cluster)
}

fn wait_for(what: &str, limit: Duration, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn slurm_array_runs_the_tiles_then_merges_and_resume_reruns_only_the_lost_tile() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(cluster) = start_cluster(&tmp.path().join("slurm")) else {
        return;
    };
    let s = survey(tmp.path());
    let n = tiles(&s);
    let submit = |extra: &[&str]| {
        ok(bin()
            .env("SLURM_CONF", &cluster.conf)
            .args(["-q", "submit", "slurm"])
            .arg(&s)
            .args(["--max-parallel", "2"])
            .args(extra))
    };
    let out = submit(&[]);
    assert!(out.contains("submitted tiles as job"), "{out}");
    wait_for("the merge job", Duration::from_secs(540), || {
        s.join("merged/merge.json").is_file()
    });
    for i in 0..n {
        assert!(done(&s, i).is_file(), "tile {i} not done");
    }
    // A killed task: tile 1's output is gone. --resume submits only it.
    let kept = std::fs::metadata(done(&s, 0)).unwrap().modified().unwrap();
    std::fs::remove_dir_all(s.join("tiles/00001")).unwrap();
    std::fs::remove_file(s.join("merged/merge.json")).unwrap();
    let out = submit(&["--resume"]);
    assert!(out.contains("(array 1%2)"), "{out}");
    let script = std::fs::read_to_string(s.join("slurm/tiles.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=1%2"), "{script}");
    wait_for("the resumed merge", Duration::from_secs(300), || {
        s.join("merged/merge.json").is_file()
    });
    assert!(done(&s, 1).is_file());
    assert_eq!(
        std::fs::metadata(done(&s, 0)).unwrap().modified().unwrap(),
        kept,
        "a done tile was run again"
    );
}

/// kubernetes-validate from `.venv-tools` (scripts/setup.sh) or `$TWINMINT_K8S_VALIDATE`.
fn k8s_validator() -> Option<PathBuf> {
    let p = std::env::var_os("TWINMINT_K8S_VALIDATE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-tools/bin/kubernetes-validate"),
        PathBuf::from,
    );
    p.is_file().then_some(p)
}

/// The YAML stream at `path` as JSON documents (PyYAML from the validator's own venv).
fn yaml_docs(validator: &Path, path: &Path) -> Vec<serde_json::Value> {
    let py = validator.with_file_name("python");
    let out = ok(Command::new(py).args([
        "-c",
        "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
    ])
    .arg(path));
    serde_json::from_str(&out).unwrap()
}

fn args_of(job: &serde_json::Value) -> Vec<String> {
    job["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn k8s_jobs_pass_the_api_schema_and_their_commands_do_the_survey() {
    let Some(validator) = k8s_validator() else {
        test_support::skip_or_fail(
            "the Kubernetes schema check",
            "needs kubernetes-validate (scripts/setup.sh installs it into .venv-tools)",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let s = survey(tmp.path());
    let n = tiles(&s);
    let out = ok(bin()
        .args(["-q", "submit", "k8s"])
        .arg(&s)
        .args([
            "--image",
            "registry.example/twinmint:1.0",
            "--volume",
            "survey-data",
        ])
        .args(["--parallelism", "3"]));
    let yaml = s.join("k8s/survey.yaml");
    assert!(out.contains("survey.yaml"), "{out}");
    let check = |path: &Path| {
        Command::new(&validator)
            .args(["--strict", "--kubernetes-version", "1.30.0"])
            .arg(path)
            .output()
            .unwrap()
    };
    let v = check(&yaml);
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    // The check can fail: the same stream with a field the Job API does not have is refused.
    let text = std::fs::read_to_string(&yaml).unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, text.replacen("backoffLimit: 3", "retries: 3", 1)).unwrap();
    assert!(!check(&bad).status.success(), "an unknown field passed");

    let docs = yaml_docs(&validator, &yaml);
    assert_eq!(docs.len(), 2);
    let (tiles_job, merge_job) = (&docs[0], &docs[1]);
    assert_eq!(tiles_job["spec"]["completionMode"], "Indexed");
    assert_eq!(tiles_job["spec"]["completions"], n);
    assert_eq!(tiles_job["spec"]["parallelism"], 3);
    let container = &tiles_job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "registry.example/twinmint:1.0");
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(
        s.starts_with(mount),
        "{mount} does not hold {}",
        s.display()
    );
    // The merge pod is applied with the tiles and waits for them: started first, it finishes
    // only once the last tile pod has.
    let mut merge = bin().args(args_of(merge_job)).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(merge.try_wait().unwrap().is_none(), "merge did not wait");
    // Each tile pod: the same arguments, its index from JOB_COMPLETION_INDEX.
    for i in 0..n {
        ok(bin()
            .args(args_of(tiles_job))
            .env("JOB_COMPLETION_INDEX", i.to_string()));
        assert!(done(&s, i).is_file(), "tile {i} not done");
    }
    let status = merge.wait().unwrap();
    assert!(status.success());
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("merged/merge.json")).unwrap()).unwrap();
    assert_eq!(merged["tiles"], n);
    assert!(merged["trees"].as_u64().unwrap() > 10, "{merged}");
}

/// `merge --parcels`: the estate cut into one project per parcel — every point and every tree
/// in exactly one — each packaged with its own fingerprint; a parcel off the survey is refused
/// naming the file.
#[test]
fn parcels_become_projects_of_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let s = survey(tmp.path());
    ok(bin()
        .args(["-q", "survey", "run"])
        .arg(&s)
        .args(["--workers", "2", "--no-merge"]));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("plan.json")).unwrap()).unwrap();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for t in plan["tiles"].as_array().unwrap() {
        let (lo, hi) = (&t["core"]["min"], &t["core"]["max"]);
        x0 = x0.min(lo[0].as_f64().unwrap());
        y0 = y0.min(lo[1].as_f64().unwrap());
        x1 = x1.max(hi[0].as_f64().unwrap());
        y1 = y1.max(hi[1].as_f64().unwrap());
    }
    let mid = (x0 + x1) / 2.0 + 0.123;
    let rect = |name: &str, a: f64, b: f64| {
        serde_json::json!({"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "Polygon",
                "coordinates": [[[a, y0 - 1.0], [b, y0 - 1.0], [b, y1 + 1.0], [a, y1 + 1.0], [a, y0 - 1.0]]]}})
    };
    let parcels = tmp.path().join("parcels.geojson");
    std::fs::write(
        &parcels,
        serde_json::json!({"type": "FeatureCollection",
            "features": [rect("west", x0 - 1.0, mid), rect("east", mid, x1 + 1.0)]})
        .to_string(),
    )
    .unwrap();
    let out = ok(bin()
        .args(["-q", "merge"])
        .arg(&s)
        .arg("--parcels")
        .arg(&parcels));
    assert!(
        out.contains("parcel west") && out.contains("parcel east"),
        "{out}"
    );
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("merged/merge.json")).unwrap()).unwrap();
    let ps = merged["parcels"].as_array().unwrap();
    assert_eq!(ps.len(), 2);
    let sum = |k: &str| ps.iter().map(|p| p[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("trees"), merged["trees"].as_u64().unwrap());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.join("merged/manifest.json")).unwrap()).unwrap();
    assert_eq!(sum("points"), manifest["point_count"].as_u64().unwrap());
    let mut fingerprints = Vec::new();
    for name in ["west", "east"] {
        let p = s.join("parcels").join(name);
        let rec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.join("reconstruction.json")).unwrap()).unwrap();
        for t in rec["trees"].as_array().unwrap() {
            let x = t["x"].as_f64().unwrap();
            assert_eq!(x >= mid, name == "east", "tree at x {x} in {name}");
        }
        ok(bin()
            .args(["-q", "simulate"])
            .arg(&p)
            .args(["--runs", "16", "--years", "5"]));
        ok(bin().args(["-q", "package"]).arg(&p));
        let fp: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.join("fingerprint.json")).unwrap()).unwrap();
        fingerprints.push(fp["model_0x"].as_str().unwrap().to_string());
    }
    assert_ne!(fingerprints[0], fingerprints[1]);

    // A parcel off the survey (coordinates in another CRS, say) is refused, naming the file.
    std::fs::write(
        &parcels,
        serde_json::json!({"type": "FeatureCollection",
            "features": [rect("far", 10.0, 20.0)]})
        .to_string(),
    )
    .unwrap();
    let o = bin()
        .args(["-q", "merge"])
        .arg(&s)
        .arg("--parcels")
        .arg(&parcels)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("parcels.geojson") && err.contains("lies outside the survey"),
        "{err}"
    );
    // The earlier parcels are still there, whole.
    assert!(s.join("parcels/west/manifest.json").is_file());
}
