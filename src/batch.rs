//! What `cer attest` and the daemon share about attesting a batch: the TPM identity
//! that goes into every quote's evidence, the evidence of one quote, and attaching
//! evidence to a record under `meta.cerd` (outside the certificate hash).

use std::path::Path;

use anyhow::{bail, Context as _};
use cerd_attestation::batch::BatchHeader;
use cerd_attestation::eventlog::EventLog;
use cerd_attestation::evidence::{
    self, AkEvidence, BatchEvidence, CerdMeta, EkEvidence, Evidence, PcrValues, TpmEvidence,
};
use cerd_attestation::merkle::InclusionProof;
use serde_json::{json, Value};

use crate::tpm::keys::{self, Ak};
use crate::tpm::{identity, nv, quote, Tpm};

/// What every quote of one TPM carries besides the quote itself: the AK and what
/// vouches for it, the EK certificates, and (informative) the TPM's identity.
#[derive(Debug, Clone)]
pub struct TpmIdentity {
    pub ak: AkEvidence,
    pub ek: EkEvidence,
    pub info: Option<Value>,
}

impl TpmIdentity {
    /// Reads the EK certificates and the TPM identity; `ak_certs` (DER, leaf first)
    /// and `ek_chain` (DER intermediates) come from the caller.
    pub fn read(
        tpm: &mut Tpm,
        ak: &Ak,
        ak_certs: Vec<Vec<u8>>,
        ek_chain: Vec<Vec<u8>>,
    ) -> anyhow::Result<Self> {
        let ek_certs = nv::ek_certificates(tpm)?
            .into_iter()
            .map(|c| (c.index, c.der))
            .collect::<Vec<_>>();
        let info = identity(tpm).ok().map(|id| {
            json!({
                "manufacturer": id.manufacturer,
                "vendor": id.vendor,
                "firmware": format!("{:#010x}.{:#010x}", id.firmware.0, id.firmware.1),
            })
        });
        Ok(Self {
            ak: AkEvidence::new(
                ak.public_bytes.clone(),
                &ak.name,
                source_token(ak.source),
                ak_certs,
            ),
            ek: EkEvidence::new(ek_certs, ek_chain),
            info,
        })
    }

    /// The TPM evidence of one quote, with the boot's measurement log if there is one.
    pub fn evidence(&self, q: &quote::Quote, log: Option<EventLog>) -> TpmEvidence {
        TpmEvidence::new(
            q.attest.clone(),
            q.signature.clone(),
            PcrValues::sha256(&q.pcrs),
            self.ak.clone(),
            self.ek.clone(),
            log,
            self.info.clone(),
        )
    }
}

/// The evidence's `ak.source` token (docs/record-format.md).
pub fn source_token(source: keys::AkSource) -> &'static str {
    match source {
        keys::AkSource::Created => "created",
        keys::AkSource::Gce => "gce",
        keys::AkSource::Azure => "azure",
        keys::AkSource::External => "external",
    }
}

/// The AK certificate chain to carry: `extra` (PEM, leaf first, checked to certify
/// this AK) or the platform's own AK certificate.
pub fn ak_certificates(ak: &Ak, extra: Option<&Path>) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut certs = Vec::new();
    if let Some(path) = extra {
        certs = pem_chain(path)?;
        let first = certs
            .first()
            .with_context(|| format!("{} holds no certificate", path.display()))?;
        keys::check_certificate_key(&ak.public, first)
            .with_context(|| format!("{} is not a certificate for this AK", path.display()))?;
    } else if let Some(c) = &ak.certificate {
        certs.push(c.clone());
    }
    Ok(certs)
}

/// Certificates (DER) from a PEM file holding one or more.
pub fn pem_chain(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let chain = x509_cert::Certificate::load_pem_chain(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate chain: {e}", path.display()))?;
    if chain.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    chain
        .iter()
        .map(|c| der::Encode::to_der(c).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())))
        .collect()
}

/// `meta.cerd` for one record of a batch.
pub fn meta(header: BatchHeader, proof: InclusionProof, tpm: Option<TpmEvidence>) -> CerdMeta {
    CerdMeta::new(Evidence::new(BatchEvidence::new(header, proof), tpm))
}

/// Puts `meta` under the record's `meta.cerd`, keeping any other `meta` keys. The
/// hashed fields are not touched.
pub fn attach(record: &mut Value, meta: &CerdMeta) -> anyhow::Result<()> {
    let meta_value = serde_json::to_value(meta).context("cannot encode the evidence")?;
    let top = record
        .as_object_mut()
        .context("a record is a JSON object")?;
    match top.get_mut("meta").and_then(Value::as_object_mut) {
        Some(m) => {
            m.insert(evidence::META_KEY.into(), meta_value);
        }
        None => {
            top.insert("meta".into(), json!({ evidence::META_KEY: meta_value }));
        }
    }
    Ok(())
}
