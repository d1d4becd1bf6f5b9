//! Public keys as the CA compares and certifies them: from a TPM public area or from
//! an X.509 SubjectPublicKeyInfo, into one comparable form.

use std::fmt;

use der::Encode as _;
use rsa::BigUint;
use spki::{DecodePublicKey as _, EncodePublicKey as _, SubjectPublicKeyInfoOwned};

use cerd_attestation::tpm::{EccCurve, PublicKey as TpmKey, TpmPublic};

/// An RSA or NIST P-256/P-384 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::PublicKey),
    P384(p384::PublicKey),
}

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

impl PublicKey {
    /// The key of a TPM object: RSA (exponent 0 means 65537) or an ECC point, which
    /// must lie on its curve.
    pub fn from_tpm(public: &TpmPublic) -> Result<Self, KeyError> {
        match &public.key {
            TpmKey::Rsa {
                exponent, modulus, ..
            } => {
                let e = if *exponent == 0 { 65537 } else { *exponent };
                rsa::RsaPublicKey::new(BigUint::from_bytes_be(modulus), BigUint::from(e))
                    .map(Self::Rsa)
                    .map_err(|err| KeyError(format!("RSA key is not usable: {err}")))
            }
            TpmKey::Ecc { curve, x, y, .. } => {
                let mut sec1 =
                    Vec::with_capacity(x.len().saturating_add(y.len()).saturating_add(1));
                sec1.push(0x04);
                sec1.extend_from_slice(x);
                sec1.extend_from_slice(y);
                let bad = |_| KeyError(format!("ECC point is not on {curve}"));
                match curve {
                    EccCurve::NistP256 => p256::PublicKey::from_sec1_bytes(&sec1)
                        .map(Self::P256)
                        .map_err(bad),
                    EccCurve::NistP384 => p384::PublicKey::from_sec1_bytes(&sec1)
                        .map(Self::P384)
                        .map_err(bad),
                }
            }
        }
    }

    /// The key in a certificate's SubjectPublicKeyInfo (rsaEncryption, or
    /// id-ecPublicKey on P-256 / P-384).
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, KeyError> {
        let der = spki
            .to_der()
            .map_err(|e| KeyError(format!("SubjectPublicKeyInfo does not encode: {e}")))?;
        Self::from_spki_der(&der)
    }

    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(der) {
            return Ok(Self::Rsa(k));
        }
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Ok(Self::P384(k));
        }
        Err(KeyError(
            "the key is neither RSA nor ECC on P-256/P-384".to_owned(),
        ))
    }

    /// The SubjectPublicKeyInfo for a certificate.
    pub fn to_spki(&self) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
        let doc = match self {
            Self::Rsa(k) => k.to_public_key_der(),
            Self::P256(k) => k.to_public_key_der(),
            Self::P384(k) => k.to_public_key_der(),
        }
        .map_err(|e| KeyError(format!("cannot encode the public key: {e}")))?;
        SubjectPublicKeyInfoOwned::try_from(doc.as_bytes())
            .map_err(|e| KeyError(format!("cannot encode the public key: {e}")))
    }

    /// "RSA-2048", "ECC P-256", … for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Rsa(k) => format!("RSA-{}", rsa::traits::PublicKeyParts::n(k).bits()),
            Self::P256(_) => "ECC P-256".to_owned(),
            Self::P384(_) => "ECC P-384".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecc_spki_round_trip() {
        let sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let k = PublicKey::P256(sk.public_key());
        let spki = k.to_spki().unwrap();
        assert_eq!(PublicKey::from_spki(&spki).unwrap(), k);
        assert_eq!(k.describe(), "ECC P-256");
    }
}
