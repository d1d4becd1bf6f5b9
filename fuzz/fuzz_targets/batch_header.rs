//! `BatchHeader::decode` on arbitrary bytes: never panics; a decoded header encodes to
//! exactly the input bytes, is valid, and survives its JSON form unchanged.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_batch_header(data));
