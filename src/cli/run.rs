//! `cer run`: run a command, hash what goes through it, and record the run.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context as _};
use cerd_attestation::Sha256Digest;
use clap::Args;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

use super::Outcome;
use crate::client;
use crate::files;

/// Run a command and record the run with the cerd daemon.
///
/// Passes this command's stdin to CMD and CMD's stdout to this command's stdout
/// unchanged (stderr is not captured), hashing both on the way: the input hash covers
/// the bytes CMD was given, the output hash the bytes it wrote. When CMD exits, the
/// run is submitted to the daemon (argv, exit status and duration as the client's
/// claims; the runtime comes from the daemon's measured profile) and the bundle is
/// written to --out. Exits with CMD's exit status (128+N when killed by signal N), or
/// 2 when the run could not be recorded.
///
/// Example:
///   echo "What is the capital of France?" | cer run --model demo -o run.cer.json -- ./infer
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    /// The daemon's socket (default: $CERD_SOCKET, else /run/cerd/cerd.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Where to write the bundle (default: <certificateHash hex>.cer.json here).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    force: bool,
    /// Who served the model.
    #[arg(long, default_value = "local")]
    provider: String,
    /// The model name (default: CMD's file name).
    #[arg(long)]
    model: Option<String>,
    #[command(flatten)]
    fields: super::record::RunFields,
    /// Write the sealed record once durable instead of waiting for attestation.
    #[arg(long)]
    no_wait: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    argv: Vec<String>,
}

pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let Some(program) = args.argv.first() else {
        bail!("give the command after --");
    };
    // Checked before CMD runs: a bad --param must not cost a run.
    let mut desc = Map::new();
    args.fields.add_to(&mut desc)?;
    let model = match &args.model {
        Some(m) => m.clone(),
        None => std::path::Path::new(program)
            .file_name()
            .map_or_else(|| program.clone(), |n| n.to_string_lossy().into_owned()),
    };
    let socket = args.socket.clone().unwrap_or_else(client::default_socket);

    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args.argv.get(1..).unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    let mut child_in = child.stdin.take().context("no stdin pipe")?;
    let mut child_out = child.stdout.take().context("no stdout pipe")?;

    // stdin → CMD, hashed. Not joined: if CMD never reads, our stdin may never end.
    let input = Arc::new(Mutex::new(Sha256::new()));
    let input_hasher = input.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut stdin = io::stdin().lock();
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = buf.get(..n).unwrap_or_default();
            // The lock is held across the write and the hash, so once CMD has exited
            // the main thread sees every chunk CMD could have read.
            let mut hasher = input_hasher.lock().unwrap_or_else(|p| p.into_inner());
            if child_in.write_all(chunk).is_err() {
                break; // CMD closed its stdin
            }
            hasher.update(chunk);
        }
    });
    // CMD → stdout, hashed.
    let mut output = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdout = io::stdout().lock();
    loop {
        let n = match child_out.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("cannot read the command's stdout"),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        output.update(chunk);
        // Keep hashing when our stdout is gone, so the command is not cut short.
        let _ = stdout.write_all(chunk).and_then(|()| stdout.flush());
    }
    let status = child.wait().context("cannot wait for the command")?;
    let duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let input_digest = Sha256Digest(
        input
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .finalize()
            .into(),
    );
    let output_digest = Sha256Digest(output.finalize().into());
    let code = exit_code(&status);

    for (key, value) in [
        ("provider", json!(args.provider)),
        ("model", json!(model)),
        ("inputHash", json!(input_digest.to_string())),
        ("outputHash", json!(output_digest.to_string())),
        (
            "claims",
            json!({ "argv": args.argv, "exitStatus": code, "durationMs": duration_ms }),
        ),
    ] {
        desc.insert(key.into(), value);
    }
    let desc = Value::Object(desc);
    let bundle = super::record::submit(&socket, &desc, !args.no_wait)?;
    let text = super::record::pretty_value(&bundle)?;
    let out = match &args.out {
        Some(p) => p.clone(),
        None => {
            let hash = bundle
                .get("certificateHash")
                .and_then(Value::as_str)
                .and_then(|h| h.strip_prefix("sha256:"))
                .context("the bundle has no certificateHash")?;
            PathBuf::from(format!("{hash}.cer.json"))
        }
    };
    files::write_new(&out, &text, args.force)?;
    eprintln!("cer: recorded the run in {}", out.display());
    if code == 0 {
        Ok(Outcome::Ok)
    } else {
        // The command's own status, as a wrapper should.
        std::process::exit(code);
    }
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128_i32.saturating_add(s),
        (None, None) => 1,
    }
}
