//! Tests of `survey::executors` (src/executors.rs).
use std::path::Path;

use survey::executors::*;

#[test]
fn array_specs_compress_runs() {
    assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
    assert_eq!(array_spec(&[2]), "2");
    assert_eq!(array_spec(&[0, 1, 3, 5, 6]), "0-1,3,5-6");
}

#[test]
fn k8s_manifests_are_an_indexed_job_and_a_merge_job() {
    let y = k8s_manifests(&K8sJobs {
        name: "forest",
        survey: Path::new("/data/forest.survey"),
        tiles: 16,
        parallelism: 4,
        image: "ghcr.io/x/twinmint:1",
        claim: "survey-pvc",
        memory_bytes: 3 << 30,
        parcels: Some(Path::new("/data/parcels.geojson")),
    });
    for needle in [
        "completionMode: Indexed",
        "completions: 16",
        "parallelism: 4",
        "name: forest-tiles",
        "name: forest-merge",
        "claimName: \"survey-pvc\"",
        "mountPath: \"/data\"",
        "memory: 3072Mi",
        "\"tile\", \"run\", \"/data/forest.survey\"",
        "\"merge\", \"/data/forest.survey\", \"--wait\"",
        "\"--parcels\", \"/data/parcels.geojson\"",
    ] {
        assert!(y.contains(needle), "{needle} missing:\n{y}");
    }
    assert_eq!(y.matches("kind: Job").count(), 2);
}
