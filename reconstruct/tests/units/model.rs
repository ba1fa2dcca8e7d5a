//! Tests of `reconstruct::model` (src/model.rs).
use capture::Crs;
use reconstruct::model::*;

#[test]
fn grid_limits_count_cells_without_overflow() {
    // A 1 m DTM over 640 × 400 m is fine; 0.1 mm is ~2.6e13 cells, refused with the count.
    assert!(check_grid("dtm resolution_m", 1.0, 640.0, 400.0).is_ok());
    let e = check_grid("dtm resolution_m", 0.0001, 640.0, 400.0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dtm resolution_m") && e.contains("2.560e13 cells"),
        "{e}"
    );
    assert!(e.contains("use at least 0.036 m"), "{e}");
    // The suggested size itself passes.
    assert!(check_grid("dtm resolution_m", 0.036, 640.0, 400.0).is_ok());
    for r in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300] {
        assert!(check_grid("x", r, 640.0, 400.0).is_err(), "{r}");
    }
    assert!(check_grid("x", 1e300, 640.0, 400.0).is_err());
    assert!(check_grid("x", 1000.0, 640.0, 400.0).is_ok());
    // Huge extents cannot overflow either.
    assert!(check_grid("x", 1.0, f64::INFINITY, 1.0).is_err());
    assert!(check_grid("x", 1.0, f64::NAN, 1.0).is_err());
}

#[test]
fn stage_options_check_their_grids_against_the_extent() {
    use reconstruct::pipeline::ReconstructOptions;
    let b = capture::Bounds {
        min: [0.0, 0.0, 0.0],
        max: [100.0, 100.0, 30.0],
    };
    let mut o = ReconstructOptions::default();
    assert!(o.validate().is_ok() && o.check_extent(&b).is_ok());
    o.dtm.resolution_m = 0.001;
    assert!(o.validate().is_ok(), "in range without an extent");
    let e = o.check_extent(&b).unwrap_err().to_string();
    assert!(
        e.contains("dtm resolution_m") && e.contains("1.000e10 cells"),
        "{e}"
    );
    o.dtm.resolution_m = 0.0;
    assert!(o.validate().is_err());
    let mut o = ReconstructOptions::default();
    o.ground.cloth_resolution_m = 0.005;
    assert!(
        o.check_extent(&b)
            .unwrap_err()
            .to_string()
            .contains("cloth")
    );
}

#[test]
fn schema_1_device_and_timings_move_into_run() {
    let v1 = serde_json::json!({
        "schema_version": 1,
        "crs": Crs::default(),
        "origin": [1.0, 2.0, 3.0],
        "terrain": TerrainStats::default(),
        "dtm": null,
        "chm": null,
        "trees": [],
        "pipes": [],
        "options": {"device": "cpu"},
        "device": "gpu (llvmpipe, Vulkan)",
        "timings": [{"step": "ground", "device": "cpu", "seconds": 1.5}],
    });
    let r: Reconstruction = serde_json::from_value(v1).unwrap();
    assert_eq!(r.run.device, "gpu (llvmpipe, Vulkan)");
    assert_eq!(r.run.timings.len(), 1);
    assert_eq!(r.generator, "");
    // Written back in today's layout: no top-level device or timings.
    let back = serde_json::to_value(&r).unwrap();
    assert!(back.get("device").is_none() && back.get("timings").is_none());
    assert_eq!(back["run"]["device"], "gpu (llvmpipe, Vulkan)");
    let again: Reconstruction = serde_json::from_value(back).unwrap();
    assert_eq!(again, r);
}
