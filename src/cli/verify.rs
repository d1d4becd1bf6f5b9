//! `cer verify`: check bundles and print a checklist or a JSON verdict per bundle.

use std::io::Write as _;

use anyhow::Context as _;
use cerd_attestation::verify::{self, Status, Verdict};
use clap::{Args, ValueEnum};
use serde_json::json;

use super::Outcome;
use crate::files::Source;

/// Verify Certified Execution Records offline.
///
/// Checks, per bundle: the schema, the digest formats, the certificateHash recomputed
/// over the RFC 8785 canonical form, inline input/output content (NexArt bundles), and
/// hardware evidence (skipped until attestation lands). Each check is PASS, FAIL or
/// SKIPPED with a reason.
///
/// Exit status: 0 all valid, 1 any invalid, 2 any unreadable or not a JSON object.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Bundle files; `-` reads one from stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Output format: a checklist for people, or one JSON verdict per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Checklist per bundle.
    Text,
    /// One JSON object per bundle, one per line, with stable reason codes.
    Json,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let stdin_uses = args.files.iter().filter(|f| f.as_str() == "-").count();
    if stdin_uses > 1 {
        anyhow::bail!("`-` (stdin) can be given only once");
    }
    let mut worst = Outcome::Ok;
    let mut out = std::io::stdout().lock();
    for arg in &args.files {
        let source = Source::from_arg(arg);
        let verdict = source
            .read()
            .and_then(|bytes| verify::verify_bytes(&bytes).with_context(|| source.to_string()));
        let outcome = match verdict {
            Ok(v) => {
                match args.format {
                    Format::Text => print_text(&mut out, &source, &v),
                    Format::Json => print_json(&mut out, &source, &v),
                }
                .context("cannot write to stdout")?;
                if v.valid {
                    Outcome::Ok
                } else {
                    Outcome::Invalid
                }
            }
            Err(e) => {
                eprintln!("cer: error: {e:#}");
                if args.format == Format::Json {
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
    Ok(worst)
}

fn print_text(out: &mut impl std::io::Write, source: &Source, v: &Verdict) -> std::io::Result<()> {
    let hash = v
        .certificate_hash
        .map(|h| h.to_string())
        .unwrap_or_else(|| "(no certificateHash)".into());
    let word = if v.valid { "VALID" } else { "INVALID" };
    writeln!(out, "{source}: {word}  {hash}")?;
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
