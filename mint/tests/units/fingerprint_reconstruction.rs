//! Tests of `mint::fingerprint::reconstruction` (src/fingerprint/reconstruction.rs).
use mint::fingerprint::jcs;
use mint::fingerprint::reconstruction::*;
use serde_json::json;

#[test]
fn quantise_rounds_to_millimetres_halves_away_from_zero() {
    assert_eq!(quantise(12.3456), 12.346);
    assert_eq!(quantise(-12.3456), -12.346);
    assert_eq!(quantise(0.0005), 0.001);
    assert_eq!(quantise(-0.0005), -0.001);
    assert_eq!(quantise(-0.0004), 0.0);
    assert!(quantise(-0.0004).is_sign_positive());
    assert_eq!(quantise(500_000.123_456_7), 500_000.123);
    // f32 results widened to f64 land on the same millimetre.
    assert_eq!(quantise(0.65f32 as f64), 0.65);
}

#[test]
fn view_drops_the_run_and_quantises() {
    let a = json!({
        "schema_version": 2,
        "trees": [{"id": 1, "height_m": 20.000_000_1, "point_count": 120}],
        "options": {"device": "gpu", "ground": {"time_step": 0.65}},
        "run": {"device": "gpu (llvmpipe, Vulkan)", "timings": [{"seconds": 1.25}], "threads": 2},
    });
    let b = json!({
        "schema_version": 2,
        "trees": [{"id": 1, "height_m": 19.999_999_9, "point_count": 120}],
        "options": {"device": "cpu", "ground": {"time_step": 0.650_000_000_1}},
        "run": {"device": "cpu", "timings": [{"seconds": 9.5}], "threads": 1, "host": "x"},
    });
    let v = reconstruction_view(&a);
    assert_eq!(
        v,
        json!({
            "schema_version": 2,
            "trees": [{"id": 1, "height_m": 20.0, "point_count": 120}],
            "options": {"ground": {"time_step": 0.65}},
        })
    );
    assert_eq!(
        reconstruction_hash(&a).unwrap(),
        reconstruction_hash(&b).unwrap()
    );
    // Schema 1's top-level device and timings are run facts too.
    let mut legacy = b.clone();
    legacy.as_object_mut().unwrap().remove("run");
    legacy["device"] = json!("cpu");
    legacy["timings"] = json!([]);
    assert_eq!(
        reconstruction_hash(&legacy).unwrap(),
        reconstruction_hash(&a).unwrap()
    );
    // A millimetre is a different asset; so is another point count or option.
    for (path, value) in [
        ("/trees/0/height_m", json!(20.001)),
        ("/trees/0/point_count", json!(121)),
        ("/options/ground/time_step", json!(0.6)),
    ] {
        let mut c = a.clone();
        *c.pointer_mut(path).unwrap() = value;
        assert_ne!(
            reconstruction_hash(&c).unwrap(),
            reconstruction_hash(&a).unwrap(),
            "{path}"
        );
    }
}

#[test]
fn integers_are_kept_exactly() {
    let v = reconstruction_view(&json!({"n": 123_456_789_012u64, "x": 2.0, "y": -3}));
    assert_eq!(v["n"], json!(123_456_789_012u64));
    assert_eq!(v["y"], json!(-3));
    // 2.0 and 2 are one number in RFC 8785.
    assert_eq!(
        jcs::sha256(&v).unwrap(),
        jcs::sha256(&json!({"n": 123_456_789_012u64, "x": 2, "y": -3})).unwrap()
    );
}
