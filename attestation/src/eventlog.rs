//! Measurement logs: what `cer tpm measure` extended into a PCR, in the TCG Canonical
//! Event Log (CEL) JSON encoding, and their replay against a PCR value.
//!
//! TCG "Canonical Event Log Format" v1.0 defines a record as a record number
//! (`recnum`), a PCR index (`pcr`), the digests extended (`digests`, one
//! `{"hashAlg", "digest"}` per bank, digests in hex) and typed content (`content_type`,
//! `content`); its JSON encoding is an array of such records. CEL leaves room for
//! vendor content types next to its own (`cel`, `pcclient_std`, `ima_template`,
//! `ima_tlv`), as systemd does with `systemd`. A cerd log is a CEL-JSON array whose
//! records use three cerd-specific content types:
//!
//! ```text
//! [
//! {"recnum":0,"pcr":15,"content_type":"cerd_log","content":{"version":1,"resetCount":3,
//!   "restartCount":0,"clock":41750,"bank":"sha256","initial":"<64 hex>"}},
//! {"recnum":1,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"<64 hex>"}],
//!   "content_type":"cerd","content":{"kind":"model","path":"/models/m.gguf",
//!   "size":4368439584,"digest":"sha256:<64 hex>"}},
//! {"recnum":2,"pcr":15,"content_type":"cerd_foreign",
//!   "content":{"expected":"<64 hex>","observed":"<64 hex>"}}
//! ]
//! ```
//!
//! - `cerd_log`, always record 0 and only there: binds the log to one boot of one TPM
//!   (`resetCount` and `restartCount` of TPMS_CLOCK_INFO, TPM 2.0 Part 2 §10.11.1, as
//!   read when the log was started, and `clock` in milliseconds), names the PCR and bank,
//!   and records `initial`, the PCR value when the log started. After a TPM reset the
//!   PCR is all zeros; a non-zero `initial` means something else extended the PCR first,
//!   which the log records rather than hides. Not extended: no `digests`.
//! - `cerd`, a measurement: `kind` (`binary`, `model`, `config` or `other`), the file's
//!   absolute `path`, `size` in bytes and `digest`, the SHA-256 of its contents. **The
//!   digest extended into the PCR is the file's SHA-256 itself** (`digests[0].digest` is
//!   `digest` without its `sha256:` prefix, and the parser refuses a record where they
//!   differ): `tpm2_pcrextend 15:sha256=<file sha256>` reproduces an event, and a
//!   verifier matches a record's runtime digest to the log with [`EventLog::find`]
//!   without hashing anything.
//! - `cerd_foreign`: the PCR was changed outside this log. `expected` is what the log
//!   replayed to at that point, `observed` the value read from the TPM. Replay continues
//!   from `observed`, so the log still replays exactly to the PCR, but nothing before
//!   the record is bound by the PCR value any more ([`EventLog::bound_from`]). Not
//!   extended: no `digests`.
//!
//! Replay on the SHA-256 bank is TPM2_PCR_Extend (TPM 2.0 Part 1 §17.2):
//! `new = SHA-256(old || digest)`, starting from the header's `initial`.
//!
//! The parser is strict: one document through [`crate::json::parse`] (no duplicate keys,
//! no trailing data), records numbered 0, 1, 2, … with no gap, duplicate or reordering,
//! every record on the header's PCR, exactly one digest and only `sha256`, lowercase hex,
//! no unknown keys, no CEL `nv_index` records, integers within 2^53 − 1, and every
//! `cerd_foreign` record's `expected` equal to the replay of the records before it.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::digest::Sha256Digest;
use crate::json;

mod cel_json;
mod error;

pub use error::EventLogError;

/// `content_type` of the header record (record 0).
pub const CONTENT_LOG: &str = "cerd_log";
/// `content_type` of a measurement record.
pub const CONTENT_MEASUREMENT: &str = "cerd";
/// `content_type` of a record of a PCR change outside the log.
pub const CONTENT_FOREIGN: &str = "cerd_foreign";
/// The only header `version` this implementation reads and writes.
pub const LOG_VERSION: u64 = 1;
/// The only bank: CEL's `hashAlg` name for TPM_ALG_SHA256.
pub const BANK: &str = "sha256";
/// Highest PCR index of a PC Client TPM (24 PCRs, TCG PC Client PTP §4.6.1).
pub const MAX_PCR: u8 = 23;
/// Largest integer in a log (2^53 − 1, RFC 7493 §2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One TPM2_PCR_Extend on the SHA-256 bank: `SHA-256(pcr || digest)`.
pub fn extend(pcr: &[u8; 32], digest: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(pcr);
    h.update(digest);
    h.finalize().into()
}

/// What a measured file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// An executable (the inference binary, a library).
    Binary,
    /// Model weights, tokenizer, adapters.
    Model,
    /// Configuration.
    Config,
    /// Anything else.
    Other,
}

impl Kind {
    /// The JSON and command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Model => "model",
            Self::Config => "config",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "binary" => Ok(Self::Binary),
            "model" => Ok(Self::Model),
            "config" => Ok(Self::Config),
            "other" => Ok(Self::Other),
            _ => Err(format!(
                "unknown kind {s:?}: expected binary, model, config or other"
            )),
        }
    }
}

/// The `cerd_log` header (record 0): which boot, PCR and bank a log belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHeader {
    pcr: u8,
    reset_count: u32,
    restart_count: u32,
    clock: u64,
    initial: [u8; 32],
}

impl LogHeader {
    /// A header for PCR `pcr` (0..=23) on the SHA-256 bank, started at TPM clock
    /// `clock` (ms, at most 2^53 − 1) in the boot identified by `reset_count` and
    /// `restart_count`, when the PCR held `initial`.
    pub fn new(
        pcr: u8,
        reset_count: u32,
        restart_count: u32,
        clock: u64,
        initial: [u8; 32],
    ) -> Result<Self, EventLogError> {
        if pcr > MAX_PCR {
            return Err(EventLogError::PcrIndex {
                recnum: 0,
                found: pcr.into(),
            });
        }
        if clock > MAX_SAFE_INTEGER {
            return Err(EventLogError::Unrepresentable {
                problem: format!("clock {clock} is larger than 2^53 - 1"),
            });
        }
        Ok(Self {
            pcr,
            reset_count,
            restart_count,
            clock,
            initial,
        })
    }

    /// The PCR index.
    pub fn pcr(&self) -> u8 {
        self.pcr
    }
    /// TPMS_CLOCK_INFO.resetCount when the log was started.
    pub fn reset_count(&self) -> u32 {
        self.reset_count
    }
    /// TPMS_CLOCK_INFO.restartCount when the log was started.
    pub fn restart_count(&self) -> u32 {
        self.restart_count
    }
    /// TPMS_CLOCK_INFO.clock (ms) when the log was started.
    pub fn clock(&self) -> u64 {
        self.clock
    }
    /// The PCR value when the log was started (all zeros after a TPM reset).
    pub fn initial(&self) -> &[u8; 32] {
        &self.initial
    }
}

/// A measured file (`cerd` content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    kind: Kind,
    path: String,
    size: u64,
    digest: Sha256Digest,
}

impl Measurement {
    /// A measurement of the file at `path` (non-empty) of `size` bytes (at most
    /// 2^53 − 1) whose contents hash to `digest`.
    pub fn new(
        kind: Kind,
        path: String,
        size: u64,
        digest: Sha256Digest,
    ) -> Result<Self, EventLogError> {
        if path.is_empty() {
            return Err(EventLogError::Unrepresentable {
                problem: "path is empty".into(),
            });
        }
        if size > MAX_SAFE_INTEGER {
            return Err(EventLogError::Unrepresentable {
                problem: format!("size {size} is larger than 2^53 - 1"),
            });
        }
        Ok(Self {
            kind,
            path,
            size,
            digest,
        })
    }
    /// What the file is.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// Its absolute path on the measuring host.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// SHA-256 of its contents, which is also the digest extended into the PCR.
    pub fn digest(&self) -> &Sha256Digest {
        &self.digest
    }
}

/// A PCR change outside the log (`cerd_foreign` content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignExtend {
    /// What the log replayed to just before this record.
    pub expected: [u8; 32],
    /// What the TPM's PCR held; replay continues from here.
    pub observed: [u8; 32],
}

/// What a record after the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventContent {
    /// A file measured and extended into the PCR.
    Measurement(Measurement),
    /// A change of the PCR that the log does not account for.
    Foreign(ForeignExtend),
}

/// One record after the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    recnum: u64,
    pcr: u8,
    content: EventContent,
}

impl Event {
    /// The record number (1, 2, …).
    pub fn recnum(&self) -> u64 {
        self.recnum
    }
    /// The PCR index.
    pub fn pcr(&self) -> u8 {
        self.pcr
    }
    /// What the record says.
    pub fn content(&self) -> &EventContent {
        &self.content
    }
    /// The measurement, when this record is one.
    pub fn measurement(&self) -> Option<&Measurement> {
        match &self.content {
            EventContent::Measurement(m) => Some(m),
            EventContent::Foreign(_) => None,
        }
    }
    /// The foreign change, when this record is one.
    pub fn foreign(&self) -> Option<&ForeignExtend> {
        match &self.content {
            EventContent::Foreign(f) => Some(f),
            EventContent::Measurement(_) => None,
        }
    }
}

/// A parsed, internally consistent measurement log: a header and its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog {
    header: LogHeader,
    events: Vec<Event>,
}

/// Parses a log strictly (see the module documentation).
pub fn parse(bytes: &[u8]) -> Result<EventLog, EventLogError> {
    EventLog::from_value(&json::parse(bytes)?)
}

impl EventLog {
    /// A log with only its header.
    pub fn new(header: LogHeader) -> Self {
        Self {
            header,
            events: Vec::new(),
        }
    }

    /// The header (record 0).
    pub fn header(&self) -> &LogHeader {
        &self.header
    }

    /// The PCR this log is for.
    pub fn pcr(&self) -> u8 {
        self.header.pcr
    }

    /// The records after the header, in order (record numbers 1, 2, …).
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The record number the next appended record gets.
    pub fn next_recnum(&self) -> u64 {
        (self.events.len() as u64).saturating_add(1)
    }

    /// Appends a measurement; returns its record number.
    pub fn push_measurement(&mut self, measurement: Measurement) -> u64 {
        self.push(EventContent::Measurement(measurement))
    }

    /// Records that the PCR holds `observed` although the log replays to something
    /// else; returns the record number. Replay continues from `observed`.
    pub fn push_foreign(&mut self, observed: [u8; 32]) -> u64 {
        let expected = self.current();
        self.push(EventContent::Foreign(ForeignExtend { expected, observed }))
    }

    fn push(&mut self, content: EventContent) -> u64 {
        let recnum = self.next_recnum();
        self.events.push(Event {
            recnum,
            pcr: self.header.pcr,
            content,
        });
        recnum
    }

    /// Replays the records on PCR `pcr` from `initial`: each measurement extends
    /// (`SHA-256(old || digest)`), each foreign record sets the value it observed.
    pub fn replay(&self, pcr: u8, initial: [u8; 32]) -> [u8; 32] {
        self.events
            .iter()
            .filter(|e| e.pcr == pcr)
            .fold(initial, |value, e| step(&value, e))
    }

    /// What the whole log replays to, from the header's initial value.
    pub fn current(&self) -> [u8; 32] {
        self.replay(self.header.pcr, self.header.initial)
    }

    /// Checks that the log replays to `expected` (the PCR value read from the TPM or
    /// from a quote). The error says whether a prefix of the log matches (the records
    /// after it were never extended) or none does.
    ///
    /// Success means the PCR value is explained by the log. It does not mean every
    /// record is bound: see [`EventLog::bound_from`] and [`EventLog::fully_accounted`].
    pub fn verify_replay(&self, expected: &[u8; 32]) -> Result<(), EventLogError> {
        let mut value = self.header.initial;
        let mut replays_through = (value == *expected).then_some(0);
        for e in &self.events {
            if let EventContent::Foreign(f) = &e.content {
                if f.expected != value {
                    return Err(EventLogError::ForeignMismatch {
                        recnum: e.recnum,
                        recorded: f.expected,
                        computed: value,
                    });
                }
            }
            value = step(&value, e);
            if value == *expected {
                replays_through = Some(e.recnum);
            }
        }
        if value == *expected {
            Ok(())
        } else {
            Err(EventLogError::ReplayMismatch {
                expected: *expected,
                computed: value,
                replays_through,
            })
        }
    }

    /// The last measurement of a file with this digest, if any. A record found here
    /// is bound by the PCR value only when its record number is at least
    /// [`EventLog::bound_from`].
    pub fn find(&self, digest: &Sha256Digest) -> Option<&Event> {
        self.events
            .iter()
            .rev()
            .find(|e| e.measurement().is_some_and(|m| m.digest == *digest))
    }

    /// The records of PCR changes outside the log.
    pub fn foreign_events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| e.foreign().is_some())
    }

    /// The first record number whose extend the final PCR value proves: 1, or the one
    /// after the last `cerd_foreign` record (whatever came before an unexplained
    /// change is not bound by the PCR).
    pub fn bound_from(&self) -> u64 {
        self.foreign_events()
            .last()
            .map_or(1, |e| e.recnum.saturating_add(1))
    }

    /// True when the PCR's whole history since the TPM reset is in the log: the log
    /// started from all zeros and records no foreign change.
    pub fn fully_accounted(&self) -> bool {
        self.header.initial == [0; 32] && self.foreign_events().next().is_none()
    }

    /// The log as CEL-JSON text, one record per line, keys in the order of the CEL
    /// information model. [`parse`] reads it back to an equal log.
    pub fn to_json(&self) -> String {
        cel_json::to_text(self)
    }

    /// The log as a JSON value (for embedding in evidence); [`EventLog::from_value`]
    /// reads it back to an equal log.
    pub fn to_value(&self) -> Value {
        cel_json::to_value(self)
    }

    /// Reads a log from a parsed JSON value (see the module documentation).
    pub fn from_value(value: &Value) -> Result<Self, EventLogError> {
        cel_json::from_value(value)
    }
}

fn step(value: &[u8; 32], event: &Event) -> [u8; 32] {
    match &event.content {
        EventContent::Measurement(m) => extend(value, &m.digest.0),
        EventContent::Foreign(f) => f.observed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log3() -> EventLog {
        let mut log = EventLog::new(LogHeader::new(15, 3, 0, 1000, [0; 32]).unwrap());
        for (i, text) in ["a", "b", "c"].iter().enumerate() {
            let m = Measurement::new(
                Kind::Model,
                format!("/m/{i}"),
                1,
                Sha256Digest::of(text.as_bytes()),
            )
            .unwrap();
            log.push_measurement(m);
        }
        log
    }

    #[test]
    fn extend_is_sha256_of_concatenation() {
        let mut both = [0u8; 64];
        both[32..].copy_from_slice(&[0xaa; 32]);
        assert_eq!(extend(&[0; 32], &[0xaa; 32]), Sha256Digest::of(&both).0);
    }

    #[test]
    fn round_trips_through_text_and_value() {
        let mut log = log3();
        log.push_foreign([7; 32]);
        let text = log.to_json();
        assert_eq!(parse(text.as_bytes()).unwrap(), log);
        assert_eq!(EventLog::from_value(&log.to_value()).unwrap(), log);
        assert_eq!(log.next_recnum(), 5);
        assert_eq!(log.bound_from(), 5);
        assert!(!log.fully_accounted());
        assert_eq!(log.current(), [7; 32]);
    }

    #[test]
    fn replay_reports_the_matching_prefix() {
        let log = log3();
        let mut prefix = [0u8; 32];
        for e in &log.events()[..2] {
            prefix = extend(&prefix, &e.measurement().unwrap().digest().0);
        }
        match log.verify_replay(&prefix) {
            Err(EventLogError::ReplayMismatch {
                replays_through: Some(2),
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(log.verify_replay(&log.current()).is_ok());
        match log.verify_replay(&[1; 32]) {
            Err(EventLogError::ReplayMismatch {
                replays_through: None,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn find_returns_the_last_measurement() {
        let mut log = log3();
        let d = Sha256Digest::of(b"a");
        log.push_measurement(Measurement::new(Kind::Binary, "/x".into(), 1, d).unwrap());
        assert_eq!(log.find(&d).unwrap().recnum(), 4);
        assert!(log.find(&Sha256Digest::of(b"zzz")).is_none());
    }

    #[test]
    fn constructors_refuse_unrepresentable_values() {
        assert!(LogHeader::new(24, 0, 0, 0, [0; 32]).is_err());
        assert!(LogHeader::new(15, 0, 0, u64::MAX, [0; 32]).is_err());
        let d = Sha256Digest::ZERO;
        assert!(Measurement::new(Kind::Other, String::new(), 0, d).is_err());
        assert!(Measurement::new(Kind::Other, "/x".into(), 1 << 53, d).is_err());
    }

    #[test]
    fn paths_with_any_characters_round_trip() {
        let mut log = log3();
        for path in [
            "/a \"quoted\" \\ path",
            "/é/日本/\u{1F600}",
            "/ctl\u{1}\n\t",
            "/\u{2028}",
        ] {
            let m = Measurement::new(Kind::Other, path.into(), 0, Sha256Digest::ZERO).unwrap();
            log.push_measurement(m);
        }
        let text = log.to_json();
        assert_eq!(parse(text.as_bytes()).unwrap(), log);
        assert_eq!(text.lines().count(), log.events().len() + 3);
    }

    #[test]
    fn kinds_parse_and_display() {
        for k in [Kind::Binary, Kind::Model, Kind::Config, Kind::Other] {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        assert!("Model".parse::<Kind>().is_err());
    }
}
