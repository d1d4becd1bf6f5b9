//! The runtime profile: the inference binary and model files named in the config
//! (paths and glob patterns), hashed at start and on SIGHUP. Records get their
//! `snapshot.runtime` from the profile; the same digests are measured into the PCR
//! (by the quoter thread) so a verifier finds them in the quoted log.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use cerd_attestation::eventlog::{Kind, Measurement};
use cerd_attestation::record::{FileDigest, Runtime};

use super::config::Config;
use crate::files;

/// The hashed profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub binary: Option<FileDigest>,
    pub model_files: Vec<FileDigest>,
}

impl Profile {
    /// Expands the config's patterns and hashes every file (streamed, constant
    /// memory). A pattern that matches nothing, or an unreadable file, is an error
    /// naming it.
    pub fn hash(config: &Config) -> anyhow::Result<Self> {
        let binary = config
            .binary
            .as_deref()
            .map(|p| files::digest_file(p).context("runtime.binary"))
            .transpose()?;
        let mut model_files = Vec::new();
        for pattern in &config.model_files {
            for path in expand(pattern)? {
                model_files.push(
                    files::digest_file(&path)
                        .with_context(|| format!("runtime.model_files {pattern:?}"))?,
                );
            }
        }
        Ok(Self {
            binary,
            model_files,
        })
    }

    /// `snapshot.runtime` for records sealed under this profile (argv is the
    /// client's claim and is kept apart; see the API docs).
    pub fn runtime(&self) -> Runtime {
        Runtime::new(
            self.binary.clone(),
            self.model_files.clone(),
            Vec::new(),
            crate::host::fingerprint(),
        )
    }

    /// [`Profile::runtime`] as JSON.
    pub fn runtime_json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::to_value(self.runtime()).context("cannot encode the runtime")
    }

    /// The log events to measure, binary first.
    pub fn measurements(&self) -> anyhow::Result<Vec<Measurement>> {
        let mut out = Vec::new();
        for (kind, f) in self
            .binary
            .iter()
            .map(|b| (Kind::Binary, b))
            .chain(self.model_files.iter().map(|m| (Kind::Model, m)))
        {
            out.push(Measurement::new(kind, f.path.clone(), f.size, f.digest)?);
        }
        Ok(out)
    }

    /// JSON description (stored with each measurement, shown in health).
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "binary": self.binary, "modelFiles": self.model_files })
    }
}

/// A path, or a glob pattern's matches in sorted order (at least one).
fn expand(pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![PathBuf::from(pattern)]);
    }
    let mut paths = glob::glob(pattern)
        .map_err(|e| anyhow::anyhow!("runtime.model_files {pattern:?} is not a glob: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("runtime.model_files {pattern:?}"))?;
    paths.retain(|p| p.is_file());
    paths.sort();
    if paths.is_empty() {
        bail!("runtime.model_files {pattern:?} matches no file");
    }
    Ok(paths)
}
