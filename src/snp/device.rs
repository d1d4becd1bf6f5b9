//! Reports from the SEV-SNP guest device through the `sev` crate's guest firmware API
//! (`SNP_GET_EXT_REPORT` ioctl on `/dev/sev-guest`).
//!
//! Certificates: the extended report's certificate table when the host provides one;
//! else the certificate cache directory (`--snp-certs`), filled first from AMD's KDS
//! when asked (`--kds-fetch`, see [`super::kds`]) and it holds no VCEK matching the
//! report.

use std::path::Path;

use anyhow::{bail, Context as _};
use cerd_attestation::evidence::SnpEvidence;
use sev::firmware::host::CertType;

/// The device `sev::firmware::guest::Firmware::open` opens.
pub const DEVICE: &str = "/dev/sev-guest";

/// Opens the guest device: `path` must be [`DEVICE`], present and accessible.
pub fn open(path: &Path) -> anyhow::Result<sev::firmware::guest::Firmware> {
    if path != Path::new(DEVICE) {
        bail!(
            "SEV-SNP source {}: only {DEVICE} is supported (or sim:DIR for the simulated guest)",
            path.display()
        );
    }
    if !path.exists() {
        bail!(
            "{DEVICE} does not exist: this is not an SEV-SNP guest (or the sev-guest kernel module is not loaded); use --snp sim:DIR for the simulated guest"
        );
    }
    sev::firmware::guest::Firmware::open()
        .with_context(|| format!("cannot open {DEVICE} (run as root, or grant access to it)"))
}

pub fn request(
    path: &Path,
    report_data: [u8; 64],
    cert_cache: Option<&Path>,
    kds: Option<&super::kds::KdsOptions>,
) -> anyhow::Result<SnpEvidence> {
    let mut fw = open(path)?;
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
        (None, Some(dir)) => {
            if let Some(opts) = kds {
                fill_cache(&report, dir, opts)?;
            }
            super::CertDir::read(dir)
                .context("the SNP certificate cache")?
                .to_der()
        }
        (None, None) => bail!(
            "the host provides no VCEK with the extended report; give a certificate cache with --snp-certs DIR (fill it once with `snpguest fetch vcek der DIR`)"
        ),
    };
    Ok(SnpEvidence::new(report, endorsement, chain, false))
}

/// `--kds-fetch`: the cache gets the report's VCEK from KDS unless it holds it already.
fn fill_cache(report: &[u8], dir: &Path, opts: &super::kds::KdsOptions) -> anyhow::Result<()> {
    let parsed = cerd_attestation::snp::AttestationReport::parse(report)
        .map_err(|e| anyhow::anyhow!("{DEVICE} returned a report that does not parse: {e}"))?;
    let Some(generation) = parsed.cpuid_generation() else {
        bail!(
            "--kds-fetch: the report (version {}) does not name its processor generation; fill {} with `cer snp kds-fetch --report FILE --generation …`",
            parsed.version,
            dir.display()
        );
    };
    super::kds::fetch_to_cache(report, generation, dir, opts)
        .with_context(|| format!("--kds-fetch into {}", dir.display()))?;
    Ok(())
}
