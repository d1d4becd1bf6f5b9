//! Certificate signature algorithms and their verification over the exact signed
//! bytes: RSA PKCS#1 v1.5 (RFC 8017 §8.2; OIDs RFC 4055 §5) with SHA-1/256/384/512,
//! RSASSA-PSS with explicit parameters (RFC 4055 §3.1), ECDSA (RFC 5758 §3.2) with
//! SHA-256/384/512 on P-256/P-384/P-521 keys, and ecdsa-with-SHA1 (RFC 3279 §2.2.3). SHA-1
//! is verified only when the caller allows legacy chains.

use std::fmt;

use der::asn1::ObjectIdentifier as Oid;
use rsa::signature::hazmat::PrehashVerifier as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::der::{children, small_uint, strip_leading_zeros, tag, Reader, Tlv};
use super::error::ChainError;
use super::key::PublicKey;

mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const SHA1_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    pub const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    pub const ECDSA_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}

/// A hash function of a signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: Oid) -> Option<Self> {
        match oid {
            oid::SHA1 => Some(Self::Sha1),
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        })
    }
}

/// A certificate's signatureAlgorithm, as far as this verifier understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with the given hash.
    RsaPkcs1(Hash),
    /// RSASSA-PSS with MGF1 (over `mgf1`), `salt_len` bytes of salt, trailer 1.
    RsaPss {
        hash: Hash,
        mgf1: Hash,
        salt_len: u64,
    },
    /// ECDSA with the given hash.
    Ecdsa(Hash),
    /// Anything else: the OID and why it is not supported.
    Unsupported(String),
}

impl SignatureAlgorithm {
    /// Reads an AlgorithmIdentifier TLV. Malformed parameters are `Unsupported`, so a
    /// certificate with an unknown algorithm still parses (and fails when used).
    pub(crate) fn from_tlv(alg: &Tlv<'_>) -> Self {
        match Self::parse(alg) {
            Ok(a) => a,
            Err(e) => Self::Unsupported(e),
        }
    }

    fn parse(alg: &Tlv<'_>) -> Result<Self, String> {
        let mut r = children(alg, "signatureAlgorithm");
        let id = r.expect(tag::OID, "algorithm").map_err(|e| e.to_string())?;
        let id = Oid::from_bytes(id.content).map_err(|e| format!("algorithm OID: {e}"))?;
        let params = if r.is_empty() {
            None
        } else {
            Some(r.next().map_err(|e| e.to_string())?)
        };
        r.finish().map_err(|e| e.to_string())?;
        let null_or_absent = params.is_none_or(|p| p.tag == tag::NULL && p.content.is_empty());
        let simple = |ok: bool, alg: Self| {
            if ok {
                Ok(alg)
            } else {
                Err(format!(
                    "signature algorithm {id} with unexpected parameters"
                ))
            }
        };
        match id {
            oid::SHA1_RSA => simple(null_or_absent, Self::RsaPkcs1(Hash::Sha1)),
            oid::SHA256_RSA => simple(null_or_absent, Self::RsaPkcs1(Hash::Sha256)),
            oid::SHA384_RSA => simple(null_or_absent, Self::RsaPkcs1(Hash::Sha384)),
            oid::SHA512_RSA => simple(null_or_absent, Self::RsaPkcs1(Hash::Sha512)),
            // RFC 5758 §3.2 wants the parameters absent; Intel's OnDie root has NULL.
            oid::ECDSA_SHA1 => simple(null_or_absent, Self::Ecdsa(Hash::Sha1)),
            oid::ECDSA_SHA256 => simple(null_or_absent, Self::Ecdsa(Hash::Sha256)),
            oid::ECDSA_SHA384 => simple(null_or_absent, Self::Ecdsa(Hash::Sha384)),
            oid::ECDSA_SHA512 => simple(null_or_absent, Self::Ecdsa(Hash::Sha512)),
            oid::RSA_PSS => match params {
                Some(p) if p.tag == tag::SEQUENCE => pss_params(&p),
                _ => Err("RSASSA-PSS without explicit parameters".to_owned()),
            },
            other => Err(format!("signature algorithm {other}")),
        }
    }

    /// The hash function, if the algorithm is understood.
    pub fn hash(&self) -> Option<Hash> {
        match self {
            Self::RsaPkcs1(h) | Self::Ecdsa(h) => Some(*h),
            Self::RsaPss { hash, .. } => Some(*hash),
            Self::Unsupported(_) => None,
        }
    }

    /// Whether SHA-1 is involved anywhere (signature hash or PSS mask generation).
    pub fn uses_sha1(&self) -> bool {
        match self {
            Self::RsaPss { hash, mgf1, .. } => *hash == Hash::Sha1 || *mgf1 == Hash::Sha1,
            other => other.hash() == Some(Hash::Sha1),
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RsaPkcs1(h) => write!(f, "RSA PKCS#1 v1.5 with {h}"),
            Self::RsaPss {
                hash,
                mgf1,
                salt_len,
            } => write!(f, "RSASSA-PSS with {hash}, MGF1 {mgf1}, salt {salt_len}"),
            Self::Ecdsa(h) => write!(f, "ECDSA with {h}"),
            Self::Unsupported(what) => f.write_str(what),
        }
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1): `[0]` hashAlgorithm DEFAULT sha1, `[1]`
/// maskGenAlgorithm DEFAULT mgf1SHA1, `[2]` saltLength DEFAULT 20, `[3]` trailerField
/// DEFAULT 1.
fn pss_params(p: &Tlv<'_>) -> Result<SignatureAlgorithm, String> {
    let e = |e: ChainError| e.to_string();
    let mut r = children(p, "RSASSA-PSS-params");
    let mut hash = Hash::Sha1;
    let mut mgf1 = Hash::Sha1;
    let mut salt_len = 20;
    if let Some(h) = r.optional(tag::explicit(0)).map_err(e)? {
        hash = hash_alg(&h)?;
    }
    if let Some(m) = r.optional(tag::explicit(1)).map_err(e)? {
        let mut outer = children(&m, "maskGenAlgorithm");
        let seq = outer.expect(tag::SEQUENCE, "maskGenAlgorithm").map_err(e)?;
        outer.finish().map_err(e)?;
        let mut mr = children(&seq, "maskGenAlgorithm");
        let id = mr.expect(tag::OID, "maskGenAlgorithm").map_err(e)?;
        if Oid::from_bytes(id.content).ok() != Some(oid::MGF1) {
            return Err("RSASSA-PSS mask generation other than MGF1".to_owned());
        }
        let inner = mr.expect(tag::SEQUENCE, "MGF1 hash").map_err(e)?;
        mr.finish().map_err(e)?;
        mgf1 = hash_of_alg_id(&inner)?;
    }
    if let Some(s) = r.optional(tag::explicit(2)).map_err(e)? {
        let mut sr = children(&s, "saltLength");
        let int = sr.expect(tag::INTEGER, "saltLength").map_err(e)?;
        salt_len = small_uint(&int, &sr, "saltLength").map_err(e)?;
        sr.finish().map_err(e)?;
    }
    if let Some(t) = r.optional(tag::explicit(3)).map_err(e)? {
        let mut tr = children(&t, "trailerField");
        let int = tr.expect(tag::INTEGER, "trailerField").map_err(e)?;
        if small_uint(&int, &tr, "trailerField").map_err(e)? != 1 {
            return Err("RSASSA-PSS trailerField other than 1".to_owned());
        }
        tr.finish().map_err(e)?;
    }
    r.finish().map_err(e)?;
    Ok(SignatureAlgorithm::RsaPss {
        hash,
        mgf1,
        salt_len,
    })
}

/// `[n] EXPLICIT HashAlgorithm`.
fn hash_alg(explicit: &Tlv<'_>) -> Result<Hash, String> {
    let mut r = children(explicit, "hashAlgorithm");
    let seq = r
        .expect(tag::SEQUENCE, "hashAlgorithm")
        .map_err(|e| e.to_string())?;
    r.finish().map_err(|e| e.to_string())?;
    hash_of_alg_id(&seq)
}

/// AlgorithmIdentifier of a hash function, parameters NULL or absent.
fn hash_of_alg_id(seq: &Tlv<'_>) -> Result<Hash, String> {
    let mut r = children(seq, "hash AlgorithmIdentifier");
    let id = r.expect(tag::OID, "hash").map_err(|e| e.to_string())?;
    let _null = r.optional(tag::NULL).map_err(|e| e.to_string())?;
    r.finish().map_err(|e| e.to_string())?;
    let id = Oid::from_bytes(id.content).map_err(|e| format!("hash OID: {e}"))?;
    Hash::from_oid(id).ok_or_else(|| format!("hash algorithm {id}"))
}

/// Why one signature check failed, before the caller names the certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigFailure {
    /// The signature does not verify.
    Invalid,
    /// The algorithm or key is not supported, or they do not fit together.
    Unsupported(String),
    /// SHA-1, not allowed.
    Sha1Refused,
}

/// Verifies `signature` over `signed` (the exact signed bytes) with `key`.
pub(crate) fn verify(
    alg: &SignatureAlgorithm,
    key: &PublicKey,
    signed: &[u8],
    signature: &[u8],
    allow_sha1: bool,
) -> Result<(), SigFailure> {
    if alg.uses_sha1() && !allow_sha1 {
        return Err(SigFailure::Sha1Refused);
    }
    let mismatch = || SigFailure::Unsupported(format!("{alg} with a {} key", key.describe()));
    match (alg, key) {
        (SignatureAlgorithm::RsaPkcs1(h), PublicKey::Rsa(k)) => {
            let sig = rsa_signature_bytes(k, signature)?;
            let digest = h.digest(signed);
            let scheme = match h {
                Hash::Sha1 => rsa::Pkcs1v15Sign::new::<Sha1>(),
                Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
            };
            k.verify(scheme, &digest, &sig)
                .map_err(|_| SigFailure::Invalid)
        }
        (
            SignatureAlgorithm::RsaPss {
                hash,
                mgf1,
                salt_len,
            },
            PublicKey::Rsa(k),
        ) => {
            if hash != mgf1 {
                return Err(SigFailure::Unsupported(format!(
                    "{alg} (MGF1 hash differs from the message hash)"
                )));
            }
            let salt = usize::try_from(*salt_len).map_err(|_| mismatch())?;
            let sig = rsa_signature_bytes(k, signature)?;
            let digest = hash.digest(signed);
            let scheme = match hash {
                Hash::Sha1 => rsa::Pss::new_with_salt::<Sha1>(salt),
                Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
                Hash::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
                Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
            };
            k.verify(scheme, &digest, &sig)
                .map_err(|_| SigFailure::Invalid)
        }
        (SignatureAlgorithm::Ecdsa(h), PublicKey::P256(k)) => {
            let (r, s) = ecdsa_scalars::<32>(signature)?;
            let sig =
                p256::ecdsa::Signature::from_scalars(r, s).map_err(|_| SigFailure::Invalid)?;
            k.verify_prehash(&h.digest(signed), &sig)
                .map_err(|_| SigFailure::Invalid)
        }
        (SignatureAlgorithm::Ecdsa(h), PublicKey::P384(k)) => {
            let (r, s) = ecdsa_scalars::<48>(signature)?;
            let sig =
                p384::ecdsa::Signature::from_scalars(r, s).map_err(|_| SigFailure::Invalid)?;
            k.verify_prehash(&h.digest(signed), &sig)
                .map_err(|_| SigFailure::Invalid)
        }
        (SignatureAlgorithm::Ecdsa(h), PublicKey::P521(point)) => {
            let k = p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| SigFailure::Invalid)?;
            let (r, s) = ecdsa_scalars::<66>(signature)?;
            let sig = p521::ecdsa::Signature::from_slice(&[r, s].concat())
                .map_err(|_| SigFailure::Invalid)?;
            k.verify_prehash(&h.digest(signed), &sig)
                .map_err(|_| SigFailure::Invalid)
        }
        (SignatureAlgorithm::Unsupported(what), _) => Err(SigFailure::Unsupported(what.clone())),
        _ => Err(mismatch()),
    }
}

/// The RSA signature as exactly `k.size()` bytes: a signature that lost leading zero
/// bytes is padded back (RFC 8017 §8.2.2 step 1 wants the full length).
fn rsa_signature_bytes(k: &rsa::RsaPublicKey, sig: &[u8]) -> Result<Vec<u8>, SigFailure> {
    let size = rsa::traits::PublicKeyParts::size(k);
    let missing = size.checked_sub(sig.len()).ok_or(SigFailure::Invalid)?;
    let mut out = vec![0u8; missing];
    out.extend_from_slice(sig);
    Ok(out)
}

/// Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3), each
/// integer left-padded to the field size `N` (redundant leading zeros accepted).
fn ecdsa_scalars<const N: usize>(der: &[u8]) -> Result<([u8; N], [u8; N]), SigFailure> {
    let bad = |_| SigFailure::Invalid;
    let mut outer = Reader::new(der, "Ecdsa-Sig-Value");
    let seq = outer
        .expect(tag::SEQUENCE, "Ecdsa-Sig-Value")
        .map_err(bad)?;
    outer.finish().map_err(bad)?;
    let mut r = children(&seq, "Ecdsa-Sig-Value");
    let a = r.expect(tag::INTEGER, "r").map_err(bad)?;
    let b = r.expect(tag::INTEGER, "s").map_err(bad)?;
    r.finish().map_err(bad)?;
    Ok((fixed::<N>(a.content)?, fixed::<N>(b.content)?))
}

fn fixed<const N: usize>(int: &[u8]) -> Result<[u8; N], SigFailure> {
    let digits = strip_leading_zeros(int);
    let start = N.checked_sub(digits.len()).ok_or(SigFailure::Invalid)?;
    let mut out = [0u8; N];
    out.get_mut(start..)
        .ok_or(SigFailure::Invalid)?
        .copy_from_slice(digits);
    Ok(out)
}
