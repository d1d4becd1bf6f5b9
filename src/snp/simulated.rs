//! A simulated SEV-SNP guest for machines without SNP (tests, the demo).
//!
//! `cer snp sim init --state DIR` generates, once, a test ARK and ASK (RSA-4096,
//! RSASSA-PSS with SHA-384 and salt length 48, like AMD's) and a VCEK (ECDSA P-384)
//! with AMD's VCEK extensions (productName, the TCB SPLs, hwID = the simulated chip
//! ID), serial 0 like AMD's. Only the VCEK's private key is kept; the ARK and ASK keys
//! are discarded after signing. Reports are 1184-byte ATTESTATION_REPORTs v3 (Milan
//! CPUID) signed with the VCEK key.
//!
//! Nothing here is trusted by default: the evidence is marked `simulated`, and a
//! verifier rejects it unless its policy names the test ARK (`[snp]
//! trusted_test_arks`, printed by `cer snp sim init`).

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use cerd_attestation::snp::certs::oid;
use cerd_attestation::snp::report::{offset, REPORT_LEN, SIGNED_LEN};
use cerd_attestation::snp::signature::encode_signature;
use cerd_attestation::snp::{Generation, TcbVersion};
use der::asn1::{BitString, GeneralizedTime, Ia5StringRef, OctetString, UtcTime};
use der::{Decode as _, Encode as _};
use p384::ecdsa::signature::Signer as _;
use p384::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use rand::RngCore as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha384};
use spki::{DynSignatureAlgorithmIdentifier as _, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::{AsExtension as _, Extension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use crate::files;

/// RSA modulus size of the test ARK and ASK (AMD's are RSA-4096).
const RSA_BITS: usize = 4096;
const ORG: &str = "O=cerd simulated SEV-SNP (not AMD),OU=Testing";

/// What the simulated chip and guest are (`guest.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimConfig {
    /// Always "Milan-B0": the TCB layout and CPUID of a Milan.
    pub product: String,
    /// CHIP_ID (hex, 64 bytes) = the VCEK's hwID.
    pub chip_id: String,
    /// The launch MEASUREMENT reported (hex, 48 bytes).
    pub measurement: String,
    /// Guest POLICY.
    pub policy: u64,
    /// SPLs of REPORTED_TCB (= the VCEK's): bl, tee, snp, ucode.
    pub tcb: [u8; 4],
    /// SHA-256 of the test ARK's SubjectPublicKeyInfo (hex): what a policy trusts.
    pub ark_spki_sha256: String,
}

/// A simulated guest's state directory, opened.
#[derive(Debug)]
pub struct SimGuest {
    dir: PathBuf,
    config: SimConfig,
    vcek_key: p384::ecdsa::SigningKey,
    // The certificates go into evidence (`cer attest`, the daemon: `tpm` feature).
    #[cfg_attr(not(feature = "tpm"), allow(dead_code))]
    vcek: Vec<u8>,
    #[cfg_attr(not(feature = "tpm"), allow(dead_code))]
    ask: Vec<u8>,
    #[cfg_attr(not(feature = "tpm"), allow(dead_code))]
    ark: Vec<u8>,
}

fn name(cn: &str) -> anyhow::Result<Name> {
    Name::from_str(&format!("CN={cn},{ORG}")).context("cannot build a name")
}

fn time(t: SystemTime) -> anyhow::Result<Time> {
    let unix = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    const Y2050: u64 = 2_524_608_000;
    Ok(if unix.as_secs() < Y2050 {
        Time::UtcTime(UtcTime::from_unix_duration(unix).context("bad time")?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(unix).context("bad time")?)
    })
}

fn validity(years: u64) -> anyhow::Result<Validity> {
    let now = SystemTime::now();
    let start = now.checked_sub(Duration::from_secs(86_400)).unwrap_or(now);
    let end = now
        .checked_add(Duration::from_secs(years.saturating_mul(365 * 86_400)))
        .context("validity overflows")?;
    Ok(Validity {
        not_before: time(start)?,
        not_after: time(end)?,
    })
}

fn raw_ext(oid: der::asn1::ObjectIdentifier, value: Vec<u8>) -> anyhow::Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).context("extension value")?,
    })
}

/// Signs `tbs` with an RSA-PSS (SHA-384, salt 48) key.
fn sign_pss(
    key: &rsa::pss::SigningKey<Sha384>,
    mut tbs: TbsCertificate,
) -> anyhow::Result<Vec<u8>> {
    tbs.signature = key
        .signature_algorithm_identifier()
        .context("RSA-PSS algorithm identifier")?;
    let bytes = tbs.to_der().context("cannot encode the certificate")?;
    let sig = key
        .try_sign_with_rng(&mut rand::rngs::OsRng, &bytes)
        .context("cannot sign")?;
    let cert = Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&sig.to_bytes()).context("signature")?,
    };
    cert.to_der().context("cannot encode the certificate")
}

fn ca_extensions(subject: &Name) -> anyhow::Result<Vec<Extension>> {
    let mut exts = Vec::new();
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: None,
    }
    .to_extension(subject, &exts)
    .context("basicConstraints")?;
    exts.push(bc);
    let ku = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
        .to_extension(subject, &exts)
        .context("keyUsage")?;
    exts.push(ku);
    Ok(exts)
}

fn rsa_spki(key: &rsa::RsaPrivateKey) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
    let doc = key
        .to_public_key()
        .to_public_key_der()
        .context("RSA public key")?;
    SubjectPublicKeyInfoOwned::from_der(doc.as_bytes()).context("RSA public key")
}

fn tbs(
    serial: &[u8],
    issuer: Name,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    years: u64,
    extensions: Vec<Extension>,
) -> anyhow::Result<TbsCertificate> {
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(serial).context("serial")?,
        signature: spki.algorithm.clone(),
        issuer,
        validity: validity(years)?,
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    })
}

fn pem(der: &[u8]) -> anyhow::Result<String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
        .map_err(|e| anyhow::anyhow!("cannot encode PEM: {e}"))
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut out);
    out
}

impl SimGuest {
    /// Creates a new simulated guest in `dir` (which must not hold one already).
    pub fn init(dir: &Path) -> anyhow::Result<Self> {
        if dir.join("guest.json").exists() {
            bail!(
                "{} already holds a simulated SEV-SNP guest; use another directory",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let rng = &mut rand::rngs::OsRng;
        let ark_key = rsa::RsaPrivateKey::new(rng, RSA_BITS).context("cannot generate the ARK")?;
        let ask_key = rsa::RsaPrivateKey::new(rng, RSA_BITS).context("cannot generate the ASK")?;
        let vcek_key = p384::ecdsa::SigningKey::random(rng);
        let ark_signer = rsa::pss::SigningKey::<Sha384>::new(ark_key.clone());
        let ask_signer = rsa::pss::SigningKey::<Sha384>::new(ask_key.clone());

        let ark_name = name("ARK-Simulated")?;
        let ask_name = name("SEV-Simulated")?;
        let ark_spki = rsa_spki(&ark_key)?;
        let ark_spki_sha256 = hex::encode(sha2::Sha256::digest(
            ark_spki.to_der().context("ARK public key")?,
        ));
        let ark = sign_pss(
            &ark_signer,
            tbs(
                &[1],
                ark_name.clone(),
                ark_name.clone(),
                ark_spki,
                25,
                ca_extensions(&ark_name)?,
            )?,
        )?;
        let ask = sign_pss(
            &ark_signer,
            tbs(
                &[2],
                ark_name,
                ask_name.clone(),
                rsa_spki(&ask_key)?,
                25,
                ca_extensions(&ask_name)?,
            )?,
        )?;

        let chip_id: [u8; 64] = random();
        let [bl, tee, snp, ucode] = [3u8, 0, 8, 115];
        let int = |v: u8| v.to_der().context("SPL");
        let exts = vec![
            raw_ext(oid::STRUCT_VERSION, 1u8.to_der()?)?,
            raw_ext(oid::PRODUCT_NAME, Ia5StringRef::new("Milan-B0")?.to_der()?)?,
            raw_ext(oid::BL_SPL, int(bl)?)?,
            raw_ext(oid::TEE_SPL, int(tee)?)?,
            raw_ext(oid::SNP_SPL, int(snp)?)?,
            raw_ext(oid::SPL_4, int(0)?)?,
            raw_ext(oid::SPL_5, int(0)?)?,
            raw_ext(oid::SPL_6, int(0)?)?,
            raw_ext(oid::SPL_7, int(0)?)?,
            raw_ext(oid::UCODE_SPL, int(ucode)?)?,
            raw_ext(oid::HW_ID, chip_id.to_vec())?,
        ];
        let vcek_spki = SubjectPublicKeyInfoOwned::from_der(
            vcek_key
                .verifying_key()
                .to_public_key_der()
                .context("VCEK public key")?
                .as_bytes(),
        )
        .context("VCEK public key")?;
        let vcek = sign_pss(
            &ask_signer,
            tbs(&[0], ask_name, name("SEV-VCEK")?, vcek_spki, 7, exts)?,
        )?;
        let config = SimConfig {
            product: "Milan-B0".into(),
            chip_id: hex::encode(chip_id),
            measurement: hex::encode(random::<48>()),
            policy: 0x30000,
            tcb: [bl, tee, snp, ucode],
            ark_spki_sha256,
        };
        let key_pem = vcek_key
            .to_pkcs8_pem(der::pem::LineEnding::LF)
            .context("cannot encode the VCEK key")?;
        let key_path = dir.join("vcek.key");
        files::write_new(&key_path, key_pem.as_bytes(), false)?;
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot restrict {}", key_path.display()))?;
        }
        files::write_new(&dir.join("vcek.pem"), pem(&vcek)?.as_bytes(), false)?;
        files::write_new(&dir.join("ask.pem"), pem(&ask)?.as_bytes(), false)?;
        files::write_new(&dir.join("ark.pem"), pem(&ark)?.as_bytes(), false)?;
        let mut text = serde_json::to_vec_pretty(&config)?;
        text.push(b'\n');
        files::write_new(&dir.join("guest.json"), &text, false)?;
        Self::open(dir)
    }

    /// Opens the simulated guest of `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).with_context(|| {
                format!(
                    "cannot read {} (create the simulated guest with `cer snp sim init --state {}`)",
                    p.display(),
                    dir.display()
                )
            })
        };
        let config: SimConfig = serde_json::from_slice(&read("guest.json")?)
            .with_context(|| format!("{}/guest.json is malformed", dir.display()))?;
        let key_text = String::from_utf8(read("vcek.key")?).context("vcek.key is not PEM")?;
        let vcek_key = p384::ecdsa::SigningKey::from_pkcs8_pem(&key_text)
            .map_err(|e| anyhow::anyhow!("{}/vcek.key: {e}", dir.display()))?;
        let der_of = |name: &str| -> anyhow::Result<Vec<u8>> {
            let certs = cerd_attestation::chain::parse_certificates(&read(name)?)
                .map_err(|e| anyhow::anyhow!("{}/{name}: {e}", dir.display()))?;
            certs
                .first()
                .map(|c| c.der().to_vec())
                .with_context(|| format!("{}/{name} holds no certificate", dir.display()))
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            vcek: der_of("vcek.pem")?,
            ask: der_of("ask.pem")?,
            ark: der_of("ark.pem")?,
            config,
            vcek_key,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    #[cfg(feature = "tpm")]
    pub fn vcek_der(&self) -> &[u8] {
        &self.vcek
    }

    /// ASK then ARK, DER.
    #[cfg(feature = "tpm")]
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        vec![self.ask.clone(), self.ark.clone()]
    }

    /// A signed ATTESTATION_REPORT v3 with `report_data`.
    pub fn report(&self, report_data: [u8; 64]) -> anyhow::Result<Vec<u8>> {
        let c = &self.config;
        let mut chip_id = [0u8; 64];
        hex::decode_to_slice(&c.chip_id, &mut chip_id).context("guest.json chipId")?;
        let mut measurement = [0u8; 48];
        hex::decode_to_slice(&c.measurement, &mut measurement).context("guest.json measurement")?;
        let [bl, tee, snp, ucode] = c.tcb;
        let tcb = TcbVersion::encode(Generation::Milan, 0, bl, tee, snp, ucode).to_le_bytes();
        let mut b = vec![0u8; REPORT_LEN];
        fn put(b: &mut [u8], at: usize, bytes: &[u8]) {
            if let Some(dst) = at
                .checked_add(bytes.len())
                .and_then(|end| b.get_mut(at..end))
            {
                dst.copy_from_slice(bytes);
            }
        }
        put(&mut b, 0, &3u32.to_le_bytes()); // VERSION
        put(&mut b, offset::POLICY, &c.policy.to_le_bytes());
        put(&mut b, 0x34, &1u32.to_le_bytes()); // SIGNATURE_ALGO: ECDSA P-384/SHA-384
        put(&mut b, 0x38, &tcb); // CURRENT_TCB
        put(&mut b, 0x40, &1u64.to_le_bytes()); // PLATFORM_INFO: SMT enabled
        put(&mut b, offset::REPORT_DATA, &report_data);
        put(&mut b, offset::MEASUREMENT, &measurement);
        put(&mut b, 0x140, &random::<32>()); // REPORT_ID
        put(&mut b, offset::REPORTED_TCB, &tcb);
        put(&mut b, offset::CPUID, &[0x19, 0x01, 0x01]); // Family 19h model 01h: Milan
        put(&mut b, offset::CHIP_ID, &chip_id);
        put(&mut b, 0x1e0, &tcb); // COMMITTED_TCB
        put(&mut b, 0x1e8, &[0, 55, 1, 0]); // CURRENT build 0, 1.55
        put(&mut b, 0x1ec, &[0, 55, 1, 0]);
        put(&mut b, 0x1f0, &tcb); // LAUNCH_TCB
        let signed = b.get(..SIGNED_LEN).context("report size")?;
        let sig: p384::ecdsa::Signature = self.vcek_key.sign(signed);
        let (r, s) = encode_signature(&sig);
        put(&mut b, offset::SIGNATURE, &r);
        put(&mut b, offset::SIGNATURE.saturating_add(72), &s);
        Ok(b)
    }
}
