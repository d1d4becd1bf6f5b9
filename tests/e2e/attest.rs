//! `cer attest` and `cer export tpm2-tools` against a real swtpm, checked by the real
//! `tpm2_checkquote`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::util::{cer, Swtpm, TestDir, HASH_A, HASH_B};

/// A swtpm with an AK and a measured model file, and a few records sealed with it.
struct Host {
    tpm: Swtpm,
    dir: TestDir,
    model: PathBuf,
}

impl Host {
    fn new() -> Self {
        let tpm = Swtpm::start();
        let dir = TestDir::new();
        let model = dir.write("model.gguf", b"weights of a very small model");
        cer(["tpm", "ak", "create", "--tcti", &tpm.tcti()]).expect(0);
        let log = dir.path("log");
        cer([
            "tpm",
            "measure",
            "--tcti",
            &tpm.tcti(),
            "--log",
            log.to_str().unwrap(),
            "--kind",
            "model",
            model.to_str().unwrap(),
        ])
        .expect(0);
        Self { tpm, dir, model }
    }

    fn seal(&self, id: &str, model_file: &Path) -> PathBuf {
        crate::util::seal_digests(
            self.dir.path(&format!("{id}.cer.json")),
            id,
            &["--model-file", model_file.to_str().unwrap()],
        )
    }

    fn attest(&self, records: &[&Path], extra: &[&str]) -> crate::util::Run {
        let mut args: Vec<String> = vec![
            "attest".into(),
            "--tcti".into(),
            self.tpm.tcti(),
            "--log".into(),
            self.dir.path("log").display().to_string(),
            "--state".into(),
            self.dir.path("state").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(records.iter().map(|p| p.display().to_string()));
        cer(&args)
    }
}

impl Host {
    /// Enrolls the AK at 0x81010002 with a fresh attestation CA (request, challenge
    /// with the swtpm CA trusted, activate, issue): (AK certificate PEM, CA root PEM).
    fn enroll(&self) -> (PathBuf, PathBuf) {
        let d = |n: &str| self.dir.path(n).display().to_string();
        let ca = d("ca");
        cer(["ca", "init", "--dir", &ca]).expect(0);
        let tcti = self.tpm.tcti();
        cer([
            "tpm",
            "enroll-request",
            "--tcti",
            &tcti,
            "--ek",
            "rsa2048",
            "-o",
            &d("req.json"),
        ])
        .expect(0);
        let swtpm_ca = Swtpm::ca_dir().display().to_string();
        cer([
            "ca",
            "challenge",
            "--dir",
            &ca,
            &d("req.json"),
            "--trust-swtpm-ca",
            &swtpm_ca,
            "-o",
            &d("ch.json"),
        ])
        .expect(0);
        cer([
            "tpm",
            "activate",
            "--tcti",
            &tcti,
            &d("ch.json"),
            "-o",
            &d("resp.json"),
        ])
        .expect(0);
        cer([
            "ca",
            "issue",
            "--dir",
            &ca,
            &d("resp.json"),
            "-o",
            &d("ak-cert.pem"),
        ])
        .expect(0);
        (
            self.dir.path("ak-cert.pem"),
            self.dir.path("ca/ca-cert.pem"),
        )
    }
}

/// The status and reason of one check in a JSON verdict.
fn check_of(v: &Value, id: &str) -> (String, String) {
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {v}"));
    (
        c["status"].as_str().unwrap().to_owned(),
        c["reason"].as_str().unwrap_or("").to_owned(),
    )
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn checkquote(dir: &Path) -> std::process::Output {
    let cat = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    Command::new("tpm2_checkquote")
        .arg("-u")
        .arg(dir.join("ak.pem"))
        .arg("-m")
        .arg(dir.join("quote.msg"))
        .arg("-s")
        .arg(dir.join("quote.sig"))
        .arg("-f")
        .arg(dir.join("pcrs.bin"))
        .args(["-l", &cat("pcr-list"), "-q", &cat("qualification")])
        .output()
        .unwrap()
}

#[test]
fn seal_attest_export_checkquote() {
    let host = Host::new();
    let records: Vec<PathBuf> = (1..=3)
        .map(|i| host.seal(&format!("run-{i}"), &host.model))
        .collect();
    let before: Vec<Value> = records.iter().map(|r| read(r)).collect();
    let refs: Vec<&Path> = records.iter().map(PathBuf::as_path).collect();
    let chain = Swtpm::ca_dir().join("issuercert.pem");
    host.attest(&refs, &["--ek-chain", chain.to_str().unwrap()])
        .expect(0);

    let mut roots = Vec::new();
    for (i, (path, old)) in records.iter().zip(&before).enumerate() {
        let new = read(path);
        // Identity unchanged: only meta was added.
        assert_eq!(new["certificateHash"], old["certificateHash"]);
        assert_eq!(new["snapshot"], old["snapshot"]);
        let ev = &new["meta"]["cerd"]["evidence"];
        assert_eq!(ev["version"], 1);
        assert_eq!(ev["batch"]["proof"]["leafIndex"], i);
        assert_eq!(ev["batch"]["header"]["treeSize"], 3);
        roots.push(ev["batch"]["header"]["root"].clone());
        let tpm = &ev["tpm"];
        for key in ["attest", "signature", "pcrs", "ak", "ek", "log"] {
            assert!(!tpm[key].is_null(), "evidence lacks {key}");
        }
        assert_eq!(tpm["ak"]["source"], "created");
        assert!(!tpm["ek"]["certificates"].as_array().unwrap().is_empty());
        assert_eq!(
            tpm["ek"]["chain"].as_array().unwrap().len(),
            1,
            "the swtpm intermediate"
        );
        assert!(tpm["pcrs"]["values"]["15"].is_string());
        // The verifier checks the inclusion proof.
        let run = cer(["verify", path.to_str().unwrap()]).expect(0);
        assert!(
            run.stdout.contains(&format!(
                "PASS     batch inclusion       record {i} of 3 in batch 0"
            )),
            "{}",
            run.stdout
        );
        let shown = cer(["inspect", path.to_str().unwrap()]).expect(0).stdout;
        assert!(
            shown.contains(&format!("evidence      batch 0 (record {i} of 3"))
                && shown.contains("TPM quote by AK"),
            "{shown}"
        );
        // tpm2-tools verifies the quote.
        let out = host.dir.path(&format!("export-{i}"));
        cer([
            "export",
            "tpm2-tools",
            path.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .expect(0);
        let check = checkquote(&out);
        assert!(
            check.status.success(),
            "tpm2_checkquote failed:\n{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
    assert!(
        roots.windows(2).all(|w| w[0] == w[1]),
        "one batch, one root"
    );

    // A second batch chains to the first.
    let fourth = host.seal("run-4", &host.model);
    host.attest(&[&fourth], &[]).expect(0);
    let ev = read(&fourth)["meta"]["cerd"]["evidence"].clone();
    assert_eq!(ev["batch"]["header"]["sequence"], 1);
    let first = read(&records[0])["meta"]["cerd"]["evidence"]["batch"]["header"].clone();
    let first: cerd_attestation::batch::BatchHeader = serde_json::from_value(first).unwrap();
    assert_eq!(
        ev["batch"]["header"]["previous"],
        json!(first.hash().to_hex())
    );
}

#[test]
fn tampered_quote_or_proof_is_caught() {
    let host = Host::new();
    let a = host.seal("a", &host.model);
    let b = host.seal("b", &host.model);
    host.attest(&[&a, &b], &[]).expect(0);
    // tpm2_checkquote rejects a changed qualification, i.e. another batch.
    let out = host.dir.path("export");
    cer([
        "export",
        "tpm2-tools",
        a.to_str().unwrap(),
        out.to_str().unwrap(),
    ])
    .expect(0);
    std::fs::write(out.join("qualification"), "00".repeat(32)).unwrap();
    assert!(!checkquote(&out).status.success());
    // A proof moved to the other leaf fails the inclusion check.
    let mut bundle = read(&a);
    bundle["meta"]["cerd"]["evidence"]["batch"]["proof"]["leafIndex"] = json!(1);
    let tampered = host
        .dir
        .write("t.json", serde_json::to_vec(&bundle).unwrap());
    let run = cer(["verify", "--format", "json", tampered.to_str().unwrap()]).expect(1);
    assert_eq!(
        run.json_lines()[0]["reasons"],
        json!(["MERKLE_PROOF_INVALID"])
    );
    // Each evidence field changed in turn fails its own check.
    let pristine = read(&a);
    let flip_b64 = |v: &Value| -> Value {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let mut bytes = e.decode(v.as_str().unwrap()).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 1;
        json!(e.encode(bytes))
    };
    fn ev(b: &mut Value) -> &mut Value {
        &mut b["meta"]["cerd"]["evidence"]
    }
    let cases: Vec<(&str, crate::util::Edit, &str)> = vec![
        (
            "attest",
            Box::new(move |b: &mut Value| {
                let t = ev(b)["tpm"]["attest"].clone();
                ev(b)["tpm"]["attest"] = flip_b64(&t);
            }),
            "QUOTE_SIGNATURE_INVALID",
        ),
        (
            "signature",
            Box::new(move |b: &mut Value| {
                let t = ev(b)["tpm"]["signature"].clone();
                ev(b)["tpm"]["signature"] = flip_b64(&t);
            }),
            "QUOTE_SIGNATURE_INVALID",
        ),
        (
            "pcr value",
            Box::new(move |b: &mut Value| {
                ev(b)["tpm"]["pcrs"]["values"]["15"] = json!("11".repeat(32));
            }),
            "PCR_DIGEST_MISMATCH",
        ),
        (
            "header sequence",
            Box::new(move |b: &mut Value| {
                ev(b)["batch"]["header"]["sequence"] = json!(7);
                ev(b)["batch"]["header"]["previous"] = json!("22".repeat(32));
            }),
            "QUALIFYING_DATA_MISMATCH",
        ),
        (
            "ak name",
            Box::new(move |b: &mut Value| {
                ev(b)["tpm"]["ak"]["name"] = json!(format!("000b{}", "33".repeat(32)));
            }),
            "AK_NAME_MISMATCH",
        ),
    ];
    for (name, edit, code) in cases {
        let mut b = pristine.clone();
        edit(&mut b);
        let f = host.dir.write(
            &format!("sweep-{name}.json"),
            serde_json::to_vec(&b).unwrap(),
        );
        let run = cer(["verify", "--format", "json", f.to_str().unwrap()]).expect(1);
        let reasons = run.json_lines()[0]["reasons"].clone();
        assert!(
            reasons.as_array().unwrap().contains(&json!(code)),
            "{name}: {reasons}"
        );
    }
    let run = cer(["verify", a.to_str().unwrap()]).expect(0);
    assert!(
        run.stdout
            .contains("PASS     quote signature       ECDSA-SHA256 by the ECC NIST P-256 AK"),
        "{}",
        run.stdout
    );

    bundle["meta"]["cerd"]["evidence"]["batch"]["proof"] = json!("garbage");
    let garbage = host
        .dir
        .write("g.json", serde_json::to_vec(&bundle).unwrap());
    let run = cer(["verify", "--format", "json", garbage.to_str().unwrap()]).expect(1);
    assert_eq!(
        run.json_lines()[0]["reasons"],
        json!(["EVIDENCE_MALFORMED"])
    );
}

#[test]
fn refusals_are_one_line() {
    let host = Host::new();
    // A model file that was never measured.
    let other = host.dir.write("other.gguf", b"another model");
    let unmeasured = host.seal("u", &other);
    let run = host.attest(&[&unmeasured], &[]).expect(2);
    assert!(
        run.one_error_line().contains("not in the measurement log"),
        "{}",
        run.stderr
    );
    // A tampered record.
    let good = host.seal("g", &host.model);
    let mut bundle = read(&good);
    bundle["snapshot"]["model"] = json!("other");
    let bad = host
        .dir
        .write("bad.json", serde_json::to_vec(&bundle).unwrap());
    let run = host.attest(&[&bad], &[]).expect(2);
    assert!(
        run.one_error_line().contains("CERTIFICATE_HASH_MISMATCH"),
        "{}",
        run.stderr
    );
    // Attested once; again only with --force.
    host.attest(&[&good], &[]).expect(0);
    let run = host.attest(&[&good], &[]).expect(2);
    assert!(run.one_error_line().contains("already carries evidence"));
    host.attest(&[&good], &["--force"]).expect(0);
    // No AK at the handle.
    let run = host
        .attest(&[&good], &["--force", "--ak-handle", "0x81010009"])
        .expect(2);
    run.one_error_line();
    // The TPM is gone.
    let tcti = host.tpm.tcti();
    drop(host.tpm);
    let run = cer([
        "attest",
        "--tcti",
        &tcti,
        "--state",
        host.dir.path("state").to_str().unwrap(),
        good.to_str().unwrap(),
        "--force",
    ])
    .expect(2);
    assert!(
        run.one_error_line().contains("is swtpm running"),
        "{}",
        run.stderr
    );
}

#[test]
fn export_refuses_bundles_without_evidence() {
    let dir = TestDir::new();
    let plain = dir.write("p.json", crate::util::sealed(&[]));
    let run = cer([
        "export",
        "tpm2-tools",
        plain.to_str().unwrap(),
        dir.path("o").to_str().unwrap(),
    ])
    .expect(2);
    assert!(run.one_error_line().contains("carries no evidence"));
}

/// The sequence, with the swtpm managed by `cer swtpm` itself:
/// swtpm start → ak create → measure → seal ×3 → attest → export → tpm2_checkquote.
#[test]
fn the_whole_sequence_with_cer_swtpm() {
    let dir = TestDir::new();
    let state = dir.path("swtpm");
    let template = Swtpm::ca_dir().parent().unwrap().to_path_buf();
    let run = cer([
        "swtpm",
        "start",
        "--state",
        state.to_str().unwrap(),
        "--template",
        template.to_str().unwrap(),
    ])
    .expect(0);
    let tcti = run.stdout.trim().to_owned();
    struct Stop(PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = cer(["swtpm", "stop", "--state", self.0.to_str().unwrap()]);
        }
    }
    let _stop = Stop(state.clone());
    cer(["tpm", "ak", "create", "--tcti", &tcti]).expect(0);
    let model = dir.write("model.gguf", b"model bytes");
    let log = dir.path("log");
    cer([
        "tpm",
        "measure",
        "--tcti",
        &tcti,
        "--log",
        log.to_str().unwrap(),
        model.to_str().unwrap(),
    ])
    .expect(0);
    let mut records = Vec::new();
    for i in 0..3 {
        let out = dir.path(&format!("r{i}.json"));
        cer([
            "seal",
            "--provider",
            "p",
            "--model",
            "m",
            "--input-hash",
            HASH_A,
            "--output-hash",
            HASH_B,
            "--model-file",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .expect(0);
        records.push(out);
    }
    let mut args = vec![
        "attest".to_string(),
        "--tcti".into(),
        tcti.clone(),
        "--log".into(),
        log.display().to_string(),
        "--state".into(),
        dir.path("state").display().to_string(),
    ];
    args.extend(records.iter().map(|r| r.display().to_string()));
    cer(&args).expect(0);
    for (i, r) in records.iter().enumerate() {
        let out = dir.path(&format!("export{i}"));
        cer([
            "export",
            "tpm2-tools",
            r.to_str().unwrap(),
            out.to_str().unwrap(),
        ])
        .expect(0);
        assert!(checkquote(&out).status.success());
    }
    cer(["swtpm", "stop", "--state", state.to_str().unwrap()]).expect(0);
}

/// `cer verify --policy`: an enrolled AK (AK certificate from a `cer ca`, EK chained to
/// the swtpm CA named in the policy), allow-lists against the attested runtime, exactly
/// one failing check for a changed model digest, EAR output, loud dev switches, bad
/// policies.
#[test]
fn policy_checks_and_ear() {
    let host = Host::new();
    let (ak_cert, ca_root) = host.enroll();
    let record = host.seal("p", &host.model);
    host.attest(&[&record], &["--ak-cert", ak_cert.to_str().unwrap()])
        .expect(0);
    let model_digest = read(&record)["snapshot"]["runtime"]["modelFiles"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let trust = format!("attestation_ca = [\"{}\"]\n", ca_root.display());
    let swtpm = format!(
        "[dev]\ntrust_swtpm_ca = \"{}\"\n",
        Swtpm::ca_dir().display()
    );
    let policy = |models: &str, extra: &str| {
        host.dir.write(
            "policy.toml",
            format!("{trust}{extra}max_record_age = \"1d\"\n[models]\nm = \"{models}\"\n{swtpm}"),
        )
    };
    let p = policy(&model_digest, "");
    let args = |p: &Path, format: &str| {
        vec![
            "verify".to_string(),
            "--format".into(),
            format.into(),
            "--policy".into(),
            p.display().to_string(),
            record.display().to_string(),
        ]
    };
    let run = cer(args(&p, "json")).expect(0);
    let v = &run.json_lines()[0];
    for id in [
        "evidence",
        "ak_trust",
        "ek_chain",
        "log_replay",
        "policy_models",
        "record_age",
    ] {
        assert_eq!(check_of(v, id).0, "PASS", "{id}: {v}");
    }
    let ak = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "ak_trust")
        .unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(
        ak.starts_with("enrolled AK: its certificate chains through 2 certificate(s) to CN=cerd attestation CA"),
        "{ak}"
    );
    assert!(
        ak.contains("the EK certificate it names (NV 0x01c00002)"),
        "{ak}"
    );
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("DEV POLICY: the swtpm local CA"),
        "{v}"
    );
    let ear = cer(args(&p, "ear")).expect(0).json_lines()[0].clone();
    assert_eq!(ear["eat_profile"], "tag:github.com,2023:veraison/ear");
    assert_eq!(ear["submods"]["cer"]["ear.status"], "affirming");
    let vector = &ear["submods"]["cer"]["ear.trustworthiness-vector"];
    assert_eq!(vector["executables"], 2);
    assert_eq!(vector["hardware"], 2);

    // A changed model digest in the policy fails exactly the model check.
    let other = format!("sha256:{}", "0".repeat(64));
    let p = policy(&other, "");
    let run = cer(args(&p, "json")).expect(1);
    assert_eq!(
        run.json_lines()[0]["reasons"],
        json!(["POLICY_MODEL_NOT_ALLOWED"])
    );
    let ear = cer(args(&p, "ear")).expect(1).json_lines()[0].clone();
    assert_eq!(
        ear["submods"]["cer"]["ear.trustworthiness-vector"]["executables"],
        33
    );

    // Too old at a later --at; a dev switch is shown in every verdict.
    let p = host.dir.write(
        "policy.toml",
        format!("max_record_age = \"1d\"\n[models]\nm = \"{model_digest}\"\n[dev]\nallow_unenrolled_ak = true\n"),
    );
    let run = cer([
        "verify",
        "--policy",
        p.to_str().unwrap(),
        "--at",
        "2099-01-01T00:00:00Z",
        record.to_str().unwrap(),
    ])
    .expect(1);
    assert!(run.stdout.contains("WARNING  DEV POLICY"), "{}", run.stdout);
    assert!(run.stdout.contains("[RECORD_TOO_OLD]"), "{}", run.stdout);

    // A policy that requires evidence refuses a sealed, unattested record.
    let plain = host.seal("plain", &host.model);
    let p = policy(&model_digest, "");
    let run = cer(args(&p, "json")
        .into_iter()
        .take(5)
        .chain([plain.display().to_string()]))
    .expect(1);
    assert_eq!(run.json_lines()[0]["reasons"], json!(["EVIDENCE_ABSENT"]));

    // Bad policy files and times are bad input.
    let bad = host.dir.write("bad.toml", "[models]\nm = \"sha256:XYZ\"\n");
    let run = cer([
        "verify",
        "--policy",
        bad.to_str().unwrap(),
        record.to_str().unwrap(),
    ])
    .expect(2);
    assert!(run.one_error_line().contains("models.m"), "{}", run.stderr);
    cer(["verify", "--at", "yesterday", record.to_str().unwrap()]).expect(2);
}

/// AK trust and the EK chain in every mode: unenrolled (no policy, policy, dev switch),
/// pinned, enrolled (dev swtpm CA, `--trust` directory, wrong CA, expired, `--at
/// record`), and evidence that names an EK certificate it does not carry.
#[test]
fn ak_trust_modes_and_ek_chain() {
    let host = Host::new();
    let plain = host.seal("unenrolled", &host.model);
    host.attest(&[&plain], &[]).expect(0);
    let (ak_cert, ca_root) = host.enroll();
    let issuer = Swtpm::ca_dir().join("issuercert.pem");
    let enrolled = host.seal("enrolled", &host.model);
    host.attest(
        &[&enrolled],
        &[
            "--ak-cert",
            ak_cert.to_str().unwrap(),
            "--ek-chain",
            issuer.to_str().unwrap(),
        ],
    )
    .expect(0);
    let swtpm = format!(
        "[dev]\ntrust_swtpm_ca = \"{}\"\n",
        Swtpm::ca_dir().display()
    );
    let verify = |record: &Path, policy: Option<&str>, extra: &[&str], code: i32| {
        let mut args = vec!["verify".to_owned(), "--format".into(), "json".into()];
        if let Some(text) = policy {
            let p = host.dir.write("trust-policy.toml", text);
            args.extend(["--policy".into(), p.display().to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(record.display().to_string());
        cer(&args).expect(code).json_lines()[0].clone()
    };
    let pair = |s: &str, r: &str| (s.to_owned(), r.to_owned());

    // Unenrolled, no policy: trust is not established, and not required.
    let v = verify(&plain, None, &[], 0);
    assert_eq!(check_of(&v, "ak_trust"), pair("SKIPPED", "NO_POLICY"));
    assert_eq!(check_of(&v, "ek_chain"), pair("SKIPPED", "NO_POLICY"));
    // With a policy it is required.
    let v = verify(&plain, Some(""), &[], 1);
    assert_eq!(
        v["reasons"],
        json!(["AK_CERT_MISSING", "EK_CERT_UNTRUSTED"])
    );
    // The dev switches accept it, loudly.
    let v = verify(
        &plain,
        Some(&format!("{swtpm}allow_unenrolled_ak = true\n")),
        &[],
        0,
    );
    assert_eq!(check_of(&v, "ak_trust"), pair("SKIPPED", "AK_CERT_MISSING"));
    assert_eq!(check_of(&v, "ek_chain"), pair("PASS", ""));
    assert_eq!(v["warnings"].as_array().unwrap().len(), 2, "{v}");

    // Pinned: the SHA-256 of the AK's SubjectPublicKeyInfo.
    let public = read(&plain)["meta"]["cerd"]["evidence"]["tpm"]["ak"]["public"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine as _;
    let public = base64::engine::general_purpose::STANDARD
        .decode(public)
        .unwrap();
    let ak = cerd_attestation::tpm::AttestationKey::from_public(
        cerd_attestation::tpm::TpmPublic::from_tpm2b(&public).unwrap(),
    )
    .unwrap();
    let pin = crate::util::sha256_bytes(ak.spki_der());
    let v = verify(
        &plain,
        Some(&format!(
            "ak_trust = [\"pinned\"]\npinned_aks = [\"{pin}\"]\n{swtpm}"
        )),
        &[],
        0,
    );
    assert_eq!(check_of(&v, "ak_trust"), pair("PASS", ""));
    let other = "0".repeat(64);
    let v = verify(
        &plain,
        Some(&format!(
            "ak_trust = [\"pinned\"]\npinned_aks = [\"{other}\"]\n{swtpm}"
        )),
        &[],
        1,
    );
    assert_eq!(v["reasons"], json!(["AK_CERT_MISSING"]));

    // Enrolled: the CA root from the policy, the EK root from the dev switch ...
    let ca = format!("attestation_ca = [\"{}\"]\n", ca_root.display());
    let v = verify(&enrolled, Some(&format!("{ca}{swtpm}")), &[], 0);
    assert_eq!(check_of(&v, "ak_trust"), pair("PASS", ""));
    assert_eq!(check_of(&v, "ek_chain"), pair("PASS", ""));
    // ... or from a --trust directory, with the intermediate carried as --ek-chain.
    let trust_dir = host.dir.path("trust");
    std::fs::create_dir_all(&trust_dir).unwrap();
    std::fs::copy(
        Swtpm::ca_dir().join("swtpm-localca-rootca-cert.pem"),
        trust_dir.join("swtpm-root.pem"),
    )
    .unwrap();
    let t = trust_dir.to_str().unwrap();
    let v = verify(&enrolled, Some(&ca), &["--trust", t], 0);
    assert_eq!(check_of(&v, "ak_trust"), pair("PASS", ""));
    assert!(v["warnings"].is_null(), "no dev switch, no warning: {v}");
    // Without any EK root, the EK named by the AK certificate is untrusted.
    let v = verify(&enrolled, Some(&ca), &[], 1);
    assert_eq!(
        v["reasons"],
        json!(["EK_CERT_UNTRUSTED", "EK_CERT_UNTRUSTED"])
    );
    // Another attestation CA does not vouch for this AK.
    let other_ca = host.dir.path("other-ca");
    cer(["ca", "init", "--dir", other_ca.to_str().unwrap()]).expect(0);
    let v = verify(
        &enrolled,
        Some(&format!(
            "attestation_ca = [\"{}\"]\n{swtpm}",
            other_ca.join("ca-cert.pem").display()
        )),
        &[],
        1,
    );
    assert_eq!(v["reasons"], json!(["AK_CERT_UNTRUSTED"]));
    // Far in the future the certificates have expired, unless judged at record time.
    let later = ["--at", "2099-01-01T00:00:00Z"];
    let v = verify(&enrolled, Some(&format!("{ca}{swtpm}")), &later, 1);
    let (status, reason) = check_of(&v, "ak_trust");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("FAIL", "AK_CERT_UNTRUSTED")
    );
    assert!(v.to_string().contains("(CERT_EXPIRED)"), "{v}");
    let v = verify(
        &enrolled,
        Some(&format!("{ca}{swtpm}")),
        &["--at", "record"],
        0,
    );
    assert_eq!(check_of(&v, "ak_trust"), pair("PASS", ""));

    // Evidence that drops the EK certificate the AK certificate names.
    let mut b = read(&enrolled);
    b["meta"]["cerd"]["evidence"]["tpm"]["ek"]["certificates"] = json!([]);
    let dropped = host
        .dir
        .write("dropped.cer.json", serde_json::to_vec(&b).unwrap());
    let v = verify(&dropped, Some(&format!("{ca}{swtpm}")), &[], 1);
    assert_eq!(v["reasons"], json!(["EK_CERT_NOT_CARRIED"]));
    assert_eq!(check_of(&v, "ek_chain"), pair("SKIPPED", "EVIDENCE_ABSENT"));
    // One byte of each trust field, in turn (the last bytes: inside the signatures).
    let flip = |v: &Value| -> Value {
        let e = base64::engine::general_purpose::STANDARD;
        let mut bytes = e.decode(v.as_str().unwrap()).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 1;
        json!(e.encode(bytes))
    };
    let full = format!("{ca}{swtpm}");
    for (field, pointer, want) in [
        (
            "ak certificate",
            "/meta/cerd/evidence/tpm/ak/certificates/0",
            json!(["AK_CERT_UNTRUSTED"]),
        ),
        (
            "ek certificate",
            "/meta/cerd/evidence/tpm/ek/certificates/0/der",
            json!(["EK_CERT_NOT_CARRIED", "EK_CERT_UNTRUSTED"]),
        ),
        (
            "ek intermediate",
            "/meta/cerd/evidence/tpm/ek/chain/0",
            json!(["EK_CERT_UNTRUSTED", "EK_CERT_UNTRUSTED"]),
        ),
    ] {
        let mut b = read(&enrolled);
        let target = b.pointer_mut(pointer).unwrap();
        *target = flip(target);
        let f = host
            .dir
            .write("flipped.cer.json", serde_json::to_vec(&b).unwrap());
        // Without the dev switch the intermediate is only in the evidence.
        let policy = if field == "ek intermediate" {
            ca.clone()
        } else {
            full.clone()
        };
        let trust: &[&str] = if field == "ek intermediate" {
            &["--trust", t]
        } else {
            &[]
        };
        let v = verify(&f, Some(&policy), trust, 1);
        assert_eq!(v["reasons"], want, "{field}: {v}");
    }

    // An AK certificate of another key is a contradiction, policy or not.
    let mut b = read(&enrolled);
    let certs = read(&plain)["meta"]["cerd"]["evidence"]["tpm"]["ek"]["certificates"].clone();
    b["meta"]["cerd"]["evidence"]["tpm"]["ak"]["certificates"] = json!([certs[0]["der"].clone()]);
    let swapped = host
        .dir
        .write("swapped.cer.json", serde_json::to_vec(&b).unwrap());
    let v = verify(&swapped, None, &[], 1);
    assert_eq!(v["reasons"], json!(["AK_CERT_KEY_MISMATCH"]));
}

/// Several batches of one host verified together: their quotes order them, a reboot
/// between two batches is flagged, and a second chain claiming the same sequence
/// numbers (a fork) fails.
#[test]
fn timeline_of_batches_flags_a_reboot_and_a_fork() {
    let host = Host::new();
    let r1 = host.seal("t1", &host.model);
    let r2 = host.seal("t2", &host.model);
    host.attest(&[&r1, &r2], &[]).expect(0);
    let r3 = host.seal("t3", &host.model);
    host.attest(&[&r3], &[]).expect(0);
    host.tpm.reboot();
    cer([
        "tpm",
        "measure",
        "--tcti",
        &host.tpm.tcti(),
        "--log",
        host.dir.path("log").to_str().unwrap(),
        "--kind",
        "model",
        host.model.to_str().unwrap(),
    ])
    .expect(0);
    let r4 = host.seal("t4", &host.model);
    host.attest(&[&r4], &[]).expect(0);
    let files: Vec<&str> = [&r4, &r1, &r3, &r2]
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect();
    let mut args = vec!["verify"];
    args.extend(&files);
    let run = cer(&args).expect(0);
    assert!(
        run.stdout.contains("CONSISTENT, 3 batches"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("batch 0      2 record(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("NOTE     reboot between batch 1 and batch 2 (resetCount"),
        "{}",
        run.stdout
    );
    let mut args = vec!["verify", "--format", "json"];
    args.extend(&files);
    let lines = cer(&args).expect(0).json_lines();
    assert_eq!(lines.len(), 5, "four verdicts and the timeline");
    let t = &lines[4]["timeline"][0];
    assert_eq!(t["batches"].as_array().unwrap().len(), 3);
    assert_eq!(t["events"][0]["event"], "REBOOT");
    assert_eq!(lines[0]["attested"]["batch"], 2);

    // Another chain on the same host: a second batch 0.
    let r5 = host.seal("t5", &host.model);
    cer([
        "attest",
        "--tcti",
        &host.tpm.tcti(),
        "--state",
        host.dir.path("state2").to_str().unwrap(),
        r5.to_str().unwrap(),
    ])
    .expect(0);
    let run = cer(["verify", r1.to_str().unwrap(), r5.to_str().unwrap()]).expect(1);
    assert!(run.stdout.contains("CONTRADICTED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("claim this sequence number [BATCH_CHAIN_FORKED]"),
        "{}",
        run.stdout
    );
}

/// Whole-bundle verification in process (release): an enrolled swtpm bundle with a
/// policy, every check run: record hash, Merkle proof, quote, AK chain to the CA, EK
/// chain to the swtpm CA, log replay, allow-lists. Cold = a fresh chain cache for each
/// bundle; warm = the cache shared across bundles of one batch (what `cer verify` does).
/// `cargo test --release --test e2e attest::bench_verify_bundle -- --ignored --nocapture`
#[test]
#[ignore = "benchmark"]
fn bench_verify_bundle() {
    use cerd_attestation::chain::parse_certificates;
    use cerd_attestation::policy::Policy;
    use cerd_attestation::roots::TrustStore;
    use cerd_attestation::verify::{verify_bytes_with, Options, Trust};
    use std::time::Instant;

    let host = Host::new();
    let (ak_cert, ca_root) = host.enroll();
    let record = host.seal("bench", &host.model);
    host.attest(&[&record], &["--ak-cert", ak_cert.to_str().unwrap()])
        .expect(0);
    let bytes = std::fs::read(&record).unwrap();
    let model = read(&record)["snapshot"]["runtime"]["modelFiles"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = Policy::from_toml(&format!("[models]\nm = \"{model}\"\n")).unwrap();
    let pem = |p: PathBuf| parse_certificates(&std::fs::read(p).unwrap()).unwrap();
    let trust = || {
        let mut cas = TrustStore::new();
        cas.add_pem(&std::fs::read(&ca_root).unwrap()).unwrap();
        let mut t = Trust::new(TrustStore::with_builtin_pins(), cas, Vec::new());
        let ca = Swtpm::ca_dir();
        for root in pem(ca.join("swtpm-localca-rootca-cert.pem")) {
            t.add_ek_only_root(root, pem(ca.join("issuercert.pem")));
        }
        t
    };
    let now = time::OffsetDateTime::now_utc();
    let n = 300u32;
    let start = Instant::now();
    for _ in 0..n {
        let opts = Options::new(Some(policy.clone()), now).with_trust(trust());
        let v = verify_bytes_with(&bytes, &opts).unwrap();
        assert!(v.valid, "{:?}", v.reasons);
    }
    let cold = start.elapsed() / n;
    let opts = Options::new(Some(policy.clone()), now).with_trust(trust());
    let start = Instant::now();
    for _ in 0..n {
        let v = verify_bytes_with(&bytes, &opts).unwrap();
        assert!(v.valid, "{:?}", v.reasons);
    }
    let warm = start.elapsed() / n;
    assert_eq!(
        opts.trust.cached_chains(),
        3,
        "AK chain, RSA and P-384 EK chains"
    );
    println!("verify one enrolled bundle in process: cold (chains verified) {cold:?}, warm (chains cached) {warm:?}");
}
