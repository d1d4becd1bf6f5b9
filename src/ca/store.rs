//! The CA directory:
//!
//! ```text
//! DIR/ca-key.pem      PKCS#8 PEM private key, mode 0600 from creation
//! DIR/ca-cert.pem     self-signed CA certificate
//! DIR/serial          next certificate serial number (decimal)
//! DIR/issued/N.pem    every AK certificate issued, by serial (claims the serial)
//! DIR/pending/ID.json open challenges (mode 0600), removed on first use
//! ```

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use der::{DecodePem as _, EncodePem as _};
use x509_cert::Certificate;

use super::issue::{self, CaKey};
use super::request::{Pending, MAX_FILE_BYTES};
use super::Refusal;

const KEY: &str = "ca-key.pem";
const CERT: &str = "ca-cert.pem";
const SERIAL: &str = "serial";
const PENDING: &str = "pending";
const ISSUED: &str = "issued";

/// An open CA: its directory, key and certificate.
#[derive(Debug)]
pub struct Ca {
    dir: PathBuf,
    pub key: CaKey,
    pub cert: Certificate,
}

/// Seconds since the Unix epoch, now.
pub fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Creates a file that must not exist yet, with `mode` from the start.
fn create_new(path: &Path, mode: u32, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Reads a file of at most [`MAX_FILE_BYTES`].
pub fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    File::open(path)
        .and_then(|f| {
            f.take(MAX_FILE_BYTES.saturating_add(1))
                .read_to_end(&mut out)
        })
        .with_context(|| format!("cannot read {}", path.display()))?;
    if out.len() as u64 > MAX_FILE_BYTES {
        bail!("{} is larger than {MAX_FILE_BYTES} bytes", path.display());
    }
    Ok(out)
}

impl Ca {
    /// Creates a CA in `dir` (created mode 0700 if missing): a new key (P-256, or P-384),
    /// a self-signed certificate valid `days`, serial 1. Refuses when `dir` already
    /// holds a CA key or certificate.
    pub fn init(dir: &Path, cn: &str, p384: bool, days: u64) -> anyhow::Result<Self> {
        for f in [KEY, CERT] {
            if dir.join(f).exists() {
                bail!(
                    "{} already holds a CA ({f} exists); not overwriting it (choose another --dir)",
                    dir.display()
                );
            }
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let key = CaKey::generate(p384);
        let cert = issue::root_certificate(&key, cn, 1, now(), days)?;
        let pem = cert
            .to_pem(der::pem::LineEnding::LF)
            .context("cannot encode the CA certificate")?;
        // The key file is created first and exclusively: it is the lock against a
        // concurrent `ca init` on the same directory.
        create_new(&dir.join(KEY), 0o600, key.to_pem()?.as_bytes()).map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} already holds a CA key; not overwriting it",
                    dir.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("cannot create {}", dir.join(KEY).display()))
            }
        })?;
        let rest = (|| -> std::io::Result<()> {
            create_new(&dir.join(CERT), 0o644, pem.as_bytes())?;
            create_new(&dir.join(SERIAL), 0o600, b"2\n")?;
            for sub in [PENDING, ISSUED] {
                DirBuilder::new().mode(0o700).create(dir.join(sub))?;
            }
            Ok(())
        })();
        if let Err(e) = rest {
            for f in [KEY, CERT, SERIAL] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            return Err(e).with_context(|| format!("cannot create the CA in {}", dir.display()));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
            cert,
        })
    }

    /// Opens the CA in `dir`; the key must match the certificate.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let key_path = dir.join(KEY);
        if !key_path.exists() {
            bail!(
                "no CA in {} ({KEY} is missing; create one with `cer ca init --dir {}`)",
                dir.display(),
                dir.display()
            );
        }
        let key_text = String::from_utf8(read_bounded(&key_path)?)
            .with_context(|| format!("{} is not text", key_path.display()))?;
        let key = CaKey::from_pem(&key_text).with_context(|| format!("{}", key_path.display()))?;
        let cert_path = dir.join(CERT);
        let cert = Certificate::from_pem(read_bounded(&cert_path)?)
            .with_context(|| format!("{} is not a PEM certificate", cert_path.display()))?;
        let cert_key =
            super::key::PublicKey::from_spki(&cert.tbs_certificate.subject_public_key_info)
                .map_err(anyhow::Error::msg)?;
        if cert_key != key.public() {
            bail!(
                "{} does not hold the key of {}",
                key_path.display(),
                cert_path.display()
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
            cert,
        })
    }

    /// Claims the next serial number: DIR/issued/N.pem is created exclusively (so two
    /// concurrent issuers never share a serial) and the counter advanced.
    pub fn claim_serial(&self) -> anyhow::Result<(u64, PathBuf)> {
        let serial_path = self.dir.join(SERIAL);
        let text = String::from_utf8(read_bounded(&serial_path)?).unwrap_or_default();
        let mut n: u64 = text
            .trim()
            .parse()
            .with_context(|| format!("{} does not hold a serial number", serial_path.display()))?;
        for _ in 0..1000 {
            let path = self.dir.join(ISSUED).join(format!("{n}.pem"));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&path)
            {
                Ok(_) => {
                    let next = n.checked_add(1).context("serial numbers exhausted")?;
                    crate::files::write_new(&serial_path, format!("{next}\n").as_bytes(), true)?;
                    return Ok((n, path));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    n = n.checked_add(1).context("serial numbers exhausted")?;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()))
                }
            }
        }
        bail!(
            "cannot claim a serial number in {}",
            self.dir.join(ISSUED).display()
        )
    }

    fn pending_path(&self, id: &str) -> PathBuf {
        self.dir.join(PENDING).join(format!("{id}.json"))
    }

    /// Records an open challenge (mode 0600, never replacing one).
    pub fn save_pending(&self, p: &Pending) -> anyhow::Result<()> {
        let path = self.pending_path(&p.id);
        let mut bytes =
            serde_json::to_vec_pretty(p).context("cannot encode the challenge record")?;
        bytes.push(b'\n');
        create_new(&path, 0o600, &bytes)
            .with_context(|| format!("cannot create {}", path.display()))
    }

    /// Takes an open challenge out of the store: it is renamed away first (atomic, so
    /// only one caller can get it), then read and deleted. A second use finds nothing.
    pub fn take_pending(&self, id: &str) -> anyhow::Result<Pending> {
        let path = self.pending_path(id);
        let taken = self
            .dir
            .join(PENDING)
            .join(format!(".{id}.taken-{}", std::process::id()));
        match std::fs::rename(&path, &taken) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Refusal::UnknownChallenge { id: id.to_owned() }.into())
            }
            Err(e) => return Err(e).with_context(|| format!("cannot take {}", path.display())),
        }
        let bytes = read_bounded(&taken);
        let _ = std::fs::remove_file(&taken);
        let p: Pending = serde_json::from_slice(&bytes?)
            .with_context(|| format!("the CA's record {} is corrupt", path.display()))?;
        if p.id != id {
            bail!(
                "the CA's record {} is for challenge {}",
                path.display(),
                p.id
            );
        }
        Ok(p)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Reads every certificate of every `*.pem`/`*.crt`/`*.cer` file in `dir` (PEM, or
/// one DER certificate per file).
pub fn load_trust_dir(dir: &Path) -> anyhow::Result<Vec<super::chain::Cert>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read trust directory {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pem" | "crt" | "cer" | "der")
                )
        })
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        out.extend(load_cert_file(&p)?);
    }
    Ok(out)
}

/// The certificates in one file: PEM blocks, or a single DER certificate.
pub fn load_cert_file(path: &Path) -> anyhow::Result<Vec<super::chain::Cert>> {
    let bytes = read_bounded(path)?;
    if bytes.first() == Some(&0x30) {
        let cert = super::chain::Cert::from_der(&bytes)
            .with_context(|| format!("{} is not a DER certificate", path.display()))?;
        return Ok(vec![cert]);
    }
    let certs = certs_from_pem(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    Ok(certs)
}

/// Reads every certificate in a PEM text (any number of CERTIFICATE blocks, read the
/// lax way of RFC 7468 §3 that vendor files need).
pub fn certs_from_pem(text: &[u8]) -> Result<Vec<super::chain::Cert>, String> {
    cerd_attestation::chain::parse_pem_certificates(text)
        .map(|certs| certs.into_iter().map(super::chain::Cert::from).collect())
        .map_err(|e| e.to_string())
}
