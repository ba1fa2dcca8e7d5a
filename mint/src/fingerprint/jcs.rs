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
