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
        (None, Some(since), Some(to)) => {
            let socket = args.socket.unwrap_or_else(crate::client::default_socket);
            from_daemon(&socket, since, &to)
        }
        _ => bail!("give `tpm2-tools BUNDLE DIR`, or --since N --to DIR"),
    }
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
