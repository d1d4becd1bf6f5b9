//! Public keys of certificates: SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with an RSA
//! key (RFC 8017 A.1.1, rsaEncryption or id-RSASSA-PSS) or an EC point on
//! P-256/P-384/P-521 (RFC 5480 §2).

use der::asn1::ObjectIdentifier as Oid;
use rsa::BigUint;

use super::der::{children, strip_leading_zeros, tag, Reader};

const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
const P521: Oid = Oid::new_unwrap("1.3.132.0.35");

/// The largest RSA modulus accepted, in bits (the rsa crate's default is 4096).
const MAX_RSA_BITS: usize = 8192;

/// A certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    /// The SEC1 point, checked to be on P-521 (p521's key type has no `Debug`/`Eq`).
    P521(Vec<u8>),
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo. `Err` carries what is unsupported or malformed.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, String> {
        let mut outer = Reader::new(spki, "subjectPublicKeyInfo");
        let seq = outer
            .expect(tag::SEQUENCE, "SubjectPublicKeyInfo")
            .map_err(|e| e.to_string())?;
        outer.finish().map_err(|e| e.to_string())?;
        let mut r = children(&seq, "subjectPublicKeyInfo");
        let alg = r
            .expect(tag::SEQUENCE, "algorithm")
            .map_err(|e| e.to_string())?;
        let bits = r
            .expect(tag::BIT_STRING, "subjectPublicKey")
            .map_err(|e| e.to_string())?;
        r.finish().map_err(|e| e.to_string())?;
        let mut a = children(&alg, "algorithm");
        let oid = a.expect(tag::OID, "algorithm").map_err(|e| e.to_string())?;
        let oid = Oid::from_bytes(oid.content).map_err(|e| format!("key algorithm: {e}"))?;
        let key = match bits.content.split_first() {
            Some((0, key)) => key,
            _ => return Err("subjectPublicKey BIT STRING has unused bits".to_owned()),
        };
        match oid {
            RSA_ENCRYPTION | RSASSA_PSS => rsa_key(key),
            EC_PUBLIC_KEY => {
                let curve = a
                    .expect(tag::OID, "namedCurve")
                    .map_err(|_| "EC key without a named curve".to_owned())?;
                let curve = Oid::from_bytes(curve.content).map_err(|e| format!("curve: {e}"))?;
                match curve {
                    P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map(Self::P256)
                        .map_err(|_| "EC point is not on P-256".to_owned()),
                    P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map(Self::P384)
                        .map_err(|_| "EC point is not on P-384".to_owned()),
                    P521 => p521::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map(|_| Self::P521(key.to_vec()))
                        .map_err(|_| "EC point is not on P-521".to_owned()),
                    other => Err(format!("an EC key on curve {other}")),
                }
            }
            other => Err(format!("a key of algorithm {other}")),
        }
    }

    /// "RSA-2048", "ECC P-256", … for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Rsa(k) => format!("RSA-{}", rsa::traits::PublicKeyParts::n(k).bits()),
            Self::P256(_) => "ECC P-256".to_owned(),
            Self::P384(_) => "ECC P-384".to_owned(),
            Self::P521(_) => "ECC P-521".to_owned(),
        }
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
fn rsa_key(der: &[u8]) -> Result<PublicKey, String> {
    let mut outer = Reader::new(der, "RSAPublicKey");
    let seq = outer
        .expect(tag::SEQUENCE, "RSAPublicKey")
        .map_err(|e| e.to_string())?;
    outer.finish().map_err(|e| e.to_string())?;
    let mut r = children(&seq, "RSAPublicKey");
    let n = r
        .expect(tag::INTEGER, "modulus")
        .map_err(|e| e.to_string())?;
    let e = r
        .expect(tag::INTEGER, "publicExponent")
        .map_err(|e| e.to_string())?;
    r.finish().map_err(|e| e.to_string())?;
    rsa::RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(strip_leading_zeros(n.content)),
        BigUint::from_bytes_be(strip_leading_zeros(e.content)),
        MAX_RSA_BITS,
    )
    .map(PublicKey::Rsa)
    .map_err(|e| format!("the RSA key is not usable ({e})"))
}
