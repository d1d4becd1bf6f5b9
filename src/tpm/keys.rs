//! Keys: the attestation key (AK) that signs quotes and the endorsement keys (EK) whose
//! certificates prove the TPM is genuine.
//!
//! # The AK
//!
//! A restricted signing key (TPM 2.0 Part 1 §25.3.1.4: it signs only digests the TPM
//! produced itself, so it cannot be made to sign a forged TPMS_ATTEST), fixedTPM and
//! fixedParent (it cannot leave this TPM), made by TPM2_CreatePrimary in the
//! **endorsement hierarchy** from a fixed template ([`AkAlg::template`]).
//!
//! Why a primary key and not a child of the EK: a primary key is a deterministic
//! function of the hierarchy seed (the EPS) and the template (Part 1 §27.1), so the same
//! template on the same TPM gives the same key, after a reboot, after the persistent
//! copy was evicted, and on another machine that only knows the template. A child key
//! of the EK would be random, its private blob would have to be stored on disk and
//! loaded under the EK with a PolicySecret(endorsement) session each time, and losing
//! that file would lose the AK (and its certificate). The EPS changes only with
//! TPM2_ChangeEPS (and TPM2_Clear does not change it), so the AK survives an owner clear
//! as the EK does. The same shape — the signer attributes below, SHA-256 names, zero
//! `unique`, endorsement hierarchy — is what go-tpm-tools uses for its default AKs.
//! Like the EK, the AK is then a stable identifier of the TPM; that is the point here
//! (records are bound to one machine), but it is linkable across uses.
//!
//! The AK is made persistent (TPM2_EvictControl) so other processes find it without
//! re-deriving it. Default handles: [`AK_HANDLE_ECC`] 0x81010002 and [`AK_HANDLE_RSA`]
//! 0x81010003. The TCG TPM v2.0 Provisioning Guidance (§7.8, reserved handles) puts the
//! SRK at 0x81000001 and the EK at 0x81010001, and the TCG handle registry gives
//! 0x81010000–0x8101FFFF to endorsement-hierarchy primary keys, which the AK is. Azure
//! keeps its platform AK at 0x81000003 ([`AZURE_AK_HANDLE`]); tpm2-tools' tutorials
//! persist AKs at 0x81010002. Some tools (go-tpm-tools) also call 0x81010002 the "ECC
//! EK" handle; swtpm puts its EKs at 0x81010001 and 0x81010016. The handle is therefore
//! configurable, and an occupied handle is never overwritten by surprise: a key there
//! that equals the template's key is reused, anything else is refused unless the caller
//! asks to replace it ([`Occupied::Replace`], `--force`).
//!
//! # Platform AKs
//!
//! Where the cloud platform already certified an AK, [`platform_ak`] finds it and carries
//! its certificate: GCE stores an AK template (TPMT_PUBLIC) at NV 0x01c10001 (RSA) /
//! 0x01c10003 (ECC) and the AK certificate at 0x01c10000 / 0x01c10002; the AK itself is
//! re-created with CreatePrimary in the endorsement hierarchy from that template. Azure
//! keeps the AK persistent at 0x81000003 and its certificate at NV 0x01c101d0.
//!
//! # EKs
//!
//! [`ek_public`] re-creates an EK from the TCG EK Credential Profile default templates
//! (2.x, Annex B: L-1 RSA 2048, L-2 ECC P-256, H-3 ECC P-384) and [`check_certificate_key`]
//! compares it with the key in the EK certificate from NV: equality proves both the
//! template and the certificate belong to this TPM's EPS.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context as _};
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::handles::{KeyHandle, ObjectHandle, PersistentTpmHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::dynamic_handles::Persistent;
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::interface_types::resource_handles::{Hierarchy, Provision};
use tss_esapi::structures::{
    Digest, EccParameter, EccPoint, EccScheme, HashScheme, KeyDerivationFunctionScheme, Public,
    PublicBuilder, PublicEccParametersBuilder, PublicKeyRsa, PublicRsaParametersBuilder,
    RsaExponent, RsaScheme, SymmetricDefinitionObject,
};
use tss_esapi::traits::UnMarshall;

use super::nv::{self, call, call_open};
use super::Tpm;

pub mod ek;
pub mod public;

pub use ek::{ek_public, load_ek, EkKind};
pub use public::{check_certificate_key, describe, marshal, name_of, tpm2b_public, PublicKey};
use public::{endorsement_primary_qualified_name, same_template};

/// Default persistent handle of the ECC P-256 AK.
pub const AK_HANDLE_ECC: u32 = 0x8101_0002;
/// Default persistent handle of the RSA 2048 AK.
pub const AK_HANDLE_RSA: u32 = 0x8101_0003;
/// GCE: RSA AK certificate.
pub const GCE_AK_CERT_RSA: u32 = 0x01c1_0000;
/// GCE: RSA AK template (TPMT_PUBLIC).
pub const GCE_AK_TEMPLATE_RSA: u32 = 0x01c1_0001;
/// GCE: ECC AK certificate.
pub const GCE_AK_CERT_ECC: u32 = 0x01c1_0002;
/// GCE: ECC AK template (TPMT_PUBLIC).
pub const GCE_AK_TEMPLATE_ECC: u32 = 0x01c1_0003;
/// Azure: the platform AK's persistent handle.
pub const AZURE_AK_HANDLE: u32 = 0x8100_0003;
/// Azure: the platform AK's certificate.
pub const AZURE_AK_CERT: u32 = 0x01c1_01d0;

/// TPM_RH_ENDORSEMENT, the endorsement hierarchy's handle (Part 2 §7.4); a hierarchy's
/// qualified name is its handle (Part 1 §16).
const TPM_RH_ENDORSEMENT: u32 = 0x4000_000b;

// ---------------------------------------------------------------------------------------
// AK algorithm and template

/// The AK's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AkAlg {
    /// ECC NIST P-256, ECDSA with SHA-256 (the default).
    #[default]
    EccP256,
    /// RSA 2048, RSASSA-PKCS1-v1_5 with SHA-256.
    Rsa2048,
}

impl AkAlg {
    /// Where `cer tpm ak create` persists this AK unless told otherwise.
    pub fn default_handle(self) -> u32 {
        match self {
            Self::EccP256 => AK_HANDLE_ECC,
            Self::Rsa2048 => AK_HANDLE_RSA,
        }
    }

    /// The fixed AK template (TPM 2.0 Part 2 §12.2.4 TPMT_PUBLIC): nameAlg SHA-256;
    /// objectAttributes fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth |
    /// restricted | sign (0x00050072); empty authPolicy; no symmetric algorithm.
    /// ECC: curve NIST P-256, scheme ECDSA/SHA-256, kdf null, unique x = y = 32 zero
    /// bytes. RSA: 2048 bits, exponent 0 (= 65537), scheme RSASSA/SHA-256, unique 256
    /// zero bytes. `unique` is only the derivation's entropy input; fixing it fixes the key.
    pub fn template(self) -> anyhow::Result<Public> {
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            .with_sensitive_data_origin(true)
            .with_user_with_auth(true)
            .with_restricted(true)
            .with_sign_encrypt(true)
            .build()?;
        let builder = PublicBuilder::new()
            .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
            .with_object_attributes(attributes)
            .with_auth_policy(Digest::default());
        let public = match self {
            Self::EccP256 => builder
                .with_public_algorithm(PublicAlgorithm::Ecc)
                .with_ecc_parameters(
                    PublicEccParametersBuilder::new()
                        .with_symmetric(SymmetricDefinitionObject::Null)
                        .with_ecc_scheme(EccScheme::EcDsa(HashScheme::new(
                            HashingAlgorithm::Sha256,
                        )))
                        .with_curve(EccCurve::NistP256)
                        .with_key_derivation_function_scheme(KeyDerivationFunctionScheme::Null)
                        .with_is_signing_key(true)
                        .with_is_decryption_key(false)
                        .with_restricted(true)
                        .build()?,
                )
                .with_ecc_unique_identifier(zero_point(32)?)
                .build()?,
            Self::Rsa2048 => builder
                .with_public_algorithm(PublicAlgorithm::Rsa)
                .with_rsa_parameters(
                    PublicRsaParametersBuilder::new()
                        .with_symmetric(SymmetricDefinitionObject::Null)
                        .with_scheme(RsaScheme::RsaSsa(HashScheme::new(HashingAlgorithm::Sha256)))
                        .with_key_bits(RsaKeyBits::Rsa2048)
                        .with_exponent(RsaExponent::default())
                        .with_is_signing_key(true)
                        .with_is_decryption_key(false)
                        .with_restricted(true)
                        .build()?,
                )
                .with_rsa_unique_identifier(PublicKeyRsa::new_empty_with_size(RsaKeyBits::Rsa2048))
                .build()?,
        };
        Ok(public)
    }

    /// The algorithm of an AK's public area, if it is one of ours.
    pub fn of(public: &Public) -> Option<Self> {
        match public {
            Public::Ecc { parameters, .. } if parameters.ecc_curve() == EccCurve::NistP256 => {
                Some(Self::EccP256)
            }
            Public::Rsa { parameters, .. } if parameters.key_bits() == RsaKeyBits::Rsa2048 => {
                Some(Self::Rsa2048)
            }
            _ => None,
        }
    }
}

impl FromStr for AkAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ecc" | "ecc-p256" | "p256" | "ecdsa" => Ok(Self::EccP256),
            "rsa" | "rsa-2048" | "rsa2048" => Ok(Self::Rsa2048),
            other => Err(format!(
                "unknown AK algorithm {other:?}: expected ecc (P-256, ECDSA-SHA256) or rsa (2048, RSASSA-SHA256)"
            )),
        }
    }
}

impl fmt::Display for AkAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EccP256 => "ecc-p256 (ECDSA-SHA256)",
            Self::Rsa2048 => "rsa-2048 (RSASSA-SHA256)",
        })
    }
}

fn zero_point(size: usize) -> anyhow::Result<EccPoint> {
    Ok(EccPoint::new(
        EccParameter::try_from(vec![0u8; size])?,
        EccParameter::try_from(vec![0u8; size])?,
    ))
}

// ---------------------------------------------------------------------------------------
// The AK

/// Where an AK came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AkSource {
    /// cer's template ([`AkAlg::template`]) in the endorsement hierarchy.
    Created,
    /// GCE's AK: template and certificate from NV.
    Gce,
    /// Azure's AK: persistent at 0x81000003, certificate from NV.
    Azure,
    /// A restricted signing key found at a persistent handle that cer's template did
    /// not make (e.g. provisioned by other tools).
    External,
}

impl fmt::Display for AkSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "created (cer template, endorsement hierarchy)",
            Self::Gce => "gce (platform AK from NV template, certificate from NV)",
            Self::Azure => "azure (platform AK at 0x81000003, certificate from NV)",
            Self::External => "external (a restricted signing key cer did not create)",
        })
    }
}

/// How to get at the AK in the TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AkHandle {
    /// A persistent object at this handle.
    Persistent(u32),
    /// Not persistent: re-created with CreatePrimary(endorsement) from this template
    /// (read from NV `index`) each time it is used (GCE).
    Template { index: u32, template: Box<Public> },
}

impl fmt::Display for AkHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Persistent(h) => write!(f, "{h:#010x}"),
            Self::Template { index, .. } => {
                write!(f, "transient, from the template at NV {index:#010x}")
            }
        }
    }
}

/// An attestation key in the TPM, with everything others need to check its quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ak {
    pub handle: AkHandle,
    pub alg: AkAlg,
    /// The public area the TPM reports (ReadPublic).
    pub public: Public,
    /// TPM2B_PUBLIC, marshalled: what goes into evidence and enrollment requests.
    pub public_bytes: Vec<u8>,
    /// The TPM name: nameAlg (2 bytes) || H(TPMT_PUBLIC); checked against ReadPublic.
    pub name: Vec<u8>,
    pub source: AkSource,
    /// The platform's AK certificate, DER (GCE, Azure).
    pub certificate: Option<Vec<u8>>,
    /// The NV index the certificate was read from.
    pub certificate_index: Option<u32>,
}

impl Ak {
    /// The AK's public key (for PEM/SPKI output and signature checks).
    pub fn public_key(&self) -> anyhow::Result<PublicKey> {
        PublicKey::from_tpm(&self.public)
    }

    /// Makes the AK usable for TPM2_Quote in this context: opens the persistent object
    /// or re-creates the GCE AK from its template. The TPM's name for it must still be
    /// [`Ak::name`]. Call [`LoadedKey::release`] when done.
    pub fn load(&self, tpm: &mut Tpm) -> anyhow::Result<LoadedKey> {
        match &self.handle {
            AkHandle::Persistent(handle) => {
                let object = open_persistent(tpm, *handle)?;
                let loaded = LoadedKey {
                    key: KeyHandle::from(object),
                    flush: false,
                };
                let name = call_open(tpm, "TR_GetName", |ctx| ctx.tr_get_name(object));
                match name {
                    Ok(name) if name.value() == self.name.as_slice() => Ok(loaded),
                    Ok(name) => {
                        loaded.release(tpm)?;
                        bail!(
                            "the key at persistent handle {handle:#010x} in the TPM at {} changed: its name is now {}, expected {}",
                            tpm.tcti(),
                            hex::encode(name.value()),
                            hex::encode(&self.name)
                        )
                    }
                    Err(e) => {
                        loaded.release(tpm)?;
                        Err(e)
                    }
                }
            }
            AkHandle::Template { index, template } => {
                let (loaded, public) = create_primary(tpm, template.as_ref().clone())?;
                if marshal(&public)? != marshal(&self.public)? {
                    loaded.release(tpm)?;
                    bail!(
                        "the AK re-created from the template at NV {index:#010x} differs from the one certified"
                    );
                }
                Ok(loaded)
            }
        }
    }
}

/// A key usable in this ESAPI context. Transient keys (GCE AK, EKs) are flushed by
/// [`LoadedKey::release`]; persistent ones only lose their ESAPI record.
#[derive(Debug)]
#[must_use = "release the key (flushes transient objects: there is no resource manager in front of swtpm)"]
pub struct LoadedKey {
    pub key: KeyHandle,
    flush: bool,
}

impl LoadedKey {
    /// Flushes a transient key, closes a persistent key's ESAPI handle.
    pub fn release(self, tpm: &mut Tpm) -> anyhow::Result<()> {
        if self.flush {
            call_open(tpm, "FlushContext", |ctx| {
                ctx.flush_context(self.key.into())
            })
        } else {
            let mut object = ObjectHandle::from(self.key);
            call_open(tpm, "TR_Close", |ctx| ctx.tr_close(&mut object))
        }
    }
}

/// What [`ensure_ak`] should do when the persistent handle holds a different key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupied {
    /// Refuse, naming the handle and what occupies it.
    Refuse,
    /// Evict it and persist the AK there (`--force`).
    Replace,
}

/// What [`ensure_ak`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provisioned {
    /// The handle already held the template's key.
    Reused,
    /// The handle was free; the AK was made persistent there.
    Persisted,
    /// Another key was evicted and the AK persisted in its place.
    Replaced,
}

impl fmt::Display for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reused => "reused",
            Self::Persisted => "persisted",
            Self::Replaced => "replaced",
        })
    }
}

/// Creates the AK from [`AkAlg::template`] in the endorsement hierarchy and makes it
/// persistent at `handle` (owner persistent range 0x81000000..=0x817fffff), reusing it
/// when it is already there. The transient copy is always flushed.
pub fn ensure_ak(
    tpm: &mut Tpm,
    alg: AkAlg,
    handle: u32,
    occupied: Occupied,
) -> anyhow::Result<(Ak, Provisioned)> {
    let persistent = owner_persistent(handle)?;
    let (transient, public) = create_primary(tpm, alg.template()?)?;
    let result = persist(tpm, &transient, &public, handle, persistent, occupied);
    let flushed = transient.release(tpm);
    let provisioned = result?;
    flushed?;
    let mut ak = load_ak(tpm, handle)?;
    if marshal(&ak.public)? != marshal(&public)? {
        bail!(
            "the key at persistent handle {handle:#010x} in the TPM at {} is not the one just made persistent",
            tpm.tcti()
        );
    }
    ak.source = AkSource::Created;
    Ok((ak, provisioned))
}

fn persist(
    tpm: &mut Tpm,
    transient: &LoadedKey,
    public: &Public,
    handle: u32,
    persistent: PersistentTpmHandle,
    occupied: Occupied,
) -> anyhow::Result<Provisioned> {
    let mut provisioned = Provisioned::Persisted;
    if nv::persistent_handles(tpm)?.contains(&handle) {
        let object = open_persistent(tpm, handle)?;
        let existing = call_open(tpm, "ReadPublic", |ctx| {
            ctx.read_public(KeyHandle::from(object))
        });
        let existing = match existing {
            Ok((p, name, _)) => (p, name),
            Err(e) => {
                close(tpm, object)?;
                return Err(e);
            }
        };
        if marshal(&existing.0)? == marshal(public)? {
            close(tpm, object)?;
            return Ok(Provisioned::Reused);
        }
        if occupied == Occupied::Refuse {
            close(tpm, object)?;
            bail!(
                "persistent handle {handle:#010x} in the TPM at {} holds another key ({}, name {}); \
                 cer did not create it and will not evict it: choose another --handle, or use --force to replace it",
                tpm.tcti(),
                describe(&existing.0),
                hex::encode(existing.1.value())
            );
        }
        call(tpm, "EvictControl", |ctx| {
            ctx.evict_control(Provision::Owner, object, Persistent::Persistent(persistent))
        })?;
        // ESYS keeps its record of the evicted object (keyed by the TPM handle, with the
        // old name) while tss-esapi already forgot it; drop the record, or the next
        // TR_FromTPMPublic on this handle fails with "name mismatch". tss-esapi's own
        // bookkeeping then reports the handle unknown, which is expected here.
        let mut stale = object;
        let _ = tpm.ctx().tr_close(&mut stale);
        provisioned = Provisioned::Replaced;
    }
    let object = call(tpm, "EvictControl", |ctx| {
        ctx.evict_control(
            Provision::Owner,
            transient.key.into(),
            Persistent::Persistent(persistent),
        )
    })?;
    close(tpm, object)?;
    Ok(provisioned)
}

/// Reads the AK at a persistent handle: its public area and name (checked against the
/// public area's hash), refusing keys that are not restricted, fixed signing keys.
pub fn load_ak(tpm: &mut Tpm, handle: u32) -> anyhow::Result<Ak> {
    if !(0x8100_0000..=0x81ff_ffff).contains(&handle) {
        bail!("{handle:#010x} is not a persistent handle (0x81000000..=0x81ffffff)");
    }
    if !nv::persistent_handles(tpm)?.contains(&handle) {
        bail!(
            "no key at persistent handle {handle:#010x} in the TPM at {t}: create the AK with `cer tpm ak create --tcti {t} --handle {handle:#010x}`",
            t = tpm.tcti()
        );
    }
    let (public, name, qualified) = read_persistent(tpm, handle)?;
    if let Err(why) = check_ak_attributes(&public) {
        bail!(
            "the key at persistent handle {handle:#010x} in the TPM at {} is not an attestation key: {why}",
            tpm.tcti()
        );
    }
    let alg = AkAlg::of(&public).with_context(|| {
        format!(
            "the key at persistent handle {handle:#010x} is a {}; cer uses ECC P-256 and RSA 2048 AKs",
            describe(&public)
        )
    })?;
    let computed = name_of(&public)?;
    if computed != name {
        bail!(
            "TPM at {} reports name {} for persistent handle {handle:#010x}, but its public area hashes to {}",
            tpm.tcti(),
            hex::encode(&name),
            hex::encode(&computed)
        );
    }
    let ours = same_template(&public, &alg.template()?)
        && qualified == endorsement_primary_qualified_name(&name)?;
    Ok(Ak {
        handle: AkHandle::Persistent(handle),
        alg,
        public_bytes: tpm2b_public(&public)?,
        public,
        name,
        source: if ours {
            AkSource::Created
        } else {
            AkSource::External
        },
        certificate: None,
        certificate_index: None,
    })
}

/// The platform's own certified AK, if there is one: GCE (ECC first, then RSA), then
/// Azure. A layout that is present but broken (template not a TPMT_PUBLIC, certificate
/// for another key) is an error naming the index; an absent one is `None`.
pub fn platform_ak(tpm: &mut Tpm) -> anyhow::Result<Option<Ak>> {
    let indices = nv::nv_indices(tpm)?;
    for (template_index, cert_index) in [
        (GCE_AK_TEMPLATE_ECC, GCE_AK_CERT_ECC),
        (GCE_AK_TEMPLATE_RSA, GCE_AK_CERT_RSA),
    ] {
        if indices.contains(&template_index) && indices.contains(&cert_index) {
            return gce_ak(tpm, template_index, cert_index).map(Some);
        }
    }
    if indices.contains(&AZURE_AK_CERT) && nv::persistent_handles(tpm)?.contains(&AZURE_AK_HANDLE) {
        let mut ak = load_ak(tpm, AZURE_AK_HANDLE)?;
        let cert = certificate_at(tpm, AZURE_AK_CERT)?;
        check_certificate_key(&ak.public, &cert).with_context(|| {
            format!(
                "the Azure AK certificate at NV {AZURE_AK_CERT:#010x} is not for the key at {AZURE_AK_HANDLE:#010x}"
            )
        })?;
        ak.source = AkSource::Azure;
        ak.certificate = Some(cert);
        ak.certificate_index = Some(AZURE_AK_CERT);
        return Ok(Some(ak));
    }
    Ok(None)
}

fn gce_ak(tpm: &mut Tpm, template_index: u32, cert_index: u32) -> anyhow::Result<Ak> {
    let bytes = nv::read_nv(tpm, template_index)?;
    let template = parse_template(&bytes).map_err(|why| {
        anyhow::anyhow!("NV index {template_index:#010x} does not hold an AK template: {why}")
    })?;
    if let Err(why) = check_ak_attributes(&template) {
        bail!("the AK template at NV {template_index:#010x} is not for an attestation key: {why}");
    }
    let alg = AkAlg::of(&template).with_context(|| {
        format!(
            "the AK template at NV {template_index:#010x} is for a {}; cer uses ECC P-256 and RSA 2048 AKs",
            describe(&template)
        )
    })?;
    let (loaded, public) = create_primary(tpm, template.clone())?;
    let read = call_open(tpm, "ReadPublic", |ctx| ctx.read_public(loaded.key));
    let released = loaded.release(tpm);
    let (read_public, reported, _) = read?;
    released?;
    let name = name_of(&read_public)?;
    if marshal(&read_public)? != marshal(&public)? || name != reported.value() {
        bail!(
            "TPM at {} reports a different public area or name for the AK made from NV {template_index:#010x}",
            tpm.tcti()
        );
    }
    let cert = certificate_at(tpm, cert_index)?;
    check_certificate_key(&public, &cert).with_context(|| {
        format!(
            "the GCE AK certificate at NV {cert_index:#010x} is not for the AK made from the template at NV {template_index:#010x}"
        )
    })?;
    Ok(Ak {
        handle: AkHandle::Template {
            index: template_index,
            template: Box::new(template),
        },
        alg,
        public_bytes: tpm2b_public(&public)?,
        public,
        name,
        source: AkSource::Gce,
        certificate: Some(cert),
        certificate_index: Some(cert_index),
    })
}

fn certificate_at(tpm: &mut Tpm, index: u32) -> anyhow::Result<Vec<u8>> {
    match nv::read_certificate(tpm, index)? {
        Some((der, _padding)) => Ok(der),
        None => nv::read_nv(tpm, index), // not defined: read_nv names the index
    }
}

/// An AK template from NV: a TPMT_PUBLIC (what GCE writes and go-tpm-tools reads), or
/// a TPM2B_PUBLIC (size-prefixed), with nothing after it.
fn parse_template(bytes: &[u8]) -> Result<Public, String> {
    let exact = |b: &[u8]| -> Option<Public> {
        let p = Public::unmarshall(b).ok()?;
        (marshal(&p).ok()?.as_slice() == b).then_some(p)
    };
    if let Some(p) = exact(bytes) {
        return Ok(p);
    }
    if let Some((size, rest)) = bytes.split_first_chunk::<2>() {
        if usize::from(u16::from_be_bytes(*size)) == rest.len() {
            if let Some(p) = exact(rest) {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "its {} bytes are not one TPMT_PUBLIC or TPM2B_PUBLIC (TPM 2.0 Part 2 §12.2.4-5)",
        bytes.len()
    ))
}

/// Why `public` cannot be an AK, if it cannot: an AK is a restricted signing key,
/// fixedTPM and fixedParent, with a signing scheme, and no decrypt.
pub fn check_ak_attributes(public: &Public) -> Result<(), String> {
    let a = public.object_attributes();
    let mut missing = Vec::new();
    for (set, name) in [
        (a.restricted(), "restricted"),
        (a.sign_encrypt(), "sign"),
        (a.fixed_tpm(), "fixedTPM"),
        (a.fixed_parent(), "fixedParent"),
    ] {
        if !set {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "{} is not {}",
            describe(public),
            missing.join(", ")
        ));
    }
    if a.decrypt() {
        return Err(format!("{} can also decrypt", describe(public)));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// TPM plumbing

fn owner_persistent(handle: u32) -> anyhow::Result<PersistentTpmHandle> {
    if !(0x8100_0000..=0x817f_ffff).contains(&handle) {
        bail!(
            "{handle:#010x} is not an owner persistent handle (0x81000000..=0x817fffff; 0x81800000 and up belong to the platform)"
        );
    }
    PersistentTpmHandle::new(handle)
        .with_context(|| format!("{handle:#010x} is not a persistent handle"))
}

/// CreatePrimary in the endorsement hierarchy; the key stays loaded.
fn create_primary(tpm: &mut Tpm, template: Public) -> anyhow::Result<(LoadedKey, Public)> {
    let created = call(tpm, "CreatePrimary", |ctx| {
        ctx.create_primary(Hierarchy::Endorsement, template, None, None, None, None)
    })?;
    Ok((
        LoadedKey {
            key: created.key_handle,
            flush: true,
        },
        created.out_public,
    ))
}

fn open_persistent(tpm: &mut Tpm, handle: u32) -> anyhow::Result<ObjectHandle> {
    let persistent = PersistentTpmHandle::new(handle)
        .with_context(|| format!("{handle:#010x} is not a persistent handle"))?;
    call_open(tpm, "ReadPublic", |ctx| {
        ctx.tr_from_tpm_public(TpmHandle::Persistent(persistent))
    })
}

fn close(tpm: &mut Tpm, mut object: ObjectHandle) -> anyhow::Result<()> {
    call_open(tpm, "TR_Close", |ctx| ctx.tr_close(&mut object))
}

/// ReadPublic of a persistent object: public area, name, qualified name.
fn read_persistent(tpm: &mut Tpm, handle: u32) -> anyhow::Result<(Public, Vec<u8>, Vec<u8>)> {
    let object = open_persistent(tpm, handle)?;
    let read = call_open(tpm, "ReadPublic", |ctx| {
        ctx.read_public(KeyHandle::from(object))
    });
    close(tpm, object)?;
    let (public, name, qualified) = read?;
    Ok((public, name.value().to_vec(), qualified.value().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    #[test]
    fn ak_templates_have_the_documented_bytes() {
        // TPMT_PUBLIC: type, nameAlg, objectAttributes, authPolicy (empty), ...
        let ecc = marshal(&AkAlg::EccP256.template().unwrap()).unwrap();
        assert_eq!(
            hex::encode(&ecc[..10]),
            "0023000b000500720000",
            "ECC, SHA-256, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign"
        );
        // symmetric NULL, scheme ECDSA SHA-256, curve P-256, kdf NULL, x/y 32 zero bytes
        assert_eq!(hex::encode(&ecc[10..20]), "00100018000b00030010");
        assert_eq!(&ecc[20..22], &[0, 32]);
        assert_eq!(ecc.len(), 10 + 10 + 2 * 34);

        let rsa = marshal(&AkAlg::Rsa2048.template().unwrap()).unwrap();
        assert_eq!(hex::encode(&rsa[..10]), "0001000b000500720000");
        // symmetric NULL, scheme RSASSA SHA-256, 2048 bits, exponent 0, 256-byte unique
        assert_eq!(hex::encode(&rsa[10..24]), "00100014000b0800000000000100");
        assert_eq!(rsa.len(), 24 + 256);
    }

    #[test]
    fn templates_from_nv_accept_tpmt_and_tpm2b() {
        let t = AkAlg::Rsa2048.template().unwrap();
        let tpmt = marshal(&t).unwrap();
        assert_eq!(parse_template(&tpmt).unwrap(), t);
        assert_eq!(parse_template(&tpm2b_public(&t).unwrap()).unwrap(), t);
        let mut trailing = tpmt.clone();
        trailing.extend([0xff, 0xff]);
        assert!(parse_template(&trailing).is_err());
        assert!(parse_template(&[0x00, 0x23]).is_err());
        assert!(parse_template(&[]).is_err());
    }

    #[test]
    fn ak_attribute_checks() {
        assert!(check_ak_attributes(&AkAlg::EccP256.template().unwrap()).is_ok());
        assert!(check_ak_attributes(&AkAlg::Rsa2048.template().unwrap()).is_ok());
        let why = check_ak_attributes(&EkKind::Rsa2048.template().unwrap()).unwrap_err();
        assert!(why.contains("is not sign"), "{why}");
        assert!(why.contains("RSA-2048 restricted decrypt"), "{why}");
    }

    #[test]
    fn owner_persistent_range() {
        assert!(owner_persistent(0x8101_0002).is_ok());
        assert!(owner_persistent(0x817f_ffff).is_ok());
        for bad in [0x8180_0000, 0x0100_0000, 0x8000_0001, 0x81ff_ffff] {
            let err = owner_persistent(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:#010x}")), "{err}");
        }
    }

    #[test]
    fn endorsement_qualified_names() {
        let name = name_of(&AkAlg::EccP256.template().unwrap()).unwrap();
        let qn = endorsement_primary_qualified_name(&name).unwrap();
        let mut h = Sha256::new();
        h.update(0x4000_000bu32.to_be_bytes());
        h.update(&name);
        assert_eq!(&qn[2..], h.finalize().as_slice());
        assert!(endorsement_primary_qualified_name(&[0, 4, 1]).is_err());
    }

    #[test]
    fn alg_strings() {
        assert_eq!("ecc".parse::<AkAlg>().unwrap(), AkAlg::EccP256);
        assert_eq!("RSA".parse::<AkAlg>().unwrap(), AkAlg::Rsa2048);
        assert!("dsa".parse::<AkAlg>().is_err());
        assert_eq!(AkAlg::default().default_handle(), 0x8101_0002);
        assert_eq!(AkAlg::Rsa2048.default_handle(), 0x8101_0003);
    }
}
