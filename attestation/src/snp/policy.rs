//! The `[snp]` table of the verifier's policy (see `deploy/policy.example.toml`):
//! which launch measurements, TCB levels, guest-policy bits, VMPLs, data fields and
//! signing keys an SNP report must show.

use serde::Deserialize;

use super::certs::EndorsementKind;
use super::tcb::{Component, TcbVersion};
use crate::policy::PolicyError;

/// Minimum SPL per TCB component (absent: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinTcb {
    pub fmc: Option<u8>,
    pub bl: Option<u8>,
    pub tee: Option<u8>,
    pub snp: Option<u8>,
    pub ucode: Option<u8>,
}

impl MinTcb {
    /// The minimum for a component.
    pub fn get(&self, c: Component) -> Option<u8> {
        match c {
            Component::Fmc => self.fmc,
            Component::Bl => self.bl,
            Component::Tee => self.tee,
            Component::Snp => self.snp,
            Component::Ucode => self.ucode,
        }
    }

    /// Components of `tcb` below their minimum: (component, found, minimum). A minimum
    /// for FMC on a generation without one is unmet (found 0).
    pub fn shortfalls(&self, tcb: &TcbVersion) -> Vec<(Component, u8, u8)> {
        Component::ALL
            .into_iter()
            .filter_map(|c| {
                let min = self.get(c)?;
                let found = tcb.spl(c).unwrap_or(0);
                (found < min).then_some((c, found, min))
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        Component::ALL.into_iter().all(|c| self.get(c).is_none())
    }
}

/// A parsed `[snp]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnpPolicy {
    /// Allowed launch MEASUREMENTs (empty: any).
    pub measurements: Vec<[u8; 48]>,
    /// Minimum REPORTED_TCB per component.
    pub min_tcb: MinTcb,
    /// Accept guests whose policy allows debugging (default false).
    pub allow_debug: bool,
    /// Accept guests whose policy allows a migration agent (default false).
    pub allow_migration_agent: bool,
    /// Accept platforms with SMT enabled (default true).
    pub allow_smt: bool,
    /// The highest VMPL a report may come from (absent: any).
    pub max_vmpl: Option<u32>,
    /// The expected REPORT_DATA (zero-padded to 64 bytes).
    pub report_data: Option<[u8; 64]>,
    /// The expected HOST_DATA.
    pub host_data: Option<[u8; 32]>,
    /// Allowed ID_KEY_DIGESTs (empty: any).
    pub id_key_digests: Vec<[u8; 48]>,
    /// Allowed AUTHOR_KEY_DIGESTs (empty: any).
    pub author_key_digests: Vec<[u8; 48]>,
    /// Allowed signing keys (default both).
    pub signing_keys: Vec<EndorsementKind>,
    /// Test ARKs of simulated guests to trust, by SHA-256 of their SubjectPublicKeyInfo
    /// (dev only: reports under them prove nothing about hardware).
    pub trusted_test_arks: Vec<[u8; 32]>,
}

impl Default for SnpPolicy {
    fn default() -> Self {
        Self {
            measurements: Vec::new(),
            min_tcb: MinTcb::default(),
            allow_debug: false,
            allow_migration_agent: false,
            allow_smt: true,
            max_vmpl: None,
            report_data: None,
            host_data: None,
            id_key_digests: Vec::new(),
            author_key_digests: Vec::new(),
            signing_keys: vec![EndorsementKind::Vcek, EndorsementKind::Vlek],
            trusted_test_arks: Vec::new(),
        }
    }
}

/// The `[snp]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnpPolicy {
    #[serde(default)]
    measurements: Vec<String>,
    #[serde(default)]
    min_tcb: MinTcb,
    #[serde(default)]
    allow_debug: bool,
    #[serde(default)]
    allow_migration_agent: bool,
    allow_smt: Option<bool>,
    max_vmpl: Option<u32>,
    report_data: Option<String>,
    host_data: Option<String>,
    #[serde(default)]
    id_key_digests: Vec<String>,
    #[serde(default)]
    author_key_digests: Vec<String>,
    signing_keys: Option<Vec<RawKey>>,
    #[serde(default)]
    trusted_test_arks: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawKey {
    Vcek,
    Vlek,
}

fn err(field: String, message: &str) -> PolicyError {
    PolicyError::Value {
        field,
        message: message.to_owned(),
    }
}

fn fixed<const N: usize>(field: String, text: &str) -> Result<[u8; N], PolicyError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text.trim_start_matches("0x"), &mut out).map_err(|_| {
        PolicyError::Value {
            field,
            message: format!("expected {} hex digits", N.saturating_mul(2)),
        }
    })?;
    Ok(out)
}

fn list<const N: usize>(name: &str, items: &[String]) -> Result<Vec<[u8; N]>, PolicyError> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| fixed::<N>(format!("snp.{name}[{i}]"), t))
        .collect()
}

impl RawSnpPolicy {
    pub(crate) fn check(self) -> Result<SnpPolicy, PolicyError> {
        let report_data = self
            .report_data
            .as_deref()
            .map(|t| {
                let bytes = hex::decode(t.trim_start_matches("0x"))
                    .map_err(|_| err("snp.report_data".into(), "not hex"))?;
                if bytes.len() > 64 {
                    return Err(err("snp.report_data".into(), "longer than 64 bytes"));
                }
                let mut out = [0u8; 64];
                out.iter_mut().zip(&bytes).for_each(|(o, b)| *o = *b);
                Ok(out)
            })
            .transpose()?;
        let signing_keys = match self.signing_keys {
            None => vec![EndorsementKind::Vcek, EndorsementKind::Vlek],
            Some(keys) if keys.is_empty() => {
                return Err(err(
                    "snp.signing_keys".into(),
                    "empty: no report could pass",
                ))
            }
            Some(keys) => keys
                .into_iter()
                .map(|k| match k {
                    RawKey::Vcek => EndorsementKind::Vcek,
                    RawKey::Vlek => EndorsementKind::Vlek,
                })
                .collect(),
        };
        Ok(SnpPolicy {
            measurements: list("measurements", &self.measurements)?,
            min_tcb: self.min_tcb,
            allow_debug: self.allow_debug,
            allow_migration_agent: self.allow_migration_agent,
            allow_smt: self.allow_smt.unwrap_or(true),
            max_vmpl: self.max_vmpl,
            report_data,
            host_data: self
                .host_data
                .as_deref()
                .map(|t| fixed::<32>("snp.host_data".into(), t))
                .transpose()?,
            id_key_digests: list("id_key_digests", &self.id_key_digests)?,
            author_key_digests: list("author_key_digests", &self.author_key_digests)?,
            signing_keys,
            trusted_test_arks: self
                .trusted_test_arks
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    fixed::<32>(
                        format!("snp.trusted_test_arks[{i}]"),
                        t.trim_start_matches("sha256:"),
                    )
                })
                .collect::<Result<_, _>>()?,
        })
    }
}

impl SnpPolicy {
    /// Lines to print in every verdict while a weakening switch is on.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.trusted_test_arks.is_empty() {
            out.push("DEV POLICY: simulated SEV-SNP test ARKs are trusted; their reports prove nothing about hardware".into());
        }
        if self.allow_debug {
            out.push("policy accepts SEV-SNP guests that allow debugging".into());
        }
        out
    }
}
