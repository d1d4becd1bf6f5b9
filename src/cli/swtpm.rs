//! `cer swtpm start|stop|status`: a private software TPM per state directory.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::cli::Outcome;
use crate::swtpm::{self, StartOptions, Started, Status, Stopped, SwtpmPort};

/// Run a software TPM (swtpm) for development and tests.
///
/// `cer swtpm start --state DIR` provisions a fresh TPM 2.0 in DIR on first use
/// (swtpm_setup --tpm2 --create-ek-cert --create-platform-cert: RSA-2048 EK certificate
/// at NV 0x01c00002, ECC P-384 EK certificate at 0x01c00016, platform certificate),
/// starts `swtpm socket` in the background and prints its TCTI, so
///   TCTI=$(cer swtpm start --state DIR)
///   cer tpm info --tcti "$TCTI"
///   cer swtpm stop --state DIR
/// works. Later starts reuse the provisioned state (same EK, same certificates).
///
/// State directory layout:
///   DIR/state/tpm2-00.permall  the TPM's persistent state (seeds, NV, EK certificates)
///   DIR/config/                swtpm_setup.conf, swtpm-localca.conf, swtpm-localca.options
///   DIR/ca/                    the local CA: swtpm-localca-rootca-cert.pem (root),
///                              issuercert.pem (intermediate) and their private keys
///   DIR/setup.log              swtpm_setup's output
///   DIR/swtpm.pid, swtpm.log   the running swtpm's pid file and log
///   DIR/swtpm.json             the running swtpm: tcti, port, controlPort, pid, startedAt
///
/// The local CA is made on this machine by swtpm_localca. It is NOT a trusted TPM
/// vendor root: anything that holds DIR/ca can sign EK certificates. Trust it only for
/// development, and only when named explicitly.
///
/// The swtpm listens on loopback only (127.0.0.1): TPM commands on port N, the control
/// channel on port N+1. There is no resource manager in front of it: one client at a
/// time, and clients must flush the objects and sessions they create.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SwtpmArgs {
    #[command(subcommand)]
    command: SwtpmCommand,
}

#[derive(Debug, Subcommand)]
enum SwtpmCommand {
    Start(StartArgs),
    Stop(StopArgs),
    Status(StatusArgs),
}

/// Provision (first use) and start the swtpm of DIR; print its TCTI on stdout.
///
/// Waits until the swtpm answers a TPM command (at most 5 s). When the swtpm of DIR is
/// already running and answering, prints its TCTI and exits 0. A stale pid file (the
/// swtpm is gone) is removed. Exit status: 0 running, 2 could not start.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The state directory (created when missing, mode 0700).
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// TPM command port N on 127.0.0.1; the control port is N+1 (default: a free pair).
    #[arg(long, value_name = "N")]
    port: Option<String>,
    /// Provision by copying an already provisioned state directory (its
    /// state/tpm2-00.permall and ca/) instead of running swtpm_setup. FOR TESTS ONLY:
    /// the copy has the same EK, seeds and CA as the template, so two such TPMs are
    /// indistinguishable. Ignored when DIR is already provisioned.
    #[arg(long, value_name = "DIR")]
    template: Option<PathBuf>,
}

/// Stop the swtpm of DIR (SIGTERM, then SIGKILL after 3 s).
///
/// The pid in DIR/swtpm.pid is signalled only when /proc says it is a swtpm serving
/// DIR/state; a pid file naming any other process is removed as stale and that process
/// is left alone. Stopping a stopped swtpm says so and exits 0.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
}

/// Say whether the swtpm of DIR is running and answering, and its TCTI.
///
/// Exit status: 0 running and answering, 1 stopped or not answering.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
}

pub fn run_swtpm(args: SwtpmArgs) -> anyhow::Result<Outcome> {
    match args.command {
        SwtpmCommand::Start(a) => start(a),
        SwtpmCommand::Stop(a) => stop(a),
        SwtpmCommand::Status(a) => status(a),
    }
}

fn start(args: StartArgs) -> anyhow::Result<Outcome> {
    let port = args
        .port
        .as_deref()
        .map(|p| p.parse::<SwtpmPort>().map_err(anyhow::Error::msg))
        .transpose()
        .context("--port")?;
    let opts = StartOptions {
        port,
        template: args.template,
    };
    let (running, how) = swtpm::start(&args.state, &opts)?;
    let what = match how {
        Started::AlreadyRunning => "already running",
        Started::Restarted => "started",
        Started::Provisioned => "provisioned and started",
    };
    eprintln!(
        "cer: swtpm of {} {what} (pid {}, control port {})",
        args.state.display(),
        running.pid,
        running.port.control()
    );
    println!("{}", running.tcti());
    Ok(Outcome::Ok)
}

fn stop(args: StopArgs) -> anyhow::Result<Outcome> {
    let state = args.state.display();
    match swtpm::stop(&args.state)? {
        Stopped::Stopped { pid, killed: false } => {
            eprintln!("cer: stopped the swtpm of {state} (pid {pid})");
        }
        Stopped::Stopped { pid, killed: true } => {
            eprintln!(
                "cer: stopped the swtpm of {state} (pid {pid}, SIGKILL after SIGTERM was ignored)"
            );
        }
        Stopped::NotRunning { stale: None } => {
            eprintln!("cer: the swtpm of {state} is not running");
        }
        Stopped::NotRunning { stale: Some(why) } => {
            eprintln!(
                "cer: the swtpm of {state} is not running; {why}; removed the stale pid file"
            );
        }
    }
    Ok(Outcome::Ok)
}

fn status(args: StatusArgs) -> anyhow::Result<Outcome> {
    let state = args.state.display();
    match swtpm::status(&args.state)? {
        Status::Running(r) => {
            println!("status   running");
            println!("tcti     {}", r.tcti());
            println!("pid      {}", r.pid);
            println!("control  {}", r.port.control());
            if let Some(at) = r.started_at {
                println!("started  {at}");
            }
            println!("state    {state}");
            Ok(Outcome::Ok)
        }
        Status::NotAnswering { pid, port, error } => {
            println!("status   not answering");
            println!("tcti     {}", port.tcti());
            println!("pid      {pid}");
            println!("error    {error}");
            println!("state    {state}");
            Ok(Outcome::Invalid)
        }
        Status::Stopped { stale } => {
            println!("status   stopped");
            if let Some(why) = stale {
                println!("note     {why}");
            }
            println!("state    {state}");
            Ok(Outcome::Invalid)
        }
    }
}
