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

mod reason;

pub use reason::{SnpCheck, SnpCheckId, SnpReason};

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

/// Why an endorsement chain is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndorsementChainError {
    /// A supplied ARK is neither a built-in AMD ARK nor a trusted test ARK.
    #[error("the supplied ARK '{subject}' (SubjectPublicKeyInfo SHA-256 {spki_sha256}) is not one of AMD's ARKs for Milan, Genoa or Turin")]
    ArkNotAmd {
        subject: String,
        spki_sha256: String,
    },
    /// Path building or validation failed.
    #[error("{0} ({code})", code = .0.code())]
    Chain(ChainError),
}

impl EndorsementChainError {
    /// The SNP reason code.
    pub fn reason(&self) -> SnpReason {
        match self {
            Self::ArkNotAmd { .. } => SnpReason::ArkUntrusted,
            Self::Chain(e) => SnpReason::of_chain(e),
        }
    }
}

/// Verifies the endorsement chain: `certs.endorsement` through `certs.intermediates`
/// (and the built-in ASKs) to a built-in ARK, or to a test ARK whose key `test_arks`
/// names (that ARK must then be supplied, as `certs.ark` or in the intermediates).
pub fn verify_endorsement_chain(
    certs: &SnpCerts,
    at: OffsetDateTime,
    test_arks: &[[u8; 32]],
) -> Result<ChainSummary, EndorsementChainError> {
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
            return Err(EndorsementChainError::ArkNotAmd {
                subject: ark.subject_text(),
                spki_sha256: hex::encode(h),
            });
        }
    }
    let mut pool = certs.intermediates.clone();
    pool.extend(roots::asks().iter().map(|a| a.cert.clone()));
    let chain = verify_chain(&certs.endorsement, &pool, &trust, &ChainOptions::new(at))
        .map_err(EndorsementChainError::Chain)?;
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
                    "ATTESTATION_REPORT version {}, VMPL {}, signed by {}",
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
    checks.push(chain_check(&chain, opts));
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

/// The `chain` line of the checklist.
fn chain_check(chain: &Result<ChainSummary, EndorsementChainError>, opts: &SnpOptions) -> SnpCheck {
    match chain {
        Ok(c) if c.test_ark => SnpCheck::pass(
            SnpCheckId::Chain,
            format!(
                "{} chains to the simulated guest's test ARK {} (trusted by the policy)",
                short_names(&c.subjects),
                hex::encode(c.ark_spki_sha256)
            ),
        ),
        Ok(_) if opts.simulated => SnpCheck::fail(
            SnpCheckId::Chain,
            SnpReason::SimulatedUntrusted,
            "the evidence says it is simulated, but its chain ends at an AMD root",
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
        Err(e) if opts.simulated && e.reason() == SnpReason::ArkUntrusted => SnpCheck::fail(
            SnpCheckId::Chain,
            SnpReason::SimulatedUntrusted,
            format!("simulated SEV-SNP evidence, and the policy does not trust its test ARK ([snp] trusted_test_arks): {e} ({})", e.reason()),
        ),
        Err(e) => SnpCheck::fail(SnpCheckId::Chain, e.reason(), e.to_string()),
    }
}

/// The certificates alone, without a report (what `snpguest verify certs` checks): the
/// chain, and that the VCEK/VLEK carries AMD's extensions for the generation of its ARK.
pub fn verify_certs(certs: &SnpCerts, opts: &SnpOptions) -> SnpVerdict {
    let policy = opts.policy.clone().unwrap_or_default();
    let chain = verify_endorsement_chain(certs, opts.at, &policy.trusted_test_arks);
    let mut checks = vec![chain_check(&chain, opts)];
    let chain = chain.ok();
    let ext = VcekExtensions::from_certificate(&certs.endorsement);
    let product = ext
        .as_ref()
        .ok()
        .and_then(|x| Generation::from_product_name(&x.product_name));
    let generation = chain.as_ref().and_then(|c| c.generation).or(product);
    checks.push(match &ext {
        Err(e) => SnpCheck::fail(
            SnpCheckId::Endorsement,
            SnpReason::CertMalformed,
            e.to_string(),
        ),
        Ok(x) => match chain.as_ref().and_then(|c| c.generation) {
            Some(g) if product != Some(g) => SnpCheck::fail(
                SnpCheckId::Endorsement,
                SnpReason::ProductMismatch,
                format!("productName {:?} under the {g} ARK", x.product_name),
            ),
            _ => {
                let fmc = x.fmc_spl.map(|f| format!("fmc {f} ")).unwrap_or_default();
                let id = match (&x.hw_id, &x.csp_id) {
                    (Some(hw), _) => format!("hwID {}", hex::encode(hw)),
                    (_, Some(csp)) => format!("CSP {csp}"),
                    _ => String::new(),
                };
                SnpCheck::pass(
                    SnpCheckId::Endorsement,
                    format!(
                        "{} {}, SPLs {fmc}bl {} tee {} snp {} ucode {}, {id}",
                        x.product_name, x.kind, x.bl_spl, x.tee_spl, x.snp_spl, x.ucode_spl
                    ),
                )
            }
        },
    });
    finish(checks, generation, chain, ext.ok(), None, &policy)
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
                "the report says it is signed by a {reported}, the certificate given is a {}",
                x.kind
            ),
        );
    }
    if !policy.signing_keys.contains(&reported) {
        return SnpCheck::fail(
            id,
            SnpReason::SigningKeyNotAllowed,
            format!("the policy does not accept {reported}-signed reports"),
        );
    }
    let csp = x
        .csp_id
        .as_deref()
        .map(|c| format!(" (CSP {c})"))
        .unwrap_or_default();
    SnpCheck::pass(id, format!("{reported}{csp}, as the report says"))
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
