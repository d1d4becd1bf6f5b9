//! Hardware evidence carried under a bundle's `meta.cerd.evidence` (outside the
//! certificate hash), as `cer attest` writes it. See docs/record-format.md, "Evidence".
//!
//! This module fixes the *encoding*: which bytes are carried and how. Checking them
//! (quote signature, PCR digest, certificate chains, log replay) is the verifier's job.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::batch::BatchHeader;
use crate::eventlog::EventLog;
use crate::merkle::InclusionProof;

/// Key of cerd's object inside `meta`.
pub const META_KEY: &str = "cerd";
/// `version` of the evidence encoding described here.
pub const EVIDENCE_VERSION: u32 = 1;

/// `meta.cerd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CerdMeta {
    /// The evidence binding this record to hardware.
    pub evidence: Evidence,
}

/// Evidence for one record: its place in a batch, and the batch's hardware quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Evidence {
    /// Always [`EVIDENCE_VERSION`].
    pub version: u32,
    /// The batch header the hardware signed, and this record's inclusion proof.
    pub batch: BatchEvidence,
    /// TPM evidence, when the batch was quoted by a TPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<TpmEvidence>,
    /// AMD SEV-SNP evidence, when the batch was attested by an SNP guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snp: Option<SnpEvidence>,
}

/// An SEV-SNP attestation report over the batch, and the certificates to check it.
///
/// REPORT_DATA\[0..32\] is the batch header's SHA-256; REPORT_DATA\[32..64\] is the
/// SHA-256 of the TPM AK's TPM2B_PUBLIC when the batch also carries TPM evidence, zeros
/// otherwise (docs/record-format.md, "SEV-SNP evidence").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SnpEvidence {
    /// ATTESTATION_REPORT (SEV-SNP ABI spec Table 23), 1184 bytes.
    pub report: Bytes,
    /// The VCEK or VLEK certificate (DER).
    pub endorsement: Bytes,
    /// ASK / ASVK and optionally ARK certificates (DER); the verifier's built-in AMD
    /// roots are used for whatever is missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Bytes>,
    /// The report comes from cerd's simulated SNP guest, signed under a generated test
    /// ARK: it proves nothing about hardware.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
}

impl SnpEvidence {
    /// SNP evidence from its parts.
    pub fn new(
        report: Vec<u8>,
        endorsement: Vec<u8>,
        chain: Vec<Vec<u8>>,
        simulated: bool,
    ) -> Self {
        Self {
            report: Bytes(report),
            endorsement: Bytes(endorsement),
            chain: chain.into_iter().map(Bytes).collect(),
            simulated,
        }
    }
}

/// The batch: header (its SHA-256 is the quote's qualifying data) and inclusion proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct BatchEvidence {
    /// The batch header.
    pub header: BatchHeader,
    /// Proof that this record's certificateHash is a leaf of `header.root`.
    pub proof: InclusionProof,
}

/// A TPM quote over the batch header hash, and everything needed to check it offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TpmEvidence {
    /// TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12), marshalled: what the AK signed.
    pub attest: Bytes,
    /// TPMT_SIGNATURE (Part 2 §11.3.4), marshalled.
    pub signature: Bytes,
    /// The quoted PCR values: bank name and index → value (lowercase hex).
    pub pcrs: PcrValues,
    /// The attestation key.
    pub ak: AkEvidence,
    /// The endorsement key certificates read from the TPM's NV indices.
    pub ek: EkEvidence,
    /// The measurement log of the boot the quote was taken in (replays to the
    /// measurement PCR's value in `pcrs`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_log")]
    pub log: Option<EventLog>,
    /// What the TPM says about itself (manufacturer, vendor, firmware); informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm_info: Option<Value>,
}

/// Quoted PCR values of one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct PcrValues {
    /// Hash algorithm of the bank: `sha256`.
    pub bank: String,
    /// PCR index (decimal string, as JSON keys must be strings) → value in hex.
    pub values: BTreeMap<String, String>,
}

/// The attestation key and what vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AkEvidence {
    /// TPM2B_PUBLIC of the AK (Part 2 §12.2.5), marshalled.
    pub public: Bytes,
    /// The AK's TPM name, nameAlg || H(TPMT_PUBLIC), lowercase hex.
    pub name: String,
    /// Where the AK comes from: `created` (cerd's template), `gce`, `azure`.
    pub source: String,
    /// The AK certificate (DER) and any intermediates, leaf first; empty when the AK is
    /// not certified (trusted only by pinning its key in a policy).
    #[serde(default)]
    pub certificates: Vec<Bytes>,
}

/// The endorsement key certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EkEvidence {
    /// Each certificate with the NV index it was read from (padding stripped).
    pub certificates: Vec<EkCertificate>,
    /// Intermediate CA certificates (DER) toward the manufacturer's root, as given to
    /// `cer attest --ek-chain`; the root itself is the verifier's to supply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Bytes>,
}

/// One EK certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EkCertificate {
    /// The TCG NV index, e.g. `0x01c00002`.
    pub nv_index: String,
    /// The certificate, DER.
    pub der: Bytes,
}

impl CerdMeta {
    /// `meta.cerd` holding `evidence`.
    pub fn new(evidence: Evidence) -> Self {
        Self { evidence }
    }
}

impl Evidence {
    /// Evidence of the current version.
    pub fn new(batch: BatchEvidence, tpm: Option<TpmEvidence>) -> Self {
        Self {
            version: EVIDENCE_VERSION,
            batch,
            tpm,
            snp: None,
        }
    }

    /// The same evidence with an SEV-SNP report.
    pub fn with_snp(mut self, snp: SnpEvidence) -> Self {
        self.snp = Some(snp);
        self
    }
}

impl BatchEvidence {
    /// A batch header and proof.
    pub fn new(header: BatchHeader, proof: InclusionProof) -> Self {
        Self { header, proof }
    }
}

impl TpmEvidence {
    /// TPM evidence from its parts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        attest: Vec<u8>,
        signature: Vec<u8>,
        pcrs: PcrValues,
        ak: AkEvidence,
        ek: EkEvidence,
        log: Option<EventLog>,
        tpm_info: Option<Value>,
    ) -> Self {
        Self {
            attest: Bytes(attest),
            signature: Bytes(signature),
            pcrs,
            ak,
            ek,
            log,
            tpm_info,
        }
    }
}

impl PcrValues {
    /// SHA-256 bank values.
    pub fn sha256(values: &[(u8, [u8; 32])]) -> Self {
        Self {
            bank: "sha256".into(),
            values: values
                .iter()
                .map(|(i, v)| (i.to_string(), hex::encode(v)))
                .collect(),
        }
    }
}

impl AkEvidence {
    /// An AK description.
    pub fn new(public: Vec<u8>, name: &[u8], source: &str, certificates: Vec<Vec<u8>>) -> Self {
        Self {
            public: Bytes(public),
            name: hex::encode(name),
            source: source.into(),
            certificates: certificates.into_iter().map(Bytes).collect(),
        }
    }
}

impl EkEvidence {
    /// EK certificates as (NV index, DER), and intermediates (DER).
    pub fn new(certificates: Vec<(u32, Vec<u8>)>, chain: Vec<Vec<u8>>) -> Self {
        Self {
            chain: chain.into_iter().map(Bytes).collect(),
            certificates: certificates
                .into_iter()
                .map(|(index, der)| EkCertificate {
                    nv_index: format!("{index:#010x}"),
                    der: Bytes(der),
                })
                .collect(),
        }
    }
}

/// Bytes carried as standard base64 (RFC 4648 §4, with padding) in JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format_args!("invalid base64: {e}")))
    }
}

/// Reads `meta.cerd` from a bundle, when present.
pub fn from_bundle(bundle: &Value) -> Option<Result<CerdMeta, serde_json::Error>> {
    bundle
        .get("meta")?
        .get(META_KEY)
        .map(|v| serde_json::from_value(v.clone()))
}

/// `Option<EventLog>` through the log's own strict JSON form.
mod opt_log {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    use crate::eventlog::EventLog;

    pub fn serialize<S: Serializer>(log: &Option<EventLog>, s: S) -> Result<S::Ok, S::Error> {
        log.as_ref().map(EventLog::to_value).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EventLog>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None => Ok(None),
            Some(v) => EventLog::from_value(&v)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}
