//! `tpm::TpmPublic::from_tpm2b` / `from_tpmt` and `AttestationKey::detect` on arbitrary
//! bytes: never panic; a parsed public area keeps exactly its bytes, re-marshals to
//! the input, and its name is nameAlg || H(those bytes).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_tpm_public(data));
