//! Helpers: a temp dir per test, running `cer`, and a private swtpm.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A named change to a bundle.
pub type Edit = Box<dyn Fn(&mut Value)>;

/// A test's own directory, removed when the test ends.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("cerd-test-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// The result of one `cer` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().expect("cer was killed by a signal"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "cer panicked:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts stderr is exactly one `cer: error:` line.
    #[track_caller]
    pub fn one_error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one stderr line, got:\n{}",
            self.stderr
        );
        assert!(lines[0].starts_with("cer: error: "), "{}", lines[0]);
        lines[0]
    }

    /// stdout parsed as JSON lines.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap()
    }
}

pub fn cer_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cer"));
    cmd.env_remove("RUST_BACKTRACE").env("NO_COLOR", "1");
    cmd
}

/// Runs `cer ARGS` with no stdin.
pub fn cer<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Run::from(
        cer_command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

/// Runs `cer ARGS` with `input` on stdin.
pub fn cer_stdin<I, S>(args: I, input: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut child = cer_command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The child may exit before reading everything (bad input); ignore EPIPE.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run::from(out)
}

pub const HASH_A: &str = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
pub const HASH_B: &str = "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

/// Seals a record with fixed inputs and returns its JSON text.
pub fn sealed(extra: &[&str]) -> String {
    let mut args = vec![
        "seal",
        "--provider",
        "local",
        "--model",
        "llama-3-8b",
        "--input-hash",
        HASH_A,
        "--output-hash",
        HASH_B,
        "--created-at",
        "2026-02-12T00:00:00.000Z",
        "--execution-id",
        "run-1",
    ];
    args.extend_from_slice(extra);
    cer(&args).expect(0).stdout
}

/// Seals a run given by its input/output digests (provider `local`, model `m`,
/// execution `id`) into `out`, with `extra` flags (e.g. `--model-file F`); returns `out`.
#[allow(dead_code)] // used by TPM tests only
pub fn seal_digests(out: PathBuf, id: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "seal",
        "--provider",
        "local",
        "--model",
        "m",
        "--input-hash",
        HASH_A,
        "--output-hash",
        HASH_B,
        "--execution-id",
        id,
        "-o",
    ];
    let out_text = out.display().to_string();
    args.push(&out_text);
    args.extend_from_slice(extra);
    cer(&args).expect(0);
    out
}

/// sha256sum(1) of a file, as `sha256:<hex>`: an independent implementation.
pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    format!("sha256:{}", text.split_whitespace().next().unwrap())
}

/// Lowercase hex SHA-256 of bytes.
#[allow(dead_code)] // used by TPM tests only
pub fn sha256_bytes(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(feature = "tpm")]
pub use swtpm::{enrollment, Swtpm};

#[cfg(feature = "tpm")]
mod swtpm {
    use std::net::{TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use super::TestDir;

    /// A swtpm provisioned once per test process by `swtpm_setup --tpm2
    /// --create-ek-cert --create-platform-cert` (RSA-2048 EK cert at NV 0x01c00002, ECC
    /// P-384 EK cert at 0x01c00016), with its local CA kept in the template directory.
    /// Each [`Swtpm`] starts from a copy of its state file (~5 ms instead of ~0.7 s).
    struct Template {
        dir: PathBuf,
    }

    /// An attestation CA and a certificate for the ECC AK at 0x81010002, made once per
    /// test process by the real enrollment (request, challenge with the swtpm CA trusted,
    /// activate, issue). Every test swtpm is a copy of one template, so they share the
    /// endorsement seed and `cer tpm ak create` re-creates the same AK in each: one
    /// certificate serves them all.
    #[allow(dead_code)]
    pub struct Enrollment {
        /// The AK certificate (PEM), for `--ak-cert` / the daemon's `ak_cert`.
        pub ak_cert: PathBuf,
        /// The attestation CA's root (PEM), for a policy's `attestation_ca`.
        pub ca_root: PathBuf,
    }

    #[allow(dead_code)]
    pub fn enrollment() -> &'static Enrollment {
        static ENROLLMENT: OnceLock<Enrollment> = OnceLock::new();
        ENROLLMENT.get_or_init(|| {
            let dir = template().dir.join("enrollment");
            std::fs::create_dir_all(&dir).unwrap();
            let p = |n: &str| dir.join(n).display().to_string();
            let tpm = Swtpm::start();
            let tcti = tpm.tcti();
            let run = |args: &[&str]| {
                let out = Command::new(env!("CARGO_BIN_EXE_cer"))
                    .args(args)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "cer {args:?}: {out:?}");
            };
            run(&["tpm", "ak", "create", "--tcti", &tcti]);
            run(&["ca", "init", "--dir", &p("ca")]);
            run(&[
                "tpm",
                "enroll-request",
                "--tcti",
                &tcti,
                "--ek",
                "rsa2048",
                "-o",
                &p("req.json"),
            ]);
            let swtpm_ca = template().dir.join("ca").display().to_string();
            run(&[
                "ca",
                "challenge",
                "--dir",
                &p("ca"),
                &p("req.json"),
                "--trust-swtpm-ca",
                &swtpm_ca,
                "-o",
                &p("ch.json"),
            ]);
            run(&[
                "tpm",
                "activate",
                "--tcti",
                &tcti,
                &p("ch.json"),
                "-o",
                &p("resp.json"),
            ]);
            run(&[
                "ca",
                "issue",
                "--dir",
                &p("ca"),
                &p("resp.json"),
                "-o",
                &p("ak-cert.pem"),
            ]);
            Enrollment {
                ak_cert: dir.join("ak-cert.pem"),
                ca_root: dir.join("ca/ca-cert.pem"),
            }
        })
    }

    fn template() -> &'static Template {
        static TEMPLATE: OnceLock<Template> = OnceLock::new();
        TEMPLATE.get_or_init(|| {
            require("swtpm");
            require("swtpm_setup");
            // Under target/ (removed by `cargo clean`), one per test process.
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("swtpm-template-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let (state, cfg, ca) = (dir.join("state"), dir.join("cfg"), dir.join("ca"));
            for d in [&state, &cfg, &ca] {
                std::fs::create_dir_all(d).unwrap();
            }
            std::fs::write(
                cfg.join("swtpm-localca.conf"),
                format!(
                    "statedir = {ca}\nsigningkey = {ca}/signkey.pem\nissuercert = {ca}/issuercert.pem\ncertserial = {ca}/certserial\n",
                    ca = ca.display()
                ),
            )
            .unwrap();
            std::fs::write(
                cfg.join("swtpm-localca.options"),
                "--platform-manufacturer cerd-test\n--platform-version 2.1\n--platform-model swtpm\n",
            )
            .unwrap();
            std::fs::write(
                cfg.join("swtpm_setup.conf"),
                format!(
                    "create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = {c}/swtpm-localca.conf\ncreate_certs_tool_options = {c}/swtpm-localca.options\nactive_pcr_banks = sha256\n",
                    c = cfg.display()
                ),
            )
            .unwrap();
            let out = Command::new("swtpm_setup")
                .args(["--tpm2", "--create-ek-cert", "--create-platform-cert", "--overwrite"])
                .arg("--tpmstate")
                .arg(&state)
                .arg("--config")
                .arg(cfg.join("swtpm_setup.conf"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "swtpm_setup failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Template { dir }
        })
    }

    fn require(tool: &str) {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "{tool} is not installed: run ./scripts/setup (the README's first command installs it)"
        );
    }

    /// A private, provisioned swtpm on free loopback ports, killed when dropped.
    pub struct Swtpm {
        child: Child,
        pub port: u16,
        state: TestDir,
    }

    impl Swtpm {
        pub fn start() -> Self {
            let template = template();
            for _ in 0..20 {
                let port = free_port_pair();
                let state = TestDir::new();
                std::fs::copy(
                    template.dir.join("state/tpm2-00.permall"),
                    state.path("tpm2-00.permall"),
                )
                .unwrap();
                let mut child = spawn(state.root(), port);
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        break; // lost the port race; try another pair
                    }
                    if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                        return Self { child, port, state };
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            panic!("could not start swtpm on any free port pair");
        }

        pub fn tcti(&self) -> String {
            format!("swtpm:host=127.0.0.1,port={}", self.port)
        }

        /// A power cycle: CMD_INIT on the control channel, then TPM2_Startup(CLEAR).
        /// resetCount goes up, PCRs are reset, persistent objects stay.
        #[allow(dead_code)]
        pub fn reboot(&self) {
            let init = Command::new("swtpm_ioctl")
                .args(["--tcp", &format!("127.0.0.1:{}", self.port + 1), "-i"])
                .output()
                .unwrap();
            assert!(init.status.success(), "swtpm_ioctl -i: {init:?}");
            let startup = Command::new("tpm2_startup")
                .args(["-c", "-T", &self.tcti()])
                .output()
                .unwrap();
            assert!(startup.status.success(), "tpm2_startup -c: {startup:?}");
        }

        /// Kills the swtpm (SIGKILL): the TPM is gone until [`Swtpm::restart`].
        #[allow(dead_code)]
        pub fn stop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }

        /// Starts the swtpm again on the same ports and state (a TPM reset: PCRs
        /// cleared, resetCount incremented, persistent keys kept).
        #[allow(dead_code)]
        pub fn restart(&mut self) {
            self.stop();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let mut child = spawn(self.state.root(), self.port);
                let until = Instant::now() + Duration::from_secs(2);
                while Instant::now() < until {
                    if let Ok(Some(_)) = child.try_wait() {
                        break; // port not free yet
                    }
                    if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                        self.child = child;
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
            }
            panic!("could not restart swtpm on port {}", self.port);
        }

        /// The swtpm's state directory.
        #[allow(dead_code)]
        pub fn state_dir(&self) -> &Path {
            self.state.root()
        }

        /// The directory of the local CA that signed this swtpm's EK certificates
        /// (`issuercert.pem` = intermediate, `swtpm-localca-rootca-cert.pem` = root).
        #[allow(dead_code)]
        pub fn ca_dir() -> PathBuf {
            template().dir.join("ca")
        }
    }

    impl Drop for Swtpm {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn spawn(state: &Path, port: u16) -> Child {
        Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", state.display()))
            .arg("--server")
            .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// A port P such that P and P+1 were both free a moment ago.
    fn free_port_pair() -> u16 {
        loop {
            let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
            let port = l.local_addr().unwrap().port();
            if port < u16::MAX - 1 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
                return port;
            }
        }
    }
}
