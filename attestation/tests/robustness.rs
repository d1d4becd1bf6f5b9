#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! The verifier never panics and its verdicts are consistent, on any input.
//!
//! Property tests (proptest) feed arbitrary bytes, JSON-token soup, arbitrary JSON values
//! and mutated real bundles to the entry points that take untrusted input, and check
//! the verdict against itself and against what the mutation touched: a change to a
//! hashed field (`bundleType`, `version`, `createdAt`, `snapshot`, …) or to
//! `certificateHash` never leaves a valid verdict, and a change inside `meta` never
//! changes one. Fixed tests cover input sizes no property would reach: 100 000 levels
//! of nesting and 10 MB strings, on a thread with a 2 MiB stack.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::thread;

use cerd_attestation::record::{
    self, Bundle, FileDigest, Host, Parameters, Runtime, Snapshot, Timestamp, HASHED_FIELDS,
};
use cerd_attestation::verify::{self, CheckId, Reason, Status, Verdict};
use cerd_attestation::{canonical, json, Sha256Digest};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Map, Number, Value};

// ---------------------------------------------------------------------------------
// Bundles to start from.

fn sealed_with_runtime() -> Value {
    let mut params = Map::new();
    params.insert("temperature".into(), json!(0.7));
    params.insert("maxTokens".into(), json!(512));
    params.insert("stop".into(), json!(["END", "\u{1f600}"]));
    let mut snapshot = Snapshot::new(
        "run-1".into(),
        "local".into(),
        "llama".into(),
        Sha256Digest::of(b"input"),
        Sha256Digest::of(b"output"),
        Parameters::from_map(&params).unwrap(),
    );
    snapshot.app_id = Some("app".into());
    snapshot.runtime = Some(Runtime::new(
        Some(FileDigest::new(
            "/usr/bin/llama-cli".into(),
            6,
            Sha256Digest::of(b"binary"),
        )),
        vec![
            FileDigest::new("/m/a.gguf".into(), 8, Sha256Digest::of(b"weights1")),
            FileDigest::new("/m/b.gguf".into(), 9, Sha256Digest::of(b"weights2")),
        ],
        vec!["llama-cli".into(), "-m".into(), "/m/a.gguf".into()],
        Host::new(
            "Debian GNU/Linux 12 (bookworm)".into(),
            "6.1.0-28-amd64".into(),
            "x86_64".into(),
            "0.1.0".into(),
        ),
    ));
    let created = Timestamp::parse("2026-02-12T00:00:00.000Z").unwrap();
    let mut bundle = record::seal(&snapshot, created).unwrap();
    bundle["meta"] = json!({"evidence": {"kind": "tpm2-quote", "pcrs": [0, 7], "quote": "AAEC"}});
    bundle
}

/// A NexArt 1.2.0 bundle carrying its input and output inline, with context fields.
fn nexart_inline() -> Value {
    let input = json!([{"role": "user", "content": "What is 2+2?"}]);
    let output = json!("4");
    let mut bundle = json!({
        "bundleType": "cer.ai.execution.v1",
        "version": "0.1",
        "createdAt": "2026-02-12T00:00:00.000Z",
        "snapshot": {
            "type": "ai.execution.v1",
            "protocolVersion": "1.2.0",
            "executionId": "exec-001",
            "timestamp": "2026-02-12T00:00:00.000Z",
            "provider": "openai",
            "model": "gpt-4o",
            "modelVersion": null,
            "input": input,
            "inputHash": verify::content_digest(&input).unwrap().to_string(),
            "parameters": {"temperature": 0.7, "maxTokens": 1024, "topP": null, "seed": null},
            "output": output,
            "outputHash": verify::content_digest(&output).unwrap().to_string(),
            "appId": null
        },
        "context": {"signals": [{"type": "approval"}]},
        "meta": {"note": "unhashed"}
    });
    let hash = record::certificate_hash(&bundle).unwrap();
    bundle["certificateHash"] = json!(hash.to_string());
    bundle
}

/// The two valid bundles the properties start from, built once.
fn bases() -> &'static [Value; 2] {
    static BASES: OnceLock<[Value; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        let bases = [sealed_with_runtime(), nexart_inline()];
        for b in &bases {
            let v = verify::verify_value(b);
            assert!(v.valid, "{v:?}");
        }
        bases
    })
}

// ---------------------------------------------------------------------------------
// The consistency every verdict must have.

const CHECK_ORDER: [CheckId; 17] = [
    CheckId::Schema,
    CheckId::DigestFormat,
    CheckId::CertificateHash,
    CheckId::Content,
    CheckId::BatchInclusion,
    CheckId::Evidence,
    CheckId::QuoteSignature,
    CheckId::QualifyingData,
    CheckId::PcrDigest,
    CheckId::AkTrust,
    CheckId::EkChain,
    CheckId::SnpReport,
    CheckId::LogReplay,
    CheckId::PolicyBinary,
    CheckId::PolicyModels,
    CheckId::PolicyPcrs,
    CheckId::RecordAge,
];

fn assert_consistent(value: &Value, verdict: &Verdict) {
    assert_eq!(verdict.valid, verdict.reasons.is_empty(), "{verdict:?}");
    let ids: Vec<CheckId> = verdict.checks.iter().map(|c| c.check).collect();
    assert_eq!(ids, CHECK_ORDER, "{verdict:?}");
    for c in &verdict.checks {
        assert_eq!(c.reason.is_none(), c.status == Status::Pass, "{c:?}");
    }
    let failed: Vec<Reason> = verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter_map(|c| c.reason)
        .collect();
    assert_eq!(failed, verdict.reasons, "{verdict:?}");

    let parsed = Bundle::from_value(value);
    assert_eq!(parsed.as_ref().ok(), verdict.bundle.as_ref(), "{verdict:?}");
    if parsed.is_ok() {
        assert_eq!(verdict.checks[0].status, Status::Pass, "{verdict:?}");
        assert_eq!(verdict.checks[1].status, Status::Pass, "{verdict:?}");
    }
    if verdict.valid {
        // A valid verdict recomputed the hash and found the claim.
        assert_eq!(verdict.checks[2].status, Status::Pass, "{verdict:?}");
        let bundle = parsed.as_ref().unwrap();
        let computed = record::certificate_hash(value).unwrap();
        assert_eq!(verdict.certificate_hash, Some(computed));
        assert_eq!(bundle.certificate_hash, computed);
    }
    serde_json::to_string(verdict).expect("verdict serializes");
}

fn verify_and_check(value: &Value) -> Verdict {
    let verdict = verify::verify_value(value);
    assert_consistent(value, &verdict);
    verdict
}

// ---------------------------------------------------------------------------------
// Strategies.

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        prop::sample::select(vec![
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            1e21,
            1e-7,
            9_007_199_254_740_992.0,
            0.1,
        ])
        .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
    ]
}

/// Keys the verifier looks at, so that arbitrary objects hit its branches.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "bundleType", "version", "createdAt", "snapshot", "certificateHash", "meta",
            "context", "contextSummary", "policyEvaluation", "type", "protocolVersion",
            "executionId", "provider", "model", "inputHash", "outputHash", "parameters",
            "temperature", "maxTokens", "topP", "seed", "appId", "runtime", "input",
            "output", "binary", "modelFiles", "argv", "host", "path", "size", "digest",
            "osRelease", "kernel", "arch", "cerdVersion",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => prop::sample::select(vec![
            "cer.ai.execution.v1", "0.1", "ai.execution.v1", "1.2.0", "1.3.0",
            "2026-02-12T00:00:00.000Z", "2026-02-30T00:00:00.000Z",
            "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            "sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB",
            "sha256:", "",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any JSON value, at most 5 levels deep.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number(),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Bytes that are mostly JSON tokens, so the parser gets past the first byte.
fn json_soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\"a\"",
            "\"meta\"",
            "\"snapshot\"",
            "1",
            "-0",
            "1e400",
            "0.1",
            "null",
            "true",
            " ",
            "\\u0000",
            "\\ud800",
            "\\",
            "\u{e9}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(token, 0..200).prop_map(|t| t.concat())
}

// ---------------------------------------------------------------------------------
// Mutations of a real bundle.

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Paths of every node of `v`, the root (empty path) first.
fn paths(v: &Value) -> Vec<Vec<Seg>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < out.len() {
        let path = out[i].clone();
        match node(v, &path) {
            Value::Object(m) => {
                for k in m.keys() {
                    let mut p = path.clone();
                    p.push(Seg::Key(k.clone()));
                    out.push(p);
                }
            }
            Value::Array(a) => {
                for j in 0..a.len() {
                    let mut p = path.clone();
                    p.push(Seg::Index(j));
                    out.push(p);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn node<'a>(v: &'a Value, path: &[Seg]) -> &'a Value {
    path.iter().fold(v, |v, s| match s {
        Seg::Key(k) => &v[k.as_str()],
        Seg::Index(i) => &v[*i],
    })
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        Seg::Key(k) => v.get_mut(k.as_str()).unwrap(),
        Seg::Index(i) => v.get_mut(*i).unwrap(),
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the node at the chosen path (any node, the root included).
    Replace(Index, Value),
    /// Delete the chosen object member (no-op when the bundle has none left).
    Delete(Index),
    /// Insert (or overwrite) a key in the chosen object.
    Insert(Index, String, Value),
    /// Replace a node inside `meta` (or `meta` itself), so that meta-only changes are
    /// common enough to test.
    ReplaceInMeta(Index, Value),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), arb_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), arb_key(), arb_json()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        (any::<Index>(), arb_json()).prop_map(|(i, v)| Mutation::ReplaceInMeta(i, v)),
    ]
}

fn apply(bundle: &mut Value, mutation: &Mutation) {
    let all = paths(bundle);
    match mutation {
        Mutation::Replace(i, v) => {
            let path: &Vec<Seg> = i.get(&all);
            *node_mut(bundle, path) = v.clone();
        }
        Mutation::ReplaceInMeta(i, v) => {
            let in_meta: Vec<&Vec<Seg>> = all
                .iter()
                .filter(|p| p.first() == Some(&Seg::Key("meta".into())))
                .collect();
            if !in_meta.is_empty() {
                let path: &&Vec<Seg> = i.get(&in_meta);
                *node_mut(bundle, path) = v.clone();
            }
        }
        Mutation::Delete(i) => {
            let members: Vec<&Vec<Seg>> = all
                .iter()
                .filter(|p| matches!(p.last(), Some(Seg::Key(_))))
                .collect();
            if members.is_empty() {
                return;
            }
            let path = *i.get(&members);
            let (Some(Seg::Key(k)), parent) = (path.last(), &path[..path.len() - 1]) else {
                unreachable!()
            };
            node_mut(bundle, parent).as_object_mut().unwrap().remove(k);
        }
        Mutation::Insert(i, k, v) => {
            let objects: Vec<&Vec<Seg>> =
                all.iter().filter(|p| node(bundle, p).is_object()).collect();
            if objects.is_empty() {
                return;
            }
            let path = (*i.get(&objects)).clone();
            node_mut(bundle, &path)
                .as_object_mut()
                .unwrap()
                .insert(k.clone(), v.clone());
        }
    }
}

/// Whether top-level member `key` differs between the two bundles as far as hashing
/// can tell: present in one only, or with different RFC 8785 canonical bytes (`6` and
/// `6.0` are the same number to JCS, and so to the certificate hash).
fn member_changed(before: &Value, after: &Value, key: &str) -> bool {
    let canon = |v: &Value| v.get(key).map(|m| canonical::to_bytes(m).ok());
    !after.is_object() || canon(before) != canon(after)
}

// ---------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = json::parse(&bytes);
        if let Ok(verdict) = verify::verify_bytes(&bytes) {
            assert_consistent(&json::parse(&bytes).unwrap(), &verdict);
        }
    }

    #[test]
    fn json_soup_never_panics(bytes in json_soup()) {
        match json::parse(&bytes) {
            Ok(value) => {
                // Whatever parses has a canonical form that parses to itself.
                let canon = canonical::to_bytes(&value).unwrap();
                let again = json::parse(&canon).unwrap();
                prop_assert_eq!(canonical::to_bytes(&again).unwrap(), canon);
                match verify::verify_bytes(&bytes) {
                    Ok(verdict) => assert_consistent(&value, &verdict),
                    Err(_) => prop_assert!(!value.is_object()),
                }
            }
            Err(_) => prop_assert!(verify::verify_bytes(&bytes).is_err()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_values_give_consistent_verdicts(value in arb_json()) {
        let _ = Bundle::from_value(&value);
        let _ = record::certificate_hash(&value);
        verify_and_check(&value);
        // Through bytes too: a value's own serialization verifies the same way.
        // The strict parser reads back exactly what serde_json writes.
        let bytes = serde_json::to_vec(&value).unwrap();
        prop_assert_eq!(&json::parse(&bytes).unwrap(), &value);
        match verify::verify_bytes(&bytes) {
            Ok(verdict) => prop_assert_eq!(verdict, verify::verify_value(&value)),
            Err(_) => prop_assert!(!value.is_object()),
        }
    }

    /// Objects with mostly the right top-level keys, so that later checks run too.
    #[test]
    fn bundle_shaped_values_give_consistent_verdicts(
        members in prop::collection::vec((arb_key(), arb_json()), 0..10),
        base in 0..2usize,
        keep in prop::collection::vec(any::<bool>(), 10),
    ) {
        let mut bundle = bases()[base].clone();
        let top = bundle.as_object_mut().unwrap();
        for (k, v) in members.into_iter().zip(&keep).filter(|(_, keep)| !**keep).map(|(m, _)| m) {
            top.insert(k, v);
        }
        verify_and_check(&bundle);
    }

    #[test]
    fn mutations_break_validity_exactly_when_they_touch_hashed_fields(
        base in 0..2usize,
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        let before = bases()[base].clone();
        let mut after = before.clone();
        for m in &mutations {
            apply(&mut after, m);
        }
        let verdict = verify_and_check(&after);

        let hashed_changed = HASHED_FIELDS.iter().any(|k| member_changed(&before, &after, k));
        let hash_changed = member_changed(&before, &after, "certificateHash");
        let other_keys = |v: &Value| -> Option<BTreeSet<String>> {
            v.as_object().map(|m| m.keys().filter(|k| *k != "meta").cloned().collect())
        };
        let top_keys_same = other_keys(&after) == other_keys(&before);
        let named = ["snapshot", "createdAt", "version", "bundleType"];
        if named.iter().any(|k| member_changed(&before, &after, k)) || hashed_changed || hash_changed {
            prop_assert!(!verdict.valid, "mutated hashed content still valid: {after}");
        } else if top_keys_same {
            // Only `meta` changed (or nothing did): validity is unchanged while `meta`
            // is still absent or an object; any other `meta` is a schema error.
            match after.get("meta") {
                None | Some(Value::Object(_)) => {
                    prop_assert!(verdict.valid, "meta-only change broke validity: {verdict:?}")
                }
                Some(_) => prop_assert_eq!(verdict.reasons.clone(), vec![Reason::SchemaError]),
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Sizes no property reaches. Each runs on a thread with the default 2 MiB stack.

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn extreme_nesting_is_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        let n = 100_000;
        for doc in [
            "[".repeat(n),
            "[".repeat(n) + &"]".repeat(n),
            "{\"a\":".repeat(n) + "null" + &"}".repeat(n),
            "{\"meta\":".repeat(n),
            format!(
                "{{\"bundleType\":\"cer.ai.execution.v1\",\"meta\":{}",
                "[".repeat(n)
            ),
        ] {
            assert!(json::parse(doc.as_bytes()).is_err());
            assert!(verify::verify_bytes(doc.as_bytes()).is_err());
        }
        // Nesting is bounded at the parser (128 levels), so a real bundle may carry 120
        // levels under meta and stay valid, or in a hashed field and be checked; 200
        // levels are refused.
        let mut sealed = sealed_with_runtime();
        sealed.as_object_mut().unwrap().remove("meta");
        let compact = serde_json::to_string(&sealed).unwrap();
        let body = compact.strip_suffix('}').unwrap();
        let deep = |field: &str, levels: usize| {
            format!(
                "{body},\"{field}\":{{\"x\":{}1{}}}}}",
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        assert!(
            verify::verify_bytes(deep("meta", 120).as_bytes())
                .unwrap()
                .valid
        );
        let verdict = verify::verify_bytes(deep("context", 120).as_bytes()).unwrap();
        assert_eq!(verdict.reasons, vec![Reason::CertificateHashMismatch]);
        assert!(verify::verify_bytes(deep("meta", 200).as_bytes()).is_err());
    });
}

#[test]
fn deep_values_built_in_memory_verify_on_a_small_stack() {
    // `verify_value` takes a `Value` that may not have come from `json::parse`; a value
    // nested as deep as the parser allows, in every hashed and unhashed position.
    on_small_stack(|| {
        let mut deep = json!(1);
        for _ in 0..126 {
            deep = json!([deep]);
        }
        let mut bundle = sealed_with_runtime();
        bundle["meta"]["deep"] = deep.clone();
        assert!(verify_and_check(&bundle).valid);
        bundle["snapshot"]["extra"] = deep.clone();
        bundle["snapshot"]["input"] = deep;
        let verdict = verify_and_check(&bundle);
        assert_eq!(
            verdict.reasons,
            vec![Reason::CertificateHashMismatch, Reason::InputHashMismatch]
        );
    });
}

#[test]
fn ten_megabyte_strings_are_handled() {
    on_small_stack(|| {
        let big = "\u{e9}a".repeat(10 * 1024 * 1024 / 3);
        let base = sealed_with_runtime();

        // Under meta: still valid.
        let mut b = base.clone();
        b["meta"]["blob"] = json!(big);
        let verdict = verify::verify_bytes(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert!(verdict.valid, "{verdict:?}");

        // In the snapshot, resealed: valid; not resealed: a hash mismatch.
        let mut b = base.clone();
        b["snapshot"]["prompt"] = json!(big);
        let verdict = verify::verify_bytes(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(verdict.reasons, vec![Reason::CertificateHashMismatch]);
        b["certificateHash"] = json!(record::certificate_hash(&b).unwrap().to_string());
        assert!(verify_and_check(&b).valid);

        // As a digest, a key, a timestamp and an inline input.
        let mut b = base.clone();
        b["snapshot"]["inputHash"] = json!(format!("sha256:{}", "a".repeat(10 << 20)));
        let verdict = verify::verify_bytes(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(
            verdict.reasons,
            vec![Reason::InvalidSha256Format, Reason::CertificateHashMismatch]
        );
        let mut b = base.clone();
        b[big.as_str()] = json!(1);
        let verdict = verify::verify_bytes(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(verdict.reasons, vec![Reason::SchemaError]);
        let mut b = base.clone();
        b["createdAt"] = json!(big);
        assert!(!verify_and_check(&b).valid);
        let mut b = base;
        b["snapshot"]["input"] = json!(big);
        let verdict = verify_and_check(&b);
        assert!(
            verdict.reasons.contains(&Reason::InputHashMismatch),
            "{verdict:?}"
        );

        // One string of 10 MB of escapes, and an unterminated one.
        let escaped = format!("[\"{}\"]", "\\u00e9".repeat((10 << 20) / 6));
        assert!(json::parse(escaped.as_bytes()).is_ok());
        let open = format!("{{\"a\":\"{}", "x".repeat(10 << 20));
        assert!(verify::verify_bytes(open.as_bytes()).is_err());
    });
}

#[test]
fn documents_over_the_size_limit_are_refused_before_parsing() {
    let mut doc = vec![b' '; json::MAX_DOCUMENT_BYTES + 1];
    doc[0] = b'{';
    assert!(matches!(
        json::parse(&doc),
        Err(json::JsonError::TooLarge { .. })
    ));
    assert!(verify::verify_bytes(&doc).is_err());
}
