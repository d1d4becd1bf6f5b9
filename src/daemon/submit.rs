//! A run description (the body of `POST /v1/records`) and sealing it into a record.
//!
//! The daemon, not the client, writes `snapshot.runtime`: from its measured profile.
//! What the client says about the runtime, the command line, exit status or duration
//! is kept apart under `snapshot.clientClaims` (hashed, but labelled as the client's
//! claim, not as something the daemon measured).

use cerd_attestation::record::{self, Parameters, Snapshot, Timestamp};
use cerd_attestation::verify::content_digest;
use cerd_attestation::Sha256Digest;
use cerd_attestation::{canonical, json};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The JSON a client submits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunDescription {
    provider: String,
    model: String,
    input_hash: Option<String>,
    /// Inline input: hashed (a JSON string as its UTF-8 bytes, anything else as its
    /// RFC 8785 form), not stored.
    input: Option<Value>,
    output_hash: Option<String>,
    output: Option<Value>,
    #[serde(default)]
    parameters: Map<String, Value>,
    execution_id: Option<String>,
    app_id: Option<String>,
    /// What the client says about the runtime: kept as a claim.
    runtime: Option<Value>,
    /// Anything else the client asserts (argv, exitStatus, durationMs, …).
    claims: Option<Map<String, Value>>,
}

/// A field that is wrong, and why: the 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Parses a body into a run description: one JSON object, nothing after it, known
/// fields only. The error names the field.
pub fn parse(bytes: &[u8]) -> Result<RunDescription, FieldError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(FieldError::new(".", "the body is not a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let desc: RunDescription = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let field = if path == "?" || e.inner().is_syntax() || e.inner().is_eof() {
            // Not JSON at all: there is no field to name.
            ".".to_owned()
        } else if path == "." {
            // Unknown and missing fields are reported at the parent: name them.
            message
                .split('`')
                .nth(1)
                .map_or_else(|| ".".to_owned(), str::to_owned)
        } else {
            path
        };
        FieldError { field, message }
    })?;
    de.end()
        .map_err(|e| FieldError::new(".", format!("data after the JSON object: {e}")))?;
    Ok(desc)
}

/// A sealed record: its hash and its compact JSON (no `meta`).
#[derive(Debug)]
pub struct Sealed {
    pub hash: Sha256Digest,
    pub body: String,
}

/// Seals a description with the daemon's runtime.
/// `runtime` is the JSON of `snapshot.runtime` (the daemon's profile).
pub fn seal(desc: RunDescription, runtime: &Value) -> Result<Sealed, FieldError> {
    let non_empty = |field: &str, v: String| {
        if v.is_empty() {
            Err(FieldError::new(field, "must not be empty"))
        } else {
            Ok(v)
        }
    };
    let provider = non_empty("provider", desc.provider)?;
    let model = non_empty("model", desc.model)?;
    let input_hash = content("input", desc.input_hash, desc.input)?;
    let output_hash = content("output", desc.output_hash, desc.output)?;
    let parameters = Parameters::from_map(&desc.parameters)
        .map_err(|e| FieldError::new("parameters", e.to_string()))?;
    let execution_id = match desc.execution_id {
        Some(id) => non_empty("executionId", id)?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let app_id = desc.app_id.map(|a| non_empty("appId", a)).transpose()?;

    let mut snapshot = Snapshot::new(
        execution_id,
        provider,
        model,
        input_hash,
        output_hash,
        parameters,
    );
    snapshot.app_id = app_id;
    let mut claims = desc.claims.unwrap_or_default();
    if let Some(rt) = desc.runtime {
        claims.insert("runtime".into(), rt);
    }
    if !claims.is_empty() {
        snapshot
            .other
            .insert("clientClaims".into(), Value::Object(claims));
    }
    // The bundle is built here rather than by `record::seal` so the runtime (the same
    // for every record) is encoded once per profile, not once per record; the unit
    // tests check the result verifies with the library's verifier.
    let mut snapshot = serde_json::to_value(&snapshot)
        .map_err(|e| FieldError::new(".", format!("cannot encode the record: {e}")))?;
    if let Some(s) = snapshot.as_object_mut() {
        s.insert("runtime".into(), runtime.clone());
    }
    let mut top = Map::new();
    top.insert("bundleType".into(), record::BUNDLE_TYPE.into());
    top.insert("version".into(), record::BUNDLE_VERSION.into());
    top.insert("createdAt".into(), Timestamp::now().to_string().into());
    top.insert("snapshot".into(), snapshot);
    let bundle = Value::Object(top);
    if json::deeper_than(&bundle, json::MAX_DEPTH) {
        return Err(FieldError::new(
            "claims",
            format!(
                "the record would nest deeper than {} levels",
                json::MAX_DEPTH
            ),
        ));
    }
    // Exactly the hashed fields so far: certificateHash = SHA-256(JCS(bundle)). The
    // stored body is that canonical text with certificateHash added at the end (key
    // order does not matter in JSON), so the record is encoded once.
    let canonical =
        canonical::to_bytes(&bundle).map_err(|e| FieldError::new("claims", e.to_string()))?;
    let hash = Sha256Digest::of(&canonical);
    let mut body = String::from_utf8(canonical)
        .map_err(|e| FieldError::new(".", format!("canonical JSON is not UTF-8: {e}")))?;
    if body.pop() != Some('}') {
        return Err(FieldError::new(
            ".",
            "canonical JSON is not an object (a bug in cerd)",
        ));
    }
    body.push_str(",\"certificateHash\":\"");
    body.push_str(&hash.to_string());
    body.push_str("\"}");
    Ok(Sealed { hash, body })
}

fn content(
    name: &str,
    hash: Option<String>,
    inline: Option<Value>,
) -> Result<Sha256Digest, FieldError> {
    let hash_field = format!("{name}Hash");
    match (hash, inline) {
        (Some(h), None) => {
            Sha256Digest::parse(&h).map_err(|e| FieldError::new(&hash_field, e.to_string()))
        }
        (None, Some(v)) => content_digest(&v).map_err(|e| FieldError::new(name, e.to_string())),
        (Some(_), Some(_)) => Err(FieldError::new(
            name,
            format!("give {hash_field} or {name}, not both"),
        )),
        (None, None) => Err(FieldError::new(
            &hash_field,
            format!("missing: give {hash_field} (sha256:HEX) or {name} (inline content)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> Value {
        serde_json::to_value(cerd_attestation::record::Runtime::new(
            None,
            Vec::new(),
            Vec::new(),
            crate::host::fingerprint(),
        ))
        .unwrap()
    }

    fn field(body: &str) -> String {
        match parse(body.as_bytes()).and_then(|d| seal(d, &runtime())) {
            Ok(_) => panic!("accepted {body}"),
            Err(e) => e.field,
        }
    }

    const H: &str = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";

    #[test]
    fn seals_with_the_daemon_runtime_and_keeps_claims_apart() {
        let body = format!(
            r#"{{"provider":"local","model":"m","inputHash":"{H}","output":"Paris","parameters":{{"temperature":0.5}},"runtime":{{"binary":"/tmp/evil"}},"claims":{{"argv":["x"]}}}}"#
        );
        let sealed = seal(parse(body.as_bytes()).unwrap(), &runtime()).unwrap();
        let v: Value = serde_json::from_str(&sealed.body).unwrap();
        let verdict = cerd_attestation::verify::verify_value(&v);
        assert!(verdict.valid, "{:?}", verdict.reasons);
        assert_eq!(verdict.certificate_hash, Some(sealed.hash));
        assert!(v["snapshot"]["runtime"].get("binary").is_none());
        assert_eq!(
            v["snapshot"]["clientClaims"]["runtime"]["binary"],
            "/tmp/evil"
        );
        assert_eq!(v["snapshot"]["clientClaims"]["argv"][0], "x");
        assert_eq!(
            v["snapshot"]["outputHash"],
            format!(
                "sha256:{}",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"Paris"))
            )
        );
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field(r#"{"model":"m"}"#), "provider");
        assert_eq!(
            field(&format!(
                r#"{{"provider":"p","model":"m","inputHash":"{H}","outputHash":"{H}","nope":1}}"#
            )),
            "nope"
        );
        assert_eq!(
            field(&format!(
                r#"{{"provider":"p","model":"m","inputHash":"sha256:XY","outputHash":"{H}"}}"#
            )),
            "inputHash"
        );
        assert_eq!(
            field(&format!(
                r#"{{"provider":"p","model":"m","inputHash":"{H}"}}"#
            )),
            "outputHash"
        );
        assert_eq!(
            field(&format!(
                r#"{{"provider":"p","model":"m","inputHash":"{H}","outputHash":"{H}","parameters":{{"maxTokens":-1}}}}"#
            )),
            "parameters"
        );
        assert_eq!(
            field(&format!(
                r#"{{"provider":1,"model":"m","inputHash":"{H}","outputHash":"{H}"}}"#
            )),
            "provider"
        );
        assert_eq!(
            field(&format!(
                r#"{{"provider":"","model":"m","inputHash":"{H}","outputHash":"{H}"}}"#
            )),
            "provider"
        );
        assert_eq!(
            field(&format!(
                r#"{{"provider":"p","model":"m","inputHash":"{H}","outputHash":"{H}"}} x"#
            )),
            "."
        );
        assert_eq!(field("[1]"), ".");
    }

    /// The run description `cer bench` sends.
    const BENCH: &str = r#"{"provider":"bench","model":"m","inputHash":"sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","outputHash":"sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2","executionId":"bench-1"}"#;

    /// Parse + seal of the bench's run description, per record (release build:
    /// `cargo test --release --bin cer seal_bench -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn seal_bench() {
        let rt = runtime();
        let n = 200_000u32;
        let start = std::time::Instant::now();
        for i in 0..n {
            let body = BENCH.replace("bench-1", &format!("bench-{i}"));
            let sealed = seal(parse(body.as_bytes()).unwrap(), &rt).unwrap();
            std::hint::black_box(sealed);
        }
        println!("parse + seal: {:?} per record", start.elapsed() / n);
        let sealed = seal(parse(BENCH.as_bytes()).unwrap(), &rt).unwrap();
        let v: Value = serde_json::from_str(&sealed.body).unwrap();
        let start = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(cerd_attestation::canonical::to_bytes(&v).unwrap());
        }
        println!(
            "of which canonical JSON of the {}-byte record: {:?}",
            sealed.body.len(),
            start.elapsed() / n
        );
    }
}
