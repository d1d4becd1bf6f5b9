//! The SNP checklist's vocabulary: which check ([`SnpCheckId`]), its stable reason
//! codes ([`SnpReason`]) and one line of the checklist ([`SnpCheck`]).

use std::fmt;

use serde::Serialize;

use crate::chain::ChainError;
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
    /// The report is a batch's only hardware evidence, and the policy pins no launch
    /// measurement, ID key or author key: any SEV-SNP guest could have produced it.
    GuestNotPinned,
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
            Self::GuestNotPinned => "SNP_GUEST_NOT_PINNED",
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
    pub(super) fn pass(check: SnpCheckId, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Pass,
            reason: None,
            message: message.into(),
        }
    }

    pub(super) fn fail(check: SnpCheckId, reason: SnpReason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Fail,
            reason: Some(reason),
            message: message.into(),
        }
    }

    pub(super) fn skipped(
        check: SnpCheckId,
        reason: SnpReason,
        message: impl Into<String>,
    ) -> Self {
        Self {
            check,
            status: Status::Skipped,
            reason: Some(reason),
            message: message.into(),
        }
    }
}
