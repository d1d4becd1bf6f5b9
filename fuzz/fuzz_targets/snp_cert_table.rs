//! `snp::CertTable::parse` on arbitrary bytes: never panics; every entry's data lies in
//! the input; a parsed table re-encodes to a buffer that parses to the same table; each
//! entry's certificate (if it is one) is read for AMD's VCEK extensions without panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_snp_cert_table(data));
