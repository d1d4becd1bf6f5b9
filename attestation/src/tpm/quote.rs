//! The checks a verifier runs on a TPM2_Quote (TPM 2.0 Part 3 §18.4), as a checklist.
//!
//! | check | passes when | fails with |
//! |---|---|---|
//! | structure | the TPMS_ATTEST and the TPMT_SIGNATURE parse | `QUOTE_MALFORMED`, `SIGNATURE_MALFORMED` |
//! | magic and type | magic is TPM_GENERATED_VALUE, type is TPM_ST_ATTEST_QUOTE | `QUOTE_MAGIC_INVALID`, `QUOTE_TYPE_INVALID` |
//! | AK attributes | the AK's public area (when given) is restricted, sign, fixedTPM | `AK_ATTRIBUTES_INVALID` |
//! | signature | the signature verifies under the AK over `H(TPMS_ATTEST)`, with a scheme the AK allows | `QUOTE_SIGNATURE_INVALID`, `SIGNATURE_SCHEME_MISMATCH`, `SIGNATURE_SCHEME_UNSUPPORTED` |
//! | qualifying data | `extraData` equals the expected value | `QUALIFYING_DATA_MISMATCH` |
//! | PCR digest | the values cover exactly the quoted PCRs and hash to `pcrDigest` | `PCR_SELECTION_MISMATCH`, `PCR_DIGEST_MISMATCH` |
//!
//! A check whose input was not given is SKIPPED with `NOT_REQUESTED`; one that cannot
//! run because another failed is SKIPPED with `NOT_EVALUATED`. Every check that can run
//! does, so a report names every problem, not only the first.
//!
//! The PCR digest is computed with the hash of the *signing scheme* (Part 3 §18.4:
//! "pcrDigest … using the hash algorithm of the signing scheme"), whatever the banks:
//! a quote of the SHA-1 bank signed with RSASSA-SHA256 carries a SHA-256 digest.

use std::fmt;

use serde::Serialize;

use super::attest::{AttestType, ClockInfo, TpmsAttest};
use super::key::{AttestationKey, SignatureError};
use super::pcr::PcrValues;
use super::public::ObjectAttributes;
use super::signature::TpmtSignature;
use crate::verify::{Reason, Status};

/// The checks, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuoteCheckId {
    /// TPMS_ATTEST and TPMT_SIGNATURE parse.
    Structure,
    /// Magic and type.
    MagicType,
    /// The AK's object attributes.
    AkAttributes,
    /// The signature under the AK.
    Signature,
    /// The qualifying data (nonce).
    QualifyingData,
    /// The PCR digest over the given values.
    PcrDigest,
    /// Whether the AK is trusted (its certificate chain or a pin). Not produced by
    /// [`verify_quote`]: callers that check the AK's certificate add it.
    AkTrust,
}

impl QuoteCheckId {
    /// Human label used in the text checklist.
    pub fn label(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::MagicType => "magic and type",
            Self::AkAttributes => "AK attributes",
            Self::Signature => "quote signature",
            Self::QualifyingData => "qualifying data",
            Self::PcrDigest => "PCR digest",
            Self::AkTrust => "AK trust",
        }
    }
}

impl fmt::Display for QuoteCheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QuoteCheck {
    /// Which check.
    pub check: QuoteCheckId,
    /// Its outcome.
    pub status: Status,
    /// Why it failed or was skipped (absent on PASS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What was checked or what was wrong, for a person.
    pub message: String,
}

impl QuoteCheck {
    /// A passed check.
    pub fn pass(check: QuoteCheckId, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Pass,
            reason: None,
            message: message.into(),
        }
    }

    /// A failed check.
    pub fn fail(check: QuoteCheckId, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Fail,
            reason: Some(reason),
            message: message.into(),
        }
    }

    /// A check that did not run.
    pub fn skipped(check: QuoteCheckId, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Skipped,
            reason: Some(reason),
            message: message.into(),
        }
    }
}

/// The outcome of every check on one quote, and what the quote says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QuoteReport {
    /// Every check, in order.
    pub checks: Vec<QuoteCheck>,
    /// The parsed quote, when it parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attest: Option<TpmsAttest>,
    /// The parsed signature, when it parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<TpmtSignature>,
}

impl QuoteReport {
    /// The check with this id.
    pub fn check(&self, id: QuoteCheckId) -> Option<&QuoteCheck> {
        self.checks.iter().find(|c| c.check == id)
    }

    /// The reasons of the failed checks, in order.
    pub fn failures(&self) -> Vec<Reason> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .filter_map(|c| c.reason)
            .collect()
    }

    /// The reasons of every check that keeps the report from affirming: the failed
    /// ones, and the skipped ones other than `NOT_REQUESTED`, in order.
    pub fn unaffirmed(&self) -> Vec<Reason> {
        self.checks
            .iter()
            .filter(|c| match c.status {
                Status::Pass => false,
                Status::Fail => true,
                Status::Skipped => c.reason != Some(Reason::NotRequested),
            })
            .filter_map(|c| c.reason)
            .collect()
    }

    /// True when no check failed and every skipped check was skipped only because
    /// its input was not given (`NOT_REQUESTED`).
    pub fn affirms(&self) -> bool {
        self.unaffirmed().is_empty()
            && self
                .checks
                .iter()
                .all(|c| c.status == Status::Pass || c.reason.is_some())
    }

    /// The TPM's clock, reset and restart counters at the quote, when it parses.
    pub fn clock_info(&self) -> Option<ClockInfo> {
        self.attest.as_ref().map(|a| a.clock_info)
    }

    /// The TPM's firmware version, when the quote parses.
    pub fn firmware_version(&self) -> Option<u64> {
        self.attest.as_ref().map(|a| a.firmware_version)
    }
}

/// Runs every check on a quote: `attest` (marshalled TPMS_ATTEST) and `signature`
/// (marshalled TPMT_SIGNATURE) under `ak`; qualifying data against
/// `expected_qualifying` and the PCR digest against `pcr_values` when given.
pub fn verify_quote(
    ak: &AttestationKey,
    attest: &[u8],
    signature: &[u8],
    expected_qualifying: Option<&[u8]>,
    pcr_values: Option<&PcrValues>,
) -> QuoteReport {
    use QuoteCheckId as Id;
    let parsed = TpmsAttest::parse(attest);
    let sig = TpmtSignature::parse(signature);
    let mut checks = Vec::with_capacity(6);

    checks.push(match (&parsed, &sig) {
        (Ok(a), Ok(s)) => QuoteCheck::pass(
            Id::Structure,
            format!(
                "TPMS_ATTEST ({} bytes, {}) and TPMT_SIGNATURE ({s})",
                attest.len(),
                type_name(a.attest_type())
            ),
        ),
        (Err(e), Ok(_)) => QuoteCheck::fail(Id::Structure, Reason::QuoteMalformed, e.to_string()),
        (Ok(_), Err(e)) => {
            QuoteCheck::fail(Id::Structure, Reason::SignatureMalformed, e.to_string())
        }
        (Err(a), Err(s)) => {
            QuoteCheck::fail(Id::Structure, Reason::QuoteMalformed, format!("{a}; {s}"))
        }
    });

    let not_parsed = |id| QuoteCheck::skipped(id, Reason::NotEvaluated, "the quote does not parse");
    checks.push(match &parsed {
        Err(_) => not_parsed(Id::MagicType),
        Ok(a) if !a.is_tpm_generated() => QuoteCheck::fail(
            Id::MagicType,
            Reason::QuoteMagicInvalid,
            format!(
                "magic is {:#010x}, not TPM_GENERATED_VALUE 0xff544347: the TPM did not produce this structure",
                a.magic
            ),
        ),
        Ok(a) if a.attest_type() != AttestType::Quote => QuoteCheck::fail(
            Id::MagicType,
            Reason::QuoteTypeInvalid,
            format!(
                "type is {} ({:#06x}), not a quote (TPM_ST_ATTEST_QUOTE 0x8018)",
                type_name(a.attest_type()),
                a.attest_type().tag()
            ),
        ),
        Ok(_) => QuoteCheck::pass(
            Id::MagicType,
            "TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE",
        ),
    });

    checks.push(ak_attributes(ak));

    checks.push(match &sig {
        Err(_) => QuoteCheck::skipped(
            Id::Signature,
            Reason::NotEvaluated,
            "the signature does not parse",
        ),
        Ok(s) => match ak.verify(attest, s) {
            Ok(()) => QuoteCheck::pass(
                Id::Signature,
                format!("{s} by the {} AK", ak.describe()),
            ),
            Err(e @ SignatureError::SchemeMismatch(_)) => {
                QuoteCheck::fail(Id::Signature, Reason::SignatureSchemeMismatch, e.to_string())
            }
            Err(e @ SignatureError::Unsupported(_)) => QuoteCheck::fail(
                Id::Signature,
                Reason::SignatureSchemeUnsupported,
                e.to_string(),
            ),
            Err(e) => QuoteCheck::fail(
                Id::Signature,
                Reason::QuoteSignatureInvalid,
                format!("{s} {e} ({}): the quote or the signature was changed, or another key signed it", ak.describe()),
            ),
        },
    });

    checks.push(match (&parsed, expected_qualifying) {
        (Err(_), _) => not_parsed(Id::QualifyingData),
        (Ok(a), None) => QuoteCheck::skipped(
            Id::QualifyingData,
            Reason::NotRequested,
            format!(
                "no expected value given; the quote carries {}",
                hex_or_empty(&a.extra_data)
            ),
        ),
        (Ok(a), Some(expected)) if a.extra_data == expected => QuoteCheck::pass(
            Id::QualifyingData,
            format!("extraData {}", hex_or_empty(expected)),
        ),
        (Ok(a), Some(expected)) => QuoteCheck::fail(
            Id::QualifyingData,
            Reason::QualifyingDataMismatch,
            format!(
                "the quote carries {}, expected {}: it was made for another nonce (a replay?)",
                hex_or_empty(&a.extra_data),
                hex_or_empty(expected)
            ),
        ),
    });

    checks.push(pcr_check(&parsed, &sig, ak, pcr_values));

    QuoteReport {
        checks,
        attest: parsed.ok(),
        signature: sig.ok(),
    }
}

fn ak_attributes(ak: &AttestationKey) -> QuoteCheck {
    let id = QuoteCheckId::AkAttributes;
    let Some(public) = ak.public() else {
        return QuoteCheck::skipped(
            id,
            Reason::NotRequested,
            "the AK was given as a bare public key: its TPM attributes are not known (its certificate vouches for them)",
        );
    };
    let required = [
        (ObjectAttributes::RESTRICTED, "restricted"),
        (ObjectAttributes::SIGN_ENCRYPT, "sign"),
        (ObjectAttributes::FIXED_TPM, "fixedTPM"),
    ];
    let missing: Vec<&str> = required
        .iter()
        .filter(|(a, _)| !public.attributes.contains(*a))
        .map(|(_, n)| *n)
        .collect();
    if missing.is_empty() {
        QuoteCheck::pass(
            id,
            format!(
                "{} ({}, name {})",
                public.attributes,
                public.describe(),
                public.name()
            ),
        )
    } else {
        QuoteCheck::fail(
            id,
            Reason::AkAttributesInvalid,
            format!(
                "the AK lacks {}: a key that is not a restricted fixedTPM signing key can sign forged quotes",
                missing.join(", ")
            ),
        )
    }
}

fn pcr_check(
    parsed: &Result<TpmsAttest, super::ParseError>,
    sig: &Result<TpmtSignature, super::ParseError>,
    ak: &AttestationKey,
    values: Option<&PcrValues>,
) -> QuoteCheck {
    let id = QuoteCheckId::PcrDigest;
    let Ok(attest) = parsed else {
        return QuoteCheck::skipped(id, Reason::NotEvaluated, "the quote does not parse");
    };
    let Some(quote) = attest.quote() else {
        return QuoteCheck::skipped(id, Reason::NotEvaluated, "the attestation is not a quote");
    };
    let Some(values) = values else {
        return QuoteCheck::skipped(
            id,
            Reason::NotRequested,
            format!(
                "no PCR values given; the quote covers {} with digest {}",
                quote.pcr_select,
                hex_or_empty(&quote.pcr_digest)
            ),
        );
    };
    // The signing scheme's hash: the AK's, when its public area restricts it to one
    // (then a signature naming another hash fails the signature check, not this one),
    // else the signature's.
    let hash = ak
        .public()
        .and_then(|p| scheme_hash(p.scheme))
        .or_else(|| sig.as_ref().ok().and_then(TpmtSignature::hash));
    let Some(hash) = hash else {
        return QuoteCheck::skipped(
            id,
            Reason::NotEvaluated,
            "the signing scheme's hash, which the PCR digest uses, is unknown",
        );
    };
    match values.digest(&quote.pcr_select, hash) {
        Err(mismatch) => QuoteCheck::fail(id, Reason::PcrSelectionMismatch, mismatch.to_string()),
        Ok(digest) if digest == quote.pcr_digest => QuoteCheck::pass(
            id,
            format!("{} hash to {} ({hash})", quote.pcr_select, hex::encode(&digest)),
        ),
        Ok(digest) => QuoteCheck::fail(
            id,
            Reason::PcrDigestMismatch,
            format!(
                "the values of {} hash to {} ({hash}), the quote says {}: a PCR value differs from what the TPM quoted",
                quote.pcr_select,
                hex::encode(&digest),
                hex_or_empty(&quote.pcr_digest)
            ),
        ),
    }
}

fn scheme_hash(scheme: super::public::KeyScheme) -> Option<super::HashAlg> {
    use super::public::KeyScheme as K;
    match scheme {
        K::Rsassa(h) | K::Rsapss(h) | K::Ecdsa(h) | K::Ecdaa(h) | K::Sm2(h) | K::Ecschnorr(h) => {
            Some(h)
        }
        _ => None,
    }
}

fn type_name(t: AttestType) -> &'static str {
    match t {
        AttestType::Quote => "quote",
        AttestType::Certify => "certify",
        AttestType::Creation => "creation",
        AttestType::Time => "time",
        AttestType::Nv => "NV certify",
        AttestType::NvDigest => "NV digest certify",
        AttestType::CommandAudit => "command audit",
        AttestType::SessionAudit => "session audit",
    }
}

fn hex_or_empty(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "(empty)".into()
    } else {
        hex::encode(bytes)
    }
}
