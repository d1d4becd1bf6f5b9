//! RFC 8785 JSON Canonicalization Scheme (JCS), the `jcs-v1` profile of CER.
//!
//! The serialization itself is `serde_json_canonicalizer` (a maintained RFC 8785
//! implementation: ECMAScript number formatting via `ryu-js`, properties sorted by UTF-16
//! code units, RFC 8785 §3.2.2.2 string escaping). This module only fixes the input
//! type and the error.

use serde_json::Value;

use crate::digest::Sha256Digest;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The serializer refused the value (e.g. a non-finite number).
    #[error("cannot canonicalize value: {message}")]
    Serialize {
        /// The serializer's message.
        message: String,
    },
}

/// The RFC 8785 canonical UTF-8 bytes of `value`.
///
/// Numbers are serialized as IEEE 754 doubles (RFC 8785 §3.2.2.3): an integer above
/// 2^53 is rounded exactly as JavaScript's `JSON.parse` would round it.
pub fn to_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError::Serialize {
        message: e.to_string(),
    })
}

/// SHA-256 of the canonical bytes of `value`.
pub fn digest(value: &Value) -> Result<Sha256Digest, CanonicalError> {
    to_bytes(value).map(|b| Sha256Digest::of(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        String::from_utf8(to_bytes(&crate::json::parse(text.as_bytes()).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_numbers() {
        assert_eq!(
            canon("[0.1, 1e21, 1e20, 5e-324, -0, -0.0, 9007199254740992, 1E-7, 0.000001]"),
            "[0.1,1e+21,100000000000000000000,5e-324,0,0,9007199254740992,1e-7,0.000001]"
        );
    }

    #[test]
    fn sorts_by_utf16_code_units_and_escapes_minimally() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16 order.
        assert_eq!(
            canon("{\"\u{fb01}\":1,\"\u{1f600}\":2,\"b\":\"\\u000f\\/\\n\u{e9}\"}"),
            "{\"b\":\"\\u000f/\\n\u{e9}\",\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
    }
}
