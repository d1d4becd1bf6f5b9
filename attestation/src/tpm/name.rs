//! TPM names (TPM 2.0 Part 1 §16; TPM2B_NAME, Part 2 §10.5.3).
//!
//! An entity's name is its handle (PCRs, sessions, permanent handles) or, for objects
//! and NV indices, `nameAlg || H_nameAlg(public area)`: for a key, the two-byte
//! TPM_ALG_ID of its nameAlg followed by the digest of its marshalled TPMT_PUBLIC.

use std::fmt;

use serde::{Serialize, Serializer};

use super::alg::HashAlg;
use super::reader::{ParseError, ParseErrorKind, Reader};

/// The contents of a TPM2B_NAME.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Name {
    /// A zero-size name (e.g. the signer of an attestation signed by no key).
    Empty,
    /// A handle (TPM_HANDLE, 4 bytes).
    Handle(u32),
    /// `nameAlg || digest` of an object or NV index.
    Digest {
        /// nameAlg.
        alg: HashAlg,
        /// `H_nameAlg(public area)`.
        digest: Vec<u8>,
    },
}

impl Name {
    /// The name of an object whose marshalled TPMT_PUBLIC is `tpmt` with nameAlg `alg`.
    pub fn of_public(alg: HashAlg, tpmt: &[u8]) -> Self {
        Self::Digest {
            alg,
            digest: alg.digest(tpmt),
        }
    }

    /// Reads a TPM2B_NAME.
    pub fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        let at = r.offset();
        let bytes = r.tpm2b(field)?;
        Self::from_bytes(bytes).map_err(|kind| r.error_at(field, at, kind))
    }

    /// The name from its bytes (without the TPM2B size).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ParseErrorKind> {
        match bytes {
            [] => Ok(Self::Empty),
            [a, b, c, d] => Ok(Self::Handle(u32::from_be_bytes([*a, *b, *c, *d]))),
            [a, b, digest @ ..] => {
                let id = u16::from_be_bytes([*a, *b]);
                let alg = HashAlg::from_id(id).ok_or(ParseErrorKind::Unsupported {
                    value: u32::from(id),
                })?;
                if digest.len() != alg.size() {
                    return Err(ParseErrorKind::Length {
                        expected: alg.size(),
                        found: digest.len(),
                    });
                }
                Ok(Self::Digest {
                    alg,
                    digest: digest.to_vec(),
                })
            }
            [_] => Err(ParseErrorKind::Invalid {
                value: 1,
                expected: "a name of 0 bytes, 4 bytes (handle) or 2 + digest size bytes",
            }),
        }
    }

    /// The bytes of the name (what TPM2B_NAME carries after its size).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Empty => Vec::new(),
            Self::Handle(h) => h.to_be_bytes().to_vec(),
            Self::Digest { alg, digest } => {
                let mut out = alg.id().to_be_bytes().to_vec();
                out.extend_from_slice(digest);
                out
            }
        }
    }
}

impl fmt::Display for Name {
    /// Lowercase hex of [`Name::to_bytes`], as tpm2-tools prints names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_bytes()))
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_round_trip() {
        let digest = Name::of_public(HashAlg::Sha256, b"public");
        for name in [Name::Empty, Name::Handle(0x4000_0007), digest] {
            assert_eq!(Name::from_bytes(&name.to_bytes()), Ok(name.clone()));
            let mut tpm2b = (name.to_bytes().len() as u16).to_be_bytes().to_vec();
            tpm2b.extend(name.to_bytes());
            let mut r = Reader::new("T", &tpm2b);
            assert_eq!(Name::read(&mut r, "n").unwrap(), name);
            r.finish().unwrap();
        }
    }

    #[test]
    fn malformed_names_are_refused() {
        assert!(Name::from_bytes(&[0]).is_err());
        // SHA-256 with a 31-byte digest.
        let mut short = vec![0, 0x0b];
        short.extend([0; 31]);
        assert_eq!(
            Name::from_bytes(&short),
            Err(ParseErrorKind::Length {
                expected: 32,
                found: 31
            })
        );
        // An unknown algorithm (SM3_256 = 0x0012).
        let mut sm3 = vec![0, 0x12];
        sm3.extend([0; 32]);
        assert!(matches!(
            Name::from_bytes(&sm3),
            Err(ParseErrorKind::Unsupported { value: 0x12 })
        ));
        let e = Name::read(&mut Reader::new("T", &[0, 1, 9]), "n").unwrap_err();
        assert_eq!((e.field, e.offset), ("n", 0));
    }
}
