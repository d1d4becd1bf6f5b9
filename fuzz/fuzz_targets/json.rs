//! `json::parse` on arbitrary bytes: never panics; a parsed value has a canonical form
//! (RFC 8785) that parses back to a value with the same canonical form.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_json(data));
