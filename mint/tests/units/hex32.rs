//! Tests of `mint::hex32` (src/hex32.rs).
#[test]
fn parses_prefixed_and_mixed_case() {
    let h = "AB".repeat(32);
    assert_eq!(mint::hex32::parse(&format!("0x{h}")).unwrap(), [0xab; 32]);
    assert_eq!(mint::hex32::to_hex(&[0xab; 32]), "ab".repeat(32));
    assert!(mint::hex32::parse("abc").is_err());
    assert!(mint::hex32::parse(&"zz".repeat(32)).is_err());
}
