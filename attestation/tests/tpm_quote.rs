#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! TPM quote verification against real evidence and its negative twins.
//!
//! Positive vectors come from `../shared/vectors` (see its README): the Google Compute
//! Engine vTPM quotes of one boot over the SHA-1, SHA-256 and SHA-384 banks, and a quote
//! from the IBM/Microsoft reference TPM simulator (keylime's test data). Tests that need
//! them print `SKIPPED` and pass when the folder is absent, so a fresh clone passes.
//!
//! Each negative twin changes one input by one byte and expects exactly the reason code
//! of the check that input feeds. Keys this crate has no vector for (ECDSA P-256 and
//! P-384, RSA-PSS, SHA-1 and SHA-384 schemes) are exercised with keys made here, signed
//! by the RustCrypto signers; the end-to-end tests (`tests/e2e/verify_quote.rs`) cover
//! them with quotes from a real swtpm.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cerd_attestation::tpm::pcr::PcrSelection;
use cerd_attestation::tpm::reader::Reader;
use cerd_attestation::tpm::{
    verify_quote, AkFormat, AttestationKey, HashAlg, Name, PcrSelectionSpec, PcrValues,
    QuoteCheckId, QuoteReport, TpmPublic, TpmsAttest, TpmtSignature,
};
use cerd_attestation::verify::{Reason, Status};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------
// The vectors.

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (the shared test vectors, see its README); nothing to check here",
            dir.display()
        );
        None
    }
}

macro_rules! vectors_or_skip {
    () => {
        match vectors() {
            Some(dir) => dir,
            None => return,
        }
    };
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const GCE: &str = "tpm/go-tpm-tools/attestations/extracted/gce-cos-85-nonce9009";
const GCE_NONCE: [u8; 2] = [0x90, 0x09];
const BANKS: [&str; 3] = ["sha1", "sha256", "sha384"];

struct Gce {
    ak: AttestationKey,
    attest: Vec<u8>,
    sig: Vec<u8>,
    values: PcrValues,
    pcr_file: Vec<u8>,
    spec: PcrSelectionSpec,
}

fn gce(dir: &Path, bank: &str) -> Gce {
    let (ak, format) =
        AttestationKey::detect(&read(dir, &format!("{GCE}/ak.tpmt_public"))).unwrap();
    assert_eq!(format, AkFormat::TpmtPublic);
    let spec: PcrSelectionSpec = format!("{bank}:all").parse().unwrap();
    let pcr_file = read(dir, &format!("{GCE}/pcrs-{bank}.bin"));
    Gce {
        ak,
        attest: read(dir, &format!("{GCE}/quote-{bank}.attest")),
        sig: read(dir, &format!("{GCE}/quote-{bank}.sig")),
        values: PcrValues::from_values_file(&spec, &pcr_file).unwrap(),
        pcr_file,
        spec,
    }
}

impl Gce {
    fn verify(&self) -> QuoteReport {
        verify_quote(
            &self.ak,
            &self.attest,
            &self.sig,
            Some(&GCE_NONCE),
            Some(&self.values),
        )
    }
}

fn statuses(report: &QuoteReport) -> Vec<(QuoteCheckId, Status)> {
    report.checks.iter().map(|c| (c.check, c.status)).collect()
}

#[track_caller]
fn assert_all_pass(report: &QuoteReport) {
    for c in &report.checks {
        assert_eq!(c.status, Status::Pass, "{c:?}");
    }
    assert!(report.affirms());
    assert!(report.failures().is_empty());
}

// ---------------------------------------------------------------------------------
// GCE vTPM.

#[test]
fn gce_quotes_of_every_bank_verify() {
    let dir = vectors_or_skip!();
    for bank in BANKS {
        let g = gce(&dir, bank);
        let report = g.verify();
        assert_all_pass(&report);
        let quote = report.attest.as_ref().unwrap().quote().unwrap();
        assert_eq!(quote.pcr_select.to_string(), g.spec.to_string(), "{bank}");
        // The digest is SHA-256 (the signing scheme's hash) for every bank.
        assert_eq!(quote.pcr_digest.len(), 32, "{bank}");
        assert_eq!(
            report.signature.as_ref().unwrap().to_string(),
            "RSASSA-SHA256"
        );
        let clock = report.clock_info().unwrap();
        assert_eq!(
            (clock.reset_count, clock.restart_count, clock.safe),
            (10, 0, true)
        );
        assert_eq!(report.firmware_version(), Some(0x2016_0511_0016_2800));
    }
}

#[test]
fn gce_ak_is_a_restricted_rsa_2048_signing_key_and_its_certificate_holds_it() {
    let dir = vectors_or_skip!();
    let g = gce(&dir, "sha256");
    let public = g.ak.public().unwrap();
    assert_eq!(public.describe(), "RSA-2048");
    assert_eq!(
        public.attributes.to_string(),
        "fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign"
    );
    assert_eq!(public.rsa_exponent(), Some(65537));
    // The AK certificate's key, taken as a bare SubjectPublicKeyInfo, is the same key
    // and verifies the same quote; its TPM attributes are then unknown (NOT_REQUESTED).
    use x509_cert::der::{Decode, Encode};
    let cert =
        x509_cert::Certificate::from_der(&read(&dir, &format!("{GCE}/ak_cert.der"))).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let (from_cert, format) = AttestationKey::detect(&spki).unwrap();
    assert_eq!(format, AkFormat::SpkiDer);
    assert_eq!(from_cert.spki_der(), g.ak.spki_der());
    let report = verify_quote(
        &from_cert,
        &g.attest,
        &g.sig,
        Some(&GCE_NONCE),
        Some(&g.values),
    );
    assert!(report.affirms(), "{report:#?}");
    let attrs = report.check(QuoteCheckId::AkAttributes).unwrap();
    assert_eq!(
        (attrs.status, attrs.reason),
        (Status::Skipped, Some(Reason::NotRequested))
    );
}

#[test]
fn gce_one_byte_changes_fail_with_the_reason_of_their_check() {
    let dir = vectors_or_skip!();
    let g = gce(&dir, "sha256");

    // The quote: a byte of the clock (structure intact) breaks only the signature.
    let mut attest = g.attest.clone();
    attest[50] ^= 1;
    let r = verify_quote(&g.ak, &attest, &g.sig, Some(&GCE_NONCE), Some(&g.values));
    assert_eq!(r.failures(), [Reason::QuoteSignatureInvalid], "{r:#?}");

    // The signature.
    let mut sig = g.sig.clone();
    sig[100] ^= 1;
    let r = verify_quote(&g.ak, &g.attest, &sig, Some(&GCE_NONCE), Some(&g.values));
    assert_eq!(r.failures(), [Reason::QuoteSignatureInvalid]);

    // A PCR value (PCR 7 of the values file).
    let mut file = g.pcr_file.clone();
    file[7 * 32] ^= 1;
    let values = PcrValues::from_values_file(&g.spec, &file).unwrap();
    let r = verify_quote(&g.ak, &g.attest, &g.sig, Some(&GCE_NONCE), Some(&values));
    assert_eq!(r.failures(), [Reason::PcrDigestMismatch]);

    // The nonce.
    let r = verify_quote(
        &g.ak,
        &g.attest,
        &g.sig,
        Some(&[0x90, 0x08]),
        Some(&g.values),
    );
    assert_eq!(r.failures(), [Reason::QualifyingDataMismatch]);

    // The magic: the TPM did not make it (and the signature no longer matches).
    let mut attest = g.attest.clone();
    attest[0] = 0xfe;
    let r = verify_quote(&g.ak, &attest, &g.sig, Some(&GCE_NONCE), Some(&g.values));
    assert_eq!(
        r.failures(),
        [Reason::QuoteMagicInvalid, Reason::QuoteSignatureInvalid]
    );

    // The signature's hash: the AK is restricted to RSASSA-SHA256.
    let mut sig = g.sig.clone();
    sig[3] = 0x04;
    let r = verify_quote(&g.ak, &g.attest, &sig, Some(&GCE_NONCE), Some(&g.values));
    assert_eq!(r.failures(), [Reason::SignatureSchemeMismatch], "{r:#?}");

    // PCR values for other PCRs than the quote's.
    let spec: PcrSelectionSpec =
        "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22"
            .parse()
            .unwrap();
    let values = PcrValues::from_values_file(&spec, &g.pcr_file[..23 * 32]).unwrap();
    let r = verify_quote(&g.ak, &g.attest, &g.sig, Some(&GCE_NONCE), Some(&values));
    assert_eq!(r.failures(), [Reason::PcrSelectionMismatch]);
    let message = &r.check(QuoteCheckId::PcrDigest).unwrap().message;
    assert!(message.contains("sha256:23"), "{message}");

    // The values of another bank.
    let other = gce(&dir, "sha1");
    let r = verify_quote(
        &g.ak,
        &g.attest,
        &g.sig,
        Some(&GCE_NONCE),
        Some(&other.values),
    );
    assert_eq!(r.failures(), [Reason::PcrSelectionMismatch]);
}

#[test]
fn gce_every_single_byte_change_of_quote_or_signature_is_refused() {
    let dir = vectors_or_skip!();
    for bank in BANKS {
        let g = gce(&dir, bank);
        for i in 0..g.attest.len() {
            let mut attest = g.attest.clone();
            attest[i] ^= 0x01;
            let r = verify_quote(&g.ak, &attest, &g.sig, Some(&GCE_NONCE), Some(&g.values));
            assert!(!r.affirms(), "{bank} quote byte {i}");
            let sig = r.check(QuoteCheckId::Signature).unwrap();
            assert_eq!(
                sig.reason,
                Some(Reason::QuoteSignatureInvalid),
                "{bank} byte {i}"
            );
        }
        for i in 0..g.sig.len() {
            let mut sig = g.sig.clone();
            sig[i] ^= 0x80;
            let r = verify_quote(&g.ak, &g.attest, &sig, Some(&GCE_NONCE), Some(&g.values));
            assert!(!r.affirms(), "{bank} signature byte {i}");
        }
    }
}

#[test]
fn skipped_checks_say_why_and_only_missing_inputs_still_affirm() {
    let dir = vectors_or_skip!();
    let g = gce(&dir, "sha384");
    let r = verify_quote(&g.ak, &g.attest, &g.sig, None, None);
    assert!(r.affirms());
    use QuoteCheckId as Id;
    assert_eq!(
        statuses(&r),
        [
            (Id::Structure, Status::Pass),
            (Id::MagicType, Status::Pass),
            (Id::AkAttributes, Status::Pass),
            (Id::Signature, Status::Pass),
            (Id::QualifyingData, Status::Skipped),
            (Id::PcrDigest, Status::Skipped),
        ]
    );
    assert!(r.checks[4].message.contains("9009"));
    assert!(r.checks[5].message.contains("sha384:0,1,2"));
    // A quote that does not parse leaves the checks that need it NOT_EVALUATED, which
    // never affirms.
    let r = verify_quote(&g.ak, &g.attest[..40], &g.sig, None, None);
    assert_eq!(
        r.failures(),
        [Reason::QuoteMalformed, Reason::QuoteSignatureInvalid]
    );
    assert_eq!(
        r.check(Id::MagicType).unwrap().reason,
        Some(Reason::NotEvaluated)
    );
    let r = verify_quote(
        &g.ak,
        &g.attest,
        &g.sig[..10],
        Some(&GCE_NONCE),
        Some(&g.values),
    );
    assert_eq!(r.failures(), [Reason::SignatureMalformed]);
    // With the signature unreadable, the PCR digest still runs with the AK's scheme hash.
    assert_eq!(r.check(Id::PcrDigest).unwrap().status, Status::Pass);
    assert!(!r.affirms());
}

// ---------------------------------------------------------------------------------
// The reference simulator (keylime).

const KEYLIME: &str = "tpm/keylime-swtpm";

/// Reads tpm2-tools' "serialized" PCR file (`tpm2_quote -o FILE`, the default format):
/// the C structs written with fwrite on a little-endian host —
/// `TPML_PCR_SELECTION` (u32 count, 16 × TPMS_PCR_SELECTION of 8 bytes each: u16 hash,
/// u8 sizeofSelect, u8 pcrSelect[4], 1 byte padding), then `u32` number of TPML_DIGESTs,
/// then each TPML_DIGEST (u32 count, 8 × TPM2B_DIGEST of 66 bytes: u16 size, 64 bytes).
/// Returns the selection as a spec and the values as a "values" file.
fn tpm2_tools_serialized(bytes: &[u8]) -> (PcrSelectionSpec, Vec<u8>) {
    let u16le = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u32le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let banks = u32le(0) as usize;
    let mut spec = Vec::new();
    for b in 0..banks {
        let at = 4 + 8 * b;
        let hash = HashAlg::from_id(u16le(at)).unwrap();
        let size = bytes[at + 2] as usize;
        let mask = bytes[at + 3..at + 3 + size]
            .iter()
            .enumerate()
            .fold(0u32, |m, (i, byte)| m | (u32::from(*byte) << (8 * i)));
        let pcrs: Vec<String> = (0u32..32)
            .filter(|i| mask & (1u32 << i) != 0)
            .map(|i| i.to_string())
            .collect();
        spec.push(format!("{hash}:{}", pcrs.join(",")));
    }
    let lists = u32le(4 + 16 * 8) as usize;
    let mut values = Vec::new();
    for l in 0..lists {
        let list = 4 + 16 * 8 + 4 + l * (4 + 8 * 66);
        for d in 0..u32le(list) as usize {
            let at = list + 4 + d * 66;
            let size = u16le(at) as usize;
            values.extend_from_slice(&bytes[at + 2..at + 2 + size]);
        }
    }
    (spec.join("+").parse().unwrap(), values)
}

#[test]
fn reference_simulator_quote_verifies_and_its_ak_name_matches() {
    let dir = vectors_or_skip!();
    let ak_pub = read(&dir, &format!("{KEYLIME}/ak.pub"));
    let (ak, format) = AttestationKey::detect(&ak_pub).unwrap();
    assert_eq!(format, AkFormat::Tpm2bPublic);
    let public = TpmPublic::from_tpm2b(&ak_pub).unwrap();
    assert_eq!(
        public.name().to_bytes(),
        read(&dir, &format!("{KEYLIME}/ak.name"))
    );
    assert_eq!(public.tpm2b_bytes(), ak_pub);

    let (spec, file) = tpm2_tools_serialized(&read(&dir, &format!("{KEYLIME}/quotepcr.out")));
    assert_eq!(spec.to_string(), "sha256:15,16,22");
    let values = PcrValues::from_values_file(&spec, &file).unwrap();
    let nonce = hex::decode("db1db298db6d60e6385b7231743e9c3056a18003").unwrap();
    let attest = read(&dir, &format!("{KEYLIME}/quote.out"));
    let sig = read(&dir, &format!("{KEYLIME}/quotesig.out"));
    let report = verify_quote(&ak, &attest, &sig, Some(&nonce), Some(&values));
    assert_all_pass(&report);
    assert_eq!(
        report.signature.as_ref().unwrap().to_string(),
        "RSASSA-SHA256"
    );

    // The same key as PEM verifies the same quote.
    let (pem, format) =
        AttestationKey::detect(&read(&dir, &format!("{KEYLIME}/akpub.pem"))).unwrap();
    assert_eq!(format, AkFormat::SpkiPem);
    assert_eq!(pem.spki_der(), ak.spki_der());
    assert!(verify_quote(&pem, &attest, &sig, Some(&nonce), Some(&values)).affirms());

    // Negative twins.
    let mut bad = attest.clone();
    bad[0x45] ^= 1; // a byte of the clock
    assert_eq!(
        verify_quote(&ak, &bad, &sig, Some(&nonce), Some(&values)).failures(),
        [Reason::QuoteSignatureInvalid]
    );
    let mut bad = sig.clone();
    bad[6] ^= 1;
    assert_eq!(
        verify_quote(&ak, &attest, &bad, Some(&nonce), Some(&values)).failures(),
        [Reason::QuoteSignatureInvalid]
    );
    let mut bad = file.clone();
    bad[40] ^= 1; // PCR 16
    let bad = PcrValues::from_values_file(&spec, &bad).unwrap();
    assert_eq!(
        verify_quote(&ak, &attest, &sig, Some(&nonce), Some(&bad)).failures(),
        [Reason::PcrDigestMismatch]
    );
    let mut bad = nonce.clone();
    bad[19] ^= 1;
    assert_eq!(
        verify_quote(&ak, &attest, &sig, Some(&bad), Some(&values)).failures(),
        [Reason::QualifyingDataMismatch]
    );
    // The other key of the vectors (the EK) did not sign it.
    let (ek, _) = AttestationKey::detect(&read(&dir, &format!("{KEYLIME}/ekpub.pem"))).unwrap();
    assert_eq!(
        verify_quote(&ek, &attest, &sig, Some(&nonce), Some(&values)).failures(),
        [Reason::QuoteSignatureInvalid]
    );
}

#[test]
fn ek_public_of_the_simulator_parses_as_a_storage_key() {
    let dir = vectors_or_skip!();
    let ek = TpmPublic::from_tpm2b(&read(&dir, &format!("{KEYLIME}/ek.pub"))).unwrap();
    use cerd_attestation::tpm::ObjectAttributes as A;
    assert!(ek
        .attributes
        .contains(A::RESTRICTED | A::DECRYPT | A::FIXED_TPM));
    assert!(!ek.attributes.contains(A::SIGN_ENCRYPT));
    assert_eq!(ek.auth_policy.len(), 32);
    // An EK is not an AK: a quote "by" it fails the attribute check.
    let (key, _) = AttestationKey::detect(&read(&dir, &format!("{KEYLIME}/ek.pub"))).unwrap();
    let attest = read(&dir, &format!("{KEYLIME}/quote.out"));
    let sig = read(&dir, &format!("{KEYLIME}/quotesig.out"));
    let r = verify_quote(&key, &attest, &sig, None, None);
    assert_eq!(
        r.failures(),
        [Reason::AkAttributesInvalid, Reason::QuoteSignatureInvalid]
    );
}

// ---------------------------------------------------------------------------------
// Keys made here: ECDSA P-256/P-384, RSA PKCS#1 v1.5 and PSS with other hashes.

#[path = "tpm_quote/made_keys.rs"]
mod made_keys;

use made_keys::{ecc_public, ecc_signature, pcr15, quote, AK_ATTRIBUTES};

// ---------------------------------------------------------------------------------
// Robustness: no input panics any parser.

fn every_parser(data: &[u8]) {
    let _ = TpmsAttest::parse(data);
    let _ = TpmtSignature::parse(data);
    let _ = TpmPublic::from_tpm2b(data);
    let _ = TpmPublic::from_tpmt(data);
    let _ = Name::from_bytes(data);
    let _ = PcrSelection::read(&mut Reader::new("TPML_PCR_SELECTION", data), "pcrSelect");
    let _ = AttestationKey::detect(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(spec) = text.parse::<PcrSelectionSpec>() {
            let _ = PcrValues::from_values_file(&spec, data);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic_a_parser(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        every_parser(&data);
    }

    #[test]
    fn arbitrary_specs_never_panic(text in "[a-z0-9:,+x]{0,40}") {
        if let Ok(spec) = text.parse::<PcrSelectionSpec>() {
            let again: PcrSelectionSpec = spec.to_string().parse().unwrap();
            prop_assert_eq!(again.selection().pcrs().collect::<Vec<_>>(), spec.selection().pcrs().collect::<Vec<_>>());
        }
    }

    /// Structure-aware: a real quote, signature and AK with a few bytes changed, cut
    /// or extended never panic and never affirm.
    #[test]
    fn mutated_real_evidence_never_panics_or_affirms(
        target in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let Some(dir) = vectors() else { return Ok(()) };
        let g = gce(&dir, "sha256");
        let ak_bytes = read(&dir, &format!("{GCE}/ak.tpmt_public"));
        let mut parts = [g.attest.clone(), g.sig.clone(), ak_bytes];
        let part = &mut parts[target];
        let original = part.clone();
        for (at, v) in &edits {
            let i = at.index(part.len());
            part[i] = *v;
        }
        if let Some(c) = cut {
            part.truncate(c.index(part.len()));
        }
        every_parser(part);
        let changed = *part != original;
        let [attest, sig, ak_bytes] = parts;
        let Ok((ak, _)) = AttestationKey::detect(&ak_bytes) else { return Ok(()) };
        let report = verify_quote(&ak, &attest, &sig, Some(&GCE_NONCE), Some(&g.values));
        if changed && target < 2 {
            prop_assert!(!report.affirms(), "{:?}", report.failures());
        }
        if report.affirms() {
            // A changed AK public area may still hold the same key (other attribute
            // bits, another nameAlg): then and only then may the quote verify.
            prop_assert_eq!(ak.spki_der(), g.ak.spki_der());
        }
    }
}

// ---------------------------------------------------------------------------------
// Measurement (run by hand; results in docs/performance.md):
// cargo test --release -p cerd-attestation --test tpm_quote bench -- --ignored --nocapture

#[test]
#[ignore]
fn bench_verify_one_gce_quote() {
    let dir = vectors_or_skip!();
    let g = gce(&dir, "sha256");
    let ak_bytes = read(&dir, &format!("{GCE}/ak.tpmt_public"));
    let n = 2000u32;
    let start = Instant::now();
    for _ in 0..n {
        assert!(g.verify().affirms());
    }
    let verify = start.elapsed() / n;
    let start = Instant::now();
    for _ in 0..n {
        let (ak, _) = AttestationKey::detect(&ak_bytes).unwrap();
        let values = PcrValues::from_values_file(&g.spec, &g.pcr_file).unwrap();
        assert!(verify_quote(&ak, &g.attest, &g.sig, Some(&GCE_NONCE), Some(&values)).affirms());
    }
    let whole = start.elapsed() / n;
    println!("verify_quote, GCE RSA-2048 RSASSA-SHA256 quote over sha256:0-23, AK already parsed: {verify:?} per quote");
    println!(
        "same, including parsing the AK (TPMT_PUBLIC) and the PCR values file: {whole:?} per quote"
    );

    // cerd's default AK: ECDSA P-256 / SHA-256 (a key made here, same quote shape).
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let sk = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let point = sk.verifying_key().to_encoded_point(false);
    let public = ecc_public(
        3,
        Some((0x18, 0x0b)),
        point.x().unwrap(),
        point.y().unwrap(),
        AK_ATTRIBUTES,
    );
    let (ak, _) = AttestationKey::detect(&public).unwrap();
    let value = [7u8; 32];
    let q = quote(&[0xab; 32], &value, HashAlg::Sha256);
    let sig: p256::ecdsa::Signature = sk.sign_prehash(&HashAlg::Sha256.digest(&q)).unwrap();
    let sig = ecc_signature(0x0b, &sig.r().to_bytes(), &sig.s().to_bytes());
    let values = pcr15(&value);
    let start = Instant::now();
    for _ in 0..n {
        assert!(verify_quote(&ak, &q, &sig, Some(&[0xab; 32]), Some(&values)).affirms());
    }
    let ecdsa = start.elapsed() / n;
    println!("verify_quote, ECDSA P-256 SHA-256 quote over sha256:15: {ecdsa:?} per quote");
}
