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
//! The checks live in `fuzz/checks.rs`, shared with the fuzz targets and included here
//! by path: this test depends on neither libFuzzer nor the fuzz crate.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cerd_attestation::batch::BatchHeader;
use cerd_attestation::chain::Certificate;
use cerd_attestation::eventlog;
use cerd_attestation::merkle::{self, InclusionProof};
use cerd_attestation::snp::{AttestationReport, CertTable};
use cerd_attestation::tpm::{AttestationKey, TpmsAttest, TpmtSignature};
use cerd_attestation::verify;
use cerd_attestation::{json, Sha256Digest};

#[path = "../../fuzz/checks.rs"]
mod checks;
use checks::*;

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

#[test]
fn tpm_attest_corpus() {
    replay("tpm_attest", check_tpm_attest);
}

#[test]
fn tpm_public_corpus() {
    replay("tpm_public", check_tpm_public);
}

#[test]
fn tpm_signature_corpus() {
    replay("tpm_signature", check_tpm_signature);
}

#[test]
fn certificate_corpus() {
    replay("certificate", check_certificate);
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
    outcomes("certificate", |d| Certificate::from_der(d).is_ok());
    outcomes("tpm_attest", |d| TpmsAttest::parse(d).is_ok());
    outcomes("tpm_public", |d| AttestationKey::detect(d).is_ok());
    outcomes("tpm_signature", |d| TpmtSignature::parse(d).is_ok());
    outcomes("snp_report", |d| AttestationReport::parse(d).is_ok());
    outcomes("snp_cert_table", |d| CertTable::parse(d).is_ok());
}

#[test]
fn snp_report_corpus() {
    replay("snp_report", check_snp_report);
}

#[test]
fn snp_cert_table_corpus() {
    replay("snp_cert_table", check_snp_cert_table);
}
