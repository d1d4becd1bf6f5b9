//! EK certificate chains: path building from an EK certificate through the given
//! intermediates to a trusted root (RFC 5280 §6, reduced to what EK chains need).
//!
//! Each link: the issuer's subject equals the certificate's issuer (DER equality), the
//! signature verifies over the exact tbsCertificate bytes (RSA PKCS#1 v1.5 and
//! RSA-PSS with SHA-256/384/512, ECDSA P-256/P-384 with SHA-256/384/512; SHA-1 is
//! refused), every certificate below the anchor is valid at the given time, every
//! issuer is a CA (basicConstraints cA, keyUsage keyCertSign when present, path length)
//! and no certificate carries a critical extension this module does not understand.
//! Trust anchors are taken as given (their own validity and signature are not checked).

use std::fmt;
use std::time::Duration;

use der::asn1::ObjectIdentifier;
use der::{Decode as _, Encode as _, Reader as _};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use super::key::PublicKey;
use super::signature::verify_signature;

/// At most this many certificates between the EK certificate and the anchor.
const MAX_INTERMEDIATES: usize = 6;

/// A parsed certificate with its DER and the exact signed bytes.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    pub cert: Certificate,
    tbs: Vec<u8>,
}

impl Cert {
    /// Parses DER strictly (x509-cert), keeping the tbsCertificate bytes as they are.
    pub fn from_der(der: &[u8]) -> Result<Self, der::Error> {
        let cert = Certificate::from_der(der)?;
        let mut r = der::SliceReader::new(der)?;
        let _outer = der::Header::decode(&mut r)?;
        let tbs = r.tlv_bytes()?.to_vec();
        Ok(Self {
            der: der.to_vec(),
            cert,
            tbs,
        })
    }

    /// The exact signed bytes (tbsCertificate TLV).
    pub fn tbs(&self) -> &[u8] {
        &self.tbs
    }

    pub fn subject(&self) -> String {
        display_name(&self.cert.tbs_certificate.subject)
    }

    fn issuer_name(&self) -> String {
        display_name(&self.cert.tbs_certificate.issuer)
    }

    pub fn key(&self) -> Result<PublicKey, super::key::KeyError> {
        PublicKey::from_spki(&self.cert.tbs_certificate.subject_public_key_info)
    }

    fn issued_by(&self, issuer: &Cert) -> bool {
        match (
            self.cert.tbs_certificate.issuer.to_der(),
            issuer.cert.tbs_certificate.subject.to_der(),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    fn extension<T: der::DecodeOwned>(&self, oid: ObjectIdentifier) -> Result<Option<T>, String> {
        let Some(exts) = &self.cert.tbs_certificate.extensions else {
            return Ok(None);
        };
        match exts.iter().find(|e| e.extn_id == oid) {
            None => Ok(None),
            Some(e) => T::from_der(e.extn_value.as_bytes())
                .map(Some)
                .map_err(|err| {
                    format!(
                        "extension {oid} of '{}' does not parse: {err}",
                        self.subject()
                    )
                }),
        }
    }
}

fn display_name(name: &x509_cert::name::Name) -> String {
    let s = name.to_string();
    if s.is_empty() {
        "(empty subject)".to_owned()
    } else {
        s
    }
}

/// Why a chain was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// No given intermediate or trusted root is the issuer of `subject`.
    NoIssuer { subject: String, issuer: String },
    /// A certificate is outside its validity period at the checked time.
    NotValidNow { subject: String, detail: String },
    /// An issuer is not allowed to issue certificates.
    NotCa { subject: String, detail: String },
    /// A signature does not verify, or uses an algorithm not accepted.
    Signature {
        subject: String,
        issuer: String,
        detail: String,
    },
    /// A critical extension this verifier does not process.
    UnknownCritical { subject: String, oid: String },
    /// The chain is longer than allowed.
    TooLong { subject: String },
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoIssuer { subject, issuer } => write!(
                f,
                "no trusted root or given intermediate is the issuer '{issuer}' of '{subject}'"
            ),
            Self::NotValidNow { subject, detail } => {
                write!(f, "certificate '{subject}' is not valid now: {detail}")
            }
            Self::NotCa { subject, detail } => {
                write!(f, "issuer '{subject}' may not issue certificates: {detail}")
            }
            Self::Signature {
                subject,
                issuer,
                detail,
            } => write!(f, "signature on '{subject}' by '{issuer}': {detail}"),
            Self::UnknownCritical { subject, oid } => write!(
                f,
                "certificate '{subject}' has critical extension {oid} which is not understood"
            ),
            Self::TooLong { subject } => {
                write!(
                    f,
                    "chain above '{subject}' is longer than {MAX_INTERMEDIATES} certificates"
                )
            }
        }
    }
}

impl std::error::Error for ChainError {}

/// Finds a path from `leaf` through `intermediates` to one of `anchors`, valid at
/// `now` (time since the Unix epoch). Returns the subjects from the leaf up to and
/// including the anchor.
pub fn verify_chain(
    leaf: &Cert,
    intermediates: &[Cert],
    anchors: &[Cert],
    now: Duration,
) -> Result<Vec<String>, ChainError> {
    check_own(leaf, now)?;
    let mut path = vec![leaf.subject()];
    extend(leaf, intermediates, anchors, now, 0, &mut path)?;
    Ok(path)
}

/// Tries every candidate issuer of `cert`; the first complete path wins, else the
/// most telling failure (a broken signature or expiry beats "no issuer").
fn extend(
    cert: &Cert,
    intermediates: &[Cert],
    anchors: &[Cert],
    now: Duration,
    depth: usize,
    path: &mut Vec<String>,
) -> Result<(), ChainError> {
    let mut best = ChainError::NoIssuer {
        subject: cert.subject(),
        issuer: cert.issuer_name(),
    };
    for anchor in anchors.iter().filter(|a| cert.issued_by(a)) {
        match link(cert, anchor, depth) {
            Ok(()) => {
                path.push(anchor.subject());
                return Ok(());
            }
            Err(e) => best = e,
        }
    }
    for issuer in intermediates.iter().filter(|i| cert.issued_by(i)) {
        if depth >= MAX_INTERMEDIATES || path.len() > MAX_INTERMEDIATES {
            return Err(ChainError::TooLong {
                subject: cert.subject(),
            });
        }
        if issuer.der == cert.der {
            continue; // self-issued intermediate: no progress
        }
        let attempt = link(cert, issuer, depth).and_then(|()| check_own(issuer, now));
        match attempt {
            Ok(()) => {
                path.push(issuer.subject());
                match extend(
                    issuer,
                    intermediates,
                    anchors,
                    now,
                    depth.saturating_add(1),
                    path,
                ) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        path.pop();
                        best = e;
                    }
                }
            }
            Err(e) => best = e,
        }
    }
    Err(best)
}

/// Checks one link: `issuer` is a CA allowed `depth` intermediates below it, and its
/// key verifies `cert`'s signature.
fn link(cert: &Cert, issuer: &Cert, depth: usize) -> Result<(), ChainError> {
    let not_ca = |detail: String| ChainError::NotCa {
        subject: issuer.subject(),
        detail,
    };
    let bc: Option<BasicConstraints> = issuer
        .extension(x509_cert::der::oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS)
        .map_err(not_ca)?;
    match bc {
        Some(bc) if bc.ca => {
            if let Some(max) = bc.path_len_constraint {
                if depth > usize::from(max) {
                    return Err(not_ca(format!(
                        "pathLenConstraint {max} but {depth} intermediates below it"
                    )));
                }
            }
        }
        _ => return Err(not_ca("basicConstraints cA is not set".to_owned())),
    }
    let ku: Option<KeyUsage> = issuer
        .extension(x509_cert::der::oid::db::rfc5280::ID_CE_KEY_USAGE)
        .map_err(not_ca)?;
    if let Some(ku) = ku {
        if !ku.0.contains(KeyUsages::KeyCertSign) {
            return Err(not_ca("keyUsage lacks keyCertSign".to_owned()));
        }
    }
    let sig_err = |detail: String| ChainError::Signature {
        subject: cert.subject(),
        issuer: issuer.subject(),
        detail,
    };
    let key = issuer.key().map_err(|e| sig_err(e.to_string()))?;
    verify_signature(cert, &key).map_err(sig_err)
}

/// Validity at `now` and no unknown critical extension.
fn check_own(cert: &Cert, now: Duration) -> Result<(), ChainError> {
    let v = &cert.cert.tbs_certificate.validity;
    let (nb, na) = (
        v.not_before.to_unix_duration(),
        v.not_after.to_unix_duration(),
    );
    if now < nb {
        return Err(ChainError::NotValidNow {
            subject: cert.subject(),
            detail: format!("not before {}", v.not_before),
        });
    }
    if now > na {
        return Err(ChainError::NotValidNow {
            subject: cert.subject(),
            detail: format!("expired {}", v.not_after),
        });
    }
    use x509_cert::der::oid::db::rfc5280 as o;
    let understood = [
        o::ID_CE_BASIC_CONSTRAINTS,
        o::ID_CE_KEY_USAGE,
        o::ID_CE_SUBJECT_ALT_NAME,
        o::ID_CE_EXT_KEY_USAGE,
        o::ID_CE_CERTIFICATE_POLICIES,
        o::ID_CE_SUBJECT_KEY_IDENTIFIER,
        o::ID_CE_AUTHORITY_KEY_IDENTIFIER,
        o::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
    ];
    for ext in cert.cert.tbs_certificate.extensions.iter().flatten() {
        if ext.critical && !understood.contains(&ext.extn_id) {
            return Err(ChainError::UnknownCritical {
                subject: cert.subject(),
                oid: ext.extn_id.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::issue::{ak_certificate, root_certificate, AkCertificate, CaKey, TpmAttributes};

    fn now() -> Duration {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
    }

    /// A root (CA key `p384`) and a leaf it issued, as parsed certificates.
    fn pair(p384: bool) -> (Cert, Cert) {
        let key = CaKey::generate(p384);
        let root = root_certificate(&key, "unit root", 1, now(), 10).unwrap();
        let leaf_key = p256::SecretKey::random(&mut rand::rngs::OsRng).public_key();
        let tpm = TpmAttributes {
            manufacturer: "id:49424D00".into(),
            model: "swtpm".into(),
            version: "id:20191023".into(),
            source: "request",
        };
        let leaf = ak_certificate(
            &key,
            &root,
            &AkCertificate {
                ak: &PublicKey::P256(leaf_key),
                ak_name: &[0, 0x0b, 1, 2],
                tpm: &tpm,
                ek_cert_sha256: [7; 32],
                serial: 2,
                now: now(),
                days: 1,
            },
        )
        .unwrap();
        (
            Cert::from_der(&root.to_der().unwrap()).unwrap(),
            Cert::from_der(&leaf.to_der().unwrap()).unwrap(),
        )
    }

    #[test]
    fn chains_verify_and_fail_for_the_right_reason() {
        for p384 in [false, true] {
            let (root, leaf) = pair(p384);
            let path = verify_chain(&leaf, &[], std::slice::from_ref(&root), now()).unwrap();
            assert_eq!(path.len(), 2);
            assert!(path[0].starts_with("CN=cerd AK "), "{path:?}");
            // Another root with the same name but another key.
            let (other, _) = pair(p384);
            let e = verify_chain(&leaf, &[], &[other], now()).unwrap_err();
            assert!(matches!(e, ChainError::Signature { .. }), "{e}");
            // No anchor at all.
            let e = verify_chain(&leaf, &[], &[], now()).unwrap_err();
            assert!(matches!(e, ChainError::NoIssuer { .. }), "{e}");
            // Two days later the leaf (1 day) has expired.
            let later = now() + Duration::from_secs(2 * 86_400);
            let e = verify_chain(&leaf, &[], std::slice::from_ref(&root), later).unwrap_err();
            assert!(matches!(e, ChainError::NotValidNow { .. }), "{e}");
            // The leaf is not a CA: nothing can chain through it.
            let e = verify_chain(&leaf, std::slice::from_ref(&leaf), &[], now()).unwrap_err();
            assert!(matches!(e, ChainError::NoIssuer { .. }), "{e}");
            // One changed byte in the signed part.
            let mut der = leaf.der.clone();
            let at = der.len() / 2;
            der[at] ^= 1;
            if let Ok(bad) = Cert::from_der(&der) {
                assert!(verify_chain(&bad, &[], std::slice::from_ref(&root), now()).is_err());
            }
        }
    }

    #[test]
    fn pem_bundles_and_garbage() {
        use crate::ca::store::certs_from_pem;
        assert!(certs_from_pem(b"no certificates here").unwrap().is_empty());
        assert!(certs_from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(
            certs_from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }
}
