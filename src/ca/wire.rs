//! The bounded big-endian reader for TPM structures (TPM 2.0 Part 1 §18 marshalling):
//! every read is checked against what is left, and structures end with [`Reader::finish`],
//! which refuses trailing bytes.

use std::fmt;

/// A malformed TPM structure: which field, at which byte offset, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub field: &'static str,
    pub offset: usize,
    pub kind: WireErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireErrorKind {
    /// Fewer bytes left than the field needs.
    Truncated { need: usize, have: usize },
    /// Bytes left over after the structure.
    Trailing { extra: usize },
    /// A selector (algorithm, curve) this reader does not support.
    Unsupported { value: u16 },
    /// A value that contradicts another field (e.g. modulus length vs keyBits).
    Inconsistent { expected: usize, found: usize },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (field, at) = (self.field, self.offset);
        match &self.kind {
            WireErrorKind::Truncated { need, have } => write!(
                f,
                "{field} at byte {at} is truncated: needs {need} bytes, {have} left"
            ),
            WireErrorKind::Trailing { extra } => {
                write!(
                    f,
                    "{extra} unexpected trailing bytes after {field} (byte {at})"
                )
            }
            WireErrorKind::Unsupported { value } => {
                write!(f, "{field} at byte {at} has unsupported value {value:#06x}")
            }
            WireErrorKind::Inconsistent { expected, found } => write!(
                f,
                "{field} at byte {at} has {found} bytes where {expected} were expected"
            ),
        }
    }
}

impl std::error::Error for WireError {}

/// A bounded big-endian reader over untrusted bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    pub fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], WireError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match rest.get(..n) {
            Some(bytes) => {
                self.pos = self.pos.saturating_add(n);
                Ok(bytes)
            }
            None => Err(self.error(
                field,
                WireErrorKind::Truncated {
                    need: n,
                    have: rest.len(),
                },
            )),
        }
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        let b = self.take(field, 2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        let b = self.take(field, 4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }

    /// A TPM2B: a u16 size and that many bytes.
    pub fn tpm2b(&mut self, field: &'static str) -> Result<&'a [u8], WireError> {
        let n = self.u16(field)?;
        self.take(field, usize::from(n))
    }

    /// Fails when bytes remain.
    pub fn finish(&self, field: &'static str) -> Result<(), WireError> {
        let extra = self.buf.len().saturating_sub(self.pos);
        if extra == 0 {
            Ok(())
        } else {
            Err(self.error(field, WireErrorKind::Trailing { extra }))
        }
    }

    pub fn error(&self, field: &'static str, kind: WireErrorKind) -> WireError {
        WireError {
            field,
            offset: self.pos,
            kind,
        }
    }
}
