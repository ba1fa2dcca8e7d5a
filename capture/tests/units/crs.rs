//! Tests of `capture::crs` (src/crs.rs).
use capture::crs::*;

#[test]
fn parses_codes_and_wkt() {
    assert_eq!(Crs::parse("EPSG:32633").unwrap().epsg, Some(32633));
    assert_eq!(Crs::parse("2056").unwrap().epsg, Some(2056));
    let w = r#"PROJCS["NAD83 / UTM zone 17N",GEOGCS["NAD83",AUTHORITY["EPSG","4269"]],UNIT["metre",1],AUTHORITY["EPSG","26917"]]"#;
    let c = Crs::parse(w).unwrap();
    assert_eq!(c.epsg, Some(26917));
    assert!(Crs::parse("EPSG:abc").is_err());
    assert!(Crs::parse("EPSG:12").is_err());
    assert!(Crs::parse("PROJCS[\"x\"").is_err());
    assert!(Crs::parse("mars").is_err());
}

#[test]
fn nested_authority_is_not_the_crs() {
    let w = r#"PROJCS["local",GEOGCS["NAD83",AUTHORITY["EPSG","4269"]],UNIT["metre",1]]"#;
    assert_eq!(epsg_from_wkt(w), None);
}
