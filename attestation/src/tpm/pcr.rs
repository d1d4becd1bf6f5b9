//! PCR selections and PCR values.
//!
//! - [`PcrSelection`]: TPML_PCR_SELECTION (TPM 2.0 Part 2 §10.9.7), a list of
//!   TPMS_PCR_SELECTION (§10.6.2) `{hash, sizeofSelect, pcrSelect[sizeofSelect]}`, where
//!   bit `i % 8` of byte `i / 8` of `pcrSelect` selects PCR `i`.
//! - [`PcrSelectionSpec`]: the tpm2-tools text form `BANK:i,j,…[+BANK:…]`
//!   (`sha256:15,16+sha1:0`, `sha1:all`).
//! - [`PcrValues`]: values by bank and index, read from a tpm2-tools "values" file (the
//!   digests concatenated in selection order: banks as listed, indices ascending) or
//!   from a bundle's evidence ([`crate::evidence::PcrValues`]), and the PCR digest a
//!   quote covers: `H(value of each selected PCR, in selection order)`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::alg::HashAlg;
use super::reader::{ParseError, ParseErrorKind, Reader};

/// Highest PCR index a selection here may name: 4 bytes of bitmap.
pub const MAX_PCR_INDEX: u8 = 31;

/// Largest `sizeofSelect` accepted (32 PCRs).
const MAX_SELECT_BYTES: u8 = 4;

/// The bitmap bit of PCR `index` (0 above [`MAX_PCR_INDEX`]).
fn bit(index: u8) -> u32 {
    1u32.checked_shl(u32::from(index)).unwrap_or(0)
}

/// At most this many banks in one TPML_PCR_SELECTION (TPM2_NUM_PCR_BANKS in the TSS).
pub const MAX_BANKS: u32 = 16;

/// One TPMS_PCR_SELECTION: a bank and the PCRs selected in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankSelection {
    /// The bank (the PCRs' hash algorithm).
    pub hash: HashAlg,
    /// sizeofSelect: bytes in the bitmap as marshalled (3 for 24 PCRs).
    pub size_of_select: u8,
    /// Bit `i` selects PCR `i`.
    pub mask: u32,
}

impl BankSelection {
    /// The selected PCR indices, ascending.
    pub fn indices(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=MAX_PCR_INDEX).filter(|i| self.mask & bit(*i) != 0)
    }
}

/// A TPML_PCR_SELECTION, in the order the TPM received (and hashed) it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PcrSelection {
    /// The banks, in order.
    pub banks: Vec<BankSelection>,
}

impl PcrSelection {
    /// Reads a TPML_PCR_SELECTION: `count` (at most [`MAX_BANKS`]), then that many
    /// TPMS_PCR_SELECTION with known hash algorithms and `sizeofSelect` ≤ 4.
    pub fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        let at = r.offset();
        let count = r.u32(field)?;
        if count > MAX_BANKS {
            return Err(r.error_at(
                field,
                at,
                ParseErrorKind::Invalid {
                    value: u64::from(count),
                    expected: "at most 16 PCR banks",
                },
            ));
        }
        let mut banks = Vec::new();
        for _ in 0..count {
            let hash = super::public::hash_alg(r, field)?;
            let at = r.offset();
            let size_of_select = r.u8(field)?;
            if size_of_select > MAX_SELECT_BYTES {
                return Err(r.error_at(
                    field,
                    at,
                    ParseErrorKind::Invalid {
                        value: u64::from(size_of_select),
                        expected: "sizeofSelect of at most 4 (32 PCRs)",
                    },
                ));
            }
            let bitmap = r.take(field, usize::from(size_of_select))?;
            let mut le = [0u8; 4];
            for (dst, src) in le.iter_mut().zip(bitmap) {
                *dst = *src;
            }
            let mask = u32::from_le_bytes(le);
            banks.push(BankSelection {
                hash,
                size_of_select,
                mask,
            });
        }
        Ok(Self { banks })
    }

    /// The marshalled TPML_PCR_SELECTION.
    pub fn encode(&self) -> Vec<u8> {
        let count = u32::try_from(self.banks.len()).unwrap_or(u32::MAX);
        let mut out = count.to_be_bytes().to_vec();
        for b in &self.banks {
            out.extend_from_slice(&b.hash.id().to_be_bytes());
            out.push(b.size_of_select);
            let mask = b.mask.to_le_bytes();
            out.extend(mask.iter().take(usize::from(b.size_of_select)));
        }
        out
    }

    /// Every selected (bank, index), in digest order: banks in list order, indices
    /// ascending within a bank.
    pub fn pcrs(&self) -> impl Iterator<Item = (HashAlg, u8)> + '_ {
        self.banks
            .iter()
            .flat_map(|b| b.indices().map(move |i| (b.hash, i)))
    }

    /// No PCR selected.
    pub fn is_empty(&self) -> bool {
        self.pcrs().next().is_none()
    }
}

impl fmt::Display for PcrSelection {
    /// The tpm2-tools form, `sha256:15,16+sha1:0`; `(none)` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let banks: Vec<String> = self
            .banks
            .iter()
            .map(|b| {
                let idx: Vec<String> = b.indices().map(|i| i.to_string()).collect();
                format!("{}:{}", b.hash, idx.join(","))
            })
            .collect();
        if banks.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&banks.join("+"))
        }
    }
}

impl Serialize for PcrSelection {
    /// `[{"bank": "sha256", "pcrs": [15, 16]}, …]`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Bank {
            bank: HashAlg,
            pcrs: Vec<u8>,
        }
        let mut seq = s.serialize_seq(Some(self.banks.len()))?;
        for b in &self.banks {
            seq.serialize_element(&Bank {
                bank: b.hash,
                pcrs: b.indices().collect(),
            })?;
        }
        seq.end()
    }
}

/// Why a PCR list, a values file or a set of PCR values was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcrError {
    /// The PCR list text is not `BANK:i,j,…[+BANK:…]`.
    #[error("PCR list {spec:?}: {reason}")]
    Spec {
        /// The text.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A values file whose length is not the sum of the selected digests' sizes.
    #[error(
        "PCR values are {found} bytes, but {selection} needs {expected} ({count} PCR digest(s))"
    )]
    ValuesLength {
        /// The selection, tpm2-tools form.
        selection: String,
        /// Bytes needed.
        expected: usize,
        /// Bytes found.
        found: usize,
        /// Digests needed.
        count: usize,
    },
    /// A bank name that is not a hash this verifier computes.
    #[error("unknown PCR bank {0:?}: expected sha1, sha256, sha384 or sha512")]
    Bank(String),
    /// A PCR index that is not a number from 0 to 31.
    #[error("PCR index {0:?} is not a number from 0 to 31")]
    Index(String),
    /// A value that is not hex of the bank's digest size.
    #[error("PCR {bank}:{index}: {reason}")]
    Value {
        /// Bank.
        bank: HashAlg,
        /// Index.
        index: u8,
        /// What is wrong.
        reason: String,
    },
    /// The same PCR given twice.
    #[error("PCR {bank}:{index} is given twice")]
    Duplicate {
        /// Bank.
        bank: HashAlg,
        /// Index.
        index: u8,
    },
}

/// The tpm2-tools PCR list `BANK:i,j,…[+BANK:…]`, e.g. `sha256:15,16+sha1:0`.
///
/// A bank is `sha1`, `sha256`, `sha384`, `sha512` or its TPM_ALG_ID in hex (`0xb`);
/// indices are decimal or `0x` hex from 0 to 31, in any order, or `all` (0 to 23).
/// A bank may appear once. The order of banks is the order of a "values" file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcrSelectionSpec {
    selection: PcrSelection,
}

impl PcrSelectionSpec {
    /// The selection, banks in the order given, each with `sizeofSelect` 3 (4 when an
    /// index above 23 is named), as tpm2-tools would send it.
    pub fn selection(&self) -> &PcrSelection {
        &self.selection
    }
}

impl FromStr for PcrSelectionSpec {
    type Err = PcrError;

    fn from_str(s: &str) -> Result<Self, PcrError> {
        let bad = |reason: String| PcrError::Spec {
            spec: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(bad("is empty".into()));
        }
        let mut banks: Vec<BankSelection> = Vec::new();
        for part in s.split('+') {
            let (bank, list) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("{part:?} has no ':' between bank and PCRs")))?;
            let hash: HashAlg = bank.parse().map_err(|_| PcrError::Bank(bank.into()))?;
            if banks.iter().any(|b| b.hash == hash) {
                return Err(bad(format!("bank {hash} is listed twice")));
            }
            let mut mask = 0u32;
            if list == "all" {
                mask = 0x00ff_ffff;
            } else {
                if list.is_empty() {
                    return Err(bad(format!("bank {hash} names no PCR")));
                }
                for item in list.split(',') {
                    let index = parse_index(item)?;
                    mask |= bit(index);
                }
            }
            let size_of_select = if mask > 0x00ff_ffff { 4 } else { 3 };
            banks.push(BankSelection {
                hash,
                size_of_select,
                mask,
            });
        }
        Ok(Self {
            selection: PcrSelection { banks },
        })
    }
}

impl fmt::Display for PcrSelectionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.selection.fmt(f)
    }
}

fn parse_index(item: &str) -> Result<u8, PcrError> {
    let parsed = match item.strip_prefix("0x") {
        Some(hex) if !hex.is_empty() => u8::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()) => item.parse().ok(),
        None => None,
    };
    parsed
        .filter(|i| *i <= MAX_PCR_INDEX)
        .ok_or_else(|| PcrError::Index(item.to_owned()))
}

/// PCR values by bank and index.
///
/// Not to be confused with [`crate::evidence::PcrValues`], the JSON encoding of one
/// bank's values in a bundle; `PcrValues::try_from(&evidence)` converts it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PcrValues {
    banks: BTreeMap<HashAlg, BTreeMap<u8, Vec<u8>>>,
}

/// Which PCRs a quote covers that no value was given for, and which values were given
/// for PCRs it does not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionMismatch {
    /// Covered by the quote, no value given.
    pub missing: Vec<(HashAlg, u8)>,
    /// Value given, not covered by the quote.
    pub extra: Vec<(HashAlg, u8)>,
}

impl fmt::Display for SelectionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[(HashAlg, u8)]| {
            v.iter()
                .map(|(b, i)| format!("{b}:{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "the quote covers {} but no value was given",
                list(&self.missing)
            ));
        }
        if !self.extra.is_empty() {
            parts.push(format!(
                "values were given for {}, which the quote does not cover",
                list(&self.extra)
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

impl PcrValues {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the value of PCR `index` in `bank`; refuses a wrong size, an index above
    /// [`MAX_PCR_INDEX`] and a PCR given twice.
    pub fn insert(&mut self, bank: HashAlg, index: u8, value: Vec<u8>) -> Result<(), PcrError> {
        if index > MAX_PCR_INDEX {
            return Err(PcrError::Index(index.to_string()));
        }
        if value.len() != bank.size() {
            return Err(PcrError::Value {
                bank,
                index,
                reason: format!("{} bytes, a {bank} value has {}", value.len(), bank.size()),
            });
        }
        let values = self.banks.entry(bank).or_default();
        if values.contains_key(&index) {
            return Err(PcrError::Duplicate { bank, index });
        }
        values.insert(index, value);
        Ok(())
    }

    /// The value of PCR `index` in `bank`.
    pub fn get(&self, bank: HashAlg, index: u8) -> Option<&[u8]> {
        self.banks.get(&bank)?.get(&index).map(Vec::as_slice)
    }

    /// Every (bank, index) with a value.
    pub fn pcrs(&self) -> impl Iterator<Item = (HashAlg, u8)> + '_ {
        self.banks
            .iter()
            .flat_map(|(b, v)| v.keys().map(move |i| (*b, *i)))
    }

    /// Reads a tpm2-tools "values" file (`tpm2_quote -o FILE -F values`,
    /// `tpm2_pcrread -o FILE -F values`): the selected PCRs' digests concatenated in
    /// the order of `spec`, nothing else.
    pub fn from_values_file(spec: &PcrSelectionSpec, bytes: &[u8]) -> Result<Self, PcrError> {
        let selection = spec.selection();
        let (count, expected) = selection
            .pcrs()
            .fold((0usize, 0usize), |(n, len), (bank, _)| {
                (n.saturating_add(1), len.saturating_add(bank.size()))
            });
        if bytes.len() != expected {
            return Err(PcrError::ValuesLength {
                selection: selection.to_string(),
                expected,
                found: bytes.len(),
                count,
            });
        }
        let mut r = Reader::new("PCR values", bytes);
        let mut values = Self::new();
        for (bank, index) in selection.pcrs() {
            let value = r
                .take("digest", bank.size())
                .map_err(|_| PcrError::ValuesLength {
                    selection: selection.to_string(),
                    expected,
                    found: bytes.len(),
                    count,
                })?;
            values.insert(bank, index, value.to_vec())?;
        }
        Ok(values)
    }

    /// The values of `spec`'s PCRs concatenated in its order (a "values" file);
    /// `None` when one is missing.
    pub fn to_values_file(&self, spec: &PcrSelectionSpec) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for (bank, index) in spec.selection().pcrs() {
            out.extend_from_slice(self.get(bank, index)?);
        }
        Some(out)
    }

    /// Whether these values cover exactly the PCRs `selection` selects.
    pub fn matches(&self, selection: &PcrSelection) -> Result<(), SelectionMismatch> {
        let quoted: BTreeSet<(HashAlg, u8)> = selection.pcrs().collect();
        let given: BTreeSet<(HashAlg, u8)> = self.pcrs().collect();
        if quoted == given {
            return Ok(());
        }
        Err(SelectionMismatch {
            missing: quoted.difference(&given).copied().collect(),
            extra: given.difference(&quoted).copied().collect(),
        })
    }

    /// The PCR digest a quote over `selection` signed with a `hash` scheme carries:
    /// `hash(v1 ‖ v2 ‖ …)` over the selected values in selection order (Part 3 §18.4,
    /// TPM2_Quote: the digest uses the hash algorithm of the signing scheme, not the
    /// banks' algorithms). Fails when a selected value is missing.
    pub fn digest(
        &self,
        selection: &PcrSelection,
        hash: HashAlg,
    ) -> Result<Vec<u8>, SelectionMismatch> {
        self.matches(selection)?;
        let values: Option<Vec<&[u8]>> = selection
            .pcrs()
            .map(|(bank, index)| self.get(bank, index))
            .collect();
        let values = values.ok_or_else(|| SelectionMismatch {
            missing: Vec::new(),
            extra: Vec::new(),
        })?;
        Ok(hash.digest_parts(values))
    }
}

impl TryFrom<&crate::evidence::PcrValues> for PcrValues {
    type Error = PcrError;

    /// A bundle's `tpm.pcrs`: bank name, decimal index strings, lowercase hex values.
    fn try_from(ev: &crate::evidence::PcrValues) -> Result<Self, PcrError> {
        let bank = HashAlg::ALL
            .into_iter()
            .find(|a| a.name() == ev.bank)
            .ok_or_else(|| PcrError::Bank(ev.bank.clone()))?;
        let mut values = Self::new();
        for (index, value) in &ev.values {
            let canonical = index.parse::<u8>().ok().filter(|i| i.to_string() == *index);
            let index = canonical
                .filter(|i| *i <= MAX_PCR_INDEX)
                .ok_or_else(|| PcrError::Index(index.clone()))?;
            let lower = value.bytes().all(|b| !b.is_ascii_uppercase());
            let bytes =
                hex::decode(value)
                    .ok()
                    .filter(|_| lower)
                    .ok_or_else(|| PcrError::Value {
                        bank,
                        index,
                        reason: "not lowercase hex".into(),
                    })?;
            values.insert(bank, index, bytes)?;
        }
        Ok(values)
    }
}

/// A selection of one bank, for tests and callers building quotes' expectations.
pub fn single_bank(hash: HashAlg, indices: &[u8]) -> PcrSelection {
    let mask = indices
        .iter()
        .filter(|i| **i <= MAX_PCR_INDEX)
        .fold(0u32, |m, i| m | bit(*i));
    PcrSelection {
        banks: vec![BankSelection {
            hash,
            size_of_select: if mask > 0x00ff_ffff { 4 } else { 3 },
            mask,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> PcrSelectionSpec {
        s.parse().unwrap()
    }

    #[test]
    fn spec_parses_banks_in_order_and_indices_as_bitmaps() {
        let s = spec("sha256:16,15,15+sha1:0+0x0c:all");
        assert_eq!(s.to_string(), "sha256:15,16+sha1:0+sha384:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23");
        let pcrs: Vec<_> = s.selection().pcrs().take(4).collect();
        assert_eq!(
            pcrs,
            [
                (HashAlg::Sha256, 15),
                (HashAlg::Sha256, 16),
                (HashAlg::Sha1, 0),
                (HashAlg::Sha384, 0)
            ]
        );
        assert_eq!(
            s.selection().encode()[..11],
            [0, 0, 0, 3, 0, 0x0b, 3, 0x00, 0x80, 0x01, 0]
        );
        assert_eq!(spec("sha256:0x1f").selection().banks[0].size_of_select, 4);
    }

    #[test]
    fn spec_refuses_what_it_cannot_mean() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            "md5:1",
            "sha256:32",
            "sha256:-1",
            "sha256:1,,2",
            "sha256:1+sha256:2",
            "sha256:0x",
            "sha256: 1",
            "sha256:1+",
        ] {
            assert!(bad.parse::<PcrSelectionSpec>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn selection_round_trips_and_refuses_truncation_and_junk() {
        let sel = spec("sha256:15,16,22+sha1:0,23").selection().clone();
        let bytes = sel.encode();
        let mut r = Reader::new("TPML_PCR_SELECTION", &bytes);
        assert_eq!(PcrSelection::read(&mut r, "pcrSelect").unwrap(), sel);
        r.finish().unwrap();
        for cut in 0..bytes.len() {
            let mut r = Reader::new("TPML_PCR_SELECTION", &bytes[..cut]);
            let e = PcrSelection::read(&mut r, "pcrSelect").unwrap_err();
            assert!(
                matches!(e.kind, ParseErrorKind::Truncated { .. }),
                "cut {cut}: {e}"
            );
        }
        let mut too_many = bytes.clone();
        too_many[3] = 17;
        too_many[0] = 0;
        let e = PcrSelection::read(&mut Reader::new("T", &too_many), "p").unwrap_err();
        assert!(matches!(e.kind, ParseErrorKind::Invalid { value: 17, .. }));
        let mut wide = bytes.clone();
        wide[6] = 5;
        let e = PcrSelection::read(&mut Reader::new("T", &wide), "p").unwrap_err();
        assert_eq!(e.offset, 6);
        let mut sm3 = bytes;
        sm3[5] = 0x12;
        let e = PcrSelection::read(&mut Reader::new("T", &sm3), "p").unwrap_err();
        assert_eq!(
            (e.offset, e.kind),
            (4, ParseErrorKind::Unsupported { value: 0x12 })
        );
    }

    #[test]
    fn values_file_is_digests_in_spec_order() {
        let s = spec("sha256:16,15+sha1:3");
        let mut file = vec![0xaa; 32]; // PCR 15
        file.extend([0xbb; 32]); // PCR 16
        file.extend([0xcc; 20]); // sha1 PCR 3
        let v = PcrValues::from_values_file(&s, &file).unwrap();
        assert_eq!(v.get(HashAlg::Sha256, 15), Some(&[0xaa; 32][..]));
        assert_eq!(v.get(HashAlg::Sha256, 16), Some(&[0xbb; 32][..]));
        assert_eq!(v.get(HashAlg::Sha1, 3), Some(&[0xcc; 20][..]));
        assert_eq!(v.to_values_file(&s), Some(file.clone()));
        for len in [0, file.len() - 1, file.len() + 1] {
            let mut f = file.clone();
            f.resize(len, 0);
            let e = PcrValues::from_values_file(&s, &f).unwrap_err();
            assert!(
                matches!(
                    e,
                    PcrError::ValuesLength {
                        expected: 84,
                        count: 3,
                        ..
                    }
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn digest_is_over_selection_order_with_the_given_hash() {
        let s = spec("sha256:16,15+sha1:3");
        let mut v = PcrValues::new();
        v.insert(HashAlg::Sha1, 3, vec![3; 20]).unwrap();
        v.insert(HashAlg::Sha256, 16, vec![16; 32]).unwrap();
        v.insert(HashAlg::Sha256, 15, vec![15; 32]).unwrap();
        let concat = [vec![15; 32], vec![16; 32], vec![3; 20]].concat();
        assert_eq!(
            v.digest(s.selection(), HashAlg::Sha384).unwrap(),
            HashAlg::Sha384.digest(&concat)
        );
        let e = v
            .digest(spec("sha256:15,17").selection(), HashAlg::Sha256)
            .unwrap_err();
        assert_eq!(e.missing, [(HashAlg::Sha256, 17)]);
        assert_eq!(e.extra, [(HashAlg::Sha1, 3), (HashAlg::Sha256, 16)]);
        assert!(e.to_string().contains("sha256:17"));
        assert!(
            v.insert(HashAlg::Sha1, 3, vec![3; 20]).is_err(),
            "duplicate"
        );
        assert!(v.insert(HashAlg::Sha1, 4, vec![3; 32]).is_err(), "size");
        assert!(v.insert(HashAlg::Sha1, 32, vec![3; 20]).is_err(), "index");
    }

    #[test]
    fn evidence_values_convert_strictly() {
        let mut ev = crate::evidence::PcrValues::sha256(&[(15, [0xab; 32]), (16, [1; 32])]);
        let v = PcrValues::try_from(&ev).unwrap();
        assert_eq!(v.get(HashAlg::Sha256, 15), Some(&[0xab; 32][..]));
        ev.values.insert("015".into(), hex::encode([0; 32]));
        assert_eq!(PcrValues::try_from(&ev), Err(PcrError::Index("015".into())));
        let mut ev = crate::evidence::PcrValues::sha256(&[(15, [0xab; 32])]);
        ev.values.insert("15".into(), "AB".repeat(32));
        assert!(matches!(
            PcrValues::try_from(&ev),
            Err(PcrError::Value { .. })
        ));
        ev.bank = "sm3_256".into();
        assert!(matches!(PcrValues::try_from(&ev), Err(PcrError::Bank(_))));
    }
}
