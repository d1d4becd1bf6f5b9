//! `cer snp`: the simulated SEV-SNP guest (`cer snp sim init`, `cer snp sim report`).

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
