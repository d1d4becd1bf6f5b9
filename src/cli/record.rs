//! `cer record`: submit a run description to the daemon and write the bundle.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::Args;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value};

use super::Outcome;
use crate::client;
use crate::files::{self, Source};

/// Submit a finished run to the cerd daemon and write its bundle.
///
/// The daemon seals the record (its snapshot.runtime comes from the daemon's measured
/// runtime profile, not from this command), makes it durable, and binds it to a TPM
/// quote with its batch. By default this command waits until the record is attested
/// and writes the full bundle; with --no-wait it writes the sealed record as soon as it
/// is durable (fetch the attested bundle later with `cer export --since`).
///
/// Give the run with flags, or as a JSON run description (docs/daemon.md) with
/// --json FILE (`-` for stdin).
///
/// Example:
///   cer record --provider local --model llama-3-8b --input prompt.txt --output answer.txt \
///     --param temperature=0.7 -o run.cer.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RecordArgs {
    /// The daemon's socket (default: $CERD_SOCKET, else /run/cerd/cerd.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// A JSON run description (`-` for stdin) instead of the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["provider", "model", "input", "input_hash", "output", "output_hash", "params", "execution_id", "app_id"])]
    json: Option<String>,
    /// Who served the model.
    #[arg(long, required_unless_present = "json")]
    provider: Option<String>,
    /// The model name as the provider calls it.
    #[arg(long, required_unless_present = "json")]
    model: Option<String>,
    /// File holding the run's input; hashed here, only the digest is sent.
    #[arg(long, value_name = "FILE", conflicts_with = "input_hash")]
    input: Option<PathBuf>,
    /// The input's digest.
    #[arg(long, value_name = "sha256:HEX")]
    input_hash: Option<String>,
    /// File holding the run's output; hashed here, only the digest is sent.
    #[arg(long, value_name = "FILE", conflicts_with = "output_hash")]
    output: Option<PathBuf>,
    /// The output's digest.
    #[arg(long, value_name = "sha256:HEX")]
    output_hash: Option<String>,
    #[command(flatten)]
    fields: RunFields,
    /// Write the sealed record once durable instead of waiting for attestation.
    #[arg(long)]
    no_wait: bool,
    /// Where to write the bundle (default: stdout). Refuses to overwrite a file.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    force: bool,
}

/// What `cer record` and `cer run` both say about a run besides its content.
#[derive(Debug, Args)]
pub struct RunFields {
    /// A generation parameter KEY=VALUE (repeatable), as for `cer seal`.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The run's identifier (default: a random UUID, chosen by the daemon).
    #[arg(long, value_name = "ID")]
    execution_id: Option<String>,
    /// The calling application's identifier.
    #[arg(long, value_name = "ID")]
    app_id: Option<String>,
}

impl RunFields {
    /// Adds `parameters` (checked as `cer seal` checks them), `executionId` and `appId`
    /// to a run description.
    pub fn add_to(&self, m: &mut Map<String, Value>) -> anyhow::Result<()> {
        let params = super::seal::parse_params(&self.params)?;
        m.insert("parameters".into(), serde_json::to_value(&params)?);
        for (key, value) in [("executionId", &self.execution_id), ("appId", &self.app_id)] {
            if let Some(v) = value {
                m.insert(key.into(), Value::String(v.clone()));
            }
        }
        Ok(())
    }
}

pub fn run(args: RecordArgs) -> anyhow::Result<Outcome> {
    let socket = args.socket.clone().unwrap_or_else(client::default_socket);
    let body = match &args.json {
        Some(src) => {
            let source = Source::from_arg(src);
            let bytes = source.read()?;
            let v: Value =
                serde_json::from_slice(&bytes).with_context(|| format!("{source} is not JSON"))?;
            if !v.is_object() {
                bail!("{source}: a run description is a JSON object");
            }
            v
        }
        None => description(&args)?,
    };
    let bundle = submit(&socket, &body, !args.no_wait)?;
    files::emit(args.out.as_deref(), &pretty_value(&bundle)?, args.force)?;
    Ok(Outcome::Ok)
}

/// Pretty JSON with a final newline.
pub fn pretty(bundle: &[u8]) -> anyhow::Result<Vec<u8>> {
    let v: Value =
        serde_json::from_slice(bundle).context("the daemon sent a bundle that is not JSON")?;
    pretty_value(&v)
}

/// [`pretty`] of a parsed bundle.
pub fn pretty_value(v: &Value) -> anyhow::Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(v)?;
    text.push(b'\n');
    Ok(text)
}

/// Submits a description; returns the bundle (attested when `wait`, else sealed), on
/// one connection.
pub fn submit(socket: &std::path::Path, body: &Value, wait: bool) -> anyhow::Result<Value> {
    let bytes = serde_json::to_vec(body)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bundle = rt.block_on(async {
        let mut c = client::Client::connect(socket).await?;
        let path = if wait {
            "/v1/records?wait=attested"
        } else {
            "/v1/records"
        };
        let (status, answer) = c.request(Method::POST, path, Some(bytes)).await?;
        if status != StatusCode::CREATED {
            bail!("{}", client::describe_error(status, &answer));
        }
        if wait {
            return Ok(answer);
        }
        let created: Value =
            serde_json::from_slice(&answer).context("the daemon's answer is not JSON")?;
        let hash = created
            .get("certificateHash")
            .and_then(Value::as_str)
            .context("the daemon's answer has no certificateHash")?;
        let (status, sealed) = c
            .request(Method::GET, &format!("/v1/records/{hash}"), None)
            .await?;
        if !(status == StatusCode::OK || status == StatusCode::ACCEPTED) {
            bail!("{}", client::describe_error(status, &sealed));
        }
        Ok(sealed)
    })?;
    serde_json::from_slice(&bundle).context("the daemon sent a bundle that is not JSON")
}

fn description(a: &RecordArgs) -> anyhow::Result<Value> {
    let mut m = Map::new();
    let put = |m: &mut Map<String, Value>, k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v));
        }
    };
    put(&mut m, "provider", a.provider.clone());
    put(&mut m, "model", a.model.clone());
    let digest =
        |file: &Option<PathBuf>, hash: &Option<String>, flag: &str| -> anyhow::Result<String> {
            match (file, hash) {
                (Some(f), None) => Ok(files::digest_file(f)?.digest.to_string()),
                (None, Some(h)) => Ok(h.clone()),
                _ => bail!("give --{flag} FILE or --{flag}-hash sha256:HEX"),
            }
        };
    m.insert(
        "inputHash".into(),
        digest(&a.input, &a.input_hash, "input")?.into(),
    );
    m.insert(
        "outputHash".into(),
        digest(&a.output, &a.output_hash, "output")?.into(),
    );
    a.fields.add_to(&mut m)?;
    Ok(Value::Object(m))
}
