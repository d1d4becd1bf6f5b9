//! Certificates around a report: the extended report's certificate table, and AMD's
//! X.509 extensions on VCEK and VLEK certificates.
//!
//! # Certificate table
//!
//! `SNP_GET_EXT_REPORT` returns the host-provided certificates as a table (GHCB spec
//! rev 2.03 §4.1.8.1, "SNP Extended Guest Request"; SEV-SNP ABI spec §7.3): entries of
//! `{ GUID[16], OFFSET: u32 LE, LENGTH: u32 LE }`, ended by an all-zero entry, each
//! OFFSET counted from the start of the table. GUIDs are stored in RFC 4122 byte order.
//!
//! # VCEK/VLEK extensions
//!
//! AMD's "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
//! Specification" (#57230) §3.1: under `1.3.6.1.4.1.3704.1`, `.1` structVersion
//! (INTEGER), `.2` productName (IA5String), `.3.1` blSPL, `.3.2` teeSPL, `.3.3`
//! snpSPL, `.3.4`–`.3.7` reserved SPLs, `.3.8` ucodeSPL, `.3.9` fmcSPL (Turin), all
//! INTEGER; `.4` hwID (the chip's 64-byte ID, 8 bytes on Turin, stored raw — some
//! issuers wrap it in an OCTET STRING); `.5` cspId (IA5String, VLEK only).

use der::asn1::{Ia5StringRef, ObjectIdentifier as Oid};
use der::Decode as _;
use serde::Serialize;

use super::le_u32;
use crate::chain::Certificate;
use crate::tpm::reader::{ParseError, ParseErrorKind, Reader};

/// OIDs of AMD's VCEK/VLEK extensions.
pub mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const STRUCT_VERSION: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.1");
    pub const PRODUCT_NAME: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.2");
    pub const BL_SPL: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.1");
    pub const TEE_SPL: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.2");
    pub const SNP_SPL: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.3");
    pub const SPL_4: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.4");
    pub const SPL_5: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.5");
    pub const SPL_6: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.6");
    pub const SPL_7: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.7");
    pub const UCODE_SPL: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.8");
    pub const FMC_SPL: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.3.9");
    pub const HW_ID: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.4");
    pub const CSP_ID: Oid = Oid::new_unwrap("1.3.6.1.4.1.3704.1.5");
}

/// Certificate-table GUIDs (RFC 4122 byte order).
pub mod guid {
    /// `c0b406a4-a803-4952-9743-3fb6014cd0ae`
    pub const ARK: [u8; 16] = [
        0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
        0xae,
    ];
    /// `4ab7b379-bbac-4fe4-a02f-05aef327c782`
    pub const ASK: [u8; 16] = [
        0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
        0x82,
    ];
    /// `63da758d-e664-4564-adc5-f4b93be8accd`
    pub const VCEK: [u8; 16] = [
        0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
        0xcd,
    ];
    /// `a8074bc2-a25a-483e-aae6-39c045a0b8a1`
    pub const VLEK: [u8; 16] = [
        0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
        0xa1,
    ];
}

/// The most entries a table may have (the host's certificate pages are bounded; four
/// are defined).
pub const MAX_TABLE_ENTRIES: usize = 64;

/// What a table entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertKind {
    Ark,
    Ask,
    Vcek,
    Vlek,
    /// Another GUID (the ASVK has none of its own; hosts may add others).
    Other([u8; 16]),
}

impl CertKind {
    pub fn from_guid(g: [u8; 16]) -> Self {
        match g {
            guid::ARK => Self::Ark,
            guid::ASK => Self::Ask,
            guid::VCEK => Self::Vcek,
            guid::VLEK => Self::Vlek,
            other => Self::Other(other),
        }
    }

    pub fn guid(self) -> [u8; 16] {
        match self {
            Self::Ark => guid::ARK,
            Self::Ask => guid::ASK,
            Self::Vcek => guid::VCEK,
            Self::Vlek => guid::VLEK,
            Self::Other(g) => g,
        }
    }
}

/// One certificate of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertTableEntry {
    pub kind: CertKind,
    /// The certificate bytes (DER).
    pub data: Vec<u8>,
}

/// A parsed certificate table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertTable {
    pub entries: Vec<CertTableEntry>,
}

impl CertTable {
    /// Parses a table and the certificates it points to. `bytes` is the whole
    /// certificate buffer (table first); bytes after the last certificate are allowed
    /// (the buffer is page-sized), but every entry must lie inside the buffer and after
    /// the table.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        const S: &str = "CERT_TABLE";
        let mut r = Reader::new(S, bytes);
        let mut raw = Vec::new();
        loop {
            let at = r.offset();
            let guid: [u8; 16] = super::array(&mut r, "GUID")?;
            let offset = le_u32(&mut r, "OFFSET")?;
            let length = le_u32(&mut r, "LENGTH")?;
            if guid == [0; 16] {
                if offset != 0 || length != 0 {
                    return Err(r.error_at(
                        "terminator",
                        at,
                        ParseErrorKind::Invalid {
                            value: u64::from(offset | length),
                            expected: "an all-zero terminating entry",
                        },
                    ));
                }
                break;
            }
            if raw.len() >= MAX_TABLE_ENTRIES {
                return Err(r.error_at(
                    "GUID",
                    at,
                    ParseErrorKind::Invalid {
                        value: raw.len() as u64,
                        expected: "at most 64 entries",
                    },
                ));
            }
            raw.push((at, guid, offset, length));
        }
        let table_end = r.offset();
        let mut entries = Vec::with_capacity(raw.len());
        for (at, guid, offset, length) in raw {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            let len = usize::try_from(length).unwrap_or(usize::MAX);
            let data = start
                .checked_add(len)
                .filter(|_| start >= table_end)
                .and_then(|end| bytes.get(start..end));
            let Some(data) = data else {
                return Err(r.error_at(
                    "OFFSET",
                    at,
                    ParseErrorKind::Invalid {
                        value: u64::from(offset),
                        expected: "an entry inside the buffer, after the table",
                    },
                ));
            };
            let kind = CertKind::from_guid(guid);
            if entries.iter().any(|e: &CertTableEntry| e.kind == kind) {
                return Err(r.error_at(
                    "GUID",
                    at,
                    ParseErrorKind::Invalid {
                        value: 0,
                        expected: "each GUID once",
                    },
                ));
            }
            entries.push(CertTableEntry {
                kind,
                data: data.to_vec(),
            });
        }
        Ok(Self { entries })
    }

    /// Encodes the table followed by the certificates (what a host provides).
    pub fn encode(&self) -> Vec<u8> {
        let table_len = self.entries.len().saturating_add(1).saturating_mul(24);
        let mut head = Vec::with_capacity(table_len);
        let mut body = Vec::new();
        for e in &self.entries {
            let offset = table_len.saturating_add(body.len());
            head.extend_from_slice(&e.kind.guid());
            head.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
            head.extend_from_slice(
                &u32::try_from(e.data.len())
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            );
            body.extend_from_slice(&e.data);
        }
        head.extend_from_slice(&[0u8; 24]);
        head.extend_from_slice(&body);
        head
    }

    /// The data of the entry of `kind`, if any.
    pub fn get(&self, kind: CertKind) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.data.as_slice())
    }
}

/// Which kind of endorsement key a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EndorsementKind {
    /// Chip-unique, carries hwID.
    Vcek,
    /// Loaded by a cloud provider, carries cspId.
    Vlek,
}

impl std::fmt::Display for EndorsementKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Vcek => "VCEK",
            Self::Vlek => "VLEK",
        })
    }
}

/// AMD's extensions of a VCEK or VLEK certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VcekExtensions {
    pub kind: EndorsementKind,
    pub struct_version: Option<u8>,
    pub product_name: String,
    pub bl_spl: u8,
    pub tee_spl: u8,
    pub snp_spl: u8,
    pub ucode_spl: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmc_spl: Option<u8>,
    /// hwID (VCEK).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_hex")]
    pub hw_id: Option<Vec<u8>>,
    /// cspId (VLEK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csp_id: Option<String>,
}

fn opt_hex<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(&hex::encode(b)),
        None => s.serialize_none(),
    }
}

/// Why a certificate's AMD extensions cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    #[error("certificate '{subject}' lacks AMD extension {name} ({oid})")]
    Missing {
        subject: String,
        name: &'static str,
        oid: Oid,
    },
    #[error("certificate '{subject}': AMD extension {name} ({oid}) is malformed: {detail}")]
    Malformed {
        subject: String,
        name: &'static str,
        oid: Oid,
        detail: String,
    },
    #[error("certificate '{subject}' has both hwID and cspId, or neither: it is neither a VCEK nor a VLEK")]
    Kind { subject: String },
}

impl VcekExtensions {
    /// Reads the extensions of a VCEK or VLEK certificate.
    pub fn from_certificate(cert: &Certificate) -> Result<Self, ExtensionError> {
        let subject = cert.subject_text();
        let raw = |oid: Oid| cert.extension(oid).map(|e| e.value.as_slice());
        let malformed = |name, oid, detail: String| ExtensionError::Malformed {
            subject: subject.clone(),
            name,
            oid,
            detail,
        };
        let int = |name: &'static str, oid: Oid| -> Result<Option<u8>, ExtensionError> {
            raw(oid)
                .map(|v| u8::from_der(v).map_err(|e| malformed(name, oid, e.to_string())))
                .transpose()
        };
        let required = |name: &'static str, oid: Oid| -> Result<u8, ExtensionError> {
            int(name, oid)?.ok_or_else(|| ExtensionError::Missing {
                subject: subject.clone(),
                name,
                oid,
            })
        };
        let text = |name: &'static str, oid: Oid| -> Result<Option<String>, ExtensionError> {
            raw(oid)
                .map(|v| {
                    Ia5StringRef::from_der(v)
                        .map(|s| s.as_str().to_owned())
                        .map_err(|e| malformed(name, oid, e.to_string()))
                })
                .transpose()
        };
        let product_name =
            text("productName", oid::PRODUCT_NAME)?.ok_or_else(|| ExtensionError::Missing {
                subject: subject.clone(),
                name: "productName",
                oid: oid::PRODUCT_NAME,
            })?;
        let hw_id = raw(oid::HW_ID).map(hw_id_bytes);
        let csp_id = text("cspId", oid::CSP_ID)?;
        let kind = match (&hw_id, &csp_id) {
            (Some(_), None) => EndorsementKind::Vcek,
            (None, Some(_)) => EndorsementKind::Vlek,
            _ => return Err(ExtensionError::Kind { subject }),
        };
        Ok(Self {
            kind,
            struct_version: int("structVersion", oid::STRUCT_VERSION)?,
            bl_spl: required("blSPL", oid::BL_SPL)?,
            tee_spl: required("teeSPL", oid::TEE_SPL)?,
            snp_spl: required("snpSPL", oid::SNP_SPL)?,
            ucode_spl: required("ucodeSPL", oid::UCODE_SPL)?,
            fmc_spl: int("fmcSPL", oid::FMC_SPL)?,
            product_name,
            hw_id,
            csp_id,
        })
    }
}

/// hwID as stored: raw bytes (AMD KDS), or wrapped in an OCTET STRING by some issuers.
fn hw_id_bytes(v: &[u8]) -> Vec<u8> {
    if v.len() == 64 || v.len() == 8 {
        return v.to_vec();
    }
    match der::asn1::OctetStringRef::from_der(v) {
        Ok(o) => o.as_bytes().to_vec(),
        Err(_) => v.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trips_and_refuses_bad_offsets() {
        let t = CertTable {
            entries: vec![
                CertTableEntry {
                    kind: CertKind::Vcek,
                    data: vec![1, 2, 3],
                },
                CertTableEntry {
                    kind: CertKind::Ask,
                    data: vec![4; 10],
                },
            ],
        };
        let mut bytes = t.encode();
        assert_eq!(CertTable::parse(&bytes).unwrap(), t);
        assert_eq!(
            CertTable::parse(&bytes).unwrap().get(CertKind::Ask),
            Some(&[4u8; 10][..])
        );
        bytes.extend_from_slice(&[0; 100]);
        assert_eq!(CertTable::parse(&bytes).unwrap(), t);
        bytes[16] = 0xff;
        assert_eq!(CertTable::parse(&bytes).unwrap_err().field, "OFFSET");
        assert!(CertTable::parse(&[0; 10]).is_err());
        let mut dup = CertTable::default();
        for _ in 0..2 {
            dup.entries.push(CertTableEntry {
                kind: CertKind::Ark,
                data: vec![],
            });
        }
        assert_eq!(CertTable::parse(&dup.encode()).unwrap_err().field, "GUID");
    }
}
