//! `snp::AttestationReport::parse` on arbitrary bytes: never panics; a parsed report is
//! exactly its input (1184 bytes), its signed part is the first 0x2A0 bytes, its JSON
//! form serializes, its TCB decodes under every generation, and its signature either
//! decodes to a P-384 signature that re-encodes to the same R and S or is refused.
#![no_main]

use cerd_attestation::snp::report::{AttestationReport, REPORT_LEN, SIGNED_LEN};
use cerd_attestation::snp::signature::{encode_signature, signature_of};
use cerd_attestation::snp::Generation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = AttestationReport::parse(data) else {
        return;
    };
    assert_eq!(data.len(), REPORT_LEN);
    assert_eq!(report.bytes(), data);
    assert_eq!(report.signed_bytes(), &data[..SIGNED_LEN]);
    serde_json::to_string(&report).expect("serialize the report");
    for g in Generation::ALL {
        let t = report.reported_tcb(g);
        assert_eq!(t.raw, report.reported_tcb);
    }
    let _ = report.cpuid_generation();
    if let Ok(sig) = signature_of(&report) {
        let (r, s) = encode_signature(&sig);
        assert_eq!(r, report.signature_r);
        assert_eq!(s, report.signature_s);
    }
});
