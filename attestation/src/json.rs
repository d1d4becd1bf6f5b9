//! Strict JSON parsing for untrusted records (I-JSON, RFC 7493).
//!
//! `serde_json` alone accepts duplicate object keys (the last one wins), which lets two
//! parsers disagree about what a signed record says. Records are parsed here instead:
//! UTF-8 only (RFC 8259 §8.1), no duplicate keys (RFC 7493 §2.3), no unpaired surrogates
//! (RFC 7493 §2.1), nesting bounded by `serde_json`'s recursion limit (128), numbers
//! parsed to the nearest IEEE 754 double when they are not integers (RFC 7493 §2.2), and
//! a size cap.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Largest document accepted by [`parse`], in bytes. A parsed document takes up to
/// about 17 times its size in memory, so this bounds a bundle at roughly 300 MB.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting of arrays and objects accepted anywhere (serde_json's limit).
pub const MAX_DEPTH: usize = 128;

/// Why bytes are not an acceptable JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document is {found} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Size of the document.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// The document is empty or only whitespace.
    #[error("document is empty")]
    Empty,
    /// Syntax, encoding, duplicate key, nesting or number range error.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Invalid {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser found wrong.
        message: String,
    },
}

/// Parses one JSON document strictly (see the module documentation).
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(JsonError::TooLarge {
            found: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonError::Empty);
    }
    serde_json::from_slice::<Strict>(bytes)
        .map(|s| s.0)
        .map_err(|e| JsonError::Invalid {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })
}

/// True when `value` nests arrays/objects deeper than `limit` levels. Iterative, so a
/// value built in memory (not parsed) cannot overflow the stack here.
pub fn deeper_than(value: &Value, limit: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        let depth = depth.saturating_add(1);
        if depth > limit {
            return true;
        }
        stack.extend(children.map(|c| (c, depth)));
    }
    false
}

/// serde_json appends " at line L column C" to messages; the variant carries both.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

/// A `serde_json::Value` built by a visitor that refuses duplicate keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_documents() {
        let v = parse(br#" {"a": [1, -0, 0.1, 1e21, "\u00e9"], "b": null} "#).unwrap();
        assert_eq!(v["a"][4], "é");
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        let err = parse(br#"{"a": {"x": 1, "x": 2}}"#).unwrap_err();
        match err {
            JsonError::Invalid { message, line, .. } => {
                assert!(message.contains("duplicate key \"x\""), "{message}");
                assert_eq!(line, 1);
            }
            other => panic!("{other:?}"),
        }
        // Keys equal after unescaping are duplicates too.
        assert!(parse(br#"{"a": 1, "\u0061": 2}"#).is_err());
    }

    #[test]
    fn rejects_what_i_json_forbids() {
        assert!(parse(br#"{"a": "\ud800"}"#).is_err(), "lone surrogate");
        assert!(parse(b"{\"a\": \"\xff\"}").is_err(), "invalid UTF-8");
        assert!(parse(b"{\"a\": 1e400}").is_err(), "out of double range");
        assert!(parse(b"{} {}").is_err(), "trailing data");
        assert_eq!(parse(b"  \n").unwrap_err(), JsonError::Empty);
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(deep.as_bytes()).is_err(), "nesting limit");
    }
}
