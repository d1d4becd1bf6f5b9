//! Independent implementations the Merkle tests compare against: a recursive
//! transcription of RFC 9162 and an adapter that lets ct-merkle use sha2.

use cerd_attestation::Sha256Digest;
use sha2::Digest as _;
use std::collections::HashMap;

// ---------------------------------------------------------------------------------
// Reference: RFC 9162 §2.1.1 and §2.1.3.1, transcribed recursively with plain sha2.
// ---------------------------------------------------------------------------------

pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The largest power of two smaller than `n` (n > 1).
pub fn split(n: u64) -> u64 {
    let mut k = 1;
    while k <= (n - 1) / 2 {
        k *= 2;
    }
    k
}

/// The list D of record hashes, with MTH and PATH as RFC 9162 writes them, on
/// sub-lists D[lo:hi]. MTH values are memoized per sub-list, which changes how often a
/// value is computed but not what it is.
pub struct Rfc<'a> {
    d: &'a [[u8; 32]],
    memo: HashMap<(usize, usize), [u8; 32]>,
}

impl<'a> Rfc<'a> {
    pub fn new(d: &'a [[u8; 32]]) -> Self {
        Rfc {
            d,
            memo: HashMap::new(),
        }
    }

    /// MTH(D[lo:hi]) for hi > lo (RFC 9162 §2.1.1):
    /// MTH({d(0)}) = SHA-256(0x00 || d(0)),
    /// MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k < n <= 2k.
    pub fn mth(&mut self, lo: usize, hi: usize) -> [u8; 32] {
        if let Some(h) = self.memo.get(&(lo, hi)) {
            return *h;
        }
        let h = match hi - lo {
            0 => unreachable!("batches are never empty"),
            1 => sha256(&[&[0x00], &self.d[lo]]),
            n => {
                let k = split(n as u64) as usize;
                let left = self.mth(lo, lo + k);
                let right = self.mth(lo + k, hi);
                sha256(&[&[0x01], &left, &right])
            }
        };
        self.memo.insert((lo, hi), h);
        h
    }

    /// PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1): empty for one leaf, else
    /// PATH(m, D[0:k]) : MTH(D[k:n]) for m < k, PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k.
    pub fn path(&mut self, m: usize, lo: usize, hi: usize) -> Vec<[u8; 32]> {
        let n = hi - lo;
        if n == 1 {
            return vec![];
        }
        let k = split(n as u64) as usize;
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }
}

/// The shape of PATH(m, D[n]): for each entry, whether it is the right sibling (true)
/// or the left one. Only numbers, so it works for any size up to `u64::MAX`. Two
/// (index, size) pairs with the same shape combine the same path into the same root.
pub fn rfc_shape(m: u64, n: u64) -> Vec<bool> {
    if n == 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut s = rfc_shape(m, k);
        s.push(true);
        s
    } else {
        let mut s = rfc_shape(m - k, n - k);
        s.push(false);
        s
    }
}

// ---------------------------------------------------------------------------------
// ct-merkle 0.3 runs on digest 0.11; sha2 0.10 is on digest 0.10. Adapt.
// ---------------------------------------------------------------------------------

#[derive(Clone, Default)]
pub struct CtSha256(sha2::Sha256);

impl ct_merkle::digest::HashMarker for CtSha256 {}

impl ct_merkle::digest::OutputSizeUser for CtSha256 {
    type OutputSize = ct_merkle::digest::consts::U32;
}

impl ct_merkle::digest::Update for CtSha256 {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }
}

impl ct_merkle::digest::FixedOutput for CtSha256 {
    fn finalize_into(self, out: &mut ct_merkle::digest::Output<Self>) {
        out.copy_from_slice(&sha2::Digest::finalize(self.0));
    }
}

pub type CtTree = ct_merkle::mem_backed_tree::MemoryBackedTree<CtSha256, [u8; 32]>;

pub fn path_bytes(path: &[Sha256Digest]) -> Vec<u8> {
    path.iter().flat_map(|d| d.0).collect()
}
