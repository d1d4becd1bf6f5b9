//! SEV-SNP evidence production: a report over the batch from `/dev/sev-guest`
//! ([`device`]) or from cerd's simulated guest ([`simulated`]), with the certificates
//! a verifier needs (from the extended report's certificate table, or a certificate
//! cache directory laid out like `snpguest fetch` writes it).
//!
//! REPORT_DATA\[0..32\] is the batch header's SHA-256, REPORT_DATA\[32..64\] the SHA-256
//! of the TPM AK's TPM2B_PUBLIC when a TPM quotes the same batch (zeros otherwise), so
//! one batch can carry both kinds of evidence bound to each other.

// The request path (`SnpSource`, `request`, the device) serves `cer attest` and the
// daemon, which are built with the `tpm` feature; the certificate directory reader,
// KDS and `cer snp sim` are in every build.

#[cfg(feature = "tpm")]
pub mod device;
pub mod kds;
pub mod simulated;
#[cfg(feature = "tpm")]
mod source;

#[cfg(feature = "tpm")]
pub use source::{request, SnpSource};

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cerd_attestation::chain::{parse_certificates, Certificate};
use cerd_attestation::snp::SnpCerts;

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
    #[cfg(feature = "tpm")]
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
