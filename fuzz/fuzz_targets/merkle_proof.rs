//! An `InclusionProof` in JSON checked against a record hash and a root.
//!
//! Input layout: bytes 0..32 are the record hash, 32..64 the root, the rest is the
//! proof JSON. Shorter inputs are all JSON, checked against zero hashes. Never panics;
//! a proof that parses serializes back to an equal proof; a proof that verifies leads to
//! exactly that root and does not verify for any other record.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_merkle_proof(data));
