//! PCRs on the SHA-256 bank: extend, read, and the boot counters a measurement log is
//! bound to.
//!
//! Every command runs on the [`Tpm`]'s long-lived context. TPM2_PCR_Extend authorizes
//! the PCR handle with the context's password session (PCRs have empty auth), so an
//! extend is one command round trip; starting an HMAC session per command
//! (`execute_with_nullauth_session`) costs a StartAuthSession and a FlushContext on top
//! (see docs/performance.md for both numbers on swtpm). TPM2_PCR_Read takes no
//! authorization and runs without sessions.

use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::handles::PcrHandle;
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::structures::{
    Data, Digest, DigestValues, EccPoint, EccScheme, HashScheme, KeyDerivationFunctionScheme,
    PcrSelectionList, PcrSlot, Public, PublicBuilder, PublicEccParametersBuilder, SignatureScheme,
    SymmetricDefinitionObject,
};
use tss_esapi::Context;

use super::Tpm;

/// Highest PCR index of a PC Client TPM (24 PCRs).
pub const MAX_PCR: u8 = 23;

/// TPM2_PCR_Read returns at most this many digests per call (TPML_DIGEST holds 8).
const READ_BATCH: usize = 8;

/// Runs one command on the context; a failure becomes the one-line
/// "TPM at T refused C: TPM_RC_…" error.
fn call<T>(
    tpm: &mut Tpm,
    command: &str,
    f: impl FnOnce(&mut Context) -> tss_esapi::Result<T>,
) -> anyhow::Result<T> {
    let result = f(tpm.ctx());
    result.map_err(|e| super::refused(tpm.tcti(), command, e))
}

fn check_index(pcr: u8) -> anyhow::Result<()> {
    anyhow::ensure!(
        pcr <= MAX_PCR,
        "PCR {pcr} does not exist: a TPM has PCRs 0..={MAX_PCR}"
    );
    Ok(())
}

fn handle(pcr: u8) -> anyhow::Result<PcrHandle> {
    check_index(pcr)?;
    // ESYS_TR_PCR0..ESYS_TR_PCR31 are the values 0..31.
    PcrHandle::try_from(u32::from(pcr)).map_err(|e| anyhow::anyhow!("PCR {pcr}: {e}"))
}

fn slot(pcr: u8) -> anyhow::Result<PcrSlot> {
    check_index(pcr)?;
    PcrSlot::try_from(1u32 << pcr).map_err(|e| anyhow::anyhow!("PCR {pcr}: {e}"))
}

/// TPM2_PCR_Extend of `digest` into PCR `pcr`'s SHA-256 bank:
/// `new = SHA-256(old || digest)` (TPM 2.0 Part 1 §17.2). Other banks are not extended.
pub fn extend(tpm: &mut Tpm, pcr: u8, digest: &[u8; 32]) -> anyhow::Result<()> {
    let handle = handle(pcr)?;
    let mut values = DigestValues::new();
    let digest = Digest::try_from(digest.as_slice())
        .map_err(|e| anyhow::anyhow!("PCR {pcr} extend digest: {e}"))?;
    values.set(HashingAlgorithm::Sha256, digest);
    call(tpm, "PCR_Extend", |ctx| ctx.pcr_extend(handle, values))
}

/// The SHA-256 bank value of PCR `pcr` (TPM2_PCR_Read).
pub fn read(tpm: &mut Tpm, pcr: u8) -> anyhow::Result<[u8; 32]> {
    let values = read_many(tpm, &[pcr])?;
    match values.as_slice() {
        [(p, v)] if *p == pcr => Ok(*v),
        _ => anyhow::bail!(
            "TPM at {} returned no SHA-256 value for PCR {pcr} (is the sha256 bank allocated?)",
            tpm.tcti()
        ),
    }
}

/// The SHA-256 bank values of `pcrs`, in ascending PCR order, duplicates removed.
/// TPM2_PCR_Read returns at most 8 values per call, so this reads in batches and
/// follows the TPM's pcrSelectionOut (what it actually read).
pub fn read_many(tpm: &mut Tpm, pcrs: &[u8]) -> anyhow::Result<Vec<(u8, [u8; 32])>> {
    let mut wanted: Vec<u8> = pcrs.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = Vec::with_capacity(wanted.len());
    for batch in wanted.chunks(READ_BATCH) {
        let slots = batch
            .iter()
            .map(|&p| slot(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let selection = PcrSelectionList::builder()
            .with_selection(HashingAlgorithm::Sha256, &slots)
            .build()
            .map_err(|e| anyhow::anyhow!("PCR selection {batch:?}: {e}"))?;
        let (_, read_selection, digests) = call(tpm, "PCR_Read", |ctx| {
            ctx.execute_without_session(|ctx| ctx.pcr_read(selection))
        })?;
        // pcrSelectionOut lists what was read, lowest index first, in digest order.
        let read: Vec<u8> = read_selection
            .get_selections()
            .iter()
            .filter(|s| s.hashing_algorithm() == HashingAlgorithm::Sha256)
            .flat_map(|s| s.selected())
            .filter_map(|slot| u8::try_from(u32::from(slot).trailing_zeros()).ok())
            .collect();
        if let Some(missing) = batch.iter().find(|p| !read.contains(p)) {
            anyhow::bail!(
                "TPM at {} did not return PCR {missing} of the sha256 bank (is the bank allocated?)",
                tpm.tcti()
            );
        }
        anyhow::ensure!(
            read.len() == digests.len(),
            "TPM at {} answered PCR_Read with {} values for {} PCRs",
            tpm.tcti(),
            digests.len(),
            read.len()
        );
        for (pcr, digest) in read.iter().zip(digests.value()) {
            let value: [u8; 32] = digest.value().try_into().map_err(|_| {
                anyhow::anyhow!(
                    "TPM at {} returned a {}-byte SHA-256 value for PCR {pcr}",
                    tpm.tcti(),
                    digest.len()
                )
            })?;
            out.push((*pcr, value));
        }
    }
    Ok(out)
}

/// The TPM's boot counters and clock, from TPMS_CLOCK_INFO (TPM 2.0 Part 2 §10.11.1):
/// `(resetCount, restartCount, clock in ms)`. resetCount grows at every TPM Reset (a
/// reboot: PCRs start over), restartCount at every TPM Restart or Resume.
///
/// tss-esapi 7.6 has no TPM2_ReadClock, and attestation commands obfuscate the counters
/// unless the signing key is in the endorsement or platform hierarchy (Part 3 §18.1; a
/// NULL signing key is obfuscated too). So this creates a transient ECC P-256 signing
/// primary in the endorsement hierarchy, quotes an empty PCR selection with it to read
/// the plain TPMS_CLOCK_INFO, and flushes the key, even when the quote fails.
pub fn reset_count(tpm: &mut Tpm) -> anyhow::Result<(u32, u32, u64)> {
    let template = clock_key_template()?;
    let key = call(tpm, "CreatePrimary", |ctx| {
        ctx.create_primary(Hierarchy::Endorsement, template, None, None, None, None)
    })?
    .key_handle;
    let empty = PcrSelectionList::builder()
        .build()
        .map_err(|e| anyhow::anyhow!("empty PCR selection: {e}"))?;
    let quoted = call(tpm, "Quote", |ctx| {
        ctx.quote(key, Data::default(), SignatureScheme::Null, empty)
    });
    let flushed = call(tpm, "FlushContext", |ctx| ctx.flush_context(key.into()));
    let (attest, _signature) = quoted?;
    flushed?;
    let clock = attest.clock_info();
    Ok((clock.reset_count(), clock.restart_count(), clock.clock()))
}

/// An unrestricted ECC P-256 ECDSA-SHA256 signing key, fixedTPM/fixedParent, empty
/// auth: only used for one quote that reveals TPMS_CLOCK_INFO.
fn clock_key_template() -> anyhow::Result<Public> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_sign_encrypt(true)
        .build()?;
    let params = PublicEccParametersBuilder::new()
        .with_symmetric(SymmetricDefinitionObject::Null)
        .with_ecc_scheme(EccScheme::EcDsa(HashScheme::new(HashingAlgorithm::Sha256)))
        .with_curve(EccCurve::NistP256)
        .with_key_derivation_function_scheme(KeyDerivationFunctionScheme::Null)
        .with_is_signing_key(true)
        .with_is_decryption_key(false)
        .with_restricted(false)
        .build()?;
    Ok(PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(params)
        .with_ecc_unique_identifier(EccPoint::default())
        .build()?)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::tpm::Tcti;
    use std::process::Command;

    use crate::tpm::test_support::Bare;

    fn tool(args: &[&str]) -> String {
        let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Extends every PCR locality 0 may extend, then reads all 24 in batches of at
    /// most 8 and compares each with tpm2_pcrread and with SHA-256(old || digest).
    #[test]
    fn read_many_matches_tpm2_pcrread_for_all_24_pcrs() {
        let sw = Bare::start();
        let tcti: Tcti = format!("swtpm:port={}", sw.port).parse().unwrap();
        let mut tpm = Tpm::open(&tcti).unwrap();
        let all: Vec<u8> = (0..=MAX_PCR).collect();
        let before = read_many(&mut tpm, &all).unwrap();
        let extendable: Vec<u8> = (0..=16).chain([23]).collect();
        for &p in &extendable {
            extend(&mut tpm, p, &[p.wrapping_add(1); 32]).unwrap();
        }
        // Unsorted, duplicated input: sorted, unique output.
        let mut request = all.clone();
        request.reverse();
        request.extend([15, 3]);
        let after = read_many(&mut tpm, &request).unwrap();
        assert_eq!(after.iter().map(|(p, _)| *p).collect::<Vec<_>>(), all);
        let listing = tool(&[
            "tpm2_pcrread",
            "-T",
            &tcti.to_string(),
            "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23",
        ]);
        for ((p, old), (q, new)) in before.iter().zip(&after) {
            assert_eq!(p, q);
            let want = if extendable.contains(p) {
                cerd_attestation::eventlog::extend(old, &[p.wrapping_add(1); 32])
            } else {
                *old
            };
            assert_eq!(*new, want, "PCR {p}");
            let listed = listing.lines().find_map(|l| {
                let (index, value) = l.split_once(':')?;
                (index.trim() == p.to_string()).then(|| value.trim().to_owned())
            });
            assert_eq!(
                listed,
                Some(format!("0x{}", hex::encode_upper(new))),
                "PCR {p}"
            );
            assert_eq!(read(&mut tpm, *p).unwrap(), *new);
        }
    }

    #[test]
    fn errors_name_the_tcti_command_and_response_code() {
        let sw = Bare::start();
        let tcti: Tcti = format!("swtpm:port={}", sw.port).parse().unwrap();
        let mut tpm = Tpm::open(&tcti).unwrap();
        // PCR 17 belongs to DRTM: locality 0 may not extend it.
        let err = extend(&mut tpm, 17, &[0; 32]).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("TPM at {tcti} refused PCR_Extend: TPM_RC_LOCALITY (bad locality)"),
        );
        assert!(extend(&mut tpm, 24, &[0; 32]).is_err());
        let (reset, restart, clock) = reset_count(&mut tpm).unwrap();
        let readclock = tool(&["tpm2_readclock", "-T", &tcti.to_string()]);
        assert!(
            readclock.contains(&format!("reset_count: {reset}")),
            "{readclock}"
        );
        assert!(
            readclock.contains(&format!("restart_count: {restart}")),
            "{readclock}"
        );
        assert!(clock > 0);
    }

    #[test]
    fn pcr_indices_map_to_handles_and_slots() {
        assert_eq!(handle(0).unwrap(), PcrHandle::Pcr0);
        assert_eq!(handle(15).unwrap(), PcrHandle::Pcr15);
        assert_eq!(handle(23).unwrap(), PcrHandle::Pcr23);
        assert!(handle(24).is_err());
        assert_eq!(slot(15).unwrap(), PcrSlot::Slot15);
        assert_eq!(slot(23).unwrap(), PcrSlot::Slot23);
        assert!(slot(24).is_err());
    }
}
