#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! Replays the committed fuzz seed corpora (`fuzz/corpus/<target>/`) through the same
//! checks as the cargo-fuzz targets in `fuzz/fuzz_targets/`, so every seed (and every
//! crash input added after a fix) is checked by an ordinary `cargo test`.
//!
//! The checks are duplicated from the fuzz targets on purpose: this test must not
//! depend on libFuzzer or on the fuzz crate. Keep the two in step.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cerd_attestation::batch::BatchHeader;
use cerd_attestation::eventlog::{self, EventLog};
use cerd_attestation::merkle::{self, InclusionProof};
use cerd_attestation::verify::{self, Status};
use cerd_attestation::{canonical, json, Sha256Digest};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Runs `check` on every file of `fuzz/corpus/<target>/`, reporting every file that
/// panics (not only the first). Fails when the directory is missing or empty.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let data = fs::read(path).unwrap();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{target}:\n{}", failures.join("\n"));
    files.len()
}

/// `fuzz_targets/bundle.rs`.
fn check_bundle(data: &[u8]) {
    let Ok(verdict) = verify::verify_bytes(data) else {
        return;
    };
    assert_eq!(verdict.valid, verdict.reasons.is_empty(), "{verdict:?}");
    let failed: Vec<_> = verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter_map(|c| c.reason)
        .collect();
    assert_eq!(failed, verdict.reasons, "{verdict:?}");
    if verdict.valid {
        let bundle = verdict
            .bundle
            .as_ref()
            .expect("valid verdict without bundle");
        assert_eq!(verdict.certificate_hash, Some(bundle.certificate_hash));
    }
}

/// `fuzz_targets/json.rs`.
fn check_json(data: &[u8]) {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let canon = canonical::to_bytes(&value).expect("parsed value has no canonical form");
    let again = json::parse(&canon).expect("canonical bytes do not parse");
    let canon_again = canonical::to_bytes(&again).expect("reparsed value has no canonical form");
    assert_eq!(canon, canon_again, "canonical form is not a fixed point");
}

/// `fuzz_targets/digest.rs`.
fn check_digest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(digest) = Sha256Digest::parse(text) {
        assert_eq!(digest.to_string(), text);
        assert_eq!(Sha256Digest::parse_hex(&digest.to_hex()), Ok(digest));
    }
    if let Ok(digest) = Sha256Digest::parse_hex(text) {
        assert_eq!(digest.to_hex(), text);
    }
}

/// `fuzz_targets/merkle_proof.rs`: record (32 bytes) || root (32 bytes) || proof JSON.
fn check_merkle_proof(data: &[u8]) {
    let (record, root, text) = match (data.get(..32), data.get(32..64), data.get(64..)) {
        (Some(r), Some(t), Some(rest)) => (
            Sha256Digest(r.try_into().unwrap()),
            Sha256Digest(t.try_into().unwrap()),
            rest,
        ),
        _ => (Sha256Digest::ZERO, Sha256Digest::ZERO, data),
    };
    let Ok(proof) = serde_json::from_slice::<InclusionProof>(text) else {
        return;
    };
    let json = serde_json::to_vec(&proof).expect("serialize proof");
    let back: InclusionProof = serde_json::from_slice(&json).expect("reparse proof");
    assert_eq!(back, proof);

    let computed = merkle::compute_root(&record, &proof);
    match merkle::verify_inclusion(&record, &proof, &root) {
        Ok(()) => {
            assert_eq!(computed, Ok(root));
            let mut other = record;
            other.0[0] ^= 1;
            assert!(merkle::verify_inclusion(&other, &proof, &root).is_err());
        }
        Err(_) => assert_ne!(computed, Ok(root)),
    }
}

/// `fuzz_targets/batch_header.rs`.
fn check_batch_header(data: &[u8]) {
    let Ok(header) = BatchHeader::decode(data) else {
        return;
    };
    assert_eq!(header.encode(), data);
    assert_eq!(header.hash(), Sha256Digest::of(data));
    assert_eq!(header.validate(), Ok(()));
    let json = serde_json::to_vec(&header).expect("serialize header");
    let back: BatchHeader = serde_json::from_slice(&json).expect("reparse header");
    assert_eq!(back, header);
}

/// `fuzz_targets/eventlog.rs`.
fn check_eventlog(data: &[u8]) {
    let Ok(log) = eventlog::parse(data) else {
        return;
    };
    let current = log.current();
    assert_eq!(log.verify_replay(&current), Ok(()));
    let mut other = current;
    other[0] ^= 1;
    assert!(log.verify_replay(&other).is_err());
    assert_eq!(log.replay(log.pcr(), *log.header().initial()), current);
    let text = log.to_json();
    let back = eventlog::parse(text.as_bytes()).expect("reparse to_json");
    assert_eq!(back, log);
    assert_eq!(back.to_json(), text);
    let from_value = EventLog::from_value(&log.to_value()).expect("reparse to_value");
    assert_eq!(from_value, log);
    for e in log.events() {
        assert_eq!(e.pcr(), log.pcr());
        if let Some(m) = e.measurement() {
            let found = log.find(m.digest()).expect("a measured digest is found");
            assert!(found.recnum() >= e.recnum());
        }
    }
    assert!(log.bound_from() >= 1 && log.bound_from() <= log.next_recnum());
}

#[test]
fn eventlog_corpus() {
    replay("eventlog", check_eventlog);
}

#[test]
fn bundle_corpus() {
    replay("bundle", check_bundle);
}

#[test]
fn json_corpus() {
    replay("json", check_json);
}

#[test]
fn digest_corpus() {
    replay("digest", check_digest);
}

#[test]
fn merkle_proof_corpus() {
    replay("merkle_proof", check_merkle_proof);
}

#[test]
fn batch_header_corpus() {
    replay("batch_header", check_batch_header);
}

/// The seeds are meant to reach the interesting outcomes, not only errors: a corpus
/// that silently lost its valid inputs would still replay without panics.
#[test]
fn corpora_reach_valid_and_invalid_outcomes() {
    let outcomes = |target: &str, ok: fn(&[u8]) -> bool| {
        let mut seen = (0, 0);
        for entry in fs::read_dir(corpus_dir(target)).unwrap() {
            let data = fs::read(entry.unwrap().path()).unwrap();
            if ok(&data) {
                seen.0 += 1;
            } else {
                seen.1 += 1;
            }
        }
        assert!(seen.0 > 0 && seen.1 > 0, "{target}: {seen:?} (ok, not ok)");
    };
    outcomes("bundle", |d| {
        verify::verify_bytes(d).map(|v| v.valid).unwrap_or(false)
    });
    outcomes("json", |d| json::parse(d).is_ok());
    outcomes("digest", |d| {
        std::str::from_utf8(d).is_ok_and(|t| Sha256Digest::parse(t).is_ok())
    });
    outcomes("merkle_proof", |d| {
        d.len() > 64
            && serde_json::from_slice::<InclusionProof>(&d[64..]).is_ok_and(|p| {
                let record = Sha256Digest(d[..32].try_into().unwrap());
                let root = Sha256Digest(d[32..64].try_into().unwrap());
                merkle::verify_inclusion(&record, &p, &root).is_ok()
            })
    });
    outcomes("batch_header", |d| BatchHeader::decode(d).is_ok());
    outcomes("eventlog", |d| eventlog::parse(d).is_ok());
}
