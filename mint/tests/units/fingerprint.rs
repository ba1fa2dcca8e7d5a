//! Tests of `mint::fingerprint` (src/fingerprint/mod.rs).
use capture::PointCloud;
use metadata::CaptureMetadata;
use mint::error::MintError;
use mint::fingerprint::*;

#[test]
fn keccak_is_ethereum_keccak() {
    assert_eq!(
        hex::encode(keccak256(b"")),
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    );
}

#[test]
fn compute_combines_and_checks_metadata() {
    let cloud = PointCloud::from_absolute(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let capture = CaptureMetadata::from_cloud(&cloud).unwrap();
    let recon = serde_json::json!({"trees": 2, "height_m": 12.5});
    let m = compute(&cloud, &capture, &recon).unwrap();
    let mut cat = Vec::new();
    cat.extend_from_slice(&m.cloud_root);
    cat.extend_from_slice(&m.capture_hash);
    cat.extend_from_slice(&m.reconstruction_hash);
    assert_eq!(m.model, keccak256(&cat));
    // Key order of the reconstruction JSON does not matter.
    let recon2: serde_json::Value =
        serde_json::from_str(r#"{"height_m": 12.50, "trees": 2}"#).unwrap();
    assert_eq!(compute(&cloud, &capture, &recon2).unwrap(), m);
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(j["model"], hex::encode(m.model));
    let back: ModelFingerprint = serde_json::from_value(j).unwrap();
    assert_eq!(back, m);
    let mut wrong = capture.clone();
    wrong.points = 3;
    assert!(matches!(
        compute(&cloud, &wrong, &recon),
        Err(MintError::MetadataMismatch {
            field: "points",
            ..
        })
    ));
}
