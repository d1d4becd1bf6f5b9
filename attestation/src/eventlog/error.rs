//! Why a measurement log is refused or does not replay.

use crate::digest::{DigestError, Sha256Digest};
use crate::json::JsonError;

use super::LOG_VERSION;

/// Why bytes or values are not a valid cerd measurement log, or do not replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogError {
    /// Not one strict JSON document (syntax, duplicate key, trailing data, size).
    #[error("measurement log: {0}")]
    Json(#[from] JsonError),
    /// The document is not a JSON array.
    #[error("measurement log is not a JSON array of CEL records (found {found})")]
    NotArray {
        /// The JSON type found.
        found: &'static str,
    },
    /// The array is empty.
    #[error("measurement log has no records (record 0 must be the cerd_log header)")]
    Empty,
    /// A field is missing, unknown, of the wrong type or out of range.
    #[error("measurement log {path}: {problem}")]
    Schema {
        /// JSON path, e.g. `[3].content.size`.
        path: String,
        /// What was expected and found.
        problem: String,
    },
    /// A record number is missing from the sequence.
    #[error("measurement log has a gap: record {missing} is missing (record {found} is at its position)")]
    Gap {
        /// The record number expected at this position.
        missing: u64,
        /// The record number found there.
        found: u64,
    },
    /// Records are present but not in record-number order.
    #[error("measurement log is out of order: record {found} is at position {position}")]
    OutOfOrder {
        /// The position (and the record number expected there).
        position: u64,
        /// The record number found there.
        found: u64,
    },
    /// A record number appears twice.
    #[error("measurement log has record {recnum} twice")]
    DuplicateRecnum {
        /// The repeated record number.
        recnum: u64,
    },
    /// `pcr` is not a PCR index.
    #[error("measurement log record {recnum}: pcr {found} is not a PCR index (0..=23)")]
    PcrIndex {
        /// The record.
        recnum: u64,
        /// The value found.
        found: u64,
    },
    /// A record is on another PCR than the header's.
    #[error(
        "measurement log record {recnum} is for PCR {found}, but the log is for PCR {expected}"
    )]
    WrongPcr {
        /// The record.
        recnum: u64,
        /// The header's PCR.
        expected: u8,
        /// The record's PCR.
        found: u8,
    },
    /// A digest is for a bank other than SHA-256.
    #[error("measurement log record {recnum}: hashAlg {found:?} is not supported (cerd logs use the sha256 bank only)")]
    UnsupportedHashAlg {
        /// The record.
        recnum: u64,
        /// The `hashAlg` found.
        found: String,
    },
    /// `digests` does not hold exactly one entry.
    #[error(
        "measurement log record {recnum}: expected exactly one digest (sha256), found {found}"
    )]
    DigestCount {
        /// The record.
        recnum: u64,
        /// How many entries `digests` has.
        found: usize,
    },
    /// The extended digest is not the measured file's digest.
    #[error("measurement log record {recnum}: extended digest {extended} is not the content's digest {content}")]
    DigestMismatch {
        /// The record.
        recnum: u64,
        /// `digests[0].digest`.
        extended: Sha256Digest,
        /// `content.digest`.
        content: Sha256Digest,
    },
    /// A digest string in the content is malformed.
    #[error("measurement log {path}: {source}")]
    Digest {
        /// JSON path of the field.
        path: String,
        /// What is wrong with it.
        source: DigestError,
    },
    /// A `content_type` this implementation does not know.
    #[error("measurement log record {recnum}: unknown content_type {found:?} (expected \"cerd\" or \"cerd_foreign\")")]
    UnknownContentType {
        /// The record.
        recnum: u64,
        /// The `content_type` found.
        found: String,
    },
    /// Record 0 is not the `cerd_log` header.
    #[error("measurement log record 0 must be the cerd_log header, found content_type {found:?}")]
    MissingHeader {
        /// The `content_type` of record 0.
        found: String,
    },
    /// A `cerd_log` header after record 0.
    #[error("measurement log record {recnum} is a cerd_log header, which only record 0 may be")]
    MisplacedHeader {
        /// The record.
        recnum: u64,
    },
    /// The header's version is not [`LOG_VERSION`].
    #[error("measurement log version {found} is not supported (expected {LOG_VERSION})")]
    Version {
        /// The version found.
        found: u64,
    },
    /// A `cerd_foreign` record's `expected` is not the replay of the records before it.
    #[error(
        "measurement log record {recnum}: says the log replayed to {} before it, but the records before it replay to {}",
        hex::encode(.recorded),
        hex::encode(.computed)
    )]
    ForeignMismatch {
        /// The `cerd_foreign` record.
        recnum: u64,
        /// Its `expected` field.
        recorded: [u8; 32],
        /// The replay of the records before it.
        computed: [u8; 32],
    },
    /// The log does not replay to the expected PCR value.
    #[error("{}", replay_mismatch(.expected, .computed, .replays_through))]
    ReplayMismatch {
        /// The PCR value the log should replay to.
        expected: [u8; 32],
        /// What the whole log replays to.
        computed: [u8; 32],
        /// The last record after which the partial replay equals `expected`, if any:
        /// the records after it were never extended into the PCR.
        replays_through: Option<u64>,
    },
    /// A header or measurement built through the API cannot be written as a log.
    #[error("not representable in a measurement log: {problem}")]
    Unrepresentable {
        /// What is wrong.
        problem: String,
    },
}

fn replay_mismatch(expected: &[u8; 32], computed: &[u8; 32], through: &Option<u64>) -> String {
    let head = format!(
        "measurement log replays to {}, not to the PCR value {}",
        hex::encode(computed),
        hex::encode(expected)
    );
    match through {
        Some(k) => format!(
            "{head}; the records up to {k} replay to it, so record {} and later were never extended",
            k.saturating_add(1)
        ),
        None => format!(
            "{head}, and no prefix of it does: the PCR was extended outside the log, or a record was altered"
        ),
    }
}
