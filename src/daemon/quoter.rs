//! The TPM thread: the only place the daemon talks to the TPM (tss-esapi is
//! synchronous, so it never runs on the async executor). It measures the runtime
//! profile into the PCR and quotes batch header hashes. Any TPM failure drops the
//! context; the next job opens the TPM afresh (so a restarted TPM is picked up).

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cerd_attestation::eventlog::Measurement;
use tokio::sync::oneshot;

use super::config::Config;
use crate::batch::{self, TpmIdentity};
use crate::tpm::keys::{self, Ak};
use crate::tpm::{measure, quote, Tcti, Tpm};

/// A quote and the state of the measurement log it carries.
#[derive(Debug)]
pub struct Quoted {
    /// The TPM evidence (`meta.cerd.evidence.tpm`), JSON.
    pub tpm_json: String,
    /// The SEV-SNP evidence (`meta.cerd.evidence.snp`), JSON, when configured.
    pub snp_json: Option<String>,
    /// `Err(reason)` when the log does not replay to the quoted PCR (or is missing).
    pub log_state: Result<(), String>,
    /// Time spent in the TPM (including any configured delay).
    pub latency: Duration,
}

/// What a profile measurement found.
#[derive(Debug)]
pub struct Measured {
    pub log_path: PathBuf,
    /// The log (CEL JSON) right after the measurement.
    pub log_json: String,
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

/// Handle to the TPM thread.
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
            tcti: config.tcti.clone(),
            ak_handle: config.ak_handle,
            ak_cert: config.ak_cert.clone(),
            ek_chain: config.ek_chain.clone(),
            pcr: config.pcr,
            log_dir: config.log_dir(),
            delay: config.quote_delay,
            snp: config.snp.clone(),
            snp_certs: config.snp_certs.clone(),
            kds: config.kds.clone(),
            open: None,
            pending: None,
            profile: Vec::new(),
        };
        std::thread::Builder::new()
            .name("cerd-tpm".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    worker.run(job);
                }
            })
            .context("cannot start the TPM thread")?;
        Ok(Self { tx })
    }

    /// Quotes `qualifying` (a batch header hash) over the measurement PCR. A profile
    /// measurement still pending is done first.
    pub async fn quote(&self, qualifying: [u8; 32]) -> anyhow::Result<Quoted> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Quote { qualifying, reply })
            .map_err(|_| anyhow::anyhow!("the TPM thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("the TPM thread has stopped"))?
    }

    /// Measures the profile into the PCR. If the TPM is unreachable the measurement
    /// stays pending and is retried before the next quote.
    pub async fn measure(&self, items: Vec<Measurement>) -> anyhow::Result<Measured> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Measure { items, reply })
            .map_err(|_| anyhow::anyhow!("the TPM thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("the TPM thread has stopped"))?
    }
}

struct Open {
    tpm: Tpm,
    ak: Ak,
    id: TpmIdentity,
}

struct Worker {
    tcti: Tcti,
    ak_handle: u32,
    ak_cert: Option<PathBuf>,
    ek_chain: Vec<PathBuf>,
    pcr: u8,
    log_dir: PathBuf,
    delay: Duration,
    snp: Option<crate::snp::SnpSource>,
    snp_certs: Option<PathBuf>,
    kds: Option<crate::snp::kds::KdsOptions>,
    open: Option<Open>,
    /// A profile measurement not yet in the PCR.
    pending: Option<Vec<Measurement>>,
    /// The last profile asked for, measured again when the TPM was reset (new boot,
    /// no log yet).
    profile: Vec<Measurement>,
}

impl Worker {
    fn run(&mut self, job: Job) {
        match job {
            Job::Quote { qualifying, reply } => {
                let result = self.quote(&qualifying);
                if result.is_err() {
                    self.open = None;
                }
                let _ = reply.send(result);
            }
            Job::Measure { items, reply } => {
                self.profile.clone_from(&items);
                self.pending = Some(items);
                let result = self.measure_pending();
                if result.is_err() {
                    self.open = None;
                }
                let _ = reply.send(result.and_then(|m| {
                    m.context("nothing was measured (a bug in cerd: the profile was pending)")
                }));
            }
        }
    }

    fn ensure_open(&mut self) -> anyhow::Result<&mut Open> {
        if self.open.is_none() {
            let mut tpm = Tpm::open(&self.tcti)?;
            let ak = keys::load_ak(&mut tpm, self.ak_handle)?;
            let ak_certs = batch::ak_certificates(&ak, self.ak_cert.as_deref())?;
            let mut ek_chain = Vec::new();
            for path in &self.ek_chain {
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
        let (pcr, dir) = (self.pcr, self.log_dir.clone());
        let open = self.ensure_open()?;
        let mut notices = Vec::new();
        let mut tell = |n: &measure::Notice| {
            eprintln!("cerd: measurement log: {n}");
            notices.push((n.to_string(), n.is_unaccounted()));
        };
        let report = measure::measure(&mut open.tpm, &dir, pcr, items, &mut tell)?;
        self.pending = None;
        Ok(Some(Measured {
            log_json: report.log.to_json(),
            log_path: report.log_path,
            unaccounted: notices.iter().any(|(_, u)| *u),
            notices: notices.into_iter().map(|(n, _)| n).collect(),
        }))
    }

    fn quote(&mut self, qualifying: &[u8; 32]) -> anyhow::Result<Quoted> {
        self.ensure_open()?;
        self.measure_pending()?;
        let (pcr, dir, delay) = (self.pcr, self.log_dir.clone(), self.delay);
        let (snp_source, snp_certs, kds) =
            (self.snp.clone(), self.snp_certs.clone(), self.kds.clone());
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
        let tpm_json = serde_json::to_string(&evidence).context("cannot encode the evidence")?;
        // The SEV-SNP report over the same batch, bound to this AK: REPORT_DATA =
        // header hash || SHA-256(AK TPM2B_PUBLIC).
        let snp_json = match &snp_source {
            None => None,
            Some(source) => {
                let report_data = cerd_attestation::verify::snp::expected_report_data(
                    qualifying,
                    Some(&open.ak.public_bytes),
                );
                let snp =
                    crate::snp::request(source, report_data, snp_certs.as_deref(), kds.as_ref())
                        .with_context(|| format!("SEV-SNP report from {source}"))?;
                Some(serde_json::to_string(&snp).context("cannot encode the SNP evidence")?)
            }
        };
        if snp_json.is_some() {
            // The cache holds this chip's certificates now: KDS is consulted (and the
            // cache re-verified) once per daemon start, not per batch.
            self.kds = None;
        }
        Ok(Quoted {
            tpm_json,
            snp_json,
            log_state,
            latency,
        })
    }
}
