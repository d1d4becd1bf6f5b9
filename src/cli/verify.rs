//! `cer verify`: check bundles and print a checklist or a JSON verdict per bundle.

use std::io::Write as _;

use anyhow::Context as _;
use cerd_attestation::policy::Policy;
use cerd_attestation::verify::{self, Options, Status, Verdict};
use clap::{Args, ValueEnum};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{ear, Outcome};
use crate::files::Source;

/// Verify Certified Execution Records offline.
///
/// Checks, per bundle: the schema, the digest formats, the certificateHash recomputed
/// over the RFC 8785 canonical form, inline input/output content (NexArt bundles),
/// Merkle inclusion in the attested batch, the TPM quote (signature, qualifying data =
/// batch header hash, PCR digest), AK trust (enrolled, cloud or pinned), the EK
/// certificate chain to a TPM vendor root, measurement-log replay, and the policy's
/// allow-lists, PCRs and maximum age. Each check is PASS, FAIL or SKIPPED with a reason.
///
/// Exit status: 0 all valid, 1 any invalid, 2 any unreadable or not a JSON object.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Bundle files; `-` reads one from stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Output format: a checklist for people, one JSON verdict per line, or one IETF
    /// RATS EAR attestation result (unsigned JSON claims) per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Verification policy (TOML; see deploy/policy.example.toml): allowed binaries and
    /// models, required PCRs, AK trust, maximum record age, dev switches.
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// Verify as of this time (RFC 3339, e.g. 2026-02-12T00:00:00Z; default: now):
    /// certificate validity and record age are judged at it. `record` judges
    /// certificate validity at each record's own sealing time (for archived records
    /// whose certificates have expired since) and record age now.
    #[arg(long, value_name = "TIME|record", value_parser = parse_at)]
    at: Option<At>,
    /// A directory of trusted TPM vendor / cloud vTPM root certificates (PEM or DER),
    /// in addition to the built-in pins. Attestation CA roots come from the policy's
    /// attestation_ca.
    #[arg(long, value_name = "DIR")]
    trust: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy)]
enum At {
    Time(OffsetDateTime),
    Record,
}

fn parse_at(s: &str) -> Result<At, String> {
    if s == "record" {
        return Ok(At::Record);
    }
    parse_time(s).map(At::Time)
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        format!("{s:?} is not an RFC 3339 time like 2026-02-12T00:00:00Z (or `record`): {e}")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Checklist per bundle.
    Text,
    /// One JSON object per bundle, one per line, with stable reason codes.
    Json,
    /// One EAR (draft-ietf-rats-ear) claims set per bundle, one per line.
    Ear,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let stdin_uses = args.files.iter().filter(|f| f.as_str() == "-").count();
    if stdin_uses > 1 {
        anyhow::bail!("`-` (stdin) can be given only once");
    }
    let policy = match &args.policy {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read policy {}", path.display()))?;
            Some(Policy::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
    };
    if let Some(dir) = &args.trust {
        if !dir.is_dir() {
            anyhow::bail!(
                "--trust {} is not a directory (of PEM or DER root certificates)",
                dir.display()
            );
        }
    }
    let trust = super::trust::for_verify(
        policy.as_ref().zip(args.policy.as_deref()),
        args.trust.as_deref(),
    )?;
    let (at, at_record) = match args.at {
        None => (OffsetDateTime::now_utc(), false),
        Some(At::Time(t)) => (t, false),
        Some(At::Record) => (OffsetDateTime::now_utc(), true),
    };
    let options = Options::new(policy, at)
        .with_trust(trust)
        .with_certificates_at_record_time(at_record);
    let mut worst = Outcome::Ok;
    let mut attested = Vec::new();
    let mut out = std::io::stdout().lock();
    for arg in &args.files {
        let source = Source::from_arg(arg);
        let verdict = source.read().and_then(|bytes| {
            verify::verify_bytes_with(&bytes, &options).with_context(|| source.to_string())
        });
        let outcome = match verdict {
            Ok(v) => {
                match args.format {
                    Format::Text => print_text(&mut out, &source, &v),
                    Format::Json => print_json(&mut out, &source, &v),
                    Format::Ear => {
                        writeln!(out, "{}", ear::claims(&source.to_string(), &v, &options))
                    }
                }
                .context("cannot write to stdout")?;
                attested.extend(v.attested.clone());
                if v.valid {
                    Outcome::Ok
                } else {
                    Outcome::Invalid
                }
            }
            Err(e) => {
                eprintln!("cer: error: {e:#}");
                if args.format != Format::Text {
                    let line = json!({
                        "file": source.to_string(),
                        "valid": false,
                        "error": { "code": "BAD_INPUT", "message": format!("{e:#}") },
                    });
                    writeln!(out, "{line}").context("cannot write to stdout")?;
                }
                Outcome::BadInput
            }
        };
        worst = worst.max(outcome);
    }
    let timeline = verify::timeline(&attested);
    if timeline.iter().any(|h| h.batches.len() > 1) {
        if timeline
            .iter()
            .flat_map(|h| &h.events)
            .any(verify::Event::is_fault)
        {
            worst = worst.max(Outcome::Invalid);
        }
        match args.format {
            Format::Text => print_timeline(&mut out, &timeline),
            Format::Json | Format::Ear => {
                writeln!(out, "{}", json!({ "timeline": timeline }))
            }
        }
        .context("cannot write to stdout")?;
    }
    Ok(worst)
}

/// The batches of each host in order, with reboots, resumes, firmware changes and
/// contradictions between them.
fn print_timeline(
    out: &mut impl std::io::Write,
    timeline: &[verify::HostTimeline],
) -> std::io::Result<()> {
    for host in timeline.iter().filter(|h| h.batches.len() > 1) {
        let faults = host.events.iter().filter(|e| e.is_fault()).count();
        let word = if faults == 0 {
            "CONSISTENT"
        } else {
            "CONTRADICTED"
        };
        writeln!(
            out,
            "timeline of AK {}: {word}, {} batches",
            host.ak_name,
            host.batches.len()
        )?;
        for b in &host.batches {
            writeln!(
                out,
                "  batch {:<6} {} record(s)  resetCount {} restartCount {} clock {} ms{}",
                b.sequence,
                b.records,
                b.clock.reset_count,
                b.clock.restart_count,
                b.clock.clock,
                if b.clock.safe {
                    ""
                } else {
                    " (clock not safe)"
                }
            )?;
        }
        for e in &host.events {
            let tag = if e.is_fault() { "FAIL    " } else { "NOTE    " };
            let code = if e.is_fault() {
                format!(" [{}]", e.code())
            } else {
                String::new()
            };
            writeln!(out, "  {tag} {e}{code}")?;
        }
    }
    Ok(())
}

fn print_text(out: &mut impl std::io::Write, source: &Source, v: &Verdict) -> std::io::Result<()> {
    let hash = v
        .certificate_hash
        .map(|h| h.to_string())
        .unwrap_or_else(|| "(no certificateHash)".into());
    let word = if v.valid { "VALID" } else { "INVALID" };
    writeln!(out, "{source}: {word}  {hash}")?;
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
            "  {:<8} {:<21} {}{reason}",
            c.status.to_string(),
            c.check.label(),
            c.message
        )?;
    }
    Ok(())
}

fn print_json(out: &mut impl std::io::Write, source: &Source, v: &Verdict) -> std::io::Result<()> {
    let mut value = serde_json::to_value(v).map_err(std::io::Error::other)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("file".into(), source.to_string().into());
    }
    writeln!(out, "{value}")
}
