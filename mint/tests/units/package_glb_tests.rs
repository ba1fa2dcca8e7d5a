//! Tests of `mint::package` (src/package/mod.rs).
use mint::package::*;

fn glb(json: &[u8], declared_extra: i64) -> Vec<u8> {
    let mut j = json.to_vec();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let total = (12 + 8 + j.len()) as i64 + declared_extra;
    let mut v = b"glTF".to_vec();
    v.extend(2u32.to_le_bytes());
    v.extend((total as u32).to_le_bytes());
    v.extend((j.len() as u32).to_le_bytes());
    v.extend(0x4E4F_534Au32.to_le_bytes());
    v.extend(j);
    v
}

#[test]
fn glb_header_and_json_chunk_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.glb");
    let check = |bytes: &[u8]| {
        std::fs::write(&p, bytes).unwrap();
        check_glb(&p).map_err(|e| e.to_string())
    };
    assert!(check(&glb(br#"{"asset":{"version":"2.0"}}"#, 0)).is_ok());
    let e = check(b"garbage garbage garbage").unwrap_err();
    assert!(
        e.contains("model.glb") && e.contains("no glTF magic"),
        "{e}"
    );
    assert!(
        check(b"glTF")
            .unwrap_err()
            .contains("shorter than a GLB header")
    );
    let e = check(&glb(br#"{"asset":{"version":"2.0"}}"#, 8)).unwrap_err();
    assert!(e.contains("header says"), "{e}");
    let e = check(&glb(b"{not json", 0)).unwrap_err();
    assert!(e.contains("does not parse"), "{e}");
    let e = check(&glb(br#"{"asset":{"version":"1.0"}}"#, 0)).unwrap_err();
    assert!(e.contains("not glTF 2.x"), "{e}");
    let mut v = glb(br#"{"asset":{"version":"2.0"}}"#, 0);
    v[12..16].copy_from_slice(&1_000_000u32.to_le_bytes());
    assert!(check(&v).unwrap_err().contains("does not fit"));
}

#[test]
fn the_reconstruct_stage_glb_passes() {
    let recon = reconstruct::Reconstruction {
        schema_version: reconstruct::model::RECONSTRUCTION_SCHEMA_VERSION,
        generator: String::new(),
        crs: Default::default(),
        origin: [0.0; 3],
        terrain: Default::default(),
        dtm: None,
        chm: None,
        trees: vec![],
        pipes: vec![],
        options: serde_json::Value::Null,
        run: Default::default(),
    };
    let bytes =
        reconstruct::gltf::build_glb(&recon, &Default::default(), &Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.glb");
    std::fs::write(&p, bytes).unwrap();
    check_glb(&p).unwrap();
}
