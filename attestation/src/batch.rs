//! Batch headers: the fixed-size, hash-chained statement that hardware evidence covers.
//!
//! Records are committed to in batches. Each batch has a [`BatchHeader`] naming its
//! sequence number, its number of records, the Merkle root over their hashes
//! ([`crate::merkle`]) and the hash of the previous header, so the headers form a chain
//! back to batch 0 (the genesis, whose `previous` is all zeros). The 32-byte
//! [`BatchHeader::hash`] is what a TPM quote's qualifying data or an SEV-SNP report's
//! `REPORT_DATA` binds: one quote then vouches for every record of the batch, and
//! through the chain for every earlier batch.
//!
//! Canonical encoding, 94 bytes, all integers big-endian:
//!
//! ```text
//! offset  size  field
//!      0    14  domain tag, ASCII "cerd.batch.v1" followed by one 0x00 byte
//!     14     8  sequence   (u64)
//!     22     8  tree_size  (u64, at least 1)
//!     30    32  root       (RFC 9162 Merkle Tree Hash of the batch's record hashes)
//!     62    32  previous   (hash of header sequence-1; all zeros exactly when sequence is 0)
//! ```
//!
//! `hash = SHA-256(encoding)`. JSON form, root and previous as plain 64 lowercase hex:
//!
//! ```json
//! {"version":1,"sequence":0,"treeSize":3,"root":"<64 hex>","previous":"<64 hex>"}
//! ```

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;

/// The domain tag that starts every encoded header: ASCII `cerd.batch.v1` and a NUL.
pub const DOMAIN_TAG: &[u8; 14] = b"cerd.batch.v1\0";

/// Length of [`BatchHeader::encode`]'s output: tag, two u64 and two 32-byte hashes.
pub const ENCODED_LEN: usize = 94;

/// The only `version` accepted in the JSON form.
pub const JSON_VERSION: u64 = 1;

/// Why bytes, JSON or a sequence of headers are not a valid batch header chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The encoding does not have exactly [`ENCODED_LEN`] bytes.
    #[error("batch header is {found} bytes, expected exactly {expected}")]
    Length {
        /// Always [`ENCODED_LEN`].
        expected: usize,
        /// Length of the input.
        found: usize,
    },
    /// The encoding does not start with [`DOMAIN_TAG`].
    #[error(
        "batch header at offset 0 has domain tag {}, expected \"cerd.batch.v1\\0\"",
        hex::encode(found)
    )]
    Tag {
        /// The first 14 bytes of the input.
        found: [u8; 14],
    },
    /// The JSON form has a `version` other than [`JSON_VERSION`].
    #[error("batch header version is {found}, expected {JSON_VERSION}")]
    Version {
        /// The version found.
        found: u64,
    },
    /// The header says the batch has no records.
    #[error("batch {sequence} has tree size 0, a batch needs at least one record")]
    EmptyBatch {
        /// Sequence number of the header.
        sequence: u64,
    },
    /// Batch 0 (the genesis) links to a previous header.
    #[error("batch 0 (genesis) has previous {}, expected all zeros", .found.to_hex())]
    GenesisPrevious {
        /// The non-zero previous hash.
        found: Sha256Digest,
    },
    /// A batch after the genesis has the all-zero previous hash.
    #[error("batch {sequence} has an all-zero previous hash, which only batch 0 may have")]
    MissingPrevious {
        /// Sequence number of the header.
        sequence: u64,
    },
    /// The sequence number cannot be incremented.
    #[error("batch {sequence} cannot have a successor: its sequence number is the largest")]
    SequenceOverflow {
        /// Sequence number of the header.
        sequence: u64,
    },
    /// A chain has no headers.
    #[error("batch chain is empty")]
    EmptyChain,
    /// Consecutive headers of a chain do not have consecutive sequence numbers.
    #[error("batch chain has a gap: expected sequence {expected}, found {found}")]
    Gap {
        /// The sequence number after the previous header's.
        expected: u64,
        /// The sequence number of the header found there.
        found: u64,
    },
    /// A header's `previous` is not the hash of the header before it.
    #[error(
        "batch {sequence} has previous {}, expected {} (hash of the batch before it)",
        .found.to_hex(),
        .expected.to_hex()
    )]
    BrokenLink {
        /// Sequence number of the header whose link is wrong.
        sequence: u64,
        /// Hash of the header before it.
        expected: Sha256Digest,
        /// The `previous` it carries.
        found: Sha256Digest,
    },
}

/// The header of one batch of records (see the module documentation for its encoding).
///
/// The fields are public for building headers; [`BatchHeader::decode`], the JSON form
/// and [`BatchHeader::next`] only ever produce headers that pass
/// [`BatchHeader::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "HeaderJson", into = "HeaderJson")]
pub struct BatchHeader {
    /// Position of the batch in the chain, 0 for the genesis.
    pub sequence: u64,
    /// Number of records in the batch, at least 1.
    pub tree_size: u64,
    /// Merkle Tree Hash (RFC 9162 §2.1.1) of the batch's record hashes, in order.
    pub root: Sha256Digest,
    /// [`BatchHeader::hash`] of the header with sequence `sequence - 1`;
    /// [`Sha256Digest::ZERO`] for the genesis.
    pub previous: Sha256Digest,
}

impl BatchHeader {
    /// The header of batch 0, which has no previous batch.
    pub fn genesis(tree_size: u64, root: Sha256Digest) -> Result<Self, BatchError> {
        let header = Self {
            sequence: 0,
            tree_size,
            root,
            previous: Sha256Digest::ZERO,
        };
        header.validate()?;
        Ok(header)
    }

    /// The header of the batch after this one: sequence + 1, linked to `self.hash()`.
    pub fn next(&self, tree_size: u64, root: Sha256Digest) -> Result<Self, BatchError> {
        let sequence = self
            .sequence
            .checked_add(1)
            .ok_or(BatchError::SequenceOverflow {
                sequence: self.sequence,
            })?;
        let header = Self {
            sequence,
            tree_size,
            root,
            previous: self.hash(),
        };
        header.validate()?;
        Ok(header)
    }

    /// Checks the rules every header obeys on its own: at least one record, and
    /// `previous` is all zeros exactly when `sequence` is 0.
    pub fn validate(&self) -> Result<(), BatchError> {
        if self.tree_size == 0 {
            return Err(BatchError::EmptyBatch {
                sequence: self.sequence,
            });
        }
        match (self.sequence, self.previous == Sha256Digest::ZERO) {
            (0, false) => Err(BatchError::GenesisPrevious {
                found: self.previous,
            }),
            (sequence @ 1.., true) => Err(BatchError::MissingPrevious { sequence }),
            _ => Ok(()),
        }
    }

    /// The canonical encoding, [`ENCODED_LEN`] bytes (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENCODED_LEN);
        out.extend_from_slice(DOMAIN_TAG);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.tree_size.to_be_bytes());
        out.extend_from_slice(self.root.as_bytes());
        out.extend_from_slice(self.previous.as_bytes());
        out
    }

    /// Parses the canonical encoding: exactly [`ENCODED_LEN`] bytes, the domain tag,
    /// and a header that passes [`BatchHeader::validate`].
    pub fn decode(bytes: &[u8]) -> Result<Self, BatchError> {
        let length = BatchError::Length {
            expected: ENCODED_LEN,
            found: bytes.len(),
        };
        if bytes.len() != ENCODED_LEN {
            return Err(length);
        }
        let (tag, rest) = bytes.split_first_chunk::<14>().ok_or(length.clone())?;
        if tag != DOMAIN_TAG {
            return Err(BatchError::Tag { found: *tag });
        }
        let (sequence, rest) = rest.split_first_chunk::<8>().ok_or(length.clone())?;
        let (tree_size, rest) = rest.split_first_chunk::<8>().ok_or(length.clone())?;
        let (root, rest) = rest.split_first_chunk::<32>().ok_or(length.clone())?;
        let (previous, rest) = rest.split_first_chunk::<32>().ok_or(length.clone())?;
        if !rest.is_empty() {
            return Err(length);
        }
        let header = Self {
            sequence: u64::from_be_bytes(*sequence),
            tree_size: u64::from_be_bytes(*tree_size),
            root: Sha256Digest(*root),
            previous: Sha256Digest(*previous),
        };
        header.validate()?;
        Ok(header)
    }

    /// SHA-256 of [`BatchHeader::encode`]: the value a hardware quote binds, and the
    /// `previous` of the next header.
    pub fn hash(&self) -> Sha256Digest {
        Sha256Digest::of(&self.encode())
    }
}

/// Checks that `headers` is a contiguous stretch of one chain: every header is valid,
/// sequence numbers go up by one, and each header's `previous` is the hash of the one
/// before it. Reports the first fault.
///
/// The stretch need not start at the genesis, and nothing here vouches for its last
/// header: anchor the first header (genesis or a header already trusted) and the last
/// (through a quote over its hash) separately. An empty slice is an error.
pub fn verify_chain(headers: &[BatchHeader]) -> Result<(), BatchError> {
    let Some((first, rest)) = headers.split_first() else {
        return Err(BatchError::EmptyChain);
    };
    first.validate()?;
    let mut before = first;
    for header in rest {
        header.validate()?;
        let expected = before
            .sequence
            .checked_add(1)
            .ok_or(BatchError::SequenceOverflow {
                sequence: before.sequence,
            })?;
        if header.sequence != expected {
            return Err(BatchError::Gap {
                expected,
                found: header.sequence,
            });
        }
        let link = before.hash();
        if header.previous != link {
            return Err(BatchError::BrokenLink {
                sequence: header.sequence,
                expected: link,
                found: header.previous,
            });
        }
        before = header;
    }
    Ok(())
}

/// The JSON wire form of [`BatchHeader`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HeaderJson {
    version: u64,
    sequence: u64,
    tree_size: u64,
    #[serde(with = "crate::merkle::node_hex")]
    root: Sha256Digest,
    #[serde(with = "crate::merkle::node_hex")]
    previous: Sha256Digest,
}

impl TryFrom<HeaderJson> for BatchHeader {
    type Error = BatchError;

    fn try_from(json: HeaderJson) -> Result<Self, BatchError> {
        if json.version != JSON_VERSION {
            return Err(BatchError::Version {
                found: json.version,
            });
        }
        let header = Self {
            sequence: json.sequence,
            tree_size: json.tree_size,
            root: json.root,
            previous: json.previous,
        };
        header.validate()?;
        Ok(header)
    }
}

impl From<BatchHeader> for HeaderJson {
    fn from(header: BatchHeader) -> Self {
        Self {
            version: JSON_VERSION,
            sequence: header.sequence,
            tree_size: header.tree_size,
            root: header.root,
            previous: header.previous,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genesis() -> BatchHeader {
        BatchHeader::genesis(3, Sha256Digest::of(b"root")).unwrap()
    }

    #[test]
    fn layout() {
        let h = genesis().next(0x0102, Sha256Digest([0x11; 32])).unwrap();
        let bytes = h.encode();
        assert_eq!(bytes.len(), ENCODED_LEN);
        assert_eq!(&bytes[..14], b"cerd.batch.v1\0");
        assert_eq!(bytes[14..22], [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(bytes[22..30], [0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(bytes[30..62], [0x11; 32]);
        assert_eq!(bytes[62..], genesis().hash().0);
        assert_eq!(BatchHeader::decode(&bytes).unwrap(), h);
    }

    #[test]
    fn decode_names_each_fault() {
        let good = genesis().encode();
        assert_eq!(
            BatchHeader::decode(&good[..93]),
            Err(BatchError::Length {
                expected: 94,
                found: 93
            })
        );
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            BatchHeader::decode(&long),
            Err(BatchError::Length { found: 95, .. })
        ));
        let mut tag = good.clone();
        tag[13] = b'x';
        assert!(matches!(
            BatchHeader::decode(&tag),
            Err(BatchError::Tag { .. })
        ));
        let mut empty = good.clone();
        empty[29] = 0;
        assert_eq!(
            BatchHeader::decode(&empty),
            Err(BatchError::EmptyBatch { sequence: 0 })
        );
        let mut linked = good.clone();
        linked[93] = 1;
        assert!(matches!(
            BatchHeader::decode(&linked),
            Err(BatchError::GenesisPrevious { .. })
        ));
        let mut unlinked = good;
        unlinked[21] = 7;
        assert_eq!(
            BatchHeader::decode(&unlinked),
            Err(BatchError::MissingPrevious { sequence: 7 })
        );
    }

    #[test]
    fn json_version_and_rules() {
        let h = genesis();
        let json = serde_json::to_value(h).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["previous"], "0".repeat(64));
        let mut v2 = json.clone();
        v2["version"] = 2.into();
        let err = serde_json::from_value::<BatchHeader>(v2).unwrap_err();
        assert!(err.to_string().contains("version is 2"), "{err}");
        let mut empty = json;
        empty["treeSize"] = 0.into();
        assert!(serde_json::from_value::<BatchHeader>(empty).is_err());
    }

    #[test]
    fn next_refuses_overflow_and_empty() {
        let mut last = genesis().next(1, Sha256Digest::ZERO).unwrap();
        last.sequence = u64::MAX;
        assert_eq!(
            last.next(1, Sha256Digest::ZERO),
            Err(BatchError::SequenceOverflow { sequence: u64::MAX })
        );
        assert_eq!(
            genesis().next(0, Sha256Digest::ZERO),
            Err(BatchError::EmptyBatch { sequence: 1 })
        );
    }
}
