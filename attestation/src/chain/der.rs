//! A bounded reader of DER TLVs (ITU-T X.690 §8.1), lenient where real TPM
//! certificates need it and strict where it matters for safety.
//!
//! Lenient: long-form lengths that could have been shorter, and INTEGER contents with
//! redundant leading bytes, are accepted (X.690 §10.1 and §8.3.2 forbid both in DER).
//! Strict: no indefinite lengths (§8.1.3.6), no high tag numbers (§8.1.2.4), lengths of
//! at most four bytes, no TLV that runs past its parent, and [`Reader::finish`] rejects
//! trailing bytes. Nothing here indexes or does arithmetic that can panic.

use super::error::ChainError;

/// Universal tags and the context tags X.509 uses (X.690 §8.1.2, RFC 5280 §4.1).
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[n]` constructed (EXPLICIT tagging).
    pub const fn explicit(n: u8) -> u8 {
        0xa0 | n
    }
    /// `[n]` primitive (IMPLICIT tagging of a primitive type).
    pub const fn implicit(n: u8) -> u8 {
        0x80 | n
    }
}

/// One TLV: its tag, its content bytes, and the whole encoding as it appears in the
/// input (header included), which is what signatures cover.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads TLVs one after another from a byte slice. `what` names the structure being
/// read, for error messages.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    offset: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self {
            rest: bytes,
            offset: 0,
            what,
        }
    }

    /// A malformed-input error at the current offset.
    pub fn error(&self, detail: impl Into<String>) -> ChainError {
        ChainError::Malformed {
            field: self.what,
            offset: self.offset,
            detail: detail.into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next TLV, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next TLV.
    pub fn next(&mut self) -> Result<Tlv<'a>, ChainError> {
        let (&tag, after_tag) = self
            .rest
            .split_first()
            .ok_or_else(|| self.error("unexpected end of data"))?;
        if tag & 0x1f == 0x1f {
            return Err(self.error(format!("high tag number form (tag byte {tag:#04x})")));
        }
        let (&first, mut after_len) = after_tag
            .split_first()
            .ok_or_else(|| self.error("truncated length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else if first == 0x80 {
            return Err(self.error("indefinite length"));
        } else {
            let count = usize::from(first & 0x7f);
            if count > 4 {
                return Err(self.error(format!("length of {count} bytes")));
            }
            let (len_bytes, rest) = after_len
                .split_at_checked(count)
                .ok_or_else(|| self.error("truncated length"))?;
            after_len = rest;
            len_bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        let header = self.rest.len().saturating_sub(after_len.len());
        let content = after_len
            .get(..len)
            .ok_or_else(|| self.error(format!("length {len} runs past the end of the data")))?;
        let total = header.saturating_add(len);
        let raw = self.rest.get(..total).unwrap_or_default();
        self.rest = self.rest.get(total..).unwrap_or_default();
        self.offset = self.offset.saturating_add(total);
        Ok(Tlv { tag, content, raw })
    }

    /// Reads the next TLV, which must have tag `tag`.
    pub fn expect(&mut self, tag: u8, name: &str) -> Result<Tlv<'a>, ChainError> {
        match self.peek_tag() {
            Some(t) if t == tag => self.next(),
            Some(t) => Err(self.error(format!("{name}: expected tag {tag:#04x}, found {t:#04x}"))),
            None => Err(self.error(format!("{name}: missing"))),
        }
    }

    /// Reads the next TLV when it has tag `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, ChainError> {
        if self.peek_tag() == Some(tag) {
            self.next().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails when bytes remain.
    pub fn finish(&self) -> Result<(), ChainError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error(format!("{} trailing bytes", self.rest.len())))
        }
    }
}

/// The content of a constructed TLV as a reader, for its children.
pub fn children<'a>(tlv: &Tlv<'a>, what: &'static str) -> Reader<'a> {
    Reader::new(tlv.content, what)
}

/// A non-negative INTEGER that fits in a u64 (redundant leading zero bytes accepted).
pub fn small_uint(tlv: &Tlv<'_>, r: &Reader<'_>, name: &str) -> Result<u64, ChainError> {
    if tlv.content.is_empty() {
        return Err(r.error(format!("{name}: empty INTEGER")));
    }
    if tlv.content.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(r.error(format!("{name}: negative INTEGER")));
    }
    let digits = strip_leading_zeros(tlv.content);
    if digits.len() > 8 {
        return Err(r.error(format!("{name}: INTEGER too large")));
    }
    Ok(digits
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// The bytes without leading zero bytes (an INTEGER's magnitude, unsigned).
pub fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// A BOOLEAN: X.690 §11.1 wants 0xFF for TRUE; any non-zero byte is read as TRUE.
pub fn boolean(tlv: &Tlv<'_>, r: &Reader<'_>, name: &str) -> Result<bool, ChainError> {
    match tlv.content {
        [b] => Ok(*b != 0),
        _ => Err(r.error(format!("{name}: BOOLEAN of {} bytes", tlv.content.len()))),
    }
}

/// The bytes of the first TLV of `bytes` and what follows it: used to take a
/// certificate off the front of an NV index read that is padded to its size.
pub fn split_first_tlv(bytes: &[u8]) -> Result<(&[u8], &[u8]), ChainError> {
    let mut r = Reader::new(bytes, "certificate");
    let tlv = r.next()?;
    Ok((tlv.raw, r.rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_long_and_refused() {
        let mut r = Reader::new(&[0x04, 0x02, 1, 2, 0x04, 0x81, 0x01, 9], "t");
        assert_eq!(r.next().unwrap().content, &[1, 2]);
        let t = r.next().unwrap();
        assert_eq!((t.content, t.raw.len()), (&[9u8][..], 4));
        r.finish().unwrap();
        for bad in [
            &[0x30, 0x80, 0, 0][..],
            &[0x30, 0x85, 0, 0, 0, 0, 1, 0],
            &[0x30, 0x03, 1],
            &[0x1f, 0x01, 0],
            &[0x30],
            &[],
        ] {
            assert!(Reader::new(bad, "t").next().is_err(), "{bad:02x?}");
        }
        let r = Reader::new(&[0x05, 0x00, 0x00], "t");
        let mut r2 = r;
        r2.next().unwrap();
        assert!(r2.finish().is_err());
    }

    #[test]
    fn integers() {
        let r = Reader::new(&[], "t");
        let t = |c: &'static [u8]| Tlv {
            tag: tag::INTEGER,
            content: c,
            raw: c,
        };
        assert_eq!(small_uint(&t(&[0, 0, 1]), &r, "x").unwrap(), 1);
        assert!(small_uint(&t(&[0x80]), &r, "x").is_err());
        assert!(small_uint(&t(&[]), &r, "x").is_err());
        assert!(small_uint(&t(&[1; 9]), &r, "x").is_err());
    }
}
