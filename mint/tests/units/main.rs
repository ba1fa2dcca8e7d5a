//! The library's own tests, one binary (unit tests in the library would compile it a second
//! time for `cargo test`: the test build should compile only test code).

mod chain_attest;
mod chain_bindings;
mod chain_bridge;
mod chain_dev;
mod chain_error;
mod chain_record;
mod chain_rpc_url;
mod chain_wallet;
mod cid;
mod fingerprint;
mod fingerprint_canonical;
mod fingerprint_jcs;
mod fingerprint_merkle;
mod fingerprint_metadata;
mod fingerprint_reconstruction;
mod footprint;
mod footprint_cells;
mod footprint_coverage;
mod footprint_parcel;
mod footprint_plane;
mod hex32;
mod http;
mod package_glb_tests;
mod package_project;
mod package_report;
mod package_thumbnail;
mod seal_ecies;
mod seal_reader;
mod seal_stream;
