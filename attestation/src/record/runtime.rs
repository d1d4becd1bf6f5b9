//! `snapshot.runtime`: cerd's extension describing the execution environment — the
//! inference binary and model files by digest, the argv, and the host.

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::RecordError;
use crate::digest::Sha256Digest;

/// The execution environment of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Runtime {
    /// The inference binary, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<FileDigest>,
    /// The model files, in the order given.
    pub model_files: Vec<FileDigest>,
    /// The command line of the run (may be empty).
    pub argv: Vec<String>,
    /// The host that sealed the record.
    pub host: Host,
    /// Keys this version does not interpret.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A file by path, size and SHA-256 of its contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileDigest {
    /// Absolute path as seen by the sealing host.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents.
    pub digest: Sha256Digest,
}

/// A fingerprint of the sealing host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Host {
    /// `PRETTY_NAME` from os-release(5), e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os_release: String,
    /// Kernel release, e.g. `6.1.0-28-amd64`.
    pub kernel: String,
    /// CPU architecture, e.g. `x86_64`.
    pub arch: String,
    /// Version of cerd that sealed the record.
    pub cerd_version: String,
}

impl Runtime {
    /// A runtime description.
    pub fn new(
        binary: Option<FileDigest>,
        model_files: Vec<FileDigest>,
        argv: Vec<String>,
        host: Host,
    ) -> Self {
        Self {
            binary,
            model_files,
            argv,
            host,
            other: Map::new(),
        }
    }

    pub(super) fn from_value(value: &Value, path: &str) -> Result<Self, RecordError> {
        let f = Fields::new(Some(value), path)?;
        let binary = match f.get("binary") {
            None | Some(Value::Null) => None,
            Some(v) => Some(FileDigest::from_value(v, &f.child("binary"))?),
        };
        let model_files = f
            .array("modelFiles")?
            .iter()
            .enumerate()
            .map(|(i, v)| FileDigest::from_value(v, &format!("{}[{i}]", f.child("modelFiles"))))
            .collect::<Result<_, _>>()?;
        let host = Fields::new(f.get("host"), &f.child("host"))?;
        Ok(Self {
            binary,
            model_files,
            argv: f.strings("argv")?,
            host: Host {
                os_release: host.string("osRelease")?,
                kernel: host.string("kernel")?,
                arch: host.string("arch")?,
                cerd_version: host.string("cerdVersion")?,
            },
            other: f.rest(&["binary", "modelFiles", "argv", "host"]),
        })
    }
}

impl FileDigest {
    /// A file description.
    pub fn new(path: String, size: u64, digest: Sha256Digest) -> Self {
        Self { path, size, digest }
    }

    fn from_value(value: &Value, path: &str) -> Result<Self, RecordError> {
        let f = Fields::new(Some(value), path)?;
        f.deny_unknown(&["path", "size", "digest"])?;
        Ok(Self {
            path: f.string("path")?,
            size: f.size("size")?,
            digest: f.digest("digest")?,
        })
    }
}

impl Host {
    /// A host fingerprint.
    pub fn new(os_release: String, kernel: String, arch: String, cerd_version: String) -> Self {
        Self {
            os_release,
            kernel,
            arch,
            cerd_version,
        }
    }
}
