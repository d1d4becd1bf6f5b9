#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! Merkle trees and inclusion proofs (RFC 9162 §2.1), checked against two independent
//! implementations for every tree size 1..=257 and every leaf index: the `ct-merkle`
//! crate, and a literal recursive transcription of RFC 9162 §2.1.1 (MTH) and §2.1.3.1
//! (PATH) below. Every check has negative twins.

use cerd_attestation::merkle::{
    self, build, compute_root, inclusion_proof, leaf_hash, node_hash, verify_inclusion,
    InclusionProof, MerkleError, Tree, MAX_PATH_LEN,
};
use cerd_attestation::Sha256Digest;
use proptest::prelude::*;

/// Largest tree size cross-checked.
const MAX_SIZE: usize = 257;

/// Sizes up to this get every mutation against every index; larger sizes get the
/// deterministic subset of [`other_indices`] and [`other_sizes`].
const FULL_SIZE: usize = 64;

/// Sizes up to this also get every single-bit flip of every path entry.
const BIT_FLIP_SIZE: usize = 16;

/// Distinct record hashes: SHA-256 of the big-endian index.
fn records(n: usize) -> Vec<Sha256Digest> {
    (0..n as u64)
        .map(|i| Sha256Digest::of(&i.to_be_bytes()))
        .collect()
}

#[path = "merkle/reference.rs"]
mod reference;
use reference::{path_bytes, rfc_shape, CtSha256, CtTree, Rfc};

// ---------------------------------------------------------------------------------
// Positive cross-checks.
// ---------------------------------------------------------------------------------

#[test]
fn ct_sha256_adapter_is_sha256() {
    use ct_merkle::digest::Digest as _;
    assert_eq!(
        CtSha256::digest(b"abc").as_slice(),
        Sha256Digest::of(b"abc").as_bytes()
    );
}

/// Roots and every proof agree byte for byte with ct-merkle, and each implementation
/// accepts the other's proofs.
#[test]
fn agrees_with_ct_merkle_for_every_size_and_index() {
    let records = records(MAX_SIZE);
    let mut ct = CtTree::new();
    for n in 1..=MAX_SIZE {
        ct.push(records[n - 1].0);
        let ct_root = ct.root();
        let tree = build(&records[..n]).unwrap();
        assert_eq!(ct_root.num_leaves(), n as u64);
        assert_eq!(
            ct_root.as_bytes().as_slice(),
            tree.root().as_bytes(),
            "size {n}"
        );
        assert_eq!(
            merkle::root(&records[..n]).unwrap(),
            tree.root(),
            "size {n}"
        );
        for (i, record) in records[..n].iter().enumerate() {
            let ours = tree.proof(i as u64).unwrap();
            let theirs = ct.prove_inclusion(i);
            assert_eq!(ours.leaf_index, i as u64);
            assert_eq!(ours.tree_size, n as u64);
            assert_eq!(theirs.as_bytes(), path_bytes(&ours.path), "leaf {i} of {n}");

            let ours_for_ct =
                ct_merkle::InclusionProof::<CtSha256>::try_from_bytes(path_bytes(&ours.path))
                    .unwrap();
            ct_root
                .verify_inclusion(&record.0, i as u64, &ours_for_ct)
                .unwrap();

            let theirs_for_us = InclusionProof {
                leaf_index: i as u64,
                tree_size: n as u64,
                path: theirs
                    .as_bytes()
                    .chunks(32)
                    .map(|c| Sha256Digest(c.try_into().unwrap()))
                    .collect(),
            };
            let ct_root_for_us = Sha256Digest(ct_root.as_bytes().as_slice().try_into().unwrap());
            verify_inclusion(record, &theirs_for_us, &ct_root_for_us).unwrap();
        }
    }
}

/// Roots and every proof agree byte for byte with the recursive RFC transcription.
#[test]
fn agrees_with_rfc_transcription_for_every_size_and_index() {
    let records = records(MAX_SIZE);
    let raw: Vec<[u8; 32]> = records.iter().map(|d| d.0).collect();
    for n in 1..=MAX_SIZE {
        let mut rfc = Rfc::new(&raw[..n]);
        let expected_root = rfc.mth(0, n);
        let tree = build(&records[..n]).unwrap();
        assert_eq!(tree.root().0, expected_root, "size {n}");
        assert_eq!(tree.size(), n as u64);
        assert_eq!(merkle::root(&records[..n]).unwrap().0, expected_root);
        for (i, record) in records[..n].iter().enumerate() {
            let proof = tree.proof(i as u64).unwrap();
            let path: Vec<[u8; 32]> = proof.path.iter().map(|d| d.0).collect();
            assert_eq!(path, rfc.path(i, 0, n), "leaf {i} of {n}");
            assert_eq!(
                compute_root(record, &proof).unwrap().0,
                expected_root,
                "leaf {i} of {n}"
            );
        }
        // The one-shot function gives the same proofs (checked at both ends only, as
        // it rebuilds the tree each time).
        for i in [0, n - 1] {
            assert_eq!(
                inclusion_proof(&records[..n], i as u64).unwrap(),
                tree.proof(i as u64).unwrap()
            );
        }
    }
}

/// Known answer computed with Python's hashlib, independently of any Rust code:
///
/// ```text
/// python3 -c "
/// import hashlib
/// rec=[hashlib.sha256(x).digest() for x in (b'a',b'b',b'c')]
/// L=lambda d: hashlib.sha256(b'\x00'+d).digest()
/// N=lambda l,r: hashlib.sha256(b'\x01'+l+r).digest()
/// print(N(N(L(rec[0]),L(rec[1])),L(rec[2])).hex())
/// print(L(rec[1]).hex(), L(rec[2]).hex(), N(L(rec[0]),L(rec[1])).hex())"
/// ```
#[test]
fn known_answer_three_records() {
    let records: Vec<_> = [b"a", b"b", b"c"]
        .iter()
        .map(|x| Sha256Digest::of(*x))
        .collect();
    let root = merkle::root(&records).unwrap();
    assert_eq!(
        root.to_hex(),
        "cac3d448d4e20a2ad5eae1f500e63c2a7f9217cd14572ba7fd22e26dc1ec2648"
    );
    let hex = |p: InclusionProof| p.path.iter().map(|d| d.to_hex()).collect::<Vec<_>>();
    let tree = build(&records).unwrap();
    assert_eq!(
        hex(tree.proof(0).unwrap()),
        [
            "a0d9f0a50b35b9f7d7edc57fb64f4771ddef0fefeaca4e6f949a1514db5b136d",
            "6a3fc11b79f836bda340e75c8906e961b8adf4d6a08a2b992e3f38cd6ff38ebf"
        ]
    );
    assert_eq!(
        hex(tree.proof(2).unwrap()),
        ["ad5ca6cddc0b27c6a83e332bf28011769236e6c6a1f786ebf7b5267b37a5bd22"]
    );
    assert_eq!(
        serde_json::to_string(&tree.proof(2).unwrap()).unwrap(),
        r#"{"leafIndex":2,"treeSize":3,"path":["ad5ca6cddc0b27c6a83e332bf28011769236e6c6a1f786ebf7b5267b37a5bd22"]}"#
    );
}

#[test]
fn empty_batch_is_an_error() {
    assert_eq!(merkle::root(&[]), Err(MerkleError::EmptyTree));
    assert_eq!(build(&[]).unwrap_err(), MerkleError::EmptyTree);
    assert_eq!(inclusion_proof(&[], 0), Err(MerkleError::EmptyTree));
    assert_eq!(
        MerkleError::EmptyTree.to_string(),
        "merkle tree has no leaves: a batch needs at least one record"
    );
}

#[test]
fn proof_round_trips_through_json() {
    let records = records(13);
    let tree = build(&records).unwrap();
    for i in 0..13 {
        let proof = tree.proof(i).unwrap();
        let json = serde_json::to_string(&proof).unwrap();
        assert!(json.starts_with(&format!(r#"{{"leafIndex":{i},"treeSize":13,"path":["#)));
        assert!(!json.contains("sha256:"));
        let back: InclusionProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, proof);
        verify_inclusion(&records[i as usize], &back, &tree.root()).unwrap();
    }
}

// ---------------------------------------------------------------------------------
// Negative twins.
// ---------------------------------------------------------------------------------

/// Other leaf indices to claim for leaf `i` of `n`: all of them for small trees, a
/// deterministic spread (ends, middle, neighbours, single-bit flips of `i`) otherwise.
fn other_indices(i: usize, n: usize) -> Vec<usize> {
    let mut js: Vec<usize> = if n <= FULL_SIZE {
        (0..n).collect()
    } else {
        let mut js = vec![0, n - 1, n / 2, i.wrapping_sub(1), i + 1];
        js.extend((0..9).map(|b| i ^ (1 << b)));
        js
    };
    js.retain(|&j| j != i && j < n);
    js.sort_unstable();
    js.dedup();
    js
}

/// Other tree sizes to claim for a tree of `n`: neighbours, doubles, halves and
/// extremes, and for the smallest trees every size up to 2n + 2.
fn other_sizes(n: u64) -> Vec<u64> {
    let mut ms = vec![
        n + 1,
        n.saturating_sub(1),
        n + 2,
        n.saturating_sub(2),
        2 * n,
        n / 2,
        2 * n + 1,
        n + 64,
        n.next_power_of_two(),
        1 << 32,
        (1 << 63) + 1,
        u64::MAX,
        0,
    ];
    if n <= BIT_FLIP_SIZE as u64 {
        ms.extend(1..=2 * n + 2);
    }
    ms.retain(|&m| m != n);
    ms.dedup();
    ms
}

/// One leaf of one tree and its genuine proof, to be altered.
struct Case<'a> {
    records: &'a [Sha256Digest],
    root: Sha256Digest,
    /// Root of the tree without the last record, if there is one.
    shorter_root: Option<Sha256Digest>,
    n: usize,
    i: usize,
    proof: InclusionProof,
}

impl<'a> Case<'a> {
    fn new(
        records: &'a [Sha256Digest],
        tree: &Tree,
        shorter_root: Option<Sha256Digest>,
        i: usize,
    ) -> Self {
        let case = Case {
            records,
            root: tree.root(),
            shorter_root,
            n: records.len(),
            i,
            proof: tree.proof(i as u64).unwrap(),
        };
        assert_eq!(case.verify(&case.proof), Ok(()), "{}", case.what());
        case
    }

    fn record(&self) -> &Sha256Digest {
        &self.records[self.i]
    }

    fn what(&self) -> String {
        format!("leaf {} of {}", self.i, self.n)
    }

    fn verify(&self, proof: &InclusionProof) -> Result<(), MerkleError> {
        verify_inclusion(self.record(), proof, &self.root)
    }

    /// An altered path entry leads to another root.
    fn flip(&self, entry: usize, byte: usize, mask: u8) {
        let mut bad = self.proof.clone();
        bad.path[entry].0[byte] ^= mask;
        let r = self.verify(&bad);
        assert!(
            matches!(r, Err(MerkleError::RootMismatch { .. })),
            "{}, entry {entry} byte {byte} ^ {mask:#x}: {r:?}",
            self.what()
        );
    }

    /// Neighbouring entries swapped lead to another root.
    fn swap_neighbours(&self) {
        for e in 1..self.proof.path.len() {
            let mut bad = self.proof.clone();
            bad.path.swap(e - 1, e);
            let r = self.verify(&bad);
            assert!(
                matches!(r, Err(MerkleError::RootMismatch { .. })),
                "{}",
                self.what()
            );
        }
    }

    /// A path one entry short or long is refused before any hashing, with both lengths.
    fn shorten_and_lengthen(&self) {
        let len = self.proof.path.len();
        let expect = |found| {
            Err(MerkleError::PathLength {
                index: self.i as u64,
                tree_size: self.n as u64,
                expected: len,
                found,
            })
        };
        if len > 0 {
            let mut bad = self.proof.clone();
            bad.path.pop();
            assert_eq!(self.verify(&bad), expect(len - 1), "{}", self.what());
            let mut bad = self.proof.clone();
            bad.path.remove(0);
            assert_eq!(self.verify(&bad), expect(len - 1), "{}", self.what());
        }
        let mut bad = self.proof.clone();
        bad.path.push(self.root);
        assert_eq!(self.verify(&bad), expect(len + 1), "{}", self.what());
        let mut bad = self.proof.clone();
        bad.path.insert(0, *self.record());
        assert_eq!(self.verify(&bad), expect(len + 1), "{}", self.what());
    }

    /// Claiming another index fails: out of range, or (records being distinct) a path
    /// of the wrong length or leading to another root.
    fn claim_index(&self, j: u64) {
        let mut bad = self.proof.clone();
        bad.leaf_index = j;
        let r = self.verify(&bad);
        if j >= self.n as u64 {
            let expected = MerkleError::IndexOutOfRange {
                index: j,
                tree_size: self.n as u64,
            };
            assert_eq!(r, Err(expected), "{} claimed as {j}", self.what());
        } else {
            assert!(
                matches!(
                    r,
                    Err(MerkleError::PathLength { .. } | MerkleError::RootMismatch { .. })
                ),
                "{} claimed as {j}: {r:?}",
                self.what()
            );
        }
    }

    /// Claiming another size is accepted exactly when the leaf's path has the same shape
    /// in both sizes (the root does not commit to the size; the batch header does).
    /// Returns whether it was rejected without the index being out of range.
    fn claim_size(&self, m: u64) -> bool {
        let mut bad = self.proof.clone();
        bad.tree_size = m;
        let r = self.verify(&bad);
        let i = self.i as u64;
        if i >= m {
            let expected = MerkleError::IndexOutOfRange {
                index: i,
                tree_size: m,
            };
            assert_eq!(r, Err(expected), "{} as size {m}", self.what());
            false
        } else if rfc_shape(i, m) == rfc_shape(i, self.n as u64) {
            assert_eq!(r, Ok(()), "{} as size {m}, same shape", self.what());
            false
        } else {
            assert!(
                matches!(
                    r,
                    Err(MerkleError::PathLength { .. } | MerkleError::RootMismatch { .. })
                ),
                "{} as size {m}: {r:?}",
                self.what()
            );
            true
        }
    }

    /// Another record with the genuine proof leads to another root.
    fn wrong_record(&self, w: &Sha256Digest) {
        let r = verify_inclusion(w, &self.proof, &self.root);
        assert!(
            matches!(r, Err(MerkleError::RootMismatch { .. })),
            "{} with record {w}: {r:?}",
            self.what()
        );
    }

    /// The genuine proof against another root reports both roots.
    fn wrong_root(&self, wrong: &Sha256Digest) {
        let expected = MerkleError::RootMismatch {
            index: self.i as u64,
            expected: *wrong,
            computed: self.root,
        };
        let r = verify_inclusion(self.record(), &self.proof, wrong);
        assert_eq!(r, Err(expected), "{}", self.what());
    }

    /// Records that are not this leaf's: absent from the tree, its leaf hash instead
    /// of its record hash (prefix confusion), and its neighbour.
    fn wrong_records(&self) -> Vec<Sha256Digest> {
        let mut wrong = vec![Sha256Digest::of(b"absent"), leaf_hash(self.record())];
        if self.n > 1 {
            wrong.push(self.records[(self.i + 1) % self.n]);
        }
        wrong
    }

    /// Roots that are not this tree's: one bit flipped, zero, this leaf's hash (unless
    /// it is the root of a one-leaf tree), and the root of the tree one record shorter.
    fn wrong_roots(&self) -> Vec<Sha256Digest> {
        let mut flipped = self.root;
        flipped.0[self.i % 32] ^= 1;
        let mut roots = vec![flipped, Sha256Digest::ZERO, leaf_hash(self.record())];
        roots.extend(self.shorter_root);
        roots.retain(|r| *r != self.root);
        roots
    }
}

/// Sizes 1..=64, every leaf: one byte of every path entry altered (every bit of every
/// entry up to size 16), neighbouring entries swapped, the path shortened and
/// lengthened at either end, every other index claimed, 13 other sizes claimed (every
/// size up to 2n + 2 up to size 16), three wrong records and up to four wrong roots.
#[test]
fn small_trees_reject_every_alteration() {
    let all = records(FULL_SIZE);
    let mut same_shape = 0;
    for n in 1..=FULL_SIZE {
        let records = &all[..n];
        let tree = build(records).unwrap();
        let shorter_root = merkle::root(&records[..n - 1]).ok();
        for i in 0..n {
            let case = Case::new(records, &tree, shorter_root, i);
            for e in 0..case.proof.path.len() {
                if n <= BIT_FLIP_SIZE {
                    for bit in 0..256 {
                        case.flip(e, bit / 8, 1 << (bit % 8));
                    }
                } else {
                    case.flip(e, (e * 7 + i) % 32, 0x80);
                }
            }
            case.swap_neighbours();
            case.shorten_and_lengthen();
            for j in other_indices(i, n) {
                case.claim_index(j as u64);
            }
            for j in [n as u64, n as u64 + 1, u64::MAX] {
                case.claim_index(j);
            }
            for m in other_sizes(n as u64) {
                let rejected = case.claim_size(m);
                same_shape += u32::from(!rejected && (i as u64) < m);
            }
            for w in case.wrong_records() {
                case.wrong_record(&w);
            }
            for r in case.wrong_roots() {
                case.wrong_root(&r);
            }
        }
    }
    // Same-shape sizes were met and accepted (e.g. leaf 0 of 5 claimed as size 6).
    assert!(same_shape > 100, "{same_shape}");
}

/// Sizes 65..=257, every leaf: one path entry altered (entry, byte and bit chosen by
/// the index), the path shortened and lengthened at either end, one other index
/// claimed (the sibling for even leaves, one of [`other_indices`] chosen by the index
/// for odd ones), other sizes from [`other_sizes`] (starting at a position chosen by
/// the index) until one is rejected, and a wrong record (even leaves) or a wrong root
/// (odd leaves) chosen by the index. The genuine proof is verified first.
#[test]
fn large_trees_reject_sampled_alterations() {
    let all = records(MAX_SIZE);
    for n in FULL_SIZE + 1..=MAX_SIZE {
        let records = &all[..n];
        let tree = build(records).unwrap();
        let shorter_root = merkle::root(&records[..n - 1]).ok();
        for i in 0..n {
            let case = Case::new(records, &tree, shorter_root, i);
            let len = case.proof.path.len();
            case.flip(i % len, (i * 13 + n) % 32, 1 << (i % 8));
            case.shorten_and_lengthen();

            let js = other_indices(i, n);
            let j = match i % 2 {
                0 if i ^ 1 < n => i ^ 1,
                0 => i - 1,
                _ => js[(i * 5 + n) % js.len()],
            };
            case.claim_index(j as u64);

            let ms = other_sizes(n as u64);
            let start = i % ms.len();
            let rejected = (0..ms.len()).any(|k| case.claim_size(ms[(start + k) % ms.len()]));
            assert!(rejected, "{}: no other size rejected", case.what());

            if i % 2 == 0 {
                let wrong = case.wrong_records();
                case.wrong_record(&wrong[i / 2 % wrong.len()]);
            } else {
                let roots = case.wrong_roots();
                case.wrong_root(&roots[i / 2 % roots.len()]);
            }
        }
    }
}

/// With duplicate records, two positions can have genuinely identical proofs (same
/// record, same path), and then a proof verifies under either index. Assert exactly
/// that: another index verifies if and only if both the record and the path coincide.
#[test]
fn other_index_verifies_only_for_identical_proofs() {
    let same = Sha256Digest::of(b"same");
    let other = Sha256Digest::of(b"other");
    let mut identical = 0;
    for n in 1..=32usize {
        // Patterns with long runs of equal records.
        for pattern in 0..3 {
            let records: Vec<_> = (0..n)
                .map(|k| match pattern {
                    0 => same,
                    1 if k % 3 == 2 => other,
                    2 if k >= n / 2 => other,
                    _ => same,
                })
                .collect();
            let tree = build(&records).unwrap();
            for i in 0..n {
                let proof = tree.proof(i as u64).unwrap();
                for j in 0..n {
                    let mut claimed = proof.clone();
                    claimed.leaf_index = j as u64;
                    let ok = verify_inclusion(&records[i], &claimed, &tree.root()).is_ok();
                    let genuine = records[i] == records[j]
                        && tree.proof(j as u64).unwrap().path == proof.path;
                    assert_eq!(
                        ok, genuine,
                        "leaf {i} of {n} claimed as {j}, pattern {pattern}"
                    );
                    identical += u32::from(genuine && i != j);
                }
            }
        }
    }
    assert!(identical > 0);
}

/// An interior node presented as a record does not verify: leaves and nodes are hashed
/// with different prefixes (RFC 9162 §2.1.1, second-preimage resistance).
#[test]
fn interior_node_is_not_a_leaf() {
    let records = records(4);
    let tree = build(&records).unwrap();
    let n01 = node_hash(&leaf_hash(&records[0]), &leaf_hash(&records[1]));
    let n23 = node_hash(&leaf_hash(&records[2]), &leaf_hash(&records[3]));
    assert_eq!(node_hash(&n01, &n23), tree.root());
    let forged = InclusionProof {
        leaf_index: 0,
        tree_size: 2,
        path: vec![n23],
    };
    assert!(matches!(
        verify_inclusion(&n01, &forged, &tree.root()),
        Err(MerkleError::RootMismatch { .. })
    ));
}

#[test]
fn errors_say_what_and_where() {
    let records = records(7);
    let tree = build(&records).unwrap();
    let mut proof = tree.proof(3).unwrap();
    proof.path.pop();
    assert_eq!(
        verify_inclusion(&records[3], &proof, &tree.root())
            .unwrap_err()
            .to_string(),
        "inclusion path of leaf 3 in a tree of 7 leaves has 2 entries, expected 3"
    );
    assert_eq!(
        tree.proof(7).unwrap_err().to_string(),
        "leaf index 7 is out of range for a tree of 7 leaves"
    );
    let proof = tree.proof(3).unwrap();
    let msg = verify_inclusion(&records[3], &proof, &Sha256Digest::ZERO)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "inclusion proof of leaf 3 computes root {}, expected {}",
            tree.root().to_hex(),
            "0".repeat(64)
        )
    );
}

/// A batch of 2^17 + 3 records (a million works the same, but takes seconds in a debug
/// build; speed is for benchmarks): the streaming root and the levelled tree agree,
/// and proofs at both ends and in the middle verify with their 17- or 18-entry paths.
#[test]
fn large_batch() {
    let n = (1 << 17) + 3;
    let records: Vec<_> = (0..n as u64)
        .map(|i| {
            let mut d = [0u8; 32];
            d[..8].copy_from_slice(&i.to_be_bytes());
            Sha256Digest(d)
        })
        .collect();
    let tree = build(&records).unwrap();
    assert_eq!(merkle::root(&records).unwrap(), tree.root());
    for i in [0, 1 << 16, (1 << 17) - 1, 1 << 17, n - 1] {
        let proof = tree.proof(i as u64).unwrap();
        assert!(proof.path.len() <= 18);
        verify_inclusion(&records[i], &proof, &tree.root()).unwrap();
    }
}

// ---------------------------------------------------------------------------------
// No panics on arbitrary input.
// ---------------------------------------------------------------------------------

fn edgy_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(1 << 63),
        0..300u64,
        any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_proofs_never_panic(
        leaf_index in edgy_u64(),
        tree_size in edgy_u64(),
        path in proptest::collection::vec(any::<[u8; 32]>().prop_map(Sha256Digest), 0..100),
        record in any::<[u8; 32]>().prop_map(Sha256Digest),
        root in any::<[u8; 32]>().prop_map(Sha256Digest),
    ) {
        let proof = InclusionProof { leaf_index, tree_size, path };
        let r = verify_inclusion(&record, &proof, &root);
        if proof.path.len() > MAX_PATH_LEN {
            let is_path_length = matches!(
                r,
                Err(MerkleError::PathLength { .. } | MerkleError::IndexOutOfRange { .. })
            );
            prop_assert!(is_path_length);
        }
        let _ = compute_root(&record, &proof);
    }

    #[test]
    fn arbitrary_json_never_panics(text in "\\PC{0,200}") {
        let _ = serde_json::from_str::<InclusionProof>(&text);
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_trees_prove_a_sampled_leaf(n in 1usize..600, pick in any::<u64>()) {
        let records = records(n);
        let tree = build(&records).unwrap();
        let i = (pick % n as u64) as usize;
        let proof = tree.proof(i as u64).unwrap();
        prop_assert_eq!(verify_inclusion(&records[i], &proof, &tree.root()), Ok(()));
        let json = serde_json::to_string(&proof).unwrap();
        prop_assert_eq!(serde_json::from_str::<InclusionProof>(&json).unwrap(), proof);
    }
}
