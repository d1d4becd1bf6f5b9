//! `cer verify` and `cer inspect`: verdicts, reason codes, exit codes.

use serde_json::{json, Value};

use crate::util::{cer, cer_stdin, sealed, Edit, TestDir};

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

/// A different character of the same class, so the JSON stays well-formed.
fn other_char(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'8' | b'a'..=b'e' => Some(c + 1),
        b'9' => Some(b'0'),
        b'f' => Some(b'a'),
        b'g'..=b'y' | b'A'..=b'Y' => Some(c + 1),
        b'z' => Some(b'g'),
        b'Z' => Some(b'A'),
        _ => None,
    }
}

#[test]
fn changing_any_byte_of_the_snapshot_fails_with_hash_mismatch() {
    let dir = TestDir::new();
    let bundle: Value = serde_json::from_str(&sealed(&[
        "--param",
        "temperature=0.25",
        "--param",
        "maxTokens=64",
        "--model-file",
        "/bin/sh",
        "--",
        "llama",
        "-n",
        "64",
    ]))
    .unwrap();
    let text = compact(&bundle);
    let start = text.find("\"snapshot\":").unwrap() + "\"snapshot\":".len();
    let snapshot_len = compact(&bundle["snapshot"]).len();
    let mut files = Vec::new();
    // Mutate every alphanumeric byte inside a string (keys and values) and every digit
    // of a number; `null`/`true` literals are left alone so the JSON stays well-formed.
    let bytes = text.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    for pos in start..start + snapshot_len {
        let b = bytes[pos];
        let mutable = (in_string && !escaped) || (!in_string && b.is_ascii_digit());
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        }
        let Some(c) = other_char(b).filter(|_| mutable) else {
            continue;
        };
        let mut bytes = text.clone().into_bytes();
        bytes[pos] = c;
        files.push(dir.write(&format!("m{pos}.json"), bytes));
    }
    assert!(files.len() > 300, "only {} mutations", files.len());
    let mut args = vec!["verify".to_string(), "--format".into(), "json".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let run = cer(&args).expect(1);
    let verdicts = run.json_lines();
    assert_eq!(verdicts.len(), files.len());
    for v in &verdicts {
        assert_eq!(v["valid"], false, "{v}");
        let reasons: Vec<&str> = v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            reasons.contains(&"CERTIFICATE_HASH_MISMATCH"),
            "{}: {reasons:?}",
            v["file"]
        );
    }
    // The unchanged bundle passes, so the failures are the mutations' doing.
    cer_stdin(["verify", "-"], text.as_bytes()).expect(0);
}

#[test]
fn meta_is_outside_the_hash() {
    let mut bundle: Value = serde_json::from_str(&sealed(&[])).unwrap();
    let hash = bundle["certificateHash"].clone();
    bundle["meta"] = json!({"source": "test", "evidence": {"anything": [1, 2, 3]}});
    let run = cer_stdin(
        ["verify", "--format", "json", "-"],
        compact(&bundle).as_bytes(),
    )
    .expect(0);
    assert_eq!(run.json_lines()[0]["certificateHash"], hash);
    bundle["meta"]["source"] = json!("changed");
    cer_stdin(["verify", "-"], compact(&bundle).as_bytes()).expect(0);
    // ...but an unknown top-level key is refused: nothing would cover it.
    bundle["extra"] = json!(1);
    let run = cer_stdin(
        ["verify", "--format", "json", "-"],
        compact(&bundle).as_bytes(),
    )
    .expect(1);
    assert_eq!(run.json_lines()[0]["reasons"], json!(["SCHEMA_ERROR"]));
}

#[test]
fn reason_codes_name_the_failure() {
    let base: Value = serde_json::from_str(&sealed(&[])).unwrap();
    let cases: Vec<(&str, Edit, Vec<&str>)> = vec![
        (
            "bundle type",
            Box::new(|b| b["bundleType"] = json!("cer.other.v1")),
            vec!["UNSUPPORTED_BUNDLE_TYPE", "CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "version",
            Box::new(|b| b["version"] = json!("0.2")),
            vec!["UNSUPPORTED_VERSION", "CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "protocol version",
            Box::new(|b| b["snapshot"]["protocolVersion"] = json!("9.0.0")),
            vec!["UNSUPPORTED_VERSION", "CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "missing provider",
            Box::new(|b| {
                b["snapshot"].as_object_mut().unwrap().remove("provider");
            }),
            vec!["SCHEMA_ERROR", "CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "upper-case digest",
            Box::new(|b| {
                let h = b["snapshot"]["inputHash"].as_str().unwrap().to_uppercase();
                b["snapshot"]["inputHash"] = json!(h.replacen("SHA256", "sha256", 1));
            }),
            vec!["INVALID_SHA256_FORMAT", "CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "short certificate hash",
            Box::new(|b| {
                let h = b["certificateHash"].as_str().unwrap()[..40].to_owned();
                b["certificateHash"] = json!(h);
            }),
            vec!["INVALID_SHA256_FORMAT"],
        ),
        (
            "createdAt",
            Box::new(|b| b["createdAt"] = json!("2026-02-12T00:00:01.000Z")),
            vec!["CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "createdAt format",
            Box::new(|b| b["createdAt"] = json!("2026-02-12 00:00:00")),
            vec!["SCHEMA_ERROR", "CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "added context",
            Box::new(|b| b["context"] = json!({"signals": []})),
            vec!["CERTIFICATE_HASH_MISMATCH"],
        ),
        (
            "inline input that does not match",
            Box::new(|b| b["snapshot"]["input"] = json!("not the input")),
            vec!["CERTIFICATE_HASH_MISMATCH", "INPUT_HASH_MISMATCH"],
        ),
    ];
    for (name, mutate, expected) in cases {
        let mut b = base.clone();
        mutate(&mut b);
        let run = cer_stdin(["verify", "--format", "json", "-"], compact(&b).as_bytes());
        let run = run.expect(1);
        let v = &run.json_lines()[0];
        assert_eq!(v["reasons"], json!(expected), "{name}: {v}");
    }
}

#[test]
fn garbage_exits_2_with_one_line() {
    let dir = TestDir::new();
    let bundle = sealed(&[]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("text", b"garbage\n".to_vec()),
        ("binary", vec![0xff, 0x00, 0x13, 0x37, 0x80]),
        ("array", b"[1,2,3]".to_vec()),
        ("truncated", bundle.as_bytes()[..bundle.len() / 2].to_vec()),
        (
            "duplicate key",
            br#"{"bundleType":"a","bundleType":"b"}"#.to_vec(),
        ),
        ("nested", "[".repeat(10_000).into_bytes()),
    ];
    for (name, bytes) in &cases {
        let run = cer_stdin(["verify", "-"], bytes).expect(2);
        let line = run.one_error_line();
        assert!(line.contains("<stdin>"), "{name}: {line}");
        assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        let run = cer_stdin(["inspect", "-"], bytes).expect(2);
        run.one_error_line();
    }
    let missing = dir.path("missing.json");
    let run = cer(["verify", missing.to_str().unwrap()]).expect(2);
    assert!(run.one_error_line().contains("missing.json"));
    let run = cer(["verify", dir.root().to_str().unwrap()]).expect(2);
    run.one_error_line();
    cer(["verify", "-", "-"]).expect(2);
}

#[test]
fn exit_code_is_the_worst_over_all_files() {
    let dir = TestDir::new();
    let good = dir.write("good.json", sealed(&[]));
    let mut tampered: Value = serde_json::from_str(&sealed(&[])).unwrap();
    tampered["snapshot"]["model"] = json!("other");
    let bad = dir.write("bad.json", compact(&tampered));
    let junk = dir.write("junk.json", "{");
    let p = |f: &std::path::Path| f.to_str().unwrap().to_owned();
    cer(["verify", &p(&good), &p(&good)]).expect(0);
    let run = cer(["verify", &p(&good), &p(&bad)]).expect(1);
    assert!(run.stdout.contains("good.json: VALID"));
    assert!(run.stdout.contains("bad.json: INVALID"));
    // Bad input wins, and the other files are still reported.
    let run = cer(["verify", "--format", "json", &p(&good), &p(&junk), &p(&bad)]).expect(2);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[1]["error"]["code"], "BAD_INPUT");
    assert_eq!(lines[2]["reasons"], json!(["CERTIFICATE_HASH_MISMATCH"]));
}

#[test]
fn inspect_shows_what_ran() {
    let dir = TestDir::new();
    let model = dir.write("weights.gguf", b"weights");
    let text = sealed(&[
        "--model-file",
        model.to_str().unwrap(),
        "--binary",
        "/bin/sh",
        "--param",
        "temperature=0.5",
        "--",
        "llama",
        "--prompt",
        "two words",
    ]);
    let path = dir.write("b.json", &text);
    let run = cer(["inspect", path.to_str().unwrap()]).expect(0);
    for needle in [
        "provider      local",
        "model         llama-3-8b",
        "temperature=0.5",
        "weights.gguf (7 bytes) sha256:",
        "argv          llama --prompt 'two words'",
        "evidence      none (sealed, not attested)",
        "integrity     VALID",
        "sealed at     2026-02-12T00:00:00.000Z",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.stdout);
    }
    let mut tampered: Value = serde_json::from_str(&text).unwrap();
    tampered["snapshot"]["provider"] = json!("someone-else");
    let run = cer_stdin(["inspect", "-"], compact(&tampered).as_bytes()).expect(1);
    assert!(
        run.stdout.contains("INVALID: CERTIFICATE_HASH_MISMATCH"),
        "{}",
        run.stdout
    );
}

#[test]
fn nexart_style_bundles_with_inline_content_verify() {
    // A NexArt 1.2.0 snapshot carries its input and output inline; the verifier checks
    // them against inputHash/outputHash (string: SHA-256 of UTF-8; JSON: of its JCS).
    let input = "What is 2+2?";
    let output = json!({"answer": 4, "explanation": "2+2=4"});
    let input_hash = format!("sha256:{}", sha256_hex(input.as_bytes()));
    let output_hash = format!(
        "sha256:{}",
        sha256_hex(br#"{"answer":4,"explanation":"2+2=4"}"#)
    );
    let snapshot = json!({
        "type": "ai.execution.v1",
        "protocolVersion": "1.2.0",
        "executionSurface": "ai",
        "executionId": "exec-001",
        "timestamp": "2026-02-12T00:00:00.000Z",
        "provider": "openai",
        "model": "gpt-4o",
        "modelVersion": null,
        "prompt": "You are a helpful assistant.",
        "input": input,
        "inputHash": input_hash,
        "parameters": {"temperature": 0.7, "maxTokens": 1024, "topP": null, "seed": null},
        "output": output,
        "outputHash": output_hash,
        "sdkVersion": "0.1.0",
        "appId": null
    });
    let mut bundle = json!({
        "bundleType": "cer.ai.execution.v1",
        "version": "0.1",
        "createdAt": "2026-02-12T00:00:00.000Z",
        "snapshot": snapshot,
    });
    // certificateHash computed independently: python3's json with sorted keys and no
    // whitespace equals RFC 8785 for this ASCII, float-free-except-0.7 object.
    let canonical = python_canonical(&bundle);
    bundle["certificateHash"] = json!(format!("sha256:{}", sha256_hex(canonical.as_bytes())));
    let run = cer_stdin(["verify", "-"], compact(&bundle).as_bytes()).expect(0);
    assert!(
        run.stdout.contains("PASS     input/output content"),
        "{}",
        run.stdout
    );
    bundle["snapshot"]["output"]["answer"] = json!(5);
    let run = cer_stdin(
        ["verify", "--format", "json", "-"],
        compact(&bundle).as_bytes(),
    )
    .expect(1);
    assert_eq!(
        run.json_lines()[0]["reasons"],
        json!(["CERTIFICATE_HASH_MISMATCH", "OUTPUT_HASH_MISMATCH"])
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        child.wait_with_output().unwrap()
    };
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

fn python_canonical(v: &Value) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), sort_keys=True, separators=(',',':'), ensure_ascii=False))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(compact(v).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_documented_example_verifies() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/example.cer.json"
    );
    let run = cer(["verify", path]).expect(0);
    assert!(
        run.stdout
            .contains("sha256:78e442cca69061e48414fc1d48e308b915ec024ed3d71287d5d0d1dceb9f20d4"),
        "docs/record-format.md quotes this hash: {}",
        run.stdout
    );
}
