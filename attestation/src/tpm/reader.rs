//! The one bounded reader for TPM 2.0 marshalled structures.
//!
//! TPM structures are marshalled big-endian with no padding (TPM 2.0 Part 2 §5, "Base
//! Types"); a sized buffer (TPM2B) is a UINT16 byte count followed by that many bytes
//! (Part 2 §10.4). Every parser in [`crate::tpm`] goes through [`Reader`]: each read is
//! checked against what is left, nested structures of known size get their own reader
//! ([`Reader::sub`], [`Reader::tpm2b_sub`]) so they cannot read past their end, and a
//! structure ends with [`Reader::finish`], which refuses trailing bytes. Nothing here
//! indexes a slice or does unchecked arithmetic: untrusted bytes cannot make it panic.
//!
//! Errors name the structure and field being read and the byte offset *from the start
//! of the outermost input*, so "TPMS_ATTEST.extraData at byte 42" points into the file
//! the user gave.

use std::fmt;

/// A structure that is not well-formed: where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{structure}.{field} at byte {offset}: {kind}")]
#[non_exhaustive]
pub struct ParseError {
    /// The TPM structure being read, e.g. `TPMS_ATTEST`.
    pub structure: &'static str,
    /// The field of that structure, e.g. `extraData`.
    pub field: &'static str,
    /// Byte offset of the field from the start of the outermost input.
    pub offset: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Fewer bytes are left than the field needs.
    Truncated {
        /// Bytes the field needs.
        need: usize,
        /// Bytes left.
        have: usize,
    },
    /// Bytes are left over after the structure.
    Trailing {
        /// How many.
        extra: usize,
    },
    /// A selector (algorithm, curve, structure tag) this parser does not know or
    /// support in this position.
    Unsupported {
        /// The value found.
        value: u32,
    },
    /// A value outside what the specification allows here.
    Invalid {
        /// The value found.
        value: u64,
        /// What is allowed, in words.
        expected: &'static str,
    },
    /// A length that contradicts another field (a modulus that does not match
    /// `keyBits`, a digest that does not match its algorithm).
    Length {
        /// The length the other field implies.
        expected: usize,
        /// The length found.
        found: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { need, have } => {
                write!(f, "truncated: needs {need} bytes, {have} left")
            }
            Self::Trailing { extra } => write!(f, "{extra} unexpected trailing bytes"),
            Self::Unsupported { value } => write!(f, "unsupported value {value:#06x}"),
            Self::Invalid { value, expected } => {
                write!(f, "invalid value {value:#x}, expected {expected}")
            }
            Self::Length { expected, found } => {
                write!(f, "{found} bytes where {expected} were expected")
            }
        }
    }
}

/// A bounded big-endian reader over untrusted bytes.
///
/// `structure` names what is being read; [`Reader::sub`] and [`Reader::tpm2b_sub`] hand
/// out readers for nested structures that know their absolute offset.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the outermost input.
    base: usize,
    structure: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over all of `buf`, which holds one `structure`.
    pub fn new(structure: &'static str, buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
            structure,
        }
    }

    /// The structure being read.
    pub fn structure(&self) -> &'static str {
        self.structure
    }

    /// Offset of the next byte from the start of the outermost input.
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The bytes this reader has read so far (e.g. a whole structure, to hash it).
    pub fn consumed(&self) -> &'a [u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], ParseError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match rest.get(..n) {
            Some(bytes) => {
                self.pos = self.pos.saturating_add(n);
                Ok(bytes)
            }
            None => Err(self.error(
                field,
                ParseErrorKind::Truncated {
                    need: n,
                    have: rest.len(),
                },
            )),
        }
    }

    /// The next `N` bytes as an array.
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ParseError> {
        let bytes = self.take(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A UINT8.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        self.array::<1>(field).map(|[b]| b)
    }

    /// A UINT16, big-endian.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        self.array(field).map(u16::from_be_bytes)
    }

    /// A UINT32, big-endian.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, ParseError> {
        self.array(field).map(u32::from_be_bytes)
    }

    /// A UINT64, big-endian.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, ParseError> {
        self.array(field).map(u64::from_be_bytes)
    }

    /// A TPMI_YES_NO (Part 2 §9.2): one byte, 0 or 1.
    pub fn yes_no(&mut self, field: &'static str) -> Result<bool, ParseError> {
        let at = self.offset();
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.error_at(
                field,
                at,
                ParseErrorKind::Invalid {
                    value: u64::from(other),
                    expected: "0 (NO) or 1 (YES)",
                },
            )),
        }
    }

    /// A TPM2B: a UINT16 size and that many bytes.
    pub fn tpm2b(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u16(field)?;
        self.take(field, usize::from(n))
    }

    /// A TPM2B of at most `max` bytes (the size of the buffer the specification gives
    /// the type, e.g. 64 for TPM2B_DIGEST with SHA-512 as the largest hash).
    pub fn tpm2b_max(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], ParseError> {
        let at = self.offset();
        let bytes = self.tpm2b(field)?;
        if bytes.len() > max {
            return Err(self.error_at(
                field,
                at,
                ParseErrorKind::Invalid {
                    value: bytes.len() as u64,
                    expected: "a size no larger than the type's buffer",
                },
            ));
        }
        Ok(bytes)
    }

    /// A reader over the next `len` bytes, which hold one `structure`; this reader
    /// moves past them.
    pub fn sub(
        &mut self,
        field: &'static str,
        len: usize,
        structure: &'static str,
    ) -> Result<Reader<'a>, ParseError> {
        let base = self.offset();
        let buf = self.take(field, len)?;
        Ok(Reader {
            buf,
            pos: 0,
            base,
            structure,
        })
    }

    /// A reader over the contents of the next TPM2B (after its size), which hold one
    /// `structure` (e.g. the TPMT_PUBLIC inside a TPM2B_PUBLIC).
    pub fn tpm2b_sub(
        &mut self,
        field: &'static str,
        structure: &'static str,
    ) -> Result<Reader<'a>, ParseError> {
        let n = self.u16(field)?;
        self.sub(field, usize::from(n), structure)
    }

    /// Ends the structure: fails when bytes remain.
    pub fn finish(self) -> Result<(), ParseError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(self.error("(end)", ParseErrorKind::Trailing { extra })),
        }
    }

    /// An error about `field` at the current offset.
    pub fn error(&self, field: &'static str, kind: ParseErrorKind) -> ParseError {
        self.error_at(field, self.offset(), kind)
    }

    /// An error about `field` at `offset` (a value already read, e.g. a selector whose
    /// meaning is only known after reading it).
    pub fn error_at(&self, field: &'static str, offset: usize, kind: ParseErrorKind) -> ParseError {
        ParseError {
            structure: self.structure,
            field,
            offset,
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut r = Reader::new("T", &bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("b").unwrap(), 0x0203);
        assert_eq!(r.u32("c").unwrap(), 0x0405_0607);
        assert_eq!(r.u64("d").unwrap(), 0x0809_0a0b_0c0d_0e0f);
        assert_eq!(r.offset(), 15);
        r.finish().unwrap();
    }

    #[test]
    fn every_read_refuses_truncation_with_field_and_offset() {
        let bytes = [0u8; 3];
        let mut r = Reader::new("T", &bytes);
        r.u16("first").unwrap();
        let e = r.u16("second").unwrap_err();
        assert_eq!(
            e,
            ParseError {
                structure: "T",
                field: "second",
                offset: 2,
                kind: ParseErrorKind::Truncated { need: 2, have: 1 }
            }
        );
        assert_eq!(
            e.to_string(),
            "T.second at byte 2: truncated: needs 2 bytes, 1 left"
        );
        // A failed read consumes nothing.
        assert_eq!(r.u8("third").unwrap(), 0);
        assert!(Reader::new("T", &[]).u8("x").is_err());
        assert!(Reader::new("T", &[0; 3]).u32("x").is_err());
        assert!(Reader::new("T", &[0; 7]).u64("x").is_err());
        assert!(Reader::new("T", &[0; 2]).take("x", usize::MAX).is_err());
    }

    #[test]
    fn tpm2b_reads_its_size_then_the_bytes() {
        let mut r = Reader::new("T", &[0, 2, 0xaa, 0xbb, 0, 3, 1]);
        assert_eq!(r.tpm2b("a").unwrap(), &[0xaa, 0xbb]);
        let e = r.tpm2b("b").unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(e.kind, ParseErrorKind::Truncated { need: 3, have: 1 });
        let e = Reader::new("T", &[0, 3, 1, 2, 3])
            .tpm2b_max("c", 2)
            .unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(matches!(e.kind, ParseErrorKind::Invalid { value: 3, .. }));
    }

    #[test]
    fn sub_readers_are_bounded_and_report_absolute_offsets() {
        let bytes = [9, 0, 3, 1, 2, 3, 7];
        let mut r = Reader::new("Outer", &bytes);
        r.u8("lead").unwrap();
        let mut inner = r.tpm2b_sub("inner", "Inner").unwrap();
        assert_eq!(inner.structure(), "Inner");
        assert_eq!(inner.u16("x").unwrap(), 0x0102);
        let e = inner.u16("y").unwrap_err();
        assert_eq!((e.structure, e.field, e.offset), ("Inner", "y", 5));
        let e = inner.finish().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Trailing { extra: 1 });
        assert_eq!(e.offset, 5);
        assert_eq!(r.u8("tail").unwrap(), 7);
        r.finish().unwrap();
    }

    #[test]
    fn finish_refuses_trailing_bytes() {
        let mut r = Reader::new("T", &[1, 2, 3]);
        r.u8("a").unwrap();
        let e = r.finish().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Trailing { extra: 2 });
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn yes_no_is_zero_or_one() {
        assert!(!Reader::new("T", &[0]).yes_no("s").unwrap());
        assert!(Reader::new("T", &[1]).yes_no("s").unwrap());
        let e = Reader::new("T", &[2]).yes_no("s").unwrap_err();
        assert!(matches!(e.kind, ParseErrorKind::Invalid { value: 2, .. }));
    }
}
