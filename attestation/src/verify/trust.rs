//! Who vouches for the attestation key: the `AK trust` and `EK chain` checks.
//!
//! A quote proves that *some* key signed the batch header. These checks establish that
//! the key lives in a genuine TPM, in one of the ways the policy accepts
//! ([`AkTrustMode`]):
//!
//! - **enrolled**: the AK certificate chains to an attestation CA the policy names
//!   (`attestation_ca`), and the EK certificate that CA checked — named in the AK
//!   certificate by its SHA-256 ([`ext::CERD_EK_CERT_SHA256`]) — is carried in the
//!   evidence and chains to a TPM vendor root;
//! - **cloud**: the AK certificate chains to a cloud vTPM root (a built-in GCE or Azure
//!   pin, or a root of the verifier's trust directory);
//! - **pinned**: the SHA-256 of the AK's SubjectPublicKeyInfo is in `pinned_aks`.
//!
//! Vendor roots (for EK chains and cloud AKs) and attestation CA roots are kept in two
//! separate stores: a TPM vendor root never certifies an AK, and an attestation CA
//! never certifies an EK.
//!
//! Without a policy, trust that cannot be established is reported SKIPPED
//! (`NO_POLICY`), as the allow-list checks are: the verdict then covers integrity and
//! the quote only. Evidence that contradicts itself (an AK certificate for another
//! key, a named EK certificate that is not carried) fails with or without a policy.
//!
//! Chain results are cached per [`Trust`] by the certificates' bytes and the
//! verification time, so the records of one batch (which carry the same certificates)
//! pay for path building once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use der::Decode as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::{Check, CheckId, Reason};
use crate::chain::{ext, verify_chain, Certificate, ChainOptions};
use crate::evidence::TpmEvidence;
use crate::policy::{AkTrustMode, Policy};
use crate::roots::{TrustSource, TrustStore};
use crate::snp::SnpPolicy;
use crate::tpm::AttestationKey;

/// Remembered `SEV-SNP report` checks: key → (the `[snp]` policy applied, result).
type SnpCache = HashMap<[u8; 32], (SnpPolicy, Check)>;

/// The verifier's trust anchors for one run, with a cache of chain results.
#[derive(Debug, Clone)]
pub struct Trust {
    /// Roots of TPM manufacturers and cloud vTPMs: EK chains and cloud AK chains end
    /// here (the built-in pins, the `--trust` directory, a dev swtpm CA).
    pub vendors: TrustStore,
    /// Roots of attestation CAs (the policy's `attestation_ca`): enrolled AK chains end
    /// here.
    pub attestation_cas: TrustStore,
    /// Intermediate certificates the verifier supplies (untrusted, used for path
    /// building only), e.g. a swtpm local CA's issuer certificate.
    pub intermediates: Vec<Certificate>,
    /// Keys (SPKI SHA-256) of vendor-store roots that may anchor EK chains only, never
    /// a cloud AK (a dev swtpm local CA).
    ek_only: Vec<[u8; 32]>,
    cache: Arc<Mutex<HashMap<[u8; 32], ChainResult>>>,
    /// `SEV-SNP report` results by evidence, binding and time, with the `[snp]`
    /// policy they were judged under: every record of a batch carries the same report.
    snp_cache: Arc<Mutex<SnpCache>>,
}

impl Default for Trust {
    /// The built-in vendor pins, no attestation CA.
    fn default() -> Self {
        Self::new(
            TrustStore::with_builtin_pins(),
            TrustStore::new(),
            Vec::new(),
        )
    }
}

impl Trust {
    /// Trust from its parts.
    pub fn new(
        vendors: TrustStore,
        attestation_cas: TrustStore,
        intermediates: Vec<Certificate>,
    ) -> Self {
        Self {
            vendors,
            attestation_cas,
            intermediates,
            ek_only: Vec::new(),
            cache: Arc::default(),
            snp_cache: Arc::default(),
        }
    }

    /// Adds a root that anchors EK chains only (never a cloud AK certificate), with
    /// its intermediates: how a dev policy trusts a swtpm's local CA.
    pub fn add_ek_only_root(&mut self, root: Certificate, intermediates: Vec<Certificate>) {
        self.ek_only.push(root.spki_sha256());
        self.vendors.add_certificate(root);
        self.intermediates.extend(intermediates);
    }

    /// Chain results computed so far (for tests and measurements).
    pub fn cached_chains(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// SEV-SNP report results computed so far (for tests and measurements).
    pub fn cached_snp_reports(&self) -> usize {
        self.snp_cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// The `SEV-SNP report` check for evidence whose inputs hash to `key`, judged
    /// under `policy`: computed by `check` once, then remembered.
    pub(super) fn snp_check(
        &self,
        key: [u8; 32],
        policy: &SnpPolicy,
        check: impl FnOnce() -> Check,
    ) -> Check {
        let hit = self.snp_cache.lock().ok().and_then(|c| {
            c.get(&key)
                .filter(|(p, _)| p == policy)
                .map(|(_, v)| v.clone())
        });
        if let Some(hit) = hit {
            return hit;
        }
        let result = check();
        if let Ok(mut c) = self.snp_cache.lock() {
            c.insert(key, (policy.clone(), result.clone()));
        }
        result
    }

    /// [`verify_chain`] from `leaf` through `pool` and the supplied intermediates to
    /// `store`, memoised.
    fn chain(
        &self,
        store: Store,
        leaf: &Certificate,
        pool: &[Certificate],
        opts: &ChainOptions,
    ) -> ChainResult {
        let mut h = Sha256::new();
        h.update([store as u8, u8::from(opts.allow_sha1)]);
        h.update(opts.at.unix_timestamp().to_be_bytes());
        for c in std::iter::once(leaf).chain(pool) {
            h.update((c.der().len() as u64).to_be_bytes());
            h.update(c.der());
        }
        let key: [u8; 32] = h.finalize().into();
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        let mut all = pool.to_vec();
        all.extend(self.intermediates.iter().cloned());
        let anchors = match store {
            Store::Vendors => &self.vendors,
            Store::AttestationCas => &self.attestation_cas,
        };
        let result = verify_chain(leaf, &all, anchors, opts)
            .map(|v| Chained {
                anchor: v.anchor.name,
                cloud: match v.anchor.source {
                    TrustSource::Pinned(pin) => pin.is_cloud(),
                    _ => !self.ek_only.contains(&v.anchor.spki_sha256),
                },
                pinned_vendor: match v.anchor.source {
                    TrustSource::Pinned(pin) => Some(pin.vendor),
                    _ => None,
                },
                length: v.path.len(),
            })
            .map_err(|e| format!("{e} ({})", e.code()));
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, result.clone());
        }
        result
    }
}

#[derive(Debug, Clone, Copy)]
enum Store {
    Vendors = 1,
    AttestationCas = 2,
}

#[derive(Debug, Clone)]
struct Chained {
    anchor: String,
    /// The anchor is a cloud vTPM pin, or a root of the verifier's own directory.
    cloud: bool,
    pinned_vendor: Option<&'static str>,
    length: usize,
}

impl Chained {
    fn describe(&self) -> String {
        let via = match self.pinned_vendor {
            Some(v) => format!("built-in {v} pin"),
            None => "trusted root".into(),
        };
        format!("{} certificate(s) to {} ({via})", self.length, self.anchor)
    }
}

type ChainResult = Result<Chained, String>;

/// The two checks, for a bundle whose evidence carries a TPM quote.
/// `ak` is the AK as the quote check parsed it (`None` when its public area is unusable).
pub(super) fn checks(
    tpm: &TpmEvidence,
    ak: Option<&AttestationKey>,
    policy: Option<&Policy>,
    trust: &Trust,
    at: OffsetDateTime,
) -> (Check, Check) {
    let default_policy;
    let p = match policy {
        Some(p) => p,
        None => {
            default_policy = Policy::default();
            &default_policy
        }
    };
    let opts = ChainOptions {
        allow_sha1: p.allow_sha1,
        ..ChainOptions::new(at)
    };
    // The EK intermediates, parsed once for every EK certificate's chain.
    let ek_pool = tpm
        .ek
        .chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Certificate::from_der(&c.0).map_err(|e| format!("ek.chain[{i}]: {e} ({})", e.code()))
        })
        .collect::<Result<Vec<_>, _>>();
    let (ak, named_ek) = ak_trust(tpm, ak, p, trust, &ek_pool, &opts);
    let ek = ek_chain(tpm, named_ek.as_ref(), trust, &ek_pool, &opts);
    let soften = |c: Check| {
        if policy.is_none()
            && matches!(
                c.reason,
                Some(Reason::AkCertUntrusted | Reason::AkCertMissing | Reason::EkCertUntrusted)
            )
            && c.status == super::Status::Fail
        {
            Check::skipped(
                c.check,
                Reason::NoPolicy,
                format!(
                    "not established (give --policy to require it): {}",
                    c.message
                ),
            )
        } else {
            c
        }
    };
    (soften(ak), soften(ek))
}

/// The AK-trust check, and the SHA-256 of the EK certificate an enrolled AK's
/// certificate names (for the EK-chain check).
fn ak_trust(
    tpm: &TpmEvidence,
    ak: Option<&AttestationKey>,
    p: &Policy,
    trust: &Trust,
    ek_pool: &EkPool,
    opts: &ChainOptions,
) -> (Check, Option<[u8; 32]>) {
    let fail = |reason, m: String| (Check::fail(CheckId::AkTrust, reason, m), None);
    let Some(ak) = ak else {
        return (
            Check::skipped(
                CheckId::AkTrust,
                Reason::NotEvaluated,
                "the AK public area is unusable or does not match ak.name (see hardware evidence)",
            ),
            None,
        );
    };
    let spki_sha256: [u8; 32] = Sha256::digest(ak.spki_der()).into();
    if p.ak_trust.contains(&AkTrustMode::Pinned) && p.pinned_aks.contains(&spki_sha256) {
        return (
            Check::pass(
                CheckId::AkTrust,
                format!(
                    "the AK's key (SPKI sha256:{}) is pinned in the policy",
                    hex::encode(spki_sha256)
                ),
            ),
            None,
        );
    }
    let mut certs = Vec::with_capacity(tpm.ak.certificates.len());
    for (i, der) in tpm.ak.certificates.iter().enumerate() {
        match Certificate::from_der(&der.0) {
            Ok(c) => certs.push(c),
            Err(e) => {
                return fail(
                    Reason::EvidenceMalformed,
                    format!("ak.certificates[{i}]: {e} ({})", e.code()),
                )
            }
        }
    }
    let Some((leaf, pool)) = certs.split_first() else {
        let pinned_only = if p.ak_trust.contains(&AkTrustMode::Pinned) {
            format!(
                " and its key (SPKI sha256:{}) is not in pinned_aks",
                hex::encode(spki_sha256)
            )
        } else {
            String::new()
        };
        let m = format!(
            "the AK has no certificate{pinned_only}: nothing shows which TPM holds it; enroll it with `cer ca` and attest with --ak-cert"
        );
        return if p.dev.allow_unenrolled_ak {
            (
                Check::skipped(
                    CheckId::AkTrust,
                    Reason::AkCertMissing,
                    format!("{m} (accepted by the dev switch allow_unenrolled_ak)"),
                ),
                None,
            )
        } else {
            fail(Reason::AkCertMissing, m)
        };
    };
    if leaf.spki_der() != ak.spki_der() {
        return fail(
            Reason::AkCertKeyMismatch,
            format!(
                "ak.certificates[0] ({}) certifies another key than the AK",
                leaf.subject_text()
            ),
        );
    }
    if let Some(name) = octets(leaf, ext::CERD_AK_NAME) {
        if hex::encode(&name) != tpm.ak.name {
            return fail(
                Reason::AkCertKeyMismatch,
                format!(
                    "the AK certificate names the TPM object {}, the AK is {}",
                    hex::encode(name),
                    tpm.ak.name
                ),
            );
        }
    }

    let mut tried = Vec::new();
    if p.ak_trust.contains(&AkTrustMode::Enrolled) {
        if trust.attestation_cas.is_empty() {
            tried.push("enrolled: the policy names no attestation_ca".to_owned());
        } else {
            match trust.chain(Store::AttestationCas, leaf, pool, opts) {
                Err(e) => tried.push(format!("enrolled: {e}")),
                Ok(chained) => return enrolled(tpm, leaf, &chained, trust, ek_pool, opts),
            }
        }
    }
    if p.ak_trust.contains(&AkTrustMode::Cloud) {
        match trust.chain(Store::Vendors, leaf, pool, opts) {
            Ok(c) if c.cloud => {
                return (
                    Check::pass(
                        CheckId::AkTrust,
                        format!(
                            "cloud vTPM AK: its certificate chains through {}",
                            c.describe()
                        ),
                    ),
                    None,
                )
            }
            Ok(c) => tried.push(format!(
                "cloud: the AK certificate chains to {}, a TPM manufacturer root, not a cloud vTPM root",
                c.anchor
            )),
            Err(e) => tried.push(format!("cloud: {e}")),
        }
    }
    let modes = p
        .ak_trust
        .iter()
        .map(|m| format!("{m:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(", ");
    fail(
        Reason::AkCertUntrusted,
        format!(
            "the AK certificate ({}) is not trusted in any accepted mode ({modes}): {}",
            leaf.subject_text(),
            tried.join("; ")
        ),
    )
}

/// The enrolled mode after the AK certificate chained to an attestation CA: the EK
/// certificate it names must be carried and chain to a vendor root.
fn enrolled(
    tpm: &TpmEvidence,
    leaf: &Certificate,
    chained: &Chained,
    trust: &Trust,
    ek_pool: &EkPool,
    opts: &ChainOptions,
) -> (Check, Option<[u8; 32]>) {
    let fail = |reason, m: String| (Check::fail(CheckId::AkTrust, reason, m), None);
    let Some(ek_hash) = octets(leaf, ext::CERD_EK_CERT_SHA256)
        .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
    else {
        return fail(
            Reason::AkCertUntrusted,
            format!(
                "the AK certificate chains through {}, but names no EK certificate (extension {}): the CA's EK check cannot be repeated",
                chained.describe(),
                ext::CERD_EK_CERT_SHA256
            ),
        );
    };
    let Some(ek) = tpm
        .ek
        .certificates
        .iter()
        .find(|c| <[u8; 32]>::from(Sha256::digest(&c.der.0)) == ek_hash)
    else {
        return fail(
            Reason::EkCertNotCarried,
            format!(
                "the AK certificate names the EK certificate sha256:{}, which the evidence does not carry",
                hex::encode(ek_hash)
            ),
        );
    };
    match ek_chain_one(&ek.der.0, trust, ek_pool, opts) {
        Ok(ek_chained) => (
            Check::pass(
                CheckId::AkTrust,
                format!(
                    "enrolled AK: its certificate chains through {}, and the EK certificate it names (NV {}) chains through {}",
                    chained.describe(),
                    ek.nv_index,
                    ek_chained.describe()
                ),
            ),
            Some(ek_hash),
        ),
        Err(e) => (
            Check::fail(
                CheckId::AkTrust,
                Reason::EkCertUntrusted,
                format!(
                    "the AK certificate chains through {}, but the EK certificate it names (NV {}) does not chain to a TPM vendor root: {e}",
                    chained.describe(),
                    ek.nv_index
                ),
            ),
            Some(ek_hash),
        ),
    }
}

/// The EK-chain check: every carried EK certificate chains to a vendor root (the one
/// an enrolled AK names first).
fn ek_chain(
    tpm: &TpmEvidence,
    named: Option<&[u8; 32]>,
    trust: &Trust,
    ek_pool: &EkPool,
    opts: &ChainOptions,
) -> Check {
    if tpm.ek.certificates.is_empty() {
        return Check::skipped(
            CheckId::EkChain,
            Reason::EvidenceAbsent,
            "the evidence carries no EK certificate",
        );
    }
    let mut order: Vec<_> = tpm.ek.certificates.iter().collect();
    if let Some(i) = named.and_then(|n| {
        order
            .iter()
            .position(|c| <[u8; 32]>::from(Sha256::digest(&c.der.0)) == *n)
    }) {
        order.swap(0, i);
    }
    let mut passed = Vec::new();
    for ek in order {
        match ek_chain_one(&ek.der.0, trust, ek_pool, opts) {
            Ok(c) => passed.push(format!("NV {} through {}", ek.nv_index, c.describe())),
            Err(e) => {
                return Check::fail(
                    CheckId::EkChain,
                    Reason::EkCertUntrusted,
                    format!(
                        "the EK certificate at NV {} does not chain to a TPM vendor root: {e}",
                        ek.nv_index
                    ),
                )
            }
        }
    }
    Check::pass(
        CheckId::EkChain,
        format!("EK certificate(s) chain: {}", passed.join("; ")),
    )
}

/// The evidence's EK intermediates, parsed (or the first one that does not parse).
type EkPool = Result<Vec<Certificate>, String>;

fn ek_chain_one(der: &[u8], trust: &Trust, ek_pool: &EkPool, opts: &ChainOptions) -> ChainResult {
    let leaf = Certificate::from_der(der).map_err(|e| format!("{e} ({})", e.code()))?;
    let pool = ek_pool.as_ref().map_err(Clone::clone)?;
    trust.chain(Store::Vendors, &leaf, pool, opts)
}

/// The content of an extension whose extnValue is an OCTET STRING.
fn octets(cert: &Certificate, oid: der::asn1::ObjectIdentifier) -> Option<Vec<u8>> {
    let e = cert.extension(oid)?;
    der::asn1::OctetString::from_der(&e.value)
        .ok()
        .map(|o| o.as_bytes().to_vec())
}
