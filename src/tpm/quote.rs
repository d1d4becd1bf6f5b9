//! TPM2_Quote over a batch header hash (TPM 2.0 Part 3 §18.4).

use tss_esapi::handles::KeyHandle;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::structures::{Data, PcrSelectionListBuilder, PcrSlot, SignatureScheme};
use tss_esapi::traits::Marshall;

use super::{pcr, refused, Tpm};

/// A quote and the PCR values it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// TPMS_ATTEST, marshalled (what the AK signed).
    pub attest: Vec<u8>,
    /// TPMT_SIGNATURE, marshalled.
    pub signature: Vec<u8>,
    /// The SHA-256 bank values of the quoted PCRs, ascending by index, as read right
    /// before and after the quote (equal, or the quote is retried).
    pub pcrs: Vec<(u8, [u8; 32])>,
}

/// Quotes the SHA-256 bank of `pcrs` with the loaded AK `key`, with
/// `qualifying` (the 32-byte batch header hash) as qualifying data, signed with the
/// AK's own scheme.
///
/// PCR values are read before and after the quote; if another process extended a PCR
/// in between, the quote is taken again (up to 3 times) so the values carried with the
/// quote are the ones it covers.
pub fn quote(
    tpm: &mut Tpm,
    key: KeyHandle,
    qualifying: &[u8; 32],
    pcrs: &[u8],
) -> anyhow::Result<Quote> {
    let mut indices: Vec<u8> = pcrs.to_vec();
    indices.sort_unstable();
    indices.dedup();
    if let Some(bad) = indices.iter().find(|&&p| p > 23) {
        anyhow::bail!("PCR {bad} does not exist (a TPM has PCRs 0 to 23)");
    }
    let slots = indices
        .iter()
        .map(|&p| PcrSlot::try_from(1u32 << p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("invalid PCR selection {indices:?}: {e}"))?;
    let selection = PcrSelectionListBuilder::new()
        .with_selection(HashingAlgorithm::Sha256, &slots)
        .build()
        .map_err(|e| anyhow::anyhow!("invalid PCR selection {indices:?}: {e}"))?;
    let data = Data::try_from(qualifying.to_vec())
        .map_err(|e| anyhow::anyhow!("qualifying data rejected: {e}"))?;
    let tcti = tpm.tcti().clone();
    let mut result = None;
    for _ in 0..3 {
        let before = pcr::read_many(tpm, &indices)?;
        let (attest, signature) = tpm
            .ctx()
            .quote(key, data.clone(), SignatureScheme::Null, selection.clone())
            .map_err(|e| refused(&tcti, "Quote", e))?;
        let after = pcr::read_many(tpm, &indices)?;
        if before == after {
            result = Some((attest, signature, after));
            break;
        }
    }
    let (attest, signature, values) = result.ok_or_else(|| {
        anyhow::anyhow!("PCRs {indices:?} kept changing during 3 quotes; something on this host extends them continuously")
    })?;
    Ok(Quote {
        attest: attest
            .marshall()
            .map_err(|e| anyhow::anyhow!("cannot marshal TPMS_ATTEST: {e}"))?,
        signature: signature
            .marshall()
            .map_err(|e| anyhow::anyhow!("cannot marshal TPMT_SIGNATURE: {e}"))?,
        pcrs: values,
    })
}
