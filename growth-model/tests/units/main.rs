//! The library's own tests, one binary (unit tests in the library would compile it a second
//! time for `cargo test`: the test build should compile only test code).

mod accounting;
mod allometry;
mod finance;
mod growth;
mod pipeline;
mod prices;
mod root;
mod species;
mod stats;
