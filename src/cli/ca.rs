//! `cer ca …`: the attestation CA (docs/enrollment.md). Runs on any machine; no TPM.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::ca::{self, store, Refusal, Trust};
use crate::cli::Outcome;
use crate::files;

/// Run an attestation CA: certify AKs of TPMs whose EK certificate chains to a trusted
/// root, after proving with TPM2_ActivateCredential that the AK is in that TPM.
///
/// Exit status: 0 done, 1 refused (untrusted EK chain, unfit AK, wrong or reused
/// response), 2 malformed input or bad usage.
#[derive(Debug, Args)]
pub struct CaArgs {
    #[command(subcommand)]
    command: CaCommand,
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    Init(InitArgs),
    Challenge(ChallengeArgs),
    Issue(IssueArgs),
}

/// Create a CA: an ECDSA key (file mode 0600) and a self-signed CA certificate.
#[derive(Debug, Args)]
struct InitArgs {
    /// The CA directory (created if missing; must not already hold a CA).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The CA certificate's common name.
    #[arg(long, value_name = "CN", default_value = "cerd attestation CA")]
    name: String,
    /// Use ECDSA P-384 instead of P-256.
    #[arg(long)]
    p384: bool,
    /// Validity of the CA certificate in days.
    #[arg(long, value_name = "DAYS", default_value_t = 3650, value_parser = clap::value_parser!(u64).range(1..=36500))]
    days: u64,
}

/// Check an enrollment request and write the challenge for its TPM.
///
/// Checks the EK certificate chain against the trusted roots, that the EK public is
/// the certified key, the AK's attributes (restricted, sign, fixedTPM, fixedParent,
/// sensitiveDataOrigin, not decrypt) and its name, then computes TPM2_MakeCredential.
#[derive(Debug, Args)]
struct ChallengeArgs {
    /// The CA directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The request from `cer tpm enroll-request`.
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// A directory of trusted root certificates (PEM or DER files); repeatable.
    #[arg(long, value_name = "DIR")]
    trust: Vec<PathBuf>,
    /// Also trust a swtpm local CA (its directory, holding
    /// swtpm-localca-rootca-cert.pem and issuercert.pem). For tests only.
    #[arg(long, value_name = "DIR")]
    trust_swtpm_ca: Option<PathBuf>,
    /// Where to write the challenge (default stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the challenge as a tpm2-tools credential blob
    /// (for `tpm2_activatecredential -i FILE`).
    #[arg(long, value_name = "FILE")]
    tpm2_tools_blob: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
}

/// Check a response against its challenge (one use only) and issue the AK certificate.
#[derive(Debug, Args)]
struct IssueArgs {
    /// The CA directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The response from `cer tpm activate`.
    #[arg(value_name = "RESPONSE")]
    response: PathBuf,
    /// Where to write the AK certificate, PEM (default stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Validity of the AK certificate in days.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u64).range(1..=3650))]
    days: u64,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

pub fn run_ca(args: CaArgs) -> anyhow::Result<Outcome> {
    let result = match args.command {
        CaCommand::Init(a) => init(a),
        CaCommand::Challenge(a) => challenge(a),
        CaCommand::Issue(a) => issue(a),
    };
    match result {
        Err(e) if e.downcast_ref::<Refusal>().is_some() => {
            eprintln!("cer: error: refused: {e:#}");
            Ok(Outcome::Invalid)
        }
        other => other,
    }
}

fn init(a: InitArgs) -> anyhow::Result<Outcome> {
    if a.name.trim().is_empty() || a.name.len() > 64 {
        anyhow::bail!("--name must be 1 to 64 characters");
    }
    let ca = store::Ca::init(&a.dir, &a.name, a.p384, a.days)?;
    println!("created CA {:?} in {}", a.name, ca.dir().display());
    println!("certificate {}", ca.dir().join("ca-cert.pem").display());
    println!(
        "key         {} (mode 0600)",
        ca.dir().join("ca-key.pem").display()
    );
    Ok(Outcome::Ok)
}

/// Refuses existing output files before any work is done (or any challenge recorded).
fn check_outputs(paths: &[Option<&std::path::Path>], force: bool) -> anyhow::Result<()> {
    for p in paths.iter().flatten() {
        if !force && *p != std::path::Path::new("-") && p.exists() {
            anyhow::bail!(
                "{} already exists; not overwriting it (use --force to replace it)",
                p.display()
            );
        }
    }
    Ok(())
}

fn challenge(a: ChallengeArgs) -> anyhow::Result<Outcome> {
    let ca = store::Ca::open(&a.dir)?;
    check_outputs(
        &[a.output.as_deref(), a.tpm2_tools_blob.as_deref()],
        a.force,
    )?;
    let mut trust = Trust::default();
    for dir in &a.trust {
        trust.anchors.extend(store::load_trust_dir(dir)?);
    }
    if let Some(dir) = &a.trust_swtpm_ca {
        trust.anchors.extend(store::load_cert_file(
            &dir.join("swtpm-localca-rootca-cert.pem"),
        )?);
        trust
            .intermediates
            .extend(store::load_cert_file(&dir.join("issuercert.pem"))?);
    }
    let bytes = store::read_bounded(&a.request)?;
    let issued = ca::challenge(&bytes, &trust, store::now())
        .with_context(|| format!("request {}", a.request.display()))?;
    // The CA's record first: a challenge file without it could never be answered.
    ca.save_pending(&issued.pending)?;
    let mut json = serde_json::to_vec_pretty(&issued.challenge)?;
    json.push(b'\n');
    files::emit(a.output.as_deref(), &json, a.force)?;
    if let Some(p) = &a.tpm2_tools_blob {
        files::write_new(p, &issued.tpm2_tools_blob, a.force)?;
    }
    if a.output.is_some() {
        println!(
            "challenge {} for AK {}",
            issued.challenge.id, issued.challenge.ak_name
        );
    }
    Ok(Outcome::Ok)
}

fn issue(a: IssueArgs) -> anyhow::Result<Outcome> {
    let ca = store::Ca::open(&a.dir)?;
    check_outputs(&[a.output.as_deref()], a.force)?;
    let bytes = store::read_bounded(&a.response)?;
    let pem = ca::issue(&ca, &bytes, a.days, store::now())
        .with_context(|| format!("response {}", a.response.display()))?;
    files::emit(a.output.as_deref(), pem.as_bytes(), a.force)?;
    Ok(Outcome::Ok)
}
