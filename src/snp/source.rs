//! Where SNP reports come from and how one is requested (`cer attest --snp`, the
//! daemon's `[snp] source`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use cerd_attestation::evidence::SnpEvidence;

use super::{device, kds, simulated};

/// Where SNP reports come from (`cer attest --snp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnpSource {
    /// The guest device, `/dev/sev-guest`.
    Device(PathBuf),
    /// A simulated guest's state directory (`cer snp sim init`).
    Simulated(PathBuf),
}

impl SnpSource {
    /// Whether reports can be requested at all (the device opens; the simulated
    /// guest's state reads), without requesting one.
    pub fn probe(&self) -> anyhow::Result<()> {
        match self {
            Self::Device(path) => device::open(path).map(drop),
            Self::Simulated(dir) => simulated::SimGuest::open(dir).map(drop),
        }
    }
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
