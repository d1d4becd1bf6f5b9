//! `cer attest`: bind sealed records to a TPM quote and/or an SEV-SNP report over a
//! Merkle batch of them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cerd_attestation::batch::BatchHeader;
use cerd_attestation::eventlog::EventLog;
use cerd_attestation::evidence::{self, SnpEvidence, TpmEvidence};
use cerd_attestation::record::Bundle;
use cerd_attestation::{merkle, verify, Sha256Digest};
use clap::Args;
use serde_json::Value;

use super::Outcome;
use crate::batch::{self, TpmIdentity};
use crate::files::{self, Source};
use crate::snp::SnpSource;
use crate::tpm::keys::{self, Ak};
use crate::tpm::{measure, pcr, quote, Tcti, Tpm};

/// Attest sealed records: one TPM quote over a Merkle batch of them.
///
/// Builds an RFC 9162 Merkle tree over the records' certificateHashes, chains a batch
/// header to the previous batch of this state directory, and quotes the SHA-256 bank of
/// the measurement PCR (and any --pcr) with the header's SHA-256 as qualifying data.
/// Each record is written back with its evidence under meta.cerd (the hashed fields are
/// never touched, so certificateHash does not change): batch header and inclusion
/// proof, TPMS_ATTEST, TPMT_SIGNATURE, the AK public and any AK certificate, the EK
/// certificates, the quoted PCR values and the boot's measurement log.
///
/// With --log, every binary and model file a record names in snapshot.runtime must
/// appear in the measurement log with the same digest, or the batch is refused.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N
    /// [default: device:/dev/tpmrm0, unless --snp is given without --tcti].
    #[arg(long, value_name = "TCTI")]
    tcti: Option<Tcti>,
    /// Attest with AMD SEV-SNP too (or alone, without --tcti): /dev/sev-guest, or
    /// sim:DIR for the simulated guest (`cer snp sim init`). REPORT_DATA binds the
    /// batch header and, with a TPM, the AK.
    #[arg(long, value_name = "DEVICE|sim:DIR")]
    snp: Option<SnpSource>,
    /// SNP certificate cache used when the host provides none with the report: vcek.der
    /// (or vlek.der) and ask.pem / ark.pem, as `snpguest fetch` writes them.
    #[arg(long, value_name = "DIR", requires = "snp")]
    snp_certs: Option<PathBuf>,
    /// When neither the host's extended report nor --snp-certs DIR has a VCEK matching
    /// the report, fetch it (and the ASK/ARK) from AMD's KDS into DIR first (system
    /// curl; rate limit honoured). Never done at verification time.
    #[arg(long, requires = "snp_certs")]
    kds_fetch: bool,
    #[command(flatten)]
    kds: super::snp::KdsFlags,
    /// Persistent handle of the attestation key (see `cer tpm ak create`).
    #[arg(long, value_name = "HANDLE", default_value = "0x81010002", value_parser = parse_handle)]
    ak_handle: u32,
    /// Use the platform's certified AK (GCE or Azure) instead of --ak-handle.
    #[arg(long, conflicts_with = "ak_handle")]
    platform_ak: bool,
    /// AK certificate chain (PEM, leaf first) to carry, e.g. from `cer ca issue`.
    #[arg(long, value_name = "FILE")]
    ak_cert: Option<PathBuf>,
    /// EK intermediate CA certificates (PEM) to carry, toward the TPM vendor's root.
    #[arg(long, value_name = "FILE")]
    ek_chain: Vec<PathBuf>,
    /// The measurement log directory (`cer tpm measure --log`); its PCR is quoted.
    #[arg(long, value_name = "DIR")]
    log: Option<PathBuf>,
    /// Additional PCR to quote (repeatable).
    #[arg(long = "pcr", value_name = "N")]
    pcrs: Vec<u8>,
    /// Where the batch chain is kept (last header, and every quoted batch).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Write attested records here (named <certificateHash hex>.cer.json) instead of
    /// replacing the input files.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Re-attest records that already carry evidence (the old evidence is replaced).
    #[arg(long)]
    force: bool,
    /// Sealed records (CER bundles).
    #[arg(required = true, value_name = "RECORD")]
    records: Vec<PathBuf>,
}

fn parse_handle(s: &str) -> Result<u32, String> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
    match hex {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|_| format!("{s:?} is not a handle (e.g. 0x81010002)"))
}

/// One input record.
struct Input {
    path: PathBuf,
    value: Value,
    bundle: Bundle,
}

pub fn run(args: AttestArgs) -> anyhow::Result<Outcome> {
    let inputs = read_records(&args.records, args.force)?;
    let tcti = match (&args.tcti, &args.snp) {
        (Some(t), _) => Some(t.clone()),
        (None, None) => Some(
            "device:/dev/tpmrm0"
                .parse::<Tcti>()
                .map_err(anyhow::Error::msg)?,
        ),
        (None, Some(_)) => None,
    };
    let mut tpm_side = match &tcti {
        Some(t) => Some(TpmSide::open(&args, t, &inputs)?),
        None => None,
    };

    // The batch.
    let leaves: Vec<Sha256Digest> = inputs.iter().map(|i| i.bundle.certificate_hash).collect();
    let tree = merkle::build(&leaves)?;
    let state_dir = state_dir(args.state.as_deref())?;
    let chain = Chain::open(&state_dir)?;
    let header = chain.next(tree.size(), tree.root())?;

    let quoted = match &mut tpm_side {
        Some(side) => Some(side.quote(&header)?),
        None => None,
    };
    let snp_evidence = match &args.snp {
        Some(source) => {
            let ak = tpm_side.as_ref().map(|s| s.ak.public_bytes.as_slice());
            let report_data =
                cerd_attestation::verify::snp::expected_report_data(&header.hash().0, ak);
            Some(crate::snp::request(
                source,
                report_data,
                args.snp_certs.as_deref(),
                args.kds_fetch
                    .then(|| args.kds.options())
                    .transpose()?
                    .as_ref(),
            )?)
        }
        None => None,
    };
    chain.record(
        &header,
        quoted.as_ref().map(|(q, _)| q),
        snp_evidence.as_ref(),
    )?;
    let tpm_evidence = quoted.map(|(_, e)| e);

    for (i, input) in inputs.iter().enumerate() {
        let proof = tree.proof(i as u64)?;
        let mut meta = batch::meta(header, proof, tpm_evidence.clone());
        if let Some(snp) = &snp_evidence {
            meta.evidence = meta.evidence.with_snp(snp.clone());
        }
        let mut value = input.value.clone();
        batch::attach(&mut value, &meta)?;
        // The hashed fields are untouched: the record must verify exactly as before.
        // The SNP report is judged by the verifier's policy (simulated evidence is
        // refused without one that trusts its test ARK); every other check must hold.
        let verdict = verify::verify_value(&value);
        let snp_check = verdict
            .checks
            .iter()
            .find(|c| c.check == verify::CheckId::SnpReport);
        if i == 0 {
            if let Some(c) = snp_check.filter(|c| {
                c.status == verify::Status::Fail
                    && c.reason
                        != Some(verify::Reason::Snp(
                            cerd_attestation::snp::SnpReason::SimulatedUntrusted,
                        ))
            }) {
                eprintln!(
                    "warning: the SEV-SNP evidence does not verify under the default policy: {} [{}]",
                    c.message,
                    c.reason.map(|r| r.code()).unwrap_or_default()
                );
            }
        }
        let integrity = verdict
            .checks
            .iter()
            .filter(|c| c.check != verify::CheckId::SnpReport)
            .all(|c| c.status != verify::Status::Fail);
        if !integrity || verdict.certificate_hash != Some(input.bundle.certificate_hash) {
            bail!(
                "{}: adding evidence changed the record (a bug in cer); nothing written",
                input.path.display()
            );
        }
        let mut text = serde_json::to_vec_pretty(&value).context("cannot encode the bundle")?;
        text.push(b'\n');
        match &args.out_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let name = format!("{}.cer.json", input.bundle.certificate_hash.to_hex());
                files::write_new(&dir.join(name), &text, args.force)?;
            }
            None => files::write_new(&input.path, &text, true)?,
        }
    }
    let mut by = Vec::new();
    if let Some(side) = &tpm_side {
        by.push(format!("the AK at {}", side.ak.handle));
    }
    if let Some(source) = &args.snp {
        by.push(format!("an SEV-SNP report from {source}"));
    }
    eprintln!(
        "attested {} record(s) in batch {} (root {}, header {}) with {}",
        inputs.len(),
        header.sequence,
        header.root.to_hex(),
        header.hash().to_hex(),
        by.join(" and ")
    );
    Ok(Outcome::Ok)
}

/// The TPM half of a batch: the TPM, its log, the AK and what vouches for it.
struct TpmSide {
    tpm: Tpm,
    log: Option<EventLog>,
    pcrs: Vec<u8>,
    ak: Ak,
    id: TpmIdentity,
}

impl TpmSide {
    fn open(args: &AttestArgs, tcti: &Tcti, inputs: &[Input]) -> anyhow::Result<Self> {
        let mut tpm = Tpm::open(tcti)?;

        // The measurement log of this boot, checked against the PCR and the records.
        let log = match &args.log {
            None => None,
            Some(dir) => Some(load_log(&mut tpm, dir)?),
        };
        if let Some(log) = &log {
            for input in inputs {
                check_runtime(input, log)?;
            }
        }
        let mut pcrs = args.pcrs.clone();
        pcrs.push(log.as_ref().map_or(measure::DEFAULT_PCR, EventLog::pcr));

        // The AK and what vouches for it.
        let ak = if args.platform_ak {
            keys::platform_ak(&mut tpm)?.with_context(|| {
                format!(
                    "the TPM at {tcti} has no platform AK (GCE NV 0x01c10000/0x01c10002 or Azure 0x81000003)"
                )
            })?
        } else {
            keys::load_ak(&mut tpm, args.ak_handle)?
        };
        let ak_certs = batch::ak_certificates(&ak, args.ak_cert.as_deref())?;
        let mut ek_chain = Vec::new();
        for path in &args.ek_chain {
            ek_chain.extend(batch::pem_chain(path)?);
        }
        let id = TpmIdentity::read(&mut tpm, &ak, ak_certs, ek_chain)?;
        Ok(Self {
            tpm,
            log,
            pcrs,
            ak,
            id,
        })
    }

    /// Quotes the batch header's hash; the quote and the evidence to carry.
    fn quote(&mut self, header: &BatchHeader) -> anyhow::Result<(quote::Quote, TpmEvidence)> {
        let tpm = &mut self.tpm;
        let q = {
            let loaded = self.ak.load(tpm)?;
            let result = quote::quote(tpm, loaded.key, &header.hash().0, &self.pcrs);
            loaded.release(tpm)?;
            result?
        };
        let evidence = self.id.evidence(&q, self.log.take());
        Ok((q, evidence))
    }
}

fn read_records(paths: &[PathBuf], force: bool) -> anyhow::Result<Vec<Input>> {
    let mut out: Vec<Input> = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = Source::Path(path.clone()).read()?;
        let value = cerd_attestation::json::parse(&bytes)
            .with_context(|| format!("{} is not a CER bundle", path.display()))?;
        let verdict = verify::verify_value(&value);
        let Some(bundle) = verdict.bundle.filter(|_| verdict.valid) else {
            let codes: Vec<&str> = verdict.reasons.iter().map(|r| r.code()).collect();
            bail!(
                "{} does not verify ({}): only intact records are attested; run `cer verify` for details",
                path.display(),
                codes.join(", ")
            );
        };
        if !force && evidence::from_bundle(&value).is_some() {
            bail!(
                "{} already carries evidence under meta.{}; use --force to replace it",
                path.display(),
                evidence::META_KEY
            );
        }
        if out
            .iter()
            .any(|i| i.bundle.certificate_hash == bundle.certificate_hash)
        {
            bail!(
                "{}: the same record ({}) is given twice",
                path.display(),
                bundle.certificate_hash
            );
        }
        out.push(Input {
            path: path.clone(),
            value,
            bundle,
        });
    }
    Ok(out)
}

/// The current boot's log, which must replay to the PCR's value now.
fn load_log(tpm: &mut Tpm, dir: &Path) -> anyhow::Result<EventLog> {
    let Some((path, log)) = measure::current_log(tpm, dir)? else {
        bail!(
            "no measurement log for this boot in {} (measure the runtime first: `cer tpm measure --log {} FILE...`)",
            dir.display(),
            dir.display()
        );
    };
    let now = pcr::read(tpm, log.pcr())?;
    log.verify_replay(&now).map_err(|e| {
        anyhow::anyhow!(
            "{} does not replay to PCR {} of the TPM at {}: {e} (run `cer tpm log` to see why)",
            path.display(),
            log.pcr(),
            tpm.tcti()
        )
    })?;
    Ok(log)
}

/// Every file the record names in `snapshot.runtime` was measured with that digest.
fn check_runtime(input: &Input, log: &EventLog) -> anyhow::Result<()> {
    let Some(rt) = &input.bundle.snapshot.runtime else {
        return Ok(());
    };
    for file in rt.binary.iter().chain(rt.model_files.iter()) {
        if log.find(&file.digest).is_none() {
            bail!(
                "{}: {} ({}) is not in the measurement log of this boot; measure it with `cer tpm measure` before sealing runs that use it",
                input.path.display(),
                file.path,
                file.digest
            );
        }
    }
    Ok(())
}

fn state_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("cerd"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/state/cerd")),
        None => bail!("no --state directory given and $HOME is not set"),
    }
}

/// The batch chain of a state directory: `batches/last.json` holds the last header;
/// `batches/<sequence>.json` keeps each quoted batch (header, quote) for audit.
struct Chain {
    dir: PathBuf,
    last: Option<BatchHeader>,
}

impl Chain {
    fn open(state: &Path) -> anyhow::Result<Self> {
        let dir = state.join("batches");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let last_path = dir.join("last.json");
        let last = match std::fs::read(&last_path) {
            Ok(bytes) => Some(
                serde_json::from_slice::<BatchHeader>(&bytes)
                    .with_context(|| format!("{} is not a batch header", last_path.display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", last_path.display()))
            }
        };
        Ok(Self { dir, last })
    }

    fn next(&self, size: u64, root: Sha256Digest) -> anyhow::Result<BatchHeader> {
        Ok(match &self.last {
            None => BatchHeader::genesis(size, root)?,
            Some(last) => last.next(size, root)?,
        })
    }

    /// Persists the quoted header before any record is written, so a sequence number
    /// is never quoted twice.
    fn record(
        &self,
        header: &BatchHeader,
        q: Option<&quote::Quote>,
        snp: Option<&SnpEvidence>,
    ) -> anyhow::Result<()> {
        let mut entry = serde_json::Map::new();
        entry.insert("header".into(), serde_json::to_value(header)?);
        entry.insert("headerHash".into(), header.hash().to_hex().into());
        if let Some(q) = q {
            entry.insert("attest".into(), hex::encode(&q.attest).into());
            entry.insert("signature".into(), hex::encode(&q.signature).into());
        }
        if let Some(snp) = snp {
            entry.insert("snpReport".into(), hex::encode(&snp.report.0).into());
        }
        let mut text = serde_json::to_vec_pretty(&entry)?;
        text.push(b'\n');
        files::write_new(
            &self.dir.join(format!("{:020}.json", header.sequence)),
            &text,
            false,
        )?;
        let mut last = serde_json::to_vec_pretty(header)?;
        last.push(b'\n');
        files::write_new(&self.dir.join("last.json"), &last, true)
    }
}
