//! `tpm::TpmtSignature::parse` on arbitrary bytes: never panics; a parsed signature
//! describes itself, and verifying it under fixed keys (RSA, P-256, P-384) never
//! panics.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_tpm_signature(data));
