//! TPM public areas as bytes and as keys: TPMT_PUBLIC / TPM2B_PUBLIC marshalling, TPM
//! names, and the public key inside (SPKI DER, PEM), compared with certificates.

use anyhow::{bail, Context as _};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::{Sha256, Sha384, Sha512};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::structures::{EccParameter, EccPoint, Public, PublicKeyRsa};
use tss_esapi::traits::Marshall;

use super::TPM_RH_ENDORSEMENT;

/// TPMT_PUBLIC, marshalled (TPM 2.0 Part 2 §12.2.4).
pub fn marshal(public: &Public) -> anyhow::Result<Vec<u8>> {
    public.marshall().context("cannot marshal a TPMT_PUBLIC")
}

/// TPM2B_PUBLIC, marshalled: UINT16 size || TPMT_PUBLIC (Part 2 §12.2.5).
pub fn tpm2b_public(public: &Public) -> anyhow::Result<Vec<u8>> {
    let t = marshal(public)?;
    let size = u16::try_from(t.len()).context("TPMT_PUBLIC longer than 65535 bytes")?;
    let mut out = Vec::with_capacity(t.len().saturating_add(2));
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&t);
    Ok(out)
}

/// The TPM name of an object: nameAlg (UINT16) || H_nameAlg(TPMT_PUBLIC) (Part 1 §16).
pub fn name_of(public: &Public) -> anyhow::Result<Vec<u8>> {
    let bytes = marshal(public)?;
    name_from_parts(public.name_hashing_algorithm(), &[&bytes])
}

/// The qualified name of a primary key in the endorsement hierarchy:
/// nameAlg || H(QN(TPM_RH_ENDORSEMENT) || Name), with QN of a hierarchy = its handle.
pub(super) fn endorsement_primary_qualified_name(name: &[u8]) -> anyhow::Result<Vec<u8>> {
    let alg = match name.get(..2) {
        Some([0x00, 0x0b]) => HashingAlgorithm::Sha256,
        Some([0x00, 0x0c]) => HashingAlgorithm::Sha384,
        Some([0x00, 0x0d]) => HashingAlgorithm::Sha512,
        _ => bail!("unsupported name algorithm in name {}", hex::encode(name)),
    };
    name_from_parts(alg, &[&TPM_RH_ENDORSEMENT.to_be_bytes(), name])
}

fn name_from_parts(alg: HashingAlgorithm, parts: &[&[u8]]) -> anyhow::Result<Vec<u8>> {
    fn hash<D: sha2::Digest>(id: u16, parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        let mut out = id.to_be_bytes().to_vec();
        out.extend_from_slice(&h.finalize());
        out
    }
    Ok(match alg {
        HashingAlgorithm::Sha256 => hash::<Sha256>(0x000b, parts),
        HashingAlgorithm::Sha384 => hash::<Sha384>(0x000c, parts),
        HashingAlgorithm::Sha512 => hash::<Sha512>(0x000d, parts),
        other => bail!("unsupported name algorithm {other:?}"),
    })
}

/// Equal apart from `unique` (which for a created key is the key itself).
pub(super) fn same_template(a: &Public, b: &Public) -> bool {
    fn strip(p: &Public) -> Public {
        match p.clone() {
            Public::Rsa {
                object_attributes,
                name_hashing_algorithm,
                auth_policy,
                parameters,
                ..
            } => Public::Rsa {
                object_attributes,
                name_hashing_algorithm,
                auth_policy,
                parameters,
                unique: PublicKeyRsa::default(),
            },
            Public::Ecc {
                object_attributes,
                name_hashing_algorithm,
                auth_policy,
                parameters,
                ..
            } => Public::Ecc {
                object_attributes,
                name_hashing_algorithm,
                auth_policy,
                parameters,
                unique: EccPoint::new(EccParameter::default(), EccParameter::default()),
            },
            other => other,
        }
    }
    strip(a) == strip(b)
}

/// "ECC P-256 restricted sign" etc., for messages.
pub fn describe(public: &Public) -> String {
    let kind = match public {
        Public::Rsa { parameters, .. } => format!("RSA-{}", u16::from(parameters.key_bits())),
        Public::Ecc { parameters, .. } => match parameters.ecc_curve() {
            EccCurve::NistP256 => "ECC P-256".into(),
            EccCurve::NistP384 => "ECC P-384".into(),
            EccCurve::NistP521 => "ECC P-521".into(),
            other => format!("ECC {other:?}"),
        },
        Public::KeyedHash { .. } => "keyed-hash object".into(),
        Public::SymCipher { .. } => "symmetric key".into(),
    };
    let a = public.object_attributes();
    let mut out = kind;
    for (set, name) in [
        (a.restricted(), "restricted"),
        (a.sign_encrypt(), "sign"),
        (a.decrypt(), "decrypt"),
        (a.fixed_tpm(), "fixedTPM"),
        (a.fixed_parent(), "fixedParent"),
    ] {
        if set {
            out.push(' ');
            out.push_str(name);
        }
    }
    out
}

/// The public key of a TPM object, as the RustCrypto type that encodes it as SPKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::PublicKey),
    P384(p384::PublicKey),
}

impl PublicKey {
    /// The key in a TPM public area (RSA: modulus from `unique`, exponent 0 = 65537;
    /// ECC: the point in `unique`, coordinates left-padded to the field size).
    pub fn from_tpm(public: &Public) -> anyhow::Result<Self> {
        match public {
            Public::Rsa {
                parameters, unique, ..
            } => {
                let e = match parameters.exponent().value() {
                    0 => 65537,
                    e => e,
                };
                let n = rsa::BigUint::from_bytes_be(unique.value());
                let bits = usize::from(u16::from(parameters.key_bits()));
                if n.bits() != bits {
                    bail!("the TPM public area holds no {bits}-bit RSA modulus");
                }
                let key = rsa::RsaPublicKey::new(n, rsa::BigUint::from(e))
                    .context("the TPM public area holds no valid RSA key")?;
                Ok(Self::Rsa(key))
            }
            Public::Ecc {
                parameters, unique, ..
            } => {
                let size: usize = match parameters.ecc_curve() {
                    EccCurve::NistP256 => 32,
                    EccCurve::NistP384 => 48,
                    other => bail!("unsupported ECC curve {other:?}"),
                };
                let mut sec1 = vec![0x04];
                for coordinate in [unique.x().value(), unique.y().value()] {
                    let pad = size
                        .checked_sub(coordinate.len())
                        .context("ECC coordinate longer than the curve's field")?;
                    sec1.extend(std::iter::repeat_n(0, pad));
                    sec1.extend_from_slice(coordinate);
                }
                let invalid = "the TPM public area holds no valid ECC point";
                Ok(if size == 32 {
                    Self::P256(p256::PublicKey::from_sec1_bytes(&sec1).context(invalid)?)
                } else {
                    Self::P384(p384::PublicKey::from_sec1_bytes(&sec1).context(invalid)?)
                })
            }
            _ => bail!("{} holds no asymmetric key", describe(public)),
        }
    }

    /// A SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) holding an RSA, P-256 or P-384 key.
    pub fn from_spki_der(der: &[u8]) -> anyhow::Result<Self> {
        if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(der) {
            return Ok(Self::Rsa(k));
        }
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Ok(Self::P384(k));
        }
        bail!("not an RSA, ECC P-256 or ECC P-384 SubjectPublicKeyInfo")
    }

    /// The subject public key of an X.509 certificate (DER).
    pub fn from_certificate(der: &[u8]) -> anyhow::Result<Self> {
        use der::{Decode as _, Encode as _};
        let cert = x509_cert::Certificate::from_der(der).context("not an X.509 certificate")?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .context("cannot re-encode the certificate's public key")?;
        Self::from_spki_der(&spki).context("the certificate's public key")
    }

    /// SubjectPublicKeyInfo, PEM ("PUBLIC KEY"), as openssl and tpm2_checkquote read it.
    pub fn pem(&self) -> anyhow::Result<String> {
        match self {
            Self::Rsa(k) => k.to_public_key_pem(LineEnding::LF),
            Self::P256(k) => k.to_public_key_pem(LineEnding::LF),
            Self::P384(k) => k.to_public_key_pem(LineEnding::LF),
        }
        .context("cannot encode the public key as PEM")
    }
}

/// Checks that the certificate `cert_der` certifies the key of the TPM object `public`.
pub fn check_certificate_key(public: &Public, cert_der: &[u8]) -> anyhow::Result<()> {
    let ours = PublicKey::from_tpm(public)?;
    let certified = PublicKey::from_certificate(cert_der)?;
    if ours != certified {
        bail!(
            "the certificate holds another public key than the TPM's {}",
            describe(public)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{AkAlg, EkKind};
    use super::*;
    use sha2::Digest as _;

    #[test]
    fn names_hash_the_public_area() {
        let t = AkAlg::EccP256.template().unwrap();
        let name = name_of(&t).unwrap();
        assert_eq!(&name[..2], &[0x00, 0x0b]);
        assert_eq!(&name[2..], Sha256::digest(marshal(&t).unwrap()).as_slice());
    }

    #[test]
    fn templates_compare_without_unique() {
        let a = AkAlg::EccP256.template().unwrap();
        let Public::Ecc {
            object_attributes,
            name_hashing_algorithm,
            auth_policy,
            parameters,
            ..
        } = a.clone()
        else {
            panic!()
        };
        let other_unique = Public::Ecc {
            object_attributes,
            name_hashing_algorithm,
            auth_policy,
            parameters,
            unique: EccPoint::new(
                EccParameter::try_from(vec![1u8; 32]).unwrap(),
                EccParameter::try_from(vec![2u8; 32]).unwrap(),
            ),
        };
        assert!(same_template(&a, &other_unique));
        assert!(!same_template(&a, &AkAlg::Rsa2048.template().unwrap()));
        assert!(!same_template(&a, &EkKind::EccP256.template().unwrap()));
    }

    #[test]
    fn zero_keys_are_not_keys() {
        // A template's all-zero unique is not a point on the curve nor an RSA modulus.
        assert!(PublicKey::from_tpm(&AkAlg::EccP256.template().unwrap()).is_err());
        assert!(PublicKey::from_tpm(&AkAlg::Rsa2048.template().unwrap()).is_err());
    }
}
