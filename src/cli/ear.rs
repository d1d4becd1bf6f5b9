//! IETF RATS EAR (EAT Attestation Results, draft-ietf-rats-ear) for `cer verify
//! --format ear`: unsigned JSON claims, one result per bundle, with an AR4SI
//! trustworthiness vector (draft-ietf-rats-ar4si) derived from the checklist.

use cerd_attestation::verify::{CheckId, Status, Verdict};
use serde_json::{json, Map, Value};

use cerd_attestation::verify::Options;

/// AR4SI tiers: no claim, affirming, warning, contraindicated.
const NONE: i64 = 0;
const AFFIRMING: i64 = 2;
const UNRECOGNIZED: i64 = 33;
const CONTRAINDICATED: i64 = 96;
const UNSAFE_HARDWARE: i64 = 97;

/// The EAR claims set for one verdict.
pub fn claims(source: &str, v: &Verdict, options: &Options) -> Value {
    let status_of = |ids: &[CheckId]| -> Vec<Status> {
        v.checks
            .iter()
            .filter(|c| ids.contains(&c.check))
            .map(|c| c.status)
            .collect()
    };
    let claim = |ids: &[CheckId], on_fail: i64| -> i64 {
        let s = status_of(ids);
        if s.contains(&Status::Fail) {
            on_fail
        } else if s.contains(&Status::Pass) {
            AFFIRMING
        } else {
            NONE
        }
    };
    let sourced = claim(
        &[
            CheckId::Schema,
            CheckId::DigestFormat,
            CheckId::CertificateHash,
            CheckId::Content,
            CheckId::BatchInclusion,
        ],
        CONTRAINDICATED,
    );
    let executables = {
        let replay = claim(&[CheckId::LogReplay], CONTRAINDICATED);
        let allowed = claim(
            &[CheckId::PolicyBinary, CheckId::PolicyModels],
            UNRECOGNIZED,
        );
        replay.max(allowed)
    };
    let configuration = claim(&[CheckId::PolicyPcrs, CheckId::RecordAge], CONTRAINDICATED);
    // Genuine hardware: a TPM quote that checks out from a key shown to live in a
    // genuine TPM, or an SEV-SNP report that checks out. Valid evidence nobody vouches
    // for makes no hardware claim; any failure is unsafe hardware.
    let hardware = match claim(
        &[
            CheckId::Evidence,
            CheckId::QuoteSignature,
            CheckId::QualifyingData,
            CheckId::PcrDigest,
            CheckId::AkTrust,
            CheckId::EkChain,
            CheckId::SnpReport,
        ],
        UNSAFE_HARDWARE,
    ) {
        AFFIRMING
            if !status_of(&[CheckId::AkTrust, CheckId::SnpReport]).contains(&Status::Pass) =>
        {
            NONE
        }
        n => n,
    };
    let mut vector = Map::new();
    for (k, n) in [
        ("sourced-data", sourced),
        ("executables", executables),
        ("configuration", configuration),
        ("hardware", hardware),
    ] {
        if n != NONE {
            vector.insert(k.into(), n.into());
        }
    }
    let worst = vector
        .values()
        .filter_map(Value::as_i64)
        .max()
        .unwrap_or(NONE);
    let status = if !v.valid || worst >= CONTRAINDICATED {
        "contraindicated"
    } else if worst >= 32 {
        "warning"
    } else if worst == NONE {
        "none"
    } else {
        "affirming"
    };
    let mut submod: Map<String, Value> = Map::new();
    let base = json!({
        "ear.status": status,
        "ear.trustworthiness-vector": vector,
        "ear.appraisal-policy-id": if options.policy.is_some() { "cerd:policy" } else { "cerd:integrity-only" },
        "cerd.source": source,
        "cerd.reasons": v.reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
    });
    if let Value::Object(m) = base {
        submod.extend(m);
    }
    if let Some(h) = v.certificate_hash {
        submod.insert("cerd.certificate-hash".into(), h.to_string().into());
    }
    if !v.warnings.is_empty() {
        submod.insert("cerd.warnings".into(), v.warnings.clone().into());
    }
    json!({
        "eat_profile": "tag:github.com,2023:veraison/ear",
        "iat": options.at.unix_timestamp(),
        "ear.verifier-id": {
            "developer": "cerd",
            "build": concat!("cer ", env!("CARGO_PKG_VERSION")),
        },
        "submods": { "cer": submod },
    })
}
