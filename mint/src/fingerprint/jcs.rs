//! JSON Canonicalization Scheme, RFC 8785 (JCS): one byte string per JSON value, so metadata
//! hashes the same whoever wrote it, in whatever key order or number spelling.
//!
//! - no whitespace;
//! - object members sorted by their names as arrays of UTF-16 code units (RFC 8785 §3.2.3 —
//!   not by UTF-8 bytes: the two orders differ above U+FFFF vs U+E000–U+FFFF);
//! - strings escaped as ECMAScript `JSON.stringify` does (RFC 8785 §3.2.2.2): `\"`, `\\`,
//!   `\b \t \n \f \r`, other controls as `\u00xx` in lowercase hex, everything else literal;
//! - numbers as ECMAScript `Number.prototype.toString` of the IEEE-754 double (RFC 8785
//!   §3.2.2.3), via the `ryu-js` crate. JCS numbers *are* doubles (I-JSON, RFC 7493), so an
//!   integer beyond ±2^53 cannot be represented faithfully: rather than hash a silently rounded
//!   value, canonicalisation fails and names it. Store such values as strings.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{MintError, Result};

/// Largest integer magnitude a double holds exactly (2^53).
const MAX_SAFE: u64 = 1 << 53;

/// RFC 8785 canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<String> {
    let mut out = String::new();
    let mut path = String::from("$");
    write_value(value, &mut out, &mut path)?;
    Ok(out)
}

/// Canonical form of any serialisable value (through `serde_json::Value`).
pub fn canonicalize_serialize<T: serde::Serialize>(
    what: &'static str,
    value: &T,
) -> Result<String> {
    let v = serde_json::to_value(value).map_err(|source| MintError::Serialize { what, source })?;
    canonicalize(&v)
}

/// SHA-256 of the canonical form.
pub fn sha256(value: &Value) -> Result<[u8; 32]> {
    Ok(Sha256::digest(canonicalize(value)?.as_bytes()).into())
}

fn write_value(v: &Value, out: &mut String, path: &mut String) -> Result<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out, path)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                write_value(item, out, path)?;
                path.truncate(len);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                let len = path.len();
                path.push('.');
                path.push_str(k);
                write_value(item, out, path)?;
                path.truncate(len);
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(n: &serde_json::Number, out: &mut String, path: &str) -> Result<()> {
    let unsafe_int = |shown: String| MintError::Canonicalize {
        path: path.to_string(),
        reason: format!(
            "integer {shown} exceeds ±2^53 and has no exact IEEE-754 double (RFC 8785 §3.2.2.3); store it as a string"
        ),
    };
    if let Some(u) = n.as_u64() {
        if u > MAX_SAFE {
            return Err(unsafe_int(u.to_string()));
        }
        // Below 2^53 (< 1e21) ECMAScript prints integers in plain decimal.
        out.push_str(&u.to_string());
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_SAFE {
            return Err(unsafe_int(i.to_string()));
        }
        out.push_str(&i.to_string());
    } else {
        match n.as_f64() {
            Some(f) if f.is_finite() => {
                let mut buf = ryu_js::Buffer::new();
                out.push_str(buf.format_finite(f));
            }
            _ => {
                return Err(MintError::Canonicalize {
                    path: path.to_string(),
                    reason: format!("number {n} is not a finite IEEE-754 double"),
                });
            }
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
