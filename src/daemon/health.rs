//! `/v1/health`: TPM and SNP state, last quote age, queue depth, measurement-log state.

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::{json, Value};

use super::metrics::Metrics;

/// What the daemon knows about its evidence sources right now.
#[derive(Debug)]
pub struct Health {
    /// The TPM's TCTI; `None` when the daemon runs without a TPM.
    pub tcti: Option<String>,
    /// The SEV-SNP report source, when configured (requested with every quote, so it
    /// shares the quote's outcome).
    pub snp: Option<String>,
    /// `None` until the first hardware operation (TPM measurement or quote, SNP
    /// report); then the last outcome.
    pub evidence: Option<Result<(), String>>,
    pub last_quote: Option<Instant>,
    pub last_batch: Option<u64>,
    /// The measurement log as the last profile measurement reconciled it with the PCR
    /// (`None` until measured). Stays until the next measurement (SIGHUP, restart).
    pub log: Option<Result<(), String>>,
    /// Whether the last quote's PCR is what the log replays to.
    pub replay: Option<Result<(), String>>,
    pub log_path: Option<String>,
    pub profile: Value,
}

impl Health {
    pub fn new(tcti: Option<String>, snp: Option<String>) -> Self {
        Self {
            tcti,
            snp,
            evidence: None,
            last_quote: None,
            last_batch: None,
            log: None,
            replay: None,
            log_path: None,
            profile: Value::Null,
        }
    }

    /// Why the daemon is degraded (empty when healthy).
    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(Err(e)) = &self.evidence {
            let what = if self.tcti.is_some() { "tpm" } else { "snp" };
            out.push(format!("{what}: {e}"));
        }
        match &self.log {
            None => out.push("measurement log: the runtime profile is not measured yet".into()),
            Some(Err(e)) => out.push(format!("measurement log: {e}")),
            Some(Ok(())) => {}
        }
        if let Some(Err(e)) = &self.replay {
            out.push(format!("measurement log: {e}"));
        }
        out
    }

    /// The JSON body, and whether the daemon is healthy.
    pub fn report(&self, metrics: &Metrics) -> (bool, Value) {
        let reasons = self.reasons();
        let ok = reasons.is_empty();
        let state = match &self.evidence {
            None => "unknown",
            Some(Ok(())) => "ok",
            Some(Err(_)) => "unavailable",
        };
        let error = self.evidence.as_ref().and_then(|r| r.as_ref().err());
        let last_quote_age_ms = self
            .last_quote
            .map(|t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX));
        let log_error = match (&self.log, &self.replay) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e.clone()),
            _ => None,
        };
        let log_state = match (&self.log, &log_error) {
            _ if self.tcti.is_none() => {
                "none (no TPM: the profile is hashed, not measured into a PCR)"
            }
            (None, _) => "not measured",
            (_, Some(_)) => "mismatch",
            _ => "ok",
        };
        let body = json!({
            "status": if ok { "ok" } else { "degraded" },
            "reasons": reasons,
            "tpm": match &self.tcti {
                None => json!({ "state": "not configured" }),
                Some(tcti) => json!({
                    "state": state,
                    "tcti": tcti,
                    "error": error,
                    "lastQuoteAgeMs": last_quote_age_ms,
                    "lastBatch": self.last_batch,
                }),
            },
            "snp": match &self.snp {
                None => json!({ "state": "not configured" }),
                Some(source) if self.tcti.is_none() => json!({
                    "state": state,
                    "source": source,
                    "error": error,
                    "lastReportAgeMs": last_quote_age_ms,
                    "lastBatch": self.last_batch,
                }),
                Some(source) => json!({ "state": state, "source": source }),
            },
            "queueDepth": metrics.queue_depth.load(Ordering::Relaxed),
            "measurementLog": {
                "state": log_state,
                "reason": log_error,
                "path": self.log_path,
                "profile": self.profile,
            },
        });
        (ok, body)
    }
}
