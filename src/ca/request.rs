//! The files exchanged during enrollment (docs/enrollment.md): the request a TPM host
//! sends, the challenge the CA returns, the response the host sends back, and the
//! CA's own record of an open challenge. Requests and responses are untrusted input:
//! they are parsed strictly (unknown or duplicate fields refused, every binary field
//! decoded and its TPM structure parsed) into typed values, or refused with a
//! [`FormatError`] naming the field.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::chain::Cert;
use cerd_attestation::tpm::reader::Reader;
use cerd_attestation::tpm::{ParseError, TpmPublic};

pub const REQUEST_FORMAT: &str = "cerd-enroll-request/1";
pub const CHALLENGE_FORMAT: &str = "cerd-enroll-challenge/1";
pub const RESPONSE_FORMAT: &str = "cerd-enroll-response/1";
pub const PENDING_FORMAT: &str = "cerd-enroll-pending/1";

/// At most this many certificates in each list of a request.
pub const MAX_CERTS: usize = 8;
/// Largest certificate accepted (DER bytes).
pub const MAX_CERT_BYTES: usize = 16 * 1024;
/// Largest enrollment file read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A request, challenge or response that is not well formed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FormatError {
    /// Not JSON of the expected shape (serde's message names the field and position).
    Json { file: &'static str, detail: String },
    /// A `format` other than the one expected.
    Format {
        file: &'static str,
        expected: &'static str,
        found: String,
    },
    /// A field that is not valid base64 / hex / UUID, or is out of bounds.
    Field { field: String, detail: String },
    /// A TPM structure that does not parse.
    Tpm { field: String, source: ParseError },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json { file, detail } => write!(f, "{file} is not valid: {detail}"),
            Self::Format {
                file,
                expected,
                found,
            } => write!(f, "{file} has format {found:?}, expected {expected:?}"),
            Self::Field { field, detail } => write!(f, "field {field}: {detail}"),
            Self::Tpm { field, source } => write!(f, "field {field}: {source}"),
        }
    }
}

impl std::error::Error for FormatError {}

fn field_err(field: impl Into<String>, detail: impl Into<String>) -> FormatError {
    FormatError::Field {
        field: field.into(),
        detail: detail.into(),
    }
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn unb64(field: &str, text: &str) -> Result<Vec<u8>, FormatError> {
    B64.decode(text)
        .map_err(|e| field_err(field, format!("not base64 ({e})")))
}

pub fn unhex(field: &str, text: &str) -> Result<Vec<u8>, FormatError> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(field_err(field, "hex must be lowercase"));
    }
    hex::decode(text).map_err(|e| field_err(field, format!("not hex ({e})")))
}

/// A challenge id: a lowercase hyphenated UUID (it names a file in the CA directory).
pub fn challenge_id(field: &str, text: &str) -> Result<String, FormatError> {
    match uuid::Uuid::parse_str(text) {
        Ok(u) if u.hyphenated().to_string() == text => Ok(text.to_owned()),
        _ => Err(field_err(field, "not a lowercase hyphenated UUID")),
    }
}

fn json<T: for<'de> Deserialize<'de>>(file: &'static str, bytes: &[u8]) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|e| FormatError::Json {
        file,
        detail: e.to_string(),
    })
}

fn expect_format(
    file: &'static str,
    expected: &'static str,
    found: &str,
) -> Result<(), FormatError> {
    if found == expected {
        Ok(())
    } else {
        Err(FormatError::Format {
            file,
            expected,
            found: found.to_owned(),
        })
    }
}

fn tpm_public(field: &str, text: &str) -> Result<TpmPublic, FormatError> {
    TpmPublic::from_tpm2b(&unb64(field, text)?).map_err(|source| FormatError::Tpm {
        field: field.to_owned(),
        source,
    })
}

fn certs(field: &str, list: &[String]) -> Result<Vec<Cert>, FormatError> {
    if list.len() > MAX_CERTS {
        return Err(field_err(
            field,
            format!("more than {MAX_CERTS} certificates"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, text)| {
            let f = format!("{field}[{i}]");
            let der = unb64(&f, text)?;
            if der.len() > MAX_CERT_BYTES {
                return Err(field_err(&f, format!("larger than {MAX_CERT_BYTES} bytes")));
            }
            Cert::from_der(&der)
                .map_err(|e| field_err(&f, format!("not an X.509 certificate ({e})")))
        })
        .collect()
}

/// What the TPM says about itself (TPM_PT_MANUFACTURER, vendor strings, firmware).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TpmInfo {
    pub manufacturer: String,
    pub vendor: String,
    /// TPM_PT_FIRMWARE_VERSION_1 and _2.
    pub firmware: [u32; 2],
}

/// `cer tpm enroll-request` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestFile {
    pub format: String,
    /// EK certificates read from the TPM's NV indices, base64 DER.
    pub ek_certificates: Vec<String>,
    /// Intermediate CA certificates given with `--chain`, base64 DER.
    pub ek_chain: Vec<String>,
    /// The EK the challenge is for: TPM2B_PUBLIC, base64.
    pub ek_public: String,
    /// The AK: TPM2B_PUBLIC, base64.
    pub ak_public: String,
    /// The AK's name (nameAlg || digest), lowercase hex.
    pub ak_name: String,
    pub tpm: TpmInfo,
}

/// A request, parsed.
#[derive(Debug, Clone)]
pub struct Request {
    pub ek_certificates: Vec<Cert>,
    pub ek_chain: Vec<Cert>,
    pub ek_public: TpmPublic,
    pub ak_public: TpmPublic,
    pub ak_name: Vec<u8>,
    pub tpm: TpmInfo,
}

impl Request {
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let f: RequestFile = json("the request", bytes)?;
        expect_format("the request", REQUEST_FORMAT, &f.format)?;
        let ek_certificates = certs("ekCertificates", &f.ek_certificates)?;
        if ek_certificates.is_empty() {
            return Err(field_err(
                "ekCertificates",
                "is empty: the CA needs the EK certificate",
            ));
        }
        let ak_name = unhex("akName", &f.ak_name)?;
        if ak_name.len() < 2 || ak_name.len() > 66 {
            return Err(field_err(
                "akName",
                format!("{} bytes is not a TPM name", ak_name.len()),
            ));
        }
        for (field, text) in [
            ("tpm.manufacturer", &f.tpm.manufacturer),
            ("tpm.vendor", &f.tpm.vendor),
        ] {
            if text.len() > 64 || text.chars().any(|c| c.is_control()) {
                return Err(field_err(
                    field,
                    "more than 64 characters or control characters",
                ));
            }
        }
        Ok(Self {
            ek_certificates,
            ek_chain: certs("ekChain", &f.ek_chain)?,
            ek_public: tpm_public("ekPublic", &f.ek_public)?,
            ak_public: tpm_public("akPublic", &f.ak_public)?,
            ak_name,
            tpm: f.tpm,
        })
    }
}

/// `cer ca challenge` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChallengeFile {
    pub format: String,
    pub id: String,
    /// TPM2B_ID_OBJECT, base64.
    pub credential_blob: String,
    /// TPM2B_ENCRYPTED_SECRET, base64.
    pub encrypted_secret: String,
    /// The EK to activate with (TPM2B_PUBLIC, base64), as in the request.
    pub ek_public: String,
    /// The AK the credential is bound to (lowercase hex name).
    pub ak_name: String,
}

/// A challenge, parsed (the TPM host's side).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "tpm"), allow(dead_code))]
pub struct Challenge {
    pub id: String,
    pub id_object: Vec<u8>,
    pub encrypted_secret: Vec<u8>,
    pub ek_public: TpmPublic,
    pub ak_name: Vec<u8>,
}

#[cfg_attr(not(feature = "tpm"), allow(dead_code))]
impl Challenge {
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let f: ChallengeFile = json("the challenge", bytes)?;
        expect_format("the challenge", CHALLENGE_FORMAT, &f.format)?;
        Ok(Self {
            id: challenge_id("id", &f.id)?,
            id_object: tpm2b_field("credentialBlob", &f.credential_blob)?,
            encrypted_secret: tpm2b_field("encryptedSecret", &f.encrypted_secret)?,
            ek_public: tpm_public("ekPublic", &f.ek_public)?,
            ak_name: unhex("akName", &f.ak_name)?,
        })
    }
}

/// A base64 field holding one marshalled TPM2B, returned without its size.
#[cfg_attr(not(feature = "tpm"), allow(dead_code))]
fn tpm2b_field(field: &'static str, text: &str) -> Result<Vec<u8>, FormatError> {
    let bytes = unb64(field, text)?;
    let mut r = Reader::new("TPM2B", &bytes);
    let inner = r
        .tpm2b(field)
        .and_then(|b| r.finish().map(|()| b))
        .map_err(|source| FormatError::Tpm {
            field: field.to_owned(),
            source,
        })?;
    Ok(inner.to_vec())
}

/// `cer tpm activate` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseFile {
    pub format: String,
    pub id: String,
    /// The credential ActivateCredential recovered, base64.
    pub credential: String,
}

/// A response, parsed (the CA's side).
#[derive(Debug, Clone)]
pub struct Response {
    pub id: String,
    pub credential: Vec<u8>,
}

impl Response {
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let f: ResponseFile = json("the response", bytes)?;
        expect_format("the response", RESPONSE_FORMAT, &f.format)?;
        let credential = unb64("credential", &f.credential)?;
        if credential.len() > 64 {
            return Err(field_err("credential", "longer than 64 bytes"));
        }
        Ok(Self {
            id: challenge_id("id", &f.id)?,
            credential,
        })
    }
}

/// The CA's record of an open challenge, DIR/pending/<id>.json (mode 0600): what the
/// credential must hash to, and what to certify once it does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pending {
    pub format: String,
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    pub expires: u64,
    /// SHA-256 of the expected credential, hex.
    pub credential_sha256: String,
    /// SHA-256 of the request file, hex.
    pub request_sha256: String,
    /// TPM2B_PUBLIC of the AK, base64.
    pub ak_public: String,
    /// The EK certificate whose key the credential was protected with, base64 DER.
    pub ek_certificate: String,
    pub tpm: TpmInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_uuids() {
        let id = uuid::Uuid::new_v4().to_string();
        assert_eq!(challenge_id("id", &id).unwrap(), id);
        for bad in [
            "../../etc/passwd",
            "",
            &id.to_uppercase(),
            &id.replace('-', ""),
        ] {
            assert!(challenge_id("id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses_are_strict() {
        let id = uuid::Uuid::new_v4().to_string();
        let good = format!(r#"{{"format":"{RESPONSE_FORMAT}","id":"{id}","credential":"AAAA"}}"#);
        assert_eq!(
            Response::parse(good.as_bytes()).unwrap().credential,
            vec![0, 0, 0]
        );
        let extra = good.replace("\"format\"", "\"x\":1,\"format\"");
        let e = Response::parse(extra.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("unknown field `x`"), "{e}");
        let dup = good.replace("\"format\"", "\"id\":\"a\",\"format\"");
        assert!(Response::parse(dup.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("duplicate"));
        let bad = good.replace("AAAA", "A*AA");
        let e = Response::parse(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("field credential: not base64"), "{e}");
        let wrong = good.replace(RESPONSE_FORMAT, CHALLENGE_FORMAT);
        assert!(Response::parse(wrong.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("expected"));
    }
}
