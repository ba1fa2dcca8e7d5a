//! Drone photo folders → camera track.
//!
//! Oblique photogrammetry arrives as a dense cloud or mesh plus the folder of JPEGs it was made
//! from. The photos' EXIF GPS (and DJI's XMP `drone-dji:*` attributes) give where each picture
//! was taken, which TwinMint shows as a camera track over the model and records as provenance.
//!
//! - [`read_photo`]: one JPEG → [`Photo`] (position, time, camera, gimbal).
//! - [`read_folder`]: every `*.jpg` / `*.jpeg` of a folder → [`CameraTrack`], photos sorted by
//!   capture time, positions in the cloud's frame ([`TrackFrame`]).
//! - [`capture_time`], [`to_source`]: the track as provenance.
//!
//! # Errors
//! Every error names the file. [`photo_error_kind`] sorts the photo-specific ones:
//! - not a JPEG: [`CaptureError::Empty`], [`CaptureError::WrongExtension`] (`claimed: "JPEG"`,
//!   for `.jpg`/`.jpeg` files) or [`CaptureError::UnknownFormat`] (other extensions);
//! - no usable EXIF: [`CaptureError::Invalid`] with `format: `[`FORMAT_EXIF`];
//! - no GPS position: [`CaptureError::Invalid`] with `format: `[`FORMAT_GPS`];
//! - broken JPEG structure: [`CaptureError::Invalid`] with `format: "JPEG"`.
//!
//! # Altitudes
//! Heights are used as the camera recorded them: DJI's `AbsoluteAltitude` when present, else
//! EXIF `GPSAltitude`. EXIF defines that as height above sea level and DJI's value is of mixed
//! pedigree; no geoid model is applied, so camera heights may sit tens of metres off a cloud whose
//! heights are orthometric. The track says so in its warnings.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use exif::{In, Tag, Value};
use serde::{Deserialize, Serialize};

use crate::crs::Crs;
use crate::error::{CaptureError, Result};
use crate::geodesy;
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::{CaptureTime, ImageInfo, Source, TimeSource, UpAxis};

/// Version of the [`CameraTrack`] JSON layout.
pub const CAMERA_TRACK_SCHEMA_VERSION: u32 = 1;

/// `format` of [`CaptureError::Invalid`] when a JPEG has no (readable) EXIF.
pub const FORMAT_EXIF: &str = "EXIF";
/// `format` of [`CaptureError::Invalid`] when a photo's EXIF has no usable GPS position.
pub const FORMAT_GPS: &str = "EXIF GPS";

/// Camera gimbal (or aircraft) attitude in degrees, as DJI records it: yaw clockwise from north,
/// pitch negative looking down (−90 = nadir), roll.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gimbal {
    pub yaw_deg: f64,
    pub pitch_deg: f64,
    pub roll_deg: f64,
}

impl Gimbal {
    /// World-to-camera rotation (rows: the camera's right, down and forward axes) in an
    /// East-North-Up world: yaw clockwise from north, pitch negative looking down (−90 nadir,
    /// image top toward the yaw), roll about the optical axis.
    pub fn world_to_camera(&self) -> [[f64; 3]; 3] {
        let (sp, cp) = self.pitch_deg.to_radians().sin_cos();
        // Camera axes in the world at yaw 0 (looking north, tilted by pitch).
        let x = [1.0, 0.0, 0.0];
        let y = [0.0, sp, -cp];
        let z = [0.0, cp, sp];
        let (sr, cr) = self.roll_deg.to_radians().sin_cos();
        let xr: [f64; 3] = std::array::from_fn(|i| cr * x[i] + sr * y[i]);
        let yr: [f64; 3] = std::array::from_fn(|i| -sr * x[i] + cr * y[i]);
        let (sy, cy) = self.yaw_deg.to_radians().sin_cos();
        let turn = |v: [f64; 3]| [v[0] * cy + v[1] * sy, -v[0] * sy + v[1] * cy, v[2]];
        [turn(xr), turn(yr), turn(z)]
    }
}

/// Where a photo's altitude came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AltitudeSource {
    /// XMP `drone-dji:AbsoluteAltitude`.
    DjiAbsoluteAltitude,
    /// EXIF `GPSAltitude` with `GPSAltitudeRef`.
    ExifGpsAltitude,
}

/// One geotagged photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    /// File name (relative to the photo folder).
    pub file: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    pub size_bytes: u64,
    /// EXIF `DateTimeOriginal` (+ `SubSecTimeOriginal`) shifted by `OffsetTimeOriginal`; without
    /// an offset the local time is taken as UTC and `time_assumed_utc` is set.
    pub time: Option<DateTime<Utc>>,
    /// The photo had no `OffsetTimeOriginal`, so `time` is its local time read as UTC.
    pub time_assumed_utc: bool,
    /// WGS 84 latitude, degrees, south negative.
    pub lat_deg: f64,
    /// WGS 84 longitude, degrees, west negative.
    pub lon_deg: f64,
    /// Camera altitude in metres (see the module docs on what it is relative to).
    pub alt_m: Option<f64>,
    pub alt_source: Option<AltitudeSource>,
    /// XMP `drone-dji:RelativeAltitude`: height above the take-off point.
    pub relative_alt_m: Option<f64>,
    pub make: Option<String>,
    pub model: Option<String>,
    /// EXIF `Software` (firmware version on drones).
    pub software: Option<String>,
    /// Pixel size: the JPEG frame header's, else EXIF `PixelXDimension`/`PixelYDimension`.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub focal_length_mm: Option<f64>,
    /// EXIF `FocalLengthIn35mmFilm`.
    pub focal_length_35mm: Option<f64>,
    /// XMP `drone-dji:GimbalYawDegree` / `GimbalPitchDegree` / `GimbalRollDegree`.
    pub gimbal: Option<Gimbal>,
    /// XMP `drone-dji:FlightYawDegree`: the aircraft's heading.
    pub flight_yaw_deg: Option<f64>,
    /// Position in the track's [`TrackFrame`]; `[0, 0, 0]` until the photo is placed in a track
    /// ([`read_folder`], [`build_track`]). A missing altitude counts as 0.
    pub position: [f64; 3],
}

/// The coordinate frame of [`Photo::position`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrackFrame {
    /// The cloud's CRS: WGS 84 / UTM (x = easting, y = northing, z = altitude) or EPSG:4326
    /// (x = longitude°, y = latitude°, z = altitude).
    Crs { crs: Crs },
    /// A local East-North-Up tangent frame (metres) at the first photo, used when no target CRS
    /// was given or it is one TwinMint cannot project to.
    LocalEnu {
        origin_lat_deg: f64,
        origin_lon_deg: f64,
        origin_alt_m: f64,
    },
}

impl TrackFrame {
    /// Position of a WGS 84 point in this frame, `None` for a CRS that is neither WGS 84 / UTM
    /// nor EPSG:4326.
    pub fn position_of(&self, lat_deg: f64, lon_deg: f64, alt_m: f64) -> Option<[f64; 3]> {
        match self {
            TrackFrame::Crs { crs } => {
                if let Some((zone, north)) = crs.utm_zone() {
                    let (e, n) = geodesy::utm_forward(lat_deg, lon_deg, zone, north);
                    Some([e, n, alt_m])
                } else if crs.epsg == Some(4326) {
                    Some([lon_deg, lat_deg, alt_m])
                } else {
                    None
                }
            }
            TrackFrame::LocalEnu {
                origin_lat_deg,
                origin_lon_deg,
                origin_alt_m,
            } => Some(
                geodesy::EnuFrame::new(*origin_lat_deg, *origin_lon_deg, *origin_alt_m)
                    .from_geodetic(lat_deg, lon_deg, alt_m),
            ),
        }
    }
}

/// The photos of a flight, in capture order, with positions in one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CameraTrack {
    pub schema_version: u32,
    pub frame: TrackFrame,
    pub photos: Vec<Photo>,
    pub warnings: Vec<String>,
    /// The cameras as structure from motion solved them, when the project's cloud was made
    /// from these photos (`twinmint ingest PHOTO_DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solved: Option<SolvedCameras>,
}

/// Solved intrinsics (one camera for the folder), in pixels of the working image, which is
/// `scale` × the photo's full size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolvedIntrinsics {
    pub focal_px: f64,
    pub cx: f64,
    pub cy: f64,
    /// Radial distortion (COLMAP's `RADIAL` model on normalised coordinates).
    pub k1: f64,
    pub k2: f64,
    pub width: usize,
    pub height: usize,
    pub scale: f64,
}

/// One photo's solved pose in the track's frame: `x_cam = rotation · (X − centre)`, camera x
/// right, y down, z forward.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolvedPose {
    pub file: String,
    pub registered: bool,
    pub rotation: [[f64; 3]; 3],
    pub centre: [f64; 3],
    /// Distance from the GPS position it started from, metres.
    pub gps_shift_m: f64,
    pub observations: usize,
    /// Mean reprojection error of its observations, working pixels.
    pub mean_error_px: f64,
}

/// The outcome of structure from motion over the track's photos.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolvedCameras {
    pub intrinsics: SolvedIntrinsics,
    pub cameras: Vec<SolvedPose>,
    pub sparse_points: usize,
    pub mean_error_px: f64,
}

/// How to read a photo folder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhotoOptions {
    /// The CRS of the cloud the track goes with. WGS 84 / UTM (EPSG:326zz/327zz) projects the
    /// photos to easting/northing and EPSG:4326 keeps lon/lat; anything else — and the default,
    /// `None` — puts them in a local East-North-Up frame at the first photo.
    pub target_crs: Option<Crs>,
    /// Without a target CRS: the WGS 84 / UTM zone the first photo lies in instead of the local
    /// frame (a cloud made from the photos themselves, which has no CRS of its own yet).
    pub own_utm_zone: bool,
}

/// The kinds of photo-specific failure, see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoErrorKind {
    NotJpeg,
    NoExif,
    NoGps,
    BrokenJpeg,
}

/// Which photo-specific failure an error from [`read_photo`] is, if any.
pub fn photo_error_kind(err: &CaptureError) -> Option<PhotoErrorKind> {
    match err {
        CaptureError::Empty { .. }
        | CaptureError::UnknownFormat { .. }
        | CaptureError::WrongExtension {
            claimed: "JPEG", ..
        } => Some(PhotoErrorKind::NotJpeg),
        CaptureError::Invalid { format, .. } => match *format {
            FORMAT_EXIF => Some(PhotoErrorKind::NoExif),
            FORMAT_GPS => Some(PhotoErrorKind::NoGps),
            "JPEG" => Some(PhotoErrorKind::BrokenJpeg),
            _ => None,
        },
        _ => None,
    }
}

/// Read one geotagged JPEG. `position` stays `[0, 0, 0]`; see [`build_track`].
pub fn read_photo(path: &Path) -> Result<Photo> {
    let (photo, notes) = read_photo_noted(path)?;
    for n in notes {
        log::warn!("{}: {n}", path.display());
    }
    Ok(photo)
}

/// Read every `*.jpg` / `*.jpeg` (any case) directly in `dir` into a camera track, sorted by
/// capture time then file name (photos without a time last). Photos that cannot be used — no
/// GPS, no EXIF, not really a JPEG — are skipped with a warning; an I/O error stops the read,
/// and so does a folder where no photo has a GPS position. Progress counts photos and bytes.
pub fn read_folder(
    dir: &Path,
    opts: &PhotoOptions,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
) -> Result<CameraTrack> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| CaptureError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| CaptureError::io(dir, e))?;
        let path = entry.path();
        if !has_jpeg_extension(&path) {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| CaptureError::io(&path, e))?;
        if meta.is_file() {
            files.push((path, meta.len()));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CaptureError::invalid(
            dir,
            "photo folder",
            "no *.jpg or *.jpeg files",
        ));
    }
    let total_bytes: u64 = files.iter().map(|(_, n)| n).sum();

    let mut photos = Vec::new();
    let mut warnings = Vec::new();
    let mut skipped = Vec::new();
    let mut bytes = 0;
    for (i, (path, size)) in files.iter().enumerate() {
        cancel.check()?;
        match read_photo_noted(path) {
            Ok((photo, notes)) => {
                warnings.extend(notes.into_iter().map(|n| format!("{}: {n}", photo.file)));
                photos.push(photo);
            }
            Err(e @ CaptureError::Io { .. }) => return Err(e),
            Err(e) => skipped.push(e.to_string()),
        }
        bytes += size;
        progress.report(ProgressEvent {
            points: i as u64 + 1,
            total_points: Some(files.len() as u64),
            bytes,
            total_bytes: Some(total_bytes),
        });
    }
    cancel.check()?;
    if photos.is_empty() {
        let mut reason = format!(
            "none of the {} JPEG files has a usable GPS position",
            files.len()
        );
        for s in skipped.iter().take(3) {
            reason.push_str("; ");
            reason.push_str(s);
        }
        return Err(CaptureError::invalid(dir, "photo folder", reason));
    }
    const LISTED: usize = 20;
    for s in skipped.iter().take(LISTED) {
        warnings.push(format!("skipped {s}"));
    }
    if skipped.len() > LISTED {
        warnings.push(format!(
            "… and {} more photos skipped",
            skipped.len() - LISTED
        ));
    }
    let mut track = build_track(photos, opts);
    warnings.append(&mut track.warnings);
    track.warnings = warnings;
    Ok(track)
}

/// Sort photos by time then name, choose the frame from `opts` and place every photo in it.
pub fn build_track(mut photos: Vec<Photo>, opts: &PhotoOptions) -> CameraTrack {
    photos.sort_by(|a, b| {
        (a.time.is_none(), a.time, &a.file).cmp(&(b.time.is_none(), b.time, &b.file))
    });
    let mut warnings = Vec::new();

    let n = photos.len();
    let assumed = photos.iter().filter(|p| p.time_assumed_utc).count();
    if assumed > 0 {
        warnings.push(format!(
            "{assumed} of {n} photos have no OffsetTimeOriginal: their DateTimeOriginal was taken \
             as UTC (cameras usually record local time, so times may be off by the time-zone \
             offset)"
        ));
    }
    let untimed = photos.iter().filter(|p| p.time.is_none()).count();
    if untimed > 0 {
        warnings.push(format!(
            "{untimed} of {n} photos have no usable DateTimeOriginal; they are ordered last, by \
             name"
        ));
    }
    let no_alt = photos.iter().filter(|p| p.alt_m.is_none()).count();
    if no_alt > 0 {
        warnings.push(format!(
            "{no_alt} of {n} photos record no altitude; their height is taken as 0 m"
        ));
    }
    let mut seen = BTreeSet::new();
    for p in &photos {
        if !seen.insert(p.sha256.as_str()) {
            warnings.push(format!(
                "{} is a byte-identical copy of another photo in the folder",
                p.file
            ));
        }
    }

    let own_zone = || {
        let p = photos.first()?;
        let zone = geodesy::utm_zone_for(p.lat_deg, p.lon_deg);
        opts.own_utm_zone.then(|| Crs::utm(zone, p.lat_deg >= 0.0))
    };
    let target = opts
        .target_crs
        .clone()
        .filter(|c| !c.is_unknown())
        .or_else(own_zone);
    let frame = match target {
        Some(crs) if crs.utm_zone().is_some() || crs.epsg == Some(4326) => {
            if let Some((zone, _)) = crs.utm_zone() {
                let cm = geodesy::utm_central_meridian(zone);
                let outside = photos
                    .iter()
                    .filter(|p| ((p.lon_deg - cm + 180.0).rem_euclid(360.0) - 180.0).abs() > 3.5)
                    .count();
                if outside > 0 {
                    warnings.push(format!(
                        "{outside} of {n} photos lie outside UTM zone {zone}; they are projected \
                         about its central meridian all the same"
                    ));
                }
            }
            warnings.push(format!(
                "photo heights are the cameras' recorded altitudes (DJI AbsoluteAltitude or EXIF \
                 GPSAltitude); no geoid model was applied, so they may not share the vertical \
                 datum of {}",
                crs.label()
            ));
            TrackFrame::Crs { crs }
        }
        other => {
            if let Some(crs) = other {
                warnings.push(format!(
                    "cannot project photo positions to {}: only WGS 84 / UTM (EPSG:326zz/327zz) \
                     and EPSG:4326 are supported; positions are in a local East-North-Up frame \
                     at the first photo",
                    crs.label()
                ));
            }
            let first = photos.first();
            TrackFrame::LocalEnu {
                origin_lat_deg: first.map_or(0.0, |p| p.lat_deg),
                origin_lon_deg: first.map_or(0.0, |p| p.lon_deg),
                origin_alt_m: first.and_then(|p| p.alt_m).unwrap_or(0.0),
            }
        }
    };
    for p in &mut photos {
        p.position = frame
            .position_of(p.lat_deg, p.lon_deg, p.alt_m.unwrap_or(0.0))
            .unwrap_or([0.0; 3]);
    }
    CameraTrack {
        solved: None,
        schema_version: CAMERA_TRACK_SCHEMA_VERSION,
        frame,
        photos,
        warnings,
    }
}

/// First and last `DateTimeOriginal` over the track's photos; `end` is `None` when all photos
/// share one instant. `None` when no photo has a time.
pub fn capture_time(track: &CameraTrack) -> Option<CaptureTime> {
    let times = track.photos.iter().filter_map(|p| p.time);
    let start = times.clone().min()?;
    let end = times.max().filter(|e| *e > start);
    Some(CaptureTime {
        start,
        end,
        source: TimeSource::ExifDateTimeOriginal,
    })
}

/// The track as a provenance [`Source`]: format `photos`, the folder as path, every photo as an
/// [`ImageInfo`]. `sha256` is the SHA-256 of the `sha256sum`-style listing
/// `"<sha256>  <file>\n"` of the photos in file-name order; `size_bytes` is their total.
pub fn to_source(track: &CameraTrack, dir: &Path) -> Source {
    let mut s = Source::new(&dir.display().to_string(), "photos");
    let mut by_name: Vec<&Photo> = track.photos.iter().collect();
    by_name.sort_by(|a, b| a.file.cmp(&b.file));
    let listing: String = by_name
        .iter()
        .map(|p| format!("{}  {}\n", p.sha256, p.file))
        .collect();
    s.sha256 = crate::hash::sha256_bytes(listing.as_bytes());
    s.size_bytes = track.photos.iter().map(|p| p.size_bytes).sum();
    s.capture_time = capture_time(track);
    s.device = join_distinct(track.photos.iter().filter_map(device_name));
    s.generating_software = join_distinct(track.photos.iter().filter_map(|p| p.software.clone()));
    s.up_axis = UpAxis::Z;
    s.up_axis_reason = "photo positions: z is the camera altitude".to_string();
    s.crs = match &track.frame {
        TrackFrame::Crs { crs } => crs.clone(),
        TrackFrame::LocalEnu { .. } => Crs::default(),
    };
    s.images = track
        .photos
        .iter()
        .map(|p| ImageInfo {
            name: p.file.clone(),
            width: p.width,
            height: p.height,
            kind: "photo".to_string(),
            time: p.time,
        })
        .collect();
    s
}

/// "DJI FC6310" from make and model (without repeating a make the model already starts with).
fn device_name(p: &Photo) -> Option<String> {
    match (&p.make, &p.model) {
        (Some(make), Some(model)) if model.starts_with(make.as_str()) => Some(model.clone()),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
        (None, None) => None,
    }
}

fn join_distinct(items: impl Iterator<Item = String>) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    (!out.is_empty()).then(|| out.join(", "))
}

fn has_jpeg_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
}

/// [`read_photo`] plus notes (odd but usable metadata) for the track's warnings.
fn read_photo_noted(path: &Path) -> Result<(Photo, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| CaptureError::io(path, e))?;
    let mut notes = Vec::new();
    if bytes.is_empty() {
        return Err(CaptureError::Empty { path: path.into() });
    }
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(if has_jpeg_extension(path) {
            CaptureError::WrongExtension {
                path: path.into(),
                claimed: "JPEG",
                actual: sniff(&bytes),
            }
        } else {
            CaptureError::UnknownFormat {
                path: path.into(),
                extension: path
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                magic: bytes
                    .iter()
                    .take(8)
                    .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
                    .collect(),
            }
        });
    }
    let segs = scan_jpeg(&bytes).map_err(|r| CaptureError::invalid(path, "JPEG", r))?;
    let exif_raw = segs.exif.ok_or_else(|| {
        CaptureError::invalid(
            path,
            FORMAT_EXIF,
            "no EXIF metadata (APP1 \"Exif\" segment)",
        )
    })?;
    let exif = match exif::Reader::new()
        .continue_on_error(true)
        .read_raw(exif_raw.to_vec())
    {
        Ok(x) => x,
        Err(e) => e
            .distill_partial_result(|errs| {
                notes.push(format!(
                    "EXIF partly unreadable ({} errors; first: {})",
                    errs.len(),
                    errs.first().map(|e| e.to_string()).unwrap_or_default()
                ))
            })
            .map_err(|e| CaptureError::invalid(path, FORMAT_EXIF, format!("corrupt EXIF: {e}")))?,
    };

    let (lat_deg, lon_deg) = gps_position(&exif, &mut notes)
        .map_err(|reason| CaptureError::invalid(path, FORMAT_GPS, reason))?;

    let xmp = segs
        .xmp
        .or_else(|| find_xmp_packet(&bytes))
        .map(|x| String::from_utf8_lossy(x).into_owned())
        .unwrap_or_default();
    let dji = |name: &str| xmp_f64(&xmp, &format!("drone-dji:{name}"));

    let exif_alt = gps_altitude(&exif);
    let (alt_m, alt_source) = match (dji("AbsoluteAltitude"), exif_alt) {
        (Some(a), _) => (Some(a), Some(AltitudeSource::DjiAbsoluteAltitude)),
        (None, Some(a)) => (Some(a), Some(AltitudeSource::ExifGpsAltitude)),
        (None, None) => (None, None),
    };
    let gimbal = match (
        dji("GimbalYawDegree"),
        dji("GimbalPitchDegree"),
        dji("GimbalRollDegree"),
    ) {
        (Some(yaw_deg), Some(pitch_deg), Some(roll_deg)) => Some(Gimbal {
            yaw_deg,
            pitch_deg,
            roll_deg,
        }),
        (None, None, None) => None,
        _ => {
            notes.push("incomplete DJI gimbal attitude (yaw/pitch/roll) ignored".to_string());
            None
        }
    };

    let (time, time_assumed_utc) = match original_time(&exif) {
        Ok(Some((t, assumed))) => (Some(t), assumed),
        Ok(None) => (None, false),
        Err(reason) => {
            notes.push(reason);
            (None, false)
        }
    };

    let (width, height) = match segs.frame_size {
        Some((w, h)) => (Some(w), Some(h)),
        None => (
            exif_uint(&exif, Tag::PixelXDimension).or_else(|| exif_uint(&exif, Tag::ImageWidth)),
            exif_uint(&exif, Tag::PixelYDimension).or_else(|| exif_uint(&exif, Tag::ImageLength)),
        ),
    };

    let photo = Photo {
        file: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string()),
        sha256: crate::hash::sha256_bytes(&bytes),
        size_bytes: bytes.len() as u64,
        time,
        time_assumed_utc,
        lat_deg,
        lon_deg,
        alt_m,
        alt_source,
        relative_alt_m: dji("RelativeAltitude"),
        make: exif_ascii(&exif, Tag::Make),
        model: exif_ascii(&exif, Tag::Model),
        software: exif_ascii(&exif, Tag::Software),
        width,
        height,
        focal_length_mm: exif_real(&exif, Tag::FocalLength).filter(|f| *f > 0.0),
        focal_length_35mm: exif_real(&exif, Tag::FocalLengthIn35mmFilm).filter(|f| *f > 0.0),
        gimbal,
        flight_yaw_deg: dji("FlightYawDegree"),
        position: [0.0; 3],
    };
    Ok((photo, notes))
}

/// What a file that should have been a JPEG is instead.
fn sniff(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"\x89PNG") {
        "PNG"
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        "TIFF (or camera raw)"
    } else if head.get(4..8) == Some(b"ftyp") {
        "HEIF/MP4"
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "WebP"
    } else if head.starts_with(b"GIF8") {
        "GIF"
    } else if std::str::from_utf8(head).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    }) {
        "text"
    } else {
        "not a JPEG (unknown binary data)"
    }
}

/// Metadata segments of a JPEG, read up to the first scan.
#[derive(Default)]
struct JpegSegments<'a> {
    exif: Option<&'a [u8]>,
    xmp: Option<&'a [u8]>,
    frame_size: Option<(u32, u32)>,
}

#[doc(hidden)]
pub const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

fn scan_jpeg(bytes: &[u8]) -> std::result::Result<JpegSegments<'_>, String> {
    let mut out = JpegSegments::default();
    let mut pos = 2;
    loop {
        if pos >= bytes.len() {
            // No SOS/EOI: truncated, but metadata found so far is still good.
            if out.exif.is_none() {
                return Err("file ends before any image data".to_string());
            }
            return Ok(out);
        }
        if bytes[pos] != 0xFF {
            return Err(format!("expected a marker at byte {pos}"));
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            continue;
        };
        pos += 1;
        match marker {
            0xD9 | 0xDA => return Ok(out),  // EOI / SOS: no metadata after this
            0x01 | 0xD0..=0xD7 => continue, // stand-alone markers
            _ => {}
        }
        let Some(len) = bytes.get(pos..pos + 2) else {
            return Err(format!("truncated segment header at byte {pos}"));
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 || pos + len > bytes.len() {
            if out.exif.is_some() {
                return Ok(out);
            }
            return Err(format!(
                "segment 0xFF{marker:02X} at byte {} runs past the end of the file",
                pos - 2
            ));
        }
        let seg = &bytes[pos + 2..pos + len];
        match marker {
            0xE1 if seg.starts_with(b"Exif\0") && out.exif.is_none() => {
                out.exif = Some(seg.get(6..).unwrap_or_default());
            }
            0xE1 if seg.starts_with(XMP_ID) && out.xmp.is_none() => {
                let packet = &seg[XMP_ID.len()..];
                out.xmp = find_xmp_packet(packet).or(Some(packet));
            }
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF if seg.len() >= 5 => {
                let h = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
                let w = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
                if w > 0 && h > 0 {
                    out.frame_size = Some((w, h));
                }
            }
            _ => {}
        }
        pos += len;
    }
}

/// The `<x:xmpmeta …>…</x:xmpmeta>` packet anywhere in `bytes`.
fn find_xmp_packet(bytes: &[u8]) -> Option<&[u8]> {
    let start = find(bytes, b"<x:xmpmeta")?;
    let end_tag = b"</x:xmpmeta>";
    let end = find(&bytes[start..], end_tag).map_or(bytes.len(), |e| start + e + end_tag.len());
    Some(&bytes[start..end])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let j = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += j;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The value of XMP property `name` (e.g. `drone-dji:GimbalYawDegree`), written as an attribute
/// (`name="…"` or `name='…'`) or as an element (`<name>…</name>`).
fn xmp_value<'a>(xmp: &'a str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = xmp[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before = xmp[..at].chars().next_back();
        let rest = &xmp[from..];
        match before {
            Some('<') => {
                // Element form: <name>value</name> (also <name attr="…">value</name>).
                let Some(gt) = rest.find('>') else { continue };
                let head = &rest[..gt];
                if !(head.is_empty() || head.starts_with(char::is_whitespace))
                    || head.ends_with('/')
                {
                    continue;
                }
                let body = &rest[gt + 1..];
                let end = body.find('<').unwrap_or(body.len());
                return Some(body[..end].trim());
            }
            Some(c) if c.is_whitespace() => {
                let r = rest.trim_start();
                let Some(r) = r.strip_prefix('=') else {
                    continue;
                };
                let r = r.trim_start();
                let Some(q) = r.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                    continue;
                };
                let r = &r[1..];
                let end = r.find(q)?;
                return Some(r[..end].trim());
            }
            _ => continue,
        }
    }
    None
}

/// A numeric XMP property, tolerating a leading `+`.
#[doc(hidden)]
pub fn xmp_f64(xmp: &str, name: &str) -> Option<f64> {
    let v = xmp_value(xmp, name)?;
    let v = v.strip_prefix('+').unwrap_or(v);
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn exif_ascii(exif: &exif::Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(v) => v
            .iter()
            .map(|s| {
                String::from_utf8_lossy(s)
                    .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_string()
            })
            .find(|s| !s.is_empty()),
        _ => None,
    }
}

fn exif_uint(exif: &exif::Exif, tag: Tag) -> Option<u32> {
    exif.get_field(tag, In::PRIMARY)?
        .value
        .get_uint(0)
        .filter(|v| *v > 0)
}

/// All values of a numeric field as `f64` (rationals with a zero denominator give NaN).
fn exif_reals(exif: &exif::Exif, tag: Tag) -> Option<Vec<f64>> {
    let v = &exif.get_field(tag, In::PRIMARY)?.value;
    let out: Vec<f64> = match v {
        Value::Rational(r) => r
            .iter()
            .map(|r| if r.denom == 0 { f64::NAN } else { r.to_f64() })
            .collect(),
        Value::SRational(r) => r
            .iter()
            .map(|r| if r.denom == 0 { f64::NAN } else { r.to_f64() })
            .collect(),
        Value::Double(d) => d.clone(),
        Value::Float(f) => f.iter().map(|&x| f64::from(x)).collect(),
        _ => v.iter_uint()?.map(f64::from).collect(),
    };
    (!out.is_empty()).then_some(out)
}

fn exif_real(exif: &exif::Exif, tag: Tag) -> Option<f64> {
    exif_reals(exif, tag)?
        .first()
        .copied()
        .filter(|x| x.is_finite())
}

/// Latitude and longitude in signed degrees, or why there is none.
fn gps_position(
    exif: &exif::Exif,
    notes: &mut Vec<String>,
) -> std::result::Result<(f64, f64), String> {
    if exif_ascii(exif, Tag::GPSStatus).is_some_and(|s| s.eq_ignore_ascii_case("V")) {
        return Err("GPSStatus is V (void): the camera had no GPS fix".to_string());
    }
    let mut angle = |tag: Tag, ref_tag: Tag, neg: char, pos: char, max: f64| {
        let parts =
            exif_reals(exif, tag).ok_or_else(|| format!("no GPS position ({tag} missing)"))?;
        let deg = parts
            .iter()
            .take(3)
            .zip([1.0, 60.0, 3600.0])
            .map(|(v, d)| v / d)
            .sum::<f64>();
        if !deg.is_finite() || deg.abs() > max {
            return Err(format!("invalid {tag} {parts:?}"));
        }
        let sign = match exif_ascii(exif, ref_tag).and_then(|r| r.chars().next()) {
            Some(c) if c.eq_ignore_ascii_case(&neg) => -1.0,
            Some(c) if c.eq_ignore_ascii_case(&pos) => 1.0,
            other => {
                notes.push(format!(
                    "{ref_tag} is {other:?}, not {pos} or {neg}; taken as {pos}"
                ));
                1.0
            }
        };
        Ok(sign * deg)
    };
    let lat = angle(Tag::GPSLatitude, Tag::GPSLatitudeRef, 'S', 'N', 90.0)?;
    let lon = angle(Tag::GPSLongitude, Tag::GPSLongitudeRef, 'W', 'E', 180.0)?;
    if lat == 0.0 && lon == 0.0 {
        return Err("GPS position is 0°, 0° (the camera had no fix)".to_string());
    }
    Ok((lat, lon))
}

/// `GPSAltitude`, negative when `GPSAltitudeRef` is 1 (below sea level).
fn gps_altitude(exif: &exif::Exif) -> Option<f64> {
    let alt = exif_real(exif, Tag::GPSAltitude)?;
    let below = exif
        .get_field(Tag::GPSAltitudeRef, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        == Some(1);
    Some(if below { -alt } else { alt })
}

/// `DateTimeOriginal` in UTC and whether its offset had to be assumed (UTC); `Ok(None)` when
/// the photo has no such field, `Err` with a note when it is malformed.
fn original_time(exif: &exif::Exif) -> std::result::Result<Option<(DateTime<Utc>, bool)>, String> {
    let Some(field) = exif.get_field(Tag::DateTimeOriginal, In::PRIMARY) else {
        return Ok(None);
    };
    let Value::Ascii(v) = &field.value else {
        return Err("DateTimeOriginal is not text; time ignored".to_string());
    };
    let Some(raw) = v.first() else {
        return Ok(None);
    };
    let mut dt = match exif::DateTime::from_ascii(raw) {
        Ok(dt) => dt,
        Err(exif::Error::BlankValue(_)) => return Ok(None),
        Err(e) => {
            return Err(format!(
                "DateTimeOriginal {:?} unreadable ({e}); time ignored",
                String::from_utf8_lossy(raw)
            ));
        }
    };
    let raw_ascii = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first(),
        _ => None,
    };
    if let Some(s) = raw_ascii(Tag::SubSecTimeOriginal) {
        let _ = dt.parse_subsec(s);
    }
    // A malformed offset leaves `dt.offset` empty: the time is then flagged as assumed UTC.
    if let Some(s) = raw_ascii(Tag::OffsetTimeOriginal) {
        let _ = dt.parse_offset(s);
    }
    let naive = NaiveDate::from_ymd_opt(i32::from(dt.year), dt.month.into(), dt.day.into())
        .and_then(|d| {
            d.and_hms_nano_opt(
                dt.hour.into(),
                dt.minute.into(),
                dt.second.into(),
                dt.nanosecond.unwrap_or(0),
            )
        })
        .ok_or_else(|| format!("DateTimeOriginal {dt} is not a valid date; time ignored"))?;
    let offset = dt.offset.map(|m| Duration::minutes(m.into()));
    let utc = Utc.from_utc_datetime(&(naive - offset.unwrap_or_else(Duration::zero)));
    Ok(Some((utc, offset.is_none())))
}
