#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! Batch headers: canonical encoding, hash, JSON form and chains, with known answers
//! computed outside Rust and a negative twin for every rule.

use cerd_attestation::batch::{
    verify_chain, BatchError, BatchHeader, DOMAIN_TAG, ENCODED_LEN, JSON_VERSION,
};
use cerd_attestation::{merkle, Sha256Digest};
use proptest::prelude::*;

fn hex32(text: &str) -> Sha256Digest {
    Sha256Digest::parse_hex(text).unwrap()
}

/// A chain of five headers over small batches of distinct records.
fn chain(len: u64) -> Vec<BatchHeader> {
    let batch_root = |seq: u64| {
        let records: Vec<_> = (0..=seq)
            .map(|k| Sha256Digest::of(format!("record {seq}.{k}").as_bytes()))
            .collect();
        (records.len() as u64, merkle::root(&records).unwrap())
    };
    let (size, root) = batch_root(0);
    let mut headers = vec![BatchHeader::genesis(size, root).unwrap()];
    for seq in 1..len {
        let (size, root) = batch_root(seq);
        let next = headers.last().unwrap().next(size, root).unwrap();
        headers.push(next);
    }
    headers
}

/// Known answer, computed two ways outside Rust:
///
/// ```text
/// python3 -c "import hashlib,struct; print(hashlib.sha256(b'cerd.batch.v1\x00'
///   +struct.pack('>QQ',0x0102030405060708,3)+b'\x11'*32+b'\x22'*32).hexdigest())"
/// { printf 'cerd.batch.v1\0\x01\x02\x03\x04\x05\x06\x07\x08\0\0\0\0\0\0\0\x03'
///   for i in $(seq 32); do printf '\x11'; done
///   for i in $(seq 32); do printf '\x22'; done; } | sha256sum
/// ```
#[test]
fn known_answer_encoding_and_hash() {
    let header = BatchHeader {
        sequence: 0x0102_0304_0506_0708,
        tree_size: 3,
        root: Sha256Digest([0x11; 32]),
        previous: Sha256Digest([0x22; 32]),
    };
    let mut expected = b"cerd.batch.v1\0".to_vec();
    expected.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    expected.extend([0, 0, 0, 0, 0, 0, 0, 3]);
    expected.extend([0x11; 32]);
    expected.extend([0x22; 32]);
    assert_eq!(header.encode(), expected);
    assert_eq!(ENCODED_LEN, 94);
    assert_eq!(DOMAIN_TAG, b"cerd.batch.v1\0");
    assert_eq!(
        header.hash().to_hex(),
        "34d645f2766e977905afaeb39fb3269c7b3c3ad89454b371212812b9df044669"
    );
}

/// A two-batch chain whose every value was computed with Python's hashlib (records
/// SHA-256("a"), ("b"), ("c"), then SHA-256("d")):
///
/// ```text
/// python3 - <<'EOF'
/// import hashlib,struct
/// H=lambda b: hashlib.sha256(b).digest()
/// L=lambda d: H(b'\x00'+d)
/// N=lambda l,r: H(b'\x01'+l+r)
/// rec=[H(x) for x in (b'a',b'b',b'c')]
/// root0=N(N(L(rec[0]),L(rec[1])),L(rec[2]))
/// def hdr(seq,size,root,prev): return b'cerd.batch.v1\x00'+struct.pack('>QQ',seq,size)+root+prev
/// h0=H(hdr(0,3,root0,b'\x00'*32))
/// root1=L(H(b'd'))
/// h1=H(hdr(1,1,root1,h0))
/// print(root0.hex()); print(h0.hex()); print(root1.hex()); print(h1.hex())
/// EOF
/// ```
#[test]
fn known_answer_chain() {
    let abc: Vec<_> = [b"a", b"b", b"c"]
        .iter()
        .map(|x| Sha256Digest::of(*x))
        .collect();
    let genesis = BatchHeader::genesis(3, merkle::root(&abc).unwrap()).unwrap();
    assert_eq!(
        genesis.root,
        hex32("cac3d448d4e20a2ad5eae1f500e63c2a7f9217cd14572ba7fd22e26dc1ec2648")
    );
    assert_eq!(
        genesis.hash(),
        hex32("66c3947c303259f09642801e072f9c642f9df1f2973e15ebf9459d839f299aea")
    );
    let second = genesis
        .next(1, merkle::root(&[Sha256Digest::of(b"d")]).unwrap())
        .unwrap();
    assert_eq!(
        second.root,
        hex32("de22f76c222682c331f7dda7349654b6a9f4f710077025e9b29130023712780f")
    );
    assert_eq!(second.previous, genesis.hash());
    assert_eq!(
        second.hash(),
        hex32("ab1caf0ea73e71707306cc0d321e77147ff616fe3c7a51bdf8d29912a8bead55")
    );
    verify_chain(&[genesis, second]).unwrap();
}

#[test]
fn encode_decode_round_trip() {
    for header in chain(5) {
        let bytes = header.encode();
        assert_eq!(bytes.len(), ENCODED_LEN);
        assert_eq!(BatchHeader::decode(&bytes), Ok(header));
    }
    let extreme = BatchHeader {
        sequence: u64::MAX,
        tree_size: u64::MAX,
        root: Sha256Digest([0xff; 32]),
        previous: Sha256Digest([0xff; 32]),
    };
    assert_eq!(BatchHeader::decode(&extreme.encode()), Ok(extreme));
}

/// Each decoding rule, with a vector that breaks exactly that rule.
#[test]
fn decode_rejects_each_fault_with_its_reason() {
    let headers = chain(2);
    let good = headers[1].encode();
    assert!(BatchHeader::decode(&good).is_ok());

    for len in [0, 1, 14, 93, 95, 96, 200] {
        let mut bytes = good.clone();
        bytes.resize(len, 0);
        assert_eq!(
            BatchHeader::decode(&bytes),
            Err(BatchError::Length {
                expected: 94,
                found: len
            })
        );
    }

    for k in 0..14 {
        let mut bytes = good.clone();
        bytes[k] ^= 0x20;
        let mut found = *DOMAIN_TAG;
        found[k] ^= 0x20;
        assert_eq!(BatchHeader::decode(&bytes), Err(BatchError::Tag { found }));
    }
    let mut v2 = good.clone();
    v2[12] = b'2';
    let err = BatchHeader::decode(&v2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch header at offset 0 has domain tag 636572642e62617463682e763200, \
         expected \"cerd.batch.v1\\0\""
    );

    let mut empty = good.clone();
    empty[22..30].fill(0);
    assert_eq!(
        BatchHeader::decode(&empty),
        Err(BatchError::EmptyBatch { sequence: 1 })
    );

    let mut unlinked = good.clone();
    unlinked[62..94].fill(0);
    assert_eq!(
        BatchHeader::decode(&unlinked),
        Err(BatchError::MissingPrevious { sequence: 1 })
    );

    let mut as_genesis = good;
    as_genesis[14..22].fill(0);
    assert_eq!(
        BatchHeader::decode(&as_genesis),
        Err(BatchError::GenesisPrevious {
            found: headers[1].previous
        })
    );
}

#[test]
fn json_form() {
    let genesis = chain(1)[0];
    let json = serde_json::to_string(&genesis).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"version":1,"sequence":0,"treeSize":1,"root":"{}","previous":"{}"}}"#,
            genesis.root.to_hex(),
            "0".repeat(64)
        )
    );
    assert_eq!(serde_json::from_str::<BatchHeader>(&json).unwrap(), genesis);
    for header in chain(5) {
        let text = serde_json::to_string(&header).unwrap();
        assert_eq!(serde_json::from_str::<BatchHeader>(&text).unwrap(), header);
    }
    assert_eq!(JSON_VERSION, 1);
}

/// Each JSON rule, with a document that breaks exactly that rule.
#[test]
fn json_rejects_each_fault() {
    let header = chain(2)[1];
    let good = serde_json::to_value(header).unwrap();
    let with = |key: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[key] = value;
        serde_json::from_value::<BatchHeader>(v).map_err(|e| e.to_string())
    };
    assert!(with("version", 1.into()).is_ok());
    assert_eq!(
        with("version", 2.into()).unwrap_err(),
        "batch header version is 2, expected 1"
    );
    assert!(with("version", 0.into()).is_err());
    assert!(with("version", "1".into()).is_err());
    assert_eq!(
        with("treeSize", 0.into()).unwrap_err(),
        "batch 1 has tree size 0, a batch needs at least one record"
    );
    assert!(with("treeSize", (-1).into()).is_err());
    assert!(with("previous", "0".repeat(64).into()).is_err());
    assert!(with("sequence", 0.into()).is_err());
    assert!(with("root", header.root.to_string().into()).is_err());
    assert!(with("root", header.root.to_hex().to_uppercase().into()).is_err());
    assert!(with("root", header.root.to_hex()[..63].into()).is_err());
    assert!(with("extra", true.into()).is_err());

    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("version");
    assert!(serde_json::from_value::<BatchHeader>(missing).is_err());
}

#[test]
fn chain_of_five_verifies() {
    let headers = chain(5);
    assert_eq!(headers.len(), 5);
    for (k, h) in headers.iter().enumerate() {
        assert_eq!(h.sequence, k as u64);
        assert_eq!(h.tree_size, k as u64 + 1);
    }
    assert_eq!(headers[0].previous, Sha256Digest::ZERO);
    verify_chain(&headers).unwrap();
    // Any contiguous stretch verifies too: anchoring its ends is the caller's job.
    for start in 0..5 {
        for end in start + 1..=5 {
            verify_chain(&headers[start..end]).unwrap();
        }
    }
}

#[test]
fn chain_removed_header_is_a_gap() {
    let mut headers = chain(5);
    headers.remove(2);
    assert_eq!(
        verify_chain(&headers),
        Err(BatchError::Gap {
            expected: 2,
            found: 3
        })
    );
    assert_eq!(
        verify_chain(&headers).unwrap_err().to_string(),
        "batch chain has a gap: expected sequence 2, found 3"
    );
}

#[test]
fn chain_reordered_pair_is_a_gap() {
    let mut headers = chain(5);
    headers.swap(2, 3);
    assert_eq!(
        verify_chain(&headers),
        Err(BatchError::Gap {
            expected: 2,
            found: 3
        })
    );
    let mut headers = chain(5);
    headers.swap(0, 1);
    assert_eq!(
        verify_chain(&headers),
        Err(BatchError::Gap {
            expected: 2,
            found: 0
        })
    );
}

#[test]
fn chain_altered_root_breaks_the_next_link() {
    let original = chain(5);
    let mut headers = original.clone();
    headers[2].root.0[0] ^= 1;
    assert_eq!(
        verify_chain(&headers),
        Err(BatchError::BrokenLink {
            sequence: 3,
            expected: headers[2].hash(),
            found: original[2].hash()
        })
    );
    // Same for every altered field of a non-final header.
    let mut size = original.clone();
    size[1].tree_size += 1;
    assert!(matches!(
        verify_chain(&size),
        Err(BatchError::BrokenLink { sequence: 2, .. })
    ));
    let mut link = original.clone();
    link[4].previous.0[31] ^= 1;
    let err = verify_chain(&link).unwrap_err();
    assert!(matches!(err, BatchError::BrokenLink { sequence: 4, .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "batch 4 has previous {}, expected {} (hash of the batch before it)",
            link[4].previous.to_hex(),
            link[3].hash().to_hex()
        )
    );
    // A header from another chain with the right sequence number.
    let mut other = vec![BatchHeader::genesis(9, Sha256Digest::of(b"elsewhere")).unwrap()];
    for _ in 0..4 {
        let next = other
            .last()
            .unwrap()
            .next(1, Sha256Digest::of(b"x"))
            .unwrap();
        other.push(next);
    }
    let mut foreign = original.clone();
    foreign[3] = other[3];
    assert_eq!(
        verify_chain(&foreign),
        Err(BatchError::BrokenLink {
            sequence: 3,
            expected: original[2].hash(),
            found: other[2].hash()
        })
    );
    // A fork (header 3 rebuilt with another root, header 4 relinked to it) is a valid
    // chain of its own: which one is real is decided by the quote over the last hash.
    let mut fork = original.clone();
    fork[3] = original[2].next(4, Sha256Digest::of(b"fork")).unwrap();
    fork[4] = fork[3].next(5, original[4].root).unwrap();
    verify_chain(&fork).unwrap();
    assert_ne!(fork[4].hash(), original[4].hash());
    // The last header's own fields are bound by the quote over its hash, not here.
    let mut last = original;
    last[4].root.0[0] ^= 1;
    verify_chain(&last).unwrap();
    assert_ne!(last[4].hash(), chain(5)[4].hash());
}

#[test]
fn chain_rejects_invalid_headers_and_empty() {
    assert_eq!(verify_chain(&[]), Err(BatchError::EmptyChain));
    let mut headers = chain(3);
    headers[1].tree_size = 0;
    assert_eq!(
        verify_chain(&headers),
        Err(BatchError::EmptyBatch { sequence: 1 })
    );
    let mut headers = chain(3);
    headers[0].previous = Sha256Digest([7; 32]);
    assert!(matches!(
        verify_chain(&headers),
        Err(BatchError::GenesisPrevious { .. })
    ));
    let at_end = BatchHeader {
        sequence: u64::MAX,
        tree_size: 1,
        root: Sha256Digest::ZERO,
        previous: Sha256Digest([1; 32]),
    };
    assert_eq!(
        verify_chain(&[at_end, at_end]),
        Err(BatchError::SequenceOverflow { sequence: u64::MAX })
    );
    assert_eq!(
        at_end.next(1, Sha256Digest::ZERO),
        Err(BatchError::SequenceOverflow { sequence: u64::MAX })
    );
}

#[test]
fn builders_enforce_the_rules() {
    assert_eq!(
        BatchHeader::genesis(0, Sha256Digest::ZERO),
        Err(BatchError::EmptyBatch { sequence: 0 })
    );
    let genesis = BatchHeader::genesis(1, Sha256Digest::ZERO).unwrap();
    assert_eq!(genesis.previous, Sha256Digest::ZERO);
    assert_eq!(
        genesis.next(0, Sha256Digest::ZERO),
        Err(BatchError::EmptyBatch { sequence: 1 })
    );
    let next = genesis.next(1, Sha256Digest::ZERO).unwrap();
    assert_eq!(next.sequence, 1);
    assert_eq!(next.previous, genesis.hash());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = BatchHeader::decode(&bytes);
    }

    /// Tagged 94-byte inputs reach every rule past the length and tag checks; whatever
    /// decodes re-encodes to the same bytes.
    #[test]
    fn tagged_bytes_decode_canonically(
        sequence in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        tree_size in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        root in any::<[u8; 32]>(),
        previous in prop_oneof![Just([0u8; 32]), any::<[u8; 32]>()],
    ) {
        let mut bytes = DOMAIN_TAG.to_vec();
        bytes.extend(sequence.to_be_bytes());
        bytes.extend(tree_size.to_be_bytes());
        bytes.extend(root);
        bytes.extend(previous);
        let valid = tree_size > 0 && ((sequence == 0) == (previous == [0; 32]));
        match BatchHeader::decode(&bytes) {
            Ok(h) => {
                prop_assert!(valid);
                prop_assert_eq!(h.encode(), bytes);
            }
            Err(_) => prop_assert!(!valid),
        }
    }

    #[test]
    fn arbitrary_json_never_panics(text in "\\PC{0,300}") {
        let _ = serde_json::from_str::<BatchHeader>(&text);
    }
}
