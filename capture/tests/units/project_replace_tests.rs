//! Tests of `capture::project` (src/project.rs).
use capture::project::*;
use capture::*;
use std::path::Path;

fn tiny_cloud() -> PointCloud {
    PointCloud {
        positions: vec![[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]],
        ..Default::default()
    }
}

fn write(dir: &Path, overwrite: bool) -> Result<Manifest> {
    write_project(
        &tiny_cloud(),
        &[],
        dir,
        overwrite,
        &mut |_| {},
        &CancelToken::new(),
    )
}

#[test]
fn force_replaces_only_projects_and_empty_folders() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder of the user's own files survives --force.
    let mine = tmp.path().join("my-files");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("thesis.docx"), b"years of work").unwrap();
    let e = write(&mine, true).unwrap_err().to_string();
    assert!(e.contains("not a TwinMint project"), "{e}");
    assert_eq!(
        std::fs::read(mine.join("thesis.docx")).unwrap(),
        b"years of work"
    );
    // A plain file too.
    let file = tmp.path().join("notes.twinmint");
    std::fs::write(&file, b"x").unwrap();
    let e = write(&file, true).unwrap_err().to_string();
    assert!(e.contains("is a file"), "{e}");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    // `.` is never a project target.
    let e = write(Path::new("."), true).unwrap_err().to_string();
    assert!(e.contains("give the project folder a name"), "{e}");
    // An empty folder is used; a project is replaced only with --force.
    let empty = tmp.path().join("empty.twinmint");
    std::fs::create_dir(&empty).unwrap();
    write(&empty, false).unwrap();
    assert!(empty.join(MANIFEST).is_file());
    let e = write(&empty, false).unwrap_err().to_string();
    assert!(e.contains("already exists"), "{e}");
    write(&empty, true).unwrap();
    // Nothing staged is left behind by the refusals.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_folder_holding_an_input_is_never_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let scans = tmp.path().join("scans");
    std::fs::create_dir(&scans).unwrap();
    let scan = scans.join("plot.xyz");
    std::fs::write(&scan, b"0 0 0\n1 1 1\n").unwrap();
    let e = input_inside(&scans, std::slice::from_ref(&scan)).unwrap();
    assert!(e.contains("plot.xyz"), "{e}");
    assert!(input_inside(&tmp.path().join("elsewhere"), &[scan]).is_none());
}
