//! `cer snp`: the simulated SEV-SNP guest (`cer snp sim init`, `cer snp sim report`)
//! and the KDS URLs of a report (`cer snp kds-urls`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::Outcome;
use crate::files;
use crate::snp::simulated::SimGuest;

/// AMD SEV-SNP helpers: a simulated guest for machines without SNP.
#[derive(Debug, Args)]
pub struct SnpArgs {
    #[command(subcommand)]
    command: SnpCommand,
}

#[derive(Debug, Subcommand)]
enum SnpCommand {
    /// The simulated SNP guest (tests, demos): reports signed under a generated test
    /// ARK that no verifier trusts unless its policy names it.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Print the AMD KDS URLs of a report's VCEK and of its generation's ASK/ARK chain,
    /// to fill a certificate cache once (cerd never fetches at verification time).
    KdsUrls {
        /// The attestation report.
        #[arg(long, value_name = "FILE")]
        report: PathBuf,
        /// The processor generation, for v2 reports (v3+ carry it in CPUID).
        #[arg(long, value_enum)]
        generation: Option<Gen>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Gen {
    Milan,
    Genoa,
    Turin,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Generate a simulated guest: test ARK and ASK (RSA-4096, RSASSA-PSS/SHA-384) and
    /// a VCEK (P-384) with AMD's extensions; prints the policy line that trusts it.
    Init {
        /// State directory to create.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// Write one signed attestation report (and the guest's certificates are in the
    /// state directory, in the layout `cer verify-snp --certs` reads).
    Report {
        /// The simulated guest's state directory.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// REPORT_DATA in hex (up to 64 bytes, zero-padded).
        #[arg(long, value_name = "HEX", default_value = "")]
        report_data: String,
        /// Where to write the 1184-byte report.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub fn run(args: SnpArgs) -> anyhow::Result<Outcome> {
    match args.command {
        SnpCommand::KdsUrls { report, generation } => {
            use cerd_attestation::snp::{AttestationReport, Generation};
            let bytes = std::fs::read(&report)
                .with_context(|| format!("cannot read --report {}", report.display()))?;
            let r = AttestationReport::parse(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "--report {} is not an SEV-SNP report: {e}",
                    report.display()
                )
            })?;
            let given = generation.map(|g| match g {
                Gen::Milan => Generation::Milan,
                Gen::Genoa => Generation::Genoa,
                Gen::Turin => Generation::Turin,
            });
            let g = match (given, r.cpuid_generation()) {
                (Some(a), Some(b)) if a != b => {
                    bail!("--generation {a} contradicts the report's CPUID ({b})")
                }
                (Some(g), _) | (None, Some(g)) => g,
                (None, None) => bail!(
                    "the report (version {}) does not name its processor generation: give --generation milan|genoa|turin",
                    r.version
                ),
            };
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", crate::snp::kds::vcek_url(&r, g)?)
                .and_then(|()| writeln!(out, "{}", crate::snp::kds::cert_chain_url(g)))
                .context("cannot write to stdout")?;
            Ok(Outcome::Ok)
        }
        SnpCommand::Sim(SimCommand::Init { state }) => {
            let guest = SimGuest::init(&state)?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "simulated SEV-SNP guest in {} (Milan-B0, chip {}…)\n# trust it in a verification policy (dev only):\n[snp]\ntrusted_test_arks = [\"{}\"]",
                guest.dir().display(),
                guest.config().chip_id.get(..16).unwrap_or_default(),
                guest.config().ark_spki_sha256
            )
            .context("cannot write to stdout")?;
            Ok(Outcome::Ok)
        }
        SnpCommand::Sim(SimCommand::Report {
            state,
            report_data,
            out,
        }) => {
            let bytes = hex::decode(report_data.strip_prefix("0x").unwrap_or(&report_data))
                .with_context(|| format!("--report-data {report_data:?} is not hex"))?;
            if bytes.len() > 64 {
                bail!("--report-data is {} bytes; REPORT_DATA has 64", bytes.len());
            }
            let mut rd = [0u8; 64];
            rd.iter_mut().zip(&bytes).for_each(|(o, b)| *o = *b);
            let guest = SimGuest::open(&state)?;
            files::write_new(&out, &guest.report(rd)?, true)?;
            Ok(Outcome::Ok)
        }
    }
}
