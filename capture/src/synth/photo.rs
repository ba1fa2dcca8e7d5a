//! Drone photos of a simulated scene, with exact truth: a serpentine flight over the plot at a
//! given height and overlap, each photo rendered by casting the simulator's rays through a
//! pinhole camera, written as a JPEG with EXIF GPS (noised by `gps_noise_m`, as a consumer
//! GNSS fix is) — so structure from motion and multi-view stereo can be scored against the
//! true poses and the true visible surface.
//!
//! Rendering: 2 × 2 supersampling; the first surface along each ray (terrain, stem, pipe, or
//! where the ray enters a crown — a photo sees the crown's outer leaves, not the laser's
//! interceptions inside) carries a view-independent procedural albedo (value noise at three
//! scales, per material), so photo-consistency holds as it does for matte real surfaces.
//! The camera is a DJI Phantom 3's (`FC300S`, 3.61 mm on a 6.17 mm-wide sensor) at the image
//! size asked for, so its EXIF focal length is what a real flight records.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::geom::{Scratch, Target, World};
use super::scene::Scene;
use crate::error::{CaptureError, Result};

/// The simulated camera's EXIF model and optics (DJI Phantom 3).
pub const CAMERA_MODEL: &str = "FC300S";
pub const FOCAL_MM: f64 = 3.61;
pub const SENSOR_WIDTH_MM: f64 = 6.17;

/// Flight and camera options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoFlightOptions {
    /// Flying height above the scene's mean terrain, metres.
    pub height_m: f64,
    pub width_px: u32,
    pub height_px: u32,
    /// Overlap along a line and between lines (fractions of the footprint).
    pub front_overlap: f64,
    pub side_overlap: f64,
    /// Camera pitch from horizontal, degrees (−90 nadir; −60 an oblique view ahead).
    pub pitch_deg: f64,
    /// A second pass over the same stations at this pitch (oblique photos beside the nadir
    /// ones, as mapping flights for façades and crowns add them).
    pub oblique_pitch_deg: Option<f64>,
    /// GPS error written into EXIF: standard deviation per axis, metres.
    pub gps_noise_m: f64,
    /// Margin of the flight inside the scene edges, metres.
    pub margin_m: f64,
    /// Every how many pixels (in x and y) a visible-surface truth point is kept (1: all).
    pub surface_stride: u32,
    pub seed: u64,
}

impl Default for PhotoFlightOptions {
    fn default() -> Self {
        PhotoFlightOptions {
            height_m: 40.0,
            width_px: 800,
            height_px: 600,
            front_overlap: 0.8,
            side_overlap: 0.7,
            pitch_deg: -90.0,
            oblique_pitch_deg: None,
            gps_noise_m: 2.0,
            margin_m: 10.0,
            surface_stride: 2,
            seed: 1,
        }
    }
}

/// One photo's truth: file, pose (`x_cam = rotation · (X − centre)`, camera x right, y down,
/// z forward) in the scene's CRS, and what its EXIF says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrueCamera {
    pub file: String,
    pub rotation: [[f64; 3]; 3],
    pub centre: [f64; 3],
    pub gps_written: [f64; 3],
}

/// The flight's truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoTruth {
    pub crs_epsg: u32,
    pub focal_px: f64,
    pub width_px: u32,
    pub height_px: u32,
    pub cameras: Vec<TrueCamera>,
    /// Points of the visible surface: the first hit of the centre ray of every
    /// `surface_stride`-th pixel (in x and y) in every photo (absolute coordinates).
    pub surface: Vec<[f64; 3]>,
}

fn hash3(x: i64, y: i64, z: i64, salt: u64) -> f64 {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ (z as u64).wrapping_mul(0x1656_67B1_9E37_79F9)
        ^ salt;
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Trilinear value noise in [0, 1) at `p / scale`.
fn noise(p: [f64; 3], scale: f64, salt: u64) -> f64 {
    let q = [p[0] / scale, p[1] / scale, p[2] / scale];
    let f = q.map(f64::floor);
    let t = [q[0] - f[0], q[1] - f[1], q[2] - f[2]].map(|v| v * v * (3.0 - 2.0 * v));
    let (x, y, z) = (f[0] as i64, f[1] as i64, f[2] as i64);
    let mut acc = 0.0;
    for (dz, wz) in [(0, 1.0 - t[2]), (1, t[2])] {
        for (dy, wy) in [(0, 1.0 - t[1]), (1, t[1])] {
            for (dx, wx) in [(0, 1.0 - t[0]), (1, t[0])] {
                acc += wx * wy * wz * hash3(x + dx, y + dy, z + dz, salt);
            }
        }
    }
    acc
}

/// Albedo of a surface point (local coordinates) by material.
fn albedo(target: Target, p: [f64; 3]) -> [f64; 3] {
    let fbm = |salt: u64| {
        0.5 * noise(p, 0.08, salt) + 0.3 * noise(p, 0.35, salt + 1) + 0.2 * noise(p, 1.5, salt + 2)
    };
    let (base, amp, salt) = match target {
        Target::Terrain => ([120.0, 100.0, 72.0], 0.9, 10),
        Target::Crown(_) => ([52.0, 105.0, 44.0], 0.9, 20),
        Target::Stem(_) => ([95.0, 70.0, 50.0], 0.6, 30),
        Target::Pipe(_) | Target::Support(_) => ([150.0, 150.0, 155.0], 0.5, 40),
    };
    let v = fbm(salt);
    let k = 1.0 + amp * (v - 0.5) * 2.0;
    base.map(|c| (c * k).clamp(0.0, 255.0))
}

/// First surface along a ray (local origin `o`, unit direction `d`): distance and material.
fn first_surface(
    world: &World,
    o: [f64; 3],
    d: [f64; 3],
    s: &mut Scratch,
) -> Option<(f64, Target)> {
    let hit = world.trace(o, d, 0.0, 1.0e4, s);
    let mut best = hit.map(|h| (h.t, h.target));
    for span in &s.spans {
        if span.t0 > 0.0 && best.is_none_or(|b| span.t0 < b.0) {
            best = Some((span.t0, Target::Crown(span.tree)));
        }
    }
    best
}

/// Camera stations of a serpentine flight: (local centre, yaw).
fn stations(world: &World, o: &PhotoFlightOptions, focal_px: f64, z: f64) -> Vec<([f64; 3], f64)> {
    let gsd = (o.height_m) / focal_px;
    let (fw, fh) = (o.width_px as f64 * gsd, o.height_px as f64 * gsd);
    // Lines run north–south; the image's long side across the line.
    let spacing_x = (fw * (1.0 - o.side_overlap)).max(0.5);
    let spacing_y = (fh * (1.0 - o.front_overlap)).max(0.5);
    let (x0, x1) = (world.x0 + o.margin_m, world.x1 - o.margin_m);
    let (y0, y1) = (world.y0 + o.margin_m, world.y1 - o.margin_m);
    let nx = (((x1 - x0) / spacing_x).floor() as usize + 1).max(1);
    let ny = (((y1 - y0) / spacing_y).floor() as usize + 1).max(1);
    let mut out = Vec::new();
    for i in 0..nx {
        let x = x0 + (x1 - x0) * (i as f64 + 0.5) / nx as f64;
        let north = i % 2 == 0;
        for j in 0..ny {
            let jj = if north { j } else { ny - 1 - j };
            let y = y0 + (y1 - y0) * (jj as f64 + 0.5) / ny as f64;
            out.push(([x, y, z], if north { 0.0 } else { 180.0 }));
        }
    }
    out
}

/// Render the flight over `scene` into `dir` (created; `photo_NNN.jpg` and nothing else), and
/// return the truth.
pub fn render_flight(scene: &Scene, o: &PhotoFlightOptions, dir: &Path) -> Result<PhotoTruth> {
    if !(o.height_m > 1.0
        && o.width_px >= 64
        && o.height_px >= 64
        && o.width_px <= 8000
        && o.height_px <= 8000)
    {
        return Err(CaptureError::InvalidOption {
            option: "photo flight",
            reason: "height above 1 m and images of 64–8000 px a side".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| CaptureError::io(dir, e))?;
    let world = World::new(scene);
    let c = scene.centre;
    let focal_px = FOCAL_MM / SENSOR_WIDTH_MM * o.width_px as f64;
    let z = scene.centre[2] + o.height_m - c[2];
    let nadir = stations(&world, o, focal_px, z);
    let mut plan: Vec<([f64; 3], f64, f64)> =
        nadir.iter().map(|&(c, y)| (c, y, o.pitch_deg)).collect();
    if let Some(p) = o.oblique_pitch_deg {
        plan.extend(nadir.iter().map(|&(c, y)| (c, y, p)));
    }
    let zone = crate::Crs::epsg(scene.options.crs_epsg)
        .utm_zone()
        .ok_or_else(|| CaptureError::InvalidOption {
            option: "crs_epsg",
            reason: format!(
                "EPSG:{}: photos need a WGS 84 / UTM scene",
                scene.options.crs_epsg
            ),
        })?;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed ^ 0x9e37);
    let mut cameras = Vec::new();
    let mut surface = Vec::new();
    let (w, h) = (o.width_px as usize, o.height_px as usize);
    for (k, (centre, yaw, pitch)) in plan.iter().enumerate() {
        let r = crate::photos::Gimbal {
            yaw_deg: *yaw,
            pitch_deg: *pitch,
            roll_deg: 0.0,
        }
        .world_to_camera();
        // Ray directions (world) through sub-pixel (u, v).
        let dir_of = |u: f64, v: f64| {
            let cam = [
                (u - w as f64 / 2.0) / focal_px,
                (v - h as f64 / 2.0) / focal_px,
                1.0,
            ];
            let d = [
                r[0][0] * cam[0] + r[1][0] * cam[1] + r[2][0] * cam[2],
                r[0][1] * cam[0] + r[1][1] * cam[1] + r[2][1] * cam[2],
                r[0][2] * cam[0] + r[1][2] * cam[1] + r[2][2] * cam[2],
            ];
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            [d[0] / n, d[1] / n, d[2] / n]
        };
        let rows: Vec<(Vec<u8>, Vec<[f64; 3]>)> = (0..h)
            .into_par_iter()
            .map_init(
                || Scratch::new(&world),
                |s, v| {
                    let mut row = vec![0u8; w * 3];
                    let mut pts = Vec::new();
                    for u in 0..w {
                        let mut acc = [0.0; 3];
                        for (su, sv) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                            let d = dir_of(u as f64 + su, v as f64 + sv);
                            let col = match first_surface(&world, *centre, d, s) {
                                Some((t, m)) => albedo(
                                    m,
                                    [
                                        centre[0] + t * d[0],
                                        centre[1] + t * d[1],
                                        centre[2] + t * d[2],
                                    ],
                                ),
                                None => [200.0, 210.0, 225.0],
                            };
                            for a in 0..3 {
                                acc[a] += col[a] / 4.0;
                            }
                        }
                        for a in 0..3 {
                            row[u * 3 + a] = acc[a].round() as u8;
                        }
                        let k = o.surface_stride.max(1) as usize;
                        if u % k == 0 && v % k == 0 {
                            let d = dir_of(u as f64 + 0.5, v as f64 + 0.5);
                            if let Some((t, _)) = first_surface(&world, *centre, d, s) {
                                pts.push([
                                    centre[0] + t * d[0] + c[0],
                                    centre[1] + t * d[1] + c[1],
                                    centre[2] + t * d[2] + c[2],
                                ]);
                            }
                        }
                    }
                    (row, pts)
                },
            )
            .collect();
        let mut rgb = Vec::with_capacity(w * h * 3);
        for (row, pts) in rows {
            rgb.extend_from_slice(&row);
            surface.extend(pts);
        }
        let abs = [centre[0] + c[0], centre[1] + c[1], centre[2] + c[2]];
        let noise = |rng: &mut ChaCha8Rng| super::scene::std_normal(rng) * o.gps_noise_m;
        let gps = [
            abs[0] + noise(&mut rng),
            abs[1] + noise(&mut rng),
            abs[2] + noise(&mut rng),
        ];
        let file = format!("photo_{k:03}.jpg");
        let (lat, lon) = crate::geodesy::utm_inverse(gps[0], gps[1], zone.0, zone.1);
        let exif = exif_segment(lat, lon, gps[2], o.width_px, o.height_px, k);
        let path = dir.join(&file);
        let mut bytes = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut bytes, 92);
        enc.add_app_segment(1, &exif)
            .map_err(|e| CaptureError::Write {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        enc.encode(
            &rgb,
            o.width_px as u16,
            o.height_px as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| CaptureError::Write {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        crate::atomic::write_bytes(&path, &bytes)?;
        cameras.push(TrueCamera {
            file,
            rotation: r,
            centre: abs,
            gps_written: gps,
        });
    }
    Ok(PhotoTruth {
        crs_epsg: scene.options.crs_epsg,
        focal_px,
        width_px: o.width_px,
        height_px: o.height_px,
        cameras,
        surface,
    })
}

/// One TIFF directory entry's value.
enum Val {
    Ascii(String),
    Bytes(Vec<u8>),
    Long(u32),
    Rationals(Vec<(u32, u32)>),
}

impl Val {
    fn kind_count(&self) -> (u16, u32) {
        match self {
            Val::Ascii(s) => (2, s.len() as u32 + 1),
            Val::Bytes(b) => (1, b.len() as u32),
            Val::Long(_) => (4, 1),
            Val::Rationals(r) => (5, r.len() as u32),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        match self {
            Val::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                b
            }
            Val::Bytes(b) => b.clone(),
            Val::Long(v) => v.to_le_bytes().to_vec(),
            Val::Rationals(r) => r
                .iter()
                .flat_map(|(a, b)| a.to_le_bytes().into_iter().chain(b.to_le_bytes()))
                .collect(),
        }
    }
}

/// Bytes of one IFD (entries sorted by tag) placed at `at`, its out-of-line values after it.
fn ifd(entries: &[(u16, Val)], at: u32) -> Vec<u8> {
    let head = 2 + 12 * entries.len() as u32 + 4;
    let mut data: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, v) in entries {
        let (kind, count) = v.kind_count();
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        let b = v.bytes();
        if b.len() <= 4 {
            let mut x = b.clone();
            x.resize(4, 0);
            out.extend_from_slice(&x);
        } else {
            out.extend_from_slice(&(at + head + data.len() as u32).to_le_bytes());
            data.extend_from_slice(&b);
            if data.len() % 2 == 1 {
                data.push(0);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

fn dms(v: f64) -> Vec<(u32, u32)> {
    let v = v.abs();
    let d = v.floor();
    let m = ((v - d) * 60.0).floor();
    let s = ((v - d) * 60.0 - m) * 60.0;
    vec![
        (d as u32, 1),
        (m as u32, 1),
        ((s * 10_000.0).round() as u32, 10_000),
    ]
}

/// The APP1 payload: `Exif\0\0` and a little-endian TIFF with the camera, time and GPS.
fn exif_segment(lat: f64, lon: f64, alt: f64, w: u32, h: u32, index: usize) -> Vec<u8> {
    let time = format!("2024:06:01 10:{:02}:{:02}", index / 60, index % 60);
    let exif_entries = |_: ()| {
        vec![
            (0x9003, Val::Ascii(time.clone())),
            (
                0x920A,
                Val::Rationals(vec![((FOCAL_MM * 100.0).round() as u32, 100)]),
            ),
            (0xA002, Val::Long(w)),
            (0xA003, Val::Long(h)),
        ]
    };
    let gps_entries = vec![
        (0x0000, Val::Bytes(vec![2, 3, 0, 0])),
        (
            0x0001,
            Val::Ascii(if lat >= 0.0 { "N" } else { "S" }.into()),
        ),
        (0x0002, Val::Rationals(dms(lat))),
        (
            0x0003,
            Val::Ascii(if lon >= 0.0 { "E" } else { "W" }.into()),
        ),
        (0x0004, Val::Rationals(dms(lon))),
        (0x0005, Val::Bytes(vec![if alt >= 0.0 { 0 } else { 1 }])),
        (
            0x0006,
            Val::Rationals(vec![((alt.abs() * 1000.0).round() as u32, 1000)]),
        ),
    ];
    // IFD0 with placeholder pointers to size it, then the real one.
    let ifd0_entries = |exif_at: u32, gps_at: u32| {
        vec![
            (0x010F, Val::Ascii("DJI".into())),
            (0x0110, Val::Ascii(CAMERA_MODEL.into())),
            (0x8769, Val::Long(exif_at)),
            (0x8825, Val::Long(gps_at)),
        ]
    };
    let len0 = ifd(&ifd0_entries(0, 0), 8).len() as u32;
    let exif_at = 8 + len0;
    let exif_ifd = ifd(&exif_entries(()), exif_at);
    let gps_at = exif_at + exif_ifd.len() as u32;
    let gps_ifd = ifd(&gps_entries, gps_at);
    let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
    tiff.extend(ifd(&ifd0_entries(exif_at, gps_at), 8));
    tiff.extend(exif_ifd);
    tiff.extend(gps_ifd);
    let mut out = b"Exif\0\0".to_vec();
    out.extend(tiff);
    out
}
