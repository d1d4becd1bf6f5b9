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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tpm::keys::{ensure_ak, AkAlg, Occupied};
    use crate::tpm::test_support::Bare;

    fn setup() -> (Bare, Tpm, crate::tpm::keys::LoadedKey) {
        let sw = Bare::start();
        let mut tpm = Tpm::open(&sw.tcti()).unwrap();
        let (ak, _) = ensure_ak(&mut tpm, AkAlg::EccP256, 0x8101_0002, Occupied::Refuse).unwrap();
        let key = ak.load(&mut tpm).unwrap();
        (sw, tpm, key)
    }

    #[test]
    fn quote_carries_the_qualifying_data_and_the_pcrs_it_covers() {
        let (_sw, mut tpm, key) = setup();
        pcr::extend(&mut tpm, 15, &[7; 32]).unwrap();
        let q = quote(&mut tpm, key.key, &[0xab; 32], &[16, 15, 15]).unwrap();
        assert_eq!(q.pcrs.len(), 2, "sorted and deduplicated");
        assert_eq!(q.pcrs[0].0, 15);
        assert_eq!(q.pcrs[0].1, pcr::read(&mut tpm, 15).unwrap());
        // TPMS_ATTEST: magic 0xff544347, type TPM_ST_ATTEST_QUOTE (0x8018), then
        // qualifiedSigner (TPM2B_NAME) and extraData (TPM2B_DATA) = our 32 bytes.
        assert_eq!(q.attest[..6], [0xff, 0x54, 0x43, 0x47, 0x80, 0x18]);
        let signer_len = usize::from(u16::from_be_bytes([q.attest[6], q.attest[7]]));
        let extra = 8 + signer_len;
        assert_eq!(q.attest[extra..extra + 2], [0, 32]);
        assert_eq!(q.attest[extra + 2..extra + 34], [0xab; 32]);
        // TPMT_SIGNATURE: TPM_ALG_ECDSA (0x0018), hash TPM_ALG_SHA256 (0x000b).
        assert_eq!(q.signature[..4], [0x00, 0x18, 0x00, 0x0b]);
        assert!(quote(&mut tpm, key.key, &[0; 32], &[24]).is_err(), "PCR 24");
        key.release(&mut tpm).unwrap();
    }

    /// Time per quote on swtpm (docs/performance.md):
    /// `cargo test --bin cer tpm::quote::tests::bench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench() {
        let (_sw, mut tpm, key) = setup();
        let n = 200u32;
        let start = std::time::Instant::now();
        for i in 0..n {
            let mut q = [0u8; 32];
            q[..4].copy_from_slice(&i.to_be_bytes());
            quote(&mut tpm, key.key, &q, &[15]).unwrap();
        }
        let per = start.elapsed() / n;
        println!("quote (ECDSA P-256 AK, PCR 15, PCRs read before and after): {per:?} per quote");
        key.release(&mut tpm).unwrap();
    }
}
