//! Where footprint geometry is computed: one WGS 84 / UTM plane per parcel or cloud.
//!
//! H3 places cells by WGS 84 latitude/longitude; parcels and clouds come in UTM metres or in
//! degrees. Containment is decided in a conformal metric plane (UTM), where parcel edges,
//! occupancy-grid squares and hexagons are all straight-edged polygons in metres. An H3 cell edge
//! is a great-circle arc; over an 11 m edge it departs from the straight chord between its
//! projected vertices by about L²/(8R) ≈ 2 µm, far below anything a survey resolves.

use capture::Crs;
use capture::geodesy::{utm_forward, utm_inverse, utm_zone_for};

/// How a supported CRS places coordinates on WGS 84.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Georef {
    /// Easting/northing in metres in a UTM zone.
    Utm { zone: u8, north: bool },
    /// x = longitude, y = latitude, in degrees.
    LonLat,
}

/// The georeference of a CRS a footprint can use, or `None`.
///
/// Accepted: WGS 84 / UTM (EPSG:326zz, 327zz) and WGS 84 lon/lat (4326, 4979, and OGC CRS84);
/// also ETRS89 / UTM 28N–38N (258zz) with ETRS89 lon/lat (4258, 4937), and NAD83 / UTM 1N–23N
/// (269zz) with NAD83 lon/lat (4269). Those two datums are taken as WGS 84: they differ from it
/// by under 1 m (ETRS89, 2025) and 1.5–2 m (NAD83), which moves at most the outermost ring of
/// ~20 m cells — refusing them would shut out most European and North American survey data for
/// a metre. TwinMint ships no projection database, so other projections (state planes, national
/// grids, Lambert) are refused with a typed error rather than guessed.
pub fn georef(crs: &Crs) -> Option<Georef> {
    if let Some((zone, north)) = crs.utm_zone() {
        return Some(Georef::Utm { zone, north });
    }
    match crs.epsg? {
        4326 | 4979 | 4258 | 4937 | 4269 => Some(Georef::LonLat),
        c @ 25828..=25838 => Some(Georef::Utm {
            zone: (c - 25800) as u8,
            north: true,
        }),
        c @ 26901..=26923 => Some(Georef::Utm {
            zone: (c - 26900) as u8,
            north: true,
        }),
        _ => None,
    }
}

/// A UTM plane (zone and hemisphere numbering) in which one footprint is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plane {
    pub zone: u8,
    pub north: bool,
}

impl Plane {
    /// The plane of a UTM CRS, or the standard zone at (lat, lon) for geographic data.
    pub fn at(lat_deg: f64, lon_deg: f64) -> Plane {
        Plane {
            zone: utm_zone_for(lat_deg, lon_deg),
            north: lat_deg >= 0.0,
        }
    }

    /// WGS 84 (lat, lon) in degrees → (easting, northing) in metres.
    pub fn forward(&self, lat_deg: f64, lon_deg: f64) -> [f64; 2] {
        let (e, n) = utm_forward(lat_deg, lon_deg, self.zone, self.north);
        [e, n]
    }

    /// (easting, northing) → WGS 84 (lat, lon) in degrees.
    pub fn inverse(&self, p: [f64; 2]) -> (f64, f64) {
        utm_inverse(p[0], p[1], self.zone, self.north)
    }
}
