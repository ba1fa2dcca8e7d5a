//! Tests of `test_support` (src/lib.rs).
#[test]
fn data_dir_honours_the_variable() {
    // Read-only check: the variable, when set, is the root.
    if let Some(v) = std::env::var_os("TWINMINT_DATA") {
        assert_eq!(test_support::data_dir(), std::path::PathBuf::from(v));
    } else {
        assert!(test_support::data_dir().ends_with("shared/data"));
    }
}
