//! PEM text (RFC 7468), read the lax way of §3: any line length, CRLF or LF,
//! whitespace inside the base64, text between blocks ignored. Real vendor files need
//! it (the strict decoder refuses several files of the TPM root collections).

use base64::Engine as _;

use super::error::ChainError;

/// At most this many blocks in one text.
const MAX_BLOCKS: usize = 1024;

/// One PEM block: its label (`CERTIFICATE`, `PUBLIC KEY`…) and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub label: String,
    pub der: Vec<u8>,
}

/// Every block of `text`, in order.
pub fn blocks(text: &[u8]) -> Result<Vec<Block>, ChainError> {
    let err = |detail: String| ChainError::Pem { detail };
    let text = std::str::from_utf8(text).map_err(|_| err("the text is not UTF-8".to_owned()))?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        if out.len() >= MAX_BLOCKS {
            return Err(err(format!("more than {MAX_BLOCKS} PEM blocks")));
        }
        let after = rest.get(start.saturating_add(11)..).unwrap_or_default();
        let (label, body) = after
            .split_once("-----")
            .ok_or_else(|| err("a BEGIN line is not closed by '-----'".to_owned()))?;
        let end_marker = format!("-----END {label}-----");
        let (b64, tail) = body
            .split_once(&end_marker)
            .ok_or_else(|| err(format!("the {label} block has no END line")))?;
        let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| err(format!("the {label} block is not base64: {e}")))?;
        out.push(Block {
            label: label.to_owned(),
            der,
        });
        rest = tail;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lax_pem() {
        let text = b"junk\r\n-----BEGIN CERTIFICATE-----\r\nAQID\r\nBA==\r\n-----END CERTIFICATE-----\r\nmore\n-----BEGIN PUBLIC KEY-----\nBQY=\n-----END PUBLIC KEY-----\n";
        let b = blocks(text).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].label.as_str(), &b[0].der[..]),
            ("CERTIFICATE", &[1, 2, 3, 4][..])
        );
        assert_eq!(b[1].der, vec![5, 6]);
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----").is_err());
        assert!(blocks(b"no pem").unwrap().is_empty());
    }
}
