//! `cer ca …` (the attestation CA) and `cer tpm enroll-request | activate`, against real
//! swtpms, tpm2-tools and openssl. Refusals exit 1 with one line; malformed input or
//! bad usage exits 2.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::util::{cer, TestDir};

/// Runs an external tool, asserting it succeeds; returns stdout.
#[allow(dead_code)]
fn tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn ca_init_makes_a_ca_with_a_0600_key_and_refuses_twice() {
    let t = TestDir::new();
    let dir = t.path("ca");
    cer([
        "ca",
        "init",
        "--dir",
        p(&dir),
        "--name",
        "Example Org AK CA",
    ])
    .expect(0);
    let mode = std::fs::metadata(dir.join("ca-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "key mode {mode:o}");
    let key = std::fs::read_to_string(dir.join("ca-key.pem")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
    let text = tool(
        "openssl",
        &[
            "x509",
            "-in",
            p(&dir.join("ca-cert.pem")),
            "-noout",
            "-text",
        ],
    );
    for want in [
        "Issuer: CN = Example Org AK CA",
        "Subject: CN = Example Org AK CA",
        "X509v3 Basic Constraints: critical\n                CA:TRUE",
        "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
        "ecdsa-with-SHA256",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Self-signed and valid.
    tool(
        "openssl",
        &[
            "verify",
            "-CAfile",
            p(&dir.join("ca-cert.pem")),
            p(&dir.join("ca-cert.pem")),
        ],
    );

    let before = std::fs::read(dir.join("ca-key.pem")).unwrap();
    let run = cer(["ca", "init", "--dir", p(&dir)]).expect(2);
    assert!(
        run.one_error_line().contains("already holds a CA"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(dir.join("ca-key.pem")).unwrap(), before);

    // P-384 variant.
    cer(["ca", "init", "--dir", p(&t.path("ca384")), "--p384"]).expect(0);
    let text = tool(
        "openssl",
        &[
            "x509",
            "-in",
            p(&t.path("ca384/ca-cert.pem")),
            "-noout",
            "-text",
        ],
    );
    assert!(
        text.contains("ecdsa-with-SHA384") && text.contains("NIST CURVE: P-384"),
        "{text}"
    );
}

#[test]
fn malformed_requests_and_responses_are_bad_input() {
    let t = TestDir::new();
    let dir = t.path("ca");
    cer(["ca", "init", "--dir", p(&dir)]).expect(0);
    for (body, needle) in [
        ("{", "the request is not valid"),
        (r#"{"format":"cerd-enroll-request/1"}"#, "missing field"),
        (
            r#"{"format":"other/1","ekCertificates":[],"ekChain":[],"ekPublic":"","akPublic":"","akName":"","tpm":{"manufacturer":"","vendor":"","firmware":[0,0]}}"#,
            "has format \"other/1\"",
        ),
        (
            r#"{"format":"cerd-enroll-request/1","ekCertificates":["!!"],"ekChain":[],"ekPublic":"","akPublic":"","akName":"","tpm":{"manufacturer":"","vendor":"","firmware":[0,0]}}"#,
            "field ekCertificates[0]: not base64",
        ),
        (
            r#"{"format":"cerd-enroll-request/1","ekCertificates":["MAA="],"ekChain":[],"ekPublic":"","akPublic":"","akName":"","tpm":{"manufacturer":"","vendor":"","firmware":[0,0]}}"#,
            "field ekCertificates[0]: not an X.509 certificate",
        ),
    ] {
        let req = t.write("req.json", body);
        let run = cer(["ca", "challenge", "--dir", p(&dir), p(&req)]).expect(2);
        assert!(
            run.one_error_line().contains(needle),
            "{needle:?} not in {}",
            run.stderr
        );
    }
    assert!(std::fs::read_dir(dir.join("pending"))
        .unwrap()
        .next()
        .is_none());

    let id = "0b0e4f52-8f1c-4c39-9f0e-111111111111";
    for (body, code, needle) in [
        (
            r#"{"format":"cerd-enroll-response/1","id":"../../ca-key","credential":"AAAA"}"#
                .to_owned(),
            2,
            "field id: not a lowercase hyphenated UUID",
        ),
        (
            format!(r#"{{"format":"cerd-enroll-response/1","id":"{id}","credential":"A"}}"#),
            2,
            "field credential: not base64",
        ),
        (
            format!(
                r#"{{"format":"cerd-enroll-response/1","id":"{id}","credential":"AAAA","x":1}}"#
            ),
            2,
            "unknown field `x`",
        ),
        (
            format!(r#"{{"format":"cerd-enroll-response/1","id":"{id}","credential":"AAAA"}}"#),
            1,
            "no open challenge",
        ),
    ] {
        let resp = t.write("resp.json", body);
        let run = cer([
            "ca",
            "issue",
            "--dir",
            p(&dir),
            p(&resp),
            "-o",
            p(&t.path("ak.pem")),
        ])
        .expect(code);
        assert!(
            run.one_error_line().contains(needle),
            "{needle:?} not in {}",
            run.stderr
        );
    }
    assert!(!t.path("ak.pem").exists());
    let run = cer([
        "ca",
        "issue",
        "--dir",
        p(&t.path("nothing")),
        p(&t.path("resp.json")),
    ])
    .expect(2);
    assert!(run.one_error_line().contains("no CA in"), "{}", run.stderr);
}

#[cfg(feature = "tpm")]
mod enroll;
#[cfg(feature = "tpm")]
mod interop;
#[cfg(feature = "tpm")]
mod refusals;
#[cfg(feature = "tpm")]
mod support;
