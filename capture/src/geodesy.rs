//! WGS 84 geodesy for camera tracks: transverse Mercator / UTM (forward and inverse) and the
//! geodetic ↔ ECEF ↔ local East-North-Up conversions.
//!
//! The transverse Mercator uses the Krüger series to sixth order in the third flattening `n`,
//! as given by Karney (2011), "Transverse Mercator with an accuracy of a few nanometers",
//! J. Geodesy 85(8), eqs. (7)–(11) and (35)–(36). Within a UTM zone (±3° of the central
//! meridian, and well beyond) the truncation error is far below a millimetre.
//!
//! Angles are in degrees at the API, heights in metres above the WGS 84 ellipsoid.

/// WGS 84 semi-major axis (m).
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS 84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// UTM scale factor on the central meridian.
pub const UTM_K0: f64 = 0.9996;
/// UTM false easting (m).
pub const UTM_FALSE_EASTING: f64 = 500_000.0;
/// UTM false northing in the southern hemisphere (m).
pub const UTM_FALSE_NORTHING_SOUTH: f64 = 10_000_000.0;

/// First eccentricity squared of WGS 84.
pub fn wgs84_e2() -> f64 {
    WGS84_F * (2.0 - WGS84_F)
}

/// Central meridian (degrees) of UTM zone 1…60.
pub fn utm_central_meridian(zone: u8) -> f64 {
    f64::from(zone) * 6.0 - 183.0
}

/// The standard UTM zone (1…60) of a longitude, with the Norway (32V) and Svalbard (31X–37X)
/// exceptions applied.
pub fn utm_zone_for(lat_deg: f64, lon_deg: f64) -> u8 {
    let lon = (lon_deg + 180.0).rem_euclid(360.0) - 180.0;
    let mut zone = (((lon + 180.0) / 6.0).floor() as i32 + 1).clamp(1, 60) as u8;
    if (56.0..64.0).contains(&lat_deg) && (3.0..12.0).contains(&lon) {
        zone = 32;
    }
    if (72.0..=84.0).contains(&lat_deg) {
        zone = match lon {
            l if (0.0..9.0).contains(&l) => 31,
            l if (9.0..21.0).contains(&l) => 33,
            l if (21.0..33.0).contains(&l) => 35,
            l if (33.0..42.0).contains(&l) => 37,
            _ => zone,
        };
    }
    zone
}

/// Series coefficients of the Krüger transverse Mercator for one ellipsoid.
struct Kruger {
    /// Rectifying radius A (m): the meridian arc from equator to pole is A·π/2.
    a_rect: f64,
    e: f64,
    alpha: [f64; 6],
    beta: [f64; 6],
}

impl Kruger {
    fn new(a: f64, f: f64) -> Self {
        let n = f / (2.0 - f);
        let (n2, n3) = (n * n, n * n * n);
        let (n4, n5, n6) = (n2 * n2, n2 * n3, n3 * n3);
        let a_rect = a / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0);
        let alpha = [
            n / 2.0 - 2.0 / 3.0 * n2 + 5.0 / 16.0 * n3 + 41.0 / 180.0 * n4 - 127.0 / 288.0 * n5
                + 7891.0 / 37800.0 * n6,
            13.0 / 48.0 * n2 - 3.0 / 5.0 * n3 + 557.0 / 1440.0 * n4 + 281.0 / 630.0 * n5
                - 1_983_433.0 / 1_935_360.0 * n6,
            61.0 / 240.0 * n3 - 103.0 / 140.0 * n4
                + 15061.0 / 26880.0 * n5
                + 167_603.0 / 181_440.0 * n6,
            49561.0 / 161_280.0 * n4 - 179.0 / 168.0 * n5 + 6_601_661.0 / 7_257_600.0 * n6,
            34729.0 / 80640.0 * n5 - 3_418_889.0 / 1_995_840.0 * n6,
            212_378_941.0 / 319_334_400.0 * n6,
        ];
        let beta = [
            n / 2.0 - 2.0 / 3.0 * n2 + 37.0 / 96.0 * n3 - 1.0 / 360.0 * n4 - 81.0 / 512.0 * n5
                + 96199.0 / 604_800.0 * n6,
            n2 / 48.0 + n3 / 15.0 - 437.0 / 1440.0 * n4 + 46.0 / 105.0 * n5
                - 1_118_711.0 / 3_870_720.0 * n6,
            17.0 / 480.0 * n3 - 37.0 / 840.0 * n4 - 209.0 / 4480.0 * n5 + 5569.0 / 90720.0 * n6,
            4397.0 / 161_280.0 * n4 - 11.0 / 504.0 * n5 - 830_251.0 / 7_257_600.0 * n6,
            4583.0 / 161_280.0 * n5 - 108_847.0 / 3_991_680.0 * n6,
            20_648_693.0 / 638_668_800.0 * n6,
        ];
        Kruger {
            a_rect,
            e: (f * (2.0 - f)).sqrt(),
            alpha,
            beta,
        }
    }

    fn wgs84() -> Self {
        Kruger::new(WGS84_A, WGS84_F)
    }

    /// Conformal τ' = tan χ of τ = tan φ (Karney eq. 7–9).
    fn tau_prime(&self, tau: f64) -> f64 {
        let e = self.e;
        let sigma = (e * (e * tau / tau.hypot(1.0)).atanh()).sinh();
        tau * sigma.hypot(1.0) - sigma * tau.hypot(1.0)
    }

    /// (x, y) in metres relative to the central meridian and the equator, unscaled (k0 = 1).
    fn forward(&self, lat_deg: f64, dlon_deg: f64) -> (f64, f64) {
        let phi = lat_deg.to_radians();
        let lam = dlon_deg.to_radians();
        let (xi_p, eta_p) = if lat_deg.abs() >= 90.0 {
            (std::f64::consts::FRAC_PI_2.copysign(lat_deg), 0.0)
        } else {
            let tau_p = self.tau_prime(phi.tan());
            (
                tau_p.atan2(lam.cos()),
                (lam.sin() / tau_p.hypot(lam.cos())).asinh(),
            )
        };
        let (mut xi, mut eta) = (xi_p, eta_p);
        for (j, a) in self.alpha.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
            eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
        }
        (self.a_rect * eta, self.a_rect * xi)
    }

    /// Inverse of [`Kruger::forward`]: (lat, dlon) in degrees.
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let xi = y / self.a_rect;
        let eta = x / self.a_rect;
        let (mut xi_p, mut eta_p) = (xi, eta);
        for (j, b) in self.beta.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi_p -= b * (k * xi).sin() * (k * eta).cosh();
            eta_p -= b * (k * xi).cos() * (k * eta).sinh();
        }
        let tau_p = xi_p.sin() / eta_p.sinh().hypot(xi_p.cos());
        let lam = eta_p.sinh().atan2(xi_p.cos());
        // Newton's method for τ from τ' (Karney eqs. 19–21).
        let e2 = self.e * self.e;
        let mut tau = tau_p;
        for _ in 0..8 {
            let tp = self.tau_prime(tau);
            let dtau = (tau_p - tp) / tp.hypot(1.0) * (1.0 + (1.0 - e2) * tau * tau)
                / ((1.0 - e2) * tau.hypot(1.0));
            tau += dtau;
            if dtau.abs() < 1e-15 * tau.abs().max(1.0) {
                break;
            }
        }
        (tau.atan().to_degrees(), lam.to_degrees())
    }
}

/// Transverse Mercator on WGS 84 about central meridian `lon0_deg` with scale `k0`: returns
/// (x, y) in metres, x east of the central meridian, y north of the equator (no false origin).
pub fn tm_forward(lat_deg: f64, lon_deg: f64, lon0_deg: f64, k0: f64) -> (f64, f64) {
    let dlon = wrap180(lon_deg - lon0_deg);
    let (x, y) = Kruger::wgs84().forward(lat_deg, dlon);
    (k0 * x, k0 * y)
}

/// Inverse of [`tm_forward`]: (lat, lon) in degrees.
pub fn tm_inverse(x: f64, y: f64, lon0_deg: f64, k0: f64) -> (f64, f64) {
    let (lat, dlon) = Kruger::wgs84().inverse(x / k0, y / k0);
    (lat, wrap180(lon0_deg + dlon))
}

/// WGS 84 → UTM `zone` (1…60), northern (`north = true`) or southern hemisphere numbering:
/// (easting, northing) in metres. Points outside the zone are projected about the zone's central
/// meridian all the same (the series stays sub-millimetre to several degrees beyond the edge).
pub fn utm_forward(lat_deg: f64, lon_deg: f64, zone: u8, north: bool) -> (f64, f64) {
    let (x, y) = tm_forward(lat_deg, lon_deg, utm_central_meridian(zone), UTM_K0);
    let false_northing = if north { 0.0 } else { UTM_FALSE_NORTHING_SOUTH };
    (UTM_FALSE_EASTING + x, false_northing + y)
}

/// UTM → WGS 84 (lat, lon) in degrees; inverse of [`utm_forward`].
pub fn utm_inverse(easting: f64, northing: f64, zone: u8, north: bool) -> (f64, f64) {
    let false_northing = if north { 0.0 } else { UTM_FALSE_NORTHING_SOUTH };
    tm_inverse(
        easting - UTM_FALSE_EASTING,
        northing - false_northing,
        utm_central_meridian(zone),
        UTM_K0,
    )
}

/// WGS 84 geodetic (lat, lon in degrees, ellipsoidal height in m) → Earth-centred Earth-fixed
/// X, Y, Z (m).
pub fn geodetic_to_ecef(lat_deg: f64, lon_deg: f64, h_m: f64) -> [f64; 3] {
    let e2 = wgs84_e2();
    let (sp, cp) = lat_deg.to_radians().sin_cos();
    let (sl, cl) = lon_deg.to_radians().sin_cos();
    let n = WGS84_A / (1.0 - e2 * sp * sp).sqrt();
    [
        (n + h_m) * cp * cl,
        (n + h_m) * cp * sl,
        (n * (1.0 - e2) + h_m) * sp,
    ]
}

/// ECEF → WGS 84 geodetic (lat, lon in degrees, height in m), by Bowring's initial value and
/// fixed-point refinement (sub-millimetre for points near the Earth's surface).
pub fn ecef_to_geodetic(p: [f64; 3]) -> (f64, f64, f64) {
    let e2 = wgs84_e2();
    let [x, y, z] = p;
    let lon = y.atan2(x);
    let r = x.hypot(y);
    let b = WGS84_A * (1.0 - WGS84_F);
    let ep2 = e2 / (1.0 - e2);
    // Bowring's parametric-latitude start.
    let beta = (WGS84_A * z).atan2(b * r);
    let mut lat = (z + ep2 * b * beta.sin().powi(3)).atan2(r - e2 * WGS84_A * beta.cos().powi(3));
    let mut h = 0.0;
    for _ in 0..5 {
        let s = lat.sin();
        let n = WGS84_A / (1.0 - e2 * s * s).sqrt();
        h = if lat.cos().abs() > 1e-10 {
            r / lat.cos() - n
        } else {
            z.abs() - b
        };
        lat = z.atan2(r * (1.0 - e2 * n / (n + h)));
    }
    (lat.to_degrees(), lon.to_degrees(), h)
}

/// A local East-North-Up tangent frame at a WGS 84 origin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnuFrame {
    pub origin_lat_deg: f64,
    pub origin_lon_deg: f64,
    pub origin_h_m: f64,
    origin_ecef: [f64; 3],
    /// Rows: unit east, north, up in ECEF.
    rot: [[f64; 3]; 3],
}

impl EnuFrame {
    pub fn new(origin_lat_deg: f64, origin_lon_deg: f64, origin_h_m: f64) -> Self {
        let (sp, cp) = origin_lat_deg.to_radians().sin_cos();
        let (sl, cl) = origin_lon_deg.to_radians().sin_cos();
        EnuFrame {
            origin_lat_deg,
            origin_lon_deg,
            origin_h_m,
            origin_ecef: geodetic_to_ecef(origin_lat_deg, origin_lon_deg, origin_h_m),
            rot: [
                [-sl, cl, 0.0],
                [-sp * cl, -sp * sl, cp],
                [cp * cl, cp * sl, sp],
            ],
        }
    }

    /// ECEF → (east, north, up) in metres.
    pub fn from_ecef(&self, p: [f64; 3]) -> [f64; 3] {
        let d = [
            p[0] - self.origin_ecef[0],
            p[1] - self.origin_ecef[1],
            p[2] - self.origin_ecef[2],
        ];
        let r = &self.rot;
        [0, 1, 2].map(|i| r[i][0] * d[0] + r[i][1] * d[1] + r[i][2] * d[2])
    }

    /// (east, north, up) → ECEF.
    pub fn to_ecef(&self, enu: [f64; 3]) -> [f64; 3] {
        let r = &self.rot;
        [0, 1, 2]
            .map(|j| self.origin_ecef[j] + r[0][j] * enu[0] + r[1][j] * enu[1] + r[2][j] * enu[2])
    }

    /// WGS 84 geodetic → (east, north, up) in metres.
    pub fn from_geodetic(&self, lat_deg: f64, lon_deg: f64, h_m: f64) -> [f64; 3] {
        self.from_ecef(geodetic_to_ecef(lat_deg, lon_deg, h_m))
    }

    /// (east, north, up) → WGS 84 geodetic (lat, lon, h).
    pub fn to_geodetic(&self, enu: [f64; 3]) -> (f64, f64, f64) {
        ecef_to_geodetic(self.to_ecef(enu))
    }
}

#[doc(hidden)]
pub fn wrap180(d: f64) -> f64 {
    let w = (d + 180.0).rem_euclid(360.0) - 180.0;
    if w == -180.0 && d > 0.0 { 180.0 } else { w }
}
