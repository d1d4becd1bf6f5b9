//! The Certified Execution Record (CER) v1 bundle, `cer.ai.execution.v1`.
//!
//! A bundle is a JSON object (see `docs/record-format.md` and
//! `docs/cer-bundle.schema.json`):
//!
//! ```text
//! { bundleType, version, createdAt, snapshot, certificateHash,
//!   context?, contextSummary?, policyEvaluation?, meta? }
//! ```
//!
//! Its identity is `certificateHash` = `sha256:` + hex(SHA-256(JCS(H))), where H is the
//! object made of the [`HASHED_FIELDS`] present in the bundle, taken from the bundle's
//! own JSON (not from a re-serialization of the typed model), so that fields this
//! version does not interpret are still covered. `certificateHash` and `meta` are
//! outside the hash: hardware evidence lives under `meta`, and adding it never changes
//! a record's identity. Any other top-level key is refused, because it would look like
//! part of the record while being covered by nothing.

mod fields;
mod runtime;
mod snapshot;
mod timestamp;

use serde_json::{Map, Value};

pub use runtime::{FileDigest, Host, Runtime};
pub use snapshot::{Parameters, Snapshot};
pub use timestamp::Timestamp;

use crate::canonical::{self, CanonicalError};
use crate::digest::{DigestError, Sha256Digest};
use crate::json;

/// `bundleType` of every CER v1 bundle.
pub const BUNDLE_TYPE: &str = "cer.ai.execution.v1";
/// `version` of the bundle envelope.
pub const BUNDLE_VERSION: &str = "0.1";
/// `snapshot.type`.
pub const SNAPSHOT_TYPE: &str = "ai.execution.v1";
/// `snapshot.protocolVersion` written by this implementation.
pub const PROTOCOL_VERSION: &str = "1.3.0";
/// `snapshot.protocolVersion` values this implementation verifies (NexArt 1.2.0 bundles
/// carry no `runtime` and inline `input`/`output`; their hash rule is the same).
pub const ACCEPTED_PROTOCOL_VERSIONS: &[&str] = &["1.2.0", "1.3.0"];
/// The canonicalization profile: RFC 8785 JCS.
pub const CANONICALIZATION: &str = "jcs-v1";

/// Top-level fields covered by `certificateHash`, when present.
pub const HASHED_FIELDS: &[&str] = &[
    "bundleType",
    "context",
    "contextSummary",
    "createdAt",
    "policyEvaluation",
    "snapshot",
    "version",
];
/// Top-level fields that must be present and are hashed.
pub const REQUIRED_HASHED_FIELDS: &[&str] = &["bundleType", "createdAt", "snapshot", "version"];
/// Top-level fields outside the hash.
pub const UNHASHED_FIELDS: &[&str] = &["certificateHash", "meta"];

/// Why a JSON value is not a valid CER v1 bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The document is not a JSON object.
    #[error("bundle is not a JSON object (found {found})")]
    NotAnObject {
        /// The JSON type found instead.
        found: &'static str,
    },
    /// `bundleType` is not `cer.ai.execution.v1`.
    #[error("bundleType: expected \"{BUNDLE_TYPE}\", found {found}")]
    UnsupportedBundleType {
        /// What was found (JSON text).
        found: String,
    },
    /// A version field has a value this implementation does not know.
    #[error("{field}: expected {expected}, found {found}")]
    UnsupportedVersion {
        /// The field (`version` or `snapshot.protocolVersion`).
        field: &'static str,
        /// The accepted values.
        expected: String,
        /// What was found (JSON text).
        found: String,
    },
    /// A digest field is not `sha256:` + 64 lowercase hex digits.
    #[error("{field}: {source}")]
    Digest {
        /// JSON path of the field, e.g. `snapshot.inputHash`.
        field: String,
        /// What is wrong with it.
        source: DigestError,
    },
    /// A field is missing, unknown, of the wrong type or has a wrong value.
    #[error("{field}: {message}")]
    Schema {
        /// JSON path of the field (`.` for the bundle itself).
        field: String,
        /// What was expected and found.
        message: String,
    },
    /// The hashed object has no canonical form.
    #[error("certificate hash input: {0}")]
    Canonical(#[from] CanonicalError),
}

impl RecordError {
    pub(crate) fn schema(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Schema {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A CER v1 bundle, parsed and typed.
///
/// The raw JSON it came from stays the authority for hashing; this view is for checks
/// and display.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Bundle {
    /// `createdAt`: when the record was sealed.
    pub created_at: Timestamp,
    /// `snapshot`: what ran.
    pub snapshot: Snapshot,
    /// `certificateHash` as claimed by the bundle.
    pub certificate_hash: Sha256Digest,
    /// `context`, `contextSummary`, `policyEvaluation` (hashed, not interpreted).
    pub context: Map<String, Value>,
    /// `meta` (not hashed): hardware evidence and annotations.
    pub meta: Option<Map<String, Value>>,
}

impl Bundle {
    /// Parses a bundle from its JSON value: schema, versions and digest formats.
    ///
    /// This does not check `certificateHash`; see [`certificate_hash`] and
    /// [`crate::verify`].
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        let top = as_object(value)?;
        check_envelope(top)?;
        let created_at = Timestamp::parse_field(top.get("createdAt"), "createdAt")?;
        let certificate_hash = digest_field(top.get("certificateHash"), "certificateHash")?;
        let snapshot = Snapshot::from_value(top.get("snapshot"))?;
        let mut context = Map::new();
        for key in ["context", "contextSummary", "policyEvaluation"] {
            if let Some(v) = top.get(key) {
                if !v.is_object() {
                    return Err(RecordError::schema(
                        key,
                        format!("expected an object, found {}", json_type(v)),
                    ));
                }
                context.insert(key.to_owned(), v.clone());
            }
        }
        let meta = match top.get("meta") {
            None => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(other) => {
                return Err(RecordError::schema(
                    "meta",
                    format!("expected an object, found {}", json_type(other)),
                ))
            }
        };
        Ok(Self {
            created_at,
            snapshot,
            certificate_hash,
            context,
            meta,
        })
    }
}

/// Checks `bundleType`, `version` and that no unknown top-level key is present.
pub(crate) fn check_envelope(top: &Map<String, Value>) -> Result<(), RecordError> {
    match top.get("bundleType") {
        None => return Err(RecordError::schema("bundleType", "missing")),
        Some(Value::String(s)) if s == BUNDLE_TYPE => {}
        Some(other) => {
            return Err(RecordError::UnsupportedBundleType {
                found: other.to_string(),
            })
        }
    }
    match top.get("version") {
        None => return Err(RecordError::schema("version", "missing")),
        Some(Value::String(s)) if s == BUNDLE_VERSION => {}
        Some(other) => {
            return Err(RecordError::UnsupportedVersion {
                field: "version",
                expected: format!("\"{BUNDLE_VERSION}\""),
                found: other.to_string(),
            })
        }
    }
    for key in top.keys() {
        if !HASHED_FIELDS.contains(&key.as_str()) && !UNHASHED_FIELDS.contains(&key.as_str()) {
            return Err(RecordError::schema(
                key.as_str(),
                "unknown top-level field (it would be covered by neither certificateHash nor meta)",
            ));
        }
    }
    for key in REQUIRED_HASHED_FIELDS {
        if !top.contains_key(*key) {
            return Err(RecordError::schema(*key, "missing"));
        }
    }
    if !top.contains_key("certificateHash") {
        return Err(RecordError::schema("certificateHash", "missing"));
    }
    Ok(())
}

/// The object whose canonical form `certificateHash` covers: the [`HASHED_FIELDS`]
/// present in `bundle`, copied from the bundle's own JSON.
pub fn hashed_object(bundle: &Value) -> Result<Value, RecordError> {
    let top = as_object(bundle)?;
    for key in REQUIRED_HASHED_FIELDS {
        if !top.contains_key(*key) {
            return Err(RecordError::schema(*key, "missing"));
        }
    }
    let mut out = Map::new();
    for key in HASHED_FIELDS {
        if let Some(v) = top.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

/// Recomputes `certificateHash` from a bundle's JSON: SHA-256 of the RFC 8785 canonical
/// bytes of [`hashed_object`].
pub fn certificate_hash(bundle: &Value) -> Result<Sha256Digest, RecordError> {
    Ok(canonical::digest(&hashed_object(bundle)?)?)
}

/// Seals a snapshot into a bundle: builds the hashed object, computes
/// `certificateHash`, and returns the bundle JSON (without `meta`).
pub fn seal(snapshot: &Snapshot, created_at: Timestamp) -> Result<Value, RecordError> {
    let snapshot = serde_json::to_value(snapshot)
        .map_err(|e| RecordError::schema("snapshot", e.to_string()))?;
    let mut top = Map::new();
    top.insert("bundleType".into(), BUNDLE_TYPE.into());
    top.insert("version".into(), BUNDLE_VERSION.into());
    top.insert("createdAt".into(), created_at.to_string().into());
    top.insert("snapshot".into(), snapshot);
    let mut bundle = Value::Object(top);
    let hash = certificate_hash(&bundle)?;
    if let Value::Object(top) = &mut bundle {
        top.insert("certificateHash".into(), hash.to_string().into());
    }
    // The sealed bundle must parse back; a failure here is a bug in the model.
    Bundle::from_value(&bundle)?;
    Ok(bundle)
}

/// The bundle's top-level object, refusing nesting deeper than [`json::MAX_DEPTH`]
/// (the typed parse and the canonicalizer recurse; a value built in memory rather than
/// parsed could otherwise be arbitrarily deep).
pub(crate) fn as_object(value: &Value) -> Result<&Map<String, Value>, RecordError> {
    let top = value.as_object().ok_or(RecordError::NotAnObject {
        found: json_type(value),
    })?;
    if json::deeper_than(value, json::MAX_DEPTH) {
        return Err(RecordError::schema(
            ".",
            format!("nested deeper than {} levels", json::MAX_DEPTH),
        ));
    }
    Ok(top)
}

/// Reads a required digest field.
pub(crate) fn digest_field(
    value: Option<&Value>,
    field: &str,
) -> Result<Sha256Digest, RecordError> {
    match value {
        None => Err(RecordError::schema(field, "missing")),
        Some(Value::String(s)) => Sha256Digest::parse(s).map_err(|source| RecordError::Digest {
            field: field.to_owned(),
            source,
        }),
        Some(other) => Err(RecordError::schema(
            field,
            format!(
                "expected a \"sha256:<hex>\" string, found {}",
                json_type(other)
            ),
        )),
    }
}

/// The JSON type name of a value, for messages.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
