//! SHA-256 digests and their text form `sha256:<64 lowercase hex>`.

use std::fmt;

use sha2::{Digest as _, Sha256};

/// The prefix of every digest string in a record.
pub const SHA256_PREFIX: &str = "sha256:";

/// A SHA-256 digest (FIPS 180-4), 32 bytes.
///
/// Its text form in records is `sha256:` followed by exactly 64 lowercase hex digits;
/// [`Sha256Digest::parse`] accepts nothing else (no upper case, no whitespace, no other
/// algorithm), so a digest has exactly one spelling and string comparison is digest
/// comparison.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

/// Why a string is not a `sha256:` digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The string does not start with `sha256:`.
    #[error("expected prefix \"sha256:\", found {found:?}")]
    Prefix {
        /// The first characters of what was found.
        found: String,
    },
    /// The hex part does not have 64 characters.
    #[error("expected 64 hex digits after \"sha256:\", found {found}")]
    Length {
        /// How many characters followed the prefix.
        found: usize,
    },
    /// A character of the hex part is not a lowercase hex digit.
    #[error("expected lowercase hex digit at offset {offset}, found {found:?}")]
    Character {
        /// Offset of the character in the whole string.
        offset: usize,
        /// The offending character.
        found: char,
    },
}

impl Sha256Digest {
    /// The all-zero digest (used as "no previous batch").
    pub const ZERO: Self = Self([0; 32]);

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// Parses the text form `sha256:<64 lowercase hex>`.
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let Some(hex_part) = text.strip_prefix(SHA256_PREFIX) else {
            return Err(DigestError::Prefix {
                found: text.chars().take(SHA256_PREFIX.len()).collect(),
            });
        };
        Self::parse_hex_at(hex_part, SHA256_PREFIX.len())
    }

    /// Parses 64 lowercase hex digits without prefix.
    pub fn parse_hex(hex_part: &str) -> Result<Self, DigestError> {
        Self::parse_hex_at(hex_part, 0)
    }

    fn parse_hex_at(hex_part: &str, base: usize) -> Result<Self, DigestError> {
        if let Some((i, c)) = hex_part
            .char_indices()
            .find(|&(_, c)| !matches!(c, '0'..='9' | 'a'..='f'))
        {
            return Err(DigestError::Character {
                offset: base.saturating_add(i),
                found: c,
            });
        }
        if hex_part.len() != 64 {
            return Err(DigestError::Length {
                found: hex_part.len(),
            });
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| DigestError::Length {
            found: hex_part.len(),
        })?;
        Ok(Self(out))
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex without prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256Digest {
    /// `sha256:` and lowercase hex, encoded on the stack (every sealed record and
    /// every answer formats one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(SHA256_PREFIX)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Sha256Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_value() {
        let d = Sha256Digest::of(b"abc");
        let text = d.to_string();
        assert_eq!(
            text,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Digest::parse(&text).unwrap(), d);
    }

    #[test]
    fn rejects_every_other_spelling() {
        let good = Sha256Digest::of(b"abc").to_string();
        assert!(matches!(
            Sha256Digest::parse(&good.to_uppercase()),
            Err(DigestError::Prefix { .. })
        ));
        let upper_hex = format!("sha256:{}", &good[7..].to_uppercase());
        assert!(matches!(
            Sha256Digest::parse(&upper_hex),
            Err(DigestError::Character { offset: 7, .. })
        ));
        assert!(matches!(
            Sha256Digest::parse(&good[..70]),
            Err(DigestError::Length { found: 63 })
        ));
        assert!(matches!(
            Sha256Digest::parse(&format!("{good}0")),
            Err(DigestError::Length { found: 65 })
        ));
        assert!(matches!(
            Sha256Digest::parse(&format!("{good} ")),
            Err(DigestError::Character { offset: 71, .. })
        ));
        assert!(Sha256Digest::parse("sha256:é").is_err());
        assert!(Sha256Digest::parse("").is_err());
    }
}
