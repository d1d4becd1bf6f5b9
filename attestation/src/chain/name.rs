//! Distinguished names (RFC 5280 §4.1.2.4) and their comparison (§7.1).
//!
//! A name is kept exactly as encoded. Two names match when their encodings are equal,
//! or when they are equal after the preparation RFC 5280 §7.1 asks for, reduced to
//! what real TPM chains need: each RDN's attributes as a set (Nuvoton roots list a
//! multi-valued RDN out of DER order), directory strings compared by their text
//! whatever the string type (STMicro's ECC intermediates name their issuer with
//! UTF8String, the issuer's own certificate spells its subject with PrintableString),
//! case-insensitively, with outer spaces trimmed and inner runs of spaces collapsed
//! (RFC 4518 §2.6, without its Unicode mapping tables).

use der::Decode as _;

use super::der::{children, tag, Tlv};

const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const TELETEX_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const UNIVERSAL_STRING: u8 = 0x1c;
const BMP_STRING: u8 = 0x1e;

/// One attribute, prepared: the OID's bytes and the value's text (or `#` and the hex
/// of the whole TLV for a value that is not a directory string).
type Prepared = Vec<Vec<(Vec<u8>, String)>>;

/// A distinguished name as it appears in a certificate, with its prepared form and its
/// RFC 4514 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    raw: Vec<u8>,
    /// None when the name does not decode: it then matches only its exact bytes.
    prepared: Option<Prepared>,
    text: String,
}

impl Name {
    pub(crate) fn from_tlv(tlv: &Tlv<'_>) -> Self {
        let raw = tlv.raw.to_vec();
        let text = match x509_cert::name::Name::from_der(&raw) {
            Ok(name) => name.to_string(),
            Err(_) => format!("(undecodable name of {} bytes)", raw.len()),
        };
        Self {
            prepared: prepare(tlv),
            text,
            raw,
        }
    }

    /// The Name TLV exactly as in the certificate.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Equal as encoded, or equal once prepared (see the module documentation).
    pub fn matches(&self, other: &Self) -> bool {
        self.raw == other.raw
            || matches!((&self.prepared, &other.prepared), (Some(a), Some(b)) if a == b)
    }

    /// True for the empty name (`SEQUENCE {}`), as in TPM EK certificates.
    pub fn is_empty(&self) -> bool {
        self.raw == [tag::SEQUENCE, 0]
    }

    /// The RFC 4514 text, `(empty subject)` for an empty name.
    pub fn text(&self) -> String {
        if self.is_empty() {
            "(empty subject)".to_owned()
        } else {
            self.text.clone()
        }
    }
}

/// Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET OF
/// AttributeTypeAndValue; AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }.
fn prepare(name: &Tlv<'_>) -> Option<Prepared> {
    let mut rdns = children(name, "name");
    let mut out = Vec::new();
    while !rdns.is_empty() {
        let rdn = rdns.expect(tag::SET, "RelativeDistinguishedName").ok()?;
        let mut atvs = children(&rdn, "name");
        let mut set = Vec::new();
        while !atvs.is_empty() {
            let atv = atvs.expect(tag::SEQUENCE, "AttributeTypeAndValue").ok()?;
            let mut r = children(&atv, "name");
            let oid = r.expect(tag::OID, "attribute type").ok()?;
            let value = r.next().ok()?;
            r.finish().ok()?;
            let text = match directory_string(&value) {
                Some(s) => prepare_string(&s),
                None => format!("#{}", hex::encode(value.raw)),
            };
            set.push((oid.content.to_vec(), text));
        }
        set.sort();
        out.push(set);
    }
    Some(out)
}

/// The text of a DirectoryString (X.520) value, or of an IA5String.
fn directory_string(value: &Tlv<'_>) -> Option<String> {
    match value.tag {
        UTF8_STRING | PRINTABLE_STRING | IA5_STRING => {
            std::str::from_utf8(value.content).ok().map(str::to_owned)
        }
        // T.61 in theory; in practice Latin-1.
        TELETEX_STRING => Some(value.content.iter().map(|b| char::from(*b)).collect()),
        BMP_STRING => {
            let units: Vec<u16> = value
                .content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c.first().copied()?, c.get(1).copied()?]).into())
                .collect::<Option<Vec<u16>>>()?;
            if value.content.len() % 2 != 0 {
                return None;
            }
            String::from_utf16(&units).ok()
        }
        UNIVERSAL_STRING => {
            if value.content.len() % 4 != 0 {
                return None;
            }
            value
                .content
                .chunks_exact(4)
                .map(|c| {
                    let bytes: [u8; 4] = c.try_into().ok()?;
                    char::from_u32(u32::from_be_bytes(bytes))
                })
                .collect()
        }
        _ => None,
    }
}

/// Case folded, outer spaces trimmed, inner whitespace runs collapsed to one space.
fn prepare_string(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::super::der::Reader;
    use super::*;

    fn name(der: &[u8]) -> Name {
        let mut r = Reader::new(der, "t");
        Name::from_tlv(&r.next().unwrap())
    }

    /// `SEQUENCE { SET { SEQUENCE { 2.5.4.3, <string> } } }`.
    fn cn(string_tag: u8, text: &[u8]) -> Vec<u8> {
        let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, string_tag, text.len() as u8];
        atv.extend_from_slice(text);
        let mut seq = vec![0x30, atv.len() as u8];
        seq.extend(atv);
        let mut set = vec![0x31, seq.len() as u8];
        set.extend(seq);
        let mut name = vec![0x30, set.len() as u8];
        name.extend(set);
        name
    }

    #[test]
    fn string_types_case_and_spaces() {
        let a = name(&cn(UTF8_STRING, b"STM TPM  Root"));
        let b = name(&cn(PRINTABLE_STRING, b" stm tpm root "));
        let c = name(&cn(BMP_STRING, b"\0S\0T\0M\0 \0T\0P\0M\0 \0R\0o\0o\0t"));
        let d = name(&cn(PRINTABLE_STRING, b"STM TPM Roots"));
        assert!(a.matches(&b) && b.matches(&c) && a.matches(&c));
        assert!(!a.matches(&d));
        assert_eq!(a.text(), "CN=STM TPM  Root");
        assert!(name(&[0x30, 0x00]).is_empty());
        assert_eq!(name(&[0x30, 0x00]).text(), "(empty subject)");
    }

    #[test]
    fn undecodable_names_match_only_themselves() {
        let bad = [0x30, 0x03, 0x31, 0x01, 0x00];
        let n = name(&bad);
        assert!(n.prepared.is_none());
        assert!(n.matches(&name(&bad)));
        assert!(!n.matches(&name(&[0x30, 0x00])));
    }
}
