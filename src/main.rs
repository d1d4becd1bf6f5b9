//! `cer`: seal AI inference runs into Certified Execution Records and verify them.
//!
//! This file only parses flags, runs the command and turns the outcome into an exit
//! code: 0 valid/ok, 1 verification failed, 2 bad input or usage.

#[cfg(feature = "tpm")]
mod batch;
mod ca;
mod cli;
mod client;
#[cfg(feature = "tpm")]
mod daemon;
mod files;
mod host;
mod snp;
#[cfg(feature = "tpm")]
mod swtpm;
#[cfg(feature = "tpm")]
mod tpm;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    #[cfg(feature = "tpm")]
    tpm::quiet_library_logging();
    match cli::run(args) {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            eprintln!("cer: error: {err:#}");
            cli::Outcome::BadInput.into()
        }
    }
}
