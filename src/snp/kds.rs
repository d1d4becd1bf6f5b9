//! AMD's Key Distribution Service (KDS, "VCEK Certificate and KDS Interface
//! Specification" #57230 §4): where a report's VCEK and its ASK/ARK chain are fetched.
//!
//! cerd does not fetch at verification time, ever. This module builds the URLs for a
//! report (`cer snp kds-urls`) so that a host can fill its certificate cache once, e.g.
//! `curl -o cache/vcek.der "$(cer snp kds-urls --report r.bin | head -1)"`.
//! TODO: fetch them at host start-up (the daemon), with KDS's rate limit honoured
//! (HTTP 429 + Retry-After): it needs an HTTPS client in the root crate, and no test
//! here may reach the network.

use anyhow::bail;
use cerd_attestation::snp::{AttestationReport, Generation};

/// The KDS base URL.
pub const KDS: &str = "https://kdsintf.amd.com";

/// The VCEK URL for a report: `/vcek/v1/{product}/{hwid}?blSPL=…&teeSPL=…&snpSPL=…&ucodeSPL=…`
/// (Turin: `fmcSPL` first and an 8-byte hwID).
pub fn vcek_url(report: &AttestationReport, generation: Generation) -> anyhow::Result<String> {
    if report.chip_id_is_zero() {
        bail!(
            "CHIP_ID is zero (a VLEK-signed report, or MASK_CHIP_KEY): a VCEK cannot be looked up by hwID; get the VLEK from the cloud provider"
        );
    }
    let hwid = report
        .chip_id
        .get(..generation.hwid_len())
        .map(hex::encode)
        .unwrap_or_default();
    let t = report.reported_tcb(generation);
    let mut query = Vec::new();
    if let Some(fmc) = t.fmc {
        query.push(format!("fmcSPL={fmc}"));
    }
    query.push(format!("blSPL={}", t.bl));
    query.push(format!("teeSPL={}", t.tee));
    query.push(format!("snpSPL={}", t.snp));
    query.push(format!("ucodeSPL={}", t.ucode));
    Ok(format!(
        "{KDS}/vcek/v1/{}/{hwid}?{}",
        generation.name(),
        query.join("&")
    ))
}

/// The ASK + ARK chain URL of a generation (PEM, ASK first).
pub fn cert_chain_url(generation: Generation) -> String {
    format!("{KDS}/vcek/v1/{}/cert_chain", generation.name())
}
