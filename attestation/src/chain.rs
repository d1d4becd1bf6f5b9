//! X.509 certificate chains (RFC 5280 §6, reduced to what TPM EK and AK chains need):
//! path building from a leaf through a pool of untrusted certificates to a trust
//! anchor ([`crate::roots`]), with every signature verified over the exact signed
//! bytes.
//!
//! # Parsing real TPM certificates
//!
//! x509-cert 0.2 (der 0.7) decodes DER strictly. Over the public TPM vendor and cloud
//! roots (`../shared/vectors/tpm-roots`) it refuses six STMicro intermediates (serial
//! numbers with a redundant leading zero byte, X.690 §8.3.2), and it silently sorts
//! the multi-valued RDN of Nuvoton roots (`C=TW+O=…+CN=…`, a SET OF not in DER order),
//! so a certificate re-encoded from its types no longer matches its signature. This
//! module therefore splits certificates with its own bounded TLV reader
//! ([`Certificate::from_der`]) and:
//!
//! - keeps the tbsCertificate TLV byte for byte and verifies signatures over it;
//! - keeps names raw, compares them raw first and then prepared (RDNs as sets,
//!   directory strings by text, case and spaces folded: [`Name`]), and uses x509-cert
//!   only to print them;
//! - accepts integers with redundant leading bytes (serial, pathLen), serial 0,
//!   explicitly encoded DEFAULT values (`critical FALSE`, `cA FALSE`), non-minimal
//!   long-form lengths, the empty subject of EK certificates with their critical
//!   subjectAltName, RSA signatures that lost leading zero bytes and ECDSA integers
//!   with redundant leading zeros;
//! - refuses indefinite lengths, trailing bytes, duplicate extensions and a
//!   tbsCertificate.signature that differs from signatureAlgorithm. NV padding after a
//!   certificate is the caller's to remove ([`strip_nv_padding`]).
//!
//! [`Certificate::strict_der`] tells whether x509-cert alone would have read a
//! certificate unchanged; verification never depends on it.
//!
//! # Path validation
//!
//! [`verify_chain`] checks: validity at [`ChainOptions::at`] of every certificate in
//! the path (the anchor's certificate too, when the anchor is one); each issuer has
//! basicConstraints cA (its pathLenConstraint respected) and, when keyUsage is
//! present, keyCertSign; no certificate has a critical extension this module does not
//! process; signatures are RSA PKCS#1 v1.5 (SHA-1/256/384/512), RSASSA-PSS with
//! explicit parameters, or ECDSA P-256/P-384/P-521 (SHA-256/384/512), SHA-1 only when
//! [`ChainOptions::allow_sha1`]. Names match as [`Name::matches`] says; key
//! identifiers, when both present, must agree. Not implemented (no TPM
//! chain needs them): policy processing, name constraints (a critical one is refused),
//! revocation.
//!
//! # Anchors
//!
//! A path ends at the first certificate whose key the [`TrustStore`] trusts (a
//! trust-store anchor, or a root carried in the pool whose key is pinned), or at a
//! bare-key anchor that verifies the last signature. As in RFC 5280 §6.1 an anchor is
//! its key: the anchor certificate's own signature is not verified (it would cost an
//! RSA-4096 operation for the GCE root and proves nothing about the key); its validity
//! and CA fields are checked as given. Only when the leaf itself is a trusted root is
//! its self-signature verified, since its other fields are then all the caller gets.

mod cert;
pub(crate) mod der;
mod error;
mod key;
mod name;
pub mod pem;
mod signature;

use time::OffsetDateTime;

use crate::roots::{TrustSource, TrustStore};

pub use cert::{ext, BasicConstraints, Certificate, Extension};
pub use error::ChainError;
pub use key::PublicKey;
pub use name::Name;
pub use signature::{Hash, SignatureAlgorithm};

/// The default bound on the number of certificates in a path, anchor included.
pub const DEFAULT_MAX_DEPTH: usize = 8;

/// At most this many signature verifications while searching for a path.
const MAX_SIGNATURE_CHECKS: usize = 64;

/// How a chain is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// The time every certificate must be valid at.
    pub at: OffsetDateTime,
    /// Accept SHA-1 signatures (legacy Infineon and Nuvoton chains).
    pub allow_sha1: bool,
    /// The most certificates a path may have, leaf and anchor included.
    pub max_depth: usize,
}

impl ChainOptions {
    /// Verification at `at`, SHA-1 refused, depth [`DEFAULT_MAX_DEPTH`].
    pub fn new(at: OffsetDateTime) -> Self {
        Self {
            at,
            allow_sha1: false,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// The trust anchor a path ends at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The anchor certificate's subject, or the name of a bare-key anchor.
    pub name: String,
    /// SHA-256 of the anchor's SubjectPublicKeyInfo DER.
    pub spki_sha256: [u8; 32],
    /// Why it is trusted.
    pub source: TrustSource,
}

/// A verified path.
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    /// Leaf first, up to and including the anchor's certificate when the anchor is one.
    pub path: Vec<Certificate>,
    pub anchor: Anchor,
}

impl VerifiedChain {
    /// The subjects along the path, leaf first.
    pub fn subjects(&self) -> Vec<String> {
        self.path.iter().map(|c| c.subject_text()).collect()
    }
}

/// Finds a path from `leaf` through certificates of `pool` (untrusted: intermediates,
/// and roots that count only when `trust` trusts their key) to an anchor of `trust`,
/// valid under `opts`. Every candidate issuer is tried (names, then key identifiers,
/// must match); no certificate or key appears twice in a path. When no path exists the
/// error is the one from the attempt that got furthest (a bad signature or an expired
/// intermediate rather than a generic "incomplete").
pub fn verify_chain(
    leaf: &Certificate,
    pool: &[Certificate],
    trust: &TrustStore,
    opts: &ChainOptions,
) -> Result<VerifiedChain, ChainError> {
    check_own(leaf, opts)?;
    if let Some(source) = trust
        .trust_of(&leaf.spki_sha256())
        .filter(|_| leaf.is_self_issued())
    {
        // A root checked by itself: its key is an anchor, and its own signature must
        // vouch for the rest of it (SHA-1 accepted: a root's self-signature protects
        // only its own fields, and old vendor roots sign themselves with it).
        leaf.verify_signed_by(leaf, true)?;
        return Ok(VerifiedChain {
            path: vec![leaf.clone()],
            anchor: Anchor {
                name: leaf.subject_text(),
                spki_sha256: leaf.spki_sha256(),
                source,
            },
        });
    }
    let mut search = Search {
        pool,
        trust,
        opts,
        checks: 0,
        best: None,
    };
    let mut path = vec![leaf];
    match search.extend(&mut path) {
        Some(anchor) => Ok(VerifiedChain {
            path: path.into_iter().cloned().collect(),
            anchor,
        }),
        None => Err(search
            .best
            .map(|(_, e)| e)
            .unwrap_or_else(|| ChainError::Incomplete {
                subject: leaf.subject_text(),
                serial: leaf.serial_hex(),
                issuer: leaf.issuer().text(),
            })),
    }
}

/// Every certificate in `bytes`: the PEM `CERTIFICATE` blocks when the bytes hold a
/// PEM BEGIN line, else one DER certificate.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, ChainError> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if bytes.windows(BEGIN.len()).any(|w| w == BEGIN) {
        parse_pem_certificates(bytes)
    } else {
        Certificate::from_der(bytes).map(|c| vec![c])
    }
}

/// The certificates of the `CERTIFICATE` blocks of a PEM text, in order (an empty list
/// when it has none; other blocks are skipped).
pub fn parse_pem_certificates(text: &[u8]) -> Result<Vec<Certificate>, ChainError> {
    pem::blocks(text)?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE" || b.label == "X509 CERTIFICATE")
        .map(|b| Certificate::from_der(&b.der))
        .collect()
}

/// The certificate at the front of an NV index read: its DER, when everything after it
/// is padding (all 0xFF, or all 0x00). TPM vendors size EK certificate indices larger
/// than the certificate (TCG EK Credential Profile §2.2.1.5).
pub fn strip_nv_padding(bytes: &[u8]) -> Result<&[u8], ChainError> {
    let (cert, rest) = der::split_first_tlv(bytes)?;
    if rest.iter().all(|b| *b == 0xff) || rest.iter().all(|b| *b == 0) {
        Ok(cert)
    } else {
        Err(ChainError::Malformed {
            field: "NV certificate",
            offset: cert.len(),
            detail: format!(
                "{} bytes after the certificate are not padding (0xFF or 0x00)",
                rest.len()
            ),
        })
    }
}

/// Validity at the chosen time and no unprocessed critical extension.
fn check_own(cert: &Certificate, opts: &ChainOptions) -> Result<(), ChainError> {
    cert.check_validity(opts.at)?;
    cert.check_critical_extensions()
}

/// Whether `issuer` may be the issuer of `cert` by name and key identifier.
fn names_issuer(cert: &Certificate, issuer: &Certificate) -> bool {
    if !cert.issuer().matches(issuer.subject()) {
        return false;
    }
    match (cert.authority_key_id(), issuer.subject_key_id()) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

struct Search<'a, 'o> {
    pool: &'a [Certificate],
    trust: &'a TrustStore,
    opts: &'o ChainOptions,
    /// Signature verifications so far.
    checks: usize,
    /// The failure of the attempt that got furthest: (path length, error).
    best: Option<(usize, ChainError)>,
}

impl<'a> Search<'a, '_> {
    fn fail(&mut self, depth: usize, e: ChainError) {
        if self.best.as_ref().is_none_or(|(d, _)| depth > *d) {
            self.best = Some((depth, e));
        }
    }

    /// Counts one signature verification; false when the budget is spent.
    fn spend(&mut self, depth: usize, subject: &Certificate) -> bool {
        if self.checks >= MAX_SIGNATURE_CHECKS {
            // Reported only when nothing got further: replaces no better failure.
            self.fail(
                depth,
                ChainError::SearchLimit {
                    subject: subject.subject_text(),
                    checks: self.checks,
                },
            );
            return false;
        }
        self.checks = self.checks.saturating_add(1);
        true
    }

    /// Checks that `issuer` issued `cert`, with `below` intermediates under `issuer`.
    fn link(
        &mut self,
        cert: &Certificate,
        issuer: &Certificate,
        below: usize,
    ) -> Result<(), ChainError> {
        let not_ca = |detail: &str| ChainError::IssuerNotCa {
            subject: issuer.subject_text(),
            serial: issuer.serial_hex(),
            detail: detail.to_owned(),
        };
        match issuer.basic_constraints() {
            Some(bc) if bc.ca => {
                if let Some(max) = bc.path_len {
                    if u64::try_from(below).unwrap_or(u64::MAX) > max {
                        return Err(ChainError::PathLenExceeded {
                            subject: issuer.subject_text(),
                            serial: issuer.serial_hex(),
                            max,
                            found: below,
                        });
                    }
                }
            }
            Some(_) => return Err(not_ca("basicConstraints cA is false")),
            None => return Err(not_ca("it has no basicConstraints extension")),
        }
        if !issuer.may_sign_certificates() {
            return Err(not_ca("its keyUsage lacks keyCertSign"));
        }
        cert.verify_signed_by(issuer, self.opts.allow_sha1)
    }

    /// Extends `path` (leaf first) to an anchor; on success `path` holds the whole
    /// path. Depth-first over every candidate issuer.
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) -> Option<Anchor> {
        let cert: &'a Certificate = path.last().copied()?;
        let depth = path.len();
        let below = depth.saturating_sub(1);
        let trust = self.trust;
        let pool = self.pool;

        for anchor in trust.anchors() {
            if let Some(a) = anchor.certificate() {
                if !names_issuer(cert, a) || path.iter().any(|p| p.der() == a.der()) {
                    continue;
                }
                if !self.spend(depth, cert) {
                    return None;
                }
                match self
                    .link(cert, a, below)
                    .and_then(|()| check_own(a, self.opts))
                {
                    Ok(()) => {
                        path.push(a);
                        return Some(Anchor {
                            name: anchor.name().to_owned(),
                            spki_sha256: anchor.spki_sha256(),
                            source: TrustSource::Store,
                        });
                    }
                    Err(e) => self.fail(depth, e),
                }
            } else if let Some(key) = anchor.public_key() {
                if !self.spend(depth, cert) {
                    return None;
                }
                // A bare key has no name to match: it is the anchor when it verifies.
                if cert
                    .verify_signed_by_key(key, anchor.name(), self.opts.allow_sha1)
                    .is_ok()
                {
                    return Some(Anchor {
                        name: anchor.name().to_owned(),
                        spki_sha256: anchor.spki_sha256(),
                        source: TrustSource::Store,
                    });
                }
            }
        }

        for candidate in pool {
            if !names_issuer(cert, candidate)
                || path
                    .iter()
                    .any(|p| p.der() == candidate.der() || p.spki_der() == candidate.spki_der())
            {
                continue;
            }
            if depth >= self.opts.max_depth {
                self.fail(
                    depth,
                    ChainError::TooLong {
                        subject: cert.subject_text(),
                        max: self.opts.max_depth,
                    },
                );
                return None;
            }
            if !self.spend(depth, cert) {
                return None;
            }
            if let Err(e) = self
                .link(cert, candidate, below)
                .and_then(|()| check_own(candidate, self.opts))
            {
                self.fail(depth, e);
                continue;
            }
            path.push(candidate);
            if let Some(source) = trust.trust_of(&candidate.spki_sha256()) {
                return Some(Anchor {
                    name: candidate.subject_text(),
                    spki_sha256: candidate.spki_sha256(),
                    source,
                });
            }
            if let Some(anchor) = self.extend(path) {
                return Some(anchor);
            }
            path.pop();
        }

        let dead_end = if cert.is_self_issued() {
            ChainError::UntrustedRoot {
                subject: cert.subject_text(),
                spki_sha256: hex::encode(cert.spki_sha256()),
            }
        } else {
            ChainError::Incomplete {
                subject: cert.subject_text(),
                serial: cert.serial_hex(),
                issuer: cert.issuer().text(),
            }
        };
        self.fail(depth, dead_end);
        None
    }
}
