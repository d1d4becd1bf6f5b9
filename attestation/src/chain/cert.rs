//! X.509 certificates (RFC 5280 §4.1), read leniently enough for real TPM
//! endorsement-key certificates while keeping every signed byte as it was:
//!
//! ```text
//! Certificate  ::=  SEQUENCE  {
//!      tbsCertificate       TBSCertificate,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }
//! TBSCertificate  ::=  SEQUENCE  {
//!      version         [0]  EXPLICIT Version DEFAULT v1,
//!      serialNumber         CertificateSerialNumber,
//!      signature            AlgorithmIdentifier,
//!      issuer               Name,
//!      validity             Validity,
//!      subject              Name,
//!      subjectPublicKeyInfo SubjectPublicKeyInfo,
//!      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      extensions      [3]  EXPLICIT Extensions OPTIONAL }
//! ```
//!
//! The outer structure is split with this module's own TLV reader ([`super::der`]);
//! the tbsCertificate TLV is kept byte for byte, and that is what signatures are
//! verified over. Names are kept raw too ([`super::name`]).

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode as _, Encode as _};
use sha2::{Digest as _, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::der::{boolean, children, small_uint, tag, Reader, Tlv};
use super::error::ChainError;
use super::key::PublicKey;
use super::name::Name;
use super::signature::{self, SigFailure, SignatureAlgorithm};

/// Extension OIDs this module reads (RFC 5280 §4.2.1).
pub mod ext {
    use der::asn1::ObjectIdentifier as Oid;
    pub const SUBJECT_DIRECTORY_ATTRIBUTES: Oid = Oid::new_unwrap("2.5.29.9");
    pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    /// cerd AK certificates: SHA-256 of the EK certificate DER the attestation CA
    /// checked (OCTET STRING of 32 bytes), under cerd's private arc
    /// 1.3.6.1.4.1.32473.6769 (docs/enrollment.md).
    pub const CERD_EK_CERT_SHA256: Oid = Oid::new_unwrap("1.3.6.1.4.1.32473.6769.1");
    /// cerd AK certificates: the AK's TPM name (nameAlg || digest), OCTET STRING.
    pub const CERD_AK_NAME: Oid = Oid::new_unwrap("1.3.6.1.4.1.32473.6769.2");
}

/// Critical extensions a chain may carry. Subject alternative names, policies,
/// subject directory attributes and extended key usage are critical in some TPM EK
/// profiles and carry no path-validation rule this verifier enforces (RFC 5280
/// §4.2.1.4: a verifier without a policy set accepts any policy).
const UNDERSTOOD_CRITICAL: [Oid; 8] = [
    ext::BASIC_CONSTRAINTS,
    ext::KEY_USAGE,
    ext::SUBJECT_ALT_NAME,
    ext::EXT_KEY_USAGE,
    ext::CERTIFICATE_POLICIES,
    ext::SUBJECT_KEY_IDENTIFIER,
    ext::AUTHORITY_KEY_IDENTIFIER,
    ext::SUBJECT_DIRECTORY_ATTRIBUTES,
];

/// keyUsage bit 5, keyCertSign (RFC 5280 §4.2.1.3), in the first content byte.
const KEY_CERT_SIGN: u8 = 0x04;

/// One extension: OID, criticality, and the extnValue OCTET STRING content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub oid: Oid,
    pub critical: bool,
    pub value: Vec<u8>,
}

/// basicConstraints (RFC 5280 §4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u64>,
}

/// A parsed certificate. Cheap to clone relative to verifying it; immutable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: SignatureAlgorithm,
    signature: Vec<u8>,
    serial: Vec<u8>,
    issuer: Name,
    subject: Name,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    spki: Vec<u8>,
    extensions: Vec<Extension>,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<Vec<u8>>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
}

impl Certificate {
    /// Parses one DER certificate; bytes after it are refused (see
    /// [`super::strip_nv_padding`] for certificates read from NV).
    pub fn from_der(der: &[u8]) -> Result<Self, ChainError> {
        let mut outer = Reader::new(der, "certificate");
        let cert = outer.expect(tag::SEQUENCE, "Certificate")?;
        if !outer.is_empty() {
            return Err(outer.error(
                "bytes after the certificate (strip NV padding before parsing)".to_owned(),
            ));
        }
        let mut r = children(&cert, "certificate");
        let tbs = r.expect(tag::SEQUENCE, "tbsCertificate")?;
        let outer_alg = r.expect(tag::SEQUENCE, "signatureAlgorithm")?;
        let sig = r.expect(tag::BIT_STRING, "signatureValue")?;
        r.finish()?;
        let signature = match sig.content.split_first() {
            Some((0, bits)) => bits.to_vec(),
            _ => return Err(r.error("signatureValue has unused bits".to_owned())),
        };

        let mut t = children(&tbs, "tbsCertificate");
        if let Some(v) = t.optional(tag::explicit(0))? {
            let mut vr = children(&v, "version");
            let int = vr.expect(tag::INTEGER, "version")?;
            let version = small_uint(&int, &vr, "version")?;
            vr.finish()?;
            if version > 2 {
                return Err(vr.error(format!("version {version} (only v1..v3 exist)")));
            }
        }
        let serial = t.expect(tag::INTEGER, "serialNumber")?;
        if serial.content.is_empty() || serial.content.len() > 64 {
            return Err(t.error(format!("serialNumber of {} bytes", serial.content.len())));
        }
        let inner_alg = t.expect(tag::SEQUENCE, "signature")?;
        if inner_alg.raw != outer_alg.raw
            && SignatureAlgorithm::from_tlv(&inner_alg) != SignatureAlgorithm::from_tlv(&outer_alg)
        {
            return Err(t.error(
                "tbsCertificate.signature differs from signatureAlgorithm (RFC 5280 §4.1.1.2)"
                    .to_owned(),
            ));
        }
        let issuer = t.expect(tag::SEQUENCE, "issuer")?;
        let validity = t.expect(tag::SEQUENCE, "validity")?;
        let subject = t.expect(tag::SEQUENCE, "subject")?;
        let spki = t.expect(tag::SEQUENCE, "subjectPublicKeyInfo")?;
        let _issuer_uid = t.optional(tag::implicit(1))?;
        let _subject_uid = t.optional(tag::implicit(2))?;
        let exts = t.optional(tag::explicit(3))?;
        t.finish()?;

        let mut vr = children(&validity, "validity");
        let not_before = time_of(&vr.next()?, &vr, "notBefore")?;
        let not_after = time_of(&vr.next()?, &vr, "notAfter")?;
        vr.finish()?;

        let mut c = Self {
            der: cert.raw.to_vec(),
            tbs: tbs.raw.to_vec(),
            signature_algorithm: SignatureAlgorithm::from_tlv(&outer_alg),
            signature,
            serial: serial.content.to_vec(),
            issuer: Name::from_tlv(&issuer),
            subject: Name::from_tlv(&subject),
            not_before,
            not_after,
            spki: spki.raw.to_vec(),
            extensions: Vec::new(),
            basic_constraints: None,
            key_usage: None,
            subject_key_id: None,
            authority_key_id: None,
        };
        if let Some(exts) = exts {
            c.read_extensions(&exts)?;
        }
        Ok(c)
    }

    /// `[3] EXPLICIT SEQUENCE OF Extension`; each extension at most once (RFC 5280
    /// §4.2), and the ones path validation uses decoded.
    fn read_extensions(&mut self, exts: &Tlv<'_>) -> Result<(), ChainError> {
        let mut wrapper = children(exts, "extensions");
        let list = wrapper.expect(tag::SEQUENCE, "Extensions")?;
        wrapper.finish()?;
        let mut r = children(&list, "extensions");
        while !r.is_empty() {
            let e = r.expect(tag::SEQUENCE, "Extension")?;
            let mut er = children(&e, "extension");
            let id = er.expect(tag::OID, "extnID")?;
            let critical = match er.optional(tag::BOOLEAN)? {
                Some(b) => boolean(&b, &er, "critical")?,
                None => false,
            };
            let value = er.expect(tag::OCTET_STRING, "extnValue")?;
            er.finish()?;
            let oid = match Oid::from_bytes(id.content) {
                Ok(oid) => oid,
                // An OID with arcs beyond 32 bits (const-oid's limit), e.g. under
                // 2.25: skipped when not critical, refused when critical.
                Err(_) if !critical => continue,
                Err(err) => {
                    return Err(er.error(format!("critical extension with OID {err}")));
                }
            };
            if self.extensions.iter().any(|x| x.oid == oid) {
                return Err(er.error(format!("extension {oid} appears twice")));
            }
            match oid {
                ext::BASIC_CONSTRAINTS => {
                    self.basic_constraints = Some(basic_constraints(value.content)?)
                }
                ext::KEY_USAGE => self.key_usage = Some(bit_string(value.content, "keyUsage")?),
                ext::SUBJECT_KEY_IDENTIFIER => {
                    let mut kr = Reader::new(value.content, "subjectKeyIdentifier");
                    let id = kr.expect(tag::OCTET_STRING, "subjectKeyIdentifier")?;
                    kr.finish()?;
                    self.subject_key_id = Some(id.content.to_vec());
                }
                ext::AUTHORITY_KEY_IDENTIFIER => {
                    self.authority_key_id = authority_key_id(value.content)?
                }
                _ => {}
            }
            self.extensions.push(Extension {
                oid,
                critical,
                value: value.content.to_vec(),
            });
        }
        Ok(())
    }

    /// The certificate DER (without any padding that followed it).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The exact signed bytes: the tbsCertificate TLV as it appears in the input.
    pub fn tbs(&self) -> &[u8] {
        &self.tbs
    }

    /// SHA-256 of the certificate DER.
    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    pub fn subject(&self) -> &Name {
        &self.subject
    }

    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// The subject as text for messages, `(empty subject)` for EK certificates.
    pub fn subject_text(&self) -> String {
        self.subject.text()
    }

    /// The serial number's content bytes in hex, as encoded (may be `00`, may carry
    /// redundant leading zeros).
    pub fn serial_hex(&self) -> String {
        hex::encode(&self.serial)
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The SubjectPublicKeyInfo DER as it appears in the certificate.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// SHA-256 of the SubjectPublicKeyInfo DER: what vendor roots are pinned by.
    pub fn spki_sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.spki).into()
    }

    /// The public key, when it is RSA or ECC P-256/P-384.
    pub fn public_key(&self) -> Result<PublicKey, ChainError> {
        PublicKey::from_spki_der(&self.spki).map_err(|detail| ChainError::UnsupportedAlgorithm {
            subject: self.subject_text(),
            serial: self.serial_hex(),
            detail,
        })
    }

    pub fn signature_algorithm(&self) -> &SignatureAlgorithm {
        &self.signature_algorithm
    }

    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The extnValue content of extension `oid`, if present.
    pub fn extension(&self, oid: Oid) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.basic_constraints
    }

    /// True when keyUsage is absent or has keyCertSign.
    pub fn may_sign_certificates(&self) -> bool {
        self.key_usage
            .as_ref()
            .is_none_or(|bits| bits.first().is_some_and(|b| b & KEY_CERT_SIGN != 0))
    }

    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.subject_key_id.as_deref()
    }

    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// Issuer name equals subject name.
    pub fn is_self_issued(&self) -> bool {
        self.issuer.matches(&self.subject)
    }

    /// Whether x509-cert's strict DER decoder reads this certificate and re-encodes
    /// it to the same bytes; `Err` says why not. For reports on how lenient parsing
    /// had to be; verification never depends on it.
    pub fn strict_der(&self) -> Result<(), String> {
        let strict = x509_cert::Certificate::from_der(&self.der).map_err(|e| e.to_string())?;
        match strict.to_der() {
            Ok(again) if again == self.der => Ok(()),
            Ok(_) => {
                Err("x509-cert re-encodes it differently (a SET OF not in DER order)".to_owned())
            }
            Err(e) => Err(format!("x509-cert cannot re-encode it: {e}")),
        }
    }

    /// Validity at `at` (RFC 5280 §4.1.2.5, both bounds inclusive).
    pub fn check_validity(&self, at: OffsetDateTime) -> Result<(), ChainError> {
        if at < self.not_before {
            return Err(ChainError::NotYetValid {
                subject: self.subject_text(),
                serial: self.serial_hex(),
                not_before: rfc3339(self.not_before),
                at: rfc3339(at),
            });
        }
        if at > self.not_after {
            return Err(ChainError::Expired {
                subject: self.subject_text(),
                serial: self.serial_hex(),
                not_after: rfc3339(self.not_after),
                at: rfc3339(at),
            });
        }
        Ok(())
    }

    /// Fails on a critical extension this verifier does not process.
    pub fn check_critical_extensions(&self) -> Result<(), ChainError> {
        match self
            .extensions
            .iter()
            .find(|e| e.critical && !UNDERSTOOD_CRITICAL.contains(&e.oid))
        {
            Some(e) => Err(ChainError::UnknownCriticalExtension {
                subject: self.subject_text(),
                serial: self.serial_hex(),
                oid: e.oid.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Verifies this certificate's signature over its exact tbsCertificate bytes
    /// with `issuer`'s key. Signature only: no name, validity or CA check.
    pub fn verify_signed_by(&self, issuer: &Self, allow_sha1: bool) -> Result<(), ChainError> {
        let key = issuer.public_key()?;
        self.verify_signed_by_key(&key, &issuer.subject_text(), allow_sha1)
    }

    /// As [`Self::verify_signed_by`], with the issuer's key and name given directly.
    pub fn verify_signed_by_key(
        &self,
        key: &PublicKey,
        issuer_name: &str,
        allow_sha1: bool,
    ) -> Result<(), ChainError> {
        signature::verify(
            &self.signature_algorithm,
            key,
            &self.tbs,
            &self.signature,
            allow_sha1,
        )
        .map_err(|f| match f {
            SigFailure::Invalid => ChainError::SignatureInvalid {
                subject: self.subject_text(),
                serial: self.serial_hex(),
                issuer: issuer_name.to_owned(),
            },
            SigFailure::Unsupported(detail) => ChainError::UnsupportedAlgorithm {
                subject: self.subject_text(),
                serial: self.serial_hex(),
                detail,
            },
            SigFailure::Sha1Refused => ChainError::LegacySha1Refused {
                subject: self.subject_text(),
                serial: self.serial_hex(),
            },
        })
    }
}

/// RFC 3339 text of a time, for messages.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint
/// INTEGER (0..MAX) OPTIONAL }; an explicitly encoded FALSE is accepted.
fn basic_constraints(value: &[u8]) -> Result<BasicConstraints, ChainError> {
    let mut outer = Reader::new(value, "basicConstraints");
    let seq = outer.expect(tag::SEQUENCE, "BasicConstraints")?;
    outer.finish()?;
    let mut r = children(&seq, "basicConstraints");
    let ca = match r.optional(tag::BOOLEAN)? {
        Some(b) => boolean(&b, &r, "cA")?,
        None => false,
    };
    let path_len = match r.optional(tag::INTEGER)? {
        Some(i) => Some(small_uint(&i, &r, "pathLenConstraint")?),
        None => None,
    };
    r.finish()?;
    Ok(BasicConstraints { ca, path_len })
}

/// A BIT STRING's bits (unused-bit count dropped; trailing zero bits accepted).
fn bit_string(value: &[u8], what: &'static str) -> Result<Vec<u8>, ChainError> {
    let mut r = Reader::new(value, what);
    let bits = r.expect(tag::BIT_STRING, what)?;
    r.finish()?;
    match bits.content.split_first() {
        Some((unused, rest)) if *unused < 8 => Ok(rest.to_vec()),
        _ => Err(r.error("bad BIT STRING".to_owned())),
    }
}

/// AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING
/// OPTIONAL, authorityCertIssuer [1] OPTIONAL, authorityCertSerialNumber [2] OPTIONAL }.
fn authority_key_id(value: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
    let mut outer = Reader::new(value, "authorityKeyIdentifier");
    let seq = outer.expect(tag::SEQUENCE, "AuthorityKeyIdentifier")?;
    outer.finish()?;
    let mut r = children(&seq, "authorityKeyIdentifier");
    let id = r.optional(tag::implicit(0))?.map(|t| t.content.to_vec());
    let _issuer = r.optional(tag::explicit(1))?;
    let _serial = r.optional(tag::implicit(2))?;
    r.finish()?;
    Ok(id)
}

/// Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime } (RFC 5280
/// §4.1.2.5): `YYMMDDHHMM[SS]Z` (years 50..99 are 19xx) or `YYYYMMDDHHMMSS[.f]Z`.
fn time_of(tlv: &Tlv<'_>, r: &Reader<'_>, name: &str) -> Result<OffsetDateTime, ChainError> {
    let bad = || {
        r.error(format!(
            "{name}: not a UTC time ({:?})",
            String::from_utf8_lossy(tlv.content)
        ))
    };
    let text = std::str::from_utf8(tlv.content).map_err(|_| bad())?;
    let digits = text.strip_suffix('Z').ok_or_else(bad)?;
    let num = |s: Option<&str>| -> Result<u32, ChainError> {
        let s = s.ok_or_else(bad)?;
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (year, rest) = match tlv.tag {
        tag::UTC_TIME => {
            let yy = num(digits.get(..2))?;
            (
                yy.saturating_add(if yy >= 50 { 1900 } else { 2000 }),
                digits.get(2..),
            )
        }
        tag::GENERALIZED_TIME => (num(digits.get(..4))?, digits.get(4..)),
        _ => return Err(bad()),
    };
    let rest = rest.ok_or_else(bad)?;
    // Seconds are optional in UTCTime (X.680 §47.3); a fraction may follow them in
    // GeneralizedTime and is dropped.
    let (main, _fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let seconds = match (main.len(), tlv.tag) {
        (8, tag::UTC_TIME) => 0,
        (10, _) => num(main.get(8..10))?,
        _ => return Err(bad()),
    };
    let month = Month::try_from(u8::try_from(num(main.get(..2))?).map_err(|_| bad())?)
        .map_err(|_| bad())?;
    let field = |range: std::ops::Range<usize>| -> Result<u8, ChainError> {
        u8::try_from(num(main.get(range))?).map_err(|_| bad())
    };
    let date =
        Date::from_calendar_date(i32::try_from(year).map_err(|_| bad())?, month, field(2..4)?)
            .map_err(|_| bad())?;
    let clock = Time::from_hms(
        field(4..6)?,
        field(6..8)?,
        u8::try_from(seconds).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, clock).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(tag: u8, text: &str) -> Result<OffsetDateTime, ChainError> {
        let tlv = Tlv {
            tag,
            content: text.as_bytes(),
            raw: text.as_bytes(),
        };
        time_of(&tlv, &Reader::new(&[], "validity"), "notAfter")
    }

    #[test]
    fn utc_and_generalized_times() {
        use time::macros::datetime;
        assert_eq!(
            time(tag::UTC_TIME, "491231235959Z").unwrap(),
            datetime!(2049-12-31 23:59:59 UTC)
        );
        assert_eq!(
            time(tag::UTC_TIME, "500101000000Z").unwrap(),
            datetime!(1950-01-01 0:00 UTC)
        );
        assert_eq!(
            time(tag::UTC_TIME, "2811070000Z").unwrap(),
            datetime!(2028-11-07 0:00 UTC)
        );
        assert_eq!(
            time(tag::GENERALIZED_TIME, "99991231235959Z").unwrap(),
            datetime!(9999-12-31 23:59:59 UTC)
        );
        assert_eq!(
            time(tag::GENERALIZED_TIME, "20510824231605.123Z").unwrap(),
            datetime!(2051-08-24 23:16:05 UTC)
        );
        for (t, bad) in [
            (tag::UTC_TIME, "491231235959"),
            (tag::UTC_TIME, "491331235959Z"),
            (tag::UTC_TIME, "4912312359+9Z"),
            (tag::UTC_TIME, "49123123595Z"),
            (tag::GENERALIZED_TIME, "2051082423Z"),
            (tag::GENERALIZED_TIME, "20510230000000Z"),
            (tag::OCTET_STRING, "20510101000000Z"),
            (tag::UTC_TIME, ""),
        ] {
            assert_eq!(time(t, bad).unwrap_err().code(), "CERT_MALFORMED", "{bad}");
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x00],
            &[0x30, 0x03, 0x30, 0x01, 0x00],
            &[0x30, 0x82, 0xff, 0xff, 0x30],
        ] {
            assert_eq!(
                Certificate::from_der(bad).unwrap_err().code(),
                "CERT_MALFORMED"
            );
        }
    }
}
