//! `cer daemon`: the long-running service (docs/daemon.md).

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::daemon::{self, config::Config};

/// Run the cerd daemon: seal run descriptions from local clients, keep them durably,
/// and bind them to TPM quotes in batches.
///
/// Serves HTTP/1.1 + JSON on a Unix socket (docs/daemon.md): POST /v1/records,
/// GET /v1/records/{certificateHash}, GET /v1/records?since=N&limit=M, GET /v1/health,
/// GET /metrics. Measures the configured runtime profile into the PCR at start and on
/// SIGHUP. SIGTERM stops accepting, quotes the open batch and exits.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Configuration file (TOML; every key is documented in deploy/config.example.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

pub fn run(args: DaemonArgs) -> anyhow::Result<Outcome> {
    let config = Config::load(&args.config)?;
    daemon::run(config)?;
    Ok(Outcome::Ok)
}
