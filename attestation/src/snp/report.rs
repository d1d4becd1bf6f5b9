//! ATTESTATION_REPORT (SEV-SNP ABI spec rev 1.57, Table 23): 1184 bytes, integers
//! little-endian, signed over bytes `[0x000, 0x2A0)`.
//!
//! Versions 2 (Milan/Genoa firmware before 1.55), 3 (adds CPUID_FAM_ID/MOD_ID/STEP at
//! 0x188) and 5 (adds LAUNCH_MIT_VECTOR / CURRENT_MIT_VECTOR at 0x1F8) are read; 4 has
//! the layout of 3. Fields a version does not define are zero there and read as zero.

use serde::Serialize;

use super::tcb::{Generation, TcbVersion};
use super::{array, hex_bytes, le_u32, le_u64};
use crate::tpm::reader::{ParseError, ParseErrorKind, Reader};

/// Size of an ATTESTATION_REPORT.
pub const REPORT_LEN: usize = 0x4a0;
/// End of the signed region (the SIGNATURE field starts here).
pub const SIGNED_LEN: usize = 0x2a0;
/// SIGNATURE_ALGO for ECDSA P-384 with SHA-384 (Table 134).
pub const SIG_ALGO_ECDSA_P384_SHA384: u32 = 1;

/// Which key signed the report: flags bits 4:2 (SIGNING_KEY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SigningKey {
    /// The chip's Versioned Chip Endorsement Key.
    Vcek,
    /// A Versioned Loaded Endorsement Key (cloud providers).
    Vlek,
    /// No key: the report is unsigned (value 7).
    None,
    /// A reserved value.
    Reserved(u8),
}

impl std::fmt::Display for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vcek => f.write_str("VCEK"),
            Self::Vlek => f.write_str("VLEK"),
            Self::None => f.write_str("no key"),
            Self::Reserved(v) => write!(f, "reserved key type {v}"),
        }
    }
}

impl SigningKey {
    fn from_bits(v: u8) -> Self {
        match v {
            0 => Self::Vcek,
            1 => Self::Vlek,
            7 => Self::None,
            other => Self::Reserved(other),
        }
    }
}

/// The guest policy (Table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestPolicy {
    #[serde(serialize_with = "hex64")]
    pub raw: u64,
    pub abi_minor: u8,
    pub abi_major: u8,
    /// Bit 16: SMT allowed.
    pub smt_allowed: bool,
    /// Bit 18: association with a migration agent allowed.
    pub migrate_ma: bool,
    /// Bit 19: debugging allowed.
    pub debug: bool,
    /// Bit 20: single socket only.
    pub single_socket: bool,
}

impl GuestPolicy {
    pub fn from_raw(raw: u64) -> Self {
        let bit = |n: u32| raw.checked_shr(n).is_some_and(|v| v & 1 == 1);
        let [minor, major, ..] = raw.to_le_bytes();
        Self {
            raw,
            abi_minor: minor,
            abi_major: major,
            smt_allowed: bit(16),
            migrate_ma: bit(18),
            debug: bit(19),
            single_socket: bit(20),
        }
    }
}

/// PLATFORM_INFO (Table 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformInfo {
    #[serde(serialize_with = "hex64")]
    pub raw: u64,
    /// Bit 0: SMT is enabled on the platform.
    pub smt_enabled: bool,
    /// Bit 1: TSME is enabled.
    pub tsme_enabled: bool,
}

fn hex64<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
}

/// A parsed attestation report. The raw bytes are kept: the signature covers
/// [`Self::signed_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttestationReport {
    /// 0x000 VERSION.
    pub version: u32,
    /// 0x004 GUEST_SVN.
    pub guest_svn: u32,
    /// 0x008 POLICY.
    pub policy: GuestPolicy,
    /// 0x010 FAMILY_ID.
    #[serde(serialize_with = "hex_bytes")]
    pub family_id: [u8; 16],
    /// 0x020 IMAGE_ID.
    #[serde(serialize_with = "hex_bytes")]
    pub image_id: [u8; 16],
    /// 0x030 VMPL the report was requested from.
    pub vmpl: u32,
    /// 0x034 SIGNATURE_ALGO.
    pub signature_algo: u32,
    /// 0x038 CURRENT_TCB (raw; decode with the generation).
    #[serde(serialize_with = "hex64")]
    pub current_tcb: u64,
    /// 0x040 PLATFORM_INFO.
    pub platform_info: PlatformInfo,
    /// 0x048 bit 0: AUTHOR_KEY_EN.
    pub author_key_en: bool,
    /// 0x048 bit 1: MASK_CHIP_KEY.
    pub mask_chip_key: bool,
    /// 0x048 bits 4:2: SIGNING_KEY.
    pub signing_key: SigningKey,
    /// 0x050 REPORT_DATA, chosen by the guest.
    #[serde(serialize_with = "hex_bytes")]
    pub report_data: [u8; 64],
    /// 0x090 MEASUREMENT of the launched guest.
    #[serde(serialize_with = "hex_bytes")]
    pub measurement: [u8; 48],
    /// 0x0C0 HOST_DATA, chosen by the host at launch.
    #[serde(serialize_with = "hex_bytes")]
    pub host_data: [u8; 32],
    /// 0x0E0 ID_KEY_DIGEST (SHA-384 of the ID key).
    #[serde(serialize_with = "hex_bytes")]
    pub id_key_digest: [u8; 48],
    /// 0x110 AUTHOR_KEY_DIGEST.
    #[serde(serialize_with = "hex_bytes")]
    pub author_key_digest: [u8; 48],
    /// 0x140 REPORT_ID.
    #[serde(serialize_with = "hex_bytes")]
    pub report_id: [u8; 32],
    /// 0x160 REPORT_ID_MA.
    #[serde(serialize_with = "hex_bytes")]
    pub report_id_ma: [u8; 32],
    /// 0x180 REPORTED_TCB: what the VCEK is derived from.
    #[serde(serialize_with = "hex64")]
    pub reported_tcb: u64,
    /// 0x188 CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (version 3+; zero before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuid: Option<(u8, u8, u8)>,
    /// 0x1A0 CHIP_ID (zero when MASK_CHIP_KEY or VLEK-signed; Turin: 8 bytes + zeros).
    #[serde(serialize_with = "hex_bytes")]
    pub chip_id: [u8; 64],
    /// 0x1E0 COMMITTED_TCB.
    #[serde(serialize_with = "hex64")]
    pub committed_tcb: u64,
    /// 0x1E8 CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR.
    pub current_version: (u8, u8, u8),
    /// 0x1EC COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR.
    pub committed_version: (u8, u8, u8),
    /// 0x1F0 LAUNCH_TCB.
    #[serde(serialize_with = "hex64")]
    pub launch_tcb: u64,
    /// 0x2A0 SIGNATURE: R, 72 bytes little-endian.
    #[serde(serialize_with = "hex_bytes")]
    pub signature_r: [u8; 72],
    /// 0x2E8 SIGNATURE: S, 72 bytes little-endian.
    #[serde(serialize_with = "hex_bytes")]
    pub signature_s: [u8; 72],
    #[serde(skip)]
    bytes: Vec<u8>,
}

impl AttestationReport {
    /// Parses exactly one report of [`REPORT_LEN`] bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        const S: &str = "ATTESTATION_REPORT";
        let mut r = Reader::new(S, bytes);
        if bytes.len() != REPORT_LEN {
            return Err(r.error(
                "(size)",
                ParseErrorKind::Length {
                    expected: REPORT_LEN,
                    found: bytes.len(),
                },
            ));
        }
        let version = le_u32(&mut r, "VERSION")?;
        if !(2..=5).contains(&version) {
            return Err(r.error_at(
                "VERSION",
                0,
                ParseErrorKind::Invalid {
                    value: u64::from(version),
                    expected: "2, 3, 4 or 5",
                },
            ));
        }
        let guest_svn = le_u32(&mut r, "GUEST_SVN")?;
        let policy = GuestPolicy::from_raw(le_u64(&mut r, "POLICY")?);
        let family_id = array(&mut r, "FAMILY_ID")?;
        let image_id = array(&mut r, "IMAGE_ID")?;
        let vmpl = le_u32(&mut r, "VMPL")?;
        let signature_algo = le_u32(&mut r, "SIGNATURE_ALGO")?;
        let current_tcb = le_u64(&mut r, "CURRENT_TCB")?;
        let pinfo = le_u64(&mut r, "PLATFORM_INFO")?;
        let flags = le_u32(&mut r, "flags")?;
        r.take("reserved", 4)?;
        let report_data = array(&mut r, "REPORT_DATA")?;
        let measurement = array(&mut r, "MEASUREMENT")?;
        let host_data = array(&mut r, "HOST_DATA")?;
        let id_key_digest = array(&mut r, "ID_KEY_DIGEST")?;
        let author_key_digest = array(&mut r, "AUTHOR_KEY_DIGEST")?;
        let report_id = array(&mut r, "REPORT_ID")?;
        let report_id_ma = array(&mut r, "REPORT_ID_MA")?;
        let reported_tcb = le_u64(&mut r, "REPORTED_TCB")?;
        let [fam, model, step] = array::<3>(&mut r, "CPUID")?;
        r.take("reserved", 0x1a0 - 0x18b)?;
        let chip_id = array(&mut r, "CHIP_ID")?;
        let committed_tcb = le_u64(&mut r, "COMMITTED_TCB")?;
        let [cb, cmi, cma, _] = array::<4>(&mut r, "CURRENT_VERSION")?;
        let [mb, mmi, mma, _] = array::<4>(&mut r, "COMMITTED_VERSION")?;
        let launch_tcb = le_u64(&mut r, "LAUNCH_TCB")?;
        r.take("reserved", SIGNED_LEN - 0x1f8)?;
        let signature_r = array(&mut r, "SIGNATURE.R")?;
        let signature_s = array(&mut r, "SIGNATURE.S")?;
        r.take("SIGNATURE.reserved", REPORT_LEN - 0x330)?;
        r.finish()?;
        let bit = |n: u32| flags.checked_shr(n).is_some_and(|v| v & 1 == 1);
        let key_bits = flags.checked_shr(2).map_or(0, |v| v & 0x7);
        Ok(Self {
            version,
            guest_svn,
            policy,
            family_id,
            image_id,
            vmpl,
            signature_algo,
            current_tcb,
            platform_info: PlatformInfo {
                raw: pinfo,
                smt_enabled: pinfo & 1 == 1,
                tsme_enabled: pinfo & 2 == 2,
            },
            author_key_en: bit(0),
            mask_chip_key: bit(1),
            signing_key: SigningKey::from_bits(u8::try_from(key_bits).unwrap_or(0xff)),
            report_data,
            measurement,
            host_data,
            id_key_digest,
            author_key_digest,
            report_id,
            report_id_ma,
            reported_tcb,
            cpuid: (version >= 3).then_some((fam, model, step)),
            chip_id,
            committed_tcb,
            current_version: (cma, cmi, cb),
            committed_version: (mma, mmi, mb),
            launch_tcb,
            signature_r,
            signature_s,
            bytes: bytes.to_vec(),
        })
    }

    /// The whole report as given.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes the signature covers, `[0x000, 0x2A0)`.
    pub fn signed_bytes(&self) -> &[u8] {
        self.bytes.get(..SIGNED_LEN).unwrap_or_default()
    }

    /// The generation the CPUID fields name (version 3+).
    pub fn cpuid_generation(&self) -> Option<Generation> {
        self.cpuid
            .and_then(|(f, m, _)| Generation::from_cpuid(f, m))
    }

    /// REPORTED_TCB decoded for `generation`.
    pub fn reported_tcb(&self, generation: Generation) -> TcbVersion {
        TcbVersion::decode(self.reported_tcb, generation)
    }

    /// Whether CHIP_ID is all zero (masked, or a VLEK-signed report).
    pub fn chip_id_is_zero(&self) -> bool {
        self.chip_id.iter().all(|b| *b == 0)
    }
}

/// Byte offsets of fields, for tests and tools that edit reports.
pub mod offset {
    pub const POLICY: usize = 0x008;
    pub const VMPL: usize = 0x030;
    pub const FLAGS: usize = 0x048;
    pub const REPORT_DATA: usize = 0x050;
    pub const MEASUREMENT: usize = 0x090;
    pub const HOST_DATA: usize = 0x0c0;
    pub const ID_KEY_DIGEST: usize = 0x0e0;
    pub const AUTHOR_KEY_DIGEST: usize = 0x110;
    pub const REPORTED_TCB: usize = 0x180;
    pub const CPUID: usize = 0x188;
    pub const CHIP_ID: usize = 0x1a0;
    pub const SIGNATURE: usize = 0x2a0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_version_are_checked() {
        let e = AttestationReport::parse(&[0; 100]).unwrap_err();
        assert!(matches!(
            e.kind,
            ParseErrorKind::Length {
                expected: 1184,
                found: 100
            }
        ));
        let mut b = vec![0u8; REPORT_LEN];
        let e = AttestationReport::parse(&b).unwrap_err();
        assert_eq!(e.field, "VERSION");
        b[0] = 2;
        b[offset::FLAGS] = 1 << 2 | 1;
        b[offset::POLICY + 2] = 0b1000_1001;
        let r = AttestationReport::parse(&b).unwrap();
        assert_eq!(r.signing_key, SigningKey::Vlek);
        assert!(r.author_key_en && !r.mask_chip_key);
        assert!(r.policy.smt_allowed && r.policy.debug && !r.policy.migrate_ma);
        assert_eq!(r.cpuid, None);
        assert_eq!(r.signed_bytes().len(), SIGNED_LEN);
    }
}
