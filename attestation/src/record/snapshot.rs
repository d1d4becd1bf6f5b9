//! `snapshot`: what ran (`ai.execution.v1`). Every byte of it is covered by the
//! certificate hash.

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::{RecordError, Runtime, ACCEPTED_PROTOCOL_VERSIONS, PROTOCOL_VERSION, SNAPSHOT_TYPE};
use crate::digest::Sha256Digest;

/// The execution snapshot.
///
/// Field names in JSON are camelCase. Keys this version does not interpret (NexArt's
/// `prompt`, `timestamp`, `modelVersion`, `executionSurface`, `sdkVersion`, or a newer
/// protocol's fields) are kept in [`Snapshot::other`]; they are hashed like the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Snapshot {
    /// Always [`SNAPSHOT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// One of [`ACCEPTED_PROTOCOL_VERSIONS`]; [`PROTOCOL_VERSION`] when sealed here.
    pub protocol_version: String,
    /// Caller's identifier of the run.
    pub execution_id: String,
    /// Who served the model (`openai`, `local`, …).
    pub provider: String,
    /// Model name as the provider calls it.
    pub model: String,
    /// SHA-256 of the input (raw bytes for a file, UTF-8 for text, JCS for JSON).
    pub input_hash: Sha256Digest,
    /// SHA-256 of the output, same rule.
    pub output_hash: Sha256Digest,
    /// Generation parameters.
    pub parameters: Parameters,
    /// The calling application, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// cerd's extension: the execution environment, as measured by cerd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    /// NexArt inline input (text or JSON), when the record carries the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// NexArt inline output, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Every other key, uninterpreted.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `snapshot.parameters`. The four named keys are always present (`null` when not
/// set); any other key is allowed and kept in [`Parameters::other`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Parameters {
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Token limit (non-negative integer).
    pub max_tokens: Option<i64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Sampling seed (integer).
    pub seed: Option<i64>,
    /// Other parameters, any JSON.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

const SNAPSHOT_KEYS: &[&str] = &[
    "type",
    "protocolVersion",
    "executionId",
    "provider",
    "model",
    "inputHash",
    "outputHash",
    "parameters",
    "appId",
    "runtime",
    "input",
    "output",
];
const PARAMETER_KEYS: &[&str] = &["temperature", "maxTokens", "topP", "seed"];

impl Snapshot {
    /// A snapshot as `cer seal` writes it (type and protocol version filled in).
    pub fn new(
        execution_id: String,
        provider: String,
        model: String,
        input_hash: Sha256Digest,
        output_hash: Sha256Digest,
        parameters: Parameters,
    ) -> Self {
        Self {
            kind: SNAPSHOT_TYPE.to_owned(),
            protocol_version: PROTOCOL_VERSION.to_owned(),
            execution_id,
            provider,
            model,
            input_hash,
            output_hash,
            parameters,
            app_id: None,
            runtime: None,
            input: None,
            output: None,
            other: Map::new(),
        }
    }

    /// Parses `snapshot` from the bundle JSON.
    pub fn from_value(value: Option<&Value>) -> Result<Self, RecordError> {
        let f = Fields::new(value, "snapshot")?;
        let kind = f.constant("type", &[SNAPSHOT_TYPE])?;
        let protocol_version = match f.get("protocolVersion") {
            Some(Value::String(s)) if ACCEPTED_PROTOCOL_VERSIONS.contains(&s.as_str()) => s.clone(),
            Some(Value::String(s)) => {
                return Err(RecordError::UnsupportedVersion {
                    field: "snapshot.protocolVersion",
                    expected: format!("one of {ACCEPTED_PROTOCOL_VERSIONS:?}"),
                    found: format!("{s:?}"),
                })
            }
            _ => f.string("protocolVersion")?, // missing or not a string: schema error
        };
        let input_hash = f.digest("inputHash")?;
        let output_hash = f.digest("outputHash")?;
        let runtime = match f.get("runtime") {
            None => None,
            Some(v) => Some(Runtime::from_value(v, &f.child("runtime"))?),
        };
        Ok(Self {
            kind,
            protocol_version,
            execution_id: f.string("executionId")?,
            provider: f.string("provider")?,
            model: f.string("model")?,
            input_hash,
            output_hash,
            parameters: Parameters::from_value(f.get("parameters"), &f.child("parameters"))?,
            app_id: f.opt_string("appId")?,
            runtime,
            input: f.get("input").cloned(),
            output: f.get("output").cloned(),
            other: f.rest(SNAPSHOT_KEYS),
        })
    }
}

impl Parameters {
    /// All four named parameters unset, no others.
    pub fn unset() -> Self {
        Self {
            temperature: None,
            max_tokens: None,
            top_p: None,
            seed: None,
            other: Map::new(),
        }
    }

    /// Builds parameters from `key → JSON value` pairs, checking the named ones.
    pub fn from_map(map: &Map<String, Value>) -> Result<Self, RecordError> {
        let mut full = map.clone();
        for key in PARAMETER_KEYS {
            full.entry(*key).or_insert(Value::Null);
        }
        Self::from_value(Some(&Value::Object(full)), "parameters")
    }

    fn from_value(value: Option<&Value>, path: &str) -> Result<Self, RecordError> {
        let f = Fields::new(value, path)?;
        Ok(Self {
            temperature: f.nullable_number("temperature")?,
            max_tokens: f.nullable_integer("maxTokens", 0)?,
            top_p: f.nullable_number("topP")?,
            seed: f.nullable_integer("seed", i64::MIN)?,
            other: f.rest(PARAMETER_KEYS),
        })
    }
}
