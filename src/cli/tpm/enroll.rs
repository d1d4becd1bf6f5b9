//! `cer tpm enroll-request` and `cer tpm activate`: the TPM host's side of AK
//! enrollment with an attestation CA (`cer ca`, docs/enrollment.md).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::ca::request::{Challenge, ResponseFile, RESPONSE_FORMAT};
use crate::cli::Outcome;
use crate::files;
use crate::tpm::keys::{EkKind, AK_HANDLE_ECC};
use crate::tpm::{enroll, Tcti, Tpm};

/// Write an enrollment request for an attestation CA: the EK certificates from NV, the
/// EK's public area (re-created from its TCG template), the AK's public area and name,
/// and the TPM's identity.
#[derive(Debug, Args)]
pub struct EnrollRequestArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// Persistent handle of the AK (create it with `cer tpm ak create`).
    #[arg(long, value_name = "HANDLE", value_parser = persistent_handle, default_value = "0x81010002")]
    ak_handle: u32,
    /// Which EK the CA should encrypt to [default: the first with a certificate, in the
    /// order rsa2048, eccp256, eccp384].
    #[arg(long, value_name = "EK")]
    ek: Option<EkArg>,
    /// An intermediate CA certificate of the EK chain (PEM or DER); repeatable.
    #[arg(long, value_name = "FILE")]
    chain: Vec<PathBuf>,
    /// Where to write the request (default stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EkArg {
    Rsa2048,
    Eccp256,
    Eccp384,
}

impl From<EkArg> for EkKind {
    fn from(e: EkArg) -> Self {
        match e {
            EkArg::Rsa2048 => Self::Rsa2048,
            EkArg::Eccp256 => Self::EccP256,
            EkArg::Eccp384 => Self::EccP384,
        }
    }
}

/// Answer a CA's challenge: TPM2_ActivateCredential with the AK and the EK, which only
/// this TPM can do, and write the recovered credential as the response.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// The challenge from `cer ca challenge`.
    #[arg(value_name = "CHALLENGE")]
    challenge: PathBuf,
    /// Persistent handle of the AK the challenge is for.
    #[arg(long, value_name = "HANDLE", value_parser = persistent_handle, default_value = "0x81010002")]
    ak_handle: u32,
    /// Where to write the response (default stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

fn persistent_handle(s: &str) -> Result<u32, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    }
    .map_err(|_| format!("{s:?} is not a handle (write it as {AK_HANDLE_ECC:#010x})"))?;
    if !(0x8100_0000..=0x81ff_ffff).contains(&v) {
        return Err(format!(
            "{v:#010x} is not a persistent handle (0x81000000..=0x81ffffff)"
        ));
    }
    Ok(v)
}

pub fn run_enroll_request(args: EnrollRequestArgs) -> anyhow::Result<Outcome> {
    let mut chain = Vec::new();
    for path in &args.chain {
        for cert in crate::ca::store::load_cert_file(path)? {
            chain.push(cert.der);
        }
    }
    let mut tpm = Tpm::open(&args.tcti)?;
    let req = enroll::enroll_request(&mut tpm, args.ak_handle, args.ek.map(EkKind::from), &chain)?;
    let mut json = serde_json::to_vec_pretty(&req).context("cannot encode the request")?;
    json.push(b'\n');
    files::emit(args.output.as_deref(), &json, args.force)?;
    Ok(Outcome::Ok)
}

pub fn run_activate(args: ActivateArgs) -> anyhow::Result<Outcome> {
    let bytes = files::Source::Path(args.challenge.clone()).read()?;
    let challenge = Challenge::parse(&bytes)
        .with_context(|| format!("challenge {}", args.challenge.display()))?;
    if let Some(p) = &args.output {
        if !args.force && p.exists() {
            anyhow::bail!(
                "{} already exists; not overwriting it (use --force to replace it)",
                p.display()
            );
        }
    }
    let mut tpm = Tpm::open(&args.tcti)?;
    let credential = enroll::activate(&mut tpm, &challenge, args.ak_handle)?;
    let resp = ResponseFile {
        format: RESPONSE_FORMAT.to_owned(),
        id: challenge.id,
        credential: crate::ca::request::b64(&credential),
    };
    let mut json = serde_json::to_vec_pretty(&resp).context("cannot encode the response")?;
    json.push(b'\n');
    files::emit(args.output.as_deref(), &json, args.force)?;
    Ok(Outcome::Ok)
}
