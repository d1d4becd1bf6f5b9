//! Measured runtime: file digests extended into a PCR, with a replayable per-boot log.
//!
//! The log format (TCG Canonical Event Log, JSON encoding, cerd content types) and its
//! replay live in the verifier library, [`cerd_attestation::eventlog`]; this module
//! keeps one log per boot on disk and keeps it in step with the TPM.
//!
//! # Files
//!
//! In the log directory `DIR`:
//!
//! - `boot-<resetCount>.cel.json`: the log of the boot whose TPMS_CLOCK_INFO.resetCount
//!   is `<resetCount>` (a TPM Reset, i.e. a reboot, increments it and zeroes the PCRs,
//!   so one boot = one log). Only ever replaced atomically (temporary file, fsync,
//!   rename, directory fsync), never edited in place.
//! - `boot-<resetCount>.pending.json`: the next version of the log, written before an
//!   extend and renamed over the log after it (below). Present only while a
//!   measurement is in flight or after one was interrupted.
//! - `.lock`: the pid of the process measuring; one measurer per directory.
//!
//! # Order of operations and crashes
//!
//! For each file: (1) read the PCR and compare it with the log's replay; a difference
//! is appended as a `cerd_foreign` record and reported, never hidden. (2) Write the
//! log with the new measurement appended to the pending file (fsync'd). (3)
//! TPM2_PCR_Extend. (4) Rename the pending file over the log (the commit).
//!
//! Write-ahead, so that the PCR value itself tells which side of the extend a crash
//! happened on. At the next start, a pending file is resolved before anything else:
//! if the PCR equals the pending log's replay, the extend happened and the pending
//! file is committed ("recovered"); if it equals the committed log's replay, the
//! extend never happened and the pending file is dropped ("discarded": measure the
//! file again); if it equals neither, the pending file is dropped and the difference
//! is recorded as a foreign change like any other. The log on disk therefore never
//! claims an extend the TPM did not see, and an extend the log does not explain is
//! always recorded. The other order (extend, then log) would leave a crash looking
//! exactly like someone else's extend, losing what was measured.
//!
//! After the last file the PCR is read once more, so a foreign extend that raced with
//! this run is recorded now rather than at the next run.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cerd_attestation::eventlog::{self, EventLog, LogHeader, Measurement};
use cerd_attestation::json::MAX_DOCUMENT_BYTES;

use super::{pcr, Tpm};
use crate::files::write_new;

/// The PCR `cer tpm measure` extends unless told otherwise (see the CLI's help for why).
pub const DEFAULT_PCR: u8 = 15;

/// Where logs are kept unless `--log` says otherwise.
pub const DEFAULT_LOG_DIR: &str = "/var/lib/cerd/measurements";

/// The log of the boot with TPM resetCount `reset_count` in `dir`.
pub fn log_path(dir: &Path, reset_count: u32) -> PathBuf {
    dir.join(format!("boot-{reset_count}.cel.json"))
}

fn pending_path(dir: &Path, reset_count: u32) -> PathBuf {
    dir.join(format!("boot-{reset_count}.pending.json"))
}

/// Reads and strictly parses a log file.
pub fn load_log(path: &Path) -> anyhow::Result<EventLog> {
    let limit = MAX_DOCUMENT_BYTES as u64;
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read measurement log {}", path.display()))?;
    eventlog::parse(&bytes).with_context(|| {
        format!(
            "{} is not a valid measurement log (move it aside to start a new one)",
            path.display()
        )
    })
}

/// Reads the log of boot `reset_count`, refusing one whose header names another boot.
fn load_boot_log(path: &Path, reset_count: u32) -> anyhow::Result<EventLog> {
    let log = load_log(path)?;
    if log.header().reset_count() != reset_count {
        bail!(
            "{} says it is the log of boot {} (resetCount), but it is named for boot {reset_count}: it was renamed or copied; move it aside",
            path.display(),
            log.header().reset_count()
        );
    }
    Ok(log)
}

/// The log of the TPM's current boot in `dir`, if there is one.
pub fn current_log(tpm: &mut Tpm, dir: &Path) -> anyhow::Result<Option<(PathBuf, EventLog)>> {
    let (reset, _, _) = pcr::reset_count(tpm)?;
    let path = log_path(dir, reset);
    if !path.exists() {
        return Ok(None);
    }
    let log = load_boot_log(&path, reset)?;
    Ok(Some((path, log)))
}

/// Something a measurement run found and must tell the user about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A new boot's log was started while the PCR was not all zeros.
    NonZeroStart { pcr: u8, value: [u8; 32] },
    /// The PCR held a value the log did not replay to; recorded as record `recnum`.
    Foreign {
        pcr: u8,
        recnum: u64,
        expected: [u8; 32],
        observed: [u8; 32],
    },
    /// An interrupted measurement had been extended; its record was committed.
    Recovered { recnum: u64, path: String },
    /// An interrupted measurement had not been extended; it was dropped.
    Discarded { path: String },
    /// An interrupted measurement matched neither outcome; it was dropped.
    Unresolved { path: String },
    /// A pending file that is not the log plus one measurement; it was dropped.
    BadPending { file: String },
    /// The TPM restarted (restartCount changed) since the log was started.
    Restarted { from: u32, to: u32 },
}

impl Notice {
    /// True for what means the PCR holds something the log does not account for.
    pub fn is_unaccounted(&self) -> bool {
        matches!(self, Self::NonZeroStart { .. } | Self::Foreign { .. })
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NonZeroStart { pcr, value } => write!(
                f,
                "PCR {pcr} already held {} when this boot's log was started: something else extended it first; recorded as the log's initial value",
                hex::encode(value)
            ),
            Self::Foreign {
                pcr,
                recnum,
                expected,
                observed,
            } => write!(
                f,
                "PCR {pcr} was extended outside the measurement log: the log replays to {}, the TPM holds {}; recorded as record {recnum}",
                hex::encode(expected),
                hex::encode(observed)
            ),
            Self::Recovered { recnum, path } => write!(
                f,
                "an interrupted measurement of {path} had reached the TPM; recorded it as record {recnum}"
            ),
            Self::Discarded { path } => write!(
                f,
                "an interrupted measurement of {path} never reached the TPM and was dropped; measure it again"
            ),
            Self::Unresolved { path } => write!(
                f,
                "an interrupted measurement of {path} matches neither the PCR nor the log and was dropped"
            ),
            Self::BadPending { file } => write!(
                f,
                "{file} was not this log plus one measurement and was dropped"
            ),
            Self::Restarted { from, to } => write!(
                f,
                "the TPM restarted since this boot's log was started (restartCount {from} -> {to})"
            ),
        }
    }
}

/// What a call to [`measure`] did.
#[derive(Debug)]
pub struct Report {
    /// The log written.
    pub log_path: PathBuf,
    /// The log as it is now on disk.
    pub log: EventLog,
    /// Record numbers of this call's measurements, in the order given.
    pub recorded: Vec<u64>,
    /// What must be told to the user.
    pub notices: Vec<Notice>,
}

/// Extends each measurement's digest into PCR `pcr_index` and records it in the
/// current boot's log under `dir` (see the module documentation for the order of
/// operations). Each notice is passed to `tell` as soon as it is known (so none is lost
/// when a later step fails) and also returned in the report.
pub fn measure(
    tpm: &mut Tpm,
    dir: &Path,
    pcr_index: u8,
    items: Vec<Measurement>,
    tell: &mut dyn FnMut(&Notice),
) -> anyhow::Result<Report> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create log directory {}", dir.display()))?;
    let _lock = DirLock::acquire(dir)?;
    let (reset, restart, clock) = pcr::reset_count(tpm)?;
    let log_path = log_path(dir, reset);
    let pending = pending_path(dir, reset);
    let mut notices = Notices {
        all: Vec::new(),
        tell,
    };

    let mut log = if log_path.exists() {
        let log = load_boot_log(&log_path, reset)?;
        if log.pcr() != pcr_index {
            bail!(
                "{} is the log of PCR {}, not PCR {pcr_index}: use --pcr {} or another --log directory",
                log_path.display(),
                log.pcr(),
                log.pcr()
            );
        }
        if log.header().restart_count() != restart {
            notices.add(Notice::Restarted {
                from: log.header().restart_count(),
                to: restart,
            });
        }
        log
    } else {
        let initial = pcr::read(tpm, pcr_index)?;
        if initial != [0; 32] {
            notices.add(Notice::NonZeroStart {
                pcr: pcr_index,
                value: initial,
            });
        }
        let log = EventLog::new(LogHeader::new(pcr_index, reset, restart, clock, initial)?);
        commit(&log_path, &log)?;
        log
    };

    if pending.exists() {
        notices.add(resolve_pending(tpm, &pending, &log_path, &mut log)?);
    }

    let mut recorded = Vec::with_capacity(items.len());
    for item in items {
        check_foreign(tpm, &log_path, &mut log, &mut notices)?;
        let mut next = log.clone();
        let digest = *item.digest().as_bytes();
        let recnum = next.push_measurement(item);
        write_new(&pending, next.to_json().as_bytes(), true)?;
        if let Err(e) = pcr::extend(tpm, pcr_index, &digest) {
            // Most failures leave the PCR unchanged: then the pending file is simply
            // dropped. Otherwise it stays for the next run to resolve.
            if pcr::read(tpm, pcr_index).is_ok_and(|v| v == log.current()) {
                let _ = fs::remove_file(&pending);
            }
            return Err(e);
        }
        rename_over(&pending, &log_path)?;
        log = next;
        recorded.push(recnum);
    }
    check_foreign(tpm, &log_path, &mut log, &mut notices)?;
    Ok(Report {
        log_path,
        log,
        recorded,
        notices: notices.all,
    })
}

/// Notices so far, each told once when added.
struct Notices<'a> {
    all: Vec<Notice>,
    tell: &'a mut dyn FnMut(&Notice),
}

impl Notices<'_> {
    fn add(&mut self, notice: Notice) {
        (self.tell)(&notice);
        self.all.push(notice);
    }
}

/// Reads the PCR; if the log does not replay to it, appends a `cerd_foreign` record.
fn check_foreign(
    tpm: &mut Tpm,
    log_path: &Path,
    log: &mut EventLog,
    notices: &mut Notices<'_>,
) -> anyhow::Result<()> {
    let observed = pcr::read(tpm, log.pcr())?;
    let expected = log.current();
    if observed != expected {
        let recnum = log.push_foreign(observed);
        commit(log_path, log)?;
        notices.add(Notice::Foreign {
            pcr: log.pcr(),
            recnum,
            expected,
            observed,
        });
    }
    Ok(())
}

/// Settles a pending log left by an interrupted run (see the module documentation).
fn resolve_pending(
    tpm: &mut Tpm,
    pending: &Path,
    log_path: &Path,
    log: &mut EventLog,
) -> anyhow::Result<Notice> {
    let candidate = load_log(pending).ok().filter(|p| {
        p.header() == log.header()
            && p.events().len() == log.events().len().saturating_add(1)
            && p.events().starts_with(log.events())
    });
    let Some(candidate) = candidate else {
        remove(pending)?;
        return Ok(Notice::BadPending {
            file: pending.display().to_string(),
        });
    };
    let Some((recnum, path)) = candidate
        .events()
        .last()
        .and_then(|e| e.measurement().map(|m| (e.recnum(), m.path().to_owned())))
    else {
        remove(pending)?;
        return Ok(Notice::BadPending {
            file: pending.display().to_string(),
        });
    };
    let now = pcr::read(tpm, log.pcr())?;
    if now == candidate.current() {
        rename_over(pending, log_path)?;
        *log = candidate;
        Ok(Notice::Recovered { recnum, path })
    } else if now == log.current() {
        remove(pending)?;
        Ok(Notice::Discarded { path })
    } else {
        remove(pending)?;
        Ok(Notice::Unresolved { path })
    }
}

fn commit(path: &Path, log: &EventLog) -> anyhow::Result<()> {
    write_new(path, log.to_json().as_bytes(), true)
}

fn remove(path: &Path) -> anyhow::Result<()> {
    fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))
}

/// Atomically replaces `to` with `from` and makes the rename durable.
fn rename_over(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::rename(from, to)
        .with_context(|| format!("cannot rename {} to {}", from.display(), to.display()))?;
    if let Some(dir) = to.parent() {
        // As in files::write_new: the data is synced; a failed directory sync is not
        // worth failing a measurement that is already in the TPM.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// One measurer per log directory: `DIR/.lock` holds the pid of the process that
/// created it (created with its content in place, by hard link, so a reader never sees
/// it empty). A lock whose process is gone (no `/proc/<pid>`) is stale and taken over.
#[derive(Debug)]
struct DirLock {
    path: PathBuf,
}

impl DirLock {
    fn acquire(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(".lock");
        let pid = std::process::id();
        let tmp = dir.join(format!(".lock.{pid}"));
        let write_tmp = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            writeln!(f, "{pid}")?;
            f.sync_all()
        };
        write_tmp().with_context(|| format!("cannot write {}", tmp.display()))?;
        let result = (|| {
            for _ in 0..3 {
                match fs::hard_link(&tmp, &path) {
                    Ok(()) => return Ok(Self { path: path.clone() }),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let holder = fs::read_to_string(&path)
                            .ok()
                            .and_then(|s| s.trim().parse::<u32>().ok());
                        if let Some(other) = holder {
                            if Path::new(&format!("/proc/{other}")).exists() {
                                bail!(
                                    "measurement log directory {} is in use by process {other} (lock {}); wait for it to finish",
                                    dir.display(),
                                    path.display()
                                );
                            }
                        }
                        // Stale: its process is gone.
                        let _ = fs::remove_file(&path);
                    }
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot create lock {}", path.display()))
                    }
                }
            }
            bail!("cannot take the lock {}", path.display())
        })();
        let _ = fs::remove_file(&tmp);
        result
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
