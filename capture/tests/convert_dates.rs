//! `twinmint convert` (read, then write) keeps the source's creation date in the LAS header
//! instead of stamping today's, so converting the same file twice gives the same bytes.

use std::path::Path;

use capture::{CancelToken, CaptureTime, NoProgress, PointCloud, ReadOptions, Source, TimeSource};
use chrono::{NaiveDate, TimeZone, Utc};

fn load(p: &Path) -> PointCloud {
    capture::read(
        p,
        &ReadOptions::default(),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap()
}

/// What `twinmint convert IN OUT` does.
fn convert(input: &Path, output: &Path) {
    let cloud = load(input);
    capture::write(&cloud, output, &mut NoProgress, &CancelToken::new()).unwrap();
}

fn header_date(p: &Path) -> Option<NaiveDate> {
    las::Reader::from_path(p).unwrap().header().date()
}

fn cloud() -> PointCloud {
    let pts: Vec<[f64; 3]> = (0..200)
        .map(|i| {
            let t = i as f64;
            [500_000.0 + t * 0.1, 5_000_000.0 + (t * 0.7) % 9.0, 100.0]
        })
        .collect();
    PointCloud::from_absolute(&pts)
}

#[test]
fn convert_keeps_the_source_creation_date() {
    let dir = tempfile::tempdir().unwrap();
    // A LAS file created on 2019-03-04 from a scan flown on 2018-07-01 (adjusted standard GPS
    // time): the header's creation date is what a conversion must keep, not the flight date
    // and not today.
    let created = NaiveDate::from_ymd_opt(2019, 3, 4).unwrap();
    let flown = Utc.with_ymd_and_hms(2018, 7, 1, 10, 0, 0).unwrap();
    let mut c = cloud();
    let g = capture::provenance::utc_to_adjusted_gps(flown);
    c.gps_time = Some((0..c.len()).map(|i| g + i as f64 * 0.01).collect());
    c.gps_standard_time = true;
    let mut s = Source::new("survey.las", "LAS");
    s.creation_date = Some(created);
    c.provenance.sources.push(s);
    let src = dir.path().join("survey.las");
    capture::write(&c, &src, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(header_date(&src), Some(created));

    let read = load(&src);
    assert_eq!(read.provenance.sources[0].creation_date, Some(created));
    let t = read.provenance.sources[0].capture_time.as_ref().unwrap();
    assert_eq!(t.source, TimeSource::GpsTime);
    assert_eq!(t.start.date_naive(), flown.date_naive());

    for name in ["a.laz", "b.laz"] {
        convert(&src, &dir.path().join(name));
        assert_eq!(header_date(&dir.path().join(name)), Some(created), "{name}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("a.laz")).unwrap(),
        std::fs::read(dir.path().join("b.laz")).unwrap(),
        "converting the same file twice gives the same bytes"
    );
    // And through LAZ again (the date travels in provenance, not only in the first header).
    convert(&dir.path().join("a.laz"), &dir.path().join("c.las"));
    assert_eq!(header_date(&dir.path().join("c.las")), Some(created));
}

#[test]
fn without_a_creation_date_the_capture_date_or_none_not_today() {
    let dir = tempfile::tempdir().unwrap();
    // A source with a capture time but no creation date (e.g. photos, a simulator scan):
    // the capture date.
    let mut c = cloud();
    let mut s = Source::new("scan.xyz", "XYZ");
    s.capture_time = Some(CaptureTime {
        start: Utc.with_ymd_and_hms(2017, 5, 6, 12, 0, 0).unwrap(),
        end: None,
        source: TimeSource::Simulated,
    });
    c.provenance.sources.push(s);
    let p = dir.path().join("captured.las");
    capture::write(&c, &p, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(header_date(&p), NaiveDate::from_ymd_opt(2017, 5, 6));

    // A PLY knows no date at all: the LAS written from it says "unknown" (0/0), not today.
    let ply = dir.path().join("plain.ply");
    capture::write(&cloud(), &ply, &mut NoProgress, &CancelToken::new()).unwrap();
    let out = dir.path().join("plain.las");
    convert(&ply, &out);
    assert_eq!(header_date(&out), None);
}
