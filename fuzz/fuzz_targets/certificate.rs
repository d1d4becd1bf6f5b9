//! `chain::Certificate::from_der` (and the PEM and NV-padding readers) on arbitrary
//! bytes: never panics; a parsed certificate is the input (`der()`), its signed part
//! lies inside it and it reparses to itself; every accessor and check runs, and path
//! building over it (with itself as issuer candidate) terminates.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_certificate(data));
