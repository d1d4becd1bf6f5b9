//! The bundle's `SEV-SNP report` check: the SNP evidence under `meta.cerd.evidence.snp`
//! passes the SNP checklist ([`crate::snp::verify_report`]) with REPORT_DATA bound to
//! this batch: `[0..32]` = SHA-256 of the batch header, `[32..64]` = SHA-256 of the TPM
//! AK's TPM2B_PUBLIC when the batch carries TPM evidence too, zeros otherwise.
//!
//! Without a policy `[snp]` table the table's defaults apply (debugging and migration
//! agents forbidden). A report that is the batch's only hardware evidence (no TPM
//! quote) fails under a policy that pins no launch measurement, ID key or author key
//! (`SNP_GUEST_NOT_PINNED`): AMD's chain shows a genuine guest, not which one.
//! Simulated evidence (`simulated: true`) passes only when the policy's `[snp]
//! trusted_test_arks` names its test ARK; a simulated report whose chain ends at a real
//! AMD ARK is refused (the flag is not a thing a real guest says).

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::{Check, CheckId, Reason, Trust};
use crate::chain::Certificate;
use crate::evidence::{Evidence, SnpEvidence};
use crate::policy::Policy;
use crate::snp::{verify_report, SnpCerts, SnpOptions, SnpPolicy, SnpReason};
use crate::verify::Status;

/// The REPORT_DATA a batch's SNP report must carry.
pub fn expected_report_data(header_hash: &[u8; 32], ak_tpm2b_public: Option<&[u8]>) -> [u8; 64] {
    let mut out = [0u8; 64];
    let (head, tail) = out.split_at_mut(32);
    head.copy_from_slice(header_hash);
    if let Some(ak) = ak_tpm2b_public {
        tail.copy_from_slice(&Sha256::digest(ak));
    }
    out
}

/// The `SEV-SNP report` check of a bundle. Every record of a batch carries the same
/// report: the result is remembered in `trust` by the evidence, the expected
/// REPORT_DATA and the time, with the `[snp]` policy it was judged under.
pub(super) fn snp_check(
    ev: Option<&Evidence>,
    policy: Option<&Policy>,
    at: OffsetDateTime,
    trust: &Trust,
) -> Check {
    let id = CheckId::SnpReport;
    let Some(ev) = ev else {
        return Check::skipped(id, Reason::EvidenceAbsent, "no hardware evidence");
    };
    let Some(snp) = &ev.snp else {
        return Check::skipped(
            id,
            Reason::EvidenceAbsent,
            "the batch carries no SEV-SNP report",
        );
    };
    let header_hash = ev.batch.header.hash();
    let ak = ev.tpm.as_ref().map(|t| t.ak.public.0.as_slice());
    let report_data = expected_report_data(&header_hash.0, ak);
    // Without an `[snp]` table the defaults apply: debugging and migration agents
    // forbidden, any measurement, TCB and VMPL.
    let snp_policy = policy.and_then(|p| p.snp.clone()).unwrap_or_default();
    let mut h = Sha256::new();
    h.update((snp.chain.len() as u64).to_be_bytes());
    for part in std::iter::once(snp.report.0.as_slice())
        .chain(std::iter::once(snp.endorsement.0.as_slice()))
        .chain(snp.chain.iter().map(|c| c.0.as_slice()))
    {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(report_data);
    h.update([
        u8::from(snp.simulated),
        u8::from(ak.is_some()),
        u8::from(policy.is_some()),
    ]);
    h.update(at.unix_timestamp().to_be_bytes());
    let key: [u8; 32] = h.finalize().into();
    trust.snp_check(key, &snp_policy, || {
        judge(
            snp,
            report_data,
            ak.is_some(),
            policy.is_some(),
            snp_policy.clone(),
            at,
        )
    })
}

fn judge(
    snp: &SnpEvidence,
    report_data: [u8; 64],
    bound_to_ak: bool,
    policy_given: bool,
    policy: SnpPolicy,
    at: OffsetDateTime,
) -> Check {
    let id = CheckId::SnpReport;
    // Without a TPM quote the report alone says which machine ran the batch: AMD's
    // chain proves a genuine SEV-SNP guest, only the launch measurement (or the ID /
    // author key that signed it) says which one. A policy must pin it, as it must
    // establish an AK's trust.
    let pinned = !policy.measurements.is_empty()
        || !policy.id_key_digests.is_empty()
        || !policy.author_key_digests.is_empty();
    let malformed = |what: &str, e: &dyn std::fmt::Display| {
        Check::fail(
            id,
            Reason::Snp(SnpReason::CertMalformed),
            format!("snp.{what}: {e}"),
        )
    };
    let endorsement = match Certificate::from_der(&snp.endorsement.0) {
        Ok(c) => c,
        Err(e) => return malformed("endorsement", &e),
    };
    let mut intermediates = Vec::new();
    let mut ark = None;
    for (i, der) in snp.chain.iter().enumerate() {
        match Certificate::from_der(&der.0) {
            Ok(c) if c.is_self_issued() && ark.is_none() => ark = Some(c),
            Ok(c) => intermediates.push(c),
            Err(e) => return malformed(&format!("chain[{i}]"), &e),
        }
    }
    let mut opts = SnpOptions::new(at);
    opts.report_data = Some(report_data);
    opts.policy = Some(policy);
    opts.simulated = snp.simulated;
    let certs = SnpCerts {
        endorsement,
        intermediates,
        ark,
    };
    let verdict = verify_report(&snp.report.0, &certs, &opts);
    let failed: Vec<String> = verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| {
            let code = c.reason.map(SnpReason::code).unwrap_or_default();
            format!("{}: {} [{code}]", c.check.label(), c.message)
        })
        .collect();
    if let Some(first) = verdict.reasons.first() {
        return Check::fail(id, Reason::Snp(*first), failed.join("; "));
    }
    if policy_given && !bound_to_ak && !pinned {
        return Check::fail(
            id,
            Reason::Snp(SnpReason::GuestNotPinned),
            "the SEV-SNP report is the batch's only hardware evidence and the policy's [snp] table pins no launch measurement, ID key or author key, so any SEV-SNP guest could have made it (name the guest's MEASUREMENT in [snp] measurements)",
        );
    }
    let binding = if bound_to_ak {
        "the batch header hash and the TPM AK"
    } else {
        "the batch header hash"
    };
    let r = verdict.report.as_ref();
    let what = match verdict.chain.as_ref() {
        Some(c) if c.test_ark => {
            "SIMULATED SEV-SNP guest (test ARK trusted by the policy)".to_owned()
        }
        Some(c) => format!(
            "SEV-SNP report from an AMD {} ({})",
            c.generation.map(|g| g.name()).unwrap_or("?"),
            verdict
                .endorsement
                .as_ref()
                .map_or("?", |x| x.product_name.as_str())
        ),
        None => "SEV-SNP report".to_owned(),
    };
    Check::pass(
        id,
        format!(
            "{what}, signature and chain valid, REPORT_DATA binds {binding}; measurement {}",
            r.map(|r| hex::encode(r.measurement)).unwrap_or_default()
        ),
    )
}
