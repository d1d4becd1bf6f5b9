//! Mutation machinery for tests/record.rs: a schema description written from
//! docs/cer-bundle.schema.json that predicts the reason codes of every single change.

use cerd_attestation::verify::{self, Reason};
use serde_json::{json, Value};

use super::{hashed_object, jcs, verdict_reasons, MAX_SAFE};

/// What the schema allows at a place in a hashed field, written from the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Any JSON (extra keys, context contents).
    Free,
    /// `snapshot.type`: exactly "ai.execution.v1".
    SnapshotType,
    /// `snapshot.protocolVersion`: "1.2.0" or "1.3.0".
    ProtocolVersion,
    /// A required non-empty string.
    NonEmpty,
    /// A string (argv items).
    Str,
    /// A string or null, may be absent (appId).
    OptStr,
    /// `sha256:` + 64 lowercase hex.
    Digest,
    /// A number or null, must be present.
    NullableNumber,
    /// An integer in 0..=2^53-1 or null, must be present.
    MaxTokens,
    /// An integer in ±(2^53-1) or null, must be present.
    Seed,
    /// An integer in 0..=2^53-1.
    Size,
    /// A required object.
    Object,
    /// An object that may be absent (runtime, context...).
    OptObject,
    /// An object or null, may be absent (runtime.binary).
    NullableObject,
    /// A required array.
    Array,
}

pub(crate) fn kind(top: &str, pattern: &str) -> Kind {
    if top != "snapshot" {
        return if pattern.is_empty() {
            Kind::OptObject
        } else {
            Kind::Free
        };
    }
    match pattern {
        "" | "parameters" | "runtime.host" | "runtime.modelFiles.*" => Kind::Object,
        "type" => Kind::SnapshotType,
        "protocolVersion" => Kind::ProtocolVersion,
        "executionId"
        | "provider"
        | "model"
        | "runtime.binary.path"
        | "runtime.modelFiles.*.path"
        | "runtime.host.osRelease"
        | "runtime.host.kernel"
        | "runtime.host.arch"
        | "runtime.host.cerdVersion" => Kind::NonEmpty,
        "inputHash" | "outputHash" | "runtime.binary.digest" | "runtime.modelFiles.*.digest" => {
            Kind::Digest
        }
        "parameters.temperature" | "parameters.topP" => Kind::NullableNumber,
        "parameters.maxTokens" => Kind::MaxTokens,
        "parameters.seed" => Kind::Seed,
        "runtime.binary.size" | "runtime.modelFiles.*.size" => Kind::Size,
        "appId" => Kind::OptStr,
        "runtime" => Kind::OptObject,
        "runtime.binary" => Kind::NullableObject,
        "runtime.modelFiles" | "runtime.argv" => Kind::Array,
        "runtime.argv.*" => Kind::Str,
        _ => Kind::Free,
    }
}

pub(crate) fn safe_integer(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    let i = if let Some(i) = n.as_i64() {
        i
    } else if n.is_f64() {
        let f = n.as_f64()?;
        if f.fract() != 0.0 || f.abs() > MAX_SAFE as f64 {
            return None;
        }
        f as i64
    } else {
        return None;
    };
    (-MAX_SAFE..=MAX_SAFE).contains(&i).then_some(i)
}

pub(crate) fn well_formed_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The schema reason for `value` at a place of kind `kind` (None: acceptable). The
/// contents of objects and arrays are judged at their own places.
pub(crate) fn schema_reason(kind: Kind, value: &Value) -> Option<Reason> {
    let ok = match (kind, value) {
        (Kind::Free, _) => true,
        (Kind::SnapshotType, v) => v == "ai.execution.v1",
        (Kind::ProtocolVersion, Value::String(s)) => {
            return (!["1.2.0", "1.3.0"].contains(&s.as_str()))
                .then_some(Reason::UnsupportedVersion)
        }
        (Kind::NonEmpty, Value::String(s)) => !s.is_empty(),
        (Kind::Str, Value::String(_)) => true,
        (Kind::OptStr, Value::String(_) | Value::Null) => true,
        (Kind::Digest, Value::String(s)) => {
            return (!well_formed_digest(s)).then_some(Reason::InvalidSha256Format)
        }
        (Kind::NullableNumber, Value::Number(_) | Value::Null) => true,
        (Kind::MaxTokens, Value::Null) | (Kind::Seed, Value::Null) => true,
        (Kind::MaxTokens | Kind::Size, v) => safe_integer(v).is_some_and(|i| i >= 0),
        (Kind::Seed, v) => safe_integer(v).is_some(),
        (Kind::Object | Kind::OptObject, Value::Object(_)) => true,
        (Kind::NullableObject, Value::Object(_) | Value::Null) => true,
        (Kind::Array, Value::Array(_)) => true,
        _ => false,
    };
    (!ok).then_some(Reason::SchemaError)
}

/// Does the object at `pattern` refuse members it does not define? Per
/// `docs/cer-bundle.schema.json`, only the file objects do (`additionalProperties`
/// false); snapshot, parameters, runtime and host are open.
pub(crate) fn closed(top: &str, pattern: &str) -> bool {
    top == "snapshot" && matches!(pattern, "runtime.binary" | "runtime.modelFiles.*")
}

/// May the member of kind `kind` be absent?
pub(crate) fn optional(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Free | Kind::OptStr | Kind::OptObject | Kind::NullableObject
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

pub(crate) fn collect_paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Seg::Key(k.clone()));
                collect_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Seg::Index(i));
                collect_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

pub(crate) fn node<'a>(mut v: &'a Value, path: &[Seg]) -> &'a Value {
    for seg in path {
        v = match seg {
            Seg::Key(k) => &v[k.as_str()],
            Seg::Index(i) => &v[*i],
        };
    }
    v
}

pub(crate) fn node_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get_mut(k.as_str()).unwrap(),
            Seg::Index(i) => v.get_mut(*i).unwrap(),
        };
    }
    v
}

/// `runtime.modelFiles.*.digest`: keys joined by dots, indices as `*`.
pub(crate) fn pattern(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.as_str(),
            Seg::Index(_) => "*",
        })
        .collect::<Vec<_>>()
        .join(".")
}

pub(crate) fn display(top: &str, path: &[Seg]) -> String {
    let mut s = top.to_owned();
    for seg in path {
        match seg {
            Seg::Key(k) => s.push_str(&format!(".{k:?}")),
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A different leaf value that the same place accepts when it accepted the old one
/// (except for the constants, which accept no other value).
pub(crate) fn changed_leaf(kind: Kind, v: &Value) -> Value {
    match v {
        Value::Null => json!(1),
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(_) => match safe_integer(v) {
            Some(i) if i == MAX_SAFE => json!(i - 1),
            Some(i) => json!(i + 1),
            None if v == &json!(0.25) => json!(0.5),
            None => json!(0.25),
        },
        Value::String(s) if kind == Kind::Digest => {
            // Flip the last hex digit: still well-formed, now a different digest.
            let mut s = s.clone();
            let last = s.pop().unwrap();
            s.push(if last == '0' { '1' } else { '0' });
            Value::String(s)
        }
        Value::String(s) => Value::String(format!("{s}\u{e9}")),
        Value::Array(_) | Value::Object(_) => unreachable!("not a leaf"),
    }
}

pub(crate) enum Mutation {
    /// Change a leaf to another value of its type.
    Change,
    /// Write a digest in upper case.
    UpperCaseDigest,
    /// Replace the node (leaf or container) by a boolean.
    Replace,
    /// Remove the member or element.
    Remove,
    /// Add a member to an object / append a copy of the last element to an array.
    Add,
    /// Append a boolean to an array.
    AppendBoolean,
}

/// Applies every single change to the hashed field `top` of `base`, and asserts the
/// exact reasons of each, counting in `tally` how many changes gave each reason list.
pub(crate) fn mutate_everything(base: &Value, top: &str, tally: &mut Vec<(Vec<Reason>, usize)>) {
    assert!(verify::verify_value(base).valid);
    let original = jcs::canonicalize(&hashed_object(base));
    let snapshot = &base["snapshot"];
    let mut paths = Vec::new();
    collect_paths(&base[top], &mut Vec::new(), &mut paths);
    for path in &paths {
        let pat = pattern(path);
        let k = kind(top, &pat);
        let old = node(&base[top], path).clone();
        let is_leaf = !old.is_object() && !old.is_array();
        let mut mutations = vec![Mutation::Replace];
        if is_leaf {
            mutations.push(Mutation::Change);
        }
        if k == Kind::Digest {
            mutations.push(Mutation::UpperCaseDigest);
        }
        if !path.is_empty() {
            mutations.push(Mutation::Remove);
        }
        if old.is_object() || old.is_array() {
            mutations.push(Mutation::Add);
        }
        if old.is_array() {
            mutations.push(Mutation::AppendBoolean);
        }
        for mutation in mutations {
            let mut bundle = base.clone();
            // The schema reason the change must produce, if any.
            let (schema, description) = match mutation {
                Mutation::Change => {
                    let new = changed_leaf(k, &old);
                    let reason = schema_reason(k, &new);
                    *node_mut(&mut bundle[top], path) = new;
                    (reason, "changed")
                }
                Mutation::UpperCaseDigest => {
                    let new = Value::String(old.as_str().unwrap().to_uppercase());
                    let reason = schema_reason(k, &new);
                    *node_mut(&mut bundle[top], path) = new;
                    (reason, "upper-cased")
                }
                Mutation::Replace => {
                    let new = Value::Bool(old != Value::Bool(true));
                    let reason = schema_reason(k, &new);
                    *node_mut(&mut bundle[top], path) = new;
                    (reason, "replaced by a boolean")
                }
                Mutation::Remove => {
                    let (last, parent) = path.split_last().unwrap();
                    match (node_mut(&mut bundle[top], parent), last) {
                        (Value::Object(m), Seg::Key(key)) => {
                            m.remove(key);
                            // A missing required member is a schema error.
                            ((!optional(k)).then_some(Reason::SchemaError), "removed")
                        }
                        (Value::Array(a), Seg::Index(i)) => {
                            a.remove(*i);
                            (None, "removed")
                        }
                        _ => unreachable!(),
                    }
                }
                Mutation::Add => match node_mut(&mut bundle[top], path) {
                    Value::Object(m) => {
                        m.insert("added\u{e9}".into(), json!({"n": [1e21, -0.0]}));
                        let reason = closed(top, &pat).then_some(Reason::SchemaError);
                        (reason, "given a new member")
                    }
                    Value::Array(a) => {
                        a.push(a.last().cloned().unwrap_or(Value::Null));
                        (None, "given a copy of its last element")
                    }
                    _ => unreachable!(),
                },
                Mutation::AppendBoolean => {
                    node_mut(&mut bundle[top], path)
                        .as_array_mut()
                        .unwrap()
                        .push(Value::Bool(true));
                    let item = if pat.is_empty() {
                        kind(top, "*")
                    } else {
                        kind(top, &format!("{pat}.*"))
                    };
                    (schema_reason(item, &json!(true)), "given a boolean element")
                }
            };
            let what = format!("{} {description}", display(top, path));
            // Sanity: the change reaches the canonical form of the hashed object.
            assert_ne!(
                jcs::canonicalize(&hashed_object(&bundle)),
                original,
                "{what}"
            );

            let mut expected: Vec<Reason> = schema.into_iter().collect();
            expected.push(Reason::CertificateHashMismatch);
            // Inline content is checked only when the schema holds.
            if schema.is_none() && top == "snapshot" {
                for (content, hash, reason) in [
                    ("input", "inputHash", Reason::InputHashMismatch),
                    ("output", "outputHash", Reason::OutputHashMismatch),
                ] {
                    let touches = match path.first() {
                        Some(Seg::Key(key)) if key == hash => true,
                        // Removing the content removes the check.
                        Some(Seg::Key(key)) if key == content => {
                            !(path.len() == 1 && matches!(mutation, Mutation::Remove))
                        }
                        _ => false,
                    };
                    if touches && snapshot.get(content).is_some() {
                        expected.push(reason);
                    }
                }
            }
            let reasons = verdict_reasons(&bundle);
            assert_eq!(reasons, expected, "{what}");
            match tally.iter_mut().find(|(r, _)| *r == reasons) {
                Some((_, n)) => *n += 1,
                None => tally.push((reasons, 1)),
            }
        }
    }
}
