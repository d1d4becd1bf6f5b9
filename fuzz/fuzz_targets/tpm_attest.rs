//! `tpm::TpmsAttest::parse` on arbitrary bytes: never panics; a parsed quote's PCR
//! selection re-marshals to the bytes it was read from, and the report of a quote
//! check under a fixed key never affirms bytes nobody signed.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_tpm_attest(data));
