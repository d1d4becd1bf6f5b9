//! Test support: a bare swtpm per test (unit tests of TPM modules).
#![allow(clippy::arithmetic_side_effects)]

use std::process::{Child, Command, Stdio};

/// A bare swtpm (no EK provisioning: PCRs need none) on free loopback ports,
/// killed when dropped.
pub struct Bare {
    child: Child,
    pub port: u16,
    _state: tempfile::TempDir,
}

impl Bare {
    pub fn start() -> Self {
        for _ in 0..20 {
            let port = loop {
                let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
                let p = l.local_addr().unwrap().port();
                if p < u16::MAX - 1 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                    break p;
                }
            };
            let state = tempfile::tempdir().unwrap();
            let mut child = Command::new("swtpm")
                .args(["socket", "--tpm2", "--tpmstate"])
                .arg(format!("dir={}", state.path().display()))
                .args([
                    "--server",
                    &format!("type=tcp,port={port},bindaddr=127.0.0.1"),
                ])
                .args([
                    "--ctrl",
                    &format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1),
                ])
                .args(["--flags", "not-need-init,startup-clear"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("swtpm is not installed: run ./scripts/setup");
            for _ in 0..500 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        child,
                        port,
                        _state: state,
                    };
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start swtpm");
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bare {
    /// The TCTI of this swtpm.
    pub fn tcti(&self) -> super::Tcti {
        super::Tcti::Swtpm {
            host: "127.0.0.1".into(),
            port: self.port,
        }
    }
}
