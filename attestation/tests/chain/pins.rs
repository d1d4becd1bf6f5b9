//! The built-in pin table (`attestation/src/roots/pinned.rs`) is derived from the
//! self-signed roots in `../shared/vectors/tpm-roots`; these tests regenerate it and
//! check that the committed table is exactly that.

use std::collections::BTreeMap;

use cerd_attestation::chain::Certificate;
use cerd_attestation::roots::PINNED;

use super::corpus;

/// Who operates a root, from its subject. A root nobody is named for fails the
/// generator: name its vendor here first.
fn vendor(subject: &str) -> &'static str {
    const VENDORS: &[(&str, &str)] = &[
        ("O=Google LLC", "Google GCE"),
        ("CN=Azure Virtual TPM", "Azure vTPM"),
        ("CN=Microsoft RSA Devices Root CA 2021", "Azure vTPM"),
        ("O=Microsoft Corporation", "Microsoft"),
        ("O=Infineon Technologies AG", "Infineon"),
        (
            "CN=VeriSign Trusted Platform Module Root CA",
            "Infineon (VeriSign)",
        ),
        ("O=GlobalSign", "STMicro (GlobalSign)"),
        ("O=STMicroelectronics NV", "STMicro"),
        ("O=Nuvoton Technology Corporation", "Nuvoton"),
        ("O=Intel Corporation", "Intel"),
        ("CN=AMDTPM", "AMD fTPM"),
        ("O=Advanced Micro Devices", "AMD"),
        ("O=Atmel", "Atmel"),
        ("O=Nationz Technologies", "Nations Technologies"),
        ("O=Nations Technologies", "Nations Technologies"),
        ("O=NSING Technologies", "Nations Technologies (NSING)"),
        ("O=Qualcomm Technologies", "Qualcomm"),
    ];
    VENDORS
        .iter()
        .find(|(needle, _)| subject.contains(needle))
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no vendor named for root '{subject}': add it to VENDORS"))
}

/// Per distinct root key (SPKI SHA-256 hex): vendor, subject, the files holding it.
type Roots = BTreeMap<String, (&'static str, String, Vec<String>)>;

fn roots_of_the_vectors() -> Option<Roots> {
    let v = super::vectors()?;
    let mut out = Roots::new();
    for (name, der) in corpus(&v) {
        let c = Certificate::from_der(&der).unwrap();
        // A root: self-issued and its own signature verifies (SHA-1 allowed here:
        // old roots sign themselves with it, and the self-signature of an anchor
        // carries no trust either way).
        if !c.is_self_issued() || c.verify_signed_by(&c, true).is_err() {
            continue;
        }
        let subject = c.subject_text();
        let entry = out
            .entry(hex::encode(c.spki_sha256()))
            .or_insert_with(|| (vendor(&subject), subject.clone(), Vec::new()));
        entry.2.push(name);
    }
    Some(out)
}

/// Prints `attestation/src/roots/pinned.rs`. Regenerate with:
///
/// ```text
/// cargo test -p cerd-attestation --test chain print_pinned_table -- --ignored --nocapture \
///   | sed -n '/^\/\/ BEGIN pinned.rs$/,/^\/\/ END pinned.rs$/p' | sed '1d;$d' \
///   > attestation/src/roots/pinned.rs
/// ```
#[test]
#[ignore = "generator: prints the pin table"]
fn print_pinned_table() {
    let Some(roots) = roots_of_the_vectors() else {
        return;
    };
    let mut rows: Vec<_> = roots.into_iter().collect();
    rows.sort_by(|a, b| (a.1 .0, &a.1 .1).cmp(&(b.1 .0, &b.1 .1)));
    let mut out = String::new();
    out.push_str(
        "//! Built-in vendor roots, pinned by SHA-256 of their SubjectPublicKeyInfo DER.\n",
    );
    out.push_str("//!\n");
    out.push_str(
        "//! GENERATED from every self-signed certificate (its own signature verifies) in\n",
    );
    out.push_str(
        "//! `../shared/vectors/tpm-roots` (keylime's tpm_cert_store, Microsoft's TrustedTpm.cab\n",
    );
    out.push_str(
        "//! of 2024-11-21, AMD fTPM AIA roots, tpm-ca-certificates, go-tpm-tools and the Azure\n",
    );
    out.push_str(
        "//! vTPM roots; sources in that folder's INDEX.md). The certificates stay there; only\n",
    );
    out.push_str("//! these fingerprints are copied. Regenerate with:\n");
    out.push_str("//!\n");
    out.push_str("//! ```text\n");
    out.push_str("//! cargo test -p cerd-attestation --test chain print_pinned_table -- --ignored --nocapture \\\n");
    out.push_str(
        "//!   | sed -n '/^\\/\\/ BEGIN pinned.rs$/,/^\\/\\/ END pinned.rs$/p' | sed '1d;$d' \\\n",
    );
    out.push_str("//!   > attestation/src/roots/pinned.rs\n");
    out.push_str("//! ```\n");
    out.push_str("//!\n");
    out.push_str(
        "//! `tests/chain.rs` (`pinned_table_is_the_roots_of_the_vectors`) fails when this table\n",
    );
    out.push_str("//! and the vectors disagree.\n\n");
    out.push_str("use super::{hex32, Pin};\n\n");
    out.push_str(&format!(
        "/// The {} pinned roots, by vendor.\n",
        rows.len()
    ));
    out.push_str("pub const PINNED: &[Pin] = &[\n");
    for (spki, (vendor, subject, files)) in &rows {
        for f in files.iter().take(1) {
            out.push_str(&format!("    // {f}\n"));
        }
        out.push_str(&format!(
            "    Pin {{\n        vendor: {vendor:?},\n        subject: {subject:?},\n        spki_sha256: hex32(\"{spki}\"),\n    }},\n"
        ));
    }
    out.push_str("];\n");
    println!("// BEGIN pinned.rs\n{out}// END pinned.rs");
}

#[test]
fn pinned_table_is_the_roots_of_the_vectors() {
    let _ = vectors_or_skip!();
    let roots = roots_of_the_vectors().unwrap();
    let committed: BTreeMap<String, (&str, &str)> = PINNED
        .iter()
        .map(|p| (hex::encode(p.spki_sha256), (p.vendor, p.subject)))
        .collect();
    assert_eq!(committed.len(), PINNED.len(), "a key is pinned twice");
    let computed: BTreeMap<String, (&str, &str)> = roots
        .iter()
        .map(|(k, (v, s, _))| (k.clone(), (*v, s.as_str())))
        .collect();
    assert_eq!(
        committed, computed,
        "attestation/src/roots/pinned.rs is not the table of the vectors' roots: regenerate it (see print_pinned_table)"
    );
    // Every vendor the issue names has at least one pin.
    for vendor in [
        "Infineon",
        "STMicro (GlobalSign)",
        "STMicro",
        "Nuvoton",
        "Intel",
        "AMD fTPM",
        "Microsoft",
        "Google GCE",
        "Azure vTPM",
    ] {
        assert!(
            PINNED.iter().any(|p| p.vendor == vendor),
            "no pin for {vendor}"
        );
    }
}
