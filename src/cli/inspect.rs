//! `cer inspect`: a bundle for a human — what ran, which model and binary, when, and
//! what evidence it carries.

use anyhow::Context as _;
use cerd_attestation::evidence;
use cerd_attestation::record::{Bundle, FileDigest, Parameters};
use cerd_attestation::verify::{self, Status};
use clap::Args;

use super::Outcome;
use crate::files::Source;

/// Show a bundle for a human reader.
///
/// Prints what ran (provider, model, input and output digests, parameters), the
/// runtime (binary, model files, argv, host), when it was sealed, what evidence it
/// carries, and whether its integrity checks pass. Exit status as for `cer verify`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The bundle file; `-` reads stdin.
    #[arg(value_name = "FILE")]
    file: String,
}

pub fn run(args: InspectArgs) -> anyhow::Result<Outcome> {
    let source = Source::from_arg(&args.file);
    let bytes = source.read()?;
    let verdict = verify::verify_bytes(&bytes).with_context(|| source.to_string())?;
    let Some(bundle) = &verdict.bundle else {
        let first = verdict
            .checks
            .iter()
            .find(|c| c.status == Status::Fail)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        anyhow::bail!("{source} is not a CER v1 bundle: {first}");
    };
    let mut out = std::io::stdout().lock();
    render(&mut out, bundle, &verdict).context("cannot write to stdout")?;
    Ok(if verdict.valid {
        Outcome::Ok
    } else {
        Outcome::Invalid
    })
}

fn render(
    out: &mut impl std::io::Write,
    b: &Bundle,
    verdict: &verify::Verdict,
) -> std::io::Result<()> {
    let s = &b.snapshot;
    writeln!(out, "Certified Execution Record {}", b.certificate_hash)?;
    row(out, "sealed at", &b.created_at.to_string())?;
    row(out, "execution", &s.execution_id)?;
    if let Some(app) = &s.app_id {
        row(out, "application", app)?;
    }
    row(out, "provider", &s.provider)?;
    row(out, "model", &s.model)?;
    row(out, "input", &s.input_hash.to_string())?;
    row(out, "output", &s.output_hash.to_string())?;
    row(out, "parameters", &parameters(&s.parameters))?;
    match &s.runtime {
        None => row(out, "runtime", "not recorded")?,
        Some(rt) => {
            match &rt.binary {
                Some(f) => row(out, "binary", &file(f))?,
                None => row(out, "binary", "not recorded")?,
            }
            if rt.model_files.is_empty() {
                row(out, "model files", "none recorded")?;
            }
            for (i, f) in rt.model_files.iter().enumerate() {
                row(out, if i == 0 { "model files" } else { "" }, &file(f))?;
            }
            let argv = if rt.argv.is_empty() {
                "not recorded".to_owned()
            } else {
                shell_words(&rt.argv)
            };
            row(out, "argv", &argv)?;
            let h = &rt.host;
            row(
                out,
                "host",
                &format!(
                    "{}, kernel {}, {}, cerd {}",
                    h.os_release, h.kernel, h.arch, h.cerd_version
                ),
            )?;
        }
    }
    if !s.other.is_empty() {
        let keys: Vec<&str> = s.other.keys().map(String::as_str).collect();
        row(out, "other fields", &keys.join(", "))?;
    }
    if !b.context.is_empty() {
        let keys: Vec<&str> = b.context.keys().map(String::as_str).collect();
        row(out, "context", &keys.join(", "))?;
    }
    let evidence = match &b.meta {
        None => "none (sealed, not attested)".to_owned(),
        Some(m) => match m.get(evidence::META_KEY) {
            None if m.is_empty() => "none (sealed, not attested)".to_owned(),
            None => {
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                format!("none from cerd (meta carries {})", keys.join(", "))
            }
            Some(v) => match serde_json::from_value::<evidence::CerdMeta>(v.clone()) {
                Err(e) => format!("MALFORMED meta.{}: {e}", evidence::META_KEY),
                Ok(meta) => describe_evidence(&meta.evidence),
            },
        },
    };
    row(out, "evidence", &evidence)?;
    let integrity = if verdict.valid {
        "VALID (certificate hash recomputed)".to_owned()
    } else {
        let codes: Vec<&str> = verdict.reasons.iter().map(|r| r.code()).collect();
        format!(
            "INVALID: {} (run `cer verify` for details)",
            codes.join(", ")
        )
    };
    row(out, "integrity", &integrity)
}

fn describe_evidence(ev: &evidence::Evidence) -> String {
    let h = &ev.batch.header;
    let mut text = format!(
        "batch {} (record {} of {}, header {})",
        h.sequence,
        ev.batch.proof.leaf_index,
        h.tree_size,
        h.hash().to_hex()
    );
    match &ev.tpm {
        None if ev.snp.is_some() => text.push_str("; no TPM quote"),
        None => text.push_str("; no hardware quote"),
        Some(t) => {
            let pcrs: Vec<&str> = t.pcrs.values.keys().map(String::as_str).collect();
            text.push_str(&format!(
                "; TPM quote by AK {} ({}, {} certificate(s)) over {} PCR {}; {} EK certificate(s)",
                t.ak.name,
                t.ak.source,
                t.ak.certificates.len(),
                t.pcrs.bank,
                pcrs.join(","),
                t.ek.certificates.len()
            ));
            if let Some(log) = &t.log {
                text.push_str(&format!(
                    "; measurement log of {} record(s) on PCR {}",
                    log.events().len(),
                    log.pcr()
                ));
            }
        }
    }
    if let Some(snp) = &ev.snp {
        let report = cerd_attestation::snp::AttestationReport::parse(&snp.report.0);
        text.push_str(&match report {
            Ok(r) => format!(
                "; {}SEV-SNP report v{} signed by {}, measurement {}, {} chain certificate(s)",
                if snp.simulated { "SIMULATED " } else { "" },
                r.version,
                r.signing_key,
                hex::encode(r.measurement),
                snp.chain.len()
            ),
            Err(e) => format!("; MALFORMED SEV-SNP report: {e}"),
        });
    }
    text
}

fn row(out: &mut impl std::io::Write, label: &str, value: &str) -> std::io::Result<()> {
    writeln!(out, "  {label:<13} {value}")
}

fn file(f: &FileDigest) -> String {
    format!("{} ({} bytes) {}", f.path, f.size, f.digest)
}

fn parameters(p: &Parameters) -> String {
    fn opt<T: ToString>(v: &Option<T>) -> String {
        v.as_ref()
            .map_or_else(|| "unset".into(), ToString::to_string)
    }
    let mut parts = vec![
        format!("temperature={}", opt(&p.temperature)),
        format!("maxTokens={}", opt(&p.max_tokens)),
        format!("topP={}", opt(&p.top_p)),
        format!("seed={}", opt(&p.seed)),
    ];
    parts.extend(p.other.iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(" ")
}

/// Quotes arguments that need it, for display only.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
