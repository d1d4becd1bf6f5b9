//! The SNP checklist: what `cer verify-snp` prints and what a bundle's SNP evidence
//! must pass. Each check is PASS, FAIL or SKIPPED with a stable [`SnpReason`]; checks
//! do not stop at the first failure, so a changed REPORTED_TCB shows both the broken
//! signature and the TCB mismatch.
//!
//! 1. `report`: the bytes are an ATTESTATION_REPORT v2–v5 ([`AttestationReport::parse`]).
//! 2. `chain`: the VCEK (or VLEK) chains through an ASK (or ASVK) to an AMD ARK pinned
//!    for Milan, Genoa or Turin (or a test ARK the policy trusts), every certificate
//!    valid at [`SnpOptions::at`]; a supplied ARK must be a pinned one.
//! 3. `signature`: ECDSA P-384 over bytes 0x000..0x2A0 under the VCEK/VLEK key.
//! 4. `key type`: the report's SIGNING_KEY names the kind of certificate given, and the
//!    policy allows it.
//! 5. `endorsement`: productName names the generation of the ARK and of the report's
//!    CPUID; a VCEK's hwID equals CHIP_ID (8 bytes on Turin).
//! 6. `tcb`: every SPL of the certificate equals REPORTED_TCB's.
//! 7. `report data`: REPORT_DATA equals the expected value.
//! 8. policy checks, when a policy is given.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use super::certs::{EndorsementKind, VcekExtensions};
use super::policy::SnpPolicy;
use super::report::{AttestationReport, SigningKey};
use super::roots;
use super::signature::{verify_signature, SignatureError};
use super::tcb::{Component, Generation};
use crate::chain::{verify_chain, Certificate, ChainError, ChainOptions, PublicKey};
use crate::roots::TrustStore;
use crate::verify::Status;

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum SnpCheckId {
    Report,
    Chain,
    Signature,
    KeyType,
    Endorsement,
    Tcb,
    ReportData,
    PolicyMeasurement,
    PolicyTcb,
    PolicyDebug,
    PolicyMigrationAgent,
    PolicySmt,
    PolicyVmpl,
    PolicyHostData,
    PolicyIdKey,
    PolicyAuthorKey,
}

impl SnpCheckId {
    pub fn label(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::Chain => "chain",
            Self::Signature => "signature",
            Self::KeyType => "key type",
            Self::Endorsement => "endorsement",
            Self::Tcb => "tcb",
            Self::ReportData => "report data",
            Self::PolicyMeasurement => "policy: measurement",
            Self::PolicyTcb => "policy: min TCB",
            Self::PolicyDebug => "policy: debug",
            Self::PolicyMigrationAgent => "policy: migration",
            Self::PolicySmt => "policy: SMT",
            Self::PolicyVmpl => "policy: VMPL",
            Self::PolicyHostData => "policy: host data",
            Self::PolicyIdKey => "policy: ID key",
            Self::PolicyAuthorKey => "policy: author key",
        }
    }
}

/// Stable reason codes of SNP checks. They never change meaning; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SnpReason {
    /// The report is not an ATTESTATION_REPORT this verifier reads.
    ReportMalformed,
    /// A certificate does not parse, or lacks AMD's extensions.
    CertMalformed,
    /// A certificate in the chain has expired at the verification time.
    CertExpired,
    /// A certificate in the chain is not yet valid at the verification time.
    CertNotYetValid,
    /// A signature in the chain does not verify (e.g. a VCEK not signed by the ASK).
    ChainSignatureInvalid,
    /// No ASK/ASVK or ARK links the VCEK/VLEK to an AMD root.
    ChainIncomplete,
    /// The chain ends at (or a supplied ARK is) a root that is not AMD's.
    ArkUntrusted,
    /// Another chain failure (the message names the chain's own code).
    ChainInvalid,
    /// The report's SIGNATURE_ALGO is not ECDSA P-384/SHA-384.
    SignatureAlgorithmUnsupported,
    /// The report signature does not verify under the VCEK/VLEK.
    SignatureInvalid,
    /// The report says it is unsigned (SIGNING_KEY = none).
    ReportUnsigned,
    /// SIGNING_KEY names another kind of key than the certificate given.
    SigningKeyMismatch,
    /// The policy does not allow this kind of signing key.
    SigningKeyNotAllowed,
    /// The VCEK's hwID differs from the report's CHIP_ID.
    HwIdMismatch,
    /// CHIP_ID is masked (MASK_CHIP_KEY): the VCEK's hwID cannot be compared.
    ChipIdMasked,
    /// productName, the ARK and the CPUID name different generations.
    ProductMismatch,
    /// An SPL in the certificate differs from the report's REPORTED_TCB.
    TcbMismatch,
    /// REPORT_DATA differs from the expected value.
    ReportDataMismatch,
    /// The launch measurement is not on the policy's list.
    MeasurementNotAllowed,
    /// A TCB component is below the policy's minimum.
    TcbTooLow,
    /// The guest policy allows debugging.
    DebugAllowed,
    /// The guest policy allows a migration agent.
    MigrationAgentAllowed,
    /// SMT is enabled and the policy forbids it.
    SmtEnabled,
    /// The report comes from a VMPL above the policy's maximum.
    VmplTooHigh,
    /// HOST_DATA differs from the policy's.
    HostDataMismatch,
    /// ID_KEY_DIGEST is not on the policy's list.
    IdKeyNotAllowed,
    /// AUTHOR_KEY_DIGEST is not on the policy's list.
    AuthorKeyNotAllowed,
    /// The evidence comes from a simulated guest whose test ARK the policy does not
    /// trust.
    SimulatedUntrusted,
    /// The check's input was not given.
    NotRequested,
    /// A check could not run because an earlier one failed.
    NotEvaluated,
}

impl SnpReason {
    /// The stable code, e.g. `SNP_SIGNATURE_INVALID`.
    pub fn code(self) -> &'static str {
        match self {
            Self::ReportMalformed => "SNP_REPORT_MALFORMED",
            Self::CertMalformed => "SNP_CERT_MALFORMED",
            Self::CertExpired => "SNP_CERT_EXPIRED",
            Self::CertNotYetValid => "SNP_CERT_NOT_YET_VALID",
            Self::ChainSignatureInvalid => "SNP_CHAIN_SIGNATURE_INVALID",
            Self::ChainIncomplete => "SNP_CHAIN_INCOMPLETE",
            Self::ArkUntrusted => "SNP_ARK_UNTRUSTED",
            Self::ChainInvalid => "SNP_CHAIN_INVALID",
            Self::SignatureAlgorithmUnsupported => "SNP_SIGNATURE_ALGORITHM_UNSUPPORTED",
            Self::SignatureInvalid => "SNP_SIGNATURE_INVALID",
            Self::ReportUnsigned => "SNP_REPORT_UNSIGNED",
            Self::SigningKeyMismatch => "SNP_SIGNING_KEY_MISMATCH",
            Self::SigningKeyNotAllowed => "SNP_SIGNING_KEY_NOT_ALLOWED",
            Self::HwIdMismatch => "SNP_HWID_MISMATCH",
            Self::ChipIdMasked => "SNP_CHIP_ID_MASKED",
            Self::ProductMismatch => "SNP_PRODUCT_MISMATCH",
            Self::TcbMismatch => "SNP_TCB_MISMATCH",
            Self::ReportDataMismatch => "SNP_REPORT_DATA_MISMATCH",
            Self::MeasurementNotAllowed => "SNP_MEASUREMENT_NOT_ALLOWED",
            Self::TcbTooLow => "SNP_TCB_TOO_LOW",
            Self::DebugAllowed => "SNP_DEBUG_ALLOWED",
            Self::MigrationAgentAllowed => "SNP_MIGRATION_AGENT_ALLOWED",
            Self::SmtEnabled => "SNP_SMT_ENABLED",
            Self::VmplTooHigh => "SNP_VMPL_TOO_HIGH",
            Self::HostDataMismatch => "SNP_HOST_DATA_MISMATCH",
            Self::IdKeyNotAllowed => "SNP_ID_KEY_NOT_ALLOWED",
            Self::AuthorKeyNotAllowed => "SNP_AUTHOR_KEY_NOT_ALLOWED",
            Self::SimulatedUntrusted => "SNP_SIMULATED_UNTRUSTED",
            Self::NotRequested => "NOT_REQUESTED",
            Self::NotEvaluated => "NOT_EVALUATED",
        }
    }

    /// The reason for a chain failure.
    pub fn of_chain(e: &ChainError) -> Self {
        match e {
            ChainError::Malformed { .. } | ChainError::Pem { .. } => Self::CertMalformed,
            ChainError::Expired { .. } => Self::CertExpired,
            ChainError::NotYetValid { .. } => Self::CertNotYetValid,
            ChainError::SignatureInvalid { .. } => Self::ChainSignatureInvalid,
            ChainError::Incomplete { .. } => Self::ChainIncomplete,
            ChainError::UntrustedRoot { .. } => Self::ArkUntrusted,
            _ => Self::ChainInvalid,
        }
    }
}

impl fmt::Display for SnpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for SnpReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SnpCheck {
    pub check: SnpCheckId,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<SnpReason>,
    pub message: String,
}

impl SnpCheck {
    fn pass(check: SnpCheckId, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Pass,
            reason: None,
            message: message.into(),
        }
    }

    fn fail(check: SnpCheckId, reason: SnpReason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Fail,
            reason: Some(reason),
            message: message.into(),
        }
    }

    fn skipped(check: SnpCheckId, reason: SnpReason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Skipped,
            reason: Some(reason),
            message: message.into(),
        }
    }
}

/// The certificates given with a report.
#[derive(Debug, Clone)]
pub struct SnpCerts {
    /// The VCEK or VLEK.
    pub endorsement: Certificate,
    /// ASK / ASVK (and any other intermediates), untrusted.
    pub intermediates: Vec<Certificate>,
    /// A supplied ARK: accepted only when it is a built-in one (or a trusted test ARK).
    pub ark: Option<Certificate>,
}

/// What to verify against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SnpOptions {
    /// Certificate validity is judged at this time.
    pub at: OffsetDateTime,
    /// The expected REPORT_DATA (zero-padded to 64 bytes); overrides the policy's.
    pub report_data: Option<[u8; 64]>,
    /// The policy's `[snp]` table.
    pub policy: Option<SnpPolicy>,
    /// The evidence says it comes from a simulated guest.
    pub simulated: bool,
}

impl SnpOptions {
    pub fn new(at: OffsetDateTime) -> Self {
        Self {
            at,
            report_data: None,
            policy: None,
            simulated: false,
        }
    }
}

/// Where the chain ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainSummary {
    /// Subjects, leaf first.
    pub subjects: Vec<String>,
    /// The ARK's generation, `None` for a trusted test ARK.
    pub generation: Option<Generation>,
    /// SHA-256 of the anchor's SubjectPublicKeyInfo.
    #[serde(serialize_with = "super::hex_bytes")]
    pub ark_spki_sha256: [u8; 32],
    /// The anchor is a simulated guest's test ARK.
    pub test_ark: bool,
}

/// The verdict on one report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SnpVerdict {
    pub valid: bool,
    pub checks: Vec<SnpCheck>,
    pub reasons: Vec<SnpReason>,
    /// The generation the TCB was decoded with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorsement: Option<VcekExtensions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<AttestationReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Verifies the endorsement chain: `certs.endorsement` through `certs.intermediates`
/// (and the built-in ASKs) to a built-in ARK, or to a test ARK whose key `test_arks`
/// names (that ARK must then be supplied, as `certs.ark` or in the intermediates).
pub fn verify_endorsement_chain(
    certs: &SnpCerts,
    at: OffsetDateTime,
    test_arks: &[[u8; 32]],
) -> Result<ChainSummary, (SnpReason, String)> {
    let mut trust = TrustStore::new();
    for a in roots::arks() {
        trust.add_certificate(a.cert.clone());
    }
    let supplied = certs.ark.iter().chain(certs.intermediates.iter());
    for c in supplied.filter(|c| c.is_self_issued()) {
        if test_arks.contains(&c.spki_sha256()) {
            trust.add_certificate(c.clone());
        }
    }
    if let Some(ark) = &certs.ark {
        let h = ark.spki_sha256();
        if roots::ark_generation(&h).is_none() && !test_arks.contains(&h) {
            return Err((
                SnpReason::ArkUntrusted,
                format!(
                    "the supplied ARK '{}' (SubjectPublicKeyInfo SHA-256 {}) is not one of AMD's ARKs for Milan, Genoa or Turin",
                    ark.subject_text(),
                    hex::encode(h)
                ),
            ));
        }
    }
    let mut pool = certs.intermediates.clone();
    pool.extend(roots::asks().iter().map(|a| a.cert.clone()));
    let chain = verify_chain(&certs.endorsement, &pool, &trust, &ChainOptions::new(at))
        .map_err(|e| (SnpReason::of_chain(&e), format!("{e} ({})", e.code())))?;
    let generation = roots::ark_generation(&chain.anchor.spki_sha256);
    Ok(ChainSummary {
        subjects: chain.subjects(),
        generation,
        ark_spki_sha256: chain.anchor.spki_sha256,
        test_ark: generation.is_none(),
    })
}

/// Runs the checklist on one report.
pub fn verify_report(report: &[u8], certs: &SnpCerts, opts: &SnpOptions) -> SnpVerdict {
    let mut checks = Vec::new();
    let policy = opts.policy.clone().unwrap_or_default();
    let test_arks = &policy.trusted_test_arks;
    let report = match AttestationReport::parse(report) {
        Ok(r) => {
            checks.push(SnpCheck::pass(
                SnpCheckId::Report,
                format!(
                    "ATTESTATION_REPORT version {}, VMPL {}, signed by {:?}",
                    r.version, r.vmpl, r.signing_key
                ),
            ));
            Some(r)
        }
        Err(e) => {
            checks.push(SnpCheck::fail(
                SnpCheckId::Report,
                SnpReason::ReportMalformed,
                e.to_string(),
            ));
            None
        }
    };

    // 2. chain.
    let chain = verify_endorsement_chain(certs, opts.at, test_arks);
    checks.push(match &chain {
        Ok(c) if c.test_ark => SnpCheck::pass(
            SnpCheckId::Chain,
            format!(
                "{} chains to the simulated guest's test ARK {} (trusted by the policy)",
                short_names(&c.subjects),
                hex::encode(c.ark_spki_sha256)
            ),
        ),
        Ok(c) => SnpCheck::pass(
            SnpCheckId::Chain,
            format!(
                "{} (AMD {} root), valid at {}",
                short_names(&c.subjects),
                c.generation.map(Generation::name).unwrap_or("?"),
                opts.at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
        ),
        Err((reason, msg)) if opts.simulated => SnpCheck::fail(
            SnpCheckId::Chain,
            SnpReason::SimulatedUntrusted,
            format!("simulated SEV-SNP evidence, and the policy does not trust its test ARK ([snp] trusted_test_arks): {msg} ({reason})"),
        ),
        Err((reason, msg)) => SnpCheck::fail(SnpCheckId::Chain, *reason, msg.clone()),
    });
    let chain = chain.ok();

    let ext = VcekExtensions::from_certificate(&certs.endorsement);
    let Some(report) = report else {
        for id in [
            SnpCheckId::Signature,
            SnpCheckId::KeyType,
            SnpCheckId::Endorsement,
            SnpCheckId::Tcb,
            SnpCheckId::ReportData,
        ] {
            checks.push(SnpCheck::skipped(
                id,
                SnpReason::NotEvaluated,
                "the report does not parse",
            ));
        }
        return finish(checks, None, chain, ext.ok(), None, &policy);
    };

    // 3. signature.
    checks.push(match certs.endorsement.public_key() {
        Ok(PublicKey::P384(key)) => match verify_signature(&report, &key) {
            Ok(()) => SnpCheck::pass(
                SnpCheckId::Signature,
                "ECDSA P-384/SHA-384 over bytes 0x000..0x2A0 verifies under the endorsement key",
            ),
            Err(e @ SignatureError::UnsupportedAlgorithm(_)) => SnpCheck::fail(
                SnpCheckId::Signature,
                SnpReason::SignatureAlgorithmUnsupported,
                e.to_string(),
            ),
            Err(e) => SnpCheck::fail(
                SnpCheckId::Signature,
                SnpReason::SignatureInvalid,
                e.to_string(),
            ),
        },
        Ok(other) => SnpCheck::fail(
            SnpCheckId::Signature,
            SnpReason::CertMalformed,
            format!(
                "the endorsement certificate holds a {} key, not ECC P-384",
                other.describe()
            ),
        ),
        Err(e) => SnpCheck::fail(
            SnpCheckId::Signature,
            SnpReason::CertMalformed,
            e.to_string(),
        ),
    });

    // The generation the TCB is decoded with: the ARK's, else the CPUID's, else the
    // productName's.
    let product_gen = ext
        .as_ref()
        .ok()
        .and_then(|x| Generation::from_product_name(&x.product_name));
    let generation = chain
        .as_ref()
        .and_then(|c| c.generation)
        .or_else(|| report.cpuid_generation())
        .or(product_gen);

    match &ext {
        Err(e) => {
            let msg = e.to_string();
            for id in [
                SnpCheckId::KeyType,
                SnpCheckId::Endorsement,
                SnpCheckId::Tcb,
            ] {
                checks.push(SnpCheck::fail(id, SnpReason::CertMalformed, msg.clone()));
            }
        }
        Ok(x) => {
            checks.push(key_type(&report, x, &policy));
            checks.push(endorsement(&report, x, chain.as_ref(), generation));
            checks.push(tcb(&report, x, generation));
        }
    }

    // 7. REPORT_DATA.
    let expected = opts.report_data.or(policy.report_data);
    checks.push(match expected {
        None => SnpCheck::skipped(
            SnpCheckId::ReportData,
            SnpReason::NotRequested,
            "no expected REPORT_DATA given",
        ),
        Some(e) if e == report.report_data => SnpCheck::pass(
            SnpCheckId::ReportData,
            "REPORT_DATA equals the expected value",
        ),
        Some(e) => SnpCheck::fail(
            SnpCheckId::ReportData,
            SnpReason::ReportDataMismatch,
            format!(
                "REPORT_DATA is {}, expected {}",
                hex::encode(report.report_data),
                hex::encode(e)
            ),
        ),
    });

    if opts.policy.is_some() {
        policy_checks(&report, &policy, generation, &mut checks);
    }
    finish(checks, generation, chain, ext.ok(), Some(report), &policy)
}

/// `SEV-VCEK -> SEV-Milan -> ARK-Milan`: the common names of a path.
fn short_names(subjects: &[String]) -> String {
    subjects
        .iter()
        .map(|s| {
            s.split(',')
                .find_map(|p| p.strip_prefix("CN="))
                .unwrap_or(s)
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn finish(
    checks: Vec<SnpCheck>,
    generation: Option<Generation>,
    chain: Option<ChainSummary>,
    endorsement: Option<VcekExtensions>,
    report: Option<AttestationReport>,
    policy: &SnpPolicy,
) -> SnpVerdict {
    let reasons: Vec<SnpReason> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter_map(|c| c.reason)
        .collect();
    SnpVerdict {
        valid: reasons.is_empty(),
        checks,
        reasons,
        generation,
        chain,
        endorsement,
        report,
        warnings: policy.warnings(),
    }
}

fn key_type(report: &AttestationReport, x: &VcekExtensions, policy: &SnpPolicy) -> SnpCheck {
    let id = SnpCheckId::KeyType;
    let reported = match report.signing_key {
        SigningKey::Vcek => EndorsementKind::Vcek,
        SigningKey::Vlek => EndorsementKind::Vlek,
        SigningKey::None => {
            return SnpCheck::fail(
                id,
                SnpReason::ReportUnsigned,
                "SIGNING_KEY says the report is not signed",
            )
        }
        SigningKey::Reserved(v) => {
            return SnpCheck::fail(
                id,
                SnpReason::SigningKeyMismatch,
                format!("SIGNING_KEY is the reserved value {v}"),
            )
        }
    };
    if reported != x.kind {
        return SnpCheck::fail(
            id,
            SnpReason::SigningKeyMismatch,
            format!(
                "the report says it is signed by a {reported:?}, the certificate given is a {:?}",
                x.kind
            ),
        );
    }
    if !policy.signing_keys.contains(&reported) {
        return SnpCheck::fail(
            id,
            SnpReason::SigningKeyNotAllowed,
            format!("the policy does not accept {reported:?}-signed reports"),
        );
    }
    let csp = x
        .csp_id
        .as_deref()
        .map(|c| format!(" (CSP {c})"))
        .unwrap_or_default();
    SnpCheck::pass(id, format!("{reported:?}{csp}, as the report says"))
}

fn endorsement(
    report: &AttestationReport,
    x: &VcekExtensions,
    chain: Option<&ChainSummary>,
    generation: Option<Generation>,
) -> SnpCheck {
    let id = SnpCheckId::Endorsement;
    let product = Generation::from_product_name(&x.product_name);
    let mut named = vec![("productName", product)];
    if let Some(g) = chain.filter(|c| !c.test_ark).map(|c| c.generation) {
        named.push(("ARK", g));
    }
    if report.cpuid.is_some() {
        named.push(("CPUID", report.cpuid_generation()));
    }
    let Some(generation) = generation else {
        return SnpCheck::fail(
            id,
            SnpReason::ProductMismatch,
            format!(
                "cannot tell the processor generation (productName {:?})",
                x.product_name
            ),
        );
    };
    if let Some((what, g)) = named.iter().find(|(_, g)| *g != Some(generation)) {
        return SnpCheck::fail(
            id,
            SnpReason::ProductMismatch,
            format!(
                "the {what} names {}, but the evidence is for {generation} (productName {:?})",
                g.map(Generation::name).unwrap_or("an unknown generation"),
                x.product_name
            ),
        );
    }
    match (x.kind, &x.hw_id) {
        (EndorsementKind::Vcek, Some(hw)) => {
            if report.chip_id_is_zero() {
                return SnpCheck::skipped(
                    id,
                    SnpReason::ChipIdMasked,
                    format!(
                        "{} VCEK; CHIP_ID is masked, so hwID cannot be compared",
                        x.product_name
                    ),
                );
            }
            let n = generation.hwid_len();
            let (head, tail) = report.chip_id.split_at(n.min(report.chip_id.len()));
            if hw.as_slice() != head || tail.iter().any(|b| *b != 0) {
                return SnpCheck::fail(
                    id,
                    SnpReason::HwIdMismatch,
                    format!(
                        "the VCEK's hwID {} differs from CHIP_ID {}",
                        hex::encode(hw),
                        hex::encode(report.chip_id)
                    ),
                );
            }
            SnpCheck::pass(
                id,
                format!("{} VCEK for this chip (hwID = CHIP_ID)", x.product_name),
            )
        }
        _ => SnpCheck::pass(id, format!("{} VLEK", x.product_name)),
    }
}

fn tcb(report: &AttestationReport, x: &VcekExtensions, generation: Option<Generation>) -> SnpCheck {
    let id = SnpCheckId::Tcb;
    let Some(generation) = generation else {
        return SnpCheck::skipped(id, SnpReason::NotEvaluated, "unknown processor generation");
    };
    let t = report.reported_tcb(generation);
    let mut wrong = Vec::new();
    for (c, cert) in [
        (Component::Fmc, x.fmc_spl),
        (Component::Bl, Some(x.bl_spl)),
        (Component::Tee, Some(x.tee_spl)),
        (Component::Snp, Some(x.snp_spl)),
        (Component::Ucode, Some(x.ucode_spl)),
    ] {
        let found = t.spl(c);
        if found.is_some() && cert != found {
            wrong.push(format!(
                "{} certificate {} report {}",
                c.name(),
                cert.map_or("absent".to_owned(), |v| v.to_string()),
                found.map_or("-".to_owned(), |v| v.to_string())
            ));
        }
    }
    if wrong.is_empty() {
        SnpCheck::pass(
            id,
            format!("REPORTED_TCB {t} equals the certificate's SPLs"),
        )
    } else {
        SnpCheck::fail(
            id,
            SnpReason::TcbMismatch,
            format!(
                "REPORTED_TCB {t} differs from the certificate's SPLs: {}",
                wrong.join(", ")
            ),
        )
    }
}

fn policy_checks(
    report: &AttestationReport,
    p: &SnpPolicy,
    generation: Option<Generation>,
    checks: &mut Vec<SnpCheck>,
) {
    use SnpCheckId as I;
    use SnpReason as R;
    let allowed = |list: &[[u8; 48]], v: &[u8; 48]| list.is_empty() || list.contains(v);
    let one = |ok: bool, id, reason, pass: String, fail: String| {
        if ok {
            SnpCheck::pass(id, pass)
        } else {
            SnpCheck::fail(id, reason, fail)
        }
    };
    let m = hex::encode(report.measurement);
    if !p.measurements.is_empty() {
        checks.push(one(
            allowed(&p.measurements, &report.measurement),
            I::PolicyMeasurement,
            R::MeasurementNotAllowed,
            format!("measurement {m} is allowed"),
            format!("measurement {m} is not on the policy's list"),
        ));
    }
    if !p.min_tcb.is_empty() {
        checks.push(match generation {
            None => SnpCheck::fail(
                I::PolicyTcb,
                R::TcbTooLow,
                "unknown processor generation: the TCB cannot be compared",
            ),
            Some(g) => {
                let t = report.reported_tcb(g);
                let low = p.min_tcb.shortfalls(&t);
                one(
                    low.is_empty(),
                    I::PolicyTcb,
                    R::TcbTooLow,
                    format!("REPORTED_TCB {t} meets the minimum"),
                    format!(
                        "REPORTED_TCB below the minimum: {}",
                        low.iter()
                            .map(|(c, f, m)| format!("{} {f} < {m}", c.name()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }
        });
    }
    checks.push(one(
        p.allow_debug || !report.policy.debug,
        I::PolicyDebug,
        R::DebugAllowed,
        format!(
            "guest policy {:#x}: debugging {}",
            report.policy.raw,
            if report.policy.debug {
                "allowed (accepted by the policy)"
            } else {
                "forbidden"
            }
        ),
        format!(
            "guest policy {:#x} allows debugging: the hypervisor can read the guest's memory",
            report.policy.raw
        ),
    ));
    checks.push(one(
        p.allow_migration_agent || !report.policy.migrate_ma,
        I::PolicyMigrationAgent,
        R::MigrationAgentAllowed,
        "no migration agent allowed".to_owned(),
        format!(
            "guest policy {:#x} allows a migration agent",
            report.policy.raw
        ),
    ));
    if !p.allow_smt {
        checks.push(one(
            !report.platform_info.smt_enabled,
            I::PolicySmt,
            R::SmtEnabled,
            "SMT is disabled on the platform".to_owned(),
            format!(
                "PLATFORM_INFO {:#x}: SMT is enabled, and the policy forbids it",
                report.platform_info.raw
            ),
        ));
    }
    if let Some(max) = p.max_vmpl {
        checks.push(one(
            report.vmpl <= max,
            I::PolicyVmpl,
            R::VmplTooHigh,
            format!("VMPL {} <= {max}", report.vmpl),
            format!(
                "the report comes from VMPL {}, the policy allows at most {max}",
                report.vmpl
            ),
        ));
    }
    if let Some(h) = p.host_data {
        checks.push(one(
            h == report.host_data,
            I::PolicyHostData,
            R::HostDataMismatch,
            "HOST_DATA equals the policy's".to_owned(),
            format!(
                "HOST_DATA is {}, the policy expects {}",
                hex::encode(report.host_data),
                hex::encode(h)
            ),
        ));
    }
    if !p.id_key_digests.is_empty() {
        checks.push(one(
            allowed(&p.id_key_digests, &report.id_key_digest),
            I::PolicyIdKey,
            R::IdKeyNotAllowed,
            "ID_KEY_DIGEST is allowed".to_owned(),
            format!(
                "ID_KEY_DIGEST {} is not on the policy's list",
                hex::encode(report.id_key_digest)
            ),
        ));
    }
    if !p.author_key_digests.is_empty() {
        checks.push(one(
            report.author_key_en && allowed(&p.author_key_digests, &report.author_key_digest),
            I::PolicyAuthorKey,
            R::AuthorKeyNotAllowed,
            "AUTHOR_KEY_DIGEST is allowed".to_owned(),
            format!(
                "AUTHOR_KEY_DIGEST {} (AUTHOR_KEY_EN {}) is not on the policy's list",
                hex::encode(report.author_key_digest),
                report.author_key_en
            ),
        ));
    }
}
