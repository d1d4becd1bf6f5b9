//! An `InclusionProof` in JSON checked against a record hash and a root.
//!
//! Input layout: bytes 0..32 are the record hash, 32..64 the root, the rest is the
//! proof JSON. Shorter inputs are all JSON, checked against zero hashes. Never panics;
//! a proof that parses serializes back to an equal proof; a proof that verifies leads to
//! exactly that root and does not verify for any other record.
#![no_main]

use cerd_attestation::merkle::{self, InclusionProof};
use cerd_attestation::Sha256Digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (record, root, text) = match (data.get(..32), data.get(32..64), data.get(64..)) {
        (Some(r), Some(t), Some(rest)) => (
            Sha256Digest(r.try_into().expect("32 bytes")),
            Sha256Digest(t.try_into().expect("32 bytes")),
            rest,
        ),
        _ => (Sha256Digest::ZERO, Sha256Digest::ZERO, data),
    };
    let Ok(proof) = serde_json::from_slice::<InclusionProof>(text) else {
        return;
    };
    let json = serde_json::to_vec(&proof).expect("serialize proof");
    let back: InclusionProof = serde_json::from_slice(&json).expect("reparse proof");
    assert_eq!(back, proof);

    let computed = merkle::compute_root(&record, &proof);
    match merkle::verify_inclusion(&record, &proof, &root) {
        Ok(()) => {
            assert_eq!(computed, Ok(root));
            let mut other = record;
            other.0[0] ^= 1;
            assert!(merkle::verify_inclusion(&other, &proof, &root).is_err());
        }
        Err(_) => assert_ne!(computed, Ok(root)),
    }
});
