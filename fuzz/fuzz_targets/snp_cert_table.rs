//! `snp::CertTable::parse` on arbitrary bytes: never panics; every entry's data lies in
//! the input; a parsed table re-encodes to a buffer that parses to the same table; each
//! entry's certificate (if it is one) is read for AMD's VCEK extensions without panic.
#![no_main]

use cerd_attestation::chain::Certificate;
use cerd_attestation::snp::{CertTable, VcekExtensions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = CertTable::parse(data) else {
        return;
    };
    for e in &table.entries {
        assert!(e.data.is_empty() || data.windows(e.data.len()).any(|w| w == e.data));
        if let Ok(cert) = Certificate::from_der(&e.data) {
            let _ = VcekExtensions::from_certificate(&cert);
        }
    }
    let again = CertTable::parse(&table.encode()).expect("re-encoded table parses");
    assert_eq!(again, table);
});
