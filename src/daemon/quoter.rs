//! The evidence thread: the only place the daemon talks to the TPM and the SEV-SNP
//! guest device (tss-esapi and the SNP ioctl are synchronous, so they never run on the
//! async executor). It measures the runtime profile into the PCR and quotes batch
//! header hashes, and requests an SNP report per batch when configured. Any TPM
//! failure drops the context; the next job opens the TPM afresh (so a restarted TPM is
//! picked up). Without a TPM (`tpm.enabled = false`) each batch gets an SNP report
//! only, and nothing is measured into a PCR.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cerd_attestation::eventlog::Measurement;
use tokio::sync::oneshot;

use super::config::{Config, TpmConfig};
use crate::batch::{self, TpmIdentity};
use crate::tpm::keys::{self, Ak};
use crate::tpm::{measure, quote, Tpm};

/// A batch's hardware evidence and the state of the measurement log it carries.
#[derive(Debug)]
pub struct Quoted {
    /// The TPM evidence (`meta.cerd.evidence.tpm`), JSON, when the TPM is used.
    pub tpm_json: Option<String>,
    /// The SEV-SNP evidence (`meta.cerd.evidence.snp`), JSON, when configured.
    pub snp_json: Option<String>,
    /// `Err(reason)` when the log does not replay to the quoted PCR (or is missing);
    /// `None` without a TPM (no log).
    pub log_state: Option<Result<(), String>>,
    /// Time spent in the TPM (including any configured delay) and the SNP device.
    pub latency: Duration,
}

/// What a profile measurement found.
#[derive(Debug)]
pub struct Measured {
    /// The measurement log; `None` without a TPM (the profile is hashed, not
    /// measured into a PCR).
    pub log_path: Option<PathBuf>,
    /// The log (CEL JSON) right after the measurement.
    pub log_json: Option<String>,
    /// Reconciliation notices (foreign extends, interrupted measurements).
    pub notices: Vec<String>,
    /// True when a notice means the PCR held something the log did not account for.
    pub unaccounted: bool,
}

enum Job {
    Quote {
        qualifying: [u8; 32],
        reply: oneshot::Sender<anyhow::Result<Quoted>>,
    },
    Measure {
        items: Vec<Measurement>,
        reply: oneshot::Sender<anyhow::Result<Measured>>,
    },
}

/// Handle to the evidence thread.
#[derive(Debug, Clone)]
pub struct Quoter {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Quote { .. } => "Quote",
            Self::Measure { .. } => "Measure",
        })
    }
}

impl Quoter {
    pub fn start(config: &Config) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let mut worker = Worker {
            tpm: config.tpm.clone().map(|c| TpmSide {
                log_dir: config.log_dir(),
                config: c,
                open: None,
                pending: None,
                profile: Vec::new(),
            }),
            snp: config.snp.clone(),
            snp_certs: config.snp_certs.clone(),
            kds: config.kds.clone(),
        };
        std::thread::Builder::new()
            .name("cerd-evidence".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    worker.run(job);
                }
            })
            .context("cannot start the evidence thread")?;
        Ok(Self { tx })
    }

    /// The hardware evidence over `qualifying` (a batch header hash): a TPM quote over
    /// the measurement PCR (a profile measurement still pending is done first), an
    /// SEV-SNP report, or both.
    pub async fn quote(&self, qualifying: [u8; 32]) -> anyhow::Result<Quoted> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Quote { qualifying, reply })
            .map_err(|_| anyhow::anyhow!("the evidence thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("the evidence thread has stopped"))?
    }

    /// Measures the profile into the PCR. If the TPM is unreachable the measurement
    /// stays pending and is retried before the next quote. Without a TPM, nothing is
    /// measured (the answer has no log).
    pub async fn measure(&self, items: Vec<Measurement>) -> anyhow::Result<Measured> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Measure { items, reply })
            .map_err(|_| anyhow::anyhow!("the evidence thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("the evidence thread has stopped"))?
    }
}

struct Open {
    tpm: Tpm,
    ak: Ak,
    id: TpmIdentity,
}

/// The TPM, when the daemon uses one.
struct TpmSide {
    config: TpmConfig,
    log_dir: PathBuf,
    open: Option<Open>,
    /// A profile measurement not yet in the PCR.
    pending: Option<Vec<Measurement>>,
    /// The last profile asked for, measured again when the TPM was reset (new boot,
    /// no log yet).
    profile: Vec<Measurement>,
}

/// A TPM quote of one batch.
struct TpmQuote {
    json: String,
    log_state: Result<(), String>,
    /// The AK's TPM2B_PUBLIC, bound into an SNP report of the same batch.
    ak_public: Vec<u8>,
    latency: Duration,
}

struct Worker {
    tpm: Option<TpmSide>,
    snp: Option<crate::snp::SnpSource>,
    snp_certs: Option<PathBuf>,
    kds: Option<crate::snp::kds::KdsOptions>,
}

impl Worker {
    fn run(&mut self, job: Job) {
        match job {
            Job::Quote { qualifying, reply } => {
                let _ = reply.send(self.quote(&qualifying));
            }
            Job::Measure { items, reply } => {
                let result = match &mut self.tpm {
                    // Without a TPM the profile is only hashed: there is no PCR to
                    // measure it into and no log.
                    None => Ok(Measured {
                        log_path: None,
                        log_json: None,
                        notices: Vec::new(),
                        unaccounted: false,
                    }),
                    Some(tpm) => {
                        tpm.profile.clone_from(&items);
                        tpm.pending = Some(items);
                        let result = tpm.measure_pending();
                        if result.is_err() {
                            tpm.open = None;
                        }
                        result.and_then(|m| {
                            m.context(
                                "nothing was measured (a bug in cerd: the profile was pending)",
                            )
                        })
                    }
                };
                let _ = reply.send(result);
            }
        }
    }

    /// The batch's evidence: a TPM quote, an SNP report bound to it (REPORT_DATA =
    /// header hash || SHA-256(AK TPM2B_PUBLIC), or zeros for the AK half without a
    /// TPM), or both.
    fn quote(&mut self, qualifying: &[u8; 32]) -> anyhow::Result<Quoted> {
        let tpm = match &mut self.tpm {
            None => None,
            Some(side) => {
                let result = side.quote(qualifying);
                if result.is_err() {
                    side.open = None;
                }
                Some(result?)
            }
        };
        let mut latency = tpm.as_ref().map_or(Duration::ZERO, |q| q.latency);
        let snp_json = match &self.snp {
            None => None,
            Some(source) => {
                let start = Instant::now();
                let report_data = cerd_attestation::verify::snp::expected_report_data(
                    qualifying,
                    tpm.as_ref().map(|q| q.ak_public.as_slice()),
                );
                let snp = crate::snp::request(
                    source,
                    report_data,
                    self.snp_certs.as_deref(),
                    self.kds.as_ref(),
                )
                .with_context(|| format!("SEV-SNP report from {source}"))?;
                latency = latency.saturating_add(start.elapsed());
                // The cache holds this chip's certificates now: KDS is consulted (and
                // the cache re-verified) once per daemon start, not per batch.
                self.kds = None;
                Some(serde_json::to_string(&snp).context("cannot encode the SNP evidence")?)
            }
        };
        let (tpm_json, log_state) = match tpm {
            Some(q) => (Some(q.json), Some(q.log_state)),
            None => (None, None),
        };
        if tpm_json.is_none() && snp_json.is_none() {
            anyhow::bail!("neither a TPM nor an SEV-SNP source is configured (a bug in cerd: the config refuses this)");
        }
        Ok(Quoted {
            tpm_json,
            snp_json,
            log_state,
            latency,
        })
    }
}

impl TpmSide {
    fn ensure_open(&mut self) -> anyhow::Result<&mut Open> {
        if self.open.is_none() {
            let c = &self.config;
            let mut tpm = Tpm::open(&c.tcti)?;
            let ak = keys::load_ak(&mut tpm, c.ak_handle)?;
            let ak_certs = batch::ak_certificates(&ak, c.ak_cert.as_deref())?;
            let mut ek_chain = Vec::new();
            for path in &c.ek_chain {
                ek_chain.extend(batch::pem_chain(path)?);
            }
            let id = TpmIdentity::read(&mut tpm, &ak, ak_certs, ek_chain)?;
            // A TPM reset (reboot, restarted swtpm) cleared the PCR: this boot has no
            // log yet, so the profile is measured again before the next quote.
            if self.pending.is_none()
                && !self.profile.is_empty()
                && measure::current_log(&mut tpm, &self.log_dir)?.is_none()
            {
                eprintln!("cerd: the TPM was reset (no measurement log for this boot); measuring the runtime profile again");
                self.pending = Some(self.profile.clone());
            }
            self.open = Some(Open { tpm, ak, id });
        }
        self.open
            .as_mut()
            .context("the TPM context is not open (a bug in cerd)")
    }

    /// Measures the pending profile, if any.
    fn measure_pending(&mut self) -> anyhow::Result<Option<Measured>> {
        let Some(items) = self.pending.clone() else {
            return Ok(None);
        };
        let (pcr, dir) = (self.config.pcr, self.log_dir.clone());
        let open = self.ensure_open()?;
        let mut notices = Vec::new();
        let mut tell = |n: &measure::Notice| {
            eprintln!("cerd: measurement log: {n}");
            notices.push((n.to_string(), n.is_unaccounted()));
        };
        let report = measure::measure(&mut open.tpm, &dir, pcr, items, &mut tell)?;
        self.pending = None;
        Ok(Some(Measured {
            log_json: Some(report.log.to_json()),
            log_path: Some(report.log_path),
            unaccounted: notices.iter().any(|(_, u)| *u),
            notices: notices.into_iter().map(|(n, _)| n).collect(),
        }))
    }

    fn quote(&mut self, qualifying: &[u8; 32]) -> anyhow::Result<TpmQuote> {
        self.ensure_open()?;
        self.measure_pending()?;
        let (pcr, dir, delay) = (
            self.config.pcr,
            self.log_dir.clone(),
            self.config.quote_delay,
        );
        let open = self.ensure_open()?;
        let start = Instant::now();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let loaded = open.ak.load(&mut open.tpm)?;
        let result = quote::quote(&mut open.tpm, loaded.key, qualifying, &[pcr]);
        loaded.release(&mut open.tpm)?;
        let q = result?;
        let latency = start.elapsed();
        let quoted = q.pcrs.iter().find(|(i, _)| *i == pcr).map(|(_, v)| *v);
        let (log, log_state) = match measure::current_log(&mut open.tpm, &dir) {
            Ok(Some((path, log))) => {
                let state = match quoted {
                    Some(v) => log.verify_replay(&v).map_err(|e| {
                        format!(
                            "{} does not replay to the quoted PCR {pcr}: {e}",
                            path.display()
                        )
                    }),
                    None => Err(format!("PCR {pcr} is missing from the quote")),
                };
                (Some(log), state)
            }
            Ok(None) => (
                None,
                Err(format!(
                    "no measurement log for this boot in {}",
                    dir.display()
                )),
            ),
            Err(e) => (None, Err(format!("{e:#}"))),
        };
        let evidence = open.id.evidence(&q, log);
        Ok(TpmQuote {
            json: serde_json::to_string(&evidence).context("cannot encode the evidence")?,
            log_state,
            ak_public: open.ak.public_bytes.clone(),
            latency,
        })
    }
}
