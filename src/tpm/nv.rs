//! NV indices (TPM 2.0 Part 3 §31): what the manufacturer or the cloud platform stored
//! in the TPM — EK certificates at the TCG indices, GCE's AK template and certificate,
//! Azure's AK certificate — read in chunks of the TPM's NV buffer size.
//!
//! Certificates in NV are often followed by padding (the index was defined larger than
//! the certificate and filled with 0xFF or 0x00); [`strip_der_padding`] keeps exactly the
//! outer DER SEQUENCE and refuses anything after it that is not padding.

use anyhow::{bail, Context as _};
use tss_esapi::constants::{CapabilityType, PropertyTag};
use tss_esapi::handles::{NvIndexHandle, NvIndexTpmHandle, TpmHandle};
use tss_esapi::interface_types::resource_handles::NvAuth;
use tss_esapi::structures::{CapabilityData, MaxNvBuffer};
use tss_esapi::Context;

use super::keys::EkKind;
use super::Tpm;

/// RSA 2048 EK certificate, TCG EK Credential Profile 2.x §2.2.1.4 (low range).
pub const EK_CERT_RSA2048: u32 = 0x01c0_0002;
/// ECC NIST P-256 EK certificate, low range (§2.2.1.4).
pub const EK_CERT_ECC_P256: u32 = 0x01c0_000a;
/// ECC NIST P-384 EK certificate, high range (§2.2.1.5).
pub const EK_CERT_ECC_P384: u32 = 0x01c0_0016;

/// First handle of the NV index range (TPM 2.0 Part 2 §7.2, TPM_HT_NV_INDEX).
const NV_INDEX_FIRST: u32 = 0x0100_0000;
/// First handle of the persistent object range (TPM_HT_PERSISTENT).
const PERSISTENT_FIRST: u32 = 0x8100_0000;
/// TPM2_NV_Read's size and offset are UINT16; an index is never larger.
const NV_MAX_SIZE: usize = u16::MAX as usize;

/// Runs one TPM command that authorizes a handle (CreatePrimary, EvictControl,
/// NV_Read, ...) with the context's password session, and turns its failure into the
/// one-line "TPM at T refused C: TPM_RC_…" error of [`super::refused`].
pub(crate) fn call<T>(
    tpm: &mut Tpm,
    command: &str,
    f: impl FnOnce(&mut Context) -> tss_esapi::Result<T>,
) -> anyhow::Result<T> {
    let result = f(tpm.ctx());
    result.map_err(|e| super::refused(tpm.tcti(), command, e))
}

/// Like [`call`], for a command with no authorization handle (GetCapability,
/// ReadPublic, NV_ReadPublic, FlushContext, ESYS's TR_* calls): the TPM refuses a
/// password session on those (TPM_RC_VALUE for session 1), so it runs without one.
pub(crate) fn call_open<T>(
    tpm: &mut Tpm,
    command: &str,
    f: impl FnOnce(&mut Context) -> tss_esapi::Result<T>,
) -> anyhow::Result<T> {
    let result = tpm.ctx().execute_without_session(f);
    result.map_err(|e| super::refused(tpm.tcti(), command, e))
}

/// The NV indices defined in the TPM (TPM2_GetCapability(TPM_CAP_HANDLES)).
pub fn nv_indices(tpm: &mut Tpm) -> anyhow::Result<Vec<u32>> {
    handles_from(tpm, NV_INDEX_FIRST)
}

/// The persistent objects in the TPM (TPM2_GetCapability(TPM_CAP_HANDLES)).
pub fn persistent_handles(tpm: &mut Tpm) -> anyhow::Result<Vec<u32>> {
    handles_from(tpm, PERSISTENT_FIRST)
}

/// All handles of the type of `first`, from `first` on, following `moreData`.
fn handles_from(tpm: &mut Tpm, first: u32) -> anyhow::Result<Vec<u32>> {
    let kind = first.to_be_bytes().first().copied().unwrap_or_default();
    let mut out: Vec<u32> = Vec::new();
    let mut next = first;
    loop {
        let (data, more) = call_open(tpm, "GetCapability", |ctx| {
            ctx.get_capability(CapabilityType::Handles, next, 254)
        })?;
        let CapabilityData::Handles(list) = data else {
            bail!(
                "TPM at {} answered GetCapability(TPM_CAP_HANDLES) with other data",
                tpm.tcti()
            );
        };
        let before = out.len();
        out.extend(
            list.iter()
                .map(|h| u32::from(*h))
                .filter(|h| h.to_be_bytes().first() == Some(&kind)),
        );
        match out.last() {
            Some(&last) if more && out.len() > before => match last.checked_add(1) {
                Some(n) => next = n,
                None => break,
            },
            _ => break,
        }
    }
    Ok(out)
}

/// Reads the whole of NV index `index`. An index that is not defined fails with one
/// line naming it and what to do.
pub fn read_nv(tpm: &mut Tpm, index: u32) -> anyhow::Result<Vec<u8>> {
    match read_nv_if_present(tpm, index)? {
        Some(bytes) => Ok(bytes),
        None => bail!(
            "NV index {index:#010x} is not defined in the TPM at {}: nothing was provisioned there \
             (list the defined indices with `tpm2_getcap -T <tcti> handles-nv-index`)",
            tpm.tcti()
        ),
    }
}

/// Reads NV index `index`, or `None` when the TPM has no such index.
pub fn read_nv_if_present(tpm: &mut Tpm, index: u32) -> anyhow::Result<Option<Vec<u8>>> {
    if !nv_indices(tpm)?.contains(&index) {
        return Ok(None);
    }
    let tpm_handle = NvIndexTpmHandle::new(index)
        .with_context(|| format!("{index:#010x} is not an NV index handle"))?;
    let mut object = call_open(tpm, "NV_ReadPublic", |ctx| {
        ctx.tr_from_tpm_public(TpmHandle::NvIndex(tpm_handle))
    })?;
    let result = read_open_index(tpm, index, NvIndexHandle::from(object));
    // Release ESYS's record of the index whatever happened; nothing in the TPM to flush.
    let closed = call_open(tpm, "TR_Close", |ctx| ctx.tr_close(&mut object));
    let bytes = result?;
    closed?;
    Ok(Some(bytes))
}

fn read_open_index(tpm: &mut Tpm, index: u32, handle: NvIndexHandle) -> anyhow::Result<Vec<u8>> {
    let (public, _name) = call_open(tpm, "NV_ReadPublic", |ctx| ctx.nv_read_public(handle))?;
    let attrs = public.attributes();
    if !attrs.written() {
        bail!(
            "NV index {index:#010x} in the TPM at {} is defined but was never written",
            tpm.tcti()
        );
    }
    // Index auth first (how tpm2_nvread reads by default; certificate and template
    // indices have an empty authValue), else owner auth.
    let auth = if attrs.auth_read() {
        NvAuth::NvIndex(handle)
    } else if attrs.owner_read() {
        NvAuth::Owner
    } else {
        bail!(
            "NV index {index:#010x} in the TPM at {} is readable only with platform \
             authorization or a policy (attributes {:#010x}); cer reads with owner or index \
             authorization",
            tpm.tcti(),
            u32::try_from(attrs).unwrap_or_default()
        );
    };
    let size = public.data_size();
    if size > NV_MAX_SIZE {
        bail!("NV index {index:#010x} claims {size} bytes, more than an NV index can hold");
    }
    let chunk = nv_buffer_max(tpm)?;
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        let offset = out.len();
        let want = chunk.min(size.saturating_sub(offset));
        let (want16, offset16) = (u16::try_from(want)?, u16::try_from(offset)?);
        let data = call(tpm, "NV_Read", |ctx| {
            ctx.nv_read(auth, handle, want16, offset16)
        })?;
        if data.is_empty() || data.len() > want {
            bail!(
                "TPM at {} returned {} bytes for NV_Read of {want} bytes at offset {offset} of index {index:#010x}",
                tpm.tcti(),
                data.len()
            );
        }
        out.extend_from_slice(data.value());
    }
    Ok(out)
}

/// How much one NV_Read may return: TPM_PT_NV_BUFFER_MAX, at most MAX_NV_BUFFER_SIZE.
fn nv_buffer_max(tpm: &mut Tpm) -> anyhow::Result<usize> {
    let max = call_open(tpm, "GetCapability", |ctx| {
        ctx.get_tpm_property(PropertyTag::NvBufferMax)
    })?;
    // 512 is the smallest MAX_NV_BUFFER_SIZE the PC Client profile allows.
    let max = max.and_then(|m| usize::try_from(m).ok()).unwrap_or(512);
    Ok(max.clamp(1, MaxNvBuffer::MAX_SIZE))
}

/// Splits NV bytes into the outer DER SEQUENCE (X.690 §8.1: tag 0x30, definite length)
/// and the padding after it; everything after the SEQUENCE must be 0xFF or 0x00.
/// Returns the DER and the number of padding bytes.
pub fn strip_der_padding(index: u32, bytes: &[u8]) -> anyhow::Result<(&[u8], usize)> {
    let end = der_sequence_len(bytes).map_err(|why| {
        anyhow::anyhow!("NV index {index:#010x} does not hold a DER certificate: {why}")
    })?;
    let (der, rest) = bytes.split_at_checked(end).ok_or_else(|| {
        anyhow::anyhow!(
            "NV index {index:#010x} holds a truncated certificate: its DER SEQUENCE needs {end} bytes, the index has {}",
            bytes.len()
        )
    })?;
    if let Some(pos) = rest.iter().position(|b| *b != 0xFF && *b != 0x00) {
        bail!(
            "NV index {index:#010x} has data after its certificate that is not padding: byte {:#04x} at offset {}",
            rest.get(pos).copied().unwrap_or_default(),
            end.saturating_add(pos)
        );
    }
    Ok((der, rest.len()))
}

/// The total length (header + content) of the DER SEQUENCE at the start of `bytes`.
fn der_sequence_len(bytes: &[u8]) -> Result<usize, String> {
    match bytes.first() {
        Some(0x30) => {}
        Some(b) => return Err(format!("it starts with {b:#04x}, not a SEQUENCE (0x30)")),
        None => return Err("it is empty".into()),
    }
    let first = *bytes.get(1).ok_or("it ends after the SEQUENCE tag")?;
    let (header, len) = if first < 0x80 {
        (2usize, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return Err(format!("unsupported DER length form {first:#04x}"));
        }
        let len_bytes = bytes
            .get(2..2usize.saturating_add(n))
            .ok_or("it ends inside the SEQUENCE length")?;
        if len_bytes.first() == Some(&0) {
            return Err("non-minimal DER length".into());
        }
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return Err("non-minimal DER length".into());
        }
        (n.saturating_add(2), len)
    };
    Ok(header.saturating_add(len))
}

/// An EK certificate read from its TCG NV index, padding stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EkCert {
    /// Which EK the certificate is for (by its index).
    pub kind: EkKind,
    /// The NV index it was read from.
    pub index: u32,
    /// The certificate, DER, exactly the outer SEQUENCE.
    pub der: Vec<u8>,
    /// How many padding bytes followed it in the index.
    pub padding: usize,
}

/// Reads a DER certificate from `index` (padding stripped, parsed as X.509 to be sure),
/// or `None` when the index is not defined.
pub fn read_certificate(tpm: &mut Tpm, index: u32) -> anyhow::Result<Option<(Vec<u8>, usize)>> {
    let Some(bytes) = read_nv_if_present(tpm, index)? else {
        return Ok(None);
    };
    let (der, padding) = strip_der_padding(index, &bytes)?;
    <x509_cert::Certificate as der::Decode>::from_der(der).map_err(|e| {
        anyhow::anyhow!("NV index {index:#010x} does not hold an X.509 certificate: {e}")
    })?;
    Ok(Some((der.to_vec(), padding)))
}

/// The EK certificates at the TCG indices (RSA 2048 0x01c00002, ECC P-256 0x01c0000a,
/// ECC P-384 0x01c00016). Indices that are not defined are skipped; any other failure
/// (unreadable, not a certificate, garbage after it) is an error naming the index.
pub fn ek_certificates(tpm: &mut Tpm) -> anyhow::Result<Vec<EkCert>> {
    let mut out = Vec::new();
    for kind in EkKind::ALL {
        let index = kind.nv_index();
        if let Some((der, padding)) = read_certificate(tpm, index)? {
            out.push(EkCert {
                kind,
                index,
                der,
                padding,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(content_len: usize) -> Vec<u8> {
        let mut v = vec![0x30];
        if content_len < 0x80 {
            v.push(content_len as u8);
        } else if content_len < 0x100 {
            v.extend([0x81, content_len as u8]);
        } else {
            v.extend([0x82, (content_len >> 8) as u8, content_len as u8]);
        }
        v.extend(std::iter::repeat_n(0x02, content_len));
        v
    }

    #[test]
    fn padding_is_stripped() {
        for len in [0, 5, 0x7f, 0x80, 0xff, 0x100, 1200] {
            let cert = seq(len);
            for pad in [vec![], vec![0xff; 7], vec![0x00; 3], vec![0xff, 0x00, 0xff]] {
                let mut nv = cert.clone();
                nv.extend(&pad);
                let (der, n) = strip_der_padding(0x01c0_0002, &nv).unwrap();
                assert_eq!(der, cert.as_slice());
                assert_eq!(n, pad.len());
            }
        }
    }

    #[test]
    fn garbage_and_truncation_are_refused() {
        let mut nv = seq(300);
        nv.extend([0xff, 0x42, 0xff]);
        let err = strip_der_padding(0x01c0_000a, &nv).unwrap_err().to_string();
        assert!(
            err.contains("0x01c0000a") && err.contains("not padding"),
            "{err}"
        );
        assert!(err.contains("0x42") && err.contains("offset 305"), "{err}");

        let nv = seq(300);
        let err = strip_der_padding(0x01c0_0016, &nv[..200])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("truncated") && err.contains("0x01c00016"),
            "{err}"
        );

        for bad in [
            &[][..],
            &[0xff, 0xff][..],
            &[0x30][..],
            &[0x30, 0x80][..],
            &[0x30, 0x81, 0x10][..],
            &[0x30, 0x82, 0x00, 0x90][..],
        ] {
            let err = strip_der_padding(0x01c0_0002, bad).unwrap_err().to_string();
            assert!(err.contains("0x01c00002"), "{err}");
        }
    }
}
