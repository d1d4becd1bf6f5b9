//! The attestation CA (docs/enrollment.md): proves that an AK lives in the same
//! genuine TPM as an EK whose certificate chains to a trusted root, by the TPM 2.0
//! credential-activation protocol (Part 1 §24), and certifies the AK.
//!
//! Pure Rust, not behind the `tpm` feature: the CA runs on any machine, exchanging
//! plain files with the TPM host. Requests and responses are untrusted input, parsed
//! by [`request`] into types ([`request::FormatError`], exit 2); a well-formed input
//! that fails a check is a [`Refusal`] (exit 1).

pub mod chain;
pub mod credential;
pub mod issue;
pub mod key;
pub mod request;
pub mod store;

use std::fmt;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use cerd_attestation::tpm::{ObjectAttributes as A, TpmPublic};
use chain::{Cert, ChainError};
use key::PublicKey;
use request::{ChallengeFile, Pending, Request, Response};

/// How long a challenge stays open.
pub const CHALLENGE_TTL_SECS: u64 = 24 * 3600;

/// A well-formed request or response that the CA refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The EK certificate does not chain to a trusted root.
    EkChain(ChainError),
    /// No EK certificate in the request certifies the EK public key.
    EkNotCertified { ek: String, certified: Vec<String> },
    /// The EK is not a key ActivateCredential can use.
    EkNotStorageKey { detail: String },
    /// The AK lacks required attributes or has forbidden ones.
    AkAttributes {
        missing: Vec<&'static str>,
        forbidden: Vec<&'static str>,
    },
    /// The AK name in the request is not the name of the AK public area.
    AkName { claimed: String, computed: String },
    /// The AK's key cannot be certified.
    AkKey { detail: String },
    /// No open challenge has this id (never issued, or already used).
    UnknownChallenge { id: String },
    /// The challenge is older than [`CHALLENGE_TTL_SECS`].
    Expired { id: String },
    /// The credential is not the one the challenge protected.
    WrongCredential { id: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EkChain(e) => write!(
                f,
                "EK certificate chain is not trusted: {e} (give the TPM vendor's roots with --trust DIR; a swtpm's local CA only with --trust-swtpm-ca DIR)"
            ),
            Self::EkNotCertified { ek, certified } => write!(
                f,
                "the EK public key ({ek}) is not the key of any EK certificate in the request (they certify: {}); the request mixes two TPMs",
                certified.join(", ")
            ),
            Self::EkNotStorageKey { detail } => write!(f, "the EK cannot be used: {detail}"),
            Self::AkAttributes { missing, forbidden } => {
                write!(f, "the AK is not a TPM-bound restricted signing key:")?;
                if !missing.is_empty() {
                    write!(f, " lacks {}", missing.join(", "))?;
                }
                if !forbidden.is_empty() {
                    write!(f, " has {}", forbidden.join(", "))?;
                }
                Ok(())
            }
            Self::AkName { claimed, computed } => write!(
                f,
                "akName {claimed} is not the name of akPublic (computed {computed})"
            ),
            Self::AkKey { detail } => write!(f, "the AK key cannot be certified: {detail}"),
            Self::UnknownChallenge { id } => write!(
                f,
                "no open challenge {id} in this CA: it was never issued here or was already used"
            ),
            Self::Expired { id } => write!(
                f,
                "challenge {id} expired ({} hours); enroll again",
                CHALLENGE_TTL_SECS / 3600
            ),
            Self::WrongCredential { id } => write!(
                f,
                "the credential in the response to challenge {id} is wrong: the responding TPM did not activate this challenge (the challenge is now used up)"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// Trust anchors and extra intermediates for EK chains.
#[derive(Debug, Default)]
pub struct Trust {
    pub anchors: Vec<Cert>,
    pub intermediates: Vec<Cert>,
}

/// The checks on an AK public area: restricted signing, fixedTPM, fixedParent,
/// sensitiveDataOrigin; not decrypt.
pub fn check_ak(ak: &TpmPublic) -> Result<PublicKey, Refusal> {
    let attrs = ak.attributes;
    let missing = missing(
        attrs,
        &[
            (A::RESTRICTED, "restricted"),
            (A::SIGN_ENCRYPT, "sign"),
            (A::FIXED_TPM, "fixedTPM"),
            (A::FIXED_PARENT, "fixedParent"),
            (A::SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
        ],
    );
    let forbidden: Vec<&'static str> = if attrs.contains(A::DECRYPT) {
        vec!["decrypt"]
    } else {
        vec![]
    };
    if !missing.is_empty() || !forbidden.is_empty() {
        return Err(Refusal::AkAttributes { missing, forbidden });
    }
    let key = PublicKey::from_tpm(ak).map_err(|e| Refusal::AkKey { detail: e.0 })?;
    if let PublicKey::Rsa(k) = &key {
        let bits = rsa::traits::PublicKeyParts::n(k).bits();
        if bits < 2048 {
            return Err(Refusal::AkKey {
                detail: format!("RSA-{bits} is shorter than 2048 bits"),
            });
        }
    }
    Ok(key)
}

/// The names of the attributes in `want` that `attrs` lacks.
fn missing(attrs: A, want: &[(A, &'static str)]) -> Vec<&'static str> {
    want.iter()
        .filter(|(bit, _)| !attrs.contains(*bit))
        .map(|(_, name)| *name)
        .collect()
}

/// The checks on the EK: a restricted decryption key with a symmetric algorithm.
fn check_ek(ek: &TpmPublic) -> Result<PublicKey, Refusal> {
    let attrs = ek.attributes;
    let bad = |detail: String| Refusal::EkNotStorageKey { detail };
    let missing = missing(
        attrs,
        &[(A::RESTRICTED, "restricted"), (A::DECRYPT, "decrypt")],
    );
    if !missing.is_empty() || attrs.contains(A::SIGN_ENCRYPT) || ek.symmetric.is_none() {
        return Err(bad(format!(
            "not a restricted decryption key with a symmetric algorithm (attributes {:#010x})",
            attrs.bits()
        )));
    }
    PublicKey::from_tpm(ek).map_err(|e| bad(e.0))
}

/// A challenge for a request, and the CA's record of it.
#[derive(Debug)]
pub struct Issued {
    pub challenge: ChallengeFile,
    pub pending: Pending,
    /// For interop: the tpm2-tools credential blob (tpm2_activatecredential -i).
    pub tpm2_tools_blob: Vec<u8>,
}

/// Checks a request and computes its challenge (`cer ca challenge`).
pub fn challenge(
    request_bytes: &[u8],
    trust: &Trust,
    now: std::time::Duration,
) -> anyhow::Result<Issued> {
    let req = Request::parse(request_bytes)?;
    let ek_key = check_ek(&req.ek_public)?;
    let ek_cert = req
        .ek_certificates
        .iter()
        .find(|c| c.key().ok().as_ref() == Some(&ek_key))
        .ok_or_else(|| Refusal::EkNotCertified {
            ek: ek_key.describe(),
            certified: req
                .ek_certificates
                .iter()
                .map(|c| c.key().map(|k| k.describe()).unwrap_or_else(|e| e.0))
                .collect(),
        })?;
    let mut intermediates = req.ek_chain.clone();
    intermediates.extend(trust.intermediates.iter().cloned());
    chain::verify_chain(ek_cert, &intermediates, &trust.anchors, now).map_err(Refusal::EkChain)?;
    check_ak(&req.ak_public)?;
    let computed = req.ak_public.name().to_bytes();
    if computed != req.ak_name {
        return Err(Refusal::AkName {
            claimed: hex::encode(&req.ak_name),
            computed: hex::encode(&computed),
        }
        .into());
    }
    let mut credential = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut credential);
    let made = credential::make_credential(
        &req.ek_public,
        &computed,
        &credential,
        &mut rand::rngs::OsRng,
    )
    .map_err(|e| Refusal::EkNotStorageKey { detail: e.0 })?;
    let id = uuid::Uuid::new_v4().hyphenated().to_string();
    let mut blob = 0xBADC_C0DE_u32.to_be_bytes().to_vec();
    blob.extend_from_slice(&1u32.to_be_bytes());
    blob.extend_from_slice(&made.id_object);
    blob.extend_from_slice(&made.encrypted_secret);
    Ok(Issued {
        challenge: ChallengeFile {
            format: request::CHALLENGE_FORMAT.to_owned(),
            id: id.clone(),
            credential_blob: request::b64(&made.id_object),
            encrypted_secret: request::b64(&made.encrypted_secret),
            ek_public: request::b64(&req.ek_public.tpm2b_bytes()),
            ak_name: hex::encode(&computed),
        },
        pending: Pending {
            format: request::PENDING_FORMAT.to_owned(),
            id,
            created: now.as_secs(),
            expires: now.as_secs().saturating_add(CHALLENGE_TTL_SECS),
            credential_sha256: hex::encode(Sha256::digest(credential)),
            request_sha256: hex::encode(Sha256::digest(request_bytes)),
            ak_public: request::b64(&req.ak_public.tpm2b_bytes()),
            ek_certificate: request::b64(&ek_cert.der),
            tpm: req.tpm.clone(),
        },
        tpm2_tools_blob: blob,
    })
}

/// Equality of two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a response against its open challenge (consuming it) and issues the AK
/// certificate (`cer ca issue`). Returns the certificate PEM.
pub fn issue(
    ca: &store::Ca,
    response_bytes: &[u8],
    days: u64,
    now: std::time::Duration,
) -> anyhow::Result<String> {
    let resp = Response::parse(response_bytes)?;
    let pending = ca.take_pending(&resp.id)?;
    if now.as_secs() > pending.expires {
        return Err(Refusal::Expired { id: resp.id }.into());
    }
    let expected = hex::decode(&pending.credential_sha256).context("the CA's record is corrupt")?;
    if !constant_time_eq(&Sha256::digest(&resp.credential), &expected) {
        return Err(Refusal::WrongCredential { id: resp.id }.into());
    }
    let corrupt = || format!("the CA's record of challenge {} is corrupt", resp.id);
    let ak_public = TpmPublic::from_tpm2b(&request::unb64("akPublic", &pending.ak_public)?)
        .with_context(corrupt)?;
    let ek_der = request::unb64("ekCertificate", &pending.ek_certificate)?;
    let ek_cert = Cert::from_der(&ek_der).with_context(corrupt)?;
    let ak_key = check_ak(&ak_public)?;
    let tpm = issue::TpmAttributes::from_ek_cert(&ek_cert)
        .unwrap_or_else(|| issue::TpmAttributes::from_info(&pending.tpm));
    let (serial, path) = ca.claim_serial()?;
    let cert = issue::ak_certificate(
        &ca.key,
        &ca.cert,
        &issue::AkCertificate {
            ak: &ak_key,
            ak_name: &ak_public.name().to_bytes(),
            tpm: &tpm,
            ek_cert_sha256: Sha256::digest(&ek_der).into(),
            serial,
            now,
            days,
        },
    )?;
    let pem = der::EncodePem::to_pem(&cert, der::pem::LineEnding::LF)
        .context("cannot encode the AK certificate")?;
    crate::files::write_new(&path, pem.as_bytes(), true)?;
    Ok(pem)
}
