//! `createdAt`: RFC 3339 in UTC with exactly three fractional digits
//! (`2026-02-12T00:00:00.000Z`, the form of ECMAScript `Date.prototype.toISOString`).

use std::fmt;

use serde_json::Value;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::{fields::describe, RecordError};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Now, truncated to milliseconds.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// `t` in UTC, truncated to milliseconds.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        let millis = t.millisecond();
        Self(t.replace_millisecond(millis).unwrap_or(t))
    }

    /// The instant.
    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }

    /// Parses the exact form `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let shape_ok = text.len() == 24
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'.',
                23 => b == b'Z',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(format!(
                "expected RFC 3339 UTC time with milliseconds like \"2026-02-12T00:00:00.000Z\", found {text:?}"
            ));
        }
        PrimitiveDateTime::parse(text, FORMAT)
            .map(|t| Self(t.assume_utc()))
            .map_err(|e| format!("invalid date or time {text:?}: {e}"))
    }

    pub(super) fn parse_field(value: Option<&Value>, field: &str) -> Result<Self, RecordError> {
        match value {
            Some(Value::String(s)) => Self::parse(s).map_err(|m| RecordError::schema(field, m)),
            Some(v) => Err(RecordError::schema(
                field,
                format!("expected an RFC 3339 string, found {}", describe(v)),
            )),
            None => Err(RecordError::schema(field, "missing")),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(FORMAT) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_form_only() {
        let t = Timestamp::parse("2026-02-12T00:00:00.000Z").unwrap();
        assert_eq!(t.to_string(), "2026-02-12T00:00:00.000Z");
        for bad in [
            "2026-02-12T00:00:00Z",
            "2026-02-12T00:00:00.000+00:00",
            "2026-02-12 00:00:00.000Z",
            "2026-02-30T00:00:00.000Z",
            "2026-02-12T24:00:00.000Z",
            "2026-02-12T00:00:00.0000Z",
            "２026-02-12T00:00:00.000Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(&now.to_string()).unwrap(), now);
    }
}
