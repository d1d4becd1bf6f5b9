//! Inclusion proofs (RFC 9162 §2.1.3) and their verification.

use serde::{Deserialize, Serialize};

use super::{leaf_hash, node_hash, MerkleError};
use crate::digest::Sha256Digest;

/// The longest inclusion path there can be: one entry per bit of a 64-bit tree size.
///
/// Paths longer than this are refused when parsed and before any hashing.
pub const MAX_PATH_LEN: usize = 64;

/// Proof that one record is leaf `leaf_index` of a tree of `tree_size` leaves
/// (RFC 9162 §2.1.3; the fields of `InclusionProofDataV2`, §4.12).
///
/// JSON form, with path entries as plain 64 lowercase hex (tree nodes, not content
/// digests, so without the `sha256:` prefix), leaf level first:
///
/// ```json
/// {"leafIndex":3,"treeSize":7,"path":["<64 hex>","<64 hex>","<64 hex>"]}
/// ```
///
/// Parsing refuses unknown fields and paths longer than [`MAX_PATH_LEN`]; whether the
/// numbers and the path length fit together is checked by [`verify_inclusion`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionProof {
    /// Zero-based position of the record in its batch.
    pub leaf_index: u64,
    /// Number of records in the batch.
    pub tree_size: u64,
    /// The audit path (RFC 9162 §2.1.3.1 `PATH(m, D[n])`): sibling hashes from the leaf
    /// level up to just below the root.
    #[serde(with = "super::node_hex::path")]
    pub path: Vec<Sha256Digest>,
}

/// The only correct path length for leaf `index` of a tree of `tree_size` leaves,
/// given `index < tree_size`: the number of iterations after which RFC 9162
/// §2.1.3.2 step 4 brings `sn` to zero. At most 64.
///
/// The leaf and the last leaf share the subtree above their highest differing bit
/// (`inner` levels, each with a sibling); above that, the leaf's subtree has a left
/// sibling exactly where `index` has a one bit (`border`); right edges have none.
fn expected_path_len(index: u64, tree_size: u64) -> usize {
    let last = tree_size.saturating_sub(1);
    let inner = u64::BITS.saturating_sub((index ^ last).leading_zeros());
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    usize::try_from(inner.saturating_add(border)).unwrap_or(usize::MAX)
}

/// The root that `proof` leads to from `record`, by RFC 9162 §2.1.3.2 steps 1 to 5
/// without the final comparison with a trusted root.
///
/// Index and path length are checked before any hashing, so no proof value (sizes up
/// to `u64::MAX`, paths of any length) costs more than 64 hashes or can overflow.
pub fn compute_root(
    record: &Sha256Digest,
    proof: &InclusionProof,
) -> Result<Sha256Digest, MerkleError> {
    let index = proof.leaf_index;
    let tree_size = proof.tree_size;
    // Step 1.
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    }
    let expected = expected_path_len(index, tree_size);
    let path_length = MerkleError::PathLength {
        index,
        tree_size,
        expected,
        found: proof.path.len(),
    };
    if proof.path.len() != expected {
        return Err(path_length);
    }
    // Step 2.
    let mut fn_ = index;
    let Some(mut sn) = tree_size.checked_sub(1) else {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    };
    // Step 3.
    let mut r = leaf_hash(record);
    // Step 4.
    for p in &proof.path {
        // 4a.
        if sn == 0 {
            return Err(path_length);
        }
        // 4b.
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // 4c.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5, first half.
    if sn != 0 {
        return Err(path_length);
    }
    Ok(r)
}

/// Checks that `record` is leaf `proof.leaf_index` of the tree of `proof.tree_size`
/// leaves whose Merkle Tree Hash is `root` (RFC 9162 §2.1.3.2).
///
/// `root` and `proof.tree_size` must be trusted together (both come from one
/// [`BatchHeader`](crate::batch::BatchHeader)): a root does not commit to the size by
/// itself, and a proof can verify against the same root under a different size when
/// both sizes give the leaf the same path shape.
pub fn verify_inclusion(
    record: &Sha256Digest,
    proof: &InclusionProof,
    root: &Sha256Digest,
) -> Result<(), MerkleError> {
    let computed = compute_root(record, proof)?;
    if computed != *root {
        return Err(MerkleError::RootMismatch {
            index: proof.leaf_index,
            expected: *root,
            computed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::build;

    #[test]
    fn expected_length_matches_built_paths() {
        let records: Vec<_> = (0..130u8).map(|i| Sha256Digest::of(&[i])).collect();
        for n in 1..=records.len() {
            let tree = build(&records[..n]).unwrap();
            for i in 0..n as u64 {
                let path = tree.proof(i).unwrap().path;
                assert_eq!(
                    path.len(),
                    expected_path_len(i, n as u64),
                    "leaf {i} of {n}"
                );
            }
        }
        assert_eq!(expected_path_len(0, u64::MAX), 64);
        assert_eq!(expected_path_len(u64::MAX - 1, u64::MAX), 63);
        assert_eq!(expected_path_len(u64::MAX - 2, u64::MAX), 64);
        assert_eq!(expected_path_len(1 << 63, (1 << 63) + 1), 1);
    }

    #[test]
    fn json_form() {
        let records: Vec<_> = (0..7u8).map(|i| Sha256Digest::of(&[i])).collect();
        let proof = build(&records).unwrap().proof(3).unwrap();
        let json = serde_json::to_string(&proof).unwrap();
        let expected = format!(
            r#"{{"leafIndex":3,"treeSize":7,"path":["{}","{}","{}"]}}"#,
            proof.path[0].to_hex(),
            proof.path[1].to_hex(),
            proof.path[2].to_hex()
        );
        assert_eq!(json, expected);
        assert_eq!(
            serde_json::from_str::<InclusionProof>(&json).unwrap(),
            proof
        );
    }

    #[test]
    fn json_refuses_other_spellings() {
        let node = Sha256Digest::of(b"n");
        let with = |entry: &str| format!(r#"{{"leafIndex":0,"treeSize":2,"path":["{entry}"]}}"#);
        let parse = |text: &str| serde_json::from_str::<InclusionProof>(text);
        assert!(parse(&with(&node.to_hex())).is_ok());
        assert!(parse(&with(&node.to_string())).is_err());
        assert!(parse(&with(&node.to_hex().to_uppercase())).is_err());
        assert!(parse(&with(&node.to_hex()[1..])).is_err());
        assert!(parse(r#"{"leafIndex":0,"treeSize":1,"path":[],"extra":1}"#).is_err());
        assert!(parse(r#"{"leafIndex":0,"treeSize":1}"#).is_err());
        assert!(parse(r#"{"leafIndex":-1,"treeSize":1,"path":[]}"#).is_err());

        let entries = |n: usize| vec![format!("\"{}\"", node.to_hex()); n].join(",");
        let long = |n: usize| format!(r#"{{"leafIndex":0,"treeSize":2,"path":[{}]}}"#, entries(n));
        assert_eq!(parse(&long(MAX_PATH_LEN)).unwrap().path.len(), MAX_PATH_LEN);
        let err = parse(&long(MAX_PATH_LEN + 1)).unwrap_err().to_string();
        assert!(err.contains("at most 64"), "{err}");
    }

    #[test]
    fn huge_values_are_refused_cheaply() {
        let record = Sha256Digest::of(b"r");
        let proof = InclusionProof {
            leaf_index: u64::MAX,
            tree_size: u64::MAX,
            path: vec![],
        };
        assert!(matches!(
            compute_root(&record, &proof),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
        let proof = InclusionProof {
            leaf_index: 0,
            tree_size: u64::MAX,
            path: vec![record; 10_000],
        };
        assert_eq!(
            compute_root(&record, &proof),
            Err(MerkleError::PathLength {
                index: 0,
                tree_size: u64::MAX,
                expected: 64,
                found: 10_000
            })
        );
        let proof = InclusionProof {
            leaf_index: 0,
            tree_size: u64::MAX,
            path: vec![record; 64],
        };
        assert!(compute_root(&record, &proof).is_ok());
    }
}
