//! The swtpm process: who the pid file names, starting the daemon on a free port pair,
//! readiness, and signals.

use std::fs;
use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rustix::process::{Pid, Signal};

use super::{
    gist, shorten, StateDir, SwtpmPort, LOOPBACK, POLL, PORT_ATTEMPTS, READY_TIMEOUT, STOP_GRACE,
};
use crate::tpm::{identity, Tpm};

/// What the pid file says.
#[derive(Debug)]
pub(super) enum Probe {
    NoPidFile,
    /// A live swtpm whose command line serves this directory.
    Ours {
        pid: u32,
        port: SwtpmPort,
    },
    /// A pid file naming no process, a zombie, or another program.
    Stale {
        why: String,
    },
}

pub(super) fn probe(dir: &StateDir) -> anyhow::Result<Probe> {
    let path = dir.pid_file();
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Probe::NoPidFile),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let Some(pid) = text.trim().parse::<u32>().ok().filter(|p| *p > 1) else {
        return Ok(Probe::Stale {
            why: format!(
                "{} holds {:?}, not a process id",
                path.display(),
                text.trim()
            ),
        });
    };
    let Some(argv) = live_cmdline(pid) else {
        return Ok(Probe::Stale {
            why: format!(
                "{} names pid {pid}, which is no longer running",
                path.display()
            ),
        });
    };
    match serving_port(&argv, dir) {
        Some(port) => Ok(Probe::Ours { pid, port }),
        None => Ok(Probe::Stale {
            why: format!(
                "{} names pid {pid}, which is not the swtpm of this directory but `{}` (left alone)",
                path.display(),
                shorten(&argv.join(" "), 80)
            ),
        }),
    }
}

/// The argv of a live (not zombie) process, from /proc/PID/cmdline.
fn live_cmdline(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')', since comm may hold ')'.
    let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// The server port when `argv` is `swtpm socket … --tpmstate dir=DIR/state … --server
/// …,port=N,…`, i.e. a swtpm serving this state directory.
fn serving_port(argv: &[String], dir: &StateDir) -> Option<SwtpmPort> {
    let mut args = argv.iter();
    let program = args.next()?;
    if Path::new(program).file_name()? != "swtpm" || args.next()? != "socket" {
        return None;
    }
    let state = format!("dir={}", dir.state().display());
    let flag_value = |flag: &str| {
        argv.iter()
            .zip(argv.iter().skip(1))
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| v.as_str())
    };
    let tpmstate = flag_value("--tpmstate")?;
    if tpmstate.split(',').next()? != state {
        return None;
    }
    flag_value("--server")?
        .split(',')
        .find_map(|kv| kv.strip_prefix("port="))?
        .parse()
        .ok()
}

/// Starts `swtpm socket --daemon` on `port`, or on free pairs until one is not taken
/// by someone else in between; returns the daemon's pid and its port.
pub(super) fn spawn_on_free_port(
    swtpm: &Path,
    dir: &StateDir,
    port: Option<SwtpmPort>,
) -> anyhow::Result<(u32, SwtpmPort)> {
    if let Some(port) = port {
        return match spawn(swtpm, dir, port)? {
            Some(pid) => Ok((pid, port)),
            None => bail!(
                "port {} or {} on {LOOPBACK} is in use: pick another --port, or leave it out to use a free pair",
                port.get(),
                port.control()
            ),
        };
    }
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port_pair()?;
        if let Some(pid) = spawn(swtpm, dir, port)? {
            return Ok((pid, port));
        }
    }
    bail!("no free port pair on {LOOPBACK} after {PORT_ATTEMPTS} attempts (other processes took each one)")
}

/// A port P such that P and P+1 were both free on loopback a moment ago.
fn free_port_pair() -> anyhow::Result<SwtpmPort> {
    for _ in 0..1000 {
        let first = TcpListener::bind((LOOPBACK, 0)).context("cannot bind a port on loopback")?;
        let p = first
            .local_addr()
            .context("cannot read a bound port")?
            .port();
        if let Ok(port) = SwtpmPort::new(p) {
            if TcpListener::bind((LOOPBACK, port.control())).is_ok() {
                return Ok(port);
            }
        }
    }
    bail!("found no two adjacent free ports on {LOOPBACK}")
}

/// Runs the daemonizing swtpm; `None` when a port was in use. swtpm binds both ports
/// before it forks, so its exit status tells.
fn spawn(swtpm: &Path, dir: &StateDir, port: SwtpmPort) -> anyhow::Result<Option<u32>> {
    let log = dir.log_file();
    let log_start = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let status = Command::new(swtpm)
        .args(["socket", "--tpm2", "--tpmstate"])
        .arg(format!("dir={}", dir.state().display()))
        .arg("--server")
        .arg(format!("type=tcp,port={},bindaddr={LOOPBACK}", port.get()))
        .arg("--ctrl")
        .arg(format!(
            "type=tcp,port={},bindaddr={LOOPBACK}",
            port.control()
        ))
        .args([
            "--flags",
            "not-need-init,startup-clear",
            "--daemon",
            "--pid",
        ])
        .arg(format!("file={}", dir.pid_file().display()))
        .arg("--log")
        .arg(format!("file={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", swtpm.display()))?;
    if !status.success() {
        let tail = fs::read(&log)
            .ok()
            .and_then(|b| {
                b.get(usize::try_from(log_start).unwrap_or(0)..)
                    .map(<[u8]>::to_vec)
            })
            .unwrap_or_default();
        if String::from_utf8_lossy(&tail).contains("Address already in use") {
            return Ok(None);
        }
        let why = gist(&tail).unwrap_or_else(|| format!("exited with {status}"));
        bail!("swtpm did not start: {why} (log in {})", log.display());
    }
    // The daemon writes its pid file after forking; give it a moment.
    let begun = Instant::now();
    loop {
        if let Probe::Ours { pid, port: p } = probe(dir)? {
            if p == port {
                return Ok(Some(pid));
            }
        }
        if begun.elapsed() >= READY_TIMEOUT {
            bail!(
                "swtpm started but wrote no usable pid file {} within {} s (log in {})",
                dir.pid_file().display(),
                READY_TIMEOUT.as_secs(),
                log.display()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// One real TPM command (GetCapability) through the swtpm's TCTI.
pub(super) fn answers(port: SwtpmPort) -> anyhow::Result<()> {
    identity(&mut Tpm::open(&port.tcti())?).map(|_| ())
}

/// Waits until the swtpm answers, at most [`READY_TIMEOUT`].
pub(super) fn wait_ready(dir: &StateDir, pid: u32, port: SwtpmPort) -> anyhow::Result<()> {
    let begun = Instant::now();
    loop {
        let err = match answers(port) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if live_cmdline(pid).is_none() {
            bail!(
                "swtpm (pid {pid}) exited right after it started (log in {})",
                dir.log_file().display()
            );
        }
        if begun.elapsed() >= READY_TIMEOUT {
            bail!(
                "the swtpm of {} (pid {pid}) does not answer within {} s: {err:#}",
                dir.root().display(),
                READY_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// SIGTERM, then SIGKILL after [`STOP_GRACE`]; returns whether SIGKILL was needed.
/// "Gone" includes a zombie: the daemon's parent is init, which reaps it (or not, in
/// some containers) on its own schedule.
pub(super) fn terminate(dir: &StateDir, pid: u32) -> anyhow::Result<bool> {
    let target = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .with_context(|| format!("pid {pid} is out of range"))?;
    let gone = |grace: Duration| {
        let begun = Instant::now();
        loop {
            // An exiting process has released its memory (empty cmdline) before it
            // becomes a zombie: only then, or once another program holds the pid, is
            // it gone.
            match live_cmdline(pid) {
                None => return true,
                Some(argv) if argv.is_empty() => {}
                Some(argv) if serving_port(&argv, dir).is_none() => return true,
                Some(_) => {}
            }
            if begun.elapsed() >= grace {
                return false;
            }
            std::thread::sleep(POLL);
        }
    };
    for (signal, name) in [(Signal::TERM, "SIGTERM"), (Signal::KILL, "SIGKILL")] {
        match rustix::process::kill_process(target, signal) {
            Ok(()) => {}
            Err(rustix::io::Errno::SRCH) => return Ok(signal == Signal::KILL),
            Err(e) => {
                return Err(io::Error::from(e))
                    .with_context(|| format!("cannot send {name} to swtpm pid {pid}"))
            }
        }
        if gone(STOP_GRACE) {
            return Ok(signal == Signal::KILL);
        }
    }
    bail!("swtpm pid {pid} did not exit after SIGKILL")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn only_a_swtpm_serving_this_dir_matches() {
        let dir = StateDir {
            root: PathBuf::from("/d"),
        };
        let ours = "/usr/bin/swtpm socket --tpm2 --tpmstate dir=/d/state --server type=tcp,port=4000,bindaddr=127.0.0.1 --ctrl type=tcp,port=4001";
        assert_eq!(serving_port(&argv(ours), &dir), SwtpmPort::new(4000).ok());
        for other in [
            "sleep 1000",
            "swtpm socket --tpm2 --tpmstate dir=/e/state --server type=tcp,port=4000",
            "swtpm socket --tpm2 --tpmstate dir=/d/state2 --server type=tcp,port=4000",
            "swtpm chardev --tpm2 --tpmstate dir=/d/state --server type=tcp,port=4000",
            "notswtpm socket --tpmstate dir=/d/state --server type=tcp,port=4000",
            "swtpm socket --tpmstate dir=/d/state",
            "swtpm",
        ] {
            assert_eq!(serving_port(&argv(other), &dir), None, "{other}");
        }
    }

    #[test]
    fn own_process_is_live() {
        let argv = live_cmdline(std::process::id()).unwrap();
        assert!(!argv.is_empty());
        assert!(live_cmdline(u32::MAX).is_none());
    }
}
