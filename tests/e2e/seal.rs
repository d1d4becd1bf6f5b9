//! `cer seal`: inputs, runtime measurement, output handling.

use serde_json::Value;

use crate::util::{cer, cer_stdin, sealed, sha256sum, TestDir, HASH_A, HASH_B};

#[test]
fn seal_pipe_verify_passes() {
    let text = sealed(&[]);
    let run = cer_stdin(["verify", "-"], text.as_bytes()).expect(0);
    assert!(
        run.stdout.starts_with("<stdin>: VALID  sha256:"),
        "{}",
        run.stdout
    );
    for line in [
        "PASS     schema",
        "PASS     certificate hash",
        "SKIPPED  hardware evidence",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
}

#[test]
fn seal_hashes_files_like_sha256sum() {
    let dir = TestDir::new();
    let input = dir.write("prompt.txt", "Qu'est-ce que 2+2 ? ✓\n");
    let output = dir.write("answer.txt", "4\n");
    let binary = dir.write("llama-cli", b"\x7fELF pretend binary");
    // A 24 MiB model file: streamed, and its digest must match sha256sum(1).
    let model = dir.path("model.gguf");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&model).unwrap();
        let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        for i in 0..24u8 {
            let mut b = block.clone();
            b[0] = i;
            f.write_all(&b).unwrap();
        }
    }
    let empty = dir.write("empty.bin", b"");
    let run = cer([
        "seal",
        "--provider",
        "local",
        "--model",
        "llama",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--binary",
        binary.to_str().unwrap(),
        "--model-file",
        model.to_str().unwrap(),
        "--model-file",
        empty.to_str().unwrap(),
        "--",
        "llama-cli",
        "-m",
        "model.gguf",
        "--prompt",
        "it's",
    ])
    .expect(0);
    let b = run.json();
    let s = &b["snapshot"];
    assert_eq!(s["inputHash"], sha256sum(&input));
    assert_eq!(s["outputHash"], sha256sum(&output));
    let rt = &s["runtime"];
    assert_eq!(rt["binary"]["digest"], sha256sum(&binary));
    assert_eq!(
        rt["binary"]["path"],
        binary.canonicalize().unwrap().to_str().unwrap()
    );
    assert_eq!(rt["binary"]["size"], 19);
    assert_eq!(rt["modelFiles"][0]["digest"], sha256sum(&model));
    assert_eq!(rt["modelFiles"][0]["size"], 24 << 20);
    assert_eq!(rt["modelFiles"][1]["digest"], sha256sum(&empty));
    assert_eq!(rt["modelFiles"][1]["size"], 0);
    assert_eq!(
        rt["argv"],
        serde_json::json!(["llama-cli", "-m", "model.gguf", "--prompt", "it's"])
    );
    assert_eq!(rt["host"]["arch"], std::env::consts::ARCH);
    assert_eq!(rt["host"]["cerdVersion"], env!("CARGO_PKG_VERSION"));
    assert!(!rt["host"]["kernel"].as_str().unwrap().is_empty());
    assert_eq!(s["type"], "ai.execution.v1");
    assert_eq!(s["protocolVersion"], "1.3.0");
    assert_eq!(b["bundleType"], "cer.ai.execution.v1");
    assert_eq!(b["version"], "0.1");
    cer_stdin(["verify", "-"], run.stdout.as_bytes()).expect(0);
}

#[test]
fn defaults_execution_id_and_created_at() {
    let before = time_now_ms();
    let run = cer([
        "seal",
        "--provider",
        "p",
        "--model",
        "m",
        "--input-hash",
        HASH_A,
        "--output-hash",
        HASH_B,
    ])
    .expect(0);
    let b = run.json();
    let id = b["snapshot"]["executionId"].as_str().unwrap();
    let uuid = uuid_shape(id);
    assert!(uuid, "executionId {id} is not a v4 UUID");
    let created = b["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), 24, "{created}");
    assert!(created.ends_with('Z'));
    assert!(created >= before.as_str(), "{created} < {before}");
    let other = cer([
        "seal",
        "--provider",
        "p",
        "--model",
        "m",
        "--input-hash",
        HASH_A,
        "--output-hash",
        HASH_B,
    ])
    .expect(0)
    .json();
    assert_ne!(
        other["snapshot"]["executionId"],
        b["snapshot"]["executionId"]
    );
}

fn uuid_shape(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && parts[2].starts_with('4')
}

fn time_now_ms() -> String {
    // Seconds precision is enough for an ordering check; format like createdAt.
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.000Z"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn params_are_typed() {
    let b: Value = serde_json::from_str(&sealed(&[
        "--param",
        "temperature=0.7",
        "--param",
        "maxTokens=512",
        "--param",
        "stop=END",
        "--param",
        "n=\"3\"",
        "--param",
        "logprobs=true",
        "--app-id",
        "support-bot",
    ]))
    .unwrap();
    let p = &b["snapshot"]["parameters"];
    assert_eq!(p["temperature"], 0.7);
    assert_eq!(p["maxTokens"], 512);
    assert_eq!(p["topP"], Value::Null);
    assert_eq!(p["seed"], Value::Null);
    assert_eq!(p["stop"], "END");
    assert_eq!(p["n"], "3");
    assert_eq!(p["logprobs"], true);
    assert_eq!(b["snapshot"]["appId"], "support-bot");
}

#[test]
fn bad_seal_input_is_one_line_exit_2() {
    let dir = TestDir::new();
    let missing = dir.path("nope.txt");
    let cases: Vec<Vec<String>> = vec![
        vec![
            "--input-hash".into(),
            "sha256:ABC".into(),
            "--output-hash".into(),
            HASH_B.into(),
        ],
        vec![
            "--input-hash".into(),
            HASH_A.into(),
            "--output".into(),
            missing.display().to_string(),
        ],
        vec![
            "--input-hash".into(),
            HASH_A.into(),
            "--output-hash".into(),
            HASH_B.into(),
            "--param".into(),
            "temperature=hot".into(),
        ],
        vec![
            "--input-hash".into(),
            HASH_A.into(),
            "--output-hash".into(),
            HASH_B.into(),
            "--param".into(),
            "maxTokens=-5".into(),
        ],
        vec![
            "--input-hash".into(),
            HASH_A.into(),
            "--output-hash".into(),
            HASH_B.into(),
            "--created-at".into(),
            "yesterday".into(),
        ],
        vec![
            "--input-hash".into(),
            HASH_A.into(),
            "--output-hash".into(),
            HASH_B.into(),
            "--model-file".into(),
            dir.root().display().to_string(),
        ],
    ];
    for extra in cases {
        let mut args: Vec<String> = ["seal", "--provider", "p", "--model", "m"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.clone());
        let run = cer(&args).expect(2);
        let line = run.one_error_line();
        assert!(run.stdout.is_empty(), "{extra:?} wrote a bundle");
        let _ = line;
    }
    // Both forms of one input are a usage error from clap.
    cer([
        "seal",
        "--provider",
        "p",
        "--model",
        "m",
        "--input",
        "a",
        "--input-hash",
        HASH_A,
        "--output-hash",
        HASH_B,
    ])
    .expect(2);
}

#[test]
fn out_file_is_written_atomically_and_never_clobbered() {
    let dir = TestDir::new();
    let out = dir.path("run.cer.json");
    let args = |force: bool| {
        let mut a = vec![
            "seal".to_string(),
            "--provider".into(),
            "p".into(),
            "--model".into(),
            "m".into(),
            "--input-hash".into(),
            HASH_A.into(),
            "--output-hash".into(),
            HASH_B.into(),
            "-o".into(),
            out.display().to_string(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let run = cer(args(false)).expect(0);
    assert!(run.stdout.is_empty());
    let first = std::fs::read(&out).unwrap();
    cer(["verify", out.to_str().unwrap()]).expect(0);
    let run = cer(args(false)).expect(2);
    assert!(run.one_error_line().contains("already exists"));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        first,
        "existing record changed"
    );
    cer(args(true)).expect(0);
    assert_ne!(std::fs::read(&out).unwrap(), first);
    let leftovers: Vec<_> = std::fs::read_dir(dir.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
}
