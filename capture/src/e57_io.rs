//! E57 (ASTM E2807) reading: every scan, each scan's pose applied, colour and intensity, and the
//! embedded images listed in provenance.
//!
//! The whole file's page CRCs are verified before any point is decoded, so a corrupt file fails
//! with a clear error instead of yielding a partial scan.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use e57::{CartesianCoordinate, E57Reader, Projection};

use crate::cloud::PointCloud;
use crate::crs::Crs;
use crate::error::{CaptureError, Result};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::{CaptureTime, ImageInfo, Source, TimeSource, UpAxis, gps_to_utc};

fn e57_err(path: &Path, e: e57::Error) -> CaptureError {
    CaptureError::E57 {
        path: path.into(),
        source: e,
    }
}

/// Check the fixed 48-byte E57 header against the file before the e57 crate trusts it: the
/// physical length, the XML section's offset and length, and the 1024-byte page size.
fn check_header(path: &Path, file: &File, size: u64) -> Result<()> {
    use std::io::Read;
    let mut h = [0u8; 48];
    let mut f = file;
    let mut n = 0;
    while n < 48 {
        match f.read(&mut h[n..]).map_err(|e| CaptureError::io(path, e))? {
            0 => break,
            k => n += k,
        }
    }
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| CaptureError::io(path, e))?;
    if n < 48 || &h[..8] != b"ASTM-E57" {
        return Err(CaptureError::invalid(
            path,
            "E57",
            format!("header is {n} bytes or lacks the ASTM-E57 signature"),
        ));
    }
    let u = |o: usize| u64::from_le_bytes(h[o..o + 8].try_into().unwrap());
    let (physical, xml_offset, xml_len, page) = (u(16), u(24), u(32), u(40));
    if page != 1024 {
        return Err(CaptureError::invalid(
            path,
            "E57",
            format!("page size {page}, the standard's is 1024"),
        ));
    }
    if physical > size {
        return Err(CaptureError::TruncatedAt {
            path: path.into(),
            what: "the E57 header says the file ends",
            needed: physical,
            size,
        });
    }
    if xml_offset.saturating_add(xml_len) > size {
        return Err(CaptureError::TruncatedAt {
            path: path.into(),
            what: "the E57 XML section ends",
            needed: xml_offset.saturating_add(xml_len),
            size,
        });
    }
    Ok(())
}

/// Stream all scans of an E57 file as chunks in one common (pose-applied) frame.
pub fn read_chunks(
    path: &Path,
    chunk_points: usize,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
    sink: &mut dyn FnMut(PointCloud) -> Result<()>,
) -> Result<(Source, Vec<String>)> {
    let file = File::open(path).map_err(|e| CaptureError::io(path, e))?;
    let size = file
        .metadata()
        .map_err(|e| CaptureError::io(path, e))?
        .len();
    check_header(path, &file, size)?;
    let corrupt = |reason: String| CaptureError::Corrupt {
        path: path.into(),
        format: "E57",
        at: 0,
        reason,
    };
    crate::contain::contained(|| E57Reader::validate_crc(BufReader::new(file)))
        .map_err(corrupt)?
        .map_err(|e| e57_err(path, e))?;
    let mut reader = crate::contain::contained(|| E57Reader::from_file(path))
        .map_err(corrupt)?
        .map_err(|e| e57_err(path, e))?;
    let header = reader.header();
    let mut warnings = Vec::new();
    let scans = reader.pointclouds();
    let total: u64 = scans.iter().map(|s| s.records).sum();
    let crs = match reader.coordinate_metadata() {
        Some(m) if !m.trim().is_empty() => Crs::parse(m).unwrap_or_else(|_| {
            warnings.push(format!(
                "{}: coordinateMetadata {:?} is not a recognised CRS; CRS unknown",
                path.display(),
                m.chars().take(60).collect::<String>()
            ));
            Crs::default()
        }),
        _ => Crs::default(),
    };
    let mut origin: Option<[f64; 3]> = None;
    let mut done = 0u64;
    let mut loaded = 0u64;
    let mut invalid = 0u64;
    let mut start_t = f64::INFINITY;
    let mut end_t = f64::NEG_INFINITY;
    let mut devices = Vec::new();
    for (scan_no, scan) in scans.iter().enumerate() {
        if let Some(t) = &scan.acquisition_start {
            start_t = start_t.min(t.gps_time);
        }
        if let Some(t) = &scan.acquisition_end {
            end_t = end_t.max(t.gps_time);
        }
        let dev = [&scan.sensor_vendor, &scan.sensor_model, &scan.sensor_serial]
            .iter()
            .filter_map(|s| s.as_deref())
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !dev.is_empty() && !devices.contains(&dev) {
            devices.push(dev);
        }
        let has_color = scan.color_limits.is_some()
            || scan
                .prototype
                .iter()
                .any(|r| matches!(r.name, e57::RecordName::ColorRed));
        let has_intensity = scan
            .prototype
            .iter()
            .any(|r| matches!(r.name, e57::RecordName::Intensity));
        let mut iter = reader
            .pointcloud_simple(scan)
            .map_err(|e| e57_err(path, e))?;
        iter.apply_pose(true);
        iter.spherical_to_cartesian(true);
        iter.intensity_to_color(false);
        iter.normalize_intensity(true);
        iter.normalize_color(true);
        let mut xyz: Vec<[f64; 3]> = Vec::new();
        let mut inten: Vec<u16> = Vec::new();
        let mut rgb: Vec<[u16; 3]> = Vec::new();
        let mut flush = |xyz: &mut Vec<[f64; 3]>,
                         inten: &mut Vec<u16>,
                         rgb: &mut Vec<[u16; 3]>,
                         origin: &mut Option<[f64; 3]>|
         -> Result<()> {
            if xyz.is_empty() {
                return Ok(());
            }
            let o = *origin.get_or_insert_with(|| xyz[0].map(|v| v.round()));
            let mut c = PointCloud::new(o);
            c.positions = xyz
                .iter()
                .map(|p| {
                    [
                        (p[0] - o[0]) as f32,
                        (p[1] - o[1]) as f32,
                        (p[2] - o[2]) as f32,
                    ]
                })
                .collect();
            if has_intensity {
                c.intensity = Some(std::mem::take(inten));
            }
            if has_color {
                c.rgb = Some(std::mem::take(rgb));
            }
            c.crs = crs.clone();
            xyz.clear();
            inten.clear();
            rgb.clear();
            sink(c)
        };
        let scan_start = done;
        let records = scan.records;
        // A record count in the XML that disagrees with the binary section makes the e57 crate
        // read past the data ("unknown packet ID"); say what is wrong instead.
        let mismatch = |k: u64, why: String| {
            CaptureError::invalid(
                path,
                "E57",
                format!(
                    "scan {scan_no} declares {records} records but its binary data breaks after record {k} ({why}); the record count or the data is corrupt"
                ),
            )
        };
        let walked = crate::contain::contained(|| -> Result<()> {
            for p in &mut iter {
                let p = p.map_err(|e| mismatch(done - scan_start, e.to_string()))?;
                done += 1;
                match p.cartesian {
                    CartesianCoordinate::Valid { x, y, z } => {
                        xyz.push([x, y, z]);
                        let to16 = |v: f32| (v.clamp(0.0, 1.0) * 65535.0).round() as u16;
                        inten.push(p.intensity.map_or(0, to16));
                        rgb.push(
                            p.color
                                .as_ref()
                                .map_or([0; 3], |c| [to16(c.red), to16(c.green), to16(c.blue)]),
                        );
                        loaded += 1;
                    }
                    _ => invalid += 1,
                }
                if xyz.len() >= chunk_points {
                    cancel.check()?;
                    flush(&mut xyz, &mut inten, &mut rgb, &mut origin)?;
                    progress.report(ProgressEvent {
                        points: done,
                        total_points: Some(total),
                        bytes: (size as f64 * done as f64 / total.max(1) as f64) as u64,
                        total_bytes: Some(size),
                    });
                }
            }
            flush(&mut xyz, &mut inten, &mut rgb, &mut origin)
        });
        walked.map_err(|why| mismatch(done - scan_start, why))??;
    }
    if invalid > 0 {
        warnings.push(format!(
            "{}: {invalid} record(s) without a valid cartesian position (no return / direction only) skipped",
            path.display()
        ));
    }
    if loaded == 0 && total > 0 {
        return Err(CaptureError::NoPoints { path: path.into() });
    }
    progress.report(ProgressEvent {
        points: done,
        total_points: Some(total),
        bytes: size,
        total_bytes: Some(size),
    });
    let mut src = Source::new(&path.display().to_string(), "E57");
    src.format_version = Some(format!(
        "{}.{} ({} scan{})",
        header.major,
        header.minor,
        scans.len(),
        if scans.len() == 1 { "" } else { "s" }
    ));
    src.point_count = total;
    src.generating_software = reader.library_version().map(str::to_string);
    src.device = (!devices.is_empty()).then(|| devices.join("; "));
    src.capture_time = gps_to_utc(start_t).map(|start| CaptureTime {
        start,
        end: gps_to_utc(end_t),
        source: TimeSource::E57Acquisition,
    });
    src.creation_date = reader
        .creation()
        .and_then(|t| gps_to_utc(t.gps_time))
        .map(|t| t.date_naive());
    if src.capture_time.is_none()
        && let Some(t) = reader.creation()
    {
        src.capture_time = gps_to_utc(t.gps_time).map(|start| CaptureTime {
            start,
            end: None,
            source: TimeSource::E57Acquisition,
        });
    }
    src.up_axis = UpAxis::Z;
    src.up_axis_reason =
        "E57 defines Z as up (ASTM E2807 §8.4; read() confirms it; see up_axis)".into();
    src.crs = crs;
    src.images = reader
        .images()
        .iter()
        .enumerate()
        .map(|(i, im)| {
            let (kind, w, h) = match (&im.projection, &im.visual_reference) {
                (Some(Projection::Pinhole(p)), _) => (
                    "pinhole",
                    Some(p.properties.width),
                    Some(p.properties.height),
                ),
                (Some(Projection::Spherical(p)), _) => (
                    "spherical",
                    Some(p.properties.width),
                    Some(p.properties.height),
                ),
                (Some(Projection::Cylindrical(p)), _) => (
                    "cylindrical",
                    Some(p.properties.width),
                    Some(p.properties.height),
                ),
                (None, Some(v)) => (
                    "visual reference",
                    Some(v.properties.width),
                    Some(v.properties.height),
                ),
                (None, None) => ("unknown", None, None),
            };
            ImageInfo {
                name: im
                    .name
                    .clone()
                    .or_else(|| im.guid.clone())
                    .unwrap_or_else(|| format!("image {i}")),
                width: w,
                height: h,
                kind: kind.into(),
                time: im.acquisition.as_ref().and_then(|t| gps_to_utc(t.gps_time)),
            }
        })
        .collect();
    Ok((src, warnings))
}
