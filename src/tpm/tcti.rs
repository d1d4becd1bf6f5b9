//! TCTI strings: how to reach a TPM.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context as _};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::Context;

/// tpm2-tss writes its own WARNING/ERROR lines to stderr; cer reports TPM failures
/// itself in one line, so the library's logging is off unless the user set TSS2_LOG.
/// Called from `main` before any thread starts.
pub fn quiet_library_logging() {
    if std::env::var_os("TSS2_LOG").is_none() {
        std::env::set_var("TSS2_LOG", "all+NONE");
    }
}

/// A TPM Command Transmission Interface, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tcti {
    /// A kernel TPM device, normally the resource manager /dev/tpmrm0.
    Device(String),
    /// The tpm2-abrmd resource manager on D-Bus.
    Tabrmd,
    /// A swtpm server on TCP (server port `port`, control port `port + 1`).
    Swtpm { host: String, port: u16 },
}

impl FromStr for Tcti {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, conf) = s.split_once(':').unwrap_or((s, ""));
        match kind {
            "device" if conf.starts_with('/') => Ok(Self::Device(conf.to_owned())),
            "device" if conf.is_empty() => Ok(Self::Device("/dev/tpmrm0".into())),
            "device" => Err(format!(
                "device TCTI needs an absolute path, found {conf:?}"
            )),
            "tabrmd" => Ok(Self::Tabrmd),
            "swtpm" => {
                let mut host = "127.0.0.1".to_owned();
                let mut port = None;
                for part in conf.split(',').filter(|p| !p.is_empty()) {
                    match part.split_once('=') {
                        Some(("host", h)) if !h.is_empty() => host = h.to_owned(),
                        Some(("port", p)) => {
                            let n: u16 = p
                                .parse()
                                .map_err(|_| format!("swtpm port {p:?} is not a port number"))?;
                            if n == 0 || n == u16::MAX {
                                return Err(format!(
                                    "swtpm port must be 1..65534 (control port is port+1), found {n}"
                                ));
                            }
                            port = Some(n);
                        }
                        _ => {
                            return Err(format!(
                                "unknown swtpm option {part:?} (expected host=ADDR,port=N)"
                            ))
                        }
                    }
                }
                let port = port.ok_or("swtpm TCTI needs port=N")?;
                Ok(Self::Swtpm { host, port })
            }
            other => Err(format!(
                "unknown TCTI {other:?}: expected device:/dev/tpmrm0, tabrmd or swtpm:host=H,port=N"
            )),
        }
    }
}

impl fmt::Display for Tcti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Device(p) => write!(f, "device:{p}"),
            Self::Tabrmd => f.write_str("tabrmd"),
            Self::Swtpm { host, port } => write!(f, "swtpm:host={host},port={port}"),
        }
    }
}

impl Tcti {
    /// Opens one ESAPI context on this TCTI (see [`super::Tpm::open`]).
    pub(super) fn context(&self) -> anyhow::Result<Context> {
        if let Self::Device(p) = self {
            if !std::path::Path::new(p).exists() {
                bail!(
                    "no TPM at {self}: {p} does not exist (no TPM 2.0 here? use a software TPM with --tcti swtpm:port=N)"
                );
            }
        }
        let conf = TctiNameConf::from_str(&self.to_string())
            .with_context(|| format!("TCTI {self} is not usable"))?;
        Context::new(conf).map_err(|e| {
            let hint = match self {
                Self::Swtpm { .. } => " (is swtpm running on that port?)",
                Self::Tabrmd => " (is tpm2-abrmd running?)",
                Self::Device(_) => " (check permissions: the user needs access to the device)",
            };
            anyhow::anyhow!(
                "cannot open the TPM at {self}: {}{hint}",
                super::describe(e)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tcti_strings() {
        assert_eq!(
            "swtpm:host=127.0.0.1,port=2321".parse::<Tcti>().unwrap(),
            Tcti::Swtpm {
                host: "127.0.0.1".into(),
                port: 2321
            }
        );
        assert_eq!(
            "swtpm:port=2321".parse::<Tcti>().unwrap().to_string(),
            "swtpm:host=127.0.0.1,port=2321"
        );
        assert_eq!(
            "device:/dev/tpmrm0".parse::<Tcti>().unwrap(),
            Tcti::Device("/dev/tpmrm0".into())
        );
        assert_eq!("tabrmd".parse::<Tcti>().unwrap(), Tcti::Tabrmd);
        for bad in [
            "swtpm:path=/tmp/s",
            "swtpm:port=0",
            "swtpm:port=65535",
            "swtpm:",
            "device:tpm0",
            "mssim",
        ] {
            assert!(bad.parse::<Tcti>().is_err(), "{bad}");
        }
    }
}
