//! `docs/cer-bundle.schema.json` accepts what `cer seal` writes and rejects what
//! `cer verify` rejects as schema errors.

use serde_json::{json, Value};

use crate::util::{cer_stdin, sealed, Edit, TestDir};

fn validator() -> jsonschema::Validator {
    let text = include_str!("../../docs/cer-bundle.schema.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn verify_reasons(bundle: &Value) -> Vec<String> {
    let run = cer_stdin(
        ["verify", "--format", "json", "-"],
        serde_json::to_string(bundle).unwrap().as_bytes(),
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.json_lines()[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sealed_bundles_match_the_schema() {
    let v = validator();
    let dir = TestDir::new();
    let model = dir.write("m.bin", b"m");
    for extra in [
        vec![],
        vec![
            "--param",
            "temperature=0",
            "--param",
            "seed=-42",
            "--app-id",
            "a",
        ],
        vec![
            "--binary",
            "/bin/sh",
            "--model-file",
            model.to_str().unwrap(),
            "--",
            "x",
            "y",
        ],
        vec!["--param", "stop=\u{e9}\u{1f600}", "--param", "n=null"],
    ] {
        let bundle: Value = serde_json::from_str(&sealed(&extra)).unwrap();
        let errors: Vec<String> = v.iter_errors(&bundle).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{extra:?}: {errors:?}");
    }
}

#[test]
fn schema_and_verifier_agree_on_invalid_bundles() {
    let v = validator();
    let base: Value = serde_json::from_str(&sealed(&["--binary", "/bin/sh"])).unwrap();
    assert!(v.is_valid(&base));
    let edits: Vec<(&str, Edit)> = vec![
        ("bundleType", Box::new(|b| b["bundleType"] = json!("x"))),
        ("version", Box::new(|b| b["version"] = json!(1))),
        (
            "createdAt",
            Box::new(|b| b["createdAt"] = json!("2026-02-12T00:00:00Z")),
        ),
        (
            "no snapshot",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("snapshot");
            }),
        ),
        ("unknown top-level", Box::new(|b| b["x"] = json!(null))),
        ("meta array", Box::new(|b| b["meta"] = json!([]))),
        ("context string", Box::new(|b| b["context"] = json!("c"))),
        (
            "snapshot type",
            Box::new(|b| b["snapshot"]["type"] = json!("ai.execution.v2")),
        ),
        (
            "protocol",
            Box::new(|b| b["snapshot"]["protocolVersion"] = json!("2.0.0")),
        ),
        (
            "empty provider",
            Box::new(|b| b["snapshot"]["provider"] = json!("")),
        ),
        (
            "model number",
            Box::new(|b| b["snapshot"]["model"] = json!(7)),
        ),
        (
            "no executionId",
            Box::new(|b| {
                b["snapshot"].as_object_mut().unwrap().remove("executionId");
            }),
        ),
        (
            "inputHash algo",
            Box::new(|b| b["snapshot"]["inputHash"] = json!(format!("sha512:{}", "0".repeat(64)))),
        ),
        (
            "outputHash short",
            Box::new(|b| b["snapshot"]["outputHash"] = json!("sha256:00")),
        ),
        (
            "temperature string",
            Box::new(|b| b["snapshot"]["parameters"]["temperature"] = json!("0.7")),
        ),
        (
            "maxTokens fraction",
            Box::new(|b| b["snapshot"]["parameters"]["maxTokens"] = json!(1.5)),
        ),
        (
            "maxTokens negative",
            Box::new(|b| b["snapshot"]["parameters"]["maxTokens"] = json!(-1)),
        ),
        (
            "seed too big",
            Box::new(|b| b["snapshot"]["parameters"]["seed"] = json!(9007199254740992u64)),
        ),
        (
            "topP missing",
            Box::new(|b| {
                b["snapshot"]["parameters"]
                    .as_object_mut()
                    .unwrap()
                    .remove("topP");
            }),
        ),
        (
            "parameters array",
            Box::new(|b| b["snapshot"]["parameters"] = json!([])),
        ),
        (
            "appId number",
            Box::new(|b| b["snapshot"]["appId"] = json!(3)),
        ),
        (
            "runtime argv",
            Box::new(|b| b["snapshot"]["runtime"]["argv"] = json!([1])),
        ),
        (
            "runtime host",
            Box::new(|b| {
                b["snapshot"]["runtime"]
                    .as_object_mut()
                    .unwrap()
                    .remove("host");
            }),
        ),
        (
            "binary size",
            Box::new(|b| b["snapshot"]["runtime"]["binary"]["size"] = json!(-1)),
        ),
        (
            "binary digest",
            Box::new(|b| b["snapshot"]["runtime"]["binary"]["digest"] = json!("sha256:xyz")),
        ),
        (
            "binary extra key",
            Box::new(|b| b["snapshot"]["runtime"]["binary"]["mode"] = json!(493)),
        ),
        (
            "modelFiles object",
            Box::new(|b| b["snapshot"]["runtime"]["modelFiles"] = json!({})),
        ),
    ];
    for (name, edit) in edits {
        let mut b = base.clone();
        edit(&mut b);
        assert!(!v.is_valid(&b), "{name}: the schema accepts it");
        let reasons = verify_reasons(&b);
        let schema_level = [
            "SCHEMA_ERROR",
            "UNSUPPORTED_BUNDLE_TYPE",
            "UNSUPPORTED_VERSION",
            "INVALID_SHA256_FORMAT",
        ];
        assert!(
            reasons.iter().any(|r| schema_level.contains(&r.as_str())),
            "{name}: verifier reasons {reasons:?}"
        );
    }
    // Edits that stay within the schema are schema-valid for both.
    let edits: Vec<(&str, Edit)> = vec![
        (
            "extra parameter",
            Box::new(|b| b["snapshot"]["parameters"]["stop"] = json!(["\n"])),
        ),
        (
            "unknown snapshot key",
            Box::new(|b| b["snapshot"]["prompt"] = json!("p")),
        ),
        (
            "null binary",
            Box::new(|b| b["snapshot"]["runtime"]["binary"] = Value::Null),
        ),
        (
            "policyEvaluation",
            Box::new(|b| b["policyEvaluation"] = json!({"result": "pass"})),
        ),
        (
            "maxTokens float integer",
            Box::new(|b| b["snapshot"]["parameters"]["maxTokens"] = json!(64.0)),
        ),
    ];
    for (name, edit) in edits {
        let mut b = base.clone();
        edit(&mut b);
        assert!(v.is_valid(&b), "{name}: the schema refuses it");
        assert_eq!(verify_reasons(&b), ["CERTIFICATE_HASH_MISMATCH"], "{name}");
    }
}
