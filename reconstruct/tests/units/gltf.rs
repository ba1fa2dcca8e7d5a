//! Tests of `reconstruct::gltf` (src/gltf.rs).
use reconstruct::gltf::*;
use reconstruct::model::Reconstruction;
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn empty_reconstruction_is_a_valid_container() {
    let recon = Reconstruction {
        schema_version: 1,
        generator: String::new(),
        crs: capture::Crs::epsg(32633),
        origin: [500000.0, 5000000.0, 250.0],
        terrain: Default::default(),
        dtm: None,
        chm: None,
        trees: vec![],
        pipes: vec![],
        options: Value::Null,
        run: Default::default(),
    };
    let glb = build_glb(&recon, &BTreeMap::new(), &GlbOptions::default()).unwrap();
    let parts = read_glb(&glb).unwrap();
    assert!(parts.bin.is_empty());
    assert_eq!(parts.json["asset"]["version"], "2.0");
    assert_eq!(
        parts.json["asset"]["extras"]["twinmint"]["crs"],
        "EPSG:32633"
    );
    assert!(parts.json.get("buffers").is_none());
    assert!(read_glb(&glb[..glb.len() - 4]).is_err());
}

#[test]
fn y_up_is_a_proper_rotation() {
    // (x, y, z) → (x, z, −y): the images of the basis form a right-handed frame.
    let ex = y_up([1.0, 0.0, 0.0]);
    let ey = y_up([0.0, 1.0, 0.0]);
    let ez = y_up([0.0, 0.0, 1.0]);
    let c = [
        ex[1] * ey[2] - ex[2] * ey[1],
        ex[2] * ey[0] - ex[0] * ey[2],
        ex[0] * ey[1] - ex[1] * ey[0],
    ];
    assert_eq!(c, ez);
    assert_eq!(ez, [0.0, 1.0, 0.0]);
}
