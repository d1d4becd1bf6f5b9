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
use std::io::Read as _;

use cerd_attestation::chain::{parse_certificates, Certificate};
use cerd_attestation::evidence::SnpEvidence;
use cerd_attestation::snp::SnpCerts;

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

/// Certificate files are certificates, not multi-megabyte inputs.
const MAX_CERT_FILE_BYTES: u64 = 1024 * 1024;

/// A certificate directory in `snpguest fetch` layout, read: the endorsement key
/// (`vcek` or `vlek`; exactly one) and whatever of `ask`, `asvk`, `ark` and
/// `cert_chain` is there (extensions .der, .pem, .crt, .cer), the self-issued one as
/// the ARK. The daemon's and `cer attest`'s certificate cache, `cer snp kds-fetch`'s
/// cache check and `cer verify-snp --certs` all read it here.
#[derive(Debug)]
pub struct CertDir {
    /// The VCEK's or VLEK's file.
    pub leaf_path: PathBuf,
    pub certs: SnpCerts,
}

impl CertDir {
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!(
                "{} is not a directory (of vcek.der or vcek.pem, and optionally ask.pem / ark.pem)",
                dir.display()
            );
        }
        let find = |stem: &str| {
            ["der", "pem", "crt", "cer"]
                .iter()
                .map(|ext| dir.join(format!("{stem}.{ext}")))
                .find(|p| p.is_file())
        };
        let leaf_path = match (find("vcek"), find("vlek")) {
            (Some(p), None) | (None, Some(p)) => p,
            (Some(_), Some(_)) => bail!(
                "{}: holds both a VCEK and a VLEK; keep the one that signs the reports",
                dir.display()
            ),
            (None, None) => bail!(
                "{}: no vcek.der, vcek.pem, vlek.der or vlek.pem (fetch it once with `cer snp kds-fetch` or `snpguest fetch vcek der {}`)",
                dir.display(),
                dir.display()
            ),
        };
        let endorsement = read_certificates(&leaf_path)?
            .into_iter()
            .next()
            .with_context(|| format!("{}: no certificate", leaf_path.display()))?;
        let mut intermediates = Vec::new();
        let mut ark = None;
        for stem in ["ask", "asvk", "ark", "cert_chain"] {
            let Some(p) = find(stem) else { continue };
            for c in read_certificates(&p)? {
                if c.is_self_issued() && ark.is_none() {
                    ark = Some(c);
                } else {
                    intermediates.push(c);
                }
            }
        }
        Ok(Self {
            leaf_path,
            certs: SnpCerts {
                endorsement,
                intermediates,
                ark,
            },
        })
    }

    /// The endorsement key and the rest of the chain (intermediates, then the ARK),
    /// DER, as evidence carries them.
    pub fn to_der(&self) -> (Vec<u8>, Vec<Vec<u8>>) {
        let chain = self
            .certs
            .intermediates
            .iter()
            .chain(self.certs.ark.iter())
            .map(|c| c.der().to_vec())
            .collect();
        (self.certs.endorsement.der().to_vec(), chain)
    }
}

/// The certificates (PEM or DER) of a file of at most [`MAX_CERT_FILE_BYTES`].
fn read_certificates(path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            std::io::Read::take(f, MAX_CERT_FILE_BYTES.saturating_add(1)).read_to_end(&mut bytes)
        })
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_CERT_FILE_BYTES {
        bail!(
            "{} is larger than {MAX_CERT_FILE_BYTES} bytes; not a certificate file",
            path.display()
        );
    }
    parse_certificates(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e} ({})", path.display(), e.code()))
}
