//! `BatchHeader::decode` on arbitrary bytes: never panics; a decoded header encodes to
//! exactly the input bytes, is valid, and survives its JSON form unchanged.
#![no_main]

use cerd_attestation::batch::BatchHeader;
use cerd_attestation::Sha256Digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = BatchHeader::decode(data) else {
        return;
    };
    assert_eq!(header.encode(), data);
    assert_eq!(header.hash(), Sha256Digest::of(data));
    assert_eq!(header.validate(), Ok(()));
    let json = serde_json::to_vec(&header).expect("serialize header");
    let back: BatchHeader = serde_json::from_slice(&json).expect("reparse header");
    assert_eq!(back, header);
});
