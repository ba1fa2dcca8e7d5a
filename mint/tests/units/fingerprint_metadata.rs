//! Tests of `mint::fingerprint::metadata` (src/fingerprint/metadata.rs).
use capture::{CaptureTime, Source};
use capture::{Crs, PointCloud, TimeSource};
use chrono::TimeZone;
use chrono::Utc;
use mint::fingerprint::metadata::*;

fn sample() -> PointCloud {
    let mut c =
        PointCloud::from_absolute(&[[500000.0, 4000000.0, 10.0], [500010.5, 4000020.25, 30.0]]);
    c.crs = Crs::epsg(32633);
    let mut s = Source::new("/data/scans/plot7.laz", "LAZ");
    s.sha256 = "ab".repeat(32);
    s.size_bytes = 1234;
    s.points_loaded = 2;
    s.device = Some("RIEGL VUX-1".into());
    s.capture_time = Some(CaptureTime {
        start: Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap(),
        end: Some(Utc.with_ymd_and_hms(2021, 6, 1, 12, 30, 0).unwrap()),
        source: TimeSource::GpsTime,
    });
    c.provenance.sources.push(s);
    c
}

#[test]
fn from_cloud_and_canonical_json() {
    let m = CaptureMetadata::from_cloud(&sample()).unwrap();
    assert_eq!(
        m.bounds_mm.unwrap().min,
        [500_000_000, 4_000_000_000, 10_000]
    );
    assert_eq!(
        m.bounds_mm.unwrap().max,
        [500_010_500, 4_000_020_250, 30_000]
    );
    assert_eq!(m.sources[0].name, "plot7.laz");
    let j = m.canonical_json().unwrap();
    assert!(
        j.starts_with(r#"{"bounds_mm":{"max":[500010500,4000020250,30000]"#),
        "{j}"
    );
    assert!(
        j.contains(r#""capture_start":"2021-06-01T12:00:00Z""#),
        "{j}"
    );
    assert!(
        j.contains(r#""crs":{"epsg":32633,"vertical_epsg":null,"wkt":null}"#),
        "{j}"
    );
    // Round trip through JSON keeps the hash.
    let back: CaptureMetadata = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back.hash().unwrap(), m.hash().unwrap());
    let mut other = m.clone();
    other.device = Some("another scanner".into());
    assert_ne!(other.hash().unwrap(), m.hash().unwrap());
    // No surveyor in the hashed JSON (it is attested on chain instead).
    assert!(!j.contains("surveyor"), "{j}");
}
