#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! SEV-SNP verification over real reports and certificates from `../shared/vectors/snp`
//! (see its README for the expected verdict of each), and negative twins: for each
//! check, a changed input that fails exactly that check with its reason code.
//!
//! Skipped, with a message, when `../shared/vectors` is absent.

use std::path::{Path, PathBuf};

use cerd_attestation::chain::{parse_certificates, Certificate};
use cerd_attestation::policy::Policy;
use cerd_attestation::snp::certs::EndorsementKind;
use cerd_attestation::snp::report::{offset, SIGNED_LEN};
use cerd_attestation::snp::verify::verify_endorsement_chain;
use cerd_attestation::snp::{
    verify_report, AttestationReport, Generation, SnpCerts, SnpCheckId, SnpOptions, SnpReason,
    SnpVerdict, VcekExtensions,
};
use cerd_attestation::verify::Status;
use time::macros::datetime;
use time::OffsetDateTime;

/// "Today" for these tests: fixed, so the VLEK's expiry gives the same answer every day.
const TODAY: OffsetDateTime = datetime!(2026-11-22 00:00 UTC);

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/snp");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIP: {} is absent; the SEV-SNP conformance tests need ../shared/vectors",
            dir.display()
        );
        None
    }
}

macro_rules! vectors_or_skip {
    () => {
        match vectors() {
            Some(v) => v,
            None => return,
        }
    };
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn certs(path: &Path) -> Vec<Certificate> {
    parse_certificates(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cert(path: &Path) -> Certificate {
    certs(path).remove(0)
}

struct Case {
    report: Vec<u8>,
    certs: SnpCerts,
}

/// The report and certificates of a named vector.
fn case(v: &Path, name: &str) -> Case {
    let (report, leaf, chain): (&str, &str, Option<&str>) = match name {
        "virtee-milan" => (
            "virtee-sev/report_milan.bin",
            "virtee-sev/vcek_milan.der",
            Some("virtee-sev/cert_chain_milan"),
        ),
        "go-sev-guest" => (
            "go-sev-guest/attestation.bin",
            "go-sev-guest/vcek.testcer",
            Some("go-sev-guest/milan.testcer"),
        ),
        "trustee" => ("trustee/test-report.bin", "trustee/test-vcek.der", None),
        "trustee-vlek" => (
            "trustee/test-vlek-report.bin",
            "trustee/test-vlek.der",
            Some("amd-roots/trustee/milan_ask_ark_asvk.pem"),
        ),
        other => panic!("no case {other}"),
    };
    let mut intermediates = chain.map(|c| certs(&v.join(c))).unwrap_or_default();
    let ark = intermediates
        .iter()
        .position(Certificate::is_self_issued)
        .map(|i| intermediates.remove(i));
    Case {
        report: read(&v.join(report)),
        certs: SnpCerts {
            endorsement: cert(&v.join(leaf)),
            intermediates,
            ark,
        },
    }
}

fn verify_at(c: &Case, at: OffsetDateTime) -> SnpVerdict {
    verify_report(&c.report, &c.certs, &SnpOptions::new(at))
}

fn status(v: &SnpVerdict, id: SnpCheckId) -> (Status, Option<SnpReason>) {
    let c = v
        .checks
        .iter()
        .find(|c| c.check == id)
        .unwrap_or_else(|| panic!("no {id:?} check in {:#?}", v.checks));
    (c.status, c.reason)
}

fn assert_valid(v: &SnpVerdict) {
    assert!(v.valid, "{:#?}", v.checks);
    assert!(v.reasons.is_empty());
}

#[test]
fn milan_reports_with_their_vceks_verify() {
    let v = vectors_or_skip!();
    for (name, policy, tcb) in [
        ("virtee-milan", 0x30000, 0x7308_0000_0000_0003u64),
        ("go-sev-guest", 0xb0000, 0x4405_0000_0000_0002),
        ("trustee", 0x3001f, 0x7308_0000_0000_0003),
    ] {
        let verdict = verify_at(&case(&v, name), TODAY);
        assert_valid(&verdict);
        let r = verdict.report.as_ref().unwrap();
        assert_eq!(r.version, 2, "{name}");
        assert_eq!(r.policy.raw, policy, "{name}");
        assert_eq!(r.reported_tcb, tcb, "{name}");
        assert_eq!(verdict.generation, Some(Generation::Milan), "{name}");
        assert_eq!(
            verdict.endorsement.as_ref().unwrap().kind,
            EndorsementKind::Vcek
        );
        assert_eq!(
            status(&verdict, SnpCheckId::Endorsement).0,
            Status::Pass,
            "{name}"
        );
        assert_eq!(
            status(&verdict, SnpCheckId::ReportData),
            (Status::Skipped, Some(SnpReason::NotRequested))
        );
    }
    let r = verify_at(&case(&v, "virtee-milan"), TODAY).report.unwrap();
    assert_eq!(
        hex::encode(r.measurement),
        "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"
    );
    let r = verify_at(&case(&v, "trustee"), TODAY).report.unwrap();
    assert_eq!(
        hex::encode(r.measurement),
        "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c"
    );
}

#[test]
fn the_builtin_ask_is_used_when_none_is_given() {
    let v = vectors_or_skip!();
    let c = case(&v, "trustee");
    assert!(c.certs.intermediates.is_empty() && c.certs.ark.is_none());
    let verdict = verify_at(&c, TODAY);
    assert_valid(&verdict);
    let chain = verdict.chain.unwrap();
    assert_eq!(chain.subjects.len(), 3, "{:?}", chain.subjects);
    assert!(chain.subjects[2].contains("ARK-Milan"));
}

/// Evidence marked simulated whose chain ends at a real AMD root is refused: the flag is
/// not something a real guest says.
#[test]
fn a_real_report_marked_simulated_is_refused() {
    let v = vectors_or_skip!();
    let c = case(&v, "virtee-milan");
    let mut opts = SnpOptions::new(TODAY);
    opts.simulated = true;
    let verdict = verify_report(&c.report, &c.certs, &opts);
    assert_eq!(verdict.reasons, vec![SnpReason::SimulatedUntrusted]);
    assert_eq!(
        status(&verdict, SnpCheckId::Chain),
        (Status::Fail, Some(SnpReason::SimulatedUntrusted))
    );
}

#[test]
fn report_data_is_compared_when_expected() {
    let v = vectors_or_skip!();
    let c = case(&v, "go-sev-guest");
    let mut expected = [0u8; 64];
    expected[..5].copy_from_slice(&[1, 2, 3, 4, 5]);
    let mut opts = SnpOptions::new(TODAY);
    opts.report_data = Some(expected);
    let verdict = verify_report(&c.report, &c.certs, &opts);
    assert_valid(&verdict);
    assert_eq!(status(&verdict, SnpCheckId::ReportData).0, Status::Pass);
    expected[5] = 6;
    opts.report_data = Some(expected);
    let verdict = verify_report(&c.report, &c.certs, &opts);
    assert_eq!(verdict.reasons, vec![SnpReason::ReportDataMismatch]);
}

#[test]
fn vlek_report_verifies_before_its_expiry_and_fails_today() {
    let v = vectors_or_skip!();
    let c = case(&v, "trustee-vlek");
    let then = verify_at(&c, datetime!(2025-06-01 00:00 UTC));
    assert_valid(&then);
    let r = then.report.as_ref().unwrap();
    assert_eq!(r.version, 3);
    assert!(r.chip_id_is_zero());
    let x = then.endorsement.as_ref().unwrap();
    assert_eq!(x.kind, EndorsementKind::Vlek);
    assert_eq!(x.csp_id.as_deref(), Some("CN=cc-us-east-2.amazonaws.com"));
    assert!(then.chain.as_ref().unwrap().subjects[1].contains("SEV-VLEK-Milan"));

    let today = verify_at(&c, TODAY);
    assert!(!today.valid);
    assert_eq!(today.reasons, vec![SnpReason::CertExpired]);
    let chain = today
        .checks
        .iter()
        .find(|c| c.check == SnpCheckId::Chain)
        .unwrap();
    assert!(chain.message.contains("expired"), "{}", chain.message);
    // Only the chain is time-dependent: the signature still verifies.
    assert_eq!(status(&today, SnpCheckId::Signature).0, Status::Pass);

    // Without the ASVK there is no path to the ARK.
    let mut bare = case(&v, "trustee-vlek");
    bare.certs.intermediates.clear();
    let verdict = verify_at(&bare, datetime!(2025-06-01 00:00 UTC));
    assert_eq!(verdict.reasons, vec![SnpReason::ChainIncomplete]);
}

#[test]
fn turin_vcek_chains_to_the_turin_ark() {
    let v = vectors_or_skip!();
    let mut pool = certs(&v.join("virtee-sev/cert_chain_turin"));
    let ark = pool
        .iter()
        .position(Certificate::is_self_issued)
        .map(|i| pool.remove(i));
    let certs = SnpCerts {
        endorsement: cert(&v.join("virtee-sev/vcek_turin.der")),
        intermediates: pool,
        ark,
    };
    let chain = verify_endorsement_chain(&certs, TODAY, &[]).unwrap();
    assert_eq!(chain.generation, Some(Generation::Turin));
    assert!(!chain.test_ark);
    let x = VcekExtensions::from_certificate(&certs.endorsement).unwrap();
    assert_eq!(x.product_name, "Turin");
    assert_eq!(x.fmc_spl, Some(0));
    assert_eq!(x.hw_id.as_ref().map(Vec::len), Some(8));
    assert_eq!(
        Generation::from_product_name(&x.product_name),
        Some(Generation::Turin)
    );
    // And before its notBefore (2024-11-06) it is not yet valid.
    let e = verify_endorsement_chain(&certs, datetime!(2024-01-01 00:00 UTC), &[]).unwrap_err();
    assert_eq!(e.reason(), SnpReason::CertNotYetValid);
    assert!(e.to_string().contains("CERT_NOT_YET_VALID"), "{e}");
    // The Turin VCEK does not chain to the Milan ARK.
    let mut milan = certs.clone();
    milan.intermediates = self::certs(&v.join("virtee-sev/cert_chain_milan"));
    milan.ark = None;
    let chain = verify_endorsement_chain(&milan, TODAY, &[]).unwrap();
    assert_eq!(
        chain.generation,
        Some(Generation::Turin),
        "built-in Turin ASK used"
    );
}

#[test]
fn synthetic_vceks_fail_the_chain() {
    let v = vectors_or_skip!();
    for name in ["test-vcek-invalid-legacy.der", "test-vcek-invalid-new.der"] {
        let mut c = case(&v, "trustee");
        c.certs.endorsement = cert(&v.join("trustee").join(name));
        let verdict = verify_at(&c, TODAY);
        assert!(!verdict.valid, "{name}");
        assert_eq!(
            status(&verdict, SnpCheckId::Chain),
            (Status::Fail, Some(SnpReason::ChainSignatureInvalid)),
            "{name}"
        );
        // A key that did not sign this report either.
        assert_eq!(
            status(&verdict, SnpCheckId::Signature),
            (Status::Fail, Some(SnpReason::SignatureInvalid)),
            "{name}"
        );
    }
}

#[test]
fn reported_tcb_change_fails_the_tcb_check_and_the_signature() {
    let v = vectors_or_skip!();
    let mut c = case(&v, "trustee");
    assert_eq!(offset::REPORTED_TCB, 384);
    c.report[384] ^= 0x01;
    let verdict = verify_at(&c, TODAY);
    assert_eq!(
        verdict.reasons,
        vec![SnpReason::SignatureInvalid, SnpReason::TcbMismatch]
    );
    let tcb = verdict
        .checks
        .iter()
        .find(|c| c.check == SnpCheckId::Tcb)
        .unwrap();
    assert!(
        tcb.message.contains("bl certificate 3 report 2"),
        "{}",
        tcb.message
    );
}

#[test]
fn single_byte_changes_fail_the_signature() {
    let v = vectors_or_skip!();
    for (name, byte) in [("trustee", 42), ("virtee-milan", 21)] {
        let mut c = case(&v, name);
        c.report[byte] ^= 0x80;
        let verdict = verify_at(&c, TODAY);
        assert_eq!(
            verdict.reasons,
            vec![SnpReason::SignatureInvalid],
            "{name} byte {byte}"
        );
    }
}

#[test]
fn every_signed_byte_is_covered_by_the_signature() {
    let v = vectors_or_skip!();
    let c = case(&v, "virtee-milan");
    let key = match c.certs.endorsement.public_key().unwrap() {
        cerd_attestation::chain::PublicKey::P384(k) => k,
        other => panic!("{other:?}"),
    };
    for i in 0..SIGNED_LEN {
        let mut bytes = c.report.clone();
        bytes[i] ^= 0x01;
        match AttestationReport::parse(&bytes) {
            Err(_) => assert!(
                i < 4,
                "byte {i}: only VERSION can make the report unreadable"
            ),
            Ok(r) => assert!(
                cerd_attestation::snp::signature::verify_signature(&r, &key).is_err(),
                "byte {i} is not covered"
            ),
        }
    }
    // The reserved bytes after S are not signed and change nothing.
    let mut bytes = c.report.clone();
    bytes[0x400] ^= 0xff;
    let r = AttestationReport::parse(&bytes).unwrap();
    cerd_attestation::snp::signature::verify_signature(&r, &key).unwrap();
}

#[test]
fn a_vcek_of_another_chip_fails_signature_and_hwid() {
    let v = vectors_or_skip!();
    let mut c = case(&v, "trustee");
    c.certs.endorsement = cert(&v.join("virtee-sev/vcek_milan.der"));
    let verdict = verify_at(&c, TODAY);
    assert_eq!(
        verdict.reasons,
        vec![SnpReason::SignatureInvalid, SnpReason::HwIdMismatch]
    );
}

#[test]
fn a_vcek_given_for_a_vlek_report_is_a_key_type_mismatch() {
    let v = vectors_or_skip!();
    let mut c = case(&v, "trustee-vlek");
    c.certs.endorsement = cert(&v.join("trustee/test-vcek.der"));
    let verdict = verify_at(&c, datetime!(2025-06-01 00:00 UTC));
    assert_eq!(
        status(&verdict, SnpCheckId::KeyType),
        (Status::Fail, Some(SnpReason::SigningKeyMismatch))
    );
}

#[test]
fn a_supplied_ark_must_be_amds() {
    let v = vectors_or_skip!();
    let mut c = case(&v, "virtee-milan");
    // A self-signed root of another vendor in the ARK's place.
    let foreign = v.join("../tpm-roots");
    let root = std::fs::read_dir(&foreign).ok().and_then(|mut d| {
        d.find_map(|e| {
            let p = e.ok()?.path();
            let c = parse_certificates(&std::fs::read(&p).ok()?).ok()?;
            c.into_iter().find(Certificate::is_self_issued)
        })
    });
    let Some(root) = root else {
        println!("SKIP: no self-signed certificate in {}", foreign.display());
        return;
    };
    c.certs.ark = Some(root);
    let verdict = verify_at(&c, TODAY);
    assert_eq!(verdict.reasons, vec![SnpReason::ArkUntrusted]);
    // The Genoa ARK is AMD's, but the Milan VCEK does not chain to it; the built-in
    // Milan ARK is still an anchor, so the chain holds.
    let mut c = case(&v, "virtee-milan");
    c.certs.ark = Some(cert(&v.join("amd-roots/virtee-sev-builtin/genoa/ark.pem")));
    assert_valid(&verify_at(&c, TODAY));
}

#[test]
fn policy_checks_name_each_rule() {
    let v = vectors_or_skip!();
    let c = case(&v, "trustee");
    let run = |toml: &str| {
        let policy = Policy::from_toml(toml).unwrap().snp.unwrap();
        let mut opts = SnpOptions::new(TODAY);
        opts.policy = Some(policy);
        verify_report(&c.report, &c.certs, &opts)
    };
    let good = "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c";
    let verdict = run(&format!(
        "[snp]\nmeasurements = [\"{good}\"]\nmin_tcb = {{ bl = 3, snp = 8, ucode = 115 }}\nmax_vmpl = 0\nsigning_keys = [\"vcek\"]\n"
    ));
    assert_valid(&verdict);
    assert!(verdict
        .checks
        .iter()
        .any(|c| c.check == SnpCheckId::PolicyMeasurement && c.status == Status::Pass));
    for (toml, reason) in [
        (
            format!("[snp]\nmeasurements = [\"{}\"]\n", "00".repeat(48)),
            SnpReason::MeasurementNotAllowed,
        ),
        (
            "[snp]\nmin_tcb = { snp = 9 }\n".into(),
            SnpReason::TcbTooLow,
        ),
        (
            "[snp]\nmin_tcb = { fmc = 1 }\n".into(),
            SnpReason::TcbTooLow,
        ),
        ("[snp]\nallow_smt = false\n".into(), SnpReason::SmtEnabled),
        (
            "[snp]\nsigning_keys = [\"vlek\"]\n".into(),
            SnpReason::SigningKeyNotAllowed,
        ),
        (
            format!("[snp]\nhost_data = \"{}\"\n", "11".repeat(32)),
            SnpReason::HostDataMismatch,
        ),
        (
            format!("[snp]\nid_key_digests = [\"{}\"]\n", "11".repeat(48)),
            SnpReason::IdKeyNotAllowed,
        ),
        (
            format!("[snp]\nauthor_key_digests = [\"{}\"]\n", "11".repeat(48)),
            SnpReason::AuthorKeyNotAllowed,
        ),
        (
            "[snp]\nreport_data = \"ff\"\n".into(),
            SnpReason::ReportDataMismatch,
        ),
    ] {
        let verdict = run(&toml);
        assert_eq!(verdict.reasons, vec![reason], "{toml}");
    }
}

#[test]
fn debug_migration_and_vmpl_rules_fail_on_changed_bits() {
    // The changes break the signature too; what matters is that each rule names its
    // reason.
    let v = vectors_or_skip!();
    let mut c = case(&v, "trustee");
    c.report[offset::POLICY + 2] |= 1 << 3 | 1 << 2; // debug, migrate_ma
    c.report[offset::VMPL] = 2;
    let mut opts = SnpOptions::new(TODAY);
    opts.policy = Some(
        Policy::from_toml("[snp]\nmax_vmpl = 1\n")
            .unwrap()
            .snp
            .unwrap(),
    );
    let verdict = verify_report(&c.report, &c.certs, &opts);
    assert_eq!(
        verdict.reasons,
        vec![
            SnpReason::SignatureInvalid,
            SnpReason::DebugAllowed,
            SnpReason::MigrationAgentAllowed,
            SnpReason::VmplTooHigh
        ]
    );
}

#[test]
fn malformed_reports_and_policies() {
    let v = vectors_or_skip!();
    let c = case(&v, "trustee");
    let verdict = verify_report(&c.report[..1000], &c.certs, &SnpOptions::new(TODAY));
    assert_eq!(verdict.reasons, vec![SnpReason::ReportMalformed]);
    for (toml, needle) in [
        ("[snp]\nmeasurements = [\"00\"]\n", "snp.measurements[0]"),
        ("[snp]\nsigning_keys = []\n", "snp.signing_keys"),
        ("[snp]\nsigning_keys = [\"ark\"]\n", "unknown variant"),
        ("[snp]\nnope = 1\n", "unknown field"),
        ("[snp]\nmin_tcb = { bl = 300 }\n", "policy"),
        (
            "[snp]\nreport_data = \"00\"\nhost_data = \"0\"\n",
            "snp.host_data",
        ),
    ] {
        let e = Policy::from_toml(toml).unwrap_err().to_string();
        assert!(e.contains(needle), "{toml}: {e}");
    }
}

/// Verifying one report with its full chain in-process (parse, VCEK -> ASK -> ARK with
/// two RSA-4096 PSS signatures, the P-384 report signature, extensions, TCB): run with
/// `cargo test --release -p cerd-attestation --test snp bench -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn bench_verify_report_with_full_chain() {
    let v = vectors_or_skip!();
    let c = case(&v, "virtee-milan");
    let opts = SnpOptions::new(TODAY);
    assert_valid(&verify_report(&c.report, &c.certs, &opts));
    for _ in 0..3 {
        let n = 500u32;
        let start = std::time::Instant::now();
        for _ in 0..n {
            let verdict = verify_report(&c.report, &c.certs, &opts);
            assert!(verdict.valid);
        }
        let per = start.elapsed() / n;
        println!("verify_report (virtee Milan report, full chain): {per:?} per report");
    }
    // Where the time goes.
    let n = 300u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        verify_endorsement_chain(&c.certs, TODAY, &[]).unwrap();
    }
    println!("  chain VCEK -> ASK -> ARK: {:?}", start.elapsed() / n);
    let report = AttestationReport::parse(&c.report).unwrap();
    let key = match c.certs.endorsement.public_key().unwrap() {
        cerd_attestation::chain::PublicKey::P384(k) => k,
        other => panic!("{other:?}"),
    };
    let start = std::time::Instant::now();
    for _ in 0..n {
        cerd_attestation::snp::signature::verify_signature(&report, &key).unwrap();
    }
    println!("  report signature (P-384): {:?}", start.elapsed() / n);
}

/// The Turin VCEK with a report made here (no Turin report is public): its signature
/// cannot verify, but every other check runs on the Turin layouts — CPUID family 1Ah,
/// an 8-byte hwID followed by zeros in CHIP_ID, and fmc/bl/tee/snp/ucode in the TCB.
#[test]
fn turin_layouts_for_endorsement_and_tcb() {
    let v = vectors_or_skip!();
    let mut pool = certs(&v.join("virtee-sev/cert_chain_turin"));
    let ark = pool
        .iter()
        .position(Certificate::is_self_issued)
        .map(|i| pool.remove(i));
    let certs = SnpCerts {
        endorsement: cert(&v.join("virtee-sev/vcek_turin.der")),
        intermediates: pool,
        ark,
    };
    let x = VcekExtensions::from_certificate(&certs.endorsement).unwrap();
    let hw = x.hw_id.clone().unwrap();
    let turin_tcb = cerd_attestation::snp::TcbVersion::encode(
        Generation::Turin,
        x.fmc_spl.unwrap(),
        x.bl_spl,
        x.tee_spl,
        x.snp_spl,
        x.ucode_spl,
    );
    let report = |tcb: u64, chip: &[u8]| {
        let mut b = vec![0u8; 1184];
        b[0] = 3;
        b[0x34] = 1;
        b[offset::REPORTED_TCB..offset::REPORTED_TCB + 8].copy_from_slice(&tcb.to_le_bytes());
        b[offset::CPUID..offset::CPUID + 3].copy_from_slice(&[0x1a, 0x02, 0x01]);
        b[offset::CHIP_ID..offset::CHIP_ID + chip.len()].copy_from_slice(chip);
        b[offset::SIGNATURE] = 1;
        b[offset::SIGNATURE + 72] = 1;
        b
    };
    let run = |bytes: Vec<u8>| verify_report(&bytes, &certs, &SnpOptions::new(TODAY));
    let verdict = run(report(turin_tcb, &hw));
    assert_eq!(verdict.generation, Some(Generation::Turin));
    assert_eq!(
        verdict.reasons,
        vec![SnpReason::SignatureInvalid],
        "{:#?}",
        verdict.checks
    );
    assert_eq!(status(&verdict, SnpCheckId::Endorsement).0, Status::Pass);
    assert_eq!(status(&verdict, SnpCheckId::Tcb).0, Status::Pass);

    // Byte 1 is Turin's bl (Milan's tee); byte 6 is Milan's snp, reserved on Turin.
    let verdict = run(report(turin_tcb | 1 << 8, &hw));
    assert_eq!(
        verdict.reasons,
        vec![SnpReason::SignatureInvalid, SnpReason::TcbMismatch]
    );
    let tcb = verdict
        .checks
        .iter()
        .find(|c| c.check == SnpCheckId::Tcb)
        .unwrap();
    assert!(
        tcb.message.contains("bl certificate 0 report 1"),
        "{}",
        tcb.message
    );
    let verdict = run(report(turin_tcb | 1 << 48, &hw));
    assert_eq!(verdict.reasons, vec![SnpReason::SignatureInvalid]);

    // A hwID followed by anything but zeros is another chip.
    let mut chip = hw.clone();
    chip.extend_from_slice(&[0, 1]);
    let verdict = run(report(turin_tcb, &chip));
    assert!(
        verdict.reasons.contains(&SnpReason::HwIdMismatch),
        "{:?}",
        verdict.reasons
    );

    // A Milan CPUID with the Turin chain: the generations disagree.
    let mut milan_cpu = report(turin_tcb, &hw);
    milan_cpu[offset::CPUID + 1] = 0x01;
    milan_cpu[offset::CPUID] = 0x19;
    let verdict = run(milan_cpu);
    assert!(
        verdict.reasons.contains(&SnpReason::ProductMismatch),
        "{:?}",
        verdict.reasons
    );
}

/// Every ASK and ASVK in the vectors' AMD bundles chains to the built-in ARK of its
/// generation, and the built-in ARKs are the ones the vectors carry.
#[test]
fn amd_signing_keys_chain_to_the_builtin_arks() {
    use cerd_attestation::chain::{verify_chain, ChainOptions};
    use cerd_attestation::roots::TrustStore;
    use cerd_attestation::snp::roots;
    let v = vectors_or_skip!();
    let mut trust = TrustStore::new();
    for a in roots::arks() {
        trust.add_certificate(a.cert.clone());
    }
    let mut seen = Vec::new();
    for (file, generation) in [
        (
            "amd-roots/trustee/milan_ask_ark_asvk.pem",
            Generation::Milan,
        ),
        (
            "amd-roots/trustee/genoa_ask_ark_asvk.pem",
            Generation::Genoa,
        ),
        (
            "amd-roots/trustee/turin_ask_ark_asvk.pem",
            Generation::Turin,
        ),
        (
            "amd-roots/go-sev-guest/ask_ark_milan.pem",
            Generation::Milan,
        ),
        (
            "amd-roots/go-sev-guest/ask_ark_genoa.pem",
            Generation::Genoa,
        ),
        (
            "amd-roots/go-sev-guest/ask_ark_turin_vcek.pem",
            Generation::Turin,
        ),
        (
            "amd-roots/go-sev-guest/ask_ark_milan_vlek.pem",
            Generation::Milan,
        ),
        (
            "amd-roots/go-sev-guest/ask_ark_genoa_vlek.pem",
            Generation::Genoa,
        ),
        (
            "amd-roots/go-sev-guest/ask_ark_turin_vlek.pem",
            Generation::Turin,
        ),
    ] {
        for c in certs(&v.join(file)) {
            if c.is_self_issued() {
                // The bundle's ARK is the built-in one.
                assert_eq!(
                    roots::ark_generation(&c.spki_sha256()),
                    Some(generation),
                    "{file}: {}",
                    c.subject_text()
                );
                continue;
            }
            let chain = verify_chain(&c, &[], &trust, &ChainOptions::new(TODAY))
                .unwrap_or_else(|e| panic!("{file}: {}: {e}", c.subject_text()));
            assert_eq!(
                roots::ark_generation(&chain.anchor.spki_sha256),
                Some(generation),
                "{file}"
            );
            seen.push(c.subject_text());
        }
    }
    assert!(
        seen.iter().any(|s| s.contains("SEV-VLEK-Turin")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|s| s.contains("SEV-Genoa")), "{seen:?}");
    // The built-in ASK of each generation is the vectors' own.
    for g in Generation::ALL {
        let dir = v
            .join("amd-roots/virtee-sev-builtin")
            .join(g.name().to_lowercase());
        let ask = cert(&dir.join("ask.pem"));
        assert!(
            roots::asks()
                .iter()
                .any(|a| a.generation == g && a.cert == ask),
            "{g}"
        );
    }
}
