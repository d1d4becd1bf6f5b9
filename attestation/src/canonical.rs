//! RFC 8785 JSON Canonicalization Scheme (JCS), the `jcs-v1` profile of CER.
//!
//! A direct writer over [`serde_json::Value`]: properties sorted by UTF-16 code units
//! (RFC 8785 §3.2.3), strings escaped as RFC 8785 §3.2.2.2 prescribes (only `"`, `\\` and
//! control characters; lower-case `\u00xx`), every number formatted as the IEEE 754
//! double ECMAScript would print (§3.2.2.3, `ryu-js`). It writes into one buffer with no
//! allocation per value: `serde_json_canonicalizer`, which it replaced, spent ~10 µs on
//! a 700-byte record, buffering and re-parsing every property. The tests compare it with
//! that crate and with an independent implementation written from the RFC.

use serde_json::{Map, Number, Value};

use crate::digest::Sha256Digest;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The serializer refused the value (e.g. a non-finite number).
    #[error("cannot canonicalize value: {message}")]
    Serialize {
        /// The serializer's message.
        message: String,
    },
}

/// The RFC 8785 canonical UTF-8 bytes of `value`.
///
/// Numbers are serialized as IEEE 754 doubles (RFC 8785 §3.2.2.3): an integer above
/// 2^53 is rounded exactly as JavaScript's `JSON.parse` would round it.
pub fn to_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(512);
    write(&mut out, value)?;
    Ok(out)
}

/// Appends the RFC 8785 canonical UTF-8 bytes of `value` to `out`.
pub fn write(out: &mut Vec<u8>, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

/// SHA-256 of the canonical bytes of `value`.
pub fn digest(value: &Value) -> Result<Sha256Digest, CanonicalError> {
    to_bytes(value).map(|b| Sha256Digest::of(&b))
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) -> Result<(), CanonicalError> {
    out.push(b'{');
    // serde_json's map iterates in UTF-8 byte order, which is code point order. UTF-16
    // code-unit order differs from it only between a character above U+FFFF (a
    // surrogate pair, 0xD800..) and one in U+E000..U+FFFF; such keys are sorted afresh.
    if map.keys().any(|k| k.bytes().any(|b| b >= 0xF0)) {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        for (i, (k, v)) in entries.into_iter().enumerate() {
            write_member(out, i, k, v)?;
        }
    } else {
        for (i, (k, v)) in map.iter().enumerate() {
            write_member(out, i, k, v)?;
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_member(
    out: &mut Vec<u8>,
    i: usize,
    key: &str,
    value: &Value,
) -> Result<(), CanonicalError> {
    if i > 0 {
        out.push(b',');
    }
    write_string(out, key);
    out.push(b':');
    write(out, value)
}

/// Every JSON number is an IEEE 754 double to JCS: integers included (one above 2^53
/// rounds to the nearest double, as `JSON.parse` would).
#[allow(clippy::cast_precision_loss)] // that rounding is the specified behaviour
fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), CanonicalError> {
    let f = if let Some(u) = n.as_u64() {
        u as f64
    } else if let Some(i) = n.as_i64() {
        i as f64
    } else {
        n.as_f64().unwrap_or(f64::NAN)
    };
    if !f.is_finite() {
        return Err(CanonicalError::Serialize {
            message: format!("{n} is not a finite number"),
        });
    }
    out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
    Ok(())
}

/// A JSON string: `"`, `\\` and U+0000..U+001F escaped (the five with short forms as
/// `\b \t \n \f \r`, the rest as lower-case `\u00xx`), everything else as is.
fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0A => b"\\n",
            0x0C => b"\\f",
            0x0D => b"\\r",
            0x00..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
            out.push(HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0'));
        } else {
            out.extend_from_slice(short);
        }
        start = i.saturating_add(1);
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        String::from_utf8(to_bytes(&crate::json::parse(text.as_bytes()).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_numbers() {
        assert_eq!(
            canon("[0.1, 1e21, 1e20, 5e-324, -0, -0.0, 9007199254740992, 1E-7, 0.000001]"),
            "[0.1,1e+21,100000000000000000000,5e-324,0,0,9007199254740992,1e-7,0.000001]"
        );
    }

    #[test]
    fn sorts_by_utf16_code_units_and_escapes_minimally() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16 order.
        assert_eq!(
            canon("{\"\u{fb01}\":1,\"\u{1f600}\":2,\"b\":\"\\u000f\\/\\n\u{e9}\"}"),
            "{\"b\":\"\\u000f/\\n\u{e9}\",\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
    }
}
