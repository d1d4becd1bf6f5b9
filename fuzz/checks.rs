//! The checks of every fuzz target, in one place: each `fuzz_targets/<name>.rs` calls
//! `check_<name>` under libFuzzer, and `attestation/tests/fuzz_corpus.rs` replays the
//! committed corpora through the same functions with an ordinary `cargo test` (it
//! includes this file with `#[path]`, so it needs neither libFuzzer nor this crate).
//! Plain Rust: only `cerd_attestation` and `serde_json`.
#![allow(dead_code)] // each fuzz target uses one check

use std::sync::OnceLock;

use cerd_attestation::batch::BatchHeader;
use cerd_attestation::chain::{self, verify_chain, Certificate, ChainOptions};
use cerd_attestation::eventlog::{self, EventLog};
use cerd_attestation::merkle::{self, InclusionProof};
use cerd_attestation::roots::TrustStore;
use cerd_attestation::snp::{self, AttestationReport, CertTable};
use cerd_attestation::tpm::{self, AttestationKey, Name, TpmPublic, TpmsAttest, TpmtSignature};
use cerd_attestation::verify::{self, Status};
use cerd_attestation::{canonical, json, Sha256Digest};

/// `fuzz_targets/bundle.rs`.
pub fn check_bundle(data: &[u8]) {
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
    if verdict.valid {
        let bundle = verdict
            .bundle
            .as_ref()
            .expect("valid verdict without bundle");
        assert_eq!(verdict.certificate_hash, Some(bundle.certificate_hash));
    }
}

/// `fuzz_targets/json.rs`.
pub fn check_json(data: &[u8]) {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let canon = canonical::to_bytes(&value).expect("parsed value has no canonical form");
    let again = json::parse(&canon).expect("canonical bytes do not parse");
    let canon_again = canonical::to_bytes(&again).expect("reparsed value has no canonical form");
    assert_eq!(canon, canon_again, "canonical form is not a fixed point");
}

/// `fuzz_targets/digest.rs`.
pub fn check_digest(data: &[u8]) {
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
}

/// `fuzz_targets/merkle_proof.rs`: record (32 bytes) || root (32 bytes) || proof JSON.
pub fn check_merkle_proof(data: &[u8]) {
    let (record, root, text) = match (data.get(..32), data.get(32..64), data.get(64..)) {
        (Some(r), Some(t), Some(rest)) => (
            Sha256Digest(r.try_into().unwrap()),
            Sha256Digest(t.try_into().unwrap()),
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
}

/// `fuzz_targets/batch_header.rs`.
pub fn check_batch_header(data: &[u8]) {
    let Ok(header) = BatchHeader::decode(data) else {
        return;
    };
    assert_eq!(header.encode(), data);
    assert_eq!(header.hash(), Sha256Digest::of(data));
    assert_eq!(header.validate(), Ok(()));
    let json = serde_json::to_vec(&header).expect("serialize header");
    let back: BatchHeader = serde_json::from_slice(&json).expect("reparse header");
    assert_eq!(back, header);
}

/// `fuzz_targets/eventlog.rs`.
pub fn check_eventlog(data: &[u8]) {
    let Ok(log) = eventlog::parse(data) else {
        return;
    };
    let current = log.current();
    assert_eq!(log.verify_replay(&current), Ok(()));
    let mut other = current;
    other[0] ^= 1;
    assert!(log.verify_replay(&other).is_err());
    assert_eq!(log.replay(log.pcr(), *log.header().initial()), current);
    let text = log.to_json();
    let back = eventlog::parse(text.as_bytes()).expect("reparse to_json");
    assert_eq!(back, log);
    assert_eq!(back.to_json(), text);
    let from_value = EventLog::from_value(&log.to_value()).expect("reparse to_value");
    assert_eq!(from_value, log);
    for e in log.events() {
        assert_eq!(e.pcr(), log.pcr());
        if let Some(m) = e.measurement() {
            let found = log.find(m.digest()).expect("a measured digest is found");
            assert!(found.recnum() >= e.recnum());
        }
    }
    assert!(log.bound_from() >= 1 && log.bound_from() <= log.next_recnum());
}

/// `fuzz_targets/tpm_attest.rs`.
pub fn check_tpm_attest(data: &[u8]) {
    let Ok(attest) = TpmsAttest::parse(data) else {
        return;
    };
    serde_json::to_string(&attest).expect("serialize TPMS_ATTEST");
    assert_eq!(
        tpm::attest::AttestType::from_tag(attest.attest_type().tag()),
        Some(attest.attest_type())
    );
    if let Some(quote) = attest.quote() {
        let encoded = quote.pcr_select.encode();
        let mut r = tpm::reader::Reader::new("TPML_PCR_SELECTION", &encoded);
        let again = tpm::pcr::PcrSelection::read(&mut r, "pcrSelect").expect("re-read selection");
        r.finish().expect("selection re-read exactly");
        assert_eq!(again, quote.pcr_select);
        let tail = encoded.len() + 2 + quote.pcr_digest.len();
        assert!(data.len() >= tail);
        assert_eq!(
            &data[data.len() - tail..data.len() - tail + encoded.len()],
            &encoded[..]
        );
    }
}

/// `fuzz_targets/tpm_public.rs`.
pub fn check_tpm_public(data: &[u8]) {
    if let Ok(public) = TpmPublic::from_tpmt(data) {
        assert_eq!(public.tpmt_bytes(), data);
        assert_eq!(public.name(), Name::of_public(public.name_alg, data));
        let again = TpmPublic::from_tpm2b(&public.tpm2b_bytes()).expect("re-read as TPM2B");
        assert_eq!(again, public);
    }
    if let Ok(public) = TpmPublic::from_tpm2b(data) {
        assert_eq!(public.tpm2b_bytes(), data);
        let _ = AttestationKey::from_public(public);
    }
    if let Ok((key, _)) = AttestationKey::detect(data) {
        let again = AttestationKey::from_spki_der(key.spki_der()).expect("re-read own SPKI");
        assert_eq!(again.spki_der(), key.spki_der());
    }
}

/// `tpm_signature`: a parsed TPMT_SIGNATURE describes itself, and verifying it under
/// fixed keys (RSA, P-256, P-384) never panics.
pub fn check_tpm_signature(data: &[u8]) {
    let Ok(sig) = TpmtSignature::parse(data) else {
        return;
    };
    let _ = sig.to_string();
    serde_json::to_string(&sig).expect("serialize TPMT_SIGNATURE");
    for key in keys() {
        let _ = key.verify(data, &sig);
    }
}

/// TPMT_PUBLIC of restricted signing keys with scheme NULL: P-256 and P-384 with the
/// curve's generator as the point, and RSA-2048 with an arbitrary odd modulus.
fn keys() -> &'static [AttestationKey] {
    static KEYS: OnceLock<Vec<AttestationKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let p256 = (
            3u16,
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
        );
        let p384 = (
            4u16,
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
        );
        let mut keys = Vec::new();
        for (curve, x, y) in [p256, p384] {
            let (x, y) = (unhex(x), unhex(y));
            let mut t = vec![0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0, 0, 0x00, 0x10, 0x00, 0x10];
            t.extend(curve.to_be_bytes());
            t.extend([0x00, 0x10]);
            t.extend((x.len() as u16).to_be_bytes());
            t.extend(&x);
            t.extend((y.len() as u16).to_be_bytes());
            t.extend(&y);
            keys.push(AttestationKey::detect(&t).unwrap().0);
        }
        let mut t = vec![0x00, 0x01, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0, 0, 0x00, 0x10, 0x00, 0x10];
        t.extend([0x08, 0x00, 0, 0, 0, 0, 0x01, 0x00]);
        t.extend([0xc5; 255]);
        t.push(0x01);
        keys.push(AttestationKey::detect(&t).unwrap().0);
        keys
    })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `fuzz_targets/certificate.rs`.
pub fn check_certificate(data: &[u8]) {
    let _ = chain::parse_certificates(data);
    if let Ok(prefix) = chain::strip_nv_padding(data) {
        assert!(data.starts_with(prefix));
    }
    let Ok(cert) = Certificate::from_der(data) else {
        return;
    };
    assert_eq!(cert.der(), data);
    assert!(data.windows(cert.tbs().len()).any(|w| w == cert.tbs()));
    assert!(data
        .windows(cert.spki_der().len())
        .any(|w| w == cert.spki_der()));
    let again = Certificate::from_der(cert.der()).expect("reparse");
    assert_eq!(again, cert);
    let _ = (cert.subject_text(), cert.issuer().text(), cert.serial_hex());
    let _ = (
        cert.public_key(),
        cert.strict_der(),
        cert.check_critical_extensions(),
    );
    let _ = cert.check_validity(cert.not_before());
    let _ = cert.verify_signed_by(&cert, true);
    let pool = [cert.clone(), again];
    let opts = ChainOptions {
        allow_sha1: true,
        ..ChainOptions::new(cert.not_before())
    };
    for trust in [TrustStore::new(), TrustStore::with_builtin_pins()] {
        if let Ok(chain) = verify_chain(&cert, &pool, &trust, &opts) {
            assert_eq!(chain.path.first(), Some(&cert));
        }
    }
}

/// Same checks as `fuzz/fuzz_targets/snp_report.rs`.
pub fn check_snp_report(data: &[u8]) {
    let Ok(report) = AttestationReport::parse(data) else {
        return;
    };
    assert_eq!(data.len(), snp::report::REPORT_LEN);
    assert_eq!(report.bytes(), data);
    assert_eq!(report.signed_bytes(), &data[..snp::report::SIGNED_LEN]);
    serde_json::to_string(&report).expect("serialize the report");
    for g in snp::Generation::ALL {
        assert_eq!(report.reported_tcb(g).raw, report.reported_tcb);
    }
    let _ = report.cpuid_generation();
    if let Ok(sig) = snp::signature::signature_of(&report) {
        let (r, s) = snp::signature::encode_signature(&sig);
        assert_eq!(r, report.signature_r);
        assert_eq!(s, report.signature_s);
    }
}

/// Same checks as `fuzz/fuzz_targets/snp_cert_table.rs`.
pub fn check_snp_cert_table(data: &[u8]) {
    let Ok(table) = CertTable::parse(data) else {
        return;
    };
    for e in &table.entries {
        assert!(e.data.is_empty() || data.windows(e.data.len()).any(|w| w == e.data));
        if let Ok(cert) = Certificate::from_der(&e.data) {
            let _ = snp::VcekExtensions::from_certificate(&cert);
        }
    }
    let again = CertTable::parse(&table.encode()).expect("re-encoded table parses");
    assert_eq!(again, table);
}
