//! `snp::AttestationReport::parse` on arbitrary bytes: never panics; a parsed report is
//! exactly its input (1184 bytes), its signed part is the first 0x2A0 bytes, its JSON
//! form serializes, its TCB decodes under every generation, and its signature either
//! decodes to a P-384 signature that re-encodes to the same R and S or is refused.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_snp_report(data));
