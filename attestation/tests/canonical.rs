#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]
//! RFC 8785 (JCS) canonical form, checked four ways: against hard-coded expected
//! strings (from RFC 8785 and ECMA-262, confirmed with Node's `JSON.stringify`), against
//! an independent canonicalizer written from the RFC (`support/jcs.rs`, no shared code
//! with the library or `ryu-js`) on fixed and random values, against
//! `serde_json_canonicalizer` on random values, and against golden vectors from two
//! third-party Python implementations (`data/jcs-vectors.json`, see
//! `data/gen_jcs_vectors.py`).

#[path = "support/jcs.rs"]
mod jcs;

use cerd_attestation::{canonical, json, record, verify};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// The library's canonical text of `value`.
fn library(value: &Value) -> String {
    String::from_utf8(canonical::to_bytes(value).unwrap()).unwrap()
}

/// Parses `text` with the library's strict parser and canonicalizes it both ways;
/// both must give `expected`.
fn check(text: &str, expected: &str) {
    let value = json::parse(text.as_bytes()).unwrap();
    assert_eq!(library(&value), expected, "library, input {text:?}");
    assert_eq!(
        jcs::canonicalize(&value),
        expected,
        "independent, input {text:?}"
    );
}

/// Number spellings and their RFC 8785 §3.2.2.3 form.
const NUMBERS: &[(&str, &str)] = &[
    ("0", "0"),
    ("-0", "0"),
    ("-0.0", "0"),
    ("0.0", "0"),
    ("0e10", "0"),
    ("0.1", "0.1"),
    ("0.10", "0.1"),
    ("-0.1", "-0.1"),
    ("0.3", "0.3"),
    ("1", "1"),
    ("1.0", "1"),
    ("100", "100"),
    ("1e2", "100"),
    ("12e-1", "1.2"),
    ("1.5", "1.5"),
    ("4.35", "4.35"),
    ("4.50", "4.5"),
    ("2e-3", "0.002"),
    ("1e21", "1e+21"),
    ("1E21", "1e+21"),
    ("1e+21", "1e+21"),
    ("-1e21", "-1e+21"),
    ("1e20", "100000000000000000000"),
    ("1e16", "10000000000000000"),
    ("1.2345e20", "123450000000000000000"),
    ("1e22", "1e+22"),
    ("1E30", "1e+30"),
    ("1e300", "1e+300"),
    ("5e-324", "5e-324"),
    ("-5e-324", "-5e-324"),
    ("1e-7", "1e-7"),
    ("-1e-7", "-1e-7"),
    ("1.5e-7", "1.5e-7"),
    ("0.000001", "0.000001"),
    ("1e-6", "0.000001"),
    ("0.5e-6", "5e-7"),
    ("123e-20", "1.23e-18"),
    ("0.000000000000000000000000001", "1e-27"),
    ("123456789012345680000", "123456789012345680000"),
    ("9007199254740992", "9007199254740992"),
    ("9007199254740992.0", "9007199254740992"),
    ("9007199254740991", "9007199254740991"),
    ("-9007199254740991", "-9007199254740991"),
    ("-9007199254740992", "-9007199254740992"),
    // Above 2^53 an integer is the nearest double, as JSON.parse reads it.
    ("9007199254740993", "9007199254740992"),
    ("9007199254740995", "9007199254740996"),
    ("295147905179352825856", "295147905179352830000"),
    ("18446744073709551615", "18446744073709552000"),
    ("-9223372036854775808", "-9223372036854776000"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("-1.7976931348623157e308", "-1.7976931348623157e+308"),
    ("2.2250738585072014e-308", "2.2250738585072014e-308"),
    ("2.225073858507201e-308", "2.225073858507201e-308"),
    ("333333333.33333329", "333333333.3333333"),
    ("1424953923781206.25", "1424953923781206.2"),
    // Exactly 200000000000000.625: of the two equally close 17-digit forms, the even
    // one (std's shortest `{:e}` gives the odd one; found by the proptest below).
    ("200000000000000.61", "200000000000000.62"),
    ("200000000000000.625", "200000000000000.62"),
];

#[test]
fn number_table() {
    for (text, expected) in NUMBERS {
        check(text, expected);
        check(&format!("[{text}]"), &format!("[{expected}]"));
    }
}

/// RFC 8785 Appendix B: IEEE 754 bit patterns and their expected serialization.
const APPENDIX_B: &[(u64, &str)] = &[
    (0x0000_0000_0000_0000, "0"),
    (0x8000_0000_0000_0000, "0"),
    (0x0000_0000_0000_0001, "5e-324"),
    (0x8000_0000_0000_0001, "-5e-324"),
    (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
    (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
    (0x4340_0000_0000_0000, "9007199254740992"),
    (0xc340_0000_0000_0000, "-9007199254740992"),
    (0x4430_0000_0000_0000, "295147905179352830000"),
    (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
    (0x44b5_2d02_c7e1_4af6, "1e+23"),
    (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
    (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
    (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
    (0x444b_1ae4_d6e2_ef50, "1e+21"),
    (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
    (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
    (0x41b3_de43_5555_5553, "333333333.3333332"),
    (0x41b3_de43_5555_5554, "333333333.33333325"),
    (0x41b3_de43_5555_5555, "333333333.3333333"),
    (0x41b3_de43_5555_5556, "333333333.3333334"),
    (0x41b3_de43_5555_5557, "333333333.33333343"),
    (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
    (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
];

#[test]
fn rfc8785_appendix_b_numbers() {
    for (bits, expected) in APPENDIX_B {
        let f = f64::from_bits(*bits);
        let value = Value::Number(Number::from_f64(f).unwrap());
        assert_eq!(library(&value), *expected, "library, bits {bits:#018x}");
        assert_eq!(
            jcs::es_number_to_string(f),
            *expected,
            "independent, bits {bits:#018x}"
        );
    }
}

#[test]
fn integers_of_every_width_are_doubles() {
    // i64/u64 values (what serde_json makes of integer text) go through the double.
    for (value, expected) in [
        (Value::from(1u64 << 53), "9007199254740992"),
        (Value::from((1u64 << 53) + 1), "9007199254740992"),
        (Value::from(-(1i64 << 53)), "-9007199254740992"),
        (Value::from(u64::MAX), "18446744073709552000"),
        (Value::from(i64::MIN), "-9223372036854776000"),
        (Value::from(i64::MAX), "9223372036854776000"),
        (Value::from(-0.0f64), "0"),
    ] {
        assert_eq!(library(&value), expected);
        assert_eq!(jcs::canonicalize(&value), expected);
    }
}

#[test]
fn every_control_character_and_the_escapes() {
    let controls: String = (0u32..0x20).map(|c| char::from_u32(c).unwrap()).collect();
    let expected = concat!(
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r",
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018",
        "\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""
    );
    let value = Value::String(controls);
    assert_eq!(library(&value), expected);
    assert_eq!(jcs::canonicalize(&value), expected);

    // Only `"` and `\` are escaped outside the controls; `/`, DEL, U+2028/U+2029, BOM,
    // and every non-ASCII character are written raw, whatever the input spelling.
    check(
        r#""\" \\ / \/ \u007f \u2028 \u2029 \ufeff \uffff""#,
        "\"\\\" \\\\ / / \u{7f} \u{2028} \u{2029} \u{feff} \u{ffff}\"",
    );
    check(
        r#""caf\u00e9 \u65e5\u672c\u8a9e \ud83d\ude00 \uD83D\uDE00""#,
        "\"caf\u{e9} \u{65e5}\u{672c}\u{8a9e} \u{1f600} \u{1f600}\"",
    );
    check(
        "\"caf\u{e9} \u{65e5}\u{672c}\u{8a9e} \u{1f600}\"",
        "\"caf\u{e9} \u{65e5}\u{672c}\u{8a9e} \u{1f600}\"",
    );
    // Escapes written in upper case or long form come out in the short or lower form.
    check(
        r#""\u000A\u000d\u0008\u000C\u0009\u001F\u001b""#,
        r#""\n\r\b\f\t\u001f\u001b""#,
    );
    check(r#""""#, r#""""#);
}

#[test]
fn keys_sort_by_utf16_code_units() {
    // U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB01 although its code
    // point is larger; the empty key sorts first; upper case before lower case.
    check(
        r#"{"z":1,"\ufb01":2,"\ud83d\ude00":3,"":4,"a":5,"\u00e9":6,"\u007f":7,"aa":8,"A":9}"#,
        "{\"\":4,\"A\":9,\"a\":5,\"aa\":8,\"z\":1,\"\u{7f}\":7,\"\u{e9}\":6,\"\u{1f600}\":3,\"\u{fb01}\":2}",
    );
    // Code-point (UTF-8 byte) order would put U+FB01 first: make sure neither side does.
    let value = serde_json::json!({"\u{fb01}": 1, "\u{1f600}": 2, "\u{e000}": 3, "\u{10000}": 4});
    let expected = "{\"\u{10000}\":4,\"\u{1f600}\":2,\"\u{e000}\":3,\"\u{fb01}\":1}";
    assert_eq!(library(&value), expected);
    assert_eq!(jcs::canonicalize(&value), expected);
}

#[test]
fn rfc8785_section_3_2_3_sorting_example() {
    check(
        r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#,
        concat!(
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",",
            "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",",
            "\"\u{1f600}\":\"Emoji: Grinning Face\",",
            "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        ),
    );
}

#[test]
fn rfc8785_section_3_2_4_example() {
    check(
        r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#,
        concat!(
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,"#,
            r#"1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        ),
    );
}

#[test]
fn nesting_and_whitespace() {
    check(
        " \n\t{ \"b\" :\r\n [ [ ] , { } , [ { \"y\" : null , \"x\" : [ true , false ] } ] ] ,\t\"a\" : { \"c\" : { \"d\" : [ 1e21 , -0.0 , \"\\t\" ] } } }\n ",
        r#"{"a":{"c":{"d":[1e+21,0,"\t"]}},"b":[[],{},[{"x":[true,false],"y":null}]]}"#,
    );
}

// ---------------------------------------------------------------------------------
// Golden vectors from rfc8785 0.1.4 and jcs 0.2.1 (Python), see data/gen_jcs_vectors.py.
// ---------------------------------------------------------------------------------

const VECTORS: &str = include_str!("data/jcs-vectors.json");

#[test]
fn third_party_vectors() {
    let vectors: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
    assert!(vectors.len() >= 40, "only {} vectors", vectors.len());
    let mut names = std::collections::BTreeSet::new();
    let mut bundles = 0;
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        assert!(names.insert(name), "duplicate vector name {name}");
        let input = v["input"].as_str().unwrap();
        let expected = v["canonical"].as_str().unwrap();
        let sha256 = v["sha256"].as_str().unwrap();
        assert_eq!(
            jcs::sha256_hex(expected.as_bytes()),
            sha256,
            "{name}: vector file"
        );

        let value = json::parse(input.as_bytes()).unwrap();
        let bytes = canonical::to_bytes(&value).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            expected,
            "{name}: library bytes"
        );
        assert_eq!(
            canonical::digest(&value).unwrap().to_hex(),
            sha256,
            "{name}: library hash"
        );
        assert_eq!(
            jcs::canonicalize(&value),
            expected,
            "{name}: independent bytes"
        );

        if v.get("bundle") == Some(&Value::Bool(true)) {
            // The input is a bundle's hashed object: with the third party's hash as
            // certificateHash it is a valid sealed bundle.
            bundles += 1;
            let mut bundle = value.clone();
            bundle
                .as_object_mut()
                .unwrap()
                .insert("certificateHash".into(), format!("sha256:{sha256}").into());
            assert_eq!(
                record::certificate_hash(&bundle).unwrap().to_hex(),
                sha256,
                "{name}: certificateHash"
            );
            let verdict = verify::verify_value(&bundle);
            assert!(verdict.valid, "{name}: {:?}", verdict.checks);
            assert_eq!(verdict.reasons, vec![], "{name}");
        }
    }
    assert!(bundles >= 3, "only {bundles} bundle vectors");
}

// ---------------------------------------------------------------------------------
// Random values: library == independent, and canonical output is a fixed point.
// ---------------------------------------------------------------------------------

fn arb_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        2 => prop::sample::select(vec![
            '"', '\\', '/', '\u{7f}', '\u{80}', '\u{e9}', '\u{2028}', '\u{2029}', '\u{d7ff}',
            '\u{e000}', '\u{fb01}', '\u{feff}', '\u{ffff}', '\u{10000}', '\u{1f600}',
            '\u{10ffff}',
        ]),
        3 => prop::char::range('a', 'e'),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop::collection::vec(arb_char(), 0..10).prop_map(|chars| chars.into_iter().collect())
}

/// Doubles from the full bit space (every exponent, subnormals, -0), integers of
/// every width, and short decimal mantissas with exponents near the form boundaries.
fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        4 => any::<u64>().prop_filter_map("finite", |bits| Number::from_f64(f64::from_bits(bits))),
        1 => any::<i64>().prop_map(Number::from),
        1 => any::<u64>().prop_map(Number::from),
        2 => (-(1i64 << 53)..=(1i64 << 53)).prop_map(Number::from),
        2 => (any::<i32>(), -30i32..30).prop_filter_map("finite", |(m, e)| {
            Number::from_f64(format!("{m}e{e}").parse().unwrap())
        }),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number().prop_map(Value::Number),
        arb_string().prop_map(Value::String),
    ];
    // Depth at most 6 (the leaf level plus five levels of containers).
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_string(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Cases per property; the two properties below run in about a second together in a
/// debug build (dependencies are optimized, see the workspace profile).
const CASES: u32 = 4096;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn library_equals_independent(value in arb_value()) {
        let lib = canonical::to_bytes(&value).unwrap();
        let ind = jcs::canonical_bytes(&value);
        prop_assert_eq!(
            String::from_utf8(lib.clone()).unwrap(),
            String::from_utf8(ind).unwrap()
        );
        // Idempotence: the canonical text parses (strictly) back to a value with the
        // same canonical text, and so the same digest.
        let reparsed = json::parse(&lib).unwrap();
        prop_assert_eq!(&canonical::to_bytes(&reparsed).unwrap(), &lib);
        prop_assert_eq!(canonical::digest(&reparsed).unwrap(), canonical::digest(&value).unwrap());
    }

    /// The library's own writer equals `serde_json_canonicalizer` (the implementation it
    /// replaced, now a test dependency) byte for byte.
    #[test]
    fn library_equals_serde_json_canonicalizer(value in arb_value()) {
        prop_assert_eq!(
            String::from_utf8(canonical::to_bytes(&value).unwrap()).unwrap(),
            serde_json_canonicalizer::to_string(&value).unwrap()
        );
    }

    #[test]
    fn number_text_equals_independent(
        neg in any::<bool>(),
        int in "(0|[1-9][0-9]{0,24})",
        frac in proptest::option::of("[0-9]{1,20}"),
        exp in proptest::option::of((prop::sample::select(vec!["e", "E"]),
            prop::sample::select(vec!["", "+", "-"]), 0u32..340)),
    ) {
        let mut text = String::new();
        if neg { text.push('-'); }
        text.push_str(&int);
        if let Some(f) = &frac { text.push('.'); text.push_str(f); }
        if let Some((e, sign, n)) = &exp { text.push_str(&format!("{e}{sign}{n}")); }
        // std's correctly rounded parse is the reference reading of the text.
        let f: f64 = text.parse().unwrap();
        if !f.is_finite() {
            // Beyond the double range: I-JSON (RFC 7493 §2.2) has no such number.
            prop_assert!(json::parse(text.as_bytes()).is_err(), "input {}", text);
            return Ok(());
        }
        let value = json::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(library(&value), jcs::es_number_to_string(f), "input {}", text);
        prop_assert_eq!(jcs::canonicalize(&value), jcs::es_number_to_string(f), "input {}", text);
    }
}
