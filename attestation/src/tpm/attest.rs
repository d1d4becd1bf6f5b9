//! TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12): what a TPM signs in TPM2_Quote, TPM2_Certify,
//! TPM2_CertifyCreation, TPM2_GetTime, TPM2_NV_Certify and the audit commands.
//!
//! ```text
//! TPMS_ATTEST
//!   magic            TPM_GENERATED   0xff544347 (§6.2)
//!   type             TPMI_ST_ATTEST  selects `attested` (§10.12.10)
//!   qualifiedSigner  TPM2B_NAME      qualified name of the signing key
//!   extraData        TPM2B_DATA      the caller's qualifying data (nonce)
//!   clockInfo        TPMS_CLOCK_INFO clock, resetCount, restartCount, safe (§10.11.1)
//!   firmwareVersion  UINT64          vendor-specific firmware version
//!   attested         TPMU_ATTEST     (§10.12.11) one of the *_INFO structures below
//! ```

use serde::Serialize;

use super::alg::HashAlg;
use super::hex_bytes;
use super::name::Name;
use super::pcr::PcrSelection;
use super::reader::{ParseError, ParseErrorKind, Reader};

/// TPM_GENERATED_VALUE (Part 2 §6.2), `"\xffTCG"`: the first four bytes of every
/// structure a TPM signs with a restricted key. A restricted key refuses to sign an
/// external digest of data starting with it, so a signature over data that does is
/// the TPM's.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;

/// Largest TPM2B_DIGEST: a SHA-512 digest.
const MAX_DIGEST: usize = 64;
/// Largest TPM2B_DATA: sizeof(TPMT_HA), an algorithm ID and a SHA-512 digest.
const MAX_DATA: usize = 66;

/// TPMI_ST_ATTEST (Part 2 §10.12.10): the TPM_ST tag (§6.9) of each attestation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestType {
    /// TPM_ST_ATTEST_NV (0x8014), TPM2_NV_Certify.
    Nv,
    /// TPM_ST_ATTEST_COMMAND_AUDIT (0x8015), TPM2_GetCommandAuditDigest.
    CommandAudit,
    /// TPM_ST_ATTEST_SESSION_AUDIT (0x8016), TPM2_GetSessionAuditDigest.
    SessionAudit,
    /// TPM_ST_ATTEST_CERTIFY (0x8017), TPM2_Certify.
    Certify,
    /// TPM_ST_ATTEST_QUOTE (0x8018), TPM2_Quote.
    Quote,
    /// TPM_ST_ATTEST_TIME (0x8019), TPM2_GetTime.
    Time,
    /// TPM_ST_ATTEST_CREATION (0x801A), TPM2_CertifyCreation.
    Creation,
    /// TPM_ST_ATTEST_NV_DIGEST (0x801C), TPM2_NV_Certify of a digest.
    NvDigest,
}

impl AttestType {
    /// The type with this TPM_ST value.
    pub fn from_tag(tag: u16) -> Option<Self> {
        Some(match tag {
            0x8014 => Self::Nv,
            0x8015 => Self::CommandAudit,
            0x8016 => Self::SessionAudit,
            0x8017 => Self::Certify,
            0x8018 => Self::Quote,
            0x8019 => Self::Time,
            0x801A => Self::Creation,
            0x801C => Self::NvDigest,
            _ => return None,
        })
    }

    /// Its TPM_ST value.
    pub fn tag(self) -> u16 {
        match self {
            Self::Nv => 0x8014,
            Self::CommandAudit => 0x8015,
            Self::SessionAudit => 0x8016,
            Self::Certify => 0x8017,
            Self::Quote => 0x8018,
            Self::Time => 0x8019,
            Self::Creation => 0x801A,
            Self::NvDigest => 0x801C,
        }
    }
}

/// TPMS_CLOCK_INFO (Part 2 §10.11.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockInfo {
    /// Milliseconds the TPM has been powered since it was last cleared (monotonic
    /// while `safe`).
    pub clock: u64,
    /// TPM Resets (power cycles, reboots) since the last TPM2_Clear.
    pub reset_count: u32,
    /// TPM Restarts or Resumes (hibernate, suspend) since the last reset.
    pub restart_count: u32,
    /// No clock value greater than `clock` was reported before (TPMI_YES_NO).
    pub safe: bool,
}

impl ClockInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        Ok(Self {
            clock: r.u64("clockInfo.clock")?,
            reset_count: r.u32("clockInfo.resetCount")?,
            restart_count: r.u32("clockInfo.restartCount")?,
            safe: r.yes_no("clockInfo.safe")?,
        })
    }
}

/// TPMS_QUOTE_INFO (Part 2 §10.12.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteInfo {
    /// The PCRs quoted.
    pub pcr_select: PcrSelection,
    /// The digest of their values, with the signing scheme's hash.
    #[serde(serialize_with = "hex_bytes")]
    pub pcr_digest: Vec<u8>,
}

/// TPMS_CERTIFY_INFO (Part 2 §10.12.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertifyInfo {
    /// Name of the certified object.
    pub name: Name,
    /// Qualified name of the certified object.
    pub qualified_name: Name,
}

/// TPMS_CREATION_INFO (Part 2 §10.12.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationInfo {
    /// Name of the object.
    pub object_name: Name,
    /// Digest of its creation data.
    #[serde(serialize_with = "hex_bytes")]
    pub creation_hash: Vec<u8>,
}

/// TPMS_TIME_ATTEST_INFO (Part 2 §10.12.2) with its TPMS_TIME_INFO (§10.11.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeAttestInfo {
    /// Milliseconds since the last TPM2_Startup.
    pub time: u64,
    /// The clock at that time.
    pub clock_info: ClockInfo,
    /// The firmware version.
    pub firmware_version: u64,
}

/// TPMS_NV_CERTIFY_INFO (Part 2 §10.12.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NvCertifyInfo {
    /// Name of the NV index.
    pub index_name: Name,
    /// Offset of the certified contents in the index.
    pub offset: u16,
    /// The contents (TPM2B_MAX_NV_BUFFER).
    #[serde(serialize_with = "hex_bytes")]
    pub nv_contents: Vec<u8>,
}

/// TPMS_NV_DIGEST_CERTIFY_INFO (Part 2 §10.12.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NvDigestCertifyInfo {
    /// Name of the NV index.
    pub index_name: Name,
    /// Digest of its contents.
    #[serde(serialize_with = "hex_bytes")]
    pub nv_digest: Vec<u8>,
}

/// TPMS_COMMAND_AUDIT_INFO (Part 2 §10.12.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandAuditInfo {
    /// The audit counter.
    pub audit_counter: u64,
    /// Hash of the audit digest.
    pub digest_alg: HashAlg,
    /// The audit digest.
    #[serde(serialize_with = "hex_bytes")]
    pub audit_digest: Vec<u8>,
    /// Digest of the audited command codes.
    #[serde(serialize_with = "hex_bytes")]
    pub command_digest: Vec<u8>,
}

/// TPMS_SESSION_AUDIT_INFO (Part 2 §10.12.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAuditInfo {
    /// The session was exclusive for all its audited commands.
    pub exclusive_session: bool,
    /// The session's audit digest.
    #[serde(serialize_with = "hex_bytes")]
    pub session_digest: Vec<u8>,
}

/// TPMU_ATTEST (Part 2 §10.12.11): the type-specific part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attested {
    /// TPM2_Quote.
    Quote(QuoteInfo),
    /// TPM2_Certify.
    Certify(CertifyInfo),
    /// TPM2_CertifyCreation.
    Creation(CreationInfo),
    /// TPM2_GetTime.
    Time(TimeAttestInfo),
    /// TPM2_NV_Certify.
    Nv(NvCertifyInfo),
    /// TPM2_NV_Certify of a digest.
    NvDigest(NvDigestCertifyInfo),
    /// TPM2_GetCommandAuditDigest.
    CommandAudit(CommandAuditInfo),
    /// TPM2_GetSessionAuditDigest.
    SessionAudit(SessionAuditInfo),
}

/// A parsed TPMS_ATTEST.
///
/// `magic` is kept as read rather than refused by the parser, so that a verifier can
/// report a wrong magic as a check of its own ([`TpmsAttest::is_tpm_generated`]);
/// everything else is parsed strictly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TpmsAttest {
    /// TPM_GENERATED_VALUE in a genuine structure.
    pub magic: u32,
    /// Qualified name of the signing key.
    pub qualified_signer: Name,
    /// The caller's qualifying data.
    #[serde(serialize_with = "hex_bytes")]
    pub extra_data: Vec<u8>,
    /// The TPM's clock and reset/restart counters.
    pub clock_info: ClockInfo,
    /// The TPM's firmware version.
    pub firmware_version: u64,
    /// The attestation-specific part; its variant is the structure's `type`.
    pub attested: Attested,
}

impl TpmsAttest {
    /// Parses a marshalled TPMS_ATTEST that fills `bytes` exactly.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new("TPMS_ATTEST", bytes);
        let magic = r.u32("magic")?;
        let at = r.offset();
        let tag = r.u16("type")?;
        let ty = AttestType::from_tag(tag).ok_or_else(|| {
            r.error_at(
                "type",
                at,
                ParseErrorKind::Unsupported {
                    value: u32::from(tag),
                },
            )
        })?;
        let qualified_signer = Name::read(&mut r, "qualifiedSigner")?;
        let extra_data = r.tpm2b_max("extraData", MAX_DATA)?.to_vec();
        let clock_info = ClockInfo::read(&mut r)?;
        let firmware_version = r.u64("firmwareVersion")?;
        let attested = match ty {
            AttestType::Quote => Attested::Quote(QuoteInfo {
                pcr_select: PcrSelection::read(&mut r, "attested.quote.pcrSelect")?,
                pcr_digest: digest(&mut r, "attested.quote.pcrDigest")?,
            }),
            AttestType::Certify => Attested::Certify(CertifyInfo {
                name: Name::read(&mut r, "attested.certify.name")?,
                qualified_name: Name::read(&mut r, "attested.certify.qualifiedName")?,
            }),
            AttestType::Creation => Attested::Creation(CreationInfo {
                object_name: Name::read(&mut r, "attested.creation.objectName")?,
                creation_hash: digest(&mut r, "attested.creation.creationHash")?,
            }),
            AttestType::Time => Attested::Time(TimeAttestInfo {
                time: r.u64("attested.time.time.time")?,
                clock_info: ClockInfo::read(&mut r)?,
                firmware_version: r.u64("attested.time.firmwareVersion")?,
            }),
            AttestType::Nv => Attested::Nv(NvCertifyInfo {
                index_name: Name::read(&mut r, "attested.nv.indexName")?,
                offset: r.u16("attested.nv.offset")?,
                nv_contents: r.tpm2b("attested.nv.nvContents")?.to_vec(),
            }),
            AttestType::NvDigest => Attested::NvDigest(NvDigestCertifyInfo {
                index_name: Name::read(&mut r, "attested.nvDigest.indexName")?,
                nv_digest: digest(&mut r, "attested.nvDigest.nvDigest")?,
            }),
            AttestType::CommandAudit => Attested::CommandAudit(CommandAuditInfo {
                audit_counter: r.u64("attested.commandAudit.auditCounter")?,
                digest_alg: super::public::hash_alg(&mut r, "attested.commandAudit.digestAlg")?,
                audit_digest: digest(&mut r, "attested.commandAudit.auditDigest")?,
                command_digest: digest(&mut r, "attested.commandAudit.commandDigest")?,
            }),
            AttestType::SessionAudit => Attested::SessionAudit(SessionAuditInfo {
                exclusive_session: r.yes_no("attested.sessionAudit.exclusiveSession")?,
                session_digest: digest(&mut r, "attested.sessionAudit.sessionDigest")?,
            }),
        };
        r.finish()?;
        Ok(Self {
            magic,
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }

    /// Whether `magic` is TPM_GENERATED_VALUE.
    pub fn is_tpm_generated(&self) -> bool {
        self.magic == TPM_GENERATED_VALUE
    }

    /// The structure's `type`.
    pub fn attest_type(&self) -> AttestType {
        match self.attested {
            Attested::Quote(_) => AttestType::Quote,
            Attested::Certify(_) => AttestType::Certify,
            Attested::Creation(_) => AttestType::Creation,
            Attested::Time(_) => AttestType::Time,
            Attested::Nv(_) => AttestType::Nv,
            Attested::NvDigest(_) => AttestType::NvDigest,
            Attested::CommandAudit(_) => AttestType::CommandAudit,
            Attested::SessionAudit(_) => AttestType::SessionAudit,
        }
    }

    /// The quote part, when this is a quote.
    pub fn quote(&self) -> Option<&QuoteInfo> {
        match &self.attested {
            Attested::Quote(q) => Some(q),
            _ => None,
        }
    }
}

/// A TPM2B_DIGEST of at most 64 bytes.
fn digest(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u8>, ParseError> {
    r.tpm2b_max(field, MAX_DIGEST).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quote over sha256:15,16 with a 32-byte nonce, as cerd's AK makes them.
    pub(crate) fn quote_bytes() -> Vec<u8> {
        let mut q = vec![0xff, 0x54, 0x43, 0x47, 0x80, 0x18];
        q.extend([0x00, 0x22, 0x00, 0x0b]);
        q.extend([0x5a; 32]); // qualifiedSigner
        q.extend([0x00, 0x20]);
        q.extend([0xab; 32]); // extraData
        q.extend(0x1234_5678_9abc_u64.to_be_bytes()); // clock
        q.extend(7u32.to_be_bytes()); // resetCount
        q.extend(2u32.to_be_bytes()); // restartCount
        q.push(1); // safe
        q.extend(0x2016_0511_0016_2800_u64.to_be_bytes());
        q.extend([0, 0, 0, 1, 0x00, 0x0b, 3, 0x00, 0x80, 0x01]);
        q.extend([0x00, 0x20]);
        q.extend([0xdd; 32]);
        q
    }

    fn header(tag: u16) -> Vec<u8> {
        let mut q = vec![0xff, 0x54, 0x43, 0x47];
        q.extend(tag.to_be_bytes());
        q.extend([0, 4, 0x40, 0, 0, 7]); // signer: TPM_RH_NULL
        q.extend([0, 0]); // no extraData
        q.extend([0; 17]);
        q.extend([0; 8]);
        q
    }

    fn name(fill: u8) -> Vec<u8> {
        let mut n = vec![0, 34, 0, 0x0b];
        n.extend([fill; 32]);
        n
    }

    #[test]
    fn parses_a_quote() {
        let a = TpmsAttest::parse(&quote_bytes()).unwrap();
        assert!(a.is_tpm_generated());
        assert_eq!(a.attest_type(), AttestType::Quote);
        assert_eq!(a.extra_data, vec![0xab; 32]);
        assert_eq!(
            a.clock_info,
            ClockInfo {
                clock: 0x1234_5678_9abc,
                reset_count: 7,
                restart_count: 2,
                safe: true
            }
        );
        assert_eq!(a.firmware_version, 0x2016_0511_0016_2800);
        let q = a.quote().unwrap();
        assert_eq!(q.pcr_select.to_string(), "sha256:15,16");
        assert_eq!(q.pcr_digest, vec![0xdd; 32]);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["clockInfo"]["resetCount"], 7);
        assert_eq!(json["attested"]["quote"]["pcrSelect"][0]["pcrs"][1], 16);
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        let good = quote_bytes();
        for cut in 0..good.len() {
            let e = TpmsAttest::parse(&good[..cut]).unwrap_err();
            assert!(
                matches!(e.kind, ParseErrorKind::Truncated { .. }),
                "cut {cut}: {e}"
            );
        }
        let mut long = good.clone();
        long.push(0);
        let e = TpmsAttest::parse(&long).unwrap_err();
        assert_eq!(
            (e.offset, e.kind),
            (good.len(), ParseErrorKind::Trailing { extra: 1 })
        );
    }

    #[test]
    fn wrong_magic_parses_and_is_flagged_but_bad_fields_do_not_parse() {
        let mut q = quote_bytes();
        q[0] = 0;
        assert!(!TpmsAttest::parse(&q).unwrap().is_tpm_generated());
        let mut q = quote_bytes();
        q[5] = 0x1b;
        let e = TpmsAttest::parse(&q).unwrap_err();
        assert_eq!((e.field, e.offset), ("type", 4));
        let mut q = quote_bytes();
        q[92] = 2; // safe
        let e = TpmsAttest::parse(&q).unwrap_err();
        assert_eq!((e.field, e.offset), ("clockInfo.safe", 92));
        let mut q = quote_bytes();
        q[43] = 67; // extraData size over TPM2B_DATA's 66
        let e = TpmsAttest::parse(&q).unwrap_err();
        assert_eq!((e.field, e.offset), ("extraData", 42));
    }

    #[test]
    fn parses_every_other_attestation_type() {
        let cases: Vec<(u16, Vec<u8>)> = vec![
            (0x8017, [name(1), name(2)].concat()),
            (
                0x8019,
                [vec![0; 8], vec![0; 8], vec![0; 8], vec![1], vec![0; 8]].concat(),
            ),
            (0x801A, [name(3), vec![0, 32], vec![4; 32]].concat()),
            (0x8014, [name(5), vec![0, 8], vec![0, 3, 1, 2, 3]].concat()),
            (0x801C, [name(6), vec![0, 48], vec![7; 48]].concat()),
            (
                0x8015,
                [
                    vec![0; 8],
                    vec![0, 0x0b],
                    vec![0, 32],
                    vec![8; 32],
                    vec![0, 32],
                    vec![9; 32],
                ]
                .concat(),
            ),
            (0x8016, [vec![1], vec![0, 32], vec![10; 32]].concat()),
        ];
        for (tag, body) in cases {
            let bytes = [header(tag), body].concat();
            let a = TpmsAttest::parse(&bytes).unwrap_or_else(|e| panic!("{tag:#x}: {e}"));
            assert_eq!(a.attest_type().tag(), tag);
            assert_eq!(a.qualified_signer, Name::Handle(0x4000_0007));
            assert!(a.quote().is_none());
            for cut in 0..bytes.len() {
                assert!(
                    TpmsAttest::parse(&bytes[..cut]).is_err(),
                    "{tag:#x} cut {cut}"
                );
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(TpmsAttest::parse(&long).is_err(), "{tag:#x} trailing");
        }
        let a = TpmsAttest::parse(&[header(0x8017), name(1), name(2)].concat()).unwrap();
        let Attested::Certify(c) = a.attested else {
            panic!()
        };
        assert_eq!(c.name.to_bytes()[2..], [1; 32]);
    }
}
