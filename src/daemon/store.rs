//! The daemon's storage: one SQLite database (WAL, synchronous=FULL) under the state
//! directory.
//!
//! - `records`: every acknowledged record, in the order it was made durable (`seq`,
//!   from 1), by certificateHash, with its sealed bundle (compact JSON, no `meta`).
//! - `batches`: every quoted batch: its header (the 94-byte encoding), the range of
//!   record `seq`s it covers (batches are consecutive ranges: the batcher takes records
//!   in `seq` order), and its hardware evidence (JSON): the TPM quote, the SEV-SNP
//!   report, or both.
//! - `profile`: each runtime-profile measurement (start, SIGHUP): the measured files,
//!   the measurement log as it was right after (CEL JSON; the live log is the file
//!   `cer tpm measure` keeps in step with the PCR; none without a TPM) and what
//!   reconciliation found.
//!
//! One writer thread owns the write connection ([`Writer`]): it takes every command
//! waiting in its queue, applies them in one transaction, commits (one fsync of the WAL
//! for the whole group) and only then acknowledges them. Readers use their own
//! connections (WAL lets them read while the writer writes).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cerd_attestation::batch::{BatchHeader, ENCODED_LEN};
use cerd_attestation::Sha256Digest;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

/// The columns of `batches` (one definition for the schema and its migration).
macro_rules! batches_columns {
    () => {
        "(
    sequence INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    header BLOB NOT NULL,
    tpm TEXT,
    quoted_us INTEGER NOT NULL,
    snp TEXT,
    CHECK (tpm IS NOT NULL OR snp IS NOT NULL)
)"
    };
}

/// The columns of `profile`.
macro_rules! profile_columns {
    () => {
        "(
    id INTEGER PRIMARY KEY,
    measured_us INTEGER NOT NULL,
    files TEXT NOT NULL,
    log_path TEXT,
    log TEXT,
    notices TEXT NOT NULL
)"
    };
}

const SCHEMA: &str = concat!(
    "CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    body TEXT NOT NULL,
    received_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS batches ",
    batches_columns!(),
    ";
CREATE INDEX IF NOT EXISTS batches_first ON batches(first_seq);
CREATE TABLE IF NOT EXISTS profile ",
    profile_columns!(),
    ";"
);

/// Databases made before SEV-SNP-only hosts require TPM evidence in every batch and a
/// measurement log in every profile row: both tables are rebuilt once, in one
/// transaction, with those columns optional (rows copied as they are).
const MAKE_TPM_OPTIONAL: &str = concat!(
    "BEGIN IMMEDIATE;
CREATE TABLE batches_new ",
    batches_columns!(),
    ";
INSERT INTO batches_new(sequence, first_seq, last_seq, header, tpm, quoted_us, snp)
    SELECT sequence, first_seq, last_seq, header, tpm, quoted_us, snp FROM batches;
DROP TABLE batches;
ALTER TABLE batches_new RENAME TO batches;
CREATE INDEX batches_first ON batches(first_seq);
CREATE TABLE profile_new ",
    profile_columns!(),
    ";
INSERT INTO profile_new(id, measured_us, files, log_path, log, notices)
    SELECT id, measured_us, files, log_path, log, notices FROM profile;
DROP TABLE profile;
ALTER TABLE profile_new RENAME TO profile;
COMMIT;"
);

/// Opens (creating if needed) the database with the daemon's settings.
pub fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open database {}", path.display()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .with_context(|| format!("cannot set WAL mode on {}", path.display()))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("{} cannot use WAL mode (got {mode})", path.display());
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;")
        .and_then(|()| conn.execute_batch(SCHEMA))
        .and_then(|()| add_snp_column(&conn))
        .and_then(|()| make_tpm_optional(&conn))
        .with_context(|| format!("cannot set up database {}", path.display()))?;
    Ok(conn)
}

/// Databases made before SEV-SNP support lack `batches.snp`.
fn add_snp_column(conn: &Connection) -> rusqlite::Result<()> {
    let has = conn
        .prepare("SELECT 1 FROM pragma_table_info('batches') WHERE name = 'snp'")?
        .exists([])?;
    if !has {
        conn.execute_batch("ALTER TABLE batches ADD COLUMN snp TEXT")?;
    }
    Ok(())
}

/// See [`MAKE_TPM_OPTIONAL`].
fn make_tpm_optional(conn: &Connection) -> rusqlite::Result<()> {
    let required = conn
        .prepare(
            "SELECT 1 FROM pragma_table_info('batches') WHERE name = 'tpm' AND \"notnull\" = 1",
        )?
        .exists([])?;
    if required {
        if let Err(e) = conn.execute_batch(MAKE_TPM_OPTIONAL) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A sealed record to make durable.
#[derive(Debug)]
pub struct NewRecord {
    pub hash: Sha256Digest,
    /// The sealed bundle, compact JSON, no `meta`.
    pub body: String,
    pub received_us: i64,
    /// When the request arrived (the batch window counts from here).
    pub received: std::time::Instant,
}

/// A record made durable: its `seq`, or `None` when the same record was already stored.
pub type Stored = Result<Option<i64>, String>;

/// A quoted batch to store.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub header: BatchHeader,
    pub first_seq: i64,
    pub last_seq: i64,
    /// TPM evidence JSON, unless the daemon runs without a TPM.
    pub tpm: Option<String>,
    /// SEV-SNP evidence JSON, when the daemon requests reports (at least one of the
    /// two is present).
    pub snp: Option<String>,
    pub quoted_us: i64,
}

/// A runtime-profile measurement to store.
#[derive(Debug)]
pub struct NewProfile {
    pub files: String,
    /// `None` without a TPM (the profile is hashed, not measured into a PCR).
    pub log_path: Option<String>,
    /// The measurement log (CEL JSON) right after the measurement; `None` without a
    /// TPM.
    pub log: Option<String>,
    pub notices: String,
}

/// What the writer thread is asked to do.
#[derive(Debug)]
pub enum Command {
    Insert(NewRecord, oneshot::Sender<Stored>),
    Batch(NewBatch, oneshot::Sender<Result<(), String>>),
    Profile(NewProfile),
}

/// The handle to the writer thread.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Command>,
}

/// A record the writer made durable, handed on to the batcher in `seq` order.
#[derive(Debug, Clone, Copy)]
pub struct Durable {
    pub seq: i64,
    pub hash: Sha256Digest,
    /// When the request arrived: the batch window counts from here (records recovered
    /// at start are dated one window back, so their batch is cut at once).
    pub received: std::time::Instant,
}

impl Writer {
    /// Starts the writer thread on `conn`. Newly stored records go to `durable`.
    pub fn start(
        conn: Connection,
        durable: mpsc::UnboundedSender<Vec<Durable>>,
        depth: std::sync::Arc<std::sync::atomic::AtomicI64>,
    ) -> anyhow::Result<(Self, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(65_536);
        let handle = std::thread::Builder::new()
            .name("cerd-store".into())
            .spawn(move || writer_loop(conn, rx, durable, depth))
            .context("cannot start the store thread")?;
        Ok((Self { tx }, handle))
    }

    /// Makes a record durable; resolves after its transaction committed.
    pub async fn insert(&self, record: NewRecord) -> Stored {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Insert(record, tx))
            .await
            .map_err(|_| "the store is shut down".to_owned())?;
        rx.await
            .unwrap_or_else(|_| Err("the store is shut down".into()))
    }

    /// Stores a quoted batch; resolves after its transaction committed.
    pub async fn batch(&self, batch: NewBatch) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Batch(batch, tx))
            .await
            .map_err(|_| "the store is shut down".to_owned())?;
        rx.await
            .unwrap_or_else(|_| Err("the store is shut down".into()))
    }

    /// Stores a profile measurement (not awaited).
    pub fn profile(&self, profile: NewProfile) {
        let _ = self.tx.try_send(Command::Profile(profile));
    }
}

/// The most commands applied in one transaction.
const GROUP_MAX: usize = 16_384;

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Command>,
    durable: mpsc::UnboundedSender<Vec<Durable>>,
    depth: std::sync::Arc<std::sync::atomic::AtomicI64>,
) {
    let mut group = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(c) => group.push(c),
                Err(_) => break,
            }
        }
        let outcome = apply(&mut conn, &group);
        match outcome {
            Ok(results) => {
                // Counted before the batcher can see (and subtract) them.
                let new = results
                    .iter()
                    .zip(&group)
                    .filter(|(r, c)| r.is_some() && matches!(c, Command::Insert(..)))
                    .count();
                depth.fetch_add(
                    i64::try_from(new).unwrap_or(0),
                    std::sync::atomic::Ordering::Relaxed,
                );
                // One hand-over to the batcher per group, not one wake-up per record.
                let fresh: Vec<Durable> = group
                    .iter()
                    .zip(&results)
                    .filter_map(|(cmd, result)| match (cmd, result) {
                        (Command::Insert(rec, _), Some(seq)) => Some(Durable {
                            seq: *seq,
                            hash: rec.hash,
                            received: rec.received,
                        }),
                        _ => None,
                    })
                    .collect();
                if !fresh.is_empty() {
                    let _ = durable.send(fresh);
                }
                for (cmd, result) in group.drain(..).zip(results) {
                    match cmd {
                        Command::Insert(_, ack) => {
                            let _ = ack.send(Ok(result));
                        }
                        Command::Batch(_, ack) => {
                            let _ = ack.send(Ok(()));
                        }
                        Command::Profile(_) => {}
                    }
                }
            }
            Err(e) => {
                let msg = format!("cannot store: {e:#}");
                eprintln!("cerd: {msg}");
                for cmd in group.drain(..) {
                    match cmd {
                        Command::Insert(_, ack) => {
                            let _ = ack.send(Err(msg.clone()));
                        }
                        Command::Batch(_, ack) => {
                            let _ = ack.send(Err(msg.clone()));
                        }
                        Command::Profile(_) => {}
                    }
                }
            }
        }
    }
}

/// Applies a group in one transaction; per command, the new record's seq.
fn apply(conn: &mut Connection, group: &[Command]) -> anyhow::Result<Vec<Option<i64>>> {
    let tx = conn.transaction()?;
    let mut out = Vec::with_capacity(group.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO records(hash, body, received_us) VALUES (?1, ?2, ?3)",
        )?;
        for cmd in group {
            match cmd {
                Command::Insert(rec, _) => {
                    let n = insert.execute(params![
                        rec.hash.as_bytes().as_slice(),
                        rec.body,
                        rec.received_us
                    ])?;
                    out.push((n == 1).then(|| tx.last_insert_rowid()));
                }
                Command::Batch(b, _) => {
                    tx.execute(
                        "INSERT INTO batches(sequence, first_seq, last_seq, header, tpm, quoted_us, snp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            i64::try_from(b.header.sequence)?,
                            b.first_seq,
                            b.last_seq,
                            b.header.encode(),
                            b.tpm,
                            b.quoted_us,
                            b.snp
                        ],
                    )?;
                    out.push(None);
                }
                Command::Profile(p) => {
                    tx.execute(
                        "INSERT INTO profile(measured_us, files, log_path, log, notices) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![now_us(), p.files, p.log_path, p.log, p.notices],
                    )?;
                    out.push(None);
                }
            }
        }
    }
    tx.commit()?;
    Ok(out)
}

/// A stored batch.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub header: BatchHeader,
    pub first_seq: i64,
    pub last_seq: i64,
    pub tpm: Option<String>,
    pub snp: Option<String>,
    pub quoted_us: i64,
}

/// A stored record.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub seq: i64,
    pub hash: Sha256Digest,
    pub body: String,
    pub received_us: i64,
}

/// Read access (its own connection).
#[derive(Debug)]
pub struct Reader {
    conn: Connection,
    path: PathBuf,
}

impl Reader {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {}", path.display()))?;
        conn.execute_batch("PRAGMA busy_timeout=5000;")?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn ctx(&self) -> String {
        format!("database {}", self.path.display())
    }

    /// The last record position covered by a stored batch (0 when there is none): one
    /// number, without reading the batch's evidence.
    fn last_attested_seq(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_seq FROM batches ORDER BY sequence DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .with_context(|| self.ctx())?
            .unwrap_or(0))
    }

    /// Every batch header in sequence order (for chain checks).
    pub fn headers(&self) -> anyhow::Result<Vec<BatchHeader>> {
        let mut stmt = self
            .conn
            .prepare("SELECT header FROM batches ORDER BY sequence")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(decode_header(&row?)?);
        }
        Ok(out)
    }

    /// The batch covering record `seq`, if it is attested.
    pub fn batch_of(&self, seq: i64) -> anyhow::Result<Option<BatchRow>> {
        let row = self
            .conn
            .query_row(
                "SELECT header, first_seq, last_seq, tpm, quoted_us, snp FROM batches WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1",
                [seq],
                batch_row,
            )
            .optional()
            .with_context(|| self.ctx())?
            .transpose()?;
        Ok(row.filter(|b| b.last_seq >= seq))
    }

    /// Batches overlapping records `first..=last` (without their evidence).
    pub fn batches_between(&self, first: i64, last: i64) -> anyhow::Result<Vec<BatchRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT header, first_seq, last_seq, '', quoted_us, NULL FROM batches WHERE first_seq BETWEEN COALESCE((SELECT first_seq FROM batches WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1), ?1) AND ?2 ORDER BY sequence",
        )?;
        let rows = stmt.query_map([first, last], batch_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// The record with this certificateHash.
    pub fn record(&self, hash: &Sha256Digest) -> anyhow::Result<Option<RecordRow>> {
        self.conn
            .query_row(
                "SELECT seq, hash, body, received_us FROM records WHERE hash = ?1",
                [hash.as_bytes().as_slice()],
                record_row,
            )
            .optional()
            .with_context(|| self.ctx())?
            .transpose()
    }

    /// The certificateHashes of records `first..=last`, in order.
    pub fn hashes(&self, first: i64, last: i64) -> anyhow::Result<Vec<Sha256Digest>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash FROM records WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")?;
        let rows = stmt.query_map([first, last], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(digest_of(&row?)?);
        }
        Ok(out)
    }

    /// Records with `seq > since`, at most `limit`, in order (without their bodies).
    pub fn page(&self, since: i64, limit: i64) -> anyhow::Result<Vec<RecordRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, hash, '', received_us FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map([since, limit], record_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Records not yet in a batch (after the last batch), in order.
    pub fn unattested(&self) -> anyhow::Result<Vec<RecordRow>> {
        let after = self.last_attested_seq()?;
        self.page(after, i64::MAX)
    }
}

fn decode_header(bytes: &[u8]) -> anyhow::Result<BatchHeader> {
    if bytes.len() != ENCODED_LEN {
        bail!(
            "a stored batch header has {} bytes, not {ENCODED_LEN}",
            bytes.len()
        );
    }
    BatchHeader::decode(bytes).context("a stored batch header does not decode")
}

fn digest_of(bytes: &[u8]) -> anyhow::Result<Sha256Digest> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("a stored certificateHash has {} bytes", bytes.len()))?;
    Ok(Sha256Digest(arr))
}

fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<anyhow::Result<BatchRow>> {
    let header: Vec<u8> = r.get(0)?;
    let first_seq = r.get(1)?;
    let last_seq = r.get(2)?;
    let tpm = r.get(3)?;
    let quoted_us = r.get(4)?;
    let snp = r.get(5)?;
    Ok(decode_header(&header).map(|header| BatchRow {
        header,
        first_seq,
        last_seq,
        tpm,
        snp,
        quoted_us,
    }))
}

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<anyhow::Result<RecordRow>> {
    let seq = r.get(0)?;
    let hash: Vec<u8> = r.get(1)?;
    let body = r.get(2)?;
    let received_us = r.get(3)?;
    Ok(digest_of(&hash).map(|hash| RecordRow {
        seq,
        hash,
        body,
        received_us,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema before SEV-SNP-only hosts: TPM evidence and a log were required.
    const OLD_SCHEMA: &str = "
CREATE TABLE records (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, body TEXT NOT NULL, received_us INTEGER NOT NULL);
CREATE TABLE batches (sequence INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, header BLOB NOT NULL, tpm TEXT NOT NULL, quoted_us INTEGER NOT NULL, snp TEXT);
CREATE INDEX batches_first ON batches(first_seq);
CREATE TABLE profile (id INTEGER PRIMARY KEY, measured_us INTEGER NOT NULL, files TEXT NOT NULL, log_path TEXT NOT NULL, log TEXT NOT NULL, notices TEXT NOT NULL);
INSERT INTO batches VALUES (0, 1, 2, x'00', '{\"tpm\":1}', 7, NULL);
INSERT INTO profile VALUES (1, 5, '{}', '/log', '[]', '[]');
";

    #[test]
    fn an_old_database_keeps_its_rows_and_takes_snp_only_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        Connection::open(&path)
            .unwrap()
            .execute_batch(OLD_SCHEMA)
            .unwrap();
        let conn = open(&path).unwrap();
        let kept: (String, i64) = conn
            .query_row(
                "SELECT tpm, quoted_us FROM batches WHERE sequence = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, ("{\"tpm\":1}".to_owned(), 7));
        let log: Option<String> = conn
            .query_row("SELECT log FROM profile WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(log.as_deref(), Some("[]"));
        // SNP-only batches and log-less profiles fit now; a batch with no evidence
        // does not.
        conn.execute(
            "INSERT INTO batches VALUES (1, 3, 3, x'00', NULL, 8, '{}')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO profile(measured_us, files, notices) VALUES (9, '{}', '[]')",
            [],
        )
        .unwrap();
        assert!(conn
            .execute(
                "INSERT INTO batches VALUES (2, 4, 4, x'00', NULL, 9, NULL)",
                []
            )
            .is_err());
        let indexed = conn
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'batches_first'")
            .unwrap()
            .exists([])
            .unwrap();
        assert!(indexed);
        drop(conn);
        // Opening again changes nothing.
        let conn = open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM batches", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
