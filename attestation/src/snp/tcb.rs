//! TCB_VERSION (SEV-SNP ABI spec Table 3) and the processor generations whose layouts
//! differ.
//!
//! A TCB version is a u64 of security patch levels (SPLs), one byte per component,
//! stored little-endian. Milan and Genoa: `bl[0] tee[1] reserved[2..6] snp[6]
//! ucode[7]`. Turin (ABI rev 1.56+, "TCB_VERSION for Family 1Ah"): `fmc[0] bl[1]
//! tee[2] snp[3] reserved[4..7] ucode[7]`. The generation is not in the value itself:
//! it comes from the report's CPUID fields (report v3+), the VCEK's productName, or the
//! AMD root the chain ends at.

use std::fmt;

use serde::Serialize;

/// An AMD EPYC generation with SEV-SNP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Generation {
    /// EPYC 7003, Family 19h models 00h–0Fh.
    Milan,
    /// EPYC 9004/8004, Family 19h models 10h–1Fh and A0h–AFh.
    Genoa,
    /// EPYC 9005, Family 1Ah models 00h–11h.
    Turin,
}

impl Generation {
    /// Every generation, oldest first.
    pub const ALL: [Self; 3] = [Self::Milan, Self::Genoa, Self::Turin];

    /// The name AMD uses in certificate subjects and KDS paths (`Milan`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Milan => "Milan",
            Self::Genoa => "Genoa",
            Self::Turin => "Turin",
        }
    }

    /// The generation of a CPUID family and model (report v3+, offsets 0x188–0x189).
    pub fn from_cpuid(family: u8, model: u8) -> Option<Self> {
        match (family, model) {
            (0x19, 0x00..=0x0f) => Some(Self::Milan),
            (0x19, 0x10..=0x1f | 0xa0..=0xaf) => Some(Self::Genoa),
            (0x1a, 0x00..=0x11) => Some(Self::Turin),
            _ => None,
        }
    }

    /// The generation a VCEK/VLEK productName names: `Milan-B0`, `Genoa`, `Turin`…
    pub fn from_product_name(name: &str) -> Option<Self> {
        let head = name.split('-').next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(head))
    }

    /// Whether TCB values of this generation have the Turin layout (an FMC SPL).
    pub fn has_fmc(self) -> bool {
        matches!(self, Self::Turin)
    }

    /// Bytes of CHIP_ID that hold the hardware ID: 64 before Turin, 8 on Turin (the
    /// rest is zero).
    pub fn hwid_len(self) -> usize {
        if self.has_fmc() {
            8
        } else {
            64
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One TCB_VERSION, decoded for a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TcbVersion {
    /// The raw value.
    #[serde(serialize_with = "hex_u64")]
    pub raw: u64,
    /// FMC SPL (Turin only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmc: Option<u8>,
    /// Boot loader SPL.
    pub bl: u8,
    /// PSP OS (TEE) SPL.
    pub tee: u8,
    /// SNP firmware SPL.
    pub snp: u8,
    /// Microcode SPL.
    pub ucode: u8,
}

fn hex_u64<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#018x}"))
}

/// A TCB component, for messages and policy keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Fmc,
    Bl,
    Tee,
    Snp,
    Ucode,
}

impl Component {
    pub const ALL: [Self; 5] = [Self::Fmc, Self::Bl, Self::Tee, Self::Snp, Self::Ucode];

    pub fn name(self) -> &'static str {
        match self {
            Self::Fmc => "fmc",
            Self::Bl => "bl",
            Self::Tee => "tee",
            Self::Snp => "snp",
            Self::Ucode => "ucode",
        }
    }
}

impl TcbVersion {
    /// Decodes `raw` with the layout of `generation`.
    pub fn decode(raw: u64, generation: Generation) -> Self {
        let b = raw.to_le_bytes();
        let [b0, b1, b2, b3, _, _, b6, b7] = b;
        if generation.has_fmc() {
            Self {
                raw,
                fmc: Some(b0),
                bl: b1,
                tee: b2,
                snp: b3,
                ucode: b7,
            }
        } else {
            Self {
                raw,
                fmc: None,
                bl: b0,
                tee: b1,
                snp: b6,
                ucode: b7,
            }
        }
    }

    /// Encodes SPLs with the layout of `generation` (FMC ignored before Turin).
    pub fn encode(generation: Generation, fmc: u8, bl: u8, tee: u8, snp: u8, ucode: u8) -> u64 {
        let bytes = if generation.has_fmc() {
            [fmc, bl, tee, snp, 0, 0, 0, ucode]
        } else {
            [bl, tee, 0, 0, 0, 0, snp, ucode]
        };
        u64::from_le_bytes(bytes)
    }

    /// The SPL of a component (`None`: FMC before Turin).
    pub fn spl(&self, c: Component) -> Option<u8> {
        match c {
            Component::Fmc => self.fmc,
            Component::Bl => Some(self.bl),
            Component::Tee => Some(self.tee),
            Component::Snp => Some(self.snp),
            Component::Ucode => Some(self.ucode),
        }
    }
}

impl fmt::Display for TcbVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(fmc) = self.fmc {
            write!(f, "fmc {fmc} ")?;
        }
        write!(
            f,
            "bl {} tee {} snp {} ucode {} ({:#018x})",
            self.bl, self.tee, self.snp, self.ucode, self.raw
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milan_and_turin_layouts() {
        let t = TcbVersion::decode(0x7308_0000_0000_0003, Generation::Milan);
        assert_eq!((t.fmc, t.bl, t.tee, t.snp, t.ucode), (None, 3, 0, 8, 0x73));
        assert_eq!(
            TcbVersion::encode(Generation::Milan, 9, 3, 0, 8, 0x73),
            t.raw
        );
        let t = TcbVersion::decode(0x0900_0000_0403_0201, Generation::Turin);
        assert_eq!((t.fmc, t.bl, t.tee, t.snp, t.ucode), (Some(1), 2, 3, 4, 9));
        assert_eq!(TcbVersion::encode(Generation::Turin, 1, 2, 3, 4, 9), t.raw);
    }

    #[test]
    fn generations_from_cpuid_and_product_names() {
        assert_eq!(Generation::from_cpuid(0x19, 0x01), Some(Generation::Milan));
        assert_eq!(Generation::from_cpuid(0x19, 0x11), Some(Generation::Genoa));
        assert_eq!(Generation::from_cpuid(0x1a, 0x02), Some(Generation::Turin));
        assert_eq!(Generation::from_cpuid(0x17, 0x31), None);
        assert_eq!(
            Generation::from_product_name("Milan-B0"),
            Some(Generation::Milan)
        );
        assert_eq!(
            Generation::from_product_name("Turin"),
            Some(Generation::Turin)
        );
        assert_eq!(Generation::from_product_name("Naples"), None);
    }
}
