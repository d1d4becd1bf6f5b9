//! A minimal strict reader for TPM2B_PUBLIC / TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4,
//! §12.2.5), enough for the CA: type, nameAlg, objectAttributes, authPolicy, the
//! RSA or ECC parameters and the unique field. No TPM libraries: the CA builds and
//! runs without the `tpm` feature.
//!
//! Everything goes through one bounded [`Reader`] (`wire`); a short buffer, an
//! unknown selector or trailing bytes is a [`WireError`] naming the field and offset.

use std::fmt;

use sha2::{Digest as _, Sha256, Sha384, Sha512};

pub use super::wire::{Reader, WireError, WireErrorKind};

/// TPM_ALG_ID values (Part 2 §6.3) this reader knows.
pub mod alg {
    pub const RSA: u16 = 0x0001;
    pub const AES: u16 = 0x0006;
    pub const MGF1: u16 = 0x0007;
    pub const SHA256: u16 = 0x000B;
    pub const SHA384: u16 = 0x000C;
    pub const SHA512: u16 = 0x000D;
    pub const NULL: u16 = 0x0010;
    pub const RSASSA: u16 = 0x0014;
    pub const RSAES: u16 = 0x0015;
    pub const RSAPSS: u16 = 0x0016;
    pub const OAEP: u16 = 0x0017;
    pub const ECDSA: u16 = 0x0018;
    pub const ECDH: u16 = 0x0019;
    pub const ECDAA: u16 = 0x001A;
    pub const SM2: u16 = 0x001B;
    pub const ECSCHNORR: u16 = 0x001C;
    pub const ECMQV: u16 = 0x001D;
    pub const KDF1_SP800_56A: u16 = 0x0020;
    pub const KDF2: u16 = 0x0021;
    pub const KDF1_SP800_108: u16 = 0x0022;
    pub const ECC: u16 = 0x0023;
    pub const CFB: u16 = 0x0043;
}

/// TPMI_ALG_HASH for names and KDFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub fn from_id(id: u16) -> Option<Self> {
        match id {
            alg::SHA256 => Some(Self::Sha256),
            alg::SHA384 => Some(Self::Sha384),
            alg::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn id(self) -> u16 {
        match self {
            Self::Sha256 => alg::SHA256,
            Self::Sha384 => alg::SHA384,
            Self::Sha512 => alg::SHA512,
        }
    }

    pub fn size(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        })
    }
}

/// TPMA_OBJECT (Part 2 §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectAttributes(pub u32);

impl ObjectAttributes {
    pub const FIXED_TPM: u32 = 1 << 1;
    pub const FIXED_PARENT: u32 = 1 << 4;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    #[cfg_attr(not(feature = "tpm"), allow(dead_code))]
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    pub const RESTRICTED: u32 = 1 << 16;
    pub const DECRYPT: u32 = 1 << 17;
    pub const SIGN: u32 = 1 << 18;

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    /// The names of `bits` that are clear here.
    pub fn missing(self, bits: &[(u32, &'static str)]) -> Vec<&'static str> {
        bits.iter()
            .filter(|(b, _)| !self.has(*b))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// TPM_ECC_CURVE values (Part 2 §6.4) the CA handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EccCurve {
    P256,
    P384,
}

impl EccCurve {
    /// Bytes in a coordinate.
    pub fn size(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// TPMT_SYM_DEF_OBJECT with a non-NULL algorithm: here only AES in CFB mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymDef {
    /// 128 or 256.
    pub key_bits: u16,
}

/// The asymmetric key: RSA modulus and exponent, or an ECC point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParams {
    /// TPMS_RSA_PARMS + TPM2B_PUBLIC_KEY_RSA. `exponent` 0 means 65537.
    Rsa {
        key_bits: u16,
        exponent: u32,
        modulus: Vec<u8>,
    },
    /// TPMS_ECC_PARMS + TPMS_ECC_POINT, coordinates left-padded to the curve size.
    Ecc {
        curve: EccCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
}

/// A parsed TPMT_PUBLIC with its exact marshalled bytes (for the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmPublic {
    pub name_alg: HashAlg,
    pub attributes: ObjectAttributes,
    pub auth_policy: Vec<u8>,
    /// `None` when the symmetric algorithm is TPM_ALG_NULL.
    pub symmetric: Option<SymDef>,
    /// The signing or encryption scheme (TPM_ALG_NULL when none).
    pub scheme: u16,
    pub key: KeyParams,
    tpmt: Vec<u8>,
}

impl TpmPublic {
    /// Parses a marshalled TPM2B_PUBLIC (u16 size + TPMT_PUBLIC), rejecting any byte
    /// after it.
    pub fn from_tpm2b(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        let inner = r.tpm2b("TPM2B_PUBLIC.size")?;
        r.finish("TPM2B_PUBLIC")?;
        Self::from_tpmt(inner).map_err(|mut e| {
            e.offset = e.offset.saturating_add(2);
            e
        })
    }

    /// Parses a marshalled TPMT_PUBLIC that fills `bytes` exactly.
    pub fn from_tpmt(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        let ty = r.u16("TPMT_PUBLIC.type")?;
        let name_alg_id = r.u16("TPMT_PUBLIC.nameAlg")?;
        let name_alg = HashAlg::from_id(name_alg_id).ok_or(WireError {
            field: "TPMT_PUBLIC.nameAlg",
            offset: 2,
            kind: WireErrorKind::Unsupported { value: name_alg_id },
        })?;
        let attributes = ObjectAttributes(r.u32("TPMT_PUBLIC.objectAttributes")?);
        let auth_policy = r.tpm2b("TPMT_PUBLIC.authPolicy")?.to_vec();
        let symmetric = sym_def(&mut r)?;
        let key;
        let scheme;
        match ty {
            alg::RSA => {
                scheme = scheme_of(&mut r, "TPMS_RSA_PARMS.scheme")?;
                let key_bits = r.u16("TPMS_RSA_PARMS.keyBits")?;
                let exponent = r.u32("TPMS_RSA_PARMS.exponent")?;
                let at = r.offset();
                let modulus = r.tpm2b("TPMT_PUBLIC.unique.rsa")?.to_vec();
                if modulus.len() != usize::from(key_bits / 8) || key_bits % 8 != 0 {
                    return Err(WireError {
                        field: "TPMT_PUBLIC.unique.rsa",
                        offset: at,
                        kind: WireErrorKind::Inconsistent {
                            expected: usize::from(key_bits / 8),
                            found: modulus.len(),
                        },
                    });
                }
                key = KeyParams::Rsa {
                    key_bits,
                    exponent,
                    modulus,
                };
            }
            alg::ECC => {
                scheme = scheme_of(&mut r, "TPMS_ECC_PARMS.scheme")?;
                let curve_id = r.u16("TPMS_ECC_PARMS.curveID")?;
                let curve = match curve_id {
                    0x0003 => EccCurve::P256,
                    0x0004 => EccCurve::P384,
                    other => {
                        return Err(r.error(
                            "TPMS_ECC_PARMS.curveID",
                            WireErrorKind::Unsupported { value: other },
                        ))
                    }
                };
                scheme_of(&mut r, "TPMS_ECC_PARMS.kdf")?;
                let x = coordinate(&mut r, "TPMT_PUBLIC.unique.ecc.x", curve)?;
                let y = coordinate(&mut r, "TPMT_PUBLIC.unique.ecc.y", curve)?;
                key = KeyParams::Ecc { curve, x, y };
            }
            other => {
                return Err(WireError {
                    field: "TPMT_PUBLIC.type",
                    offset: 0,
                    kind: WireErrorKind::Unsupported { value: other },
                })
            }
        }
        r.finish("TPMT_PUBLIC")?;
        Ok(Self {
            name_alg,
            attributes,
            auth_policy,
            symmetric,
            scheme,
            key,
            tpmt: bytes.to_vec(),
        })
    }

    /// The marshalled TPM2B_PUBLIC.
    pub fn tpm2b_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.tpmt.len().saturating_add(2));
        // A TPMT_PUBLIC parsed from a TPM2B is at most u16::MAX bytes.
        let len = u16::try_from(self.tpmt.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.tpmt);
        out
    }

    /// The object's name: nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1 §16).
    pub fn name(&self) -> Vec<u8> {
        let mut name = self.name_alg.id().to_be_bytes().to_vec();
        name.extend_from_slice(&self.name_alg.digest(&self.tpmt));
        name
    }
}

/// TPMT_SYM_DEF_OBJECT: NULL, or AES-128/256 in CFB mode.
fn sym_def(r: &mut Reader<'_>) -> Result<Option<SymDef>, WireError> {
    let algorithm = r.u16("TPMT_SYM_DEF_OBJECT.algorithm")?;
    match algorithm {
        alg::NULL => Ok(None),
        alg::AES => {
            let key_bits = r.u16("TPMT_SYM_DEF_OBJECT.keyBits")?;
            if key_bits != 128 && key_bits != 256 {
                return Err(r.error(
                    "TPMT_SYM_DEF_OBJECT.keyBits",
                    WireErrorKind::Unsupported { value: key_bits },
                ));
            }
            let mode = r.u16("TPMT_SYM_DEF_OBJECT.mode")?;
            if mode != alg::CFB {
                return Err(r.error(
                    "TPMT_SYM_DEF_OBJECT.mode",
                    WireErrorKind::Unsupported { value: mode },
                ));
            }
            Ok(Some(SymDef { key_bits }))
        }
        other => Err(r.error(
            "TPMT_SYM_DEF_OBJECT.algorithm",
            WireErrorKind::Unsupported { value: other },
        )),
    }
}

/// A scheme selector and its details (TPMT_RSA_SCHEME, TPMT_ECC_SCHEME,
/// TPMT_KDF_SCHEME): NULL and RSAES carry nothing, ECDAA a hash and a count, the
/// others one hash algorithm.
fn scheme_of(r: &mut Reader<'_>, field: &'static str) -> Result<u16, WireError> {
    let scheme = r.u16(field)?;
    match scheme {
        alg::NULL | alg::RSAES => {}
        alg::RSASSA
        | alg::RSAPSS
        | alg::OAEP
        | alg::ECDSA
        | alg::ECDH
        | alg::SM2
        | alg::ECSCHNORR
        | alg::ECMQV
        | alg::MGF1
        | alg::KDF1_SP800_56A
        | alg::KDF2
        | alg::KDF1_SP800_108 => {
            r.u16(field)?;
        }
        alg::ECDAA => {
            r.u16(field)?;
            r.u16(field)?;
        }
        other => return Err(r.error(field, WireErrorKind::Unsupported { value: other })),
    }
    Ok(scheme)
}

/// A TPM2B_ECC_PARAMETER of 1..=curve size bytes, left-padded to the curve size.
fn coordinate(
    r: &mut Reader<'_>,
    field: &'static str,
    curve: EccCurve,
) -> Result<Vec<u8>, WireError> {
    let at = r.offset();
    let v = r.tpm2b(field)?;
    let size = curve.size();
    if v.is_empty() || v.len() > size {
        return Err(WireError {
            field,
            offset: at,
            kind: WireErrorKind::Inconsistent {
                expected: size,
                found: v.len(),
            },
        });
    }
    let mut out = vec![0u8; size.saturating_sub(v.len())];
    out.extend_from_slice(v);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TCG EK template L-2 (ECC P-256) with a point, marshalled by hand.
    fn ecc_public(x: &[u8], y: &[u8]) -> Vec<u8> {
        let mut t = vec![0x00, 0x23, 0x00, 0x0b, 0x00, 0x03, 0x00, 0xb2, 0x00, 0x20];
        t.extend_from_slice(&[0x11; 32]);
        t.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]); // AES-128-CFB
        t.extend_from_slice(&[0x00, 0x10, 0x00, 0x03, 0x00, 0x10]); // NULL, P-256, NULL
        t.extend_from_slice(&(x.len() as u16).to_be_bytes());
        t.extend_from_slice(x);
        t.extend_from_slice(&(y.len() as u16).to_be_bytes());
        t.extend_from_slice(y);
        let mut b = (t.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(&t);
        b
    }

    #[test]
    fn parses_an_ecc_ek_and_names_it() {
        let bytes = ecc_public(&[1; 32], &[2; 32]);
        let p = TpmPublic::from_tpm2b(&bytes).unwrap();
        assert_eq!(p.name_alg, HashAlg::Sha256);
        assert!(p
            .attributes
            .has(ObjectAttributes::RESTRICTED | ObjectAttributes::DECRYPT));
        assert_eq!(p.symmetric, Some(SymDef { key_bits: 128 }));
        assert_eq!(p.tpm2b_bytes(), bytes);
        let name = p.name();
        assert_eq!(&name[..2], &[0x00, 0x0b]);
        assert_eq!(&name[2..], Sha256::digest(&bytes[2..]).as_slice());
    }

    #[test]
    fn short_coordinates_are_padded() {
        let p = TpmPublic::from_tpm2b(&ecc_public(&[1; 31], &[2; 32])).unwrap();
        let KeyParams::Ecc { x, .. } = p.key else {
            panic!()
        };
        assert_eq!(x.len(), 32);
        assert_eq!(x[0], 0);
    }

    #[test]
    fn refuses_truncation_and_trailing_bytes() {
        let good = ecc_public(&[1; 32], &[2; 32]);
        for cut in 0..good.len() {
            assert!(TpmPublic::from_tpm2b(&good[..cut]).is_err(), "cut {cut}");
        }
        let mut long = good.clone();
        long.push(0);
        let e = TpmPublic::from_tpm2b(&long).unwrap_err();
        assert!(
            matches!(e.kind, WireErrorKind::Trailing { extra: 1 }),
            "{e}"
        );
        // A size that covers one byte more than the TPMT.
        let mut inner_long = good.clone();
        inner_long.push(0);
        let n = (inner_long.len() - 2) as u16;
        inner_long[..2].copy_from_slice(&n.to_be_bytes());
        let e = TpmPublic::from_tpm2b(&inner_long).unwrap_err();
        assert_eq!(e.field, "TPMT_PUBLIC", "{e}");
    }

    #[test]
    fn refuses_unknown_selectors() {
        let mut b = ecc_public(&[1; 32], &[2; 32]);
        b[3] = 0x25; // symcipher
        assert!(TpmPublic::from_tpm2b(&b)
            .unwrap_err()
            .to_string()
            .contains("type"));
        let mut b = ecc_public(&[1; 32], &[2; 32]);
        b[5] = 0x04; // SHA-1 nameAlg
        assert!(TpmPublic::from_tpm2b(&b)
            .unwrap_err()
            .to_string()
            .contains("nameAlg"));
        let e = TpmPublic::from_tpm2b(&ecc_public(&[1; 33], &[2; 32])).unwrap_err();
        assert!(matches!(e.kind, WireErrorKind::Inconsistent { .. }), "{e}");
    }
}
