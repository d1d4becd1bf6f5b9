//! `tpm::TpmPublic::from_tpm2b` / `from_tpmt` and `AttestationKey::detect` on arbitrary
//! bytes: never panic; a parsed public area keeps exactly its bytes, re-marshals to
//! the input, and its name is nameAlg || H(those bytes).
#![no_main]

use cerd_attestation::tpm::{AttestationKey, Name, TpmPublic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(public) = TpmPublic::from_tpmt(data) {
        assert_eq!(public.tpmt_bytes(), data);
        assert_eq!(public.name(), Name::of_public(public.name_alg, data));
        let again = TpmPublic::from_tpm2b(&public.tpm2b_bytes()).expect("re-read as TPM2B");
        assert_eq!(again, public);
    }
    if let Ok(public) = TpmPublic::from_tpm2b(data) {
        assert_eq!(public.tpm2b_bytes(), data);
        let _ = AttestationKey::from_public(public);
    }
    if let Ok((key, _)) = AttestationKey::detect(data) {
        let again = AttestationKey::from_spki_der(key.spki_der()).expect("re-read own SPKI");
        assert_eq!(again.spki_der(), key.spki_der());
    }
});
