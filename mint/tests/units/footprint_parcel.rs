//! Tests of `mint::footprint::parcel` (src/footprint/parcel.rs).
use capture::Crs;
use mint::footprint::cells::{self};
use mint::footprint::error::FootprintError;
use mint::footprint::parcel::*;
use mint::footprint::plane::{Georef, Plane};
use std::path::Path;

fn parse_str(s: &str) -> Result<Parcel, FootprintError> {
    parse(Path::new("p.geojson"), s.as_bytes(), &Crs::default())
}

#[test]
fn reads_every_container() {
    let poly = r#"{"type":"Polygon","coordinates":[[[15,45],[15.001,45],[15.001,45.001],[15,45.001],[15,45]]]}"#;
    for doc in [
        poly.to_string(),
        format!(r#"{{"type":"Feature","properties":{{}},"geometry":{poly}}}"#),
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":null,"geometry":{poly}}},{{"type":"Feature","geometry":null}}]}}"#
        ),
        format!(
            r#"{{"type":"GeometryCollection","geometries":[{poly},{{"type":"Point","coordinates":[1,2]}}]}}"#
        ),
    ] {
        let p = parse_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert_eq!(p.polygons.len(), 1);
        assert_eq!(p.polygons[0][0].len(), 4, "closing repeat dropped");
        assert_eq!(p.georef, Georef::LonLat);
    }
    let multi =
        r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1]]],[[[2,2],[3,2],[3,3]]]]}"#;
    assert_eq!(parse_str(multi).unwrap().polygons.len(), 2);
}

#[test]
fn named_crs_forms() {
    let poly =
        r#""type":"Polygon","coordinates":[[[500000,5000000],[500100,5000000],[500100,5000100]]]"#;
    for crs in [
        r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32633"}}"#,
        r#"{"type":"name","properties":{"name":"EPSG:32633"}}"#,
        r#"{"type":"name","properties":{"name":"http://www.opengis.net/def/crs/EPSG/0/32633"}}"#,
        r#"{"type":"EPSG","properties":{"code":32633}}"#,
    ] {
        let p = parse_str(&format!(r#"{{{poly},"crs":{crs}}}"#)).unwrap();
        assert_eq!(
            p.georef,
            Georef::Utm {
                zone: 33,
                north: true
            },
            "{crs}"
        );
        assert_eq!(p.crs_label, "EPSG:32633");
    }
    let lonlat = r#"{"type":"Polygon","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"coordinates":[[[0,0],[1,0],[1,1]]]}"#;
    assert_eq!(parse_str(lonlat).unwrap().georef, Georef::LonLat);
}

#[test]
fn refusals_name_the_problem() {
    let err = |s: &str| parse_str(s).err().expect(s).to_string();
    assert!(err("not json").contains("not GeoJSON"));
    assert!(err("[1,2]").contains("top level"));
    assert!(
        err(r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#).contains("found: LineString")
    );
    assert!(
        err(r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}"#).contains("fewer than 3")
    );
    assert!(
        err(r#"{"type":"Polygon","coordinates":[[[0,"a"],[1,1],[0,1]]]}"#).contains("not [x, y")
    );
    let lv95 = r#"{"type":"Polygon","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2056"}},"coordinates":[[[2600000,1200000],[2600100,1200000],[2600100,1200100]]]}"#;
    assert!(err(lv95).contains("EPSG::2056"));
    let utm_no_crs = r#"{"type":"Polygon","coordinates":[[[500000,5000000],[500100,5000000],[500100,5000100]]]}"#;
    assert!(err(utm_no_crs).contains("names no CRS"));
    // … but in a UTM project it is read in the project's CRS.
    let p = parse(
        Path::new("p.geojson"),
        utm_no_crs.as_bytes(),
        &Crs::epsg(32633),
    )
    .unwrap();
    assert_eq!(p.crs_label, "EPSG:32633");
}

#[test]
fn hole_cells_are_not_claimed() {
    // 200 m square with a 60 m hole in the middle, in UTM 33N.
    let sq =
        |x0: f64, y0: f64, s: f64| vec![[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]];
    let parcel = Parcel {
        polygons: vec![vec![
            sq(500_000.0, 5_000_000.0, 200.0),
            sq(500_070.0, 5_000_070.0, 60.0),
        ]],
        georef: Georef::Utm {
            zone: 33,
            north: true,
        },
        crs_label: "EPSG:32633".into(),
    };
    let (cells, area) = claim(&parcel, "test").unwrap();
    assert!((area - (40_000.0 - 3_600.0)).abs() < 1e-6);
    let plane = Plane {
        zone: 33,
        north: true,
    };
    for c in &cells {
        for v in cells::hexagon(&plane, *c) {
            let inside_hole = (500_070.0..=500_130.0).contains(&v[0])
                && (5_000_070.0..=5_000_130.0).contains(&v[1]);
            let inside_outer = (500_000.0..=500_200.0).contains(&v[0])
                && (5_000_000.0..=5_000_200.0).contains(&v[1]);
            assert!(inside_outer && !inside_hole, "{c} vertex {v:?}");
        }
    }
    assert!(cells.len() > 50, "{}", cells.len());
}
