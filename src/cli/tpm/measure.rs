//! `cer tpm measure` and `cer tpm log`: measured runtime in a PCR with a per-boot
//! CEL-JSON log.

use std::path::PathBuf;

use cerd_attestation::eventlog::{EventContent, EventLog, Kind, Measurement};
use clap::{Args, ValueEnum};

use crate::cli::Outcome;
use crate::files::digest_file;
use crate::tpm::measure::{self, DEFAULT_LOG_DIR, DEFAULT_PCR};
use crate::tpm::{pcr, Tcti, Tpm};

/// Measure files into a TPM PCR and append them to this boot's measurement log.
///
/// Each FILE is streamed through SHA-256 (constant memory; a progress bar on a
/// terminal for large files), then its SHA-256 is extended into the PCR as is, so
/// `tpm2_pcrextend 15:sha256=<sha256 of the file>` reproduces the event, and the event
/// is appended to DIR/boot-<resetCount>.cel.json: a TCG Canonical Event Log (JSON
/// encoding) with one log per TPM boot, whose replay equals the PCR. All files are
/// hashed before anything is extended, so an unreadable file changes nothing.
///
/// Why PCR 15 by default. On Linux, PCRs 0-7 belong to the firmware, 8-9 to GRUB
/// (commands, kernel command line, files), 10 to IMA, 11 to systemd-stub (unified
/// kernel images), 12-13 to systemd-boot/stub (command line, credentials, sysexts), 14
/// to shim (MOK), 16 is the debug PCR (resettable), 23 is for applications
/// (resettable, so anyone with TPM access can zero it: useless for evidence). PCR 15
/// is the "system identity" PCR in the Linux TPM PCR registry: by default nothing
/// extends it at boot on Debian 12 (systemd 252), so after a reboot it is all zeros and
/// what cerd extends is all it holds. On hosts with systemd 253 or newer, systemd-pcrmachine
/// (machine-id) and systemd-pcrfs/cryptsetup (file systems, volume keys) may extend
/// PCR 15 too; cerd then does not hide it: a log started on a non-zero PCR records the
/// value as its initial value, and an extend between two measurements is recorded as
/// a cerd_foreign record with the values the log expected and the TPM held, and
/// reported (exit 1). Choose another PCR with --pcr on such hosts; a log directory
/// holds one PCR's log per boot.
///
/// Exit status: 0 measured and the PCR matched the log; 1 measured, but the PCR held
/// something the log did not account for (recorded in the log and reported on stderr);
/// 2 bad input or environment: an unreadable file (then nothing is extended), no TPM,
/// a TPM that refused a command, or a log that is damaged or belongs to another PCR.
#[derive(Debug, Args)]
pub struct MeasureArgs {
    /// Files to measure, in order.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// PCR to extend (SHA-256 bank).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PCR,
          value_parser = clap::value_parser!(u8).range(0..=23))]
    pcr: u8,
    /// What the files are, recorded in each event.
    #[arg(long, value_enum, default_value_t = KindArg::Other)]
    kind: KindArg,
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// Directory of the per-boot measurement logs.
    #[arg(long = "log", value_name = "DIR", default_value = DEFAULT_LOG_DIR)]
    log_dir: PathBuf,
}

/// PCRs a PC Client TPM lets anyone reset at locality 0 (debug and application).
const RESETTABLE: [u8; 2] = [16, 23];

/// The measured file's role, as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KindArg {
    /// An executable (the inference binary, a library).
    Binary,
    /// Model weights, tokenizer, adapters.
    Model,
    /// Configuration.
    Config,
    /// Anything else.
    Other,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Binary => Kind::Binary,
            KindArg::Model => Kind::Model,
            KindArg::Config => Kind::Config,
            KindArg::Other => Kind::Other,
        }
    }
}

pub fn run_measure(args: MeasureArgs) -> anyhow::Result<Outcome> {
    let kind = Kind::from(args.kind);
    let items = args
        .files
        .iter()
        .map(|f| {
            let d = digest_file(f)?;
            Ok(Measurement::new(kind, d.path, d.size, d.digest)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if RESETTABLE.contains(&args.pcr) {
        eprintln!(
            "cer: warning: PCR {} can be reset by any TPM user (TPM2_PCR_Reset at locality 0): a reset shows as a foreign change, but evidence on it proves little",
            args.pcr
        );
    }
    let mut tpm = Tpm::open(&args.tcti)?;
    let mut tell = |notice: &measure::Notice| eprintln!("cer: warning: {notice}");
    let report = measure::measure(&mut tpm, &args.log_dir, args.pcr, items, &mut tell)?;
    for n in &report.recorded {
        let recnum = n.saturating_sub(1);
        if let Some(m) = usize::try_from(recnum)
            .ok()
            .and_then(|i| report.log.events().get(i))
            .and_then(|e| e.measurement())
        {
            println!(
                "record {n}  pcr {}  {}  {}  {}",
                args.pcr,
                m.digest(),
                m.kind(),
                m.path()
            );
        }
    }
    println!(
        "log {} (PCR {} = {})",
        report.log_path.display(),
        args.pcr,
        hex::encode(report.log.current())
    );
    Ok(if report.notices.iter().any(|n| n.is_unaccounted()) {
        Outcome::Invalid
    } else {
        Outcome::Ok
    })
}

/// Show this boot's measurement log and whether it replays to the TPM's PCR now.
///
/// Reads the log of the TPM's current boot (DIR/boot-<resetCount>.cel.json), prints
/// its records, replays it and compares the result with the PCR read from the TPM.
///
/// Exit status: 0 the log replays to the PCR and accounts for its whole history since
/// the boot; 1 it does not replay, or the PCR was changed outside the log (the records
/// before that change are not bound by the PCR); 2 no log for this boot, unreadable
/// log, or no TPM.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
    /// Directory of the per-boot measurement logs.
    #[arg(long = "log", value_name = "DIR", default_value = DEFAULT_LOG_DIR)]
    log_dir: PathBuf,
}

pub fn run_log(args: LogArgs) -> anyhow::Result<Outcome> {
    let mut tpm = Tpm::open(&args.tcti)?;
    let Some((path, log)) = measure::current_log(&mut tpm, &args.log_dir)? else {
        anyhow::bail!(
            "no measurement log for the TPM's current boot in {}: run cer tpm measure first",
            args.log_dir.display()
        );
    };
    let now = pcr::read(&mut tpm, log.pcr())?;
    print_log(&path, &log);
    println!("replay  {}", hex::encode(log.current()));
    println!("tpm     {}", hex::encode(now));
    match log.verify_replay(&now) {
        Err(e) => {
            println!("result  DOES NOT REPLAY: {e}");
            Ok(Outcome::Invalid)
        }
        Ok(()) if log.fully_accounted() => {
            println!(
                "result  replays to PCR {}: all {} records since the boot are accounted for",
                log.pcr(),
                log.events().len()
            );
            Ok(Outcome::Ok)
        }
        Ok(()) => {
            let foreign: Vec<String> = log
                .foreign_events()
                .map(|e| e.recnum().to_string())
                .collect();
            let initial = if *log.header().initial() == [0; 32] {
                String::new()
            } else {
                " the log started on a non-zero PCR;".to_owned()
            };
            let changes = if foreign.is_empty() {
                String::new()
            } else {
                format!(
                    " the PCR was changed outside the log (record {});",
                    foreign.join(", ")
                )
            };
            println!(
                "result  replays to PCR {}, but NOT FULLY ACCOUNTED FOR:{initial}{changes} only records from {} on are bound by the PCR",
                log.pcr(),
                log.bound_from()
            );
            Ok(Outcome::Invalid)
        }
    }
}

fn print_log(path: &std::path::Path, log: &EventLog) {
    let h = log.header();
    println!("log     {}", path.display());
    println!(
        "boot    resetCount {}, restartCount {} when the log was started",
        h.reset_count(),
        h.restart_count()
    );
    println!("pcr     {} (sha256)", log.pcr());
    println!("initial {}", hex::encode(h.initial()));
    for e in log.events() {
        match e.content() {
            EventContent::Measurement(m) => println!(
                "{:>6}  {:<7} {}  {} bytes  {}",
                e.recnum(),
                m.kind().as_str(),
                m.digest(),
                m.size(),
                m.path()
            ),
            EventContent::Foreign(f) => println!(
                "{:>6}  foreign PCR changed outside the log: expected {}, found {}",
                e.recnum(),
                hex::encode(f.expected),
                hex::encode(f.observed)
            ),
            _ => println!("{:>6}  (unknown record)", e.recnum()),
        }
    }
}
