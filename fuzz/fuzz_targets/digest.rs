//! `Sha256Digest::parse` on arbitrary UTF-8: never panics; a parsed digest displays as
//! exactly the string it was parsed from (one spelling per digest).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_digest(data));
