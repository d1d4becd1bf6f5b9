//! Command-line definitions (clap derive) and dispatch. The same definitions produce
//! `--help`, the shell completions and the man pages.

#[cfg(feature = "tpm")]
mod attest;
#[cfg(feature = "tpm")]
mod bench;
mod ca;
#[cfg(feature = "tpm")]
mod daemon;
mod docs;
mod ear;
mod export;
mod inspect;
mod record;
mod run;
mod seal;
mod snp;
#[cfg(feature = "tpm")]
mod swtpm;
#[cfg(feature = "tpm")]
mod tpm;
mod trust;
mod verify;
mod verify_quote;
mod verify_snp;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What a command concluded; `main` turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything checked is valid, or the command did its job (exit 0).
    Ok = 0,
    /// A verification failed (exit 1).
    Invalid = 1,
    /// Unreadable or malformed input, or bad usage (exit 2).
    BadInput = 2,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o as u8)
    }
}

/// Certified Execution Records for AI inference runs.
///
/// `cer` seals a finished inference run into a Certified Execution Record (CER): a
/// canonical JSON record of what ran, identified by its certificateHash. Anyone can
/// verify a record offline with `cer verify`.
///
/// Exit status: 0 valid / ok, 1 verification failed, 2 unreadable or malformed input
/// or bad usage.
#[derive(Debug, Parser)]
#[command(name = "cer", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Seal(Box<seal::SealArgs>),
    Verify(verify::VerifyArgs),
    VerifyQuote(verify_quote::VerifyQuoteArgs),
    VerifySnp(verify_snp::VerifySnpArgs),
    Inspect(inspect::InspectArgs),
    #[cfg(feature = "tpm")]
    Tpm(tpm::TpmArgs),
    #[cfg(feature = "tpm")]
    Swtpm(swtpm::SwtpmArgs),
    #[cfg(feature = "tpm")]
    Attest(attest::AttestArgs),
    Export(export::ExportArgs),
    Snp(snp::SnpArgs),
    #[cfg(feature = "tpm")]
    Daemon(daemon::DaemonArgs),
    Record(Box<record::RecordArgs>),
    Run(run::RunArgs),
    #[cfg(feature = "tpm")]
    Bench(bench::BenchArgs),
    Ca(ca::CaArgs),
    Completions(docs::CompletionsArgs),
    Man(docs::ManArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Seal(args) => seal::run(*args),
        Command::Verify(args) => verify::run(args),
        Command::VerifyQuote(args) => verify_quote::run(args),
        Command::VerifySnp(args) => verify_snp::run(args),
        Command::Inspect(args) => inspect::run(args),
        #[cfg(feature = "tpm")]
        Command::Tpm(args) => tpm::run(args),
        #[cfg(feature = "tpm")]
        Command::Swtpm(args) => swtpm::run_swtpm(args),
        #[cfg(feature = "tpm")]
        Command::Attest(args) => attest::run(args),
        Command::Export(args) => export::run(args),
        Command::Snp(args) => snp::run(args),
        #[cfg(feature = "tpm")]
        Command::Daemon(args) => daemon::run(args),
        Command::Record(args) => record::run(*args),
        Command::Run(args) => run::run(args),
        #[cfg(feature = "tpm")]
        Command::Bench(args) => bench::run(args),
        Command::Ca(args) => ca::run_ca(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
    }
}
