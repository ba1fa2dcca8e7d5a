//! Scan patterns and the pulse/echo model.
//!
//! **Echo model.** A crown is a turbid medium. Along a pulse's path inside a crown, interception
//! events form a Poisson process of rate `λ = LAD` per metre (`crown_shell_density_factor` times
//! higher in the outer shell of the crown); each event intercepts a fraction
//! `f ~ U(0.1, 0.9)` of the pulse's remaining energy. With a spherical leaf-angle distribution
//! (G = 0.5) and E\[f\] = 0.5 the expected transmitted energy over a path `L` is
//! `E[Π(1−f)] = exp(−λ·E[f]·L) = exp(−G·LAD·L)`: Beer–Lambert extinction (Monsi & Saeki 1953).
//! Stems, terrain, pipes and supports are opaque and take all remaining energy. An echo is
//! recorded when its reflected energy (energy × fraction × reflectance × cos incidence) exceeds
//! the detection threshold, and when it is at least `min_return_separation_m` behind the previous
//! recorded echo (the pulse-width dead zone of discrete-return receivers); the first
//! `max_returns` echoes are kept. Terrestrial scans keep only the first echo.
//!
//! **Noise.** Range noise is Gaussian with the configured σ, *truncated at ±3σ*, so truth
//! tolerances are hard bounds that tests can assert without flaky tails.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::geom::{Scratch, SurfaceHit, Target, World};
use super::scene::{Scene, std_normal};
use crate::error::{CaptureError, Result};

/// Airborne (drone) laser scanning: serpentine north–south flight lines, an oscillating mirror
/// sweeping a zig-zag across track.
///
/// Defaults are typical of drone LiDAR surveys (e.g. DJI Zenmuse L1/L2, RIEGL miniVUX and
/// YellowScan spec sheets: 50–300 kHz, 50–120 m AGL, 5–12 m/s, ±30–40° FOV), giving about
/// 70 pulses and ~140 points (all returns) per m² over the default one-hectare forest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AirborneOptions {
    /// Flying height above the scene's mean terrain height (default 80 m).
    pub altitude_m: f64,
    /// Ground speed (default 10 m/s).
    pub speed_m_s: f64,
    /// Pulse repetition rate (default 50 kHz). Overridden by `target_points` /
    /// `target_density_per_m2`.
    pub pulse_rate_hz: f64,
    /// Half scan angle: the mirror sweeps ±this from nadir (default 30°).
    pub scan_angle_deg: f64,
    /// Mirror oscillation frequency (full periods per second). `None` (default) picks the
    /// frequency that makes along- and across-track pulse spacing equal at nadir:
    /// `√(speed·pulse_rate / (4·swath))`.
    pub scan_frequency_hz: Option<f64>,
    /// Side overlap between adjacent swaths when `line_spacing_m` is not given (default 0.3).
    pub side_overlap: f64,
    /// Distance between flight lines; `None` (default) = swath × (1 − side_overlap).
    pub line_spacing_m: Option<f64>,
    /// Returns recorded per pulse (default 4, first-n).
    pub max_returns: u8,
    /// Minimum range separation of two recorded returns (default 0.8 m: a 5 ns pulse spans
    /// 0.75 m of range).
    pub min_return_separation_m: f64,
    /// Range noise σ (default 0.02 m, typical of drone LiDAR at 80 m).
    pub range_noise_m: f64,
    /// Full beam divergence (default 0.5 mrad): each pulse samples a random point of its
    /// footprint (4 cm across at 80 m).
    pub beam_divergence_mrad: f64,
    /// Time spent turning between lines (default 20 s); shows in GPS time.
    pub turn_time_s: f64,
    /// Wanted point density over the scene (points/m², all returns); adjusts the pulse rate.
    pub target_density_per_m2: Option<f64>,
    /// Wanted total point count; adjusts the pulse rate (takes precedence over the density).
    /// The simulator estimates returns per pulse from a pilot sample, so the result lands within
    /// a few per cent of the target.
    pub target_points: Option<u64>,
}

impl Default for AirborneOptions {
    fn default() -> Self {
        AirborneOptions {
            altitude_m: 80.0,
            speed_m_s: 10.0,
            pulse_rate_hz: 50_000.0,
            scan_angle_deg: 30.0,
            scan_frequency_hz: None,
            side_overlap: 0.3,
            line_spacing_m: None,
            max_returns: 4,
            min_return_separation_m: 0.8,
            range_noise_m: 0.02,
            beam_divergence_mrad: 0.5,
            turn_time_s: 20.0,
            target_density_per_m2: None,
            target_points: None,
        }
    }
}

/// Terrestrial laser scanning from tripod stations: a spherical raster (azimuth × elevation),
/// first return only. Defaults follow phase/pulse TLS of the Leica RTC360 / FARO Focus class
/// (0.5 m minimum range, ~120 m useful range, mm-level noise, −60°…90° vertical field of view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TerrestrialOptions {
    /// Station positions in the scene frame (metres east/north of the scene centre); default
    /// one station at the centre.
    pub stations: Vec<[f64; 2]>,
    /// Scanner centre above ground (default 1.5 m, a tripod).
    pub instrument_height_m: f64,
    /// Angular step in azimuth and elevation (default 0.1°: ~3.5 M rays per station; 1.7 cm
    /// spacing at 10 m).
    pub angular_step_deg: f64,
    /// Elevation range (default −60° to 90°).
    pub min_elevation_deg: f64,
    pub max_elevation_deg: f64,
    /// Nearer hits are not recorded (default 0.5 m); also keeps a station that stands inside
    /// a thin stem from seeing it from the inside.
    pub min_range_m: f64,
    /// Farther hits are not recorded (default 120 m).
    pub max_range_m: f64,
    /// Range noise σ (default 0.003 m).
    pub range_noise_m: f64,
    /// Full beam divergence (default 0.3 mrad).
    pub beam_divergence_mrad: f64,
    /// Wanted total point count; adjusts the angular step.
    pub target_points: Option<u64>,
}

impl Default for TerrestrialOptions {
    fn default() -> Self {
        TerrestrialOptions {
            stations: vec![[0.0, 0.0]],
            instrument_height_m: 1.5,
            angular_step_deg: 0.1,
            min_elevation_deg: -60.0,
            max_elevation_deg: 90.0,
            min_range_m: 0.5,
            max_range_m: 120.0,
            range_noise_m: 0.003,
            beam_divergence_mrad: 0.3,
            target_points: None,
        }
    }
}

/// How the scene is scanned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanPattern {
    Airborne(AirborneOptions),
    Terrestrial(TerrestrialOptions),
}

impl Default for ScanPattern {
    fn default() -> Self {
        ScanPattern::Airborne(AirborneOptions::default())
    }
}

/// One flight line as flown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlightLine {
    /// The `point_source_id` of its points (1-based line number).
    pub point_source_id: u16,
    /// Absolute sensor positions at the first and last pulse.
    pub start: [f64; 3],
    pub end: [f64; 3],
    /// Adjusted standard GPS time of the first and last pulse.
    pub gps_time_start: f64,
    pub gps_time_end: f64,
}

/// One TLS station as set up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StationTruth {
    /// The `point_source_id` of its points (1-based station number).
    pub point_source_id: u16,
    /// Absolute scanner centre.
    pub position: [f64; 3],
}

/// The scan as performed (effective parameters after targets were applied).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanTruth {
    /// The pattern as requested.
    pub pattern: ScanPattern,
    pub pulse_count: u64,
    pub pulses_with_returns: u64,
    pub pulse_rate_hz: Option<f64>,
    pub scan_frequency_hz: Option<f64>,
    pub swath_width_m: Option<f64>,
    pub line_spacing_m: Option<f64>,
    pub angular_step_deg: Option<f64>,
    pub flight_lines: Vec<FlightLine>,
    pub stations: Vec<StationTruth>,
    pub capture_start: DateTime<Utc>,
    pub capture_end: DateTime<Utc>,
}

// Reflectances near 1 µm (rough literature values: green leaves ~0.45, bark ~0.35, soil and
// litter ~0.3, painted steel ~0.55, concrete ~0.4).
const RHO_LEAF: f64 = 0.45;
const RHO_BARK: f64 = 0.35;
const RHO_GROUND: f64 = 0.30;
const RHO_PIPE: f64 = 0.55;
const RHO_SUPPORT: f64 = 0.40;
/// Smallest detectable echo, as a fraction of a full pulse on a perfect Lambertian reflector.
const DETECTION_THRESHOLD: f64 = 0.015;
/// Intensity counts per unit of reflected energy.
const INTENSITY_SCALE: f64 = 80_000.0;
/// Pulses per RNG block: each block draws from its own ChaCha stream, so results do not depend
/// on thread scheduling.
pub(crate) const BLOCK: u64 = 4096;

/// Per-scan echo parameters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EchoModel {
    pub max_returns: usize,
    pub min_sep: f64,
    pub noise: f64,
    pub divergence: f64,
}

/// One echo before output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Echo {
    pub t: f64,
    pub target: Target,
    pub energy: f64,
}

/// A finished point, before it is scattered into columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PointRec {
    pub pos: [f32; 3],
    pub gps: f64,
    pub target: Target,
    pub intensity: u16,
    pub scan_angle: i16,
    pub psid: u16,
    pub rn: u8,
    pub nr: u8,
    pub flags: u8,
}

/// Per-worker buffers.
pub(crate) struct Work {
    pub scratch: Scratch,
    events: Vec<(f64, u32)>,
    pub echoes: Vec<Echo>,
}

impl Work {
    pub fn new(world: &World) -> Self {
        Work {
            scratch: Scratch::new(world),
            events: Vec::with_capacity(32),
            echoes: Vec::with_capacity(8),
        }
    }
}

/// A random unit-disc offset of radius ≤ `half_angle` applied to `d` (footprint sampling).
fn jitter<R: Rng>(d: [f64; 3], half_angle: f64, rng: &mut R) -> [f64; 3] {
    if half_angle <= 0.0 {
        return d;
    }
    // Orthonormal basis (Duff et al. 2017).
    let sign = 1.0f64.copysign(d[2]);
    let a = -1.0 / (sign + d[2]);
    let b = d[0] * d[1] * a;
    let e1 = [1.0 + sign * d[0] * d[0] * a, sign * b, -sign * d[0]];
    let e2 = [b, sign + d[1] * d[1] * a, -d[1]];
    let r = half_angle * rng.random::<f64>().sqrt();
    let phi = 2.0 * std::f64::consts::PI * rng.random::<f64>();
    let (s, c) = phi.sin_cos();
    let v = [
        d[0] + r * (c * e1[0] + s * e2[0]),
        d[1] + r * (c * e1[1] + s * e2[1]),
        d[2] + r * (c * e1[2] + s * e2[2]),
    ];
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / n, v[1] / n, v[2] / n]
}

fn exp_sample<R: Rng>(rate: f64, rng: &mut R) -> f64 {
    -(1.0 - rng.random::<f64>()).ln() / rate
}

/// Truncated (±3σ) Gaussian noise.
fn range_noise<R: Rng>(sigma: f64, rng: &mut R) -> f64 {
    if sigma <= 0.0 {
        return 0.0;
    }
    loop {
        let z = std_normal(rng);
        if z.abs() <= 3.0 {
            return sigma * z;
        }
    }
}

/// Trace one pulse and fill `w.echoes` with its recorded echoes (in range order).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fire<R: Rng>(
    world: &World,
    o: [f64; 3],
    d: [f64; 3],
    tmin: f64,
    tmax: f64,
    m: &EchoModel,
    rng: &mut R,
    w: &mut Work,
) {
    w.echoes.clear();
    w.events.clear();
    let best: Option<SurfaceHit> = world.trace(o, d, tmin, tmax, &mut w.scratch);
    let limit = best.map_or(tmax, |b| b.t);
    for span in &w.scratch.spans {
        let (shell, core) = world.crown_lambda(span.tree);
        if shell <= 0.0 {
            continue;
        }
        // Events at the shell rate, thinned to the core rate inside the core (an exact
        // inhomogeneous Poisson process).
        let keep_core = core / shell;
        let end = span.t1.min(limit);
        let mut t = span.t0 + exp_sample(shell, rng);
        while t < end {
            if !(t > span.c0 && t < span.c1) || rng.random::<f64>() < keep_core {
                w.events.push((t, span.tree));
            }
            t += exp_sample(shell, rng);
        }
    }
    if w.events.len() > 1 {
        w.events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut energy = 1.0;
    let mut last_t = f64::NEG_INFINITY;
    for &(t, tree) in &w.events {
        let f = rng.random_range(0.1..0.9);
        let e = energy * f * RHO_LEAF;
        energy *= 1.0 - f;
        if e >= DETECTION_THRESHOLD && t - last_t >= m.min_sep {
            w.echoes.push(Echo {
                t,
                target: Target::Crown(tree),
                energy: e,
            });
            last_t = t;
            if w.echoes.len() >= m.max_returns {
                return;
            }
        }
    }
    if let Some(b) = best {
        let rho = match b.target {
            Target::Terrain => RHO_GROUND,
            Target::Stem(_) | Target::Crown(_) => RHO_BARK,
            Target::Pipe(_) => RHO_PIPE,
            Target::Support(_) => RHO_SUPPORT,
        };
        let e = energy * rho * b.cos_incidence;
        if e >= DETECTION_THRESHOLD && b.t - last_t >= m.min_sep {
            w.echoes.push(Echo {
                t: b.t,
                target: b.target,
                energy: e,
            });
        }
    }
}

/// Turn `w.echoes` into points appended to `out`.
#[allow(clippy::too_many_arguments)]
fn emit<R: Rng>(
    o: [f64; 3],
    d: [f64; 3],
    m: &EchoModel,
    gps: f64,
    scan_angle: i16,
    psid: u16,
    flags: u8,
    rng: &mut R,
    w: &Work,
    out: &mut Vec<PointRec>,
) {
    let n = w.echoes.len() as u8;
    for (k, e) in w.echoes.iter().enumerate() {
        let r = e.t + range_noise(m.noise, rng);
        let pos = [
            (o[0] + r * d[0]) as f32,
            (o[1] + r * d[1]) as f32,
            (o[2] + r * d[2]) as f32,
        ];
        let gain = 1.0 + 0.05 * std_normal(rng).clamp(-3.0, 3.0);
        let intensity = (e.energy * INTENSITY_SCALE * gain)
            .round()
            .clamp(1.0, 65535.0) as u16;
        out.push(PointRec {
            pos,
            gps,
            target: e.target,
            intensity,
            scan_angle,
            psid,
            rn: k as u8 + 1,
            nr: n,
            flags,
        });
    }
}

/// The flight plan of an airborne scan.
#[derive(Clone, Debug)]
pub(crate) struct AlsPlan {
    pub prf: f64,
    pub scan_freq: f64,
    theta_max: f64,
    speed: f64,
    altitude: f64,
    pub line_xs: Vec<f64>,
    line_len: f64,
    pub pulses_per_line: u64,
    line_period: f64,
    gps0: f64,
    pub swath: f64,
    pub spacing: f64,
    model: EchoModel,
}

/// The station plan of a terrestrial scan.
#[derive(Clone, Debug)]
pub(crate) struct TlsPlan {
    /// Local scanner centres.
    pub stations: Vec<[f64; 3]>,
    pub step: f64,
    na: u64,
    ne: u64,
    el0: f64,
    min_range: f64,
    max_range: f64,
    model: EchoModel,
}

/// A scan ready to fire pulse `i` for any `i < total()`.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    Als(AlsPlan),
    Tls(TlsPlan),
}

fn bad(option: &'static str, reason: impl Into<String>) -> CaptureError {
    CaptureError::InvalidOption {
        option,
        reason: reason.into(),
    }
}

fn finite_in(option: &'static str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(bad(option, format!("{v} is outside {lo}..={hi}")))
    }
}

impl AlsPlan {
    pub fn new(o: &AirborneOptions, world: &World, prf: f64, gps0: f64) -> Result<AlsPlan> {
        finite_in("altitude_m", o.altitude_m, 1.0, 5000.0)?;
        if o.altitude_m < world.zmax + 1.0 {
            return Err(bad(
                "altitude_m",
                format!(
                    "{} m is below the scene's highest object ({:.1} m above mean terrain)",
                    o.altitude_m, world.zmax
                ),
            ));
        }
        finite_in("speed_m_s", o.speed_m_s, 0.1, 500.0)?;
        finite_in("pulse_rate_hz", prf, 1.0, 1.0e8)?;
        finite_in("scan_angle_deg", o.scan_angle_deg, 0.01, 75.0)?;
        finite_in("side_overlap", o.side_overlap, 0.0, 0.95)?;
        finite_in("max_returns", o.max_returns as f64, 1.0, 15.0)?;
        finite_in(
            "min_return_separation_m",
            o.min_return_separation_m,
            0.0,
            100.0,
        )?;
        finite_in("range_noise_m", o.range_noise_m, 0.0, 10.0)?;
        finite_in("beam_divergence_mrad", o.beam_divergence_mrad, 0.0, 100.0)?;
        finite_in("turn_time_s", o.turn_time_s, 0.0, 1.0e5)?;
        let theta_max = o.scan_angle_deg.to_radians();
        let swath = 2.0 * o.altitude_m * theta_max.tan();
        let spacing = match o.line_spacing_m {
            Some(s) => {
                finite_in("line_spacing_m", s, 0.01, 1.0e5)?;
                s
            }
            None => swath * (1.0 - o.side_overlap),
        };
        let width = world.x1 - world.x0;
        let n = if width <= swath {
            1
        } else {
            ((width - swath) / spacing).ceil() as u64 + 1
        };
        if n > u16::MAX as u64 {
            return Err(bad(
                "line_spacing_m",
                format!("{n} flight lines exceed the 65535 point source ids"),
            ));
        }
        let line_xs = (0..n)
            .map(|k| (k as f64 - 0.5 * (n - 1) as f64) * spacing)
            .collect();
        let line_len = (world.y1 - world.y0) + 2.0;
        let pulses_per_line = (line_len / o.speed_m_s * prf).ceil().max(1.0) as u64;
        let scan_freq = match o.scan_frequency_hz {
            Some(f) => {
                finite_in("scan_frequency_hz", f, 0.1, 10_000.0)?;
                f
            }
            None => (o.speed_m_s * prf / (4.0 * swath))
                .sqrt()
                .clamp(1.0, 2000.0),
        };
        Ok(AlsPlan {
            prf,
            scan_freq,
            theta_max,
            speed: o.speed_m_s,
            altitude: o.altitude_m,
            line_xs,
            line_len,
            pulses_per_line,
            line_period: line_len / o.speed_m_s + o.turn_time_s,
            gps0,
            swath,
            spacing,
            model: EchoModel {
                max_returns: o.max_returns as usize,
                min_sep: o.min_return_separation_m,
                noise: o.range_noise_m,
                divergence: o.beam_divergence_mrad * 1e-3,
            },
        })
    }

    pub fn total(&self) -> u64 {
        self.line_xs.len() as u64 * self.pulses_per_line
    }

    /// Mirror phase in [0, 1): 0.25 at the line start (nadir, sweeping right).
    fn phase(&self, tau: f64) -> f64 {
        (self.scan_freq * tau + 0.25).fract()
    }

    /// Sensor position (local) of pulse `j` of line `line`.
    pub fn sensor(&self, line: usize, j: u64) -> [f64; 3] {
        let tau = j as f64 / self.prf;
        let along = -0.5 * self.line_len + self.speed * tau;
        let y = if line.is_multiple_of(2) {
            along
        } else {
            -along
        };
        [self.line_xs[line], y, self.altitude]
    }

    pub fn gps(&self, line: usize, j: u64) -> f64 {
        self.gps0 + line as f64 * self.line_period + j as f64 / self.prf
    }

    /// Fire pulse `i`, appending its points.
    fn pulse<R: Rng>(
        &self,
        world: &World,
        i: u64,
        rng: &mut R,
        w: &mut Work,
        out: &mut Vec<PointRec>,
    ) {
        let line = (i / self.pulses_per_line) as usize;
        let j = i % self.pulses_per_line;
        let tau = j as f64 / self.prf;
        let o = self.sensor(line, j);
        let p = self.phase(tau);
        let tri = 1.0 - 4.0 * (p - 0.5).abs();
        let theta = self.theta_max * tri;
        let right = if line.is_multiple_of(2) { 1.0 } else { -1.0 };
        let d0 = [theta.sin() * right, 0.0, -theta.cos()];
        let d = jitter(d0, 0.5 * self.model.divergence, rng);
        fire(world, o, d, 0.0, f64::INFINITY, &self.model, rng, w);
        if w.echoes.is_empty() {
            return;
        }
        let increasing = p < 0.5;
        let p_next = self.phase(tau + 1.0 / self.prf);
        let edge = increasing != (p_next < 0.5);
        let flags = ((increasing as u8) << 6) | ((edge as u8) << 7);
        let angle = (theta.to_degrees() / 0.006).round() as i16;
        let gps = self.gps(line, j);
        emit(
            o,
            d,
            &self.model,
            gps,
            angle,
            line as u16 + 1,
            flags,
            rng,
            w,
            out,
        );
    }
}

impl TlsPlan {
    pub fn new(o: &TerrestrialOptions, world: &World, step_deg: f64) -> Result<TlsPlan> {
        finite_in("angular_step_deg", step_deg, 0.001, 45.0)?;
        finite_in("instrument_height_m", o.instrument_height_m, 0.0, 1000.0)?;
        finite_in("min_elevation_deg", o.min_elevation_deg, -90.0, 90.0)?;
        finite_in(
            "max_elevation_deg",
            o.max_elevation_deg,
            o.min_elevation_deg,
            90.0,
        )?;
        finite_in("min_range_m", o.min_range_m, 0.0, 1000.0)?;
        finite_in("max_range_m", o.max_range_m, o.min_range_m, 1.0e5)?;
        finite_in("range_noise_m", o.range_noise_m, 0.0, 10.0)?;
        finite_in("beam_divergence_mrad", o.beam_divergence_mrad, 0.0, 100.0)?;
        if o.stations.is_empty() || o.stations.len() > u16::MAX as usize {
            return Err(bad("stations", "between 1 and 65535 stations"));
        }
        let mut stations = Vec::with_capacity(o.stations.len());
        for s in &o.stations {
            if !(s[0].is_finite()
                && s[1].is_finite()
                && s[0] >= world.x0
                && s[0] <= world.x1
                && s[1] >= world.y0
                && s[1] <= world.y1)
            {
                return Err(bad(
                    "stations",
                    format!("station {s:?} lies outside the scene (metres from its centre)"),
                ));
            }
            let z = world.terrain.height(s[0], s[1]) + o.instrument_height_m;
            stations.push([s[0], s[1], z]);
        }
        let na = ((360.0 / step_deg).round() as u64).max(1);
        let ne = (((o.max_elevation_deg - o.min_elevation_deg) / step_deg).floor() as u64).max(1);
        Ok(TlsPlan {
            stations,
            step: step_deg.to_radians(),
            na,
            ne,
            el0: o.min_elevation_deg.to_radians(),
            min_range: o.min_range_m.max(1e-6),
            max_range: o.max_range_m,
            model: EchoModel {
                max_returns: 1,
                min_sep: 0.0,
                noise: o.range_noise_m,
                divergence: o.beam_divergence_mrad * 1e-3,
            },
        })
    }

    pub fn total(&self) -> u64 {
        self.stations.len() as u64 * self.na * self.ne
    }

    fn pulse<R: Rng>(
        &self,
        world: &World,
        i: u64,
        rng: &mut R,
        w: &mut Work,
        out: &mut Vec<PointRec>,
    ) {
        let per = self.na * self.ne;
        let s = (i / per) as usize;
        let r = i % per;
        let az = (r / self.ne) as f64 * self.step;
        let el = self.el0 + (r % self.ne) as f64 * self.step;
        let (se, ce) = el.sin_cos();
        let (sa, ca) = az.sin_cos();
        let d = jitter([ce * ca, ce * sa, se], 0.5 * self.model.divergence, rng);
        let o = self.stations[s];
        fire(
            world,
            o,
            d,
            self.min_range,
            self.max_range,
            &self.model,
            rng,
            w,
        );
        if !w.echoes.is_empty() {
            emit(o, d, &self.model, 0.0, 0, s as u16 + 1, 0, rng, w, out);
        }
    }
}

impl Plan {
    pub fn total(&self) -> u64 {
        match self {
            Plan::Als(p) => p.total(),
            Plan::Tls(p) => p.total(),
        }
    }

    pub fn pulse<R: Rng>(
        &self,
        world: &World,
        i: u64,
        rng: &mut R,
        w: &mut Work,
        out: &mut Vec<PointRec>,
    ) {
        match self {
            Plan::Als(p) => p.pulse(world, i, rng, w, out),
            Plan::Tls(p) => p.pulse(world, i, rng, w, out),
        }
    }
}

/// The RNG of block `block` of a scan with master `seed` and purpose `salt`.
pub(crate) fn block_rng(seed: u64, salt: u64, block: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(block);
    rng
}

/// Mean points per pulse over a stratified sample of `samples` pulses.
pub(crate) fn pilot(world: &World, plan: &Plan, seed: u64, samples: u64) -> f64 {
    use rayon::prelude::*;
    let total = plan.total();
    let n = samples.min(total).max(1);
    let blocks = n.div_ceil(1024);
    let points: u64 = (0..blocks)
        .into_par_iter()
        .map_init(
            || (Work::new(world), Vec::new()),
            |(w, out), b| {
                let mut rng = block_rng(seed, 0xA_1107, b);
                out.clear();
                for k in b * 1024..((b + 1) * 1024).min(n) {
                    let i = (((k as f64 + 0.5) / n as f64) * total as f64) as u64;
                    plan.pulse(world, i.min(total - 1), &mut rng, w, out);
                }
                out.len() as u64
            },
        )
        .sum();
    points as f64 / n as f64
}

/// Build the plan for `scan`, applying point-count targets through pilot runs.
pub(crate) fn make_plan(
    scan: &ScanPattern,
    scene: &Scene,
    world: &World,
    seed: u64,
    gps0: f64,
) -> Result<Plan> {
    const PILOT: u64 = 20_000;
    match scan {
        ScanPattern::Airborne(o) => {
            let mut plan = AlsPlan::new(o, world, o.pulse_rate_hz, gps0)?;
            let area = scene.options.width_m * scene.options.depth_m;
            let target = match (o.target_points, o.target_density_per_m2) {
                (Some(t), _) => Some(t as f64),
                (None, Some(d)) => {
                    finite_in("target_density_per_m2", d, 1e-6, 1e6)?;
                    Some(d * area)
                }
                _ => None,
            };
            if let Some(target) = target {
                if target < 1.0 {
                    return Err(bad("target_points", "must be at least 1"));
                }
                for _ in 0..2 {
                    let per_pulse = pilot(world, &Plan::Als(plan.clone()), seed, PILOT);
                    if per_pulse <= 0.0 {
                        return Err(bad(
                            "target_points",
                            "the scan pattern returns no points from this scene",
                        ));
                    }
                    let prf = plan.prf * target / (per_pulse * plan.total() as f64);
                    plan = AlsPlan::new(o, world, prf.clamp(1.0, 1.0e8), gps0)?;
                }
            }
            Ok(Plan::Als(plan))
        }
        ScanPattern::Terrestrial(o) => {
            let mut plan = TlsPlan::new(o, world, o.angular_step_deg)?;
            if let Some(target) = o.target_points {
                if target < 1 {
                    return Err(bad("target_points", "must be at least 1"));
                }
                let mut step = o.angular_step_deg;
                for _ in 0..2 {
                    let per_ray = pilot(world, &Plan::Tls(plan.clone()), seed, PILOT);
                    if per_ray <= 0.0 {
                        return Err(bad(
                            "target_points",
                            "the stations see nothing of this scene",
                        ));
                    }
                    let est = per_ray * plan.total() as f64;
                    step = (step * (est / target as f64).sqrt()).clamp(0.001, 45.0);
                    plan = TlsPlan::new(o, world, step)?;
                }
            }
            Ok(Plan::Tls(plan))
        }
    }
}
