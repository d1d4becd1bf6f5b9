//! `cer export`: evidence from a bundle in the file layouts other tools read.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use cerd_attestation::evidence::{self, TpmEvidence};
use cerd_attestation::tpm::{AttestationKey, TpmPublic};
use clap::{Args, Subcommand};

use super::Outcome;
use crate::files::{self, Source};

/// Export a bundle's evidence for other tools, or the daemon's bundles as files.
///
/// `cer export --since N --to DIR` fetches every attested record after position N
/// (0 = from the start) from the cerd daemon and writes each bundle as
/// DIR/<certificateHash hex>.cer.json; it prints the last position written, to pass as
/// --since next time. Records not attested yet are left for the next export.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExportArgs {
    #[command(subcommand)]
    command: Option<ExportCommand>,
    /// Export the daemon's records after this position (see `GET /v1/records`).
    #[arg(long, value_name = "N", requires = "to")]
    since: Option<i64>,
    /// Directory to write the daemon's bundles into (created).
    #[arg(long, value_name = "DIR", requires = "since")]
    to: Option<PathBuf>,
    /// The daemon's socket (default: $CERD_SOCKET, else /run/cerd/cerd.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    Tpm2Tools(Tpm2ToolsArgs),
    Snpguest(SnpguestArgs),
}

/// Write the SEV-SNP report of a bundle so that `snpguest verify` checks it.
///
/// Writes DIR/report.bin (the 1184-byte ATTESTATION_REPORT), DIR/report-data (the
/// REPORT_DATA the batch binding requires, 0x + hex) and DIR/certs/ with
/// vcek.pem (or vlek.pem), ask.pem (or asvk.pem) and ark.pem; AMD's built-in ASK and
/// ARK of the VCEK's generation fill in what the evidence does not carry. Then:
///
///   snpguest verify certs DIR/certs
///   snpguest verify attestation DIR/certs DIR/report.bin --report-data $(cat DIR/report-data)
///
/// (add --processor-model milan|genoa for a version 2 report), or `cer verify-snp
/// --report DIR/report.bin --certs DIR/certs --report-data $(cat DIR/report-data)`, check
/// the chain, the report signature, the TCB and hwID, and REPORT_DATA = the batch
/// binding (report-data). They do not check the record's inclusion in the batch; `cer
/// verify` does. The layout is that of snpguest 0.10 (sev 8.0.0): a VLEK comes with
/// asvk.pem.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct SnpguestArgs {
    /// The attested bundle.
    #[arg(value_name = "BUNDLE")]
    bundle: String,
    /// Output directory (created; existing files are not overwritten without --force).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Replace files that exist in DIR.
    #[arg(long)]
    force: bool,
}

/// Write the TPM quote of a bundle so that tpm2_checkquote verifies it.
///
/// Writes into DIR: ak.pem (the AK public key), quote.msg (TPMS_ATTEST), quote.sig
/// (TPMT_SIGNATURE), pcrs.bin (the quoted SHA-256 PCR values concatenated in ascending
/// index order: tpm2-tools "values" format), pcr-list (e.g. `sha256:15`), qualification
/// (the batch header hash, hex) and ak.pub (TPM2B_PUBLIC). Then:
///
///   tpm2_checkquote -u DIR/ak.pem -m DIR/quote.msg -s DIR/quote.sig -f DIR/pcrs.bin \
///     -l "$(cat DIR/pcr-list)" -q "$(cat DIR/qualification)"
///
/// checks the signature, the PCR digest and the qualifying data. It does not check the
/// record's inclusion in the batch, the AK's certificate or the log; `cer verify` does.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct Tpm2ToolsArgs {
    /// The attested bundle.
    #[arg(value_name = "BUNDLE")]
    bundle: String,
    /// Output directory (created; existing files are not overwritten without --force).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Replace files that exist in DIR.
    #[arg(long)]
    force: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<Outcome> {
    match (args.command, args.since, args.to) {
        (Some(ExportCommand::Tpm2Tools(a)), _, _) => tpm2_tools(a),
        (Some(ExportCommand::Snpguest(a)), _, _) => snpguest(a),
        (None, Some(since), Some(to)) => {
            let socket = args.socket.unwrap_or_else(crate::client::default_socket);
            from_daemon(&socket, since, &to)
        }
        _ => bail!("give `tpm2-tools BUNDLE DIR`, `snpguest BUNDLE DIR`, or --since N --to DIR"),
    }
}

fn snpguest(args: SnpguestArgs) -> anyhow::Result<Outcome> {
    use cerd_attestation::chain::Certificate;
    use cerd_attestation::snp::{roots, EndorsementKind, Generation, VcekExtensions};

    let source = Source::from_arg(&args.bundle);
    let value = cerd_attestation::json::parse(&source.read()?)
        .with_context(|| format!("{source} is not a CER bundle"))?;
    let meta = evidence::from_bundle(&value)
        .with_context(|| {
            format!("{source} carries no evidence (attest it with `cer attest --snp`)")
        })?
        .with_context(|| format!("{source}: meta.{} is malformed", evidence::META_KEY))?;
    let header_hash = meta.evidence.batch.header.hash();
    let ak = meta.evidence.tpm.as_ref().map(|t| t.ak.public.0.clone());
    let snp = meta
        .evidence
        .snp
        .with_context(|| format!("{source} carries no SEV-SNP evidence"))?;
    let cert = |der: &[u8], what: &str| {
        Certificate::from_der(der).map_err(|e| anyhow::anyhow!("{source}: snp.{what}: {e}"))
    };
    let leaf = cert(&snp.endorsement.0, "endorsement")?;
    let ext = VcekExtensions::from_certificate(&leaf)
        .map_err(|e| anyhow::anyhow!("{source}: snp.endorsement: {e}"))?;
    let vlek = ext.kind == EndorsementKind::Vlek;
    let mut ark = None;
    let mut ask = None;
    for (i, der) in snp.chain.iter().enumerate() {
        let c = cert(&der.0, &format!("chain[{i}]"))?;
        if c.is_self_issued() {
            ark.get_or_insert(c);
        } else {
            ask.get_or_insert(c);
        }
    }
    let builtin = |list: &[roots::AmdCert]| {
        Generation::from_product_name(&ext.product_name).and_then(|g| {
            list.iter()
                .find(|a| a.generation == g)
                .map(|a| a.cert.clone())
        })
    };
    let ark = ark.or_else(|| builtin(roots::arks())).with_context(|| {
        format!(
            "{source}: no ARK in the evidence and no built-in one for {:?}",
            ext.product_name
        )
    })?;
    if ask.is_none() && vlek {
        bail!("{source}: the evidence carries no ASVK for its VLEK");
    }
    let ask = ask.or_else(|| builtin(roots::asks())).with_context(|| {
        format!(
            "{source}: no ASK in the evidence and no built-in one for {:?}",
            ext.product_name
        )
    })?;
    let pem = |c: &Certificate| {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, c.der())
            .map(String::into_bytes)
            .map_err(|e| anyhow::anyhow!("cannot encode PEM: {e}"))
    };
    let certs = args.dir.join("certs");
    std::fs::create_dir_all(&certs)
        .with_context(|| format!("cannot create {}", certs.display()))?;
    let (leaf_name, ask_name) = if vlek {
        ("vlek.pem", "asvk.pem")
    } else {
        ("vcek.pem", "ask.pem")
    };
    let report_data =
        cerd_attestation::verify::snp::expected_report_data(&header_hash.0, ak.as_deref());
    files::write_new(&args.dir.join("report.bin"), &snp.report.0, args.force)?;
    files::write_new(
        &args.dir.join("report-data"),
        // snpguest reads hex only after "0x"; cer verify-snp accepts it too.
        format!("0x{}", hex::encode(report_data)).as_bytes(),
        args.force,
    )?;
    files::write_new(&certs.join(leaf_name), &pem(&leaf)?, args.force)?;
    files::write_new(&certs.join(ask_name), &pem(&ask)?, args.force)?;
    files::write_new(&certs.join("ark.pem"), &pem(&ark)?, args.force)?;
    if snp.simulated {
        eprintln!(
            "note: {source} carries SIMULATED SEV-SNP evidence: its ARK is a test key, not AMD's"
        );
    }
    println!("{}", args.dir.display());
    Ok(Outcome::Ok)
}

/// Writes the daemon's attested bundles after position `since` into `dir`.
fn from_daemon(
    socket: &std::path::Path,
    since: i64,
    dir: &std::path::Path,
) -> anyhow::Result<Outcome> {
    use hyper::{Method, StatusCode};
    use serde_json::Value;
    if since < 0 {
        bail!("--since must be 0 or more");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let mut client = crate::client::Client::connect(socket).await?;
        let (mut cursor, mut last, mut written, mut pending) = (since, since, 0u64, 0u64);
        loop {
            let (status, body) = client
                .request(
                    Method::GET,
                    &format!("/v1/records?since={cursor}&limit=1000"),
                    None,
                )
                .await?;
            if status != StatusCode::OK {
                bail!("{}", crate::client::describe_error(status, &body));
            }
            let page: Value =
                serde_json::from_slice(&body).context("the daemon's list is not JSON")?;
            let items = page
                .get("records")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if items.is_empty() {
                break;
            }
            for item in &items {
                let seq = item
                    .get("seq")
                    .and_then(Value::as_i64)
                    .context("a listed record has no seq")?;
                let hash = item
                    .get("certificateHash")
                    .and_then(Value::as_str)
                    .context("a listed record has no certificateHash")?;
                if item.get("attested") != Some(&Value::Bool(true)) {
                    pending = pending.saturating_add(1);
                    continue;
                }
                let (status, bundle) = client
                    .request(Method::GET, &format!("/v1/records/{hash}"), None)
                    .await?;
                if status != StatusCode::OK {
                    bail!("{hash}: {}", crate::client::describe_error(status, &bundle));
                }
                let text = super::record::pretty(&bundle)?;
                let name = format!("{}.cer.json", hash.trim_start_matches("sha256:"));
                files::write_new(&dir.join(name), &text, true)?;
                written = written.saturating_add(1);
                if pending == 0 {
                    last = seq;
                }
            }
            cursor = page
                .get("next")
                .and_then(Value::as_i64)
                .context("the daemon's list has no next")?;
        }
        eprintln!(
            "cer: wrote {written} bundle(s) to {}{}",
            dir.display(),
            if pending > 0 {
                format!("; {pending} record(s) not attested yet")
            } else {
                String::new()
            }
        );
        println!("{last}");
        Ok(Outcome::Ok)
    })
}

fn tpm2_tools(args: Tpm2ToolsArgs) -> anyhow::Result<Outcome> {
    let source = Source::from_arg(&args.bundle);
    let value = cerd_attestation::json::parse(&source.read()?)
        .with_context(|| format!("{source} is not a CER bundle"))?;
    let meta = evidence::from_bundle(&value)
        .with_context(|| format!("{source} carries no evidence (attest it with `cer attest`)"))?
        .with_context(|| format!("{source}: meta.{} is malformed", evidence::META_KEY))?;
    let header = meta.evidence.batch.header;
    let tpm = meta
        .evidence
        .tpm
        .with_context(|| format!("{source} carries no TPM evidence"))?;
    let files = Tpm2ToolsFiles::from_evidence(&tpm, &header.hash().to_hex())
        .with_context(|| format!("{source}: TPM evidence"))?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    for (name, bytes) in files.entries() {
        files::write_new(&args.dir.join(name), bytes, args.force)?;
    }
    println!("{}", args.dir.display());
    Ok(Outcome::Ok)
}

/// The files, in memory.
struct Tpm2ToolsFiles {
    ak_pem: Vec<u8>,
    ak_pub: Vec<u8>,
    quote_msg: Vec<u8>,
    quote_sig: Vec<u8>,
    pcrs: Vec<u8>,
    pcr_list: Vec<u8>,
    qualification: Vec<u8>,
}

impl Tpm2ToolsFiles {
    fn from_evidence(tpm: &TpmEvidence, qualification: &str) -> anyhow::Result<Self> {
        // The library's strict TPM2B_PUBLIC parser; the PEM is the key's SPKI.
        let public = TpmPublic::from_tpm2b(&tpm.ak.public.0)
            .map_err(|e| anyhow::anyhow!("ak.public: {e}"))?;
        let ak =
            AttestationKey::from_public(public).map_err(|e| anyhow::anyhow!("ak.public: {e}"))?;
        let ak_pem = der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, ak.spki_der())
            .map_err(|e| anyhow::anyhow!("cannot encode the AK as PEM: {e}"))?
            .into_bytes();
        if tpm.pcrs.bank != "sha256" {
            bail!(
                "PCR bank {:?} is not supported (sha256 only)",
                tpm.pcrs.bank
            );
        }
        let mut indices = Vec::new();
        for (k, v) in &tpm.pcrs.values {
            let index: u8 = k
                .parse()
                .ok()
                .filter(|i| *i <= 23)
                .with_context(|| format!("pcrs.values: {k:?} is not a PCR index"))?;
            let value = hex::decode(v)
                .ok()
                .filter(|b| b.len() == 32)
                .with_context(|| format!("pcrs.values.{k}: not a SHA-256 value"))?;
            indices.push((index, value));
        }
        indices.sort_by_key(|(i, _)| *i);
        let list: Vec<String> = indices.iter().map(|(i, _)| i.to_string()).collect();
        Ok(Self {
            ak_pem,
            ak_pub: tpm.ak.public.0.clone(),
            quote_msg: tpm.attest.0.clone(),
            quote_sig: tpm.signature.0.clone(),
            pcrs: indices.into_iter().flat_map(|(_, v)| v).collect(),
            pcr_list: format!("sha256:{}", list.join(",")).into_bytes(),
            qualification: qualification.as_bytes().to_vec(),
        })
    }

    fn entries(&self) -> [(&'static str, &[u8]); 7] {
        [
            ("ak.pem", &self.ak_pem),
            ("ak.pub", &self.ak_pub),
            ("quote.msg", &self.quote_msg),
            ("quote.sig", &self.quote_sig),
            ("pcrs.bin", &self.pcrs),
            ("pcr-list", &self.pcr_list),
            ("qualification", &self.qualification),
        ]
    }
}
