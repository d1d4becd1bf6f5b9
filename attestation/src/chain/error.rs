//! Why a certificate or a chain is not accepted, with a stable reason code per kind.

/// Why a certificate does not parse or a chain does not verify. Certificates are named
/// by subject (RFC 4514 text, `(empty subject)` for EK certificates) and serial (hex).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The bytes are not a certificate this verifier can read.
    #[error("certificate is malformed: {field} at byte {offset}: {detail}")]
    Malformed {
        /// The structure being read (`certificate`, `tbsCertificate`, `basicConstraints`…).
        field: &'static str,
        /// Offset within that structure.
        offset: usize,
        /// What was wrong.
        detail: String,
    },
    /// PEM text holds no certificate, or a block does not decode.
    #[error("PEM: {detail}")]
    Pem {
        /// What was wrong.
        detail: String,
    },
    /// A signature in the path does not verify under its issuer's key.
    #[error(
        "signature on '{subject}' (serial {serial}) does not verify under the key of '{issuer}'"
    )]
    SignatureInvalid {
        subject: String,
        serial: String,
        issuer: String,
    },
    /// A signature algorithm or key type this verifier does not implement.
    #[error("certificate '{subject}' (serial {serial}): {detail} is not supported")]
    UnsupportedAlgorithm {
        subject: String,
        serial: String,
        detail: String,
    },
    /// A SHA-1 signature, and the options do not allow legacy chains.
    #[error("certificate '{subject}' (serial {serial}) is signed with SHA-1, which is refused unless legacy SHA-1 chains are allowed")]
    LegacySha1Refused { subject: String, serial: String },
    /// The verification time is after notAfter.
    #[error("certificate '{subject}' (serial {serial}) expired at {not_after} (checked at {at})")]
    Expired {
        subject: String,
        serial: String,
        not_after: String,
        at: String,
    },
    /// The verification time is before notBefore.
    #[error("certificate '{subject}' (serial {serial}) is not valid before {not_before} (checked at {at})")]
    NotYetValid {
        subject: String,
        serial: String,
        not_before: String,
        at: String,
    },
    /// The issuer may not sign certificates: no basicConstraints cA, or keyUsage
    /// without keyCertSign.
    #[error("issuer '{subject}' (serial {serial}) is not a CA: {detail}")]
    IssuerNotCa {
        subject: String,
        serial: String,
        detail: String,
    },
    /// An issuer's pathLenConstraint is smaller than the intermediates below it.
    #[error("issuer '{subject}' (serial {serial}) allows {max} intermediate certificates below it, the path has {found}")]
    PathLenExceeded {
        subject: String,
        serial: String,
        max: u64,
        found: usize,
    },
    /// A critical extension this verifier does not process (RFC 5280 §4.2).
    #[error("certificate '{subject}' (serial {serial}) has critical extension {oid}, which this verifier does not process")]
    UnknownCriticalExtension {
        subject: String,
        serial: String,
        oid: String,
    },
    /// No given certificate or trust anchor is the issuer of `subject`.
    #[error("no trusted root or given intermediate is the issuer '{issuer}' of '{subject}' (serial {serial}); give the missing CA certificate")]
    Incomplete {
        subject: String,
        serial: String,
        issuer: String,
    },
    /// The path ends at a self-issued root whose key is neither pinned nor in the trust
    /// store.
    #[error("the chain ends at root '{subject}' (SubjectPublicKeyInfo SHA-256 {spki_sha256}), which is not trusted: it is not a built-in vendor root and not in the trust directory")]
    UntrustedRoot {
        subject: String,
        spki_sha256: String,
    },
    /// The path would be longer than the allowed depth.
    #[error("the chain above '{subject}' is longer than {max} certificates")]
    TooLong { subject: String, max: usize },
    /// Path building gave up after `checks` signature verifications (a pool with many
    /// certificates of the same names).
    #[error("gave up building a path above '{subject}' after {checks} signature checks; give fewer candidate certificates")]
    SearchLimit { subject: String, checks: usize },
}

impl ChainError {
    /// The stable reason code, e.g. `CHAIN_SIGNATURE_INVALID`. Codes never change
    /// meaning; new ones may be added.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "CERT_MALFORMED",
            Self::Pem { .. } => "CERT_MALFORMED",
            Self::SignatureInvalid { .. } => "CHAIN_SIGNATURE_INVALID",
            Self::UnsupportedAlgorithm { .. } => "CERT_UNSUPPORTED_ALGORITHM",
            Self::LegacySha1Refused { .. } => "LEGACY_SHA1_REFUSED",
            Self::Expired { .. } => "CERT_EXPIRED",
            Self::NotYetValid { .. } => "CERT_NOT_YET_VALID",
            Self::IssuerNotCa { .. } => "ISSUER_NOT_CA",
            Self::PathLenExceeded { .. } => "CHAIN_PATH_LENGTH_EXCEEDED",
            Self::UnknownCriticalExtension { .. } => "CERT_UNKNOWN_CRITICAL_EXTENSION",
            Self::Incomplete { .. } => "CHAIN_INCOMPLETE",
            Self::UntrustedRoot { .. } => "CHAIN_UNTRUSTED_ROOT",
            Self::TooLong { .. } => "CHAIN_TOO_LONG",
            Self::SearchLimit { .. } => "CHAIN_SEARCH_LIMIT",
        }
    }
}
