//! The attestation key (AK): its public key from a TPM public area or an X.509
//! SubjectPublicKeyInfo, and verification of TPMT_SIGNATUREs under it.
//!
//! Supported: RSA 2048 to 4096 bits with RSASSA-PKCS1-v1_5 or RSASSA-PSS, and ECDSA on
//! NIST P-256 and P-384, each with SHA-1, SHA-256, SHA-384 or SHA-512 (RFC 8017, FIPS
//! 186-5). A TPM signs `H(message)` with the scheme's hash `H` (Part 1 §11.4.3), so the
//! digest verified is the hash the TPMT_SIGNATURE names.

use std::fmt;

use p256::pkcs8::{AssociatedOid, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use spki::der::Decode;
use spki::SubjectPublicKeyInfoRef;

use super::alg::{EccCurve, HashAlg};
use super::public::{KeyScheme, PublicKey, TpmPublic};
use super::reader::ParseError;
use super::signature::{SigAlg, TpmtSignature};

/// Smallest RSA modulus accepted for an AK.
pub const MIN_RSA_BITS: usize = 2048;

/// How an AK was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AkFormat {
    /// PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `tpm2_readpublic -f pem` writes.
    SpkiPem,
    /// DER SubjectPublicKeyInfo.
    SpkiDer,
    /// TPM2B_PUBLIC (`tpm2_createak -u`, `tpm2_readpublic -o`).
    Tpm2bPublic,
    /// TPMT_PUBLIC without its size.
    TpmtPublic,
}

impl fmt::Display for AkFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SpkiPem => "PEM SubjectPublicKeyInfo",
            Self::SpkiDer => "DER SubjectPublicKeyInfo",
            Self::Tpm2bPublic => "TPM2B_PUBLIC",
            Self::TpmtPublic => "TPMT_PUBLIC",
        })
    }
}

/// Why bytes are not a usable attestation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A TPM public area that does not parse.
    #[error(transparent)]
    Public(#[from] ParseError),
    /// A SubjectPublicKeyInfo (or its PEM) that does not parse, or a key that is not
    /// valid for its algorithm (a point off the curve, an even RSA exponent).
    #[error("{0}")]
    Malformed(String),
    /// A well-formed key of a kind this verifier does not verify signatures with.
    #[error("{0}")]
    Unsupported(String),
    /// Bytes that are none of the accepted formats.
    #[error(
        "not a public key: expected PEM or DER SubjectPublicKeyInfo, TPM2B_PUBLIC or TPMT_PUBLIC"
    )]
    Unrecognized,
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature's scheme cannot come from this key: another key type, or a
    /// scheme or hash other than the one the key is restricted to.
    #[error("{0}")]
    SchemeMismatch(String),
    /// A scheme this verifier does not check (ECDAA, SM2, EC-Schnorr).
    #[error("{0}")]
    Unsupported(String),
    /// The signature does not verify under the key.
    #[error("the signature does not verify under the AK")]
    Invalid,
}

#[derive(Debug, Clone)]
enum Verifier {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

/// A public key that verifies quote signatures, with its TPM public area when known.
#[derive(Debug, Clone)]
pub struct AttestationKey {
    verifier: Verifier,
    public: Option<TpmPublic>,
    spki: Vec<u8>,
}

impl AttestationKey {
    /// The key of a TPM public area (its scheme, when not NULL, restricts the
    /// signatures accepted).
    pub fn from_public(public: TpmPublic) -> Result<Self, KeyError> {
        let verifier = match &public.key {
            PublicKey::Rsa { modulus, .. } => {
                let e = public
                    .rsa_exponent()
                    .unwrap_or(super::public::DEFAULT_RSA_EXPONENT);
                let key = RsaPublicKey::new(BigUint::from_bytes_be(modulus), BigUint::from(e))
                    .map_err(|err| KeyError::Malformed(format!("RSA public key: {err}")))?;
                rsa_verifier(key)?
            }
            PublicKey::Ecc { curve, x, y, .. } => {
                let point = [&[0x04][..], x, y].concat();
                let bad = |e| KeyError::Malformed(format!("ECC point is not on {curve}: {e}"));
                match curve {
                    EccCurve::NistP256 => Verifier::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?,
                    ),
                    EccCurve::NistP384 => Verifier::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?,
                    ),
                }
            }
        };
        let spki = spki_of(&verifier)?;
        Ok(Self {
            verifier,
            public: Some(public),
            spki,
        })
    }

    /// The key of a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): rsaEncryption, or
    /// id-ecPublicKey on P-256 or P-384.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::Malformed(format!("SubjectPublicKeyInfo: {e}")))?;
        let malformed = |e: spki::Error| KeyError::Malformed(format!("SubjectPublicKeyInfo: {e}"));
        let oid = info.algorithm.oid;
        let verifier = if oid == rsa::pkcs1::ALGORITHM_OID {
            rsa_verifier(RsaPublicKey::try_from(info).map_err(malformed)?)?
        } else if oid == p256::elliptic_curve::ALGORITHM_OID {
            let curve = info.algorithm.parameters_oid().map_err(malformed)?;
            if curve == p256::NistP256::OID {
                Verifier::P256(p256::ecdsa::VerifyingKey::try_from(info).map_err(malformed)?)
            } else if curve == p384::NistP384::OID {
                Verifier::P384(p384::ecdsa::VerifyingKey::try_from(info).map_err(malformed)?)
            } else {
                return Err(KeyError::Unsupported(format!(
                    "ECC curve {curve} is not supported (only NIST P-256 and P-384)"
                )));
            }
        } else {
            return Err(KeyError::Unsupported(format!(
                "public key algorithm {oid} is not supported (only RSA and ECC)"
            )));
        };
        let spki = spki_of(&verifier)?;
        Ok(Self {
            verifier,
            public: None,
            spki,
        })
    }

    /// The key of a PEM `PUBLIC KEY` (RFC 7468 §13).
    pub fn from_spki_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let start = pem
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let (label, der) = der::pem::decode_vec(pem.get(start..).unwrap_or_default())
            .map_err(|e| KeyError::Malformed(format!("PEM: {e}")))?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::Malformed(format!(
                "PEM label is {label:?}, expected \"PUBLIC KEY\" (a SubjectPublicKeyInfo)"
            )));
        }
        Self::from_spki_der(&der)
    }

    /// Recognizes the format of `bytes` and reads the key: PEM (starts with
    /// `-----BEGIN`), TPM2B_PUBLIC (a size equal to the rest, then an RSA or ECC
    /// type), TPMT_PUBLIC (an RSA or ECC type), DER (an ASN.1 SEQUENCE).
    pub fn detect(bytes: &[u8]) -> Result<(Self, AkFormat), KeyError> {
        let trimmed = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .and_then(|i| bytes.get(i..))
            .unwrap_or_default();
        if trimmed.starts_with(b"-----BEGIN") {
            return Self::from_spki_pem(bytes).map(|k| (k, AkFormat::SpkiPem));
        }
        let is_type = |b: &[u8]| matches!(b, [0x00, 0x01, ..] | [0x00, 0x23, ..]);
        match bytes {
            [a, b, rest @ ..]
                if usize::from(u16::from_be_bytes([*a, *b])) == rest.len() && is_type(rest) =>
            {
                let public = TpmPublic::from_tpm2b(bytes)?;
                Self::from_public(public).map(|k| (k, AkFormat::Tpm2bPublic))
            }
            _ if is_type(bytes) => {
                let public = TpmPublic::from_tpmt(bytes)?;
                Self::from_public(public).map(|k| (k, AkFormat::TpmtPublic))
            }
            [0x30, ..] => Self::from_spki_der(bytes).map(|k| (k, AkFormat::SpkiDer)),
            _ => Err(KeyError::Unrecognized),
        }
    }

    /// The TPM public area, when the key was given as one.
    pub fn public(&self) -> Option<&TpmPublic> {
        self.public.as_ref()
    }

    /// The key's DER SubjectPublicKeyInfo, re-encoded canonically: compare it with a
    /// certificate's, or hash it for a pin.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// `RSA-2048`, `ECC NIST P-256`.
    pub fn describe(&self) -> String {
        match &self.verifier {
            Verifier::Rsa(k) => format!("RSA-{}", k.n().bits()),
            Verifier::P256(_) => format!("ECC {}", EccCurve::NistP256),
            Verifier::P384(_) => format!("ECC {}", EccCurve::NistP384),
        }
    }

    /// Verifies `sig` over `message` (the marshalled TPMS_ATTEST): the scheme must fit
    /// the key (and equal its TPM scheme when that is not NULL), and the signature must
    /// verify over `H(message)` with the scheme's hash.
    pub fn verify(&self, message: &[u8], sig: &TpmtSignature) -> Result<(), SignatureError> {
        self.check_scheme(sig)?;
        match (&self.verifier, sig) {
            (Verifier::Rsa(key), TpmtSignature::Rsa { alg, hash, sig }) => {
                let digest = hash.digest(message);
                let ok = if *alg == SigAlg::Rsassa {
                    key.verify(pkcs1v15(*hash), &digest, sig).is_ok()
                } else {
                    // TPMs use a salt as long as the digest (FIPS 186-5 §5.4, and the
                    // reference implementation since Part 1 rev 1.38); older ones the
                    // largest salt the modulus allows (Part 1 §B.7). Accept both.
                    let max = key.size().saturating_sub(hash.size()).saturating_sub(2);
                    [hash.size(), max]
                        .into_iter()
                        .any(|salt| key.verify(pss(*hash, salt), &digest, sig).is_ok())
                };
                ok.then_some(()).ok_or(SignatureError::Invalid)
            }
            (Verifier::P256(key), TpmtSignature::Ecc { hash, r, s, .. }) => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                let sig = p256::ecdsa::Signature::from_slice(&scalars(r, s, 32)?)
                    .map_err(|_| SignatureError::Invalid)?;
                key.verify_prehash(&hash.digest(message), &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
            (Verifier::P384(key), TpmtSignature::Ecc { hash, r, s, .. }) => {
                use p384::ecdsa::signature::hazmat::PrehashVerifier;
                if hash.size() < 24 {
                    return Err(SignatureError::Unsupported(format!(
                        "ECDSA-{} on P-384: the digest is shorter than half the curve size",
                        hash.name().to_ascii_uppercase()
                    )));
                }
                let sig = p384::ecdsa::Signature::from_slice(&scalars(r, s, 48)?)
                    .map_err(|_| SignatureError::Invalid)?;
                key.verify_prehash(&hash.digest(message), &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
            _ => Err(SignatureError::SchemeMismatch(format!(
                "a {sig} signature cannot come from a {} key",
                self.describe()
            ))),
        }
    }

    fn check_scheme(&self, sig: &TpmtSignature) -> Result<(), SignatureError> {
        let rsa = matches!(self.verifier, Verifier::Rsa(_));
        match (rsa, sig.alg()) {
            (true, SigAlg::Rsassa | SigAlg::Rsapss) | (false, SigAlg::Ecdsa) => {}
            (false, SigAlg::Ecdaa | SigAlg::Sm2 | SigAlg::Ecschnorr) => {
                return Err(SignatureError::Unsupported(format!(
                    "{} signatures are not supported (only ECDSA, RSASSA and RSAPSS)",
                    sig.alg()
                )))
            }
            (_, SigAlg::Null) => {
                return Err(SignatureError::SchemeMismatch(
                    "the quote is not signed (signature algorithm TPM_ALG_NULL)".into(),
                ))
            }
            _ => {
                return Err(SignatureError::SchemeMismatch(format!(
                    "a {sig} signature cannot come from a {} key",
                    self.describe()
                )))
            }
        }
        let Some(public) = &self.public else {
            return Ok(());
        };
        let allowed = match public.scheme {
            KeyScheme::Null => return Ok(()),
            KeyScheme::Rsassa(h) => (SigAlg::Rsassa, h),
            KeyScheme::Rsapss(h) => (SigAlg::Rsapss, h),
            KeyScheme::Ecdsa(h) => (SigAlg::Ecdsa, h),
            KeyScheme::Ecdaa(h) => (SigAlg::Ecdaa, h),
            KeyScheme::Sm2(h) => (SigAlg::Sm2, h),
            KeyScheme::Ecschnorr(h) => (SigAlg::Ecschnorr, h),
            other => {
                return Err(SignatureError::SchemeMismatch(format!(
                    "the AK's scheme {other:?} is not a signing scheme"
                )))
            }
        };
        if Some(allowed) == sig.hash().map(|h| (sig.alg(), h)) {
            Ok(())
        } else {
            Err(SignatureError::SchemeMismatch(format!(
                "the signature is {sig}, but the AK is restricted to {}-{}",
                allowed.0,
                allowed.1.name().to_ascii_uppercase()
            )))
        }
    }
}

fn rsa_verifier(key: RsaPublicKey) -> Result<Verifier, KeyError> {
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(KeyError::Unsupported(format!(
            "RSA-{bits} is too small for an AK (at least {MIN_RSA_BITS} bits)"
        )));
    }
    Ok(Verifier::Rsa(key))
}

fn spki_of(v: &Verifier) -> Result<Vec<u8>, KeyError> {
    let doc = match v {
        Verifier::Rsa(k) => k.to_public_key_der(),
        Verifier::P256(k) => k.to_public_key_der(),
        Verifier::P384(k) => k.to_public_key_der(),
    };
    doc.map(|d| d.as_bytes().to_vec()).map_err(|e| {
        KeyError::Malformed(format!(
            "cannot encode the key as SubjectPublicKeyInfo: {e}"
        ))
    })
}

fn pkcs1v15(hash: HashAlg) -> Pkcs1v15Sign {
    match hash {
        HashAlg::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        HashAlg::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
    }
}

fn pss(hash: HashAlg, salt: usize) -> Pss {
    match hash {
        HashAlg::Sha1 => Pss::new_with_salt::<Sha1>(salt),
        HashAlg::Sha256 => Pss::new_with_salt::<Sha256>(salt),
        HashAlg::Sha384 => Pss::new_with_salt::<Sha384>(salt),
        HashAlg::Sha512 => Pss::new_with_salt::<Sha512>(salt),
    }
}

/// `r ‖ s`, each as exactly `size` bytes: shorter values are left-padded, longer ones
/// may only carry leading zeros.
fn scalars(r: &[u8], s: &[u8], size: usize) -> Result<Vec<u8>, SignatureError> {
    let fixed = |v: &[u8]| -> Result<Vec<u8>, SignatureError> {
        let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        let v = v.get(start..).unwrap_or_default();
        if v.len() > size {
            return Err(SignatureError::Invalid);
        }
        let mut out = vec![0u8; size.saturating_sub(v.len())];
        out.extend_from_slice(v);
        Ok(out)
    };
    Ok([fixed(r)?, fixed(s)?].concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tpm::public::tests::ecc_tpmt;

    /// The P-256 generator: a valid point anyone can use as a public key.
    fn generator() -> (Vec<u8>, Vec<u8>) {
        (
            hex::decode("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
                .unwrap(),
            hex::decode("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
                .unwrap(),
        )
    }

    #[test]
    fn detect_tells_the_formats_apart() {
        let (x, y) = generator();
        let tpmt = ecc_tpmt(&x, &y);
        let mut tpm2b = (tpmt.len() as u16).to_be_bytes().to_vec();
        tpm2b.extend(&tpmt);
        let (k, f) = AttestationKey::detect(&tpmt).unwrap();
        assert_eq!(f, AkFormat::TpmtPublic);
        let der = k.spki_der().to_vec();
        assert_eq!(
            AttestationKey::detect(&tpm2b).unwrap().1,
            AkFormat::Tpm2bPublic
        );
        let (from_der, f) = AttestationKey::detect(&der).unwrap();
        assert_eq!((f, from_der.spki_der()), (AkFormat::SpkiDer, &der[..]));
        assert!(from_der.public().is_none());
        let pem = der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &der).unwrap();
        let (_, f) = AttestationKey::detect(format!("\n  {pem}").as_bytes()).unwrap();
        assert_eq!(f, AkFormat::SpkiPem);
        // A TPM2B whose size is wrong is not taken for one; it then is no TPMT either.
        tpm2b[1] ^= 1;
        assert!(AttestationKey::detect(&tpm2b).is_err());
        // DER with a trailing byte.
        let mut long = der.clone();
        long.push(0);
        assert!(matches!(
            AttestationKey::detect(&long),
            Err(KeyError::Malformed(_))
        ));
        let rsa_label = pem.replace("PUBLIC KEY", "RSA PUBLIC KEY");
        assert!(matches!(
            AttestationKey::detect(rsa_label.as_bytes()),
            Err(KeyError::Malformed(m)) if m.contains("PEM label")
        ));
    }

    #[test]
    fn scalars_are_fixed_to_the_curve_size() {
        assert_eq!(
            scalars(&[1], &[0, 0, 2], 4).unwrap(),
            [0, 0, 0, 1, 0, 0, 0, 2]
        );
        assert_eq!(
            scalars(&[0, 0, 0, 0, 0, 9], &[], 4).unwrap(),
            [0, 0, 0, 9, 0, 0, 0, 0]
        );
        assert_eq!(
            scalars(&[1, 0, 0, 0, 0], &[1], 4),
            Err(SignatureError::Invalid)
        );
    }
}
