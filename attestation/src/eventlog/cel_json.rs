//! The CEL-JSON encoding of a cerd log: the writer (one record per line, keys in the
//! order of the CEL information model) and the strict reader.

use serde_json::{json, Map, Value};

use super::{
    Event, EventContent, EventLog, EventLogError, ForeignExtend, Kind, LogHeader, Measurement,
    BANK, CONTENT_FOREIGN, CONTENT_LOG, CONTENT_MEASUREMENT, LOG_VERSION, MAX_PCR,
    MAX_SAFE_INTEGER,
};
use crate::digest::Sha256Digest;

/// The log as CEL-JSON text, one record per line, keys in the order of the CEL
/// information model. Only numbers, fixed names, hex and the path (escaped by
/// serde_json: a JSON string value displays as its JSON text) go into it.
pub(super) fn to_text(log: &EventLog) -> String {
    let h = &log.header;
    let mut out = format!(
        concat!(
            "[\n{{\"recnum\":0,\"pcr\":{},\"content_type\":\"{}\",\"content\":{{",
            "\"version\":{},\"resetCount\":{},\"restartCount\":{},\"clock\":{},",
            "\"bank\":\"{}\",\"initial\":\"{}\"}}}}"
        ),
        h.pcr,
        CONTENT_LOG,
        LOG_VERSION,
        h.reset_count,
        h.restart_count,
        h.clock,
        BANK,
        hex::encode(h.initial)
    );
    for e in &log.events {
        let record = match &e.content {
            EventContent::Measurement(m) => format!(
                concat!(
                    "{{\"recnum\":{},\"pcr\":{},",
                    "\"digests\":[{{\"hashAlg\":\"{}\",\"digest\":\"{}\"}}],",
                    "\"content_type\":\"{}\",\"content\":{{",
                    "\"kind\":\"{}\",\"path\":{},\"size\":{},\"digest\":\"{}\"}}}}"
                ),
                e.recnum,
                e.pcr,
                BANK,
                m.digest.to_hex(),
                CONTENT_MEASUREMENT,
                m.kind,
                Value::String(m.path.clone()),
                m.size,
                m.digest
            ),
            EventContent::Foreign(f) => format!(
                concat!(
                    "{{\"recnum\":{},\"pcr\":{},\"content_type\":\"{}\",",
                    "\"content\":{{\"expected\":\"{}\",\"observed\":\"{}\"}}}}"
                ),
                e.recnum,
                e.pcr,
                CONTENT_FOREIGN,
                hex::encode(f.expected),
                hex::encode(f.observed)
            ),
        };
        out.push_str(",\n");
        out.push_str(&record);
    }
    out.push_str("\n]\n");
    out
}

/// The log as a JSON value.
pub(super) fn to_value(log: &EventLog) -> Value {
    let mut records = Vec::with_capacity(log.events.len().saturating_add(1));
    records.push(header_value(&log.header));
    records.extend(log.events.iter().map(event_value));
    Value::Array(records)
}

fn header_value(h: &LogHeader) -> Value {
    json!({
        "recnum": 0,
        "pcr": h.pcr,
        "content_type": CONTENT_LOG,
        "content": {
            "version": LOG_VERSION,
            "resetCount": h.reset_count,
            "restartCount": h.restart_count,
            "clock": h.clock,
            "bank": BANK,
            "initial": hex::encode(h.initial),
        },
    })
}

/// Reads a log from a parsed JSON value.
pub(super) fn from_value(value: &Value) -> Result<EventLog, EventLogError> {
    let records = match value {
        Value::Array(a) => a,
        other => {
            return Err(EventLogError::NotArray {
                found: json_type(other),
            })
        }
    };
    let (first, rest) = records.split_first().ok_or(EventLogError::Empty)?;
    check_sequence(records)?;
    let header = parse_header(first)?;
    let mut log = EventLog::new(header);
    for (i, record) in rest.iter().enumerate() {
        let recnum = (i as u64).saturating_add(1);
        let event = parse_event(record, recnum, log.header.pcr)?;
        if let EventContent::Foreign(f) = &event.content {
            let computed = log.current();
            if f.expected != computed {
                return Err(EventLogError::ForeignMismatch {
                    recnum,
                    recorded: f.expected,
                    computed,
                });
            }
        }
        log.events.push(event);
    }
    Ok(log)
}

fn event_value(e: &Event) -> Value {
    match &e.content {
        EventContent::Measurement(m) => json!({
            "recnum": e.recnum,
            "pcr": e.pcr,
            "digests": [{"hashAlg": BANK, "digest": m.digest.to_hex()}],
            "content_type": CONTENT_MEASUREMENT,
            "content": {
                "kind": m.kind.as_str(),
                "path": m.path,
                "size": m.size,
                "digest": m.digest.to_string(),
            },
        }),
        EventContent::Foreign(f) => json!({
            "recnum": e.recnum,
            "pcr": e.pcr,
            "content_type": CONTENT_FOREIGN,
            "content": {
                "expected": hex::encode(f.expected),
                "observed": hex::encode(f.observed),
            },
        }),
    }
}

/// Record numbers must be 0, 1, 2, … in order: names the first that is not.
fn check_sequence(records: &[Value]) -> Result<(), EventLogError> {
    let recnums = records
        .iter()
        .enumerate()
        .map(|(i, r)| Obj::new(r, format!("[{i}]"))?.uint("recnum", MAX_SAFE_INTEGER))
        .collect::<Result<Vec<u64>, _>>()?;
    for (i, &found) in recnums.iter().enumerate() {
        let position = i as u64;
        if found == position {
            continue;
        }
        if found < position {
            return Err(EventLogError::DuplicateRecnum { recnum: found });
        }
        let later = recnums.get(i..).unwrap_or_default();
        return Err(if later.contains(&position) {
            EventLogError::OutOfOrder { position, found }
        } else {
            EventLogError::Gap {
                missing: position,
                found,
            }
        });
    }
    Ok(())
}

const RECORD_KEYS: &[&str] = &["recnum", "pcr", "digests", "content_type", "content"];

fn parse_header(record: &Value) -> Result<LogHeader, EventLogError> {
    let r = Obj::new(record, "[0]".into())?;
    let content_type = r.string("content_type")?;
    if content_type != CONTENT_LOG {
        return Err(EventLogError::MissingHeader {
            found: content_type.to_owned(),
        });
    }
    r.deny_unknown(RECORD_KEYS)?;
    let pcr = r.pcr(0)?;
    if r.get("digests").is_some() {
        return Err(r.schema(
            "digests",
            "the cerd_log header is not extended and has no digests",
        ));
    }
    let c = r.child("content")?;
    c.deny_unknown(&[
        "version",
        "resetCount",
        "restartCount",
        "clock",
        "bank",
        "initial",
    ])?;
    let version = c.uint("version", MAX_SAFE_INTEGER)?;
    if version != LOG_VERSION {
        return Err(EventLogError::Version { found: version });
    }
    let bank = c.string("bank")?;
    if bank != BANK {
        return Err(EventLogError::UnsupportedHashAlg {
            recnum: 0,
            found: bank.to_owned(),
        });
    }
    let reset_count = c.u32("resetCount")?;
    let restart_count = c.u32("restartCount")?;
    let clock = c.uint("clock", MAX_SAFE_INTEGER)?;
    let initial = c.hex32("initial")?;
    LogHeader::new(pcr, reset_count, restart_count, clock, initial)
}

fn parse_event(record: &Value, recnum: u64, log_pcr: u8) -> Result<Event, EventLogError> {
    let r = Obj::new(record, format!("[{recnum}]"))?;
    r.deny_unknown(RECORD_KEYS)?;
    let pcr = r.pcr(recnum)?;
    if pcr != log_pcr {
        return Err(EventLogError::WrongPcr {
            recnum,
            expected: log_pcr,
            found: pcr,
        });
    }
    let content_type = r.string("content_type")?;
    let c = r.child("content")?;
    let content = match content_type {
        CONTENT_MEASUREMENT => {
            let extended = parse_digests(&r, recnum)?;
            c.deny_unknown(&["kind", "path", "size", "digest"])?;
            let kind = c
                .string("kind")?
                .parse::<Kind>()
                .map_err(|e| c.schema("kind", &e))?;
            let path = c.string("path")?;
            if path.is_empty() {
                return Err(c.schema("path", "expected a non-empty string"));
            }
            let size = c.uint("size", MAX_SAFE_INTEGER)?;
            let digest = Sha256Digest::parse(c.string("digest")?).map_err(|source| {
                EventLogError::Digest {
                    path: c.path_of("digest"),
                    source,
                }
            })?;
            if extended != digest {
                return Err(EventLogError::DigestMismatch {
                    recnum,
                    extended,
                    content: digest,
                });
            }
            EventContent::Measurement(Measurement::new(kind, path.to_owned(), size, digest)?)
        }
        CONTENT_FOREIGN => {
            if r.get("digests").is_some() {
                return Err(r.schema(
                    "digests",
                    "a cerd_foreign record is not extended and has no digests",
                ));
            }
            c.deny_unknown(&["expected", "observed"])?;
            EventContent::Foreign(ForeignExtend {
                expected: c.hex32("expected")?,
                observed: c.hex32("observed")?,
            })
        }
        CONTENT_LOG => return Err(EventLogError::MisplacedHeader { recnum }),
        other => {
            return Err(EventLogError::UnknownContentType {
                recnum,
                found: other.to_owned(),
            })
        }
    };
    Ok(Event {
        recnum,
        pcr,
        content,
    })
}

/// `digests`: exactly one `{"hashAlg": "sha256", "digest": "<64 lowercase hex>"}`.
fn parse_digests(r: &Obj<'_>, recnum: u64) -> Result<Sha256Digest, EventLogError> {
    let list = match r.get("digests") {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(r.schema(
                "digests",
                &format!("expected an array, found {}", json_type(other)),
            ))
        }
        None => return Err(r.schema("digests", "missing")),
    };
    let [entry] = list.as_slice() else {
        return Err(EventLogError::DigestCount {
            recnum,
            found: list.len(),
        });
    };
    let d = Obj::new(entry, r.path_of("digests[0]"))?;
    d.deny_unknown(&["hashAlg", "digest"])?;
    let alg = d.string("hashAlg")?;
    if alg != BANK {
        return Err(EventLogError::UnsupportedHashAlg {
            recnum,
            found: alg.to_owned(),
        });
    }
    Ok(Sha256Digest(d.hex32("digest")?))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One JSON object and its path, so every error names the field.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(value: &'a Value, path: String) -> Result<Self, EventLogError> {
        match value {
            Value::Object(map) => Ok(Self { map, path }),
            other => Err(EventLogError::Schema {
                problem: format!("expected an object, found {}", json_type(other)),
                path,
            }),
        }
    }

    fn path_of(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    fn schema(&self, key: &str, problem: &str) -> EventLogError {
        EventLogError::Schema {
            path: self.path_of(key),
            problem: problem.to_owned(),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn required(&self, key: &str) -> Result<&'a Value, EventLogError> {
        self.get(key).ok_or_else(|| self.schema(key, "missing"))
    }

    fn deny_unknown(&self, allowed: &[&str]) -> Result<(), EventLogError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) if k == "nv_index" => Err(self.schema(
                k,
                "CEL NV-index records are not supported: cerd logs record PCR events",
            )),
            Some(k) => Err(self.schema(k, "unknown field")),
            None => Ok(()),
        }
    }

    fn child(&self, key: &str) -> Result<Obj<'a>, EventLogError> {
        Obj::new(self.required(key)?, self.path_of(key))
    }

    fn string(&self, key: &str) -> Result<&'a str, EventLogError> {
        match self.required(key)? {
            Value::String(s) => Ok(s),
            other => Err(self.schema(
                key,
                &format!("expected a string, found {}", json_type(other)),
            )),
        }
    }

    fn uint(&self, key: &str, max: u64) -> Result<u64, EventLogError> {
        let v = self.required(key)?;
        match v.as_u64() {
            Some(n) if n <= max => Ok(n),
            _ => Err(self.schema(key, &format!("expected an integer 0..={max}, found {v}"))),
        }
    }

    fn u32(&self, key: &str) -> Result<u32, EventLogError> {
        let n = self.uint(key, u32::MAX.into())?;
        u32::try_from(n).map_err(|_| self.schema(key, "out of range"))
    }

    fn pcr(&self, recnum: u64) -> Result<u8, EventLogError> {
        let n = self.uint("pcr", MAX_SAFE_INTEGER)?;
        match u8::try_from(n) {
            Ok(p) if p <= MAX_PCR => Ok(p),
            _ => Err(EventLogError::PcrIndex { recnum, found: n }),
        }
    }

    /// 64 lowercase hex digits (a PCR value or an extended digest).
    fn hex32(&self, key: &str) -> Result<[u8; 32], EventLogError> {
        Sha256Digest::parse_hex(self.string(key)?)
            .map(|d| d.0)
            .map_err(|source| EventLogError::Digest {
                path: self.path_of(key),
                source,
            })
    }
}
