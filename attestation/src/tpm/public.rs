//! Public areas of keys: TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4) and TPM2B_PUBLIC
//! (§12.2.5), for RSA and ECC keys.
//!
//! ```text
//! TPMT_PUBLIC
//!   type               TPMI_ALG_PUBLIC    TPM_ALG_RSA | TPM_ALG_ECC
//!   nameAlg            TPMI_ALG_HASH
//!   objectAttributes   TPMA_OBJECT        (§8.3)
//!   authPolicy         TPM2B_DIGEST       empty or nameAlg-sized
//!   parameters         TPMS_RSA_PARMS     symmetric, scheme, keyBits, exponent  (§12.2.3.5)
//!                    | TPMS_ECC_PARMS     symmetric, scheme, curveID, kdf       (§12.2.3.6)
//!   unique             TPM2B_PUBLIC_KEY_RSA (modulus) | TPMS_ECC_POINT (x, y)
//! ```
//!
//! This is the crate's one parser of public areas; the exact bytes are kept, because a
//! key's [`Name`] is the digest of them.

use std::fmt;
use std::ops::BitOr;

use serde::{Serialize, Serializer};

use super::alg::{id, EccCurve, HashAlg};
use super::name::Name;
use super::reader::{ParseError, ParseErrorKind, Reader};

/// TPMA_OBJECT (Part 2 §8.3): what an object may be used for and how.
///
/// Bits the specification reserves must be clear; the parser refuses them, as a TPM
/// refuses to create such an object (TPM_RC_RESERVED_BITS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectAttributes(u32);

impl ObjectAttributes {
    /// The hierarchy of the object cannot change (it never leaves this TPM).
    pub const FIXED_TPM: Self = Self(1 << 1);
    /// Saved contexts of this object cannot be loaded after a TPM Reset/Restart.
    pub const ST_CLEAR: Self = Self(1 << 2);
    /// The parent of the object cannot change.
    pub const FIXED_PARENT: Self = Self(1 << 4);
    /// The TPM generated the sensitive part when the object was created.
    pub const SENSITIVE_DATA_ORIGIN: Self = Self(1 << 5);
    /// User-role actions may be authorized with the auth value.
    pub const USER_WITH_AUTH: Self = Self(1 << 6);
    /// Admin-role actions need a policy session.
    pub const ADMIN_WITH_POLICY: Self = Self(1 << 7);
    /// The object is bound to the firmware (Part 2 rev 1.59).
    pub const FIRMWARE_LIMITED: Self = Self(1 << 8);
    /// The object is bound to the firmware SVN (Part 2 rev 1.59).
    pub const SVN_LIMITED: Self = Self(1 << 9);
    /// Not subject to dictionary-attack protection.
    pub const NO_DA: Self = Self(1 << 10);
    /// Duplication needs an inner wrapper.
    pub const ENCRYPTED_DUPLICATION: Self = Self(1 << 11);
    /// The key only signs or decrypts structures it knows the format of: a restricted
    /// signing key refuses to sign a digest of data that starts with
    /// TPM_GENERATED_VALUE unless the TPM produced the data (Part 1 §25.2).
    pub const RESTRICTED: Self = Self(1 << 16);
    /// The key may decrypt.
    pub const DECRYPT: Self = Self(1 << 17);
    /// The key may sign (or, for a symmetric key, encrypt).
    pub const SIGN_ENCRYPT: Self = Self(1 << 18);
    /// The key may sign X.509 certificates (TPM2_CertifyX509).
    pub const X509_SIGN: Self = Self(1 << 19);

    const NAMES: [(Self, &'static str); 14] = [
        (Self::FIXED_TPM, "fixedTPM"),
        (Self::ST_CLEAR, "stClear"),
        (Self::FIXED_PARENT, "fixedParent"),
        (Self::SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
        (Self::USER_WITH_AUTH, "userWithAuth"),
        (Self::ADMIN_WITH_POLICY, "adminWithPolicy"),
        (Self::FIRMWARE_LIMITED, "firmwareLimited"),
        (Self::SVN_LIMITED, "svnLimited"),
        (Self::NO_DA, "noDA"),
        (Self::ENCRYPTED_DUPLICATION, "encryptedDuplication"),
        (Self::RESTRICTED, "restricted"),
        (Self::DECRYPT, "decrypt"),
        (Self::SIGN_ENCRYPT, "sign"),
        (Self::X509_SIGN, "x509sign"),
    ];

    /// Every bit the specification defines.
    const DEFINED: u32 = 0x000F_0FF6;

    /// The attributes from their bits; `None` when a reserved bit is set.
    pub fn from_bits(bits: u32) -> Option<Self> {
        (bits & !Self::DEFINED == 0).then_some(Self(bits))
    }

    /// No attribute set.
    pub fn empty() -> Self {
        Self(0)
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether every attribute of `other` is set here.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The names (as Part 2 spells them) of the attributes set, lowest bit first.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(a, _)| self.contains(*a))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl BitOr for ObjectAttributes {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Display for ObjectAttributes {
    /// `fixedTPM|fixedParent|…`, as tpm2-tools prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join("|"))
    }
}

impl Serialize for ObjectAttributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A block cipher of TPMT_SYM_DEF_OBJECT (Part 2 §11.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymAlg {
    /// TPM_ALG_AES.
    Aes,
    /// TPM_ALG_SM4.
    Sm4,
    /// TPM_ALG_CAMELLIA.
    Camellia,
}

/// A block cipher mode (TPMI_ALG_SYM_MODE, Part 2 §9.31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymMode {
    /// TPM_ALG_CTR.
    Ctr,
    /// TPM_ALG_OFB.
    Ofb,
    /// TPM_ALG_CBC.
    Cbc,
    /// TPM_ALG_CFB (the mode storage keys use to protect their children).
    Cfb,
    /// TPM_ALG_ECB.
    Ecb,
    /// TPM_ALG_NULL.
    Null,
}

/// A non-NULL TPMT_SYM_DEF_OBJECT: the symmetric algorithm of a storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SymDef {
    /// The cipher.
    pub algorithm: SymAlg,
    /// 128, 192 or 256.
    pub key_bits: u16,
    /// The mode.
    pub mode: SymMode,
}

/// TPMT_RSA_SCHEME / TPMT_ECC_SCHEME (Part 2 §11.2.4, §11.2.5): the scheme a key is
/// restricted to, with its hash algorithm. `Null` lets the caller choose per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "scheme", content = "hash", rename_all = "lowercase")]
pub enum KeyScheme {
    /// TPM_ALG_NULL.
    Null,
    /// RSASSA-PKCS1-v1_5 signatures.
    Rsassa(HashAlg),
    /// RSASSA-PSS signatures.
    Rsapss(HashAlg),
    /// RSAES-PKCS1-v1_5 encryption.
    Rsaes,
    /// RSAES-OAEP encryption.
    Oaep(HashAlg),
    /// ECDSA signatures.
    Ecdsa(HashAlg),
    /// ECDH key exchange.
    Ecdh(HashAlg),
    /// ECDAA signatures (with a commit counter).
    Ecdaa(HashAlg),
    /// SM2 signatures.
    Sm2(HashAlg),
    /// EC-Schnorr signatures.
    Ecschnorr(HashAlg),
    /// ECMQV key exchange.
    Ecmqv(HashAlg),
}

/// TPMT_KDF_SCHEME (Part 2 §11.2.3.3) of an ECC key, when not NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "scheme", content = "hash", rename_all = "snake_case")]
pub enum Kdf {
    /// TPM_ALG_MGF1.
    Mgf1(HashAlg),
    /// TPM_ALG_KDF1_SP800_56A.
    Kdf1Sp800_56a(HashAlg),
    /// TPM_ALG_KDF2.
    Kdf2(HashAlg),
    /// TPM_ALG_KDF1_SP800_108.
    Kdf1Sp800_108(HashAlg),
}

/// The asymmetric key: RSA parameters and modulus, or an ECC curve and point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// TPMS_RSA_PARMS.keyBits/exponent and TPM2B_PUBLIC_KEY_RSA.
    Rsa {
        /// 1024, 2048, 3072 or 4096.
        key_bits: u16,
        /// The exponent as marshalled; 0 means the default, 65537.
        exponent: u32,
        /// The modulus, big-endian, exactly `key_bits / 8` bytes.
        modulus: Vec<u8>,
    },
    /// TPMS_ECC_PARMS.curveID/kdf and TPMS_ECC_POINT.
    Ecc {
        /// The curve.
        curve: EccCurve,
        /// The key derivation function, when not NULL.
        kdf: Option<Kdf>,
        /// x, left-padded with zeros to the curve size.
        x: Vec<u8>,
        /// y, left-padded with zeros to the curve size.
        y: Vec<u8>,
    },
}

/// A parsed TPMT_PUBLIC of an RSA or ECC key, with its exact marshalled bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TpmPublic {
    /// The algorithm of the name, and of the authPolicy.
    pub name_alg: HashAlg,
    /// TPMA_OBJECT.
    pub attributes: ObjectAttributes,
    /// The policy digest (empty, or `name_alg.size()` bytes).
    pub auth_policy: Vec<u8>,
    /// The symmetric algorithm of a storage key; `None` when TPM_ALG_NULL.
    pub symmetric: Option<SymDef>,
    /// The scheme the key is restricted to.
    pub scheme: KeyScheme,
    /// The key itself.
    pub key: PublicKey,
    tpmt: Vec<u8>,
}

/// The exponent TPMS_RSA_PARMS.exponent = 0 stands for (Part 2 §12.2.3.5).
pub const DEFAULT_RSA_EXPONENT: u32 = 65537;

impl TpmPublic {
    /// Parses a marshalled TPM2B_PUBLIC (UINT16 size, then TPMT_PUBLIC), refusing any
    /// byte after it or a size that does not match the TPMT_PUBLIC.
    pub fn from_tpm2b(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new("TPM2B_PUBLIC", bytes);
        let inner = r.tpm2b_sub("size", "TPMT_PUBLIC")?;
        r.finish()?;
        Self::read(inner)
    }

    /// Parses a marshalled TPMT_PUBLIC that fills `bytes` exactly.
    pub fn from_tpmt(bytes: &[u8]) -> Result<Self, ParseError> {
        Self::read(Reader::new("TPMT_PUBLIC", bytes))
    }

    fn read(mut r: Reader<'_>) -> Result<Self, ParseError> {
        let at = r.offset();
        let ty = r.u16("type")?;
        if ty != id::RSA && ty != id::ECC {
            return Err(r.error_at("type", at, unsupported(ty)));
        }
        let name_alg = hash_alg(&mut r, "nameAlg")?;
        let at = r.offset();
        let bits = r.u32("objectAttributes")?;
        let attributes = ObjectAttributes::from_bits(bits).ok_or_else(|| {
            r.error_at(
                "objectAttributes",
                at,
                ParseErrorKind::Invalid {
                    value: u64::from(bits),
                    expected: "no reserved TPMA_OBJECT bit set",
                },
            )
        })?;
        let at = r.offset();
        let auth_policy = r.tpm2b("authPolicy")?.to_vec();
        if !auth_policy.is_empty() && auth_policy.len() != name_alg.size() {
            return Err(r.error_at(
                "authPolicy",
                at,
                ParseErrorKind::Length {
                    expected: name_alg.size(),
                    found: auth_policy.len(),
                },
            ));
        }
        let symmetric = sym_def(&mut r)?;
        let (scheme, key) = if ty == id::RSA {
            let scheme = scheme(&mut r, "parameters.rsaDetail.scheme", true)?;
            let at = r.offset();
            let key_bits = r.u16("parameters.rsaDetail.keyBits")?;
            if ![1024, 2048, 3072, 4096].contains(&key_bits) {
                return Err(r.error_at(
                    "parameters.rsaDetail.keyBits",
                    at,
                    ParseErrorKind::Invalid {
                        value: u64::from(key_bits),
                        expected: "1024, 2048, 3072 or 4096",
                    },
                ));
            }
            let exponent = r.u32("parameters.rsaDetail.exponent")?;
            let at = r.offset();
            let modulus = r.tpm2b("unique.rsa")?.to_vec();
            let expected = usize::from(key_bits / 8);
            if modulus.len() != expected {
                return Err(r.error_at(
                    "unique.rsa",
                    at,
                    ParseErrorKind::Length {
                        expected,
                        found: modulus.len(),
                    },
                ));
            }
            let key = PublicKey::Rsa {
                key_bits,
                exponent,
                modulus,
            };
            (scheme, key)
        } else {
            let scheme = scheme(&mut r, "parameters.eccDetail.scheme", false)?;
            let at = r.offset();
            let curve_id = r.u16("parameters.eccDetail.curveID")?;
            let curve = EccCurve::from_id(curve_id).ok_or_else(|| {
                r.error_at("parameters.eccDetail.curveID", at, unsupported(curve_id))
            })?;
            let kdf = kdf(&mut r)?;
            let x = coordinate(&mut r, "unique.ecc.x", curve)?;
            let y = coordinate(&mut r, "unique.ecc.y", curve)?;
            (scheme, PublicKey::Ecc { curve, kdf, x, y })
        };
        let tpmt = r.consumed();
        r.finish()?;
        Ok(Self {
            name_alg,
            attributes,
            auth_policy,
            symmetric,
            scheme,
            key,
            tpmt: tpmt.to_vec(),
        })
    }

    /// The marshalled TPMT_PUBLIC, exactly as parsed.
    pub fn tpmt_bytes(&self) -> &[u8] {
        &self.tpmt
    }

    /// The marshalled TPM2B_PUBLIC.
    pub fn tpm2b_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.tpmt.len().saturating_add(2));
        // A parsed TPMT_PUBLIC is far below 64 KiB: its largest form (RSA-4096 with a
        // SHA-512 policy) is under 600 bytes.
        let len = u16::try_from(self.tpmt.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.tpmt);
        out
    }

    /// The key's name: `nameAlg || H_nameAlg(TPMT_PUBLIC)` (Part 1 §16).
    pub fn name(&self) -> Name {
        Name::of_public(self.name_alg, &self.tpmt)
    }

    /// The RSA exponent with 0 read as 65537; `None` for ECC keys.
    pub fn rsa_exponent(&self) -> Option<u32> {
        match self.key {
            PublicKey::Rsa { exponent: 0, .. } => Some(DEFAULT_RSA_EXPONENT),
            PublicKey::Rsa { exponent, .. } => Some(exponent),
            PublicKey::Ecc { .. } => None,
        }
    }

    /// A short description: `RSA-2048`, `ECC NIST P-256`.
    pub fn describe(&self) -> String {
        match &self.key {
            PublicKey::Rsa { key_bits, .. } => format!("RSA-{key_bits}"),
            PublicKey::Ecc { curve, .. } => format!("ECC {curve}"),
        }
    }
}

fn unsupported(value: u16) -> ParseErrorKind {
    ParseErrorKind::Unsupported {
        value: u32::from(value),
    }
}

/// A TPMI_ALG_HASH this crate computes.
pub(crate) fn hash_alg(r: &mut Reader<'_>, field: &'static str) -> Result<HashAlg, ParseError> {
    let at = r.offset();
    let value = r.u16(field)?;
    HashAlg::from_id(value).ok_or_else(|| r.error_at(field, at, unsupported(value)))
}

/// TPMT_SYM_DEF_OBJECT: NULL, or a block cipher with key size and mode.
fn sym_def(r: &mut Reader<'_>) -> Result<Option<SymDef>, ParseError> {
    const FIELD: &str = "parameters.symmetric.algorithm";
    let at = r.offset();
    let algorithm = match r.u16(FIELD)? {
        id::NULL => return Ok(None),
        id::AES => SymAlg::Aes,
        id::SM4 => SymAlg::Sm4,
        id::CAMELLIA => SymAlg::Camellia,
        other => return Err(r.error_at(FIELD, at, unsupported(other))),
    };
    let at = r.offset();
    let key_bits = r.u16("parameters.symmetric.keyBits")?;
    if ![128, 192, 256].contains(&key_bits) {
        return Err(r.error_at(
            "parameters.symmetric.keyBits",
            at,
            ParseErrorKind::Invalid {
                value: u64::from(key_bits),
                expected: "128, 192 or 256",
            },
        ));
    }
    let at = r.offset();
    let mode = match r.u16("parameters.symmetric.mode")? {
        id::CTR => SymMode::Ctr,
        id::OFB => SymMode::Ofb,
        id::CBC => SymMode::Cbc,
        id::CFB => SymMode::Cfb,
        id::ECB => SymMode::Ecb,
        id::NULL => SymMode::Null,
        other => return Err(r.error_at("parameters.symmetric.mode", at, unsupported(other))),
    };
    Ok(Some(SymDef {
        algorithm,
        key_bits,
        mode,
    }))
}

/// TPMT_RSA_SCHEME (`rsa`) or TPMT_ECC_SCHEME: a selector valid for the key type and
/// its details (a hash; ECDAA adds a UINT16 count, which is read and not kept).
fn scheme(r: &mut Reader<'_>, field: &'static str, rsa: bool) -> Result<KeyScheme, ParseError> {
    let at = r.offset();
    let selector = r.u16(field)?;
    let scheme = match (selector, rsa) {
        (id::NULL, _) => KeyScheme::Null,
        (id::RSAES, true) => KeyScheme::Rsaes,
        (id::RSASSA, true) => KeyScheme::Rsassa(hash_alg(r, field)?),
        (id::RSAPSS, true) => KeyScheme::Rsapss(hash_alg(r, field)?),
        (id::OAEP, true) => KeyScheme::Oaep(hash_alg(r, field)?),
        (id::ECDSA, false) => KeyScheme::Ecdsa(hash_alg(r, field)?),
        (id::ECDH, false) => KeyScheme::Ecdh(hash_alg(r, field)?),
        (id::ECDAA, false) => {
            let hash = hash_alg(r, field)?;
            r.u16(field)?;
            KeyScheme::Ecdaa(hash)
        }
        (id::SM2, false) => KeyScheme::Sm2(hash_alg(r, field)?),
        (id::ECSCHNORR, false) => KeyScheme::Ecschnorr(hash_alg(r, field)?),
        (id::ECMQV, false) => KeyScheme::Ecmqv(hash_alg(r, field)?),
        (other, _) => return Err(r.error_at(field, at, unsupported(other))),
    };
    Ok(scheme)
}

/// TPMT_KDF_SCHEME: NULL or a KDF with its hash.
fn kdf(r: &mut Reader<'_>) -> Result<Option<Kdf>, ParseError> {
    const FIELD: &str = "parameters.eccDetail.kdf";
    let at = r.offset();
    let kdf = match r.u16(FIELD)? {
        id::NULL => return Ok(None),
        id::MGF1 => Kdf::Mgf1(hash_alg(r, FIELD)?),
        id::KDF1_SP800_56A => Kdf::Kdf1Sp800_56a(hash_alg(r, FIELD)?),
        id::KDF2 => Kdf::Kdf2(hash_alg(r, FIELD)?),
        id::KDF1_SP800_108 => Kdf::Kdf1Sp800_108(hash_alg(r, FIELD)?),
        other => return Err(r.error_at(FIELD, at, unsupported(other))),
    };
    Ok(Some(kdf))
}

/// A TPM2B_ECC_PARAMETER of 1..=curve size bytes, left-padded to the curve size.
fn coordinate(
    r: &mut Reader<'_>,
    field: &'static str,
    curve: EccCurve,
) -> Result<Vec<u8>, ParseError> {
    let at = r.offset();
    let v = r.tpm2b(field)?;
    let size = curve.size();
    if v.is_empty() || v.len() > size {
        return Err(r.error_at(
            field,
            at,
            ParseErrorKind::Length {
                expected: size,
                found: v.len(),
            },
        ));
    }
    let mut out = vec![0u8; size.saturating_sub(v.len())];
    out.extend_from_slice(v);
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An ECC P-256 restricted signing key (cerd's AK template shape) with a point.
    pub(crate) fn ecc_tpmt(x: &[u8], y: &[u8]) -> Vec<u8> {
        let mut t = vec![0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00];
        t.extend_from_slice(&[0x00, 0x10]); // symmetric NULL
        t.extend_from_slice(&[0x00, 0x18, 0x00, 0x0b]); // ECDSA SHA-256
        t.extend_from_slice(&[0x00, 0x03, 0x00, 0x10]); // P-256, kdf NULL
        t.extend_from_slice(&(x.len() as u16).to_be_bytes());
        t.extend_from_slice(x);
        t.extend_from_slice(&(y.len() as u16).to_be_bytes());
        t.extend_from_slice(y);
        t
    }

    /// The TCG EK template L-1 shape (RSA-2048, AES-128-CFB, policy) with a modulus.
    pub(crate) fn rsa_ek_tpmt() -> Vec<u8> {
        let mut t = vec![0x00, 0x01, 0x00, 0x0b, 0x00, 0x03, 0x00, 0xb2, 0x00, 0x20];
        t.extend_from_slice(&[0x83; 32]);
        t.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]); // AES-128-CFB
        t.extend_from_slice(&[0x00, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
        t.extend_from_slice(&[0x01, 0x00]);
        t.extend_from_slice(&[0xc5; 256]);
        t
    }

    fn tpm2b(t: &[u8]) -> Vec<u8> {
        let mut b = (t.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(t);
        b
    }

    #[test]
    fn parses_an_ecc_ak_and_names_it() {
        let t = ecc_tpmt(&[1; 32], &[2; 32]);
        let p = TpmPublic::from_tpmt(&t).unwrap();
        assert_eq!(p.name_alg, HashAlg::Sha256);
        assert!(p.attributes.contains(
            ObjectAttributes::RESTRICTED
                | ObjectAttributes::SIGN_ENCRYPT
                | ObjectAttributes::FIXED_TPM
        ));
        assert_eq!(
            p.attributes.to_string(),
            "fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign"
        );
        assert_eq!(p.scheme, KeyScheme::Ecdsa(HashAlg::Sha256));
        assert_eq!(p.symmetric, None);
        assert_eq!(p.tpmt_bytes(), t.as_slice());
        assert_eq!(p.tpm2b_bytes(), tpm2b(&t));
        assert_eq!(TpmPublic::from_tpm2b(&tpm2b(&t)).unwrap(), p);
        let mut name = vec![0x00, 0x0b];
        name.extend(HashAlg::Sha256.digest(&t));
        assert_eq!(p.name().to_bytes(), name);
        assert_eq!(p.rsa_exponent(), None);
        assert_eq!(p.describe(), "ECC NIST P-256");
    }

    #[test]
    fn parses_an_rsa_ek_template_shape() {
        let p = TpmPublic::from_tpmt(&rsa_ek_tpmt()).unwrap();
        assert_eq!(
            p.symmetric,
            Some(SymDef {
                algorithm: SymAlg::Aes,
                key_bits: 128,
                mode: SymMode::Cfb
            })
        );
        assert!(p
            .attributes
            .contains(ObjectAttributes::RESTRICTED | ObjectAttributes::DECRYPT));
        assert_eq!(p.auth_policy, vec![0x83; 32]);
        assert_eq!(p.rsa_exponent(), Some(65537));
        assert_eq!(p.describe(), "RSA-2048");
    }

    #[test]
    fn short_coordinates_are_padded() {
        let p = TpmPublic::from_tpmt(&ecc_tpmt(&[1; 31], &[2; 32])).unwrap();
        let PublicKey::Ecc { x, .. } = p.key else {
            panic!("not ECC")
        };
        assert_eq!((x.len(), x[0], x[1]), (32, 0, 1));
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        for t in [ecc_tpmt(&[1; 32], &[2; 32]), rsa_ek_tpmt()] {
            for cut in 0..t.len() {
                let e = TpmPublic::from_tpmt(&t[..cut]).unwrap_err();
                assert!(
                    matches!(e.kind, ParseErrorKind::Truncated { .. }),
                    "cut {cut}: {e}"
                );
            }
            let b = tpm2b(&t);
            for cut in 0..b.len() {
                assert!(TpmPublic::from_tpm2b(&b[..cut]).is_err(), "cut {cut}");
            }
            let mut long = t.clone();
            long.push(0);
            let e = TpmPublic::from_tpmt(&long).unwrap_err();
            assert_eq!(e.kind, ParseErrorKind::Trailing { extra: 1 });
            assert_eq!(e.offset, t.len());
            let mut long = tpm2b(&t);
            long.push(0);
            let e = TpmPublic::from_tpm2b(&long).unwrap_err();
            assert_eq!((e.structure, e.offset), ("TPM2B_PUBLIC", t.len() + 2));
            // A size covering one byte more than the TPMT_PUBLIC.
            let e = TpmPublic::from_tpm2b(&tpm2b(&[t.as_slice(), &[0]].concat())).unwrap_err();
            assert_eq!(e.structure, "TPMT_PUBLIC");
            assert_eq!(e.kind, ParseErrorKind::Trailing { extra: 1 });
        }
    }

    #[test]
    fn refuses_unknown_selectors_and_inconsistent_fields() {
        let good = ecc_tpmt(&[1; 32], &[2; 32]);
        let with = |at: usize, bytes: &[u8]| {
            let mut t = good.clone();
            t[at..at + bytes.len()].copy_from_slice(bytes);
            TpmPublic::from_tpmt(&t).unwrap_err()
        };
        let field = |e: ParseError| (e.field, e.offset);
        assert_eq!(field(with(0, &[0x00, 0x25])), ("type", 0)); // symcipher
        assert_eq!(field(with(2, &[0x00, 0x12])), ("nameAlg", 2)); // SM3
        assert_eq!(
            field(with(4, &[0x00, 0x00, 0x00, 0x01])),
            ("objectAttributes", 4)
        );
        assert_eq!(
            field(with(4, &[0x80, 0x00, 0x00, 0x00])),
            ("objectAttributes", 4)
        );
        assert_eq!(
            field(with(10, &[0x00, 0x25])),
            ("parameters.symmetric.algorithm", 10)
        );
        assert_eq!(
            field(with(12, &[0x00, 0x14])), // RSASSA on an ECC key
            ("parameters.eccDetail.scheme", 12)
        );
        assert_eq!(
            field(with(16, &[0x00, 0x05])), // P-521
            ("parameters.eccDetail.curveID", 16)
        );
        assert_eq!(
            field(with(18, &[0x00, 0x07, 0x00])),
            ("parameters.eccDetail.kdf", 20)
        );
        let e = TpmPublic::from_tpmt(&ecc_tpmt(&[1; 33], &[2; 32])).unwrap_err();
        assert_eq!(e.field, "unique.ecc.x");
        assert!(matches!(e.kind, ParseErrorKind::Length { .. }));
        let e = TpmPublic::from_tpmt(&ecc_tpmt(&[], &[2; 32])).unwrap_err();
        assert_eq!(e.field, "unique.ecc.x");
        // An authPolicy that is neither empty nor nameAlg-sized.
        let mut t = rsa_ek_tpmt();
        t[9] = 31;
        t.remove(10);
        let e = TpmPublic::from_tpmt(&t).unwrap_err();
        assert_eq!((e.field, e.offset), ("authPolicy", 8));
        // keyBits 2048 with a 255-byte modulus.
        let mut t = rsa_ek_tpmt();
        let at = t.len() - 258;
        t[at..at + 2].copy_from_slice(&[0x00, 0xff]);
        t.pop();
        let e = TpmPublic::from_tpmt(&t).unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::Length {
                expected: 256,
                found: 255
            }
        );
    }
}
