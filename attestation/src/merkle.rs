//! Merkle trees over record hashes (RFC 9162 §2.1).
//!
//! A batch of records is committed to by the Merkle Tree Hash (MTH, RFC 9162 §2.1.1) of
//! the list of their `certificateHash` values: each leaf is the 32 bytes of one record
//! hash, hashed with the leaf prefix `0x00`; interior nodes are hashed with the node
//! prefix `0x01`:
//!
//! ```text
//! leaf_hash(d)    = SHA-256(0x00 || d)           d = 32-byte record hash
//! node_hash(l, r) = SHA-256(0x01 || l || r)
//! MTH({d})        = leaf_hash(d)
//! MTH(D[n])       = node_hash(MTH(D[0:k]), MTH(D[k:n]))   k = largest power of 2 < n
//! ```
//!
//! RFC 9162 defines MTH of the empty list as SHA-256 of the empty string; a batch always
//! holds at least one record, so every function here rejects an empty list with
//! [`MerkleError::EmptyTree`] instead.
//!
//! [`root`] computes the MTH in one streaming pass; [`build`] keeps every level of the
//! tree so that [`Tree::proof`] hands out the inclusion proof (RFC 9162 §2.1.3) of any
//! record without recomputing hashes. [`verify_inclusion`] checks a proof.

use sha2::{Digest as _, Sha256};

use crate::digest::Sha256Digest;

pub(crate) mod node_hex;
mod proof;

pub use proof::{compute_root, verify_inclusion, InclusionProof, MAX_PATH_LEN};

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
pub const LEAF_PREFIX: u8 = 0x00;

/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
pub const NODE_PREFIX: u8 = 0x01;

/// Why a Merkle tree could not be built or a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// A batch must hold at least one record.
    #[error("merkle tree has no leaves: a batch needs at least one record")]
    EmptyTree,
    /// The leaf index is not below the tree size (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is out of range for a tree of {tree_size} leaves")]
    IndexOutOfRange {
        /// The leaf index asked for or claimed by the proof.
        index: u64,
        /// The number of leaves in the tree.
        tree_size: u64,
    },
    /// The inclusion path does not have the length that the leaf index and tree size
    /// determine (RFC 9162 §2.1.3.2 steps 4a and 5).
    #[error(
        "inclusion path of leaf {index} in a tree of {tree_size} leaves \
         has {found} entries, expected {expected}"
    )]
    PathLength {
        /// The leaf index claimed by the proof.
        index: u64,
        /// The tree size claimed by the proof.
        tree_size: u64,
        /// The only correct length for this index and size (at most 64).
        expected: usize,
        /// The length of the path in the proof.
        found: usize,
    },
    /// The root recomputed from the leaf and its path is not the expected root
    /// (RFC 9162 §2.1.3.2 step 5).
    #[error(
        "inclusion proof of leaf {index} computes root {}, expected {}",
        .computed.to_hex(),
        .expected.to_hex()
    )]
    RootMismatch {
        /// The leaf index claimed by the proof.
        index: u64,
        /// The trusted root the proof was checked against.
        expected: Sha256Digest,
        /// The root the proof leads to.
        computed: Sha256Digest,
    },
}

/// The leaf hash of one record hash: `SHA-256(0x00 || record)` (RFC 9162 §2.1.1).
pub fn leaf_hash(record: &Sha256Digest) -> Sha256Digest {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(record.as_bytes());
    Sha256Digest(h.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Sha256Digest, right: &Sha256Digest) -> Sha256Digest {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    Sha256Digest(h.finalize().into())
}

/// The Merkle Tree Hash of a non-empty list of record hashes (RFC 9162 §2.1.1).
///
/// One pass over the records with a stack of at most 64 perfect subtrees (the binary
/// digits of the count), so memory stays constant however many records there are.
pub fn root(records: &[Sha256Digest]) -> Result<Sha256Digest, MerkleError> {
    // Each entry is the root of a perfect subtree and its height; heights strictly
    // decrease from bottom to top of the stack.
    let mut stack: Vec<(Sha256Digest, u32)> = Vec::with_capacity(64);
    for record in records {
        let mut node = leaf_hash(record);
        let mut height = 0u32;
        while let Some(&(left, left_height)) = stack.last() {
            if left_height != height {
                break;
            }
            stack.pop();
            node = node_hash(&left, &node);
            height = height.saturating_add(1);
        }
        stack.push((node, height));
    }
    // MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n])): fold the subtrees right to left.
    let (mut acc, _) = stack.pop().ok_or(MerkleError::EmptyTree)?;
    while let Some((left, _)) = stack.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The inclusion proof of the record at `index` (RFC 9162 §2.1.3.1, `PATH(m, D[n])`).
///
/// Builds the whole tree; to prove many records of one batch use [`build`] once and
/// [`Tree::proof`] for each.
pub fn inclusion_proof(
    records: &[Sha256Digest],
    index: u64,
) -> Result<InclusionProof, MerkleError> {
    build(records)?.proof(index)
}

/// Builds the tree over a non-empty list of record hashes, keeping every level.
///
/// O(n) hashes and about 2n stored nodes; afterwards each [`Tree::proof`] costs
/// O(log n) with no hashing, so proving every record of a batch is O(n log n) in total.
pub fn build(records: &[Sha256Digest]) -> Result<Tree, MerkleError> {
    if records.is_empty() {
        return Err(MerkleError::EmptyTree);
    }
    // Lossless: usize has at most 64 bits on every Rust target.
    let tree_size = records.len() as u64;
    let mut levels = vec![records.iter().map(leaf_hash).collect::<Vec<_>>()];
    loop {
        let Some(level) = levels.last() else {
            return Err(MerkleError::EmptyTree);
        };
        if let [root] = level.as_slice() {
            let root = *root;
            return Ok(Tree {
                levels,
                tree_size,
                root,
            });
        }
        let parents = parent_level(level);
        levels.push(parents);
    }
}

/// Pairs adjacent nodes of one level; an odd last node moves up unchanged. Level by
/// level this is the same tree as RFC 9162's split at the largest power of two.
fn parent_level(level: &[Sha256Digest]) -> Vec<Sha256Digest> {
    let mut parents = Vec::with_capacity(level.len().div_ceil(2));
    let mut nodes = level.iter();
    while let Some(left) = nodes.next() {
        parents.push(match nodes.next() {
            Some(right) => node_hash(left, right),
            None => *left,
        });
    }
    parents
}

/// A Merkle tree over one batch with every level kept, from [`build`].
///
/// Level 0 holds the leaf hashes; each level above holds the parents of the one below,
/// an odd last node being carried up unchanged; the last level holds only the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    levels: Vec<Vec<Sha256Digest>>,
    tree_size: u64,
    root: Sha256Digest,
}

impl Tree {
    /// The Merkle Tree Hash of the batch (RFC 9162 §2.1.1).
    pub fn root(&self) -> Sha256Digest {
        self.root
    }

    /// The number of records (leaves), at least 1.
    pub fn size(&self) -> u64 {
        self.tree_size
    }

    /// The inclusion proof of the record at `index` (RFC 9162 §2.1.3.1): the siblings
    /// of the nodes on the way from the leaf to the root, leaf level first.
    pub fn proof(&self, index: u64) -> Result<InclusionProof, MerkleError> {
        let out_of_range = MerkleError::IndexOutOfRange {
            index,
            tree_size: self.tree_size,
        };
        if index >= self.tree_size {
            return Err(out_of_range);
        }
        let mut position = usize::try_from(index).map_err(|_| out_of_range)?;
        let mut path = Vec::new();
        // The root level has no sibling; every level below it contributes at most one.
        for level in self.levels.iter().take(self.levels.len().saturating_sub(1)) {
            // `position ^ 1` is the sibling; a last node without one is carried up.
            if let Some(sibling) = level.get(position ^ 1) {
                path.push(*sibling);
            }
            position >>= 1;
        }
        Ok(InclusionProof {
            leaf_index: index,
            tree_size: self.tree_size,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: u8) -> Vec<Sha256Digest> {
        (0..n).map(|i| Sha256Digest::of(&[i])).collect()
    }

    #[test]
    fn empty_is_rejected_everywhere() {
        assert_eq!(root(&[]), Err(MerkleError::EmptyTree));
        assert_eq!(build(&[]), Err(MerkleError::EmptyTree));
        assert_eq!(inclusion_proof(&[], 0), Err(MerkleError::EmptyTree));
    }

    #[test]
    fn one_leaf_is_its_leaf_hash() {
        let r = records(1);
        assert_eq!(root(&r).unwrap(), leaf_hash(&r[0]));
        let p = inclusion_proof(&r, 0).unwrap();
        assert!(p.path.is_empty());
        verify_inclusion(&r[0], &p, &leaf_hash(&r[0])).unwrap();
    }

    #[test]
    fn three_leaves_by_hand() {
        let r = records(3);
        let (a, b, c) = (leaf_hash(&r[0]), leaf_hash(&r[1]), leaf_hash(&r[2]));
        let expected = node_hash(&node_hash(&a, &b), &c);
        assert_eq!(root(&r).unwrap(), expected);
        let tree = build(&r).unwrap();
        assert_eq!(tree.root(), expected);
        assert_eq!(tree.size(), 3);
        assert_eq!(tree.proof(2).unwrap().path, vec![node_hash(&a, &b)]);
        assert_eq!(tree.proof(0).unwrap().path, vec![b, c]);
    }

    #[test]
    fn streaming_root_matches_levels() {
        let r = records(200);
        for n in 1..=r.len() {
            assert_eq!(root(&r[..n]).unwrap(), build(&r[..n]).unwrap().root());
        }
    }

    #[test]
    fn index_out_of_range() {
        let tree = build(&records(5)).unwrap();
        assert_eq!(
            tree.proof(5),
            Err(MerkleError::IndexOutOfRange {
                index: 5,
                tree_size: 5
            })
        );
        assert!(tree.proof(u64::MAX).is_err());
    }

    #[test]
    fn prefixes_separate_leaves_from_nodes() {
        let d = Sha256Digest::of(b"x");
        assert_ne!(leaf_hash(&d), Sha256Digest::of(d.as_bytes()));
        assert_ne!(node_hash(&d, &d), leaf_hash(&d));
    }
}
