//! An independent RFC 8785 (JCS) canonicalizer, written from the RFC for the tests.
//!
//! It shares no code with the library's canonicalizer (`serde_json_canonicalizer`,
//! `ryu-js`): numbers get their shortest round-trip digits from Rust std's `{:e}`
//! formatting and are laid out by a transcription of ECMA-262 Number::toString; strings
//! are escaped by a transcription of RFC 8785 §3.2.2.2; object members are sorted by
//! UTF-16 code units (RFC 8785 §3.2.3). Used by `canonical.rs` and `record.rs`.

#![allow(dead_code)]

use serde_json::{Number, Value};
use sha2::Digest as _;

/// The canonical form of `value` as text (RFC 8785 output is UTF-8).
pub fn canonicalize(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// The canonical UTF-8 bytes of `value`.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    canonicalize(value).into_bytes()
}

/// Lowercase hex SHA-256 of `bytes`, computed with `sha2` directly.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>` of the canonical bytes of `value`.
pub fn digest_string(value: &Value) -> String {
    format!("sha256:{}", sha256_hex(&canonical_bytes(value)))
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // RFC 8785 §3.2.3: sort by the UTF-16 code units of the (unescaped) names.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// RFC 8785 §3.2.2.2: escape `"`, `\` and U+0000..U+001F only; the five controls with
/// a two-character form use it, the others `\u00xx` with lowercase hex. Everything else,
/// `/` and non-ASCII included, is written as itself.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 8785 §3.2.2.3: a JSON number is the IEEE 754 double nearest to it, written as
/// ECMAScript writes it. Integers go through their decimal text and std's correctly
/// rounded `str::parse::<f64>`, as `JSON.parse` would read them.
pub fn number(n: &Number) -> String {
    let f: f64 = if n.is_f64() {
        n.as_f64().unwrap()
    } else {
        n.to_string().parse().unwrap()
    };
    es_number_to_string(f)
}

/// ECMA-262 Number::toString(x) in radix 10 (ES2015 §7.1.12.1), for finite `x`.
pub fn es_number_to_string(x: f64) -> String {
    assert!(x.is_finite(), "RFC 8785 has no form for {x}");
    // +0 and -0 are "0".
    if x == 0.0 {
        return "0".to_owned();
    }
    // Negative numbers are "-" followed by the positive form.
    if x < 0.0 {
        return format!("-{}", es_number_to_string(-x));
    }
    // The shortest digits s (k of them) and n with s × 10^(n−k) = x.
    let (digits, exp) = shortest_digits(x);
    let k = i32::try_from(digits.len()).unwrap();
    let n = exp + 1;
    if k <= n && n <= 21 {
        // k ≤ n ≤ 21: the k digits followed by n−k zeros.
        format!("{digits}{}", "0".repeat(usize::try_from(n - k).unwrap()))
    } else if 0 < n && n <= 21 {
        // 0 < n ≤ 21: the first n digits, a point, the remaining k−n digits.
        let (int, frac) = digits.split_at(usize::try_from(n).unwrap());
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        // −6 < n ≤ 0: "0." followed by −n zeros and the k digits.
        format!("0.{}{digits}", "0".repeat(usize::try_from(-n).unwrap()))
    } else {
        // Otherwise: d[.ddd]e±(n−1).
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        format!("{first}{point}{rest}e{sign}{}", (n - 1).abs())
    }
}

/// The digits s of Number::toString: the smallest k such that some k-digit
/// s × 10^(n−k) reads back as `x`; among several such s, the one closest to `x`, and
/// the even one of two equally close (ECMA-262's note on the choice of s, which the
/// RFC 8785 Appendix B vectors require). Returns the digits and n − 1.
///
/// std's shortest `{:e}` gives the smallest k, but not ECMAScript's choice among
/// k-digit candidates: for 1424953923781206.25 (exactly representable, RFC 8785
/// Appendix B) it prints `1.4249539237812063e15` where ECMAScript requires
/// `1424953923781206.2`, the even one of two equally close. So the digits are taken
/// from std's exact formatting with k significant digits (correctly rounded from the
/// exact binary value, ties to even), whenever that reads back as `x`.
fn shortest_digits(x: f64) -> (String, i32) {
    let shortest = format!("{x:e}");
    let (digits, exp) = split_sci(&shortest);
    let closest = format!("{x:.prec$e}", prec = digits.len() - 1);
    let (digits, exp) = if closest.parse::<f64>() == Ok(x) {
        split_sci(&closest)
    } else {
        (digits, exp)
    };
    assert!(
        digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
            && !digits.ends_with('0'),
        "not the shortest digits of {x:e}: {digits}e{exp}"
    );
    (digits, exp)
}

/// `d[.ddd]e<exp>` (std's `{:e}` form) to its digits and exponent.
fn split_sci(text: &str) -> (String, i32) {
    let (mantissa, exp) = text.split_once('e').unwrap();
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap())
}
