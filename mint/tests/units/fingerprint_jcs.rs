//! Tests of `mint::fingerprint::jcs` (src/fingerprint/jcs.rs).
use mint::fingerprint::jcs::*;
use serde_json::Value;
use serde_json::json;

fn num(bits: u64) -> String {
    let v = Value::from(f64::from_bits(bits));
    canonicalize(&v).unwrap()
}

#[test]
fn rfc8785_appendix_b_numbers() {
    // RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
    let cases: [(u64, &str); 22] = [
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
    ];
    for (bits, want) in cases {
        assert_eq!(num(bits), want, "{bits:#018x}");
    }
    assert_eq!(num(0xbecbf647612f3696), "-0.0000033333333333333333");
    assert_eq!(num(0x43143ff3c1cb0959), "1424953923781206.2");
}

#[test]
fn rfc8785_section_3_2_3_sorting_example() {
    // The sorting example of RFC 8785 §3.2.3: keys compared as UTF-16 code units.
    let v: Value = serde_json::from_str(
        r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
    )
    .unwrap();
    let c = canonicalize(&v).unwrap();
    let order: Vec<&str> = [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    .to_vec();
    let mut last = 0;
    for name in order {
        let at = c.find(name).unwrap();
        assert!(at > last, "{name} out of order in {c}");
        last = at;
    }
}

#[test]
fn rfc8785_section_3_2_2_example() {
    // RFC 8785 §3.2.2 input and its canonical output.
    let v: Value = serde_json::from_str(
        r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#,
    )
    .unwrap();
    assert_eq!(
        canonicalize(&v).unwrap(),
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
    );
}

#[test]
fn unsafe_integers_are_refused_with_their_path() {
    let v = json!({"trees": [{"id": 9007199254740993u64}]});
    let e = canonicalize(&v).unwrap_err().to_string();
    assert!(e.contains("$.trees[0].id"), "{e}");
    assert_eq!(
        canonicalize(&json!(9007199254740992u64)).unwrap(),
        "9007199254740992"
    );
    assert_eq!(canonicalize(&json!(-42)).unwrap(), "-42");
}
