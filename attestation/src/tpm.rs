//! TPM 2.0 evidence: the structures a quote is made of, parsed strictly, and the checks
//! a verifier runs on a quote.
//!
//! | module | structures (TPM 2.0 Part 2, rev 1.59) |
//! |---|---|
//! | [`reader`] | the one bounded reader every parser here uses |
//! | [`alg`] | TPM_ALG_ID (§6.3), TPM_ECC_CURVE (§6.4), the hashes computed here |
//! | [`name`] | TPM2B_NAME (§10.5.3); names are `nameAlg ‖ H(public area)` (Part 1 §16) |
//! | [`public`] | TPMT_PUBLIC (§12.2.4), TPM2B_PUBLIC (§12.2.5), TPMA_OBJECT (§8.3) |
//! | [`pcr`] | TPMS_PCR_SELECTION (§10.6.2), TPML_PCR_SELECTION (§10.9.7), PCR values and the tpm2-tools "values" file format |
//! | [`attest`] | TPMS_ATTEST (§10.12.12) and every TPMU_ATTEST member (§10.12.2–§10.12.9), TPMS_CLOCK_INFO (§10.11.1) |
//! | [`signature`] | TPMT_SIGNATURE (§11.3.4) |
//! | [`key`] | an attestation key from TPM2B_PUBLIC, TPMT_PUBLIC or SubjectPublicKeyInfo, and signature verification |
//! | [`quote`] | the quote checks (magic and type, signature, qualifying data, PCR digest) as a checklist |
//!
//! Every parser takes untrusted bytes, reads them through [`reader::Reader`], refuses
//! truncation and trailing bytes with a [`ParseError`] naming the structure, field and
//! byte offset, and never panics.

pub mod alg;
pub mod attest;
pub mod key;
pub mod name;
pub mod pcr;
pub mod public;
pub mod quote;
pub mod reader;
pub mod signature;

pub use alg::{EccCurve, HashAlg};
pub use attest::{Attested, ClockInfo, QuoteInfo, TpmsAttest, TPM_GENERATED_VALUE};
pub use key::{AkFormat, AttestationKey, KeyError};
pub use name::Name;
pub use pcr::{PcrError, PcrSelection, PcrSelectionSpec, PcrValues};
pub use public::{ObjectAttributes, PublicKey, TpmPublic};
pub use quote::{verify_quote, QuoteCheck, QuoteCheckId, QuoteReport};
pub use reader::{ParseError, ParseErrorKind};
pub use signature::TpmtSignature;

/// Serializes bytes as lowercase hex (for JSON reports).
pub(crate) fn hex_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}
