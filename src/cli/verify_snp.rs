//! `cer verify-snp`: check a raw AMD SEV-SNP attestation report offline, a drop-in for
//! `snpguest verify`, and print a checklist (or a JSON verdict, or an EAR) with stable
//! reason codes.
//!
//! Flags are read into [`VerifySnpArgs`], then validated into a [`Request`] (files read,
//! certificates parsed, hex decoded, the policy parsed); a problem there is bad input
//! (exit 2). The checks are `cerd_attestation::snp::verify_report`.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _};
use cerd_attestation::policy::Policy;
use cerd_attestation::snp::{
    verify_certs, verify_report, SnpCerts, SnpOptions, SnpReason, SnpVerdict,
};
use cerd_attestation::verify::Status;
use clap::{Args, ValueEnum};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Outcome;

/// Reports and certificates are a few kilobytes.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Verify an AMD SEV-SNP attestation report offline (like `snpguest verify`).
///
/// Checks that the report is a well-formed ATTESTATION_REPORT (v2, v3 or v5), that the
/// VCEK (or VLEK) chains through the ASK (or ASVK) to AMD's root key for Milan, Genoa or
/// Turin (built in; a supplied ark.pem must equal one), every certificate valid at
/// --at, that the report's ECDSA P-384 signature verifies under it, that the
/// certificate's hwID and TCB levels match the report, and, when given, REPORT_DATA and
/// the policy's [snp] table.
///
/// --certs DIR holds vcek.der or vcek.pem (or vlek.der / vlek.pem) and optionally
/// ask.pem, asvk.pem and ark.pem (`snpguest fetch ca` / `fetch vcek` layout).
///
/// Exit status: 0 valid, 1 a check failed, 2 unreadable or malformed input, or bad
/// usage.
#[derive(Debug, Args)]
pub struct VerifySnpArgs {
    /// The attestation report (1184 bytes, `snpguest report` output). Without it only
    /// the certificates are checked (like `snpguest verify certs`).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Directory with vcek.{der,pem} or vlek.{der,pem}, and optionally ask.pem,
    /// asvk.pem, ark.pem.
    #[arg(long, value_name = "DIR")]
    certs: PathBuf,
    /// The expected REPORT_DATA in hex (up to 64 bytes; shorter values are padded with
    /// zeros).
    #[arg(long, value_name = "HEX")]
    report_data: Option<String>,
    /// Verification policy (TOML) whose [snp] table applies (see
    /// deploy/policy.example.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Judge certificate validity at this time (RFC 3339, e.g. 2025-06-01T00:00:00Z);
    /// default now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Verify N times and print the mean time per verification to stderr (benchmark).
    #[arg(long, value_name = "N", hide = true, default_value_t = 1)]
    repeat: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A checklist for people.
    Text,
    /// One JSON object with stable reason codes.
    Json,
    /// One IETF RATS EAR attestation result (unsigned JSON claims).
    Ear,
}

/// The validated request.
#[derive(Debug)]
struct Request {
    /// The report file, or the certs directory when only certificates are checked.
    report_path: PathBuf,
    /// `None`: certificates only.
    report: Option<Vec<u8>>,
    certs: SnpCerts,
    leaf_path: PathBuf,
    options: SnpOptions,
}

pub fn run(args: VerifySnpArgs) -> anyhow::Result<Outcome> {
    let format = args.format;
    let repeat = args.repeat.max(1);
    let request = match Request::from_args(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cer: error: {e:#}");
            if format != Format::Text {
                let line = json!({
                    "valid": false,
                    "error": { "code": "BAD_INPUT", "message": format!("{e:#}") },
                });
                writeln!(std::io::stdout().lock(), "{line}").context("cannot write to stdout")?;
            }
            return Ok(Outcome::BadInput);
        }
    };
    let run = |r: &Request| match &r.report {
        Some(report) => verify_report(report, &r.certs, &r.options),
        None => verify_certs(&r.certs, &r.options),
    };
    let start = Instant::now();
    let mut verdict = run(&request);
    for _ in 1..repeat {
        verdict = run(&request);
    }
    if repeat > 1 {
        let per = start.elapsed().checked_div(repeat).unwrap_or_default();
        eprintln!(
            "verify-snp: {repeat} verifications, {:.3} ms each",
            per.as_secs_f64() * 1e3
        );
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Text => print_text(&mut out, &request, &verdict),
        Format::Json => {
            let mut value = serde_json::to_value(&verdict).context("cannot encode the verdict")?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert(
                    "file".into(),
                    request.report_path.display().to_string().into(),
                );
            }
            writeln!(out, "{value}")
        }
        Format::Ear => writeln!(out, "{}", ear(&request, &verdict)),
    }
    .context("cannot write to stdout")?;
    Ok(if verdict.valid {
        Outcome::Ok
    } else if verdict.reasons.contains(&SnpReason::ReportMalformed) {
        // Not a report at all: bad input, though the checklist says where.
        eprintln!(
            "cer: error: --report {} is not an SEV-SNP attestation report",
            request.report_path.display()
        );
        Outcome::BadInput
    } else {
        Outcome::Invalid
    })
}

impl Request {
    fn from_args(args: VerifySnpArgs) -> anyhow::Result<Self> {
        let report = args
            .report
            .as_deref()
            .map(|p| read_input(p, "--report"))
            .transpose()?;
        let dir = crate::snp::CertDir::read(&args.certs).context("--certs")?;
        let mut options = SnpOptions::new(match &args.at {
            Some(text) => OffsetDateTime::parse(text, &Rfc3339).with_context(|| {
                format!("--at {text:?} is not an RFC 3339 time such as 2025-06-01T00:00:00Z")
            })?,
            None => OffsetDateTime::now_utc(),
        });
        if let Some(text) = &args.report_data {
            let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text))
                .with_context(|| format!("--report-data {text:?} is not hex"))?;
            if bytes.len() > 64 {
                bail!("--report-data is {} bytes; REPORT_DATA has 64", bytes.len());
            }
            let mut rd = [0u8; 64];
            rd.iter_mut().zip(&bytes).for_each(|(o, b)| *o = *b);
            options.report_data = Some(rd);
        }
        if let Some(path) = &args.policy {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read policy {}", path.display()))?;
            let policy =
                Policy::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            options.policy = Some(policy.snp.unwrap_or_default());
        }
        Ok(Self {
            report_path: args.report.unwrap_or_else(|| args.certs.clone()),
            report,
            certs: dir.certs,
            leaf_path: dir.leaf_path,
            options,
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
            "{flag} {} is larger than {MAX_INPUT_BYTES} bytes; not an SNP report or certificate",
            path.display()
        );
    }
    Ok(out)
}

fn print_text(out: &mut impl Write, req: &Request, v: &SnpVerdict) -> std::io::Result<()> {
    let word = if v.valid { "VALID" } else { "INVALID" };
    writeln!(out, "{}: {word}", req.report_path.display())?;
    for w in &v.warnings {
        writeln!(out, "  WARNING  {w}")?;
    }
    for c in &v.checks {
        let reason = match (c.status, c.reason) {
            (Status::Pass, _) | (_, None) => String::new(),
            (_, Some(r)) => format!(" [{r}]"),
        };
        writeln!(
            out,
            "  {:<8} {:<20} {}{reason}",
            c.status.to_string(),
            c.check.label(),
            c.message
        )?;
    }
    writeln!(out, "  key:         {}", req.leaf_path.display())?;
    if let Some(r) = &v.report {
        if let Some(g) = v.generation {
            writeln!(out, "  generation:  {g}")?;
            writeln!(out, "  reported:    {}", r.reported_tcb(g))?;
        }
        writeln!(out, "  measurement: {}", hex::encode(r.measurement))?;
        writeln!(out, "  policy:      {:#x}", r.policy.raw)?;
        writeln!(out, "  report_data: {}", hex::encode(r.report_data))?;
    }
    Ok(())
}

/// An EAR (draft-ietf-rats-ear) claims set: the hardware tier from the verdict.
fn ear(req: &Request, v: &SnpVerdict) -> serde_json::Value {
    let hardware = if v.valid { 2 } else { 97 };
    json!({
        "eat_profile": "tag:github.com,2023:veraison/ear",
        "iat": req.options.at.unix_timestamp(),
        "ear.verifier-id": {
            "developer": "cerd",
            "build": concat!("cer ", env!("CARGO_PKG_VERSION")),
        },
        "submods": { "sev-snp": {
            "ear.status": if v.valid { "affirming" } else { "contraindicated" },
            "ear.trustworthiness-vector": { "hardware": hardware },
            "ear.appraisal-policy-id": if req.options.policy.is_some() { "cerd:policy" } else { "cerd:snp-default" },
            "cerd.source": req.report_path.display().to_string(),
            "cerd.reasons": v.reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
            "cerd.measurement": v.report.as_ref().map(|r| hex::encode(r.measurement)),
        }},
    })
}
