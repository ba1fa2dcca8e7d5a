//! Tests of `capture::photos` (src/photos.rs).
use capture::photos::*;
use capture::progress::NoProgress;
use capture::*;
use chrono::{Duration, TimeZone, Utc};
use std::path::Path;

// ---- A minimal JPEG writer for tests -------------------------------------------------

const ASCII: u16 = 2;
const BYTE: u16 = 1;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;

struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    data: Vec<u8>,
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        typ: ASCII,
        count: data.len() as u32,
        data,
    }
}
fn rationals(tag: u16, v: &[(u32, u32)]) -> Entry {
    let data = v
        .iter()
        .flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat())
        .collect();
    Entry {
        tag,
        typ: RATIONAL,
        count: v.len() as u32,
        data,
    }
}
fn long(tag: u16, v: u32) -> Entry {
    Entry {
        tag,
        typ: LONG,
        count: 1,
        data: v.to_le_bytes().to_vec(),
    }
}
fn short(tag: u16, v: u16) -> Entry {
    Entry {
        tag,
        typ: SHORT,
        count: 1,
        data: v.to_le_bytes().to_vec(),
    }
}
fn byte(tag: u16, v: &[u8]) -> Entry {
    Entry {
        tag,
        typ: BYTE,
        count: v.len() as u32,
        data: v.to_vec(),
    }
}

fn ifd_len(entries: &[Entry]) -> u32 {
    let out_of_line: usize = entries
        .iter()
        .filter(|e| e.data.len() > 4)
        .map(|e| e.data.len().div_ceil(2) * 2)
        .sum();
    (2 + 12 * entries.len() + 4 + out_of_line) as u32
}

fn write_ifd(out: &mut Vec<u8>, entries: &mut [Entry]) {
    entries.sort_by_key(|e| e.tag);
    let start = out.len();
    let mut data_at = start + 2 + 12 * entries.len() + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in entries.iter() {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.typ.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        if e.data.len() <= 4 {
            let mut v = e.data.clone();
            v.resize(4, 0);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(&(data_at as u32).to_le_bytes());
            data.extend_from_slice(&e.data);
            if e.data.len() % 2 == 1 {
                data.push(0);
            }
            data_at += e.data.len().div_ceil(2) * 2;
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    out.extend_from_slice(&data);
}

/// A little-endian TIFF with IFD0 → Exif IFD and GPS IFD (offsets from the TIFF start).
fn tiff(mut ifd0: Vec<Entry>, mut exif_ifd: Vec<Entry>, mut gps_ifd: Vec<Entry>) -> Vec<u8> {
    let has_exif = !exif_ifd.is_empty();
    let has_gps = !gps_ifd.is_empty();
    // Pointers are inline LONGs, so the IFD sizes do not depend on their values.
    let n0 = ifd0.len() + has_exif as usize + has_gps as usize;
    let len0 = ifd_len(&ifd0) + 12 * (n0 - ifd0.len()) as u32;
    let exif_at = 8 + len0;
    let gps_at = exif_at + if has_exif { ifd_len(&exif_ifd) } else { 0 };
    if has_exif {
        ifd0.push(long(0x8769, exif_at));
    }
    if has_gps {
        ifd0.push(long(0x8825, gps_at));
    }
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    write_ifd(&mut out, &mut ifd0);
    assert_eq!(out.len() as u32, exif_at);
    if has_exif {
        write_ifd(&mut out, &mut exif_ifd);
    }
    assert_eq!(out.len() as u32, gps_at);
    if has_gps {
        write_ifd(&mut out, &mut gps_ifd);
    }
    out
}

fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// An 8×8 grayscale baseline JPEG body: all-ones DQT, SOF0, one-code Huffman tables and a
/// scan of one block (DC diff 0, EOB) — a real decodable image.
fn tiny_image(out: &mut Vec<u8>) {
    let mut dqt = vec![0u8];
    dqt.extend_from_slice(&[1u8; 64]);
    segment(out, 0xDB, &dqt);
    segment(out, 0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    let mut dht = |class: u8| {
        let mut t = vec![class];
        let mut counts = [0u8; 16];
        counts[0] = 1;
        t.extend_from_slice(&counts);
        t.push(0);
        segment(out, 0xC4, &t);
    };
    dht(0x00);
    dht(0x10);
    segment(out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    out.push(0x3F); // DC "0", EOB "0", padded with ones
}

#[derive(Clone)]
struct Spec {
    make: Option<&'static str>,
    model: Option<&'static str>,
    datetime: Option<&'static str>,
    offset: Option<&'static str>,
    subsec: Option<&'static str>,
    /// (ref, [deg, min, sec] as rationals)
    lat: Option<(&'static str, [(u32, u32); 3])>,
    lon: Option<(&'static str, [(u32, u32); 3])>,
    alt: Option<(u8, (u32, u32))>,
    dims: Option<(u32, u32)>,
    focal: Option<(u32, u32)>,
    xmp: Option<String>,
    image: bool,
    exif: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            make: Some("DJI"),
            model: Some("FC6310"),
            datetime: Some("2023:06:01 14:30:05"),
            offset: Some("+02:00"),
            subsec: None,
            lat: Some(("N", [(52, 1), (31, 1), (12345, 1000)])),
            lon: Some(("E", [(13, 1), (24, 1), (365, 10)])),
            alt: Some((0, (12345, 100))),
            dims: Some((5472, 3648)),
            focal: Some((88, 10)),
            xmp: None,
            image: false,
            exif: true,
        }
    }
}

/// Latitude/longitude spec from decimal degrees (seconds to 1e-6″).
fn dms(deg: f64) -> [(u32, u32); 3] {
    let d = deg.abs();
    let whole = d.floor();
    let m = ((d - whole) * 60.0).floor();
    let s = ((d - whole) * 60.0 - m) * 60.0;
    [
        (whole as u32, 1),
        (m as u32, 1),
        ((s * 1e6).round() as u32, 1_000_000),
    ]
}

fn jpeg(spec: &Spec) -> Vec<u8> {
    let mut ifd0 = Vec::new();
    if let Some(m) = spec.make {
        ifd0.push(ascii(0x010F, m));
    }
    if let Some(m) = spec.model {
        ifd0.push(ascii(0x0110, m));
    }
    let mut ex = Vec::new();
    if let Some(d) = spec.datetime {
        ex.push(ascii(0x9003, d));
    }
    if let Some(o) = spec.offset {
        ex.push(ascii(0x9011, o));
    }
    if let Some(s) = spec.subsec {
        ex.push(ascii(0x9291, s));
    }
    if let Some((w, h)) = spec.dims {
        ex.push(long(0xA002, w));
        ex.push(long(0xA003, h));
    }
    if let Some(f) = spec.focal {
        ex.push(rationals(0x920A, &[f]));
    }
    ex.push(short(0xA405, 24));
    let mut gps = Vec::new();
    if spec.lat.is_some() || spec.lon.is_some() || spec.alt.is_some() {
        gps.push(byte(0x0000, &[2, 3, 0, 0]));
    }
    if let Some((r, v)) = spec.lat {
        gps.push(ascii(0x0001, r));
        gps.push(rationals(0x0002, &v));
    }
    if let Some((r, v)) = spec.lon {
        gps.push(ascii(0x0003, r));
        gps.push(rationals(0x0004, &v));
    }
    if let Some((r, v)) = spec.alt {
        gps.push(byte(0x0005, &[r]));
        gps.push(rationals(0x0006, &[v]));
    }
    let mut out = vec![0xFF, 0xD8];
    if spec.exif {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff(ifd0, ex, gps));
        segment(&mut out, 0xE1, &app1);
    } else {
        segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    }
    if let Some(x) = &spec.xmp {
        let mut app1 = XMP_ID.to_vec();
        app1.extend_from_slice(x.as_bytes());
        segment(&mut out, 0xE1, &app1);
    }
    if spec.image {
        tiny_image(&mut out);
    } else {
        segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

fn dji_xmp(yaw: &str, pitch: &str, roll: &str, abs_alt: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="DJI Meta Data"
xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"
drone-dji:AbsoluteAltitude="{abs_alt}"
drone-dji:RelativeAltitude="+60.10"
drone-dji:GimbalRollDegree="{roll}"
drone-dji:GimbalYawDegree="{yaw}"
drone-dji:GimbalPitchDegree="{pitch}"
drone-dji:FlightRollDegree="+1.20"
drone-dji:FlightYawDegree="-45.60"
drone-dji:FlightPitchDegree="-3.40">
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Equal up to float parsing (serde_json may be one ulp off without `float_roundtrip`).
fn assert_same_track(a: &CameraTrack, b: &CameraTrack) {
    assert_eq!(a.schema_version, b.schema_version);
    assert_eq!(a.warnings, b.warnings);
    assert_eq!(
        serde_json::to_value(&a.frame).unwrap()["kind"],
        serde_json::to_value(&b.frame).unwrap()["kind"]
    );
    assert_eq!(a.photos.len(), b.photos.len());
    for (p, q) in a.photos.iter().zip(&b.photos) {
        let mut p2 = p.clone();
        p2.lat_deg = q.lat_deg;
        p2.lon_deg = q.lon_deg;
        p2.position = q.position;
        assert_eq!(&p2, q);
        assert!(close(p.lat_deg, q.lat_deg, 1e-12) && close(p.lon_deg, q.lon_deg, 1e-12));
        for k in 0..3 {
            assert!(close(p.position[k], q.position[k], 1e-6));
        }
    }
}

// ---- read_photo ----------------------------------------------------------------------

#[test]
fn photos_reads_exif_gps_time_camera_and_dji_xmp() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        xmp: Some(dji_xmp("+12.30", "-90.00", "+0.00", "+150.25")),
        subsec: Some("25"),
        ..Spec::default()
    };
    let bytes = jpeg(&spec);
    let path = write(dir.path(), "DJI_0001.JPG", &bytes);
    let p = read_photo(&path).unwrap();
    assert_eq!(p.file, "DJI_0001.JPG");
    assert_eq!(p.sha256, capture::hash::sha256_bytes(&bytes));
    assert_eq!(p.size_bytes, bytes.len() as u64);
    assert!(
        close(p.lat_deg, 52.0 + 31.0 / 60.0 + 12.345 / 3600.0, 1e-9),
        "{}",
        p.lat_deg
    );
    assert!(
        close(p.lon_deg, 13.0 + 24.0 / 60.0 + 36.5 / 3600.0, 1e-9),
        "{}",
        p.lon_deg
    );
    // 14:30:05.25 at +02:00 is 12:30:05.25 UTC.
    let want = Utc.with_ymd_and_hms(2023, 6, 1, 12, 30, 5).unwrap() + Duration::milliseconds(250);
    assert_eq!(p.time, Some(want));
    assert!(!p.time_assumed_utc);
    // DJI's AbsoluteAltitude wins over GPSAltitude (123.45).
    assert_eq!(p.alt_m, Some(150.25));
    assert_eq!(p.alt_source, Some(AltitudeSource::DjiAbsoluteAltitude));
    assert_eq!(p.relative_alt_m, Some(60.10));
    assert_eq!(p.make.as_deref(), Some("DJI"));
    assert_eq!(p.model.as_deref(), Some("FC6310"));
    assert_eq!((p.width, p.height), (Some(5472), Some(3648)));
    assert_eq!(p.focal_length_mm, Some(8.8));
    assert_eq!(p.focal_length_35mm, Some(24.0));
    assert_eq!(
        p.gimbal,
        Some(Gimbal {
            yaw_deg: 12.3,
            pitch_deg: -90.0,
            roll_deg: 0.0
        })
    );
    assert_eq!(p.flight_yaw_deg, Some(-45.6));
}

#[test]
fn photos_south_west_below_sea_level_and_no_offset() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        lat: Some(("S", dms(33.856_159_4))),
        lon: Some(("W", dms(70.123_456_7))),
        alt: Some((1, (125, 10))),
        offset: None,
        ..Spec::default()
    };
    let path = write(dir.path(), "south.jpeg", &jpeg(&spec));
    let p = read_photo(&path).unwrap();
    assert!(close(p.lat_deg, -33.856_159_4, 1e-7), "{}", p.lat_deg);
    assert!(close(p.lon_deg, -70.123_456_7, 1e-7), "{}", p.lon_deg);
    assert_eq!(p.alt_m, Some(-12.5));
    assert_eq!(p.alt_source, Some(AltitudeSource::ExifGpsAltitude));
    assert_eq!(p.gimbal, None);
    assert_eq!(p.relative_alt_m, None);
    // No OffsetTimeOriginal: local time read as UTC, and flagged.
    assert_eq!(
        p.time,
        Some(Utc.with_ymd_and_hms(2023, 6, 1, 14, 30, 5).unwrap())
    );
    assert!(p.time_assumed_utc);
}

#[test]
fn photos_negative_offset_and_frame_size_wins() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        datetime: Some("2023:12:31 21:15:00"),
        offset: Some("-05:30"),
        image: true, // real 8×8 image; EXIF still claims 5472×3648
        ..Spec::default()
    };
    let path = write(dir.path(), "a.jpg", &jpeg(&spec));
    let p = read_photo(&path).unwrap();
    assert_eq!(
        p.time,
        Some(Utc.with_ymd_and_hms(2024, 1, 1, 2, 45, 0).unwrap())
    );
    assert_eq!((p.width, p.height), (Some(8), Some(8)));
    // Without a frame header, EXIF's size is used.
    let path = write(dir.path(), "b.jpg", &jpeg(&Spec::default()));
    assert_eq!(read_photo(&path).unwrap().width, Some(5472));
}

#[test]
fn photos_xmp_element_form_and_name_boundaries() {
    let xmp = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>
        <drone-dji:GimbalYawDegreeOffset>+99</drone-dji:GimbalYawDegreeOffset>
        <drone-dji:GimbalYawDegree>+12.30</drone-dji:GimbalYawDegree>
        <drone-dji:GimbalPitchDegree> -45.5 </drone-dji:GimbalPitchDegree>
        <drone-dji:GimbalRollDegree>0</drone-dji:GimbalRollDegree>
        </rdf:Description></x:xmpmeta>"#;
    assert_eq!(xmp_f64(xmp, "drone-dji:GimbalYawDegree"), Some(12.3));
    assert_eq!(xmp_f64(xmp, "drone-dji:GimbalPitchDegree"), Some(-45.5));
    assert_eq!(xmp_f64(xmp, "drone-dji:AbsoluteAltitude"), None);
    let attr =
        r#"<rdf:Description xdrone-dji:FlightYawDegree="1" drone-dji:FlightYawDegree = '+7.5'/>"#;
    assert_eq!(xmp_f64(attr, "drone-dji:FlightYawDegree"), Some(7.5));
    assert_eq!(xmp_f64(r#" drone-dji:X="abc""#, "drone-dji:X"), None);

    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        xmp: Some(xmp.to_string()),
        ..Spec::default()
    };
    let p = read_photo(&write(dir.path(), "e.jpg", &jpeg(&spec))).unwrap();
    assert_eq!(
        p.gimbal,
        Some(Gimbal {
            yaw_deg: 12.3,
            pitch_deg: -45.5,
            roll_deg: 0.0
        })
    );
    // No AbsoluteAltitude in this XMP: GPSAltitude is used.
    assert_eq!(p.alt_m, Some(123.45));
}

#[test]
fn photos_typed_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = write(dir.path(), "notes.jpg", b"this is not a photo\n");
    let e = read_photo(&text).unwrap_err();
    assert!(
        matches!(
            e,
            CaptureError::WrongExtension {
                claimed: "JPEG",
                actual: "text",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(photo_error_kind(&e), Some(PhotoErrorKind::NotJpeg));
    assert!(e.to_string().contains("notes.jpg"), "{e}");

    let png = write(dir.path(), "x.png", b"\x89PNG\r\n\x1a\n....");
    let e = read_photo(&png).unwrap_err();
    assert!(matches!(e, CaptureError::UnknownFormat { .. }), "{e:?}");

    let empty = write(dir.path(), "empty.jpg", b"");
    assert!(matches!(
        read_photo(&empty),
        Err(CaptureError::Empty { .. })
    ));

    let no_exif = Spec {
        exif: false,
        ..Spec::default()
    };
    let path = write(dir.path(), "noexif.jpg", &jpeg(&no_exif));
    let e = read_photo(&path).unwrap_err();
    assert!(
        matches!(
            e,
            CaptureError::Invalid {
                format: FORMAT_EXIF,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(photo_error_kind(&e), Some(PhotoErrorKind::NoExif));
    assert!(e.to_string().contains("noexif.jpg"));

    let no_gps = Spec {
        lat: None,
        lon: None,
        alt: None,
        ..Spec::default()
    };
    let path = write(dir.path(), "nogps.jpg", &jpeg(&no_gps));
    let e = read_photo(&path).unwrap_err();
    assert_eq!(photo_error_kind(&e), Some(PhotoErrorKind::NoGps), "{e:?}");
    assert!(e.to_string().contains("nogps.jpg"));

    let zero = Spec {
        lat: Some(("N", [(0, 1), (0, 1), (0, 1)])),
        lon: Some(("E", [(0, 1), (0, 1), (0, 1)])),
        ..Spec::default()
    };
    let path = write(dir.path(), "zero.jpg", &jpeg(&zero));
    let e = read_photo(&path).unwrap_err();
    assert_eq!(photo_error_kind(&e), Some(PhotoErrorKind::NoGps), "{e:?}");

    let mut truncated = jpeg(&Spec::default());
    truncated.truncate(40);
    let path = write(dir.path(), "cut.jpg", &truncated);
    let e = read_photo(&path).unwrap_err();
    assert_eq!(
        photo_error_kind(&e),
        Some(PhotoErrorKind::BrokenJpeg),
        "{e:?}"
    );

    let missing = dir.path().join("missing.jpg");
    assert!(matches!(read_photo(&missing), Err(CaptureError::Io { .. })));
}

// ---- folders and tracks --------------------------------------------------------------

/// Three geotagged photos whose name order differs from their time order, plus one without
/// GPS and one unrelated file.
fn flight(dir: &Path) -> Vec<(f64, f64, f64)> {
    let shots = [
        (
            "DJI_0003.JPG",
            "2023:06:01 10:00:20",
            52.5003,
            13.4010,
            150.0,
        ),
        (
            "DJI_0001.jpg",
            "2023:06:01 10:00:00",
            52.5000,
            13.4000,
            151.0,
        ),
        (
            "dji_0002.jpeg",
            "2023:06:01 10:00:10",
            52.5001,
            13.4005,
            152.5,
        ),
    ];
    for (name, t, lat, lon, alt) in shots {
        let spec = Spec {
            datetime: Some(t),
            offset: Some("+00:00"),
            lat: Some(("N", dms(lat))),
            lon: Some(("E", dms(lon))),
            alt: Some((0, ((alt * 100.0) as u32, 100))),
            ..Spec::default()
        };
        write(dir, name, &jpeg(&spec));
    }
    let no_gps = Spec {
        datetime: Some("2023:06:01 09:00:00"),
        lat: None,
        lon: None,
        alt: None,
        ..Spec::default()
    };
    write(dir, "DJI_0004.JPG", &jpeg(&no_gps));
    write(dir, "flight.log", b"not a photo");
    // In time order:
    vec![
        (52.5000, 13.4000, 151.0),
        (52.5001, 13.4005, 152.5),
        (52.5003, 13.4010, 150.0),
    ]
}

#[test]
fn photos_folder_to_utm_track_sorted_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let want = flight(dir.path());
    let opts = PhotoOptions {
        target_crs: Some(Crs::epsg(32633)),
        ..Default::default()
    };
    let mut events = Vec::new();
    let mut progress = |e: ProgressEvent| events.push(e);
    let track = read_folder(dir.path(), &opts, &mut progress, &CancelToken::new()).unwrap();

    assert_eq!(track.schema_version, CAMERA_TRACK_SCHEMA_VERSION);
    assert_eq!(
        track.frame,
        TrackFrame::Crs {
            crs: Crs::epsg(32633)
        }
    );
    let names: Vec<&str> = track.photos.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(names, ["DJI_0001.jpg", "dji_0002.jpeg", "DJI_0003.JPG"]);
    for (p, (lat, lon, alt)) in track.photos.iter().zip(&want) {
        assert!(close(p.lat_deg, *lat, 1e-9) && close(p.lon_deg, *lon, 1e-9));
        let (e, n) = geodesy::utm_forward(*lat, *lon, 33, true);
        assert!(close(p.position[0], e, 1e-3), "{:?} vs {e}", p.position);
        assert!(close(p.position[1], n, 1e-3), "{:?} vs {n}", p.position);
        assert_eq!(p.position[2], *alt);
        // Sanity against an absolute value: Berlin lies near E 391 km, N 5 818 km in 33N.
        assert!(close(p.position[0], 391_390.7, 200.0) && close(p.position[1], 5_817_855.0, 200.0));
    }
    // Grid distance = ground distance (from the independent ENU code) × UTM point scale.
    let (a, b) = (&track.photos[0], &track.photos[1]);
    let grid = (b.position[0] - a.position[0]).hypot(b.position[1] - a.position[1]);
    let enu =
        geodesy::EnuFrame::new(a.lat_deg, a.lon_deg, 0.0).from_geodetic(b.lat_deg, b.lon_deg, 0.0);
    let x = a.position[0] - 500_000.0;
    let k = 0.9996 * (1.0 + x * x / (2.0 * 6_381_000.0_f64.powi(2)));
    assert!(
        close(grid, enu[0].hypot(enu[1]) * k, 0.005),
        "{grid} vs {enu:?}"
    );

    assert!(
        track
            .warnings
            .iter()
            .any(|w| w.contains("DJI_0004.JPG") && w.contains("GPS")),
        "{:?}",
        track.warnings
    );
    assert!(!track.warnings.iter().any(|w| w.contains("flight.log")));
    // Progress counts every JPEG (4), ending at the total.
    let last = events.last().unwrap();
    assert_eq!((last.points, last.total_points), (4, Some(4)));
    assert_eq!(Some(last.bytes), last.total_bytes);

    // JSON round trip.
    let json = serde_json::to_string(&track).unwrap();
    assert!(json.contains(r#""kind":"crs""#), "{json}");
    let back: CameraTrack = serde_json::from_str(&json).unwrap();
    assert_same_track(&back, &track);

    // Provenance.
    let ct = capture_time(&track).unwrap();
    assert_eq!(ct.source, TimeSource::ExifDateTimeOriginal);
    assert_eq!(
        ct.start,
        Utc.with_ymd_and_hms(2023, 6, 1, 10, 0, 0).unwrap()
    );
    assert_eq!(
        ct.end,
        Some(Utc.with_ymd_and_hms(2023, 6, 1, 10, 0, 20).unwrap())
    );
    let src = to_source(&track, dir.path());
    assert_eq!(src.format, "photos");
    assert_eq!(src.device.as_deref(), Some("DJI FC6310"));
    assert_eq!(src.crs, Crs::epsg(32633));
    assert_eq!(src.images.len(), 3);
    assert_eq!(src.images[0].name, "DJI_0001.jpg");
    assert_eq!(src.images[0].width, Some(5472));
    assert_eq!(src.images[0].time, Some(ct.start));
    assert_eq!(src.capture_time, Some(ct));
    assert_eq!(
        src.size_bytes,
        track.photos.iter().map(|p| p.size_bytes).sum::<u64>()
    );
    assert_eq!(src.sha256.len(), 64);
    // Same photos, same hash; a changed photo, a different one.
    assert_eq!(to_source(&track, dir.path()).sha256, src.sha256);
    let mut other = track.clone();
    other.photos[1].sha256 = "0".repeat(64);
    assert_ne!(to_source(&other, dir.path()).sha256, src.sha256);
}

#[test]
fn photos_enu_fallback_and_lonlat() {
    let dir = tempfile::tempdir().unwrap();
    let want = flight(dir.path());
    let read = |crs: Option<Crs>| {
        read_folder(
            dir.path(),
            &PhotoOptions {
                target_crs: crs,
                ..Default::default()
            },
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap()
    };

    // No target CRS: local ENU at the first photo (in time order).
    let track = read(None);
    assert_eq!(
        track.frame,
        TrackFrame::LocalEnu {
            origin_lat_deg: track.photos[0].lat_deg,
            origin_lon_deg: track.photos[0].lon_deg,
            origin_alt_m: 151.0
        }
    );
    assert!(close(track.photos[0].lat_deg, want[0].0, 1e-9));
    assert!(track.photos[0].position.iter().all(|v| v.abs() < 1e-6));
    let p1 = track.photos[1].position;
    let frame = geodesy::EnuFrame::new(want[0].0, want[0].1, want[0].2);
    let expect = frame.from_geodetic(want[1].0, want[1].1, want[1].2);
    for k in 0..3 {
        assert!(close(p1[k], expect[k], 1e-3), "{p1:?} vs {expect:?}");
    }
    // 0.0001° north ≈ 11.13 m, 0.0005° east at 52.5° ≈ 33.9 m, 1.5 m up.
    assert!(
        close(p1[1], 11.13, 0.05) && close(p1[0], 33.94, 0.05),
        "{p1:?}"
    );
    assert!(close(p1[2], 1.5, 0.01), "{p1:?}");

    // A CRS TwinMint cannot project to: ENU too, with a warning naming it.
    let swiss = read(Some(Crs::epsg(2056)));
    assert!(matches!(swiss.frame, TrackFrame::LocalEnu { .. }));
    assert_eq!(swiss.photos[1].position, track.photos[1].position);
    assert!(
        swiss.warnings.iter().any(|w| w.contains("EPSG:2056")),
        "{:?}",
        swiss.warnings
    );
    let json = serde_json::to_string(&swiss).unwrap();
    assert!(json.contains(r#""kind":"local_enu""#), "{json}");
    assert_same_track(&serde_json::from_str::<CameraTrack>(&json).unwrap(), &swiss);

    // EPSG:4326 keeps lon/lat/alt.
    let geo = read(Some(Crs::epsg(4326)));
    let p = &geo.photos[2];
    assert_eq!(p.position, [p.lon_deg, p.lat_deg, 150.0]);
    assert!(close(p.position[0], 13.4010, 1e-9));

    // UTM 33S numbering: northing + 10 000 km.
    let south = read(Some(Crs::epsg(32733)));
    let north = read(Some(Crs::epsg(32633)));
    assert!(close(
        south.photos[0].position[1] - north.photos[0].position[1],
        10_000_000.0,
        1e-6
    ));
}

#[test]
fn photos_folder_errors_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let none = |d: &Path| {
        read_folder(
            d,
            &PhotoOptions::default(),
            &mut NoProgress,
            &CancelToken::new(),
        )
    };
    // Empty folder.
    let e = none(dir.path()).unwrap_err();
    assert!(e.to_string().contains("no *.jpg"), "{e}");
    // Only photos without GPS and a fake JPEG.
    let no_gps = Spec {
        lat: None,
        lon: None,
        alt: None,
        ..Spec::default()
    };
    write(dir.path(), "a.jpg", &jpeg(&no_gps));
    write(dir.path(), "b.JPG", b"hello");
    let e = none(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            CaptureError::Invalid {
                format: "photo folder",
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains("none of the 2"), "{msg}");
    assert!(msg.contains("a.jpg") && msg.contains("b.JPG"), "{msg}");

    // With one good photo the others are skipped with warnings.
    write(dir.path(), "c.jpg", &jpeg(&Spec::default()));
    let track = none(dir.path()).unwrap();
    assert_eq!(track.photos.len(), 1);
    assert_eq!(
        track
            .warnings
            .iter()
            .filter(|w| w.starts_with("skipped"))
            .count(),
        2
    );

    // Not a directory.
    assert!(matches!(
        none(&dir.path().join("c.jpg")),
        Err(CaptureError::Io { .. })
    ));

    // Cancelled.
    let cancel = CancelToken::new();
    cancel.cancel();
    let r = read_folder(
        dir.path(),
        &PhotoOptions::default(),
        &mut NoProgress,
        &cancel,
    );
    assert!(matches!(r, Err(CaptureError::Cancelled)));
}

#[test]
fn photos_time_warnings_and_untimed_last() {
    let dir = tempfile::tempdir().unwrap();
    let untimed = Spec {
        datetime: None,
        offset: None,
        ..Spec::default()
    };
    write(dir.path(), "a.jpg", &jpeg(&untimed));
    let local = Spec {
        offset: None,
        lat: Some(("N", dms(52.6))),
        ..Spec::default()
    };
    write(dir.path(), "b.jpg", &jpeg(&local));
    let track = read_folder(
        dir.path(),
        &PhotoOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(track.photos[0].file, "b.jpg");
    assert_eq!(track.photos[1].file, "a.jpg");
    assert_eq!(track.photos[1].time, None);
    assert!(
        track
            .warnings
            .iter()
            .any(|w| w.contains("1 of 2 photos have no OffsetTimeOriginal")),
        "{:?}",
        track.warnings
    );
    assert!(
        track
            .warnings
            .iter()
            .any(|w| w.contains("no usable DateTimeOriginal"))
    );
    // The ENU origin is the first photo in time order (b.jpg at 52.6°N).
    match track.frame {
        TrackFrame::LocalEnu { origin_lat_deg, .. } => {
            assert!(close(origin_lat_deg, 52.6, 1e-9))
        }
        f => panic!("{f:?}"),
    }
    let ct = capture_time(&track).unwrap();
    assert_eq!(ct.end, None);
}
