//! `cer tpm ek-certs`: export the EK certificates from their TCG NV indices.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::Outcome;
use crate::files::write_new;
use crate::tpm::keys::{self, check_certificate_key};
use crate::tpm::{nv, Tcti, Tpm};

/// Write the TPM's EK certificates (RSA 2048 at NV 0x01c00002, ECC P-256 at 0x01c0000a,
/// ECC P-384 at 0x01c00016) as DER files, padding stripped, and check each against the
/// EK re-created from the TCG default template (L-1, L-2, H-3).
///
/// Files: ek-rsa2048.der, ek-eccp256.der, ek-eccp384.der (certificates), and beside each
/// the EK re-created from its template: ek-KIND.pub (TPM2B_PUBLIC) and ek-KIND.pem. Exit
/// 1 if a certificate's key differs from the EK its template gives.
#[derive(Debug, Args)]
pub struct EkCertsArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// Directory to write the certificates to (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

pub fn run_ek_certs(args: EkCertsArgs) -> anyhow::Result<Outcome> {
    let mut tpm = Tpm::open(&args.tcti)?;
    let certs = nv::ek_certificates(&mut tpm)?;
    if certs.is_empty() {
        anyhow::bail!(
            "no EK certificate in the TPM at {}: none of NV 0x01c00002, 0x01c0000a, 0x01c00016 is defined \
             (the TPM was provisioned without one; for swtpm use swtpm_setup --create-ek-cert)",
            args.tcti
        );
    }
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let files = |stem: &str| {
        ["der", "pub", "pem"].map(|ext| Some(args.out_dir.join(format!("{stem}.{ext}"))))
    };
    for cert in &certs {
        let paths = files(&format!("ek-{}", cert.kind.slug()));
        super::ak::refuse_existing(&paths.each_ref(), args.force)?;
    }
    let mut outcome = Outcome::Ok;
    for cert in &certs {
        let stem = format!("ek-{}", cert.kind.slug());
        let path = args.out_dir.join(format!("{stem}.der"));
        let ek = keys::ek_public(&mut tpm, cert.kind)?;
        write_new(&path, &cert.der, args.force)?;
        write_new(
            &args.out_dir.join(format!("{stem}.pub")),
            &ek.public_bytes,
            args.force,
        )?;
        write_new(
            &args.out_dir.join(format!("{stem}.pem")),
            keys::PublicKey::from_tpm(&ek.public)?.pem()?.as_bytes(),
            args.force,
        )?;
        let key = match check_certificate_key(&ek.public, &cert.der) {
            Ok(()) => format!("key = EK from template {}", cert.kind.template_name()),
            Err(e) => {
                eprintln!(
                    "cer: {}: the certificate at NV {:#010x} does not certify the EK from template {}: {e:#}",
                    path.display(),
                    cert.index,
                    cert.kind.template_name()
                );
                outcome = Outcome::Invalid;
                format!("KEY DIFFERS from template {}", cert.kind.template_name())
            }
        };
        println!(
            "{}  NV {:#010x}  {} EK  {} bytes (+{} padding)  {key}",
            path.display(),
            cert.index,
            cert.kind,
            cert.der.len(),
            cert.padding
        );
    }
    Ok(outcome)
}
