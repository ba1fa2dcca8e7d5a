//! The library's own tests, one binary (unit tests in the library would compile it a second
//! time for `cargo test`: the test build should compile only test code).

mod cloud;
mod commit;
mod copc_write;
mod crs;
mod geodesy;
mod las_io;
mod photos;
mod project_replace_tests;
mod provenance;
mod synth;
mod synth_geom;
mod up_axis;
