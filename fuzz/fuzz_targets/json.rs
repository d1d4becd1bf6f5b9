//! `json::parse` on arbitrary bytes: never panics; a parsed value has a canonical form
//! (RFC 8785) that parses back to a value with the same canonical form.
#![no_main]

use cerd_attestation::{canonical, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let canon = canonical::to_bytes(&value).expect("parsed value has no canonical form");
    let again = json::parse(&canon).expect("canonical bytes do not parse");
    let canon_again = canonical::to_bytes(&again).expect("reparsed value has no canonical form");
    assert_eq!(canon, canon_again, "canonical form is not a fixed point");
});
