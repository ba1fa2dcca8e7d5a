//! Tests of `capture::provenance` (src/provenance.rs).
use capture::provenance::*;
use chrono::{TimeZone, Utc};

#[test]
fn gps_time_round_trip_and_leap_seconds() {
    let t = Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap();
    let g = utc_to_adjusted_gps(t);
    assert_eq!(adjusted_gps_to_utc(g).unwrap(), t);
    // 2021: GPS is 18 s ahead of UTC.
    let raw = (t - gps_epoch()).num_seconds() as f64 + 18.0;
    assert_eq!(gps_to_utc(raw).unwrap(), t);
    assert!(gps_to_utc(f64::NAN).is_none());
    assert!(gps_to_utc(-5.0).is_none());
}
