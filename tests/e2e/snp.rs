//! `cer verify-snp` over every SEV-SNP vector in `../shared/vectors/snp` (expected
//! verdicts from its README), their one-byte-changed twins with the reason code each
//! must produce, and bad input. Each case lays out a `--certs DIR` the way `snpguest
//! fetch` does, in the test's own directory.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{cer, TestDir};

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/snp");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (the shared test vectors); nothing to check here",
            dir.display()
        );
        None
    }
}

/// A certs directory in `t` named `name` holding `files` as (vector path, file name).
fn certs_dir(t: &TestDir, v: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = t.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (src, dst) in files {
        std::fs::copy(v.join(src), dir.join(dst)).unwrap();
    }
    dir
}

/// `cer verify-snp --report R --certs D EXTRA --format json`: its verdict.
fn verify(report: &Path, certs: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec![
        "verify-snp".to_owned(),
        "--report".into(),
        report.display().to_string(),
        "--certs".into(),
        certs.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    cer(&args).expect(code).json()
}

fn reasons(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

fn flipped(t: &TestDir, src: &Path, name: &str, at: usize, mask: u8) -> PathBuf {
    let mut bytes = std::fs::read(src).unwrap();
    bytes[at] ^= mask;
    t.write(name, bytes)
}

#[test]
fn every_milan_vcek_report_verifies() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let virtee = certs_dir(
        &t,
        &v,
        "virtee",
        &[
            ("virtee-sev/vcek_milan.der", "vcek.der"),
            ("virtee-sev/cert_chain_milan", "ask.pem"),
        ],
    );
    let go = certs_dir(
        &t,
        &v,
        "go",
        &[
            ("go-sev-guest/vcek.testcer", "vcek.der"),
            ("go-sev-guest/milan.testcer", "ask.pem"),
        ],
    );
    let trustee = certs_dir(&t, &v, "trustee", &[("trustee/test-vcek.der", "vcek.der")]);
    let trustee_amd = certs_dir(
        &t,
        &v,
        "trustee-amd",
        &[
            ("trustee/test-vcek.der", "vcek.der"),
            ("amd-roots/virtee-sev-builtin/milan/ask.pem", "ask.pem"),
            ("amd-roots/virtee-sev-builtin/milan/ark.pem", "ark.pem"),
        ],
    );
    for (report, certs) in [
        ("virtee-sev/report_milan.bin", &virtee),
        ("go-sev-guest/attestation.bin", &go),
        ("trustee/test-report.bin", &trustee),
        ("trustee/test-report.bin", &trustee_amd),
    ] {
        let verdict = verify(&v.join(report), certs, &[], 0);
        assert_eq!(verdict["valid"], true, "{report}");
        assert_eq!(verdict["generation"], "Milan");
    }
    // REPORT_DATA of the go-sev-guest report: 01 02 03 04 05, then zeros.
    let r = v.join("go-sev-guest/attestation.bin");
    verify(&r, &go, &["--report-data", "0102030405"], 0);
    let bad = verify(&r, &go, &["--report-data", "0102030406"], 1);
    assert_eq!(reasons(&bad), ["SNP_REPORT_DATA_MISMATCH"]);
    // The text checklist names the generation and the TCB.
    let run = cer([
        "verify-snp",
        "--report",
        v.join("trustee/test-report.bin").to_str().unwrap(),
        "--certs",
        trustee.to_str().unwrap(),
    ])
    .expect(0);
    assert!(run.stdout.contains(": VALID"), "{}", run.stdout);
    assert!(
        run.stdout.contains("SEV-VCEK -> SEV-Milan -> ARK-Milan"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bl 3 tee 0 snp 8 ucode 115"),
        "{}",
        run.stdout
    );
}

#[test]
fn vlek_report_passes_before_expiry_and_fails_now() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let report = v.join("trustee/test-vlek-report.bin");
    for (name, asvk) in [
        ("trustee", "amd-roots/trustee/milan_ask_ark_asvk.pem"),
        ("go", "go-sev-guest/milanvlek.testcer"),
    ] {
        let dir = certs_dir(
            &t,
            &v,
            name,
            &[("trustee/test-vlek.der", "vlek.der"), (asvk, "asvk.pem")],
        );
        let then = verify(&report, &dir, &["--at", "2025-06-01T00:00:00Z"], 0);
        assert_eq!(then["endorsement"]["kind"], "VLEK");
        assert_eq!(then["report"]["version"], 3);
        let now = verify(&report, &dir, &[], 1);
        assert_eq!(reasons(&now), ["SNP_CERT_EXPIRED"], "{name}");
    }
    // No ASVK: nothing links the VLEK to the ARK.
    let bare = certs_dir(&t, &v, "bare", &[("trustee/test-vlek.der", "vlek.der")]);
    let verdict = verify(&report, &bare, &["--at", "2025-06-01T00:00:00Z"], 1);
    assert_eq!(reasons(&verdict), ["SNP_CHAIN_INCOMPLETE"]);
}

#[test]
fn synthetic_vceks_and_changed_reports_fail_with_their_reasons() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let report = v.join("trustee/test-report.bin");
    for name in ["test-vcek-invalid-legacy.der", "test-vcek-invalid-new.der"] {
        let dir = certs_dir(&t, &v, name, &[(&format!("trustee/{name}"), "vcek.der")]);
        let verdict = verify(&report, &dir, &[], 1);
        let r = reasons(&verdict);
        assert!(
            r.contains(&"SNP_CHAIN_SIGNATURE_INVALID".to_owned()),
            "{name}: {r:?}"
        );
    }
    let trustee = certs_dir(&t, &v, "trustee", &[("trustee/test-vcek.der", "vcek.der")]);
    let tcb = flipped(&t, &report, "tcb.bin", 384, 0x01);
    assert_eq!(
        reasons(&verify(&tcb, &trustee, &[], 1)),
        ["SNP_SIGNATURE_INVALID", "SNP_TCB_MISMATCH"]
    );
    let b42 = flipped(&t, &report, "b42.bin", 42, 0x01);
    assert_eq!(
        reasons(&verify(&b42, &trustee, &[], 1)),
        ["SNP_SIGNATURE_INVALID"]
    );
    let virtee = certs_dir(
        &t,
        &v,
        "virtee",
        &[("virtee-sev/vcek_milan.der", "vcek.der")],
    );
    let b21 = flipped(
        &t,
        &v.join("virtee-sev/report_milan.bin"),
        "b21.bin",
        21,
        0x01,
    );
    assert_eq!(
        reasons(&verify(&b21, &virtee, &[], 1)),
        ["SNP_SIGNATURE_INVALID"]
    );
    // The VCEK of another chip.
    let other = verify(&report, &virtee, &[], 1);
    assert_eq!(
        reasons(&other),
        ["SNP_SIGNATURE_INVALID", "SNP_HWID_MISMATCH"]
    );
}

#[test]
fn a_supplied_ark_must_be_one_of_amds() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    // The Turin VCEK's chain carries AMD's Turin ARK: an AMD root, accepted.
    let dir = certs_dir(
        &t,
        &v,
        "amd",
        &[
            ("trustee/test-vcek.der", "vcek.der"),
            ("amd-roots/virtee-sev-builtin/turin/ark.pem", "ark.pem"),
        ],
    );
    verify(&v.join("trustee/test-report.bin"), &dir, &[], 0);
    // A self-signed certificate that is not AMD's in ark.pem.
    let foreign = certs_dir(
        &t,
        &v,
        "foreign",
        &[
            ("trustee/test-vcek.der", "vcek.der"),
            ("../tpm-roots/google-gce/gcp_ek_ak_ca_root.crt", "ark.pem"),
        ],
    );
    let verdict = verify(&v.join("trustee/test-report.bin"), &foreign, &[], 1);
    assert_eq!(reasons(&verdict), ["SNP_ARK_UNTRUSTED"]);
}

#[test]
fn policy_and_formats() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let dir = certs_dir(&t, &v, "c", &[("trustee/test-vcek.der", "vcek.der")]);
    let report = v.join("trustee/test-report.bin");
    let good = t.write(
        "good.toml",
        "[snp]\nmeasurements = [\"a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c\"]\nmin_tcb = { bl = 3, snp = 8 }\n",
    );
    let p = good.to_str().unwrap();
    verify(&report, &dir, &["--policy", p], 0);
    let strict = t.write(
        "strict.toml",
        "[snp]\nmin_tcb = { ucode = 200 }\nallow_smt = false\n",
    );
    let verdict = verify(&report, &dir, &["--policy", strict.to_str().unwrap()], 1);
    assert_eq!(reasons(&verdict), ["SNP_TCB_TOO_LOW", "SNP_SMT_ENABLED"]);
    let ear = cer([
        "verify-snp",
        "--report",
        report.to_str().unwrap(),
        "--certs",
        dir.to_str().unwrap(),
        "--format",
        "ear",
        "--policy",
        strict.to_str().unwrap(),
    ])
    .expect(1)
    .json();
    let sub = &ear["submods"]["sev-snp"];
    assert_eq!(sub["ear.status"], "contraindicated");
    assert_eq!(sub["ear.trustworthiness-vector"]["hardware"], 97);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let dir = certs_dir(&t, &v, "c", &[("trustee/test-vcek.der", "vcek.der")]);
    let report = v.join("trustee/test-report.bin");
    let r = report.to_str().unwrap();
    let d = dir.to_str().unwrap();
    let empty = t.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let short = t.write("short.bin", &std::fs::read(&report).unwrap()[..1000]);
    for (args, needle) in [
        (
            vec!["--report", r, "--certs", empty.to_str().unwrap()],
            "no vcek.der",
        ),
        (
            vec!["--report", "/nonexistent/report.bin", "--certs", d],
            "cannot read --report",
        ),
        (
            vec!["--report", r, "--certs", "/nonexistent"],
            "not a directory",
        ),
        (
            vec!["--report", r, "--certs", d, "--at", "yesterday"],
            "RFC 3339",
        ),
        (
            vec!["--report", r, "--certs", d, "--report-data", "xyz"],
            "not hex",
        ),
        (
            vec![
                "--report",
                r,
                "--certs",
                d,
                "--report-data",
                &"00".repeat(65),
            ],
            "64",
        ),
    ] {
        let mut all = vec!["verify-snp"];
        all.extend(args);
        let run = cer(&all).expect(2);
        assert!(run.one_error_line().contains(needle), "{}", run.stderr);
    }
    let run = cer([
        "verify-snp",
        "--report",
        short.to_str().unwrap(),
        "--certs",
        d,
    ])
    .expect(2);
    assert!(
        run.stdout.contains("SNP_REPORT_MALFORMED"),
        "{}",
        run.stdout
    );
    let garbage = t.path("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(garbage.join("vcek.pem"), "not a certificate").unwrap();
    let run = cer([
        "verify-snp",
        "--report",
        r,
        "--certs",
        garbage.to_str().unwrap(),
    ])
    .expect(2);
    run.one_error_line();
}

/// `cer verify-snp --certs DIR` without a report checks the certificates alone (like
/// `snpguest verify certs`): the Turin VCEK, which comes without a report.
#[test]
fn certificates_alone() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let certs_only = |dir: &Path, extra: &[&str], code: i32| {
        let mut args = vec![
            "verify-snp",
            "--certs",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        cer(&args).expect(code).json()
    };
    let turin = certs_dir(
        &t,
        &v,
        "turin",
        &[
            ("virtee-sev/vcek_turin.der", "vcek.der"),
            ("virtee-sev/cert_chain_turin", "ask.pem"),
        ],
    );
    let ok = certs_only(&turin, &[], 0);
    assert_eq!(ok["generation"], "Turin");
    assert_eq!(ok["endorsement"]["fmcSpl"], 0);
    assert_eq!(ok["endorsement"]["hwId"], "1e550a8ee5cf9f4d");
    let early = certs_only(&turin, &["--at", "2024-01-01T00:00:00Z"], 1);
    assert_eq!(reasons(&early), ["SNP_CERT_NOT_YET_VALID"]);
    // A Milan ASK and ARK given with the Turin VCEK do not confuse path building: the
    // built-in Turin ASK links it to the Turin ARK.
    let mixed = certs_dir(
        &t,
        &v,
        "mixed",
        &[
            ("virtee-sev/vcek_turin.der", "vcek.der"),
            ("virtee-sev/cert_chain_milan", "ask.pem"),
        ],
    );
    assert_eq!(certs_only(&mixed, &[], 0)["generation"], "Turin");
    for name in ["test-vcek-invalid-legacy.der", "test-vcek-invalid-new.der"] {
        let dir = certs_dir(&t, &v, name, &[(&format!("trustee/{name}"), "vcek.der")]);
        let bad = certs_only(&dir, &[], 1);
        assert_eq!(reasons(&bad), ["SNP_CHAIN_SIGNATURE_INVALID"], "{name}");
    }
    let vlek = certs_dir(
        &t,
        &v,
        "vlek",
        &[
            ("trustee/test-vlek.der", "vlek.der"),
            ("amd-roots/trustee/milan_ask_ark_asvk.pem", "asvk.pem"),
        ],
    );
    certs_only(&vlek, &["--at", "2025-06-01T00:00:00Z"], 0);
    assert_eq!(reasons(&certs_only(&vlek, &[], 1)), ["SNP_CERT_EXPIRED"]);
}

#[test]
fn kds_urls_name_the_reports_vcek() {
    let Some(v) = vectors() else { return };
    let report = v.join("go-sev-guest/attestation.bin");
    let r = report.to_str().unwrap();
    let run = cer(["snp", "kds-urls", "--report", r, "--generation", "milan"]).expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // hwID and SPLs are those of the VCEK AMD issued for this report (vcek.testcer).
    assert_eq!(
        lines,
        [
            "https://kdsintf.amd.com/vcek/v1/Milan/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68",
            "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain",
        ]
    );
    let run = cer(["snp", "kds-urls", "--report", r]).expect(2);
    assert!(
        run.one_error_line().contains("--generation"),
        "{}",
        run.stderr
    );
    let vlek = v.join("trustee/test-vlek-report.bin");
    let run = cer(["snp", "kds-urls", "--report", vlek.to_str().unwrap()]).expect(2);
    assert!(
        run.one_error_line().contains("CHIP_ID is zero"),
        "{}",
        run.stderr
    );
    let run = cer([
        "snp",
        "kds-urls",
        "--report",
        vlek.to_str().unwrap(),
        "--generation",
        "turin",
    ])
    .expect(2);
    assert!(
        run.one_error_line().contains("contradicts"),
        "{}",
        run.stderr
    );
}

/// `cer attest --snp` with the simulated guest, alone and with a swtpm.
#[cfg(feature = "tpm")]
pub mod attest {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use base64::Engine as _;
    use serde_json::{json, Value};
    use sha2::{Digest as _, Sha256};

    use crate::util::{cer, Swtpm, TestDir};

    /// A simulated guest made once per test process (RSA-4096 key generation takes
    /// seconds); each test copies it.
    fn template() -> &'static Path {
        static DIR: OnceLock<PathBuf> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("snp-sim-template-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let run = cer(["snp", "sim", "init", "--state", dir.to_str().unwrap()]).expect(0);
            assert!(run.stdout.contains("trusted_test_arks"), "{}", run.stdout);
            dir
        })
    }

    /// A copy of the template in `t`, and the policy text that trusts its test ARK and
    /// pins its launch measurement (the last line).
    pub fn sim(t: &TestDir) -> (PathBuf, String) {
        let dir = t.path("sim");
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(template()).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
        let guest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("guest.json")).unwrap()).unwrap();
        let hash = guest["arkSpkiSha256"].as_str().unwrap();
        let measurement = guest["measurement"].as_str().unwrap();
        (
            dir,
            format!(
                "[snp]\ntrusted_test_arks = [\"{hash}\"]\nmeasurements = [\"{measurement}\"]\n"
            ),
        )
    }

    /// Seals `n` records and attests them in one batch with the simulated guest `sim`
    /// (no TPM).
    fn attest_sim(t: &TestDir, sim: &Path, n: usize) -> (Vec<PathBuf>, crate::util::Run) {
        let records: Vec<PathBuf> = (1..=n).map(|i| seal(t, &format!("run-{i}"))).collect();
        let mut args = vec![
            "attest".to_owned(),
            "--snp".into(),
            format!("sim:{}", sim.display()),
            "--state".into(),
            t.path("state").display().to_string(),
        ];
        args.extend(records.iter().map(|p| p.display().to_string()));
        let run = cer(&args).expect(0);
        (records, run)
    }

    fn seal(t: &TestDir, id: &str) -> PathBuf {
        crate::util::seal_digests(t.path(&format!("{id}.cer.json")), id, &[])
    }

    fn read(p: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }

    fn verify(t: &TestDir, bundle: &Value, policy: Option<&str>, code: i32) -> Value {
        let path = t.write("check.cer.json", serde_json::to_vec(bundle).unwrap());
        let mut args = vec![
            "verify".to_owned(),
            path.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        if let Some(p) = policy {
            let file = t.write("policy.toml", p);
            args.extend(["--policy".into(), file.display().to_string()]);
        }
        cer(&args).expect(code).json()
    }

    fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == id)
            .unwrap_or_else(|| panic!("no {id} in {v}"))
    }

    fn b64(v: &Value) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }

    /// Every record of a batch carries the same report: one verification run judges it
    /// once (a second record is a cache hit), yet a changed report or another policy
    /// is judged afresh.
    #[test]
    fn one_snp_verdict_per_batch_in_a_run() {
        use cerd_attestation::policy::Policy;
        use cerd_attestation::verify::{verify_bytes_with, Options};

        let t = TestDir::new();
        let (sim, trust_sim) = sim(&t);
        let (records, _) = attest_sim(&t, &sim, 3);
        let bundles: Vec<Vec<u8>> = records.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let now = time::OffsetDateTime::now_utc();
        let opts = Options::new(Some(Policy::from_toml(&trust_sim).unwrap()), now);
        for b in &bundles {
            let v = verify_bytes_with(b, &opts).unwrap();
            assert!(v.valid, "{:?}", v.reasons);
        }
        assert_eq!(opts.trust.cached_snp_reports(), 1);

        // A changed report byte misses the cache and fails.
        let mut flipped = read(&records[0]);
        let mut r = b64(&flipped["meta"]["cerd"]["evidence"]["snp"]["report"]);
        r[0x90] ^= 1;
        flipped["meta"]["cerd"]["evidence"]["snp"]["report"] =
            base64::engine::general_purpose::STANDARD.encode(&r).into();
        let v = verify_bytes_with(&serde_json::to_vec(&flipped).unwrap(), &opts).unwrap();
        assert!(!v.valid);
        assert_eq!(v.reasons[0].code(), "SNP_SIGNATURE_INVALID");
        assert_eq!(opts.trust.cached_snp_reports(), 2);

        // The same trust (and cache) under a policy that does not trust the test ARK.
        let untrusting =
            Options::new(Some(Policy::from_toml("").unwrap()), now).with_trust(opts.trust.clone());
        let v = verify_bytes_with(&bundles[1], &untrusting).unwrap();
        assert_eq!(v.reasons[0].code(), "SNP_SIMULATED_UNTRUSTED");
        let v = verify_bytes_with(&bundles[2], &opts).unwrap();
        assert!(v.valid, "{:?}", v.reasons);
    }

    #[test]
    fn simulated_snp_alone_verifies_only_under_a_policy_that_trusts_it() {
        let t = TestDir::new();
        let (sim, policy) = sim(&t);
        let (records, run) = attest_sim(&t, &sim, 2);
        assert!(
            run.stderr.contains("SEV-SNP report from sim:"),
            "{}",
            run.stderr
        );
        let bundle = read(&records[1]);
        let ev = &bundle["meta"]["cerd"]["evidence"];
        assert!(ev.get("tpm").is_none());
        assert_eq!(ev["snp"]["simulated"], true);
        let report = b64(&ev["snp"]["report"]);
        assert_eq!(report.len(), 1184);
        // REPORT_DATA = header hash || zeros.
        assert!(report[0x70..0x90].iter().all(|b| *b == 0));

        let trusted = verify(&t, &bundle, Some(&policy), 0);
        let c = check(&trusted, "snp_report");
        assert_eq!(c["status"], "PASS", "{c}");
        assert!(c["message"].as_str().unwrap().contains("SIMULATED"), "{c}");
        assert!(trusted["warnings"][0]
            .as_str()
            .unwrap()
            .contains("DEV POLICY"));

        let untrusted = verify(&t, &bundle, None, 1);
        assert_eq!(untrusted["reasons"], json!(["SNP_SIMULATED_UNTRUSTED"]));
        let other_policy = verify(&t, &bundle, Some("[snp]\nallow_smt = true\n"), 1);
        assert_eq!(other_policy["reasons"], json!(["SNP_SIMULATED_UNTRUSTED"]));

        // Without the simulated flag, the test ARK is just an untrusted root.
        let mut unflagged = bundle.clone();
        unflagged["meta"]["cerd"]["evidence"]["snp"]
            .as_object_mut()
            .unwrap()
            .remove("simulated");
        let v = verify(&t, &unflagged, None, 1);
        assert_eq!(v["reasons"], json!(["SNP_ARK_UNTRUSTED"]));

        // A genuine report of the same guest over other REPORT_DATA.
        let other = t.path("other.bin");
        cer([
            "snp",
            "sim",
            "report",
            "--state",
            sim.to_str().unwrap(),
            "--report-data",
            "00",
            "--out",
            other.to_str().unwrap(),
        ])
        .expect(0);
        let mut swapped = bundle.clone();
        swapped["meta"]["cerd"]["evidence"]["snp"]["report"] =
            base64::engine::general_purpose::STANDARD
                .encode(std::fs::read(&other).unwrap())
                .into();
        let v = verify(&t, &swapped, Some(&policy), 1);
        assert_eq!(v["reasons"], json!(["SNP_REPORT_DATA_MISMATCH"]));

        // Any changed byte of the report fails its signature.
        let mut flipped = bundle.clone();
        let mut r = report.clone();
        r[0x90] ^= 1;
        flipped["meta"]["cerd"]["evidence"]["snp"]["report"] =
            base64::engine::general_purpose::STANDARD.encode(&r).into();
        let v = verify(&t, &flipped, Some(&policy), 1);
        assert_eq!(v["reasons"], json!(["SNP_SIGNATURE_INVALID"]));

        // A measurement the policy does not allow.
        let (pinned, last) = policy.trim_end().rsplit_once('\n').unwrap();
        assert!(last.starts_with("measurements"), "{policy}");
        let strict = format!("{pinned}\nmeasurements = [\"{}\"]\n", "00".repeat(48));
        let v = verify(&t, &bundle, Some(&strict), 1);
        assert_eq!(v["reasons"], json!(["SNP_MEASUREMENT_NOT_ALLOWED"]));

        // The report is the batch's only evidence: a policy that pins no measurement
        // (nor ID or author key) does not say which guest it accepts.
        let unpinned = format!("{pinned}\n");
        let v = verify(&t, &bundle, Some(&unpinned), 1);
        assert_eq!(v["reasons"], json!(["SNP_GUEST_NOT_PINNED"]));
        // An author key pin would do instead of a measurement, but this guest's report
        // has none: the author-key rule then fails the report, not the pinning.
        let by_author = format!("{pinned}\nauthor_key_digests = [\"{}\"]\n", "11".repeat(48));
        let v = verify(&t, &bundle, Some(&by_author), 1);
        assert_eq!(v["reasons"], json!(["SNP_AUTHOR_KEY_NOT_ALLOWED"]));
    }

    #[test]
    fn tpm_and_simulated_snp_in_one_batch_are_bound_to_each_other() {
        let tpm = Swtpm::start();
        let t = TestDir::new();
        let (sim, policy) = sim(&t);
        // The AK is not enrolled here (AK trust has its own tests): the dev switches.
        let policy = format!(
            "{policy}[dev]\nallow_unenrolled_ak = true\ntrust_swtpm_ca = \"{}\"\n",
            Swtpm::ca_dir().display()
        );
        cer(["tpm", "ak", "create", "--tcti", &tpm.tcti()]).expect(0);
        let record = seal(&t, "both");
        cer([
            "attest",
            "--tcti",
            &tpm.tcti(),
            "--snp",
            &format!("sim:{}", sim.display()),
            "--state",
            t.path("state").to_str().unwrap(),
            record.to_str().unwrap(),
        ])
        .expect(0);
        let bundle = read(&record);
        let ev = &bundle["meta"]["cerd"]["evidence"];
        let report = b64(&ev["snp"]["report"]);
        let ak = b64(&ev["tpm"]["ak"]["public"]);
        assert_eq!(&report[0x70..0x90], Sha256::digest(&ak).as_slice());

        let v = verify(&t, &bundle, Some(&policy), 0);
        assert_eq!(check(&v, "evidence")["status"], "PASS", "{v}");
        let snp = check(&v, "snp_report");
        assert_eq!(snp["status"], "PASS", "{v}");
        assert!(snp["message"].as_str().unwrap().contains("TPM AK"), "{snp}");
        // The TPM quote says which host it is: the SNP measurement need not be pinned.
        let unpinned: String = policy
            .lines()
            .filter(|l| !l.starts_with("measurements"))
            .map(|l| format!("{l}\n"))
            .collect();
        verify(&t, &bundle, Some(&unpinned), 0);

        // Dropping the TPM evidence breaks the binding: REPORT_DATA names an AK.
        let mut no_tpm = bundle.clone();
        no_tpm["meta"]["cerd"]["evidence"]
            .as_object_mut()
            .unwrap()
            .remove("tpm");
        let v = verify(&t, &no_tpm, Some(&policy), 1);
        assert_eq!(v["reasons"], json!(["SNP_REPORT_DATA_MISMATCH"]));

        // Text output names both.
        let path = t.write("both.cer.json", serde_json::to_vec(&bundle).unwrap());
        let pol = t.write("p.toml", &policy);
        let run = cer([
            "verify",
            path.to_str().unwrap(),
            "--policy",
            pol.to_str().unwrap(),
        ])
        .expect(0);
        assert!(
            run.stdout.contains("PASS     SEV-SNP report"),
            "{}",
            run.stdout
        );
    }

    #[test]
    fn export_snpguest_writes_what_verify_snp_reads() {
        let t = TestDir::new();
        let (sim, policy) = sim(&t);
        let record = attest_sim(&t, &sim, 1).0.remove(0);
        let out = t.path("snpguest");
        let run = cer([
            "export",
            "snpguest",
            record.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .expect(0);
        assert!(run.stderr.contains("SIMULATED"), "{}", run.stderr);
        for f in [
            "report.bin",
            "report-data",
            "certs/vcek.pem",
            "certs/ask.pem",
            "certs/ark.pem",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let report_data = std::fs::read_to_string(out.join("report-data")).unwrap();
        let pol = t.write("p.toml", &policy);
        let args = |with_policy: bool| {
            let mut a = vec![
                "verify-snp".to_owned(),
                "--report".into(),
                out.join("report.bin").display().to_string(),
                "--certs".into(),
                out.join("certs").display().to_string(),
                "--report-data".into(),
                report_data.clone(),
                "--format".into(),
                "json".into(),
            ];
            if with_policy {
                a.extend(["--policy".into(), pol.display().to_string()]);
            }
            a
        };
        cer(args(true)).expect(0);
        let v = cer(args(false)).expect(1).json();
        assert_eq!(v["reasons"], json!(["SNP_ARK_UNTRUSTED"]));
        // Existing files are kept without --force.
        let again = cer([
            "export",
            "snpguest",
            record.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .expect(2);
        assert!(
            again.one_error_line().contains("already exists"),
            "{}",
            again.stderr
        );
        // A sealed (unattested) record has nothing to export.
        let bare = seal(&t, "bare");
        let run = cer([
            "export",
            "snpguest",
            bare.to_str().unwrap(),
            t.path("x").to_str().unwrap(),
        ])
        .expect(2);
        assert!(
            run.one_error_line().contains("no evidence"),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn a_debuggable_guest_is_refused_unless_the_policy_allows_it() {
        let t = TestDir::new();
        let (sim, policy) = sim(&t);
        let guest_json = sim.join("guest.json");
        let mut guest = read(&guest_json);
        guest["policy"] = json!(0x30000 | 1 << 19);
        std::fs::write(&guest_json, serde_json::to_vec(&guest).unwrap()).unwrap();
        let record = attest_sim(&t, &sim, 1).0.remove(0);
        let bundle = read(&record);
        let v = verify(&t, &bundle, Some(&policy), 1);
        assert_eq!(v["reasons"], json!(["SNP_DEBUG_ALLOWED"]));
        let lenient = format!("{policy}allow_debug = true\n");
        let v = verify(&t, &bundle, Some(&lenient), 0);
        let warnings = v["warnings"].to_string();
        assert!(warnings.contains("allow debugging"), "{warnings}");
    }

    #[test]
    fn every_snp_evidence_field_is_checked() {
        let t = TestDir::new();
        let (sim, policy) = sim(&t);
        let record = attest_sim(&t, &sim, 1).0.remove(0);
        let bundle = read(&record);
        verify(&t, &bundle, Some(&policy), 0);
        let snp = bundle["meta"]["cerd"]["evidence"]["snp"].clone();
        let ask = snp["chain"][0].clone();
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "endorsement = ASK",
                json!({"endorsement": ask}),
                "SNP_CERT_MALFORMED",
            ),
            (
                "endorsement garbage",
                json!({"endorsement": "AAAA"}),
                "SNP_CERT_MALFORMED",
            ),
            (
                "chain without ASK",
                json!({"chain": [snp["chain"][1]]}),
                "SNP_CHAIN_INCOMPLETE",
            ),
            (
                "report truncated",
                json!({"report": "AAAA"}),
                "SNP_REPORT_MALFORMED",
            ),
        ];
        for (what, patch, reason) in cases {
            let mut b = bundle.clone();
            for (k, v) in patch.as_object().unwrap() {
                b["meta"]["cerd"]["evidence"]["snp"][k] = v.clone();
            }
            let v = verify(&t, &b, Some(&policy), 1);
            assert_eq!(v["reasons"], json!([reason]), "{what}: {v}");
        }
        // Not base64, or an unknown field: the evidence encoding itself is broken.
        for patch in [json!({"report": "not base64!"}), json!({"extra": 1})] {
            let mut b = bundle.clone();
            for (k, v) in patch.as_object().unwrap() {
                b["meta"]["cerd"]["evidence"]["snp"][k] = v.clone();
            }
            let v = verify(&t, &b, Some(&policy), 1);
            assert_eq!(v["reasons"], json!(["EVIDENCE_MALFORMED"]), "{patch}: {v}");
        }
    }

    /// The real `snpguest` (virtee, 0.10) on what `cer export snpguest` writes, when it
    /// is installed (`cargo install snpguest`); skipped otherwise.
    #[test]
    fn snpguest_verifies_the_export() {
        let found = std::process::Command::new("sh")
            .args(["-c", "command -v snpguest"])
            .output()
            .unwrap();
        if !found.status.success() {
            eprintln!("SKIPPED: snpguest is not installed (cargo install snpguest)");
            return;
        }
        let t = TestDir::new();
        let (sim, _) = sim(&t);
        let record = attest_sim(&t, &sim, 1).0.remove(0);
        let out = t.path("snpguest");
        cer([
            "export",
            "snpguest",
            record.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .expect(0);
        let report_data = std::fs::read_to_string(out.join("report-data")).unwrap();
        let snpguest = |args: &[&str]| {
            let o = std::process::Command::new("snpguest")
                .args(args)
                .output()
                .unwrap();
            (
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            )
        };
        let certs = out.join("certs");
        let (ok, text) = snpguest(&["verify", "certs", certs.to_str().unwrap()]);
        assert!(ok, "snpguest verify certs: {text}");
        let report = out.join("report.bin");
        let (ok, text) = snpguest(&[
            "verify",
            "attestation",
            certs.to_str().unwrap(),
            report.to_str().unwrap(),
            "--report-data",
            &report_data,
        ]);
        assert!(ok, "snpguest verify attestation: {text}");
        // A changed MEASUREMENT byte: snpguest refuses it too.
        let mut bytes = std::fs::read(&report).unwrap();
        bytes[0x90] ^= 1;
        let bad = t.write("bad.bin", &bytes);
        let (ok, text) = snpguest(&[
            "verify",
            "attestation",
            certs.to_str().unwrap(),
            bad.to_str().unwrap(),
        ]);
        assert!(!ok, "snpguest accepted a changed report: {text}");
    }

    #[test]
    fn snp_device_absent_is_one_line() {
        let t = TestDir::new();
        let record = seal(&t, "dev");
        let run = cer([
            "attest",
            "--snp",
            "/dev/sev-guest",
            "--state",
            t.path("state").to_str().unwrap(),
            record.to_str().unwrap(),
        ]);
        if Path::new("/dev/sev-guest").exists() {
            eprintln!("SKIPPED: this machine is an SNP guest");
            return;
        }
        let run = run.expect(2);
        let line = run.one_error_line();
        assert!(line.contains("/dev/sev-guest does not exist"), "{line}");
        assert!(line.contains("sim:DIR"), "{line}");
        let run = cer([
            "attest",
            "--snp",
            "sim:/nonexistent/sim",
            "--state",
            t.path("state").to_str().unwrap(),
            record.to_str().unwrap(),
        ])
        .expect(2);
        assert!(
            run.one_error_line().contains("cer snp sim init"),
            "{}",
            run.stderr
        );
    }
}
