//! `Sha256Digest::parse` on arbitrary UTF-8: never panics; a parsed digest displays as
//! exactly the string it was parsed from (one spelling per digest).
#![no_main]

use cerd_attestation::Sha256Digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(digest) = Sha256Digest::parse(text) {
        assert_eq!(digest.to_string(), text);
        assert_eq!(Sha256Digest::parse_hex(&digest.to_hex()), Ok(digest));
    }
    if let Ok(digest) = Sha256Digest::parse_hex(text) {
        assert_eq!(digest.to_hex(), text);
    }
});
