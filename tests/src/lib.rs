//! Shared helpers for TwinMint's cross-stage acceptance tests.
//!
//! Test data is never copied into the repository: tests read `TWINMINT_DATA` (default
//! `../shared/data` next to the checkout).

use std::path::PathBuf;

/// Root of the shared test data.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("TWINMINT_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// A file under the data root, e.g. `data("als/MixedConifer.laz")`.
pub fn data(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(
        p.exists(),
        "test data {} missing; set TWINMINT_DATA to the shared data folder",
        p.display()
    );
    p
}
