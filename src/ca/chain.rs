//! EK certificate chains for the CA: a thin layer over the verifier library's
//! [`cerd_attestation::chain`], which parses real TPM certificates leniently, verifies
//! signatures over the exact signed bytes and builds paths (RFC 5280 §6 as EK chains
//! need it). The CA trusts exactly the anchors it is given (`--trust DIR`, a swtpm
//! local CA only when named), not the library's built-in vendor pins; the anchors'
//! own validity is checked like every other certificate's.

use std::time::Duration;

use cerd_attestation::chain::{self as lib, ChainOptions};
use cerd_attestation::roots::TrustStore;
use time::OffsetDateTime;

pub use cerd_attestation::chain::ChainError;

use super::key::{KeyError, PublicKey};

/// A parsed certificate and its DER.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    cert: lib::Certificate,
}

impl Cert {
    /// Parses one DER certificate (lenient where real EK certificates need it; no
    /// trailing bytes).
    pub fn from_der(der: &[u8]) -> Result<Self, ChainError> {
        let cert = lib::Certificate::from_der(der)?;
        Ok(Self {
            der: cert.der().to_vec(),
            cert,
        })
    }

    /// The library's certificate (extensions, names, validity).
    pub fn certificate(&self) -> &lib::Certificate {
        &self.cert
    }

    pub fn key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_spki_der(self.cert.spki_der())
    }
}

impl From<lib::Certificate> for Cert {
    fn from(cert: lib::Certificate) -> Self {
        Self {
            der: cert.der().to_vec(),
            cert,
        }
    }
}

/// Finds a path from `leaf` through `intermediates` to one of `anchors`, valid at
/// `now` (time since the Unix epoch). Returns the subjects from the leaf up to and
/// including the anchor.
pub fn verify_chain(
    leaf: &Cert,
    intermediates: &[Cert],
    anchors: &[Cert],
    now: Duration,
) -> Result<Vec<String>, ChainError> {
    let mut trust = TrustStore::new();
    for a in anchors {
        trust.add_certificate(a.cert.clone());
    }
    let pool: Vec<lib::Certificate> = intermediates.iter().map(|c| c.cert.clone()).collect();
    let at = time::Duration::try_from(now)
        .ok()
        .and_then(|d| OffsetDateTime::UNIX_EPOCH.checked_add(d))
        .unwrap_or_else(OffsetDateTime::now_utc);
    lib::verify_chain(&leaf.cert, &pool, &trust, &ChainOptions::new(at)).map(|c| c.subjects())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::issue::{ak_certificate, root_certificate, AkCertificate, CaKey, TpmAttributes};
    use der::Encode as _;

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
            // Another root with the same name but another key: its subject key
            // identifier is not the leaf's authority key identifier.
            let (other, _) = pair(p384);
            let e = verify_chain(&leaf, &[], &[other], now()).unwrap_err();
            assert!(matches!(e, ChainError::Incomplete { .. }), "{e}");
            // No anchor at all.
            let e = verify_chain(&leaf, &[], &[], now()).unwrap_err();
            assert!(matches!(e, ChainError::Incomplete { .. }), "{e}");
            // Two days later the leaf (1 day) has expired.
            let later = now() + Duration::from_secs(2 * 86_400);
            let e = verify_chain(&leaf, &[], std::slice::from_ref(&root), later).unwrap_err();
            assert!(matches!(e, ChainError::Expired { .. }), "{e}");
            // The leaf is not a CA: nothing can chain through it.
            let e = verify_chain(&leaf, std::slice::from_ref(&leaf), &[], now()).unwrap_err();
            assert!(matches!(e, ChainError::Incomplete { .. }), "{e}");
            // One changed byte in the signed part.
            let mut der = leaf.der.clone();
            let at = der.len() / 2;
            der[at] ^= 1;
            if let Ok(bad) = Cert::from_der(&der) {
                assert!(verify_chain(&bad, &[], std::slice::from_ref(&root), now()).is_err());
            }
        }
    }

    /// Every vendor PEM file of `../shared/vectors/tpm-roots` loads as a trust
    /// directory file would (several are not strict RFC 7468 PEM).
    #[test]
    fn vendor_pem_files_load() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/vectors/tpm-roots/keylime-tpm_cert_store");
        if !dir.is_dir() {
            println!("SKIP: {} is absent", dir.display());
            return;
        }
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let certs = crate::ca::store::load_cert_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            n += certs.len();
        }
        assert!(n >= 50, "{n}");
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
