//! Trust anchors for certificate chains: the keys a chain may end at.
//!
//! Two sources. A [`TrustStore`] holds the anchors a verifier was given (the
//! certificates of a `--trust DIR`, read by the caller and added as bytes with
//! [`TrustStore::add_pem`]); every certificate added is trusted, whoever issued it.
//! And a built-in list of pinned vendor roots ([`PINNED`]): TPM manufacturers and
//! cloud vTPM CAs, each pinned by SHA-256 of its SubjectPublicKeyInfo DER. A pin is a
//! hash, not a key, so a pinned root is used only when its certificate comes with
//! the chain (in the evidence or given with `--chain`): that certificate is then
//! accepted as the anchor because its key is pinned. A root certificate whose key is
//! neither pinned nor in the store is never an anchor — a swtpm's local CA in
//! particular is trusted only when a caller adds it to the store explicitly.

mod pinned;

use sha2::{Digest as _, Sha256};

use crate::chain::pem;
use crate::chain::{Certificate, ChainError, PublicKey};

pub use pinned::PINNED;

/// A vendor root pinned by the SHA-256 of its SubjectPublicKeyInfo DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// Who operates the root: `Infineon`, `Google GCE`, …
    pub vendor: &'static str,
    /// The root certificate's subject (RFC 4514), for messages.
    pub subject: &'static str,
    /// SHA-256 of the root's SubjectPublicKeyInfo DER.
    pub spki_sha256: [u8; 32],
}

/// 64 hex digits as 32 bytes, at compile time: a malformed literal in the pin table
/// fails the build.
#[allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
const fn hex32(s: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("pin: not a lowercase hex digit"),
        }
    }
    let b = s.as_bytes();
    if b.len() != 64 {
        panic!("pin: not 64 hex digits");
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = digit(b[2 * i]) << 4 | digit(b[2 * i + 1]);
        i += 1;
    }
    out
}

impl Pin {
    /// Whether this root is a cloud provider's vTPM root (an AK certificate chaining to
    /// it is trusted in the `cloud` AK trust mode), not a TPM manufacturer's.
    pub fn is_cloud(&self) -> bool {
        matches!(self.vendor, "Google GCE" | "Azure vTPM")
    }
}

/// The built-in pin for a key, if any.
pub fn pinned(spki_sha256: &[u8; 32]) -> Option<&'static Pin> {
    PINNED.iter().find(|p| &p.spki_sha256 == spki_sha256)
}

/// Why a key is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustSource {
    /// A built-in vendor pin.
    Pinned(&'static Pin),
    /// An anchor the caller added to the store (a trust directory).
    Store,
}

/// An anchor in a [`TrustStore`]: a certificate, or a bare public key with a name.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    name: String,
    spki_sha256: [u8; 32],
    kind: AnchorKind,
}

#[derive(Debug, Clone)]
enum AnchorKind {
    Certificate(Box<Certificate>),
    Key(PublicKey),
}

impl TrustAnchor {
    /// The subject of the certificate, or the name given with the key.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the anchor's SubjectPublicKeyInfo DER.
    pub fn spki_sha256(&self) -> [u8; 32] {
        self.spki_sha256
    }

    /// The anchor's certificate, when it was given as one.
    pub fn certificate(&self) -> Option<&Certificate> {
        match &self.kind {
            AnchorKind::Certificate(c) => Some(c),
            AnchorKind::Key(_) => None,
        }
    }

    /// The anchor's key, when it was given as a bare public key.
    pub fn public_key(&self) -> Option<&PublicKey> {
        match &self.kind {
            AnchorKind::Certificate(_) => None,
            AnchorKind::Key(k) => Some(k),
        }
    }
}

/// The trust anchors of one verification.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<TrustAnchor>,
    builtin_pins: bool,
}

impl TrustStore {
    /// An empty store that does not use the built-in pins.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that accepts root certificates whose key is pinned in
    /// [`PINNED`].
    pub fn with_builtin_pins() -> Self {
        Self {
            anchors: Vec::new(),
            builtin_pins: true,
        }
    }

    /// Whether the built-in pins are used.
    pub fn uses_builtin_pins(&self) -> bool {
        self.builtin_pins
    }

    /// Adds every `CERTIFICATE` and `PUBLIC KEY` block of a PEM text (other blocks
    /// are ignored). Returns how many anchors were added; a text with none is an error.
    pub fn add_pem(&mut self, text: &[u8]) -> Result<usize, ChainError> {
        let mut added = 0usize;
        for block in pem::blocks(text)? {
            match block.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => {
                    self.add_certificate(Certificate::from_der(&block.der)?);
                }
                "PUBLIC KEY" => {
                    let name = format!(
                        "public key {}",
                        hex::encode(Sha256::digest(&block.der).get(..8).unwrap_or_default())
                    );
                    self.add_public_key(&name, &block.der)?;
                }
                _ => continue,
            }
            added = added.saturating_add(1);
        }
        if added == 0 {
            return Err(ChainError::Pem {
                detail: "no CERTIFICATE or PUBLIC KEY block".to_owned(),
            });
        }
        Ok(added)
    }

    /// Adds the anchors of one trust-directory file: PEM (as [`Self::add_pem`]) when it
    /// holds a BEGIN line, else one DER certificate (vendor `.cer`/`.crt` files are
    /// often DER). Returns how many anchors were added.
    pub fn add_file_bytes(&mut self, bytes: &[u8]) -> Result<usize, ChainError> {
        const BEGIN: &[u8] = b"-----BEGIN ";
        if bytes.windows(BEGIN.len()).any(|w| w == BEGIN) {
            self.add_pem(bytes)
        } else {
            self.add_der(bytes).map(|()| 1)
        }
    }

    /// Adds one DER certificate.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), ChainError> {
        self.add_certificate(Certificate::from_der(der)?);
        Ok(())
    }

    /// Adds a certificate (once; a second copy of the same DER is ignored).
    pub fn add_certificate(&mut self, cert: Certificate) {
        if self
            .anchors
            .iter()
            .any(|a| a.certificate().is_some_and(|c| c.der() == cert.der()))
        {
            return;
        }
        self.anchors.push(TrustAnchor {
            name: cert.subject_text(),
            spki_sha256: cert.spki_sha256(),
            kind: AnchorKind::Certificate(Box::new(cert)),
        });
    }

    /// Adds a bare public key (SubjectPublicKeyInfo DER) under `name`.
    pub fn add_public_key(&mut self, name: &str, spki_der: &[u8]) -> Result<(), ChainError> {
        let key = PublicKey::from_spki_der(spki_der).map_err(|detail| {
            ChainError::UnsupportedAlgorithm {
                subject: name.to_owned(),
                serial: "-".to_owned(),
                detail,
            }
        })?;
        self.anchors.push(TrustAnchor {
            name: name.to_owned(),
            spki_sha256: Sha256::digest(spki_der).into(),
            kind: AnchorKind::Key(key),
        });
        Ok(())
    }

    pub fn anchors(&self) -> &[TrustAnchor] {
        &self.anchors
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty() && !self.builtin_pins
    }

    /// Why a key (by SHA-256 of its SubjectPublicKeyInfo) is trusted, if it is: an
    /// anchor in the store, else a built-in pin when those are used.
    pub fn trust_of(&self, spki_sha256: &[u8; 32]) -> Option<TrustSource> {
        if self.anchors.iter().any(|a| &a.spki_sha256 == spki_sha256) {
            return Some(TrustSource::Store);
        }
        if self.builtin_pins {
            return pinned(spki_sha256).map(TrustSource::Pinned);
        }
        None
    }
}
