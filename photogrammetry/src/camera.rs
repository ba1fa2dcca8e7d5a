//! The pinhole camera with two radial distortion terms (COLMAP's `RADIAL` model), poses as
//! world-to-camera rotation plus centre, and the focal length a drone photo's metadata gives.

use serde::{Deserialize, Serialize};

use crate::linalg::{M3, V3, mulv, sub};

/// Intrinsics in working pixels (shared by the photos of one camera).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intrinsics {
    pub focal_px: f64,
    pub cx: f64,
    pub cy: f64,
    pub k1: f64,
    pub k2: f64,
}

/// A camera pose: `x_cam = rotation · (X − centre)`; camera x right, y down, z forward.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    pub rotation: M3,
    pub centre: V3,
}

/// Project world point `x` (None when behind the camera).
#[inline]
pub fn project(k: &Intrinsics, p: &Pose, x: &V3) -> Option<[f64; 2]> {
    let c = mulv(&p.rotation, &sub(x, &p.centre));
    if c[2] <= 1e-9 {
        return None;
    }
    let (u, v) = (c[0] / c[2], c[1] / c[2]);
    let r2 = u * u + v * v;
    let d = 1.0 + k.k1 * r2 + k.k2 * r2 * r2;
    Some([k.focal_px * d * u + k.cx, k.focal_px * d * v + k.cy])
}

/// Normalised, distortion-free image coordinates of working pixel `uv` (fixed-point inversion
/// of the radial model; converges in a few steps for the mild distortion of drone cameras).
pub fn undistort(k: &Intrinsics, uv: &[f64; 2]) -> [f64; 2] {
    let (xd, yd) = ((uv[0] - k.cx) / k.focal_px, (uv[1] - k.cy) / k.focal_px);
    let (mut x, mut y) = (xd, yd);
    for _ in 0..10 {
        let r2 = x * x + y * y;
        let d = 1.0 + k.k1 * r2 + k.k2 * r2 * r2;
        if d.abs() < 1e-6 {
            break;
        }
        x = xd / d;
        y = yd / d;
    }
    [x, y]
}

/// Sensor widths (mm) of common drone cameras by EXIF model, for the focal length in pixels
/// (manufacturers' specification sheets; the FC300S/FC300X are the Phantom 3's 1/2.3" sensor).
const SENSOR_WIDTH_MM: [(&str, f64); 8] = [
    ("FC300S", 6.17),
    ("FC300X", 6.17),
    ("FC330", 6.17),
    ("FC220", 6.17),
    ("FC6310", 13.2),
    ("FC6310S", 13.2),
    ("L1D-20c", 13.2),
    ("FC3170", 6.4),
];

/// Focal length in full-size pixels from EXIF: the sensor table, else the 35 mm equivalent
/// (over the 43.27 mm full-frame diagonal, against the photo's diagonal at 4:3), else a 60°
/// horizontal field of view.
pub fn focal_px(
    model: Option<&str>,
    focal_mm: Option<f64>,
    focal_35mm: Option<f64>,
    width: usize,
) -> f64 {
    let w = width as f64;
    if let (Some(m), Some(f)) = (model, focal_mm)
        && let Some((_, sw)) = SENSOR_WIDTH_MM
            .iter()
            .find(|(name, _)| m.trim().eq_ignore_ascii_case(name))
        && f > 0.0
    {
        return f / sw * w;
    }
    if let Some(f35) = focal_35mm.filter(|f| *f > 0.0) {
        // 35 mm equivalents refer to the sensor's full diagonal (4:3 for these sensors).
        let diag = w * (1.0f64 + 0.75 * 0.75).sqrt();
        return f35 / 43.27 * diag;
    }
    0.5 * w / (30f64.to_radians()).tan()
}
