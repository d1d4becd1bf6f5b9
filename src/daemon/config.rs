//! The daemon's configuration file (TOML). Every key is documented in
//! `deploy/config.example.toml`; this module parses the file into a raw struct
//! (unknown keys refused) and validates it into [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde::Deserialize;

use crate::tpm::Tcti;

/// Default API socket.
pub const DEFAULT_SOCKET: &str = "/run/cerd/cerd.sock";
/// Default state directory (systemd's StateDirectory=cerd).
pub const DEFAULT_STATE_DIR: &str = "/var/lib/cerd";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    state_dir: Option<PathBuf>,
    #[serde(default)]
    api: RawApi,
    #[serde(default)]
    tpm: RawTpm,
    #[serde(default)]
    snp: RawSnp,
    #[serde(default)]
    batch: RawBatch,
    #[serde(default)]
    runtime: RawRuntime,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    socket: Option<PathBuf>,
    socket_mode: Option<String>,
    socket_group: Option<String>,
    tcp: Option<String>,
    max_body_bytes: Option<usize>,
    max_connections: Option<usize>,
    request_timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTpm {
    enabled: Option<bool>,
    tcti: Option<String>,
    ak_handle: Option<String>,
    pcr: Option<u8>,
    ak_cert: Option<PathBuf>,
    ek_chain: Option<Vec<PathBuf>>,
    quote_delay_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnp {
    source: Option<String>,
    certs: Option<PathBuf>,
    #[serde(default)]
    kds_fetch: bool,
    kds_base: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    window_ms: Option<u64>,
    max_records: Option<usize>,
    retry_max_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    binary: Option<PathBuf>,
    #[serde(default)]
    model_files: Vec<String>,
}

/// The `[tpm]` table, when the TPM is used.
#[derive(Debug, Clone)]
pub struct TpmConfig {
    pub tcti: Tcti,
    pub ak_handle: u32,
    pub pcr: u8,
    pub ak_cert: Option<PathBuf>,
    pub ek_chain: Vec<PathBuf>,
    pub quote_delay: Duration,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub state_dir: PathBuf,
    pub socket: PathBuf,
    pub socket_mode: u32,
    pub socket_group: Option<String>,
    pub tcp: Option<SocketAddr>,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub request_timeout: Duration,
    /// The TPM: `None` on an SEV-SNP guest configured without one (`tpm.enabled =
    /// false`), where each batch gets an SNP report only.
    pub tpm: Option<TpmConfig>,
    /// SEV-SNP reports with every batch: `/dev/sev-guest` or a simulated guest.
    pub snp: Option<crate::snp::SnpSource>,
    /// Certificate cache for SNP reports whose host gives no certificate table.
    pub snp_certs: Option<PathBuf>,
    /// Fill `snp_certs` from AMD's KDS when it lacks this chip's VCEK (the first
    /// report after start; later reports find the cache filled).
    pub kds: Option<crate::snp::kds::KdsOptions>,
    pub window: Duration,
    pub max_records: usize,
    pub retry_max: Duration,
    pub binary: Option<PathBuf>,
    /// Paths or glob patterns of model files, in the order given.
    pub model_files: Vec<String>,
}

impl TpmConfig {
    fn validate(raw: RawTpm) -> anyhow::Result<Self> {
        let tcti = match raw.tcti.as_deref() {
            None => Tcti::Device("/dev/tpmrm0".into()),
            Some(t) => t
                .parse::<Tcti>()
                .map_err(|e| anyhow::anyhow!("tpm.tcti: {e}"))?,
        };
        let ak_handle = match raw.ak_handle.as_deref() {
            None => crate::tpm::keys::AK_HANDLE_ECC,
            Some(h) => {
                let parsed = match h.strip_prefix("0x").or_else(|| h.strip_prefix("0X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => h.parse().ok(),
                };
                parsed.with_context(|| {
                    format!("tpm.ak_handle {h:?} is not a handle like \"0x81010002\"")
                })?
            }
        };
        let pcr = raw.pcr.unwrap_or(crate::tpm::measure::DEFAULT_PCR);
        if pcr > crate::tpm::pcr::MAX_PCR {
            bail!("tpm.pcr {pcr} does not exist (0..=23)");
        }
        Ok(Self {
            tcti,
            ak_handle,
            pcr,
            ak_cert: raw.ak_cert,
            ek_chain: raw.ek_chain.unwrap_or_default(),
            quote_delay: Duration::from_millis(raw.quote_delay_ms.unwrap_or(0)),
        })
    }
}

impl Config {
    /// Reads and validates a configuration file; every error names the file and key.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let raw: Raw = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        Self::validate(raw)
    }

    fn validate(raw: Raw) -> anyhow::Result<Self> {
        let socket_mode = match raw.api.socket_mode.as_deref() {
            None => 0o660,
            Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8)
                .ok()
                .filter(|v| *v <= 0o777)
                .with_context(|| {
                    format!("api.socket_mode {m:?} is not an octal mode like \"0660\"")
                })?,
        };
        let tcp = raw
            .api
            .tcp
            .as_deref()
            .map(|t| {
                t.parse::<SocketAddr>()
                    .map_err(|_| anyhow::anyhow!("api.tcp {t:?} is not ADDRESS:PORT"))
            })
            .transpose()?;
        let snp = raw
            .snp
            .source
            .as_deref()
            .map(|s| {
                s.parse::<crate::snp::SnpSource>()
                    .map_err(|e| anyhow::anyhow!("snp.source: {e}"))
            })
            .transpose()?;
        let tpm = if raw.tpm.enabled.unwrap_or(true) {
            Some(TpmConfig::validate(raw.tpm)?)
        } else {
            if snp.is_none() {
                bail!("tpm.enabled = false needs snp.source: without a TPM, SEV-SNP reports are the only hardware evidence");
            }
            let RawTpm {
                enabled: _,
                tcti,
                ak_handle,
                pcr,
                ak_cert,
                ek_chain,
                quote_delay_ms,
            } = raw.tpm;
            let set = [
                ("tcti", tcti.is_some()),
                ("ak_handle", ak_handle.is_some()),
                ("pcr", pcr.is_some()),
                ("ak_cert", ak_cert.is_some()),
                ("ek_chain", ek_chain.is_some()),
                ("quote_delay_ms", quote_delay_ms.is_some()),
            ];
            if let Some((key, _)) = set.iter().find(|(_, s)| *s) {
                bail!("tpm.{key} is set but tpm.enabled = false");
            }
            None
        };
        let max_body_bytes = raw.api.max_body_bytes.unwrap_or(1024 * 1024);
        if max_body_bytes < 256 {
            bail!("api.max_body_bytes {max_body_bytes} is too small (at least 256)");
        }
        let max_records = raw.batch.max_records.unwrap_or(4096);
        if !(1..=1 << 20).contains(&max_records) {
            bail!("batch.max_records {max_records} must be 1..=1048576");
        }
        let max_connections = raw.api.max_connections.unwrap_or(1024);
        if max_connections == 0 {
            bail!("api.max_connections must be at least 1");
        }
        Ok(Self {
            state_dir: raw
                .state_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR)),
            socket: raw
                .api
                .socket
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET)),
            socket_mode,
            socket_group: raw.api.socket_group,
            tcp,
            max_body_bytes,
            max_connections,
            request_timeout: Duration::from_millis(raw.api.request_timeout_ms.unwrap_or(10_000)),
            tpm,
            snp,
            kds: match (raw.snp.kds_fetch, &raw.snp.certs) {
                (false, _) => None,
                (true, None) => bail!("snp.kds_fetch needs snp.certs (the cache it fills)"),
                (true, Some(_)) => Some(crate::snp::kds::KdsOptions {
                    base: raw
                        .snp
                        .kds_base
                        .clone()
                        .unwrap_or_else(|| crate::snp::kds::KDS.to_owned()),
                    ..Default::default()
                }),
            },
            snp_certs: raw.snp.certs,
            window: Duration::from_millis(raw.batch.window_ms.unwrap_or(100)),
            max_records,
            retry_max: Duration::from_millis(raw.batch.retry_max_ms.unwrap_or(5_000).max(10)),
            binary: raw.runtime.binary,
            model_files: raw.runtime.model_files,
        })
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.state_dir.join("cerd.sqlite")
    }

    /// The measurement log directory (`cer tpm measure --log`).
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("measurements")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.socket, Path::new(DEFAULT_SOCKET));
        assert_eq!(c.socket_mode, 0o660);
        assert_eq!(c.window, Duration::from_millis(100));
        assert_eq!(c.max_records, 4096);
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert!(c.tcp.is_none());
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../deploy/config.example.toml");
        let c = Config::parse(text).unwrap();
        assert_eq!(c.tpm.unwrap().ak_handle, 0x8101_0002);
    }

    #[test]
    fn snp_only() {
        let c =
            Config::parse("[tpm]\nenabled = false\n[snp]\nsource = \"/dev/sev-guest\"\n").unwrap();
        assert!(c.tpm.is_none() && c.snp.is_some());
        assert!(Config::parse("[tpm]\nenabled = true\n")
            .unwrap()
            .tpm
            .is_some());
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        let e = Config::parse("[api]\nsocket_mod = \"0660\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("socket_mod"), "{e:#}");
        let e = Config::parse("[api]\nsocket_mode = \"999\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("api.socket_mode"), "{e:#}");
        let e = Config::parse("[tpm]\ntcti = \"nope\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("tpm.tcti"), "{e:#}");
        let e = Config::parse("[tpm]\nenabled = false\n").unwrap_err();
        assert!(format!("{e:#}").contains("needs snp.source"), "{e:#}");
        let e = Config::parse(
            "[tpm]\nenabled = false\ntcti = \"device:/dev/tpmrm0\"\n[snp]\nsource = \"/dev/sev-guest\"\n",
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("tpm.tcti is set"), "{e:#}");
        let e = Config::parse("[batch]\nmax_records = 0\n").unwrap_err();
        assert!(format!("{e:#}").contains("batch.max_records"), "{e:#}");
    }
}
