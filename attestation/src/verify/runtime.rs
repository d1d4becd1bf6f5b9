//! Checks of what ran, against the measurement log and the user's policy: log replay,
//! allowed binaries and models, required PCR values, record age.

use time::OffsetDateTime;

use super::{Check, CheckId, Reason};
use crate::evidence::Evidence;
use crate::policy::Policy;
use crate::record::Bundle;

/// The measurement log replays to the quoted value of its PCR, and every file the
/// record's runtime names was measured in it, after any foreign extend.
pub(super) fn log_check(bundle: &Bundle, evidence: Option<&Evidence>) -> Check {
    let Some(tpm) = evidence.and_then(|e| e.tpm.as_ref()) else {
        return Check::skipped(
            CheckId::LogReplay,
            Reason::EvidenceAbsent,
            "no TPM evidence",
        );
    };
    let Some(log) = &tpm.log else {
        return Check::skipped(
            CheckId::LogReplay,
            Reason::NotEvaluated,
            "the evidence carries no measurement log",
        );
    };
    let pcr = log.pcr();
    let Some(quoted) = tpm
        .pcrs
        .values
        .get(&pcr.to_string())
        .and_then(|v| hex::decode(v).ok())
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
    else {
        return Check::fail(
            CheckId::LogReplay,
            Reason::LogReplayMismatch,
            format!("the quote does not cover the log's PCR {pcr}"),
        );
    };
    if let Err(e) = log.verify_replay(&quoted) {
        return Check::fail(CheckId::LogReplay, Reason::LogReplayMismatch, e.to_string());
    }
    let bound_from = log.bound_from();
    let files = bundle
        .snapshot
        .runtime
        .iter()
        .flat_map(|rt| rt.binary.iter().chain(rt.model_files.iter()));
    let mut count = 0usize;
    for file in files {
        match log.find(&file.digest) {
            None => {
                return Check::fail(
                    CheckId::LogReplay,
                    Reason::RuntimeNotMeasured,
                    format!("{} ({}) is not in the measurement log", file.path, file.digest),
                )
            }
            Some(event) if event.recnum() < bound_from => {
                return Check::fail(
                    CheckId::LogReplay,
                    Reason::RuntimeNotMeasured,
                    format!(
                        "{} was measured (record {}) before a foreign change of PCR {pcr} (record {}), so the PCR no longer vouches for it",
                        file.path,
                        event.recnum(),
                        bound_from.saturating_sub(1)
                    ),
                )
            }
            Some(_) => count = count.saturating_add(1),
        }
    }
    Check::pass(
        CheckId::LogReplay,
        format!(
            "{} event(s) replay to PCR {pcr} as quoted; the record's {count} runtime file(s) are measured in it",
            log.events().len()
        ),
    )
}

/// The binary and model allow-lists.
pub(super) fn policy_files(bundle: &Bundle, policy: Option<&Policy>) -> (Check, Check) {
    let Some(policy) = policy else {
        return (
            Check::skipped(CheckId::PolicyBinary, Reason::NoPolicy, "no policy given"),
            Check::skipped(CheckId::PolicyModels, Reason::NoPolicy, "no policy given"),
        );
    };
    let runtime = bundle.snapshot.runtime.as_ref();
    let binary = if policy.binaries.is_empty() {
        Check::skipped(
            CheckId::PolicyBinary,
            Reason::NoPolicy,
            "the policy names no binaries",
        )
    } else {
        match runtime.and_then(|rt| rt.binary.as_ref()) {
            None => Check::fail(
                CheckId::PolicyBinary,
                Reason::PolicyBinaryNotAllowed,
                "the record names no inference binary, and the policy requires one",
            ),
            Some(f) => match policy.binary_named(&f.digest) {
                Some(name) => Check::pass(
                    CheckId::PolicyBinary,
                    format!("{} is the allowed binary {name:?}", f.path),
                ),
                None => Check::fail(
                    CheckId::PolicyBinary,
                    Reason::PolicyBinaryNotAllowed,
                    format!("{} ({}) is not an allowed binary", f.path, f.digest),
                ),
            },
        }
    };
    let models = if policy.models.is_empty() {
        Check::skipped(
            CheckId::PolicyModels,
            Reason::NoPolicy,
            "the policy names no models",
        )
    } else {
        let files = runtime
            .map(|rt| rt.model_files.as_slice())
            .unwrap_or_default();
        if files.is_empty() {
            Check::fail(
                CheckId::PolicyModels,
                Reason::PolicyModelNotAllowed,
                "the record names no model files, and the policy requires allowed ones",
            )
        } else if let Some(bad) = files
            .iter()
            .find(|f| policy.model_named(&f.digest).is_none())
        {
            Check::fail(
                CheckId::PolicyModels,
                Reason::PolicyModelNotAllowed,
                format!("{} ({}) is not an allowed model", bad.path, bad.digest),
            )
        } else {
            let names: Vec<&str> = files
                .iter()
                .filter_map(|f| policy.model_named(&f.digest))
                .collect();
            Check::pass(
                CheckId::PolicyModels,
                format!("allowed model file(s): {}", names.join(", ")),
            )
        }
    };
    (binary, models)
}

/// Required PCR values, from the quoted PCRs.
pub(super) fn policy_pcrs(evidence: Option<&Evidence>, policy: Option<&Policy>) -> Check {
    let Some(policy) = policy.filter(|p| !p.pcrs.is_empty()) else {
        return Check::skipped(
            CheckId::PolicyPcrs,
            Reason::NoPolicy,
            "the policy requires no PCR values",
        );
    };
    let Some(tpm) = evidence.and_then(|e| e.tpm.as_ref()) else {
        return Check::fail(
            CheckId::PolicyPcrs,
            Reason::PolicyPcrMismatch,
            "the policy requires PCR values but the record carries no TPM quote",
        );
    };
    for (index, want) in &policy.pcrs {
        let got = tpm.pcrs.values.get(&index.to_string());
        if tpm.pcrs.bank != "sha256" || got.map(String::as_str) != Some(hex::encode(want).as_str())
        {
            return Check::fail(
                CheckId::PolicyPcrs,
                Reason::PolicyPcrMismatch,
                format!(
                    "PCR {index}: the policy requires {}, the quote has {}",
                    hex::encode(want),
                    got.map_or("nothing", String::as_str)
                ),
            );
        }
    }
    Check::pass(
        CheckId::PolicyPcrs,
        format!("{} required PCR value(s) match", policy.pcrs.len()),
    )
}

/// The record is not older than the policy allows, nor sealed in the future.
#[allow(clippy::arithmetic_side_effects)] // OffsetDateTime differences fit an i64 of seconds
pub(super) fn record_age(bundle: &Bundle, policy: Option<&Policy>, at: OffsetDateTime) -> Check {
    let created = bundle.created_at.datetime();
    // Allow five minutes of clock skew between the sealing host and the verifier.
    if created > at + time::Duration::minutes(5) {
        return Check::fail(
            CheckId::RecordAge,
            Reason::RecordFromFuture,
            format!(
                "sealed at {}, after the verification time {at}",
                bundle.created_at
            ),
        );
    }
    let Some(max) = policy.and_then(|p| p.max_record_age) else {
        return Check::skipped(
            CheckId::RecordAge,
            Reason::NoPolicy,
            "the policy sets no maximum age",
        );
    };
    let age = at - created;
    let max = time::Duration::try_from(max).unwrap_or(time::Duration::MAX);
    if age > max {
        Check::fail(
            CheckId::RecordAge,
            Reason::RecordTooOld,
            format!(
                "sealed {} ago, more than the policy's {}",
                whole(age),
                whole(max)
            ),
        )
    } else {
        Check::pass(CheckId::RecordAge, format!("sealed {} ago", whole(age)))
    }
}

fn whole(d: time::Duration) -> String {
    let s = d.whole_seconds();
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h", s / 3600)
    } else {
        format!("{s}s")
    }
}
