//! Tests of `mint::footprint::plane` (src/footprint/plane.rs).
use capture::Crs;
use mint::footprint::plane::*;

#[test]
fn accepted_crs_families() {
    assert_eq!(
        georef(&Crs::epsg(32633)),
        Some(Georef::Utm {
            zone: 33,
            north: true
        })
    );
    assert_eq!(
        georef(&Crs::epsg(32755)),
        Some(Georef::Utm {
            zone: 55,
            north: false
        })
    );
    assert_eq!(
        georef(&Crs::epsg(25832)),
        Some(Georef::Utm {
            zone: 32,
            north: true
        })
    );
    assert_eq!(
        georef(&Crs::epsg(26917)),
        Some(Georef::Utm {
            zone: 17,
            north: true
        })
    );
    assert_eq!(georef(&Crs::epsg(4326)), Some(Georef::LonLat));
    assert_eq!(georef(&Crs::epsg(2056)), None, "Swiss LV95 is not UTM");
    assert_eq!(georef(&Crs::default()), None);
}

#[test]
fn plane_round_trip() {
    let p = Plane::at(45.1, 15.2);
    assert_eq!(p.zone, 33);
    let (lat, lon) = p.inverse(p.forward(45.1, 15.2));
    assert!((lat - 45.1).abs() < 1e-11 && (lon - 15.2).abs() < 1e-11);
}
