//! AMD's Key Distribution Service (KDS, "VCEK Certificate and KDS Interface
//! Specification" #57230 §4): where a report's VCEK and its ASK/ARK chain are fetched.
//!
//! cerd never fetches at verification time (`cer verify*` do not call this module).
//! A host fills its certificate cache once, at start-up: [`fetch_to_cache`]
//! (`cer snp kds-fetch`, `cer attest --snp … --snp-certs DIR --kds-fetch`) downloads the
//! VCEK for a report's chip and TCB (`vcek.der`) and the generation's ASK/ARK chain
//! (`ask.pem`, `ark.pem`) with the system `curl` (the root crate has no TLS client),
//! verifies them with the library before writing them atomically, and does nothing when
//! the cache already holds a VCEK matching the report. KDS's rate limit is honoured:
//! requests are spaced, and HTTP 429 waits `Retry-After` (bounded, a bounded number of
//! times).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use base64::Engine as _;
use cerd_attestation::chain::{parse_certificates, Certificate};
use cerd_attestation::snp::verify::{verify_report, SnpCerts, SnpOptions};
use cerd_attestation::snp::{AttestationReport, Generation};
use time::OffsetDateTime;

use crate::files;

/// The KDS base URL.
pub const KDS: &str = "https://kdsintf.amd.com";

/// The VCEK path for a report: `/vcek/v1/{product}/{hwid}?blSPL=…&teeSPL=…&snpSPL=…&ucodeSPL=…`
/// (Turin: `fmcSPL` first and an 8-byte hwID).
pub fn vcek_path(report: &AttestationReport, generation: Generation) -> anyhow::Result<String> {
    if report.chip_id_is_zero() {
        bail!(
            "CHIP_ID is zero (a VLEK-signed report, or MASK_CHIP_KEY): a VCEK cannot be looked up by hwID; get the VLEK from the cloud provider"
        );
    }
    let hwid = report
        .chip_id
        .get(..generation.hwid_len())
        .map(hex::encode)
        .unwrap_or_default();
    let t = report.reported_tcb(generation);
    let mut query = Vec::new();
    if let Some(fmc) = t.fmc {
        query.push(format!("fmcSPL={fmc}"));
    }
    query.push(format!("blSPL={}", t.bl));
    query.push(format!("teeSPL={}", t.tee));
    query.push(format!("snpSPL={}", t.snp));
    query.push(format!("ucodeSPL={}", t.ucode));
    Ok(format!(
        "/vcek/v1/{}/{hwid}?{}",
        generation.name(),
        query.join("&")
    ))
}

/// The VCEK URL for a report at AMD's KDS.
pub fn vcek_url(report: &AttestationReport, generation: Generation) -> anyhow::Result<String> {
    Ok(format!("{KDS}{}", vcek_path(report, generation)?))
}

/// The ASK + ARK chain path of a generation (PEM, ASK first).
pub fn cert_chain_path(generation: Generation) -> String {
    format!("/vcek/v1/{}/cert_chain", generation.name())
}

/// The ASK + ARK chain URL of a generation at AMD's KDS.
pub fn cert_chain_url(generation: Generation) -> String {
    format!("{KDS}{}", cert_chain_path(generation))
}

/// How to talk to KDS.
#[derive(Debug, Clone)]
pub struct KdsOptions {
    /// `https://kdsintf.amd.com`, or a mirror/proxy.
    pub base: String,
    /// Per-request timeout (curl `--max-time`).
    pub timeout: Duration,
    /// Minimum spacing between consecutive requests.
    pub spacing: Duration,
    /// Wait on HTTP 429 without a usable `Retry-After`.
    pub default_retry_after: Duration,
    /// Upper bound of one 429 wait.
    pub max_retry_after: Duration,
    /// How many times a 429 is retried before giving up.
    pub max_retries: u32,
}

impl Default for KdsOptions {
    fn default() -> Self {
        Self {
            base: KDS.to_owned(),
            timeout: Duration::from_secs(30),
            spacing: Duration::from_secs(1),
            default_retry_after: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
            max_retries: 3,
        }
    }
}

/// What [`fetch_to_cache`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// The cache already held a VCEK matching the report; nothing was requested.
    AlreadyCached,
    /// The VCEK and chain were downloaded, verified and written.
    Fetched,
}

/// Fills `cache` with the VCEK (and ASK/ARK) of `report`, unless it already holds a
/// VCEK whose chain, hwID and SPLs match the report (checked with the library's
/// verifier, at the current time). Everything downloaded is verified the same way
/// before anything is written; a failure leaves the cache as it was.
pub fn fetch_to_cache(
    report_bytes: &[u8],
    generation: Generation,
    cache: &Path,
    opts: &KdsOptions,
) -> anyhow::Result<Fetched> {
    let report = AttestationReport::parse(report_bytes)
        .map_err(|e| anyhow::anyhow!("not an SEV-SNP report: {e}"))?;
    let vcek_path = vcek_path(&report, generation)?;
    if cached_matches(report_bytes, cache) {
        return Ok(Fetched::AlreadyCached);
    }
    let mut client = Curl::new(opts)?;
    let vcek = client.get(&format!("{}{vcek_path}", opts.base), "VCEK")?;
    let chain = client.get(
        &format!("{}{}", opts.base, cert_chain_path(generation)),
        "ASK/ARK chain",
    )?;
    let vcek = Certificate::from_der(&vcek)
        .map_err(|e| anyhow::anyhow!("KDS returned a VCEK that is not a DER certificate: {e}"))?;
    let chain = parse_certificates(&chain).map_err(|e| {
        anyhow::anyhow!("KDS returned a cert_chain that is not PEM certificates: {e}")
    })?;
    let (ask, ark) = match chain.as_slice() {
        [ask, ark] if ark.is_self_issued() && !ask.is_self_issued() => (ask.clone(), ark.clone()),
        _ => bail!(
            "KDS returned a cert_chain of {} certificates; expected the ASK then the self-signed ARK",
            chain.len()
        ),
    };
    let certs = SnpCerts {
        endorsement: vcek.clone(),
        intermediates: vec![ask.clone()],
        ark: Some(ark.clone()),
    };
    downloaded_chain(&vcek, &ask, &ark, generation)
        .and_then(|()| check(report_bytes, &certs))
        .context("refusing what KDS returned; the cache is unchanged")?;
    std::fs::create_dir_all(cache)
        .with_context(|| format!("cannot create the certificate cache {}", cache.display()))?;
    // The chain first: a cache with a new VCEK but an old chain is never left behind
    // (the chain of one generation does not change with the TCB).
    files::write_new(&cache.join("ask.pem"), pem(&ask).as_bytes(), true)?;
    files::write_new(&cache.join("ark.pem"), pem(&ark).as_bytes(), true)?;
    // vcek.der is read before vcek.pem; drop an old vcek.pem so the cache holds one VCEK.
    let _ = std::fs::remove_file(cache.join("vcek.pem"));
    files::write_new(&cache.join("vcek.der"), vcek.der(), true)?;
    Ok(Fetched::Fetched)
}

/// The downloaded ASK and ARK are themselves the VCEK's path: the ARK is AMD's for
/// this generation, the ASK is signed by it and signs the VCEK (the library's chain
/// check alone could succeed through its built-in ASK while a wrong ASK is cached).
fn downloaded_chain(
    vcek: &Certificate,
    ask: &Certificate,
    ark: &Certificate,
    generation: Generation,
) -> anyhow::Result<()> {
    let ark_gen = cerd_attestation::snp::roots::ark_generation(&ark.spki_sha256());
    if ark_gen != Some(generation) {
        bail!(
            "the cert_chain's ARK '{}' is not AMD's {generation} ARK",
            ark.subject_text()
        );
    }
    ask.verify_signed_by(ark, false)
        .map_err(|e| anyhow::anyhow!("the cert_chain's ASK is not signed by its ARK: {e}"))?;
    vcek.verify_signed_by(ask, false)
        .map_err(|e| anyhow::anyhow!("the VCEK is not signed by the cert_chain's ASK: {e}"))?;
    Ok(())
}

/// The cache holds a VCEK that verifies this report (chain to AMD's ARK, hwID, SPLs).
fn cached_matches(report_bytes: &[u8], cache: &Path) -> bool {
    super::CertDir::read(cache).is_ok_and(|dir| check(report_bytes, &dir.certs).is_ok())
}

/// The library's verdict on the report under `certs`, without a policy: chain,
/// signature, endorsement (hwID, product) and TCB (SPLs) must pass.
fn check(report_bytes: &[u8], certs: &SnpCerts) -> anyhow::Result<()> {
    let verdict = verify_report(
        report_bytes,
        certs,
        &SnpOptions::new(OffsetDateTime::now_utc()),
    );
    if verdict.valid {
        return Ok(());
    }
    let failed: Vec<String> = verdict
        .checks
        .iter()
        .filter(|c| c.status == cerd_attestation::verify::Status::Fail)
        .map(|c| {
            format!(
                "{}: {}",
                c.reason.map(|r| r.code()).unwrap_or("?"),
                c.message
            )
        })
        .collect();
    bail!(
        "the VCEK does not verify this report: {}",
        failed.join("; ")
    )
}

fn pem(cert: &Certificate) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.der());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// HTTP GETs through the system `curl`, spaced and retried on 429.
struct Curl<'a> {
    opts: &'a KdsOptions,
    dir: tempfile_dir::TempDir,
    last: Option<Instant>,
}

impl<'a> Curl<'a> {
    fn new(opts: &'a KdsOptions) -> anyhow::Result<Self> {
        Ok(Self {
            opts,
            dir: tempfile_dir::TempDir::new()?,
            last: None,
        })
    }

    /// The body of a 200 answer to `url`.
    fn get(&mut self, url: &str, what: &str) -> anyhow::Result<Vec<u8>> {
        let mut retries = 0u32;
        loop {
            if let Some(last) = self.last {
                let since = last.elapsed();
                if since < self.opts.spacing {
                    std::thread::sleep(self.opts.spacing.saturating_sub(since));
                }
            }
            self.last = Some(Instant::now());
            let (status, headers, body) = self.once(url, what)?;
            match status {
                200 => return Ok(body),
                404 => bail!(
                    "KDS has no {what} at {url} (HTTP 404): unknown chip ID or TCB, or not a {what} this service issues"
                ),
                429 if retries < self.opts.max_retries => {
                    retries = retries.saturating_add(1);
                    let wait = retry_after(&headers)
                        .unwrap_or(self.opts.default_retry_after)
                        .min(self.opts.max_retry_after);
                    note(&format!(
                        "KDS rate limit (HTTP 429) for the {what}: waiting {} s (retry {retries} of {})",
                        wait.as_secs_f64(),
                        self.opts.max_retries
                    ));
                    std::thread::sleep(wait);
                }
                429 => bail!(
                    "KDS kept answering HTTP 429 (rate limited) for the {what} at {url} after {} retries; try again later",
                    self.opts.max_retries
                ),
                other => bail!("KDS answered HTTP {other} for the {what} at {url}"),
            }
        }
    }

    fn once(&self, url: &str, what: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
        let body = self.dir.path().join("body");
        let headers = self.dir.path().join("headers");
        let _ = std::fs::remove_file(&body);
        let _ = std::fs::remove_file(&headers);
        let out = Command::new("curl")
            .arg("--proto")
            .arg("=https,http")
            .arg("--silent")
            .arg("--show-error")
            .arg("--max-time")
            .arg(self.opts.timeout.as_secs().max(1).to_string())
            .arg("--output")
            .arg(&body)
            .arg("--dump-header")
            .arg(&headers)
            .arg("--write-out")
            .arg("%{http_code}")
            .arg("--")
            .arg(url)
            .output();
        let out = match out {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "curl is not installed (needed to fetch from KDS): install it (apt-get install curl) or fill the cache by hand"
            ),
            Err(e) => bail!("cannot run curl: {e}"),
        };
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            bail!(
                "cannot fetch the {what} from {url}: {} (curl exit {})",
                err.trim()
                    .trim_start_matches("curl: ")
                    .lines()
                    .next()
                    .unwrap_or("failed"),
                out.status
                    .code()
                    .map_or("signal".to_owned(), |c| c.to_string())
            );
        }
        let code = String::from_utf8_lossy(&out.stdout);
        let status: u16 = code
            .trim()
            .parse()
            .with_context(|| format!("curl wrote no HTTP status for {url} ({code:?})"))?;
        let headers = std::fs::read_to_string(&headers).unwrap_or_default();
        let body = std::fs::read(&body).unwrap_or_default();
        Ok((status, headers, body))
    }
}

/// `Retry-After: <seconds>` of the last response in a curl header dump (HTTP-date
/// values are not used by KDS and fall back to the default).
fn retry_after(headers: &str) -> Option<Duration> {
    headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("retry-after"))
        .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
        .next_back()
        .map(Duration::from_secs)
}

fn note(msg: &str) {
    eprintln!("note: {msg}");
}

/// A private temporary directory removed on drop (for curl's body and headers).
mod tempfile_dir {
    use std::path::{Path, PathBuf};

    use anyhow::Context as _;

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> anyhow::Result<Self> {
            let p = std::env::temp_dir().join(format!(
                "cer-kds-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4()
            ));
            std::fs::create_dir(&p)
                .with_context(|| format!("cannot create a temporary directory {}", p.display()))?;
            Ok(Self(p))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_the_last_seconds_value() {
        let h = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n\r\n";
        assert_eq!(retry_after(h), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("HTTP/1.1 429\r\nretry-after:  3 \r\n"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after("HTTP/1.1 429\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"),
            None
        );
        assert_eq!(retry_after("HTTP/1.1 200 OK\r\n"), None);
    }
}
