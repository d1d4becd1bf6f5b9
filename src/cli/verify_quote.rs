//! `cer verify-quote`: check a raw TPM quote offline, a drop-in for `tpm2_checkquote`,
//! and print a checklist (or a JSON verdict) with stable reason codes.
//!
//! Flags are read into [`VerifyQuoteArgs`], then validated into a [`Request`] (files
//! read, the AK parsed, PCR values and nonce decoded); a problem there is bad input
//! (exit 2). The checks themselves are `cerd_attestation::tpm::verify_quote`, plus the
//! AK-trust line ([`check_ak_trust`]).

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cerd_attestation::chain::{parse_certificates, verify_chain, ChainOptions};
use cerd_attestation::roots::TrustStore;
use cerd_attestation::tpm::{
    verify_quote, AkFormat, AttestationKey, PcrSelectionSpec, PcrValues, QuoteCheck, QuoteCheckId,
    QuoteReport,
};
use cerd_attestation::verify::{Reason, Status};
use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Outcome;

/// Files here are TPM structures, certificates and PCR dumps: far below this.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Verify a TPM 2.0 quote offline (like tpm2_checkquote).
///
/// Checks that the quote (TPMS_ATTEST) is a genuine TPM quote, that its signature
/// verifies under the attestation key, that its qualifying data equals --nonce, and
/// that the PCR values in --pcrs hash to the quote's PCR digest. Accepts what
/// `tpm2_quote -m QUOTE -s SIG -o PCRS -F values` writes. Each check is PASS, FAIL or
/// SKIPPED (its input was not given) with a reason code.
///
/// Exit status: 0 every check passed or was skipped for want of its input, 1 a check
/// failed (or AK trust was asked for and could not be established), 2 unreadable or
/// malformed input, or bad usage.
#[derive(Debug, Args)]
pub struct VerifyQuoteArgs {
    /// The attestation key: PEM or DER SubjectPublicKeyInfo, TPM2B_PUBLIC
    /// (`tpm2_createak -u`) or TPMT_PUBLIC; the format is detected.
    #[arg(long, value_name = "FILE")]
    ak: PathBuf,
    /// The quote, TPMS_ATTEST (`tpm2_quote -m`).
    #[arg(long, value_name = "FILE")]
    quote: PathBuf,
    /// The signature, TPMT_SIGNATURE (`tpm2_quote -s`).
    #[arg(long, value_name = "FILE")]
    signature: PathBuf,
    /// PCR values in tpm2-tools "values" format (`tpm2_quote -o FILE -F values`): the
    /// digests of --pcr-list's PCRs concatenated in its order.
    #[arg(long, value_name = "FILE", requires = "pcr_list")]
    pcrs: Option<PathBuf>,
    /// The PCRs in --pcrs: BANK:i,j,...[+BANK:...], e.g. `sha256:0,1,7+sha1:0` or
    /// `sha256:all`.
    #[arg(long, value_name = "SPEC", requires = "pcrs")]
    pcr_list: Option<String>,
    /// The expected qualifying data (nonce) in hex, e.g. `9009`.
    #[arg(long, value_name = "HEX")]
    nonce: Option<String>,
    /// The AK's certificate (PEM or DER), to establish that the AK is trusted.
    #[arg(long, value_name = "FILE")]
    ak_cert: Option<PathBuf>,
    /// An intermediate certificate toward a trusted root (PEM or DER); repeatable.
    #[arg(long, value_name = "FILE")]
    chain: Vec<PathBuf>,
    /// A directory of trusted root certificates (PEM).
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Judge certificate validity at this time (RFC 3339, e.g.
    /// 2025-06-01T00:00:00Z); default now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A checklist for people.
    Text,
    /// One JSON object with stable reason codes.
    Json,
}

/// What the AK-trust check is given: the certificates and roots from the command line,
/// read but not yet interpreted, and the verification time.
#[derive(Debug)]
pub struct AkTrustInputs {
    /// `--ak-cert`: path and bytes (PEM or DER).
    pub ak_cert: Option<(PathBuf, Vec<u8>)>,
    /// `--chain`, in the order given: path and bytes (PEM or DER).
    pub chain: Vec<(PathBuf, Vec<u8>)>,
    /// `--trust`: a directory that exists.
    pub trust_dir: Option<PathBuf>,
    /// `--at`, or now.
    pub at: OffsetDateTime,
}

impl AkTrustInputs {
    fn is_empty(&self) -> bool {
        self.ak_cert.is_none() && self.chain.is_empty() && self.trust_dir.is_none()
    }
}

/// The validated request.
#[derive(Debug)]
struct Request {
    ak: AttestationKey,
    ak_format: AkFormat,
    quote_path: PathBuf,
    quote: Vec<u8>,
    signature: Vec<u8>,
    pcrs: Option<PcrValues>,
    nonce: Option<Vec<u8>>,
    trust: AkTrustInputs,
}

pub fn run(args: VerifyQuoteArgs) -> anyhow::Result<Outcome> {
    let format = args.format;
    let request = match Request::from_args(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cer: error: {e:#}");
            if format == Format::Json {
                let line = json!({
                    "valid": false,
                    "error": { "code": "BAD_INPUT", "message": format!("{e:#}") },
                });
                writeln!(std::io::stdout().lock(), "{line}").context("cannot write to stdout")?;
            }
            return Ok(Outcome::BadInput);
        }
    };
    let mut report = verify_quote(
        &request.ak,
        &request.quote,
        &request.signature,
        request.nonce.as_deref(),
        request.pcrs.as_ref(),
    );
    report
        .checks
        .push(check_ak_trust(&request.ak, &request.trust));
    let mut out = std::io::stdout().lock();
    match format {
        Format::Text => print_text(&mut out, &request, &report),
        Format::Json => print_json(&mut out, &request, &report),
    }
    .context("cannot write to stdout")?;
    Ok(if report.affirms() {
        Outcome::Ok
    } else {
        Outcome::Invalid
    })
}

/// The AK-trust check: does the AK belong to a genuine TPM (its certificate chains to
/// a trusted root, or its key is pinned)?
///
/// SKIPPED (`NOT_REQUESTED`) when no trust input was given; otherwise the AK
/// certificate must chain through `--chain` to a root in `--trust` or a built-in pin as
/// of `--at`, and certify the AK's own key.
fn check_ak_trust(ak: &AttestationKey, inputs: &AkTrustInputs) -> QuoteCheck {
    if inputs.is_empty() {
        return QuoteCheck::skipped(
            QuoteCheckId::AkTrust,
            Reason::NotRequested,
            "no --ak-cert, --chain or --trust given: the quote is checked against this key, but nothing shows the key belongs to a genuine TPM",
        );
    }
    match ak_trust(ak, inputs) {
        Ok(msg) => QuoteCheck::pass(QuoteCheckId::AkTrust, msg),
        Err((reason, msg)) => QuoteCheck::fail(QuoteCheckId::AkTrust, reason, msg),
    }
}

/// Path building from `--ak-cert` through `--chain` to `--trust` or a built-in pin, as of
/// `--at`, then the leaf's key against the AK.
fn ak_trust(ak: &AttestationKey, inputs: &AkTrustInputs) -> Result<String, (Reason, String)> {
    let untrusted = |m: String| (Reason::AkCertUntrusted, m);
    let Some((path, bytes)) = &inputs.ak_cert else {
        return Err(untrusted(
            "--chain/--trust were given but no --ak-cert: there is no AK certificate to check"
                .into(),
        ));
    };
    let leaf = parse_certificates(bytes)
        .map_err(|e| untrusted(format!("{}: {e} ({})", path.display(), e.code())))?
        .into_iter()
        .next()
        .ok_or_else(|| untrusted(format!("{}: no certificate", path.display())))?;
    let mut pool = Vec::new();
    for (p, b) in &inputs.chain {
        pool.extend(
            parse_certificates(b)
                .map_err(|e| untrusted(format!("{}: {e} ({})", p.display(), e.code())))?,
        );
    }
    let mut trust = TrustStore::with_builtin_pins();
    if let Some(dir) = &inputs.trust_dir {
        super::trust::add_dir(&mut trust, dir).map_err(|e| untrusted(format!("{e:#}")))?;
    }
    let verified = verify_chain(&leaf, &pool, &trust, &ChainOptions::new(inputs.at))
        .map_err(|e| untrusted(format!("{e} ({})", e.code())))?;
    if leaf.spki_der() != ak.spki_der() {
        return Err((
            Reason::AkCertKeyMismatch,
            format!("{} certifies another key than the AK", path.display()),
        ));
    }
    Ok(format!(
        "the AK certificate chains through {} certificate(s) to {} ({:?})",
        verified.path.len(),
        verified.anchor.name,
        verified.anchor.source
    ))
}

impl Request {
    fn from_args(args: VerifyQuoteArgs) -> anyhow::Result<Self> {
        let ak_bytes = read_input(&args.ak, "--ak")?;
        let (ak, ak_format) = AttestationKey::detect(&ak_bytes)
            .with_context(|| format!("--ak {}", args.ak.display()))?;
        let quote = read_input(&args.quote, "--quote")?;
        let signature = read_input(&args.signature, "--signature")?;
        let pcrs = match (&args.pcrs, &args.pcr_list) {
            (Some(path), Some(list)) => {
                let spec: PcrSelectionSpec = list.parse().context("--pcr-list")?;
                let file = read_input(path, "--pcrs")?;
                let values = PcrValues::from_values_file(&spec, &file).map_err(|e| {
                    anyhow::anyhow!(
                        "--pcrs {} does not hold the values of --pcr-list {spec} in tpm2-tools \"values\" format: {e}{}",
                        path.display(),
                        serialized_hint(file.len())
                    )
                })?;
                Some(values)
            }
            (None, None) => None,
            // clap's `requires` makes these unreachable; keep the message anyway.
            _ => bail!("--pcrs and --pcr-list go together"),
        };
        let nonce = args.nonce.as_deref().map(parse_hex).transpose()?;
        let ak_cert = args
            .ak_cert
            .map(|p| read_input(&p, "--ak-cert").map(|b| (p, b)))
            .transpose()?;
        let chain = args
            .chain
            .into_iter()
            .map(|p| read_input(&p, "--chain").map(|b| (p, b)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(dir) = &args.trust {
            if !dir.is_dir() {
                bail!(
                    "--trust {} is not a directory (of PEM root certificates)",
                    dir.display()
                );
            }
        }
        let at = match &args.at {
            Some(text) => OffsetDateTime::parse(text, &Rfc3339).with_context(|| {
                format!("--at {text:?} is not an RFC 3339 time such as 2025-06-01T00:00:00Z")
            })?,
            None => OffsetDateTime::now_utc(),
        };
        Ok(Self {
            ak,
            ak_format,
            quote_path: args.quote,
            quote,
            signature,
            pcrs,
            nonce,
            trust: AkTrustInputs {
                ak_cert,
                chain,
                trust_dir: args.trust,
                at,
            },
        })
    }
}

/// Reads a whole input file of at most [`MAX_INPUT_BYTES`].
fn read_input(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(MAX_INPUT_BYTES.saturating_add(1))
                .read_to_end(&mut out)
        })
        .with_context(|| format!("cannot read {flag} {}", path.display()))?;
    if out.len() as u64 > MAX_INPUT_BYTES {
        bail!(
            "{flag} {} is larger than {MAX_INPUT_BYTES} bytes; not a TPM structure or certificate",
            path.display()
        );
    }
    Ok(out)
}

/// tpm2-tools' default PCR output ("serialized", `tpm2_quote -o` without `-F`) is C
/// structs: a 132-byte TPML_PCR_SELECTION, a 4-byte count, then 532-byte TPML_DIGESTs.
fn serialized_hint(len: usize) -> &'static str {
    let lists = len
        .checked_sub(136)
        .filter(|n| n % 532 == 0)
        .map(|n| n / 532);
    match lists {
        Some(1..=8) => "; it looks like tpm2-tools' \"serialized\" format instead: write the values with `tpm2_quote -o FILE -F values`",
        _ => "",
    }
}

/// `--nonce`: hex digits (upper or lower case), optionally after `0x`.
fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits).with_context(|| format!("--nonce {text:?} is not hex"))
}

fn print_text(out: &mut impl Write, req: &Request, report: &QuoteReport) -> std::io::Result<()> {
    let word = if report.affirms() { "VALID" } else { "INVALID" };
    writeln!(out, "{}: {word}", req.quote_path.display())?;
    for c in &report.checks {
        let reason = match (c.status, c.reason) {
            (Status::Pass, _) | (_, None) => String::new(),
            (_, Some(r)) => format!(" [{r}]"),
        };
        writeln!(
            out,
            "  {:<8} {:<16} {}{reason}",
            c.status.to_string(),
            c.check.label(),
            c.message
        )?;
    }
    let name = req
        .ak
        .public()
        .map(|p| format!(", name {}", p.name()))
        .unwrap_or_default();
    writeln!(
        out,
        "  ak:       {} ({}){name}",
        req.ak.describe(),
        req.ak_format
    )?;
    if let Some(a) = &report.attest {
        let c = a.clock_info;
        writeln!(
            out,
            "  clock:    {} ms, resetCount {}, restartCount {}, safe {}",
            c.clock,
            c.reset_count,
            c.restart_count,
            if c.safe { "yes" } else { "no" }
        )?;
        writeln!(out, "  firmware: {:#018x}", a.firmware_version)?;
        writeln!(out, "  signer:   {}", a.qualified_signer)?;
        if let Some(q) = a.quote() {
            writeln!(out, "  pcrs:     {}", q.pcr_select)?;
        }
    }
    Ok(())
}

fn print_json(out: &mut impl Write, req: &Request, report: &QuoteReport) -> std::io::Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Ak {
        format: AkFormat,
        key: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        attributes: Option<String>,
        /// SHA-256 of the DER SubjectPublicKeyInfo: what a policy pins.
        spki_sha256: String,
    }
    #[derive(Serialize)]
    struct Verdict<'a> {
        quote: String,
        valid: bool,
        checks: &'a [QuoteCheck],
        reasons: Vec<Reason>,
        ak: Ak,
        #[serde(skip_serializing_if = "Option::is_none")]
        attest: Option<&'a cerd_attestation::tpm::TpmsAttest>,
        #[serde(skip_serializing_if = "Option::is_none")]
        signature: Option<&'a cerd_attestation::tpm::TpmtSignature>,
    }
    let public = req.ak.public();
    let verdict = Verdict {
        quote: req.quote_path.display().to_string(),
        valid: report.affirms(),
        checks: &report.checks,
        reasons: report.unaffirmed(),
        ak: Ak {
            format: req.ak_format,
            key: req.ak.describe(),
            name: public.map(|p| p.name().to_string()),
            attributes: public.map(|p| p.attributes.to_string()),
            spki_sha256: hex::encode(Sha256::digest(req.ak.spki_der())),
        },
        attest: report.attest.as_ref(),
        signature: report.signature.as_ref(),
    };
    serde_json::to_writer(&mut *out, &verdict).map_err(std::io::Error::other)?;
    writeln!(out)
}
