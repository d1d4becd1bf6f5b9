//! TPM2_MakeCredential in software (TPM 2.0 Part 1 §24 "Credential Protection",
//! Part 3 §12.6): protect a credential so that only the TPM holding the EK's private
//! key, and only for the object with the given name loaded in it, can recover it with
//! TPM2_ActivateCredential.
//!
//! With `H` the EK's nameAlg and the EK's symmetric algorithm (AES-128/256-CFB):
//!
//! - seed: RSA EK → random `|H|` bytes, RSAES-OAEP(H, label "IDENTITY\0") to the EK;
//!   ECC EK → ephemeral ECDH on the EK's curve, seed = KDFe(H, Z, "IDENTITY",
//!   ephemeral.x, ek.x, 8·|H|) (Part 1 §11.4.10.3), the secret is the ephemeral point.
//! - symKey = KDFa(H, seed, "STORAGE", name, "", keyBits) (Part 1 §11.4.10.2)
//! - encIdentity = AES-CFB(symKey, IV = 0, TPM2B_DIGEST(credential))
//! - HMACkey = KDFa(H, seed, "INTEGRITY", "", "", 8·|H|)
//! - outerHMAC = HMAC-H(HMACkey, encIdentity || name)
//! - TPM2B_ID_OBJECT = TPM2B(TPM2B_DIGEST(outerHMAC) || encIdentity)

use std::fmt;

use aes::{Aes128, Aes256};
use cfb_mode::cipher::{AsyncStreamCipher as _, KeyIvInit as _};
use hmac::Hmac;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use rand::{CryptoRng, RngCore};
use sha2::{Sha256, Sha384, Sha512};

use super::key::PublicKey;
use cerd_attestation::tpm::public::{SymAlg, SymMode};
use cerd_attestation::tpm::{HashAlg, TpmPublic};

/// The outputs of TPM2_MakeCredential, each marshalled with its u16 size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeCredential {
    /// TPM2B_ID_OBJECT.
    pub id_object: Vec<u8>,
    /// TPM2B_ENCRYPTED_SECRET.
    pub encrypted_secret: Vec<u8>,
}

/// Why MakeCredential could not be computed for this EK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialError(pub String);

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CredentialError {}

fn err(msg: impl Into<String>) -> CredentialError {
    CredentialError(msg.into())
}

/// Computes TPM2_MakeCredential(ek, credential, object_name) in software.
pub fn make_credential<R: RngCore + CryptoRng>(
    ek: &TpmPublic,
    object_name: &[u8],
    credential: &[u8],
    rng: &mut R,
) -> Result<MadeCredential, CredentialError> {
    let h = ek.name_alg;
    if h == HashAlg::Sha1 {
        return Err(err(
            "the EK's nameAlg is SHA-1, which this CA does not accept",
        ));
    }
    let sym = ek
        .symmetric
        .ok_or_else(|| err("the EK has no symmetric algorithm; it is not a storage key"))?;
    if sym.algorithm != SymAlg::Aes || sym.mode != SymMode::Cfb {
        return Err(err(format!(
            "the EK's symmetric algorithm is {:?}-{:?}, not AES-CFB",
            sym.algorithm, sym.mode
        )));
    }
    if credential.len() > h.size() {
        return Err(err(format!(
            "a credential of {} bytes is larger than the EK's {h} digest",
            credential.len()
        )));
    }
    let key = PublicKey::from_tpm(ek).map_err(|e| err(format!("EK: {e}")))?;
    let (seed, secret) = match &key {
        PublicKey::Rsa(k) => {
            let mut seed = vec![0u8; h.size()];
            rng.fill_bytes(&mut seed);
            let label = "IDENTITY\0";
            let padding = match h {
                HashAlg::Sha256 => rsa::Oaep::new_with_label::<Sha256, _>(label),
                HashAlg::Sha384 => rsa::Oaep::new_with_label::<Sha384, _>(label),
                HashAlg::Sha512 => rsa::Oaep::new_with_label::<Sha512, _>(label),
                HashAlg::Sha1 => return Err(err("SHA-1 OAEP is not accepted")),
            };
            let enc = k
                .encrypt(rng, padding, &seed)
                .map_err(|e| err(format!("RSA-OAEP to the EK failed: {e}")))?;
            (seed, enc)
        }
        PublicKey::P256(k) => {
            let eph = p256::ecdh::EphemeralSecret::random(rng);
            let z = eph.diffie_hellman(k).raw_secret_bytes().to_vec();
            let point = eph.public_key().to_encoded_point(false);
            ecc_seed(h, &z, point.x(), point.y(), k.to_encoded_point(false).x())?
        }
        PublicKey::P384(k) => {
            let eph = p384::ecdh::EphemeralSecret::random(rng);
            let z = eph.diffie_hellman(k).raw_secret_bytes().to_vec();
            let point = eph.public_key().to_encoded_point(false);
            ecc_seed(h, &z, point.x(), point.y(), k.to_encoded_point(false).x())?
        }
    };
    let id_object = protect(h, sym.key_bits, &seed, object_name, credential)?;
    Ok(MadeCredential {
        id_object: tpm2b(&id_object)?,
        encrypted_secret: tpm2b(&secret)?,
    })
}

/// The ECC seed (KDFe) and the marshalled TPMS_ECC_POINT of the ephemeral key.
fn ecc_seed<F: AsRef<[u8]>>(
    h: HashAlg,
    z: &[u8],
    eph_x: Option<&F>,
    eph_y: Option<&F>,
    ek_x: Option<&F>,
) -> Result<(Vec<u8>, Vec<u8>), CredentialError> {
    let missing = || err("an ECC point has no coordinates (identity point)");
    let (ex, ey, kx) = (
        eph_x.ok_or_else(missing)?.as_ref(),
        eph_y.ok_or_else(missing)?.as_ref(),
        ek_x.ok_or_else(missing)?.as_ref(),
    );
    let seed = kdfe(h, z, b"IDENTITY\0", ex, kx, h.size());
    let mut point = tpm2b(ex)?;
    point.extend_from_slice(&tpm2b(ey)?);
    Ok((seed, point))
}

/// encIdentity and its outer HMAC, as the contents of a TPM2B_ID_OBJECT.
fn protect(
    h: HashAlg,
    sym_bits: u16,
    seed: &[u8],
    name: &[u8],
    credential: &[u8],
) -> Result<Vec<u8>, CredentialError> {
    let sym_key = kdfa(h, seed, b"STORAGE", name, &[], usize::from(sym_bits / 8));
    let mut enc_identity = tpm2b(credential)?;
    let iv = [0u8; 16];
    let bad = |_| err("AES key of the wrong size");
    match sym_bits {
        128 => cfb_mode::Encryptor::<Aes128>::new_from_slices(&sym_key, &iv)
            .map_err(bad)?
            .encrypt(&mut enc_identity),
        256 => cfb_mode::Encryptor::<Aes256>::new_from_slices(&sym_key, &iv)
            .map_err(bad)?
            .encrypt(&mut enc_identity),
        other => return Err(err(format!("unsupported EK symmetric key size {other}"))),
    }
    let hmac_key = kdfa(h, seed, b"INTEGRITY", &[], &[], h.size());
    let outer_hmac = hmac(h, &hmac_key, &[&enc_identity, name])?;
    let mut id = tpm2b(&outer_hmac)?;
    id.extend_from_slice(&enc_identity);
    Ok(id)
}

/// Marshals bytes as a TPM2B (u16 size first).
pub fn tpm2b(bytes: &[u8]) -> Result<Vec<u8>, CredentialError> {
    let n = u16::try_from(bytes.len()).map_err(|_| err("a TPM2B over 65535 bytes"))?;
    let mut out = n.to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    Ok(out)
}

fn hmac(h: HashAlg, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, CredentialError> {
    fn run<M: hmac::Mac + hmac::digest::KeyInit>(
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CredentialError> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .map_err(|_| err("HMAC key rejected"))?;
        for p in parts {
            m.update(p);
        }
        Ok(m.finalize().into_bytes().to_vec())
    }
    match h {
        HashAlg::Sha256 => run::<Hmac<Sha256>>(key, parts),
        HashAlg::Sha384 => run::<Hmac<Sha384>>(key, parts),
        HashAlg::Sha512 => run::<Hmac<Sha512>>(key, parts),
        HashAlg::Sha1 => Err(err("HMAC-SHA-1 is not accepted")),
    }
}

/// KDFa (Part 1 §11.4.10.2, SP 800-108 counter mode with HMAC-H): `bytes` of
/// HMAC(key, [i]₃₂ || label || 0x00 || contextU || contextV || [8·bytes]₃₂).
pub fn kdfa(
    h: HashAlg,
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    bytes: usize,
) -> Vec<u8> {
    let bits = u32::try_from(bytes.saturating_mul(8)).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(bytes);
    let mut counter: u32 = 1;
    while out.len() < bytes {
        let block = hmac(
            h,
            key,
            &[
                &counter.to_be_bytes(),
                label,
                &[0],
                context_u,
                context_v,
                &bits.to_be_bytes(),
            ],
        )
        .unwrap_or_default();
        if block.is_empty() {
            break; // an unsupported hash (refused before any credential is made)
        }
        out.extend_from_slice(&block);
        counter = counter.wrapping_add(1);
    }
    out.truncate(bytes);
    out
}

/// KDFe (Part 1 §11.4.10.3, SP 800-56A concatenation KDF): `bytes` of
/// H([i]₃₂ || Z || use || partyU || partyV); `use` includes its terminating NUL.
pub fn kdfe(
    h: HashAlg,
    z: &[u8],
    use_: &[u8],
    party_u: &[u8],
    party_v: &[u8],
    bytes: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes);
    let mut counter: u32 = 1;
    while out.len() < bytes {
        let mut input = counter.to_be_bytes().to_vec();
        for p in [z, use_, party_u, party_v] {
            input.extend_from_slice(p);
        }
        out.extend_from_slice(&h.digest(&input));
        counter = counter.wrapping_add(1);
    }
    out.truncate(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cerd_attestation::tpm::reader::Reader;

    /// TPM2_ActivateCredential in software, for the round-trip tests only: `None` when
    /// the outer HMAC does not verify.
    fn activate(
        h: HashAlg,
        sym_bits: u16,
        seed: &[u8],
        name: &[u8],
        id_object: &[u8],
    ) -> Option<Vec<u8>> {
        let mut r = Reader::new("TPM2B_ID_OBJECT", id_object);
        let inner = r.tpm2b("id").unwrap();
        let mut r = Reader::new("ID_OBJECT", inner);
        let mac = r.tpm2b("hmac").unwrap();
        let enc = &inner[r.offset()..];
        let hmac_key = kdfa(h, seed, b"INTEGRITY", &[], &[], h.size());
        if hmac(h, &hmac_key, &[enc, name]).unwrap() != mac {
            return None;
        }
        let key = kdfa(h, seed, b"STORAGE", name, &[], usize::from(sym_bits / 8));
        let mut buf = enc.to_vec();
        assert_eq!(sym_bits, 128);
        cfb_mode::Decryptor::<Aes128>::new_from_slices(&key, &[0; 16])
            .unwrap()
            .decrypt(&mut buf);
        let mut r = Reader::new("encIdentity", &buf);
        let cred = r.tpm2b("cred").unwrap().to_vec();
        r.finish().unwrap();
        Some(cred)
    }

    fn ek_template(x: &[u8], y: &[u8]) -> TpmPublic {
        let mut t = vec![0x00, 0x23, 0x00, 0x0b, 0x00, 0x03, 0x00, 0xb2, 0x00, 0x00];
        t.extend_from_slice(&[
            0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10,
        ]);
        t.extend_from_slice(&tpm2b(x).unwrap());
        t.extend_from_slice(&tpm2b(y).unwrap());
        TpmPublic::from_tpmt(&t).unwrap()
    }

    #[test]
    fn ecc_round_trip_with_the_ek_private_key() {
        let ek_sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let p = ek_sk.public_key().to_encoded_point(false);
        let ek = ek_template(p.x().unwrap(), p.y().unwrap());
        let name = [0x00, 0x0b]
            .iter()
            .chain([7u8; 32].iter())
            .copied()
            .collect::<Vec<_>>();
        let cred = [0x5a; 32];
        let made = make_credential(&ek, &name, &cred, &mut rand::rngs::OsRng).unwrap();
        // The TPM's side: Z = d_ek · Q_ephemeral.
        let mut r = Reader::new("TPM2B_ENCRYPTED_SECRET", &made.encrypted_secret);
        let point = r.tpm2b("secret").unwrap();
        let mut r = Reader::new("TPMS_ECC_POINT", point);
        let (ex, ey) = (r.tpm2b("x").unwrap(), r.tpm2b("y").unwrap());
        let sec1: Vec<u8> = [&[4u8][..], ex, ey].concat();
        let eph = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
        let z = p256::ecdh::diffie_hellman(ek_sk.to_nonzero_scalar(), eph.as_affine());
        let seed = kdfe(
            HashAlg::Sha256,
            z.raw_secret_bytes(),
            b"IDENTITY\0",
            ex,
            p.x().unwrap(),
            32,
        );
        assert_eq!(
            activate(HashAlg::Sha256, 128, &seed, &name, &made.id_object),
            Some(cred.to_vec())
        );
        // Another name (another object) does not pass the outer HMAC.
        let other = [0x00, 0x0b]
            .iter()
            .chain([8u8; 32].iter())
            .copied()
            .collect::<Vec<_>>();
        assert_eq!(
            activate(HashAlg::Sha256, 128, &seed, &other, &made.id_object),
            None
        );
    }

    #[test]
    fn kdfa_lengths_and_labels() {
        let a = kdfa(HashAlg::Sha256, b"k", b"STORAGE", b"n", &[], 16);
        let b = kdfa(HashAlg::Sha256, b"k", b"STORAGE", b"n", &[], 40);
        assert_eq!(a.len(), 16);
        assert_eq!(b.len(), 40);
        // The bit length is part of the input: a shorter output is not a prefix.
        assert_ne!(a, b[..16]);
        assert_ne!(a, kdfa(HashAlg::Sha256, b"k", b"INTEGRITY", b"n", &[], 16));
    }

    #[test]
    fn refuses_oversized_credentials() {
        let ek_sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let p = ek_sk.public_key().to_encoded_point(false);
        let ek = ek_template(p.x().unwrap(), p.y().unwrap());
        let e = make_credential(&ek, &[0; 34], &[0; 33], &mut rand::rngs::OsRng).unwrap_err();
        assert!(e.0.contains("larger"), "{e}");
    }
}
