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
        let out = self.dir.path(&format!("{id}.cer.json"));
        cer([
            "seal",
            "--provider",
            "local",
            "--model",
            "m",
            "--input-hash",
            HASH_A,
            "--output-hash",
            HASH_B,
            "--execution-id",
            id,
            "--model-file",
            model_file.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .expect(0);
        out
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
            .contains("PASS     hardware evidence     TPM quote signed by AK"),
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

/// `cer verify --policy`: allow-lists against the attested runtime, exactly one failing
/// check for a changed model digest, EAR output, loud dev switches, bad policies.
#[test]
fn policy_checks_and_ear() {
    let host = Host::new();
    let record = host.seal("p", &host.model);
    host.attest(&[&record], &[]).expect(0);
    let model_digest = read(&record)["snapshot"]["runtime"]["modelFiles"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = |models: &str, extra: &str| {
        host.dir.write(
            "policy.toml",
            format!("{extra}max_record_age = \"1d\"\n[models]\nm = \"{models}\"\n"),
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
    let status = |id: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("log_replay"), "PASS");
    assert_eq!(status("policy_models"), "PASS");
    assert_eq!(status("record_age"), "PASS");
    let ear = cer(args(&p, "ear")).expect(0).json_lines()[0].clone();
    assert_eq!(ear["eat_profile"], "tag:github.com,2023:veraison/ear");
    assert_eq!(ear["submods"]["cer"]["ear.status"], "affirming");
    assert_eq!(
        ear["submods"]["cer"]["ear.trustworthiness-vector"]["executables"],
        2
    );

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
