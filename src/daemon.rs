//! `cer daemon`: seals run descriptions from local clients into CERs, makes them
//! durable in SQLite (group commit), binds them to hardware evidence in batches (a TPM
//! quote, an SEV-SNP report, or both), and serves them back (docs/daemon.md).
//!
//! Tasks and threads:
//!
//! ```text
//!  clients ──HTTP──► api (tokio) ── seal ──► store writer thread ──(seq order)──► batcher task
//!      ▲                                      one transaction per group,            │ Merkle tree, header
//!      └──── 201 once durable / bundle ◄───── ack after commit                      ▼
//!            once attested (waiters) ◄──────────────────── evidence thread (TPM / SNP, sync)
//! ```

pub mod api;
pub mod batcher;
pub mod config;
mod health;
mod metrics;
mod profile;
mod quoter;
pub mod store;
mod submit;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch, Semaphore};

use self::batcher::{BatchDone, Waiters};
use self::config::Config;
use self::health::Health;
use self::metrics::Metrics;
use self::profile::Profile;
use self::quoter::{Measured, Quoter};
use self::store::{Durable, Reader, Writer};

/// State shared by the API handlers and the batcher.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub metrics: Metrics,
    pub writer: Writer,
    pub waiters: Waiters,
    /// The most recently quoted or read batches, newest first: a GET (or an export,
    /// one GET per record) of a record in one of them needs no tree rebuild.
    recent: Mutex<std::collections::VecDeque<Arc<BatchDone>>>,
    health: Mutex<Health>,
    /// `snapshot.runtime` of new records, encoded once per profile.
    runtime: RwLock<Arc<serde_json::Value>>,
    readers: Mutex<Vec<Reader>>,
    stopping: AtomicBool,
}

/// How many batches (Merkle trees) [`Shared::remember`] keeps.
const RECENT_BATCHES: usize = 8;

impl Shared {
    /// The remembered batch with this header, if any.
    pub fn recent_batch(
        &self,
        header: &cerd_attestation::batch::BatchHeader,
    ) -> Option<Arc<BatchDone>> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|d| d.header == *header)
            .cloned()
    }

    /// Keeps `done` among the recent batches (evicting the oldest).
    pub fn remember(&self, done: Arc<BatchDone>) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.retain(|d| d.header != done.header);
        recent.push_front(done);
        recent.truncate(RECENT_BATCHES);
    }

    /// `snapshot.runtime` for new records.
    pub fn runtime(&self) -> Arc<serde_json::Value> {
        self.runtime
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The outcome of the last TPM or SNP operation.
    pub fn set_evidence(&self, state: Result<(), String>) {
        self.health().evidence = Some(state);
    }

    /// What the last quote found: does the log replay to the quoted PCR?
    pub fn set_replay(&self, state: Result<(), String>) {
        self.health().replay = Some(state);
    }

    pub fn set_quoted(&self, sequence: u64) {
        let mut h = self.health();
        h.last_quote = Some(Instant::now());
        h.last_batch = Some(sequence);
    }

    fn set_measured(&self, m: &Measured, profile: &Profile) {
        let mut h = self.health();
        if m.log_path.is_some() {
            h.evidence = Some(Ok(()));
        }
        h.log_path = m.log_path.as_ref().map(|p| p.display().to_string());
        h.profile = profile.describe();
        h.replay = None;
        h.log = Some(if m.unaccounted {
            Err(format!(
                "the PCR held values the log did not account for (recorded as foreign extends): {}",
                m.notices.join("; ")
            ))
        } else {
            Ok(())
        });
    }

    pub fn health_report(&self) -> (bool, serde_json::Value) {
        self.health().report(&self.metrics)
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Runs `f` on a read connection, off the executor.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Reader) -> anyhow::Result<T> + Send + 'static,
    {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || {
            let reader = shared
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            let reader = match reader {
                Some(r) => r,
                None => Reader::open(&shared.config.database())?,
            };
            let out = f(&reader);
            shared
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(reader);
            out
        })
        .await
        .context("a database read was cancelled")?
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config: Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cerd-worker")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Before anything a client or systemd can see: a SIGHUP or SIGTERM that arrives
    // early must not hit the default action (terminate).
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    // First, so a second daemon on the same socket stops before touching the state
    // or the TPM. Connections wait in the listen queue until serving starts.
    let unix = bind_unix(&config)?;
    let tcp = match config.tcp {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on tcp {addr}"))?,
        ),
        None => None,
    };
    std::fs::create_dir_all(&config.state_dir).with_context(|| {
        format!(
            "cannot create state directory {}",
            config.state_dir.display()
        )
    })?;
    let db = config.database();
    let conn = store::open(&db)?;
    let reader = Reader::open(&db)?;
    let headers = reader.headers()?;
    if !headers.is_empty() {
        cerd_attestation::batch::verify_chain(&headers)
            .with_context(|| format!("the batch chain in {} is broken", db.display()))?;
    }
    let last = headers.last().copied();
    // Recovered records have waited long enough: dated one window back, their batch
    // is cut at once.
    let now = Instant::now();
    let received = now.checked_sub(config.window).unwrap_or(now);
    let recovered: Vec<Durable> = reader
        .unattested()?
        .into_iter()
        .map(|r| Durable {
            seq: r.seq,
            hash: r.hash,
            received,
        })
        .collect();
    if !recovered.is_empty() {
        eprintln!(
            "cerd: {} acknowledged record(s) are not attested yet; attesting them now",
            recovered.len()
        );
    }
    let depth = Arc::new(AtomicI64::new(i64::try_from(recovered.len()).unwrap_or(0)));

    let (profile, runtime) = hash_profile(&config).await?;
    let quoter = Quoter::start(&config)?;
    let (durable_tx, durable_rx) = mpsc::unbounded_channel();
    let (writer, writer_thread) = Writer::start(conn, durable_tx, depth.clone())?;
    let shared = Arc::new(Shared {
        metrics: Metrics::new(depth),
        writer: writer.clone(),
        waiters: Mutex::default(),
        recent: Mutex::new(std::collections::VecDeque::new()),
        health: Mutex::new(Health::new(
            config.tpm.as_ref().map(|t| t.tcti.to_string()),
            config.snp.as_ref().map(ToString::to_string),
        )),
        runtime: RwLock::new(Arc::new(runtime)),
        readers: Mutex::new(vec![reader]),
        stopping: AtomicBool::new(false),
        config,
    });
    measure(&shared, &quoter, &profile).await;
    if shared.config.tpm.is_none() {
        // Without a TPM nothing touched the hardware yet: find a missing or
        // inaccessible SNP source now, not at the first batch.
        if let Some(source) = shared.config.snp.clone() {
            match tokio::task::spawn_blocking(move || source.probe()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    eprintln!("cerd: the SEV-SNP source is not usable: {e:#}; batches wait for it");
                    shared.set_evidence(Err(format!("{e:#}")));
                }
                Err(e) => eprintln!("cerd: SEV-SNP probe: {e}"),
            }
        }
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut accepts = vec![tokio::spawn(accept(
        Listener::Unix(unix),
        shared.config.socket.display().to_string(),
        shared.clone(),
        stop_rx.clone(),
    ))];
    if let Some(tcp) = tcp {
        accepts.push(tokio::spawn(accept(
            Listener::Tcp(tcp),
            "tcp".into(),
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    let batcher = tokio::spawn(batcher::run(
        shared.clone(),
        durable_rx,
        recovered,
        last,
        quoter.clone(),
        writer,
        stop_rx.clone(),
    ));
    eprintln!(
        "cerd: listening on {}{}; evidence: {}",
        shared.config.socket.display(),
        shared
            .config
            .tcp
            .map(|a| format!(" and tcp {a}"))
            .unwrap_or_default(),
        [
            shared
                .config
                .tpm
                .as_ref()
                .map(|t| format!("TPM {}", t.tcti)),
            shared.config.snp.as_ref().map(|s| format!("SEV-SNP {s}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" + ")
    );
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    if let Some(usec) = watchdog_usec() {
        let every = Duration::from_micros(usec / 2).max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
            }
        });
    }

    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                eprintln!("cerd: SIGHUP: measuring the runtime profile again");
                match hash_profile(&shared.config).await {
                    Ok((p, runtime)) => {
                        *shared.runtime.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(runtime);
                        measure(&shared, &quoter, &p).await;
                    }
                    Err(e) => eprintln!("cerd: SIGHUP: keeping the previous profile: {e:#}"),
                }
            }
        }
    }

    // Stop accepting, quote the open batch, exit (systemd allows 5 s).
    eprintln!("cerd: stopping: quoting the open batch");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    shared.stopping.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    for a in accepts {
        let _ = a.await;
    }
    let _ = std::fs::remove_file(&shared.config.socket);
    if tokio::time::timeout(Duration::from_millis(3500), batcher)
        .await
        .is_err()
    {
        eprintln!("cerd: the open batch was not quoted in time; it is stored and will be attested at the next start");
    }
    drop(shared);
    // Every acknowledged record is committed already; the writer thread ends when its
    // last handle is gone (wait briefly, for a tidy exit).
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::task::spawn_blocking(move || writer_thread.join()),
    )
    .await;
    eprintln!("cerd: stopped");
    Ok(())
}

/// The watchdog interval systemd asks for, as sd_watchdog_enabled(3) reads it:
/// WATCHDOG_USEC, applying to this process unless WATCHDOG_PID names another one.
fn watchdog_usec() -> Option<u64> {
    let usec = std::env::var("WATCHDOG_USEC").ok()?.parse::<u64>().ok()?;
    match std::env::var("WATCHDOG_PID") {
        Ok(pid) if pid.parse::<u32>().ok() != Some(std::process::id()) => None,
        _ => (usec > 0).then_some(usec),
    }
}

/// Hashes the configured profile (off the executor) and encodes its
/// `snapshot.runtime`: at start and on SIGHUP.
async fn hash_profile(config: &Config) -> anyhow::Result<(Profile, serde_json::Value)> {
    let c = config.clone();
    let profile = tokio::task::spawn_blocking(move || Profile::hash(&c))
        .await
        .context("profile hashing was cancelled")??;
    let runtime = profile.runtime_json()?;
    Ok((profile, runtime))
}

/// Measures the profile into the PCR and records the outcome in health and SQLite.
async fn measure(shared: &Arc<Shared>, quoter: &Quoter, profile: &Profile) {
    let items = match profile.measurements() {
        Ok(i) => i,
        Err(e) => {
            shared.health().log = Some(Err(format!("cannot describe the profile: {e:#}")));
            return;
        }
    };
    match quoter.measure(items).await {
        Ok(m) => {
            shared.set_measured(&m, profile);
            shared.writer.profile(store::NewProfile {
                files: profile.describe().to_string(),
                log_path: m.log_path.as_ref().map(|p| p.display().to_string()),
                log: m.log_json.clone(),
                notices: serde_json::to_string(&m.notices).unwrap_or_default(),
            });
        }
        Err(e) => {
            shared.metrics.tpm_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "cerd: cannot measure the runtime profile: {e:#}; retrying before the next quote"
            );
            shared.set_evidence(Err(format!("{e:#}")));
        }
    }
}

fn bind_unix(config: &Config) -> anyhow::Result<UnixListener> {
    let path = &config.socket;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create socket directory {}", dir.display()))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            bail!(
                "another daemon is listening on {}; stop it first",
                path.display()
            );
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove stale socket {}", path.display()))?;
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(config.socket_mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    if let Some(group) = &config.socket_group {
        let gid = group_id(group)?;
        rustix::fs::chown(path, None, Some(rustix::process::Gid::from_raw(gid)))
            .with_context(|| format!("cannot give {} to group {group}", path.display()))?;
    }
    Ok(listener)
}

/// The gid of a group name, from /etc/group.
fn group_id(name: &str) -> anyhow::Result<u32> {
    let text =
        std::fs::read_to_string(Path::new("/etc/group")).context("cannot read /etc/group")?;
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split(':');
            let n = parts.next()?;
            let gid = parts.nth(1)?.parse().ok()?;
            Some((n, gid))
        })
        .find(|(n, _)| *n == name)
        .map(|(_, g)| g)
        .with_context(|| format!("api.socket_group: no group {name:?} in /etc/group"))
}

/// A listener of the API: the Unix socket, or the optional TCP address.
enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// Accepts one connection and serves it on its own task.
    async fn serve_next(
        &self,
        shared: Arc<Shared>,
        stop: watch::Receiver<bool>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> std::io::Result<()> {
        match self {
            Self::Unix(l) => {
                let (s, _) = l.accept().await?;
                tokio::spawn(connection(TokioIo::new(s), shared, stop, permit));
            }
            Self::Tcp(l) => {
                let (s, _) = l.accept().await?;
                let _ = s.set_nodelay(true);
                tokio::spawn(connection(TokioIo::new(s), shared, stop, permit));
            }
        }
        Ok(())
    }
}

/// Accepts connections until shutdown, at most `api.max_connections` served at once
/// (further ones wait in the listen queue). `what` names the listener in errors.
async fn accept(
    listener: Listener,
    what: String,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let limit = Arc::new(Semaphore::new(shared.config.max_connections));
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => p,
            _ = stop.changed() => return,
        };
        let Ok(permit) = permit else { return };
        tokio::select! {
            r = listener.serve_next(shared.clone(), stop.clone(), permit) => if let Err(e) = r {
                eprintln!("cerd: accept on {what}: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            },
            _ = stop.changed() => return,
        }
    }
}

/// Serves one connection; on shutdown, finishes the request in flight and closes.
async fn connection<I>(
    io: I,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    _permit: tokio::sync::OwnedSemaphorePermit,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let timeout = shared.config.request_timeout;
    let svc = service_fn(move |req| api::handle(shared.clone(), req));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(3), conn).await;
        }
    }
}
