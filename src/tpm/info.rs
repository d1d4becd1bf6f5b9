//! `cer tpm info`: which TPM is behind a TCTI.

use tss_esapi::constants::PropertyTag;

use super::Tpm;

/// What a TPM says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmIdentity {
    /// TPM_PT_MANUFACTURER as four ASCII characters (e.g. `IBM`, `IFX`, `STM`).
    pub manufacturer: String,
    /// TPM_PT_VENDOR_STRING_1..4, concatenated.
    pub vendor: String,
    /// TPM_PT_FIRMWARE_VERSION_1 and _2.
    pub firmware: (u32, u32),
}

/// Reads the identity properties (TPM 2.0 Part 2 §6.13, TPM_PT_MANUFACTURER and on).
pub fn identity(tpm: &mut Tpm) -> anyhow::Result<TpmIdentity> {
    let mut prop = |tag: PropertyTag| -> anyhow::Result<u32> {
        let tcti = tpm.tcti().clone();
        tpm.ctx()
            .get_tpm_property(tag)
            .map_err(|e| super::refused(&tcti, "GetCapability", e))
            .map(|v| v.unwrap_or(0))
    };
    let manufacturer = ascii(prop(PropertyTag::Manufacturer)?);
    let mut vendor = String::new();
    for tag in [
        PropertyTag::VendorString1,
        PropertyTag::VendorString2,
        PropertyTag::VendorString3,
        PropertyTag::VendorString4,
    ] {
        vendor.push_str(&ascii(prop(tag)?));
    }
    let firmware = (
        prop(PropertyTag::FirmwareVersion1)?,
        prop(PropertyTag::FirmwareVersion2)?,
    );
    Ok(TpmIdentity {
        manufacturer,
        vendor,
        firmware,
    })
}

/// A TPM property holding up to four ASCII characters, big-endian, NUL-padded.
fn ascii(v: u32) -> String {
    v.to_be_bytes()
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ')
        .map(|&b| char::from(b))
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ascii_property() {
        assert_eq!(ascii(0x4942_4D00), "IBM");
        assert_eq!(ascii(0x4946_5800), "IFX");
    }
}
