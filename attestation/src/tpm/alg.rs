//! Algorithm identifiers: TPM_ALG_ID (TPM 2.0 Part 2 §6.3) and TPM_ECC_CURVE (§6.4),
//! and the hash algorithms this crate computes.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

/// TPM_ALG_ID values (Part 2 §6.3, Table 9) that the parsers here recognize.
pub mod id {
    /// TPM_ALG_RSA.
    pub const RSA: u16 = 0x0001;
    /// TPM_ALG_SHA1.
    pub const SHA1: u16 = 0x0004;
    /// TPM_ALG_HMAC.
    pub const HMAC: u16 = 0x0005;
    /// TPM_ALG_AES.
    pub const AES: u16 = 0x0006;
    /// TPM_ALG_MGF1.
    pub const MGF1: u16 = 0x0007;
    /// TPM_ALG_KEYEDHASH.
    pub const KEYEDHASH: u16 = 0x0008;
    /// TPM_ALG_XOR.
    pub const XOR: u16 = 0x000A;
    /// TPM_ALG_SHA256.
    pub const SHA256: u16 = 0x000B;
    /// TPM_ALG_SHA384.
    pub const SHA384: u16 = 0x000C;
    /// TPM_ALG_SHA512.
    pub const SHA512: u16 = 0x000D;
    /// TPM_ALG_NULL.
    pub const NULL: u16 = 0x0010;
    /// TPM_ALG_SM4.
    pub const SM4: u16 = 0x0013;
    /// TPM_ALG_RSASSA (PKCS#1 v1.5 signatures).
    pub const RSASSA: u16 = 0x0014;
    /// TPM_ALG_RSAES (PKCS#1 v1.5 encryption).
    pub const RSAES: u16 = 0x0015;
    /// TPM_ALG_RSAPSS.
    pub const RSAPSS: u16 = 0x0016;
    /// TPM_ALG_OAEP.
    pub const OAEP: u16 = 0x0017;
    /// TPM_ALG_ECDSA.
    pub const ECDSA: u16 = 0x0018;
    /// TPM_ALG_ECDH.
    pub const ECDH: u16 = 0x0019;
    /// TPM_ALG_ECDAA.
    pub const ECDAA: u16 = 0x001A;
    /// TPM_ALG_SM2.
    pub const SM2: u16 = 0x001B;
    /// TPM_ALG_ECSCHNORR.
    pub const ECSCHNORR: u16 = 0x001C;
    /// TPM_ALG_ECMQV.
    pub const ECMQV: u16 = 0x001D;
    /// TPM_ALG_KDF1_SP800_56A.
    pub const KDF1_SP800_56A: u16 = 0x0020;
    /// TPM_ALG_KDF2.
    pub const KDF2: u16 = 0x0021;
    /// TPM_ALG_KDF1_SP800_108.
    pub const KDF1_SP800_108: u16 = 0x0022;
    /// TPM_ALG_ECC.
    pub const ECC: u16 = 0x0023;
    /// TPM_ALG_SYMCIPHER.
    pub const SYMCIPHER: u16 = 0x0025;
    /// TPM_ALG_CAMELLIA.
    pub const CAMELLIA: u16 = 0x0026;
    /// TPM_ALG_CTR.
    pub const CTR: u16 = 0x0040;
    /// TPM_ALG_OFB.
    pub const OFB: u16 = 0x0041;
    /// TPM_ALG_CBC.
    pub const CBC: u16 = 0x0042;
    /// TPM_ALG_CFB.
    pub const CFB: u16 = 0x0043;
    /// TPM_ALG_ECB.
    pub const ECB: u16 = 0x0044;
}

/// A hash algorithm (TPMI_ALG_HASH, Part 2 §9.27) this crate can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlg {
    /// SHA-1 (legacy banks and schemes).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Every algorithm, in TPM_ALG_ID order.
    pub const ALL: [HashAlg; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    /// The algorithm with this TPM_ALG_ID.
    pub fn from_id(id: u16) -> Option<Self> {
        match id {
            id::SHA1 => Some(Self::Sha1),
            id::SHA256 => Some(Self::Sha256),
            id::SHA384 => Some(Self::Sha384),
            id::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Its TPM_ALG_ID.
    pub fn id(self) -> u16 {
        match self {
            Self::Sha1 => id::SHA1,
            Self::Sha256 => id::SHA256,
            Self::Sha384 => id::SHA384,
            Self::Sha512 => id::SHA512,
        }
    }

    /// Digest size in bytes.
    pub fn size(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The name tpm2-tools uses (`sha1`, `sha256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts([data])
    }

    /// The digest of the concatenation of `parts`, without concatenating them.
    pub fn digest_parts<'a>(self, parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Self::Sha1 => run::<Sha1>(parts),
            Self::Sha256 => run::<Sha256>(parts),
            Self::Sha384 => run::<Sha384>(parts),
            Self::Sha512 => run::<Sha512>(parts),
        }
    }
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown hash algorithm name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash algorithm {0:?}: expected sha1, sha256, sha384 or sha512")]
pub struct UnknownHashAlg(pub String);

impl FromStr for HashAlg {
    type Err = UnknownHashAlg;

    /// `sha1`, `sha256`, `sha384`, `sha512` (any case), or the TPM_ALG_ID in hex as
    /// tpm2-tools also accepts it (`0x0b`, `0xB`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let by_name = Self::ALL.into_iter().find(|a| a.name() == lower);
        let by_id = || {
            let hex = lower.strip_prefix("0x")?;
            u16::from_str_radix(hex, 16).ok().and_then(Self::from_id)
        };
        by_name
            .or_else(by_id)
            .ok_or_else(|| UnknownHashAlg(s.to_owned()))
    }
}

/// A NIST curve (TPM_ECC_CURVE, Part 2 §6.4) this crate verifies signatures on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EccCurve {
    /// TPM_ECC_NIST_P256 (0x0003).
    #[serde(rename = "nist-p256")]
    NistP256,
    /// TPM_ECC_NIST_P384 (0x0004).
    #[serde(rename = "nist-p384")]
    NistP384,
}

impl EccCurve {
    /// The curve with this TPM_ECC_CURVE value.
    pub fn from_id(id: u16) -> Option<Self> {
        match id {
            0x0003 => Some(Self::NistP256),
            0x0004 => Some(Self::NistP384),
            _ => None,
        }
    }

    /// Its TPM_ECC_CURVE value.
    pub fn id(self) -> u16 {
        match self {
            Self::NistP256 => 0x0003,
            Self::NistP384 => 0x0004,
        }
    }

    /// Bytes in a coordinate or a scalar.
    pub fn size(self) -> usize {
        match self {
            Self::NistP256 => 32,
            Self::NistP384 => 48,
        }
    }
}

impl fmt::Display for EccCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NistP256 => "NIST P-256",
            Self::NistP384 => "NIST P-384",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sizes_and_names_round_trip() {
        for a in HashAlg::ALL {
            assert_eq!(HashAlg::from_id(a.id()), Some(a));
            assert_eq!(a.name().parse::<HashAlg>(), Ok(a));
            assert_eq!(a.digest(b"abc").len(), a.size());
        }
        assert_eq!("SHA256".parse::<HashAlg>(), Ok(HashAlg::Sha256));
        assert_eq!("0xb".parse::<HashAlg>(), Ok(HashAlg::Sha256));
        assert_eq!("0x0004".parse::<HashAlg>(), Ok(HashAlg::Sha1));
        assert!("md5".parse::<HashAlg>().is_err());
        assert!("0x12".parse::<HashAlg>().is_err());
        assert_eq!(HashAlg::from_id(id::NULL), None);
    }

    #[test]
    fn digests_match_known_answers() {
        // FIPS 180-2 "abc" test vectors.
        assert_eq!(
            hex::encode(HashAlg::Sha1.digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(HashAlg::Sha256.digest_parts([&b"a"[..], b"", b"bc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn curves() {
        assert_eq!(EccCurve::from_id(3), Some(EccCurve::NistP256));
        assert_eq!(EccCurve::from_id(4).map(EccCurve::size), Some(48));
        assert_eq!(EccCurve::from_id(5), None);
    }
}
