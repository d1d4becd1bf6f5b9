#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! Certificate chains and trust anchors over the real TPM vendor and cloud vTPM
//! certificates in `../shared/vectors` (skipped, with a message, when that folder is
//! absent), and negative twins made with openssl at test time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cerd_attestation::chain::{
    self, parse_certificates, strip_nv_padding, verify_chain, Certificate, ChainError,
    ChainOptions, PublicKey,
};
use cerd_attestation::roots::{TrustSource, TrustStore};
use time::macros::datetime;
use time::OffsetDateTime;

/// "Today" for these tests: fixed, so expiries in the vectors give the same answer
/// every day (the date).
const TODAY: OffsetDateTime = datetime!(2026-11-22 00:00 UTC);

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    if dir.join("tpm-roots").is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIP: {} is absent; the real-certificate tests need ../shared/vectors",
            dir.display()
        );
        None
    }
}

macro_rules! vectors_or_skip {
    () => {
        match $crate::vectors() {
            Some(v) => v,
            None => return,
        }
    };
}

#[path = "chain/pins.rs"]
mod pins;
#[path = "chain/synthetic.rs"]
mod synthetic;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The certificates of one file (DER or PEM), which must parse.
fn certs(path: &Path) -> Vec<Certificate> {
    let certs =
        parse_certificates(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!certs.is_empty(), "{} holds no certificate", path.display());
    certs
}

fn cert(path: &Path) -> Certificate {
    let mut c = certs(path);
    assert_eq!(c.len(), 1, "{}", path.display());
    c.remove(0)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every certificate-bearing file of `tpm-roots` (the index, readme and scripts and
/// the cab archive are not certificates).
fn root_files(vectors: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(&vectors.join("tpm-roots"), &mut files);
    files.retain(|p| {
        let ext = p
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        matches!(ext.as_str(), "pem" | "crt" | "cer" | "der")
    });
    files.sort();
    files
}

/// Every certificate in `tpm-roots` as (name, DER): a DER file, or each PEM block
/// (`file#n`, 1-based, as INDEX.md names them).
fn corpus(vectors: &Path) -> Vec<(String, Vec<u8>)> {
    let base = vectors.join("tpm-roots");
    let mut out = Vec::new();
    for path in root_files(vectors) {
        let name = path.strip_prefix(&base).unwrap().display().to_string();
        let bytes = read(&path);
        if bytes.first() == Some(&0x30) {
            out.push((name, bytes));
            continue;
        }
        let blocks = chain::pem::blocks(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let certs: Vec<_> = blocks
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE")
            .collect();
        if certs.len() == 1 {
            out.push((name, certs.into_iter().next().unwrap().der));
        } else {
            for (i, b) in certs.into_iter().enumerate() {
                out.push((format!("{name}#{}", i + 1), b.der));
            }
        }
    }
    out
}

#[test]
fn survey_every_certificate_in_tpm_roots() {
    let v = vectors_or_skip!();
    let corpus = corpus(&v);
    let (mut strict, mut lenient, mut refused) = (0, Vec::new(), Vec::new());
    for (name, der) in &corpus {
        match Certificate::from_der(der) {
            Ok(c) => match c.strict_der() {
                Ok(()) => strict += 1,
                Err(why) => lenient.push(format!("{name}: {why}")),
            },
            Err(e) => refused.push(format!("{name}: {e}")),
        }
    }
    println!(
        "tpm-roots: {} certificates: {strict} parse strictly (x509-cert reads and re-encodes them unchanged), {} only leniently, {} not at all",
        corpus.len(),
        lenient.len(),
        refused.len()
    );
    for l in &lenient {
        println!("  lenient: {l}");
    }
    for r in &refused {
        println!("  refused: {r}");
    }
    assert!(refused.is_empty(), "{refused:#?}");
    // The two quirks x509-cert alone trips on, both present in the vectors.
    assert!(lenient
        .iter()
        .any(|l| l.contains("NUVO_2111.pem") && l.contains("SET OF")));
    assert!(lenient
        .iter()
        .any(|l| l.contains("STM TPM EK Intermediate CA 05.crt") && l.contains("INTEGER")));
    // Every certificate can be handed to every check without a panic.
    for (_, der) in &corpus {
        let c = Certificate::from_der(der).unwrap();
        let _ = (
            c.public_key(),
            c.check_critical_extensions(),
            c.subject_text(),
        );
        let _ = c.verify_signed_by(&c, true);
    }
}

/// Chains every certificate of `tpm-roots` through all the others to a built-in pin,
/// as of 2026-11-22 with SHA-1 allowed. All do, except the expired Infineon
/// intermediate and root, and Alibaba's intermediate whose root is not public.
#[test]
fn every_vendor_certificate_chains_to_a_pin() {
    let v = vectors_or_skip!();
    let corpus = corpus(&v);
    let pool: Vec<Certificate> = corpus
        .iter()
        .map(|(_, der)| Certificate::from_der(der).unwrap())
        .collect();
    let trust = TrustStore::with_builtin_pins();
    let opts = ChainOptions {
        allow_sha1: true,
        ..ChainOptions::new(TODAY)
    };
    let mut ok = 0;
    let mut failed = BTreeMap::new();
    for ((name, _), leaf) in corpus.iter().zip(&pool) {
        match verify_chain(leaf, &pool, &trust, &opts) {
            Ok(chain) => {
                assert!(
                    matches!(chain.anchor.source, TrustSource::Pinned(_)),
                    "{name}: {:?}",
                    chain.anchor
                );
                ok += 1;
            }
            Err(e) => {
                println!("{name}: {} {e}", e.code());
                failed.insert(name.as_str(), e.code());
            }
        }
    }
    println!("{ok} of {} chain to a pin", pool.len());
    let expected = BTreeMap::from([
        ("keylime-tpm_cert_store/Alibaba_Cloud_vTPM_EK.pem", "CHAIN_INCOMPLETE"),
        ("keylime-tpm_cert_store/IFX1.pem", "CERT_EXPIRED"),
        ("keylime-tpm_cert_store/IFX_RSA_01I.pem", "CERT_EXPIRED"),
        (
            "microsoft-TrustedTpm-cab-2024-11-21/Infineon/IntermediateCA/IFX_TPM_EK_Intermediate_CA_01.crt",
            "CERT_EXPIRED",
        ),
        (
            "microsoft-TrustedTpm-cab-2024-11-21/Infineon/RootCA/IFX_TPM_RootCert_008.crt",
            "CERT_EXPIRED",
        ),
    ]);
    assert_eq!(failed, expected);
}

fn gce_dir(v: &Path) -> PathBuf {
    v.join("tpm/go-tpm-tools/attestations/extracted/gce-cos-85-nonce9009")
}

fn root_file(v: &Path, rel: &str) -> PathBuf {
    v.join("tpm-roots").join(rel)
}

fn opts_at(at: OffsetDateTime) -> ChainOptions {
    ChainOptions::new(at)
}

fn legacy_at(at: OffsetDateTime) -> ChainOptions {
    ChainOptions {
        allow_sha1: true,
        ..ChainOptions::new(at)
    }
}

/// The error of a chain that must fail.
fn chain_err(
    leaf: &Certificate,
    pool: &[Certificate],
    trust: &TrustStore,
    opts: &ChainOptions,
) -> ChainError {
    match verify_chain(leaf, pool, trust, opts) {
        Ok(c) => panic!("chain verified: {:?}", c.subjects()),
        Err(e) => e,
    }
}

fn pinned_vendor(source: TrustSource) -> &'static str {
    match source {
        TrustSource::Pinned(pin) => pin.vendor,
        other => panic!("not a pinned anchor: {other:?}"),
    }
}

/// `der` with byte `at` changed.
fn flipped(der: &[u8], at: usize) -> Vec<u8> {
    let mut d = der.to_vec();
    d[at] ^= 0x01;
    d
}

/// Where `part` starts inside `whole`.
fn offset_of(whole: &[u8], part: &[u8]) -> usize {
    whole
        .windows(part.len())
        .position(|w| w == part)
        .expect("part not found")
}

/// The RSA modulus of a TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4) with an RSA key:
/// type, nameAlg, objectAttributes, authPolicy, TPMS_RSA_PARMS, unique.
fn tpmt_public_rsa_modulus(b: &[u8]) -> Vec<u8> {
    let u16_at = |i: usize| usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
    assert_eq!(u16_at(0), 0x0001, "not an RSA key");
    let mut i = 8;
    i += 2 + u16_at(i); // authPolicy
    let sym = u16_at(i);
    i += 2;
    if sym != 0x0010 {
        i += 4; // keyBits, mode
    }
    let scheme = u16_at(i);
    i += 2;
    if scheme != 0x0010 {
        i += 2; // hashAlg
    }
    i += 2 + 4; // keyBits, exponent
    let n = u16_at(i);
    assert_eq!(b.len(), i + 2 + n, "trailing bytes");
    b[i + 2..].to_vec()
}

#[test]
fn gce_ak_certificate_chains_to_the_builtin_gce_pin_and_certifies_the_ak() {
    use rsa::traits::PublicKeyParts as _;
    let v = vectors_or_skip!();
    let leaf = cert(&gce_dir(&v).join("ak_cert.der"));
    let intermediate = cert(&root_file(&v, "google-gce/tpm_ek_intermediate_2.crt"));
    let root = cert(&root_file(&v, "google-gce/tpm_ek_root_1.cer"));
    let pool = vec![intermediate.clone(), root.clone()];
    let pins = TrustStore::with_builtin_pins();

    let chain = verify_chain(&leaf, &pool, &pins, &opts_at(TODAY)).unwrap();
    assert_eq!(chain.path.len(), 3);
    assert_eq!(chain.path[1].der(), intermediate.der());
    assert_eq!(chain.path[2].der(), root.der());
    assert_eq!(pinned_vendor(chain.anchor.source), "Google GCE");
    assert_eq!(chain.anchor.spki_sha256, root.spki_sha256());
    assert_eq!(chain.subjects()[0], "(empty subject)");

    // The certified key is the AK of the quotes.
    let PublicKey::Rsa(key) = leaf.public_key().unwrap() else {
        panic!("the GCE AK is RSA")
    };
    let ak = tpmt_public_rsa_modulus(&read(&gce_dir(&v).join("ak.tpmt_public")));
    assert_eq!(key.n().to_bytes_be(), ak);

    // The pool order does not matter.
    let reversed = vec![root.clone(), intermediate.clone()];
    verify_chain(&leaf, &reversed, &pins, &opts_at(TODAY)).unwrap();

    // Without the pins the same root is just a self-signed certificate.
    let e = chain_err(&leaf, &pool, &TrustStore::new(), &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_UNTRUSTED_ROOT", "{e}");
    assert!(
        e.to_string().contains(&hex::encode(root.spki_sha256())),
        "{e}"
    );
    // ... unless a trust directory holds it (its PEM, as the CLI would read it).
    let mut dir = TrustStore::new();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64_lines(root.der())
    );
    assert_eq!(dir.add_file_bytes(pem.as_bytes()).unwrap(), 1);
    // The same certificate as a DER file is the same anchor, once.
    assert_eq!(dir.add_file_bytes(root.der()).unwrap(), 1);
    assert_eq!(dir.anchors().len(), 1);
    let only_int = vec![intermediate.clone()];
    let chain = verify_chain(&leaf, &only_int, &dir, &opts_at(TODAY)).unwrap();
    assert_eq!(chain.anchor.source, TrustSource::Store);
    assert_eq!(chain.path.len(), 3);
    // ... or holds its bare public key.
    let mut keys = TrustStore::new();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64_lines(root.spki_der())
    );
    keys.add_pem(pem.as_bytes()).unwrap();
    let chain = verify_chain(&leaf, &only_int, &keys, &opts_at(TODAY)).unwrap();
    assert_eq!(chain.anchor.spki_sha256, root.spki_sha256());
    assert_eq!(chain.path.len(), 2);

    // The root alone is not enough: the leaf's issuer is missing.
    let e = chain_err(&leaf, std::slice::from_ref(&root), &pins, &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_INCOMPLETE", "{e}");
    assert!(e.to_string().contains("tpm_ek_v1_cloud_host-signer"), "{e}");

    // Validity: the AK certificate from 2021-08-31 to 2051-08-24.
    let e = chain_err(
        &leaf,
        &pool,
        &pins,
        &opts_at(datetime!(2021-01-01 0:00 UTC)),
    );
    assert_eq!(e.code(), "CERT_NOT_YET_VALID", "{e}");
    let e = chain_err(
        &leaf,
        &pool,
        &pins,
        &opts_at(datetime!(2052-01-01 0:00 UTC)),
    );
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
}

#[test]
fn gce_chain_negative_twins_fail_with_the_signature_code() {
    let v = vectors_or_skip!();
    let leaf_der = read(&gce_dir(&v).join("ak_cert.der"));
    let leaf = Certificate::from_der(&leaf_der).unwrap();
    let intermediate = cert(&root_file(&v, "google-gce/tpm_ek_intermediate_2.crt"));
    let root = cert(&root_file(&v, "google-gce/tpm_ek_root_1.cer"));
    let pins = TrustStore::with_builtin_pins();
    let pool = vec![intermediate.clone(), root.clone()];

    // One flipped byte in the leaf's signature, then in its signed key.
    let last = leaf_der.len() - 1;
    let at_key = offset_of(&leaf_der, leaf.spki_der()) + 40;
    for at in [last, at_key] {
        let bad = Certificate::from_der(&flipped(&leaf_der, at)).unwrap();
        let e = chain_err(&bad, &pool, &pins, &opts_at(TODAY));
        assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "byte {at}: {e}");
        assert!(e.to_string().contains("(empty subject)"), "{e}");
    }
    // One flipped byte in the intermediate's signature: the failure names it.
    let int_der = intermediate.der().to_vec();
    let bad_int = Certificate::from_der(&flipped(&int_der, int_der.len() - 1)).unwrap();
    let e = chain_err(&leaf, &[bad_int, root.clone()], &pins, &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{e}");
    assert!(
        e.to_string()
            .contains("signature on 'CN=tpm_ek_v1_cloud_host-signer"),
        "{e}"
    );
    // A changed root is another key: not pinned any more.
    let root_der = root.der().to_vec();
    let bad_root = Certificate::from_der(&flipped(
        &root_der,
        offset_of(&root_der, root.spki_der()) + 40,
    ))
    .unwrap();
    let e = chain_err(&leaf, &[intermediate, bad_root], &pins, &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{e}");
}

#[test]
fn gce_ek_and_ak_certificates_chain_to_the_gce_ek_ak_ca_root() {
    let v = vectors_or_skip!();
    let pool = vec![
        cert(&root_file(
            &v,
            "google-gce/gcp_ek_ak_ca_intermediate_v3.crt",
        )),
        cert(&root_file(&v, "google-gce/gcp_ek_ak_ca_root.crt")),
    ];
    let pins = TrustStore::with_builtin_pins();
    for name in [
        "pca_tpm_ecc_enc_cert.pem",
        "pca_tpm_ecc_sign_cert.pem",
        "pca_tpm_rsa_enc_cert.pem",
        "pca_tpm_rsa_sign_cert.pem",
    ] {
        let leaf = cert(&v.join("tpm/go-tpm-tools/certificates").join(name));
        let chain = verify_chain(&leaf, &pool, &pins, &opts_at(TODAY)).unwrap();
        assert_eq!(chain.path.len(), 3, "{name}");
        assert_eq!(pinned_vendor(chain.anchor.source), "Google GCE");
        assert!(
            chain.subjects()[2].starts_with("CN=EK/AK CA Root"),
            "{name}"
        );
        // The other GCE intermediate is not their issuer.
        let other = vec![cert(&root_file(&v, "google-gce/tpm_ek_intermediate_2.crt"))];
        let e = chain_err(&leaf, &other, &pins, &opts_at(TODAY));
        assert_eq!(e.code(), "CHAIN_INCOMPLETE", "{name}: {e}");
    }
}

#[test]
fn stmicro_ek_with_nv_padding_chains_through_a_cross_certificate_to_globalsign() {
    let v = vectors_or_skip!();
    let ek_dir = v.join("tpm/ek-certs/keylime");
    let der = read(&ek_dir.join("st_sha256_with_rsa.der"));
    let padded = read(&ek_dir.join("st_sha256_with_rsa.nvpadded.bin"));
    assert!(padded.len() > der.len());

    // The padded NV read is not a certificate until the caller strips the padding.
    let e = Certificate::from_der(&padded).unwrap_err();
    assert_eq!(e.code(), "CERT_MALFORMED", "{e}");
    assert_eq!(strip_nv_padding(&padded).unwrap(), &der[..]);
    assert_eq!(strip_nv_padding(&der).unwrap(), &der[..]);
    let mut garbage = padded.clone();
    *garbage.last_mut().unwrap() = 0x42;
    assert_eq!(
        strip_nv_padding(&garbage).unwrap_err().code(),
        "CERT_MALFORMED"
    );

    let ek = Certificate::from_der(strip_nv_padding(&padded).unwrap()).unwrap();
    assert!(ek.subject().is_empty());
    assert!(ek.extension(chain::ext::SUBJECT_ALT_NAME).unwrap().critical);
    let store = v.join("tpm-roots/keylime-tpm_cert_store");
    let int = cert(&store.join("STM_RSA_05I.pem"));
    let cross = cert(&store.join("STM_RSA_RT.pem"));
    let globalsign = cert(&store.join("GS_TPM_RT.pem"));
    assert!(!cross.is_self_issued(), "STM_RSA_RT is a cross-certificate");
    let pool = vec![globalsign.clone(), cross.clone(), int.clone()];
    let pins = TrustStore::with_builtin_pins();
    let chain = verify_chain(&ek, &pool, &pins, &opts_at(TODAY)).unwrap();
    let subjects = chain.subjects();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    assert_eq!(subjects[0], "(empty subject)");
    assert!(
        subjects[1].starts_with("CN=STM TPM EK Intermediate CA 05"),
        "{subjects:?}"
    );
    assert!(
        subjects[2].starts_with("CN=STM TPM EK Root CA"),
        "{subjects:?}"
    );
    assert!(subjects[3].starts_with("CN=GlobalSign Trusted Platform Module Root CA"));
    assert_eq!(pinned_vendor(chain.anchor.source), "STMicro (GlobalSign)");

    // Without the cross-certificate the STM root is missing.
    let e = chain_err(&ek, &[int.clone(), globalsign], &pins, &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_INCOMPLETE", "{e}");
    assert!(
        e.to_string().contains("issuer 'CN=STM TPM EK Root CA"),
        "{e}"
    );
    // The EK certificate expires 2028-07-11.
    let e = chain_err(&ek, &pool, &pins, &opts_at(datetime!(2028-08-01 0:00 UTC)));
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
}

#[test]
fn nuvoton_roots_with_an_unsorted_multi_valued_rdn_verify_over_their_exact_bytes() {
    let v = vectors_or_skip!();
    let store = v.join("tpm-roots/keylime-tpm_cert_store");
    let nuvo = cert(&store.join("NUVO_2111.pem"));
    assert!(nuvo.subject_text().contains('+'), "{}", nuvo.subject_text());
    let why = nuvo.strict_der().unwrap_err();
    assert!(why.contains("SET OF"), "{why}");
    // Its own ECDSA P-256 signature verifies over the bytes as they are...
    nuvo.verify_signed_by(&nuvo, false).unwrap();
    // ... and not over x509-cert's re-encoding, which sorts the RDN.
    use der::{Decode as _, Encode as _};
    let reencoded = x509_cert::Certificate::from_der(nuvo.der())
        .unwrap()
        .to_der()
        .unwrap();
    assert_ne!(reencoded, nuvo.der());
    let sorted = Certificate::from_der(&reencoded).unwrap();
    assert!(
        sorted.subject().matches(nuvo.subject()),
        "names still match when prepared"
    );
    assert_eq!(
        sorted.verify_signed_by(&nuvo, false).unwrap_err().code(),
        "CHAIN_SIGNATURE_INVALID"
    );
    // As a chain of its own: pinned, so trusted; not without the pins.
    let pins = TrustStore::with_builtin_pins();
    let chain = verify_chain(&nuvo, &[], &pins, &opts_at(TODAY)).unwrap();
    assert_eq!(pinned_vendor(chain.anchor.source), "Nuvoton");
    let e = chain_err(&nuvo, &[], &TrustStore::new(), &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_UNTRUSTED_ROOT", "{e}");
    // A pinned key does not vouch for a root certificate whose self-signature fails.
    let forged = Certificate::from_der(&flipped(nuvo.der(), nuvo.der().len() - 1)).unwrap();
    let e = chain_err(&forged, &[], &pins, &opts_at(TODAY));
    assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{e}");

    // The legacy NTC root signs itself with SHA-1/RSA.
    let ntc = cert(&store.join("NTC1.pem"));
    assert_eq!(
        ntc.verify_signed_by(&ntc, false).unwrap_err().code(),
        "LEGACY_SHA1_REFUSED"
    );
    ntc.verify_signed_by(&ntc, true).unwrap();

    // Nuvoton's current ECC chain: an ECC P-384 leaf CA under the P-521 root.
    let cab = v.join("tpm-roots/microsoft-TrustedTpm-cab-2024-11-21/Nuvoton");
    let leaf_ca = cert(&cab.join("IntermediateCA/NPCTxxxECC384LeafCA012110.cer"));
    let root = cert(&cab.join("RootCA/NPCTxxxECC521RootCA.cer"));
    let pool = [root];
    let chain = verify_chain(&leaf_ca, &pool, &pins, &opts_at(TODAY)).unwrap();
    assert_eq!(chain.path.len(), 2);
    assert_eq!(pinned_vendor(chain.anchor.source), "Nuvoton");
}

#[test]
fn expired_infineon_intermediate_fails_today_and_passes_as_of_2025_06_01() {
    let v = vectors_or_skip!();
    let int = cert(&root_file(&v, "keylime-tpm_cert_store/IFX_RSA_01I.pem"));
    let pool = vec![
        cert(&root_file(&v, "keylime-tpm_cert_store/IFX_RSA_RT.pem")),
        cert(&root_file(
            &v,
            "microsoft-TrustedTpm-cab-2024-11-21/Infineon/RootCA/IFX-RootCA.cer",
        )),
    ];
    let pins = TrustStore::with_builtin_pins();
    let e = chain_err(&int, &pool, &pins, &legacy_at(TODAY));
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
    let text = e.to_string();
    assert!(
        text.contains("IFX TPM EK Intermediate CA 01") && text.contains("2025-10-20T13:47:43Z"),
        "{text}"
    );
    let june = datetime!(2025-06-01 0:00 UTC);
    let chain = verify_chain(&int, &pool, &pins, &legacy_at(june)).unwrap();
    assert_eq!(chain.path.len(), 3);
    assert_eq!(pinned_vendor(chain.anchor.source), "Infineon (VeriSign)");
    // The whole chain is SHA-1/RSA: refused unless legacy chains are allowed.
    let e = chain_err(&int, &pool, &pins, &opts_at(june));
    assert_eq!(e.code(), "LEGACY_SHA1_REFUSED", "{e}");
}

#[test]
fn path_building_is_bounded_when_the_pool_is_hostile() {
    let v = vectors_or_skip!();
    let leaf = cert(&gce_dir(&v).join("ak_cert.der"));
    let good = cert(&root_file(&v, "google-gce/tpm_ek_intermediate_2.crt"));
    let root = cert(&root_file(&v, "google-gce/tpm_ek_root_1.cer"));
    let pins = TrustStore::with_builtin_pins();
    // 200 copies of the intermediate, each with another byte of its signature
    // changed: same name, same key identifier, same key, all candidates.
    let der = good.der().to_vec();
    let sig_at = der.len() - 256;
    let mut pool: Vec<Certificate> = (0..200)
        .map(|i| Certificate::from_der(&flipped(&der, sig_at + i)).unwrap())
        .collect();
    pool.push(root.clone());
    pool.push(good.clone());
    let start = std::time::Instant::now();
    let e = chain_err(&leaf, &pool, &pins, &opts_at(TODAY));
    let spent = start.elapsed();
    assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{e}");
    assert!(spent < std::time::Duration::from_secs(5), "{spent:?}");
    // The good intermediate first: found at once.
    pool.rotate_right(1);
    verify_chain(&leaf, &pool, &pins, &opts_at(TODAY)).unwrap();
}

/// Measures the in-process time to verify the GCE AK chain (parse three DER
/// certificates, build and verify the path). Run in release:
/// `cargo test --release -p cerd-attestation --test chain measure_gce -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, run in release"]
fn measure_gce_ak_chain() {
    let v = vectors_or_skip!();
    let leaf_der = read(&gce_dir(&v).join("ak_cert.der"));
    let int_der = read(&root_file(&v, "google-gce/tpm_ek_intermediate_2.crt"));
    let root_der = read(&root_file(&v, "google-gce/tpm_ek_root_1.cer"));
    let pins = TrustStore::with_builtin_pins();
    let opts = opts_at(TODAY);
    let run = || {
        let leaf = Certificate::from_der(&leaf_der).unwrap();
        let pool = vec![
            parse_certificates(&int_der).unwrap().remove(0),
            parse_certificates(&root_der).unwrap().remove(0),
        ];
        verify_chain(&leaf, &pool, &pins, &opts).unwrap().path.len()
    };
    for _ in 0..50 {
        assert_eq!(run(), 3);
    }
    let n = 2000u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(run());
    }
    let per = start.elapsed() / n;
    let leaf = Certificate::from_der(&leaf_der).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(Certificate::from_der(&leaf_der).unwrap());
    }
    let parse = start.elapsed() / n;
    let int = parse_certificates(&int_der).unwrap().remove(0);
    let start = std::time::Instant::now();
    for _ in 0..n {
        leaf.verify_signed_by(&int, false).unwrap();
    }
    let sig = start.elapsed() / n;
    let root = parse_certificates(&root_der).unwrap().remove(0);
    let start = std::time::Instant::now();
    for _ in 0..n {
        int.verify_signed_by(&root, false).unwrap();
    }
    let sig4096 = start.elapsed() / n;
    println!(
        "GCE AK chain (3 certificates): {per:?} per verification including parsing; parse of the AK certificate {parse:?}; the AK certificate's signature (RSA-2048 PKCS#1 SHA-256) {sig:?}; the intermediate's (RSA-4096) {sig4096:?}"
    );
}

fn base64_lines(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(der)
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

mod no_panics {
    use proptest::prelude::*;

    use super::*;

    /// A certificate made for the fuzz seed corpus (an EK-profile leaf: empty
    /// subject, critical subjectAltName).
    fn seed() -> Vec<u8> {
        read(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/corpus/certificate/ek-empty-subject-critical-san.der"),
        )
    }

    /// Every entry point, on bytes that may or may not be a certificate.
    fn exercise(bytes: &[u8]) {
        let _ = parse_certificates(bytes);
        let _ = strip_nv_padding(bytes);
        let _ = TrustStore::new().add_pem(bytes);
        if let Ok(c) = Certificate::from_der(bytes) {
            let _ = (
                c.public_key(),
                c.strict_der(),
                c.check_critical_extensions(),
            );
            let pool = [c.clone()];
            let opts = legacy_at(c.not_before());
            let _ = verify_chain(&c, &pool, &TrustStore::with_builtin_pins(), &opts);
        }
    }

    proptest! {
        #[test]
        fn changed_bytes(changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let mut der = seed();
            for (at, byte) in changes {
                let i = at.index(der.len());
                der[i] = byte;
            }
            exercise(&der);
        }

        #[test]
        fn truncated_or_extended(cut in any::<prop::sample::Index>(), tail in prop::collection::vec(any::<u8>(), 0..16)) {
            let mut der = seed();
            der.truncate(cut.index(der.len()));
            der.extend(tail);
            exercise(&der);
        }

        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            exercise(&bytes);
            let mut tlv = vec![0x30, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
            tlv.extend(&bytes);
            exercise(&tlv);
        }
    }
}
