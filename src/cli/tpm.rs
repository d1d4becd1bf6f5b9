//! `cer tpm …`: commands that talk to a TPM (feature `tpm`).

mod ak;
mod ek;
mod enroll;
mod info;
mod measure;

use clap::{Args, Subcommand};

use super::Outcome;

/// Talk to a TPM: identify it, and (coming) manage keys, measure files, enroll.
#[derive(Debug, Args)]
pub struct TpmArgs {
    #[command(subcommand)]
    command: TpmCommand,
}

#[derive(Debug, Subcommand)]
enum TpmCommand {
    Info(info::InfoArgs),
    Ak(ak::AkArgs),
    EkCerts(ek::EkCertsArgs),
    Measure(measure::MeasureArgs),
    Log(measure::LogArgs),
    EnrollRequest(enroll::EnrollRequestArgs),
    Activate(enroll::ActivateArgs),
}

pub fn run(args: TpmArgs) -> anyhow::Result<Outcome> {
    match args.command {
        TpmCommand::Info(a) => info::run(a),
        TpmCommand::Ak(a) => ak::run_ak(a),
        TpmCommand::EkCerts(a) => ek::run_ek_certs(a),
        TpmCommand::Measure(a) => measure::run_measure(a),
        TpmCommand::Log(a) => measure::run_log(a),
        TpmCommand::EnrollRequest(a) => enroll::run_enroll_request(a),
        TpmCommand::Activate(a) => enroll::run_activate(a),
    }
}
