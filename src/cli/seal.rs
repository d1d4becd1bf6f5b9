//! `cer seal`: a finished run → a sealed (not yet attested) CER.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use cerd_attestation::record::{self, Parameters, Runtime, Snapshot, Timestamp};
use cerd_attestation::Sha256Digest;
use clap::Args;
use serde_json::{Map, Value};

use super::Outcome;
use crate::files;

/// Seal a finished inference run into a Certified Execution Record.
///
/// The record names the provider and model, the input and output by SHA-256, the
/// generation parameters, and the runtime: the inference binary and model files by
/// digest (streamed, constant memory), the run's argv (after `--`) and a host
/// fingerprint. It is sealed, not attested: hardware evidence is added later under
/// `meta`, which never changes the certificateHash.
///
/// Example:
///   cer seal --provider local --model llama-3-8b --input prompt.txt --output answer.txt \
///     --param temperature=0.7 --param maxTokens=512 --binary /usr/bin/llama-cli \
///     --model-file /models/llama-3-8b.gguf -o run.cer.json -- llama-cli -m /models/llama-3-8b.gguf
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SealArgs {
    /// Who served the model (e.g. openai, anthropic, local).
    #[arg(long)]
    provider: String,
    /// The model name as the provider calls it.
    #[arg(long)]
    model: String,
    /// File holding the run's input; its bytes are hashed.
    #[arg(long, value_name = "FILE", required_unless_present = "input_hash")]
    input: Option<PathBuf>,
    /// The input's digest, when the content stays elsewhere.
    #[arg(long, value_name = "sha256:HEX", conflicts_with = "input")]
    input_hash: Option<String>,
    /// File holding the run's output; its bytes are hashed.
    #[arg(long, value_name = "FILE", required_unless_present = "output_hash")]
    output: Option<PathBuf>,
    /// The output's digest, when the content stays elsewhere.
    #[arg(long, value_name = "sha256:HEX", conflicts_with = "output")]
    output_hash: Option<String>,
    /// A generation parameter (repeatable). VALUE is a JSON scalar (number, true,
    /// false, null, "quoted string") when it parses as one, else a plain string.
    /// temperature, maxTokens, topP and seed are always recorded (null when unset).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The run's identifier (default: a random UUID).
    #[arg(long, value_name = "ID")]
    execution_id: Option<String>,
    /// The calling application's identifier.
    #[arg(long, value_name = "ID")]
    app_id: Option<String>,
    /// The inference binary to record by path, size and digest.
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// A model file to record by path, size and digest (repeatable).
    #[arg(long = "model-file", value_name = "PATH")]
    model_files: Vec<PathBuf>,
    /// Seal time, RFC 3339 UTC with milliseconds (default: now).
    #[arg(long, value_name = "TIME")]
    created_at: Option<String>,
    /// Where to write the bundle (default: stdout). Refuses to overwrite a file.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    force: bool,
    /// The run's command line, recorded in snapshot.runtime.argv.
    #[arg(last = true, value_name = "ARGV")]
    argv: Vec<String>,
}

/// Where a digest comes from.
#[derive(Debug)]
enum Content {
    File(PathBuf),
    Digest(Sha256Digest),
}

impl Content {
    fn new(file: Option<PathBuf>, hash: Option<String>, flag: &str) -> anyhow::Result<Self> {
        match (file, hash) {
            (Some(f), None) => Ok(Self::File(f)),
            (None, Some(h)) => Sha256Digest::parse(&h)
                .map(Self::Digest)
                .with_context(|| format!("--{flag}-hash {h:?}")),
            _ => bail!("give exactly one of --{flag} FILE and --{flag}-hash sha256:HEX"),
        }
    }

    fn digest(&self) -> anyhow::Result<Sha256Digest> {
        match self {
            Self::File(p) => Ok(files::digest_file(p)?.digest),
            Self::Digest(d) => Ok(*d),
        }
    }
}

/// Validated `cer seal` request.
#[derive(Debug)]
struct Request {
    provider: String,
    model: String,
    input: Content,
    output: Content,
    parameters: Parameters,
    execution_id: String,
    app_id: Option<String>,
    binary: Option<PathBuf>,
    model_files: Vec<PathBuf>,
    created_at: Timestamp,
    argv: Vec<String>,
}

impl TryFrom<SealArgs> for Request {
    type Error = anyhow::Error;

    fn try_from(a: SealArgs) -> anyhow::Result<Self> {
        let non_empty = |flag: &str, v: String| -> anyhow::Result<String> {
            if v.is_empty() {
                bail!("--{flag} must not be empty");
            }
            Ok(v)
        };
        let created_at = match a.created_at {
            None => Timestamp::now(),
            Some(t) => Timestamp::parse(&t).map_err(|m| anyhow::anyhow!("--created-at: {m}"))?,
        };
        Ok(Self {
            provider: non_empty("provider", a.provider)?,
            model: non_empty("model", a.model)?,
            input: Content::new(a.input, a.input_hash, "input")?,
            output: Content::new(a.output, a.output_hash, "output")?,
            parameters: parse_params(&a.params)?,
            execution_id: match a.execution_id {
                Some(id) => non_empty("execution-id", id)?,
                None => uuid::Uuid::new_v4().to_string(),
            },
            app_id: a.app_id.map(|id| non_empty("app-id", id)).transpose()?,
            binary: a.binary,
            model_files: a.model_files,
            created_at,
            argv: a.argv,
        })
    }
}

/// Parses `--param KEY=VALUE` flags into checked parameters.
pub(super) fn parse_params(raw: &[String]) -> anyhow::Result<Parameters> {
    let mut map = Map::new();
    for item in raw {
        let Some((key, text)) = item.split_once('=') else {
            bail!("--param {item:?}: expected KEY=VALUE");
        };
        if key.is_empty() {
            bail!("--param {item:?}: the key is empty");
        }
        let value = match serde_json::from_str::<Value>(text) {
            Ok(v @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) => v,
            _ => Value::String(text.to_owned()),
        };
        if map.insert(key.to_owned(), value).is_some() {
            bail!("--param {key} given twice");
        }
    }
    Parameters::from_map(&map).map_err(|e| anyhow::anyhow!("--param: {e}"))
}

pub fn run(args: SealArgs) -> anyhow::Result<Outcome> {
    let out = args.out.clone();
    let force = args.force;
    let req = Request::try_from(args)?;
    let bundle = seal(req)?;
    let mut text = serde_json::to_vec_pretty(&bundle).context("cannot serialize the bundle")?;
    text.push(b'\n');
    files::emit(out.as_deref(), &text, force)?;
    Ok(Outcome::Ok)
}

fn seal(req: Request) -> anyhow::Result<Value> {
    let binary = req.binary.as_deref().map(files::digest_file).transpose()?;
    let model_files = req
        .model_files
        .iter()
        .map(|p| files::digest_file(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut snapshot = Snapshot::new(
        req.execution_id,
        req.provider,
        req.model,
        req.input.digest()?,
        req.output.digest()?,
        req.parameters,
    );
    snapshot.app_id = req.app_id;
    snapshot.runtime = Some(Runtime::new(
        binary,
        model_files,
        req.argv,
        crate::host::fingerprint(),
    ));
    record::seal(&snapshot, req.created_at).context("cannot seal the record")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(items: &[&str]) -> anyhow::Result<Parameters> {
        parse_params(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn param_values_are_json_scalars_or_strings() {
        let p = params(&[
            "temperature=0.7",
            "maxTokens=512",
            "seed=null",
            "stop=END",
            "quoted=\"42\"",
            "flag=true",
            "list=[1,2]",
        ])
        .unwrap();
        assert_eq!(p.temperature, Some(0.7));
        assert_eq!(p.max_tokens, Some(512));
        assert_eq!(p.seed, None);
        assert_eq!(p.top_p, None);
        assert_eq!(p.other["stop"], "END");
        assert_eq!(p.other["quoted"], "42");
        assert_eq!(p.other["flag"], true);
        assert_eq!(p.other["list"], "[1,2]", "objects and arrays stay strings");
    }

    #[test]
    fn bad_params_are_refused() {
        assert!(params(&["temperature=hot"]).is_err());
        assert!(params(&["maxTokens=-1"]).is_err());
        assert!(params(&["maxTokens=1.5"]).is_err());
        assert!(params(&["noequals"]).is_err());
        assert!(params(&["=1"]).is_err());
        assert!(params(&["a=1", "a=2"]).is_err());
    }
}
