//! A typed reader over one JSON object, so every error names its field path.

use serde_json::{Map, Value};

use super::{digest_field, json_type, RecordError};
use crate::digest::Sha256Digest;

/// Largest integer a record may carry (2^53 - 1): every JSON implementation reads
/// integers up to this value exactly (RFC 7493 §2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One JSON object and its path in the bundle, e.g. `snapshot.runtime`.
pub(crate) struct Fields<'a> {
    pub map: &'a Map<String, Value>,
    pub path: String,
}

impl<'a> Fields<'a> {
    /// Reads `value` (at `path`) as an object.
    pub fn new(value: Option<&'a Value>, path: &str) -> Result<Self, RecordError> {
        match value {
            Some(Value::Object(map)) => Ok(Self {
                map,
                path: path.to_owned(),
            }),
            Some(other) => Err(RecordError::schema(
                path,
                format!("expected an object, found {}", json_type(other)),
            )),
            None => Err(RecordError::schema(path, "missing")),
        }
    }

    pub fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value) -> RecordError {
        RecordError::schema(
            self.child(key),
            format!("expected {expected}, found {}", describe(found)),
        )
    }

    /// A required non-empty string.
    pub fn string(&self, key: &str) -> Result<String, RecordError> {
        match self.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(v) => Err(self.wrong(key, "a non-empty string", v)),
            None => Err(RecordError::schema(self.child(key), "missing")),
        }
    }

    /// An optional string; absent and `null` are both `None`.
    pub fn opt_string(&self, key: &str) -> Result<Option<String>, RecordError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.wrong(key, "a string or null", v)),
        }
    }

    /// A string that must equal one of `allowed`.
    pub fn constant(&self, key: &str, allowed: &[&str]) -> Result<String, RecordError> {
        let s = match self.get(key) {
            Some(Value::String(s)) => s,
            Some(v) => return Err(self.wrong(key, &quoted(allowed), v)),
            None => return Err(RecordError::schema(self.child(key), "missing")),
        };
        if allowed.contains(&s.as_str()) {
            Ok(s.clone())
        } else {
            Err(RecordError::schema(
                self.child(key),
                format!("expected {}, found {s:?}", quoted(allowed)),
            ))
        }
    }

    /// A required `sha256:` digest.
    pub fn digest(&self, key: &str) -> Result<Sha256Digest, RecordError> {
        digest_field(self.get(key), &self.child(key))
    }

    /// A required non-negative integer up to 2^53 - 1.
    pub fn size(&self, key: &str) -> Result<u64, RecordError> {
        match self.get(key) {
            Some(v) => match safe_unsigned(v) {
                Some(n) => Ok(n),
                None => Err(self.wrong(key, "an integer from 0 to 2^53-1", v)),
            },
            None => Err(RecordError::schema(self.child(key), "missing")),
        }
    }

    /// A key that must be present, holding a number or `null`.
    pub fn nullable_number(&self, key: &str) -> Result<Option<f64>, RecordError> {
        match self.get(key) {
            Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| RecordError::schema(self.child(key), "number is not finite")),
            Some(v) => Err(self.wrong(key, "a number or null", v)),
            None => Err(RecordError::schema(
                self.child(key),
                "missing (write null when not set)",
            )),
        }
    }

    /// A key that must be present, holding an integer in ±(2^53 - 1) or `null`.
    pub fn nullable_integer(&self, key: &str, min: i64) -> Result<Option<i64>, RecordError> {
        match self.get(key) {
            Some(Value::Null) => Ok(None),
            Some(v @ Value::Number(_)) => match safe_signed(v).filter(|n| *n >= min) {
                Some(n) => Ok(Some(n)),
                None => {
                    Err(self.wrong(key, &format!("an integer from {min} to 2^53-1, or null"), v))
                }
            },
            Some(v) => Err(self.wrong(key, "an integer or null", v)),
            None => Err(RecordError::schema(
                self.child(key),
                "missing (write null when not set)",
            )),
        }
    }

    /// A required array of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, RecordError> {
        let items = self.array(key)?;
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(RecordError::schema(
                    format!("{}[{i}]", self.child(key)),
                    format!("expected a string, found {}", describe(other)),
                )),
            })
            .collect()
    }

    /// A required array.
    pub fn array(&self, key: &str) -> Result<&'a Vec<Value>, RecordError> {
        match self.get(key) {
            Some(Value::Array(a)) => Ok(a),
            Some(v) => Err(self.wrong(key, "an array", v)),
            None => Err(RecordError::schema(self.child(key), "missing")),
        }
    }

    /// Refuses any key not in `known`.
    pub fn deny_unknown(&self, known: &[&str]) -> Result<(), RecordError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(RecordError::schema(self.child(k), "unknown field")),
            None => Ok(()),
        }
    }

    /// The entries whose keys are not in `known`, kept as they are.
    pub fn rest(&self, known: &[&str]) -> Map<String, Value> {
        self.map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn quoted(allowed: &[&str]) -> String {
    let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
    if list.len() == 1 {
        list.concat()
    } else {
        format!("one of {}", list.join(", "))
    }
}

/// A short description of a found value: its type, and the value itself when short.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => json_type(v).to_owned(),
        _ => {
            let text = v.to_string();
            if text.chars().count() > 40 {
                let cut: String = text.chars().take(40).collect();
                format!("{} {cut}…", json_type(v))
            } else {
                format!("{} {text}", json_type(v))
            }
        }
    }
}

fn safe_unsigned(v: &Value) -> Option<u64> {
    safe_signed(v).and_then(|n| u64::try_from(n).ok())
}

/// An integer-valued JSON number within ±(2^53 - 1), written as `12` or `12.0`.
fn safe_signed(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    let value = if let Some(i) = n.as_i64() {
        i
    } else if n.as_u64().is_some() {
        return None; // above i64::MAX, so above the limit
    } else {
        let f = n.as_f64()?;
        if f.fract() != 0.0 || f.abs() > MAX_SAFE_INTEGER as f64 {
            return None;
        }
        // Exact: |f| <= 2^53 - 1 and f has no fraction.
        #[allow(clippy::cast_possible_truncation)]
        let i = f as i64;
        i
    };
    (value.unsigned_abs() <= MAX_SAFE_INTEGER).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn safe_integers() {
        assert_eq!(safe_signed(&json!(12)), Some(12));
        assert_eq!(safe_signed(&json!(12.0)), Some(12));
        assert_eq!(safe_signed(&json!(-3)), Some(-3));
        assert_eq!(safe_signed(&json!(12.5)), None);
        assert_eq!(
            safe_signed(&json!(9007199254740991u64)),
            Some(9007199254740991)
        );
        assert_eq!(safe_signed(&json!(9007199254740992u64)), None);
        assert_eq!(safe_signed(&json!(u64::MAX)), None);
        assert_eq!(safe_signed(&json!(1e300)), None);
        assert_eq!(safe_unsigned(&json!(-1)), None);
    }
}
