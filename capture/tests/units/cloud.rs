//! Tests of `capture::cloud` (src/cloud.rs).
use capture::*;

#[test]
fn append_unions_schemas_and_rebases() {
    let mut a = PointCloud::from_absolute(&[[1000.0, 2000.0, 10.0], [1001.0, 2001.0, 11.0]]);
    a.intensity = Some(vec![5, 6]);
    let mut b = PointCloud::from_absolute(&[[5000.0, 2000.0, 12.0]]);
    b.classification = Some(vec![2]);
    b.set_extra(ExtraColumn::from_u32("treeID", &[7]));
    a.append(b);
    assert_eq!(a.len(), 3);
    a.check_columns().unwrap();
    assert_eq!(a.intensity.as_deref(), Some(&[5, 6, 0][..]));
    assert_eq!(a.classification.as_deref(), Some(&[0, 0, 2][..]));
    assert_eq!(a.extra("treeID").unwrap().values(), vec![0.0, 0.0, 7.0]);
    let p = a.absolute(2);
    assert!((p[0] - 5000.0).abs() < 1e-3 && (p[2] - 12.0).abs() < 1e-4);
}

#[test]
fn y_up_rotation_is_proper() {
    let mut c = PointCloud::from_absolute(&[[0.0, 0.0, 0.0], [1.0, 5.0, 2.0]]);
    c.y_up_to_z_up();
    let p = c.absolute(1);
    let q = c.absolute(0);
    // Y (up) becomes Z; Z (toward viewer) becomes −Y.
    assert!((p[2] - q[2] - 5.0).abs() < 1e-6);
    assert!((p[1] - q[1] + 2.0).abs() < 1e-6);
    assert!((p[0] - q[0] - 1.0).abs() < 1e-6);
}

#[test]
fn extra_column_scale_offset() {
    let mut c = ExtraColumn::from_u32("h", &[10, 20]);
    c.scale = Some(0.5);
    c.offset = Some(1.0);
    assert_eq!(c.values(), vec![6.0, 11.0]);
    assert_eq!(c.raw(1), 20.0);
}
