//! Tests of `survey::parcels` (src/parcels.rs).
use reconstruct::model::Raster;
use survey::parcels::*;

#[test]
fn even_odd_containment_with_a_hole() {
    let p = Parcel {
        name: "a".into(),
        rings: vec![
            vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]],
            vec![[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0]],
        ],
    };
    assert!(p.contains(1.0, 1.0));
    assert!(!p.contains(5.0, 5.0), "in the hole");
    assert!(!p.contains(11.0, 5.0));
    assert_eq!(p.bbox(), [0.0, 0.0, 10.0, 10.0]);
}

#[test]
fn crop_keeps_whole_cells_on_the_grid() {
    let mut r = Raster::covering(0.0, 0.0, 10.0, 10.0, 1.0, -9999.0);
    r.data = (0..r.width * r.height).map(|k| k as f32).collect();
    let c = crop_raster(&r, [2.5, 2.5, 4.5, 5.0]).unwrap();
    assert_eq!((c.width, c.height), (3, 3));
    // Rows from the north: y 5…2 are rows 5…7 of a raster whose top is y = 10.
    assert_eq!((c.x_min, c.y_max), (2.0, 5.0));
    assert_eq!(c.data[0], r.data[5 * r.width + 2]);
    assert!(crop_raster(&r, [20.0, 20.0, 30.0, 30.0]).is_none());
}

#[test]
fn bad_parcels_name_the_file_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.geojson");
    for (doc, want) in [
        (r#"{"type":"Feature"}"#, "FeatureCollection"),
        (
            r#"{"type":"FeatureCollection","features":[{"properties":{"name":"../x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}}]}"#,
            "cannot name a folder",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"geometry":{"type":"Point","coordinates":[0,0]}}]}"#,
            "not a Polygon",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0]]]}}]}"#,
            "fewer than 3",
        ),
    ] {
        std::fs::write(&p, doc).unwrap();
        let e = read_parcels(&p).unwrap_err().to_string();
        assert!(e.contains("p.geojson") && e.contains(want), "{e}");
    }
}
