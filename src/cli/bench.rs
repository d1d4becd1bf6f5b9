//! `cer bench`: throughput and latency of the daemon on a private swtpm.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::Outcome;
use crate::client::Client;
use crate::daemon::store::now_us;
use crate::swtpm;
use crate::tpm::keys::{self, AkAlg, Occupied};
use crate::tpm::Tpm;

/// Benchmark the daemon: throughput and submit-to-attested latency on a swtpm.
///
/// Starts a private swtpm (provisioned in a temporary directory), creates an AK,
/// starts `cer daemon` on it (state in the temporary directory, SQLite with
/// synchronous=FULL as in production), drives N concurrent clients for T seconds (each
/// a keep-alive connection submitting run descriptions as fast as the daemon
/// acknowledges them), waits until every acknowledged record is attested, and reports:
/// records attested per second, latency from submit to attested (p50, p99, max;
/// attested = the daemon stored the quoted batch), the daemon's peak RSS, batches and
/// quotes.
///
/// --quote-delay-ms adds that much time to every quote (a hardware TPM takes about
/// 200 ms; swtpm a few ms). --per-record-quote runs the naive baseline: one quote per
/// record (batch size 1), each client waiting for its record's quote.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Concurrent clients (connections).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// How long the clients submit, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Extra latency per quote, in milliseconds.
    #[arg(long, default_value_t = 0)]
    quote_delay_ms: u64,
    /// One quote per record (the baseline).
    #[arg(long)]
    per_record_quote: bool,
    /// Batch window in milliseconds.
    #[arg(long, default_value_t = 100)]
    window_ms: u64,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    if args.clients == 0 || args.seconds == 0 {
        bail!("--clients and --seconds must be at least 1");
    }
    let dir = tempfile_dir()?;
    let result = bench(&args, &dir);
    let _ = swtpm::stop(&dir.join("tpm"));
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    if args.json {
        println!("{report}");
    } else {
        print(&report);
    }
    Ok(Outcome::Ok)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir().join(format!("cer-bench-{}", std::process::id()));
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    Ok(base)
}

struct DaemonChild(Child);

impl Drop for DaemonChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bench(args: &BenchArgs, dir: &Path) -> anyhow::Result<Value> {
    eprintln!(
        "cer bench: starting a swtpm and the daemon in {}",
        dir.display()
    );
    let (running, _) = swtpm::start(&dir.join("tpm"), &swtpm::StartOptions::default())?;
    let tcti = running.tcti();
    {
        let mut tpm = Tpm::open(&tcti)?;
        keys::ensure_ak(
            &mut tpm,
            AkAlg::EccP256,
            keys::AK_HANDLE_ECC,
            Occupied::Refuse,
        )?;
    }
    let model = dir.join("model.bin");
    std::fs::write(&model, vec![7u8; 1 << 20]).context("cannot write the sample model")?;
    let socket = dir.join("cerd.sock");
    let (window, max) = if args.per_record_quote {
        (0, 1)
    } else {
        (args.window_ms, 4096)
    };
    let config = dir.join("cerd.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\n[api]\nsocket = \"{}\"\n[tpm]\ntcti = \"{tcti}\"\nquote_delay_ms = {}\n[batch]\nwindow_ms = {window}\nmax_records = {max}\n[runtime]\nbinary = \"{}\"\nmodel_files = [\"{}\"]\n",
            dir.join("state").display(),
            socket.display(),
            args.quote_delay_ms,
            std::env::current_exe()?.display(),
            model.display()
        ),
    )?;
    let child = Command::new(std::env::current_exe()?)
        .arg("daemon")
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the daemon")?;
    let daemon = DaemonChild(child);
    let pid = daemon.0.id();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(drive(args, &socket, pid))?;
    drop(daemon);
    Ok(result)
}

async fn drive(args: &BenchArgs, socket: &Path, pid: u32) -> anyhow::Result<Value> {
    // Wait for the daemon.
    let deadline = later(Duration::from_secs(30));
    loop {
        match Client::connect(socket).await {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let until = later(Duration::from_secs(args.seconds));
    let start_us = now_us();
    let cpu_start = cpu_ticks(pid);
    eprintln!(
        "cer bench: {} client(s) for {} s{}{}",
        args.clients,
        args.seconds,
        if args.quote_delay_ms > 0 {
            format!(", quote delay {} ms", args.quote_delay_ms)
        } else {
            String::new()
        },
        if args.per_record_quote {
            ", one quote per record"
        } else {
            ""
        }
    );
    let socket = Arc::new(socket.to_path_buf());
    // With one quote per record the daemon attests a few records per second: clients
    // wait for their record's quote (the naive design), or the queue would grow
    // without bound. Batched, clients submit as fast as records are made durable.
    let path = if args.per_record_quote {
        "/v1/records?wait=attested"
    } else {
        "/v1/records"
    };
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let socket = socket.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(&socket).await?;
            let mut sent: Vec<(String, i64)> = Vec::new();
            let mut i = 0u64;
            while Instant::now() < until {
                let body = format!(
                    r#"{{"provider":"bench","model":"m","inputHash":"sha256:{:064x}","outputHash":"sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2","executionId":"bench-{c}-{i}"}}"#,
                    (c as u64) << 40 | i
                );
                i = i.saturating_add(1);
                let t = now_us();
                let (status, answer) = client
                    .request(Method::POST, path, Some(body.into_bytes()))
                    .await?;
                if status != StatusCode::CREATED {
                    bail!("{}", crate::client::describe_error(status, &answer));
                }
                let v: Value = serde_json::from_slice(&answer)?;
                let hash = v
                    .get("certificateHash")
                    .and_then(Value::as_str)
                    .context("no certificateHash")?
                    .to_owned();
                sent.push((hash, t));
            }
            anyhow::Ok(sent)
        }));
    }
    let mut submitted: HashMap<String, i64> = HashMap::new();
    let mut peak_rss = 0u64;
    for t in tasks {
        peak_rss = peak_rss.max(rss_kib(pid).0);
        for (h, t) in t.await.context("a client task failed")?? {
            submitted.insert(h, t);
        }
    }
    let submit_end_us = now_us();
    // Peak RSS under load (before the listing below, which is not the daemon's
    // steady state).
    peak_rss = peak_rss.max(rss_kib(pid).0);
    eprintln!(
        "cer bench: {} records acknowledged; waiting for attestation",
        submitted.len()
    );
    // A fresh connection: the daemon drops connections idle longer than its request
    // timeout.
    let mut probe = Client::connect(&socket).await?;
    // Wait until the queue is empty.
    let drain_deadline = later(Duration::from_secs(120));
    loop {
        let (_, body) = probe.request(Method::GET, "/v1/health", None).await?;
        let h: Value = serde_json::from_slice(&body)?;
        if h.get("queueDepth").and_then(Value::as_i64) == Some(0) {
            break;
        }
        if Instant::now() > drain_deadline {
            bail!("records were still not attested 120 s after the load stopped: {h}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Attestation times from the daemon's list.
    let mut latencies = Vec::with_capacity(submitted.len());
    let mut last_attested = start_us;
    let mut since = 0i64;
    loop {
        let (_, body) = probe
            .request(
                Method::GET,
                &format!("/v1/records?since={since}&limit=2000"),
                None,
            )
            .await?;
        let page: Value = serde_json::from_slice(&body)?;
        let items = page
            .get("records")
            .and_then(Value::as_array)
            .context("no records in the list")?;
        if items.is_empty() {
            break;
        }
        for r in items {
            let h = r
                .get("certificateHash")
                .and_then(Value::as_str)
                .unwrap_or("");
            let attested = r.get("attestedUs").and_then(Value::as_i64);
            if let (Some(t), Some(a)) = (submitted.get(h), attested) {
                latencies.push(a.saturating_sub(*t));
                last_attested = last_attested.max(a);
            }
        }
        since = page.get("next").and_then(Value::as_i64).unwrap_or(i64::MAX);
    }
    let cpu_ticks_used = cpu_ticks(pid).saturating_sub(cpu_start);
    let (_, metrics) = probe.request(Method::GET, "/metrics", None).await?;
    let metrics = String::from_utf8_lossy(&metrics).into_owned();
    let batches = metric(&metrics, "cerd_batches_total");
    latencies.sort_unstable();
    let n = latencies.len();
    let pct = |p: usize| -> f64 {
        let i = n
            .saturating_mul(p)
            .saturating_div(100)
            .min(n.saturating_sub(1));
        latencies.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    let elapsed_s = (last_attested.saturating_sub(start_us)) as f64 / 1e6;
    let submit_s = (submit_end_us.saturating_sub(start_us)) as f64 / 1e6;
    Ok(json!({
        "clients": args.clients,
        "seconds": args.seconds,
        "quoteDelayMs": args.quote_delay_ms,
        "perRecordQuote": args.per_record_quote,
        "windowMs": if args.per_record_quote { 0 } else { args.window_ms },
        "acknowledged": submitted.len(),
        "attested": n,
        "acknowledgedPerSecond": submitted.len() as f64 / submit_s.max(1e-9),
        "attestedPerSecond": n as f64 / elapsed_s.max(1e-9),
        "latencyMs": { "p50": pct(50), "p99": pct(99), "max": latencies.last().copied().unwrap_or(0) as f64 / 1000.0 },
        "batches": batches,
        "daemonPeakRssMiB": peak_rss as f64 / 1024.0,
        // CPU time the daemon used per attested record (user + system, from
        // /proc/PID/stat in clock ticks of 10 ms): independent of what else runs.
        "daemonCpuUsPerRecord": cpu_ticks_used as f64 * 10_000.0 / (n.max(1) as f64),
    }))
}

fn later(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).unwrap_or(now)
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
        .unwrap_or(0)
}

/// utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11).saturating_add(get(12))
}

/// (VmHWM, VmRSS) of a process, KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn print(r: &Value) {
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    println!(
        "clients {}  seconds {}  quote delay {} ms  {}",
        r["clients"],
        r["seconds"],
        r["quoteDelayMs"],
        if r["perRecordQuote"] == true {
            "one quote per record".to_owned()
        } else {
            format!("batch window {} ms", r["windowMs"])
        }
    );
    println!(
        "acknowledged  {} records ({:.0}/s)",
        r["acknowledged"],
        f(&r["acknowledgedPerSecond"])
    );
    println!(
        "attested      {} records in {} batches: {:.0} records/s",
        r["attested"],
        r["batches"],
        f(&r["attestedPerSecond"])
    );
    println!(
        "latency       submit -> attested: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        r.pointer("/latencyMs/p50")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        r.pointer("/latencyMs/p99")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        r.pointer("/latencyMs/max")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    );
    println!("daemon RSS    peak {:.1} MiB", f(&r["daemonPeakRssMiB"]));
    println!(
        "daemon CPU    {:.1} us per attested record (user + system)",
        f(&r["daemonCpuUsPerRecord"])
    );
}
