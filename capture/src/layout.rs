//! The project folder's layout: every file name in one place, for every stage and the app
//! (docs/design.md, "One project folder"). A stage writes only the names listed here; readers
//! and `verify` find them here.

/// The manifest: sources with SHA-256, CRS, origin, capture time (`twinmint ingest`).
pub const MANIFEST: &str = "manifest.json";
/// The merged capture (LAS 1.4).
pub const CLOUD: &str = "cloud.laz";
/// The drone photos' camera track, when photos were ingested.
pub const CAMERAS: &str = "cameras.json";

/// Terrain stats, trees, pipes, options used (`twinmint reconstruct`).
pub const RECONSTRUCTION_JSON: &str = "reconstruction.json";
/// The input with ASPRS classes and tree ids.
pub const CLASSIFIED_LAZ: &str = "classified.laz";
/// The reconstructed model (glTF binary).
pub const MODEL_GLB: &str = "model.glb";
/// Terrain and canopy height rasters (GeoTIFF).
pub const DTM_TIF: &str = "dtm.tif";
pub const CHM_TIF: &str = "chm.tif";

/// The projection, bands, valuation and collateral (`twinmint simulate`), and its tables.
pub const SIMULATION_JSON: &str = "simulation.json";
pub const STAND_CSV: &str = "stand.csv";
pub const TREES_CSV: &str = "trees.csv";
pub const COLLATERAL_CSV: &str = "collateral.csv";

/// A resurvey's comparison with the previous survey: registration, change, drift, recalibration
/// (`twinmint resurvey`).
pub const RESURVEY_JSON: &str = "resurvey.json";
/// The resurvey's drift report (PDF).
pub const DRIFT_REPORT_PDF: &str = "drift-report.pdf";

/// The model fingerprint and its parts (`twinmint fingerprint`, `package`).
pub const FINGERPRINT_JSON: &str = "fingerprint.json";
/// The NFR package folder (`twinmint package`).
pub const PACKAGE_DIR: &str = "package";
/// The land footprint as H3 cells (`twinmint mint`).
pub const FOOTPRINT_JSON: &str = "footprint.json";
/// Network, contract, token id, transactions (`twinmint mint`).
pub const CHAIN_JSON: &str = "chain.json";
/// A mint in flight, so a rerun recovers its transaction.
pub const MINT_JOURNAL: &str = ".mint-journal.json";

/// The studio's out-of-core octree of the cloud (a cache: safe to delete).
pub const VIEWER_OCTREE: &str = "viewer/octree.bin";
