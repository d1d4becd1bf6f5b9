#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! `certificateHash` of CER v1 bundles, against an independent recomputation.
//!
//! The reference is SHA-256 (`sha2` directly) of the independent RFC 8785 canonicalizer
//! in `support/jcs.rs`, applied to the object of the hashed top-level fields as the
//! format defines them (bundleType, createdAt, snapshot, version, and context,
//! contextSummary, policyEvaluation when present; certificateHash and meta outside).
//! Records carry non-ASCII text, escapes, nested parameters, 0.1, 1e21, 5e-324, -0 and
//! integers up to 2^53. Every single change inside the hashed fields (each leaf
//! changed, each node replaced, removed, or given a sibling) is then verified, and the
//! exact reason codes are asserted from a description of the schema written here.

#[path = "support/jcs.rs"]
mod jcs;

use cerd_attestation::record::{self, FileDigest, Host, Parameters, Runtime, Snapshot, Timestamp};
use cerd_attestation::verify::{self, Reason, Verdict};
use cerd_attestation::{json, Sha256Digest};
use serde_json::{json, Map, Value};

/// The top-level fields covered by certificateHash, per the format.
const HASHED: &[&str] = &[
    "bundleType",
    "createdAt",
    "snapshot",
    "version",
    "context",
    "contextSummary",
    "policyEvaluation",
];

const MAX_SAFE: i64 = (1 << 53) - 1;

/// The object certificateHash covers, built independently of the library.
fn hashed_object(bundle: &Value) -> Value {
    let hashed: Map<String, Value> = bundle
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| HASHED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(hashed)
}

/// `sha256:<hex>` of the independent canonical form of the hashed object.
fn independent_hash(bundle: &Value) -> String {
    jcs::digest_string(&hashed_object(bundle))
}

/// Sets certificateHash to the independent recomputation.
fn reseal(bundle: &mut Value) {
    let hash = independent_hash(bundle);
    bundle["certificateHash"] = Value::String(hash);
}

fn created_at() -> Timestamp {
    Timestamp::parse("2026-02-12T00:00:00.000Z").unwrap()
}

/// Asserts that `bundle` is valid and that the library's hash, the claimed hash and
/// the independent recomputation agree, from the value and from its JSON text.
fn assert_valid(bundle: &Value, what: &str) {
    let independent = independent_hash(bundle);
    assert_eq!(
        bundle["certificateHash"],
        independent.as_str(),
        "{what}: claimed"
    );
    assert_eq!(
        record::certificate_hash(bundle).unwrap().to_string(),
        independent,
        "{what}: library"
    );
    let verdict = verify::verify_value(bundle);
    assert!(verdict.valid, "{what}: {:#?}", verdict.checks);
    assert_eq!(verdict.reasons, vec![], "{what}");
    assert_eq!(
        verdict.certificate_hash.unwrap().to_string(),
        independent,
        "{what}"
    );
    for text in [
        serde_json::to_string(bundle).unwrap(),
        serde_json::to_string_pretty(bundle).unwrap(),
    ] {
        let verdict = verify::verify_bytes(text.as_bytes()).unwrap();
        assert!(verdict.valid, "{what} (from text): {:#?}", verdict.checks);
    }
}

fn verdict_reasons(bundle: &Value) -> Vec<Reason> {
    let verdict: Verdict = verify::verify_value(bundle);
    assert_eq!(verdict.valid, verdict.reasons.is_empty());
    verdict.reasons
}

// ---------------------------------------------------------------------------------
// Records to start from.
// ---------------------------------------------------------------------------------

/// Extra parameters with every awkward value the requirement names.
fn tricky_extra_parameters() -> Value {
    json!({
        "nested": {
            "floats": [0.1, 1e21, 5e-324, -0.0, 1e-7, 4.35, 1.7976931348623157e308],
            "ints": [0, -1, MAX_SAFE, -MAX_SAFE, 1u64 << 53, -(1i64 << 53)],
            "deep": {"\u{1f600}": {"\u{fb01}": [{"z": null, "": true,
                "esc": "\"\\/\u{0}\u{8}\u{1f}\u{7f}\u{2028}"}]}},
            "empty": [{}, []]
        },
        "2^53": 1u64 << 53,
        "1e21": 1e21,
        "5e-324": 5e-324,
        "-0": -0.0,
        "0.1": 0.1,
        "stop": ["\n\n", "</s>", "\u{e9}"],
        "\u{e9}t\u{e9}": "\u{65e5}\u{672c}\u{8a9e}"
    })
}

fn tricky_snapshot() -> Snapshot {
    let mut params = tricky_extra_parameters().as_object().unwrap().clone();
    params.insert("temperature".into(), json!(0.1));
    params.insert("maxTokens".into(), json!(MAX_SAFE));
    params.insert("topP".into(), json!(5e-324));
    params.insert("seed".into(), json!(-MAX_SAFE));
    let mut s = Snapshot::new(
        "ex\u{e9}cution-\u{65e5}\u{672c}\u{8a9e}-\u{1f600}".into(),
        "quote\" backslash\\ slash/ tab\t nul\u{0} del\u{7f} ls\u{2028}".into(),
        "mod\u{e8}le:8b".into(),
        Sha256Digest::of("entr\u{e9}e".as_bytes()),
        Sha256Digest::of(b"output"),
        Parameters::from_map(&params).unwrap(),
    );
    s.app_id = Some("\u{fb01}app".into());
    s.runtime = Some(Runtime::new(
        Some(FileDigest::new(
            "/usr/bin/llama-cli".into(),
            1 << 20,
            Sha256Digest::of(b"binary"),
        )),
        vec![
            FileDigest::new(
                "/models/\u{6a21}\u{578b}.gguf".into(),
                MAX_SAFE as u64,
                Sha256Digest::of(b"weights"),
            ),
            FileDigest::new("/models/b.gguf".into(), 0, Sha256Digest::of(b"b")),
        ],
        vec![
            "llama-cli".into(),
            "-p".into(),
            "h\u{e9}llo \"world\"\n\\".into(),
        ],
        Host::new(
            "Debian GNU/Linux 12 (bookworm)".into(),
            "6.1.0-28-amd64".into(),
            "x86_64".into(),
            "0.1.0".into(),
        ),
    ));
    s.other.insert(
        "extra".into(),
        json!({"a": {"b": [1, {"c": "d\u{e9}", "n": 1e21, "z": -0.0}]}}),
    );
    s
}

fn minimal_snapshot(params: &Map<String, Value>) -> Snapshot {
    Snapshot::new(
        "run-1".into(),
        "local".into(),
        "m".into(),
        Sha256Digest::of(b"in"),
        Sha256Digest::of(b"out"),
        Parameters::from_map(params).unwrap(),
    )
}

fn context_fields() -> [(&'static str, Value); 3] {
    [
        (
            "context",
            json!({"signals": [{"name": "r\u{e9}view", "score": 0.1, "w": 1e21}], "\u{1f600}": -0.0}),
        ),
        (
            "contextSummary",
            json!({"count": MAX_SAFE, "hash": Sha256Digest::of(b"ctx").to_string()}),
        ),
        (
            "policyEvaluation",
            json!({"policy": "p\u{f6}licy\t1", "passed": true, "limits": [5e-324, 1u64 << 53]}),
        ),
    ]
}

/// The tricky record with context, contextSummary, policyEvaluation and meta.
fn full_bundle() -> Value {
    let mut bundle = record::seal(&tricky_snapshot(), created_at()).unwrap();
    for (key, value) in context_fields() {
        bundle[key] = value;
    }
    bundle["meta"] = json!({"note": "not hashed", "tpm": {"quote": "AAAA"}});
    reseal(&mut bundle);
    bundle
}

/// A NexArt 1.2.0 bundle carrying its input (text) and output (JSON) inline.
fn nexart_bundle() -> Value {
    let input = "Summarise: caf\u{e9} \u{1f600}\n\"quoted\"";
    let output = json!({"summary": "ok\u{2028}", "tokens": [1, 2.5, 1e21, -0.0],
        "\u{fb01}": {"\u{1f600}": null}});
    let mut bundle = json!({
        "bundleType": "cer.ai.execution.v1",
        "version": "0.1",
        "createdAt": "2025-12-31T12:34:56.789Z",
        "snapshot": {
            "type": "ai.execution.v1",
            "protocolVersion": "1.2.0",
            "executionId": "nexart-1",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "modelVersion": null,
            "prompt": "You are terse.",
            "input": input,
            "inputHash": format!("sha256:{}", jcs::sha256_hex(input.as_bytes())),
            "output": output,
            "outputHash": jcs::digest_string(&output),
            "parameters": {"temperature": 0.7, "maxTokens": 1024, "topP": null, "seed": null},
            "timestamp": "2025-12-31T12:34:56.789Z",
            "appId": null
        }
    });
    reseal(&mut bundle);
    bundle
}

// ---------------------------------------------------------------------------------
// Positive vectors.
// ---------------------------------------------------------------------------------

#[test]
fn minimal_record_has_the_expected_canonical_form() {
    let bundle = record::seal(&minimal_snapshot(&Map::new()), created_at()).unwrap();
    let expected = format!(
        concat!(
            r#"{{"bundleType":"cer.ai.execution.v1","createdAt":"2026-02-12T00:00:00.000Z","#,
            r#""snapshot":{{"executionId":"run-1","inputHash":"{}","model":"m","#,
            r#""outputHash":"{}","parameters":{{"maxTokens":null,"seed":null,"#,
            r#""temperature":null,"topP":null}},"protocolVersion":"1.3.0","#,
            r#""provider":"local","type":"ai.execution.v1"}},"version":"0.1"}}"#
        ),
        Sha256Digest::of(b"in"),
        Sha256Digest::of(b"out")
    );
    assert_eq!(jcs::canonicalize(&hashed_object(&bundle)), expected);
    assert_eq!(
        bundle["certificateHash"],
        format!("sha256:{}", jcs::sha256_hex(expected.as_bytes())).as_str()
    );
    assert_valid(&bundle, "minimal");
}

#[test]
fn sealed_tricky_record_hash_equals_independent_recomputation() {
    let bundle = record::seal(&tricky_snapshot(), created_at()).unwrap();
    // The awkward values are really in the hashed snapshot, as given.
    let params = &bundle["snapshot"]["parameters"];
    for (key, value) in tricky_extra_parameters().as_object().unwrap() {
        assert_eq!(&params[key], value, "parameters.{key}");
    }
    assert!(jcs::canonicalize(&hashed_object(&bundle))
        .contains(r#""floats":[0.1,1e+21,5e-324,0,1e-7,4.35,1.7976931348623157e+308]"#));
    assert_valid(&bundle, "tricky");
}

#[test]
fn named_parameters_take_every_awkward_valid_value() {
    let temperatures = [
        json!(0.1),
        json!(1e21),
        json!(5e-324),
        json!(-0.0),
        json!(0),
        json!(1.7976931348623157e308),
        json!(9007199254740992.0),
        json!(1u64 << 53),
        json!(null),
    ];
    let integers = [
        json!(0),
        json!(1),
        json!(MAX_SAFE),
        json!(9007199254740991.0),
        json!(-MAX_SAFE),
        json!(null),
    ];
    for t in &temperatures {
        for key in ["temperature", "topP"] {
            let params: Map<String, Value> = [(key.to_owned(), t.clone())].into_iter().collect();
            let bundle = record::seal(&minimal_snapshot(&params), created_at()).unwrap();
            assert_valid(&bundle, &format!("{key} {t}"));
        }
    }
    for n in &integers {
        for key in ["seed", "maxTokens"] {
            if key == "maxTokens" && n.as_f64().is_some_and(|f| f < 0.0) {
                continue;
            }
            let params: Map<String, Value> = [(key.to_owned(), n.clone())].into_iter().collect();
            let bundle = record::seal(&minimal_snapshot(&params), created_at()).unwrap();
            assert_valid(&bundle, &format!("{key} {n}"));
        }
    }
    // Negative twins: integers outside ±(2^53 - 1), fractions and negative token
    // limits are not valid seeds or token limits.
    for (key, bad) in [
        ("seed", json!(1u64 << 53)),
        ("seed", json!(-(1i64 << 53))),
        ("seed", json!(0.5)),
        ("seed", json!(1e21)),
        ("maxTokens", json!(-1)),
        ("maxTokens", json!(9007199254740992.0)),
        ("temperature", json!("0.1")),
    ] {
        let params: Map<String, Value> = [(key.to_owned(), bad.clone())].into_iter().collect();
        assert!(
            matches!(
                Parameters::from_map(&params),
                Err(record::RecordError::Schema { .. })
            ),
            "{key} {bad}"
        );
        let mut bundle = record::seal(&minimal_snapshot(&Map::new()), created_at()).unwrap();
        bundle["snapshot"]["parameters"][key] = bad.clone();
        assert_eq!(
            verdict_reasons(&bundle),
            vec![Reason::SchemaError, Reason::CertificateHashMismatch],
            "{key} {bad}"
        );
    }
}

#[test]
fn context_fields_are_hashed_and_meta_is_not() {
    let sealed = record::seal(&tricky_snapshot(), created_at()).unwrap();
    let full = full_bundle();
    assert_valid(&full, "full");
    assert_ne!(full["certificateHash"], sealed["certificateHash"]);

    for (key, value) in context_fields() {
        // Present and resealed: valid, and the hash differs from the sealed record's.
        let mut bundle = sealed.clone();
        bundle[key] = value.clone();
        reseal(&mut bundle);
        assert_valid(&bundle, key);
        assert_ne!(
            bundle["certificateHash"], sealed["certificateHash"],
            "{key}"
        );

        // Added after sealing without resealing: the hash no longer matches.
        let mut added = sealed.clone();
        added[key] = value.clone();
        assert_eq!(
            verdict_reasons(&added),
            vec![Reason::CertificateHashMismatch],
            "{key} added"
        );
        // Removed from the full bundle.
        let mut removed = full.clone();
        removed.as_object_mut().unwrap().remove(key);
        assert_eq!(
            verdict_reasons(&removed),
            vec![Reason::CertificateHashMismatch],
            "{key} removed"
        );
        // Not an object: a schema error, and still covered by the hash.
        let mut wrong_type = full.clone();
        wrong_type[key] = json!([value]);
        assert_eq!(
            verdict_reasons(&wrong_type),
            vec![Reason::SchemaError, Reason::CertificateHashMismatch],
            "{key} not an object"
        );
    }

    // meta: added, changed, emptied or removed, the record stays valid with the same
    // certificateHash.
    for meta in [
        json!({}),
        json!({"note": "changed \u{1f600}", "n": 1e21}),
        json!({"tpm": {"quote": "BBBB", "pcrs": [0, 1, 2]}}),
    ] {
        for base in [&sealed, &full] {
            let mut bundle = base.clone();
            bundle["meta"] = meta.clone();
            assert_valid(&bundle, &format!("meta {meta}"));
            assert_eq!(bundle["certificateHash"], base["certificateHash"]);
        }
    }
    let mut no_meta = full.clone();
    no_meta.as_object_mut().unwrap().remove("meta");
    assert_valid(&no_meta, "meta removed");
    // meta that is not an object is a schema error, but not a hash mismatch.
    let mut bad_meta = full.clone();
    bad_meta["meta"] = json!("evidence");
    assert_eq!(verdict_reasons(&bad_meta), vec![Reason::SchemaError]);
}

#[test]
fn nexart_bundle_with_inline_content_is_valid() {
    assert_valid(&nexart_bundle(), "nexart");
}

// ---------------------------------------------------------------------------------
// Number spellings in the bundle text.
// ---------------------------------------------------------------------------------

/// A bundle's text with the given spellings of temperature, maxTokens, topP and an
/// array of extra numbers; certificateHash left as a placeholder.
fn bundle_text(temperature: &str, max_tokens: &str, top_p: &str, numbers: &str) -> String {
    format!(
        r#"{{
  "bundleType": "cer.ai.execution.v1",
  "version": "0.1",
  "createdAt": "2026-02-12T00:00:00.000Z",
  "certificateHash": "CERTIFICATE_HASH",
  "snapshot": {{
    "type": "ai.execution.v1", "protocolVersion": "1.3.0", "executionId": "run-1",
    "provider": "local", "model": "m", "inputHash": "{}", "outputHash": "{}",
    "parameters": {{"temperature": {temperature}, "maxTokens": {max_tokens},
      "topP": {top_p}, "seed": null, "numbers": [{numbers}]}}
  }}
}}"#,
        Sha256Digest::of(b"in"),
        Sha256Digest::of(b"out")
    )
}

#[test]
fn number_spellings_do_not_change_the_hash() {
    let canonical = bundle_text(
        "0",
        "100",
        "0.1",
        "1e+21, 1e+21, 1e+21, 0.1, 0, 0, 5e-324, 9007199254740992, 9007199254740992, 5e-7, 1.2",
    );
    let odd = bundle_text(
        "-0.0",
        "1E2",
        "0.10",
        "1e21, 1E21, 1e+21, 0.10, -0, -0.0, 5e-324, 9007199254740992, 9007199254740992.0, 0.5e-6, 12e-1",
    );
    let canonical_value = json::parse(canonical.as_bytes()).unwrap();
    let odd_value = json::parse(odd.as_bytes()).unwrap();
    let hash = record::certificate_hash(&canonical_value)
        .unwrap()
        .to_string();
    assert_eq!(
        record::certificate_hash(&odd_value).unwrap().to_string(),
        hash
    );
    assert_eq!(independent_hash(&canonical_value), hash);
    assert_eq!(independent_hash(&odd_value), hash);
    assert!(jcs::canonicalize(&hashed_object(&odd_value)).contains(
        r#""numbers":[1e+21,1e+21,1e+21,0.1,0,0,5e-324,9007199254740992,9007199254740992,5e-7,1.2]"#
    ));

    // Either text, with the hash recomputed from the other, verifies.
    for text in [&canonical, &odd] {
        let text = text.replace("CERTIFICATE_HASH", &hash);
        let verdict = verify::verify_bytes(text.as_bytes()).unwrap();
        assert!(verdict.valid, "{:#?}", verdict.checks);
    }

    // And a record sealed from typed values hashes the same.
    let params = json!({"temperature": -0.0, "maxTokens": 100, "topP": 0.1, "numbers":
        [1e21, 1e21, 1e21, 0.1, -0.0, 0, 5e-324, 1u64 << 53, 9007199254740992.0, 5e-7, 1.2]});
    let sealed =
        record::seal(&minimal_snapshot(params.as_object().unwrap()), created_at()).unwrap();
    assert_eq!(sealed["certificateHash"], hash.as_str());

    // A different value, not a different spelling, changes the hash.
    let other = bundle_text("0", "100", "0.1", "1e+20");
    let other = json::parse(other.as_bytes()).unwrap();
    assert_ne!(record::certificate_hash(&other).unwrap().to_string(), hash);
}

#[test]
fn integers_beyond_2_53_are_read_as_the_nearest_double() {
    // RFC 8785 reads every number as an IEEE 754 double, so above 2^53 two integer
    // spellings of the same double hash alike: 2^53 + 1 is 2^53. Typed fields refuse
    // such integers (see named_parameters_take_every_awkward_valid_value); this is
    // about extra parameters, which take any JSON.
    let exact = json::parse(bundle_text("0", "1", "0", "9007199254740992").as_bytes()).unwrap();
    let above = json::parse(bundle_text("0", "1", "0", "9007199254740993").as_bytes()).unwrap();
    let next = json::parse(bundle_text("0", "1", "0", "9007199254740994").as_bytes()).unwrap();
    let h = |v: &Value| record::certificate_hash(v).unwrap().to_string();
    assert_eq!(h(&exact), h(&above));
    assert_eq!(independent_hash(&exact), independent_hash(&above));
    assert_ne!(h(&exact), h(&next));
    assert_eq!(h(&next), independent_hash(&next));
}

// ---------------------------------------------------------------------------------
// Negative vectors: every single change inside the hashed fields.
// ---------------------------------------------------------------------------------

#[path = "record/mutation.rs"]
mod mutation;
use mutation::{changed_leaf, mutate_everything, Kind};

#[test]
fn every_single_change_inside_the_hashed_fields_is_detected() {
    let mut tally = Vec::new();
    for base in [full_bundle(), nexart_bundle()] {
        for top in HASHED {
            if base.get(*top).is_some_and(Value::is_object) {
                mutate_everything(&base, top, &mut tally);
            }
        }
    }
    // Every change above produced exactly the expected reasons; make sure each kind
    // of outcome was exercised.
    let count = |reasons: &[Reason]| {
        tally
            .iter()
            .find(|(r, _)| r.as_slice() == reasons)
            .map_or(0, |(_, n)| *n)
    };
    use Reason::*;
    let total: usize = tally.iter().map(|(_, n)| n).sum();
    assert!(total > 350, "only {total} mutations");
    eprintln!("{total} single changes: {tally:?}");
    assert!(count(&[CertificateHashMismatch]) > 200, "{tally:?}");
    assert!(
        count(&[SchemaError, CertificateHashMismatch]) > 50,
        "{tally:?}"
    );
    for reasons in [
        &[UnsupportedVersion, CertificateHashMismatch][..],
        &[InvalidSha256Format, CertificateHashMismatch],
        &[CertificateHashMismatch, InputHashMismatch],
        &[CertificateHashMismatch, OutputHashMismatch],
    ] {
        assert!(count(reasons) > 0, "{reasons:?} never produced: {tally:?}");
    }
}

#[test]
fn envelope_changes_give_their_reason_codes() {
    use Reason::*;
    let base = full_bundle();
    let claimed = base["certificateHash"].as_str().unwrap();
    let other_hash = changed_leaf(Kind::Digest, &json!(claimed));
    let upper_hash = json!(claimed.to_uppercase());
    // (field, new value or None to remove it, expected reasons). Without a required
    // hashed field the hash cannot be recomputed at all, so only the schema fails.
    let cases: [(&str, Option<Value>, &[Reason]); 16] = [
        (
            "createdAt",
            Some(json!("2026-02-12T00:00:00.001Z")),
            &[CertificateHashMismatch],
        ),
        (
            "createdAt",
            Some(json!("2026-02-12T00:00:00Z")),
            &[SchemaError, CertificateHashMismatch],
        ),
        (
            "createdAt",
            Some(json!("2026-02-12T00:00:00.000+00:00")),
            &[SchemaError, CertificateHashMismatch],
        ),
        (
            "createdAt",
            Some(json!(1770854400000u64)),
            &[SchemaError, CertificateHashMismatch],
        ),
        ("createdAt", None, &[SchemaError]),
        (
            "version",
            Some(json!("0.2")),
            &[UnsupportedVersion, CertificateHashMismatch],
        ),
        (
            "version",
            Some(json!(0.1)),
            &[UnsupportedVersion, CertificateHashMismatch],
        ),
        ("version", None, &[SchemaError]),
        (
            "bundleType",
            Some(json!("cer.ai.execution.v2")),
            &[UnsupportedBundleType, CertificateHashMismatch],
        ),
        (
            "bundleType",
            Some(json!("cer.ai.execution.v\u{2071}")),
            &[UnsupportedBundleType, CertificateHashMismatch],
        ),
        ("bundleType", None, &[SchemaError]),
        ("snapshot", None, &[SchemaError]),
        (
            "certificateHash",
            Some(other_hash),
            &[CertificateHashMismatch],
        ),
        ("certificateHash", Some(upper_hash), &[InvalidSha256Format]),
        ("certificateHash", None, &[SchemaError]),
        // Unknown top-level fields are refused, and are not hashed.
        ("signature", Some(json!("x")), &[SchemaError]),
    ];
    for (field, value, expected) in cases {
        let mut bundle = base.clone();
        let top = bundle.as_object_mut().unwrap();
        match &value {
            Some(v) => top.insert(field.to_owned(), v.clone()),
            None => top.remove(field),
        };
        let verdict = verify::verify_value(&bundle);
        let what = format!("{field} set to {value:?}");
        assert!(!verdict.valid, "{what}");
        assert_eq!(verdict.reasons, expected, "{what}");
    }
}
