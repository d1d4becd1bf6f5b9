//! AMD SEV-SNP evidence: attestation reports parsed strictly, the VCEK/VLEK
//! certificates that sign them, and the checks a verifier runs on them.
//!
//! | module | what (SEV Secure Nested Paging Firmware ABI Specification, rev 1.57) |
//! |---|---|
//! | [`report`] | ATTESTATION_REPORT (Table 23), guest policy (Table 9), PLATFORM_INFO (Table 24) |
//! | [`tcb`] | TCB_VERSION (Table 3; the Turin layout of rev 1.56+), processor generations |
//! | [`signature`] | ECDSA P-384 signature with little-endian r and s (Table 134) |
//! | [`certs`] | the extended report's certificate table (Table 24 of `SNP_GET_EXT_REPORT`, GUIDs of the GHCB spec §4.1.8.1) and AMD's VCEK/VLEK X.509 extensions (VCEK spec §3) |
//! | [`roots`] | the pinned AMD root keys (ARK) and signing keys (ASK) for Milan, Genoa and Turin |
//! | [`policy`] | the `[snp]` table of the verifier's policy |
//! | [`verify`] | the checklist: report, chain, signature, key type, endorsement, TCB, REPORT_DATA, policy |
//!
//! Every parser takes untrusted bytes through the bounded [`crate::tpm::reader::Reader`]
//! (integers here are little-endian: [`le_u32`], [`le_u64`]) and never panics.

pub mod certs;
pub mod policy;
pub mod report;
pub mod roots;
pub mod signature;
pub mod tcb;
pub mod verify;

pub use certs::{CertTable, CertTableEntry, EndorsementKind, VcekExtensions};
pub use policy::SnpPolicy;
pub use report::{AttestationReport, GuestPolicy, PlatformInfo, SigningKey};
pub use tcb::{Generation, TcbVersion};
pub use verify::{
    verify_certs, verify_report, SnpCerts, SnpCheck, SnpCheckId, SnpOptions, SnpReason, SnpVerdict,
};

use crate::tpm::reader::{ParseError, Reader};

/// A little-endian u32 (the ABI specification's integers are little-endian).
pub(crate) fn le_u32(r: &mut Reader<'_>, field: &'static str) -> Result<u32, ParseError> {
    let mut out = [0u8; 4];
    out.copy_from_slice(r.take(field, 4)?);
    Ok(u32::from_le_bytes(out))
}

/// A little-endian u64.
pub(crate) fn le_u64(r: &mut Reader<'_>, field: &'static str) -> Result<u64, ParseError> {
    let mut out = [0u8; 8];
    out.copy_from_slice(r.take(field, 8)?);
    Ok(u64::from_le_bytes(out))
}

/// `N` bytes as an array.
pub(crate) fn array<const N: usize>(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<[u8; N], ParseError> {
    let mut out = [0u8; N];
    out.copy_from_slice(r.take(field, N)?);
    Ok(out)
}

/// Serializes bytes as lowercase hex (for JSON reports).
pub(crate) fn hex_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}
