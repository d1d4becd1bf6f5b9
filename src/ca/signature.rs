//! Certificate signatures, verified over the exact tbsCertificate bytes: RSA PKCS#1
//! v1.5 (RFC 8017 §8.2) and RSASSA-PSS with explicit parameters (RFC 4055 §3.1) with
//! SHA-256/384/512, ECDSA on P-256/P-384 with SHA-256/384/512 (RFC 5758 §3.2). SHA-1
//! and anything else are refused.

use der::asn1::ObjectIdentifier;
use der::{Decode as _, Encode as _};
use rsa::signature::hazmat::PrehashVerifier as _;
use rsa::signature::Verifier as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::chain::Cert;
use super::key::PublicKey;

mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn of(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// Verifies `cert`'s signature with `key` over its exact tbsCertificate bytes.
pub fn verify_signature(cert: &Cert, key: &PublicKey) -> Result<(), String> {
    let alg = &cert.cert.signature_algorithm;
    if alg != &cert.cert.tbs_certificate.signature {
        return Err("signatureAlgorithm differs from tbsCertificate.signature".to_owned());
    }
    let sig = cert
        .cert
        .signature
        .as_bytes()
        .ok_or("the signature BIT STRING has unused bits")?;
    let tbs = cert.tbs();
    let bad = |e: rsa::signature::Error| format!("does not verify ({e})");
    match (alg.oid, key) {
        (oid::SHA256_RSA | oid::SHA384_RSA | oid::SHA512_RSA, PublicKey::Rsa(k)) => {
            let s = rsa::pkcs1v15::Signature::try_from(sig).map_err(bad)?;
            let k = k.clone();
            match alg.oid {
                oid::SHA256_RSA => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k).verify(tbs, &s),
                oid::SHA384_RSA => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(k).verify(tbs, &s),
                _ => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(k).verify(tbs, &s),
            }
            .map_err(bad)
        }
        (oid::RSA_PSS, PublicKey::Rsa(k)) => {
            let (hash, salt) = pss_params(alg)?;
            let s = rsa::pss::Signature::try_from(sig).map_err(bad)?;
            let k = k.clone();
            match hash {
                Hash::Sha256 => rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(k, salt)
                    .verify(tbs, &s),
                Hash::Sha384 => rsa::pss::VerifyingKey::<Sha384>::new_with_salt_len(k, salt)
                    .verify(tbs, &s),
                Hash::Sha512 => rsa::pss::VerifyingKey::<Sha512>::new_with_salt_len(k, salt)
                    .verify(tbs, &s),
            }
            .map_err(bad)
        }
        (oid::ECDSA_SHA256 | oid::ECDSA_SHA384 | oid::ECDSA_SHA512, PublicKey::P256(_) | PublicKey::P384(_)) => {
            let hash = match alg.oid {
                oid::ECDSA_SHA256 => Hash::Sha256,
                oid::ECDSA_SHA384 => Hash::Sha384,
                _ => Hash::Sha512,
            };
            let digest = hash.of(tbs);
            match key {
                PublicKey::P256(k) => {
                    let s = p256::ecdsa::DerSignature::try_from(sig).map_err(bad)?;
                    p256::ecdsa::VerifyingKey::from(k).verify_prehash(&digest, &s)
                }
                PublicKey::P384(k) => {
                    let s = p384::ecdsa::DerSignature::try_from(sig).map_err(bad)?;
                    p384::ecdsa::VerifyingKey::from(k).verify_prehash(&digest, &s)
                }
                PublicKey::Rsa(_) => return Err("RSA key for an ECDSA signature".to_owned()),
            }
            .map_err(bad)
        }
        (oid, key) => Err(format!(
            "signature algorithm {oid} with a {} key is not accepted (SHA-1 and unknown algorithms are refused)",
            key.describe()
        )),
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1): hash, MGF1 with the same hash, salt length,
/// trailer field 1.
fn pss_params(alg: &spki::AlgorithmIdentifierOwned) -> Result<(Hash, usize), String> {
    let any = alg
        .parameters
        .as_ref()
        .ok_or("RSA-PSS without parameters (SHA-1 defaults) is not accepted")?;
    let der = any.to_der().map_err(|e| e.to_string())?;
    let p = rsa::pkcs1::RsaPssParams::from_der(&der)
        .map_err(|e| format!("RSA-PSS parameters do not parse: {e}"))?;
    let hash = Hash::from_oid(&p.hash.oid)
        .ok_or_else(|| format!("RSA-PSS hash {} is not accepted", p.hash.oid))?;
    let mgf_hash = p.mask_gen.parameters.as_ref().map(|a| a.oid);
    if p.mask_gen.oid != oid::MGF1 || mgf_hash != Some(p.hash.oid) {
        return Err("RSA-PSS mask generation is not MGF1 with the same hash".to_owned());
    }
    if p.trailer_field != rsa::pkcs1::TrailerField::BC {
        return Err("RSA-PSS trailer field is not 1".to_owned());
    }
    Ok((hash, usize::from(p.salt_len)))
}
