//! `cer tpm …`: commands that talk to a TPM (feature `tpm`).

mod info;

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
}

pub fn run(args: TpmArgs) -> anyhow::Result<Outcome> {
    match args.command {
        TpmCommand::Info(a) => info::run(a),
    }
}
