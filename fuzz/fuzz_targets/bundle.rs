//! `verify::verify_bytes` on arbitrary bytes: never panics, and every verdict is
//! consistent with itself.
#![no_main]

use cerd_attestation::verify::{self, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(verdict) = verify::verify_bytes(data) else {
        return;
    };
    assert_eq!(verdict.valid, verdict.reasons.is_empty(), "{verdict:?}");
    let failed: Vec<_> = verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter_map(|c| c.reason)
        .collect();
    assert_eq!(failed, verdict.reasons, "{verdict:?}");
    // A valid verdict has parsed the bundle, and its claimed hash is the recomputed one.
    if verdict.valid {
        let bundle = verdict
            .bundle
            .as_ref()
            .expect("valid verdict without bundle");
        assert_eq!(verdict.certificate_hash, Some(bundle.certificate_hash));
    }
});
