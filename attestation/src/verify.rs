//! Verification of a bundle, as a checklist of named checks.
//!
//! This version checks integrity: the schema, digest formats, the recomputed
//! `certificateHash`, and (for NexArt bundles that carry their content) the input and
//! output hashes. Hardware evidence is reported as skipped until the TPM and SNP
//! verifiers exist.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use time::OffsetDateTime;

use crate::canonical;
use crate::digest::Sha256Digest;
use crate::evidence::Evidence;
use crate::json::{self, JsonError};
use crate::policy::Policy;
use crate::record::{self, Bundle, RecordError};

mod runtime;
pub mod snp;
mod timeline;
mod trust;

pub use timeline::{timeline, AttestedBatch, BatchPoint, Event, HostTimeline};
pub use trust::Trust;

/// The checks, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckId {
    /// Bundle type, version, required fields and their types.
    Schema,
    /// Every digest is `sha256:` + 64 lowercase hex.
    DigestFormat,
    /// `certificateHash` equals SHA-256 of the canonical hashed fields.
    CertificateHash,
    /// Inline `input`/`output` content matches `inputHash`/`outputHash`.
    Content,
    /// The record is a leaf of the batch its evidence names (RFC 9162 inclusion proof
    /// against the batch header's root and size).
    BatchInclusion,
    /// Hardware evidence binding the record to a TPM quote or SNP report: present,
    /// well-formed, TPM-generated, from an AK whose public area matches its name and
    /// whose attributes make its signatures meaningful.
    Evidence,
    /// The quote's signature verifies under the AK.
    QuoteSignature,
    /// The quote's qualifying data is the batch header hash.
    QualifyingData,
    /// The quote's PCR digest is the hash of the carried PCR values.
    PcrDigest,
    /// The attestation key chains to a trusted root (attestation CA + EK vendor root,
    /// cloud vTPM root) or is pinned.
    AkTrust,
    /// The EK certificates carried chain to a TPM vendor root.
    EkChain,
    /// The SEV-SNP report over the batch: signature, AMD chain, TCB, REPORT_DATA
    /// binding, the policy's `[snp]` table.
    SnpReport,
    /// The measurement log replays to the quoted PCR, and names the record's runtime.
    LogReplay,
    /// The record's inference binary is on the policy's allow-list.
    PolicyBinary,
    /// The record's model files are on the policy's allow-list.
    PolicyModels,
    /// The quoted PCR values the policy requires.
    PolicyPcrs,
    /// The record's age at the verification time.
    RecordAge,
}

impl CheckId {
    /// Human label used in the text checklist.
    pub fn label(self) -> &'static str {
        match self {
            Self::Schema => "schema",
            Self::DigestFormat => "digest format",
            Self::CertificateHash => "certificate hash",
            Self::Content => "input/output content",
            Self::BatchInclusion => "batch inclusion",
            Self::Evidence => "hardware evidence",
            Self::QuoteSignature => "quote signature",
            Self::QualifyingData => "qualifying data",
            Self::PcrDigest => "PCR digest",
            Self::SnpReport => "SEV-SNP report",
            Self::AkTrust => "AK trust",
            Self::EkChain => "EK chain",
            Self::LogReplay => "log replay",
            Self::PolicyBinary => "policy: binary",
            Self::PolicyModels => "policy: models",
            Self::PolicyPcrs => "policy: PCRs",
            Self::RecordAge => "record age",
        }
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The check ran and succeeded.
    Pass,
    /// The check ran and failed.
    Fail,
    /// The check did not run; the message says why.
    Skipped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Skipped => "SKIPPED",
        })
    }
}

/// Stable reason codes for machine-readable verdicts. The names follow NexArt's where
/// the meaning is the same. They never change meaning; new ones may be added.
/// Serialized as [`Reason::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The bundle is not a JSON object matching the CER v1 schema.
    SchemaError,
    /// `bundleType` is not `cer.ai.execution.v1`.
    UnsupportedBundleType,
    /// `version` or `snapshot.protocolVersion` is not one this verifier knows.
    UnsupportedVersion,
    /// A digest is not `sha256:` + 64 lowercase hex.
    InvalidSha256Format,
    /// The hashed fields have no RFC 8785 canonical form.
    CanonicalizationError,
    /// The recomputed certificate hash differs from `certificateHash`.
    CertificateHashMismatch,
    /// Inline input content does not hash to `inputHash`.
    InputHashMismatch,
    /// Inline output content does not hash to `outputHash`.
    OutputHashMismatch,
    /// The record carries no hardware evidence (sealed, not attested).
    EvidenceAbsent,
    /// The record carries only hashes of its input and output.
    ContentAbsent,
    /// `meta.cerd` is present but does not follow the evidence encoding.
    EvidenceMalformed,
    /// The inclusion proof does not lead from the record to the batch root.
    MerkleProofInvalid,
    /// Evidence is present but this verifier does not check it yet.
    EvidenceNotVerified,
    /// The measurement log does not replay to the quoted PCR value.
    LogReplayMismatch,
    /// A runtime file of the record is not (or no longer) vouched for by the log.
    RuntimeNotMeasured,
    /// The check needs a policy (or a part of it) that was not given.
    NoPolicy,
    /// The record's binary is not on the policy's allow-list.
    PolicyBinaryNotAllowed,
    /// A model file of the record is not on the policy's allow-list.
    PolicyModelNotAllowed,
    /// A quoted PCR differs from the value the policy requires.
    PolicyPcrMismatch,
    /// The record is older than the policy's maximum age.
    RecordTooOld,
    /// The record was sealed after the verification time.
    RecordFromFuture,
    /// The quote (TPMS_ATTEST) does not parse.
    QuoteMalformed,
    /// The quote's signature (TPMT_SIGNATURE) does not parse.
    SignatureMalformed,
    /// The quote does not start with TPM_GENERATED_VALUE: the TPM did not make it.
    QuoteMagicInvalid,
    /// The attestation is not a quote (TPM_ST_ATTEST_QUOTE).
    QuoteTypeInvalid,
    /// The AK is a key this verifier cannot check signatures with.
    AkKeyUnsupported,
    /// The AK is not a restricted, fixedTPM signing key, so its signatures prove nothing.
    AkAttributesInvalid,
    /// The AK's name differs from the digest of its public area.
    AkNameMismatch,
    /// The signature's scheme or hash cannot come from the AK.
    SignatureSchemeMismatch,
    /// The signature uses a scheme this verifier does not check.
    SignatureSchemeUnsupported,
    /// The quote's signature does not verify under the AK.
    QuoteSignatureInvalid,
    /// The quote's qualifying data differs from the expected nonce or header hash.
    QualifyingDataMismatch,
    /// The PCR values given do not cover exactly the PCRs the quote selects.
    PcrSelectionMismatch,
    /// The PCR values given do not hash to the quote's PCR digest.
    PcrDigestMismatch,
    /// The check's input was not given, so it was not run.
    NotRequested,
    /// AK trust inputs were given, but this verifier did not check them (produced by
    /// versions before the AK-trust check; kept so the code keeps its meaning).
    AkTrustNotVerified,
    /// The AK certificate does not chain to a trusted root (the message names the
    /// chain's own reason code, e.g. CERT_EXPIRED, CHAIN_INCOMPLETE).
    AkCertUntrusted,
    /// The AK certificate certifies another key than the AK.
    AkCertKeyMismatch,
    /// The AK has no certificate and is not pinned: nothing shows which TPM holds it.
    AkCertMissing,
    /// The AK certificate names an EK certificate the evidence does not carry.
    EkCertNotCarried,
    /// An EK certificate does not chain to a trusted TPM vendor root (the message names
    /// the chain's own reason code).
    EkCertUntrusted,
    /// A check could not run because an earlier one failed.
    NotEvaluated,
    /// An SEV-SNP check failed, with the SNP checklist's own code (`SNP_…`).
    Snp(crate::snp::SnpReason),
}

impl Reason {
    /// The stable code, e.g. `CERTIFICATE_HASH_MISMATCH`.
    pub fn code(self) -> &'static str {
        match self {
            Self::SchemaError => "SCHEMA_ERROR",
            Self::UnsupportedBundleType => "UNSUPPORTED_BUNDLE_TYPE",
            Self::UnsupportedVersion => "UNSUPPORTED_VERSION",
            Self::InvalidSha256Format => "INVALID_SHA256_FORMAT",
            Self::CanonicalizationError => "CANONICALIZATION_ERROR",
            Self::CertificateHashMismatch => "CERTIFICATE_HASH_MISMATCH",
            Self::InputHashMismatch => "INPUT_HASH_MISMATCH",
            Self::OutputHashMismatch => "OUTPUT_HASH_MISMATCH",
            Self::EvidenceAbsent => "EVIDENCE_ABSENT",
            Self::ContentAbsent => "CONTENT_ABSENT",
            Self::EvidenceMalformed => "EVIDENCE_MALFORMED",
            Self::MerkleProofInvalid => "MERKLE_PROOF_INVALID",
            Self::EvidenceNotVerified => "EVIDENCE_NOT_VERIFIED",
            Self::LogReplayMismatch => "LOG_REPLAY_MISMATCH",
            Self::RuntimeNotMeasured => "RUNTIME_NOT_MEASURED",
            Self::NoPolicy => "NO_POLICY",
            Self::PolicyBinaryNotAllowed => "POLICY_BINARY_NOT_ALLOWED",
            Self::PolicyModelNotAllowed => "POLICY_MODEL_NOT_ALLOWED",
            Self::PolicyPcrMismatch => "POLICY_PCR_MISMATCH",
            Self::RecordTooOld => "RECORD_TOO_OLD",
            Self::RecordFromFuture => "RECORD_FROM_FUTURE",
            Self::QuoteMalformed => "QUOTE_MALFORMED",
            Self::SignatureMalformed => "SIGNATURE_MALFORMED",
            Self::QuoteMagicInvalid => "QUOTE_MAGIC_INVALID",
            Self::QuoteTypeInvalid => "QUOTE_TYPE_INVALID",
            Self::AkKeyUnsupported => "AK_KEY_UNSUPPORTED",
            Self::AkAttributesInvalid => "AK_ATTRIBUTES_INVALID",
            Self::AkNameMismatch => "AK_NAME_MISMATCH",
            Self::SignatureSchemeMismatch => "SIGNATURE_SCHEME_MISMATCH",
            Self::SignatureSchemeUnsupported => "SIGNATURE_SCHEME_UNSUPPORTED",
            Self::QuoteSignatureInvalid => "QUOTE_SIGNATURE_INVALID",
            Self::QualifyingDataMismatch => "QUALIFYING_DATA_MISMATCH",
            Self::PcrSelectionMismatch => "PCR_SELECTION_MISMATCH",
            Self::PcrDigestMismatch => "PCR_DIGEST_MISMATCH",
            Self::NotRequested => "NOT_REQUESTED",
            Self::AkTrustNotVerified => "AK_TRUST_NOT_VERIFIED",
            Self::AkCertUntrusted => "AK_CERT_UNTRUSTED",
            Self::AkCertKeyMismatch => "AK_CERT_KEY_MISMATCH",
            Self::AkCertMissing => "AK_CERT_MISSING",
            Self::EkCertNotCarried => "EK_CERT_NOT_CARRIED",
            Self::EkCertUntrusted => "EK_CERT_UNTRUSTED",
            Self::NotEvaluated => "NOT_EVALUATED",
            Self::Snp(r) => r.code(),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Check {
    /// Which check.
    pub check: CheckId,
    /// Its outcome.
    pub status: Status,
    /// Why it failed or was skipped (absent on PASS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What was checked or what was wrong, for a person.
    pub message: String,
}

impl Check {
    fn pass(check: CheckId, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Pass,
            reason: None,
            message: message.into(),
        }
    }

    fn fail(check: CheckId, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Fail,
            reason: Some(reason),
            message: message.into(),
        }
    }

    fn skipped(check: CheckId, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Skipped,
            reason: Some(reason),
            message: message.into(),
        }
    }
}

/// The verdict on one bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Verdict {
    /// True when no check failed.
    pub valid: bool,
    /// The `certificateHash` the bundle claims, when it is well-formed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_hash: Option<Sha256Digest>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The reason codes of failed checks, in order.
    pub reasons: Vec<Reason>,
    /// What the verified TPM quote says about the batch's place in its host's history
    /// (absent when there is no quote or it failed a check); see [`timeline`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attested: Option<AttestedBatch>,
    /// Policy switches that weaken verification, repeated in every verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The parsed bundle, when the schema check passed.
    #[serde(skip)]
    pub bundle: Option<Bundle>,
}

/// What to verify against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The user's policy; `None` checks integrity and evidence only.
    pub policy: Option<Policy>,
    /// The verification time: certificate validity and record age are judged at it.
    pub at: OffsetDateTime,
    /// Judge certificate validity at each record's own `snapshot.timestamp` instead of
    /// `at` (for archived records whose certificates have since expired; the timestamp
    /// is the operator's claim, bounded by the batch's quote).
    pub certificates_at_record_time: bool,
    /// Trust anchors and the chain cache.
    pub trust: Trust,
}

impl Options {
    /// Options with a policy (or none) at a time, the built-in vendor pins and no
    /// attestation CA.
    pub fn new(policy: Option<Policy>, at: OffsetDateTime) -> Self {
        Self {
            policy,
            at,
            certificates_at_record_time: false,
            trust: Trust::default(),
        }
    }

    /// The same options with these trust anchors.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// The same options, judging certificate validity at each record's time.
    pub fn with_certificates_at_record_time(mut self, yes: bool) -> Self {
        self.certificates_at_record_time = yes;
        self
    }
}

impl Default for Options {
    /// No policy, now.
    fn default() -> Self {
        Self::new(None, OffsetDateTime::now_utc())
    }
}

/// Verifies a bundle given as bytes.
///
/// Returns `Err` only when the bytes are not a JSON object at all (not a record:
/// "bad input"); every other problem is a failed check in the verdict.
pub fn verify_bytes(bytes: &[u8]) -> Result<Verdict, JsonError> {
    verify_bytes_with(bytes, &Options::default())
}

/// [`verify_bytes`] against a policy and a verification time.
pub fn verify_bytes_with(bytes: &[u8], options: &Options) -> Result<Verdict, JsonError> {
    let value = json::parse(bytes)?;
    if !value.is_object() {
        return Err(JsonError::Invalid {
            line: 1,
            column: 1,
            message: format!(
                "expected a JSON object (a CER bundle), found {}",
                record::json_type(&value)
            ),
        });
    }
    Ok(verify_value_with(&value, options))
}

/// Verifies a bundle given as a JSON value (no policy, now).
pub fn verify_value(value: &Value) -> Verdict {
    verify_value_with(value, &Options::default())
}

/// Verifies a bundle given as a JSON value against a policy and a time.
pub fn verify_value_with(value: &Value, options: &Options) -> Verdict {
    let policy = options.policy.as_ref();
    let mut checks = Vec::with_capacity(11);
    let parsed = Bundle::from_value(value);

    // 1. schema and 2. digest format.
    let (schema, digests) = match &parsed {
        Ok(_) => (
            Check::pass(CheckId::Schema, "cer.ai.execution.v1 bundle, version 0.1"),
            Check::pass(CheckId::DigestFormat, "every digest is sha256:<64 hex>"),
        ),
        Err(RecordError::Digest { field, source }) => (
            Check::pass(CheckId::Schema, "fields present with the right types"),
            Check::fail(
                CheckId::DigestFormat,
                Reason::InvalidSha256Format,
                format!("{field}: {source}"),
            ),
        ),
        Err(e) => (
            Check::fail(CheckId::Schema, schema_reason(e), e.to_string()),
            Check::skipped(
                CheckId::DigestFormat,
                Reason::NotEvaluated,
                "schema check failed",
            ),
        ),
    };
    // A digest error stops the record parse before later fields are checked; re-check
    // the rest of the schema so a digest error does not hide a schema error.
    let schema = if schema.status == Status::Pass && parsed.is_err() {
        schema_after_digest_error(value).unwrap_or(schema)
    } else {
        schema
    };
    checks.push(schema);
    checks.push(digests);

    // 3. certificate hash: computed from the raw JSON whenever the claim is readable.
    let claimed = value
        .get("certificateHash")
        .and_then(Value::as_str)
        .and_then(|s| Sha256Digest::parse(s).ok());
    checks.push(match (claimed, record::certificate_hash(value)) {
        (None, _) => Check::skipped(
            CheckId::CertificateHash,
            Reason::NotEvaluated,
            "certificateHash is missing or malformed",
        ),
        (Some(_), Err(RecordError::Canonical(e))) => Check::fail(
            CheckId::CertificateHash,
            Reason::CanonicalizationError,
            e.to_string(),
        ),
        (Some(_), Err(e)) => Check::skipped(
            CheckId::CertificateHash,
            Reason::NotEvaluated,
            format!("cannot recompute: {e}"),
        ),
        (Some(claimed), Ok(computed)) if claimed == computed => Check::pass(
            CheckId::CertificateHash,
            format!("recomputed {computed}"),
        ),
        (Some(claimed), Ok(computed)) => Check::fail(
            CheckId::CertificateHash,
            Reason::CertificateHashMismatch,
            format!(
                "the record was changed after sealing: certificateHash is {claimed}, the content hashes to {computed}"
            ),
        ),
    });

    // 4. inline content (NexArt bundles).
    checks.push(match &parsed {
        Ok(b) => content_check(b),
        Err(_) => Check::skipped(
            CheckId::Content,
            Reason::NotEvaluated,
            "schema check failed",
        ),
    });

    // 5. batch inclusion and 6. hardware evidence.
    let EvidenceChecks {
        inclusion,
        mut hardware,
        quote_lines,
        evidence,
        attested,
        ak,
    } = evidence_checks(value, claimed);
    if evidence.is_none()
        && hardware.reason == Some(Reason::EvidenceAbsent)
        && policy.is_some_and(|p| p.require_evidence)
    {
        hardware = Check::fail(
            CheckId::Evidence,
            Reason::EvidenceAbsent,
            "the policy requires hardware evidence and the record is not attested",
        );
    }
    checks.push(inclusion);
    checks.push(hardware);
    checks.extend(quote_lines);
    let chain_at = match (&parsed, options.certificates_at_record_time) {
        (Ok(b), true) => b.created_at.datetime(),
        _ => options.at,
    };
    match evidence.as_ref().and_then(|e| e.tpm.as_ref()) {
        Some(tpm) => {
            let (ak, ek) = trust::checks(tpm, ak.as_ref(), policy, &options.trust, chain_at);
            checks.push(ak);
            checks.push(ek);
        }
        None => {
            checks.push(Check::skipped(
                CheckId::AkTrust,
                Reason::EvidenceAbsent,
                "no TPM quote",
            ));
            checks.push(Check::skipped(
                CheckId::EkChain,
                Reason::EvidenceAbsent,
                "no TPM quote",
            ));
        }
    }
    checks.push(snp::snp_check(
        evidence.as_ref(),
        policy,
        chain_at,
        &options.trust,
    ));

    // 7.–11. what ran: log replay, policy allow-lists and PCRs, record age.
    match &parsed {
        Ok(b) => {
            checks.push(runtime::log_check(b, evidence.as_ref()));
            let (binary, models) = runtime::policy_files(b, policy);
            checks.push(binary);
            checks.push(models);
            checks.push(runtime::policy_pcrs(evidence.as_ref(), policy));
            checks.push(runtime::record_age(b, policy, options.at));
        }
        Err(_) => {
            for id in [
                CheckId::LogReplay,
                CheckId::PolicyBinary,
                CheckId::PolicyModels,
                CheckId::PolicyPcrs,
                CheckId::RecordAge,
            ] {
                checks.push(Check::skipped(
                    id,
                    Reason::NotEvaluated,
                    "schema check failed",
                ));
            }
        }
    }

    let reasons: Vec<Reason> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter_map(|c| c.reason)
        .collect();
    Verdict {
        valid: reasons.is_empty(),
        certificate_hash: claimed,
        checks,
        reasons,
        attested,
        warnings: policy.map(Policy::warnings).unwrap_or_default(),
        bundle: parsed.ok(),
    }
}

fn schema_reason(e: &RecordError) -> Reason {
    match e {
        RecordError::UnsupportedBundleType { .. } => Reason::UnsupportedBundleType,
        RecordError::UnsupportedVersion { .. } => Reason::UnsupportedVersion,
        RecordError::Digest { .. } => Reason::InvalidSha256Format,
        RecordError::Canonical(_) => Reason::CanonicalizationError,
        _ => Reason::SchemaError,
    }
}

/// With every malformed digest replaced by a well-formed one, does the schema hold?
fn schema_after_digest_error(value: &Value) -> Option<Check> {
    let mut patched = value.clone();
    let placeholder = Value::String(Sha256Digest::ZERO.to_string());
    let mut guard = 0u8;
    loop {
        match Bundle::from_value(&patched) {
            Ok(_) => return None,
            Err(RecordError::Digest { field, .. }) => {
                guard = guard.checked_add(1)?;
                *pointer_mut(&mut patched, &field)? = placeholder.clone();
            }
            Err(e) => {
                return Some(Check::fail(
                    CheckId::Schema,
                    schema_reason(&e),
                    e.to_string(),
                ))
            }
        }
    }
}

/// Resolves a field path like `snapshot.runtime.modelFiles[2].digest`.
fn pointer_mut<'a>(value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut cur = value;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, Some(rest.strip_suffix(']')?.parse::<usize>().ok()?)),
            None => (part, None),
        };
        cur = cur.get_mut(name)?;
        if let Some(i) = index {
            cur = cur.get_mut(i)?;
        }
    }
    Some(cur)
}

/// What `meta.cerd` gave: the batch-inclusion, hardware-evidence and quote lines, the
/// evidence itself, the verified quote's facts, and the AK (parsed once, for AK trust).
struct EvidenceChecks {
    inclusion: Check,
    hardware: Check,
    quote_lines: [Check; 3],
    evidence: Option<Evidence>,
    attested: Option<AttestedBatch>,
    ak: Option<crate::tpm::AttestationKey>,
}

/// The batch-inclusion and hardware-evidence checks from `meta.cerd`.
fn evidence_checks(value: &Value, claimed: Option<Sha256Digest>) -> EvidenceChecks {
    let quote_lines = |reason: Reason, message: &str| {
        [
            CheckId::QuoteSignature,
            CheckId::QualifyingData,
            CheckId::PcrDigest,
        ]
        .map(|id| Check::skipped(id, reason, message))
    };
    let absent = |check| {
        Check::skipped(
            check,
            Reason::EvidenceAbsent,
            "no hardware evidence: the record is sealed, not attested",
        )
    };
    let meta = match crate::evidence::from_bundle(value) {
        None => {
            return EvidenceChecks {
                inclusion: absent(CheckId::BatchInclusion),
                hardware: absent(CheckId::Evidence),
                quote_lines: quote_lines(Reason::EvidenceAbsent, "no TPM quote"),
                evidence: None,
                attested: None,
                ak: None,
            }
        }
        Some(Err(e)) => {
            return EvidenceChecks {
                inclusion: Check::fail(
                    CheckId::BatchInclusion,
                    Reason::EvidenceMalformed,
                    format!("meta.{}: {e}", crate::evidence::META_KEY),
                ),
                hardware: Check::skipped(
                    CheckId::Evidence,
                    Reason::NotEvaluated,
                    "evidence is malformed",
                ),
                quote_lines: quote_lines(Reason::NotEvaluated, "evidence is malformed"),
                evidence: None,
                attested: None,
                ak: None,
            }
        }
        Some(Ok(m)) => m,
    };
    let ev = &meta.evidence;
    let header = &ev.batch.header;
    let proof = &ev.batch.proof;
    let inclusion = if let Some(record) = claimed {
        if proof.tree_size != header.tree_size {
            Check::fail(
                CheckId::BatchInclusion,
                Reason::MerkleProofInvalid,
                format!(
                    "the proof is for a tree of {} records, the batch header says {}",
                    proof.tree_size, header.tree_size
                ),
            )
        } else {
            match crate::merkle::verify_inclusion(&record, proof, &header.root) {
                Ok(()) => Check::pass(
                    CheckId::BatchInclusion,
                    format!(
                        "record {} of {} in batch {} (header {})",
                        proof.leaf_index,
                        header.tree_size,
                        header.sequence,
                        header.hash().to_hex()
                    ),
                ),
                Err(e) => Check::fail(
                    CheckId::BatchInclusion,
                    Reason::MerkleProofInvalid,
                    e.to_string(),
                ),
            }
        }
    } else {
        Check::skipped(
            CheckId::BatchInclusion,
            Reason::NotEvaluated,
            "certificateHash is missing or malformed",
        )
    };
    let (hardware, quote_lines, attested, ak) = match &ev.tpm {
        Some(tpm) => {
            let q = quote_checks(tpm, &header.hash());
            let attested = q.facts.map(|(clock, firmware_version)| AttestedBatch {
                ak_name: tpm.ak.name.clone(),
                header: *header,
                batch: header.sequence,
                clock,
                firmware_version,
            });
            (q.evidence, q.lines, attested, q.ak)
        }
        None => (
            Check::skipped(
                CheckId::Evidence,
                Reason::EvidenceAbsent,
                "the batch carries no hardware quote",
            ),
            quote_lines(Reason::EvidenceAbsent, "no TPM quote"),
            None,
            None,
        ),
    };
    EvidenceChecks {
        inclusion,
        hardware,
        quote_lines,
        evidence: Some(meta.evidence),
        attested,
        ak,
    }
}

/// The four quote lines of a bundle, and (when all pass) what the quote says about
/// the TPM's clock and firmware.
struct QuoteChecks {
    evidence: Check,
    lines: [Check; 3],
    facts: Option<(crate::tpm::ClockInfo, u64)>,
    /// The AK, when its public area is usable and matches its name.
    ak: Option<crate::tpm::AttestationKey>,
}

/// The TPM quote: present and well-formed from the carried AK (`evidence`), its
/// signature, its qualifying data (the batch header hash) and its PCR digest (over the
/// carried values). Whether the AK itself is trustworthy is the `AK trust` check.
fn quote_checks(tpm: &crate::evidence::TpmEvidence, header_hash: &Sha256Digest) -> QuoteChecks {
    use crate::tpm::{verify_quote, AttestationKey, PcrValues, QuoteCheckId as Q, TpmPublic};
    let not_evaluated = |why: &str| {
        [
            CheckId::QuoteSignature,
            CheckId::QualifyingData,
            CheckId::PcrDigest,
        ]
        .map(|id| Check::skipped(id, Reason::NotEvaluated, why))
    };
    let stop = |reason: Reason, message: String| QuoteChecks {
        evidence: Check::fail(CheckId::Evidence, reason, message),
        lines: not_evaluated("the quote or its AK is unusable"),
        facts: None,
        ak: None,
    };
    let public = match TpmPublic::from_tpm2b(&tpm.ak.public.0) {
        Ok(p) => p,
        Err(e) => return stop(Reason::AkKeyUnsupported, format!("ak.public: {e}")),
    };
    let name = hex::encode(public.name().to_bytes());
    if name != tpm.ak.name {
        return stop(
            Reason::AkNameMismatch,
            format!("ak.name is {}, the AK public hashes to {name}", tpm.ak.name),
        );
    }
    let ak = match AttestationKey::from_public(public) {
        Ok(k) => k,
        Err(e) => return stop(Reason::AkKeyUnsupported, format!("ak.public: {e}")),
    };
    let pcrs = PcrValues::try_from(&tpm.pcrs);
    let report = verify_quote(
        &ak,
        &tpm.attest.0,
        &tpm.signature.0,
        Some(header_hash.as_bytes()),
        pcrs.as_ref().ok(),
    );
    let line = |q: Q, id: CheckId| match report.check(q) {
        Some(c) => Check {
            check: id,
            status: c.status,
            reason: c.reason,
            message: c.message.clone(),
        },
        None => Check::skipped(id, Reason::NotEvaluated, "not reported"),
    };
    // Structure, magic/type and AK attributes make up the evidence line.
    let evidence = [Q::Structure, Q::MagicType, Q::AkAttributes]
        .into_iter()
        .filter_map(|q| report.check(q))
        .find(|c| c.status == Status::Fail);
    if let Some(bad) = evidence {
        return stop(
            bad.reason.unwrap_or(Reason::QuoteMalformed),
            format!("TPM quote: {}", bad.message),
        );
    }
    let signature = line(Q::Signature, CheckId::QuoteSignature);
    if signature.status != Status::Pass {
        return QuoteChecks {
            evidence: Check::pass(
                CheckId::Evidence,
                format!("TPM quote by AK {} ({})", tpm.ak.name, ak.describe()),
            ),
            lines: [
                signature,
                Check::skipped(
                    CheckId::QualifyingData,
                    Reason::NotEvaluated,
                    "the signature does not verify: the quote's contents are not the TPM's",
                ),
                Check::skipped(
                    CheckId::PcrDigest,
                    Reason::NotEvaluated,
                    "the signature does not verify: the quote's contents are not the TPM's",
                ),
            ],
            facts: None,
            ak: Some(ak),
        };
    }
    let qualifying = {
        let c = line(Q::QualifyingData, CheckId::QualifyingData);
        if c.status == Status::Pass {
            Check::pass(
                CheckId::QualifyingData,
                format!("the batch header hash {}", header_hash.to_hex()),
            )
        } else {
            c
        }
    };
    let pcr = match &pcrs {
        Err(e) => Check::fail(
            CheckId::PcrDigest,
            Reason::EvidenceMalformed,
            format!("pcrs: {e}"),
        ),
        Ok(_) => line(Q::PcrDigest, CheckId::PcrDigest),
    };
    let facts = match (report.clock_info(), report.firmware_version()) {
        (Some(c), Some(f)) if qualifying.status == Status::Pass && pcr.status == Status::Pass => {
            Some((c, f))
        }
        _ => None,
    };
    let clock = report
        .clock_info()
        .map(|c| {
            format!(
                "; clock {} ms, resetCount {}, restartCount {}",
                c.clock, c.reset_count, c.restart_count
            )
        })
        .unwrap_or_default();
    let firmware = report
        .firmware_version()
        .map(|f| format!(", firmware {f:#x}"))
        .unwrap_or_default();
    QuoteChecks {
        evidence: Check::pass(
            CheckId::Evidence,
            format!(
                "TPM quote by AK {} ({}){clock}{firmware}",
                tpm.ak.name,
                ak.describe()
            ),
        ),
        lines: [signature, qualifying, pcr],
        facts,
        ak: Some(ak),
    }
}

/// NexArt's content rule: a string hashes as its UTF-8 bytes, anything else as its
/// RFC 8785 canonical form.
pub fn content_digest(content: &Value) -> Result<Sha256Digest, canonical::CanonicalError> {
    match content {
        Value::String(s) => Ok(Sha256Digest::of(s.as_bytes())),
        other => canonical::digest(other),
    }
}

fn content_check(b: &Bundle) -> Check {
    let s = &b.snapshot;
    let mut checked = Vec::new();
    for (name, content, claimed, reason) in [
        ("input", &s.input, s.input_hash, Reason::InputHashMismatch),
        (
            "output",
            &s.output,
            s.output_hash,
            Reason::OutputHashMismatch,
        ),
    ] {
        let Some(content) = content else { continue };
        match content_digest(content) {
            Err(e) => {
                return Check::fail(
                    CheckId::Content,
                    Reason::CanonicalizationError,
                    format!("snapshot.{name}: {e}"),
                )
            }
            Ok(d) if d != claimed => {
                return Check::fail(
                    CheckId::Content,
                    reason,
                    format!("snapshot.{name} hashes to {d}, but snapshot.{name}Hash is {claimed}"),
                )
            }
            Ok(_) => checked.push(name),
        }
    }
    if checked.is_empty() {
        Check::skipped(
            CheckId::Content,
            Reason::ContentAbsent,
            "the record carries hashes of its input and output, not the content",
        )
    } else {
        Check::pass(
            CheckId::Content,
            format!("inline {} match their hashes", checked.join(" and ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_built_deep_in_memory_are_refused_without_recursion() {
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut v = Value::Null;
                for _ in 0..100_000 {
                    v = Value::Array(vec![v]);
                }
                let bundle = serde_json::json!({ "bundleType": "cer.ai.execution.v1" });
                let mut bundle = bundle;
                bundle["snapshot"] = v;
                let verdict = verify_value(&bundle);
                assert!(!verdict.valid);
                assert_eq!(verdict.reasons, vec![Reason::SchemaError]);
                assert!(verdict.checks[0].message.contains("deeper than 128"));
                // Dropping it would recurse 100,000 levels; leak it instead.
                std::mem::forget(bundle);
            })
            .unwrap();
        handle.join().unwrap();
    }
}
