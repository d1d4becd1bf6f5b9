//! `cer daemon` end to end: a daemon child process per test on its own swtpm, state
//! directory and Unix socket; requests over the real socket (raw HTTP/1.1, so tests
//! can also send malformed and slow requests).

mod api;
mod faults;
mod recovery;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{cer, cer_command, Swtpm, TestDir};

/// A swtpm with an AK, a runtime profile (binary + model files) and a daemon config.
pub struct Host {
    pub tpm: Swtpm,
    pub dir: TestDir,
    pub config: PathBuf,
    pub socket: PathBuf,
}

impl Host {
    /// `batch` is appended to the config's `[batch]` table.
    pub fn new(batch: &str) -> Self {
        Self::with_api(batch, "")
    }

    /// [`Host::new`] with `api` appended to the `[api]` table.
    pub fn with_api(batch: &str, api: &str) -> Self {
        let tpm = Swtpm::start();
        let dir = TestDir::new();
        cer(["tpm", "ak", "create", "--tcti", &tpm.tcti()]).expect(0);
        let infer = dir.write("infer", b"#!/bin/sh\ntr a-z A-Z\n");
        std::fs::set_permissions(&infer, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        std::fs::create_dir_all(dir.path("models")).unwrap();
        dir.write("models/a.gguf", b"weights of model part a");
        dir.write("models/b.gguf", b"weights of model part b");
        let socket = dir.path("cerd.sock");
        let config = dir.write(
            "cerd.toml",
            format!(
                "state_dir = \"{state}\"\n[api]\nsocket = \"{socket}\"\nmax_body_bytes = 65536\nrequest_timeout_ms = 1500\n{api}\n[tpm]\ntcti = \"{tcti}\"\nak_cert = \"{ak_cert}\"\nek_chain = [\"{ek_chain}\"]\n[runtime]\nbinary = \"{bin}\"\nmodel_files = [\"{models}/*.gguf\"]\n[batch]\n{batch}\n",
                state = dir.path("state").display(),
                socket = socket.display(),
                tcti = tpm.tcti(),
                ak_cert = crate::util::enrollment().ak_cert.display(),
                ek_chain = Swtpm::ca_dir().join("issuercert.pem").display(),
                bin = dir.path("infer").display(),
                models = dir.path("models").display(),
            ),
        );
        Self {
            tpm,
            dir,
            config,
            socket,
        }
    }

    /// Starts `cer daemon` and waits until it answers.
    pub fn start(&self) -> Daemon {
        self.start_with_env(&[])
    }

    /// [`Host::start`] with extra environment variables.
    pub fn start_with_env(&self, env: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(
            &self.config,
            &self.socket,
            &self.dir.path("daemon.log"),
            env,
        )
    }

    /// A policy naming the measured binary and model digests, the attestation CA that
    /// enrolled the AK, and (dev switch) the swtpm CA as the EK root.
    pub fn policy(&self) -> PathBuf {
        let digest = |p: &str| crate::util::sha256sum(&self.dir.path(p));
        self.dir.write(
            "policy.toml",
            format!(
                "attestation_ca = [\"{}\"]\n[binaries]\ninfer = \"{}\"\n[models]\nm = [\"{}\", \"{}\"]\n[dev]\ntrust_swtpm_ca = \"{}\"\n",
                crate::util::enrollment().ca_root.display(),
                digest("infer"),
                digest("models/a.gguf"),
                digest("models/b.gguf"),
                Swtpm::ca_dir().display()
            ),
        )
    }

    /// Writes bundles to files and runs `cer verify --policy` on them.
    pub fn verify(&self, bundles: &[String]) -> crate::util::Run {
        let policy = self.policy();
        let mut args = vec![
            "verify".to_string(),
            "--policy".into(),
            policy.display().to_string(),
        ];
        for (i, b) in bundles.iter().enumerate() {
            let p = self.dir.write(&format!("bundle-{i}.cer.json"), b);
            args.push(p.display().to_string());
        }
        cer(&args)
    }
}

/// A running daemon, killed when dropped.
pub struct Daemon {
    child: Option<Child>,
    pub socket: PathBuf,
    log: PathBuf,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Daemon {
    /// Starts `cer daemon --config CONFIG` (stderr appended to `log`) and waits until
    /// it answers on `socket`.
    pub fn spawn(config: &Path, socket: &Path, log: &Path, env: &[(&str, &str)]) -> Daemon {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = cer_command()
            .arg("daemon")
            .arg("--config")
            .arg(config)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let d = Daemon {
            child: Some(child),
            socket: socket.to_path_buf(),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if d.try_request("GET", "/v1/health", b"").is_ok() {
                return d;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the daemon did not answer within 20 s:\n{}", d.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// One request on a fresh connection (`Connection: close`).
    pub fn try_request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Answer> {
        raw(
            &self.socket,
            &[
                format!(
                    "{method} {path} HTTP/1.1\r\nHost: cerd\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
                body,
            ]
            .concat(),
        )
    }

    #[track_caller]
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Answer {
        self.try_request(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log()))
    }

    /// Submits a run description; returns the answer.
    pub fn submit(&self, desc: &Value, wait: bool) -> Answer {
        let path = if wait {
            "/v1/records?wait=attested"
        } else {
            "/v1/records"
        };
        self.request("POST", path, desc.to_string().as_bytes())
    }

    /// Waits until every record in `hashes` is attested; returns the bundles.
    pub fn attested(&self, hashes: &[String]) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        hashes
            .iter()
            .map(|h| loop {
                let a = self.request("GET", &format!("/v1/records/{h}"), b"");
                match a.status {
                    200 => break a.body,
                    202 if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    _ => panic!("GET {h}: {} {}\n{}", a.status, a.body, self.log()),
                }
            })
            .collect()
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM; returns how long the daemon took to exit, and its exit code.
    pub fn term(&mut self) -> (Duration, Option<i32>) {
        let mut c = self.child.take().unwrap();
        let start = Instant::now();
        rustix_kill(c.id(), "TERM");
        let status = c.wait().unwrap();
        (start.elapsed(), status.code())
    }

    pub fn hup(&self) {
        rustix_kill(self.pid(), "HUP");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn rustix_kill(pid: u32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} {pid}");
}

/// Sends `bytes` on a fresh connection and reads the answer until the daemon closes.
pub fn raw(socket: &Path, bytes: &[u8]) -> std::io::Result<Answer> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    // The daemon may answer (413) and close before the whole request is written: a
    // failed write is not the end, the answer may be waiting.
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out);
    if out.is_empty() {
        read?;
    }
    parse_answer(&out)
}

pub fn parse_answer(out: &[u8]) -> std::io::Result<Answer> {
    let text = String::from_utf8_lossy(out);
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not HTTP: {text:?}"),
        )
    };
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok(Answer {
        status,
        body: body.to_owned(),
    })
}

/// A run description with distinct content per `i`.
pub fn run_description(i: usize) -> Value {
    serde_json::json!({
        "provider": "local",
        "model": "demo",
        "input": format!("question {i}"),
        "output": format!("answer {i}"),
        "parameters": { "temperature": 0.5, "maxTokens": 64 },
        "executionId": format!("run-{i}"),
        "appId": "e2e",
    })
}

/// Headers of the bundles' batches, deduplicated and sorted; the chain must verify.
pub fn check_chain(bundles: &[String]) -> Vec<cerd_attestation::batch::BatchHeader> {
    let mut headers: Vec<cerd_attestation::batch::BatchHeader> = bundles
        .iter()
        .map(|b| {
            let v: Value = serde_json::from_str(b).unwrap();
            serde_json::from_value(v["meta"]["cerd"]["evidence"]["batch"]["header"].clone())
                .unwrap()
        })
        .collect();
    headers.sort_by_key(|h| h.sequence);
    headers.dedup();
    assert_eq!(
        headers.first().map(|h| h.sequence),
        Some(0),
        "the chain starts at batch 0"
    );
    cerd_attestation::batch::verify_chain(&headers).expect("the batch chain is intact");
    headers
}

/// Every record the daemon holds, in order (`GET /v1/records?since=`).
pub fn all_records(d: &Daemon) -> Vec<Value> {
    let mut out = Vec::new();
    let mut since = 0;
    loop {
        let page = d
            .request("GET", &format!("/v1/records?since={since}&limit=1000"), b"")
            .json();
        let items = page["records"].as_array().unwrap().clone();
        if items.is_empty() {
            return out;
        }
        since = page["next"].as_i64().unwrap();
        out.extend(items);
    }
}
