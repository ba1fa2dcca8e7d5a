//! What the cluster executors submit, rendered without running anything: Slurm's `--array` list
//! of the tiles still to do, and the Kubernetes Indexed Job of the tiles with the merge Job that
//! waits for them. The CLI's `submit slurm` and `submit k8s` write these; every executor runs
//! the same task command (`twinmint tile run SURVEY --index N`).

use std::path::Path;

/// Slurm's `--array` list: ranges of consecutive indices (`0-3,7,9-10`).
pub fn array_spec(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut k = 0;
    while k < indices.len() {
        let start = indices[k];
        let mut end = start;
        while k + 1 < indices.len() && indices[k + 1] == end + 1 {
            k += 1;
            end = indices[k];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        k += 1;
    }
    parts.join(",")
}

/// How long the merge Job waits for the tile pods (it is applied with them: Kubernetes has no
/// job-to-job dependency, so the merge polls the tiles' done markers).
pub const K8S_MERGE_WAIT_S: u64 = 7 * 24 * 3600;

/// A YAML scalar: double-quoted with JSON escapes (valid YAML), so no path, image or claim
/// name can change the document's structure.
fn yq(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// What the Kubernetes Jobs of a survey are rendered from.
pub struct K8sJobs<'a> {
    /// Job name prefix (a DNS label).
    pub name: &'a str,
    /// The survey folder, as the pods see it.
    pub survey: &'a Path,
    pub tiles: usize,
    pub parallelism: usize,
    pub image: &'a str,
    /// The PersistentVolumeClaim mounted at the survey's parent.
    pub claim: &'a str,
    pub memory_bytes: u64,
    /// Parcels for the merge (`merge --parcels`).
    pub parcels: Option<&'a Path>,
}

/// The Indexed Job of the tiles and the merge Job, as one YAML stream (batch/v1; checked
/// against the Kubernetes API schema by `app/tests/survey_executors.rs`). Each tile pod's index
/// comes from `JOB_COMPLETION_INDEX`, which `tile run` reads when `--index` is absent.
pub fn k8s_manifests(j: &K8sJobs<'_>) -> String {
    let K8sJobs {
        name,
        survey,
        tiles,
        parallelism,
        image,
        claim,
        memory_bytes,
        parcels,
    } = *j;
    let mount = survey
        .parent()
        .unwrap_or(Path::new("/"))
        .to_string_lossy()
        .into_owned();
    let mem = format!("{}Mi", (memory_bytes / (1 << 20)).max(512));
    let (image, claim, mount) = (yq(image), yq(claim), yq(&mount));
    let job = |kind: &str, extra: &str, args: &[String]| {
        let args: Vec<String> = args.iter().map(|a| yq(a)).collect();
        let args = args.join(", ");
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}-{kind}\n  labels:\n    app.kubernetes.io/name: twinmint\n    twinmint/survey: {name}\nspec:\n{extra}  backoffLimit: 3\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: twinmint\n        twinmint/survey: {name}\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: twinmint\n          image: {image}\n          args: [{args}]\n          resources:\n            requests:\n              cpu: \"1\"\n              memory: {mem}\n            limits:\n              memory: {mem}\n          volumeMounts:\n            - name: survey\n              mountPath: {mount}\n      volumes:\n        - name: survey\n          persistentVolumeClaim:\n            claimName: {claim}\n"
        )
    };
    let s = survey.to_string_lossy().into_owned();
    let tiles_job = job(
        "tiles",
        &format!(
            "  completionMode: Indexed\n  completions: {tiles}\n  parallelism: {parallelism}\n"
        ),
        &["--quiet".into(), "tile".into(), "run".into(), s.clone()],
    );
    let mut merge_args = vec![
        "--quiet".into(),
        "merge".into(),
        s,
        "--wait".into(),
        K8S_MERGE_WAIT_S.to_string(),
    ];
    if let Some(p) = parcels {
        merge_args.extend(["--parcels".into(), p.to_string_lossy().into_owned()]);
    }
    let merge_job = job("merge", "", &merge_args);
    format!("{tiles_job}---\n{merge_job}")
}
