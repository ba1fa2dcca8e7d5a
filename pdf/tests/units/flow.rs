//! Tests of `twinmint_pdf::flow` (src/flow.rs).
use twinmint_pdf::flow::*;

#[test]
fn wrap_keeps_words_whole() {
    assert_eq!(wrap("aa bb cc dd", 5), vec!["aa bb", "cc dd"]);
    assert_eq!(wrap("", 5), Vec::<String>::new());
}

#[test]
fn a_long_table_flows_onto_a_second_page() {
    let mut f = Flow::new("test");
    let rows: Vec<Vec<String>> = (0..120).map(|i| vec![i.to_string(), "x".into()]).collect();
    f.table(&["n", "v"], &rows);
    let pdf = f.finish("t");
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Count 2"), "two pages expected");
}
