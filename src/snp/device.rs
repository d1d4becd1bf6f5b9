//! Reports from the SEV-SNP guest device through the `sev` crate's guest firmware API
//! (`SNP_GET_EXT_REPORT` ioctl on `/dev/sev-guest`).
//!
//! Certificates: the extended report's certificate table when the host provides one;
//! else the certificate cache directory (`--snp-certs`). Fetching the VCEK from AMD's
//! KDS at start-up is not implemented yet (TODO: needs an HTTP client in the root
//! crate and KDS rate limiting; the cache directory filled once with `snpguest fetch`
//! is the supported path).

use std::path::Path;

use anyhow::{bail, Context as _};
use cerd_attestation::evidence::SnpEvidence;
use sev::firmware::host::CertType;

/// The device `sev::firmware::guest::Firmware::open` opens.
pub const DEVICE: &str = "/dev/sev-guest";

pub fn request(
    path: &Path,
    report_data: [u8; 64],
    cert_cache: Option<&Path>,
) -> anyhow::Result<SnpEvidence> {
    if path != Path::new(DEVICE) {
        bail!(
            "--snp {}: only {DEVICE} is supported (or sim:DIR for the simulated guest)",
            path.display()
        );
    }
    if !path.exists() {
        bail!(
            "{DEVICE} does not exist: this is not an SEV-SNP guest (or the sev-guest kernel module is not loaded); use --snp sim:DIR for the simulated guest"
        );
    }
    let mut fw = sev::firmware::guest::Firmware::open()
        .with_context(|| format!("cannot open {DEVICE} (run as root, or grant access to it)"))?;
    let (report, table) = fw
        .get_ext_report(None, Some(report_data), Some(0))
        .map_err(|e| anyhow::anyhow!("{DEVICE}: SNP_GET_EXT_REPORT failed: {e}"))?;
    let mut endorsement = None;
    let mut chain = Vec::new();
    for entry in table.unwrap_or_default() {
        match entry.cert_type {
            CertType::VCEK | CertType::VLEK => endorsement = Some(entry.data),
            CertType::ASK | CertType::ARK => chain.push(entry.data),
            _ => {}
        }
    }
    let (endorsement, chain) = match (endorsement, cert_cache) {
        (Some(e), _) => (e, chain),
        (None, Some(dir)) => super::cached_certificates(dir)?,
        (None, None) => bail!(
            "the host provides no VCEK with the extended report; give a certificate cache with --snp-certs DIR (fill it once with `snpguest fetch vcek der DIR`)"
        ),
    };
    Ok(SnpEvidence::new(report, endorsement, chain, false))
}
