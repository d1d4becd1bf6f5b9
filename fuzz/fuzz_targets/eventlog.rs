//! `eventlog::parse` on arbitrary bytes: never panics; a parsed log is internally
//! consistent (it replays to its own current value and to nothing else), its CEL-JSON
//! text and JSON value read back to an equal log, and the text is a fixed point.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_eventlog(data));
