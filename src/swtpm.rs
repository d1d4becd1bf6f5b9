//! Software TPM mode (feature `tpm`): one private swtpm per state directory.
//!
//! A state directory holds everything one software TPM needs, so nothing lands in
//! /var/lib or the user's home:
//!
//! ```text
//! DIR/state/tpm2-00.permall  the TPM's persistent state (seeds, NV, EK certificates)
//! DIR/config/                swtpm_setup.conf, swtpm-localca.conf, swtpm-localca.options
//! DIR/ca/                    swtpm_localca's CA: swtpm-localca-rootca-cert.pem (root),
//!                            issuercert.pem (intermediate), their private keys
//! DIR/setup.log              swtpm_setup's output from provisioning
//! DIR/swtpm.pid, swtpm.log   the running swtpm's pid file and log
//! DIR/swtpm.json             the running swtpm: tcti, port, controlPort, pid, startedAt
//! DIR/.lock                  held by `cer swtpm start|stop` while they work
//! ```
//!
//! [`start`] provisions the state on first use (`swtpm_setup --tpm2 --create-ek-cert
//! --create-platform-cert`), starts `swtpm socket --daemon` on loopback (server port N,
//! control port N+1), and waits until a real TPM command answers. The swtpm outlives
//! `cer`; [`stop`] signals it only after checking, through /proc, that the pid in the
//! pid file is a swtpm serving this directory.

mod process;
mod provision;

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::tpm::Tcti;
use process::{probe, spawn_on_free_port, terminate, wait_ready, Probe};

/// How long a started swtpm may take to answer a TPM command.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `stop` waits after SIGTERM before SIGKILL, and after SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Free port pairs tried when another process takes the one picked.
const PORT_ATTEMPTS: usize = 20;
const POLL: Duration = Duration::from_millis(10);
const LOOPBACK: &str = "127.0.0.1";
const INSTALL_HINT: &str = "install the swtpm and swtpm-tools packages (./scripts/setup does)";

/// A TCP port N for the swtpm's TPM commands; its control channel uses N+1, so N is
/// 1..=65534.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwtpmPort(u16);

impl SwtpmPort {
    pub fn new(port: u16) -> Result<Self, String> {
        if port == 0 || port == u16::MAX {
            return Err(format!(
                "swtpm port must be 1..65534 (the control port is port+1), found {port}"
            ));
        }
        Ok(Self(port))
    }

    /// The TPM command port N.
    pub fn get(self) -> u16 {
        self.0
    }

    /// The control port N+1.
    pub fn control(self) -> u16 {
        // `new` keeps N below u16::MAX, so this never saturates.
        self.0.saturating_add(1)
    }

    /// The TCTI that reaches this swtpm.
    pub fn tcti(self) -> Tcti {
        Tcti::Swtpm {
            host: LOOPBACK.to_owned(),
            port: self.0,
        }
    }
}

impl FromStr for SwtpmPort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let n: u16 = s
            .parse()
            .map_err(|_| format!("{s:?} is not a port number (1..65534)"))?;
        Self::new(n)
    }
}

/// A state directory, by its canonical path (see the module docs for the layout).
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Creates DIR (mode 0700: the CA's private keys live there) when missing.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .with_context(|| {
                format!("cannot create the swtpm state directory {}", path.display())
            })?;
        Self::canonical(path)
    }

    /// DIR when it exists.
    pub fn existing(path: &Path) -> anyhow::Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        Self::canonical(path).map(Some)
    }

    fn canonical(path: &Path) -> anyhow::Result<Self> {
        let root = fs::canonicalize(path)
            .with_context(|| format!("cannot open the swtpm state directory {}", path.display()))?;
        if !root.is_dir() {
            bail!("{} is not a directory", path.display());
        }
        // swtpm splits its option values (dir=…, file=…) at commas.
        if root.to_string_lossy().contains(',') {
            bail!(
                "swtpm cannot use {}: its path contains a comma; choose another --state",
                root.display()
            );
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The swtpm's `--tpmstate dir=`.
    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }
    /// The TPM's persistent state file; its presence means "provisioned".
    pub fn permall(&self) -> PathBuf {
        self.state().join("tpm2-00.permall")
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("config")
    }
    /// The local CA that signed the EK and platform certificates.
    pub fn ca(&self) -> PathBuf {
        self.root.join("ca")
    }
    pub fn setup_log(&self) -> PathBuf {
        self.root.join("setup.log")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("swtpm.pid")
    }
    pub fn log_file(&self) -> PathBuf {
        self.root.join("swtpm.log")
    }
    pub fn info_file(&self) -> PathBuf {
        self.root.join("swtpm.json")
    }
    pub fn is_provisioned(&self) -> bool {
        self.permall().is_file()
    }

    /// Holds DIR/.lock until the returned file is dropped, so two `cer swtpm` runs on
    /// one directory do not provision or start twice. The descriptor is close-on-exec:
    /// the daemonized swtpm does not inherit the lock.
    fn lock(&self) -> anyhow::Result<File> {
        let path = self.root.join(".lock");
        let file =
            File::create(&path).with_context(|| format!("cannot open {}", path.display()))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(file)
    }
}

/// What DIR/swtpm.json records about a running swtpm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub tcti: String,
    pub port: u16,
    pub control_port: u16,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub state_dir: String,
}

/// A swtpm from a state directory that is running and answering.
#[derive(Debug, Clone)]
pub struct Running {
    pub pid: u32,
    pub port: SwtpmPort,
    /// From DIR/swtpm.json, when it is there.
    pub started_at: Option<String>,
}

impl Running {
    pub fn tcti(&self) -> Tcti {
        self.port.tcti()
    }
}

/// How to start.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The TPM command port (control port +1); `None` picks a free pair on loopback.
    pub port: Option<SwtpmPort>,
    /// Provision by copying this already-provisioned state directory (its
    /// state/tpm2-00.permall and ca/) instead of running swtpm_setup. The copy shares
    /// the template's EK, seeds and CA: for tests only.
    pub template: Option<PathBuf>,
}

/// What [`start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// A swtpm from this directory was already running and answering.
    AlreadyRunning,
    /// Started from existing state.
    Restarted,
    /// Provisioned a fresh TPM (or copied the template), then started it.
    Provisioned,
}

/// Starts the swtpm of `dir` (provisioning it on first use) and waits until it answers
/// a TPM command; returns at once when it already runs and answers.
pub fn start(dir: &Path, opts: &StartOptions) -> anyhow::Result<(Running, Started)> {
    let dir = StateDir::create(dir)?;
    let _lock = dir.lock()?;
    match probe(&dir)? {
        Probe::Ours { pid, port } => {
            if let Some(wanted) = opts.port.filter(|w| *w != port) {
                bail!(
                    "the swtpm of {} already runs on port {} (pid {pid}), not {}: stop it first with `cer swtpm stop --state {}`",
                    dir.root().display(),
                    port.get(),
                    wanted.get(),
                    dir.root().display()
                );
            }
            wait_ready(&dir, pid, port).map_err(|e| {
                anyhow::anyhow!(
                    "{e:#}; stop it with `cer swtpm stop --state {}`",
                    dir.root().display()
                )
            })?;
            let started_at = read_info(&dir).map(|i| i.started_at);
            return Ok((
                Running {
                    pid,
                    port,
                    started_at,
                },
                Started::AlreadyRunning,
            ));
        }
        Probe::Stale { why } => {
            eprintln!("cer: {why}; removing the stale pid file");
            remove_run_files(&dir)?;
        }
        Probe::NoPidFile => remove_run_files(&dir)?,
    }
    let swtpm = find_tool("swtpm")?;
    let fresh = !dir.is_provisioned();
    if fresh {
        match &opts.template {
            Some(t) => provision::copy_template(&dir, t)?,
            None => provision::swtpm_setup(&dir)?,
        }
    }
    let (pid, port) = spawn_on_free_port(&swtpm, &dir, opts.port)?;
    if let Err(e) = wait_ready(&dir, pid, port) {
        // Never leave behind a swtpm that `start` reported as failed.
        let _ = terminate(&dir, pid);
        let _ = remove_run_files(&dir);
        return Err(e);
    }
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("cannot format the start time")?;
    let info = Info {
        tcti: port.tcti().to_string(),
        port: port.get(),
        control_port: port.control(),
        pid,
        started_at: started_at.clone(),
        state_dir: dir.root().display().to_string(),
    };
    let json = serde_json::to_vec_pretty(&info).context("cannot encode swtpm.json")?;
    crate::files::write_new(&dir.info_file(), &json, true)?;
    let how = if fresh {
        Started::Provisioned
    } else {
        Started::Restarted
    };
    Ok((
        Running {
            pid,
            port,
            started_at: Some(started_at),
        },
        how,
    ))
}

/// What [`stop`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// Sent SIGTERM (and SIGKILL after the grace time when `killed`); it exited.
    Stopped { pid: u32, killed: bool },
    /// Nothing was running; `stale` says what the leftover pid file named, if any.
    NotRunning { stale: Option<String> },
}

/// Stops the swtpm of `dir`, after checking the pid file names a swtpm serving `dir`
/// (a pid reused by another process is never signalled).
pub fn stop(dir: &Path) -> anyhow::Result<Stopped> {
    let Some(dir) = StateDir::existing(dir)? else {
        return Ok(Stopped::NotRunning { stale: None });
    };
    let _lock = dir.lock()?;
    match probe(&dir)? {
        Probe::NoPidFile => {
            remove_run_files(&dir)?;
            Ok(Stopped::NotRunning { stale: None })
        }
        Probe::Stale { why } => {
            remove_run_files(&dir)?;
            Ok(Stopped::NotRunning { stale: Some(why) })
        }
        Probe::Ours { pid, .. } => {
            let killed = terminate(&dir, pid)?;
            remove_run_files(&dir)?;
            Ok(Stopped::Stopped { pid, killed })
        }
    }
}

/// What [`status`] found.
#[derive(Debug, Clone)]
pub enum Status {
    Running(Running),
    /// The process is there but a TPM command through its TCTI failed.
    NotAnswering {
        pid: u32,
        port: SwtpmPort,
        error: String,
    },
    /// Not running; `stale` says what a leftover pid file named, if any.
    Stopped {
        stale: Option<String>,
    },
}

/// The state of the swtpm of `dir` (one TPM command to check it answers). Read-only.
pub fn status(dir: &Path) -> anyhow::Result<Status> {
    let Some(dir) = StateDir::existing(dir)? else {
        return Ok(Status::Stopped { stale: None });
    };
    Ok(match probe(&dir)? {
        Probe::NoPidFile => Status::Stopped { stale: None },
        Probe::Stale { why } => Status::Stopped { stale: Some(why) },
        Probe::Ours { pid, port } => match process::answers(port) {
            Ok(()) => Status::Running(Running {
                pid,
                port,
                started_at: read_info(&dir).map(|i| i.started_at),
            }),
            Err(e) => Status::NotAnswering {
                pid,
                port,
                error: format!("{e:#}"),
            },
        },
    })
}

/// `s` cut to at most `max` characters.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

fn read_info(dir: &StateDir) -> Option<Info> {
    serde_json::from_slice(&fs::read(dir.info_file()).ok()?).ok()
}

fn remove_run_files(dir: &StateDir) -> anyhow::Result<()> {
    for path in [dir.pid_file(), dir.info_file()] {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    Ok(())
}

/// An executable called `name` on PATH.
fn find_tool(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
        .with_context(|| format!("{name} is not installed (not found on PATH): {INSTALL_HINT}"))
}

/// The gist of a failed tool's stderr: its first two non-empty lines (the error and
/// its cause, in swtpm_setup's order), at most 240 characters.
fn gist(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(2)
        .collect();
    (!lines.is_empty()).then(|| shorten(&lines.join("; "), 240))
}

/// Creates `path` and missing parents with mode 0700.
fn private_dir(path: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!("2321".parse::<SwtpmPort>().unwrap().control(), 2322);
        assert_eq!("65534".parse::<SwtpmPort>().unwrap().control(), 65535);
        for bad in ["0", "65535", "65536", "-1", "x", ""] {
            assert!(bad.parse::<SwtpmPort>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shortening() {
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééééé", 2), "éé…");
    }

    #[test]
    fn gist_is_the_first_two_lines() {
        assert_eq!(
            gist(b"swtpm_localca exit with status 1: no EK\nCould not import signing key\n\nAn error occurred.\n").as_deref(),
            Some("swtpm_localca exit with status 1: no EK; Could not import signing key")
        );
        assert_eq!(gist(b"\n one \n").as_deref(), Some("one"));
        assert_eq!(gist(b"\n"), None);
    }
}
