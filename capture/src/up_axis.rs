//! Which way is up? Phone and game-engine exports (ARKit, RealityKit, Polycam, Scaniverse,
//! glTF) are Y-up; LiDAR and GIS are Z-up. Guessing wrong lays a forest on its side, so the
//! decision and its reason are recorded in provenance, and `--up` overrides it.

use crate::cloud::PointCloud;
use crate::provenance::{Source, UpAxis};

/// Producers known to export Y-up geometry (matched case-insensitively in the file's
/// generator/comment text).
pub const Y_UP_PRODUCERS: [&str; 10] = [
    "polycam",
    "scaniverse",
    "3d scanner app",
    "record3d",
    "arkit",
    "realitykit",
    "object capture",
    "luma",
    "kiri",
    "gltf",
];

/// Decide the up axis of a non-georeferenced cloud: producer signature, then normals (floors and
/// ground face up), then shape (a site is wider than it is tall). Falls back to Z.
pub fn detect(cloud: &PointCloud, source: &Source) -> (UpAxis, String) {
    let text = source
        .generating_software
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Some(p) = Y_UP_PRODUCERS.iter().find(|p| text.contains(*p)) {
        return (UpAxis::Y, format!("produced by {p:?}, which exports Y-up"));
    }
    if let Some(normals) = &cloud.normals {
        let (mut ny, mut nz) = (0usize, 0usize);
        for n in normals {
            if n[1].abs() > 0.9 {
                ny += 1;
            } else if n[2].abs() > 0.9 {
                nz += 1;
            }
        }
        let min = normals.len() / 10;
        if ny > 2 * nz && ny > min {
            return (
                UpAxis::Y,
                format!("{ny} normals point along Y vs {nz} along Z: ground faces Y"),
            );
        }
        if nz > 2 * ny && nz > min {
            return (
                UpAxis::Z,
                format!("{nz} normals point along Z vs {ny} along Y: ground faces Z"),
            );
        }
    }
    if cloud.len() >= 3 {
        let e = cloud.bounds().extent();
        if e[1] < 0.5 * e[0].min(e[2]) {
            return (
                UpAxis::Y,
                format!(
                    "Y extent {:.2} m is under half the horizontal extents ({:.2}, {:.2} m): a site lying in XZ",
                    e[1], e[0], e[2]
                ),
            );
        }
        if e[2] < 0.5 * e[0].min(e[1]) {
            return (UpAxis::Z, "Z is the thin axis of a site lying in XY".into());
        }
    }
    (
        UpAxis::Z,
        "no evidence either way; assumed Z-up (pass --up y for phone exports)".into(),
    )
}
