//! Shared helpers for TwinMint's cross-stage acceptance tests: the shared data folder comes from
//! the `test-support` crate every test crate uses.

pub use test_support::{data, data_dir};
