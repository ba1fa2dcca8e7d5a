//! The library's own tests, one binary (unit tests in the library would compile it a second
//! time for `cargo test`: the test build should compile only test code).

mod root;
