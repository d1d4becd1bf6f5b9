//! TPMT_SIGNATURE (TPM 2.0 Part 2 §11.3.4).
//!
//! ```text
//! TPMT_SIGNATURE
//!   sigAlg     TPMI_ALG_SIG_SCHEME
//!   signature  TPMU_SIGNATURE (§11.3.3), selected by sigAlg:
//!     RSASSA, RSAPSS               TPMS_SIGNATURE_RSA {hash, sig TPM2B_PUBLIC_KEY_RSA}  (§11.3.1)
//!     ECDSA, ECDAA, SM2, ECSCHNORR TPMS_SIGNATURE_ECC {hash, signatureR, signatureS}    (§11.3.2)
//!     HMAC                         TPMT_HA {hashAlg, digest[hash size]}                 (§10.3.2)
//!     NULL                         nothing
//! ```

use std::fmt;

use serde::Serialize;

use super::alg::{id, HashAlg};
use super::public::hash_alg;
use super::reader::{ParseError, ParseErrorKind, Reader};

/// Largest TPM2B_PUBLIC_KEY_RSA: an RSA-4096 signature.
const MAX_RSA_BYTES: usize = 512;
/// Largest TPM2B_ECC_PARAMETER: a P-521 scalar.
const MAX_ECC_BYTES: usize = 66;

/// A signature scheme (TPMI_ALG_SIG_SCHEME, Part 2 §11.2.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SigAlg {
    /// RSASSA-PKCS1-v1_5.
    Rsassa,
    /// RSASSA-PSS.
    Rsapss,
    /// ECDSA.
    Ecdsa,
    /// ECDAA.
    Ecdaa,
    /// SM2.
    Sm2,
    /// EC-Schnorr.
    Ecschnorr,
    /// HMAC (a keyed-hash "signature").
    Hmac,
    /// TPM_ALG_NULL: no signature.
    Null,
}

impl fmt::Display for SigAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rsassa => "RSASSA",
            Self::Rsapss => "RSAPSS",
            Self::Ecdsa => "ECDSA",
            Self::Ecdaa => "ECDAA",
            Self::Sm2 => "SM2",
            Self::Ecschnorr => "ECSCHNORR",
            Self::Hmac => "HMAC",
            Self::Null => "NULL",
        })
    }
}

/// A parsed TPMT_SIGNATURE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "sigAlg", rename_all = "lowercase")]
pub enum TpmtSignature {
    /// RSASSA or RSAPSS.
    Rsa {
        /// [`SigAlg::Rsassa`] or [`SigAlg::Rsapss`].
        #[serde(rename = "scheme")]
        alg: SigAlg,
        /// The hash signed.
        hash: HashAlg,
        /// The signature, big-endian, as long as the modulus.
        #[serde(serialize_with = "super::hex_bytes")]
        sig: Vec<u8>,
    },
    /// ECDSA, ECDAA, SM2 or EC-Schnorr.
    Ecc {
        /// The scheme.
        #[serde(rename = "scheme")]
        alg: SigAlg,
        /// The hash signed.
        hash: HashAlg,
        /// r, big-endian, as marshalled.
        #[serde(serialize_with = "super::hex_bytes")]
        r: Vec<u8>,
        /// s, big-endian, as marshalled.
        #[serde(serialize_with = "super::hex_bytes")]
        s: Vec<u8>,
    },
    /// An HMAC.
    Hmac {
        /// The HMAC's hash.
        hash: HashAlg,
        /// The HMAC value.
        #[serde(serialize_with = "super::hex_bytes")]
        digest: Vec<u8>,
    },
    /// No signature (TPM_ALG_NULL): what a TPM returns when asked to attest with no
    /// signing key.
    Null,
}

impl TpmtSignature {
    /// Parses a marshalled TPMT_SIGNATURE that fills `bytes` exactly.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new("TPMT_SIGNATURE", bytes);
        let at = r.offset();
        let sig_alg = r.u16("sigAlg")?;
        let sig = match sig_alg {
            id::RSASSA | id::RSAPSS => {
                let alg = if sig_alg == id::RSASSA {
                    SigAlg::Rsassa
                } else {
                    SigAlg::Rsapss
                };
                Self::Rsa {
                    alg,
                    hash: hash_alg(&mut r, "signature.rsa.hash")?,
                    sig: r.tpm2b_max("signature.rsa.sig", MAX_RSA_BYTES)?.to_vec(),
                }
            }
            id::ECDSA => ecc(&mut r, SigAlg::Ecdsa)?,
            id::ECDAA => ecc(&mut r, SigAlg::Ecdaa)?,
            id::SM2 => ecc(&mut r, SigAlg::Sm2)?,
            id::ECSCHNORR => ecc(&mut r, SigAlg::Ecschnorr)?,
            id::HMAC => {
                let hash = hash_alg(&mut r, "signature.hmac.hashAlg")?;
                let digest = r.take("signature.hmac.digest", hash.size())?.to_vec();
                Self::Hmac { hash, digest }
            }
            id::NULL => Self::Null,
            other => {
                return Err(r.error_at(
                    "sigAlg",
                    at,
                    ParseErrorKind::Unsupported {
                        value: u32::from(other),
                    },
                ))
            }
        };
        r.finish()?;
        Ok(sig)
    }

    /// The signature scheme.
    pub fn alg(&self) -> SigAlg {
        match self {
            Self::Rsa { alg, .. } | Self::Ecc { alg, .. } => *alg,
            Self::Hmac { .. } => SigAlg::Hmac,
            Self::Null => SigAlg::Null,
        }
    }

    /// The hash the scheme signs; `None` for NULL.
    pub fn hash(&self) -> Option<HashAlg> {
        match self {
            Self::Rsa { hash, .. } | Self::Ecc { hash, .. } | Self::Hmac { hash, .. } => {
                Some(*hash)
            }
            Self::Null => None,
        }
    }
}

impl fmt::Display for TpmtSignature {
    /// `RSASSA-SHA256`, `ECDSA-SHA384`, `NULL`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.hash() {
            Some(h) => write!(f, "{}-{}", self.alg(), h.name().to_ascii_uppercase()),
            None => write!(f, "{}", self.alg()),
        }
    }
}

/// TPMS_SIGNATURE_ECC after its scheme.
fn ecc(r: &mut Reader<'_>, alg: SigAlg) -> Result<TpmtSignature, ParseError> {
    Ok(TpmtSignature::Ecc {
        alg,
        hash: hash_alg(r, "signature.ecc.hash")?,
        r: r.tpm2b_max("signature.ecc.signatureR", MAX_ECC_BYTES)?
            .to_vec(),
        s: r.tpm2b_max("signature.ecc.signatureS", MAX_ECC_BYTES)?
            .to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecdsa(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut b = vec![0x00, 0x18, 0x00, 0x0b];
        b.extend((r.len() as u16).to_be_bytes());
        b.extend(r);
        b.extend((s.len() as u16).to_be_bytes());
        b.extend(s);
        b
    }

    fn rsassa() -> Vec<u8> {
        let mut b = vec![0x00, 0x14, 0x00, 0x0c, 0x01, 0x00];
        b.extend([0x77; 256]);
        b
    }

    #[test]
    fn parses_each_form() {
        let s = TpmtSignature::parse(&ecdsa(&[1; 32], &[2; 31])).unwrap();
        assert_eq!(s.to_string(), "ECDSA-SHA256");
        assert!(matches!(&s, TpmtSignature::Ecc { r, s, .. } if r.len() == 32 && s.len() == 31));
        let s = TpmtSignature::parse(&rsassa()).unwrap();
        assert_eq!(s.to_string(), "RSASSA-SHA384");
        assert_eq!(s.hash(), Some(HashAlg::Sha384));
        let mut pss = rsassa();
        pss[1] = 0x16;
        assert_eq!(TpmtSignature::parse(&pss).unwrap().alg(), SigAlg::Rsapss);
        let mut hmac = vec![0x00, 0x05, 0x00, 0x04];
        hmac.extend([9; 20]);
        assert_eq!(
            TpmtSignature::parse(&hmac).unwrap().to_string(),
            "HMAC-SHA1"
        );
        assert_eq!(
            TpmtSignature::parse(&[0x00, 0x10]).unwrap(),
            TpmtSignature::Null
        );
        let json = serde_json::to_value(TpmtSignature::parse(&ecdsa(&[1], &[2])).unwrap()).unwrap();
        assert_eq!(json["sigAlg"], "ecc");
        assert_eq!(json["scheme"], "ecdsa");
        assert_eq!(json["r"], "01");
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        let mut hmac = vec![0x00, 0x05, 0x00, 0x0b];
        hmac.extend([9; 32]);
        for good in [ecdsa(&[1; 32], &[2; 32]), rsassa(), hmac, vec![0x00, 0x10]] {
            for cut in 0..good.len() {
                let e = TpmtSignature::parse(&good[..cut]).unwrap_err();
                assert!(
                    matches!(e.kind, ParseErrorKind::Truncated { .. }),
                    "cut {cut}: {e}"
                );
            }
            let mut long = good.clone();
            long.push(0);
            let e = TpmtSignature::parse(&long).unwrap_err();
            assert_eq!(
                (e.offset, e.kind),
                (good.len(), ParseErrorKind::Trailing { extra: 1 })
            );
        }
    }

    #[test]
    fn refuses_unknown_schemes_hashes_and_oversized_fields() {
        let e = TpmtSignature::parse(&[0x00, 0x01, 0x00, 0x0b]).unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            ("sigAlg", ParseErrorKind::Unsupported { value: 1 })
        );
        let mut sm3 = ecdsa(&[1], &[2]);
        sm3[3] = 0x12;
        assert_eq!(TpmtSignature::parse(&sm3).unwrap_err().offset, 2);
        let e = TpmtSignature::parse(&ecdsa(&[1; 67], &[2])).unwrap_err();
        assert_eq!((e.field, e.offset), ("signature.ecc.signatureR", 4));
    }
}
