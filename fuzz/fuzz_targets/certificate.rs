//! `chain::Certificate::from_der` (and the PEM and NV-padding readers) on arbitrary
//! bytes: never panics; a parsed certificate is the input (`der()`), its signed part
//! lies inside it and it reparses to itself; every accessor and check runs, and path
//! building over it (with itself as issuer candidate) terminates.
#![no_main]

use cerd_attestation::chain::{self, verify_chain, Certificate, ChainOptions};
use cerd_attestation::roots::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chain::parse_certificates(data);
    if let Ok(prefix) = chain::strip_nv_padding(data) {
        assert!(data.starts_with(prefix));
    }
    let Ok(cert) = Certificate::from_der(data) else {
        return;
    };
    assert_eq!(cert.der(), data);
    assert!(data.windows(cert.tbs().len()).any(|w| w == cert.tbs()));
    assert!(data
        .windows(cert.spki_der().len())
        .any(|w| w == cert.spki_der()));
    let again = Certificate::from_der(cert.der()).expect("reparse");
    assert_eq!(again, cert);
    let _ = (cert.subject_text(), cert.issuer().text(), cert.serial_hex());
    let _ = (
        cert.public_key(),
        cert.strict_der(),
        cert.check_critical_extensions(),
    );
    let _ = cert.check_validity(cert.not_before());
    let _ = cert.verify_signed_by(&cert, true);
    let pool = [cert.clone(), again];
    let opts = ChainOptions {
        allow_sha1: true,
        ..ChainOptions::new(cert.not_before())
    };
    for trust in [TrustStore::new(), TrustStore::with_builtin_pins()] {
        if let Ok(chain) = verify_chain(&cert, &pool, &trust, &opts) {
            assert_eq!(chain.path.first(), Some(&cert));
        }
    }
});
