//! The *asset view* of `reconstruction.json`: exactly the part the reconstruction hash covers.
//!
//! `reconstruction.json` holds two kinds of facts. What describes the asset — terrain, raster
//! extents, trees, pipes, the options and the tool version that produced them — must be in the
//! fingerprint: change one and the collateral is a different model. What describes one *run* —
//! wall-clock timings, the device label, the host, the thread count — differs every time the
//! same scan is reconstructed, and would make the fingerprint irreproducible. So the hash is
//! taken over a view of the file:
//!
//! 1. the top-level `run` object is removed (and schema 1's top-level `device` and `timings`,
//!    which held the same facts), as is `options.device` (`auto|gpu|cpu`: where to compute, not
//!    what was computed);
//! 2. every number that is not an integer is rounded to the nearest multiple of
//!    [`QUANTUM`] (0.001: a millimetre for lengths in metres), halves away from zero — Rust's
//!    `(x * 1000.0).round() / 1000.0` in IEEE-754 doubles. The GPU kernels and their CPU twins
//!    agree to float rounding, not bit for bit (a fused multiply-add on one side is enough), and
//!    that must not change the fingerprint; integers (counts, ids, sizes) are kept exactly;
//! 3. the result is canonicalised with RFC 8785 ([`super::jcs`]) and hashed with SHA-256.
//!
//! Every verifier must compute the same view, so this module is the only place it is defined:
//! [`super::compute`], `package::project` and `verify` all call [`reconstruction_hash`].

use serde_json::{Map, Value};

use super::jcs;
use crate::error::Result;

/// Steps per unit of non-integer numbers in the asset view: 1000, a millimetre for metres.
pub const STEPS_PER_UNIT: f64 = 1000.0;

/// Rounding step of non-integer numbers in the asset view (0.001).
pub const QUANTUM: f64 = 1.0 / STEPS_PER_UNIT;

/// Top-level keys of `reconstruction.json` that describe the run, not the asset: `run`, and
/// the schema 1 fields it replaced.
pub const RUN_KEYS: [&str; 3] = ["run", "device", "timings"];

/// Keys of `reconstruction.json`'s `options` object left out of the view.
pub const OPTION_RUN_KEYS: [&str; 1] = ["device"];

/// `x` rounded to the nearest multiple of [`QUANTUM`], halves away from zero.
pub fn quantise(x: f64) -> f64 {
    // Divided by the exact 1000.0, not multiplied by the inexact 0.001, so the result is the
    // double nearest to steps/1000 and prints as at most three decimals.
    let q = (x * STEPS_PER_UNIT).round() / STEPS_PER_UNIT;
    // −0 and +0 are one number to RFC 8785; keep one spelling in the value too.
    if q == 0.0 { 0.0 } else { q }
}

/// The asset view of a `reconstruction.json` value (see the module docs). A value that is not
/// a JSON object is only quantised.
pub fn reconstruction_view(reconstruction: &Value) -> Value {
    let mut v = quantised(reconstruction);
    if let Value::Object(top) = &mut v {
        for k in RUN_KEYS {
            top.remove(k);
        }
        if let Some(Value::Object(options)) = top.get_mut("options") {
            for k in OPTION_RUN_KEYS {
                options.remove(k);
            }
        }
    }
    v
}

/// SHA-256 of the RFC 8785 form of [`reconstruction_view`]: the fingerprint's
/// `reconstruction_hash`.
pub fn reconstruction_hash(reconstruction: &Value) -> Result<[u8; 32]> {
    jcs::sha256(&reconstruction_view(reconstruction))
}

/// `v` with every non-integer number quantised.
fn quantised(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64().map(quantise) {
            Some(q) => serde_json::Number::from_f64(q).map_or(Value::Null, Value::Number),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(quantised).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), quantised(x)))
                .collect::<Map<_, _>>(),
        ),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
