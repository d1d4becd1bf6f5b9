//! `cer tpm ak create | show`: the attestation key.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::Outcome;
use crate::files::write_new;
use crate::tpm::keys::{self, Ak, AkAlg, Occupied};
use crate::tpm::{Tcti, Tpm};

/// Manage the attestation key (AK): a restricted ECC P-256 (or RSA 2048) signing key
/// made from a fixed template in the endorsement hierarchy, persistent at a handle.
#[derive(Debug, Args)]
pub struct AkArgs {
    #[command(subcommand)]
    command: AkCommand,
}

#[derive(Debug, Subcommand)]
enum AkCommand {
    Create(CreateArgs),
    Show(ShowArgs),
}

/// Create the AK (or find it already there) and make it persistent.
///
/// The same template on the same TPM always gives the same key, so running this again,
/// even after the persistent copy was evicted, yields the same AK. A different key at
/// the handle is never evicted unless --force is given.
#[derive(Debug, Args)]
struct CreateArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// Key algorithm: ecc (NIST P-256, ECDSA-SHA256) or rsa (2048, RSASSA-SHA256).
    #[arg(long, value_name = "ALG", default_value = "ecc")]
    alg: AkAlg,
    /// Persistent handle [default: 0x81010002 for ecc, 0x81010003 for rsa].
    #[arg(long, value_name = "HANDLE", value_parser = persistent_handle)]
    handle: Option<u32>,
    /// Evict a different key found at the handle, and replace existing output files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    out: Outputs,
}

/// Show an AK: the persistent one at --handle, or the platform's certified AK (GCE, Azure).
#[derive(Debug, Args)]
struct ShowArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// Persistent handle of the AK [default: 0x81010002].
    #[arg(long, value_name = "HANDLE", value_parser = persistent_handle, conflicts_with = "platform")]
    handle: Option<u32>,
    /// The platform's AK: GCE (template and certificate in NV 0x01c10000..3) or Azure
    /// (0x81000003, certificate at NV 0x01c101d0).
    #[arg(long)]
    platform: bool,
    /// Write the platform's AK certificate (DER) here.
    #[arg(long, value_name = "FILE")]
    cert_out: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    out: Outputs,
}

#[derive(Debug, Args)]
struct Outputs {
    /// Write the AK's TPM2B_PUBLIC here.
    #[arg(long, value_name = "FILE")]
    public_out: Option<PathBuf>,
    /// Write the AK's public key as PEM (SubjectPublicKeyInfo) here.
    #[arg(long, value_name = "FILE")]
    pem_out: Option<PathBuf>,
}

/// A persistent handle: 0x81000000..=0x81ffffff, hex with 0x or decimal.
fn persistent_handle(s: &str) -> Result<u32, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    }
    .map_err(|_| format!("{s:?} is not a handle (write it as 0x81010002)"))?;
    if !(0x8100_0000..=0x81ff_ffff).contains(&v) {
        return Err(format!(
            "{v:#010x} is not a persistent handle (0x81000000..=0x81ffffff)"
        ));
    }
    Ok(v)
}

pub fn run_ak(args: AkArgs) -> anyhow::Result<Outcome> {
    match args.command {
        AkCommand::Create(a) => create(a),
        AkCommand::Show(a) => show(a),
    }
}

fn create(args: CreateArgs) -> anyhow::Result<Outcome> {
    let handle = args.handle.unwrap_or(args.alg.default_handle());
    let occupied = if args.force {
        Occupied::Replace
    } else {
        Occupied::Refuse
    };
    // Refuse to clobber before changing anything in the TPM.
    refuse_existing(&[&args.out.public_out, &args.out.pem_out], args.force)?;
    let mut tpm = Tpm::open(&args.tcti)?;
    let (ak, provisioned) = keys::ensure_ak(&mut tpm, args.alg, handle, occupied)?;
    print_ak(&ak, Some(&provisioned.to_string()));
    write_outputs(&ak, &args.out, args.force)?;
    Ok(Outcome::Ok)
}

fn show(args: ShowArgs) -> anyhow::Result<Outcome> {
    refuse_existing(
        &[&args.out.public_out, &args.out.pem_out, &args.cert_out],
        args.force,
    )?;
    let mut tpm = Tpm::open(&args.tcti)?;
    let ak = if args.platform {
        keys::platform_ak(&mut tpm)?.ok_or_else(|| {
            anyhow::anyhow!(
                "no platform AK in the TPM at {}: no GCE AK template and certificate at NV \
                 0x01c10000..0x01c10003 and no Azure AK at 0x81000003 with a certificate at NV \
                 0x01c101d0 (create an AK with `cer tpm ak create`)",
                args.tcti
            )
        })?
    } else {
        keys::load_ak(&mut tpm, args.handle.unwrap_or(keys::AK_HANDLE_ECC))?
    };
    print_ak(&ak, None);
    write_outputs(&ak, &args.out, args.force)?;
    if let Some(path) = &args.cert_out {
        match &ak.certificate {
            Some(der) => write_new(path, der, args.force)?,
            None => anyhow::bail!(
                "the AK at {} has no platform certificate to write to {}",
                ak.handle,
                path.display()
            ),
        }
    }
    Ok(Outcome::Ok)
}

fn print_ak(ak: &Ak, provisioned: Option<&str>) {
    match provisioned {
        Some(p) => println!("handle       {} ({p})", ak.handle),
        None => println!("handle       {}", ak.handle),
    }
    println!("alg          {}", ak.alg);
    println!("name         {}", hex::encode(&ak.name));
    println!("source       {}", ak.source);
    if let (Some(der), Some(index)) = (&ak.certificate, ak.certificate_index) {
        println!("certificate  NV {index:#010x}, {} bytes", der.len());
        if let Some((subject, issuer)) = names(der) {
            println!("  subject    {subject}");
            println!("  issuer     {issuer}");
        }
    }
}

/// Subject and issuer of a certificate, for display.
fn names(der: &[u8]) -> Option<(String, String)> {
    let cert = <x509_cert::Certificate as der::Decode>::from_der(der).ok()?;
    Some((
        cert.tbs_certificate.subject.to_string(),
        cert.tbs_certificate.issuer.to_string(),
    ))
}

/// Fails when an output file exists and `force` is off (files are written atomically
/// later; this only avoids doing the TPM work for nothing).
pub(super) fn refuse_existing(paths: &[&Option<PathBuf>], force: bool) -> anyhow::Result<()> {
    for path in paths.iter().copied().flatten() {
        if !force && path.exists() {
            anyhow::bail!(
                "{} already exists; not overwriting it (use --force to replace it)",
                path.display()
            );
        }
    }
    Ok(())
}

fn write_outputs(ak: &Ak, out: &Outputs, force: bool) -> anyhow::Result<()> {
    if let Some(path) = &out.public_out {
        write_new(path, &ak.public_bytes, force)?;
        println!("public       {} (TPM2B_PUBLIC)", path.display());
    }
    if let Some(path) = &out.pem_out {
        write_new(path, ak.public_key()?.pem()?.as_bytes(), force)?;
        println!("pem          {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(persistent_handle("0x81010002"), Ok(0x8101_0002));
        assert_eq!(persistent_handle("2164326403"), Ok(0x8101_0003));
        assert!(persistent_handle("0x01c00002").is_err());
        assert!(persistent_handle("zz").is_err());
    }
}
