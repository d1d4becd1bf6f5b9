//! The batcher: one task that takes durable records in `seq` order, cuts a batch when
//! the oldest has waited the window or the batch is full, builds the Merkle tree and
//! the next chained header, has the TPM quote the header hash, stores the batch (the
//! chain's last header lives in SQLite, so it survives restarts), and then wakes the
//! clients waiting for those records. One quote in flight at a time (the chain is
//! sequential); records keep arriving while the TPM works and form the next batch.
//! While the TPM fails, the batch is retried with exponential backoff; records are
//! still sealed and acknowledged meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cerd_attestation::batch::BatchHeader;
use cerd_attestation::merkle::{self, InclusionProof, Tree};
use cerd_attestation::Sha256Digest;
use tokio::sync::{mpsc, oneshot, watch};

use super::quoter::Quoter;
use super::store::{self, Durable, NewBatch, Writer};
use super::Shared;

/// A quoted, stored batch, as the waiters of its records need it.
#[derive(Debug)]
pub struct BatchDone {
    pub header: BatchHeader,
    pub tree: Tree,
    pub first_seq: i64,
    /// `meta.cerd.evidence.tpm`, JSON, unless the daemon runs without a TPM.
    pub tpm_json: Option<String>,
    /// `meta.cerd.evidence.snp`, JSON, when the daemon requests SEV-SNP reports.
    pub snp_json: Option<String>,
}

impl BatchDone {
    /// The attested bundle of record `seq` (whose sealed JSON is `body`).
    pub fn bundle(&self, body: &str, seq: i64) -> anyhow::Result<String> {
        let index = u64::try_from(seq.saturating_sub(self.first_seq))?;
        let proof = self.tree.proof(index)?;
        splice(
            body,
            &self.header,
            &proof,
            self.tpm_json.as_deref(),
            self.snp_json.as_deref(),
        )
    }
}

/// The sealed record `body` (compact JSON object, no `meta`) with
/// `meta.cerd.evidence` added as text, without re-encoding the record or the shared
/// TPM and SNP evidence (`tpm_json`, `snp_json`; at least one) per record. The result equals what
/// [`crate::batch::attach`] builds (a unit test checks this).
pub fn splice(
    body: &str,
    header: &BatchHeader,
    proof: &InclusionProof,
    tpm_json: Option<&str>,
    snp_json: Option<&str>,
) -> anyhow::Result<String> {
    let Some(open) = body.strip_suffix('}') else {
        anyhow::bail!("a stored record is not a JSON object (a bug in cerd)");
    };
    if tpm_json.is_none() && snp_json.is_none() {
        anyhow::bail!("a batch without hardware evidence (a bug in cerd)");
    }
    let header = serde_json::to_string(header)?;
    let proof = serde_json::to_string(proof)?;
    let mut out = String::with_capacity(
        body.len()
            .saturating_add(tpm_json.map_or(0, str::len))
            .saturating_add(snp_json.map_or(0, str::len))
            .saturating_add(header.len())
            .saturating_add(proof.len())
            .saturating_add(96),
    );
    out.push_str(open);
    out.push_str(",\"meta\":{\"cerd\":{\"evidence\":{\"version\":1,\"batch\":{\"header\":");
    out.push_str(&header);
    out.push_str(",\"proof\":");
    out.push_str(&proof);
    out.push('}');
    if let Some(tpm) = tpm_json {
        out.push_str(",\"tpm\":");
        out.push_str(tpm);
    }
    if let Some(snp) = snp_json {
        out.push_str(",\"snp\":");
        out.push_str(snp);
    }
    out.push_str("}}}}");
    Ok(out)
}

/// Clients waiting for their record's batch (`?wait=attested`).
pub type Waiters = Mutex<HashMap<Sha256Digest, Vec<oneshot::Sender<Arc<BatchDone>>>>>;

/// Runs until shutdown: then the open batch is quoted (if the TPM answers within
/// `drain`) and the task returns.
pub async fn run(
    shared: Arc<Shared>,
    mut durable: mpsc::UnboundedReceiver<Vec<Durable>>,
    recovered: Vec<Durable>,
    mut last: Option<BatchHeader>,
    quoter: Quoter,
    writer: Writer,
    mut shutdown: watch::Receiver<bool>,
) {
    let window = shared.config.window;
    let max = shared.config.max_records;
    let mut pending: VecDeque<Durable> = recovered.into_iter().collect();
    let mut stopping = *shutdown.borrow();
    loop {
        // Wait for a first record.
        if pending.is_empty() {
            if stopping {
                // Take whatever the writer acknowledged before the stop.
                while let Ok(ds) = durable.try_recv() {
                    pending.extend(ds);
                }
                if pending.is_empty() {
                    return;
                }
            } else {
                tokio::select! {
                    d = durable.recv() => match d {
                        Some(ds) => pending.extend(ds),
                        None => stopping = true,
                    },
                    _ = shutdown.changed() => stopping = true,
                }
                continue;
            }
        }
        // Fill until the window of the oldest closes or the batch is full.
        let deadline = pending.front().map_or_else(Instant::now, |p| {
            p.received.checked_add(window).unwrap_or(p.received)
        });
        while pending.len() < max && !stopping {
            tokio::select! {
                biased;
                d = durable.recv() => match d {
                    Some(ds) => pending.extend(ds),
                    None => stopping = true,
                },
                _ = shutdown.changed() => stopping = true,
                _ = tokio::time::sleep_until(deadline.into()) => break,
            }
        }
        while pending.len() < max {
            match durable.try_recv() {
                Ok(ds) => pending.extend(ds),
                Err(_) => break,
            }
        }
        let n = pending.len().min(max);
        let cut: Vec<Durable> = pending.drain(..n).collect();
        match attest(&shared, &cut, last, &quoter, &writer, &mut shutdown).await {
            Some(header) => last = Some(header),
            None => {
                // Shutting down while the TPM does not answer: the records stay
                // durable and unattested; the next start attests them.
                return;
            }
        }
    }
}

/// Quotes and stores one batch, retrying while the TPM fails. `None` when the daemon
/// stops before the batch could be quoted.
async fn attest(
    shared: &Shared,
    cut: &[Durable],
    last: Option<BatchHeader>,
    quoter: &Quoter,
    writer: &Writer,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<BatchHeader> {
    let leaves: Vec<Sha256Digest> = cut.iter().map(|d| d.hash).collect();
    let (first_seq, last_seq) = (cut.first()?.seq, cut.last()?.seq);
    let built = merkle::build(&leaves)
        .map_err(anyhow::Error::from)
        .and_then(|tree| {
            let header = match &last {
                None => BatchHeader::genesis(tree.size(), tree.root())?,
                Some(prev) => prev.next(tree.size(), tree.root())?,
            };
            Ok((tree, header))
        });
    let (tree, header) = match built {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cerd: cannot build batch: {e:#} (a bug in cerd)");
            return None;
        }
    };
    let mut backoff = Duration::from_millis(50);
    let mut stop_deadline: Option<Instant> = None;
    let quoted = loop {
        match quoter.quote(header.hash().0).await {
            Ok(q) => break q,
            Err(e) => {
                shared.metrics.tpm_errors.fetch_add(1, Ordering::Relaxed);
                let msg = format!("{e:#}");
                eprintln!(
                    "cerd: quote of batch {} failed: {msg}; retrying in {backoff:?}",
                    header.sequence
                );
                shared.set_evidence(Err(msg));
                if *shutdown.borrow() {
                    let d = *stop_deadline.get_or_insert_with(|| {
                        Instant::now()
                            .checked_add(Duration::from_secs(2))
                            .unwrap_or_else(Instant::now)
                    });
                    if Instant::now() >= d {
                        return None;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = backoff.saturating_mul(2).min(shared.config.retry_max);
            }
        }
    };
    shared.set_evidence(Ok(()));
    if let Some(state) = &quoted.log_state {
        shared.set_replay(state.clone());
    }
    shared
        .metrics
        .quote_seconds
        .observe(quoted.latency.as_secs_f64());
    let quoted_us = store::now_us();
    let row = NewBatch {
        header,
        first_seq,
        last_seq,
        tpm: quoted.tpm_json.clone(),
        snp: quoted.snp_json.clone(),
        quoted_us,
    };
    let mut backoff = Duration::from_millis(50);
    while let Err(e) = writer.batch(row.clone()).await {
        eprintln!(
            "cerd: cannot store batch {}: {e}; retrying",
            header.sequence
        );
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2).min(Duration::from_secs(2));
    }
    let n = cut.len() as u64;
    shared.metrics.batches.fetch_add(1, Ordering::Relaxed);
    shared.metrics.attested.fetch_add(n, Ordering::Relaxed);
    shared.metrics.batch_size.observe(n as f64);
    shared
        .metrics
        .queue_depth
        .fetch_sub(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
    shared.set_quoted(header.sequence);
    let done = Arc::new(BatchDone {
        header,
        tree,
        first_seq,
        tpm_json: quoted.tpm_json,
        snp_json: quoted.snp_json,
    });
    {
        let mut waiters = shared.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if !waiters.is_empty() {
            for d in cut {
                if let Some(list) = waiters.remove(&d.hash) {
                    for w in list {
                        let _ = w.send(done.clone());
                    }
                }
            }
        }
    }
    shared.remember(done);
    Some(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cerd_attestation::evidence::{AkEvidence, EkEvidence, PcrValues, TpmEvidence};
    use serde_json::Value;

    /// The spliced bundle is exactly what building the evidence with serde gives.
    #[test]
    fn splice_equals_attach() {
        let leaves: Vec<Sha256Digest> = (0u8..5).map(|i| Sha256Digest([i; 32])).collect();
        let tree = merkle::build(&leaves).unwrap();
        let header = BatchHeader::genesis(tree.size(), tree.root()).unwrap();
        let tpm = TpmEvidence::new(
            vec![1, 2, 3],
            vec![4, 5],
            PcrValues::sha256(&[(15, [9; 32])]),
            AkEvidence::new(vec![7; 10], &[0, 11, 3], "created", vec![vec![8; 4]]),
            EkEvidence::new(vec![(0x01c0_0002, vec![6; 5])], Vec::new()),
            None,
            Some(serde_json::json!({"vendor": "x"})),
        );
        let tpm_json = serde_json::to_string(&tpm).unwrap();
        let body = r#"{"a":1,"certificateHash":"sha256:00","snapshot":{"b":[1,2]}}"#;
        for i in 0..5u64 {
            let proof = tree.proof(i).unwrap();
            let spliced: Value = serde_json::from_str(
                &splice(body, &header, &proof, Some(&tpm_json), None).unwrap(),
            )
            .unwrap();
            let mut expected: Value = serde_json::from_str(body).unwrap();
            crate::batch::attach(
                &mut expected,
                &crate::batch::meta(header, proof, Some(tpm.clone())),
            )
            .unwrap();
            assert_eq!(spliced, expected);
        }
        assert!(splice(
            "[1]",
            &header,
            &tree.proof(0).unwrap(),
            Some(&tpm_json),
            None
        )
        .is_err());
        assert!(splice(body, &header, &tree.proof(0).unwrap(), None, None).is_err());
    }

    /// Without a TPM the evidence has the SNP report and no `tpm` member.
    #[test]
    fn splice_snp_only() {
        let leaves: Vec<Sha256Digest> = (0u8..3).map(|i| Sha256Digest([i; 32])).collect();
        let tree = merkle::build(&leaves).unwrap();
        let header = BatchHeader::genesis(tree.size(), tree.root()).unwrap();
        let body = r#"{"a":1}"#;
        let spliced = splice(
            body,
            &header,
            &tree.proof(2).unwrap(),
            None,
            Some(r#"{"r":2}"#),
        );
        let v: Value = serde_json::from_str(&spliced.unwrap()).unwrap();
        let ev = &v["meta"]["cerd"]["evidence"];
        assert_eq!(ev["snp"], serde_json::json!({"r": 2}));
        assert!(ev.get("tpm").is_none(), "{ev}");
        assert_eq!(ev["version"], 1);
        assert_eq!(ev["batch"]["proof"]["leafIndex"], 2, "{ev}");
    }
}
