//! `tpm::TpmtSignature::parse` on arbitrary bytes: never panics; a parsed signature
//! describes itself, and verifying it under fixed keys (RSA, P-256, P-384) never
//! panics.
#![no_main]

use std::sync::OnceLock;

use cerd_attestation::tpm::{AttestationKey, TpmtSignature};
use libfuzzer_sys::fuzz_target;

/// TPMT_PUBLIC of restricted signing keys with scheme NULL: P-256 and P-384 with the
/// curve's generator as the point, and RSA-2048 with an arbitrary odd modulus.
fn keys() -> &'static [AttestationKey] {
    static KEYS: OnceLock<Vec<AttestationKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let p256 = (
            3u16,
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
        );
        let p384 = (
            4u16,
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
        );
        let mut keys = Vec::new();
        for (curve, x, y) in [p256, p384] {
            let (x, y) = (unhex(x), unhex(y));
            let mut t = vec![0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0, 0, 0x00, 0x10, 0x00, 0x10];
            t.extend(curve.to_be_bytes());
            t.extend([0x00, 0x10]);
            t.extend((x.len() as u16).to_be_bytes());
            t.extend(&x);
            t.extend((y.len() as u16).to_be_bytes());
            t.extend(&y);
            keys.push(AttestationKey::detect(&t).unwrap().0);
        }
        let mut t = vec![0x00, 0x01, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0, 0, 0x00, 0x10, 0x00, 0x10];
        t.extend([0x08, 0x00, 0, 0, 0, 0, 0x01, 0x00]);
        t.extend([0xc5; 255]);
        t.push(0x01);
        keys.push(AttestationKey::detect(&t).unwrap().0);
        keys
    })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(sig) = TpmtSignature::parse(data) else {
        return;
    };
    let _ = sig.to_string();
    serde_json::to_string(&sig).expect("serialize TPMT_SIGNATURE");
    for key in keys() {
        let _ = key.verify(data, &sig);
    }
});
