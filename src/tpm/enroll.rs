//! The TPM host's side of AK enrollment (docs/enrollment.md): the request for an
//! attestation CA, and TPM2_ActivateCredential on its challenge.
//!
//! The EK is re-created from its TCG template ([`keys::load_ek`]); the AK is the key at
//! a persistent handle ([`keys::load_ak`]). ActivateCredential authorizes the AK with
//! the context's password session and the EK with a policy session satisfying its
//! authPolicy, PolicySecret(TPM_RH_ENDORSEMENT) (templates L-1, L-2), or with its empty
//! authValue when the EK has userWithAuth (template H-3). Every transient object and
//! session is flushed, on success and on failure: no resource manager may be in front.

use anyhow::{bail, Context as _};
use tss_esapi::attributes::SessionAttributesBuilder;
use tss_esapi::constants::SessionType;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::session_handles::{AuthSession, PolicySession};
use tss_esapi::structures::{EncryptedSecret, IdObject, SymmetricDefinition};

use crate::ca::request::{self, Challenge, RequestFile, TpmInfo};
use cerd_attestation::tpm::{
    EccCurve, HashAlg, ObjectAttributes, PublicKey as KeyParams, TpmPublic,
};

use super::keys::{self, EkKind, LoadedKey};
use super::nv::{self, call};
use super::Tpm;

/// Builds an enrollment request: every EK certificate in NV, `chain` (DER
/// intermediates) as given, the public area of the EK of `ek` kind (default: the first
/// of RSA 2048, ECC P-256, ECC P-384 that has a certificate), and the AK at `ak_handle`.
pub fn enroll_request(
    tpm: &mut Tpm,
    ak_handle: u32,
    ek: Option<EkKind>,
    chain: &[Vec<u8>],
) -> anyhow::Result<RequestFile> {
    let certs = nv::ek_certificates(tpm)?;
    if certs.is_empty() {
        bail!(
            "the TPM at {} has no EK certificate at the TCG NV indices (0x01c00002, 0x01c0000a, 0x01c00016): an attestation CA cannot check it is genuine",
            tpm.tcti()
        );
    }
    let kind = match ek {
        Some(kind) => kind,
        None => certs.first().map(|c| c.kind).context("no EK certificate")?,
    };
    let cert = certs.iter().find(|c| c.kind == kind).with_context(|| {
        format!(
            "the TPM at {} has no {kind} EK certificate (NV {:#010x})",
            tpm.tcti(),
            kind.nv_index()
        )
    })?;
    let ek_pub = keys::ek_public(tpm, kind)?;
    keys::check_certificate_key(&ek_pub.public, &cert.der).with_context(|| {
        format!(
            "the {kind} EK re-created from template {} is not the key of the certificate at NV {:#010x}",
            kind.template_name(),
            cert.index
        )
    })?;
    let ak = keys::load_ak(tpm, ak_handle)?;
    let id = super::identity(tpm)?;
    Ok(RequestFile {
        format: request::REQUEST_FORMAT.to_owned(),
        ek_certificates: certs.iter().map(|c| request::b64(&c.der)).collect(),
        ek_chain: chain.iter().map(|c| request::b64(c)).collect(),
        ek_public: request::b64(&ek_pub.public_bytes),
        ak_public: request::b64(&ak.public_bytes),
        ak_name: hex::encode(&ak.name),
        tpm: TpmInfo {
            manufacturer: id.manufacturer,
            vendor: id.vendor,
            firmware: [id.firmware.0, id.firmware.1],
        },
    })
}

/// Which TCG template the challenge's EK public area is.
fn ek_kind(ek: &TpmPublic) -> anyhow::Result<EkKind> {
    Ok(match &ek.key {
        KeyParams::Rsa { key_bits: 2048, .. } => EkKind::Rsa2048,
        KeyParams::Ecc {
            curve: EccCurve::NistP256,
            ..
        } => EkKind::EccP256,
        KeyParams::Ecc {
            curve: EccCurve::NistP384,
            ..
        } => EkKind::EccP384,
        KeyParams::Rsa { key_bits, .. } => {
            bail!("the challenge is for an RSA-{key_bits} EK; cer re-creates RSA-2048, ECC P-256 and ECC P-384 EKs")
        }
    })
}

/// Runs TPM2_ActivateCredential for `challenge` with the AK at `ak_handle` and the
/// challenge's EK, and returns the recovered credential.
pub fn activate(tpm: &mut Tpm, challenge: &Challenge, ak_handle: u32) -> anyhow::Result<Vec<u8>> {
    let kind = ek_kind(&challenge.ek_public)?;
    let ak = keys::load_ak(tpm, ak_handle)?;
    if ak.name != challenge.ak_name {
        bail!(
            "the challenge is for the AK named {}, but the AK at {ak_handle:#010x} is {}: answer it on the TPM that sent the request (or give its --ak-handle)",
            hex::encode(&challenge.ak_name),
            hex::encode(&ak.name)
        );
    }
    let ak_key = ak.load(tpm)?;
    let (ek_key, ek_pub) = match keys::load_ek(tpm, kind) {
        Ok(v) => v,
        Err(e) => {
            ak_key.release(tpm)?;
            return Err(e);
        }
    };
    let result = if ek_pub.public_bytes != challenge.ek_public.tpm2b_bytes() {
        Err(anyhow::anyhow!(
            "the challenge is for another TPM: its {kind} EK is not this TPM's (at {})",
            tpm.tcti()
        ))
    } else {
        activate_with(tpm, challenge, &ak_key, &ek_key, &challenge.ek_public)
    };
    let released = ek_key.release(tpm).and(ak_key.release(tpm));
    let credential = result?;
    released?;
    Ok(credential)
}

/// ActivateCredential with both keys loaded; starts and always flushes the EK's
/// policy session.
fn activate_with(
    tpm: &mut Tpm,
    challenge: &Challenge,
    ak: &LoadedKey,
    ek: &LoadedKey,
    ek_public: &TpmPublic,
) -> anyhow::Result<Vec<u8>> {
    let id_object = IdObject::try_from(challenge.id_object.clone())
        .context("credentialBlob is larger than a TPM2B_ID_OBJECT")?;
    let secret = EncryptedSecret::try_from(challenge.encrypted_secret.clone())
        .context("encryptedSecret is larger than a TPM2B_ENCRYPTED_SECRET")?;
    let (ak_h, ek_h) = (ak.key, ek.key);
    if ek_public
        .attributes
        .contains(ObjectAttributes::USER_WITH_AUTH)
    {
        let digest = call(tpm, "ActivateCredential", |ctx| {
            ctx.execute_with_sessions(
                (
                    Some(AuthSession::Password),
                    Some(AuthSession::Password),
                    None,
                ),
                |ctx| ctx.activate_credential(ak_h, ek_h, id_object, secret),
            )
        })?;
        return Ok(digest.value().to_vec());
    }
    let session = ek_policy_session(tpm, ek_public.name_alg)?;
    let result = (|| {
        call(tpm, "PolicySecret", |ctx| {
            ctx.policy_secret(
                PolicySession::try_from(session)?,
                tss_esapi::handles::AuthHandle::Endorsement,
                Default::default(),
                Default::default(),
                Default::default(),
                None,
            )
        })?;
        call(tpm, "ActivateCredential", |ctx| {
            ctx.execute_with_sessions((Some(AuthSession::Password), Some(session), None), |ctx| {
                ctx.activate_credential(ak_h, ek_h, id_object, secret)
            })
        })
    })();
    let flushed = call(tpm, "FlushContext", |ctx| {
        ctx.flush_context(tss_esapi::handles::SessionHandle::from(session).into())
    });
    let digest = result?;
    flushed?;
    Ok(digest.value().to_vec())
}

/// A policy session in the EK's name algorithm, kept open after use (continueSession)
/// so it is flushed explicitly whatever happens.
fn ek_policy_session(tpm: &mut Tpm, alg: HashAlg) -> anyhow::Result<AuthSession> {
    let hash = match alg {
        HashAlg::Sha256 => HashingAlgorithm::Sha256,
        HashAlg::Sha384 => HashingAlgorithm::Sha384,
        HashAlg::Sha512 => HashingAlgorithm::Sha512,
        HashAlg::Sha1 => HashingAlgorithm::Sha1,
    };
    // StartAuthSession takes no authorization: run it without the context's password
    // session.
    let session = call(tpm, "StartAuthSession", |ctx| {
        ctx.execute_without_session(|ctx| {
            ctx.start_auth_session(
                None,
                None,
                None,
                SessionType::Policy,
                SymmetricDefinition::AES_128_CFB,
                hash,
            )
        })
    })?
    .context("the TPM returned no session")?;
    let (attrs, mask) = SessionAttributesBuilder::new()
        .with_continue_session(true)
        .build();
    let set = call(tpm, "TRSess_SetAttributes", |ctx| {
        ctx.tr_sess_set_attributes(session, attrs, mask)
    });
    if let Err(e) = set {
        let _ = call(tpm, "FlushContext", |ctx| {
            ctx.flush_context(tss_esapi::handles::SessionHandle::from(session).into())
        });
        return Err(e);
    }
    Ok(session)
}
