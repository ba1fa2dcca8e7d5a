//! Tests of `capture::commit` (src/commit.rs).
use capture::commit::*;
use capture::*;
use std::fs::File;
use std::path::Path;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn commit_replaces_files_and_folders_together() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("a.txt"), "old a").unwrap();
    std::fs::create_dir(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/x"), "old x").unwrap();
    std::fs::write(dir.join("gone.tif"), "old").unwrap();
    let mut c = Commit::begin(dir).unwrap();
    std::fs::write(c.path("a.txt"), "new a").unwrap();
    let pkg = c.path("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("y"), "new y").unwrap();
    c.remove("gone.tif");
    c.commit().unwrap();
    assert_eq!(read(&dir.join("a.txt")), "new a");
    assert_eq!(read(&dir.join("pkg/y")), "new y");
    assert!(!dir.join("pkg/x").exists());
    assert!(!dir.join("gone.tif").exists());
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != LOCK)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn messages_name_the_committed_path_not_the_stage() {
    assert_eq!(
        public_paths("/d/p.twinmint/.twinmint-stage-Ab1/dtm.tif: cannot write: No space"),
        "/d/p.twinmint/dtm.tif: cannot write: No space"
    );
    assert_eq!(
        public_paths("write /d/.p.twinmint.partial-x9Z/cloud.laz failed"),
        "write /d/p.twinmint/cloud.laz failed"
    );
    assert_eq!(public_paths("/home/u/.config/x"), "/home/u/.config/x");
}

#[test]
fn a_dropped_commit_leaves_the_old_state() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("a.txt"), "old").unwrap();
    {
        let mut c = Commit::begin(dir).unwrap();
        std::fs::write(c.path("a.txt"), "new").unwrap();
    }
    assert_eq!(read(&dir.join("a.txt")), "old");
    assert!(!needs_recovery(dir));
}

#[test]
fn recovery_rolls_forward_after_the_journal_and_back_before_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("a.txt"), "old a").unwrap();
    std::fs::write(dir.join("b.txt"), "old b").unwrap();
    // A crash after the journal and one of two renames.
    let stage = dir.join(format!("{STAGE_PREFIX}x"));
    std::fs::create_dir(&stage).unwrap();
    std::fs::write(stage.join("b.txt"), "new b").unwrap();
    std::fs::write(dir.join("a.txt"), "new a").unwrap();
    let j = Journal {
        stage: file_name(&stage),
        put: vec!["a.txt".into(), "b.txt".into()],
        remove: vec![],
    };
    std::fs::write(dir.join(JOURNAL), serde_json::to_vec(&j).unwrap()).unwrap();
    let rec = recover(dir).unwrap();
    assert_eq!(rec.rolled_forward, vec!["b.txt".to_string()]);
    assert_eq!(read(&dir.join("b.txt")), "new b");
    assert!(!dir.join(JOURNAL).exists() && !stage.exists());

    // A crash before the journal: the stage is dropped, the old files stay.
    std::fs::create_dir(&stage).unwrap();
    std::fs::write(stage.join("a.txt"), "newer a").unwrap();
    let rec = recover(dir).unwrap();
    assert_eq!(rec.removed, vec![file_name(&stage)]);
    assert_eq!(read(&dir.join("a.txt")), "new a");
}

#[test]
fn a_journal_naming_paths_outside_the_project_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let j = Journal {
        stage: format!("{STAGE_PREFIX}x"),
        put: vec!["../escape".into()],
        remove: vec![],
    };
    std::fs::write(d.path().join(JOURNAL), serde_json::to_vec(&j).unwrap()).unwrap();
    let e = recover(d.path()).unwrap_err().to_string();
    assert!(e.contains("outside the project"), "{e}");
}

#[test]
fn a_held_lock_keeps_recovery_off_and_refuses_a_second_writer() {
    let d = tempfile::tempdir().unwrap();
    let c = Commit::begin(d.path()).unwrap();
    assert!(matches!(
        Commit::begin(d.path()),
        Err(CaptureError::Busy { .. })
    ));
    let rec = recover(d.path()).unwrap();
    assert!(rec.busy, "{rec:?}");
    drop(c);
    assert!(recover(d.path()).unwrap().is_clean());
}

#[test]
fn swap_dir_replaces_a_folder_and_sweeps_stale_staging() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("p.twinmint");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("f"), "old").unwrap();
    let staged = d.path().join(format!("{}1", staging_prefix("p.twinmint")));
    std::fs::create_dir(&staged).unwrap();
    std::fs::write(staged.join("f"), "new").unwrap();
    swap_dir(&staged, &dir).unwrap();
    assert_eq!(read(&dir.join("f")), "new");
    assert!(!staged.exists());
    // A stale staging folder with a free lock is swept; a held one is kept.
    let stale = d.path().join(format!("{}2", staging_prefix("p.twinmint")));
    let live = d.path().join(format!("{}3", staging_prefix("p.twinmint")));
    for s in [&stale, &live] {
        std::fs::create_dir(s).unwrap();
    }
    File::create(stale.join(LOCK)).unwrap();
    let _held = ProjectLock::acquire(&live).unwrap();
    let mut rec = Recovery::default();
    sweep_siblings(&dir, &mut rec);
    assert!(!stale.exists() && live.exists(), "{rec:?}");
}
