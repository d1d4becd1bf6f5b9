#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! Measurement logs (CEL-JSON): known answers computed outside this crate, round trips,
//! and one negative twin per check, each with the error it must produce.
//!
//! Every expected value below was computed with Python's hashlib (and the file digests
//! checked with coreutils sha256sum), not with this crate:
//!
//! ```sh
//! for s in 'cerd test binary' 'cerd test model' 'cerd test config' 'someone else'; do
//!   printf '%s\n' "$s" | sha256sum; done
//! python3 -c "
//! import hashlib
//! h = lambda b: hashlib.sha256(b).digest()
//! d = [h(b'cerd test binary\n'), h(b'cerd test model\n'), h(b'cerd test config\n')]
//! p = bytes(32)
//! for x in d: p = h(p + x); print(p.hex())          # P1, P2, P3
//! p2 = h(h(bytes(32) + d[0]) + d[1])
//! x = h(p2 + h(b'someone else\n')); print(x.hex())  # FOREIGN_OBSERVED
//! print(h(x + d[2]).hex())                          # FOREIGN_FINAL
//! print(h(bytes(32) + b'\xaa' * 32).hex())          # EXTEND_ZERO_AA
//! "
//! ```

use cerd_attestation::eventlog::{
    self, EventContent, EventLog, EventLogError, Kind, LogHeader, Measurement,
};
use cerd_attestation::json::JsonError;
use cerd_attestation::Sha256Digest;
use serde_json::{json, Value};

/// sha256("cerd test binary\n"), 17 bytes.
const D1: &str = "870b99d415072f2130e33de46ac78009f28a73167d1720b1d13d6678f786d40e";
/// sha256("cerd test model\n"), 16 bytes.
const D2: &str = "ae663c5a9b4a230efef750b97664c730b6d9d042e6e37edf10a6bf9defaaa617";
/// sha256("cerd test config\n"), 17 bytes.
const D3: &str = "608f3e3c9f7cabb5e5fd24cd52dbdb4945dac9f5455a2316d345fd0f00113b5e";
/// PCR after extending D1 into zeros, then D2, then D3.
const P1: &str = "0caecc7abb607140beea04a8850ed88445220b37aa27e1c802ba02756835b034";
const P2: &str = "cc57ffef1131d1fc8b61725d85147c0b77ecd2ed5d104888761e93f65201d587";
const P3: &str = "214e72a3a670f6ed44b075f759d553cf6f1d53a184876699f8eba5074e0eddb9";
/// P2 extended with sha256("someone else\n") by someone outside the log.
const FOREIGN_OBSERVED: &str = "ab294589cf9347d434bf56f7adea36011c5243896d1260918014bd7497829826";
/// FOREIGN_OBSERVED extended with D3.
const FOREIGN_FINAL: &str = "13462ade03bd9450602a6939662feb9582f9071054df4a1e5bc347c62f6b5bc0";
/// SHA-256(32 zero bytes || 32 bytes 0xaa); also what tpm2_pcrextend gave on swtpm.
const EXTEND_ZERO_AA: &str = "9ef814b42fa0be12d197c44d3e8e03441a4b1118237658368ba1351090e556ed";
const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A log as `cer tpm measure` writes it: header and three measurements on PCR 15.
const LOG: &str = r#"[
{"recnum":0,"pcr":15,"content_type":"cerd_log","content":{"version":1,"resetCount":3,"restartCount":0,"clock":41750,"bank":"sha256","initial":"0000000000000000000000000000000000000000000000000000000000000000"}},
{"recnum":1,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"870b99d415072f2130e33de46ac78009f28a73167d1720b1d13d6678f786d40e"}],"content_type":"cerd","content":{"kind":"binary","path":"/opt/llama/bin/llama-cli","size":17,"digest":"sha256:870b99d415072f2130e33de46ac78009f28a73167d1720b1d13d6678f786d40e"}},
{"recnum":2,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"ae663c5a9b4a230efef750b97664c730b6d9d042e6e37edf10a6bf9defaaa617"}],"content_type":"cerd","content":{"kind":"model","path":"/models/m.gguf","size":16,"digest":"sha256:ae663c5a9b4a230efef750b97664c730b6d9d042e6e37edf10a6bf9defaaa617"}},
{"recnum":3,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"608f3e3c9f7cabb5e5fd24cd52dbdb4945dac9f5455a2316d345fd0f00113b5e"}],"content_type":"cerd","content":{"kind":"config","path":"/etc/cerd/run.toml","size":17,"digest":"sha256:608f3e3c9f7cabb5e5fd24cd52dbdb4945dac9f5455a2316d345fd0f00113b5e"}}
]
"#;

fn bytes32(hex: &str) -> [u8; 32] {
    let mut out = [0; 32];
    hex::decode_to_slice(hex, &mut out).unwrap();
    out
}

fn digest(hex: &str) -> Sha256Digest {
    Sha256Digest(bytes32(hex))
}

fn value() -> Value {
    serde_json::from_str(LOG).unwrap()
}

/// Parses an edited copy of [`LOG`].
fn edited(edit: impl FnOnce(&mut Vec<Value>)) -> Result<EventLog, EventLogError> {
    let mut v = value();
    edit(v.as_array_mut().unwrap());
    eventlog::parse(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn known_answer_replay() {
    let log = eventlog::parse(LOG.as_bytes()).unwrap();
    assert_eq!(log.pcr(), 15);
    assert_eq!(log.header().reset_count(), 3);
    assert_eq!(log.header().restart_count(), 0);
    assert_eq!(log.header().clock(), 41750);
    assert_eq!(log.header().initial(), &[0; 32]);
    assert_eq!(log.events().len(), 3);
    assert_eq!(log.current(), bytes32(P3));
    assert_eq!(log.replay(15, [0; 32]), bytes32(P3));
    assert_eq!(log.replay(16, [0; 32]), [0; 32], "no records on PCR 16");
    log.verify_replay(&bytes32(P3)).unwrap();
    assert!(log.fully_accounted());
    assert_eq!(log.bound_from(), 1);

    // Partial replays are the intermediate PCR values.
    let mut pcr = [0; 32];
    for (e, want) in log.events().iter().zip([P1, P2, P3]) {
        pcr = eventlog::extend(&pcr, &e.measurement().unwrap().digest().0);
        assert_eq!(pcr, bytes32(want), "after record {}", e.recnum());
    }
    assert_eq!(
        eventlog::extend(&[0; 32], &[0xaa; 32]),
        bytes32(EXTEND_ZERO_AA)
    );
}

#[test]
fn find_matches_runtime_digests_without_hashing() {
    let log = eventlog::parse(LOG.as_bytes()).unwrap();
    let e = log.find(&digest(D2)).unwrap();
    assert_eq!(e.recnum(), 2);
    let m = e.measurement().unwrap();
    assert_eq!(m.kind(), Kind::Model);
    assert_eq!(m.path(), "/models/m.gguf");
    assert_eq!(m.size(), 16);
    assert_eq!(m.digest(), &digest(D2));
    assert_eq!(log.find(&digest(D1)).unwrap().recnum(), 1);
    assert_eq!(log.find(&digest(D3)).unwrap().recnum(), 3);
    assert!(log.find(&digest(P1)).is_none());
}

#[test]
fn round_trips() {
    let log = eventlog::parse(LOG.as_bytes()).unwrap();
    let text = log.to_json();
    assert_eq!(eventlog::parse(text.as_bytes()).unwrap(), log);
    assert_eq!(
        text, LOG,
        "the writer's output is the fixture, byte for byte"
    );
    assert_eq!(EventLog::from_value(&log.to_value()).unwrap(), log);
    assert_eq!(log.to_value(), value());
}

#[test]
fn a_log_built_through_the_api_is_the_fixture() {
    let mut log = EventLog::new(LogHeader::new(15, 3, 0, 41750, [0; 32]).unwrap());
    for (kind, path, size, d) in [
        (Kind::Binary, "/opt/llama/bin/llama-cli", 17, D1),
        (Kind::Model, "/models/m.gguf", 16, D2),
        (Kind::Config, "/etc/cerd/run.toml", 17, D3),
    ] {
        let m = Measurement::new(kind, path.into(), size, digest(d)).unwrap();
        let n = log.next_recnum();
        assert_eq!(log.push_measurement(m), n);
    }
    assert_eq!(log.to_json(), LOG);
}

#[test]
fn foreign_extends_are_recorded_and_replay_continues_from_them() {
    let mut log = EventLog::new(LogHeader::new(15, 3, 0, 41750, [0; 32]).unwrap());
    for (path, d) in [("/a", D1), ("/b", D2)] {
        log.push_measurement(Measurement::new(Kind::Other, path.into(), 1, digest(d)).unwrap());
    }
    assert_eq!(log.push_foreign(bytes32(FOREIGN_OBSERVED)), 3);
    log.push_measurement(Measurement::new(Kind::Other, "/c".into(), 1, digest(D3)).unwrap());
    assert_eq!(log.current(), bytes32(FOREIGN_FINAL));
    log.verify_replay(&bytes32(FOREIGN_FINAL)).unwrap();
    assert!(!log.fully_accounted());
    assert_eq!(log.bound_from(), 4, "only record 4 is bound by the PCR");
    let f = log.foreign_events().next().unwrap().foreign().unwrap();
    assert_eq!(f.expected, bytes32(P2));
    assert_eq!(f.observed, bytes32(FOREIGN_OBSERVED));

    let reparsed = eventlog::parse(log.to_json().as_bytes()).unwrap();
    assert_eq!(reparsed, log);

    // A foreign record whose `expected` is not the replay before it is refused.
    let mut v = log.to_value();
    v[3]["content"]["expected"] = json!(P1);
    assert_eq!(
        EventLog::from_value(&v).unwrap_err(),
        EventLogError::ForeignMismatch {
            recnum: 3,
            recorded: bytes32(P1),
            computed: bytes32(P2),
        }
    );
}

#[test]
fn a_non_zero_initial_value_is_kept_and_reported() {
    let mut v = value();
    v[0]["content"]["initial"] = json!(EXTEND_ZERO_AA);
    let log = EventLog::from_value(&v).unwrap();
    assert!(!log.fully_accounted());
    assert_eq!(log.header().initial(), &bytes32(EXTEND_ZERO_AA));
    assert_ne!(log.current(), bytes32(P3));
    assert_eq!(log.replay(15, [0; 32]), bytes32(P3));
}

// ---- negative twins: each fails exactly one check --------------------------------

#[test]
fn altered_digest_fails_replay() {
    let other = "1111111111111111111111111111111111111111111111111111111111111111";
    let log = edited(|r| {
        r[2]["digests"][0]["digest"] = json!(other);
        r[2]["content"]["digest"] = json!(format!("sha256:{other}"));
    })
    .unwrap();
    match log.verify_replay(&bytes32(P3)).unwrap_err() {
        EventLogError::ReplayMismatch {
            expected,
            replays_through: None,
            ..
        } => assert_eq!(expected, bytes32(P3)),
        e => panic!("{e:?}"),
    }
}

#[test]
fn extended_digest_differs_from_content_digest() {
    let other = "1111111111111111111111111111111111111111111111111111111111111111";
    assert_eq!(
        edited(|r| r[2]["digests"][0]["digest"] = json!(other)).unwrap_err(),
        EventLogError::DigestMismatch {
            recnum: 2,
            extended: digest(other),
            content: digest(D2),
        }
    );
}

#[test]
fn records_never_extended_are_named() {
    // The PCR holds P2: record 3 was logged but never extended.
    let log = eventlog::parse(LOG.as_bytes()).unwrap();
    let err = log.verify_replay(&bytes32(P2)).unwrap_err();
    assert_eq!(
        err,
        EventLogError::ReplayMismatch {
            expected: bytes32(P2),
            computed: bytes32(P3),
            replays_through: Some(2),
        }
    );
    assert!(
        err.to_string()
            .contains("record 3 and later were never extended"),
        "{err}"
    );
    // Nothing extended at all: the empty prefix matches.
    assert!(matches!(
        log.verify_replay(&bytes32(ZERO)),
        Err(EventLogError::ReplayMismatch {
            replays_through: Some(0),
            ..
        })
    ));
}

#[test]
fn reordered_records() {
    assert_eq!(
        edited(|r| r.swap(2, 3)).unwrap_err(),
        EventLogError::OutOfOrder {
            position: 2,
            found: 3
        }
    );
    // Reordered and renumbered: well-formed, but replays to something else.
    let log = edited(|r| {
        r.swap(2, 3);
        r[2]["recnum"] = json!(2);
        r[3]["recnum"] = json!(3);
    })
    .unwrap();
    assert!(matches!(
        log.verify_replay(&bytes32(P3)),
        Err(EventLogError::ReplayMismatch {
            replays_through: None,
            ..
        })
    ));
}

#[test]
fn gap_in_record_numbers() {
    assert_eq!(
        edited(|r| {
            r.remove(2);
        })
        .unwrap_err(),
        EventLogError::Gap {
            missing: 2,
            found: 3
        }
    );
    assert_eq!(
        edited(|r| r[0]["recnum"] = json!(1)).unwrap_err(),
        EventLogError::Gap {
            missing: 0,
            found: 1
        },
        "numbering starts at 0"
    );
}

#[test]
fn duplicate_record_number() {
    assert_eq!(
        edited(|r| {
            let dup = r[2].clone();
            r.insert(3, dup);
        })
        .unwrap_err(),
        EventLogError::DuplicateRecnum { recnum: 2 }
    );
}

#[test]
fn wrong_pcr_index() {
    assert_eq!(
        edited(|r| r[2]["pcr"] = json!(16)).unwrap_err(),
        EventLogError::WrongPcr {
            recnum: 2,
            expected: 15,
            found: 16
        }
    );
    assert_eq!(
        edited(|r| r[2]["pcr"] = json!(24)).unwrap_err(),
        EventLogError::PcrIndex {
            recnum: 2,
            found: 24
        }
    );
    assert_eq!(
        edited(|r| r[0]["pcr"] = json!(4_294_967_311_u64)).unwrap_err(),
        EventLogError::PcrIndex {
            recnum: 0,
            found: 4_294_967_311
        },
        "no truncation to u8 or u32"
    );
}

#[test]
fn trailing_garbage_and_other_json_faults() {
    for bad in [
        format!("{LOG} x"),
        format!("{LOG}[]"),
        LOG.replacen("\"pcr\":15,", "\"pcr\":15,\"pcr\":15,", 1),
        LOG[..LOG.len() - 3].to_owned(),
    ] {
        assert!(
            matches!(
                eventlog::parse(bad.as_bytes()),
                Err(EventLogError::Json(JsonError::Invalid { .. }))
            ),
            "{bad}"
        );
    }
    assert_eq!(
        eventlog::parse(b"{}").unwrap_err(),
        EventLogError::NotArray { found: "an object" }
    );
    assert_eq!(eventlog::parse(b"[]").unwrap_err(), EventLogError::Empty);
}

#[test]
fn unknown_hash_algorithm() {
    for alg in ["sha1", "sha384", "SHA256", "md5"] {
        assert_eq!(
            edited(|r| r[2]["digests"][0]["hashAlg"] = json!(alg)).unwrap_err(),
            EventLogError::UnsupportedHashAlg {
                recnum: 2,
                found: alg.into()
            }
        );
    }
    assert_eq!(
        edited(|r| r[0]["content"]["bank"] = json!("sha1")).unwrap_err(),
        EventLogError::UnsupportedHashAlg {
            recnum: 0,
            found: "sha1".into()
        }
    );
    assert_eq!(
        edited(|r| {
            let sha1 = json!({"hashAlg": "sha1", "digest": "00"});
            r[1]["digests"].as_array_mut().unwrap().insert(0, sha1);
        })
        .unwrap_err(),
        EventLogError::DigestCount {
            recnum: 1,
            found: 2
        }
    );
    assert_eq!(
        edited(|r| r[1]["digests"] = json!([])).unwrap_err(),
        EventLogError::DigestCount {
            recnum: 1,
            found: 0
        }
    );
}

#[test]
fn header_faults() {
    assert_eq!(
        edited(|r| {
            r.remove(0);
            for (i, rec) in r.iter_mut().enumerate() {
                rec["recnum"] = json!(i);
            }
        })
        .unwrap_err(),
        EventLogError::MissingHeader {
            found: "cerd".into()
        }
    );
    assert_eq!(
        edited(|r| {
            let mut h = r[0].clone();
            h["recnum"] = json!(2);
            r[2] = h;
        })
        .unwrap_err(),
        EventLogError::MisplacedHeader { recnum: 2 }
    );
    assert_eq!(
        edited(|r| r[0]["content"]["version"] = json!(2)).unwrap_err(),
        EventLogError::Version { found: 2 }
    );
    assert!(matches!(
        edited(|r| r[0]["content"]["resetCount"] = json!(4_294_967_296_u64)),
        Err(EventLogError::Schema { path, .. }) if path == "[0].content.resetCount"
    ));
    assert!(matches!(
        edited(|r| r[0]["digests"] = r[1]["digests"].clone()),
        Err(EventLogError::Schema { path, .. }) if path == "[0].digests"
    ));
}

#[test]
fn content_and_field_faults() {
    assert_eq!(
        edited(|r| r[3]["content_type"] = json!("ima_template")).unwrap_err(),
        EventLogError::UnknownContentType {
            recnum: 3,
            found: "ima_template".into()
        }
    );
    let schema_path = |edit: &dyn Fn(&mut Vec<Value>)| match edited(edit) {
        Err(EventLogError::Schema { path, .. }) => path,
        Err(EventLogError::Digest { path, .. }) => path,
        other => panic!("{other:?}"),
    };
    type Edit = Box<dyn Fn(&mut Vec<Value>)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "[2].content.kind",
            Box::new(|r| r[2]["content"]["kind"] = json!("weights")),
        ),
        (
            "[2].content.path",
            Box::new(|r| r[2]["content"]["path"] = json!("")),
        ),
        (
            "[2].content.size",
            Box::new(|r| r[2]["content"]["size"] = json!(9_007_199_254_740_992_u64)),
        ),
        (
            "[2].content.size",
            Box::new(|r| r[2]["content"]["size"] = json!(-1)),
        ),
        (
            "[2].content.size",
            Box::new(|r| r[2]["content"]["size"] = json!(1.5)),
        ),
        (
            "[2].content.digest",
            Box::new(|r| r[2]["content"]["digest"] = json!(D2)),
        ),
        (
            "[2].digests[0].digest",
            Box::new(|r| r[2]["digests"][0]["digest"] = json!(D2.to_uppercase())),
        ),
        ("[2].extra", Box::new(|r| r[2]["extra"] = json!(1))),
        (
            "[2].content.note",
            Box::new(|r| r[2]["content"]["note"] = json!("x")),
        ),
        ("[2].nv_index", Box::new(|r| r[2]["nv_index"] = json!(1))),
        (
            "[2].content",
            Box::new(|r| {
                r[2].as_object_mut().unwrap().remove("content");
            }),
        ),
        (
            "[2].digests",
            Box::new(|r| {
                r[2].as_object_mut().unwrap().remove("digests");
            }),
        ),
        ("[2].recnum", Box::new(|r| r[2]["recnum"] = json!("2"))),
        ("[2]", Box::new(|r| r[2] = json!([1]))),
    ];
    for (path, edit) in cases {
        assert_eq!(schema_path(edit.as_ref()), path);
    }
}

#[test]
fn error_messages_name_the_record_and_values() {
    let err = edited(|r| r[2]["pcr"] = json!(16)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "measurement log record 2 is for PCR 16, but the log is for PCR 15"
    );
    let err = edited(|r| r.swap(1, 2)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "measurement log is out of order: record 2 is at position 1"
    );
    let log = eventlog::parse(LOG.as_bytes()).unwrap();
    let msg = log.verify_replay(&[1; 32]).unwrap_err().to_string();
    assert!(msg.contains(P3) && msg.contains(&"01".repeat(32)), "{msg}");
    assert!(msg.contains("no prefix of it does"), "{msg}");
}

#[test]
fn content_accessors() {
    let log = eventlog::parse(LOG.as_bytes()).unwrap();
    for e in log.events() {
        assert!(matches!(e.content(), EventContent::Measurement(_)));
        assert!(e.foreign().is_none());
        assert_eq!(e.pcr(), 15);
    }
}

/// The committed fuzz seeds (`fuzz/corpus/eventlog/`) are named by outcome: every
/// `valid-*` parses and replays to its own value, every `bad-*` is refused.
#[test]
fn fuzz_seeds_have_the_outcome_their_name_says() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/eventlog");
    let mut seen = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = eventlog::parse(&std::fs::read(&path).unwrap());
        if name.starts_with("valid-") {
            let log = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
            log.verify_replay(&log.current()).unwrap();
            seen.0 += 1;
        } else if name.starts_with("bad-") {
            assert!(parsed.is_err(), "{name} parsed");
            seen.1 += 1;
        }
    }
    assert!(seen.0 >= 4 && seen.1 >= 20, "{seen:?}");
}
