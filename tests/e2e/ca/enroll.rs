//! The whole enrollment against swtpm: request, challenge, activate, issue; and the
//! one-use rule.

use std::os::unix::fs::PermissionsExt as _;

use serde_json::Value;

use super::support::*;
use super::{p, tool};
use crate::util::{cer, Swtpm};

#[test]
fn full_enrollment_for_rsa_and_p384_eks_gives_a_verifiable_ak_certificate() {
    let tpm = Swtpm::start();
    let t = setup(&tpm);
    let ca = t.path("ca");
    let ak_pem = std::fs::read_to_string(t.path("ak.pem")).unwrap();
    for ek in ["rsa2048", "eccp384"] {
        let req = request(&tpm, &t, ek);
        let r = json(&req);
        assert_eq!(r["format"], "cerd-enroll-request/1");
        assert_eq!(r["ekCertificates"].as_array().unwrap().len(), 2, "{r}");
        let ch = t.path(&format!("ch-{ek}.json"));
        cer([
            "ca",
            "challenge",
            "--dir",
            p(&ca),
            p(&req),
            "--trust-swtpm-ca",
            &swtpm_ca(),
            "-o",
            p(&ch),
        ])
        .expect(0);
        let c = json(&ch);
        let pending = ca
            .join("pending")
            .join(format!("{}.json", c["id"].as_str().unwrap()));
        let mode = std::fs::metadata(&pending).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "pending mode {mode:o}");
        let resp = t.path(&format!("resp-{ek}.json"));
        cer([
            "tpm",
            "activate",
            "--tcti",
            &tpm.tcti(),
            p(&ch),
            "-o",
            p(&resp),
        ])
        .expect(0);
        no_transients(&tpm);
        let credential = b64d(json(&resp)["credential"].as_str().unwrap());
        assert_eq!(sha256_hex(&credential), json(&pending)["credentialSha256"]);
        let cert = t.path(&format!("ak-{ek}.pem"));
        cer(["ca", "issue", "--dir", p(&ca), p(&resp), "-o", p(&cert)]).expect(0);
        assert!(!pending.exists());

        let verify = tool(
            "openssl",
            &["verify", "-CAfile", p(&ca.join("ca-cert.pem")), p(&cert)],
        );
        assert!(verify.contains(": OK"), "{verify}");
        let text = tool("openssl", &["x509", "-in", p(&cert), "-noout", "-text"]);
        for want in [
            "Subject: CN = cerd AK 000b",
            "X509v3 Key Usage: critical\n                Digital Signature\n",
            "X509v3 Basic Constraints: critical\n                CA:FALSE",
            "DirName:/2.23.133.2.1=id:00001014/2.23.133.2.2=swtpm/2.23.133.2.3=id:20191023",
            "1.3.6.1.4.1.32473.6769.1:",
            "1.3.6.1.4.1.32473.6769.2:",
            "X509v3 Authority Key Identifier",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        // The certified key is the AK's key.
        let pubkey = tool("openssl", &["x509", "-in", p(&cert), "-noout", "-pubkey"]);
        assert_eq!(pubkey.trim(), ak_pem.trim());
        // The private extensions: SHA-256 of the EK certificate the CA checked, and the
        // AK's name.
        let ek_cert = r["ekCertificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| b64d(c.as_str().unwrap()))
            .find(|der| {
                let f = t.write("ek.der", der);
                let k = tool(
                    "openssl",
                    &["x509", "-inform", "der", "-in", p(&f), "-noout", "-text"],
                );
                k.contains(if ek == "rsa2048" {
                    "rsaEncryption"
                } else {
                    "P-384"
                })
            })
            .unwrap();
        let asn1 = tool("openssl", &["asn1parse", "-in", p(&cert)]);
        let after = |oid: &str| {
            let mut lines = asn1.lines().skip_while(|l| !l.contains(oid));
            lines.next().unwrap();
            lines
                .next()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_lowercase()
        };
        assert_eq!(
            after("32473.6769.1"),
            format!("0420{}", sha256_hex(&ek_cert))
        );
        assert_eq!(
            after("32473.6769.2"),
            format!("0422{}", r["akName"].as_str().unwrap())
        );

        // One use only.
        let run = cer([
            "ca",
            "issue",
            "--dir",
            p(&ca),
            p(&resp),
            "-o",
            p(&t.path("again.pem")),
        ])
        .expect(1);
        assert!(
            run.one_error_line().contains("was already used"),
            "{}",
            run.stderr
        );
    }
    // Serials: 1 is the CA, the AK certificates got 2 and 3.
    assert!(ca.join("issued/2.pem").exists() && ca.join("issued/3.pem").exists());
}

#[test]
fn a_wrong_credential_is_refused_and_uses_up_the_challenge() {
    let tpm = Swtpm::start();
    let t = setup(&tpm);
    let ca = t.path("ca");
    let req = request(&tpm, &t, "eccp384");
    let ch = t.path("ch.json");
    cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&req),
        "--trust-swtpm-ca",
        &swtpm_ca(),
        "-o",
        p(&ch),
    ])
    .expect(0);
    let resp = t.path("resp.json");
    cer([
        "tpm",
        "activate",
        "--tcti",
        &tpm.tcti(),
        p(&ch),
        "-o",
        p(&resp),
    ])
    .expect(0);
    let mut r = json(&resp);
    let mut cred = b64d(r["credential"].as_str().unwrap());
    cred[0] ^= 1;
    r["credential"] = Value::from(b64e(&cred));
    let tampered = t.path("tampered.json");
    write_json(&tampered, &r);
    let run = cer([
        "ca",
        "issue",
        "--dir",
        p(&ca),
        p(&tampered),
        "-o",
        p(&t.path("ak-cert.pem")),
    ])
    .expect(1);
    assert!(
        run.one_error_line()
            .contains("the credential in the response to challenge"),
        "{}",
        run.stderr
    );
    assert!(!t.path("ak-cert.pem").exists());
    // The genuine response now finds the challenge used up.
    let run = cer([
        "ca",
        "issue",
        "--dir",
        p(&ca),
        p(&resp),
        "-o",
        p(&t.path("ak-cert.pem")),
    ])
    .expect(1);
    assert!(
        run.one_error_line().contains("already used"),
        "{}",
        run.stderr
    );
    // A challenge answered by another TPM's AK handle is refused on the TPM side.
    let run = cer([
        "tpm",
        "activate",
        "--tcti",
        &tpm.tcti(),
        p(&ch),
        "--ak-handle",
        "0x81010003",
    ])
    .expect(2);
    assert!(
        run.one_error_line().contains("0x81010003"),
        "{}",
        run.stderr
    );
    no_transients(&tpm);
}
