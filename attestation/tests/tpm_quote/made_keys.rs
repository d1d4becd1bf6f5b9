//! Quotes signed here with keys made here, for what the vectors lack: ECDSA P-256 and
//! P-384, RSA-PSS (both salt lengths TPMs use), SHA-1 and SHA-384 schemes, keys
//! restricted to a scheme, and keys that cannot be AKs. The signatures come from the
//! RustCrypto signers, independent of the verifier's code path.

use cerd_attestation::tpm::key::SignatureError;
use cerd_attestation::tpm::{
    verify_quote, AkFormat, AttestationKey, HashAlg, PcrValues, QuoteCheckId, TpmPublic,
    TpmtSignature,
};
use cerd_attestation::verify::Reason;

use super::assert_all_pass;

/// A deterministic RNG for making test keys and PSS salts (never for anything real).
struct TestRng(u64);

impl rsa::rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for TestRng {}

pub(crate) const AK_ATTRIBUTES: u32 = 0x0005_0072;

pub(crate) fn tpm2b(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// TPMT_PUBLIC of an ECC signing key with `scheme` (`[sigAlg, hash]`, or NULL).
pub(crate) fn ecc_public(
    curve: u16,
    scheme: Option<(u16, u16)>,
    x: &[u8],
    y: &[u8],
    attributes: u32,
) -> Vec<u8> {
    let mut t = vec![0x00, 0x23, 0x00, 0x0b];
    t.extend(attributes.to_be_bytes());
    t.extend([0, 0, 0x00, 0x10]);
    match scheme {
        Some((alg, hash)) => {
            t.extend(alg.to_be_bytes());
            t.extend(hash.to_be_bytes());
        }
        None => t.extend([0x00, 0x10]),
    }
    t.extend(curve.to_be_bytes());
    t.extend([0x00, 0x10]);
    t.extend(tpm2b(x));
    t.extend(tpm2b(y));
    t
}

pub(crate) fn rsa_public(scheme: Option<(u16, u16)>, modulus: &[u8]) -> Vec<u8> {
    let mut t = vec![0x00, 0x01, 0x00, 0x0b];
    t.extend(AK_ATTRIBUTES.to_be_bytes());
    t.extend([0, 0, 0x00, 0x10]);
    match scheme {
        Some((alg, hash)) => {
            t.extend(alg.to_be_bytes());
            t.extend(hash.to_be_bytes());
        }
        None => t.extend([0x00, 0x10]),
    }
    t.extend(((modulus.len() * 8) as u16).to_be_bytes());
    t.extend([0, 0, 0, 0]);
    t.extend(tpm2b(modulus));
    t
}

/// A quote over sha256:15 with `nonce`, whose PCR digest is `hash(value)`.
pub(crate) fn quote(nonce: &[u8], value: &[u8; 32], hash: HashAlg) -> Vec<u8> {
    let mut q = vec![0xff, 0x54, 0x43, 0x47, 0x80, 0x18];
    q.extend(tpm2b(&[&[0x00, 0x0b][..], &[0x42; 32]].concat()));
    q.extend(tpm2b(nonce));
    q.extend(1234u64.to_be_bytes());
    q.extend([0, 0, 0, 3, 0, 0, 0, 1, 1]);
    q.extend(0x1_0000_0002u64.to_be_bytes());
    q.extend([0, 0, 0, 1, 0x00, 0x0b, 3, 0x00, 0x80, 0x00]);
    q.extend(tpm2b(&hash.digest(value)));
    q
}

pub(crate) fn pcr15(value: &[u8; 32]) -> PcrValues {
    PcrValues::from_values_file(&"sha256:15".parse().unwrap(), value).unwrap()
}

pub(crate) fn ecc_signature(hash: u16, r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut b = vec![0x00, 0x18];
    b.extend(hash.to_be_bytes());
    b.extend(tpm2b(r));
    b.extend(tpm2b(s));
    b
}

#[test]
fn ecdsa_p256_and_p384_quotes_verify_and_refuse_what_their_key_does_not_allow() {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let value = [7u8; 32];
    // P-256, ECDSA-SHA256.
    let sk = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let point = sk.verifying_key().to_encoded_point(false);
    let public = ecc_public(
        3,
        Some((0x18, 0x0b)),
        point.x().unwrap(),
        point.y().unwrap(),
        AK_ATTRIBUTES,
    );
    let (ak, format) = AttestationKey::detect(&tpm2b(&public)).unwrap();
    assert_eq!(format, AkFormat::Tpm2bPublic);
    assert_eq!(ak.describe(), "ECC NIST P-256");
    let q = quote(&[1, 2, 3], &value, HashAlg::Sha256);
    let sig: p256::ecdsa::Signature = sk.sign_prehash(&HashAlg::Sha256.digest(&q)).unwrap();
    let (r, s) = (sig.r().to_bytes(), sig.s().to_bytes());
    let good = ecc_signature(0x0b, &r, &s);
    assert_all_pass(&verify_quote(
        &ak,
        &q,
        &good,
        Some(&[1, 2, 3]),
        Some(&pcr15(&value)),
    ));
    // r and s given with a leading zero byte too many are the same numbers.
    let padded = ecc_signature(0x0b, &[&[0][..], &r].concat(), &[&[0][..], &s].concat());
    assert!(verify_quote(&ak, &q, &padded, None, None).affirms());
    // s replaced by r.
    let swapped = ecc_signature(0x0b, &r, &r);
    assert_eq!(
        verify_quote(&ak, &q, &swapped, None, None).failures(),
        [Reason::QuoteSignatureInvalid]
    );
    // The key is restricted to ECDSA-SHA256: a SHA-384 signature is a scheme mismatch,
    // even a valid one.
    let q384 = quote(&[1, 2, 3], &value, HashAlg::Sha384);
    let sig384: p256::ecdsa::Signature = sk.sign_prehash(&HashAlg::Sha384.digest(&q384)).unwrap();
    let sig384 = ecc_signature(0x0c, &sig384.r().to_bytes(), &sig384.s().to_bytes());
    assert_eq!(
        verify_quote(&ak, &q384, &sig384, None, None).failures(),
        [Reason::SignatureSchemeMismatch]
    );
    // With scheme NULL the same signature is accepted, and the PCR digest is then
    // checked with SHA-384.
    let open = ecc_public(
        3,
        None,
        point.x().unwrap(),
        point.y().unwrap(),
        AK_ATTRIBUTES,
    );
    let (open, _) = AttestationKey::detect(&open).unwrap();
    assert_all_pass(&verify_quote(
        &open,
        &q384,
        &sig384,
        Some(&[1, 2, 3]),
        Some(&pcr15(&value)),
    ));
    let report = verify_quote(&open, &q, &sig384, None, Some(&pcr15(&value)));
    assert_eq!(
        report.failures(),
        [Reason::QuoteSignatureInvalid, Reason::PcrDigestMismatch]
    );
    // An RSA signature cannot come from an ECC key; ECDAA is not checked.
    let mut rsa_sig = vec![0x00, 0x14, 0x00, 0x0b];
    rsa_sig.extend(tpm2b(&[1; 256]));
    assert_eq!(
        verify_quote(&ak, &q, &rsa_sig, None, None).failures(),
        [Reason::SignatureSchemeMismatch]
    );
    let mut ecdaa = good.clone();
    ecdaa[1] = 0x1a;
    assert_eq!(
        verify_quote(&open, &q, &ecdaa, None, None).failures(),
        [Reason::SignatureSchemeUnsupported]
    );

    // P-384, ECDSA-SHA384, key given as a PEM SubjectPublicKeyInfo.
    use p384::pkcs8::{EncodePublicKey, LineEnding};
    let sk = p384::ecdsa::SigningKey::from_slice(&[0x22; 48]).unwrap();
    let pem = sk
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let (ak, format) = AttestationKey::detect(pem.as_bytes()).unwrap();
    assert_eq!(
        (format, ak.describe().as_str()),
        (AkFormat::SpkiPem, "ECC NIST P-384")
    );
    let q = quote(&[9; 32], &value, HashAlg::Sha384);
    let sig: p384::ecdsa::Signature = sk.sign_prehash(&HashAlg::Sha384.digest(&q)).unwrap();
    let good = ecc_signature(0x0c, &sig.r().to_bytes(), &sig.s().to_bytes());
    let report = verify_quote(&ak, &q, &good, Some(&[9; 32]), Some(&pcr15(&value)));
    assert!(report.affirms(), "{report:#?}");
    assert_eq!(
        report.check(QuoteCheckId::Signature).unwrap().message,
        "ECDSA-SHA384 by the ECC NIST P-384 AK"
    );
    let mut bad = good.clone();
    bad[10] ^= 1;
    assert_eq!(
        verify_quote(&ak, &q, &bad, None, None).failures(),
        [Reason::QuoteSignatureInvalid]
    );
    // SHA-1 is too short for P-384's ECDSA.
    let sha1 = ecc_signature(0x04, &sig.r().to_bytes(), &sig.s().to_bytes());
    assert_eq!(
        verify_quote(&ak, &q, &sha1, None, None).failures(),
        [Reason::SignatureSchemeUnsupported]
    );
}

#[test]
fn rsa_pkcs1_and_pss_with_each_hash_and_salt_length() {
    use rsa::traits::PublicKeyParts;
    let mut rng = TestRng(1);
    let sk = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let modulus = sk.to_public_key().n().to_bytes_be();
    let value = [3u8; 32];
    for (hash, id) in [
        (HashAlg::Sha1, 0x04u16),
        (HashAlg::Sha256, 0x0b),
        (HashAlg::Sha384, 0x0c),
    ] {
        let q = quote(b"nonce", &value, hash);
        let digest = hash.digest(&q);
        let signature = |alg: u16, sig: Vec<u8>| {
            let mut b = alg.to_be_bytes().to_vec();
            b.extend(id.to_be_bytes());
            b.extend(tpm2b(&sig));
            b
        };
        let pkcs1 = match hash {
            HashAlg::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
            HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            _ => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
        };
        let pss = |salt| match hash {
            HashAlg::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
            HashAlg::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
            _ => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
        };
        let rsassa = signature(0x14, sk.sign(pkcs1, &digest).unwrap());
        let pss_hash_len = signature(
            0x16,
            sk.sign_with_rng(&mut rng, pss(hash.size()), &digest)
                .unwrap(),
        );
        let pss_max = signature(
            0x16,
            sk.sign_with_rng(&mut rng, pss(256 - hash.size() - 2), &digest)
                .unwrap(),
        );
        let pss_other = signature(0x16, sk.sign_with_rng(&mut rng, pss(10), &digest).unwrap());

        let (open, _) = AttestationKey::detect(&rsa_public(None, &modulus)).unwrap();
        for (name, sig) in [
            ("rsassa", &rsassa),
            ("pss", &pss_hash_len),
            ("pss max", &pss_max),
        ] {
            let r = verify_quote(&open, &q, sig, Some(b"nonce"), Some(&pcr15(&value)));
            assert!(r.affirms(), "{hash} {name}: {r:#?}");
        }
        // A salt length no TPM uses is refused.
        assert_eq!(
            verify_quote(&open, &q, &pss_other, None, None).failures(),
            [Reason::QuoteSignatureInvalid]
        );
        // A key restricted to RSASSA with this hash refuses PSS, and vice versa.
        let (rsassa_only, _) =
            AttestationKey::detect(&rsa_public(Some((0x14, id)), &modulus)).unwrap();
        assert!(verify_quote(&rsassa_only, &q, &rsassa, None, None).affirms());
        assert_eq!(
            verify_quote(&rsassa_only, &q, &pss_hash_len, None, None).failures(),
            [Reason::SignatureSchemeMismatch]
        );
        let (pss_only, _) =
            AttestationKey::detect(&rsa_public(Some((0x16, id)), &modulus)).unwrap();
        assert!(verify_quote(&pss_only, &q, &pss_max, None, None).affirms());
        assert_eq!(
            verify_quote(&pss_only, &q, &rsassa, None, None).failures(),
            [Reason::SignatureSchemeMismatch]
        );
    }
    // A direct check of the error type.
    let (open, _) = AttestationKey::detect(&rsa_public(None, &modulus)).unwrap();
    let null = TpmtSignature::parse(&[0x00, 0x10]).unwrap();
    assert!(matches!(
        open.verify(b"x", &null),
        Err(SignatureError::SchemeMismatch(_))
    ));
}

/// An RSA-3072 AK (the other size TPMs make): its public area parses, RSASSA and PSS
/// quotes verify, and a changed quote fails.
#[test]
fn rsa_3072_aks_verify_rsassa_and_pss_quotes() {
    use rsa::traits::PublicKeyParts;
    let mut rng = TestRng(3072);
    let sk = rsa::RsaPrivateKey::new(&mut rng, 3072).unwrap();
    let modulus = sk.to_public_key().n().to_bytes_be();
    assert_eq!(modulus.len(), 384);
    let public = rsa_public(None, &modulus);
    assert!(matches!(
        TpmPublic::from_tpmt(&public).unwrap().key,
        cerd_attestation::tpm::PublicKey::Rsa { key_bits: 3072, .. }
    ));
    let (ak, _) = AttestationKey::detect(&public).unwrap();
    assert_eq!(ak.describe(), "RSA-3072");
    let value = [5u8; 32];
    let q = quote(b"nonce", &value, HashAlg::Sha256);
    let digest = HashAlg::Sha256.digest(&q);
    let sign = |alg: u16, sig: Vec<u8>| {
        let mut b = alg.to_be_bytes().to_vec();
        b.extend(0x000bu16.to_be_bytes());
        b.extend(tpm2b(&sig));
        b
    };
    let rsassa = sign(
        0x14,
        sk.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
            .unwrap(),
    );
    let pss = sign(
        0x16,
        sk.sign_with_rng(
            &mut rng,
            rsa::Pss::new_with_salt::<sha2::Sha256>(32),
            &digest,
        )
        .unwrap(),
    );
    for sig in [&rsassa, &pss] {
        let r = verify_quote(&ak, &q, sig, Some(b"nonce"), Some(&pcr15(&value)));
        assert!(r.affirms(), "{r:#?}");
    }
    let mut changed = q.clone();
    changed[10] ^= 1;
    assert_eq!(
        verify_quote(&ak, &changed, &rsassa, None, None).failures(),
        [Reason::QuoteSignatureInvalid]
    );
}

#[test]
fn keys_that_cannot_be_aks_are_refused_or_flagged() {
    // A point that is not on the curve.
    let bad = ecc_public(3, None, &[1; 32], &[2; 32], AK_ATTRIBUTES);
    assert!(matches!(
        AttestationKey::detect(&bad),
        Err(cerd_attestation::tpm::KeyError::Malformed(_))
    ));
    // RSA-1024 parses as a TPM public area but is too small for an AK.
    let small = rsa_public(None, &[0xc1; 128]);
    assert!(TpmPublic::from_tpmt(&small).is_ok());
    assert!(matches!(
        AttestationKey::detect(&small),
        Err(cerd_attestation::tpm::KeyError::Unsupported(_))
    ));
    // Garbage and an X.509 certificate's SEQUENCE that is not an SPKI.
    assert!(matches!(
        AttestationKey::detect(b"hello"),
        Err(cerd_attestation::tpm::KeyError::Unrecognized)
    ));
    assert!(AttestationKey::detect(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    assert!(AttestationKey::detect(
        b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
    )
    .is_err());
    // A non-restricted signing key gets AK_ATTRIBUTES_INVALID even with a valid signature.
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let sk = p256::ecdsa::SigningKey::from_slice(&[0x33; 32]).unwrap();
    let point = sk.verifying_key().to_encoded_point(false);
    let unrestricted = ecc_public(3, None, point.x().unwrap(), point.y().unwrap(), 0x0004_0072);
    let (ak, _) = AttestationKey::detect(&unrestricted).unwrap();
    let q = quote(&[], &[0; 32], HashAlg::Sha256);
    let sig: p256::ecdsa::Signature = sk.sign_prehash(&HashAlg::Sha256.digest(&q)).unwrap();
    let sig = ecc_signature(0x0b, &sig.r().to_bytes(), &sig.s().to_bytes());
    let r = verify_quote(&ak, &q, &sig, None, None);
    assert_eq!(r.failures(), [Reason::AkAttributesInvalid]);
    assert!(r
        .check(QuoteCheckId::AkAttributes)
        .unwrap()
        .message
        .contains("restricted"));
}
