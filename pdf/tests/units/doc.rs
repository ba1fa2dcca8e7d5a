//! Tests of `twinmint_pdf::doc` (src/doc.rs).
use twinmint_pdf::doc::*;

#[test]
fn strings_are_escaped_and_encoded() {
    assert_eq!(literal("a(b)c\\"), "(a\\(b\\)c\\\\)");
    assert_eq!(literal("5 m² – ok"), "(5 m\\262 \\226 ok)");
    assert_eq!(literal("a→b ≤ 1"), "(a->b <= 1)");
}

#[test]
fn the_same_pages_give_the_same_bytes() {
    let mut p = Page::new();
    p.text(50.0, 800.0, 12.0, Rgb::BLACK, "Hello");
    p.disc(100.0, 100.0, 5.0, Rgb::RED);
    let a = Pdf {
        pages: vec![p.clone()],
    }
    .finish("t");
    let b = Pdf { pages: vec![p] }.finish("t");
    assert_eq!(a, b);
    assert!(a.starts_with(b"%PDF-1.7"));
    assert!(a.ends_with(b"%%EOF\n"));
}
