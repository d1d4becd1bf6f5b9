//! `verify::verify_bytes` on arbitrary bytes: never panics, and every verdict is
//! consistent with itself.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_bundle(data));
