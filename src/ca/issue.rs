//! Certificates the CA signs (x509-cert types, RFC 5280): its own self-signed root
//! and AK certificates that name the TPM and the EK certificate they were enrolled
//! with.
//!
//! Certificates are assembled from x509-cert's `TbsCertificate` and its extension
//! types rather than its builder profiles, so the extension set is exactly the one
//! documented in docs/enrollment.md (the builder's leaf profile adds nonRepudiation).

use std::time::Duration;

use anyhow::Context as _;
use der::asn1::{
    BitString, GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime, Utf8StringRef,
};
use der::{Any, Decode as _, Encode as _};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::chain::Cert;
use super::key::PublicKey;
use super::request::TpmInfo;

// cerd's private arc for AK certificate extensions is 1.3.6.1.4.1.32473.6769: under
// IANA's Private Enterprise Number 32473, reserved for documentation (RFC 5612) and so
// assigned to no organisation, until cerd registers its own PEN. docs/enrollment.md
// says why not the UUID arc 2.25 (its arcs do not fit the 32 bits x509-cert accepts).

/// The AK certificate extension carrying SHA-256 of the EK certificate DER (an OCTET
/// STRING of 32 bytes), non-critical.
pub const EK_CERT_SHA256_OID: ObjectIdentifier = cerd_attestation::chain::ext::CERD_EK_CERT_SHA256;
/// The AK certificate extension carrying the AK's TPM name (nameAlg || digest) as an
/// OCTET STRING, non-critical: it binds the TPM public area, and so the attributes
/// the CA checked, to the certificate.
pub const AK_NAME_OID: ObjectIdentifier = cerd_attestation::chain::ext::CERD_AK_NAME;

/// TCG attribute types (TCG EK Credential Profile §3.1.2): tpmManufacturer,
/// tpmModel, tpmVersion.
pub const TCG_TPM_MANUFACTURER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.1");
pub const TCG_TPM_MODEL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.2");
pub const TCG_TPM_VERSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.3");

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// The CA's signing key: ECDSA on P-256 (SHA-256) or P-384 (SHA-384).
#[derive(Debug, Clone)]
pub enum CaKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl CaKey {
    pub fn generate(p384: bool) -> Self {
        let rng = &mut rand::rngs::OsRng;
        if p384 {
            Self::P384(p384::ecdsa::SigningKey::random(rng))
        } else {
            Self::P256(p256::ecdsa::SigningKey::random(rng))
        }
    }

    /// PKCS#8 PEM of the private key.
    pub fn to_pem(&self) -> anyhow::Result<der::zeroize::Zeroizing<String>> {
        let le = der::pem::LineEnding::LF;
        match self {
            Self::P256(k) => k.to_pkcs8_pem(le),
            Self::P384(k) => k.to_pkcs8_pem(le),
        }
        .context("cannot encode the CA key")
    }

    pub fn from_pem(text: &str) -> anyhow::Result<Self> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(text) {
            return Ok(Self::P256(k));
        }
        p384::ecdsa::SigningKey::from_pkcs8_pem(text)
            .map(Self::P384)
            .map_err(|e| anyhow::anyhow!("not a PKCS#8 P-256 or P-384 private key ({e})"))
    }

    pub fn public(&self) -> PublicKey {
        match self {
            Self::P256(k) => PublicKey::P256(k.verifying_key().into()),
            Self::P384(k) => PublicKey::P384(k.verifying_key().into()),
        }
    }

    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        let oid = match self {
            Self::P256(_) => "1.2.840.10045.4.3.2",
            Self::P384(_) => "1.2.840.10045.4.3.3",
        };
        AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(oid),
            parameters: None,
        }
    }

    /// Signs `tbs` (its `signature` field set to this key's algorithm).
    fn sign(&self, mut tbs: TbsCertificate) -> anyhow::Result<Certificate> {
        tbs.signature = self.algorithm();
        let bytes = tbs.to_der().context("cannot encode the certificate")?;
        let sig = match self {
            Self::P256(k) => {
                let s: p256::ecdsa::DerSignature = k.try_sign(&bytes).context("cannot sign")?;
                s.as_bytes().to_vec()
            }
            Self::P384(k) => {
                let s: p384::ecdsa::DerSignature = k.try_sign(&bytes).context("cannot sign")?;
                s.as_bytes().to_vec()
            }
        };
        Ok(Certificate {
            signature_algorithm: tbs.signature.clone(),
            tbs_certificate: tbs,
            signature: BitString::from_bytes(&sig).context("cannot encode the signature")?,
        })
    }
}

/// A Name with one CN (UTF8String).
pub fn cn_name(cn: &str) -> anyhow::Result<Name> {
    Ok(RdnSequence(vec![rdn(CN, cn)?]))
}

fn rdn(oid: ObjectIdentifier, value: &str) -> anyhow::Result<RelativeDistinguishedName> {
    let value = Any::from(Utf8StringRef::new(value).context("not a UTF8String")?);
    let set = SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
        .context("cannot build a name")?;
    Ok(RelativeDistinguishedName(set))
}

/// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after.
fn time(unix: Duration) -> anyhow::Result<Time> {
    const Y2050: u64 = 2_524_608_000;
    Ok(if unix.as_secs() < Y2050 {
        Time::UtcTime(UtcTime::from_unix_duration(unix).context("bad time")?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(unix).context("bad time")?)
    })
}

fn validity(now: Duration, days: u64) -> anyhow::Result<Validity> {
    let until = now.saturating_add(Duration::from_secs(days.saturating_mul(86_400)));
    Ok(Validity {
        not_before: time(now)?,
        not_after: time(until)?,
    })
}

fn ext<E: AsExtension>(e: &E, subject: &Name, done: &[Extension]) -> anyhow::Result<Extension> {
    e.to_extension(subject, done)
        .context("cannot encode an extension")
}

/// The CA's self-signed certificate: basicConstraints cA (critical), keyUsage
/// keyCertSign|cRLSign (critical), subjectKeyIdentifier; valid `days` from `now`.
pub fn root_certificate(
    key: &CaKey,
    cn: &str,
    serial: u64,
    now: Duration,
    days: u64,
) -> anyhow::Result<Certificate> {
    let subject = cn_name(cn)?;
    let spki = key.public().to_spki().map_err(anyhow::Error::msg)?;
    let mut exts = Vec::new();
    exts.push(ext(
        &BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        },
        &subject,
        &exts,
    )?);
    exts.push(ext(
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        &subject,
        &exts,
    )?);
    let ski =
        SubjectKeyIdentifier::try_from(spki.owned_to_ref()).context("cannot compute the key id")?;
    exts.push(ext(&ski, &subject, &exts)?);
    key.sign(TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial.to_be_bytes()).context("bad serial")?,
        signature: key.algorithm(),
        issuer: subject.clone(),
        validity: validity(now, days)?,
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    })
}

/// The TPM's manufacturer, model and version as TCG attribute strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmAttributes {
    pub manufacturer: String,
    pub model: String,
    pub version: String,
    /// "EK certificate" or "request": where the values come from.
    pub source: &'static str,
}

impl TpmAttributes {
    /// From the EK certificate's subjectAltName directoryName (TCG EK Credential
    /// Profile §3.2.9), when it names all three.
    pub fn from_ek_cert(cert: &Cert) -> Option<Self> {
        let san = cert
            .certificate()
            .extension(cerd_attestation::chain::ext::SUBJECT_ALT_NAME)?;
        let san = SubjectAltName::from_der(&san.value).ok()?;
        let (mut m, mut mo, mut v) = (None, None, None);
        for gn in &san.0 {
            let GeneralName::DirectoryName(name) = gn else {
                continue;
            };
            for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
                let text = atv_string(&atv.value);
                match atv.oid {
                    TCG_TPM_MANUFACTURER => m = text,
                    TCG_TPM_MODEL => mo = text,
                    TCG_TPM_VERSION => v = text,
                    _ => {}
                }
            }
        }
        Some(Self {
            manufacturer: m?,
            model: mo?,
            version: v?,
            source: "EK certificate",
        })
    }

    /// From the TPM's own properties in the request: "id:" + TPM_PT_MANUFACTURER in
    /// hex, the vendor string, "id:" + TPM_PT_FIRMWARE_VERSION_1 in hex.
    pub fn from_info(info: &TpmInfo) -> Self {
        let mut id = [0u8; 4];
        for (d, s) in id.iter_mut().zip(info.manufacturer.bytes()) {
            *d = s;
        }
        Self {
            manufacturer: format!("id:{}", hex::encode_upper(id)),
            model: info.vendor.clone(),
            version: format!("id:{:08X}", info.firmware[0]),
            source: "request",
        }
    }
}

fn atv_string(v: &Any) -> Option<String> {
    v.decode_as::<der::asn1::Utf8StringRef<'_>>()
        .map(|s| s.as_str().to_owned())
        .or_else(|_| {
            v.decode_as::<der::asn1::PrintableStringRef<'_>>()
                .map(|s| s.as_str().to_owned())
        })
        .or_else(|_| {
            v.decode_as::<der::asn1::Ia5StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
        })
        .ok()
}

/// What an AK certificate says.
#[derive(Debug)]
pub struct AkCertificate<'a> {
    pub ak: &'a PublicKey,
    pub ak_name: &'a [u8],
    pub tpm: &'a TpmAttributes,
    pub ek_cert_sha256: [u8; 32],
    pub serial: u64,
    pub now: Duration,
    pub days: u64,
}

/// Issues an AK certificate signed by the CA: subject CN "cerd AK <name prefix>",
/// the AK's key, basicConstraints cA=false and keyUsage digitalSignature (both
/// critical), subjectAltName directoryName with the TCG TPM attributes, key
/// identifiers, and the private EK-certificate-hash and AK-name extensions.
pub fn ak_certificate(
    key: &CaKey,
    ca_cert: &Certificate,
    req: &AkCertificate<'_>,
) -> anyhow::Result<Certificate> {
    let prefix: String = hex::encode(req.ak_name).chars().take(24).collect();
    let subject = cn_name(&format!("cerd AK {prefix}"))?;
    let spki = req.ak.to_spki().map_err(anyhow::Error::msg)?;
    let issuer_spki = key.public().to_spki().map_err(anyhow::Error::msg)?;
    let dir = RdnSequence(vec![
        rdn(TCG_TPM_MANUFACTURER, &req.tpm.manufacturer)?,
        rdn(TCG_TPM_MODEL, &req.tpm.model)?,
        rdn(TCG_TPM_VERSION, &req.tpm.version)?,
    ]);
    let mut exts = Vec::new();
    exts.push(ext(
        &BasicConstraints {
            ca: false,
            path_len_constraint: None,
        },
        &subject,
        &exts,
    )?);
    exts.push(ext(
        &KeyUsage(KeyUsages::DigitalSignature.into()),
        &subject,
        &exts,
    )?);
    exts.push(ext(
        &SubjectAltName(vec![GeneralName::DirectoryName(dir)]),
        &subject,
        &exts,
    )?);
    let ski =
        SubjectKeyIdentifier::try_from(spki.owned_to_ref()).context("cannot compute the key id")?;
    exts.push(ext(&ski, &subject, &exts)?);
    let aki = AuthorityKeyIdentifier::try_from(issuer_spki.owned_to_ref())
        .context("cannot compute the key id")?;
    exts.push(ext(&aki, &subject, &exts)?);
    for (oid, value) in [
        (EK_CERT_SHA256_OID, &req.ek_cert_sha256[..]),
        (AK_NAME_OID, req.ak_name),
    ] {
        let inner = OctetString::new(value)
            .and_then(|o| o.to_der())
            .context("cannot encode")?;
        exts.push(Extension {
            extn_id: oid,
            critical: false,
            extn_value: OctetString::new(inner).context("cannot encode")?,
        });
    }
    key.sign(TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&req.serial.to_be_bytes()).context("bad serial")?,
        signature: key.algorithm(),
        issuer: ca_cert.tbs_certificate.subject.clone(),
        validity: validity(req.now, req.days)?,
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    })
}

use der::referenced::OwnedToRef as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_verifies_under_its_own_key_and_round_trips_pem() {
        for p384 in [false, true] {
            let key = CaKey::generate(p384);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            let cert = root_certificate(&key, "test CA", 1, now, 3650).unwrap();
            let parsed = Cert::from_der(&cert.to_der().unwrap()).unwrap();
            assert_eq!(parsed.key().unwrap(), key.public());
            let c = parsed.certificate();
            c.verify_signed_by(c, false).unwrap();
            let back = CaKey::from_pem(&key.to_pem().unwrap()).unwrap();
            assert_eq!(back.public(), key.public());
        }
    }

    #[test]
    fn tpm_attributes_from_the_request() {
        let a = TpmAttributes::from_info(&TpmInfo {
            manufacturer: "IBM".into(),
            vendor: "SW   TPM".into(),
            firmware: [0x2019_1023, 0x0016_3636],
        });
        assert_eq!(a.manufacturer, "id:49424D00");
        assert_eq!(a.version, "id:20191023");
    }
}
