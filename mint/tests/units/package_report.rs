//! Tests of `mint::package::report` (src/package/report.rs).
use mint::package::report::*;

#[test]
fn numbers_and_escaping() {
    assert_eq!(num(1234567.891, 2), "1,234,567.89");
    assert_eq!(num(-0.001, 1), "0.0");
    assert_eq!(num(-1500.0, 0), "−1,500");
    assert_eq!(num(f64::INFINITY, 2), "∞");
    assert_eq!(num(999.5, 0), "1,000");
    assert_eq!(
        esc("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
}
