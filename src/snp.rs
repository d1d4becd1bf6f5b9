//! SEV-SNP evidence production: a report over the batch from `/dev/sev-guest`
//! ([`device`]) or from cerd's simulated guest ([`simulated`]), with the certificates
//! a verifier needs (from the extended report's certificate table, or a certificate
//! cache directory laid out like `snpguest fetch` writes it).
//!
//! REPORT_DATA\[0..32\] is the batch header's SHA-256, REPORT_DATA\[32..64\] the SHA-256
//! of the TPM AK's TPM2B_PUBLIC when a TPM quotes the same batch (zeros otherwise), so
//! one batch can carry both kinds of evidence bound to each other.

// `cer attest`, the only caller of the request path, is built with the `tpm` feature;
// `cer snp sim` (the simulated guest) is in every build.
#![cfg_attr(not(feature = "tpm"), allow(dead_code))]

pub mod device;
pub mod kds;
pub mod simulated;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context as _};
use cerd_attestation::evidence::SnpEvidence;

/// Where SNP reports come from (`cer attest --snp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnpSource {
    /// The guest device, `/dev/sev-guest`.
    Device(PathBuf),
    /// A simulated guest's state directory (`cer snp sim init`).
    Simulated(PathBuf),
}

impl FromStr for SnpSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("sim:") {
            Some("") => Err("sim: needs a state directory, e.g. sim:/var/lib/cerd/snp-sim".into()),
            Some(dir) => Ok(Self::Simulated(PathBuf::from(dir))),
            None if s.is_empty() => Err("empty --snp value".into()),
            None => Ok(Self::Device(PathBuf::from(s))),
        }
    }
}

impl std::fmt::Display for SnpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Device(p) => write!(f, "{}", p.display()),
            Self::Simulated(p) => write!(f, "sim:{}", p.display()),
        }
    }
}

/// Requests one report with `report_data` and returns the evidence to carry.
pub fn request(
    source: &SnpSource,
    report_data: [u8; 64],
    cert_cache: Option<&Path>,
    kds: Option<&kds::KdsOptions>,
) -> anyhow::Result<SnpEvidence> {
    match source {
        SnpSource::Simulated(dir) => {
            let guest = simulated::SimGuest::open(dir)?;
            let report = guest.report(report_data)?;
            Ok(SnpEvidence::new(
                report,
                guest.vcek_der().to_vec(),
                guest.chain_der(),
                true,
            ))
        }
        SnpSource::Device(path) => device::request(path, report_data, cert_cache, kds),
    }
}

/// The certificates of a cache directory in `snpguest fetch` layout: the endorsement
/// key (vcek or vlek, .der or .pem) and the ASK/ASVK/ARK that are there, as DER.
pub fn cached_certificates(dir: &Path) -> anyhow::Result<(Vec<u8>, Vec<Vec<u8>>)> {
    let find = |stem: &str| {
        ["der", "pem"]
            .iter()
            .map(|e| dir.join(format!("{stem}.{e}")))
            .find(|p| p.is_file())
    };
    let read = |p: &Path| -> anyhow::Result<Vec<Vec<u8>>> {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        let certs = cerd_attestation::chain::parse_certificates(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        Ok(certs.into_iter().map(|c| c.der().to_vec()).collect())
    };
    let Some(leaf) = find("vcek").or_else(|| find("vlek")) else {
        bail!(
            "the certificate cache {} has no vcek.der/vcek.pem (or vlek): fetch it once with `snpguest fetch vcek der {}`",
            dir.display(),
            dir.display()
        );
    };
    let endorsement = read(&leaf)?
        .into_iter()
        .next()
        .with_context(|| format!("{} holds no certificate", leaf.display()))?;
    let mut chain = Vec::new();
    for stem in ["ask", "asvk", "ark"] {
        if let Some(p) = find(stem) {
            chain.extend(read(&p)?);
        }
    }
    Ok((endorsement, chain))
}
