//! A full disk while writing LAS/LAZ and a project: a typed error naming the file, no panic
//! ("Error when dropping the writer … No space left on device" before), nothing left behind.
//!
//! Needs a small tmpfs, so it mounts one: that takes root (CI and the project's machines run
//! as root). Elsewhere it is skipped with a message unless `CI` is set, where it must run.

use std::path::{Path, PathBuf};

use capture::{CancelToken, NoProgress, PointCloud};
use test_support::TinyFs;

/// 200,000 pseudo-random points with intensity: megabytes in any format (random coordinates
/// do not compress), far beyond the tmpfs.
fn big_cloud() -> PointCloud {
    let n = 200_000;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut positions = Vec::with_capacity(n);
    let mut intensity = Vec::with_capacity(n);
    for _ in 0..n {
        let r = next();
        positions.push([
            (r & 0xffff) as f32 / 655.36,
            ((r >> 16) & 0xffff) as f32 / 655.36,
            ((r >> 32) & 0xffff) as f32 / 2184.5,
        ]);
        intensity.push((r >> 48) as u16);
    }
    PointCloud {
        positions,
        intensity: Some(intensity),
        ..Default::default()
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect()
}

#[test]
fn full_disk_is_a_typed_error_not_a_panic() {
    let Some(fs) = TinyFs::mount(256 * 1024) else {
        return;
    };
    let cloud = big_cloud();
    for name in ["out.las", "out.laz", "out.ply", "out.xyz"] {
        let path = fs.path().join(name);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            capture::write(&cloud, &path, &mut NoProgress, &CancelToken::new())
        }));
        let err = match result {
            Err(_) => panic!("{name}: writing to a full disk panicked"),
            Ok(Ok(())) => panic!("{name}: 200,000 random points fitted in 256 KiB?"),
            Ok(Err(e)) => e.to_string(),
        };
        assert!(
            err.contains(name),
            "{name}: the message names the file: {err}"
        );
        assert!(
            entries(fs.path()).is_empty(),
            "{name}: nothing left behind: {:?}",
            entries(fs.path())
        );
    }
    // A project: no partial folder, no project.
    let dir = fs.path().join("p.twinmint");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        capture::project::write_project(&cloud, &[], &dir, false, &mut |_| {}, &CancelToken::new())
    }));
    assert!(matches!(result, Ok(Err(_))), "project on a full disk");
    assert!(entries(fs.path()).is_empty(), "{:?}", entries(fs.path()));
}
