//! Endorsement keys re-created from the TCG EK Credential Profile default templates.
//!
//! The EK is a primary key of the endorsement hierarchy: the same template on the same
//! TPM always gives the same key, so an EK "read" here is a TPM2_CreatePrimary with the
//! profile's template. That the result equals the key in the EK certificate from NV
//! ([`super::check_certificate_key`]) is what shows the template is right.
//!
//! swtpm 0.7 provisions RSA 2048 with template L-1 (certificate at 0x01c00002) and its
//! ECC EK as NIST P-384 with template H-3 (certificate at 0x01c00016); L-2 (ECC P-256,
//! 0x01c0000a) is what most hardware TPMs with an ECC EK carry.

use std::fmt;

use anyhow::bail;
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::structures::{
    Digest, EccScheme, KeyDerivationFunctionScheme, Public, PublicBuilder,
    PublicEccParametersBuilder, PublicKeyRsa, PublicRsaParametersBuilder, RsaExponent, RsaScheme,
    SymmetricDefinitionObject,
};

use super::public::{marshal, name_of, tpm2b_public};
use super::{create_primary, zero_point, LoadedKey};
use crate::tpm::nv::{self, call_open};
use crate::tpm::Tpm;

/// PolicyA, SHA-256: TPM2_PolicySecret(TPM_RH_ENDORSEMENT) (EK Credential Profile 2.x
/// Annex B.3.2), the authPolicy of templates L-1 and L-2.
pub const EK_POLICY_A_SHA256: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// PolicyB, SHA-384 (EK Credential Profile 2.x Annex B.4), the authPolicy of template H-3.
/// H-3 also sets userWithAuth, so its EK can be authorized with its (empty) authValue.
pub const EK_POLICY_B_SHA384: [u8; 48] = [
    0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc, 0xf5, 0xfd, 0x3a, 0x1a,
    0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4, 0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca,
    0xcb, 0x47, 0xba, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12,
];

/// The EKs with TCG default templates and certificate indices cer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EkKind {
    /// RSA 2048, template L-1, certificate at 0x01c00002.
    Rsa2048,
    /// ECC NIST P-256, template L-2, certificate at 0x01c0000a.
    EccP256,
    /// ECC NIST P-384, template H-3, certificate at 0x01c00016 (swtpm's ECC EK).
    EccP384,
}

impl EkKind {
    pub const ALL: [Self; 3] = [Self::Rsa2048, Self::EccP256, Self::EccP384];

    /// The NV index of this EK's certificate.
    pub fn nv_index(self) -> u32 {
        match self {
            Self::Rsa2048 => nv::EK_CERT_RSA2048,
            Self::EccP256 => nv::EK_CERT_ECC_P256,
            Self::EccP384 => nv::EK_CERT_ECC_P384,
        }
    }

    /// Short name used in file names (`ek-rsa2048.der`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa2048",
            Self::EccP256 => "eccp256",
            Self::EccP384 => "eccp384",
        }
    }

    /// The EK Credential Profile's name for the default template.
    pub fn template_name(self) -> &'static str {
        match self {
            Self::Rsa2048 => "L-1",
            Self::EccP256 => "L-2",
            Self::EccP384 => "H-3",
        }
    }

    /// The TCG EK Credential Profile 2.x default template (Annex B.3.3 L-1, B.3.4 L-2,
    /// B.4 H-3). objectAttributes fixedTPM | fixedParent | sensitiveDataOrigin |
    /// adminWithPolicy | restricted | decrypt (0x000300b2), plus userWithAuth for H-3
    /// (0x000300f2). L-1/L-2: nameAlg SHA-256, authPolicy PolicyA (837197…69aa),
    /// AES-128-CFB, unique all zero (256 bytes RSA, 32+32 bytes ECC). H-3: nameAlg
    /// SHA-384, authPolicy PolicyB-SHA384 (b26e7d…0e12), AES-256-CFB, unique empty.
    pub fn template(self) -> anyhow::Result<Public> {
        let high = self == Self::EccP384;
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            .with_sensitive_data_origin(true)
            .with_user_with_auth(high)
            .with_admin_with_policy(true)
            .with_restricted(true)
            .with_decrypt(true)
            .build()?;
        let (name_alg, policy, symmetric) = if high {
            (
                HashingAlgorithm::Sha384,
                Digest::try_from(EK_POLICY_B_SHA384.as_slice())?,
                SymmetricDefinitionObject::AES_256_CFB,
            )
        } else {
            (
                HashingAlgorithm::Sha256,
                Digest::try_from(EK_POLICY_A_SHA256.as_slice())?,
                SymmetricDefinitionObject::AES_128_CFB,
            )
        };
        let builder = PublicBuilder::new()
            .with_name_hashing_algorithm(name_alg)
            .with_object_attributes(attributes)
            .with_auth_policy(policy);
        let ecc = |curve: EccCurve| {
            PublicEccParametersBuilder::new()
                .with_symmetric(symmetric)
                .with_ecc_scheme(EccScheme::Null)
                .with_curve(curve)
                .with_key_derivation_function_scheme(KeyDerivationFunctionScheme::Null)
                .with_is_signing_key(false)
                .with_is_decryption_key(true)
                .with_restricted(true)
                .build()
        };
        let public = match self {
            Self::Rsa2048 => builder
                .with_public_algorithm(PublicAlgorithm::Rsa)
                .with_rsa_parameters(
                    PublicRsaParametersBuilder::new()
                        .with_symmetric(symmetric)
                        .with_scheme(RsaScheme::Null)
                        .with_key_bits(RsaKeyBits::Rsa2048)
                        .with_exponent(RsaExponent::default())
                        .with_is_signing_key(false)
                        .with_is_decryption_key(true)
                        .with_restricted(true)
                        .build()?,
                )
                .with_rsa_unique_identifier(PublicKeyRsa::new_empty_with_size(RsaKeyBits::Rsa2048))
                .build()?,
            Self::EccP256 => builder
                .with_public_algorithm(PublicAlgorithm::Ecc)
                .with_ecc_parameters(ecc(EccCurve::NistP256)?)
                .with_ecc_unique_identifier(zero_point(32)?)
                .build()?,
            Self::EccP384 => builder
                .with_public_algorithm(PublicAlgorithm::Ecc)
                .with_ecc_parameters(ecc(EccCurve::NistP384)?)
                .with_ecc_unique_identifier(zero_point(0)?)
                .build()?,
        };
        Ok(public)
    }
}

impl fmt::Display for EkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rsa2048 => "RSA-2048",
            Self::EccP256 => "ECC P-256",
            Self::EccP384 => "ECC P-384",
        })
    }
}

/// An EK's public part, as the TPM reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EkPublic {
    pub kind: EkKind,
    pub public: Public,
    /// TPM2B_PUBLIC, marshalled.
    pub public_bytes: Vec<u8>,
    /// nameAlg || H(TPMT_PUBLIC) (SHA-256 for L-1/L-2, SHA-384 for H-3).
    pub name: Vec<u8>,
}

/// Re-creates the EK from its default template, reads its public part, and flushes it.
pub fn ek_public(tpm: &mut Tpm, kind: EkKind) -> anyhow::Result<EkPublic> {
    let (loaded, ek) = load_ek(tpm, kind)?;
    loaded.release(tpm)?;
    Ok(ek)
}

/// Re-creates the EK from its default template and leaves it loaded (for
/// ActivateCredential: L-1/L-2 need a PolicySecret(TPM_RH_ENDORSEMENT) session, H-3
/// also accepts its empty authValue). Call [`LoadedKey::release`] to flush it.
pub fn load_ek(tpm: &mut Tpm, kind: EkKind) -> anyhow::Result<(LoadedKey, EkPublic)> {
    let (loaded, public) = create_primary(tpm, kind.template()?)?;
    let checked = (|| {
        let (read, reported, _) = call_open(tpm, "ReadPublic", |ctx| ctx.read_public(loaded.key))?;
        let name = name_of(&read)?;
        if marshal(&read)? != marshal(&public)? || name != reported.value() {
            bail!(
                "TPM at {} reports a different public area or name for the {kind} EK it just created",
                tpm.tcti()
            );
        }
        Ok(EkPublic {
            kind,
            public_bytes: tpm2b_public(&read)?,
            public: read,
            name,
        })
    })();
    match checked {
        Ok(ek) => Ok((loaded, ek)),
        Err(e) => {
            loaded.release(tpm)?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_the_ek_credential_profile() {
        let l1 = marshal(&EkKind::Rsa2048.template().unwrap()).unwrap();
        // RSA, SHA-256, 0x000300b2, 32-byte PolicyA
        assert_eq!(hex::encode(&l1[..10]), "0001000b000300b20020");
        assert_eq!(&l1[10..42], &EK_POLICY_A_SHA256);
        // AES-128-CFB, scheme NULL, 2048 bits, exponent 0, unique 256 zero bytes
        assert_eq!(hex::encode(&l1[42..56]), "0006008000430010080000000000");
        assert_eq!(&l1[56..58], &[0x01, 0x00]);
        assert!(l1[58..].iter().all(|b| *b == 0) && l1.len() == 58 + 256);

        let l2 = marshal(&EkKind::EccP256.template().unwrap()).unwrap();
        assert_eq!(hex::encode(&l2[..10]), "0023000b000300b20020");
        assert_eq!(&l2[10..42], &EK_POLICY_A_SHA256);
        // AES-128-CFB, scheme NULL, P-256, kdf NULL, x and y 32 zero bytes
        assert_eq!(hex::encode(&l2[42..54]), "000600800043001000030010");
        assert_eq!(l2.len(), 54 + 2 * 34);

        let h3 = marshal(&EkKind::EccP384.template().unwrap()).unwrap();
        // ECC, SHA-384, 0x000300f2 (userWithAuth), 48-byte PolicyB
        assert_eq!(hex::encode(&h3[..10]), "0023000c000300f20030");
        assert_eq!(&h3[10..58], &EK_POLICY_B_SHA384);
        // AES-256-CFB, scheme NULL, P-384, kdf NULL, x and y empty
        assert_eq!(hex::encode(&h3[58..]), "00060100004300100004001000000000");
    }

    #[test]
    fn names_use_the_template_name_algorithm() {
        let l1 = name_of(&EkKind::Rsa2048.template().unwrap()).unwrap();
        assert_eq!((l1.len(), &l1[..2]), (34, &[0x00, 0x0b][..]));
        let h3 = name_of(&EkKind::EccP384.template().unwrap()).unwrap();
        assert_eq!((h3.len(), &h3[..2]), (50, &[0x00, 0x0c][..]));
    }
}
