//! Tests of `mint::package::project` (src/package/project.rs).
use mint::fingerprint::CloudFingerprint;
use mint::fingerprint::reconstruction::{OPTION_RUN_KEYS, RUN_KEYS};
use mint::package::project::*;

#[test]
fn covers_names_every_excluded_key_and_the_quantum() {
    let cloud = CloudFingerprint {
        root: [0; 32],
        leaves: 1,
        points: 1,
        chunk_points: 65_536,
        schema: "twinmint-points-v1-portable".into(),
        record_bytes: 28,
    };
    let c = Covers::current(&cloud);
    let excludes = c.reconstruction_hash.excludes.join(" ");
    for k in RUN_KEYS {
        assert!(excludes.contains(&format!("`{k}`")), "{excludes}");
    }
    for k in OPTION_RUN_KEYS {
        assert!(excludes.contains(&format!("`options.{k}`")), "{excludes}");
    }
    assert!(c.reconstruction_hash.covers.join(" ").contains("0.001"));
    assert!(
        c.cloud_root
            .covers
            .join(" ")
            .contains("65536 points a leaf")
    );
    assert!(c.capture_hash.excludes.join(" ").contains("surveyor"));
    let all = serde_json::to_string(&c).unwrap();
    assert!(!all.contains("  "), "no wrapped-line gaps: {all}");
}
