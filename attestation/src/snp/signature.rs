//! The report signature (SEV-SNP ABI spec Table 134, ECDSA P-384 with SHA-384): R and S
//! are 72-byte little-endian integers; only their low 48 bytes may be non-zero.

use p384::ecdsa::signature::Verifier as _;
use p384::ecdsa::{Signature, VerifyingKey};

use super::report::{AttestationReport, SIG_ALGO_ECDSA_P384_SHA384};

/// Why a report signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// SIGNATURE_ALGO is not ECDSA P-384 with SHA-384.
    #[error("SIGNATURE_ALGO is {0}, only 1 (ECDSA P-384 with SHA-384) is defined")]
    UnsupportedAlgorithm(u32),
    /// R or S is not a valid P-384 scalar (too large, zero, or bytes set above 48).
    #[error("the signature's {0} is not a P-384 scalar")]
    Malformed(&'static str),
    /// The signature does not verify under the key.
    #[error("the signature over bytes 0x000..0x2A0 does not verify under the endorsement key")]
    Invalid,
}

/// One 72-byte little-endian component as 48 big-endian bytes.
fn component(le: &[u8; 72], name: &'static str) -> Result<[u8; 48], SignatureError> {
    let (low, high) = le.split_at(48);
    if high.iter().any(|b| *b != 0) {
        return Err(SignatureError::Malformed(name));
    }
    let mut be = [0u8; 48];
    be.copy_from_slice(low);
    be.reverse();
    Ok(be)
}

/// The signature as a P-384 ECDSA signature.
pub fn signature_of(report: &AttestationReport) -> Result<Signature, SignatureError> {
    if report.signature_algo != SIG_ALGO_ECDSA_P384_SHA384 {
        return Err(SignatureError::UnsupportedAlgorithm(report.signature_algo));
    }
    let r = component(&report.signature_r, "R")?;
    let s = component(&report.signature_s, "S")?;
    Signature::from_scalars(
        p384::FieldBytes::clone_from_slice(&r),
        p384::FieldBytes::clone_from_slice(&s),
    )
    .map_err(|_| SignatureError::Malformed("R or S"))
}

/// Verifies the report's signature under `key` (the VCEK's or VLEK's public key).
pub fn verify_signature(
    report: &AttestationReport,
    key: &VerifyingKey,
) -> Result<(), SignatureError> {
    let sig = signature_of(report)?;
    key.verify(report.signed_bytes(), &sig)
        .map_err(|_| SignatureError::Invalid)
}

/// Encodes a signature into the report's R and S fields (72 bytes each, little-endian),
/// for producers (the simulated guest).
pub fn encode_signature(sig: &Signature) -> ([u8; 72], [u8; 72]) {
    let (r, s) = sig.split_bytes();
    let le = |be: &[u8]| {
        let mut out = [0u8; 72];
        for (o, b) in out.iter_mut().zip(be.iter().rev()) {
            *o = *b;
        }
        out
    };
    (le(&r), le(&s))
}
