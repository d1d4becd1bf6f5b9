//! `cer swtpm start|stop|status` with real swtpm processes: provisioning, idempotent
//! start, restart on the same state, parallel instances, stale pid files, a stop that
//! never signals another process, and one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{cer, cer_command, Run, Swtpm, TestDir};

/// A state directory in the test's own TestDir whose swtpm is stopped when the test
/// ends, pass or fail (`cer swtpm stop`, then SIGKILL from the pid file as a fallback).
struct Guarded {
    dir: TestDir,
}

impl Guarded {
    fn new() -> Self {
        Self {
            dir: TestDir::new(),
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.path("tpm")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.state().join(name)
    }

    fn run(&self, verb: &str, extra: &[&str]) -> Run {
        let state = self.state();
        let mut args = vec!["swtpm", verb, "--state", state.to_str().unwrap()];
        args.extend_from_slice(extra);
        cer(&args)
    }

    /// Starts from a copy of the test process's template swtpm (no swtpm_setup run).
    fn start_from_template(&self) -> String {
        let template = template_dir();
        let run = self
            .run("start", &["--template", template.to_str().unwrap()])
            .expect(0);
        tcti_of(&run)
    }

    fn pid(&self) -> u32 {
        std::fs::read_to_string(self.file("swtpm.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.run("stop", &[]);
        if let Ok(pid) = std::fs::read_to_string(self.file("swtpm.pid")) {
            let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
        }
    }
}

/// The util template swtpm's directory (state/tpm2-00.permall and ca/).
fn template_dir() -> PathBuf {
    Swtpm::ca_dir().parent().unwrap().to_path_buf()
}

/// The one stdout line of `cer swtpm start`, checked to be a loopback swtpm TCTI.
fn tcti_of(run: &Run) -> String {
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {:?}", run.stdout);
    let tcti = lines[0];
    let port: u16 = tcti
        .strip_prefix("swtpm:host=127.0.0.1,port=")
        .unwrap_or_else(|| panic!("not a loopback swtpm TCTI: {tcti}"))
        .parse()
        .unwrap();
    assert!(port > 0 && port < u16::MAX);
    tcti.to_owned()
}

fn port_of(tcti: &str) -> u16 {
    tcti.rsplit_once("port=").unwrap().1.parse().unwrap()
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit_once(')').unwrap().1.split_whitespace().next();
            !matches!(state, Some("Z") | Some("X"))
        }
        Err(_) => false,
    }
}

fn wait_dead(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(Instant::now() < deadline, "pid {pid} did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn tpm_info_works(tcti: &str) {
    let run = cer(["tpm", "info", "--tcti", tcti]).expect(0);
    assert!(run.stdout.contains("manufacturer  IBM"), "{}", run.stdout);
}

/// The RSA EK certificate as the TPM holds it, read by tpm2-tools (not by cer).
fn ek_cert(tcti: &str, out: &Path) -> Vec<u8> {
    let status = Command::new("tpm2_nvread")
        .args(["-T", tcti, "-C", "o", "-o"])
        .arg(out)
        .arg("0x01c00002")
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(status.success(), "tpm2_nvread 0x01c00002 failed");
    std::fs::read(out).unwrap()
}

/// Checks with openssl that `der` is signed by the CA kept in `ca`.
fn chains_to(der_file: &Path, ca: &Path) {
    let pem = der_file.with_extension("pem");
    let conv = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(der_file)
        .arg("-out")
        .arg(&pem)
        .status()
        .unwrap();
    assert!(conv.success());
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(ca.join("swtpm-localca-rootca-cert.pem"))
        .arg("-untrusted")
        .arg(ca.join("issuercert.pem"))
        .arg(&pem)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn provision_start_idempotent_status_stop_restart() {
    let g = Guarded::new();

    // First start provisions with swtpm_setup; its CA lives in DIR/ca.
    let run = g.run("start", &[]).expect(0);
    assert!(
        run.stderr.contains("provisioned and started"),
        "{}",
        run.stderr
    );
    let tcti = tcti_of(&run);
    for f in [
        "state/tpm2-00.permall",
        "config/swtpm_setup.conf",
        "config/swtpm-localca.conf",
        "config/swtpm-localca.options",
        "ca/swtpm-localca-rootca-cert.pem",
        "ca/issuercert.pem",
        "ca/signkey.pem",
        "setup.log",
        "swtpm.log",
    ] {
        assert!(g.file(f).is_file(), "{f} missing");
    }
    let conf = std::fs::read_to_string(g.file("config/swtpm-localca.conf")).unwrap();
    let ca = std::fs::canonicalize(g.file("ca")).unwrap();
    assert!(
        conf.contains(&format!("statedir = {}", ca.display())),
        "{conf}"
    );
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(g.file("swtpm.json")).unwrap()).unwrap();
    let pid = g.pid();
    assert_eq!(info["tcti"], tcti.as_str());
    assert_eq!(info["pid"], pid);
    assert_eq!(info["port"], port_of(&tcti));
    assert_eq!(info["controlPort"], port_of(&tcti) + 1);
    assert!(info["startedAt"].as_str().unwrap().ends_with('Z'), "{info}");

    // The swtpm outlived `cer` and answers real TPM commands; its EK certificate chains
    // to the CA in DIR/ca.
    tpm_info_works(&tcti);
    let ek1 = ek_cert(&tcti, &g.dir.path("ek1.der"));
    chains_to(&g.dir.path("ek1.der"), &ca);
    let root1 = std::fs::read(g.file("ca/swtpm-localca-rootca-cert.pem")).unwrap();

    // A second start is idempotent: same TCTI, same process.
    let again = g.run("start", &[]).expect(0);
    assert_eq!(tcti_of(&again), tcti);
    assert!(again.stderr.contains("already running"), "{}", again.stderr);
    assert_eq!(g.pid(), pid);

    let st = g.run("status", &[]).expect(0);
    assert!(st.stdout.contains("status   running"), "{}", st.stdout);
    assert!(
        st.stdout.contains(&format!("tcti     {tcti}")),
        "{}",
        st.stdout
    );

    let stop = g.run("stop", &[]).expect(0);
    assert!(
        stop.stderr.contains(&format!("pid {pid}")),
        "{}",
        stop.stderr
    );
    assert!(!alive(pid), "swtpm {pid} still running after stop");
    assert!(!g.file("swtpm.pid").exists() && !g.file("swtpm.json").exists());
    let st = g.run("status", &[]).expect(1);
    assert!(st.stdout.contains("status   stopped"), "{}", st.stdout);
    let stop = g.run("stop", &[]).expect(0);
    assert!(stop.stderr.contains("is not running"), "{}", stop.stderr);
    cer(["tpm", "info", "--tcti", &tcti]).expect(2);

    // Restart: no new provisioning; the same EK certificate and CA.
    let run = g.run("start", &[]).expect(0);
    assert!(run.stderr.contains(" started"), "{}", run.stderr);
    assert!(!run.stderr.contains("provisioned"), "{}", run.stderr);
    let tcti2 = tcti_of(&run);
    tpm_info_works(&tcti2);
    assert_eq!(ek_cert(&tcti2, &g.dir.path("ek2.der")), ek1);
    assert_eq!(
        std::fs::read(g.file("ca/swtpm-localca-rootca-cert.pem")).unwrap(),
        root1
    );
    let pid2 = g.pid();
    assert_ne!(pid2, pid);
    g.run("stop", &[]).expect(0);
    assert!(!alive(pid2));
}

#[test]
fn parallel_swtpms_get_different_ports() {
    let (a, b) = (Guarded::new(), Guarded::new());
    // Started at the same moment: each picks its own free pair.
    let (ta, tb) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.start_from_template());
        let hb = s.spawn(|| b.start_from_template());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert_ne!(ta, tb);
    let (pa, pb) = (port_of(&ta), port_of(&tb));
    assert!(pa.abs_diff(pb) >= 2, "port pairs overlap: {pa} {pb}");
    tpm_info_works(&ta);
    tpm_info_works(&tb);
    // Template copies share the template's EK (why --template is for tests only).
    assert_eq!(
        ek_cert(&ta, &a.dir.path("ek.der")),
        ek_cert(&tb, &b.dir.path("ek.der"))
    );
    a.run("stop", &[]).expect(0);
    tpm_info_works(&tb); // stopping one leaves the other alone
    b.run("stop", &[]).expect(0);
}

#[test]
fn concurrent_starts_of_one_directory_share_one_swtpm() {
    let g = Guarded::new();
    // Both wait on DIR/.lock: one provisions and starts, the other finds it running.
    let (t1, t2) = std::thread::scope(|s| {
        let h1 = s.spawn(|| g.start_from_template());
        let h2 = s.spawn(|| g.start_from_template());
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert_eq!(t1, t2);
    tpm_info_works(&t1);
    let pid = g.pid();
    g.run("stop", &[]).expect(0);
    assert!(!alive(pid));
}

#[test]
fn explicit_ports() {
    for bad in ["0", "65535", "65536", "http"] {
        let g = Guarded::new();
        let run = g.run("start", &["--port", bad]).expect(2);
        assert!(run.one_error_line().contains("--port"), "{}", run.stderr);
        assert!(!g.file("swtpm.pid").exists());
    }
    let a = Guarded::new();
    let tcti = a.start_from_template();
    let port = port_of(&tcti);
    // The running one on another port is not silently reused.
    let other = (port + 2).to_string();
    let run = a.run("start", &["--port", &other]).expect(2);
    assert!(
        run.one_error_line().contains("already runs on port"),
        "{}",
        run.stderr
    );
    // Its own port again is idempotent.
    let same = a.run("start", &["--port", &port.to_string()]).expect(0);
    assert_eq!(tcti_of(&same), tcti);
    // A second swtpm cannot take the ports in use.
    let b = Guarded::new();
    let template = template_dir();
    let run = b
        .run(
            "start",
            &[
                "--port",
                &port.to_string(),
                "--template",
                template.to_str().unwrap(),
            ],
        )
        .expect(2);
    assert!(run.one_error_line().contains("in use"), "{}", run.stderr);
    a.run("stop", &[]).expect(0);
    // Once free, the same explicit port works for the other directory.
    let run = b.run("start", &["--port", &port.to_string()]).expect(0);
    assert_eq!(tcti_of(&run), tcti);
    tpm_info_works(&tcti);
    b.run("stop", &[]).expect(0);
}

#[test]
fn stale_pid_files_are_recovered() {
    let g = Guarded::new();
    g.start_from_template();
    let pid = g.pid();
    // A crash: SIGKILL leaves the pid file behind.
    assert!(Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    wait_dead(pid);
    assert!(g.file("swtpm.pid").exists());
    let st = g.run("status", &[]).expect(1);
    assert!(st.stdout.contains("status   stopped"), "{}", st.stdout);
    assert!(st.stdout.contains("no longer running"), "{}", st.stdout);

    let run = g.run("start", &[]).expect(0);
    assert!(run.stderr.contains("stale pid file"), "{}", run.stderr);
    let tcti = tcti_of(&run);
    tpm_info_works(&tcti);
    assert_ne!(g.pid(), pid);
    g.run("stop", &[]).expect(0);

    // A pid file with garbage in it is stale too.
    std::fs::write(g.file("swtpm.pid"), "not a pid\n").unwrap();
    g.run("status", &[]).expect(1);
    let run = g.run("start", &[]).expect(0);
    tpm_info_works(&tcti_of(&run));
    g.run("stop", &[]).expect(0);
}

#[test]
fn stop_never_signals_another_process() {
    let g = Guarded::new();
    g.start_from_template();
    g.run("stop", &[]).expect(0);

    // The pid file names an unrelated process (a reused pid): it must survive.
    let mut sleeper = Command::new("sleep").arg("300").spawn().unwrap();
    std::fs::write(g.file("swtpm.pid"), format!("{}\n", sleeper.id())).unwrap();
    let st = g.run("status", &[]).expect(1);
    assert!(st.stdout.contains("not the swtpm"), "{}", st.stdout);
    let run = g.run("stop", &[]).expect(0);
    assert!(run.stderr.contains("not the swtpm"), "{}", run.stderr);
    assert!(run.stderr.contains("sleep 300"), "{}", run.stderr);
    std::thread::sleep(Duration::from_millis(100));
    assert!(sleeper.try_wait().unwrap().is_none(), "stop killed `sleep`");
    assert!(!g.file("swtpm.pid").exists());
    // start treats it as stale as well, and still leaves it alone.
    std::fs::write(g.file("swtpm.pid"), format!("{}\n", sleeper.id())).unwrap();
    let run = g.run("start", &[]).expect(0);
    tpm_info_works(&tcti_of(&run));
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "start killed `sleep`"
    );
    g.run("stop", &[]).expect(0);
    assert!(sleeper.try_wait().unwrap().is_none(), "stop killed `sleep`");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();

    // The pid file names a swtpm, but one serving another directory: left alone too.
    let other = Guarded::new();
    let other_tcti = other.start_from_template();
    std::fs::write(g.file("swtpm.pid"), format!("{}\n", other.pid())).unwrap();
    let run = g.run("stop", &[]).expect(0);
    assert!(run.stderr.contains("not the swtpm"), "{}", run.stderr);
    tpm_info_works(&other_tcti);
    other.run("stop", &[]).expect(0);
}

#[test]
fn missing_tools_are_one_line() {
    let g = Guarded::new();
    let empty = g.dir.path("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let state = g.state();
    let run = |path: &Path| {
        let out = cer_command()
            .args(["swtpm", "start", "--state"])
            .arg(&state)
            .env("PATH", path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
        .expect(2)
    };
    let r = run(&empty);
    let line = r.one_error_line();
    assert!(line.contains("swtpm is not installed"), "{line}");
    assert!(line.contains("swtpm-tools"), "{line}");
    assert!(r.stdout.is_empty());

    // swtpm there, swtpm_setup not: named as missing.
    let only = g.dir.path("only-swtpm");
    std::fs::create_dir(&only).unwrap();
    let swtpm = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v swtpm"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::os::unix::fs::symlink(swtpm.trim(), only.join("swtpm")).unwrap();
    let r = run(&only);
    assert!(
        r.one_error_line().contains("swtpm_setup is not installed"),
        "{}",
        r.stderr
    );
    assert!(!g.file("state/tpm2-00.permall").exists());
}

#[test]
fn swtpm_setup_failure_is_one_line_with_the_log_kept() {
    let g = Guarded::new();
    // A local CA whose signing key is not a key: swtpm_localca cannot sign the EK
    // certificate, so the real swtpm_setup fails.
    std::fs::create_dir_all(g.file("ca")).unwrap();
    std::fs::write(g.file("ca/signkey.pem"), "not a key\n").unwrap();
    std::fs::write(g.file("ca/issuercert.pem"), "not a certificate\n").unwrap();
    std::fs::write(g.file("ca/certserial"), "1\n").unwrap();
    let run = g.run("start", &[]).expect(2);
    let line = run.one_error_line();
    assert!(line.contains("swtpm_setup could not provision"), "{line}");
    assert!(line.contains("setup.log"), "{line}");
    let log = std::fs::read_to_string(g.file("setup.log")).unwrap();
    assert!(log.contains("swtpm_localca"), "{log}");
    assert!(!g.file("state/tpm2-00.permall").exists());
    assert!(!g.file("swtpm.pid").exists());
}

#[test]
fn stop_and_status_of_a_missing_directory() {
    let dir = TestDir::new();
    let missing = dir.path("never-created");
    let run = cer(["swtpm", "stop", "--state", missing.to_str().unwrap()]).expect(0);
    assert!(run.stderr.contains("is not running"), "{}", run.stderr);
    let run = cer(["swtpm", "status", "--state", missing.to_str().unwrap()]).expect(1);
    assert!(run.stdout.contains("status   stopped"));
    let comma = dir.path("a,b");
    let run = cer(["swtpm", "start", "--state", comma.to_str().unwrap()]).expect(2);
    assert!(run.one_error_line().contains("comma"), "{}", run.stderr);
    let not_template = dir.path("not-a-template");
    std::fs::create_dir(&not_template).unwrap();
    let g = Guarded::new();
    let run = g
        .run("start", &["--template", not_template.to_str().unwrap()])
        .expect(2);
    assert!(run
        .one_error_line()
        .contains("not a provisioned swtpm state directory"));
}
