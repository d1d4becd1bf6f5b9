//! The verifier's policy (TOML): what a record must show to be accepted beyond its
//! integrity — which binaries and models, which PCR values, how its attestation key
//! may be trusted, how old it may be. See `deploy/policy.example.toml`.
//!
//! The policy is the user's, not the operator's: it is read from a file the verifier
//! chooses, and every dev-only switch that weakens it is off by default and reported
//! in every verdict when on ([`Policy::warnings`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::digest::Sha256Digest;

/// How an attestation key may be trusted (docs: issue 4, "Trust").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AkTrustMode {
    /// The AK certificate chains to a trusted attestation CA (`cer ca`), and the EK
    /// certificate it names chains to a TPM vendor root.
    Enrolled,
    /// The AK certificate chains to a cloud vTPM root (GCE, Azure).
    Cloud,
    /// The AK's public key is pinned in this policy.
    Pinned,
}

/// A parsed, checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Allowed inference binaries: name → accepted digests.
    pub binaries: BTreeMap<String, Vec<Sha256Digest>>,
    /// Allowed model files: name → accepted digests.
    pub models: BTreeMap<String, Vec<Sha256Digest>>,
    /// Required PCR values of the SHA-256 bank: index → value.
    pub pcrs: BTreeMap<u8, [u8; 32]>,
    /// Accepted ways to trust the AK (default: enrolled, cloud).
    pub ak_trust: Vec<AkTrustMode>,
    /// PEM files of trusted attestation CA roots (read by the CLI).
    pub attestation_ca: Vec<String>,
    /// Pinned AKs: SHA-256 of their SubjectPublicKeyInfo DER.
    pub pinned_aks: Vec<[u8; 32]>,
    /// Records sealed longer ago than this (at the verification time) are refused.
    pub max_record_age: Option<Duration>,
    /// Accept SHA-1 signatures in certificate chains (legacy TPM vendor chains).
    pub allow_sha1: bool,
    /// Refuse records that carry no hardware evidence (default true).
    pub require_evidence: bool,
    /// Dev-only switches.
    pub dev: DevSwitches,
    /// What SEV-SNP reports must show (the `[snp]` table), when given.
    pub snp: Option<crate::snp::SnpPolicy>,
}

/// Switches for development and tests only; off by default, loud when on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DevSwitches {
    /// Trust this swtpm local CA directory's root as an EK vendor root.
    pub trust_swtpm_ca: Option<String>,
    /// Accept an AK with no certificate and no pin (its quotes prove nothing about
    /// which TPM made them).
    pub allow_unenrolled_ak: bool,
}

/// Why a policy file is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// TOML syntax or a field of the wrong type / unknown field.
    #[error("policy: {message}")]
    Toml {
        /// The parser's message (it names the line and column).
        message: String,
    },
    /// A value is well-typed but wrong.
    #[error("policy: {field}: {message}")]
    Value {
        /// The field, e.g. `models.llama-3-8b`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    binaries: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    models: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pcrs: BTreeMap<String, String>,
    ak_trust: Option<Vec<AkTrustMode>>,
    #[serde(default)]
    attestation_ca: Vec<String>,
    #[serde(default)]
    pinned_aks: Vec<String>,
    max_record_age: Option<String>,
    #[serde(default)]
    allow_sha1: bool,
    require_evidence: Option<bool>,
    #[serde(default)]
    dev: RawDev,
    snp: Option<crate::snp::policy::RawSnpPolicy>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDev {
    trust_swtpm_ca: Option<String>,
    #[serde(default)]
    allow_unenrolled_ak: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Default for Policy {
    /// The policy when none is given: integrity, evidence if present, enrolled or cloud
    /// AKs; no allow-lists.
    fn default() -> Self {
        Self {
            binaries: BTreeMap::new(),
            models: BTreeMap::new(),
            pcrs: BTreeMap::new(),
            ak_trust: vec![AkTrustMode::Enrolled, AkTrustMode::Cloud],
            attestation_ca: Vec::new(),
            pinned_aks: Vec::new(),
            max_record_age: None,
            allow_sha1: false,
            require_evidence: false,
            dev: DevSwitches::default(),
            snp: None,
        }
    }
}

impl Policy {
    /// Parses a policy from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let raw: Raw = toml::from_str(text).map_err(|e| PolicyError::Toml {
            message: e.to_string().replace('\n', " ").trim().to_owned(),
        })?;
        let digests = |section: &str, map: BTreeMap<String, OneOrMany>| {
            map.into_iter()
                .map(|(name, v)| {
                    let list = match v {
                        OneOrMany::One(s) => vec![s],
                        OneOrMany::Many(l) => l,
                    };
                    if list.is_empty() {
                        return Err(value(format!("{section}.{name}"), "empty list of digests"));
                    }
                    let parsed = list
                        .iter()
                        .map(|d| {
                            Sha256Digest::parse(d)
                                .map_err(|e| value(format!("{section}.{name}"), e.to_string()))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((name, parsed))
                })
                .collect::<Result<BTreeMap<_, _>, PolicyError>>()
        };
        let mut pcrs = BTreeMap::new();
        for (k, v) in raw.pcrs {
            let index: u8 = k
                .parse()
                .ok()
                .filter(|i| *i <= 23)
                .ok_or_else(|| value(format!("pcrs.{k}"), "not a PCR index (0 to 23)"))?;
            let mut out = [0u8; 32];
            hex::decode_to_slice(v.trim_start_matches("0x"), &mut out).map_err(|_| {
                value(
                    format!("pcrs.{k}"),
                    "expected 64 hex digits (a SHA-256 PCR value)",
                )
            })?;
            pcrs.insert(index, out);
        }
        let pinned_aks = raw
            .pinned_aks
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(p.trim_start_matches("sha256:"), &mut out)
                    .map(|()| out)
                    .map_err(|_| {
                        value(
                            format!("pinned_aks[{i}]"),
                            "expected the SHA-256 of the AK's SubjectPublicKeyInfo, 64 hex digits",
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ak_trust = raw
            .ak_trust
            .unwrap_or_else(|| vec![AkTrustMode::Enrolled, AkTrustMode::Cloud]);
        if ak_trust.contains(&AkTrustMode::Pinned) && pinned_aks.is_empty() {
            return Err(value(
                "ak_trust",
                "\"pinned\" is accepted but pinned_aks is empty",
            ));
        }
        let max_record_age = raw
            .max_record_age
            .as_deref()
            .map(|s| {
                parse_duration(s).ok_or_else(|| {
                    value(
                        "max_record_age",
                        format!(
                            "{s:?} is not a duration like \"30d\", \"12h\", \"90m\" or \"45s\""
                        ),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            binaries: digests("binaries", raw.binaries)?,
            models: digests("models", raw.models)?,
            pcrs,
            ak_trust,
            attestation_ca: raw.attestation_ca,
            pinned_aks,
            max_record_age,
            allow_sha1: raw.allow_sha1,
            require_evidence: raw.require_evidence.unwrap_or(true),
            dev: DevSwitches {
                trust_swtpm_ca: raw.dev.trust_swtpm_ca,
                allow_unenrolled_ak: raw.dev.allow_unenrolled_ak,
            },
            snp: raw.snp.map(|s| s.check()).transpose()?,
        })
    }

    /// Lines to print in every verdict while a weakening switch is on.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(dir) = &self.dev.trust_swtpm_ca {
            out.push(format!(
                "DEV POLICY: the swtpm local CA in {dir} is trusted as a TPM vendor root; EK chains prove nothing about real hardware"
            ));
        }
        if self.dev.allow_unenrolled_ak {
            out.push("DEV POLICY: unenrolled AKs are accepted; quotes do not prove which TPM signed them".into());
        }
        if self.allow_sha1 {
            out.push("policy allows SHA-1 signatures in certificate chains (legacy)".into());
        }
        if let Some(snp) = &self.snp {
            out.extend(snp.warnings());
        }
        out
    }

    /// The name of the allowed binary with this digest, if any.
    pub fn binary_named(&self, digest: &Sha256Digest) -> Option<&str> {
        find(&self.binaries, digest)
    }

    /// The name of the allowed model with this digest, if any.
    pub fn model_named(&self, digest: &Sha256Digest) -> Option<&str> {
        find(&self.models, digest)
    }
}

fn find<'a>(map: &'a BTreeMap<String, Vec<Sha256Digest>>, d: &Sha256Digest) -> Option<&'a str> {
    map.iter()
        .find(|(_, list)| list.contains(d))
        .map(|(name, _)| name.as_str())
}

fn value(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError::Value {
        field: field.into(),
        message: message.into(),
    }
}

/// `30d`, `12h`, `90m`, `45s`.
fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }?;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn the_example_policy_parses() {
        let text = include_str!("../../deploy/policy.example.toml");
        let p = Policy::from_toml(text).unwrap();
        assert!(!p.models.is_empty());
        assert!(
            p.warnings().is_empty(),
            "the example must not weaken anything"
        );
        assert!(p.require_evidence);
    }

    #[test]
    fn defaults_and_lookups() {
        let p = Policy::from_toml(&format!("[models]\nllama = \"{A}\"\n")).unwrap();
        assert_eq!(p.ak_trust, vec![AkTrustMode::Enrolled, AkTrustMode::Cloud]);
        assert_eq!(
            p.model_named(&Sha256Digest::parse(A).unwrap()),
            Some("llama")
        );
        assert_eq!(p.binary_named(&Sha256Digest::parse(A).unwrap()), None);
        assert!(!p.allow_sha1);
        assert_eq!(p.dev, DevSwitches::default());
    }

    #[test]
    fn dev_switches_are_loud() {
        let p = Policy::from_toml("[dev]\ntrust_swtpm_ca = \"/x\"\nallow_unenrolled_ak = true\n")
            .unwrap();
        assert_eq!(p.warnings().len(), 2);
        assert!(p.warnings()[0].starts_with("DEV POLICY"));
    }

    #[test]
    fn bad_policies_name_the_field() {
        for (text, needle) in [
            ("[models]\nx = \"sha256:AB\"\n", "models.x"),
            ("[models]\nx = []\n", "models.x"),
            ("[pcrs]\n24 = \"00\"\n", "pcrs.24"),
            ("[pcrs]\n15 = \"zz\"\n", "pcrs.15"),
            ("max_record_age = \"3 weeks\"\n", "max_record_age"),
            ("ak_trust = [\"pinned\"]\n", "pinned_aks is empty"),
            ("ak_trust = [\"anything\"]\n", "unknown variant"),
            ("unknown = 1\n", "unknown field"),
            ("[dev]\nfoo = true\n", "unknown field"),
            ("pinned_aks = [\"00\"]\n", "pinned_aks[0]"),
            ("[models\n", "policy"),
        ] {
            let err = Policy::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
        assert_eq!(parse_duration("30d"), Some(Duration::from_secs(2_592_000)));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }
}
